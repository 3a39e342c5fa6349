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

/* component entry points (see pg_foresight.h) */
/*
 * foresight.standby_routing: on a hot standby, route its sessions' reads
 * (router/) and, for that, poll the nodes (this worker).  No effect on a
 * primary.
 */
extern bool foresight_standby_routing;

extern void monitor_define_gucs(void);
extern void monitor_install_hooks(void);
extern void monitor_shmem_request(void);
extern void monitor_shmem_init(void);

/*
 * Work of the floors above the monitor that follows its loop: a callback
 * after each sample (the admission queue rescores), one after a
 * configuration reload (the scoring weights are copied to shared memory).
 * Registered in _PG_init (install_hooks), so the worker inherits them.
 * To wake the monitor, see core/monitor_doorbell.h.
 */
typedef void (*monitor_callback) (void);
extern void monitor_on_sample(monitor_callback callback);
extern void monitor_on_config_reload(monitor_callback callback);

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
