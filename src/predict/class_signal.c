/*-------------------------------------------------------------------------
 *
 * class_signal.c
 *	  Per-class load from latency inflation (see class_signal.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "registry/registry.h"
#include "predict/class_signal.h"

typedef struct ClassBaseline
{
	int32		node_id;
	double		p95_us[REQUEST_CLASS_COUNT];	/* 0 = not known yet */
	TimestampTz fed_at[REQUEST_CLASS_COUNT];	/* last interval with the class */
} ClassBaseline;

static ClassBaseline *baselines = NULL;

/*
 * The lowest baseline of class c among the nodes that ran it within the
 * last CLASS_PEER_MAX_AGE_S seconds, this one included: what the class
 * costs on the fastest node now in use.  Positive once this node has a
 * baseline fed at "at".
 */
static double
fleet_baseline(int c, TimestampTz at)
{
	double		best = 0.0;

	for (int i = 0; i < registry_slot_count(); i++)
	{
		const ClassBaseline *b = &baselines[i];

		/* unused slots have no baseline */
		if (b->p95_us[c] <= 0.0 ||
			at - b->fed_at[c] > (TimestampTz) CLASS_PEER_MAX_AGE_S * USECS_PER_SEC)
			continue;
		if (best == 0.0 || b->p95_us[c] < best)
			best = b->p95_us[c];
	}
	return best;
}

void
class_signal_compute(int slot, int32 node_id, double node_signal,
					 const LatencyInterval *lat, TimestampTz at,
					 double load[REQUEST_CLASS_COUNT],
					 bool present[REQUEST_CLASS_COUNT])
{
	ClassBaseline *b;

	if (baselines == NULL)
		baselines = MemoryContextAllocZero(TopMemoryContext,
										   sizeof(ClassBaseline) * registry_slot_count());
	b = &baselines[slot];
	if (b->node_id != node_id)
	{
		memset(b, 0, sizeof(ClassBaseline));
		b->node_id = node_id;
	}

	for (int c = 0; c < REQUEST_CLASS_COUNT; c++)
	{
		double		p95 = lat->p95_us[c];
		double		reference;
		double		pressure;

		if (lat->count[c] <= 0 || p95 <= 0.0)
		{
			/*
			 * No query of the class here this interval: no evidence that it
			 * is slow, so once the class has run here its load is the node's.
			 * A node avoided for being slow is then tried again as its class
			 * forecast falls back.
			 */
			present[c] = b->p95_us[c] > 0.0;
			load[c] = node_signal;
			continue;
		}
		present[c] = true;
		if (b->p95_us[c] <= 0.0)
			b->p95_us[c] = p95;
		if (p95 < 2.0 * b->p95_us[c])
			b->p95_us[c] += CLASS_BASELINE_ALPHA * (p95 - b->p95_us[c]);
		b->fed_at[c] = at;
		/* this node was just fed, so the reference is at most its own baseline */
		reference = fleet_baseline(c, at);
		pressure = (p95 - reference) / (3.0 * reference + CLASS_SLACK_US);
		pressure = Min(Max(pressure, 0.0), 1.0);
		load[c] = node_signal + (1.0 - node_signal) * pressure;
	}
}
