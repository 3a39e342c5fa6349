/*-------------------------------------------------------------------------
 *
 * admission.h
 *	  Admission control: what a query does when every candidate is
 *	  predicted above foresight.overload_threshold.
 *
 *	  foresight.overload_action = 'queue'  wait in a bounded FIFO queue in
 *										   shared memory (foresight.queue_max)
 *										   for at most foresight.queue_timeout
 *							   = 'error'  fail at once
 *							   = 'local'  run on the coordinator
 *
 * A failure is ERRCODE_INSUFFICIENT_RESOURCES (53000) with a HINT to retry:
 * nothing was executed, so retrying is always safe.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ADMISSION_H
#define FORESIGHT_ADMISSION_H

#include "postgres.h"

typedef enum OverloadAction
{
	OVERLOAD_QUEUE,
	OVERLOAD_ERROR,
	OVERLOAD_LOCAL
} OverloadAction;

typedef enum AdmissionResult
{
	ADMIT_ROUTE,				/* capacity is there: route as scored */
	ADMIT_LOCAL					/* run on the coordinator */
} AdmissionResult;

/* GUCs */
extern double foresight_overload_threshold;
extern int	foresight_overload_action;
extern int	foresight_queue_max;
extern int	foresight_queue_timeout_ms;

extern void admission_define_gucs(void);
extern void admission_shmem_request(void);
extern void admission_shmem_init(void);

/*
 * True when some candidate has capacity; re-evaluated after every wake-up,
 * so it must read fresh predictions each time.
 */
typedef bool (*admission_check_fn) (void *arg);

/*
 * Called when check() has just returned false.  Returns ADMIT_ROUTE once
 * check() is true and this query is first in line, ADMIT_LOCAL when the
 * action is 'local'; raises the documented error otherwise.  *waited_us
 * gets the time spent in the queue.
 */
extern AdmissionResult admission_wait(admission_check_fn check, void *arg,
									  int64 *waited_us);

/* Wake the queue: predictions changed or a routed query finished. */
extern void admission_wakeup(void);

/*
 * The wait a query entering the queue now may expect, in ms: 0 when the
 * queue is empty, else the mean wait of the last queued queries (weighted
 * by ADMISSION_WAIT_ALPHA), 0 before any has left it.
 */
#define ADMISSION_WAIT_ALPHA 0.2
extern double admission_expected_wait_ms(void);

/* Queries waiting now (for views). */
extern int	admission_queue_length(void);

#endif							/* FORESIGHT_ADMISSION_H */
