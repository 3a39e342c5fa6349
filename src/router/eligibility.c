/*-------------------------------------------------------------------------
 *
 * eligibility.c
 *	  Decide whether a statement may run on a node.
 *
 * A statement is routed only when running it on a node gives the client
 * exactly what running it here would.  The plan-time check looks at the
 * analysed query (functions, parameters) and the finished plan (its range
 * table lists every relation, including view contents and partitions, and
 * its row marks cover FOR UPDATE/SHARE anywhere).  The session check runs
 * at executor start, because plans are cached: recovery, policy, nesting,
 * transaction state and the role may all have changed since planning.
 *
 * Anything not eligible runs locally; these checks never raise errors.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

#include "router/eligibility.h"
#include "router/policy.h"
#include "router/route_types.h"
#include "router/router.h"

const char *eligibility_last_reason = NULL;

const char eligibility_reason_own_function[] =
"calls a pg_foresight function (it reads this server's shared memory)";

/* volatile functions of pg_catalog that read nothing a node lacks and write nothing */
static const char *const safe_volatile_functions[] = {
	"random",
	"clock_timestamp",
	"timeofday",
	"gen_random_uuid",
	"pg_sleep",
	"pg_sleep_for",
	"pg_sleep_until",
};

/* functions that are not volatile but must run here: they write or name this server */
static const char *const unsafe_functions[] = {
	"txid_current",
	"pg_current_xact_id",
	"txid_current_if_assigned",
	"pg_current_xact_id_if_assigned",
	"txid_current_snapshot",
	"pg_current_snapshot",
	"pg_backend_pid",
	"pg_trigger_depth",
	"pg_is_in_recovery",
	"pg_last_wal_replay_lsn",
	"pg_last_wal_receive_lsn",
	"pg_last_xact_replay_timestamp",
	"pg_my_temp_schema",
	"pg_is_other_temp_schema",
	/* the session's settings beyond those mirrored on the node */
	"current_setting",
	/* a node would name its own address, or the coordinator as its client */
	"inet_server_addr",
	"inet_server_port",
	"inet_client_addr",
	"inet_client_port",
};

typedef struct EligibilityWalk
{
	const char *reason;			/* first reason found, or NULL */
	Oid			foresight_nsp;	/* schema "foresight", InvalidOid if none */
	Oid			param_types[FUNC_MAX_ARGS * 4];
	int			max_param;
} EligibilityWalk;

/* The name of a pg_catalog function, or NULL for any other function. */
static char *
pg_catalog_function_name(Oid funcid)
{
	if (get_func_namespace(funcid) != PG_CATALOG_NAMESPACE)
		return NULL;
	return get_func_name(funcid);
}

