/*-------------------------------------------------------------------------
 *
 * test_abtest.c
 *	  Unit tests of the experiments' statistics (src/abtest/), output as
 *	  TAP (run with `make abtest-check` or by scripts/test.sh).
 *
 * Synthetic latencies with known effects: A/A experiments must flag a
 * difference in at most 5% of repeated trials at alpha = 0.05, and a 20%
 * p95 difference must be found in at least 90% of trials run with the
 * number of observations ab_needed_per_arm() asks for.  The same with
 * observations that come in units (sessions of 20 to 200 reads that
 * differ in level or in how often they stall), counted by their design
 * effect (clusters.c), where taking them as independent flags an A/A
 * experiment in about 40% of trials.  Everything is seeded, so the counts
 * printed are the same on every run.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abtest/abtest.h"
#include "core/test/tap.h"

/*
 * Latency models, in microseconds.  scale multiplies every latency;
 * tail_scale only the stalls (a CPU-bound neighbour's scheduler delays).
 */
typedef enum Shape
{
	LOGNORMAL,					/* median 300 us, sigma 0.5 */
	STALLS,						/* 90% ~ 250 us, 10% stalls ~ 12 ms */
	HEAVY						/* lognormal, sigma 1.2 */
} Shape;

static const char *shape_names[] = {"lognormal", "stalls", "heavy tail"};

static double
draw(AbRandom *r, Shape shape, double scale, double tail_scale)
{
	switch (shape)
	{
		case LOGNORMAL:
			return scale * 300.0 * exp(0.5 * ab_random_normal(r));
		case STALLS:
			if (ab_random_uniform(r) < 0.10)
				return scale * tail_scale * 12000.0 * exp(0.6 * ab_random_normal(r));
			return scale * 250.0 * exp(0.3 * ab_random_normal(r));
		case HEAVY:
			return scale * 500.0 * exp(1.2 * ab_random_normal(r));
	}
	return 0.0;
}

static void
fill(AbHist *h, AbRandom *r, uint64_t n, Shape shape, double scale, double tail_scale)
{
	memset(h, 0, sizeof(*h));
	for (uint64_t i = 0; i < n; i++)
		ab_hist_add(h, draw(r, shape, scale, tail_scale));
}

static void
test_histogram(void)
{
	AbHist		h;
	AbRandom	r;
	int			monotone = 1;
	int			consistent = 1;

	for (int k = 0; k < AB_HIST_BUCKETS; k++)
	{
		double		lo,
					hi;

		ab_hist_bounds(k, &lo, &hi);
		if (k > 0 && k < AB_HIST_BUCKETS - 1)
		{
			monotone &= hi > lo;
			consistent &= ab_hist_bucket(lo) == k && ab_hist_bucket(hi) == k + 1 &&
				ab_hist_bucket((lo + hi) / 2) == k;
		}
	}
	ok(monotone && consistent, "every bucket holds [lower, upper) of its own bounds");
	ok(ab_hist_bucket(0.0) == 0 && ab_hist_bucket(-5) == 0 && ab_hist_bucket(NAN) == 0 &&
	   ab_hist_bucket(1e12) == AB_HIST_BUCKETS - 1, "out-of-range values go to the end buckets");

	/* quantiles of a uniform 1..100 ms within the bucket resolution */
	memset(&h, 0, sizeof(h));
	for (int i = 1; i <= 100000; i++)
		ab_hist_add(&h, 1000.0 + 99000.0 * (i - 0.5) / 100000.0);
	{
		double		p50 = ab_hist_quantile(&h, 0.5);
		double		p95 = ab_hist_quantile(&h, 0.95);
		double		p99 = ab_hist_quantile(&h, 0.99);

		diag("uniform 1-100 ms: p50 %.0f, p95 %.0f, p99 %.0f us", p50, p95, p99);
		ok(fabs(p50 / 50500.0 - 1) < 0.05 && fabs(p95 / 95050.0 - 1) < 0.05 &&
		   fabs(p99 / 99010.0 - 1) < 0.05, "quantiles within 5%% of the exact ones");
		ok(fabs(ab_hist_cdf(&h, p95) - 0.95) < 1e-6, "the CDF inverts the quantile");
	}
	/* quantile interval: covers the true p95 of a lognormal ~95% of the time */
	ab_random_seed(&r, 42);
	{
		int			covered = 0;
		double		truth = 300.0 * exp(0.5 * 1.6448536);

		for (int t = 0; t < 400; t++)
		{
			double		lo,
						hi;

			fill(&h, &r, 2000, LOGNORMAL, 1.0, 1.0);
			ab_hist_quantile_ci(&h, 0.95, 0.05, 1.0, &lo, &hi);
			covered += lo <= truth && truth <= hi;
		}
		diag("p95 interval covered the true p95 in %d of 400 trials", covered);
		ok(covered >= 360 && covered <= 396, "the quantile interval covers about 95%%");
	}
}

