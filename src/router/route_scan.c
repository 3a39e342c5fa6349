/*-------------------------------------------------------------------------
 *
 * route_scan.c
 *	  The "Foresight Route" custom scan: the top node of a routable plan.
 *
 * Plan shape: a CustomScan whose outer child (lefttree) is the complete
 * local plan, or, for a query of a shape seen before (route_cache.c), no
 * child and the query itself, planned at execution if it runs here and run
 * in an executor of its own.  Its scan tuple is described by
 * custom_scan_tlist, one Var (OUTER_VAR, i) per column the child returns,
 * and its targetlist is (INDEX_VAR, i) for each, with the child's names and
 * resjunk flags, so the node is a drop-in replacement for the child and
 * EXPLAIN VERBOSE shows the child's expressions.  custom_private holds the
 * remote SQL, the types of $1..$n, the role the plan was made for, the
 * child's cost, the lifted constants' values, the request shape and the
 * deferred query (PRIV_*).
 *
 * Execution: BeginCustomScan checks the session and asks the policy for an
 * ordered list of candidates.  The first row request runs the query on the
 * first candidate that works: local means the child plan; a node means the
 * remote SQL through libpq, whose text values become datums through the
 * columns' input functions (resjunk columns, never sent to the client, are
 * NULL).  A node that cannot be reached, or fails before the first row
 * was returned, is skipped for the next candidate; the coordinator is the
 * last one.  A query that the predictive policy set a hedge delay for and
 * that has not started to answer by then is sent to the next node too, and
 * the first answer is used (hedge_if_late, router/hedge.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "tcop/dest.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "remote/connection.h"
#include "remote/errors.h"
#include "remote/remote_exec.h"
#include "router/eligibility.h"
#include "router/hedge.h"
#include "router/policy.h"
#include "stats/request_shape.h"
#include "router/route_scan.h"
#include "router/router.h"
#include "router/admission.h"
#include "stats/decision_log.h"
#include "stats/latency.h"

#define ROUTE_SCAN_NAME "Foresight Route"

/* custom_private positions */
#define PRIV_SQL		0
#define PRIV_PARAMS		1
#define PRIV_USER		2
#define PRIV_COST		3
#define PRIV_VALUES		4
#define PRIV_SHAPE		5
#define PRIV_DEFERRED	6

typedef enum RouteMode
{
	ROUTE_PENDING,				/* nothing run yet */
	ROUTE_LOCAL,				/* running the child plan */
	ROUTE_REMOTE,				/* reading rows from a node */
	ROUTE_DONE					/* remote rows all read */
} RouteMode;

typedef struct RouteScanState
{
	CustomScanState css;

	/* from the plan */
	char	   *sql;
	List	   *param_types;
	List	   *lifted_values;	/* values of lifted constants, or NIL */
	Oid			plan_user;
	double		cost;
	int			shape;			/* SHAPE_* flags of the local plan */
	Query	   *deferred;		/* to plan if it runs here, when no child */

	/* route */
	const char *ineligible;		/* session reason to stay local, or NULL */
	RouteDecision decision;
	int			attempt;		/* index of the candidate in use */
	RouteMode	mode;
	RemoteConn *rc;
	bool		explain_only;

	/* results */
	int			nremote;		/* columns the node returns */
	int		   *col_map;		/* scan attribute of remote column i */
	FmgrInfo   *in_funcs;
	Oid		   *in_ioparams;
	int32	   *in_typmods;
	MemoryContext row_ctx;

	/* accounting */
	bool		started;
	bool		returned_row;
	int			retries;
	int			inflight_slot;	/* -1 when not counted */
	uint64		decision_seq;	/* entry in the decision log, 0 if none */
	instr_time	start;
	bool		answer_cold;	/* a new connection or statement answered */
	int64		sent_us;		/* when the query was sent to the current node */
	bool		hedge_checked;	/* hedging was considered (first node only) */
	int			hedge_attempt;	/* candidate the query was hedged to, or -1 */
	int			hedge_slot;		/* its in-flight count, -1 when not held */
	bool		hedge_won;		/* ... and it answered first */
	double		remote_ms;
	int64		remote_rows;
	char	   *last_failure;
	int			eflags;			/* for a late initialisation of the child */
	QueryDesc  *deferred_qd;	/* the deferred query's local execution */
} RouteScanState;

static Node *route_create_state(CustomScan *cscan);
static void route_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *route_exec(CustomScanState *node);
static void route_end(CustomScanState *node);
static void route_rescan(CustomScanState *node);
static void route_explain(CustomScanState *node, List *ancestors, ExplainState *es);
static uint64 log_decision(RouteScanState *st, uint64 queryid);
static void log_refusal(RouteScanState *st, uint64 queryid, int64 waited_us);
static void log_outcome(RouteScanState *st, int64 elapsed_us, bool failed);

static CustomScanMethods route_scan_methods = {
	ROUTE_SCAN_NAME,
	route_create_state
};

