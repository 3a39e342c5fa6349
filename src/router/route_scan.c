/*-------------------------------------------------------------------------
 *
 * route_scan.c
 *	  The "Foresight Route" custom scan's executor callbacks: choose the
 *	  route, run the query on the first candidate that works, read its
 *	  rows, retry elsewhere, and account for it at the end.
 *
 * Execution: BeginCustomScan checks the session and asks the policy for an
 * ordered list of candidates.  The first row request runs the query on the
 * first candidate that works: local means the child plan (route_local.c);
 * a node means the remote SQL through libpq, whose values, in binary or
 * as text, become datums through the columns' receive or input functions
 * (route_tuples.c), and whose notices are raised here (remote/notices.c).
 * A node that cannot be reached, or fails before the first row was
 * returned, is skipped for the next candidate; the coordinator is the last
 * one.  A query that the predictive policy set a hedge delay for and that
 * has not started to answer by then is sent to the next node too, and the
 * first answer is used (hedge_if_late, hedge.c).
 *
 * The plan node itself is made in route_plan.c; the decision log entry is
 * written by route_decision.c, EXPLAIN by route_explain.c, and the
 * in-flight counts are kept by route_inflight.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "remote/connection.h"
#include "remote/errors.h"
#include "remote/notices.h"
#include "remote/remote_exec.h"
#include "router/auto_tune.h"
#include "remote/watch.h"
#include "router/eligibility.h"
#include "router/experiment.h"
#include "router/plan_notices.h"
#include "router/policy.h"
#include "router/route_deadline.h"
#include "router/route_inflight.h"
#include "router/route_plan.h"
#include "router/route_scan.h"
#include "router/route_scan_internal.h"
#include "stats/latency.h"

static Node *route_create_state(CustomScan *cscan);
static void route_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *route_exec(CustomScanState *node);
static void route_end(CustomScanState *node);
static void route_rescan(CustomScanState *node);
static void fail_remote(RouteScanState *st, RemoteConn *rc, PGresult *res) pg_attribute_noreturn();

static CustomExecMethods route_exec_methods = {
	.CustomName = ROUTE_SCAN_NAME,
	.BeginCustomScan = route_begin,
	.ExecCustomScan = route_exec,
	.EndCustomScan = route_end,
	.ReScanCustomScan = route_rescan,
	.ExplainCustomScan = route_explain_scan,
};

void
route_scan_register(void)
{
	route_plan_register(route_create_state);
}

static Node *
route_create_state(CustomScan *cscan)
{
	RouteScanState *st = (RouteScanState *) newNode(sizeof(RouteScanState), T_CustomScanState);

	st->css.methods = &route_exec_methods;
	route_plan_info(cscan, &st->plan);
	st->inflight_slot = -1;
	st->hedge_slot = -1;
	st->hedge_attempt = -1;
	st->decision.arm.slot = -1;
	return (Node *) st;
}

static void
route_begin(CustomScanState *node, EState *estate, int eflags)
{
	RouteScanState *st = (RouteScanState *) node;
	bool		runs_here;

	st->eflags = eflags;
	st->explain_only = (eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0;
	st->mode = ROUTE_PENDING;
	st->ineligible = eligibility_check_session(st->plan.plan_user);
	if (st->ineligible == NULL)
		st->ineligible = route_values_inexact(st->plan.value_settings);
	if (st->ineligible == NULL)
		st->ineligible = route_transport_check(st);
	st->cost_clock.running = false;
	if (st->ineligible == NULL && !st->explain_only)
		coordinator_cost_start(&st->cost_clock, estate->es_plannedstmt);
	if (st->ineligible == NULL)
	{
		TimestampTz decide_start = GetCurrentTimestamp();

		PG_TRY();
		{
			policy_decide(&st->decision, st->plan.cost, st->explain_only);
		}
		PG_CATCH();
		{
			/* admission control refused the query: the log says so, then the error */
			if (!st->explain_only)
				route_log_refusal(st, estate->es_plannedstmt->queryId,
								  GetCurrentTimestamp() - decide_start);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	if (!st->explain_only)
	{
		st->decision_seq = route_log_decision(st, estate->es_plannedstmt->queryId);
		if (st->decision_seq != 0)
			route_log_watch(st, estate->es_query_cxt);
	}

	/*
	 * The local plan is initialised now when it may run or be shown
	 * (EXPLAIN); a query routed to a node initialises it only if it falls
	 * back to local, which saves opening its relations and indexes.  A
	 * deferred query has nothing to show: it is planned only to run here.
	 */
	runs_here = st->ineligible != NULL || st->decision.candidates[0].is_local;

	/* the notices of planning it here: raised if it runs here, else held */
	st->plan_notices = plan_notices_take();
	if (runs_here || st->explain_only)
		plan_notices_raise(&st->plan_notices);

	if (st->plan.deferred != NULL ? runs_here && !st->explain_only :
		runs_here || st->explain_only || estate->es_instrument != 0)
		route_local_init(st);
	st->row_ctx = AllocSetContextCreate(estate->es_query_cxt, "foresight route row",
										ALLOCSET_SMALL_SIZES);
}

