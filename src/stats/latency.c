/*-------------------------------------------------------------------------
 *
 * latency.c
 *	  Shared-memory latencies and counts of routed queries, per registry
 *	  slot and request class (the contract is in latency.h).
 *
 * Each slot holds two sets of log-scale histograms: a cumulative one that
 * foresight.routing_stats reads, and an interval one that the monitor
 * takes and resets with latency_take_interval().  Histogram bucket b
 * covers latencies up to 2^(b/4) microseconds, so a percentile read from
 * the histogram is within 19% of the true value; means are exact.
 *
 * Per class, a slot also keeps the recent answer time: a sum of answer
 * times and a sum of weights, both multiplied by exp(-dt / tau) when the
 * next answer comes dt later, so that their ratio is the mean over about
 * the last tau seconds and the weight, decayed to the present, tells how
 * much evidence is behind it (the predictive policy's speed).  Cold
 * answers (a node connection's first queries) are kept apart the same
 * way: they stand in for the warm ones only where no candidate has warm
 * ones (predictive_score.c).
 *
 * A slot remembers the node_id its observations belong to; the first
 * observation (or take) for another node_id resets the slot, since slots
 * are reused after a node is removed.  A spinlock per slot protects the
 * counters; in-flight counts are atomics read without the lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "port/atomics.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "registry/registry.h"
#include "stats/latency.h"

#define LATENCY_BUCKETS 128		/* 2^(127/4) us: about 1.1 hours */

typedef struct LatencyHistogram
{
	int64		count;
	int64		errors;
	int64		retries;
	double		sum_us;
	int64		buckets[LATENCY_BUCKETS];
} LatencyHistogram;

/* decayed sums of answer times (latency_recent) */
typedef struct RecentAnswers
{
	double		sum_us;
	double		weight;			/* 0 = no answer yet */
	TimestampTz at;				/* the last answer's end */
} RecentAnswers;

typedef struct LatencySlot
{
	slock_t		mutex;
	int32		node_id;
	LatencyHistogram cumulative[REQUEST_CLASS_COUNT];
	LatencyHistogram interval[REQUEST_CLASS_COUNT];
	/* recent answer time per class, warm and cold (latency_recent) */
	RecentAnswers recent[REQUEST_CLASS_COUNT];
	RecentAnswers recent_cold[REQUEST_CLASS_COUNT];
	pg_atomic_uint32 inflight;
} LatencySlot;

typedef struct LatencyShared
{
	int			nslots;
	LatencySlot slots[FLEXIBLE_ARRAY_MEMBER];
} LatencyShared;

static LatencyShared *latency = NULL;

static Size
latency_shmem_size(void)
{
	return add_size(offsetof(LatencyShared, slots),
					mul_size(registry_slot_count(), sizeof(LatencySlot)));
}

void
latency_shmem_request(void)
{
	RequestAddinShmemSpace(latency_shmem_size());
}

void
latency_shmem_init(void)
{
	bool		found;

	latency = ShmemInitStruct("pg_foresight latency", latency_shmem_size(), &found);
	if (!found)
	{
		memset(latency, 0, latency_shmem_size());
		latency->nslots = registry_slot_count();
		for (int i = 0; i < registry_slot_count(); i++)
		{
			SpinLockInit(&latency->slots[i].mutex);
			latency->slots[i].node_id = i == FORESIGHT_LOCAL_SLOT ? 0 : -1;
			pg_atomic_init_u32(&latency->slots[i].inflight, 0);
		}
	}
}

static int
latency_bucket(int64 elapsed_us)
{
	int			b;

	if (elapsed_us <= 1)
		return 0;
	b = (int) ceil(4.0 * log2((double) elapsed_us));
	return Min(Max(b, 0), LATENCY_BUCKETS - 1);
}

static double
latency_bucket_upper(int b)
{
	return pow(2.0, b / 4.0);
}

/* caller holds the slot's mutex */
static void
latency_slot_claim(LatencySlot *s, int32 node_id)
{
	if (s->node_id == node_id)
		return;
	memset(s->cumulative, 0, sizeof(s->cumulative));
	memset(s->interval, 0, sizeof(s->interval));
	memset(s->recent, 0, sizeof(s->recent));
	memset(s->recent_cold, 0, sizeof(s->recent_cold));
	s->node_id = node_id;
}

