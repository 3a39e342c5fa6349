/*-------------------------------------------------------------------------
 *
 * admission.c
 *	  The bounded FIFO queue of queries waiting for a node with spare
 *	  capacity (see admission.h).
 *
 * The queue is an array of foresight.queue_max tickets under a spinlock;
 * a waiter may leave when its ticket is the smallest one present and its
 * check passes.  Waiters sleep on a condition variable that the monitor
 * broadcasts after every prediction update and backends broadcast when a
 * routed query finishes; the sleep is also bounded by 100 ms, so a lost
 * wake-up costs at most that.  Cancels and timeouts leave through
 * PG_FINALLY, which gives the ticket back and wakes the next in line.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/shortest_dec.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "router/admission.h"

#define ADMISSION_RECHECK_MS 100

double		foresight_overload_threshold = 0.9;
int			foresight_overload_action = OVERLOAD_QUEUE;
int			foresight_queue_max = 64;
int			foresight_queue_timeout_ms = 5000;

static const struct config_enum_entry overload_action_options[] = {
	{"queue", OVERLOAD_QUEUE, false},
	{"error", OVERLOAD_ERROR, false},
	{"local", OVERLOAD_LOCAL, false},
	{NULL, 0, false}
};

typedef struct AdmissionShared
{
	slock_t		mutex;
	uint64		next_ticket;
	int			waiting;
	double		recent_wait_us; /* mean wait of the last queued queries */
	ConditionVariable cv;
	uint64		tickets[FLEXIBLE_ARRAY_MEMBER]; /* 0 = free */
} AdmissionShared;

static AdmissionShared *admission = NULL;

void
admission_define_gucs(void)
{
	DefineCustomRealVariable("foresight.overload_threshold",
							 "Predicted load above which a node counts as overloaded.",
							 "When every candidate is above it, foresight.overload_action applies.",
							 &foresight_overload_threshold,
							 0.9, 0.0, 1.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("foresight.overload_action",
							 "What a query does when every candidate is predicted overloaded.",
							 "queue: wait for capacity; error: fail at once; local: run on the coordinator.",
							 &foresight_overload_action,
							 OVERLOAD_QUEUE, overload_action_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.queue_max",
							"Queries that may wait for capacity at once.",
							"Sizes shared memory: 8 bytes per place.",
							&foresight_queue_max,
							64, 1, 100000,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.queue_timeout",
							"Longest time a query waits for capacity.",
							NULL,
							&foresight_queue_timeout_ms,
							5000, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
}

static Size
admission_shmem_size(void)
{
	return add_size(offsetof(AdmissionShared, tickets),
					mul_size(foresight_queue_max, sizeof(uint64)));
}

void
admission_shmem_request(void)
{
	RequestAddinShmemSpace(admission_shmem_size());
}

void
admission_shmem_init(void)
{
	bool		found;

	admission = ShmemInitStruct("pg_foresight admission", admission_shmem_size(), &found);
	if (!found)
	{
		memset(admission, 0, admission_shmem_size());
		SpinLockInit(&admission->mutex);
		ConditionVariableInit(&admission->cv);
		admission->next_ticket = 1;
	}
}

void
admission_wakeup(void)
{
	if (admission != NULL && admission->waiting > 0)
		ConditionVariableBroadcast(&admission->cv);
}

double
admission_expected_wait_ms(void)
{
	double		wait_us;

	foresight_require_shmem();
	if (admission->waiting == 0)
		return 0.0;				/* unlocked read: a hint, checked below */
	SpinLockAcquire(&admission->mutex);
	wait_us = admission->waiting > 0 ? admission->recent_wait_us : 0.0;
	SpinLockRelease(&admission->mutex);
	return wait_us / 1000.0;
}

int
admission_queue_length(void)
{
	int			n;

	foresight_require_shmem();
	SpinLockAcquire(&admission->mutex);
	n = admission->waiting;
	SpinLockRelease(&admission->mutex);
	return n;
}

static void
raise_overloaded(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
			 errmsg("all candidate nodes are predicted to be overloaded"),
			 errdetail("Every candidate's predicted load is above foresight.overload_threshold (%s).",
					   double_to_shortest_decimal(foresight_overload_threshold)),
			 errhint("Retry the query later; nothing was executed.")));
}

/* Take a place in the queue; returns its index. */
static pg_noinline int
enqueue(uint64 *ticket)
{
	int			index = -1;

	SpinLockAcquire(&admission->mutex);
	if (admission->waiting < foresight_queue_max)
	{
		for (int i = 0; i < foresight_queue_max; i++)
		{
			if (admission->tickets[i] == 0)
			{
				index = i;
				break;
			}
		}
		*ticket = admission->next_ticket++;
		admission->tickets[index] = *ticket;
		admission->waiting++;
	}
	SpinLockRelease(&admission->mutex);

	if (index < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("the routing queue is full"),
				 errdetail("%d queries are already waiting for a node with spare capacity (foresight.queue_max).",
						   foresight_queue_max),
				 errhint("Retry the query later; nothing was executed.")));
	return index;
}

static bool
first_in_line(uint64 ticket)
{
	bool		first = true;

	SpinLockAcquire(&admission->mutex);
	for (int i = 0; i < foresight_queue_max && first; i++)
		if (admission->tickets[i] != 0 && admission->tickets[i] < ticket)
			first = false;
	SpinLockRelease(&admission->mutex);
	return first;
}

static void
dequeue(int index, double waited_us)
{
	SpinLockAcquire(&admission->mutex);
	admission->tickets[index] = 0;
	admission->waiting--;
	/* exponentially weighted: the last few waits count */
	admission->recent_wait_us += ADMISSION_WAIT_ALPHA * (waited_us - admission->recent_wait_us);
	SpinLockRelease(&admission->mutex);
	ConditionVariableBroadcast(&admission->cv);
}

AdmissionResult
admission_wait(admission_check_fn check, void *arg, int64 *waited_us)
{
	TimestampTz start = GetCurrentTimestamp();
	uint64		ticket = 0;
	volatile int index;

	*waited_us = 0;
	foresight_require_shmem();
	if (foresight_overload_action == OVERLOAD_LOCAL)
		return ADMIT_LOCAL;
	if (foresight_overload_action == OVERLOAD_ERROR)
		raise_overloaded();

	index = enqueue(&ticket);
	PG_TRY();
	{
		for (;;)
		{
			long		elapsed_ms;

			if (first_in_line(ticket) && check(arg))
				break;

			elapsed_ms = (long) ((GetCurrentTimestamp() - start) / 1000);
			if (elapsed_ms >= foresight_queue_timeout_ms)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
						 errmsg("timed out after %d ms waiting for a node with spare capacity",
								foresight_queue_timeout_ms),
						 errdetail("Every candidate's predicted load stayed above foresight.overload_threshold (%s).",
								   double_to_shortest_decimal(foresight_overload_threshold)),
						 errhint("Retry the query later; nothing was executed.")));

			(void) ConditionVariableTimedSleep(&admission->cv,
											   Min(ADMISSION_RECHECK_MS,
												   foresight_queue_timeout_ms - elapsed_ms),
											   PG_WAIT_EXTENSION);
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_FINALLY();
	{
		ConditionVariableCancelSleep();
		dequeue(index, (double) (GetCurrentTimestamp() - start));
	}
	PG_END_TRY();

	*waited_us = (int64) (GetCurrentTimestamp() - start);
	return ADMIT_ROUTE;
}