/* the node failed before any row reached the client: count it, move on */
static void
note_failure(RouteScanState *st, const char *why, bool node_unusable)
{
	RouteCandidate *c = route_current_candidate(st);

	latency_record(c->slot, c->node_id, request_class_from_cost(st->plan.cost),
				   route_elapsed_us(st), -1, false, true, true);
	if (node_unusable)
		policy_node_failed(c->slot, c->node_id);
	st->retries++;
	st->last_failure = psprintf("%s: %s", c->name, why);
	ereport(DEBUG1,
			(errmsg_internal("pg_foresight: retrying elsewhere after node \"%s\" failed: %s",
							 c->name, why)));
	route_inflight_drop(&st->inflight_slot);
}

/* the node's connection; making one waits at most deadline_ms (0: no limit) */
static RemoteConn *
conn_get_bounded(RouteCandidate *c, int deadline_ms, char **error)
{
	RemoteConn *rc;

	remote_connect_limit_ms = deadline_ms;
	PG_TRY();
	{
		rc = remote_conn_get(c->slot, c->node_id, c->name, c->conninfo, error);
	}
	PG_FINALLY();
	{
		remote_connect_limit_ms = 0;
	}
	PG_END_TRY();
	return rc;
}

RemoteConn *
route_send_query(RouteScanState *st, RouteCandidate *c, const char **why,
				 bool *node_failed)
{
	RemoteConn *rc;
	char	   *error = NULL;
	const char *begin = NULL;
	XLogRecPtr	need_lsn = c->check_lsn ? st->decision.required_lsn : InvalidXLogRecPtr;
	XLogRecPtr	replayed = InvalidXLogRecPtr;
	int			nparams;
	Oid		   *types;
	char	  **values;
	int		   *lengths;
	int		   *formats;
	bool		binary;
	const char *text_reason;
	const char *unusable;
	int			deadline_ms;

	*node_failed = false;
	deadline_ms = route_deadline_ms(c->slot, c->node_id, request_class_from_cost(st->plan.cost));
	rc = conn_get_bounded(c, deadline_ms, &error);
	if (rc == NULL)
	{
		*why = error;
		*node_failed = !remote_conn_last_failure_is_role;
		return NULL;
	}
	/* every wait from here to the first answer is bounded (watch.c) */
	remote_watch_deadline(rc, deadline_ms);

	/* rows in binary, or as text when exact (route_tuples.c) */
	binary = route_transport_binary(st, rc, &text_reason, &unusable);
	if (unusable != NULL)
	{
		*why = unusable;
		return NULL;
	}

	/* a transaction block reads inside one remote transaction */
	if (IsTransactionBlock())
	{
		if (rc->xact_open && rc->xact_failed)
		{
			*why = "its transaction failed earlier in this block";
			return NULL;
		}
		/* the block's reads so far ran there: they cannot move */
		st->block_on_node = rc->xact_open;
		if (!rc->xact_open)
			begin = XactIsoLevel >= XACT_REPEATABLE_READ ?
				"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" :
				"BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY";
	}
	if (!remote_prepare(rc, begin, need_lsn, &replayed, &error))
	{
		/* a setting the node refused says nothing of the node */
		*why = error;
		*node_failed = !remote_prepare_refused;
		if (*node_failed)
			remote_conn_drop(rc);
		return NULL;
	}
	if (c->check_lsn)
	{
		if (replayed == InvalidXLogRecPtr || replayed < need_lsn)
		{
			*why = st->decision.block_start ?
				"has not replayed what was written here before this REPEATABLE READ block began" :
				st->decision.standby_floor ?
				"has replayed less than this standby had when the statement began" :
				st->decision.block_seen ?
				"has not replayed what a statement of this block saw here" :
				"has not replayed this session's last commit";
			return NULL;
		}
		policy_node_replayed(c->slot, c->node_id, replayed);
	}

	route_param_values(st, binary, &nparams, &types, &values, &lengths, &formats);

	/*
	 * Lifted constants were values when the query was planned here: the
	 * node plans them with their values too (unnamed), unless no plan can
	 * change the rows (single_row.c).
	 */
	if (!remote_send(rc, st->plan.sql, nparams, types, (const char *const *) values,
					 lengths, formats, binary,
					 st->plan.lifted_values == NIL || st->plan.single_row, &error))
	{
		remote_conn_drop(rc);
		*why = error;
		*node_failed = true;
		return NULL;
	}
	return rc;
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
		RouteCandidate *c = route_current_candidate(st);
		const char *why;
		bool		node_failed;

		if (c->is_local)
		{
			plan_notices_raise(&st->plan_notices);
			route_inflight_hold(&st->inflight_slot, c->slot);
			st->mode = ROUTE_LOCAL;
			policy_pin(c->slot, c->node_id);
			return;
		}

		if (remote_conn_busy(c->slot, c->node_id))
		{
			note_failure(st, "its connection is busy with another query of this session", false);
			continue;
		}
		route_inflight_hold(&st->inflight_slot, c->slot);
		st->rc = route_send_query(st, c, &why, &node_failed);
		if (st->rc == NULL)
		{
			note_failure(st, why, node_failed);
			continue;
		}
		st->answer_cold = st->rc->sent_cold;
		st->sent_us = route_elapsed_us(st);
		route_prepare_conversion(st);
		st->mode = ROUTE_REMOTE;
		policy_pin(c->slot, c->node_id);
		return;
	}
	/* not reached: local always ends the list */
	st->attempt = st->decision.ncandidates - 1;
	st->mode = ROUTE_LOCAL;
}

