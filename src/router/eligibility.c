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

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "remote/guc_sync.h"
#include "monitor/worker.h"
#include "router/clock_params.h"
#include "router/eligibility.h"
#include "router/policy.h"
#include "router/random_seed.h"
#include "router/route_types.h"
#include "router/router.h"

const char *eligibility_last_reason = NULL;

const char eligibility_reason_own_function[] =
"calls a pg_foresight function (it reads this server's shared memory)";

const char eligibility_reason_cursor[] = "a cursor (DECLARE) runs locally";

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

static const char reason_server_xact[] =
"calls a function that must run on this server (transaction id, backend, recovery state)";
static const char reason_server_identity[] =
"calls a function that names the server that runs it or its client (address, port, start time, version)";
static const char reason_server_setting[] =
"reads a setting with current_setting() (a node's settings are not all this session's)";
static const char reason_server_state[] =
"reads this server's own state (statistics, activity, WAL position, settings, files)";
static const char reason_temp_names[] =
"resolves or prints object names while this session has a temporary schema (reg* types, to_reg*(), has_*_privilege(), format_type(), current_schemas(), ...)";
static const char reason_temp_object[] =
"uses a temporary type, function or operator";
static const char reason_temp_user_function[] =
"calls a user-defined function while this session has a temporary schema (its body could read a temporary object)";

/*
 * Functions whose answer depends on which server answers, whatever their
 * volatility: never routed.  Made from pg_proc (PostgreSQL 15) as
 * docs/routing.md ("Functions that answer for the server") says: every
 * non-immutable function of pg_catalog was classified; the volatile ones
 * are refused anyway (but the safe list), the stable ones named pg_* by the
 * rule of function_reads_server_state(), and these are the rest (with the
 * pg_* ones whose reason is more precise than that rule's).
 */
typedef struct ServerFunction
{
	Oid			funcid;
	const char *reason;
} ServerFunction;

static const ServerFunction server_functions[] = {
	/* this server's transaction counters and snapshots */
	{F_TXID_CURRENT, reason_server_xact},
	{F_TXID_CURRENT_IF_ASSIGNED, reason_server_xact},
	{F_TXID_CURRENT_SNAPSHOT, reason_server_xact},
	{F_PG_CURRENT_XACT_ID, reason_server_xact},
	{F_PG_CURRENT_XACT_ID_IF_ASSIGNED, reason_server_xact},
	{F_PG_CURRENT_SNAPSHOT, reason_server_xact},
	{F_AGE_XID, reason_server_xact},	/* age(xid): from the next xid here */
	{F_MXID_AGE, reason_server_xact},
	/* this backend */
	{F_PG_BACKEND_PID, reason_server_xact},
	{F_PG_TRIGGER_DEPTH, reason_server_xact},
	{F_PG_MY_TEMP_SCHEMA, reason_server_xact},
	{F_PG_IS_OTHER_TEMP_SCHEMA, reason_server_xact},
	/* recovery state (a node is in recovery, this server is not) */
	{F_PG_IS_IN_RECOVERY, reason_server_xact},
	{F_PG_LAST_WAL_REPLAY_LSN, reason_server_xact},
	{F_PG_LAST_WAL_RECEIVE_LSN, reason_server_xact},
	{F_PG_LAST_XACT_REPLAY_TIMESTAMP, reason_server_xact},
	/* the server and its client: a node names itself, or the coordinator */
	{F_INET_SERVER_ADDR, reason_server_identity},
	{F_INET_SERVER_PORT, reason_server_identity},
	{F_INET_CLIENT_ADDR, reason_server_identity},
	{F_INET_CLIENT_PORT, reason_server_identity},
	{F_PG_POSTMASTER_START_TIME, reason_server_identity},
	{F_PG_CONF_LOAD_TIME, reason_server_identity},
	{F_VERSION, reason_server_identity},
	/* the session's settings beyond those mirrored on the node */
	{F_CURRENT_SETTING_TEXT, reason_server_setting},
	{F_CURRENT_SETTING_TEXT_BOOL, reason_server_setting},
};

