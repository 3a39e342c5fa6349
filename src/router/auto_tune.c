/*-------------------------------------------------------------------------
 *
 * auto_tune.c
 *	  Self-tuning weights (see auto_tune.h): the GUCs, the shared bandits,
 *	  the choice at a decision, the reward at the end of a read, and the
 *	  view foresight.auto_tune.
 *
 * The grid: w_conn in {0.1, 0.3, 0.5, 0.7, 0.9}, w_load = 1 - w_conn
 * (the score's order depends on the ratio of the weights; their sum only
 * scales it), plus the configured pair as arm 0, which is also where the
 * tail guard falls back to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "abtest/bandit.h"
#include "core/guards.h"
#include "router/auto_tune.h"
#include "router/scoring.h"

bool		foresight_auto_tune = false;
double		foresight_auto_tune_exploration = 0.1;

static const double grid_connection[AUTO_TUNE_ARMS] = {-1, 0.1, 0.3, 0.5, 0.7, 0.9};

typedef struct AutoTuneShared
{
	slock_t		mutex;
	Bandit		bandit[AUTO_TUNE_BUCKETS];
	int			last_arm[AUTO_TUNE_BUCKETS];	/* -1 before the first choice */
	BanditWhy	last_why[AUTO_TUNE_BUCKETS];
} AutoTuneShared;

static AutoTuneShared *tune = NULL;
static AbRandom rng;
static bool rng_seeded = false;

void
auto_tune_define_gucs(void)
{
	DefineCustomBoolVariable("foresight.auto_tune",
							 "Lets a bandit choose the predictive policy's weights from a grid.",
							 "Per time bucket (off-peak, peak hours), from the latencies of the reads it routed.",
							 &foresight_auto_tune,
							 false,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("foresight.auto_tune_exploration",
							 "Largest share of decisions on which the tuner tries weights other than its best.",
							 NULL,
							 &foresight_auto_tune_exploration,
							 0.1, 0.0, 1.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
}

void
auto_tune_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(AutoTuneShared));
}

void
auto_tune_shmem_init(void)
{
	bool		found;

	tune = ShmemInitStruct("pg_foresight auto tune", sizeof(AutoTuneShared), &found);
	if (!found)
	{
		memset(tune, 0, sizeof(AutoTuneShared));
		SpinLockInit(&tune->mutex);
		for (int b = 0; b < AUTO_TUNE_BUCKETS; b++)
		{
			bandit_init(&tune->bandit[b], AUTO_TUNE_ARMS);
			tune->last_arm[b] = -1;
		}
	}
}

/* the bandits' clock: seconds since the PostgreSQL epoch */
static double
seconds_now(void)
{
	return (double) GetCurrentTimestamp() / USECS_PER_SEC;
}

void
auto_tune_choose(bool peak, double *connection, double *load, AutoTuneRef *ref)
{
	int			bucket = peak ? 1 : 0;
	int			arm;
	BanditWhy	why;
	double		now_s;

	ref->chosen = false;
	if (!foresight_auto_tune || tune == NULL)
		return;
	if (!rng_seeded)
	{
		ab_random_seed(&rng, ((uint64) MyProcPid << 32) ^ (uint64) GetCurrentTimestamp());
		rng_seeded = true;
	}
	now_s = seconds_now();
	/* a few draws of arithmetic: short enough for a spinlock */
	SpinLockAcquire(&tune->mutex);
	bandit_advance(&tune->bandit[bucket], now_s);
	arm = bandit_choose(&tune->bandit[bucket], &rng, foresight_auto_tune_exploration, 0, &why);
	tune->last_arm[bucket] = arm;
	tune->last_why[bucket] = why;
	SpinLockRelease(&tune->mutex);

	ref->chosen = true;
	ref->arm = arm;
	ref->bucket = bucket;
	ref->fastest_us = 0.0;
	if (arm > 0)
	{
		*connection = grid_connection[arm];
		*load = 1.0 - grid_connection[arm];
	}
}

void
auto_tune_record(const AutoTuneRef *ref, int64 latency_us)
{
	double		reward;
	double		now_s;

	if (tune == NULL || !ref->chosen || ref->arm < 0 || ref->arm >= AUTO_TUNE_ARMS ||
		ref->bucket < 0 || ref->bucket >= AUTO_TUNE_BUCKETS ||
		ref->fastest_us <= 0.0 || latency_us <= 0)
		return;					/* no scale to judge the latency by */
	reward = Min(1.0, ref->fastest_us / (double) latency_us);
	now_s = seconds_now();
	SpinLockAcquire(&tune->mutex);
	bandit_advance(&tune->bandit[ref->bucket], now_s);
	bandit_update(&tune->bandit[ref->bucket], ref->arm, reward);
	SpinLockRelease(&tune->mutex);
}

PG_FUNCTION_INFO_V1(foresight_auto_tune_list);

/*
 * foresight.auto_tune_list(): per bucket and arm, its weights, pulls,
 * estimated reward and its standard error, tail share, and whether it
 * was the bucket's last choice, with why.
 */
#define AUTO_TUNE_COLS 11

Datum
foresight_auto_tune_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AutoTuneShared copy;

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, AUTO_TUNE_COLS);
	SpinLockAcquire(&tune->mutex);
	memcpy(&copy, tune, sizeof(copy));
	SpinLockRelease(&tune->mutex);

	for (int b = 0; b < AUTO_TUNE_BUCKETS; b++)
	{
		RoutingWeights configured = scoring_weights(b == 1);

		for (int a = 0; a < AUTO_TUNE_ARMS; a++)
		{
			Datum		v[AUTO_TUNE_COLS];
			bool		nulls[AUTO_TUNE_COLS] = {false};
			double		mean,
						se;
			bool		chosen = copy.last_arm[b] == a;

			bandit_estimate(&copy.bandit[b], a, &mean, &se);
			v[0] = CStringGetTextDatum(b == 1 ? "peak" : "off-peak");
			v[1] = Int32GetDatum(a);
			v[2] = Float8GetDatum(a == 0 ? configured.connection : grid_connection[a]);
			v[3] = Float8GetDatum(a == 0 ? configured.load : 1.0 - grid_connection[a]);
			v[4] = BoolGetDatum(a == 0);
			v[5] = Int64GetDatum((int64) copy.bandit[b].arms[a].pulls);
			v[6] = Float8GetDatum(mean);
			v[7] = Float8GetDatum(se);
			v[8] = Float8GetDatum(bandit_tail_share(&copy.bandit[b], a));
			v[9] = BoolGetDatum(chosen);
			v[10] = chosen ? CStringGetTextDatum(bandit_why_name(copy.last_why[b])) : (Datum) 0;
			nulls[10] = !chosen;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
		}
	}
	return (Datum) 0;
}