static LatencySlot *
latency_slot(int slot)
{
	foresight_require_shmem();
	if (slot < 0 || slot >= registry_slot_count())
		elog(ERROR, "pg_foresight: latency slot %d out of range", slot);
	return &latency->slots[slot];
}

/* weight left to an answer after age_us (future ones count as new) */
static double
recent_decay(int64 age_us)
{
	return exp(-(double) Max(age_us, 0) / (LATENCY_RECENT_TAU_S * USECS_PER_SEC));
}

static void
histogram_add(LatencyHistogram *h, int bucket, int64 elapsed_us, bool error, bool retried)
{
	h->count++;
	if (error)
		h->errors++;
	if (retried)
		h->retries++;
	h->sum_us += (double) elapsed_us;
	h->buckets[bucket]++;
}

/*
 * One observation of a slot: into the per-node totals (routing_stats) when
 * routed, into the interval, and into the recent answer time, warm or
 * cold, when paced (answer_us >= 0 and no error).
 */
static void
latency_observe(int slot, int32 node_id, RequestClass cls, int64 elapsed_us,
				int64 answer_us, bool cold, bool error, bool retried, bool routed)
{
	LatencySlot *s = latency_slot(slot);
	int			bucket = latency_bucket(elapsed_us);
	bool		paced = !error && answer_us >= 0;
	TimestampTz now = paced ? GetCurrentTimestamp() : 0;

	if (cls < 0 || cls >= REQUEST_CLASS_COUNT)
		cls = REQUEST_CLASS_LARGE;
	SpinLockAcquire(&s->mutex);
	latency_slot_claim(s, node_id);
	if (routed)
		histogram_add(&s->cumulative[cls], bucket, elapsed_us, error, retried);
	histogram_add(&s->interval[cls], bucket, elapsed_us, error, retried);

	/*
	 * The recent answer time: what was summed so far decays by the time
	 * since the previous answer, then this one is added with weight 1.
	 * Failed queries never count: one that failed at once says nothing of
	 * how fast the node answers.
	 */
	if (paced)
	{
		RecentAnswers *r = cold ? &s->recent_cold[cls] : &s->recent[cls];
		double		decay = recent_decay(now - r->at);

		r->sum_us = r->sum_us * decay + (double) Max(answer_us, 1);
		r->weight = r->weight * decay + 1.0;
		r->at = now;
	}
	SpinLockRelease(&s->mutex);
}

void
latency_record(int slot, int32 node_id, RequestClass cls,
			   int64 elapsed_us, int64 answer_us, bool answer_cold,
			   bool error, bool retried)
{
	latency_observe(slot, node_id, cls, elapsed_us, answer_us, answer_cold,
					error, retried, true);
}

void
latency_record_abandoned(int slot, int32 node_id, RequestClass cls, int64 waited_us,
						 bool cold)
{
	latency_observe(slot, node_id, cls, waited_us, waited_us, cold, false, false, false);
}

/* a decaying mean as of now; zeros when no answer is behind it */
static LatencyRecent
recent_as_of(const RecentAnswers *r, TimestampTz now)
{
	LatencyRecent out = {0.0, 0.0};

	if (r->weight > 0.0)
	{
		out.mean_us = r->sum_us / r->weight;
		out.evidence = r->weight * recent_decay(now - r->at);
	}
	return out;
}

bool
latency_recent(int slot, int32 node_id, RequestClass cls, TimestampTz now,
			   LatencyRecent *warm, LatencyRecent *cold)
{
	LatencySlot *s = latency_slot(slot);
	RecentAnswers w = {0};
	RecentAnswers c = {0};

	if (cls < 0 || cls >= REQUEST_CLASS_COUNT)
		cls = REQUEST_CLASS_LARGE;
	SpinLockAcquire(&s->mutex);
	if (s->node_id == node_id)
	{
		w = s->recent[cls];
		if (cold)
			c = s->recent_cold[cls];
	}
	SpinLockRelease(&s->mutex);
	*warm = recent_as_of(&w, now);
	if (cold)
		*cold = recent_as_of(&c, now);
	return w.weight > 0.0;
}

