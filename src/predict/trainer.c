/*-------------------------------------------------------------------------
 *
 * trainer.c
 *	  The background worker "foresight trainer".
 *
 * Training a model (the blend's smoothing members and its LSTM,
 * src/forecast) takes tens of milliseconds of CPU, the monitor's sampling
 * and the queries a few microseconds at a time.  Run in the monitor, a
 * training pass delayed the next samples; run at the server's own priority,
 * it took its CPU from the queries exactly when the server's CPU (a
 * control group's quota, a busy host) was the limit.  So it has a process
 * of its own: every TRAINER_CYCLE_MS, and at once when foresight.retrain()
 * sets its latch, it trains what is due (live_models_train_due(), within
 * foresight.retrain_budget), with two bounds on the CPU it takes:
 *
 * - a nice value foresight.trainer_nice above the one the server runs at:
 *	 where the CPU is saturated, the scheduler gives it what the backends
 *	 leave;
 * - a duty cycle, foresight.trainer_cpu_limit (a share of one core): after
 *	 each TRAINER_SLICE_US of CPU it sleeps long enough to keep to that
 *	 share, as VACUUM sleeps after vacuum_cost_limit.  A priority alone
 *	 does not protect the queries under a control group's quota: the quota
 *	 is spent by whoever runs when the backends happen not to be runnable
 *	 (between a result and the client's next query), and the backends then
 *	 wait for the next period.
 *
 * It needs no database (it connects to none, to be seen in
 * pg_stat_activity with its wait event): the models and their windows are in shared memory
 * (live_models.c), filled by the monitor; it writes no file and no WAL, and
 * runs on a standby as on the primary (where nothing is sampled, nothing is
 * due).  Training works on a private copy of a model and puts it back under
 * the models' lock with the samples that arrived meanwhile, so the monitor
 * never waits for it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <sys/resource.h>
#include <time.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/workers.h"
#include "predict/live_models.h"
#include "predict/trainer.h"

/* how often the trainer looks for models due for training */
#define TRAINER_CYCLE_MS 1000

/* the highest nice value there is (POSIX: NZERO - 1, 19 on Linux) */
#define TRAINER_MAX_NICE 19

/* CPU time between two pauses of the duty cycle */
#define TRAINER_SLICE_US 10000

int			foresight_trainer_nice = 10;
double		foresight_trainer_cpu_limit = 0.05;

/*
 * The process's CPU time after the last pause.  Not reset between passes:
 * what ran after a pass's last pause (the replay under the lock, the
 * season search) is paid for at the next pause, and the CPU clock does
 * not move while the trainer waits.
 */
static int64 slice_started_us = 0;

/* the nice value the trainer started with: the server's (the postmaster's) */
static int	base_nice = 0;