static void
test_random(void)
{
	AbRandom	r;
	double		sum = 0.0;
	int			in = 0;
	int			arms[3] = {0};
	int			stable = 1;

	ok(fabs(ab_normal_quantile(0.975) - 1.959964) < 1e-6 &&
	   fabs(ab_normal_quantile(0.9) - 1.281552) < 1e-6 &&
	   fabs(ab_normal_quantile(0.001) + 3.090232) < 1e-6, "normal quantiles");
	ab_random_seed(&r, 7);
	for (int i = 0; i < 20000; i++)
		sum += ab_random_beta(&r, 95.0, 6.0);
	ok(fabs(sum / 20000 - 95.0 / 101.0) < 0.002, "Beta(95, 6) has mean 95/101 (%.4f)", sum / 20000);

	for (uint64_t unit = 0; unit < 30000; unit++)
	{
		int			arm,
					again;

		if (ab_assign(99, unit, 0.5, 3, &arm))
		{
			in++;
			arms[arm]++;
			stable &= ab_assign(99, unit, 0.5, 3, &again) && again == arm;
			/* a larger share keeps every unit that was in */
			stable &= ab_assign(99, unit, 0.8, 3, &again) && again == arm;
		}
	}
	diag("assignment: %d of 30000 in, arms %d/%d/%d", in, arms[0], arms[1], arms[2]);
	ok(stable, "assignment is the same every time, and raising traffic keeps the units in their arms");
	ok(abs(in - 15000) < 500 && abs(arms[0] - in / 3) < 400 && abs(arms[1] - in / 3) < 400,
	   "traffic 0.5 puts half the units in, spread evenly over 3 arms");
	{
		int			arm,
					moved = 0;

		for (uint64_t unit = 0; unit < 1000; unit++)
		{
			int			a1 = -1,
						a2 = -1;
			bool		i1 = ab_assign(1, unit, 1.0, 2, &a1);
			bool		i2 = ab_assign(2, unit, 1.0, 2, &a2);

			moved += i1 && i2 && a1 != a2;
		}
		ok(moved > 400 && moved < 600 && !ab_assign(1, 1, 0.0, 2, &arm),
		   "another seed is another assignment (%d of 1000 moved); traffic 0 takes none", moved);
	}
}

