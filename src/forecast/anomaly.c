/*-------------------------------------------------------------------------
 *
 * anomaly.c
 *	  Online anomaly detector: spike and level-shift surprise relative to a
 *	  decaying high quantile of each feature's own history (anomaly.h says
 *	  what, docs/forecasting.md says why).
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/anomaly.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "forecast/anomaly.h"

#define FC_ANOMALY_MAGIC	0x464d4e41	/* "ANMF" */
#define FC_ANOMALY_VERSION	1

/* The weight of a new value is rescaled to 1 beyond this. */
#define UNIT_LIMIT			1e100

/* Bins kept free above (below) a value that shifts the histogram. */
#define SHIFT_MARGIN		8

/* Weight (relative to the total) that may be merged away by a shift up. */
#define NEGLIGIBLE			1e-9

/* 2^(k/4), k = 0..3: quarter-octave edges. */
static const double quarter[4] = {
	1.0, 1.18920711500272106672, 1.41421356237309504880, 1.68179283050742908606
};

void
fc_anomaly_config_default(fc_anomaly_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->window = FC_ANOMALY_DEFAULT_WINDOW;
	cfg->warmup = FC_ANOMALY_DEFAULT_WARMUP;
	cfg->suppress = FC_ANOMALY_DEFAULT_SUPPRESS;
	cfg->memory = FC_ANOMALY_DEFAULT_MEMORY;
	cfg->level_memory = FC_ANOMALY_DEFAULT_LEVEL_MEMORY;
	cfg->quantile = FC_ANOMALY_DEFAULT_QUANTILE;
	cfg->threshold = FC_ANOMALY_DEFAULT_THRESHOLD;
}

fc_status
fc_anomaly_config_check(const fc_anomaly_config *cfg)
{
	if (cfg == NULL)
		return FC_ERR_ARGUMENT;
	if (cfg->window < 2 || cfg->window > FC_ANOMALY_MAX_WINDOW)
		return FC_ERR_PARAMETER;
	if (cfg->warmup < 0 || cfg->warmup > 1000000000)
		return FC_ERR_PARAMETER;
	if (cfg->suppress < 0 || cfg->suppress > 1000000000)
		return FC_ERR_PARAMETER;
	if (!(cfg->memory >= 10.0 && cfg->memory <= 1e9))
		return FC_ERR_PARAMETER;
	if (!(cfg->level_memory >= 1.0 && cfg->level_memory <= 1e9))
		return FC_ERR_PARAMETER;
	if (!(cfg->quantile >= 0.5 && cfg->quantile < 1.0))
		return FC_ERR_PARAMETER;
	if (!(cfg->threshold > 0.0 && cfg->threshold <= 1.0))
		return FC_ERR_PARAMETER;
	return FC_OK;
}

int
fc_anomaly_min_length(const fc_anomaly_config *cfg)
{
	return cfg->warmup + 1;
}

size_t
fc_anomaly_state_size(void)
{
	return sizeof(fc_anomaly);
}

fc_status
fc_anomaly_init(fc_anomaly *a, const fc_anomaly_config *cfg)
{
	fc_status	st;
	int			k;

	if (a == NULL)
		return FC_ERR_ARGUMENT;
	st = fc_anomaly_config_check(cfg);
	if (st != FC_OK)
		return st;
	memset(a, 0, sizeof(*a));
	a->magic = FC_ANOMALY_MAGIC;
	a->version = FC_ANOMALY_VERSION;
	a->cfg = *cfg;
	a->last_alert = -1;
	a->decay = exp2(-1.0 / cfg->memory);
	a->level_alpha = 1.0 / cfg->level_memory;
	for (k = 0; k < FC_ANOMALY_FEATURES; k++)
		a->hist[k].unit = 1.0;
	return FC_OK;
}

/*
 * Quarter-octave index floor(4 log2 x) of x > 0, computed from the binary
 * exponent so that scaling x by 2^k adds exactly 4k.
 */
