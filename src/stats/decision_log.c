/*-------------------------------------------------------------------------
 *
 * decision_log.c
 *	  The ring of routing decisions and the SQL function behind the view
 *	  foresight.routing_decisions.
 *
 * Appends take a slot with an atomic counter and fill it under the slot's
 * own spinlock, so backends never wait for each other unless they write
 * the same slot; readers copy each slot under its spinlock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "stats/request_shape.h"
#include "stats/decision_log.h"
#include "stats/latency.h"

int			foresight_decision_log_size = 1000;

typedef struct DecisionSlot
{
	slock_t		mutex;
	Decision	d;
} DecisionSlot;

typedef struct DecisionLogShared
{
	pg_atomic_uint64 next_seq;
	DecisionSlot slots[FLEXIBLE_ARRAY_MEMBER];
} DecisionLogShared;

static DecisionLogShared *dlog = NULL;

void
decision_log_define_gucs(void)
{
	DefineCustomIntVariable("foresight.decision_log_size",
							"Routing decisions kept in shared memory.",
							"Sizes shared memory: 1272 bytes per decision.",
							&foresight_decision_log_size,
							1000, 10, 1000000,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
}

static Size
decision_log_shmem_size(void)
{
	return add_size(offsetof(DecisionLogShared, slots),
					mul_size(foresight_decision_log_size, sizeof(DecisionSlot)));
}

void
decision_log_shmem_request(void)
{
	RequestAddinShmemSpace(decision_log_shmem_size());
}

void
decision_log_shmem_init(void)
{
	bool		found;

	dlog = ShmemInitStruct("pg_foresight decision log", decision_log_shmem_size(), &found);
	if (!found)
	{
		memset(dlog, 0, decision_log_shmem_size());
		pg_atomic_init_u64(&dlog->next_seq, 1);
		for (int i = 0; i < foresight_decision_log_size; i++)
			SpinLockInit(&dlog->slots[i].mutex);
	}
}

uint64
decision_log_append(Decision *d)
{
	DecisionSlot *slot;

	foresight_require_shmem();
	d->seq = pg_atomic_fetch_add_u64(&dlog->next_seq, 1);
	slot = &dlog->slots[d->seq % foresight_decision_log_size];
	SpinLockAcquire(&slot->mutex);
	slot->d = *d;
	SpinLockRelease(&slot->mutex);
	return d->seq;
}

void
decision_log_finish(uint64 seq, int64 latency_us, bool failed,
					const char *final_node, const char *how)
{
	DecisionSlot *slot;

	if (seq == 0 || dlog == NULL)
		return;
	slot = &dlog->slots[seq % foresight_decision_log_size];
	SpinLockAcquire(&slot->mutex);
	if (slot->d.seq == seq)
	{
		slot->d.latency_us = latency_us;
		slot->d.failed = failed;
		if (final_node && strcmp(final_node, slot->d.chosen) != 0)
		{
			char		note[DECISION_TEXT_MAX];
			size_t		len = strlen(slot->d.reason);
			size_t		room = sizeof(slot->d.reason) - 1;
			size_t		at;

			/* the note replaces the reason's end if both do not fit */
			snprintf(note, sizeof(note), "; ran on %s %s", final_node, how ? how : "");
			at = Min(len, room - Min(strlen(note), room));
			strlcpy(slot->d.reason + at, note, sizeof(slot->d.reason) - at);
			strlcpy(slot->d.chosen, final_node, NAMEDATALEN);
		}
	}
	SpinLockRelease(&slot->mutex);
}

/* The candidates of a decision as a jsonb array of objects. */
static Datum
candidates_json(const Decision *d)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < d->ncandidates; i++)
	{
		const DecisionCandidate *c = &d->candidates[i];

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"node\": ");
		escape_json(&buf, c->name);
		if (c->scored)
			appendStringInfo(&buf, ", \"connection_score\": %.4f, \"predicted_load\": %.4f, \"score\": %.4f}",
							 c->connection_score, c->predicted_load, c->score);
		else
			appendStringInfoString(&buf, ", \"connection_score\": null, \"predicted_load\": null, \"score\": null}");
	}
	appendStringInfoChar(&buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

PG_FUNCTION_INFO_V1(foresight_decision_list);

Datum
foresight_decision_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint64		next;
	uint64		first;
	Decision   *d = palloc(sizeof(Decision));
	MemoryContext row_context;
	MemoryContext old_context;

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 15);

	/*
	 * A row's text and jsonb values are made in a context reset after the
	 * tuplestore has copied them: a log of up to a million decisions is read
	 * in bounded memory (the tuplestore itself spills past work_mem).
	 */
	row_context = AllocSetContextCreate(CurrentMemoryContext, "decision log row",
										ALLOCSET_DEFAULT_SIZES);
	old_context = MemoryContextSwitchTo(row_context);

	next = pg_atomic_read_u64(&dlog->next_seq);
	first = next > (uint64) foresight_decision_log_size ? next - foresight_decision_log_size : 1;
	for (uint64 seq = first; seq < next; seq++)
	{
		DecisionSlot *slot = &dlog->slots[seq % foresight_decision_log_size];
		Datum		values[15];
		bool		nulls[15] = {false};

		CHECK_FOR_INTERRUPTS();
		SpinLockAcquire(&slot->mutex);
		*d = slot->d;
		SpinLockRelease(&slot->mutex);
		if (d->seq != seq)
			continue;			/* overwritten meanwhile, or not written yet */

		values[0] = Int64GetDatum((int64) d->seq);
		values[1] = TimestampTzGetDatum(d->at);
		values[2] = Int32GetDatum(d->pid);
		values[3] = Int64GetDatum(d->queryid);
		nulls[3] = d->queryid == 0;
		values[4] = CStringGetTextDatum(d->request_class >= 0 ?
										request_class_name((RequestClass) d->request_class) : "none");
		values[5] = CStringGetTextDatum(d->request_shape >= 0 ?
										request_shape_describe(d->request_shape) : "none");
		values[6] = Float8GetDatum(d->cost);
		values[7] = candidates_json(d);
		values[8] = CStringGetTextDatum(d->chosen);
		values[9] = CStringGetTextDatum(d->policy);
		values[10] = CStringGetTextDatum(d->reason);
		values[11] = Float8GetDatum(d->queue_wait_us / 1000.0);
		values[12] = Float8GetDatum(d->latency_us / 1000.0);
		nulls[12] = d->latency_us < 0;
		values[13] = BoolGetDatum(d->failed);
		nulls[13] = d->latency_us < 0;
		values[14] = Int32GetDatum(d->ncandidates);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextReset(row_context);
	}
	MemoryContextSwitchTo(old_context);
	MemoryContextDelete(row_context);
	return (Datum) 0;
}
