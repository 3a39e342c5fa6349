/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The background worker "foresight monitor": reads the node registry,
 *	  polls every node, feeds the history rings and the models.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_MONITOR_WORKER_H
#define FORESIGHT_MONITOR_WORKER_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* GUCs */
extern int	foresight_sample_interval_ms;

/* component entry points (see pg_foresight.h) */
extern void monitor_define_gucs(void);
extern void monitor_install_hooks(void);
extern void monitor_shmem_request(void);
extern void monitor_shmem_init(void);

/* Wake the monitor now.  Cheap; any process. */
extern void monitor_wakeup(void);

/* Ask the monitor to reload the registry from its table, and wake it. */
extern void monitor_request_registry_reload(void);

/* The monitor's own state, for foresight.monitor_status(). */
typedef struct MonitorStatus
{
	int			pid;			/* 0 when not running */
	TimestampTz started_at;
	TimestampTz last_wakeup;
	uint64		registry_generation_seen;
	int			nodes_seen;		/* registered nodes at that generation */
	int64		loops;
} MonitorStatus;

extern void monitor_get_status(MonitorStatus *status);

/* bgworker entry point; must be exported for the postmaster */
extern PGDLLEXPORT void foresight_monitor_main(Datum main_arg);

#endif							/* FORESIGHT_MONITOR_WORKER_H */
