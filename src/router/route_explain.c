/*-------------------------------------------------------------------------
 *
 * route_explain.c
 *	  EXPLAIN of a "Foresight Route" node: the route and why, the request
 *	  class, the remote SQL, its parameters and how rows come back, and
 *	  under ANALYZE what the node returned, the hedge and the retries.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/explain.h"
#include "utils/builtins.h"

#include "router/clock_params.h"
#include "router/explain_lines.h"
#include "router/route_scan_internal.h"
#include "router/router.h"
#include "stats/latency.h"
#include "stats/request_shape.h"

/*
 * "$1 = '42', $2 = 'abc', $3 = now()": the lifted constants, and what the
 * parameters taken at execution stand for, for EXPLAIN VERBOSE
 */
static char *
remote_parameters_text(RouteScanState *st)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, st->plan.lifted_values)
	{
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "$%d = %s", foreach_current_index(lc) + 1,
						 quote_literal_cstr(strVal(lfirst(lc))));
	}
	clock_params_describe(&buf, st->plan.clock_kinds,
						  list_length(st->plan.param_types) -
						  list_length(st->plan.clock_kinds) + 1);
	return buf.data;
}

void
route_explain_scan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	RouteScanState *st = (RouteScanState *) node;
	RouteCandidate *c = NULL;
	char	   *route;

	if (st->ineligible == NULL)
		c = route_current_candidate(st);

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
	if (st->plan.not_split != NULL)
		ExplainPropertyText("Not Split", st->plan.not_split, es);
	if (st->plan.deferred != NULL)
		ExplainPropertyText("Local Plan", st->deferred_qd ?
							"made at execution (query shape seen before)" :
							"not made (query shape seen before)", es);
	if (es->verbose)
	{
		ExplainPropertyText("Request Class",
							psprintf("%s (%s)", request_class_name(request_class_from_cost(st->plan.cost)),
									 request_shape_describe(st->plan.shape)), es);
		explain_property_lines("Remote SQL", st->plan.sql, true, es);
		if (st->plan.lifted_values != NIL || st->plan.clock_kinds != NIL)
			ExplainPropertyText("Remote Parameters", remote_parameters_text(st), es);
		if (c && !c->is_local)
			ExplainPropertyText("Remote Transport", route_transport_describe(st), es);
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
