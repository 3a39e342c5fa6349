/*-------------------------------------------------------------------------
 *
 * route_local.c
 *	  A route node's query run here: its child plan, initialised only
 *	  when it may run, or the deferred query of a known shape
 *	  (route_cache.c), planned when it runs here and run in an executor
 *	  of its own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "tcop/dest.h"
#include "utils/memutils.h"

#include "router/route_scan_internal.h"
#include "router/planner_hook.h"
#include "router/router.h"

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
	stmt = router_plan_deferred(copyObject(st->plan.deferred), estate->es_sourceText);

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

void
route_local_init(RouteScanState *st)
{
	EState	   *estate = st->css.ss.ps.state;
	MemoryContext old;

	if (outerPlanState(st) != NULL || st->deferred_qd != NULL)
		return;
	if (st->plan.deferred != NULL)
	{
		start_deferred(st);
		return;
	}
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	outerPlanState(st) = ExecInitNode(outerPlan(st->css.ss.ps.plan), estate, st->eflags);
	MemoryContextSwitchTo(old);
}

TupleTableSlot *
route_local_next(RouteScanState *st)
{
	route_local_init(st);
	if (st->deferred_qd != NULL)
		return fetch_deferred(st);
	return ExecProcNode(outerPlanState(st));
}

void
route_local_rescan(RouteScanState *st)
{
	if (outerPlanState(st))
		ExecReScan(outerPlanState(st));
	if (st->deferred_qd)
		ExecReScan(st->deferred_qd->planstate);
}

void
route_local_end(RouteScanState *st)
{
	if (outerPlanState(st))
		ExecEndNode(outerPlanState(st));
	if (st->deferred_qd)
		end_deferred(st);
}
