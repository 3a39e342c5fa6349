/*-------------------------------------------------------------------------
 *
 * abtest.h
 *	  The statistics of A/B experiments between routing configurations, as
 *	  a plain C library (no server headers, like forecast/): latency
 *	  histograms, their quantiles with confidence intervals, the comparison
 *	  of an arm with the control (bootstrap interval on the ratio of p95
 *	  and of p99, Mann-Whitney U), the sample size a comparison needs, the
 *	  error guard, and the seeded assignment of units to arms.
 *
 * Latencies are kept in a histogram of AB_HIST_BUCKETS geometric buckets
 * (each 2^(1/8), about 9%, wider than the one before) from AB_HIST_MIN_US:
 * a fixed 1.6 kB per arm and request class whatever the traffic, with a
 * quantile error under 5% inside a bucket (values are interpolated
 * geometrically within it).  Every test works on histograms.
 *
 * Unit-tested offline by src/abtest/test/test_abtest.c (A/A false
 * positives, power at the sample size ab_needed_per_arm() asks for).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ABTEST_H
#define FORESIGHT_ABTEST_H

#include <stdbool.h>
#include <stdint.h>

#define AB_HIST_BUCKETS 200
#define AB_HIST_MIN_US 10.0		/* bucket 0 is [0, 10 us) */
#define AB_HIST_STEPS_PER_DOUBLING 8

typedef struct AbHist
{
	uint64_t	counts[AB_HIST_BUCKETS];
} AbHist;

/* --- hist.c --- */

extern int	ab_hist_bucket(double us);
extern void ab_hist_add(AbHist *h, double us);
extern void ab_hist_merge(AbHist *into, const AbHist *from);
extern uint64_t ab_hist_count(const AbHist *h);

/* lower and upper bound of a bucket, in microseconds */
extern void ab_hist_bounds(int bucket, double *lo, double *hi);

/* value at probability p in [0,1] (0 for an empty histogram) */
extern double ab_hist_quantile(const AbHist *h, double p);

/* share of observations below us */
extern double ab_hist_cdf(const AbHist *h, double us);

/*
 * Distribution-free confidence interval of the p-quantile at level
 * 1 - alpha: the quantiles at the ranks p -+ z * sqrt(p (1 - p) / n)
 * (normal approximation of the binomial count below the quantile), with
 * n the observations over their design effect (1: independent; see
 * clusters.c).
 */
extern void ab_hist_quantile_ci(const AbHist *h, double p, double alpha,
								double design_effect, double *lo, double *hi);

/* observations over a design effect, as a whole count of at least 1 */
extern uint64_t ab_effective_count(uint64_t n, double design_effect);

/* --- random.c --- */

typedef struct AbRandom
{
	uint64_t	s[4];
} AbRandom;

extern void ab_random_seed(AbRandom *r, uint64_t seed);
extern uint64_t ab_random_next(AbRandom *r);
extern double ab_random_uniform(AbRandom *r);	/* [0,1) */
extern double ab_random_normal(AbRandom *r);
extern double ab_random_gamma(AbRandom *r, double shape);	/* shape >= 1 */
extern double ab_random_beta(AbRandom *r, double a, double b);

/* standard normal: quantile function and upper tail */
extern double ab_normal_quantile(double p);
extern double ab_normal_sf(double z);

/* 64-bit mix (splitmix64's finaliser) */
extern uint64_t ab_mix64(uint64_t x);

/*
 * Seeded assignment of a unit (a session or a transaction) to an arm:
 * false when the unit is outside the experiment (a share 1 - traffic of
 * units); otherwise *arm in [0, narms), each equally likely.  The same
 * seed and unit always give the same answer.
 */
extern bool ab_assign(uint64_t seed, uint64_t unit, double traffic, int narms,
					  int *arm);

/* --- clusters.c --- */

/*
 * Sums over the observations of an arm (and request class) that tell how
 * much the observations of one unit resemble each other: of y = ln(1 +
 * latency in us), and of each indicator "below bucket b" (see
 * clusters.c).  Plain sums, so that a delta is added under a spinlock and
 * arms' sums are added like histograms.  2,048 bytes.
 */
