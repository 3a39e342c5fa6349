/*-------------------------------------------------------------------------
 *
 * pg_foresight.c
 *	  Module entry point: GUCs, hooks, shared memory and the background
 *	  worker of every component are wired up here and nowhere else.
 *
 * The components are listed in one table; adding one means adding a row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/regproc.h"

#include "pg_foresight.h"
#include "registry/registry.h"
#include "predict/live_models.h"
#include "remote/remote_gucs.h"
#include "router/admission.h"
#include "router/hedge.h"
#include "stats/decision_log.h"
#include "router/scoring.h"
#include "monitor/node_health.h"
#include "monitor/worker.h"
#include "stats/history.h"
#include "router/router.h"
#include "stats/latency.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

bool		foresight_preloaded = false;
static bool shmem_ready = false;

static const ForesightComponent components[] = {
	{"nodes", registry_define_gucs, NULL, registry_shmem_request, registry_shmem_init},
	{"monitor", monitor_define_gucs, monitor_install_hooks, monitor_shmem_request, monitor_shmem_init},
	{"node health", NULL, NULL, node_health_shmem_request, node_health_shmem_init},
	{"history", history_define_gucs, NULL, history_shmem_request, history_shmem_init},
	{"scoring", scoring_define_gucs, NULL, scoring_shmem_request, scoring_shmem_init},
	{"live models", live_models_define_gucs, NULL, live_models_shmem_request, live_models_shmem_init},
	{"admission", admission_define_gucs, NULL, admission_shmem_request, admission_shmem_init},
	{"hedging", hedge_define_gucs, NULL, NULL, NULL},
	{"decision log", decision_log_define_gucs, NULL, decision_log_shmem_request, decision_log_shmem_init},
	{"remote", remote_define_gucs, NULL, NULL, NULL},
	{"router", router_define_gucs, router_install_hooks, router_shmem_request, router_shmem_init},
	{"latency", NULL, NULL, latency_shmem_request, latency_shmem_init},
};

#define NUM_COMPONENTS lengthof(components)

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
foresight_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	for (int i = 0; i < NUM_COMPONENTS; i++)
		if (components[i].shmem_request)
			components[i].shmem_request();
}

static void
foresight_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	for (int i = 0; i < NUM_COMPONENTS; i++)
		if (components[i].shmem_init)
			components[i].shmem_init();
	LWLockRelease(AddinShmemInitLock);

	shmem_ready = true;
}

void
foresight_require_shmem(void)
{
	if (!shmem_ready)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_foresight must be loaded via shared_preload_libraries"),
				 errhint("Add pg_foresight to shared_preload_libraries in postgresql.conf and restart the server.")));
}

void
foresight_check_result_columns(FunctionCallInfo fcinfo, TupleDesc desc, int ncolumns)
{
	if (desc->natts != ncolumns)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("function %s is declared with %d result columns, but the pg_foresight library returns %d",
						format_procedure(fcinfo->flinfo->fn_oid), desc->natts, ncolumns),
				 errdetail("The extension's SQL objects are older or newer than the installed library."),
				 errhint("Run ALTER EXTENSION pg_foresight UPDATE.")));
}

void
foresight_require_admin(const char *action)
{
	Oid			admin = get_role_oid(FORESIGHT_ADMIN_ROLE, true);

	if (superuser())
		return;
	if (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s", action),
			 errdetail("Only superusers and members of role \"%s\" may do this.", FORESIGHT_ADMIN_ROLE)));
}

void
_PG_init(void)
{
	/*
	 * Loaded by CREATE EXTENSION or a function call rather than by the
	 * postmaster: no GUCs (some can only be defined at startup), no hooks,
	 * no shared memory.  The functions that need them say so; the others
	 * (forecast, backtest, snapshot) work.
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;

	for (int i = 0; i < NUM_COMPONENTS; i++)
		if (components[i].define_gucs)
			components[i].define_gucs();

	MarkGUCPrefixReserved("foresight");

	foresight_preloaded = true;

	for (int i = 0; i < NUM_COMPONENTS; i++)
		if (components[i].install_hooks)
			components[i].install_hooks();

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = foresight_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = foresight_shmem_startup;
}