/*
 * Functions that look an object up by name through the search path, or
 * print an object's name qualified unless the search path finds it: with a
 * temporary schema (searched first, implicitly) they answer differently
 * here and on a node, which has none.  Not routed while the session has
 * one; so are the has_*_privilege() functions of has_name_functions below
 * (table, column, sequence, function, schema and type names can be
 * temporary ones) and any expression of a reg* type (reg_types).
 */
static const Oid temp_name_functions[] = {
	F_TO_REGCLASS, F_TO_REGCOLLATION, F_TO_REGNAMESPACE, F_TO_REGOPER,
	F_TO_REGOPERATOR, F_TO_REGPROC, F_TO_REGPROCEDURE, F_TO_REGTYPE,
	F_REGCLASSIN, F_REGCOLLATIONIN, F_REGCONFIGIN, F_REGDICTIONARYIN,
	F_REGNAMESPACEIN, F_REGOPERATORIN, F_REGOPERIN, F_REGPROCEDUREIN,
	F_REGPROCIN, F_REGTYPEIN,
	F_REGCLASSOUT, F_REGCOLLATIONOUT, F_REGCONFIGOUT, F_REGDICTIONARYOUT,
	F_REGNAMESPACEOUT, F_REGOPERATOROUT, F_REGOPEROUT, F_REGPROCEDUREOUT,
	F_REGPROCOUT, F_REGTYPEOUT,
	F_REGCLASS,					/* regclass(text) */
	F_FORMAT_TYPE, F_OIDVECTORTYPES,
	F_CURRENT_SCHEMA, F_CURRENT_SCHEMAS,
	F_SCHEMA_TO_XML, F_SCHEMA_TO_XMLSCHEMA, F_SCHEMA_TO_XML_AND_XMLSCHEMA,
};

static const char *const has_name_functions[] = {
	"has_table_privilege",
	"has_column_privilege",
	"has_any_column_privilege",
	"has_sequence_privilege",
	"has_function_privilege",
	"has_schema_privilege",
	"has_type_privilege",
};

/* types whose values are objects named through the search path */
static const Oid reg_types[] = {
	REGPROCOID, REGPROCEDUREOID, REGOPEROID, REGOPERATOROID, REGCLASSOID,
	REGTYPEOID, REGCONFIGOID, REGDICTIONARYOID, REGNAMESPACEOID, REGCOLLATIONOID,
	REGPROCARRAYOID, REGPROCEDUREARRAYOID, REGOPERARRAYOID, REGOPERATORARRAYOID,
	REGCLASSARRAYOID, REGTYPEARRAYOID, REGCONFIGARRAYOID, REGDICTIONARYARRAYOID,
	REGNAMESPACEARRAYOID, REGCOLLATIONARRAYOID,
};

typedef struct EligibilityWalk
{
	const char *reason;			/* first reason found, or NULL */
	Oid			foresight_nsp;	/* schema "foresight", InvalidOid if none */
	bool		temp_active;	/* the session has a temporary schema, or
								 * its search_path names one */
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

static bool
oid_in_list(Oid oid, const Oid *list, int n)
{
	for (int i = 0; i < n; i++)
		if (list[i] == oid)
			return true;
	return false;
}

bool
eligibility_function_is_safe_volatile(Oid funcid)
{
	return name_in_list(pg_catalog_function_name(funcid), safe_volatile_functions,
						lengthof(safe_volatile_functions));
}

static const char *
server_function_reason(Oid funcid)
{
	for (int i = 0; i < lengthof(server_functions); i++)
		if (server_functions[i].funcid == funcid)
			return server_functions[i].reason;
	return NULL;
}

/*
 * The non-immutable functions of pg_catalog named pg_* (other than the
 * safe volatile ones) report this server's own state: statistics
 * (pg_stat_get_*, behind pg_stat_activity, pg_stat_replication, ...), WAL
 * positions, settings, locks, files.  A node would answer for itself.
 */
static bool
function_reads_server_state(const char *name)
{
	if (name == NULL || strncmp(name, "pg_", 3) != 0)
		return false;
	return !name_in_list(name, safe_volatile_functions, lengthof(safe_volatile_functions));
}

/* Is the object's schema a temporary one (this session's or another's)? */
static bool
namespace_is_temp(Oid nspid)
{
	return OidIsValid(nspid) && nspid != PG_CATALOG_NAMESPACE && isAnyTempNamespace(nspid);
}

/* a type of a temporary schema (built-in types are never) */
static bool
type_is_temp(Oid typid)
{
	HeapTuple	tup;
	bool		temp = false;

	if (typid < FirstNormalObjectId)
		return false;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (HeapTupleIsValid(tup))
	{
		temp = namespace_is_temp(((Form_pg_type) GETSTRUCT(tup))->typnamespace);
		ReleaseSysCache(tup);
	}
	return temp;
}

static bool
operator_is_temp(Oid opno)
{
	HeapTuple	tup;
	bool		temp = false;

	if (opno < FirstNormalObjectId)
		return false;
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	if (HeapTupleIsValid(tup))
	{
		temp = namespace_is_temp(((Form_pg_operator) GETSTRUCT(tup))->oprnamespace);
		ReleaseSysCache(tup);
	}
	return temp;
}

/*
 * While the session has a temporary schema: a user-defined function is
 * refused when it is temporary itself, or written in SQL or a procedural
 * language (its body may read a temporary table, which the plan here does
 * not show unless the function was inlined).  C functions are not.
 */
static const char *
user_function_reason(Oid funcid)
{
	HeapTuple	tup;
	const char *reason = NULL;

	if (funcid < FirstNormalObjectId)
		return NULL;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);

		if (namespace_is_temp(proc->pronamespace))
			reason = reason_temp_object;
		else if (proc->prolang != ClanguageId && proc->prolang != INTERNALlanguageId)
			reason = reason_temp_user_function;
		ReleaseSysCache(tup);
	}
	return reason;
}

