/*-------------------------------------------------------------------------
 *
 * compare.c
 *	  An arm of an experiment against its control (see abtest.h): the
 *	  bootstrap intervals of the p95 and p99 ratios, Mann-Whitney U, the
 *	  sample size needed to see a given p95 difference, the verdict, and
 *	  the error guard.
 *
 * The verdict rests on one test, the p95 ratio's interval, judged once
 * both arms have the observations the power calculation asks for; the p99
 * interval and Mann-Whitney are shown beside it but decide nothing, so
 * that the false-positive rate of the verdict stays alpha (several tests
 * each at alpha would flag an A/A experiment more often).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "abtest/abtest.h"


/*
 * The verdict's interval is at level 1 - AB_ALPHA_FACTOR * alpha:
 * percentile bootstrap intervals of a quantile undercover a little at
 * these sample sizes (at 95%, A/A trials of a heavy-tailed lognormal were
 * flagged 5.5% of the time), and the verdict promises at most alpha.
 */
#define AB_ALPHA_FACTOR 0.8

/*
 * The spread behind the sample size is itself estimated from the data,
 * and a report read as soon as it says "enough" stops where the spread
 * happened to look small: the sample size asked for is this much larger
 * than the formula's (at 1.0, a 20% p95 change of the stalls alone was
 * found in 86% of trials, not the 90% promised).
 */
#define AB_NEEDED_MARGIN 1.3

void
ab_default_params(AbCompareParams *params)
{
	params->alpha = 0.05;
	params->min_effect = 0.2;
	params->power = 0.95;
	params->resamples = 2000;
	params->seed = 1;
	params->clusters_control = NULL;
	params->clusters_arm = NULL;
}

uint64_t
ab_needed_per_arm(uint64_t n_control, uint64_t n_arm, double sd_log,
				  const AbCompareParams *params)
{
	double		v,
				z,
				n;

	if (n_control == 0 || n_arm == 0 || !(sd_log > 0.0))
		return AB_MIN_PER_ARM;
	/* sd_log^2 = v (1/n_control + 1/n_arm): v is the spread of one observation */
	v = sd_log * sd_log / (1.0 / (double) n_control + 1.0 / (double) n_arm);
	z = ab_normal_quantile(1.0 - AB_ALPHA_FACTOR * params->alpha / 2.0) +
		ab_normal_quantile(params->power);
	n = AB_NEEDED_MARGIN * 2.0 * v * z * z /
		(log1p(params->min_effect) * log1p(params->min_effect));
	if (!(n < 1e12))
		n = 1e12;
	return n < AB_MIN_PER_ARM ? AB_MIN_PER_ARM : (uint64_t) ceil(n);
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/*
 * A histogram's cumulative counts, for the quantile of many resamples by
 * binary search.
 */
typedef struct Cumulative
{
	double		cum[AB_HIST_BUCKETS + 1];	/* cum[k]: observations below bucket k */
	uint64_t	n;				/* effective count: a resample's size */
} Cumulative;

static void
cumulative_init(Cumulative *c, const AbHist *h, double design_effect)
{
	c->cum[0] = 0.0;
	for (int k = 0; k < AB_HIST_BUCKETS; k++)
		c->cum[k + 1] = c->cum[k] + (double) h->counts[k];
	c->n = ab_effective_count((uint64_t) c->cum[AB_HIST_BUCKETS], design_effect);
}

/* as ab_hist_quantile(h, u) */
static double
cumulative_quantile(const Cumulative *c, double u)
{
	double		target = u * c->cum[AB_HIST_BUCKETS];
	int			lo = 0,
				hi = AB_HIST_BUCKETS - 1;
	double		blo,
				bhi,
				f;

	/* the first bucket k with cum[k + 1] >= target and a count */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (c->cum[mid + 1] >= target && c->cum[mid + 1] > 0.0)
			hi = mid;
		else
			lo = mid + 1;
	}
	while (lo < AB_HIST_BUCKETS - 1 && c->cum[lo + 1] == c->cum[lo])
		lo++;
	f = (target - c->cum[lo]) / (c->cum[lo + 1] - c->cum[lo]);
	ab_hist_bounds(lo, &blo, &bhi);
	if (f <= 0.0 || bhi <= blo)
		return blo;
	if (f >= 1.0)
		return bhi;
	if (blo <= 0.0)
		return bhi * f;
	return blo * pow(bhi / blo, f);
}