void
trainer_define_gucs(void)
{
	DefineCustomIntVariable("foresight.trainer_nice",
							"How much lower than the server's the trainer's scheduling priority is.",
							"Added to the nice value the server runs at (at most 19).  0 trains at the server's priority; a lower value than the current one restarts the trainer.",
							&foresight_trainer_nice,
							10, 0, TRAINER_MAX_NICE,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("foresight.trainer_cpu_limit",
							 "CPU the trainer may use while it trains, as a share of one core.",
							 "It sleeps after every 10 ms of CPU long enough to keep to this share; 1 is no limit.",
							 &foresight_trainer_cpu_limit,
							 0.05, 0.01, 1.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
}

void
trainer_install_hooks(void)
{
	/* restarted a second after it exits to lower its nice value */
	foresight_register_worker("foresight trainer", "foresight_trainer_main", 1);
}

/*
 * Set the process's nice value to the server's plus foresight.trainer_nice.
 * Raising it is always allowed; lowering it again needs a privilege the
 * server does not have, so the trainer then exits with code 1, and the
 * postmaster starts it again (after bgw_restart_time) at the server's
 * value, from which the new setting applies.
 */
static void
apply_trainer_nice(void)
{
	int			target = Min(base_nice + foresight_trainer_nice, TRAINER_MAX_NICE);
	int			current;
	int			save_errno;

	errno = 0;
	current = getpriority(PRIO_PROCESS, 0);
	if (errno == 0 && current == target)
		return;
	if (setpriority(PRIO_PROCESS, 0, target) == 0)
		return;
	save_errno = errno;
	if ((save_errno == EACCES || save_errno == EPERM) && target < current)
	{
		ereport(LOG,
				(errmsg("foresight trainer restarting to lower its nice value from %d to %d",
						current, target)));
		proc_exit(1);
	}
	errno = save_errno;
	ereport(LOG,
			(errmsg("foresight trainer could not set its nice value to %d: %m", target)));
}

static int64
cpu_time_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A configuration reload, between two passes or in a pause. */
static void
trainer_reload(void)
{
	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	apply_trainer_nice();
}

/*
 * Sleep ms milliseconds, or until the server shuts down.  A retrain
 * request or a SIGHUP sets the latch too: they do not cut the sleep short
 * (the request is seen at the next pass, the new settings at the next
 * call of trainer_pause).
 */
static void
pause_for(double ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) ms);

	while (!ShutdownRequestPending)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		if (left <= 0)
			break;
		if (WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					  left, PG_WAIT_EXTENSION) & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
}

/*
 * The fits' interrupt callback (fc_interrupt_fn), called every few hundred
 * microseconds of training: interrupts, a configuration reload (so that a
 * new limit or nice value applies within a pause, not after a fit that the
 * old limit may stretch over a minute: PostgreSQL 16's vacuum_delay_point
 * does the same for autovacuum's cost limits), the duty cycle, and true
 * (stop the fit) when the server shuts down.  A reload cannot disturb the
 * fit in progress: its configuration was copied when it began, and
 * live_models_train_due() checks each model's horizon against the new list.
 */
static bool
trainer_pause(void *arg)
{
	CHECK_FOR_INTERRUPTS();
	if (ShutdownRequestPending)
		return true;
	if (ConfigReloadPending)
		trainer_reload();
	if (foresight_trainer_cpu_limit >= 1.0)
		slice_started_us = cpu_time_us();	/* no limit: no debt either */
	else
	{
		int64		used = cpu_time_us() - slice_started_us;

		if (used >= TRAINER_SLICE_US)
		{
			double		sleep_ms;

			/* at most ten slices' debt (work left by a pass, a new limit) */
			used = Min(used, 10 * TRAINER_SLICE_US);
			sleep_ms = used / 1000.0 *
				(1.0 - foresight_trainer_cpu_limit) / foresight_trainer_cpu_limit;

			pause_for(Max(sleep_ms, 1.0));
			slice_started_us = cpu_time_us();
		}
	}
	return ShutdownRequestPending;
}

static void
trainer_detach(int code, Datum arg)
{
	live_models_set_trainer_latch(NULL);
}

void
foresight_trainer_main(Datum main_arg)
{
	MemoryContext cycle_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	/* no database: this only makes the trainer a row of pg_stat_activity */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	errno = 0;
	base_nice = getpriority(PRIO_PROCESS, 0);
	if (errno != 0)
		base_nice = 0;
	apply_trainer_nice();
	live_models_set_trainer_latch(MyLatch);
	before_shmem_exit(trainer_detach, (Datum) 0);
	slice_started_us = cpu_time_us();

	cycle_context = AllocSetContextCreate(TopMemoryContext, "foresight trainer cycle",
										  ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cycle_context);

	while (!ShutdownRequestPending)
	{
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 TRAINER_CYCLE_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
			trainer_reload();
		if (ShutdownRequestPending)
			break;

		MemoryContextReset(cycle_context);
		live_models_train_due(trainer_pause, NULL);
	}
	proc_exit(0);
}