static const char *
temp_function_reason(Oid funcid)
{
	if (oid_in_list(funcid, temp_name_functions, lengthof(temp_name_functions)))
		return reason_temp_names;
	if (funcid < FirstNormalObjectId)
	{
		char	   *name = pg_catalog_function_name(funcid);

		if (name != NULL && strncmp(name, "has_", 4) == 0 &&
			name_in_list(name, has_name_functions, lengthof(has_name_functions)))
			return reason_temp_names;
		return NULL;
	}
	return user_function_reason(funcid);
}

static bool
function_checker(Oid funcid, void *context)
{
	EligibilityWalk *w = (EligibilityWalk *) context;
	char		volatility;
	const char *reason;

	if (OidIsValid(w->foresight_nsp) && get_func_namespace(funcid) == w->foresight_nsp)
	{
		w->reason = eligibility_reason_own_function;
		return true;
	}
	if ((reason = server_function_reason(funcid)) != NULL)
	{
		w->reason = reason;
		return true;
	}
	if (funcid == F_RANDOM && random_seed_is_set())
	{
		w->reason = random_seed_reason;
		return true;
	}
	volatility = func_volatile(funcid);
	if (volatility == PROVOLATILE_VOLATILE &&
		!eligibility_function_is_safe_volatile(funcid))
	{
		w->reason = "calls a volatile function";
		return true;
	}
	if (w->temp_active && (reason = temp_function_reason(funcid)) != NULL)
	{
		w->reason = reason;
		return true;
	}
	if (volatility != PROVOLATILE_IMMUTABLE &&
		function_reads_server_state(pg_catalog_function_name(funcid)))
	{
		w->reason = reason_server_state;
		return true;
	}
	return false;
}

/* expression nodes that carry a type of their own */
static bool
node_has_type(Node *node)
{
	switch (nodeTag(node))
	{
		case T_Var:
		case T_Const:
		case T_Param:
		case T_Aggref:
		case T_WindowFunc:
		case T_SubscriptingRef:
		case T_FuncExpr:
		case T_OpExpr:
		case T_NullIfExpr:
		case T_FieldSelect:
		case T_RelabelType:
		case T_CoerceViaIO:
		case T_ArrayCoerceExpr:
		case T_ConvertRowtypeExpr:
		case T_CaseExpr:
		case T_ArrayExpr:
		case T_RowExpr:
		case T_CoalesceExpr:
		case T_MinMaxExpr:
		case T_CoerceToDomain:
			return true;
		default:
			return false;
	}
}

/*
 * While the session has a temporary schema: nothing temporary (types of an
 * expression, operators) and no reg* value, which is printed or looked up
 * by name.
 */
