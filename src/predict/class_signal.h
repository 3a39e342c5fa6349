/*-------------------------------------------------------------------------
 *
 * class_signal.h
 *	  The load a request class sees on a node, from the node's load signal
 *	  and the class's latency inflation over what it costs on the fastest
 *	  node now in use.
 *
 *	  reference  = min(own baseline, lowest baseline of the class among the
 *				   nodes that ran it in the last CLASS_PEER_MAX_AGE_S s)
 *	  pressure   = clamp((p95 - reference) / (3 * reference + CLASS_SLACK_US), 0, 1)
 *	  class load = node load + (1 - node load) * pressure
 *
 * p95 = the class's p95 latency on the node this interval.  A class's load
 * is never below the node's; its latency adds to it only when the p95 is
 * well above the reference, both relatively (3x) and absolutely
 * (CLASS_SLACK_US): a point query going from 0.1 to 0.4 ms is not an
 * overloaded node.
 *
 * The baseline is an exponentially weighted mean of the class's p95 that
 * learns only from intervals whose p95 is below twice it, so that an overload
 * does not become the new normal.  A node slow for a long time still creeps
 * its own baseline up, hence the peers' baselines as the reference.
 *
 * In an interval without a query of the class, the class load is the node
 * load (once the class has run there): no evidence of slowness, so a node
 * avoided for a slow class is tried again as its forecast falls back.
 * State lives in the monitor's memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CLASS_SIGNAL_H
#define FORESIGHT_CLASS_SIGNAL_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "stats/latency.h"

#define CLASS_SLACK_US			50000.0 /* absolute part of the saturation, 50 ms */
#define CLASS_BASELINE_ALPHA	0.02
/* a node's baseline is a reference for its peers while this fresh */
#define CLASS_PEER_MAX_AGE_S	60

/*
 * Per-class load of one node for the interval ending at "at".  present[c]
 * is false when class c has never run there (its value is then unset).
 */
extern void class_signal_compute(int slot, int32 node_id, double node_signal,
								 const LatencyInterval *lat, TimestampTz at,
								 double load[REQUEST_CLASS_COUNT],
								 bool present[REQUEST_CLASS_COUNT]);

#endif							/* FORESIGHT_CLASS_SIGNAL_H */
