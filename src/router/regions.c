/*-------------------------------------------------------------------------
 *
 * regions.c
 *	  Which region a read goes to (see regions.h).
 *
 * Candidates in this coordinator's region (foresight.local_region; the
 * coordinator itself is in it) are preferred while one of them has room:
 * a predicted load of the node (all classes: a neighbour's load is the
 * node's, not the class's) at most foresight.spill_threshold.  The scores then
 * choose among those.  When none has room, or the local region has no
 * candidate left (down, quarantined), the read goes to the candidate of
 * another region expected to answer soonest:
 *
 *	 round trip + service time / (1 - predicted load)
 *
 * where the round trip is the monitor's measurement (monitor/round_trip.c;
 * 0 for the coordinator) and the service time is the class's fastest
 * recent answer among the candidates less that node's round trip: what a
 * read of the class costs a node at rest.  The round trip counts once: a
 * read on a node's cached connection is one exchange (the query out, its
 * rows streamed back; opening the connection or preparing a statement
 * there the first time adds a few, not counted).  So the network term
 * weighs heavily on a point lookup (a service time of a fraction of a
 * millisecond against round trips of tens) and hardly at all on a long
 * aggregate (hundreds of milliseconds of service, which a loaded node
 * stretches by 1 / (1 - load)): a point lookup goes to the nearest region
 * with room, a long aggregate to whichever node is least loaded however
 * far, and reads come back as soon as the local region has room again.
 * The decision log's reason gives the expected time, the round trip and
 * the service time, and when a nearer node was passed over, what it would
 * have taken.  With every node in one region nothing changes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "monitor/round_trip.h"
#include "router/regions.h"

#define REGIONS_MIN_SPARE 0.05

double		foresight_spill_threshold = 0.8;

void
regions_define_gucs(void)
{
	DefineCustomRealVariable("foresight.spill_threshold",
							 "Predicted load above which reads leave this coordinator's region.",
							 "While a node of foresight.local_region is predicted at or below it, the predictive policy keeps reads in that region; above it, a read goes to the node expected to answer soonest, round trip included.",
							 &foresight_spill_threshold,
							 0.8, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

/* the measured round trip to a candidate in microseconds; -1 if unknown */
double
regions_round_trip_us(const RouteCandidate *c)
{
	RoundTrip	rt;

	if (c->is_local)
		return 0.0;
	if (!round_trip_get(c->slot, c->node_id, &rt))
		return -1.0;
	return rt.smoothed_ms * 1000.0;
}

int
regions_choose(const PredictiveCandidate *pc, const RouteCandidate *cands,
			   int n, int chosen, RouteDecision *d)
{
	bool		other_region = false;
	int			best_local = -1;
	double		local_load = 2.0;
	double		rt[ROUTE_MAX_CANDIDATES + 1];
	double		service_us = -1.0;
	int			soonest = -1;
	double		soonest_us = 0.0;
	int			nearest = -1;
	double		nearest_us = 0.0;
	int			len;

	for (int i = 0; i < n; i++)
		if (!cands[i].in_local_region)
			other_region = true;
	if (!other_region)
		return chosen;			/* one region: the scores alone */

	/* the local region while one of its candidates has room */
	for (int i = 0; i < n; i++)
	{
		if (!cands[i].in_local_region)
			continue;
		local_load = Min(local_load, pc[i].node_load);
		if (pc[i].node_load <= foresight_spill_threshold &&
			(best_local < 0 || pc[i].score > pc[best_local].score))
			best_local = i;
	}
	if (best_local >= 0)
		return cands[chosen].in_local_region &&
			pc[chosen].node_load <= foresight_spill_threshold ? chosen : best_local;

	/*
	 * spill: the candidate expected to answer soonest, distance included.
	 * The service time is from warm answers only: a cold one (a node
	 * connection's first reads, predictive_score.c) includes the
	 * connection's handshake, several round trips that are distance, not
	 * service.
	 */
	for (int i = 0; i < n; i++)
	{
		rt[i] = regions_round_trip_us(&cands[i]);
		if (pc[i].answer_us > 0.0 && !pc[i].answer_cold && rt[i] >= 0.0)
		{
			double		s = Max(0.0, pc[i].answer_us - rt[i]);

			if (service_us < 0.0 || s < service_us)
				service_us = s;
		}
	}
	if (service_us < 0.0)
		service_us = 0.0;		/* nothing answered lately: distance decides */
	for (int i = 0; i < n; i++)
	{
		double		t;

		if (rt[i] < 0.0 || (cands[i].in_local_region && local_load <= 1.0))
			continue;			/* not measured yet; or the full region it leaves */
		t = rt[i] + service_us / Max(REGIONS_MIN_SPARE, 1.0 - Max(pc[i].node_load, pc[i].predicted_load));
		if (soonest < 0 || t < soonest_us)
		{
			soonest = i;
			soonest_us = t;
		}
		if (nearest < 0 || rt[i] < rt[nearest])
		{
			nearest = i;
			nearest_us = t;
		}
	}
	if (soonest < 0)
		return chosen;			/* no other region measured yet: the scores */
	if (local_load <= 1.0)
		len = snprintf(d->reason, sizeof(d->reason),
					   "spill-over: %s at load %.2f > %.2f; ",
					   foresight_local_region, local_load, foresight_spill_threshold);
	else
		len = snprintf(d->reason, sizeof(d->reason),
					   "region %s has no candidate; ", foresight_local_region);
	len = Min(len, (int) sizeof(d->reason) - 1);

	/*
	 * Then the choice, and why: the service time beside the round trip;
	 * when a nearer node was passed over, that the service time outweighs
	 * the distance (a long aggregate), and what the nearer node would take.
	 */
	if (nearest != soonest && rt[nearest] < rt[soonest])
		snprintf(d->reason + len, sizeof(d->reason) - len,
				 "%s expected in %.1f ms (round trip %.1f); service %.1f ms outweighs the distance: nearer %s expected in %.1f ms",
				 cands[soonest].name, soonest_us / 1000.0, rt[soonest] / 1000.0,
				 service_us / 1000.0, cands[nearest].name, nearest_us / 1000.0);
	else
		snprintf(d->reason + len, sizeof(d->reason) - len,
				 "%s expected in %.1f ms (round trip %.1f); service %.1f ms",
				 cands[soonest].name, soonest_us / 1000.0, rt[soonest] / 1000.0,
				 service_us / 1000.0);
	return soonest;
}
