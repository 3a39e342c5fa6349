/*-------------------------------------------------------------------------
 *
 * auto_tune.h
 *	  Self-tuning weights of the predictive policy (foresight.auto_tune,
 *	  off by default; docs/experiments.md#self-tuning-weights).
 *
 * A bandit (abtest/bandit.h: Thompson sampling) per time bucket (off-peak,
 * and peak as foresight.peak_hours says) over AUTO_TUNE_ARMS arms: arm 0
 * the configured weights (set_weights / the GUCs), arms 1.. a fixed grid
 * of (w_conn, w_load).  At each predictive decision outside experiments
 * the bucket's bandit chooses the weights; when the read ends, its reward
 * is the class's fastest recent answer time among the candidates over its
 * latency (at most 1), so that a load that slows every node is not taken
 * for worse weights.  The state is in shared memory under a spinlock.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_AUTO_TUNE_H
#define FORESIGHT_AUTO_TUNE_H

#include "postgres.h"

#define AUTO_TUNE_ARMS 6		/* the configured weights + 5 grid points */
#define AUTO_TUNE_BUCKETS 2		/* off-peak, peak */

/* what a decision took from the tuner */
typedef struct AutoTuneRef
{
	bool		chosen;			/* false: the tuner did not choose */
	int			arm;
	int			bucket;
	double		fastest_us;		/* the class's fastest recent answer at the decision */
} AutoTuneRef;

extern bool foresight_auto_tune;
extern double foresight_auto_tune_exploration;

extern void auto_tune_define_gucs(void);
extern void auto_tune_shmem_request(void);
extern void auto_tune_shmem_init(void);

/*
 * Choose the weights of a predictive decision: *connection and *load are
 * the configured ones on entry, the chosen arm's on return; ref says which
 * arm (not chosen when auto_tune is off).
 */
extern void auto_tune_choose(bool peak, double *connection, double *load, AutoTuneRef *ref);

/* A read decided with the tuner's weights ended after latency_us. */
extern void auto_tune_record(const AutoTuneRef *ref, int64 latency_us);

#endif							/* FORESIGHT_AUTO_TUNE_H */