static bool
name_in_list(const char *name, const char *const *list, int n)
{
	for (int i = 0; i < n && name != NULL; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

bool
eligibility_function_is_safe_volatile(Oid funcid)
{
	return name_in_list(pg_catalog_function_name(funcid), safe_volatile_functions,
						lengthof(safe_volatile_functions));
}

static bool
function_is_unsafe_nonvolatile(Oid funcid)
{
	return name_in_list(pg_catalog_function_name(funcid), unsafe_functions,
						lengthof(unsafe_functions));
}

/*
 * The non-immutable functions of pg_catalog named pg_* (other than the
 * safe volatile ones) report this server's own state: statistics
 * (pg_stat_get_*, behind pg_stat_activity, pg_stat_replication, ...), WAL
 * positions, settings, locks, files.  A node would answer for itself.
 */
static bool
function_reads_server_state(Oid funcid)
{
	char	   *name = pg_catalog_function_name(funcid);

	if (name == NULL || strncmp(name, "pg_", 3) != 0)
		return false;
	return !name_in_list(name, safe_volatile_functions, lengthof(safe_volatile_functions));
}

static bool
function_checker(Oid funcid, void *context)
{
	EligibilityWalk *w = (EligibilityWalk *) context;
	char		volatility = func_volatile(funcid);

	if (OidIsValid(w->foresight_nsp) && get_func_namespace(funcid) == w->foresight_nsp)
	{
		w->reason = eligibility_reason_own_function;
		return true;
	}
	if (volatility == PROVOLATILE_VOLATILE &&
		!eligibility_function_is_safe_volatile(funcid))
	{
		w->reason = "calls a volatile function";
		return true;
	}
	if (volatility != PROVOLATILE_IMMUTABLE && function_is_unsafe_nonvolatile(funcid))
	{
		w->reason = "calls a function that must run on this server (transaction id, backend, recovery state)";
		return true;
	}
	if (volatility != PROVOLATILE_IMMUTABLE && function_reads_server_state(funcid))
	{
		w->reason = "reads this server's own state (statistics, activity, WAL position, settings, files)";
		return true;
	}
	return false;
}

static bool
eligibility_walker(Node *node, EligibilityWalk *w)
{
	if (node == NULL || w->reason != NULL)
		return false;

	if (IsA(node, Query))
		return query_tree_walker((Query *) node, eligibility_walker, (void *) w, 0);

	if (IsA(node, Param))
	{
		Param	   *p = (Param *) node;

		if (p->paramkind == PARAM_EXTERN)
		{
			if (p->paramid < 1 || p->paramid > lengthof(w->param_types))
			{
				w->reason = "too many parameters";
				return true;
			}
			w->param_types[p->paramid - 1] = p->paramtype;
			w->max_param = Max(w->max_param, p->paramid);
		}
		else if (p->paramkind != PARAM_EXEC && p->paramkind != PARAM_SUBLINK)
		{
			w->reason = "uses a kind of parameter that cannot be sent";
			return true;
		}
	}
	else if (IsA(node, NextValueExpr))
	{
		w->reason = "uses a sequence";
		return true;
	}

	if (check_functions_in_node(node, function_checker, (void *) w))
		return true;

	return expression_tree_walker(node, eligibility_walker, (void *) w);
}

/* a type whose text form the input function turns back into the same value */
static bool
type_round_trips(Oid typid)
{
	char		typtype = get_typtype(typid);

	if (typid == VOIDOID)
		return true;			/* void_in accepts what void_out prints */
	if (typtype == TYPTYPE_PSEUDO || typtype == '\0')
		return false;
	return true;
}

/*
 * Why a column the client receives could not come back from a node (a type
 * no transport brings back, route_types.c), or NULL.
 */
static const char *
result_unroutable(List *targetlist)
{
	ListCell   *lc;

	foreach(lc, targetlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		const char *reason;

		if (!tle->resjunk &&
			(reason = route_type_unroutable(exprType((Node *) tle->expr))) != NULL)
			return reason;
	}
	return NULL;
}

const char *
eligibility_check_statement(Query *parse, PlannedStmt *stmt, int cursorOptions,
							List **param_types)
{
	EligibilityWalk w;
	ListCell   *lc;
	const char *reason;

	*param_types = NIL;

	if (parse->commandType != CMD_SELECT || stmt->commandType != CMD_SELECT)
		return "not a SELECT";
	if (parse->utilityStmt != NULL || stmt->utilityStmt != NULL)
		return "utility statement";
	if (parse->hasModifyingCTE || stmt->hasModifyingCTE)
		return "has a data-modifying WITH";
	if (parse->rowMarks != NIL || stmt->rowMarks != NIL)
		return "has FOR UPDATE/SHARE";
	/* DECLARE always sets FAST_PLAN: a cursor may be fetched backwards */
	if (cursorOptions & (CURSOR_OPT_SCROLL | CURSOR_OPT_FAST_PLAN))
		return "a cursor (DECLARE) runs locally";

	/* relations: everything the plan reads, views and partitions included */
	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION)
			continue;
		switch (get_rel_persistence(rte->relid))
		{
			case RELPERSISTENCE_TEMP:
				return "reads a temporary table";
			case RELPERSISTENCE_UNLOGGED:
				return "reads an unlogged table";
			default:
				break;
		}
		if (rte->relkind == RELKIND_FOREIGN_TABLE)
			return "reads a foreign table";
		if (OidIsValid(rte->checkAsUser) && rte->checkAsUser != GetUserId())
			return "reads a view owned by another role";
	}

	/* every output column must be able to come back from a node */
	if ((reason = result_unroutable(stmt->planTree->targetlist)) != NULL)
		return reason;

	memset(&w, 0, sizeof(w));
	w.foresight_nsp = get_namespace_oid("foresight", true);
	eligibility_walker((Node *) parse, &w);
	if (w.reason)
		return w.reason;

	for (int i = 0; i < w.max_param; i++)
	{
		Oid			t = w.param_types[i];

		if (OidIsValid(t) && !type_round_trips(t))
			return "has a parameter of a pseudo-type";
		*param_types = lappend_oid(*param_types, OidIsValid(t) ? t : TEXTOID);
	}
	return NULL;
}

bool
router_xact_has_written(void)
{
	return TransactionIdIsValid(GetTopTransactionIdIfAny());
}

const char *
eligibility_check_session(Oid plan_user)
{
	if (foresight_routing_policy == ROUTING_POLICY_LOCAL)
		return "policy is local";
	if (RecoveryInProgress())
		return "this server is in recovery";
	if (router_exec_depth > 1 && !router_explaining)
		return "statement inside a function or another statement";
	if (router_xact_has_written())
		return "the transaction has written";
	if (plan_user != GetUserId())
		return "planned for another role";
	if (IsTransactionBlock() && XactIsoLevel == XACT_SERIALIZABLE)
		return "SERIALIZABLE transaction block (standbys cannot run SERIALIZABLE)";
	if (IsTransactionBlock() && XactIsoLevel == XACT_REPEATABLE_READ &&
		router_block_statements() > 0 && !policy_block_pinned())
		return "REPEATABLE READ block whose snapshot was taken here";
	return NULL;
}
