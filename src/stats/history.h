/*-------------------------------------------------------------------------
 *
 * history.h
 *	  Per-node history of metric samples: a fixed-size ring per registry
 *	  slot in shared memory, written by the monitor once per sample and read
 *	  by the views, the models and the persistence code.
 *
 * A sample holds derived values (rates, utilisations, the load signal and
 * its components), computed once by the monitor (monitor/sample.c,
 * monitor/load_signal.c).  Its fields are listed once, in HISTORY_SAMPLE_FIELDS;
 * the struct, the SQL output and the history file are all generated from
 * that list.  "Absent" is NaN for floats, -1 for counts, 0 for LSNs and
 * timestamps: the views show NULL.
 *
 * Memory: sizeof(MetricSample) * foresight.history_size bytes per slot
 * (foresight.max_nodes + 1 slots), see docs/monitoring.md.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_HISTORY_H
#define FORESIGHT_HISTORY_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"

/* how a sample was obtained */
typedef enum SampleSource
{
	SAMPLE_SOURCE_NONE = -1,
	SAMPLE_SOURCE_LOCAL = 1,	/* the coordinator, in-process */
	SAMPLE_SOURCE_EXTENSION = 2,	/* foresight.node_snapshot() on the node */
	SAMPLE_SOURCE_SQL = 3		/* plain SQL: PostgreSQL part only */
} SampleSource;

/* field kinds: C type, absent value, SQL type */
typedef enum SampleFieldKind
{
	SF_FLOAT,					/* float4, NaN; float8 in SQL */
	SF_INT32,					/* int32, -1; integer */
	SF_INT64,					/* int64, -1; bigint */
	SF_LSN,						/* XLogRecPtr, 0; pg_lsn */
	SF_TIME,					/* TimestampTz, 0; timestamptz */
	SF_BOOL,					/* int8, -1; boolean */
	SF_SOURCE					/* int8 SampleSource; text */
} SampleFieldKind;

#define SF_CTYPE_SF_FLOAT	float4
#define SF_CTYPE_SF_INT32	int32
#define SF_CTYPE_SF_INT64	int64
#define SF_CTYPE_SF_LSN		XLogRecPtr
#define SF_CTYPE_SF_TIME	TimestampTz
#define SF_CTYPE_SF_BOOL	int8
#define SF_CTYPE_SF_SOURCE	int8

/*
 * The fields of a sample: X(name, kind).  Names are the column names of
 * foresight.node_metrics and foresight.metrics_history and the keys of the
 * history file.  Append new fields anywhere; never reuse a name with
 * another meaning.
 */
