/*-------------------------------------------------------------------------
 *
 * workers.c
 *	  Registering pg_foresight's background workers (see workers.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "postmaster/bgworker.h"

#include "core/workers.h"

void
foresight_register_worker(const char *name, const char *function_name, int restart_s)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	/* both connect: the monitor to foresight.database, the trainer to none */
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = restart_s;
	strlcpy(worker.bgw_library_name, "pg_foresight", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, function_name, BGW_MAXLEN);
	strlcpy(worker.bgw_name, name, BGW_MAXLEN);
	strlcpy(worker.bgw_type, name, BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}
