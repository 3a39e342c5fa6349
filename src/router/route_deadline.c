/*-------------------------------------------------------------------------
 *
 * route_deadline.c
 *	  The response deadline of a routed query (see route_deadline.h).
 *
 * A routed query waits for its node's first answer at most its deadline:
 * foresight.response_deadline when set, otherwise derived from the
 * class's recent answer time on that node (stats/latency.c, about the last
 * half second of its queries), foresight.response_deadline_factor times
 * it, never less than foresight.response_deadline_min.  A node with no
 * answer of the class on record is judged by the coordinator's own recent
 * answer time for the class; with none either, the deadline is the factor
 * times the floor.  Past the deadline the remote layer gives the query up
 * (watch.c) and route_scan.c runs it elsewhere.
 *
 * Every wait on a node, before and after its first row, also ends when the
 * monitor marks the node down (route_node_down, the remote layer's
 * remote_node_down_hook).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"
#include "utils/timestamp.h"

#include "monitor/node_health.h"
#include "registry/registry.h"
#include "remote/watch.h"
#include "router/route_deadline.h"
#include "stats/latency.h"

int			foresight_response_deadline = 0;
double		foresight_response_deadline_factor = 10.0;
int			foresight_response_deadline_min = 5000;

/* the remote layer's down check: the monitor's verdict in shared memory */
static bool
route_node_down(int slot, int32 node_id)
{
	NodeHealth health;

	node_health_get(slot, node_id, &health);
	return health.node_id == node_id && health.status == NODE_HEALTH_DOWN;
}

void
route_deadline_define_gucs(void)
{
	DefineCustomIntVariable("foresight.response_deadline",
							"Longest a routed query waits for its node's first answer before it runs elsewhere.",
							"0 derives it from the class's recent answer times (see foresight.response_deadline_factor "
							"and foresight.response_deadline_min); -1 sets none (a node marked down still ends the wait).",
							&foresight_response_deadline,
							0, -1, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomRealVariable("foresight.response_deadline_factor",
							 "The derived response deadline: this many times the class's recent answer time on the node.",
							 NULL,
							 &foresight_response_deadline_factor,
							 10.0, 1.0, 1000000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.response_deadline_min",
							"Least derived response deadline.",
							NULL,
							&foresight_response_deadline_min,
							5000, 1, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	remote_node_down_hook = route_node_down;
}

int
route_deadline_ms(int slot, int32 node_id, RequestClass cls)
{
	LatencyRecent recent;
	double		ms;

	if (foresight_response_deadline != 0)
		return Max(foresight_response_deadline, 0);
	if (latency_recent(slot, node_id, cls, GetCurrentTimestamp(), &recent, NULL) ||
		latency_recent(FORESIGHT_LOCAL_SLOT, 0, cls, GetCurrentTimestamp(), &recent, NULL))
		ms = foresight_response_deadline_factor * recent.mean_us / 1000.0;
	else
		ms = foresight_response_deadline_factor * foresight_response_deadline_min;
	ms = Max(ms, (double) foresight_response_deadline_min);
	return (int) Min(ms, (double) INT_MAX);
}
