/*-------------------------------------------------------------------------
 *
 * latency.h
 *	  Latencies and counts of the queries this coordinator routes, per node
 *	  and request class, in shared memory.
 *
 * Three views of the same observations:
 *	- cumulative counters and a histogram per node (foresight.routing_stats);
 *	- per sampling interval: the monitor calls latency_take_interval() once
 *	  per sample to get mean, p95 and count per class since its last call
 *	  (the coordinator-side signal and training data of the models);
 *	- live: latency_recent(), a decaying mean of answer times per class
 *	  that the predictive policy reads at every decision (its speed).
 *
 * Request classes are buckets of the plan's total cost (documented in
 * docs/reference.md); REQUEST_CLASS_COUNT of them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_LATENCY_H
#define FORESIGHT_LATENCY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "stats/request_class.h"

/* Per class, for one node over one sampling interval. */
typedef struct LatencyInterval
{
	int64		count[REQUEST_CLASS_COUNT];
	int64		errors[REQUEST_CLASS_COUNT];
	double		mean_us[REQUEST_CLASS_COUNT];	/* 0 when count is 0 */
	double		p95_us[REQUEST_CLASS_COUNT];
	int64		total_count;	/* all classes */
	double		total_mean_us;
	double		total_p95_us;
} LatencyInterval;

extern void latency_shmem_request(void);
extern void latency_shmem_init(void);

/*
 * Record one finished routed query (any backend): elapsed_us from the start
 * of its execution; answer_us the time to count in the node's recent answer
 * time, or -1 to leave that alone (a failed or retried query).  A cold
 * answer (one among a node connection's first REMOTE_COLD_SENDS, or that
 * prepared its statement there) counts in the recent cold answer time
 * instead.
 */
extern void latency_record(int slot, int32 node_id, RequestClass cls,
						   int64 elapsed_us, int64 answer_us, bool answer_cold,
						   bool error, bool retried);

/*
 * A query this coordinator stopped waiting for after waited_us, because a
 * hedge on another node answered first (router/hedge.c): its answer time
 * there is at least waited_us, which counts in the interval's latencies
 * and the recent answer time, so that a node whose slow answers are
 * hedged away does not look fast.  Cold (sent among a node connection's
 * first few, as latency_record's answer_cold) counts among the cold
 * answers.  Not a routed query of the node's totals: the query ran
 * elsewhere.
 */
extern void latency_record_abandoned(int slot, int32 node_id, RequestClass cls,
									 int64 waited_us, bool cold);

/*
 * The monitor: the observations of a slot since the previous call (which
 * resets the interval).  Observations of another node_id are discarded.
 */
extern void latency_take_interval(int slot, int32 node_id, LatencyInterval *out);

/*
 * Recent answer time of a class on a slot at time now: the mean of its
 * queries' answer times, each weighed by exp(-age / tau), so that the
 * queries of about the last tau seconds count, every one alike; and the
 * evidence behind it, the sum of those weights (about the number of
 * queries in the last tau seconds; it decays while none comes).  False
 * when no query of the class has been answered there (for this node_id).
 * In *cold (unless NULL), the same of its cold answers alone: both are read
 * under one acquisition of the slot's lock, as a decision reads both for
 * every candidate.  A mean with no answer behind it is 0, as its evidence.
 */
#define LATENCY_RECENT_TAU_S 0.5

typedef struct LatencyRecent
{
	double		mean_us;
	double		evidence;
} LatencyRecent;

extern bool latency_recent(int slot, int32 node_id, RequestClass cls, TimestampTz now,
						   LatencyRecent *warm, LatencyRecent *cold);

/* Cumulative totals of a slot over all classes (foresight.routing_stats). */
typedef struct LatencyTotals
{
	int64		count;
	int64		errors;
	int64		retries;
	double		mean_us;		/* 0 when count is 0 */
	double		p95_us;
} LatencyTotals;

/* Zeroes when the slot's observations belong to another node_id. */
extern void latency_cumulative(int slot, int32 node_id, LatencyTotals *out);

/* Forget the cumulative counters of every slot (foresight.reset_routing_stats). */
extern void latency_reset_all(void);

/* In-flight routed queries per slot (least_connections, scoring). */
extern void latency_inflight_begin(int slot);
extern void latency_inflight_end(int slot);
extern uint32 latency_inflight(int slot);

#endif							/* FORESIGHT_LATENCY_H */