static CustomExecMethods route_exec_methods = {
	.CustomName = ROUTE_SCAN_NAME,
	.BeginCustomScan = route_begin,
	.ExecCustomScan = route_exec,
	.EndCustomScan = route_end,
	.ReScanCustomScan = route_rescan,
	.ExplainCustomScan = route_explain,
};

/* in-flight counts this backend holds, released at abort if the scan could not */
#define MAX_HELD 64
static int	held_slots[MAX_HELD];
static int	held_count = 0;

/* count a query in flight on slot, held in *held */
static void
inflight_hold(int *held, int slot)
{
	latency_inflight_begin(slot);
	*held = slot;
	if (held_count < MAX_HELD)
		held_slots[held_count++] = slot;
}

static void
inflight_drop(int *held)
{
	int			slot = *held;

	if (slot < 0)
		return;
	*held = -1;
	for (int i = held_count - 1; i >= 0; i--)
	{
		if (held_slots[i] == slot)
		{
			held_slots[i] = held_slots[--held_count];
			latency_inflight_end(slot);
			/* a query waiting for capacity may go now */
			admission_wakeup();
			return;
		}
	}
}

void
route_scan_abort_cleanup(void)
{
	while (held_count > 0)
		latency_inflight_end(held_slots[--held_count]);
}

void
route_scan_register(void)
{
	RegisterCustomScanMethods(&route_scan_methods);
}

bool
route_scan_is_route(Plan *plan)
{
	return plan && IsA(plan, CustomScan) &&
		((CustomScan *) plan)->methods == &route_scan_methods;
}

const char *
route_scan_remote_sql(Plan *plan)
{
	if (!route_scan_is_route(plan))
		return NULL;
	return strVal(list_nth(((CustomScan *) plan)->custom_private, PRIV_SQL));
}

List *
route_scan_remote_parameters(Plan *plan)
{
	if (!route_scan_is_route(plan))
		return NIL;
	return (List *) list_nth(((CustomScan *) plan)->custom_private, PRIV_VALUES);
}

Plan *
route_scan_wrap(Plan *child, const char *remote_sql, List *param_types,
				List *param_values, Oid check_user, int shape_flags)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *scan_tlist = NIL;
	List	   *tlist = NIL;
	ListCell   *lc;
	AttrNumber	attno = 0;

	foreach(lc, child->targetlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Oid			type = exprType((Node *) tle->expr);
		int32		typmod = exprTypmod((Node *) tle->expr);
		Oid			collation = exprCollation((Node *) tle->expr);
		TargetEntry *scan_tle;
		TargetEntry *out_tle;

		attno++;
		scan_tle = makeTargetEntry((Expr *) makeVar(OUTER_VAR, tle->resno, type, typmod, collation, 0),
								   attno, tle->resname, tle->resjunk);
		scan_tlist = lappend(scan_tlist, scan_tle);

		out_tle = flatCopyTargetEntry(tle);
		out_tle->expr = (Expr *) makeVar(INDEX_VAR, attno, type, typmod, collation, 0);
		tlist = lappend(tlist, out_tle);
	}

	cscan->scan.plan.startup_cost = child->startup_cost;
	cscan->scan.plan.total_cost = child->total_cost;
	cscan->scan.plan.plan_rows = child->plan_rows;
	cscan->scan.plan.plan_width = child->plan_width;
	cscan->scan.plan.parallel_aware = false;
	cscan->scan.plan.parallel_safe = false;
	cscan->scan.plan.plan_node_id = child->plan_node_id;
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = NIL;
	cscan->scan.plan.lefttree = child;
	cscan->scan.plan.righttree = NULL;
	cscan->scan.plan.extParam = bms_copy(child->extParam);
	cscan->scan.plan.allParam = bms_copy(child->allParam);
	cscan->scan.scanrelid = 0;
	cscan->flags = 0;
	cscan->custom_plans = NIL;
	cscan->custom_exprs = NIL;
	cscan->custom_scan_tlist = scan_tlist;
	cscan->custom_relids = NULL;
	cscan->methods = &route_scan_methods;
	cscan->custom_private = list_make5(makeString(pstrdup(remote_sql)),
									   param_types,
									   makeInteger((int) check_user),
									   makeFloat(psprintf("%.17g", child->total_cost)),
									   param_values);
	cscan->custom_private = lappend(cscan->custom_private, makeInteger(shape_flags));
	cscan->custom_private = lappend(cscan->custom_private, NULL);
	return (Plan *) cscan;
}

/*
 * A copy of a route node without its local plan and without values: what
 * route_cache.c keeps of a shape.
 */
Plan *
route_scan_template(const Plan *route)
{
	CustomScan	shallow;
	CustomScan *cscan;

	Assert(route_scan_is_route((Plan *) route));
	memcpy(&shallow, route, sizeof(CustomScan));
	shallow.scan.plan.lefttree = NULL;
	shallow.scan.plan.extParam = NULL;
	shallow.scan.plan.allParam = NULL;
	cscan = copyObject(&shallow);
	lfirst(list_nth_cell(cscan->custom_private, PRIV_USER)) = makeInteger(InvalidOid);
	lfirst(list_nth_cell(cscan->custom_private, PRIV_VALUES)) = NIL;
	return (Plan *) cscan;
}

