/*-------------------------------------------------------------------------
 *
 * route_decision.c
 *	  A route execution's entry in the decision log (decision_log.c): the
 *	  decision at executor start, or the refusal by admission control, and
 *	  the outcome at the end (where the query finally ran, how long it
 *	  took, whether it failed), however the execution ends: at route_end,
 *	  where the node's error is raised, or, for an error raised here or a
 *	  cancel, when the query's memory context goes (route_log_watch).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/timestamp.h"

#include "registry/registry.h"
#include "router/route_scan_internal.h"
#include "router/router.h"
#include "stats/decision_log.h"
#include "stats/latency.h"

/* A new entry for this execution: what is known of the query. */
static void
decision_begin(Decision *d, RouteScanState *st, uint64 queryid)
{
	memset(d, 0, sizeof(*d));
	d->at = GetCurrentTimestamp();
	d->pid = MyProcPid;
	d->queryid = (int64) queryid;
	d->request_class = request_class_from_cost(st->plan.cost);
	d->request_shape = st->plan.shape;
	d->cost = st->plan.cost;
}

uint64
route_log_decision(RouteScanState *st, uint64 queryid)
{
	Decision	d;
	RouteDecision *rd = &st->decision;

	decision_begin(&d, st, queryid);
	d.latency_us = -1;
	if (st->ineligible != NULL)
	{
		strlcpy(d.chosen, FORESIGHT_LOCAL_NODE_NAME, NAMEDATALEN);
		strlcpy(d.policy, routing_policy_name(foresight_routing_policy), sizeof(d.policy));
		if (st->plan.not_split != NULL)
			snprintf(d.reason, sizeof(d.reason), "not routed: %s; not split: %s",
					 st->ineligible, st->plan.not_split);
		else
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
	if (st->plan.not_split != NULL)
		snprintf(d.reason, sizeof(d.reason), "%s; not split: %s", rd->reason, st->plan.not_split);
	else
		strlcpy(d.reason, rd->reason, sizeof(d.reason));
	d.queue_wait_us = rd->queue_wait_us;
	return decision_log_append(&d);
}

void
route_log_refusal(RouteScanState *st, uint64 queryid, int64 waited_us)
{
	Decision	d;

	decision_begin(&d, st, queryid);
	strlcpy(d.chosen, "none", NAMEDATALEN);
	strlcpy(d.policy, routing_policy_name(foresight_routing_policy), sizeof(d.policy));
	strlcpy(d.reason, "refused by admission control: every candidate predicted overloaded", sizeof(d.reason));
	d.queue_wait_us = waited_us;
	d.latency_us = waited_us;
	d.failed = true;
	(void) decision_log_append(&d);
}

void
route_log_outcome(RouteScanState *st, int64 elapsed_us, bool failed)
{
	const char *node = st->ineligible ? FORESIGHT_LOCAL_NODE_NAME : route_current_candidate(st)->name;
	char		how[DECISION_TEXT_MAX];

	/* the log says how only of a read that ran elsewhere than chosen */
	how[0] = '\0';
	if (!st->ineligible && strcmp(node, st->decision.candidates[0].name) != 0)
	{
		if (st->hedge_won && st->retries == 0)
			snprintf(how, sizeof(how), "(hedged: no answer from %s within %d ms)",
					 st->decision.candidates[0].name, st->decision.hedge_after_ms);
		else
			snprintf(how, sizeof(how), "after %d retr%s", st->retries,
					 st->retries == 1 ? "y" : "ies");
	}
	decision_log_finish(st->decision_seq, elapsed_us, failed, node, how[0] ? how : NULL);
	st->decision_seq = 0;
}

/*
 * The query's memory context is going away with the entry still open: the
 * execution did not reach route_end, so it ended in an error or a cancel
 * (those raised by the node's answer complete the entry themselves).  Runs
 * during abort: it only reads the scan state, which lives in that context,
 * and writes the shared entry.
 */
static void
route_log_abandoned(void *arg)
{
	RouteScanState *st = (RouteScanState *) arg;

	if (st->decision_seq != 0)
		route_log_outcome(st, st->started ? route_elapsed_us(st) : 0, true);
}

void
route_log_watch(RouteScanState *st, MemoryContext query_cxt)
{
	st->log_callback.func = route_log_abandoned;
	st->log_callback.arg = st;
	MemoryContextRegisterResetCallback(query_cxt, &st->log_callback);
}