/* the p-quantile of a bootstrap resample of n observations */
static double
resampled_quantile(AbRandom *r, const Cumulative *c, double p)
{
	double		rank = ceil(p * (double) c->n);

	if (rank < 1.0)
		rank = 1.0;
	return cumulative_quantile(c, ab_random_beta(r, rank, (double) c->n - rank + 1.0));
}

/*
 * Student's t quantile with dof degrees of freedom at the normal quantile
 * z (Cornish-Fisher expansion; within 0.1% of the exact value from 4
 * degrees of freedom at the levels used here).
 */
static double
t_from_z(double z, double dof)
{
	double		z2 = z * z;
	double		z3 = z2 * z,
				z5 = z3 * z2,
				z7 = z5 * z2;

	return z + (z3 + z) / (4.0 * dof) +
		(5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * dof * dof) +
		(3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * dof * dof * dof);
}

/*
 * When observations cluster in units, the spread the bootstrap draws is
 * itself estimated from the units (their design effect), so, as a mean's
 * interval over k units uses Student's t with k - 1 degrees of freedom,
 * the interval's half-widths in log scale are stretched by t / z, with
 * the fewer units of the two sides.  1 when neither side clusters.
 */
static double
units_widening(const AbCompareParams *params, double p, double tail)
{
	double		units = 0.0;
	double		z;

	if (ab_quantile_design_effect(params->clusters_control, p) > 1.0)
		units = params->clusters_control->units;
	if (ab_quantile_design_effect(params->clusters_arm, p) > 1.0 &&
		(units == 0.0 || params->clusters_arm->units < units))
		units = params->clusters_arm->units;
	if (units < 2.0)
		return 1.0;
	if (units < 5.0)
		units = 5.0;			/* the expansion's range; fewer get no verdict */
	z = ab_normal_quantile(1.0 - tail);
	return t_from_z(z, units - 1.0) / z;
}

void
ab_bootstrap_ratio(const AbHist *control, const AbHist *arm, double p,
				   const AbCompareParams *params, double *ratio, double *lo, double *hi,
				   double *sd_log)
{
	uint64_t	nc = ab_hist_count(control);
	uint64_t	na = ab_hist_count(arm);
	double		qc = ab_hist_quantile(control, p);
	double		qa = ab_hist_quantile(arm, p);
	int			b = params->resamples > 10 ? params->resamples : 10;
	double	   *ratios;
	AbRandom	r;
	Cumulative	cc,
				ca;
	int			k = 0;

	*ratio = qc > 0.0 ? qa / qc : NAN;
	*lo = *hi = NAN;
	if (sd_log)
		*sd_log = NAN;
	if (nc == 0 || na == 0 || qc <= 0.0)
		return;
	ratios = malloc(sizeof(double) * b);
	if (ratios == NULL)
		return;
	cumulative_init(&cc, control, ab_quantile_design_effect(params->clusters_control, p));
	cumulative_init(&ca, arm, ab_quantile_design_effect(params->clusters_arm, p));
	/* the same seed for every call: a report is the same when run again */
	ab_random_seed(&r, params->seed ^ (uint64_t) (p * 1000.0));
	for (int i = 0; i < b; i++)
	{
		double		c = resampled_quantile(&r, &cc, p);
		double		a = resampled_quantile(&r, &ca, p);

		if (c > 0.0)
			ratios[k++] = a / c;
	}
	if (k > 0)
	{
		double		tail = AB_ALPHA_FACTOR * params->alpha / 2.0;
		int			ilo = (int) floor(tail * (k - 1));
		int			ihi = (int) ceil((1.0 - tail) * (k - 1));
		double		widen = units_widening(params, p, tail);

		qsort(ratios, k, sizeof(double), cmp_double);
		*lo = ratios[ilo];
		*hi = ratios[ihi];
		if (widen > 1.0 && *lo > 0.0 && *ratio > 0.0)
		{
			*lo = *ratio * pow(*lo / *ratio, widen);
			*hi = *ratio * pow(*hi / *ratio, widen);
		}
		/* robust spread of ln(ratio): half the 16th-84th percentile range */
		if (sd_log && ratios[(int) (0.16 * (k - 1))] > 0.0)
			*sd_log = widen * (log(ratios[(int) ceil(0.84 * (k - 1))]) -
							   log(ratios[(int) (0.16 * (k - 1))])) / 2.0;
	}
	free(ratios);
}

