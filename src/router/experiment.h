/*-------------------------------------------------------------------------
 *
 * experiment.h
 *	  A/B experiments between routing configurations in the running
 *	  system (docs/experiments.md).
 *
 * An experiment has two or more arms, each a set of routing settings
 * (ArmSettings) that override the configured ones for the reads assigned
 * to it.  At each routing decision (policy_decide) the read's unit (its
 * session, or its transaction) is hashed with the experiment's seed: a
 * share "traffic" of the units is in the experiment, spread evenly over
 * its arms.  The arm is kept for the rest of the transaction, whatever
 * happens to the experiment meanwhile.  The decision carries the arm's
 * settings (ExperimentArmRef), and the policy, the predictive score and
 * hedging read them there instead of the GUCs: nothing is SET.
 *
 * Per arm and request class, shared memory holds a latency histogram
 * (abtest/abtest.h), queries, errors, hedges and queue waits, and the
 * sums that give the design effect of the reads' units; they are saved
 * as the section "experiments" of the history file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_EXPERIMENT_H
#define FORESIGHT_EXPERIMENT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "abtest/abtest.h"
#include "stats/request_class.h"

/* which settings an arm sets: bits of ArmSettings.set */
typedef enum ArmSettingBit
{
	ARM_ROUTING_POLICY = 1 << 0,
	ARM_INCLUDE_LOCAL = 1 << 1,
	ARM_MAX_REPLICATION_LAG = 1 << 2,
	ARM_WEIGHT_CONNECTION = 1 << 3,
	ARM_WEIGHT_LOAD = 1 << 4,
	ARM_PEAK_WEIGHT_CONNECTION = 1 << 5,
	ARM_PEAK_WEIGHT_LOAD = 1 << 6,
	ARM_HEDGE_FACTOR = 1 << 7,
	ARM_HEDGE_MIN_DELAY = 1 << 8,
	ARM_PREDICTION_MODEL = 1 << 9
} ArmSettingBit;

#define ARM_WEIGHTS (ARM_WEIGHT_CONNECTION | ARM_WEIGHT_LOAD | \
					 ARM_PEAK_WEIGHT_CONNECTION | ARM_PEAK_WEIGHT_LOAD)

typedef struct ArmSettings
{
	uint32		set;			/* ArmSettingBit: the others are the configured ones */
	int			routing_policy;
	bool		include_local;
	int			max_replication_lag;	/* ms, -1 = no limit */
	double		weight_connection;
	double		weight_load;
	double		peak_weight_connection;
	double		peak_weight_load;
	double		hedge_factor;
	int			hedge_min_delay;	/* ms */
	int			prediction_model;	/* PredictionModel (predictive_score.h);
									 * takes the padding that ended the struct,
									 * so its size, which the history file's
									 * loader checks, is unchanged on 64-bit
									 * builds and saved experiments load */
} ArmSettings;

/* The arm one routing decision is in. */
typedef struct ExperimentArmRef
{
	int			slot;			/* experiment slot, -1: in no experiment */
	uint32		id;				/* the experiment's id (a slot is reused) */
	int			arm;
	uint64		unit;			/* the unit (session or transaction) it is of */
	ArmSettings settings;
	char		experiment[NAMEDATALEN];
	char		arm_name[NAMEDATALEN];
} ExperimentArmRef;

typedef enum ExperimentUnit
{
	EXPERIMENT_UNIT_SESSION,
	EXPERIMENT_UNIT_QUERY
} ExperimentUnit;

typedef enum ExperimentStatus
{
	EXPERIMENT_FREE,
	EXPERIMENT_RUNNING,
	EXPERIMENT_STOPPED,
	EXPERIMENT_PROMOTED
} ExperimentStatus;

/* Statistics of one arm and request class. */
typedef struct ArmClassStats
{
	int64		queries;		/* finished, with a latency */
	int64		failed;			/* ended in an error (no latency) */
	int64		errors;			/* a node failed: retried, or failed */
	int64		hedged;			/* a hedge was sent */
	int64		queued;			/* waited in the admission queue */
	double		queue_wait_us;	/* total */
	AbHist		hist;			/* latencies, microseconds */
} ArmClassStats;

