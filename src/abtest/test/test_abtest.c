/*-------------------------------------------------------------------------
 *
 * test_abtest.c
 *	  Unit tests of the experiments' statistics (src/abtest/), output as
 *	  TAP (run with `make abtest-check` or by scripts/test.sh).
 *
 * Synthetic latencies with known effects: A/A experiments must flag a
 * difference in at most 5% of repeated trials at alpha = 0.05, and a 20%
 * p95 difference must be found in at least 90% of trials run with the
 * number of observations ab_needed_per_arm() asks for.  Everything is
 * seeded, so the counts printed are the same on every run.
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
			ab_hist_quantile_ci(&h, 0.95, 0.05, &lo, &hi);
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
	ab_mann_whitney(&a, &b, &u, &z, &p);
	ok(z > 5 && p < 1e-6, "Mann-Whitney: a 30%% slower arm (z = %.1f, p = %.2g)", z, p);
	ab_mann_whitney(&b, &a, &u, &z, &p);
	ok(z < -5, "Mann-Whitney: the sign says which is slower");
	ab_mann_whitney(&a, &a, &u, &z, &p);
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
	return tap_done();
}