/*
 * The route node for query from a template (route_scan_template): no local
 * plan, which is made from query at execution if the query runs here.
 */
Plan *
route_scan_deferred(const Plan *template, Query *query, List *param_values, Oid check_user)
{
	CustomScan *cscan = (CustomScan *) copyObject(template);

	lfirst(list_nth_cell(cscan->custom_private, PRIV_USER)) = makeInteger((int) check_user);
	lfirst(list_nth_cell(cscan->custom_private, PRIV_VALUES)) = param_values;
	lfirst(list_nth_cell(cscan->custom_private, PRIV_DEFERRED)) = query;
	return (Plan *) cscan;
}

static Node *
route_create_state(CustomScan *cscan)
{
	RouteScanState *st = (RouteScanState *) newNode(sizeof(RouteScanState), T_CustomScanState);

	st->css.methods = &route_exec_methods;
	st->sql = strVal(list_nth(cscan->custom_private, PRIV_SQL));
	st->param_types = (List *) list_nth(cscan->custom_private, PRIV_PARAMS);
	st->plan_user = (Oid) intVal(list_nth(cscan->custom_private, PRIV_USER));
	st->cost = floatVal(list_nth(cscan->custom_private, PRIV_COST));
	st->lifted_values = (List *) list_nth(cscan->custom_private, PRIV_VALUES);
	st->shape = intVal(list_nth(cscan->custom_private, PRIV_SHAPE));
	st->deferred = (Query *) list_nth(cscan->custom_private, PRIV_DEFERRED);
	st->inflight_slot = -1;
	st->hedge_slot = -1;
	st->hedge_attempt = -1;
	return (Node *) st;
}

/*
 * A deferred query (route_cache.c) that runs here: plan it now, for its own
 * constants, and start it in an executor of its own (its range table is
 * not this plan's), under this execution's snapshot.  Deferred plans are
 * not parallel: this node's execution has not entered parallel mode.
 */
static void
start_deferred(RouteScanState *st)
{
	EState	   *estate = st->css.ss.ps.state;
	TupleDesc	scan_desc = st->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	PlannedStmt *stmt;
	ListCell   *lc;
	MemoryContext old;

	old = MemoryContextSwitchTo(estate->es_query_cxt);
	stmt = router_plan_deferred(copyObject(st->deferred), estate->es_sourceText);

	/* an equal query tree gives the same columns; check rather than trust */
	if (list_length(stmt->planTree->targetlist) != scan_desc->natts)
		elog(ERROR, "pg_foresight: the deferred local plan returns %d columns, expected %d",
			 list_length(stmt->planTree->targetlist), scan_desc->natts);
	foreach(lc, stmt->planTree->targetlist)
	{
		Oid			type = exprType((Node *) lfirst_node(TargetEntry, lc)->expr);

		if (type != TupleDescAttr(scan_desc, foreach_current_index(lc))->atttypid)
			elog(ERROR, "pg_foresight: column %d of the deferred local plan has type %u, expected %u",
				 foreach_current_index(lc) + 1, type,
				 TupleDescAttr(scan_desc, foreach_current_index(lc))->atttypid);
	}

	st->deferred_qd = CreateQueryDesc(stmt, estate->es_sourceText, estate->es_snapshot,
									  InvalidSnapshot, None_Receiver, NULL,
									  estate->es_queryEnv, 0);
	standard_ExecutorStart(st->deferred_qd, EXEC_FLAG_SKIP_TRIGGERS);
	MemoryContextSwitchTo(old);
}

/* the next row of the deferred query's local execution */
static TupleTableSlot *
fetch_deferred(RouteScanState *st)
{
	EState	   *estate = st->deferred_qd->estate;
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
	TupleTableSlot *slot;

	ResetPerTupleExprContext(estate);
	slot = ExecProcNode(st->deferred_qd->planstate);
	MemoryContextSwitchTo(old);
	return slot;
}

static void
end_deferred(RouteScanState *st)
{
	QueryDesc  *qd = st->deferred_qd;

	st->deferred_qd = NULL;
	standard_ExecutorFinish(qd);
	standard_ExecutorEnd(qd);
	FreeQueryDesc(qd);
}

/* initialise the local plan, once */
static void
ensure_child(RouteScanState *st)
{
	EState	   *estate = st->css.ss.ps.state;
	MemoryContext old;

	if (outerPlanState(st) != NULL || st->deferred_qd != NULL)
		return;
	if (st->deferred != NULL)
	{
		start_deferred(st);
		return;
	}
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	outerPlanState(st) = ExecInitNode(outerPlan(st->css.ss.ps.plan), estate, st->eflags);
	MemoryContextSwitchTo(old);
}

