/*-------------------------------------------------------------------------
 *
 * load_signal.h
 *	  The load signal of a node in [0,1], computed from one sample
 *	  (docs/monitoring.md, "The load signal").
 *
 *	  load_cpu		instance CPU share of the host (host CPU when unknown)
 *	  load_queue	min(1, active / (SIGNAL_BACKENDS_PER_CORE * cores)), active =
 *					max(active backends now, average active over the interval)
 *	  load_pressure max of the cpu, io and memory "some" stall fractions
 *	  load_latency	min(1, max(0, mean latency / baseline - 1) / SIGNAL_LATENCY_SPAN)
 *	  load			weighted mean of the components present, weights
 *					0.40, 0.30, 0.15, 0.15 (renormalised over the present ones)
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_LOAD_SIGNAL_H
#define FORESIGHT_LOAD_SIGNAL_H

#include "stats/history.h"

#define SIGNAL_WEIGHT_CPU			0.40
#define SIGNAL_WEIGHT_QUEUE			0.30
#define SIGNAL_WEIGHT_PRESSURE		0.15
#define SIGNAL_WEIGHT_LATENCY		0.15

/* active backends per core that count as a full queue */
#define SIGNAL_BACKENDS_PER_CORE	2.0
/* cores assumed when the node does not say (no extension there) */
#define SIGNAL_DEFAULT_CORES		4
/* latency at (1 + SPAN) x the baseline counts as full inflation */
#define SIGNAL_LATENCY_SPAN			3.0

/* Fill load and load_* of a sample whose other fields are set. */
extern void signal_compute(MetricSample *sample);

#endif							/* FORESIGHT_LOAD_SIGNAL_H */