static void
test_mann_whitney(void)
{
	AbHist		a,
				b;
	AbRandom	r;
	double		u,
				z,
				p;

	ab_random_seed(&r, 3);
	fill(&a, &r, 3000, LOGNORMAL, 1.0, 1.0);
	fill(&b, &r, 3000, LOGNORMAL, 1.3, 1.0);
	ab_mann_whitney(&a, &b, 1.0, 1.0, &u, &z, &p);
	ok(z > 5 && p < 1e-6, "Mann-Whitney: a 30%% slower arm (z = %.1f, p = %.2g)", z, p);
	{
		double		z4;

		ab_mann_whitney(&a, &b, 4.0, 4.0, &u, &z4, &p);
		ok(fabs(z4 - z / 2.0) < 0.01 * fabs(z),
		   "Mann-Whitney: a design effect of 4 on both sides halves z (%.2f against %.2f)", z4, z);
	}
	ab_mann_whitney(&b, &a, 1.0, 1.0, &u, &z, &p);
	ok(z < -5, "Mann-Whitney: the sign says which is slower");
	ab_mann_whitney(&a, &a, 1.0, 1.0, &u, &z, &p);
	ok(fabs(z) < 1e-9 && p > 0.999, "Mann-Whitney of identical samples: z = 0");
}

/* needed observations per arm, as a report on a pilot of 2000 per arm says */
static uint64_t
needed_for(AbRandom *r, Shape shape, double scale, double tail_scale,
		   const AbCompareParams *params)
{
	AbHist		c,
				a;

	AbComparison cmp;

	fill(&c, r, 2000, shape, 1.0, 1.0);
	fill(&a, r, 2000, shape, scale, tail_scale);
	ab_compare(&c, &a, params, &cmp);
	return cmp.needed_per_arm;
}

/*
 * Share of trials with verdict "better" or "worse", each trial run as the
 * report is read: start with n per arm, and while the report says it
 * needs more, add what it asks for; the verdict is the one given once it
 * has enough.
 */
static double
flag_rate(AbRandom *r, int trials, uint64_t n, Shape shape, double scale, double tail_scale,
		  const AbCompareParams *params, int *right_direction, double *n_used)
{
	int			flagged = 0;
	AbHist		c,
				a;
	AbCompareParams p = *params;
	double		used = 0.0;

	*right_direction = 0;
	for (int t = 0; t < trials; t++)
	{
		AbComparison cmp;
		uint64_t	have = n;

		fill(&c, r, n, shape, 1.0, 1.0);
		fill(&a, r, n, shape, scale, tail_scale);
		p.seed = (uint64_t) t + 1000;
		ab_compare(&c, &a, &p, &cmp);
		for (int more = 0; more < 10 && cmp.verdict == AB_NOT_ENOUGH_DATA; more++)
		{
			uint64_t	add = cmp.needed_per_arm > have ? cmp.needed_per_arm - have : 1;

			for (uint64_t i = 0; i < add; i++)
			{
				ab_hist_add(&c, draw(r, shape, 1.0, 1.0));
				ab_hist_add(&a, draw(r, shape, scale, tail_scale));
			}
			have += add;
			ab_compare(&c, &a, &p, &cmp);
		}
		used += (double) have;
		if (cmp.verdict == AB_BETTER || cmp.verdict == AB_WORSE)
		{
			flagged++;
			if ((scale * tail_scale > 1.0) == (cmp.verdict == AB_WORSE))
				(*right_direction)++;
		}
	}
	*n_used = used / trials;
	return (double) flagged / trials;
}

