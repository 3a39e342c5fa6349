/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The background worker "foresight monitor".
 *
 * It starts with the server once it is consistent: on the primary at
 * once, on a hot standby when it accepts read-only connections (a standby
 * with foresight.standby_routing on routes its own sessions' reads too,
 * and needs the nodes' samples for that; with it off the worker idles
 * until it is turned on or the standby is promoted).  It connects to the
 * database named by foresight.database, and keeps the shared copy of the
 * node registry equal to the table: at start, when a committing backend
 * asks for it, and every REGISTRY_RELOAD_MS in any case (on a standby,
 * where no backend commits, the table changes by replay, and this reload,
 * every STANDBY_REGISTRY_RELOAD_MS there, is what publishes the change).
 * It writes no catalog and no WAL, so a standby runs it as it is; its only
 * file, the history file, is in the server's own data directory.
 *
 * Every foresight.sample_interval it samples every node (poller.c): the
 * samples go to the history rings (stats/history.c), the node health table
 * follows the answers.  The schedule is steady: the next sample is due one
 * interval after the previous one was due, not after it finished.  Each
 * loop runs in a memory context reset at its start.
 *
 * At start it reads the history file back, at clean exit it writes it
 * (stats/history_persist.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/plancache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "utils/memutils.h"

#include "core/guards.h"
#include "core/monitor_doorbell.h"
#include "core/workers.h"
#include "monitor/poller.h"
#include "monitor/quarantine.h"
#include "monitor/worker.h"
#include "registry/registry.h"
#include "stats/history.h"
#include "stats/history_persist.h"

/* reload the registry at least this often, to catch DROP EXTENSION & co. */
#define REGISTRY_RELOAD_MS 10000
/*
 * On a standby no commit rings the doorbell: the registry changes by replay
 * and this reload is the only way it is published, so it runs every second
 * there (a reload that finds the table unchanged changes nothing).
 */
#define STANDBY_REGISTRY_RELOAD_MS 1000

/* an idle monitor (a standby that does not route) looks up this often */
#define IDLE_CHECK_MS 1000

typedef struct MonitorShared
{
	slock_t		mutex;			/* protects status */
	MonitorStatus status;
} MonitorShared;

static MonitorShared *monitor = NULL;

bool		foresight_standby_routing = false;

/* plans made while a standby routed nothing are not wrapped: replan */
static void
standby_routing_assign(bool newval, void *extra)
{
	if (newval != foresight_standby_routing)
		ResetPlanCache();
}

void
monitor_define_gucs(void)
{
	poller_define_gucs();

	DefineCustomBoolVariable("foresight.standby_routing",
							 "Whether a hot standby routes its sessions' reads.",
							 "On a standby that preloads pg_foresight: eligible reads run there or, by the same policy, on another standby or the primary, never on one that has replayed less than this standby had when the statement began; its monitor polls the nodes.  Off: the standby routes nothing and its monitor idles.  No effect on a primary.",
							 &foresight_standby_routing,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, standby_routing_assign, NULL);
}

/* is there work for the monitor: always on a primary, on a standby if routing */
static bool
monitor_active(void)
{
	return !RecoveryInProgress() || foresight_standby_routing;
}

void
monitor_install_hooks(void)
{
	foresight_register_worker("foresight monitor", "foresight_monitor_main", 10);
}

void
monitor_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(MonitorShared));
}

void
monitor_shmem_init(void)
{
	bool		found;

	monitor = ShmemInitStruct("pg_foresight monitor", sizeof(MonitorShared), &found);
	if (!found)
	{
		memset(monitor, 0, sizeof(MonitorShared));
		SpinLockInit(&monitor->mutex);
	}
}

/* Callbacks of the floors above (router/), registered in _PG_init. */
#define MONITOR_MAX_CALLBACKS 4
static monitor_callback sample_callbacks[MONITOR_MAX_CALLBACKS];
static int	n_sample_callbacks = 0;
static monitor_callback reload_callbacks[MONITOR_MAX_CALLBACKS];
static int	n_reload_callbacks = 0;

void
monitor_on_sample(monitor_callback callback)
{
	if (n_sample_callbacks >= MONITOR_MAX_CALLBACKS)
		elog(ERROR, "too many pg_foresight monitor sample callbacks");
	sample_callbacks[n_sample_callbacks++] = callback;
}

void
monitor_on_config_reload(monitor_callback callback)
{
	if (n_reload_callbacks >= MONITOR_MAX_CALLBACKS)
		elog(ERROR, "too many pg_foresight monitor reload callbacks");
	reload_callbacks[n_reload_callbacks++] = callback;
}

void
monitor_get_status(MonitorStatus *status)
{
	foresight_require_shmem();
	SpinLockAcquire(&monitor->mutex);
	*status = monitor->status;
	SpinLockRelease(&monitor->mutex);
}

static void
monitor_detach(int code, Datum arg)
{
	doorbell_set_latch(NULL);
	SpinLockAcquire(&monitor->mutex);
	monitor->status.pid = 0;
	SpinLockRelease(&monitor->mutex);
}

