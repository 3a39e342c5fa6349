/*-------------------------------------------------------------------------
 *
 * bandit.h
 *	  The self-tuning weights' bandit (foresight.auto_tune), as plain C
 *	  without server headers: Thompson sampling over a fixed grid of arms,
 *	  with discounted statistics, an exploration bound and a tail guard.
 *
 * Rewards are in [0,1]: the class's fastest recent answer time over the
 * observed latency (router/auto_tune.c), so that a node getting slower
 * for everyone does not look like worse weights.
 *
 * Why Thompson sampling: every backend decides on its own from a copy of
 * the shared statistics, so a deterministic rule (UCB) would send all of
 * them to the same arm until the next update, while Thompson's draws
 * spread them in proportion to the uncertainty; it explores only as much
 * as the arms' rewards overlap, where EXP3 (for adversarial rewards)
 * keeps a fixed share of uniform exploration, which costs tail latency;
 * and its discounted statistics follow a load that changes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_BANDIT_H
#define FORESIGHT_BANDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "abtest/abtest.h"

#define BANDIT_MAX_ARMS 8
/*
 * The statistics' half-life, in seconds of the caller's clock: evidence
 * this old counts half.  By time, not per reward: a discount per reward
 * would keep the last few seconds at a high read rate, in which the arm
 * pulled most is judged on the present load and the others on an older
 * one, and the comparison follows the load instead of the arms.
 */
#define BANDIT_HALF_LIFE_S 120.0
/* a reward under this is a "tail" answer: over 4 x the fastest */
#define BANDIT_TAIL_REWARD 0.25
/* the guard acts once both arms have this much (discounted) evidence */
#define BANDIT_GUARD_MIN 50.0
/* ... and the chosen arm's tail share exceeds the fallback's by this */
#define BANDIT_GUARD_MARGIN 0.05

typedef struct BanditArmStats
{
	double		n;				/* discounted pulls */
	double		sum;			/* discounted sum of rewards */
	double		sumsq;
	double		tail;			/* discounted count of tail rewards */
	uint64_t	pulls;			/* undiscounted, for the view */
} BanditArmStats;

typedef struct Bandit
{
	int			narms;
	BanditArmStats arms[BANDIT_MAX_ARMS];
	double		decisions;		/* discounted */
	double		explorations;	/* discounted: choices other than the greedy arm */
	double		clock;			/* seconds: when the statistics were last discounted */
} Bandit;

typedef enum BanditWhy
{
	BANDIT_GREEDY,				/* the best estimated reward */
	BANDIT_EXPLORE,				/* Thompson's draw, within the exploration bound */
	BANDIT_BOUNDED,				/* Thompson drew another arm; the bound kept the greedy one */
	BANDIT_FALLBACK				/* the greedy arm's tail is past the guard: the fallback arm */
} BanditWhy;

extern void bandit_init(Bandit *b, int narms);

/*
 * Discount every statistic for the time since the last call: now_s is in
 * seconds of any clock that does not go back (an earlier now_s is taken
 * as no time).  Call before bandit_choose() and bandit_update().
 */
extern void bandit_advance(Bandit *b, double now_s);

/* estimated mean reward of an arm, and its standard error */
extern void bandit_estimate(const Bandit *b, int arm, double *mean, double *se);

/* share of an arm's rewards that were tail answers (0 without evidence) */
extern double bandit_tail_share(const Bandit *b, int arm);

/* the arm with the best estimated mean (ties: the lower index) */
extern int	bandit_greedy(const Bandit *b);

/*
 * Choose an arm: Thompson's draw, unless that would take the share of
 * explorations (choices other than the greedy arm) over exploration; the
 * greedy arm falls back to fallback_arm when its tail share is past the
 * guard.  Counts the decision (and the exploration) in b.
 */
extern int	bandit_choose(Bandit *b, AbRandom *r, double exploration, int fallback_arm,
						  BanditWhy *why);

/* the reward of a pull of arm, in [0,1] (clamped) */
extern void bandit_update(Bandit *b, int arm, double reward);

extern const char *bandit_why_name(BanditWhy why);

#endif							/* FORESIGHT_BANDIT_H */
