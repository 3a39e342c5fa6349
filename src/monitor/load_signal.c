/*-------------------------------------------------------------------------
 *
 * load_signal.c
 *	  The load signal of a node and its components (see signal.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "monitor/load_signal.h"

static double
clamp01(double v)
{
	if (v < 0)
		return 0;
	if (v > 1)
		return 1;
	return v;
}

void
signal_compute(MetricSample *s)
{
	double		sum = 0;
	double		weights = 0;
	double		pressure = -1;

	s->load = s->load_cpu = s->load_queue = s->load_pressure = s->load_latency = NAN;

	/* CPU: this instance's share when known, so co-located servers differ */
	if (!isnan(s->instance_cpu))
		s->load_cpu = clamp01(s->instance_cpu);
	else if (!isnan(s->cpu_util))
		s->load_cpu = clamp01(s->cpu_util);

	/* queue: active backends (waiting ones included) per core */
	if (s->backends_active >= 0 || !isnan(s->backends_active_avg))
	{
		int			cores = s->cpu_count > 0 ? s->cpu_count : SIGNAL_DEFAULT_CORES;
		double		active = Max(s->backends_active, 0);

		/* the interval's average catches short queries an instant count misses */
		if (!isnan(s->backends_active_avg))
			active = Max(active, s->backends_active_avg);
		s->load_queue = clamp01(active / (SIGNAL_BACKENDS_PER_CORE * cores));
	}

	/* pressure: the worst of cpu, io and memory */
	if (!isnan(s->psi_cpu))
		pressure = Max(pressure, s->psi_cpu);
	if (!isnan(s->psi_io))
		pressure = Max(pressure, s->psi_io);
	if (!isnan(s->psi_memory))
		pressure = Max(pressure, s->psi_memory);
	if (pressure >= 0)
		s->load_pressure = clamp01(pressure);

	/* latency inflation against the node's own recent baseline */
	if (s->lat_count > 0 && !isnan(s->lat_mean_us) &&
		!isnan(s->lat_baseline_us) && s->lat_baseline_us > 0)
		s->load_latency = clamp01((s->lat_mean_us / s->lat_baseline_us - 1.0) / SIGNAL_LATENCY_SPAN);

	if (!isnan(s->load_cpu))
		sum += SIGNAL_WEIGHT_CPU * s->load_cpu, weights += SIGNAL_WEIGHT_CPU;
	if (!isnan(s->load_queue))
		sum += SIGNAL_WEIGHT_QUEUE * s->load_queue, weights += SIGNAL_WEIGHT_QUEUE;
	if (!isnan(s->load_pressure))
		sum += SIGNAL_WEIGHT_PRESSURE * s->load_pressure, weights += SIGNAL_WEIGHT_PRESSURE;
	if (!isnan(s->load_latency))
		sum += SIGNAL_WEIGHT_LATENCY * s->load_latency, weights += SIGNAL_WEIGHT_LATENCY;
	if (weights > 0)
		s->load = clamp01(sum / weights);
}
