/*-------------------------------------------------------------------------
 *
 * experiment.c
 *	  Experiments in shared memory (see experiment.h): the table of
 *	  experiments, the assignment of a read to an arm at its routing
 *	  decision, the statistics of each arm and request class, and the
 *	  error guard that stops an arm failing more than the control.
 *
 * Layout: foresight.max_experiments slots, each a header and
 * foresight.experiment_max_arms arms, each arm with REQUEST_CLASS_COUNT
 * ArmClassStats.  The definitions (status, arms, their settings, stopped
 * arms) are under the LWLock tranche "pg_foresight experiments"; each
 * arm's counters under its own spinlock (a few increments).  At most one
 * experiment runs at a time; its id is in an atomic, so a read when none
 * runs costs one atomic read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "router/experiment.h"
#include "router/policy.h"
#include "stats/history_persist.h"

int			foresight_max_experiments = 4;
int			foresight_experiment_max_arms = 4;

typedef struct ExperimentArm
{
	char		name[NAMEDATALEN];
	ArmSettings settings;
	bool		stopped;
	char		stop_reason[192];
	slock_t		mutex;			/* the counters below */
	int64		units;			/* sessions, or transactions, assigned to it */
	ArmClassStats cls[REQUEST_CLASS_COUNT];
	AbClusters	clusters[ARM_CLUSTER_SLOTS];	/* the units' design effect */
} ExperimentArm;

typedef struct Experiment
{
	uint32		id;				/* 0 when the slot is free */
	char		name[NAMEDATALEN];
	ExperimentStatus status;
	ExperimentUnit unit;
	double		traffic;
	int64		seed;
	int			narms;
	int			control;
	TimestampTz started_at;
	TimestampTz stopped_at;
	char		stop_reason[192];
	ExperimentArm arms[FLEXIBLE_ARRAY_MEMBER];
} Experiment;

typedef struct ExperimentsShared
{
	LWLock	   *lock;
	pg_atomic_uint32 running_id;	/* 0: none runs */
	uint32		next_id;
	int			running_slot;
} ExperimentsShared;

static ExperimentsShared *shared = NULL;
static char *slots = NULL;

/* this transaction's arm */
static LocalTransactionId assigned_lxid = InvalidLocalTransactionId;
static ExperimentArmRef assigned;

/* the experiment (its id) this session counted itself in as a unit */
static uint32 session_counted_in = 0;

/*
 * The unit this backend's latest recorded read was of, and that unit's
 * own tallies (abtest.h, AbUnitTally) per request class and over all: a
 * unit is observed by one backend only, so they live here, and shared
 * memory gets what each read adds to the arm's sums.
 */
static struct
{
	uint32		id;				/* experiment; 0: none yet */
	int			arm;
	uint64		unit;
	AbUnitTally tally[ARM_CLUSTER_SLOTS];
}			observed_unit;

static Size
slot_size(void)
{
	return MAXALIGN(add_size(offsetof(Experiment, arms),
							 mul_size(sizeof(ExperimentArm), foresight_experiment_max_arms)));
}

static Experiment *
slot_at(int i)
{
	return (Experiment *) (slots + i * slot_size());
}

Size
experiment_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(ExperimentsShared)),
					mul_size(slot_size(), foresight_max_experiments));
}

