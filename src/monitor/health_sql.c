/*-------------------------------------------------------------------------
 *
 * health_sql.c
 *	  foresight.node_health_list(): the monitor's view of every node (up or
 *	  down, or up but not usable and why, last poll and success, failures,
 *	  last error, replay LSN), behind
 *	  the view foresight.node_health and the extra columns of
 *	  foresight.nodes; foresight.node_round_trip_list(): each node's
 *	  measured round trip (round_trip.c), behind foresight.nodes'
 *	  round_trip_ms and foresight.regions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "monitor/node_health.h"
#include "monitor/round_trip.h"
#include "registry/registry.h"

PG_FUNCTION_INFO_V1(foresight_node_health_list);
PG_FUNCTION_INFO_V1(foresight_node_round_trip_list);

static const char *
status_name(const ForesightNode *node, const NodeHealth *h)
{
	if (node->state == NODE_STATE_DISABLED)
		return "disabled";
	/* on the primary its own row is the node "local": not polled */
	if (registry_row_is_this_primary(node))
		return node_health_verdict_text(NODE_VERDICT_COORDINATOR);
	switch (h->status)
	{
		case NODE_HEALTH_UP:
			/* up, but not a node routing may use: say why */
			if (h->verdict != NODE_VERDICT_USABLE)
				return node_health_verdict_text(h->verdict);
			return "up";
		case NODE_HEALTH_DOWN:
			return "down";
		default:
			return "unknown";
	}
}

Datum
foresight_node_health_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForesightNode *nodes;
	int			n;

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 11);

	nodes = registry_snapshot_palloc(&n);
	for (int i = 0; i < n; i++)
	{
		NodeHealth	h;
		Datum		values[11];
		bool		nulls[11] = {false};

		node_health_get(nodes[i].slot, nodes[i].node_id, &h);
		values[0] = Int32GetDatum(nodes[i].node_id);
		values[1] = CStringGetTextDatum(nodes[i].name);
		values[2] = CStringGetTextDatum(status_name(&nodes[i], &h));
		nulls[3] = h.last_poll == 0;
		values[3] = TimestampTzGetDatum(h.last_poll);
		nulls[4] = h.last_success == 0;
		values[4] = TimestampTzGetDatum(h.last_success);
		values[5] = Int32GetDatum(h.consecutive_failures);
		values[6] = Int64GetDatum(h.polls);
		values[7] = Int64GetDatum(h.poll_errors);
		nulls[8] = h.last_error[0] == '\0';
		values[8] = CStringGetTextDatum(h.last_error);
		nulls[9] = h.replay_lsn == InvalidXLogRecPtr;
		values[9] = LSNGetDatum(h.replay_lsn);
		nulls[10] = h.replay_lsn_at == 0;
		values[10] = TimestampTzGetDatum(h.replay_lsn_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * One row per node: its smoothed round trip and the median and 95th
 * percentile of the last measurements, in milliseconds; the coordinator
 * itself 0; NULL for a node not measured yet.
 */
Datum
foresight_node_round_trip_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForesightNode *nodes;
	int			n;

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 5);

	nodes = registry_snapshot_palloc(&n);
	for (int i = 0; i < n; i++)
	{
		RoundTrip	rt;
		Datum		values[5];
		bool		nulls[5] = {false};
		bool		known;

		if (nodes[i].slot == FORESIGHT_LOCAL_SLOT)
		{
			memset(&rt, 0, sizeof(rt));
			known = true;
		}
		else
			known = round_trip_get(nodes[i].slot, nodes[i].node_id, &rt);
		values[0] = Int32GetDatum(nodes[i].node_id);
		values[1] = Float8GetDatum(rt.smoothed_ms);
		values[2] = Float8GetDatum(rt.p50_ms);
		values[3] = Float8GetDatum(rt.p95_ms);
		values[4] = Int64GetDatum(rt.samples);
		nulls[1] = nulls[2] = nulls[3] = !known;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