/*
 * The indicators' thresholds: the lower bound of every AB_CLUSTER_STEP-th
 * bucket (2^(4/8), about 41%, apart): finer would cost each observation
 * more (it updates every threshold) for a design effect that changes
 * slowly with the threshold.
 */
#define AB_CLUSTER_STEP 4
#define AB_CLUSTER_THRESHOLDS (AB_HIST_BUCKETS / AB_CLUSTER_STEP)

typedef struct AbClusters
{
	double		n;				/* observations */
	double		units;			/* units with at least one observation */
	double		sum_y;
	double		sum_y2;
	double		sum_n2;			/* over the units, n_i^2 */
	double		sum_s2_n;		/* over the units, S_i^2 / n_i (S_i: the unit's sum of y) */
	AbHist		hist;			/* the observations these sums cover */
	double		below2_n[AB_CLUSTER_THRESHOLDS];	/* [t], t >= 1: over the
													 * units, (observations
													 * below bucket t * STEP)^2
													 * / n_i */
} AbClusters;

/* one unit's own tallies, kept by whoever observes the unit */
typedef struct AbUnitTally
{
	double		n;
	double		sum_y;
	double		sum_y2;
	uint32_t	counts[AB_CLUSTER_THRESHOLDS];	/* its observations per band
												 * of AB_CLUSTER_STEP buckets */
} AbUnitTally;

/* what one observation adds to the sums */
typedef struct AbClustersDelta
{
	bool		new_unit;		/* the unit's first observation */
	int			bucket;
	double		y;
	double		n2;
	double		s2_n;
	double		below2_n[AB_CLUSTER_THRESHOLDS];
} AbClustersDelta;

/*
 * One observation of a unit: updates the unit's tally and sets *delta to
 * what it adds to the sums, to be added with ab_clusters_add() (where a
 * lock is needed, only that).
 */
extern void ab_clusters_observe(AbUnitTally *unit, double us, AbClustersDelta *delta);
extern void ab_clusters_add(AbClusters *into, const AbClustersDelta *delta);

/*
 * A whole unit's observations at once, from its tally and the histogram
 * of its observations (what they add one by one); for units known only
 * once ended.
 */
extern void ab_clusters_add_unit(AbClusters *into, const AbUnitTally *unit,
								 const AbHist *hist);

/* ANOVA estimate of the intraclass correlation of y, in [0, 1] */
extern double ab_intraclass_correlation(const AbClusters *c);

/*
 * Kish's design effect 1 + (m - 1) rho, m = sum(n_i^2) / n: how many
 * times the variance of n independent observations the clustered ones
 * have.  Of the mean of y (the ranks of Mann-Whitney), and of the share
 * below the p-quantile (the quantile's interval).  1 with one
 * observation per unit, or for NULL or empty sums.
 */
extern double ab_design_effect(const AbClusters *c);
extern double ab_quantile_design_effect(const AbClusters *c, double p);

/* --- compare.c --- */

typedef enum AbVerdict
{
	AB_NOT_ENOUGH_DATA,			/* fewer observations than needed */
	AB_NO_DIFFERENCE,			/* p95 ratio interval contains 1 */
	AB_BETTER,					/* the arm's p95 is lower than the control's */
	AB_WORSE					/* ... higher */
} AbVerdict;

typedef struct AbCompareParams
{
	double		alpha;			/* two-sided level of every test, e.g. 0.05 */
	double		min_effect;		/* relative p95 difference to detect, e.g. 0.2 */
	double		power;			/* probability of detecting it: 0.95 (the tests
								 * ask for 0.9; the margin covers the spread
								 * being estimated) */
	int			resamples;		/* bootstrap resamples, e.g. 2000 */
	uint64_t	seed;			/* of the bootstrap's draws */
	/* how the control's and the arm's observations cluster in units; NULL
	 * (the default): independent */
	const AbClusters *clusters_control;
	const AbClusters *clusters_arm;
} AbCompareParams;

