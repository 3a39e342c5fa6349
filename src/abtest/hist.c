/*-------------------------------------------------------------------------
 *
 * hist.c
 *	  Latency histograms of experiments (see abtest.h): geometric buckets,
 *	  quantiles interpolated inside a bucket, the CDF, and the
 *	  distribution-free confidence interval of a quantile (over the
 *	  observations' effective count: clusters.c).
 *
 * Bucket 0 holds [0, AB_HIST_MIN_US); bucket k >= 1 holds
 * [MIN * r^(k-1), MIN * r^k) with r = 2^(1/8); the last bucket holds
 * everything above its lower bound (about 4.8 minutes).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "abtest/abtest.h"

static double
bucket_lower(int k)
{
	if (k <= 0)
		return 0.0;
	return AB_HIST_MIN_US * exp2((double) (k - 1) / AB_HIST_STEPS_PER_DOUBLING);
}

void
ab_hist_bounds(int bucket, double *lo, double *hi)
{
	*lo = bucket_lower(bucket);
	*hi = bucket >= AB_HIST_BUCKETS - 1 ? *lo : bucket_lower(bucket + 1);
}

int
ab_hist_bucket(double us)
{
	double		k;

	if (!(us >= AB_HIST_MIN_US))	/* also NaN */
		return 0;
	k = floor(log2(us / AB_HIST_MIN_US) * AB_HIST_STEPS_PER_DOUBLING) + 1;
	if (k >= AB_HIST_BUCKETS - 1)
		return AB_HIST_BUCKETS - 1;
	/* log2 rounding at a bound: keep lower <= us < upper */
	if (us < bucket_lower((int) k))
		k -= 1;
	else if ((int) k < AB_HIST_BUCKETS - 1 && us >= bucket_lower((int) k + 1))
		k += 1;
	return (int) k;
}

void
ab_hist_add(AbHist *h, double us)
{
	h->counts[ab_hist_bucket(us)]++;
}

void
ab_hist_merge(AbHist *into, const AbHist *from)
{
	for (int i = 0; i < AB_HIST_BUCKETS; i++)
		into->counts[i] += from->counts[i];
}

uint64_t
ab_hist_count(const AbHist *h)
{
	uint64_t	n = 0;

	for (int i = 0; i < AB_HIST_BUCKETS; i++)
		n += h->counts[i];
	return n;
}

/* the value a share f in [0,1] into bucket k */
static double
inside_bucket(int k, double f)
{
	double		lo,
				hi;

	ab_hist_bounds(k, &lo, &hi);
	if (f <= 0.0 || hi <= lo)
		return lo;
	if (f >= 1.0)
		return hi;
	if (lo <= 0.0)
		return hi * f;			/* bucket 0: linear */
	return lo * pow(hi / lo, f);
}

double
ab_hist_quantile(const AbHist *h, double p)
{
	uint64_t	n = ab_hist_count(h);
	double		target;
	double		below = 0.0;
	int			last = -1;

	if (n == 0)
		return 0.0;
	if (p < 0.0)
		p = 0.0;
	if (p > 1.0)
		p = 1.0;
	target = p * (double) n;
	for (int k = 0; k < AB_HIST_BUCKETS; k++)
	{
		double		c = (double) h->counts[k];

		if (c == 0.0)
			continue;
		last = k;
		if (below + c >= target)
			return inside_bucket(k, (target - below) / c);
		below += c;
	}
	return inside_bucket(last, 1.0);
}

double
ab_hist_cdf(const AbHist *h, double us)
{
	uint64_t	n = ab_hist_count(h);
	int			b = ab_hist_bucket(us);
	double		below = 0.0;
	double		lo,
				hi,
				f;

	if (n == 0)
		return 0.0;
	for (int k = 0; k < b; k++)
		below += (double) h->counts[k];
	ab_hist_bounds(b, &lo, &hi);
	if (hi <= lo)
		f = 0.0;
	else if (lo <= 0.0)
		f = us / hi;
	else
		f = log(us / lo) / log(hi / lo);
	if (f < 0.0)
		f = 0.0;
	if (f > 1.0)
		f = 1.0;
	return (below + f * (double) h->counts[b]) / (double) n;
}

uint64_t
ab_effective_count(uint64_t n, double design_effect)
{
	double		eff;

	if (n == 0)
		return 0;
	if (!(design_effect > 1.0))
		return n;
	eff = floor((double) n / design_effect + 0.5);
	return eff < 1.0 ? 1 : (uint64_t) eff;
}

void
ab_hist_quantile_ci(const AbHist *h, double p, double alpha, double design_effect,
					double *lo, double *hi)
{
	uint64_t	n = ab_effective_count(ab_hist_count(h), design_effect);
	double		z = ab_normal_quantile(1.0 - alpha / 2.0);
	double		half;

	if (n == 0)
	{
		*lo = *hi = 0.0;
		return;
	}
	half = z * sqrt(p * (1.0 - p) / (double) n);
	*lo = ab_hist_quantile(h, p - half);
	*hi = ab_hist_quantile(h, p + half);
}
