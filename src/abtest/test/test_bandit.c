/*-------------------------------------------------------------------------
 *
 * test_bandit.c
 *	  Unit tests of the self-tuning weights' bandit (src/abtest/bandit.c),
 *	  output as TAP: it finds the best arm of a grid, keeps exploration
 *	  within its bound, follows a change of the best arm, keeps the best
 *	  arm under a load that comes and goes, falls back when
 *	  the best arm's tail degrades, and never leaves the grid.  Seeded.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "abtest/bandit.h"
#include "core/test/tap.h"

/* a reward of mean m: noisy, in [0,1], a share tail of them tail answers */
static double
reward(AbRandom *r, double m, double tail)
{
	double		x;

	if (ab_random_uniform(r) < tail)
		return 0.1;
	x = m + 0.15 * ab_random_normal(r);
	return x < 0 ? 0 : (x > 1 ? 1 : x);
}

/* the simulated clock: this many decisions a second */
#define DECISIONS_PER_SECOND 100.0
static double clock_s = 1.0;

static void
run(Bandit *b, AbRandom *r, int steps, const double *means, const double *tails,
	double exploration, int fallback, int *best_pulls_last, int best, int *explored,
	int *fallbacks, int *outside)
{
	*best_pulls_last = *explored = *fallbacks = *outside = 0;
	for (int t = 0; t < steps; t++)
	{
		BanditWhy	why;
		int			arm;

		clock_s += 1.0 / DECISIONS_PER_SECOND;
		bandit_advance(b, clock_s);
		arm = bandit_choose(b, r, exploration, fallback, &why);

		if (arm < 0 || arm >= b->narms)
		{
			(*outside)++;
			continue;
		}
		*explored += why == BANDIT_EXPLORE;
		*fallbacks += why == BANDIT_FALLBACK;
		if (t >= steps - steps / 4 && arm == best)
			(*best_pulls_last)++;
		bandit_update(b, arm, reward(r, means[arm], tails[arm]));
	}
}

int
main(void)
{
	Bandit		b;
	AbRandom	r;
	double		means[6] = {0.50, 0.55, 0.60, 0.72, 0.66, 0.40};
	double		tails[6] = {0};
	int			best_last,
				explored,
				fallbacks,
				outside;

	ab_random_seed(&r, 11);
	bandit_init(&b, 6);
	run(&b, &r, 20000, means, tails, 0.1, 0, &best_last, 3, &explored, &fallbacks, &outside);
	printf("# stationary: best arm in %d of the last 5000 choices, %d explorations of 20000\n",
		   best_last, explored);
	ok(bandit_greedy(&b) == 3, "finds the best arm of the grid (greedy arm %d)", bandit_greedy(&b));
	ok(best_last >= 4000, "chooses it in at least 80%% of the last quarter (%d of 5000)", best_last);
	ok(explored <= 0.1 * 20000 + 1, "explores at most foresight.auto_tune_exploration of the time (%.1f%%)",
	   100.0 * explored / 20000);
	ok(outside == 0 && fallbacks == 0, "never leaves the grid; no fallback without tails");

	/* a tighter bound */
	ab_random_seed(&r, 12);
	bandit_init(&b, 6);
	run(&b, &r, 20000, means, tails, 0.02, 0, &best_last, 3, &explored, &fallbacks, &outside);
	ok(explored <= 0.02 * 20000 + 1 && bandit_greedy(&b) == 3,
	   "with exploration 0.02: %.2f%% explorations, still finds the best arm", 100.0 * explored / 20000);

	/* the best arm changes (the load changed): discounting follows */
	means[3] = 0.45;
	means[1] = 0.80;
	run(&b, &r, 20000, means, tails, 0.1, 0, &best_last, 1, &explored, &fallbacks, &outside);
	ok(bandit_greedy(&b) == 1 && best_last >= 3500,
	   "follows a change of the best arm (greedy %d; new best in %d of the last 5000)",
	   bandit_greedy(&b), best_last);

	/*
	 * a load that comes and goes and lowers every arm's rewards alike
	 * (what the reward's normalisation by the fastest node misses): every
	 * 10 s the rewards drop by 40% for 10 s, at 400 decisions a second.
	 * Discounted by time, the arms are judged over the same minutes, and
	 * the best one (0.03 ahead of the next) stays the choice.
	 */
	{
		double		m3[6] = {0.60, 0.62, 0.65, 0.60, 0.58, 0.55};
		int			best_phase = 0,
					steps = 0;

		ab_random_seed(&r, 14);
		bandit_init(&b, 6);
		for (int t = 0; t < 120000; t++)
		{
			BanditWhy	why;
			int			arm;
			double		load;

			clock_s += 1.0 / 400.0;
			load = fmod(clock_s, 20.0) < 10.0 ? 1.0 : 0.6;
			bandit_advance(&b, clock_s);
			arm = bandit_choose(&b, &r, 0.1, 0, &why);
			bandit_update(&b, arm, reward(&r, m3[arm] * load, 0.0));
			if (t >= 60000)
			{
				steps++;
				best_phase += arm == 2;
			}
		}
		printf("# alternating load: best arm in %d of the last %d choices\n", best_phase, steps);
		ok(best_phase >= 0.8 * steps,
		   "under a load that comes and goes, keeps the best arm (%.1f%% of the second half)",
		   100.0 * best_phase / steps);
	}

	/*
	 * the guard: arm 2 has the best mean but 20% tail answers; arm 0 (the
	 * configured weights) none: the choices fall back to arm 0
	 */
	{
		double		m2[3] = {0.60, 0.55, 0.95};
		double		t2[3] = {0.0, 0.0, 0.20};
		double		mean,
					se;

		ab_random_seed(&r, 13);
		bandit_init(&b, 3);
		run(&b, &r, 5000, m2, t2, 0.1, 0, &best_last, 0, &explored, &fallbacks, &outside);
		bandit_estimate(&b, 2, &mean, &se);
		printf("# guard: arm 2 mean %.2f, tail share %.2f; %d fallbacks, arm 0 in %d of the last 1250\n",
			   mean, bandit_tail_share(&b, 2), fallbacks, best_last);
		ok(bandit_greedy(&b) == 2 && fallbacks > 2500 && best_last >= 1000,
		   "the best-mean arm with a degraded tail falls back to the configured weights");
	}
	return tap_done();
}