typedef struct AbComparison
{
	uint64_t	n_control;
	uint64_t	n_arm;
	uint64_t	needed_per_arm; /* per arm, for min_effect at power */
	/* arm / control, point estimate and interval at 1 - 0.8 alpha (compare.c) */
	double		p95_ratio,
				p95_ratio_lo,
				p95_ratio_hi;
	double		p99_ratio,
				p99_ratio_lo,
				p99_ratio_hi;
	/* Mann-Whitney U of the arm's latencies against the control's */
	double		mw_u;
	double		mw_z;			/* > 0: the arm is slower */
	double		mw_p;			/* two-sided */
	/* the design effects used: of the p95, of the ranks */
	double		deff_p95_control,
				deff_p95_arm,
				deff_ranks_control,
				deff_ranks_arm;
	AbVerdict	verdict;
} AbComparison;

/* The least number of observations per arm at which a comparison is judged. */
#define AB_MIN_PER_ARM 400

extern void ab_default_params(AbCompareParams *params);

/*
 * Observations per arm needed to detect a relative difference min_effect
 * of the p95 at level alpha with the given power, from the spread of
 * ln(p95 ratio) the bootstrap found with n_control and n_arm
 * observations (that spread shrinks as 1/sqrt(n)): the sample size of a
 * two-sided z test on ln(ratio).  At least AB_MIN_PER_ARM.
 */
extern uint64_t ab_needed_per_arm(uint64_t n_control, uint64_t n_arm, double sd_log,
								  const AbCompareParams *params);

/*
 * Bootstrap percentile interval of quantile(arm, p) / quantile(control, p),
 * and (sd_log, may be NULL) a robust spread of its logarithm:
 * each resample's p-quantile is drawn exactly (the r-th order statistic of
 * n uniforms is Beta(r, n - r + 1), mapped through the histogram's
 * quantile function), so a resample costs two Beta draws, not n values.
 * n is each side's effective count: its observations over their design
 * effect at p (params' clusters).
 */
extern void ab_bootstrap_ratio(const AbHist *control, const AbHist *arm, double p,
							   const AbCompareParams *params,
							   double *ratio, double *lo, double *hi, double *sd_log);

/*
 * Mann-Whitney U with tie correction (ties: the same bucket).  The
 * variance of U, n_c n_a (n_c + n_a + 1) / 12 for independent
 * observations, is n_c n_a (n_c deff_a + n_a deff_c + 1) / 12 for
 * clustered ones (each side's mean rank varies deff times as much).
 */
extern void ab_mann_whitney(const AbHist *control, const AbHist *arm,
							double design_effect_control, double design_effect_arm,
							double *u, double *z, double *p);

/*
 * Compare an arm with the control.  The verdict is the p95 ratio's
 * bootstrap interval (excludes 1: better or worse) once both have
 * needed_per_arm observations; the p99 interval and Mann-Whitney are
 * reported beside it.
 */
extern void ab_compare(const AbHist *control, const AbHist *arm,
					   const AbCompareParams *params, AbComparison *out);

extern const char *ab_verdict_name(AbVerdict v);

/*
 * The error guard: should an arm that failed arm_errors of arm_n queries
 * be stopped, given the control's control_errors of control_n?  Yes when
 * both have AB_GUARD_MIN_QUERIES, the arm's error rate exceeds the
 * control's by at least AB_GUARD_MARGIN, and a one-sided two-proportion z
 * test says so at AB_GUARD_Z (p < 0.001, since it is checked after every
 * error).  *z gets the statistic (0 when not computed).
 */
#define AB_GUARD_MIN_QUERIES 100
#define AB_GUARD_MARGIN 0.01
#define AB_GUARD_Z 3.09

extern bool ab_guard_trips(uint64_t control_n, uint64_t control_errors,
						   uint64_t arm_n, uint64_t arm_errors, double *z);

#endif							/* FORESIGHT_ABTEST_H */
