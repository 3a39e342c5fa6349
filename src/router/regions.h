/*-------------------------------------------------------------------------
 *
 * regions.h
 *	  The predictive policy across regions: the local region first, reads
 *	  spilled to the region that answers soonest when the local one has no
 *	  room (foresight.spill_threshold; docs/routing.md#regions).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_REGIONS_H
#define FORESIGHT_REGIONS_H

#include "router/policy.h"
#include "router/predictive_score.h"

extern double foresight_spill_threshold;

extern void regions_define_gucs(void);
/* the monitor's round trip to a candidate in microseconds (0 here); -1 if unknown */
extern double regions_round_trip_us(const RouteCandidate *c);
extern int	regions_choose(const PredictiveCandidate *pc, const RouteCandidate *cands,
						   int n, int chosen, RouteDecision *d);

#endif							/* FORESIGHT_REGIONS_H */