static void
test_aa_and_power(void)
{
	AbCompareParams params;
	AbRandom	r;
	const int	trials = 400;

	ab_default_params(&params);
	ab_random_seed(&r, 2026);

	for (int s = 0; s < 3; s++)
	{
		Shape		shape = (Shape) s;
		uint64_t	n = needed_for(&r, shape, 1.0, 1.0, &params);
		int			dir;
		double		seen;
		double		rate = flag_rate(&r, trials, n, shape, 1.0, 1.0, &params, &dir, &seen);

		diag("A/A %s: n = %llu per arm asked (%.0f used on average), flagged in %.1f%% of %d trials",
			 shape_names[s], (unsigned long long) n, seen, 100 * rate, trials);
		ok(rate <= 0.05, "A/A %s: a difference flagged in at most 5%% of trials (%.1f%%)",
		   shape_names[s], 100 * rate);
	}

	/* a 20% p95 difference, either way, over the whole distribution or its tail only */
	{
		struct
		{
			Shape		shape;
			double		scale;
			double		tail_scale;
			const char *what;
		}			cases[] = {
			{LOGNORMAL, 1.2, 1.0, "lognormal, every latency 20% higher"},
			{LOGNORMAL, 1.0 / 1.2, 1.0, "lognormal, every latency 1/1.2"},
			{HEAVY, 1.2, 1.0, "heavy tail, 20% higher"},
			{STALLS, 1.0, 1.0, "stalls"},	/* tail scale set below */
		};

		for (int i = 0; i < 4; i++)
		{
			double		tail = cases[i].tail_scale;
			uint64_t	n;
			int			dir;
			double		seen;
			double		rate;
			AbHist		c,
						a;

			if (cases[i].shape == STALLS)
			{
				/* the stalls' scale that makes the p95 20% higher */
				double		lo = 1.0,
							hi = 3.0;

				fill(&c, &r, 200000, STALLS, 1.0, 1.0);
				for (int it = 0; it < 30; it++)
				{
					AbRandom	r2;
					double		mid = (lo + hi) / 2;

					ab_random_seed(&r2, 5);
					fill(&a, &r2, 200000, STALLS, 1.0, mid);
					if (ab_hist_quantile(&a, 0.95) / ab_hist_quantile(&c, 0.95) < 1.2)
						lo = mid;
					else
						hi = mid;
				}
				tail = (lo + hi) / 2;
				cases[i].what = "stalls only 20%-higher p95 (median unchanged)";
			}
			n = needed_for(&r, cases[i].shape, cases[i].scale, tail, &params);
			rate = flag_rate(&r, trials, n, cases[i].shape, cases[i].scale, tail, &params, &dir, &seen);
			diag("%s: needs n = %llu per arm (%.0f used on average); found in %.1f%% of %d trials (%d in the right direction)",
				 cases[i].what, (unsigned long long) n, seen, 100 * rate, trials, dir);
			ok(rate >= 0.9 && dir == (int) (rate * trials + 0.5),
			   "20%% p95 difference (%s) found in at least 90%% of trials at the needed n (%.1f%%)",
			   cases[i].what, 100 * rate);
		}
	}

	/* before the needed n the verdict is "not enough data yet" */
	{
		AbHist		c,
					a;
		AbComparison cmp;

		fill(&c, &r, 150, LOGNORMAL, 1.0, 1.0);
		fill(&a, &r, 150, LOGNORMAL, 2.0, 1.0);
		ab_compare(&c, &a, &params, &cmp);
		ok(cmp.verdict == AB_NOT_ENOUGH_DATA && cmp.needed_per_arm >= AB_MIN_PER_ARM &&
		   cmp.p95_ratio > 1.5,
		   "150 per arm: not enough data yet (needs %llu), though the ratio is %.2f",
		   (unsigned long long) cmp.needed_per_arm, cmp.p95_ratio);
	}
}

/*
 * Clustered observations: units (sessions) of 20 to 200 reads, each unit's
 * latencies shifted by its own factor exp(sigma_b * N(0,1)) around the
 * lognormal shape, as a client's reads share its backend, its moments
 * and its keys.
 */
typedef enum UnitEffect
{
	UNIT_LEVEL,					/* every latency of a unit times its factor */
	UNIT_STALLS					/* stalls (as STALLS) at a rate of 10% times
								 * the unit's factor, at most 50% */
} UnitEffect;

typedef struct ClusteredArm
{
	AbHist		hist;
	AbClusters	clusters;
	uint64_t	units;
} ClusteredArm;

#define UNIT_MIN_READS 20
#define UNIT_MAX_READS 200