/*
 * The notices the node sent so far, raised here: the query on rc is the
 * one whose answer the client gets (remote/notices.c).  res, the result in
 * hand, is cleared if raising them fails.
 */
static void
raise_node_notices(RemoteConn *rc, PGresult *res)
{
	if (!remote_notices_waiting())
		return;
	PG_TRY();
	{
		remote_notices_emit(rc);
	}
	PG_CATCH();
	{
		if (res)
			PQclear(res);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

static void
finish_remote(RouteScanState *st)
{
	st->remote_ms = route_elapsed_us(st) / 1000.0;
}

/*
 * The query failed on the node and cannot go elsewhere (a row was returned
 * already, or the error is the query's own): count it, then raise the
 * node's error for the client.  A connection still usable has the rest of
 * its results read, so that it stays usable.  One that is not is dropped,
 * but only after the error was read from it: without a result (the
 * connection closed before the node said why) the message is the
 * connection's own, which dropping it first would lose.
 */
static void
fail_remote(RouteScanState *st, RemoteConn *rc, PGresult *res)
{
	RouteCandidate *c = route_current_candidate(st);
	int64		us = route_elapsed_us(st);
	bool		usable = res != NULL && PQstatus(rc->conn) == CONNECTION_OK;

	latency_record(c->slot, c->node_id, request_class_from_cost(st->plan.cost),
				   us, -1, false, true, st->retries > 0);
	experiment_record(&st->decision, -1, true, st->hedge_attempt >= 0);
	route_log_outcome(st, us, true);
	route_inflight_drop(&st->inflight_slot);
	st->rc = NULL;
	st->mode = ROUTE_DONE;

	if (usable)
	{
		/* a cancel may interrupt the wait: the abort abandons the connection */
		remote_drain_keeping(rc, res);
	}
	/* what the node said before the error, as a local run would show it */
	raise_node_notices(rc, res);
	PG_TRY();
	{
		remote_error_raise(rc->conn, res, c->name, st->plan.sql);
	}
	PG_CATCH();
	{
		if (!usable)
			remote_conn_drop(rc);
		PG_RE_THROW();
	}
	PG_END_TRY();
	pg_unreachable();
}

/*
 * The node said the query cannot run on a standby (remote_error_means_not_here)
 * before any row reached the client: run it on the coordinator, the next
 * local candidate, without blaming the node; true when it now runs here.
 * The connection stays usable (its results are read to the end).
 */
static bool
run_here_instead(RouteScanState *st, RemoteConn *rc, PGresult *res)
{
	char	   *why = psprintf("cannot run on a standby: %s", remote_error_message(rc->conn, res));
	int			local = st->attempt + 1;

	PQclear(res);
	remote_drain(rc);
	/* the error aborted the node's transaction of this block, if any */
	if (rc->xact_open)
		rc->xact_failed = true;
	st->rc = NULL;
	note_failure(st, why, false);
	while (local < st->decision.ncandidates - 1 && !st->decision.candidates[local].is_local)
		local++;
	st->attempt = local;
	start_route(st);
	return st->mode == ROUTE_LOCAL;
}

/*
 * The remote layer gave up waiting for rc's node (watch.c: past the
 * response deadline before the first answer, or the monitor marked the
 * node down).  Before any row reached the client, and outside a block
 * whose reads ran on that node, the query runs on the next candidate:
 * true when it now runs here.  Otherwise an error that names the node.
 */
static bool
give_up_node(RouteScanState *st, RemoteConn *rc)
{
	RouteCandidate *c = route_current_candidate(st);
	char	   *why = pstrdup(rc->gave_up);
	int64		us;

	remote_notices_discard(rc);
	remote_conn_abandon(rc);
	st->rc = NULL;
	if (!st->returned_row && !st->block_on_node)
	{
		note_failure(st, why, true);
		st->attempt++;
		start_route(st);
		return st->mode == ROUTE_LOCAL;
	}

	us = route_elapsed_us(st);
	latency_record(c->slot, c->node_id, request_class_from_cost(st->plan.cost),
				   us, -1, false, true, st->retries > 0);
	policy_node_failed(c->slot, c->node_id);
	route_log_outcome(st, us, true);
	route_inflight_drop(&st->inflight_slot);
	st->mode = ROUTE_DONE;
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("node \"%s\" stopped answering: %s", c->name, why),
			 st->returned_row ?
			 errdetail("Rows of the result were returned already, so the query cannot run again elsewhere.") :
			 errdetail("The reads of this transaction block run on node \"%s\", in one transaction there.", c->name),
			 errhint("Run the transaction again: a node marked down is not chosen.")));
	pg_unreachable();
}