void
experiment_define_gucs(void)
{
	DefineCustomIntVariable("foresight.max_experiments",
							"Experiments kept in shared memory, running or stopped.",
							"Each takes about 17 kB per arm of foresight.experiment_max_arms.",
							&foresight_max_experiments,
							4, 1, 64,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.experiment_max_arms",
							"Most arms of one experiment.",
							NULL,
							&foresight_experiment_max_arms,
							4, 2, 16,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	history_persist_register_section("experiments", experiment_persist_save,
									 experiment_persist_load);
}

void
experiment_shmem_request(void)
{
	RequestAddinShmemSpace(experiment_shmem_size());
	RequestNamedLWLockTranche("pg_foresight experiments", 1);
}

void
experiment_shmem_init(void)
{
	bool		found;

	shared = ShmemInitStruct("pg_foresight experiments", experiment_shmem_size(), &found);
	slots = (char *) shared + MAXALIGN(sizeof(ExperimentsShared));
	if (!found)
	{
		memset(shared, 0, experiment_shmem_size());
		shared->lock = &(GetNamedLWLockTranche("pg_foresight experiments"))->lock;
		pg_atomic_init_u32(&shared->running_id, 0);
		shared->next_id = 1;
		shared->running_slot = -1;
		for (int i = 0; i < foresight_max_experiments; i++)
			for (int a = 0; a < foresight_experiment_max_arms; a++)
				SpinLockInit(&slot_at(i)->arms[a].mutex);
	}
}

/* the unit a read is assigned by: its session, or its transaction too */
static uint64
unit_key(ExperimentUnit unit)
{
	uint64		session = ab_mix64(((uint64) MyProcPid << 32) ^ (uint64) MyStartTimestamp);

	if (unit == EXPERIMENT_UNIT_QUERY)
		return ab_mix64(session ^ ab_mix64((uint64) MyProc->lxid));
	return session;
}

bool
experiment_is_running(void)
{
	return shared != NULL && pg_atomic_read_u32(&shared->running_id) != 0;
}

void
experiment_assign(struct RouteDecision *d)
{
	uint32		running;

	if (shared == NULL)
	{
		d->arm.slot = -1;
		return;
	}
	/* one arm per transaction: decided at its first read, kept to its end */
	if (assigned_lxid == MyProc->lxid && assigned_lxid != InvalidLocalTransactionId)
	{
		d->arm = assigned;
		return;
	}
	assigned.slot = -1;
	running = pg_atomic_read_u32(&shared->running_id);
	if (running != 0)
	{
		LWLockAcquire(shared->lock, LW_SHARED);
		if (shared->running_slot >= 0 && slot_at(shared->running_slot)->id == running)
		{
			Experiment *e = slot_at(shared->running_slot);
			int			arm;

			if (ab_assign((uint64) e->seed, unit_key(e->unit), e->traffic, e->narms, &arm) &&
				!e->arms[arm].stopped)
			{
				/*
				 * A new unit of the arm: each transaction when the unit is
				 * the query, a session once per experiment.
				 */
				if (e->unit == EXPERIMENT_UNIT_QUERY || session_counted_in != e->id)
				{
					SpinLockAcquire(&e->arms[arm].mutex);
					e->arms[arm].units++;
					SpinLockRelease(&e->arms[arm].mutex);
					session_counted_in = e->id;
				}
				assigned.slot = shared->running_slot;
				assigned.id = e->id;
				assigned.arm = arm;
				assigned.unit = unit_key(e->unit);
				assigned.settings = e->arms[arm].settings;
				strlcpy(assigned.experiment, e->name, NAMEDATALEN);
				strlcpy(assigned.arm_name, e->arms[arm].name, NAMEDATALEN);
			}
		}
		LWLockRelease(shared->lock);
	}
	assigned_lxid = MyProc->lxid;
	d->arm = assigned;
}

static void
arm_totals(ExperimentArm *a, int64 *queries, int64 *errors)
{
	*queries = *errors = 0;
	SpinLockAcquire(&a->mutex);
	for (int c = 0; c < REQUEST_CLASS_COUNT; c++)
	{
		*queries += a->cls[c].queries + a->cls[c].failed;
		*errors += a->cls[c].errors;
	}
	SpinLockRelease(&a->mutex);
}

/*
 * The guard (abtest.h, ab_guard_trips): after an error of a non-control
 * arm, compare its error rate with the control's; stop the arm when it
 * fails significantly and materially more.  Its units then read with the
 * configured settings, outside the experiment.
 */
static void
check_guard(int slot, uint32 id, int arm)
{
	Experiment *e = slot_at(slot);
	int64		cn,
				ce,
				an,
				ae;
	double		z;
	char		reason[192];

	if (arm == e->control)
		return;
	arm_totals(&e->arms[e->control], &cn, &ce);
	arm_totals(&e->arms[arm], &an, &ae);
	if (!ab_guard_trips((uint64) cn, (uint64) ce, (uint64) an, (uint64) ae, &z))
		return;
	snprintf(reason, sizeof(reason),
			 "stopped by the error guard: %.1f%% of %lld queries failed against %.1f%% of %lld for the control (z = %.1f)",
			 100.0 * ae / an, (long long) an, 100.0 * ce / cn, (long long) cn, z);
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (e->id == id && !e->arms[arm].stopped)
	{
		e->arms[arm].stopped = true;
		strlcpy(e->arms[arm].stop_reason, reason, sizeof(e->arms[arm].stop_reason));
		LWLockRelease(shared->lock);
		ereport(LOG,
				(errmsg("pg_foresight: experiment \"%s\": arm \"%s\" %s",
						e->name, e->arms[arm].name, reason)));
		return;
	}
	LWLockRelease(shared->lock);
}

void
experiment_record(const struct RouteDecision *d, int64 elapsed_us, bool error, bool hedged)
{
	const ExperimentArmRef *r = &d->arm;
	Experiment *e;
	ExperimentArm *a;
	ArmClassStats *s;
	AbClustersDelta delta[2];
	int			cls = d->request_class;

	if (shared == NULL || r->slot < 0 || r->slot >= foresight_max_experiments ||
		cls < 0 || cls >= REQUEST_CLASS_COUNT)
		return;
	e = slot_at(r->slot);
	/* the slot may have been dropped and reused meanwhile: the id says */
	if (e->id != r->id || r->arm >= foresight_experiment_max_arms)
		return;
	a = &e->arms[r->arm];
	if (elapsed_us >= 0)
	{
		/* a read of a unit other than the last one observed starts its tallies */
		if (observed_unit.id != r->id || observed_unit.arm != r->arm ||
			observed_unit.unit != r->unit)
		{
			memset(&observed_unit, 0, sizeof(observed_unit));
			observed_unit.id = r->id;
			observed_unit.arm = r->arm;
			observed_unit.unit = r->unit;
		}
		ab_clusters_observe(&observed_unit.tally[cls], (double) elapsed_us, &delta[0]);
		ab_clusters_observe(&observed_unit.tally[ARM_CLUSTER_ALL], (double) elapsed_us,
							&delta[1]);
	}
	SpinLockAcquire(&a->mutex);
	s = &a->cls[cls];
	if (error)
		s->errors++;
	if (elapsed_us >= 0)
	{
		s->queries++;
		s->hist.counts[ab_hist_bucket((double) elapsed_us)]++;
		ab_clusters_add(&a->clusters[cls], &delta[0]);
		ab_clusters_add(&a->clusters[ARM_CLUSTER_ALL], &delta[1]);
	}
	else
		s->failed++;
	if (hedged)
		s->hedged++;
	if (d->queue_wait_us > 0)
	{
		s->queued++;
		s->queue_wait_us += (double) d->queue_wait_us;
	}
	SpinLockRelease(&a->mutex);
	if (error && e->status == EXPERIMENT_RUNNING)
		check_guard(r->slot, r->id, r->arm);
}

static int
find_locked(const char *name)
{
	for (int i = 0; i < foresight_max_experiments; i++)
		if (slot_at(i)->id != 0 && strcmp(slot_at(i)->name, name) == 0)
			return i;
	return -1;
}

static void
clear_slot(Experiment *e)
{
	e->id = 0;
	e->status = EXPERIMENT_FREE;
	for (int a = 0; a < foresight_experiment_max_arms; a++)
	{
		ExperimentArm *arm = &e->arms[a];

		SpinLockAcquire(&arm->mutex);
		arm->units = 0;
		memset(arm->cls, 0, sizeof(arm->cls));
		memset(arm->clusters, 0, sizeof(arm->clusters));
		SpinLockRelease(&arm->mutex);
		arm->stopped = false;
		arm->stop_reason[0] = '\0';
	}
}

/*
 * A slot for a new experiment: a free one, else the one stopped longest
 * ago (its statistics are lost); -1 if none (all running: cannot be, at
 * most one runs, unless max_experiments is 1).
 */
static int
free_slot_locked(void)
{
	int			oldest = -1;

	for (int i = 0; i < foresight_max_experiments; i++)
	{
		Experiment *e = slot_at(i);

		if (e->id == 0)
			return i;
		if (e->status != EXPERIMENT_RUNNING &&
			(oldest < 0 || e->stopped_at < slot_at(oldest)->stopped_at))
			oldest = i;
	}
	return oldest;
}

void
experiment_start(const char *name, ExperimentUnit unit, double traffic, int64 seed,
				 int narms, char (*arm_names)[NAMEDATALEN], const ArmSettings *settings,
				 int control)
{
	int			slot;
	Experiment *e;

	foresight_require_shmem();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (find_locked(name) >= 0)
	{
		LWLockRelease(shared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("experiment \"%s\" already exists", name),
				 errhint("Choose another name, or remove it first with foresight.drop_experiment().")));
	}
	if (shared->running_slot >= 0)
	{
		char		running[NAMEDATALEN];

		strlcpy(running, slot_at(shared->running_slot)->name, NAMEDATALEN);
		LWLockRelease(shared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("experiment \"%s\" is running", running),
				 errdetail("One experiment runs at a time, so that a read belongs to one arm."),
				 errhint("Stop it first with foresight.stop_experiment('%s').", running)));
	}
	slot = free_slot_locked();
	if (slot < 0)
	{
		LWLockRelease(shared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("no room for another experiment"),
				 errhint("Raise foresight.max_experiments (a restart is needed).")));
	}
	e = slot_at(slot);
	clear_slot(e);
	e->id = shared->next_id++;
	if (shared->next_id == 0)
		shared->next_id = 1;
	strlcpy(e->name, name, NAMEDATALEN);
	e->status = EXPERIMENT_RUNNING;
	e->unit = unit;
	e->traffic = traffic;
	e->seed = seed;
	e->narms = narms;
	e->control = control;
	e->started_at = GetCurrentTimestamp();
	e->stopped_at = 0;
	e->stop_reason[0] = '\0';
	for (int a = 0; a < narms; a++)
	{
		strlcpy(e->arms[a].name, arm_names[a], NAMEDATALEN);
		e->arms[a].settings = settings[a];
	}
	shared->running_slot = slot;
	pg_atomic_write_u32(&shared->running_id, e->id);
	LWLockRelease(shared->lock);
}

