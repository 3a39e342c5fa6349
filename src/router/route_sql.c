/*-------------------------------------------------------------------------
 *
 * route_sql.c
 *	  SQL functions of the router: foresight.route_explain(sql), and the
 *	  functions behind the views foresight.routing_stats and
 *	  foresight.coordinator_cost.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "core/guards.h"
#include "registry/registry.h"
#include "router/coordinator_cost.h"
#include "router/eligibility.h"
#include "router/policy.h"
#include "stats/request_shape.h"
#include "router/route_plan.h"
#include "router/router.h"
#include "router/split_scan.h"
#include "stats/latency.h"

PG_FUNCTION_INFO_V1(foresight_route_explain);
PG_FUNCTION_INFO_V1(foresight_routing_stats);
PG_FUNCTION_INFO_V1(foresight_reset_routing_stats);
PG_FUNCTION_INFO_V1(foresight_coordinator_cost_list);

/* the values of the lifted constants as text[], or 0 when there are none */
static Datum
remote_parameters_array(PlannedStmt *stmt)
{
	List	   *params = stmt ? route_scan_remote_parameters(stmt->planTree) : NIL;
	Datum	   *elems;
	ListCell   *lc;

	if (params == NIL)
		return (Datum) 0;
	elems = palloc(sizeof(Datum) * list_length(params));
	foreach(lc, params)
		elems[foreach_current_index(lc)] = CStringGetTextDatum(strVal(lfirst(lc)));
	return PointerGetDatum(construct_array(elems, list_length(params), TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * route_explain(sql text) → (node, policy, reason, candidates, excluded,
 * remote_sql, remote_parameters, request_class, request_shape, cost): plan
 * the statement as a client's would be and decide its route as the executor
 * would now, without running it anywhere.
 *
 * Executable by everyone, so it shows nothing the caller could not learn
 * by running the statement: once planned, the statement's range table is
 * checked as the executor checks it at start (ExecCheckRTPerms, like
 * EXPLAIN), and a caller who may not read (or write) one of its tables
 * gets the permission error the statement itself would raise, before any
 * cost, constant or route is computed from the plan.
 */
Datum
foresight_route_explain(PG_FUNCTION_ARGS)
{
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TupleDesc	tupdesc;
	Datum		values[10];
	bool		nulls[10] = {false};
	List	   *raw;
	List	   *queries;
	PlannedStmt *stmt = NULL;
	const char *reason = NULL;
	const char *remote_sql = NULL;
	char	   *node = "local";
	RouteDecision *d = palloc0(sizeof(RouteDecision));
	bool		decided = false;
	char	   *split_reason = NULL;
	char	   *split_sql = NULL;

	foresight_require_shmem();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	foresight_check_result_columns(fcinfo, tupdesc, 10);

	raw = pg_parse_query(sql);
	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("route_explain expects exactly one statement")));

	queries = pg_analyze_and_rewrite_fixedparams(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);
	if (list_length(queries) != 1 || linitial_node(Query, queries)->commandType == CMD_UTILITY)
		reason = "not a plain statement";
	else
	{
		router_explaining = true;
		PG_TRY();
		{
			stmt = pg_plan_query(linitial_node(Query, queries), sql, CURSOR_OPT_PARALLEL_OK, NULL);
			(void) ExecCheckRTPerms(stmt->rtable, true);
			if (split_scan_route_explain(stmt, d, &split_reason, &split_sql))
			{
				remote_sql = split_sql;
				decided = true;
			}
			else if ((remote_sql = route_scan_remote_sql(stmt->planTree)) == NULL)
				reason = eligibility_last_reason;
			else
			{
				reason = eligibility_check_session(GetUserId());
				if (reason == NULL)
				{
					policy_decide(d, stmt->planTree->total_cost, true);
					decided = true;
				}
			}
		}
		PG_FINALLY();
		{
			router_explaining = false;
		}
		PG_END_TRY();
	}

	if (decided)
	{
		Datum	   *names = palloc(sizeof(Datum) * d->ncandidates);
		int			k = 0;

		node = d->candidates[0].name;
		reason = d->reason;
		if (split_reason == NULL && route_scan_not_split(stmt->planTree) != NULL)
			reason = psprintf("%s; not split: %s", d->reason,
							  route_scan_not_split(stmt->planTree));
		for (int i = 0; i < d->ncandidates; i++)
		{
			/* the coordinator as last resort is not a candidate */
			if (d->candidates[i].is_local && !d->local_is_candidate)
				continue;
			names[k++] = CStringGetTextDatum(d->candidates[i].name);
		}
		values[3] = PointerGetDatum(construct_array(names, k, TEXTOID, -1, false, TYPALIGN_INT));
		values[4] = CStringGetTextDatum(d->excluded);
		if (split_reason != NULL)
		{
			node = "split";
			reason = split_reason;
		}
	}
	else
	{
		nulls[3] = true;
		nulls[4] = true;
	}
	values[0] = CStringGetTextDatum(node);
	values[1] = CStringGetTextDatum(routing_policy_name(foresight_routing_policy));
	values[2] = CStringGetTextDatum(reason ? reason : "");
	if (remote_sql)
		values[5] = CStringGetTextDatum(remote_sql);
	else
		nulls[5] = true;
	values[6] = remote_parameters_array(stmt);
	nulls[6] = (values[6] == (Datum) 0);
	if (stmt != NULL)
	{
		RequestShape shape;

		request_shape_of_plan(stmt, &shape);
		values[7] = CStringGetTextDatum(request_class_name(shape.request_class));
		values[8] = CStringGetTextDatum(request_shape_describe(shape.flags));
		values[9] = Float8GetDatum(shape.total_cost);
	}
	else
		nulls[7] = nulls[8] = nulls[9] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* one row per node: routed queries, errors, retries, latency, in flight */
Datum
foresight_routing_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForesightNode *nodes;
	int			n;

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 8);

	nodes = registry_snapshot_palloc(&n);
	for (int i = 0; i < n; i++)
	{
		LatencyTotals t;
		Datum		values[8];
		bool		nulls[8] = {false};

		latency_cumulative(nodes[i].slot, nodes[i].node_id, &t);
		values[0] = Int32GetDatum(nodes[i].node_id);
		values[1] = CStringGetTextDatum(nodes[i].name);
		values[2] = Int64GetDatum(t.count);
		values[3] = Int64GetDatum(t.errors);
		values[4] = Int64GetDatum(t.retries);
		values[5] = Float8GetDatum(t.mean_us / 1000.0);
		values[6] = Float8GetDatum(t.p95_us / 1000.0);
		values[7] = Int64GetDatum((int64) latency_inflight(nodes[i].slot));
		if (t.count == 0)
			nulls[5] = nulls[6] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

Datum
foresight_reset_routing_stats(PG_FUNCTION_ARGS)
{
	foresight_require_shmem();
	foresight_require_admin("reset pg_foresight routing statistics");
	latency_reset_all();
	PG_RETURN_VOID();
}

/*
 * One row per request class: the coordinator's CPU per routed read and per
 * read run here, and how many executions each average is over
 * (router/coordinator_cost.c); NULL while a class has none.
 */
Datum
foresight_coordinator_cost_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 5);

	for (int cls = 0; cls < REQUEST_CLASS_COUNT; cls++)
	{
		CoordinatorCost c;
		Datum		values[5];
		bool		nulls[5] = {false};

		coordinator_cost_get((RequestClass) cls, &c);
		values[0] = CStringGetTextDatum(request_class_name((RequestClass) cls));
		values[1] = Float8GetDatum(c.route_us);
		values[2] = Int64GetDatum(c.route_samples);
		values[3] = Float8GetDatum(c.local_us);
		values[4] = Int64GetDatum(c.local_samples);
		nulls[1] = c.route_samples == 0;
		nulls[3] = c.local_samples == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
