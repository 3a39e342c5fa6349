/*-------------------------------------------------------------------------
 *
 * history.c
 *	  Shared-memory rings of metric samples, one per registry slot.
 *
 * One LWLock guards all rings: the monitor holds it exclusively for one
 * memcpy per sample, readers share it while they copy.  The router reads
 * every candidate's latest sample for every routed query, so each backend
 * keeps a copy of the latest sample of each ring it read, with the ring's
 * generation then: an append advances the generation, and while it has
 * not moved the copy is still the latest, read without taking the lock
 * (which, even shared, writes the lock's cache line from every core;
 * see live_models.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "core/guards.h"
#include "registry/registry.h"
#include "stats/history.h"

#define HISTORY_MAX_BYTES ((Size) 1024 * 1024 * 1024)

int			foresight_sample_interval_ms = 1000;
int			foresight_history_size = 600;

const SampleField history_fields[] = {
#define HISTORY_FIELD_ENTRY(name, kind) {#name, kind, offsetof(MetricSample, name)},
	HISTORY_SAMPLE_FIELDS(HISTORY_FIELD_ENTRY)
#undef HISTORY_FIELD_ENTRY
};
const int	history_field_count = lengthof(history_fields);

typedef struct HistoryRing
{
	int32		node_id;		/* -1: unused */
	int32		next;			/* index the next sample goes to */
	int64		count;			/* samples held, at most history_size */
	pg_atomic_uint64 generation;	/* advanced by every change, under the
									 * lock held exclusively */
} HistoryRing;

typedef struct HistoryShared
{
	LWLock	   *lock;
	int			size;			/* samples per ring */
	bool		restored;		/* the history file was read once */
	HistoryRing rings[FLEXIBLE_ARRAY_MEMBER];
	/* then MetricSample samples[slots][size] */
} HistoryShared;

static HistoryShared *history = NULL;
static MetricSample *samples = NULL;

/* this backend's copy of a ring's latest sample (history_latest) */
typedef struct LatestCopy
{
	uint64		generation;		/* the ring's generation when read; 0: never */
	int32		node_id;		/* the ring's node then */
	bool		found;			/* it had a sample then */
	MetricSample sample;
} LatestCopy;

static LatestCopy **latest_copies = NULL;

static bool
check_history_size(int *newval, void **extra, GucSource source)
{
	Size		bytes = (Size) *newval * sizeof(MetricSample) * registry_slot_count();

	if (bytes > HISTORY_MAX_BYTES)
	{
		GUC_check_errdetail("%d samples of %zu bytes for %d slots need %zu MB of shared memory; the limit is %zu MB.",
							*newval, sizeof(MetricSample), registry_slot_count(),
							bytes / (1024 * 1024), HISTORY_MAX_BYTES / (1024 * 1024));
		GUC_check_errhint("Lower foresight.history_size or foresight.max_nodes.");
		return false;
	}
	return true;
}

void
history_define_gucs(void)
{
	DefineCustomIntVariable("foresight.sample_interval",
							"Time between two samples of every node.",
							"Also the time step of the history rings and of the live models.",
							&foresight_sample_interval_ms,
							1000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.history_size",
							"Samples kept per node in the shared-memory history.",
							"Each node's ring takes sizeof(sample) times this many bytes; at the default 1 s sampling, 600 samples are 10 minutes.",
							&foresight_history_size,
							600, 10, 1000000,
							PGC_POSTMASTER, 0,
							check_history_size, NULL, NULL);
}

Size
history_bytes_per_slot(void)
{
	return add_size(sizeof(HistoryRing), mul_size(foresight_history_size, sizeof(MetricSample)));
}

static Size
history_shmem_size(void)
{
	Size		size;

	size = add_size(offsetof(HistoryShared, rings),
					mul_size(registry_slot_count(), sizeof(HistoryRing)));
	size = MAXALIGN(size);
	size = add_size(size, mul_size(mul_size(registry_slot_count(), foresight_history_size),
								   sizeof(MetricSample)));
	return size;
}

void
history_shmem_request(void)
{
	RequestAddinShmemSpace(history_shmem_size());
	RequestNamedLWLockTranche("pg_foresight history", 1);
}

void
history_shmem_init(void)
{
	bool		found;
	Size		header;

	history = ShmemInitStruct("pg_foresight history", history_shmem_size(), &found);
	header = MAXALIGN(offsetof(HistoryShared, rings) +
					  registry_slot_count() * sizeof(HistoryRing));
	samples = (MetricSample *) ((char *) history + header);
	if (!found)
	{
		history->lock = &(GetNamedLWLockTranche("pg_foresight history"))->lock;
		history->size = foresight_history_size;
		history->restored = false;
		for (int i = 0; i < registry_slot_count(); i++)
		{
			history->rings[i].node_id = -1;
			history->rings[i].next = 0;
			history->rings[i].count = 0;
			pg_atomic_init_u64(&history->rings[i].generation, 1);
		}
	}
}