bool
experiment_set_status(const char *name, ExperimentStatus status, const char *reason)
{
	int			slot;
	Experiment *e;

	foresight_require_shmem();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot = find_locked(name);
	if (slot < 0)
	{
		LWLockRelease(shared->lock);
		return false;
	}
	e = slot_at(slot);
	if (e->status == EXPERIMENT_RUNNING)
		e->stopped_at = GetCurrentTimestamp();
	e->status = status;
	strlcpy(e->stop_reason, reason, sizeof(e->stop_reason));
	if (shared->running_slot == slot)
	{
		shared->running_slot = -1;
		pg_atomic_write_u32(&shared->running_id, 0);
	}
	LWLockRelease(shared->lock);
	return true;
}

bool
experiment_drop(const char *name)
{
	int			slot;

	foresight_require_shmem();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot = find_locked(name);
	if (slot >= 0)
	{
		if (shared->running_slot == slot)
		{
			shared->running_slot = -1;
			pg_atomic_write_u32(&shared->running_id, 0);
		}
		clear_slot(slot_at(slot));
	}
	LWLockRelease(shared->lock);
	return slot >= 0;
}

/* copy slot e (the lock held) */
static void
copy_locked(Experiment *e, ExperimentCopy *out)
{
	out->id = e->id;
	strlcpy(out->name, e->name, NAMEDATALEN);
	out->status = e->status;
	out->unit = e->unit;
	out->traffic = e->traffic;
	out->seed = e->seed;
	out->narms = e->narms;
	out->control = e->control;
	out->started_at = e->started_at;
	out->stopped_at = e->stopped_at;
	strlcpy(out->stop_reason, e->stop_reason, sizeof(out->stop_reason));
	for (int a = 0; a < e->narms; a++)
	{
		ExperimentArm *arm = &e->arms[a];

		strlcpy(out->arms[a].name, arm->name, NAMEDATALEN);
		out->arms[a].settings = arm->settings;
		out->arms[a].stopped = arm->stopped;
		strlcpy(out->arms[a].stop_reason, arm->stop_reason, sizeof(out->arms[a].stop_reason));
		SpinLockAcquire(&arm->mutex);
		out->arms[a].units = arm->units;
		memcpy(out->arms[a].cls, arm->cls, sizeof(arm->cls));
		memcpy(out->arms[a].clusters, arm->clusters, sizeof(arm->clusters));
		SpinLockRelease(&arm->mutex);
	}
}