static void
route_begin(CustomScanState *node, EState *estate, int eflags)
{
	RouteScanState *st = (RouteScanState *) node;
	bool		runs_here;

	st->eflags = eflags;
	st->explain_only = (eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0;
	st->mode = ROUTE_PENDING;
	st->ineligible = eligibility_check_session(st->plan_user);
	if (st->ineligible == NULL)
	{
		TimestampTz decide_start = GetCurrentTimestamp();

		PG_TRY();
		{
			policy_decide(&st->decision, st->cost, st->explain_only);
		}
		PG_CATCH();
		{
			/* admission control refused the query: the log says so, then the error */
			if (!st->explain_only)
				log_refusal(st, estate->es_plannedstmt->queryId,
							GetCurrentTimestamp() - decide_start);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	if (!st->explain_only)
		st->decision_seq = log_decision(st, estate->es_plannedstmt->queryId);

	/*
	 * The local plan is initialised now when it may run or be shown
	 * (EXPLAIN); a query routed to a node initialises it only if it falls
	 * back to local, which saves opening its relations and indexes.  A
	 * deferred query has nothing to show: it is planned only to run here.
	 */
	runs_here = st->ineligible != NULL || st->decision.candidates[0].is_local;
	if (st->deferred != NULL ? runs_here && !st->explain_only :
		runs_here || st->explain_only || estate->es_instrument != 0)
		ensure_child(st);
	st->row_ctx = AllocSetContextCreate(estate->es_query_cxt, "foresight route row",
										ALLOCSET_SMALL_SIZES);
}

static RouteCandidate *
current_candidate(RouteScanState *st)
{
	return &st->decision.candidates[st->attempt];
}

/* Append this execution's decision to the decision log. */
static uint64
log_decision(RouteScanState *st, uint64 queryid)
{
	Decision	d;
	RouteDecision *rd = &st->decision;

	memset(&d, 0, sizeof(d));
	d.at = GetCurrentTimestamp();
	d.pid = MyProcPid;
	d.queryid = (int64) queryid;
	d.request_class = request_class_from_cost(st->cost);
	d.request_shape = st->shape;
	d.cost = st->cost;
	d.latency_us = -1;
	if (st->ineligible != NULL)
	{
		strlcpy(d.chosen, FORESIGHT_LOCAL_NODE_NAME, NAMEDATALEN);
		strlcpy(d.policy, routing_policy_name(foresight_routing_policy), sizeof(d.policy));
		snprintf(d.reason, sizeof(d.reason), "not routed: %s", st->ineligible);
		return decision_log_append(&d);
	}
	/* the coordinator as the last resort is not a candidate */
	for (int i = 0; i < rd->ncandidates && d.ncandidates < DECISION_MAX_CANDIDATES; i++)
	{
		RouteCandidate *c = &rd->candidates[i];
		DecisionCandidate *dc = &d.candidates[d.ncandidates];

		if (c->is_local && !rd->local_is_candidate)
			continue;
		dc->node_id = c->node_id;
		strlcpy(dc->name, c->name, NAMEDATALEN);
		dc->scored = c->scored;
		dc->connection_score = c->connection_score;
		dc->predicted_load = c->predicted_load;
		dc->score = c->score;
		d.ncandidates++;
	}
	strlcpy(d.chosen, rd->candidates[0].name, NAMEDATALEN);
	strlcpy(d.policy, routing_policy_name(rd->policy), sizeof(d.policy));
	strlcpy(d.reason, rd->reason, sizeof(d.reason));
	d.queue_wait_us = rd->queue_wait_us;
	return decision_log_append(&d);
}

/* A query refused by admission control: an entry with what is known. */
static void
log_refusal(RouteScanState *st, uint64 queryid, int64 waited_us)
{
	Decision	d;

	memset(&d, 0, sizeof(d));
	d.at = GetCurrentTimestamp();
	d.pid = MyProcPid;
	d.queryid = (int64) queryid;
	d.request_class = request_class_from_cost(st->cost);
	d.request_shape = st->shape;
	d.cost = st->cost;
	strlcpy(d.chosen, "none", NAMEDATALEN);
	strlcpy(d.policy, routing_policy_name(foresight_routing_policy), sizeof(d.policy));
	strlcpy(d.reason, "refused by admission control: every candidate predicted overloaded", sizeof(d.reason));
	d.queue_wait_us = waited_us;
	d.latency_us = waited_us;
	d.failed = true;
	(void) decision_log_append(&d);
}

/* The outcome of this execution, into its decision-log entry. */
static void
log_outcome(RouteScanState *st, int64 elapsed_us, bool failed)
{
	const char *node = st->ineligible ? FORESIGHT_LOCAL_NODE_NAME : current_candidate(st)->name;
	const char *how;

	if (st->hedge_won && st->retries == 0)
		how = psprintf("(hedged: no answer from %s within %d ms)",
					   st->decision.candidates[0].name, st->decision.hedge_after_ms);
	else
		how = psprintf("after %d retr%s", st->retries, st->retries == 1 ? "y" : "ies");
	decision_log_finish(st->decision_seq, elapsed_us, failed, node, how);
	st->decision_seq = 0;
}

/* per-column input functions, the first time a node is used */
static void
prepare_conversion(RouteScanState *st)
{
	TupleDesc	desc = st->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	List	   *tlist = st->css.ss.ps.plan->targetlist;
	ListCell   *lc;
	int			n = 0;

	if (st->col_map)
		return;
	st->col_map = palloc(sizeof(int) * desc->natts);
	st->in_funcs = palloc(sizeof(FmgrInfo) * desc->natts);
	st->in_ioparams = palloc(sizeof(Oid) * desc->natts);
	st->in_typmods = palloc(sizeof(int32) * desc->natts);
	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Form_pg_attribute att = TupleDescAttr(desc, foreach_current_index(lc));
		Oid			infunc;

		if (tle->resjunk)
			continue;
		st->col_map[n] = foreach_current_index(lc);
		getTypeInputInfo(att->atttypid, &infunc, &st->in_ioparams[n]);
		fmgr_info(infunc, &st->in_funcs[n]);
		st->in_typmods[n] = att->atttypmod;
		n++;
	}
	st->nremote = n;
}

/*
 * The parameters of this execution as text: the lifted constants' values
 * fixed at plan time, or the execution's own parameters.
 */
static void
param_values(RouteScanState *st, int *nparams, Oid **types, char ***values)
{
	ParamListInfo params = st->css.ss.ps.state->es_param_list_info;
	int			n = list_length(st->param_types);
	ListCell   *lc;

	*nparams = n;
	*types = palloc0(sizeof(Oid) * Max(n, 1));
	*values = palloc0(sizeof(char *) * Max(n, 1));
	foreach(lc, st->param_types)
	{
		int			i = foreach_current_index(lc);
		ParamExternData *prm = NULL;
		ParamExternData workspace;

		(*types)[i] = lfirst_oid(lc);
		if (st->lifted_values != NIL)
		{
			(*values)[i] = strVal(list_nth(st->lifted_values, i));
			continue;
		}
		if (params && i < params->numParams)
		{
			if (params->paramFetch)
				prm = params->paramFetch(params, i + 1, false, &workspace);
			else
				prm = &params->params[i];
		}
		if (prm && !prm->isnull && OidIsValid(prm->ptype))
		{
			Oid			outfunc;
			bool		isvarlena;

			getTypeOutputInfo(prm->ptype, &outfunc, &isvarlena);
			(*values)[i] = OidOutputFunctionCall(outfunc, prm->value);
			(*types)[i] = prm->ptype;
		}
	}
}

/* microseconds since this execution started */
static int64
elapsed_us(RouteScanState *st)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, st->start);
	return (int64) INSTR_TIME_GET_MICROSEC(now);
}

