/*-------------------------------------------------------------------------
 *
 * class_signal.h
 *	  The load a request class sees on a node, from the node's load signal
 *	  and the class's latency inflation over its own baseline.
 *
 *	  inflation    = p95 latency of the class this interval / its baseline
 *	  latency_load = clamp((inflation - 1) / (CLASS_SATURATION - 1), 0, 1)
 *	  class load   = max(node load signal, latency_load)
 *
 * The baseline is an exponentially weighted mean of the class's p95 that
 * learns only from intervals with inflation below 2, so that an overload
 * does not become the new normal.  State lives in the monitor's memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CLASS_SIGNAL_H
#define FORESIGHT_CLASS_SIGNAL_H

#include "postgres.h"

#include "stats/latency.h"

#define CLASS_SATURATION		4.0		/* p95 at 4x baseline reads as fully loaded */
#define CLASS_BASELINE_ALPHA	0.02

/*
 * Per-class load of one node for one interval.  present[c] is false when
 * class c ran no query there in the interval (its value is then unset).
 */
extern void class_signal_compute(int slot, int32 node_id, double node_signal,
								 const LatencyInterval *lat,
								 double load[REQUEST_CLASS_COUNT],
								 bool present[REQUEST_CLASS_COUNT]);

#endif							/* FORESIGHT_CLASS_SIGNAL_H */