#define HISTORY_SAMPLE_FIELDS(X) \
	X(sampled_at, SF_TIME) \
	X(node_time, SF_TIME) \
	X(source, SF_SOURCE) \
	X(counters_reset, SF_BOOL) \
	X(interval_s, SF_FLOAT) \
	X(cpu_util, SF_FLOAT) \
	X(cpu_user, SF_FLOAT) \
	X(cpu_system, SF_FLOAT) \
	X(cpu_iowait, SF_FLOAT) \
	X(cpu_steal, SF_FLOAT) \
	X(cpu_count, SF_INT32) \
	X(instance_cpu, SF_FLOAT) \
	X(cpu_limit, SF_FLOAT) \
	X(cpu_throttled, SF_FLOAT) \
	X(load1, SF_FLOAT) \
	X(load5, SF_FLOAT) \
	X(load15, SF_FLOAT) \
	X(mem_total_kb, SF_INT64) \
	X(mem_available_kb, SF_INT64) \
	X(mem_dirty_kb, SF_INT64) \
	X(disk_reads_per_s, SF_FLOAT) \
	X(disk_writes_per_s, SF_FLOAT) \
	X(disk_read_kb_per_s, SF_FLOAT) \
	X(disk_write_kb_per_s, SF_FLOAT) \
	X(disk_busy, SF_FLOAT) \
	X(psi_cpu, SF_FLOAT) \
	X(psi_io, SF_FLOAT) \
	X(psi_memory, SF_FLOAT) \
	X(backends, SF_INT32) \
	X(backends_active, SF_INT32) \
	X(backends_active_avg, SF_FLOAT) \
	X(backends_idle_in_transaction_avg, SF_FLOAT) \
	X(backends_idle_in_transaction, SF_INT32) \
	X(waiting, SF_INT32) \
	X(waiting_lock, SF_INT32) \
	X(waiting_lwlock, SF_INT32) \
	X(waiting_io, SF_INT32) \
	X(waiting_client, SF_INT32) \
	X(waiting_ipc, SF_INT32) \
	X(waiting_other, SF_INT32) \
	X(connections, SF_INT32) \
	X(max_connections, SF_INT32) \
	X(commits_per_s, SF_FLOAT) \
	X(rollbacks_per_s, SF_FLOAT) \
	X(blks_read_per_s, SF_FLOAT) \
	X(blks_hit_per_s, SF_FLOAT) \
	X(tup_returned_per_s, SF_FLOAT) \
	X(tup_fetched_per_s, SF_FLOAT) \
	X(in_recovery, SF_BOOL) \
	X(wal_lsn, SF_LSN) \
	X(replay_lag_ms, SF_FLOAT) \
	X(server_start, SF_TIME) \
	X(lat_count, SF_INT32) \
	X(lat_errors, SF_INT32) \
	X(lat_mean_us, SF_FLOAT) \
	X(lat_p95_us, SF_FLOAT) \
	X(lat_baseline_us, SF_FLOAT) \
	X(lat_count_point, SF_INT32) \
	X(lat_mean_us_point, SF_FLOAT) \
	X(lat_p95_us_point, SF_FLOAT) \
	X(lat_count_small, SF_INT32) \
	X(lat_mean_us_small, SF_FLOAT) \
	X(lat_p95_us_small, SF_FLOAT) \
	X(lat_count_medium, SF_INT32) \
	X(lat_mean_us_medium, SF_FLOAT) \
	X(lat_p95_us_medium, SF_FLOAT) \
	X(lat_count_large, SF_INT32) \
	X(lat_mean_us_large, SF_FLOAT) \
	X(lat_p95_us_large, SF_FLOAT) \
	X(load, SF_FLOAT) \
	X(load_cpu, SF_FLOAT) \
	X(load_queue, SF_FLOAT) \
	X(load_pressure, SF_FLOAT) \
	X(load_latency, SF_FLOAT)

typedef struct MetricSample
{
#define HISTORY_STRUCT_MEMBER(name, kind) SF_CTYPE_##kind name;
	HISTORY_SAMPLE_FIELDS(HISTORY_STRUCT_MEMBER)
#undef HISTORY_STRUCT_MEMBER
} MetricSample;

typedef struct SampleField
{
	const char *name;
	SampleFieldKind kind;
	size_t		offset;
} SampleField;

extern const SampleField history_fields[];
extern const int history_field_count;

/* GUCs */
extern int	foresight_sample_interval_ms;	/* foresight.sample_interval: monitor's period, the rings' step */
extern int	foresight_history_size;

extern void history_define_gucs(void);
extern void history_shmem_request(void);
extern void history_shmem_init(void);
extern Size history_bytes_per_slot(void);

/* Every field absent. */
extern void history_sample_init(MetricSample *sample);

/* Is a field of a sample present?  (And its value as double, for the file.) */
extern bool history_field_present(const MetricSample *sample, const SampleField *field);

/* Append a sample to a slot's ring (the monitor); resets it for a new node_id. */
extern void history_append(int slot, int32 node_id, const MetricSample *sample);

/* The newest sample of a slot; false if none for this node_id. */
extern bool history_latest(int slot, int32 node_id, MetricSample *out);

/*
 * Copy the samples of a slot taken at or after since (0 = all), oldest
 * first, into out (room for foresight.history_size samples).  Returns the
 * number copied.
 */
extern int	history_copy(int slot, int32 node_id, TimestampTz since, MetricSample *out);

/* Replace a slot's ring with samples, oldest first (persistence). */
extern void history_restore(int slot, int32 node_id, const MetricSample *samples, int n);

/* Only once per shared-memory lifetime: true the first time it is called. */
extern bool history_claim_restore(void);

#endif							/* FORESIGHT_HISTORY_H */