/* Reload the registry from foresight.node in a transaction of its own. */
static void
reload_registry(void)
{
	int			nodes;
	uint64		generation;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "reloading the node registry");
	nodes = registry_reload_from_table();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	generation = registry_generation();
	SpinLockAcquire(&monitor->mutex);
	if (monitor->status.registry_generation_seen != generation)
		ereport(LOG,
				(errmsg("foresight monitor: node registry generation " UINT64_FORMAT ", %d node%s",
						generation, nodes, nodes == 1 ? "" : "s")));
	monitor->status.registry_generation_seen = generation;
	monitor->status.nodes_seen = nodes;
	SpinLockRelease(&monitor->mutex);
}

/* Resolve what the poller needs once, in a transaction. */
static void
init_poller(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	poller_init();
	CommitTransactionCommand();
}

/* After a SIGHUP: read the configuration again and tell the components. */
static bool
process_config_reload(void)
{
	if (!ConfigReloadPending)
		return false;
	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	for (int i = 0; i < n_reload_callbacks; i++)
		reload_callbacks[i] ();
	return true;
}

static void
monitor_exit_save(int code, Datum arg)
{
	/* only a clean exit writes the history: after an error it may be half-done */
	if (code != 0)
		return;
	poller_shutdown();
	history_persist_save();
}

void
foresight_monitor_main(Datum main_arg)
{
	TimestampTz last_reload = 0;
	TimestampTz next_sample;
	uint64		generation_polled = 0;
	MemoryContext cycle_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(foresight_database, NULL, 0);

	SpinLockAcquire(&monitor->mutex);
	monitor->status.pid = MyProcPid;
	monitor->status.started_at = GetCurrentTimestamp();
	monitor->status.registry_generation_seen = 0;
	monitor->status.loops = 0;
	SpinLockRelease(&monitor->mutex);
	doorbell_set_latch(MyLatch);
	before_shmem_exit(monitor_detach, (Datum) 0);

	ereport(LOG,
			(errmsg("foresight monitor started in database \"%s\"", foresight_database)));

	cycle_context = AllocSetContextCreate(TopMemoryContext, "foresight monitor cycle",
										  ALLOCSET_DEFAULT_SIZES);

	/* the registry first: the history file is matched against it */
	reload_registry();
	last_reload = GetCurrentTimestamp();
	init_poller();
	MemoryContextSwitchTo(cycle_context);
	history_persist_load();
	before_shmem_exit(monitor_exit_save, (Datum) 0);

	next_sample = GetCurrentTimestamp();
	while (!ShutdownRequestPending)
	{
		TimestampTz now;
		bool		reload;
		long		timeout;

		MemoryContextSwitchTo(cycle_context);
		MemoryContextReset(cycle_context);
		now = GetCurrentTimestamp();

		/*
		 * A standby that does not route (foresight.standby_routing off)
		 * polls nothing: it waits for the setting or for a promotion.
		 */
		if (!monitor_active())
		{
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 IDLE_CHECK_MS, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			process_config_reload();
			next_sample = GetCurrentTimestamp();
			last_reload = 0;
			continue;
		}

		reload = doorbell_take_registry_reload() ||
			TimestampDifferenceExceeds(last_reload, now,
									   RecoveryInProgress() ? STANDBY_REGISTRY_RELOAD_MS :
									   REGISTRY_RELOAD_MS);
		if (reload)
		{
			reload_registry();
			MemoryContextSwitchTo(cycle_context);
			last_reload = now;
		}
		if (registry_generation() != generation_polled)
		{
			generation_polled = registry_generation();

			/*
			 * A node registered (or given a new conninfo) since the last
			 * sample is polled now rather than at the next one: it is a
			 * routing candidate from its first good poll on.  The others
			 * keep their cadence; the new node's next sample is the
			 * regular one, its rates taken over the time between.
			 */
			if (poller_reconcile() > 0 && now < next_sample)
			{
				poller_cycle(now, true);
				MemoryContextSwitchTo(cycle_context);
				now = GetCurrentTimestamp();
			}
		}

		if (now >= next_sample)
		{
			poller_cycle(now, false);
			MemoryContextSwitchTo(cycle_context);
			quarantine_judge(now);
			for (int i = 0; i < n_sample_callbacks; i++)
				sample_callbacks[i] ();
			next_sample = TimestampTzPlusMilliseconds(next_sample, foresight_sample_interval_ms);
			/*
			 * Fell behind (slow local sample, suspended host): the next
			 * tick of the same cadence, so that a late cycle costs a
			 * sample at most, never the pace of all those after.
			 */
			while (next_sample <= GetCurrentTimestamp())
				next_sample = TimestampTzPlusMilliseconds(next_sample, foresight_sample_interval_ms);

			SpinLockAcquire(&monitor->mutex);
			monitor->status.last_wakeup = now;
			monitor->status.loops++;
			SpinLockRelease(&monitor->mutex);
		}

		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next_sample);
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(timeout, 1),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();

		if (process_config_reload())
		{
			/* a new interval applies from now */
			next_sample = Min(next_sample,
							  TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														  foresight_sample_interval_ms));
		}
	}

	ereport(LOG, (errmsg("foresight monitor shutting down")));
	proc_exit(0);
}
