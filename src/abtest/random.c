/*-------------------------------------------------------------------------
 *
 * random.c
 *	  Seeded randomness of experiments (see abtest.h): the hash that
 *	  assigns a unit to an arm, and the draws of the bootstrap
 *	  (xoshiro256**, normal, gamma, beta), plus the standard normal's
 *	  quantile function and tail.
 *
 * Everything is reproducible from its seed: an experiment's assignment
 * and its report are the same whenever they are computed again.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "abtest/abtest.h"

#define AB_PI 3.14159265358979323846
#define AB_SQRT2 1.41421356237309504880

uint64_t
ab_mix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

bool
ab_assign(uint64_t seed, uint64_t unit, double traffic, int narms, int *arm)
{
	uint64_t	h = ab_mix64(seed ^ ab_mix64(unit));
	double		u = (double) (h >> 11) * (1.0 / 9007199254740992.0);

	if (narms <= 0 || !(u < traffic))
		return false;
	/* a second, independent hash for the arm */
	*arm = (int) (ab_mix64(h ^ UINT64_C(0x5851f42d4c957f2d)) % (uint64_t) narms);
	return true;
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
ab_random_seed(AbRandom *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
	{
		seed += UINT64_C(0x9e3779b97f4a7c15);
		r->s[i] = ab_mix64(seed);
	}
}

uint64_t
ab_random_next(AbRandom *r)
{
	uint64_t	result = rotl(r->s[1] * 5, 7) * 9;
	uint64_t	t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return result;
}

double
ab_random_uniform(AbRandom *r)
{
	return (double) (ab_random_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double
ab_random_normal(AbRandom *r)
{
	double		u1,
				u2;

	do
		u1 = ab_random_uniform(r);
	while (u1 <= 0.0);
	u2 = ab_random_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * AB_PI * u2);
}

/* Marsaglia and Tsang (2000), shape >= 1 */
double
ab_random_gamma(AbRandom *r, double shape)
{
	double		d = shape - 1.0 / 3.0;
	double		c = 1.0 / sqrt(9.0 * d);

	for (;;)
	{
		double		x = ab_random_normal(r);
		double		v = 1.0 + c * x;
		double		u;

		if (v <= 0.0)
			continue;
		v = v * v * v;
		u = ab_random_uniform(r);
		if (u < 1.0 - 0.0331 * x * x * x * x)
			return d * v;
		if (u > 0.0 && log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
			return d * v;
	}
}

double
ab_random_beta(AbRandom *r, double a, double b)
{
	double		x = ab_random_gamma(r, a);
	double		y = ab_random_gamma(r, b);

	return x / (x + y);
}

/* Acklam's rational approximation, refined by one Halley step */
double
ab_normal_quantile(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02,
	-3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01,
	-1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00,
	4.374664141464968e+00, 2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
	2.445134137142996e+00, 3.754408661907416e+00};
	double		q,
				x,
				e,
				u;

	if (p <= 0.0)
		return -INFINITY;
	if (p >= 1.0)
		return INFINITY;
	if (p < 0.02425)
	{
		q = sqrt(-2.0 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
	}
	else if (p <= 1.0 - 0.02425)
	{
		double		r;

		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
	}
	else
	{
		q = sqrt(-2.0 * log(1.0 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
	}
	e = 0.5 * erfc(-x / AB_SQRT2) - p;
	u = e * sqrt(2.0 * AB_PI) * exp(x * x / 2.0);
	return x - u / (1.0 + x * u / 2.0);
}

double
ab_normal_sf(double z)
{
	return 0.5 * erfc(z / AB_SQRT2);
}
