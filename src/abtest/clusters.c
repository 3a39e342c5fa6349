/*-------------------------------------------------------------------------
 *
 * clusters.c
 *	  Observations that come in units (see abtest.h): the reads of one
 *	  session, or of one transaction, are not independent of each other,
 *	  so an experiment's tests count them by their design effect.
 *
 * Kept per arm and request class are the sums a one-way analysis of
 * variance by unit needs, for two kinds of value:
 *
 *	- y = ln(1 + latency in microseconds): the observations and units, the
 *	  sums of y and y^2, and over the units the sums of n_i^2 and
 *	  S_i^2 / n_i (S_i a unit's sum of y);
 *	- for every AB_CLUSTER_STEP-th bucket b of the histogram, the
 *	  indicator "below bucket b": its sum and sum of squares are the
 *	  histogram's count below b (the sums keep their own histogram of the
 *	  observations they cover), and over the units the sum of
 *	  c_ib^2 / n_i (c_ib: the unit's observations below b).
 *
 * They grow with each observation (a unit's own n_i, S_i and c_ib are kept
 * by whoever observes it: one backend per unit), so they cost the same
 * whatever the number of units.
 *
 * From them, the intraclass correlation rho (the ANOVA estimator for
 * units of unequal size) and Kish's design effect
 *		deff = 1 + (m - 1) rho,  m = sum(n_i^2) / n
 * (m is the size-weighted mean size of a unit): the variance of a mean
 * over n clustered observations is deff times that of n independent ones,
 * so they weigh as n / deff independent observations.  With one
 * observation per unit (single-read transactions) m = 1 and deff = 1.
 *
 * A quantile's sampling variance is that of the share of observations
 * below it (divided by the density there), so its design effect is the
 * one of the indicator "below the quantile", not of y: a session that is
 * slower by a factor shifts its mean log latency entirely but its share
 * above the p95 only partly (with the latencies of the unit tests, deff
 * of y overstated the spread of the p95 ratio by a factor of two).  The
 * ranks of Mann-Whitney vary with every observation's level, so it uses
 * the design effect of y.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "abtest/abtest.h"

void
ab_clusters_observe(AbUnitTally *unit, double us, AbClustersDelta *delta)
{
	double		y = log1p(us > 0.0 ? us : 0.0);
	double		n = unit->n;
	double		s = unit->sum_y;
	double		inv_before = n > 0.0 ? 1.0 / n : 0.0;
	double		inv_after = 1.0 / (n + 1.0);
	int			k = ab_hist_bucket(us);
	int			band = k / AB_CLUSTER_STEP;
	double		below = 0.0;	/* the unit's observations below threshold t */

	delta->new_unit = n == 0.0;
	delta->bucket = k;
	delta->y = y;
	/* (n + 1)^2 - n^2, and the unit's S^2 / n before and after */
	delta->n2 = 2.0 * n + 1.0;
	delta->s2_n = (s + y) * (s + y) * inv_after - s * s * inv_before;
	delta->below2_n[0] = 0.0;
	for (int t = 1; t < AB_CLUSTER_THRESHOLDS; t++)
	{
		double		after;

		below += (double) unit->counts[t - 1];
		after = below + (band < t ? 1.0 : 0.0);
		delta->below2_n[t] = after * after * inv_after - below * below * inv_before;
	}
	unit->n = n + 1.0;
	unit->sum_y = s + y;
	unit->sum_y2 += y * y;
	unit->counts[band]++;
}

void
ab_clusters_add(AbClusters *into, const AbClustersDelta *delta)
{
	into->n += 1.0;
	into->units += delta->new_unit ? 1.0 : 0.0;
	into->sum_y += delta->y;
	into->sum_y2 += delta->y * delta->y;
	into->sum_n2 += delta->n2;
	into->sum_s2_n += delta->s2_n;
	into->hist.counts[delta->bucket]++;
	for (int t = 1; t < AB_CLUSTER_THRESHOLDS; t++)
		into->below2_n[t] += delta->below2_n[t];
}