/* the node failed before any row reached the client: count it, move on */
static void
note_failure(RouteScanState *st, const char *why, bool node_unusable)
{
	RouteCandidate *c = current_candidate(st);

	latency_record(c->slot, c->node_id, request_class_from_cost(st->cost),
				   elapsed_us(st), -1, true, true);
	if (node_unusable)
		policy_node_failed(c->slot, c->node_id);
	st->retries++;
	st->last_failure = psprintf("%s: %s", c->name, why);
	ereport(DEBUG1,
			(errmsg_internal("pg_foresight: retrying elsewhere after node \"%s\" failed: %s",
							 c->name, why)));
	inflight_drop(&st->inflight_slot);
}

/*
 * Start the query on the current candidate or, when it cannot run there,
 * on the next ones.  Leaves mode LOCAL or REMOTE.
 */
static void
start_route(RouteScanState *st)
{
	for (; st->attempt < st->decision.ncandidates; st->attempt++)
	{
		RouteCandidate *c = current_candidate(st);
		char	   *error = NULL;
		XLogRecPtr	replayed = InvalidXLogRecPtr;
		int			nparams;
		Oid		   *types;
		char	  **values;

		const char *begin = NULL;

		if (c->is_local)
		{
			inflight_hold(&st->inflight_slot, c->slot);
			st->mode = ROUTE_LOCAL;
			policy_pin(c->slot, c->node_id);
			return;
		}

		if (remote_conn_busy(c->slot, c->node_id))
		{
			note_failure(st, "its connection is busy with another query of this session", false);
			continue;
		}
		inflight_hold(&st->inflight_slot, c->slot);
		st->rc = remote_conn_get(c->slot, c->node_id, c->name, c->conninfo, &error);
		if (st->rc == NULL)
		{
			note_failure(st, error, !remote_conn_last_failure_is_role);
			continue;
		}

		/* a transaction block reads inside one remote transaction */
		if (IsTransactionBlock())
		{
			if (st->rc->xact_open && st->rc->xact_failed)
			{
				st->rc = NULL;
				note_failure(st, "its transaction failed earlier in this block", false);
				continue;
			}
			if (!st->rc->xact_open)
				begin = XactIsoLevel >= XACT_REPEATABLE_READ ?
					"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" :
					"BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY";
		}
		if (!remote_prepare(st->rc, begin,
							c->check_lsn ? st->decision.required_lsn : InvalidXLogRecPtr,
							&replayed, &error))
		{
			remote_conn_drop(st->rc);
			st->rc = NULL;
			note_failure(st, error, true);
			continue;
		}
		if (c->check_lsn)
		{
			if (replayed == InvalidXLogRecPtr || replayed < st->decision.required_lsn)
			{
				st->rc = NULL;
				note_failure(st, st->decision.block_start ?
							 "has not replayed what was written here before this REPEATABLE READ block began" :
							 "has not replayed this session's last commit", false);
				continue;
			}
			policy_node_replayed(c->slot, c->node_id, replayed);
		}

		param_values(st, &nparams, &types, &values);
		if (!remote_send(st->rc, st->sql, nparams, types, (const char *const *) values, &error))
		{
			remote_conn_drop(st->rc);
			st->rc = NULL;
			note_failure(st, error, true);
			continue;
		}
		st->answer_cold = st->rc->sent_cold;
		st->sent_us = elapsed_us(st);
		prepare_conversion(st);
		st->mode = ROUTE_REMOTE;
		policy_pin(c->slot, c->node_id);
		return;
	}
	/* not reached: local always ends the list */
	st->attempt = st->decision.ncandidates - 1;
	st->mode = ROUTE_LOCAL;
}

