/*-------------------------------------------------------------------------
 *
 * class_signal.c
 *	  Per-class load from latency inflation (see class_signal.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "nodes/registry.h"
#include "predict/class_signal.h"

typedef struct ClassBaseline
{
	int32		node_id;
	double		p95_us[REQUEST_CLASS_COUNT];	/* 0 = not known yet */
} ClassBaseline;

static ClassBaseline *baselines = NULL;

void
class_signal_compute(int slot, int32 node_id, double node_signal,
					 const LatencyInterval *lat,
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
		double		baseline;
		double		pressure;

		present[c] = lat->count[c] > 0 && p95 > 0.0;
		if (!present[c])
			continue;
		if (b->p95_us[c] <= 0.0)
			b->p95_us[c] = p95;
		baseline = b->p95_us[c];
		if (p95 < 2.0 * baseline)
			b->p95_us[c] += CLASS_BASELINE_ALPHA * (p95 - baseline);
		pressure = (p95 - baseline) / (3.0 * baseline + CLASS_SLACK_US);
		pressure = Min(Max(pressure, 0.0), 1.0);
		load[c] = node_signal + (1.0 - node_signal) * pressure;
	}
}
