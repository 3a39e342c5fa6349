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
#include "utils/guc.h"

#include "pg_foresight.h"
#include "blockscan/block_scan.h"
#include "core/guards.h"
#include "core/monitor_doorbell.h"
#include "monitor/node_health.h"
#include "monitor/round_trip.h"
#include "monitor/quarantine.h"
#include "monitor/worker.h"
#include "predict/live_models.h"
#include "predict/trainer.h"
#include "registry/registry.h"
#include "remote/conn_cap.h"
#include "remote/remote_gucs.h"
#include "router/admission.h"
#include "router/auto_tune.h"
#include "router/experiment.h"
#include "router/causal.h"
#include "router/coordinator_cost.h"
#include "router/hedge.h"
#include "router/predictive_score.h"
#include "router/regions.h"
#include "router/router.h"
#include "router/route_deadline.h"
#include "router/scoring.h"
#include "router/split_scan.h"
#include "split/split.h"
#include "stats/decision_log.h"
#include "stats/history.h"
#include "stats/latency.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

bool		foresight_preloaded = false;

static const ForesightComponent components[] = {
	{"monitor doorbell", NULL, NULL, doorbell_shmem_request, doorbell_shmem_init},
	{"registry", registry_define_gucs, NULL, registry_shmem_request, registry_shmem_init},
	{"monitor", monitor_define_gucs, monitor_install_hooks, monitor_shmem_request, monitor_shmem_init},
	{"node health", NULL, NULL, node_health_shmem_request, node_health_shmem_init},
	{"round trips", NULL, NULL, round_trip_shmem_request, round_trip_shmem_init},
	{"quarantine", quarantine_define_gucs, NULL, quarantine_shmem_request, quarantine_shmem_init},
	{"history", history_define_gucs, NULL, history_shmem_request, history_shmem_init},
	{"scoring", scoring_define_gucs, NULL, scoring_shmem_request, scoring_shmem_init},
	{"live models", live_models_define_gucs, NULL, live_models_shmem_request, live_models_shmem_init},
	{"model trainer", trainer_define_gucs, trainer_install_hooks, NULL, NULL},
	{"admission", admission_define_gucs, NULL, admission_shmem_request, admission_shmem_init},
	{"hedging", hedge_define_gucs, NULL, NULL, NULL},
	{"regions", regions_define_gucs, NULL, NULL, NULL},
	{"prediction model", predictive_define_gucs, NULL, NULL, NULL},
	{"coordinator cost", coordinator_cost_define_gucs, NULL, coordinator_cost_shmem_request, coordinator_cost_shmem_init},
	{"response deadline", route_deadline_define_gucs, NULL, NULL, NULL},
	{"causal reads", causal_define_gucs, NULL, NULL, NULL},
	{"decision log", decision_log_define_gucs, NULL, decision_log_shmem_request, decision_log_shmem_init},
	{"remote", remote_define_gucs, NULL, NULL, NULL},
	{"node connection cap", conn_cap_define_gucs, NULL, conn_cap_shmem_request, conn_cap_shmem_init},
	{"split", split_define_gucs, NULL, NULL, NULL},
	{"block scan", block_scan_define_gucs, block_scan_install_hooks, NULL, NULL},
	{"split nodes", NULL, NULL, split_node_stats_shmem_request, split_node_stats_shmem_init},
	{"router", router_define_gucs, router_install_hooks, router_shmem_request, router_shmem_init},
	{"latency", NULL, NULL, latency_shmem_request, latency_shmem_init},
	{"experiments", experiment_define_gucs, NULL, experiment_shmem_request, experiment_shmem_init},
	{"auto tune", auto_tune_define_gucs, NULL, auto_tune_shmem_request, auto_tune_shmem_init},
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

	guards_mark_shmem_ready();
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