static void
add_units(AbRandom *r, ClusteredArm *arm, uint64_t units, double scale, double sigma_b,
		  UnitEffect effect)
{
	for (uint64_t u = 0; u < units; u++)
	{
		int			reads = UNIT_MIN_READS +
			(int) (ab_random_uniform(r) * (UNIT_MAX_READS - UNIT_MIN_READS + 1));
		double		shift = exp(sigma_b * ab_random_normal(r));
		double		stall_rate = 0.1 * shift < 0.5 ? 0.1 * shift : 0.5;
		AbUnitTally tally;
		AbHist		unit_hist;

		/* whole units at once, faster than ab_clusters_observe() (checked equal below) */
		memset(&tally, 0, sizeof(tally));
		memset(&unit_hist, 0, sizeof(unit_hist));
		for (int i = 0; i < reads; i++)
		{
			double		us,
						y;
			int			k;

			if (effect == UNIT_LEVEL)
				us = draw(r, LOGNORMAL, scale * shift, 1.0);
			else if (ab_random_uniform(r) < stall_rate)
				us = scale * 12000.0 * exp(0.6 * ab_random_normal(r));
			else
				us = scale * 250.0 * exp(0.3 * ab_random_normal(r));
			k = ab_hist_bucket(us);
			y = log1p(us);
			unit_hist.counts[k]++;
			tally.n += 1.0;
			tally.sum_y += y;
			tally.sum_y2 += y * y;
			tally.counts[k / AB_CLUSTER_STEP]++;
		}
		ab_hist_merge(&arm->hist, &unit_hist);
		ab_clusters_add_unit(&arm->clusters, &tally, &unit_hist);
		arm->units++;
	}
}

static void
compare_clustered(const ClusteredArm *c, const ClusteredArm *a, bool use_deff,
				  AbCompareParams *p, AbComparison *cmp)
{
	p->clusters_control = use_deff ? &c->clusters : NULL;
	p->clusters_arm = use_deff ? &a->clusters : NULL;
	ab_compare(&c->hist, &a->hist, p, cmp);
}

/* flag_rate() for units: start with 30 a side, add units while it asks for more */
static double
clustered_flag_rate(AbRandom *r, int trials, double scale, double sigma_b, UnitEffect effect,
					bool use_deff,
					const AbCompareParams *params, int *right_direction, double *units_used)
{
	const double mean_reads = (UNIT_MIN_READS + UNIT_MAX_READS) / 2.0;
	int			flagged = 0;
	double		used = 0.0;
	static ClusteredArm c,
				a;

	*right_direction = 0;
	for (int t = 0; t < trials; t++)
	{
		AbCompareParams p = *params;
		AbComparison cmp;

		memset(&c, 0, sizeof(c));
		memset(&a, 0, sizeof(a));
		add_units(r, &c, 30, 1.0, sigma_b, effect);
		add_units(r, &a, 30, scale, sigma_b, effect);
		p.seed = (uint64_t) t + 7000;
		compare_clustered(&c, &a, use_deff, &p, &cmp);
		for (int more = 0; more < 10 && cmp.verdict == AB_NOT_ENOUGH_DATA; more++)
		{
			uint64_t	have = cmp.n_control < cmp.n_arm ? cmp.n_control : cmp.n_arm;
			double		short_by = (double) cmp.needed_per_arm - (double) have;
			uint64_t	add = short_by > 0 ? (uint64_t) ceil(short_by / mean_reads) : 1;

			add_units(r, &c, add, 1.0, sigma_b, effect);
			add_units(r, &a, add, scale, sigma_b, effect);
			compare_clustered(&c, &a, use_deff, &p, &cmp);
		}
		used += (double) (c.units + a.units) / 2.0;
		if (cmp.verdict == AB_BETTER || cmp.verdict == AB_WORSE)
		{
			flagged++;
			if ((scale > 1.0) == (cmp.verdict == AB_WORSE))
				(*right_direction)++;
		}
	}
	*units_used = used / trials;
	return (double) flagged / trials;
}

