/*-------------------------------------------------------------------------
 *
 * monitor_doorbell.h
 *	  How any process wakes the background worker "foresight monitor" and
 *	  asks it to reload the node registry, without depending on the
 *	  monitor: the registry (a floor below the monitor) rings; the monitor
 *	  (above it) answers.  (The live models wake their own worker, the
 *	  trainer: predict/live_models.h.)  A small shared struct: a
 *	  spinlock, the worker's latch, one request flag (about 24 bytes).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_MONITOR_DOORBELL_H
#define FORESIGHT_MONITOR_DOORBELL_H

#include "postgres.h"

#include "storage/latch.h"

/* component entry points (see pg_foresight.h) */
extern void doorbell_shmem_request(void);
extern void doorbell_shmem_init(void);

/* The monitor, at start and exit: the latch to set, or NULL. */
extern void doorbell_set_latch(Latch *latch);

/* Wake the monitor now.  Cheap; any process. */
extern void monitor_wakeup(void);

/* Ask the monitor to reload the registry from its table, and wake it. */
extern void monitor_request_registry_reload(void);

/* The monitor: was a reload asked for since the last call? */
extern bool doorbell_take_registry_reload(void);

#endif							/* FORESIGHT_MONITOR_DOORBELL_H */