static TupleTableSlot *
fetch_remote(RouteScanState *st)
{
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
					 errmsg("lost the connection to node \"%s\"",
							route_current_candidate(st)->name)));

		res = remote_get_result(rc);
		if (rc->gave_up[0] != '\0')
		{
			if (res)
				PQclear(res);
			if (give_up_node(st, rc))
				return NULL;	/* caller runs the child */
			continue;
		}
		if (res)
			remote_watch_clear(rc); /* it answered: no deadline any more */
		status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

		/* a node answered: it raised the planning notices itself */
		if (st->plan_notices != NIL &&
			(status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK ||
			 status == PGRES_COMMAND_OK || !remote_error_is_retryable(rc->conn, res)))
			plan_notices_forget(&st->plan_notices);

		if (status == PGRES_SINGLE_TUPLE)
		{
			TupleTableSlot *slot;

			raise_node_notices(rc, res);
			slot = route_store_row(st, res);

			st->remote_rows++;
			st->returned_row = true;
			return slot;
		}
		if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
		{
			PQclear(res);
			remote_drain(rc);
			raise_node_notices(rc, NULL);
			finish_remote(st);
			st->mode = ROUTE_DONE;
			return ExecClearTuple(st->css.ss.ss_ScanTupleSlot);
		}

		/* an error, or the connection broke */
		if (!st->returned_row && PQstatus(rc->conn) == CONNECTION_OK &&
			remote_error_means_not_here(res))
		{
			if (run_here_instead(st, rc, res))
				return NULL;	/* caller runs the child */
			continue;
		}
		/*
		 * A node failure before the first row runs the query elsewhere,
		 * unless a REPEATABLE READ block's earlier reads ran in a
		 * transaction on that node: elsewhere the statement would see
		 * another snapshot than they did, so the client gets the node's
		 * error (a recovery conflict's 40001 is retried like any
		 * serialization failure).  A READ COMMITTED statement takes a
		 * snapshot of its own anyway.
		 */
		if (!st->returned_row && remote_error_is_retryable(rc->conn, res) &&
			!(st->block_on_node && IsolationUsesXactSnapshot()))
		{
			char	   *why = remote_error_message(rc->conn, res);

			if (res)
				PQclear(res);
			/* the next candidate runs the query again, notices and all */
			remote_notices_discard(rc);
			remote_conn_abandon(rc);
			st->rc = NULL;
			note_failure(st, why, true);
			st->attempt++;
			start_route(st);
			if (st->mode == ROUTE_LOCAL)
				return NULL;	/* caller runs the child */
			continue;
		}
		fail_remote(st, rc, res);
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
		{
			st->mode = ROUTE_LOCAL;
			policy_block_ran_here();
		}
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
			return route_local_next(st);
		case ROUTE_DONE:
			return ExecClearTuple(st->css.ss.ss_ScanTupleSlot);
	}
	return NULL;
}