static int
quarter_octave(double x)
{
	int			e;
	double		m = 2.0 * frexp(x, &e);	/* x = m 2^(e-1), m in [1, 2) */
	int			k = m < quarter[1] ? 0 : m < quarter[2] ? 1 : m < quarter[3] ? 2 : 3;

	return 4 * (e - 1) + k;
}

/* 2^(q/4) for an integer q, exactly scaled by powers of two. */
static double
quarter_power(int q)
{
	int			octave = q >= 0 ? q / 4 : -((-q + 3) / 4);

	return ldexp(quarter[q - 4 * octave], octave);
}

/* Move every bin down by shift (> 0) places, the lowest merging into bin 1. */
static void
hist_shift_down(fc_anomaly_hist *h, int shift)
{
	int			i;

	for (i = 1; i < FC_ANOMALY_BINS; i++)
	{
		double		v = h->bin[i];
		int			j = i - shift < 1 ? 1 : i - shift;

		h->bin[i] = 0.0;
		h->bin[j] += v;
	}
	h->anchor += shift;
}

/* Move every bin up by shift (> 0) places, the highest merging into the top. */
static void
hist_shift_up(fc_anomaly_hist *h, int shift)
{
	int			i;

	for (i = FC_ANOMALY_BINS - 1; i >= 1; i--)
	{
		double		v = h->bin[i];
		int			j = i + shift > FC_ANOMALY_BINS - 1 ? FC_ANOMALY_BINS - 1 : i + shift;

		h->bin[i] = 0.0;
		h->bin[j] += v;
	}
	h->anchor -= shift;
}

/* The bin of x >= 0, shifting the histogram if x is out of its range. */
static int
hist_bin(fc_anomaly_hist *h, double x)
{
	int			q,
				b;

	if (!(x > 0.0))
		return 0;
	q = quarter_octave(x);
	if (!h->anchored)
	{
		h->anchor = q - FC_ANOMALY_BINS / 2;
		h->anchored = 1;
	}
	b = q - h->anchor;
	if (b >= FC_ANOMALY_BINS)
	{
		hist_shift_down(h, b - (FC_ANOMALY_BINS - 1) + SHIFT_MARGIN);
		b = q - h->anchor;
	}
	else if (b < 1)
	{
		/* shift up only if what falls off the top is negligible */
		int			shift = 1 - b + SHIFT_MARGIN;
		double		top = 0.0;
		int			i;

		if (shift < FC_ANOMALY_BINS - 1)
		{
			for (i = FC_ANOMALY_BINS - shift; i < FC_ANOMALY_BINS; i++)
				top += h->bin[i];
			if (top <= NEGLIGIBLE * h->total)
			{
				hist_shift_up(h, shift);
				b = q - h->anchor;
			}
		}
		if (b < 1)
			b = 1;
	}
	return b;
}

static void
hist_add(fc_anomaly_hist *h, double x, double decay)
{
	int			b = hist_bin(h, x);
	int			i;

	h->unit /= decay;
	h->bin[b] += h->unit;
	h->total += h->unit;
	if (h->unit > UNIT_LIMIT)
	{
		for (i = 0; i < FC_ANOMALY_BINS; i++)
			h->bin[i] /= h->unit;
		h->total /= h->unit;
		h->unit = 1.0;
	}
}

/*
 * The value below which a fraction q of the weight lies, interpolated
 * geometrically within its bin; 0 if it falls among the zeros (bin 0).
 */
static double
hist_quantile(const fc_anomaly_hist *h, double q)
{
	double		need = (1.0 - q) * h->total;
	double		cum = 0.0;
	int			i;

	for (i = FC_ANOMALY_BINS - 1; i >= 1; i--)
	{
		if (h->bin[i] > 0.0 && cum + h->bin[i] >= need)
		{
			double		frac = (need - cum) / h->bin[i];	/* from the top */

			return quarter_power(h->anchor + i + 1) * exp2(-frac / 4.0);
		}
		cum += h->bin[i];
	}
	return 0.0;
}

/* Feature x relative to its history's reference quantile. */
static double
surprise(const fc_anomaly_hist *h, double x, double q)
{
	double		ref;

	if (!(h->total > 0.0))
		return 0.0;				/* no history yet: nothing to compare */
	ref = hist_quantile(h, q);
	if (ref > 0.0)
		return x / ref;
	return x > 0.0 ? INFINITY : 0.0;
}