/* percentile p (0..1) of the merged histogram, from bucket upper bounds */
static double
histogram_percentile(const int64 *buckets, int64 count, double p)
{
	int64		rank;
	int64		seen = 0;

	if (count <= 0)
		return 0.0;
	rank = (int64) ceil(p * (double) count);
	if (rank < 1)
		rank = 1;
	for (int b = 0; b < LATENCY_BUCKETS; b++)
	{
		seen += buckets[b];
		if (seen >= rank)
			return latency_bucket_upper(b);
	}
	return latency_bucket_upper(LATENCY_BUCKETS - 1);
}

void
latency_take_interval(int slot, int32 node_id, LatencyInterval *out)
{
	LatencySlot *s = latency_slot(slot);
	LatencyHistogram taken[REQUEST_CLASS_COUNT];
	int64		merged[LATENCY_BUCKETS];
	double		total_sum = 0.0;

	SpinLockAcquire(&s->mutex);
	latency_slot_claim(s, node_id);
	memcpy(taken, s->interval, sizeof(taken));
	memset(s->interval, 0, sizeof(s->interval));
	SpinLockRelease(&s->mutex);

	memset(out, 0, sizeof(*out));
	memset(merged, 0, sizeof(merged));
	for (int c = 0; c < REQUEST_CLASS_COUNT; c++)
	{
		LatencyHistogram *h = &taken[c];

		out->count[c] = h->count;
		out->errors[c] = h->errors;
		if (h->count > 0)
		{
			out->mean_us[c] = h->sum_us / h->count;
			out->p95_us[c] = histogram_percentile(h->buckets, h->count, 0.95);
		}
		out->total_count += h->count;
		total_sum += h->sum_us;
		for (int b = 0; b < LATENCY_BUCKETS; b++)
			merged[b] += h->buckets[b];
	}
	if (out->total_count > 0)
	{
		out->total_mean_us = total_sum / out->total_count;
		out->total_p95_us = histogram_percentile(merged, out->total_count, 0.95);
	}
}

void
latency_cumulative(int slot, int32 node_id, LatencyTotals *out)
{
	LatencySlot *s = latency_slot(slot);
	LatencyHistogram copy[REQUEST_CLASS_COUNT];
	int64		merged[LATENCY_BUCKETS];
	double		sum = 0.0;

	memset(out, 0, sizeof(*out));
	SpinLockAcquire(&s->mutex);
	if (s->node_id != node_id)
	{
		SpinLockRelease(&s->mutex);
		return;
	}
	memcpy(copy, s->cumulative, sizeof(copy));
	SpinLockRelease(&s->mutex);

	memset(merged, 0, sizeof(merged));
	for (int c = 0; c < REQUEST_CLASS_COUNT; c++)
	{
		out->count += copy[c].count;
		out->errors += copy[c].errors;
		out->retries += copy[c].retries;
		sum += copy[c].sum_us;
		for (int b = 0; b < LATENCY_BUCKETS; b++)
			merged[b] += copy[c].buckets[b];
	}
	if (out->count > 0)
	{
		out->mean_us = sum / out->count;
		out->p95_us = histogram_percentile(merged, out->count, 0.95);
	}
}

void
latency_reset_all(void)
{
	foresight_require_shmem();
	for (int i = 0; i < registry_slot_count(); i++)
	{
		LatencySlot *s = &latency->slots[i];

		SpinLockAcquire(&s->mutex);
		memset(s->cumulative, 0, sizeof(s->cumulative));
		SpinLockRelease(&s->mutex);
	}
}

void
latency_inflight_begin(int slot)
{
	pg_atomic_fetch_add_u32(&latency_slot(slot)->inflight, 1);
}

void
latency_inflight_end(int slot)
{
	LatencySlot *s = latency_slot(slot);

	/* never wrap below zero, even after a reset of a reused slot */
	uint32		old = pg_atomic_read_u32(&s->inflight);

	while (old > 0 && !pg_atomic_compare_exchange_u32(&s->inflight, &old, old - 1))
		;
}

uint32
latency_inflight(int slot)
{
	return pg_atomic_read_u32(&latency_slot(slot)->inflight);
}
