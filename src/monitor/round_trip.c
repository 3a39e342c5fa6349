/*-------------------------------------------------------------------------
 *
 * round_trip.c
 *	  Each node's measured network round trip (see round_trip.h).
 *
 * The smoothing weighs a new measurement 0.2 (the mean of the first five
 * while it warms up): a few samples follow a change of route, one slow
 * answer does not.  The percentiles are of the raw window.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/shmem.h"
#include "storage/spin.h"

#include "monitor/round_trip.h"
#include "registry/registry.h"

#define RT_SMOOTHING 0.2

typedef struct RoundTripSlot
{
	slock_t		mutex;
	int32		node_id;		/* node the entry describes; -1: none */
	int64		samples;
	double		smoothed_ms;
	float4		window[RT_WINDOW];
	int			next;			/* where the next measurement goes */
} RoundTripSlot;

static RoundTripSlot *slots = NULL;

static Size
round_trip_shmem_size(void)
{
	return mul_size(sizeof(RoundTripSlot), registry_slot_count());
}

void
round_trip_shmem_request(void)
{
	RequestAddinShmemSpace(round_trip_shmem_size());
}

void
round_trip_shmem_init(void)
{
	bool		found;

	slots = ShmemInitStruct("pg_foresight round trips", round_trip_shmem_size(), &found);
	if (!found)
	{
		memset(slots, 0, round_trip_shmem_size());
		for (int i = 0; i < registry_slot_count(); i++)
		{
			SpinLockInit(&slots[i].mutex);
			slots[i].node_id = -1;
		}
	}
}

void
round_trip_record(int slot, int32 node_id, double ms)
{
	RoundTripSlot *s;

	if (slots == NULL || slot < 0 || slot >= registry_slot_count() || !(ms >= 0))
		return;
	s = &slots[slot];
	SpinLockAcquire(&s->mutex);
	if (s->node_id != node_id)
	{
		/* another node took the slot: its history is not this one's */
		s->node_id = node_id;
		s->samples = 0;
		s->next = 0;
	}
	s->samples++;
	s->smoothed_ms += Max(RT_SMOOTHING, 1.0 / (double) s->samples) * (ms - s->smoothed_ms);
	s->window[s->next] = (float4) ms;
	s->next = (s->next + 1) % RT_WINDOW;
	SpinLockRelease(&s->mutex);
}

static int
cmp_float4(const void *a, const void *b)
{
	float4		x = *(const float4 *) a;
	float4		y = *(const float4 *) b;

	return (x > y) - (x < y);
}

bool
round_trip_get(int slot, int32 node_id, RoundTrip *out)
{
	float4		w[RT_WINDOW];
	int			n;

	memset(out, 0, sizeof(RoundTrip));
	if (slots == NULL || slot < 0 || slot >= registry_slot_count())
		return false;
	SpinLockAcquire(&slots[slot].mutex);
	if (slots[slot].node_id != node_id || slots[slot].samples == 0)
	{
		SpinLockRelease(&slots[slot].mutex);
		return false;
	}
	out->smoothed_ms = slots[slot].smoothed_ms;
	out->samples = slots[slot].samples;
	n = (int) Min(slots[slot].samples, RT_WINDOW);
	memcpy(w, slots[slot].window, sizeof(float4) * n);
	SpinLockRelease(&slots[slot].mutex);

	qsort(w, n, sizeof(float4), cmp_float4);
	out->p50_ms = w[(n - 1) / 2];
	out->p95_ms = w[Min(n - 1, (int) (0.95 * n))];
	return true;
}