void
ab_clusters_add_unit(AbClusters *into, const AbUnitTally *unit, const AbHist *hist)
{
	double		below = 0.0;

	if (!(unit->n > 0.0))
		return;
	into->n += unit->n;
	into->units += 1.0;
	into->sum_y += unit->sum_y;
	into->sum_y2 += unit->sum_y2;
	into->sum_n2 += unit->n * unit->n;
	into->sum_s2_n += unit->sum_y * unit->sum_y / unit->n;
	ab_hist_merge(&into->hist, hist);
	for (int t = 1; t < AB_CLUSTER_THRESHOLDS; t++)
	{
		below += (double) unit->counts[t - 1];
		into->below2_n[t] += below * below / unit->n;
	}
}

/*
 * The ANOVA estimate of the intraclass correlation of a value over n
 * observations in k units, from its sum and sum of squares, the sum of
 * n_i^2 and the sum over the units of S_i^2 / n_i.
 */
static double
anova_icc(double n, double k, double sum, double sum2, double sum_n2, double sum_s2_n)
{
	double		ssb,
				ssw,
				msb,
				msw,
				n0,
				denom,
				rho;

	/* at least two units, and one with more than one observation */
	if (k < 2.0 || n <= k)
		return 0.0;
	ssb = sum_s2_n - sum * sum / n;
	ssw = sum2 - sum_s2_n;
	if (ssb < 0.0)
		ssb = 0.0;				/* rounding */
	if (ssw < 0.0)
		ssw = 0.0;
	msb = ssb / (k - 1.0);
	msw = ssw / (n - k);
	n0 = (n - sum_n2 / n) / (k - 1.0);
	denom = msb + (n0 - 1.0) * msw;
	if (!(denom > 0.0))
		return 0.0;
	rho = (msb - msw) / denom;
	if (!(rho > 0.0))
		return 0.0;
	return rho > 1.0 ? 1.0 : rho;
}

/* 1 + (m - 1) rho, between 1 and m */
static double
kish(const AbClusters *c, double rho)
{
	double		m,
				deff;

	if (!(c->n > 0.0))
		return 1.0;
	m = c->sum_n2 / c->n;
	deff = 1.0 + (m - 1.0) * rho;
	if (!(deff > 1.0))
		return 1.0;
	return deff > m ? m : deff;
}

double
ab_intraclass_correlation(const AbClusters *c)
{
	return anova_icc(c->n, c->units, c->sum_y, c->sum_y2, c->sum_n2, c->sum_s2_n);
}

double
ab_design_effect(const AbClusters *c)
{
	if (c == NULL)
		return 1.0;
	return kish(c, ab_intraclass_correlation(c));
}

/* the design effect of the indicator "below threshold t", whose count is below */
static double
threshold_design_effect(const AbClusters *c, double n, int t, double below)
{
	/* an indicator is its own square */
	return kish(c, anova_icc(n, c->units, below, below, c->sum_n2, c->below2_n[t]));
}

double
ab_quantile_design_effect(const AbClusters *c, double p)
{
	double		n,
				below = 0.0,
				prev_below = 0.0;
	int			prev_t = 0;

	if (c == NULL || !(c->n > 0.0))
		return 1.0;
	n = (double) ab_hist_count(&c->hist);
	if (!(n > 0.0))
		return 1.0;

	/*
	 * Interpolated, by the share below, between the thresholds on either
	 * side of p (the design effect changes with the threshold, and they
	 * are 41% apart).
	 */
	for (int b = 0; b < AB_HIST_BUCKETS; b++)
	{
		if (b > 0 && b % AB_CLUSTER_STEP == 0 && below > 0.0 && below < n)
		{
			int			t = b / AB_CLUSTER_STEP;
			double		here = threshold_design_effect(c, n, t, below);
			double		f;

			if (below / n >= p)
			{
				if (prev_t == 0)
					return here;
				f = (p - prev_below / n) / ((below - prev_below) / n);
				return threshold_design_effect(c, n, prev_t, prev_below) * (1.0 - f) + here * f;
			}
			prev_t = t;
			prev_below = below;
		}
		below += (double) c->hist.counts[b];
	}
	return prev_t == 0 ? 1.0 : threshold_design_effect(c, n, prev_t, prev_below);
}
