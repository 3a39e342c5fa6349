/*-------------------------------------------------------------------------
 *
 * hedge.c
 *	  Hedging (see hedge.h): its settings, the delay the predictive policy
 *	  sets, and the hedge itself, sent by a route execution whose first
 *	  node is late (hedge_if_late).
 *
 * A node under a CPU-bound neighbour answers most queries at once but
 * some only after tens of milliseconds, when the scheduler gives its
 * backend the CPU; such stalls, a hundred times a point lookup's own time,
 * are the tail of a workload's latency.  Only the classes point and small
 * are hedged: running them twice costs little, and only when they are
 * late.  Larger queries are not: a second execution would cost real work,
 * and their time varies with their parameters more than with the node.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "utils/guc.h"

#include "remote/connection.h"
#include "remote/remote_exec.h"
#include "router/admission.h"
#include "router/hedge.h"
#include "router/regions.h"
#include "router/route_inflight.h"
#include "router/route_scan_internal.h"
#include "stats/latency.h"

double		foresight_hedge_factor = 8.0;
int			foresight_hedge_min_delay = 2;

void
hedge_define_gucs(void)
{
	DefineCustomRealVariable("foresight.hedge_factor",
							 "Hedge a short query after this many times the fastest node's recent answer time.",
							 "A query of class point or small routed by the predictive policy that has not started "
							 "to answer by then is sent to the next candidate too; the first answer is used.  "
							 "0 turns hedging off.",
							 &foresight_hedge_factor,
							 8.0, 0.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.hedge_min_delay",
							"Least time a query waits for its node before it is hedged.",
							NULL,
							&foresight_hedge_min_delay,
							2, 1, 60000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
}

int
hedge_delay_ms(RequestClass cls, double fastest_us)
{
	return hedge_delay_ms_with(cls, fastest_us, foresight_hedge_factor,
							   foresight_hedge_min_delay);
}

int
hedge_delay_ms_with(RequestClass cls, double fastest_us, double factor, int min_delay_ms)
{
	double		ms;

	if ((cls != REQUEST_CLASS_POINT && cls != REQUEST_CLASS_SMALL) ||
		factor <= 0.0 || fastest_us <= 0.0)
		return 0;
	ms = ceil(factor * fastest_us / 1000.0);
	return (int) Max((double) min_delay_ms, Min(ms, 60000.0));
}

/*
 * The candidate a query that has waited waited_us may be hedged to: the
 * next node in the policy's order that has lately answered the class in
 * less than that (or has no answer on record, like a node of speed 1) and
 * whose network round trip (the monitor's, router/regions.c) is shorter
 * too, since a hedge to a node 60 ms away cannot help a 2 ms query, can
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
	RouteCandidate *first = route_current_candidate(st);

	for (int i = st->attempt + 1; i < st->decision.ncandidates; i++)
	{
		RouteCandidate *c = &st->decision.candidates[i];

		if (c->is_local || c->check_lsn ||
			c->answer_us >= (double) waited_us ||
			regions_round_trip_us(c) >= (double) waited_us ||
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
	const char *why;
	bool		node_failed;
	RemoteConn *rc = route_send_query(st, c, &why, &node_failed);

	if (rc == NULL)
	{
		ereport(DEBUG1,
				(errmsg_internal("pg_foresight: no hedge on node \"%s\": %s", c->name, why)));
		return NULL;
	}
	route_inflight_hold(&st->hedge_slot, c->slot);
	return rc;
}

/*
 * When the policy set a delay and the first node has not started to
 * answer within it, send the query to the next candidate as well and go
 * on with whichever answers first.  The other's query is left to finish on
 * its own (remote_conn_orphan).  A first node left behind counts the time
 * it was waited for as a lower bound of its answer time; a hedge left
 * behind says nothing (it had just started).
 *
 * Only outside transaction blocks: a block's reads belong to one remote
 * transaction, on one node.
 */
void
hedge_if_late(RouteScanState *st)
{
	RouteCandidate *first = route_current_candidate(st);
	RemoteConn *rcs[2];
	int64		waited_us = route_elapsed_us(st) - st->sent_us;
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
	if ((h = hedge_candidate(st, route_elapsed_us(st) - st->sent_us)) < 0 ||
		(rcs[1] = send_hedge(st, &st->decision.candidates[h])) == NULL)
		return;
	st->hedge_attempt = h;
	hedge_sent_us = route_elapsed_us(st);

	winner = remote_wait_any(rcs, 2, -1);
	/* one given up (watch.c) is no winner: the other goes on */
	if (rcs[winner]->gave_up[0] != '\0' && rcs[1 - winner]->gave_up[0] == '\0')
		winner = 1 - winner;
	if (winner == 1)
	{
		latency_record_abandoned(first->slot, first->node_id, request_class_from_cost(st->plan.cost),
								 route_elapsed_us(st) - st->sent_us, rcs[0]->sent_cold);
		if (rcs[0]->gave_up[0] != '\0')
			remote_conn_abandon(rcs[0]);
		else
			remote_conn_orphan(rcs[0]);
		route_inflight_drop(&st->inflight_slot);
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
		if (rcs[1]->gave_up[0] != '\0')
			remote_conn_abandon(rcs[1]);
		else
			remote_conn_orphan(rcs[1]);
		route_inflight_drop(&st->hedge_slot);
	}
}