fc_status
fc_anomaly_update(fc_anomaly *a, double y, fc_anomaly_point *out)
{
	const fc_anomaly_config *cfg;
	int64_t		n;
	int			w;
	bool		have_spike,
				have_level,
				full;
	double		spike = 0.0,
				level = 0.0,
				mean = 0.0,
				u = 0.0,
				score = 0.0;
	bool		alert = false;
	int			i;

	if (a == NULL)
		return FC_ERR_ARGUMENT;
	if (a->magic != FC_ANOMALY_MAGIC || a->version != FC_ANOMALY_VERSION)
		return FC_ERR_STATE;
	if (!isfinite(y))
		return FC_ERR_NONFINITE;
	if (fabs(y) > FC_MAX_ABS_VALUE)
		return FC_ERR_RANGE;

	cfg = &a->cfg;
	n = a->nobs;
	w = cfg->window;
	if (out)
		memset(out, 0, sizeof(*out));

	/* features of y, judged against the histories of the past */
	have_spike = n >= 1;
	full = n >= w - 1;			/* the window y[n-w+1..n] is complete */
	have_level = n >= w;		/* ... and the level L is known */
	if (have_spike)
		spike = fabs(y - a->ring[(n - 1) % FC_ANOMALY_MAX_WINDOW]);
	if (full)
	{
		double		sum = y;

		for (i = 1; i < w; i++)
			sum += a->ring[(n - i) % FC_ANOMALY_MAX_WINDOW];
		mean = sum / w;
	}
	if (have_level)
		level = fabs(mean - a->level);

	if (have_spike)
	{
		double		r = surprise(&a->hist[0], spike, cfg->quantile);

		u = r;
		if (out)
			out->ratio[0] = r;
	}
	if (have_level)
	{
		double		r = surprise(&a->hist[1], level, cfg->quantile);

		if (r > u)
			u = r;
		if (out)
			out->ratio[1] = r;
	}
	if (n >= cfg->warmup)
	{
		score = isinf(u) ? 1.0 : u / (1.0 + u);
		if (score >= cfg->threshold &&
			(a->last_alert < 0 || n - a->last_alert > cfg->suppress))
		{
			alert = true;
			a->last_alert = n;
		}
	}
	if (out)
	{
		out->score = score;
		out->alert = alert;
	}

	/* absorb y */
	if (have_spike)
		hist_add(&a->hist[0], spike, a->decay);
	if (have_level)
	{
		hist_add(&a->hist[1], level, a->decay);
		a->level += a->level_alpha * (mean - a->level);
	}
	else if (full)
		a->level = mean;		/* the first complete window */
	a->ring[n % FC_ANOMALY_MAX_WINDOW] = y;
	a->nobs = n + 1;
	return FC_OK;
}

fc_status
fc_anomaly_run(const fc_anomaly_config *cfg, const double *y, int n,
			   double *scores, bool *alerts,
			   fc_interrupt_fn cb, void *cb_arg)
{
	fc_anomaly	a;
	fc_anomaly_point pt;
	fc_status	st;
	int			i;

	if (n < 0 || (n > 0 && y == NULL))
		return FC_ERR_ARGUMENT;
	for (i = 0; i < n; i++)
	{
		if (!isfinite(y[i]))
			return FC_ERR_NONFINITE;
		if (fabs(y[i]) > FC_MAX_ABS_VALUE)
			return FC_ERR_RANGE;
	}
	st = fc_anomaly_init(&a, cfg);
	if (st != FC_OK)
		return st;
	for (i = 0; i < n; i++)
	{
		if (cb && (i & 4095) == 4095 && cb(cb_arg))
			return FC_ERR_INTERRUPTED;
		st = fc_anomaly_update(&a, y[i], &pt);
		if (st != FC_OK)
			return st;
		if (scores)
			scores[i] = pt.score;
		if (alerts)
			alerts[i] = pt.alert;
	}
	return FC_OK;
}