static void
finish_remote(RouteScanState *st)
{
	st->remote_ms = elapsed_us(st) / 1000.0;
}

/*
 * The candidate a query that has waited waited_us may be hedged to: the
 * next node in the policy's order that has lately answered the class in
 * less than that (or has no answer on record, like a node of speed 1), can
 * take the query at once (no replay position to check first, its
 * connection free), is not predicted overloaded nor busier than the first
 * node (by more than HEDGE_LOAD_MARGIN); -1 if none.  A node that answers
 * no faster than the wait so far, or is busier, would add work where it
 * hurts rather than give an earlier answer.  The coordinator is never a hedge: its plan would run in
 * this backend, which could not wait for the node meanwhile.
 */
static int
hedge_candidate(RouteScanState *st, int64 waited_us)
{
	RouteCandidate *first = current_candidate(st);

	for (int i = st->attempt + 1; i < st->decision.ncandidates; i++)
	{
		RouteCandidate *c = &st->decision.candidates[i];

		if (c->is_local || c->check_lsn ||
			c->answer_us >= (double) waited_us ||
			(c->scored && c->predicted_load > foresight_overload_threshold) ||
			(c->scored && first->scored &&
			 c->predicted_load > first->predicted_load + HEDGE_LOAD_MARGIN))
			continue;
		if (remote_conn_busy(c->slot, c->node_id))
			continue;
		return i;
	}
	return -1;
}

/* Send the query to candidate c as a hedge: its connection, or NULL. */
static RemoteConn *
send_hedge(RouteScanState *st, RouteCandidate *c)
{
	char	   *error = NULL;
	XLogRecPtr	replayed = InvalidXLogRecPtr;
	RemoteConn *rc;
	int			nparams;
	Oid		   *types;
	char	  **values;

	rc = remote_conn_get(c->slot, c->node_id, c->name, c->conninfo, &error);
	if (rc != NULL && !remote_prepare(rc, NULL, InvalidXLogRecPtr, &replayed, &error))
	{
		remote_conn_drop(rc);
		rc = NULL;
	}
	if (rc != NULL)
	{
		param_values(st, &nparams, &types, &values);
		if (!remote_send(rc, st->sql, nparams, types, (const char *const *) values, &error))
		{
			remote_conn_drop(rc);
			rc = NULL;
		}
	}
	if (rc == NULL)
	{
		ereport(DEBUG1,
				(errmsg_internal("pg_foresight: no hedge on node \"%s\": %s", c->name, error)));
		return NULL;
	}
	inflight_hold(&st->hedge_slot, c->slot);
	return rc;
}

/*
 * Hedging (hedge.h): when the policy set a delay and the first node has not
 * started to answer within it, send the query to the next candidate as
 * well and go on with whichever answers first.  The other's query is left
 * to finish on its own (remote_conn_orphan).  A first node left behind
 * counts the time it was waited for as a lower bound of its answer time;
 * a hedge left behind says nothing (it had just started).
 *
 * Only outside transaction blocks: a block's reads belong to one remote
 * transaction, on one node.
 */