/*
 * How much an arm's reads of one unit resemble each other (abtest.h,
 * AbClusters): per request class, and at ARM_CLUSTER_ALL over every class
 * (a unit's reads of all classes together are a cluster of their own,
 * which the classes' sums cannot give).
 */
#define ARM_CLUSTER_ALL REQUEST_CLASS_COUNT
#define ARM_CLUSTER_SLOTS (REQUEST_CLASS_COUNT + 1)

/* A consistent copy of one experiment, for the SQL functions. */
typedef struct ExperimentCopy
{
	uint32		id;
	char		name[NAMEDATALEN];
	ExperimentStatus status;
	ExperimentUnit unit;
	double		traffic;
	int64		seed;
	int			narms;
	int			control;
	TimestampTz started_at;
	TimestampTz stopped_at;		/* 0 while running */
	char		stop_reason[192];
	struct
	{
		char		name[NAMEDATALEN];
		ArmSettings settings;
		bool		stopped;
		char		stop_reason[192];
		int64		units;		/* sessions, or transactions, assigned */
		ArmClassStats cls[REQUEST_CLASS_COUNT];
		AbClusters	clusters[ARM_CLUSTER_SLOTS];
	}		   *arms;			/* narms, palloc'd */
} ExperimentCopy;

/* GUCs */
extern int	foresight_max_experiments;
extern int	foresight_experiment_max_arms;

extern void experiment_define_gucs(void);
extern void experiment_shmem_request(void);
extern void experiment_shmem_init(void);
extern Size experiment_shmem_size(void);

/* --- experiment.c: the running side --- */

struct RouteDecision;

/*
 * The arm of the current transaction's reads (assigned at its first
 * decision), into decision->arm; slot -1 when the read is in no
 * experiment.
 */
extern void experiment_assign(struct RouteDecision *decision);

/* Is an experiment running (its reads assigned to arms)? */
extern bool experiment_is_running(void);

/* A routed read ended: its latency (or -1), whether a node failed, hedged. */
extern void experiment_record(const struct RouteDecision *decision, int64 elapsed_us,
							  bool error, bool hedged);

/* start/stop/drop, under the lock; errors are raised by the callers' checks */
extern void experiment_start(const char *name, ExperimentUnit unit, double traffic,
							 int64 seed, int narms, char (*arm_names)[NAMEDATALEN],
							 const ArmSettings *settings, int control);
extern bool experiment_set_status(const char *name, ExperimentStatus status,
								  const char *reason);
extern bool experiment_drop(const char *name);

/* copies: of one (false if there is none of that name), or of all */
extern bool experiment_copy(const char *name, ExperimentCopy *out);
extern int	experiment_copy_all(ExperimentCopy **out);

/* persistence (experiment_persist.c): the history file's section */
extern void experiment_persist_save(StringInfo buf);
extern void experiment_persist_load(const char *data, size_t len);
/* used by the loader: put a saved experiment back into a free slot */
extern bool experiment_restore(const ExperimentCopy *copy);

/* --- experiment_arms.c: arms as jsonb --- */

/*
 * Parse and check start_experiment's arms: at most max_arms, each an
 * object of known settings with valid values; raises the error.
 */
extern int	experiment_parse_arms(Jsonb *arms, int max_arms,
								  char (*names)[NAMEDATALEN], ArmSettings *settings);

/* An arm's settings as jsonb text, setting names without "foresight.". */
extern char *experiment_arm_json(const ArmSettings *settings);

/* Each setting an arm sets as its GUC's name and value; how many. */
#define ARM_MAX_SETTINGS 10
extern int	experiment_arm_gucs(const ArmSettings *settings, const char **names,
								char **values);

/* The settings in force for a decision: the arm's, else the configured ones. */
static inline int
arm_int(const ExperimentArmRef *r, uint32 bit, int arm_value, int configured)
{
	return r->slot >= 0 && (r->settings.set & bit) ? arm_value : configured;
}

static inline double
arm_double(const ExperimentArmRef *r, uint32 bit, double arm_value, double configured)
{
	return r->slot >= 0 && (r->settings.set & bit) ? arm_value : configured;
}

#endif							/* FORESIGHT_EXPERIMENT_H */