bool
experiment_copy(const char *name, ExperimentCopy *out)
{
	int			slot;

	foresight_require_shmem();
	out->arms = palloc0(sizeof(*out->arms) * foresight_experiment_max_arms);
	LWLockAcquire(shared->lock, LW_SHARED);
	slot = find_locked(name);
	if (slot >= 0)
		copy_locked(slot_at(slot), out);
	LWLockRelease(shared->lock);
	return slot >= 0;
}

int
experiment_copy_all(ExperimentCopy **out)
{
	int			n = 0;

	foresight_require_shmem();
	*out = palloc0(sizeof(ExperimentCopy) * foresight_max_experiments);
	for (int i = 0; i < foresight_max_experiments; i++)
		(*out)[i].arms = palloc0(sizeof(*(*out)[i].arms) * foresight_experiment_max_arms);
	LWLockAcquire(shared->lock, LW_SHARED);
	for (int i = 0; i < foresight_max_experiments; i++)
		if (slot_at(i)->id != 0)
			copy_locked(slot_at(i), &(*out)[n++]);
	LWLockRelease(shared->lock);
	return n;
}

bool
experiment_restore(const ExperimentCopy *c)
{
	int			slot = -1;
	Experiment *e;

	if (shared == NULL || c->narms < 2 || c->narms > foresight_experiment_max_arms ||
		c->control < 0 || c->control >= c->narms)
		return false;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (find_locked(c->name) < 0)
		for (int i = 0; i < foresight_max_experiments && slot < 0; i++)
			if (slot_at(i)->id == 0)
				slot = i;
	/* a second running one (cannot be saved so) is restored stopped */
	if (slot >= 0)
	{
		e = slot_at(slot);
		clear_slot(e);
		e->id = shared->next_id++;
		strlcpy(e->name, c->name, NAMEDATALEN);
		e->status = c->status == EXPERIMENT_RUNNING && shared->running_slot >= 0 ?
			EXPERIMENT_STOPPED : c->status;
		e->unit = c->unit;
		e->traffic = c->traffic;
		e->seed = c->seed;
		e->narms = c->narms;
		e->control = c->control;
		e->started_at = c->started_at;
		e->stopped_at = c->stopped_at;
		strlcpy(e->stop_reason, c->stop_reason, sizeof(e->stop_reason));
		for (int a = 0; a < c->narms; a++)
		{
			strlcpy(e->arms[a].name, c->arms[a].name, NAMEDATALEN);
			e->arms[a].settings = c->arms[a].settings;
			e->arms[a].stopped = c->arms[a].stopped;
			strlcpy(e->arms[a].stop_reason, c->arms[a].stop_reason, sizeof(e->arms[a].stop_reason));
			e->arms[a].units = c->arms[a].units;
			memcpy(e->arms[a].cls, c->arms[a].cls, sizeof(e->arms[a].cls));
			memcpy(e->arms[a].clusters, c->arms[a].clusters, sizeof(e->arms[a].clusters));
		}
		if (e->status == EXPERIMENT_RUNNING)
		{
			shared->running_slot = slot;
			pg_atomic_write_u32(&shared->running_id, e->id);
		}
	}
	LWLockRelease(shared->lock);
	return slot >= 0;
}