static void
hedge_if_late(RouteScanState *st)
{
	RouteCandidate *first = current_candidate(st);
	RemoteConn *rcs[2];
	int64		waited_us = elapsed_us(st) - st->sent_us;
	int64		hedge_sent_us;
	int			h;
	int			winner;

	st->hedge_checked = true;
	if (st->decision.hedge_after_ms <= 0 || st->attempt != 0 || st->retries > 0 ||
		IsTransactionBlock() || st->rc->xact_open)
		return;
	rcs[0] = st->rc;
	if (remote_wait_any(rcs, 1, Max(0, st->decision.hedge_after_ms - waited_us / 1000)) == 0)
		return;					/* answering in time */
	if ((h = hedge_candidate(st, elapsed_us(st) - st->sent_us)) < 0 ||
		(rcs[1] = send_hedge(st, &st->decision.candidates[h])) == NULL)
		return;
	st->hedge_attempt = h;
	hedge_sent_us = elapsed_us(st);

	winner = remote_wait_any(rcs, 2, -1);
	if (winner == 1)
	{
		latency_record_abandoned(first->slot, first->node_id, request_class_from_cost(st->cost),
								 elapsed_us(st) - st->sent_us);
		remote_conn_orphan(rcs[0]);
		inflight_drop(&st->inflight_slot);
		st->inflight_slot = st->hedge_slot;
		st->hedge_slot = -1;
		st->rc = rcs[1];
		st->attempt = h;
		st->answer_cold = rcs[1]->sent_cold;
		st->sent_us = hedge_sent_us;
		st->hedge_won = true;
	}
	else
	{
		remote_conn_orphan(rcs[1]);
		inflight_drop(&st->hedge_slot);
	}
}

static TupleTableSlot *
fetch_remote(RouteScanState *st)
{
	TupleTableSlot *slot = st->css.ss.ss_ScanTupleSlot;

	if (!st->hedge_checked && st->rc != NULL)
		hedge_if_late(st);

	for (;;)
	{
		RemoteConn *rc = st->rc;
		PGresult   *res;
		ExecStatusType status;

		if (rc == NULL || !rc->in_use || rc->conn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("lost the connection to node \"%s\"", current_candidate(st)->name)));

		res = remote_get_result(rc);
		status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

		if (status == PGRES_SINGLE_TUPLE)
		{
			int			nf = PQnfields(res);

			if (nf != st->nremote)
			{
				PQclear(res);
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("node \"%s\" returned %d columns, expected %d",
								current_candidate(st)->name, nf, st->nremote)));
			}
			MemoryContextReset(st->row_ctx);
			ExecClearTuple(slot);
			memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
			PG_TRY();
			{
				MemoryContext old = MemoryContextSwitchTo(st->row_ctx);

				for (int i = 0; i < nf; i++)
				{
					int			att = st->col_map[i];
					char	   *text = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);

					slot->tts_values[att] = InputFunctionCall(&st->in_funcs[i], text,
															  st->in_ioparams[i],
															  st->in_typmods[i]);
					slot->tts_isnull[att] = (text == NULL);
				}
				MemoryContextSwitchTo(old);
			}
			PG_FINALLY();
			{
				PQclear(res);
			}
			PG_END_TRY();
			st->remote_rows++;
			st->returned_row = true;
			return ExecStoreVirtualTuple(slot);
		}
		if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
		{
			PQclear(res);
			remote_drain(rc);
			finish_remote(st);
			st->mode = ROUTE_DONE;
			return ExecClearTuple(slot);
		}

		/* an error, or the connection broke */
		if (!st->returned_row && remote_error_is_retryable(rc->conn, res))
		{
			char	   *why = remote_error_message(rc->conn, res);

			if (res)
				PQclear(res);
			remote_conn_abandon(rc);
			st->rc = NULL;
			note_failure(st, why, true);
			st->attempt++;
			start_route(st);
			if (st->mode == ROUTE_LOCAL)
				return NULL;	/* caller runs the child */
			continue;
		}
		else
		{
			RouteCandidate *c = current_candidate(st);
			int64		us = elapsed_us(st);

			latency_record(c->slot, c->node_id, request_class_from_cost(st->cost),
						   us, -1, true, st->retries > 0);
			log_outcome(st, us, true);
			inflight_drop(&st->inflight_slot);
			/* read the rest so the connection stays usable */
			if (res && PQstatus(rc->conn) == CONNECTION_OK)
			{
				PGresult   *rest;

				while ((rest = PQgetResult(rc->conn)) != NULL)
					PQclear(rest);
				rc->busy = false;
			}
			else
				remote_conn_drop(rc);
			st->rc = NULL;
			st->mode = ROUTE_DONE;
			remote_error_raise(rc->conn, res, c->name, st->sql);
		}
	}
}

static TupleTableSlot *
route_exec(CustomScanState *node)
{
	RouteScanState *st = (RouteScanState *) node;

	if (!st->started)
	{
		st->started = true;
		INSTR_TIME_SET_CURRENT(st->start);
		st->answer_cold = false;
		if (st->ineligible != NULL)
			st->mode = ROUTE_LOCAL;
		else
			start_route(st);
	}

	switch (st->mode)
	{
		case ROUTE_REMOTE:
			{
				TupleTableSlot *slot = fetch_remote(st);

				if (slot != NULL)
					return slot;
				/* fell back to local before any row */
				Assert(st->mode == ROUTE_LOCAL);
			}
			/* FALLTHROUGH */
		case ROUTE_LOCAL:
		case ROUTE_PENDING:
			ensure_child(st);
			if (st->deferred_qd != NULL)
				return fetch_deferred(st);
			return ExecProcNode(outerPlanState(st));
		case ROUTE_DONE:
			return ExecClearTuple(st->css.ss.ss_ScanTupleSlot);
	}
	return NULL;
}

