/*-------------------------------------------------------------------------
 *
 * bandit.c
 *	  Thompson sampling over a grid of arms with Gaussian statistics
 *	  discounted by time, an exploration bound and a tail guard (see
 *	  bandit.h).
 *
 * Each arm's mean reward has the posterior N(mean, se^2) with
 * se^2 = (variance + prior) / (n + 1): a normal approximation with one
 * prior pseudo-observation of reward 0.5, so an untried arm is drawn from
 * a wide distribution around 0.5 and gets tried.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "abtest/bandit.h"

#define PRIOR_MEAN 0.5
#define PRIOR_VARIANCE 0.09		/* sd 0.3 */

void
bandit_init(Bandit *b, int narms)
{
	memset(b, 0, sizeof(*b));
	b->narms = narms < 1 ? 1 : (narms > BANDIT_MAX_ARMS ? BANDIT_MAX_ARMS : narms);
}

void
bandit_advance(Bandit *b, double now_s)
{
	double		factor;

	if (b->clock == 0.0 || !(now_s > b->clock))
	{
		if (b->clock == 0.0 && now_s > 0.0)
			b->clock = now_s;
		return;
	}
	factor = exp2(-(now_s - b->clock) / BANDIT_HALF_LIFE_S);
	for (int i = 0; i < b->narms; i++)
	{
		BanditArmStats *a = &b->arms[i];

		a->n *= factor;
		a->sum *= factor;
		a->sumsq *= factor;
		a->tail *= factor;
	}
	b->decisions *= factor;
	b->explorations *= factor;
	b->clock = now_s;
}

void
bandit_estimate(const Bandit *b, int arm, double *mean, double *se)
{
	const BanditArmStats *a = &b->arms[arm];
	double		n = a->n + 1.0;
	double		m = (a->sum + PRIOR_MEAN) / n;
	double		var = PRIOR_VARIANCE;

	if (a->n >= 2.0)
	{
		double		v = a->sumsq / a->n - (a->sum / a->n) * (a->sum / a->n);

		var = (v > 0.0 ? v : 0.0) + PRIOR_VARIANCE / n;
	}
	*mean = m;
	*se = sqrt(var / n);
}

double
bandit_tail_share(const Bandit *b, int arm)
{
	return b->arms[arm].n > 0.0 ? b->arms[arm].tail / b->arms[arm].n : 0.0;
}

int
bandit_greedy(const Bandit *b)
{
	int			best = 0;
	double		best_mean = -1.0;

	for (int i = 0; i < b->narms; i++)
	{
		double		m,
					se;

		bandit_estimate(b, i, &m, &se);
		if (m > best_mean)
		{
			best = i;
			best_mean = m;
		}
	}
	return best;
}

int
bandit_choose(Bandit *b, AbRandom *r, double exploration, int fallback_arm, BanditWhy *why)
{
	int			greedy = bandit_greedy(b);
	int			drawn = 0;
	double		best_draw = -INFINITY;
	int			choice;

	for (int i = 0; i < b->narms; i++)
	{
		double		m,
					se,
					x;

		bandit_estimate(b, i, &m, &se);
		x = m + se * ab_random_normal(r);
		if (x > best_draw)
		{
			best_draw = x;
			drawn = i;
		}
	}

	if (drawn == greedy)
	{
		choice = greedy;
		*why = BANDIT_GREEDY;
	}
	else if (b->explorations + 1.0 <= exploration * (b->decisions + 1.0))
	{
		choice = drawn;
		*why = BANDIT_EXPLORE;
	}
	else
	{
		choice = greedy;
		*why = BANDIT_BOUNDED;
	}

	/* the guard: the greedy arm's tail past the fallback's */
	if (choice == greedy && greedy != fallback_arm &&
		fallback_arm >= 0 && fallback_arm < b->narms &&
		b->arms[greedy].n >= BANDIT_GUARD_MIN && b->arms[fallback_arm].n >= BANDIT_GUARD_MIN &&
		bandit_tail_share(b, greedy) > bandit_tail_share(b, fallback_arm) + BANDIT_GUARD_MARGIN)
	{
		choice = fallback_arm;
		*why = BANDIT_FALLBACK;
	}

	b->decisions += 1.0;
	b->explorations += *why == BANDIT_EXPLORE ? 1.0 : 0.0;
	return choice;
}

void
bandit_update(Bandit *b, int arm, double reward)
{
	if (arm < 0 || arm >= b->narms || reward != reward)
		return;
	if (reward < 0.0)
		reward = 0.0;
	if (reward > 1.0)
		reward = 1.0;
	b->arms[arm].n += 1.0;
	b->arms[arm].sum += reward;
	b->arms[arm].sumsq += reward * reward;
	b->arms[arm].tail += reward < BANDIT_TAIL_REWARD ? 1.0 : 0.0;
	b->arms[arm].pulls++;
}

const char *
bandit_why_name(BanditWhy why)
{
	switch (why)
	{
		case BANDIT_GREEDY:
			return "best estimated reward";
		case BANDIT_EXPLORE:
			return "exploring (Thompson draw)";
		case BANDIT_BOUNDED:
			return "best estimated reward (exploration bound reached)";
		case BANDIT_FALLBACK:
			return "fallback to the configured weights: the best arm's tail is past the guard";
	}
	return "?";
}