static const char *
temp_node_reason(Node *node)
{
	if (node_has_type(node))
	{
		Oid			typid = exprType(node);

		if (oid_in_list(typid, reg_types, lengthof(reg_types)))
			return reason_temp_names;
		if (type_is_temp(typid))
			return reason_temp_object;
	}
	if (IsA(node, OpExpr) || IsA(node, DistinctExpr) || IsA(node, NullIfExpr))
	{
		if (operator_is_temp(((OpExpr *) node)->opno))
			return reason_temp_object;
	}
	else if (IsA(node, ScalarArrayOpExpr))
	{
		if (operator_is_temp(((ScalarArrayOpExpr *) node)->opno))
			return reason_temp_object;
	}
	else if (IsA(node, SQLValueFunction) &&
			 ((SQLValueFunction *) node)->op == SVFOP_CURRENT_SCHEMA)
		return reason_temp_names;
	return NULL;
}

/*
 * A security_barrier view the query reads: the rewriter made it a sub-query
 * of its body, which the remote SQL writes as a plain sub-query.  A node
 * would plan it without the barrier and could run a function of the outer
 * query on rows the view hides (a leaky function's NOTICE of them, an error
 * on them) before the view's own conditions.
 */
static bool
reads_security_barrier(Query *query)
{
	ListCell   *lc;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_SUBQUERY && rte->security_barrier)
			return true;
	}
	return false;
}

/* column types a query declares in its FROM list (f() AS x(a type), XMLTABLE) */
static const char *
temp_rtable_reason(Query *query)
{
	ListCell   *lc;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);
		List	   *types = NIL;
		ListCell   *lt;

		if (rte->rtekind == RTE_FUNCTION)
		{
			ListCell   *lf;

			foreach(lf, rte->functions)
				types = list_concat(types, lfirst_node(RangeTblFunction, lf)->funccoltypes);
		}
		else if (rte->rtekind == RTE_TABLEFUNC)
			types = rte->tablefunc->coltypes;
		foreach(lt, types)
		{
			if (oid_in_list(lfirst_oid(lt), reg_types, lengthof(reg_types)))
				return reason_temp_names;
			if (type_is_temp(lfirst_oid(lt)))
				return reason_temp_object;
		}
	}
	return NULL;
}

/*
 * current_setting('name') of a setting every node session has at this
 * session's value (guc_sync.c: any role may change it, so it is always
 * carried, and any role may read it).  The name must be a constant, which
 * lift_constants.c leaves in the remote SQL.
 */
static bool
reads_carried_setting(FuncExpr *f)
{
	Const	   *name;

	if (f->funcid != F_CURRENT_SETTING_TEXT && f->funcid != F_CURRENT_SETTING_TEXT_BOOL)
		return false;
	name = (Const *) linitial(f->args);
	if (!IsA(name, Const) || name->constisnull || name->consttype != TEXTOID)
		return false;
	return guc_sync_setting_is_carried(TextDatumGetCString(name->constvalue));
}

/*
 * Row-level security policies run on the node as they are there, not from
 * the remote SQL: one that reads the transaction's or statement's time
 * would read the node's (clock_params.c).
 */
static bool
policy_reads_clock(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
		return ((RangeTblEntry *) node)->securityQuals != NIL &&
			clock_params_found((Node *) ((RangeTblEntry *) node)->securityQuals);
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, policy_reads_clock, context,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, policy_reads_clock, context);
}

