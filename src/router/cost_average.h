/*-------------------------------------------------------------------------
 *
 * cost_average.h
 *	  A moving average of a cost that one-off samples cannot carry away:
 *	  what the coordinator's own cost rule compares (coordinator_cost.c).
 *
 * Warming up, the plain mean (for display) until COST_AVERAGE_WARM
 * samples give their median, the average's start; then exponential
 * smoothing, the plain mean's weight until it falls to
 * COST_AVERAGE_SMOOTHING, in which a sample counts for at most
 * COST_AVERAGE_OUTLIER times the average.  A one-off cost, a hundred times
 * a read's (a new session's cold caches, a statement's first planning),
 * then moves the average by a few percent, not several times over, while
 * a lasting change of the cost moves it by up to COST_AVERAGE_SMOOTHING
 * of the way a sample (upwards, by up to 5% of the average a sample).
 *
 * Plain C, no server headers: src/router/test/test_cost_average.c tests it
 * without the server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_COST_AVERAGE_H
#define FORESIGHT_COST_AVERAGE_H

#include <stdint.h>

#define COST_AVERAGE_WARM		8	/* samples before the average counts */
#define COST_AVERAGE_SMOOTHING	0.05	/* weight of a new sample once warm */
#define COST_AVERAGE_OUTLIER	2.0 /* a warm sample counts for at most this
									 * many times the average */

typedef struct CostAverage
{
	double		us;				/* the average */
	int64_t		samples;		/* how many were added */
	double		first[COST_AVERAGE_WARM];	/* the samples while warming up */
} CostAverage;

extern void cost_average_add(CostAverage *avg, double us);

/* does the average count yet (COST_AVERAGE_WARM samples)? */
static inline int
cost_average_warm(const CostAverage *avg)
{
	return avg->samples >= COST_AVERAGE_WARM;
}

#endif							/* FORESIGHT_COST_AVERAGE_H */