static void
route_end(CustomScanState *node)
{
	RouteScanState *st = (RouteScanState *) node;

	if (st->rc && st->rc->in_use && st->rc->busy)
	{
		/* the client stopped reading early (LIMIT in the portal, a closed cursor) */
		remote_conn_abandon(st->rc);
	}
	st->rc = NULL;

	if (st->started)
	{
		int64		us = elapsed_us(st);

		if (st->inflight_slot >= 0)
		{
			RouteCandidate *c = st->ineligible ? NULL : current_candidate(st);

			/*
			 * The node's pace: not a retried query's time (it counts the
			 * failed attempt) nor a cold one's (it connected or prepared).
			 * A hedge that answered first is timed from when it was sent.
			 */
			int64		node_us = st->hedge_won ? us - st->sent_us : us;

			if (c)
				latency_record(c->slot, c->node_id, request_class_from_cost(st->cost),
							   node_us, st->retries > 0 || st->answer_cold ? -1 : node_us,
							   false, st->retries > 0);
			if (st->mode == ROUTE_DONE && st->remote_ms == 0)
				st->remote_ms = us / 1000.0;
		}
		if (st->decision_seq != 0)
			log_outcome(st, us, false);
	}
	inflight_drop(&st->inflight_slot);
	inflight_drop(&st->hedge_slot);
	if (outerPlanState(st))
		ExecEndNode(outerPlanState(st));
	if (st->deferred_qd)
		end_deferred(st);
}

static void
route_rescan(CustomScanState *node)
{
	RouteScanState *st = (RouteScanState *) node;

	if (st->rc && st->rc->in_use && st->rc->busy)
		remote_conn_abandon(st->rc);
	st->rc = NULL;
	inflight_drop(&st->inflight_slot);
	inflight_drop(&st->hedge_slot);
	st->started = false;
	st->returned_row = false;
	st->hedge_checked = false;
	st->hedge_attempt = -1;
	st->hedge_won = false;
	st->attempt = 0;
	st->mode = ROUTE_PENDING;
	if (outerPlanState(st))
		ExecReScan(outerPlanState(st));
	if (st->deferred_qd)
		ExecReScan(st->deferred_qd->planstate);
}

/* "$1 = '42', $2 = 'abc'": the lifted constants, for EXPLAIN VERBOSE */
static char *
lifted_parameters_text(RouteScanState *st)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, st->lifted_values)
	{
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "$%d = %s", foreach_current_index(lc) + 1,
						 quote_literal_cstr(strVal(lfirst(lc))));
	}
	return buf.data;
}

static void
route_explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	RouteScanState *st = (RouteScanState *) node;
	RouteCandidate *c = NULL;
	char	   *route;

	if (st->ineligible == NULL)
		c = current_candidate(st);

	if (c == NULL)
		route = psprintf("local (%s)", st->ineligible);
	else if (c->is_local && st->attempt > 0)
		route = psprintf("local (policy %s, after failures)", routing_policy_name(st->decision.policy));
	else
		route = psprintf("%s (policy %s)", c->name, routing_policy_name(st->decision.policy));
	ExplainPropertyText("Route", route, es);
	if (c && c->scored)
		ExplainPropertyText("Route Score",
							psprintf("%.3f (predicted load %.2f, connection score %.2f)",
									 c->score, c->predicted_load, c->connection_score), es);
	if (c && st->decision.reason[0] && strcmp(st->decision.reason, psprintf("policy %s", routing_policy_name(st->decision.policy))) != 0)
		ExplainPropertyText("Route Reason", st->decision.reason, es);
	if (st->deferred != NULL)
		ExplainPropertyText("Local Plan", st->deferred_qd ?
							"made at execution (query shape seen before)" :
							"not made (query shape seen before)", es);
	if (es->verbose)
	{
		ExplainPropertyText("Request Class",
							psprintf("%s (%s)", request_class_name(request_class_from_cost(st->cost)),
									 request_shape_describe(st->shape)), es);
		ExplainPropertyText("Remote SQL", st->sql, es);
		if (st->lifted_values != NIL)
			ExplainPropertyText("Remote Parameters", lifted_parameters_text(st), es);
	}
	if (es->analyze && st->started && c && !c->is_local)
	{
		ExplainPropertyInteger("Remote Rows", NULL, st->remote_rows, es);
		ExplainPropertyFloat("Remote Time", "ms", st->remote_ms, 3, es);
	}
	if (es->analyze && st->hedge_attempt >= 0)
		ExplainPropertyText("Hedge",
							psprintf("sent to %s after %d ms without an answer from %s; %s answered first",
									 st->decision.candidates[st->hedge_attempt].name,
									 st->decision.hedge_after_ms,
									 st->decision.candidates[0].name,
									 st->hedge_won ? st->decision.candidates[st->hedge_attempt].name :
									 st->decision.candidates[0].name), es);
	if (es->analyze && st->retries > 0)
	{
		ExplainPropertyInteger("Retries", NULL, st->retries, es);
		if (st->last_failure)
			ExplainPropertyText("Last Failure", st->last_failure, es);
	}
}