static void
test_clusters(void)
{
	AbRandom	r;
	AbCompareParams params;
	AbClusters	sums;
	AbClustersDelta delta;
	double		rho,
				deff,
				rate,
				used;
	int			dir;
	const int	trials = 300;
	const double sigma_b = 0.2;

	/* one observation per unit: independent, whatever the values */
	memset(&sums, 0, sizeof(sums));
	ab_random_seed(&r, 11);
	for (int i = 0; i < 1000; i++)
	{
		AbUnitTally t;

		memset(&t, 0, sizeof(t));
		ab_clusters_observe(&t, draw(&r, HEAVY, 1.0, 1.0), &delta);
		ab_clusters_add(&sums, &delta);
	}
	ok(ab_design_effect(&sums) == 1.0 && ab_quantile_design_effect(&sums, 0.95) == 1.0 &&
	   sums.units == 1000.0,
	   "clusters: one read per unit has design effect 1");

	/* every unit's reads equal: each unit counts as one observation */
	memset(&sums, 0, sizeof(sums));
	for (int u = 0; u < 50; u++)
	{
		AbUnitTally t;
		double		us = draw(&r, LOGNORMAL, 1.0, 1.0);

		memset(&t, 0, sizeof(t));
		for (int i = 0; i < 40; i++)
		{
			ab_clusters_observe(&t, us, &delta);
			ab_clusters_add(&sums, &delta);
		}
	}
	deff = ab_design_effect(&sums);
	ok(fabs(ab_intraclass_correlation(&sums) - 1.0) < 1e-9 && fabs(deff - 40.0) < 1e-6 &&
	   fabs(ab_quantile_design_effect(&sums, 0.5) - 40.0) < 1e-6,
	   "clusters: 50 units of 40 equal reads have rho 1 and design effect 40 (%.3f)", deff);

	/* read by read (as the server does) or a whole unit at once: the same sums */
	{
		static AbClusters one_by_one,
					at_once;
		double		worst = 0.0;

		memset(&one_by_one, 0, sizeof(one_by_one));
		memset(&at_once, 0, sizeof(at_once));
		for (int u = 0; u < 200; u++)
		{
			AbUnitTally t;
			AbHist		unit_hist;
			int			reads = 1 + (int) (ab_random_uniform(&r) * 60);

			memset(&t, 0, sizeof(t));
			memset(&unit_hist, 0, sizeof(unit_hist));
			for (int i = 0; i < reads; i++)
			{
				double		us = draw(&r, STALLS, 1.0, 1.0);

				ab_hist_add(&unit_hist, us);
				ab_clusters_observe(&t, us, &delta);
				ab_clusters_add(&one_by_one, &delta);
			}
			ab_clusters_add_unit(&at_once, &t, &unit_hist);
		}
		for (int t = 1; t < AB_CLUSTER_THRESHOLDS; t++)
			if (fabs(one_by_one.below2_n[t] - at_once.below2_n[t]) > worst)
				worst = fabs(one_by_one.below2_n[t] - at_once.below2_n[t]);
		ok(one_by_one.n == at_once.n && one_by_one.units == at_once.units &&
		   fabs(one_by_one.sum_s2_n - at_once.sum_s2_n) < 1e-6 * at_once.sum_s2_n &&
		   fabs(one_by_one.sum_y2 - at_once.sum_y2) < 1e-9 * at_once.sum_y2 &&
		   one_by_one.sum_n2 == at_once.sum_n2 && worst < 1e-6 &&
		   memcmp(&one_by_one.hist, &at_once.hist, sizeof(AbHist)) == 0 &&
		   fabs(ab_quantile_design_effect(&one_by_one, 0.95) - ab_quantile_design_effect(&at_once, 0.95)) < 1e-9,
		   "clusters: observed read by read or added a unit at once, the sums are the same (largest difference %.2g)",
		   worst);
	}

	/* the estimate of rho against the model's: sigma_b^2 / (sigma_b^2 + 0.5^2) */
	{
		static ClusteredArm big;
		double		want = sigma_b * sigma_b / (sigma_b * sigma_b + 0.25);

		memset(&big, 0, sizeof(big));
		add_units(&r, &big, 1000, 1.0, sigma_b, UNIT_LEVEL);
		rho = ab_intraclass_correlation(&big.clusters);
		deff = ab_design_effect(&big.clusters);
		ok(fabs(rho - want) < 0.02,
		   "clusters: rho estimated %.3f for %.3f (1,000 units of 20-200 reads), design effect %.1f",
		   rho, want, deff);
	}

	/*
	 * The quantile's design effect against the spread it stands for: over
	 * 200 trials of 100 units an arm, the standard deviation of ln(p95
	 * ratio) between trials, and the one the bootstrap gives each trial
	 * with the p95's design effect (and with y's, which overstates it).
	 */
	{
		static ClusteredArm c,
					a;
		double		s1 = 0,
					s2 = 0,
					boot_q = 0,
					boot_y = 0;
		const int	n_trials = 200;

		ab_default_params(&params);
		ab_random_seed(&r, 99);
		for (int t = 0; t < n_trials; t++)
		{
			double		ratio,
						lo,
						hi,
						sd;
			double		dq,
						dy;

			memset(&c, 0, sizeof(c));
			memset(&a, 0, sizeof(a));
			add_units(&r, &c, 100, 1.0, sigma_b, UNIT_LEVEL);
			add_units(&r, &a, 100, 1.0, sigma_b, UNIT_LEVEL);
			params.seed = (uint64_t) t;
			params.clusters_control = &c.clusters;
			params.clusters_arm = &a.clusters;
			ab_bootstrap_ratio(&c.hist, &a.hist, 0.95, &params, &ratio, &lo, &hi, &sd);
			s1 += log(ratio);
			s2 += log(ratio) * log(ratio);
			boot_q += sd;
			/* the same with y's design effect, through the effective count */
			dq = ab_quantile_design_effect(&c.clusters, 0.95);
			dy = ab_design_effect(&c.clusters);
			boot_y += sd * sqrt(dy / dq);
		}
		{
			double		mean = s1 / n_trials;
			double		truth = sqrt(s2 / n_trials - mean * mean);

			diag("clustered p95 ratio: sd of ln(ratio) over %d trials %.4f; the bootstrap's with the p95's design effect %.4f, with y's %.4f",
				 n_trials, truth, boot_q / n_trials, boot_y / n_trials);
			ok(boot_q / n_trials > 0.8 * truth && boot_q / n_trials < 1.25 * truth,
			   "clusters: the p95's design effect gives the bootstrap the spread of the p95 ratio (%.4f for %.4f)",
			   boot_q / n_trials, truth);
		}
		params.clusters_control = params.clusters_arm = NULL;
	}

	/* Mann-Whitney over units: reported beside the verdict, so checked loosely */
	{
		static ClusteredArm c,
					a;
		int			with = 0,
					without = 0;
		const int	n_trials = 200;

		ab_random_seed(&r, 77);
		for (int t = 0; t < n_trials; t++)
		{
			double		u,
						z,
						p;

			memset(&c, 0, sizeof(c));
			memset(&a, 0, sizeof(a));
			add_units(&r, &c, 100, 1.0, sigma_b, UNIT_LEVEL);
			add_units(&r, &a, 100, 1.0, sigma_b, UNIT_LEVEL);
			ab_mann_whitney(&c.hist, &a.hist, ab_design_effect(&c.clusters),
							ab_design_effect(&a.clusters), &u, &z, &p);
			with += p < 0.05;
			ab_mann_whitney(&c.hist, &a.hist, 1.0, 1.0, &u, &z, &p);
			without += p < 0.05;
		}
		diag("clustered A/A, Mann-Whitney p < 0.05 in %.1f%% of %d trials with the design effect, %.1f%% without",
			 100.0 * with / n_trials, n_trials, 100.0 * without / n_trials);
		ok(with <= n_trials / 10 && without > n_trials / 4,
		   "clusters: Mann-Whitney with the design effect of y: p < 0.05 in %.1f%% of A/A trials (%.1f%% without)",
		   100.0 * with / n_trials, 100.0 * without / n_trials);
	}

	ab_default_params(&params);
	ab_random_seed(&r, 2027);

	/* A/A over units: the reads taken as independent flag far too often */
	rate = clustered_flag_rate(&r, 100, 1.0, sigma_b, UNIT_LEVEL, false, &params, &dir, &used);
	diag("clustered A/A, reads taken as independent: flagged in %.1f%% of 100 trials (%.0f units an arm)",
		 100 * rate, used);
	ok(rate > 0.2, "clustered A/A: without the design effect a difference is flagged in %.1f%% of trials",
	   100 * rate);
	rate = clustered_flag_rate(&r, trials, 1.0, sigma_b, UNIT_LEVEL, true, &params, &dir, &used);
	diag("clustered A/A with the design effect: flagged in %.1f%% of %d trials (%.0f units an arm on average)",
		 100 * rate, trials, used);
	ok(rate <= 0.05, "clustered A/A: with the design effect flagged in at most 5%% of trials (%.1f%%)",
	   100 * rate);

	/* units that differ in how often they stall, not in their level */
	rate = clustered_flag_rate(&r, 200, 1.0, 0.7, UNIT_STALLS, true, &params, &dir, &used);
	diag("clustered A/A, units differing in their stall rate: flagged in %.1f%% of 200 trials (%.0f units an arm on average)",
		 100 * rate, used);
	ok(rate <= 0.05, "clustered A/A, stall rates by unit: flagged in at most 5%% of trials (%.1f%%)",
	   100 * rate);

	/* a 20% p95 difference over units is still found at the size asked for */
	rate = clustered_flag_rate(&r, trials, 1.2, sigma_b, UNIT_LEVEL, true, &params, &dir, &used);
	diag("clustered, every latency 20%% higher: found in %.1f%% of %d trials (%d in the right direction; %.0f units an arm)",
		 100 * rate, trials, dir, used);
	ok(rate >= 0.9 && dir == (int) (rate * trials + 0.5),
	   "clustered: a 20%% p95 difference found in at least 90%% of trials at the size asked for (%.1f%%)",
	   100 * rate);
}

