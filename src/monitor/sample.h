/*-------------------------------------------------------------------------
 *
 * sample.h
 *	  From two consecutive snapshots of a node to one history sample:
 *	  rates, utilisations, counter-reset detection, the coordinator-side
 *	  latencies of the interval and the load signal.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SAMPLE_H
#define FORESIGHT_SAMPLE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "monitor/snapshot_codec.h"
#include "stats/history.h"
#include "stats/latency.h"

/* What the monitor remembers of a node between two samples. */
typedef struct SampleState
{
	int32		node_id;
	bool		have_prev;
	NodeSnapshot prev;			/* the previous good snapshot */
	TimestampTz prev_at;		/* when it was taken (coordinator clock) */
	double		lat_baseline_us;	/* EWMA of the interval mean latency; 0 = none */
} SampleState;

/* Forget everything (new node in the slot). */
extern void sample_state_reset(SampleState *state, int32 node_id);

/*
 * Build a sample from snapshot cur taken at now (coordinator clock), the
 * interval's latencies (NULL when none are available) and state, then
 * remember cur in state.
 */
extern void sample_build(SampleState *state, const NodeSnapshot *cur,
						 SampleSource source, TimestampTz now,
						 const LatencyInterval *latency, MetricSample *out);

#endif							/* FORESIGHT_SAMPLE_H */