static bool
eligibility_walker(Node *node, EligibilityWalk *w)
{
	if (node == NULL || w->reason != NULL)
		return false;

	if (IsA(node, Query))
	{
		if (reads_security_barrier((Query *) node))
		{
			w->reason = "reads a security_barrier view (a node would plan its body without the barrier)";
			return true;
		}
		if (w->temp_active && (w->reason = temp_rtable_reason((Query *) node)) != NULL)
			return true;
		return query_tree_walker((Query *) node, eligibility_walker, (void *) w, 0);
	}

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
	else if (IsA(node, FuncExpr) && reads_carried_setting((FuncExpr *) node))
		return expression_tree_walker(node, eligibility_walker, (void *) w);

	if (w->temp_active && (w->reason = temp_node_reason(node)) != NULL)
		return true;

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

/*
 * Why a relation of this persistence and kind, read with the permissions of
 * check_as_user (a view's owner; InvalidOid: the current role), could not
 * be read on a node; or NULL.
 */
static const char *
relation_unroutable(char persistence, char relkind, Oid check_as_user)
{
	if (persistence == RELPERSISTENCE_TEMP)
		return "reads a temporary table";
	if (persistence == RELPERSISTENCE_UNLOGGED)
		return "reads an unlogged table";
	if (relkind == RELKIND_FOREIGN_TABLE)
		return "reads a foreign table";
	/* last_value, log_cnt, is_called: a node has the WAL-logged state */
	if (relkind == RELKIND_SEQUENCE)
		return "reads a sequence relation (a node's copy of its state is not this server's)";
	if (OidIsValid(check_as_user) && check_as_user != GetUserId())
		return "reads a view owned by another role";
	return NULL;
}

/* eligibility_check_children's walk: every table's children, at any depth */
static bool
children_walker(Node *node, const char **reason)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;
		ListCell   *lc;

		if (rte->rtekind != RTE_RELATION || !rte->inh)
			return false;
		/* the parent is locked by parse analysis; children are only looked up */
		foreach(lc, find_all_inheritors(rte->relid, NoLock, NULL))
		{
			HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(lfirst_oid(lc)));
			Form_pg_class rel;

			if (!HeapTupleIsValid(tuple))
				continue;		/* dropped since */
			rel = (Form_pg_class) GETSTRUCT(tuple);
			*reason = relation_unroutable(rel->relpersistence, rel->relkind, InvalidOid);
			ReleaseSysCache(tuple);
			if (*reason != NULL)
				return true;
		}
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, children_walker, reason,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, children_walker, reason);
}

const char *
eligibility_check_children(const Query *parse)
{
	const char *reason = NULL;

	/* (the walk changes nothing) */
	(void) children_walker((Node *) unconstify(Query *, parse), &reason);
	return reason;
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
		return eligibility_reason_cursor;

	/* relations: everything the plan reads, views and partitions included */
	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION)
			continue;
		if ((reason = relation_unroutable(get_rel_persistence(rte->relid), rte->relkind,
										  rte->checkAsUser)) != NULL)
			return reason;
	}

	/* every output column must be able to come back from a node */
	if ((reason = result_unroutable(stmt->planTree->targetlist)) != NULL)
		return reason;

	memset(&w, 0, sizeof(w));
	w.foresight_nsp = get_namespace_oid("foresight", true);
	{
		Oid			temp_nsp;
		Oid			temp_toast_nsp;

		/*
		 * Once made, a session's temporary schema stays for its life.  With
		 * pg_temp named in search_path, current_schema() makes it (on a
		 * node: "cannot create temporary tables during recovery").  A
		 * change of either changes the active search path, so cached plans
		 * are made again (plancache.c, route_cache.c).
		 */
		GetTempNamespaceState(&temp_nsp, &temp_toast_nsp);
		w.temp_active = OidIsValid(temp_nsp) ||
			(namespace_search_path != NULL && strstr(namespace_search_path, "pg_temp") != NULL);
	}
	eligibility_walker((Node *) parse, &w);
	if (w.reason)
		return w.reason;
	if (policy_reads_clock((Node *) parse, NULL))
		return "a row-level security policy reads the transaction's time (now(), CURRENT_DATE, ...)";

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
	if (RecoveryInProgress() && !foresight_standby_routing)
		return "this server is in recovery and foresight.standby_routing is off";
	if (router_exec_depth > 1 && !router_explaining)
		return "statement inside a function or another statement";
	if (router_xact_has_written())
		return "the transaction has written";
	if (plan_user != GetUserId())
		return "planned for another role";
	if (IsTransactionBlock() && XactIsoLevel == XACT_SERIALIZABLE)
		return "SERIALIZABLE transaction block (standbys cannot run SERIALIZABLE)";
	if (XactIsoLevel == XACT_SERIALIZABLE)
		return "default_transaction_isolation is serializable (standbys cannot run SERIALIZABLE)";
	if (IsTransactionBlock() && XactIsoLevel == XACT_REPEATABLE_READ &&
		router_block_statements() > 0 && !policy_block_pinned())
		return "REPEATABLE READ block whose snapshot was taken here";
	/* the identity and the settings a node session must take from this one */
	return guc_sync_check_session();
}
