/*-------------------------------------------------------------------------
 *
 * sample.c
 *	  Derived values of a sample: rates and utilisations from the deltas
 *	  between two snapshots of a node, counter resets, the coordinator-side
 *	  latencies and the load signal.  Computed once per sample, here.
 *
 * Rates use the node's own clock (collected_at_us of both snapshots) when
 * it is present, else the coordinator's.  Counter reset: the server start
 * time changed, or a cumulative counter went down (pg_stat_reset, stats
 * lost in a crash, a host reboot): that sample gets no rates and says
 * counters_reset; the next one has rates again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "monitor/sample.h"
#include "monitor/load_signal.h"

/* weight of the newest interval in the latency baseline (about 20 samples) */
#define LATENCY_BASELINE_ALPHA 0.05

/* Unix epoch microseconds to TimestampTz */
#define UNIX_US_TO_TIMESTAMPTZ(us) \
	((TimestampTz) (us) - (TimestampTz) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

void
sample_state_reset(SampleState *state, int32 node_id)
{
	memset(state, 0, sizeof(SampleState));
	state->node_id = node_id;
	state->have_prev = false;
}

static double
clamp01(double v)
{
	return v < 0 ? 0 : (v > 1 ? 1 : v);
}

/* A counter went down between prev and cur (both present)? */
#define DECREASED(field) \
	(prev->has_##field && cur->has_##field && cur->field < prev->field)

#define DELTA(field) ((double) (cur->field - prev->field))
#define BOTH(field) (prev->has_##field && cur->has_##field)

static bool
counters_reset(const NodeSnapshot *prev, const NodeSnapshot *cur)
{
	if (prev->has_server_start_us && cur->has_server_start_us &&
		prev->server_start_us != cur->server_start_us)
		return true;
	return DECREASED(cpu_user) || DECREASED(cpu_system) || DECREASED(cpu_idle) ||
		DECREASED(disk_reads) || DECREASED(disk_writes) || DECREASED(disk_io_ticks_ms) ||
		DECREASED(xact_commit) || DECREASED(xact_rollback) || DECREASED(blks_read) ||
		DECREASED(blks_hit) || DECREASED(tup_returned) || DECREASED(tup_fetched) ||
		DECREASED(active_time_us) || DECREASED(idle_in_transaction_time_us) ||
		DECREASED(psi_cpu_some_total_us) || DECREASED(psi_io_some_total_us) ||
		DECREASED(psi_memory_some_total_us);
}

/* stall fraction of one PSI resource over the interval */
static float4
pressure_fraction(bool has_prev_total, uint64 prev_total, bool has_total, uint64 total,
				  bool has_avg10, double avg10, double interval_s, bool rates)
{
	if (rates && has_prev_total && has_total && interval_s > 0)
		return clamp01((double) (total - prev_total) / (interval_s * 1e6));
	if (has_avg10)
		return clamp01(avg10 / 100.0);
	return NAN;
}

static void
gauges(const NodeSnapshot *cur, MetricSample *s)
{
	if (cur->has_collected_at_us)
		s->node_time = UNIX_US_TO_TIMESTAMPTZ(cur->collected_at_us);
	if (cur->has_server_start_us)
		s->server_start = UNIX_US_TO_TIMESTAMPTZ(cur->server_start_us);
	if (cur->has_cpu_count)
		s->cpu_count = (int32) cur->cpu_count;
	if (cur->has_cpu_limit_cores)
		s->cpu_limit = cur->cpu_limit_cores;
	if (cur->has_load1)
		s->load1 = cur->load1;
	if (cur->has_load5)
		s->load5 = cur->load5;
	if (cur->has_load15)
		s->load15 = cur->load15;
	if (cur->has_mem_total_kb)
		s->mem_total_kb = (int64) Min(cur->mem_total_kb, (uint64) PG_INT64_MAX);
	if (cur->has_mem_available_kb)
		s->mem_available_kb = (int64) Min(cur->mem_available_kb, (uint64) PG_INT64_MAX);
	if (cur->has_mem_dirty_kb)
		s->mem_dirty_kb = (int64) Min(cur->mem_dirty_kb, (uint64) PG_INT64_MAX);

#define GAUGE32(field) \
	if (cur->has_##field) s->field = (int32) Min(cur->field, (uint32) PG_INT32_MAX)
	GAUGE32(backends);
	GAUGE32(backends_active);
	GAUGE32(backends_idle_in_transaction);
	GAUGE32(waiting);
	GAUGE32(waiting_lock);
	GAUGE32(waiting_lwlock);
	GAUGE32(waiting_io);
	GAUGE32(waiting_client);
	GAUGE32(waiting_ipc);
	GAUGE32(waiting_other);
	GAUGE32(connections);
	GAUGE32(max_connections);
#undef GAUGE32

	if (cur->has_in_recovery)
		s->in_recovery = cur->in_recovery ? 1 : 0;
	if (cur->has_wal_lsn)
		s->wal_lsn = (XLogRecPtr) cur->wal_lsn;
	if (cur->has_replay_lag_us)
		s->replay_lag_ms = Max(cur->replay_lag_us, 0) / 1000.0;
}

static void
rates(const NodeSnapshot *prev, const NodeSnapshot *cur, double dt, MetricSample *s)
{
	/* host CPU */
	if (BOTH(cpu_user) && BOTH(cpu_nice) && BOTH(cpu_system) && BOTH(cpu_idle))
	{
		double		user = DELTA(cpu_user) + DELTA(cpu_nice);
		double		system = DELTA(cpu_system);
		double		idle = DELTA(cpu_idle);
		double		iowait = BOTH(cpu_iowait) ? DELTA(cpu_iowait) : 0;
		double		irq = (BOTH(cpu_irq) ? DELTA(cpu_irq) : 0) +
			(BOTH(cpu_softirq) ? DELTA(cpu_softirq) : 0);
		double		steal = BOTH(cpu_steal) ? DELTA(cpu_steal) : 0;
		double		total = user + system + idle + iowait + irq + steal;

		if (total > 0)
		{
			s->cpu_util = clamp01(1.0 - (idle + iowait) / total);
			s->cpu_user = clamp01(user / total);
			s->cpu_system = clamp01((system + irq) / total);
			if (BOTH(cpu_iowait))
				s->cpu_iowait = clamp01(iowait / total);
			if (BOTH(cpu_steal))
				s->cpu_steal = clamp01(steal / total);
		}
	}

	/* this instance's CPU share; a child between exit and reaping may make it dip */
	if (BOTH(instance_cpu_ticks) && cur->has_clock_ticks && cur->has_cpu_count)
	{
		double		ticks = cur->instance_cpu_ticks >= prev->instance_cpu_ticks ?
			DELTA(instance_cpu_ticks) : 0;

		s->instance_cpu = clamp01(ticks / (dt * cur->clock_ticks * cur->cpu_count));
	}
	/*
	 * The share of the interval's enforcement periods in which the limit
	 * throttled the group.  The kernel counts only the periods in which the
	 * group ran (nr_periods): an idle server whose one busy process (the
	 * trainer's slice of 10 ms, over a 4 ms quota) runs into the quota in a
	 * few periods a second was throttled in half of those, and read as out
	 * of CPU as a saturated one.  So the interval's own periods count, from
	 * its length and the period; a node that does not report the period
	 * (an older build) is measured on its active periods.
	 */
	if (BOTH(cpu_periods) && BOTH(cpu_throttled_periods) &&
		cur->cpu_periods >= prev->cpu_periods &&
		cur->cpu_throttled_periods >= prev->cpu_throttled_periods)
	{
		double		periods = DELTA(cpu_periods);

		if (cur->has_cpu_period_us && cur->cpu_period_us > 0)
			periods = Max(periods, dt * 1e6 / (double) cur->cpu_period_us);
		s->cpu_throttled = periods > 0 ?
			clamp01(DELTA(cpu_throttled_periods) / periods) : 0.0;
	}

	if (BOTH(disk_reads) && BOTH(disk_writes))
	{
		s->disk_reads_per_s = DELTA(disk_reads) / dt;
		s->disk_writes_per_s = DELTA(disk_writes) / dt;
	}
	if (BOTH(disk_sectors_read) && BOTH(disk_sectors_written))
	{
		s->disk_read_kb_per_s = DELTA(disk_sectors_read) / 2.0 / dt;
		s->disk_write_kb_per_s = DELTA(disk_sectors_written) / 2.0 / dt;
	}
	if (BOTH(disk_io_ticks_ms) && cur->has_disk_count && cur->disk_count > 0)
		s->disk_busy = clamp01(DELTA(disk_io_ticks_ms) / (dt * 1000.0 * cur->disk_count));

	if (BOTH(xact_commit))
		s->commits_per_s = DELTA(xact_commit) / dt;
	if (BOTH(xact_rollback))
		s->rollbacks_per_s = DELTA(xact_rollback) / dt;
	if (BOTH(blks_read))
		s->blks_read_per_s = DELTA(blks_read) / dt;
	if (BOTH(blks_hit))
		s->blks_hit_per_s = DELTA(blks_hit) / dt;
	if (BOTH(tup_returned))
		s->tup_returned_per_s = DELTA(tup_returned) / dt;
	if (BOTH(tup_fetched))
		s->tup_fetched_per_s = DELTA(tup_fetched) / dt;
	if (BOTH(active_time_us))
		s->backends_active_avg = DELTA(active_time_us) / (dt * 1e6);
	if (BOTH(idle_in_transaction_time_us))
		s->backends_idle_in_transaction_avg = DELTA(idle_in_transaction_time_us) / (dt * 1e6);
}

static void
latencies(SampleState *state, const LatencyInterval *lat, MetricSample *s)
{
	int32	   *counts[REQUEST_CLASS_COUNT] = {
		&s->lat_count_point, &s->lat_count_small, &s->lat_count_medium, &s->lat_count_large};
	float4	   *means[REQUEST_CLASS_COUNT] = {
		&s->lat_mean_us_point, &s->lat_mean_us_small, &s->lat_mean_us_medium, &s->lat_mean_us_large};
	float4	   *p95s[REQUEST_CLASS_COUNT] = {
		&s->lat_p95_us_point, &s->lat_p95_us_small, &s->lat_p95_us_medium, &s->lat_p95_us_large};
	int64		errors = 0;

	if (state->lat_baseline_us > 0)
		s->lat_baseline_us = state->lat_baseline_us;
	if (lat == NULL)
		return;

	for (int c = 0; c < REQUEST_CLASS_COUNT; c++)
	{
		*counts[c] = (int32) Min(lat->count[c], PG_INT32_MAX);
		errors += lat->errors[c];
		if (lat->count[c] > 0)
		{
			*means[c] = lat->mean_us[c];
			*p95s[c] = lat->p95_us[c];
		}
	}
	s->lat_count = (int32) Min(lat->total_count, PG_INT32_MAX);
	s->lat_errors = (int32) Min(errors, PG_INT32_MAX);
	if (lat->total_count > 0 && isfinite(lat->total_mean_us) && lat->total_mean_us >= 0)
	{
		s->lat_mean_us = lat->total_mean_us;
		s->lat_p95_us = lat->total_p95_us;
		/* the baseline moves after this sample was judged against it */
		if (state->lat_baseline_us <= 0)
			state->lat_baseline_us = lat->total_mean_us;
		else
			state->lat_baseline_us += LATENCY_BASELINE_ALPHA *
				(lat->total_mean_us - state->lat_baseline_us);
	}
}

void
sample_build(SampleState *state, const NodeSnapshot *cur, SampleSource source,
			 TimestampTz now, const LatencyInterval *latency, MetricSample *out)
{
	const NodeSnapshot *prev = &state->prev;
	double		dt = 0;

	history_sample_init(out);
	out->sampled_at = now;
	out->source = (int8) source;
	gauges(cur, out);

	if (state->have_prev)
	{
		if (prev->has_collected_at_us && cur->has_collected_at_us)
			dt = (cur->collected_at_us - prev->collected_at_us) / 1e6;
		else
			dt = (now - state->prev_at) / 1e6;

		if (counters_reset(prev, cur))
			out->counters_reset = 1;
		else if (dt > 0.001)
		{
			out->counters_reset = 0;
			out->interval_s = dt;
			rates(prev, cur, dt, out);
		}
	}

	/* stall fractions: from the totals when there are rates, else avg10 */
	out->psi_cpu = pressure_fraction(prev->has_psi_cpu_some_total_us, prev->psi_cpu_some_total_us,
									 cur->has_psi_cpu_some_total_us, cur->psi_cpu_some_total_us,
									 cur->has_psi_cpu_some_avg10, cur->psi_cpu_some_avg10,
									 dt, out->interval_s > 0);
	out->psi_io = pressure_fraction(prev->has_psi_io_some_total_us, prev->psi_io_some_total_us,
									cur->has_psi_io_some_total_us, cur->psi_io_some_total_us,
									cur->has_psi_io_some_avg10, cur->psi_io_some_avg10,
									dt, out->interval_s > 0);
	out->psi_memory = pressure_fraction(prev->has_psi_memory_some_total_us, prev->psi_memory_some_total_us,
										cur->has_psi_memory_some_total_us, cur->psi_memory_some_total_us,
										cur->has_psi_memory_some_avg10, cur->psi_memory_some_avg10,
										dt, out->interval_s > 0);

	latencies(state, latency, out);
	signal_compute(out);

	state->prev = *cur;
	state->prev_at = now;
	state->have_prev = true;
}