void
ab_mann_whitney(const AbHist *control, const AbHist *arm,
				double design_effect_control, double design_effect_arm,
				double *u, double *z, double *p)
{
	double		deff_c = design_effect_control > 1.0 ? design_effect_control : 1.0;
	double		deff_a = design_effect_arm > 1.0 ? design_effect_arm : 1.0;
	double		nc = (double) ab_hist_count(control);
	double		na = (double) ab_hist_count(arm);
	double		below_c = 0.0;
	double		ties = 0.0;
	double		n = nc + na;
	double		var;

	*u = 0.0;
	for (int k = 0; k < AB_HIST_BUCKETS; k++)
	{
		double		a = (double) arm->counts[k];
		double		c = (double) control->counts[k];
		double		t = a + c;

		/* the arm's observations over the control's: ties count half */
		*u += a * (below_c + c / 2.0);
		below_c += c;
		ties += t * t * t - t;
	}
	if (nc == 0.0 || na == 0.0 || n < 2.0)
	{
		*z = 0.0;
		*p = 1.0;
		return;
	}
	var = nc * na / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
	/* clustered: each side's share of the variance times its design effect */
	var *= (nc * deff_a + na * deff_c + 1.0) / (n + 1.0);
	if (var <= 0.0)
	{
		*z = 0.0;
		*p = 1.0;
		return;
	}
	*z = (*u - nc * na / 2.0) / sqrt(var);
	*p = 2.0 * ab_normal_sf(fabs(*z));
	if (*p > 1.0)
		*p = 1.0;
}

void
ab_compare(const AbHist *control, const AbHist *arm, const AbCompareParams *params,
		   AbComparison *out)
{
	double		sd_log;

	memset(out, 0, sizeof(*out));
	out->n_control = ab_hist_count(control);
	out->n_arm = ab_hist_count(arm);
	ab_bootstrap_ratio(control, arm, 0.95, params,
					   &out->p95_ratio, &out->p95_ratio_lo, &out->p95_ratio_hi, &sd_log);
	out->needed_per_arm = ab_needed_per_arm(out->n_control, out->n_arm, sd_log, params);
	ab_bootstrap_ratio(control, arm, 0.99, params,
					   &out->p99_ratio, &out->p99_ratio_lo, &out->p99_ratio_hi, NULL);
	out->deff_p95_control = ab_quantile_design_effect(params->clusters_control, 0.95);
	out->deff_p95_arm = ab_quantile_design_effect(params->clusters_arm, 0.95);
	out->deff_ranks_control = ab_design_effect(params->clusters_control);
	out->deff_ranks_arm = ab_design_effect(params->clusters_arm);
	ab_mann_whitney(control, arm, out->deff_ranks_control, out->deff_ranks_arm,
					&out->mw_u, &out->mw_z, &out->mw_p);

	if (out->n_control < out->needed_per_arm || out->n_arm < out->needed_per_arm ||
		isnan(out->p95_ratio_lo))
		out->verdict = AB_NOT_ENOUGH_DATA;
	else if (out->p95_ratio_hi < 1.0)
		out->verdict = AB_BETTER;
	else if (out->p95_ratio_lo > 1.0)
		out->verdict = AB_WORSE;
	else
		out->verdict = AB_NO_DIFFERENCE;
}

const char *
ab_verdict_name(AbVerdict v)
{
	switch (v)
	{
		case AB_NOT_ENOUGH_DATA:
			return "not enough data yet";
		case AB_NO_DIFFERENCE:
			return "no significant difference";
		case AB_BETTER:
			return "better than control";
		case AB_WORSE:
			return "worse than control";
	}
	return "?";
}

bool
ab_guard_trips(uint64_t control_n, uint64_t control_errors,
			   uint64_t arm_n, uint64_t arm_errors, double *z)
{
	double		pc,
				pa,
				pooled,
				se;

	*z = 0.0;
	if (control_n < AB_GUARD_MIN_QUERIES || arm_n < AB_GUARD_MIN_QUERIES)
		return false;
	pc = (double) control_errors / (double) control_n;
	pa = (double) arm_errors / (double) arm_n;
	pooled = (double) (control_errors + arm_errors) / (double) (control_n + arm_n);
	se = sqrt(pooled * (1.0 - pooled) * (1.0 / (double) control_n + 1.0 / (double) arm_n));
	if (se <= 0.0)
		return false;
	*z = (pa - pc) / se;
	return pa - pc >= AB_GUARD_MARGIN && *z >= AB_GUARD_Z;
}