/*
 * Let go of the route: a query still running on the node is abandoned (at
 * the end, the client stopped reading early: LIMIT in the portal, a closed
 * cursor), and the in-flight counts are given back.
 */
static void
release_route(RouteScanState *st)
{
	if (st->rc && st->rc->in_use && st->rc->busy)
		remote_conn_abandon(st->rc);
	st->rc = NULL;
	route_inflight_drop(&st->inflight_slot);
	route_inflight_drop(&st->hedge_slot);
}

static void
route_end(CustomScanState *node)
{
	RouteScanState *st = (RouteScanState *) node;
	bool		counted = st->inflight_slot >= 0;	/* it ran on a candidate */

	release_route(st);
	plan_notices_forget(&st->plan_notices);
	if (st->started)
	{
		int64		us = route_elapsed_us(st);

		if (counted)
		{
			RouteCandidate *c = st->ineligible ? NULL : route_current_candidate(st);

			/*
			 * The node's pace: not a retried query's time (it counts the
			 * failed attempt); a cold one's (among a connection's first,
			 * or it prepared: remote_exec.c) apart from the warm ones.  A
			 * hedge that answered first is timed from when it was sent.
			 */
			int64		node_us = st->hedge_won ? us - st->sent_us : us;

			if (c)
				latency_record(c->slot, c->node_id, request_class_from_cost(st->plan.cost),
							   node_us, st->retries > 0 ? -1 : node_us, st->answer_cold,
							   false, st->retries > 0);
			if (c && st->retries == 0 && !st->answer_cold && !st->explain_only)
				auto_tune_record(&st->decision.tune, node_us);
			/* what it cost this backend: not a retried or cold read's */
			if (c && st->retries == 0 && !st->answer_cold)
				coordinator_cost_stop(&st->cost_clock, request_class_from_cost(st->plan.cost),
									  c->is_local);
			if (st->mode == ROUTE_DONE && st->remote_ms == 0)
				st->remote_ms = us / 1000.0;
		}
		if (st->decision_seq != 0)
			route_log_outcome(st, us, false);
		if (st->ineligible == NULL && !st->explain_only)
			experiment_record(&st->decision, us, st->retries > 0, st->hedge_attempt >= 0);
	}
	/* never run (a cursor closed unread): ended all the same, as split_end says */
	if (st->decision_seq != 0)
		route_log_outcome(st, 0, false);
	route_local_end(st);
}

static void
route_rescan(CustomScanState *node)
{
	RouteScanState *st = (RouteScanState *) node;

	release_route(st);
	st->started = false;
	st->returned_row = false;
	st->hedge_checked = false;
	st->hedge_attempt = -1;
	st->hedge_won = false;
	st->block_on_node = false;
	st->attempt = 0;
	st->mode = ROUTE_PENDING;
	route_local_rescan(st);
}