static void
test_guard(void)
{
	double		z;
	bool		trips;

	trips = ab_guard_trips(1000, 5, 50, 10, &z);
	ok(!trips, "guard: not before %d queries of each", AB_GUARD_MIN_QUERIES);
	trips = ab_guard_trips(1000, 5, 400, 40, &z);
	ok(trips && z > AB_GUARD_Z, "guard: 10%% errors against 0.5%% stops the arm (z = %.1f)", z);
	trips = ab_guard_trips(1000, 10, 1000, 14, &z);
	ok(!trips, "guard: 1.4%% against 1%% does not (z = %.1f)", z);
	trips = ab_guard_trips(100000, 100, 100000, 1200, &z);
	ok(trips, "guard: 1.2%% against 0.1%% over many queries does (z = %.1f)", z);
	trips = ab_guard_trips(100000, 100, 100000, 900, &z);
	ok(!trips && z > AB_GUARD_Z,
	   "guard: under the margin of 1 point it does not, though significant (0.9%% against 0.1%%, z = %.1f)", z);
	trips = ab_guard_trips(1000, 100, 1000, 0, &z);
	ok(!trips, "guard: an arm failing less is never stopped");
}

int
main(void)
{
	test_histogram();
	test_random();
	test_mann_whitney();
	test_guard();
	test_aa_and_power();
	test_clusters();
	return tap_done();
}
