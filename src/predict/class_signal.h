/*-------------------------------------------------------------------------
 *
 * class_signal.h
 *	  The load a request class sees on a node, from the node's load signal
 *	  and the class's latency inflation over its own baseline.
 *
 *	  pressure   = clamp((p95 - baseline) / (3 * baseline + CLASS_SLACK_US), 0, 1)
 *	  class load = node load + (1 - node load) * pressure
 *
 * p95 = the class's p95 latency on the node this interval.  A class's load
 * is never below the node's; its latency adds to it only when the p95 is
 * well above its own baseline, both relatively (3x) and absolutely
 * (CLASS_SLACK_US): a point query going from 0.1 to 0.4 ms is not an
 * overloaded node.
 *
 * The baseline is an exponentially weighted mean of the class's p95 that
 * learns only from intervals whose p95 is below twice it, so that an overload
 * does not become the new normal.  State lives in the monitor's memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CLASS_SIGNAL_H
#define FORESIGHT_CLASS_SIGNAL_H

#include "postgres.h"

#include "stats/latency.h"

#define CLASS_SLACK_US			50000.0 /* absolute part of the saturation, 50 ms */
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