void
history_sample_init(MetricSample *sample)
{
	for (int i = 0; i < history_field_count; i++)
	{
		char	   *p = (char *) sample + history_fields[i].offset;

		switch (history_fields[i].kind)
		{
			case SF_FLOAT:
				*(float4 *) p = NAN;
				break;
			case SF_INT32:
				*(int32 *) p = -1;
				break;
			case SF_INT64:
				*(int64 *) p = -1;
				break;
			case SF_LSN:
				*(XLogRecPtr *) p = InvalidXLogRecPtr;
				break;
			case SF_TIME:
				*(TimestampTz *) p = 0;
				break;
			case SF_BOOL:
			case SF_SOURCE:
				*(int8 *) p = -1;
				break;
		}
	}
}

bool
history_field_present(const MetricSample *sample, const SampleField *field)
{
	const char *p = (const char *) sample + field->offset;

	switch (field->kind)
	{
		case SF_FLOAT:
			return !isnan(*(const float4 *) p);
		case SF_INT32:
			return *(const int32 *) p >= 0;
		case SF_INT64:
			return *(const int64 *) p >= 0;
		case SF_LSN:
			return *(const XLogRecPtr *) p != InvalidXLogRecPtr;
		case SF_TIME:
			return *(const TimestampTz *) p != 0;
		case SF_BOOL:
		case SF_SOURCE:
			return *(const int8 *) p >= 0;
	}
	return false;
}

static inline MetricSample *
ring_sample(int slot, int index)
{
	return &samples[(Size) slot * history->size + index];
}

void
history_append(int slot, int32 node_id, const MetricSample *sample)
{
	HistoryRing *ring;

	foresight_require_shmem();
	Assert(slot >= 0 && slot < registry_slot_count());

	LWLockAcquire(history->lock, LW_EXCLUSIVE);
	ring = &history->rings[slot];
	if (ring->node_id != node_id)
	{
		ring->node_id = node_id;
		ring->next = 0;
		ring->count = 0;
	}
	*ring_sample(slot, ring->next) = *sample;
	ring->next = (ring->next + 1) % history->size;
	if (ring->count < history->size)
		ring->count++;
	pg_atomic_fetch_add_u64(&ring->generation, 1);
	LWLockRelease(history->lock);
}

bool
history_latest(int slot, int32 node_id, MetricSample *out)
{
	HistoryRing *ring;
	LatestCopy *copy;
	uint64		generation;

	foresight_require_shmem();
	if (slot < 0 || slot >= registry_slot_count())
		return false;

	if (latest_copies == NULL)
		latest_copies = MemoryContextAllocZero(TopMemoryContext,
											   sizeof(LatestCopy *) * registry_slot_count());
	if (latest_copies[slot] == NULL)
		latest_copies[slot] = MemoryContextAllocZero(TopMemoryContext, sizeof(LatestCopy));
	copy = latest_copies[slot];
	ring = &history->rings[slot];

	/*
	 * Read before the lock is taken: an append after this read leaves the
	 * copy older than the generation, and the next call reads it again.
	 */
	generation = pg_atomic_read_u64(&ring->generation);
	if (copy->generation != generation)
	{
		LWLockAcquire(history->lock, LW_SHARED);
		copy->node_id = ring->node_id;
		copy->found = ring->count > 0;
		if (copy->found)
			copy->sample = *ring_sample(slot, (ring->next + history->size - 1) % history->size);
		LWLockRelease(history->lock);
		copy->generation = generation;
	}
	if (copy->node_id != node_id || !copy->found)
		return false;
	*out = copy->sample;
	return true;
}

int
history_copy(int slot, int32 node_id, TimestampTz since, MetricSample *out)
{
	HistoryRing *ring;
	int			n = 0;

	foresight_require_shmem();
	if (slot < 0 || slot >= registry_slot_count())
		return 0;

	LWLockAcquire(history->lock, LW_SHARED);
	ring = &history->rings[slot];
	if (ring->node_id == node_id)
	{
		int			first = (ring->next + history->size - (int) ring->count) % history->size;

		for (int i = 0; i < ring->count; i++)
		{
			MetricSample *s = ring_sample(slot, (first + i) % history->size);

			if (since != 0 && s->sampled_at < since)
				continue;
			out[n++] = *s;
		}
	}
	LWLockRelease(history->lock);
	return n;
}

void
history_restore(int slot, int32 node_id, const MetricSample *in, int n)
{
	HistoryRing *ring;

	foresight_require_shmem();
	Assert(slot >= 0 && slot < registry_slot_count());

	/* keep the newest samples that fit */
	if (n > history->size)
	{
		in += n - history->size;
		n = history->size;
	}
	LWLockAcquire(history->lock, LW_EXCLUSIVE);
	ring = &history->rings[slot];
	ring->node_id = node_id;
	for (int i = 0; i < n; i++)
		*ring_sample(slot, i) = in[i];
	ring->count = n;
	ring->next = n % history->size;
	pg_atomic_fetch_add_u64(&ring->generation, 1);
	LWLockRelease(history->lock);
}

bool
history_claim_restore(void)
{
	bool		first;

	foresight_require_shmem();
	LWLockAcquire(history->lock, LW_EXCLUSIVE);
	first = !history->restored;
	history->restored = true;
	LWLockRelease(history->lock);
	return first;
}
