/*-------------------------------------------------------------------------
 *
 * blend.c
 *	  Error-weighted blend: the forecasting feedback loop.
 *
 * Members: naive, SES, Holt damped, and when a season m is configured
 * seasonal naive and Holt-Winters with season m, Holt-Winters with the short
 * season (default 12 = one hour of 5-minute samples) and the LSTM-lite.
 *
 * At every origin t each member forecasts the configured target (the value
 * at t+h or the mean of t+1..t+h); the forecasts are kept in a ring.  When
 * the target becomes known, h samples later, each member's absolute error
 * e_i feeds an exponentially weighted mean
 *
 *		E_i <- decay E_i + (1 - decay) e_i		(bias-corrected at start)
 *
 * and the weights are w_i = E_i^-power / sum_j E_j^-power.  power = 1 is
 * the classical inverse-MAE combination; larger powers move the weight
 * faster to whichever member has been best recently (power -> infinity is
 * "pick the recent best").  The blend's forecast is sum_i w_i f_i.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/blend.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "forecast/blend.h"
#include "forecast/lstm.h"
#include "forecast/smoothing.h"

static void
add_ets(fc_blend *b, fc_kind kind, int season)
{
	if (b->nets < FC_BLEND_MAX_ETS)
		fc_ets_init(&b->ets[b->nets++], kind, season);
}

int
fc_blend_members(const fc_blend *b)
{
	return b->nets + (b->has_lstm ? 1 : 0);
}

void
fc_blend_init(fc_blend *b, const fc_config *cfg)
{
	int			i;

	memset(b, 0, sizeof(*b));
	b->horizon = cfg->horizon;
	b->target = cfg->target;
	b->decay = cfg->blend_decay;
	b->power = cfg->blend_power;
	add_ets(b, FC_NAIVE, 0);
	add_ets(b, FC_SES, 0);
	add_ets(b, FC_HOLT_DAMPED, 0);
	if (cfg->season >= 2)
	{
		add_ets(b, FC_SNAIVE, cfg->season);
		add_ets(b, FC_HW_ADD, cfg->season);
	}
	if (cfg->short_season >= 2 && cfg->short_season != cfg->season)
	{
		add_ets(b, FC_SNAIVE, cfg->short_season);
		add_ets(b, FC_HW_ADD, cfg->short_season);
	}
	if (cfg->use_lstm)
	{
		b->has_lstm = 1;
		fc_lstm_init(&b->lstm, cfg);
	}
	for (i = 0; i <= FC_BLEND_MAX_MEMBERS; i++)
		b->err[i] = NAN;
}

int
fc_blend_min_length(const fc_config *cfg)
{
	/* naive, SES and Holt always take part */
	(void) cfg;
	return fc_ets_min_length(FC_HOLT_DAMPED, 0);
}

/* Target forecast of member i. */
static double
member_target(const fc_blend *b, int i)
{
	double		path[FC_MAX_HORIZON];
	double		s = 0.0;
	int			h = b->horizon;
	int			k;

	if (b->target == FC_TARGET_POINT && i < b->nets)
		return fc_ets_forecast_at(&b->ets[i], h);
	if (i < b->nets)
		fc_ets_forecast(&b->ets[i], h, path);
	else
		fc_lstm_forecast(&b->lstm, h, path);
	if (b->target == FC_TARGET_POINT)
		return path[h - 1];
	for (k = 0; k < h; k++)
		s += path[k];
	return s / h;
}

/* Recompute the weights from the rolling errors. */
static void
reweight(fc_blend *b)
{
	int			nm = fc_blend_members(b);
	double		emin = INFINITY;
	double		sum = 0.0;
	int			i;

	for (i = 0; i < nm; i++)
		if (b->active[i] && !isnan(b->err[i]) && b->err[i] < emin)
			emin = b->err[i];
	for (i = 0; i < nm; i++)
	{
		double		w = 0.0;

		if (b->active[i])
		{
			if (isinf(emin))
				w = 1.0;		/* no errors known yet: equal weights */
			else if (!isnan(b->err[i]))
			{
				/* relative to the best, so that tiny errors do not underflow */
				double		r = (b->err[i] + 1e-12 * (emin + 1e-300)) /
					(emin + 1e-12 * (emin + 1e-300));

				w = pow(r, -b->power);
			}
		}
		b->weight[i] = w;
		sum += w;
	}
	for (i = 0; i < nm; i++)
		b->weight[i] = sum > 0.0 ? b->weight[i] / sum : 0.0;
}

/* Forecast the target with every member and store it as pending. */
static void
predict(fc_blend *b)
{
	int			nm = fc_blend_members(b);
	float	   *slot = b->pending[b->nobs % b->horizon];
	double		blend = 0.0;
	int			i;

	for (i = 0; i < nm; i++)
	{
		double		f = b->active[i] ? member_target(b, i) : 0.0;

		slot[i] = (float) f;
		blend += b->weight[i] * f;
	}
	slot[nm] = (float) blend;
}

/* A new sample y: score the forecasts made h samples ago. */
static void
score(fc_blend *b, double y)
{
	int			nm = fc_blend_members(b);
	int			h = b->horizon;
	double		actual = y;
	int			i;

	b->recent[b->nobs % h] = y;
	b->nobs++;
	if (b->nobs <= h)
		return;					/* the forecast for this target was not made */
	if (b->target == FC_TARGET_MEAN)
	{
		double		s = 0.0;

		for (i = 0; i < h; i++)
			s += b->recent[i];
		actual = s / h;
	}
	for (i = 0; i <= nm; i++)
	{
		double		e;

		if (i < nm && !b->active[i])
			continue;
		/* the slot written h samples ago (predict() reuses it next) */
		e = fabs((double) b->pending[b->nobs % h][i] - actual);
		if (isnan(b->err[i]))
		{
			b->err[i] = 0.0;
			b->errw[i] = 0.0;
		}
		/* bias-corrected exponentially weighted mean */
		b->err[i] = (b->decay * b->err[i] * b->errw[i] + e) /
			(b->decay * b->errw[i] + 1.0);
		b->errw[i] = b->decay * b->errw[i] + 1.0;
	}
}

static void
update_members(fc_blend *b, double y, bool learn)
{
	int			i;

	for (i = 0; i < b->nets; i++)
		if (b->active[i])
			fc_ets_step(&b->ets[i], y);
	if (b->has_lstm && b->active[b->nets])
		fc_lstm_update(&b->lstm, y, learn);
}

static fc_status
fit_members(fc_blend *b, const double *y, int n, fc_interrupt_fn cb, void *cb_arg)
{
	int			i;
	fc_status	st;

	for (i = 0; i < b->nets; i++)
	{
		b->active[i] = 0;
		if (n < fc_ets_min_length(b->ets[i].kind, b->ets[i].season))
			continue;
		st = fc_ets_fit(&b->ets[i], y, n, cb, cb_arg);
		if (st != FC_OK)
			return st;
		b->active[i] = 1;
	}
	if (b->has_lstm)
	{
		fc_config	c;

		b->active[b->nets] = 0;
		c.lstm_window = b->lstm.window;
		c.horizon = b->horizon;
		if (n >= fc_lstm_min_length(&c))
		{
			st = fc_lstm_fit(&b->lstm, y, n, cb, cb_arg);
			if (st != FC_OK)
				return st;
			b->active[b->nets] = 1;
		}
	}
	return FC_OK;
}

/*
 * Give b the fitted members of src, a blend with the same members.  The
 * members never depend on the weighting (decay, power), so this is exactly
 * what fitting them on the same data would have given.
 */
static void
copy_members(fc_blend *b, const fc_blend *src)
{
	memcpy(b->active, src->active, sizeof(b->active));
	memcpy(b->ets, src->ets, sizeof(b->ets));
	b->lstm = src->lstm;
}

/*
 * The members are fitted on y: replay the window with the fitted parameters
 * to learn the initial errors.  Every smoothing member restarts from its
 * initial state, the LSTM from an empty input ring (without learning: it
 * has just been trained on these data, and the replay does not count as new
 * samples).  Scoring starts once every member is running.
 */
static fc_status
replay(fc_blend *b, const double *y, int n, fc_interrupt_fn cb, void *cb_arg)
{
	int			start[FC_BLEND_MAX_MEMBERS];
	int64_t		lstm_nobs = b->lstm.nobs;
	int			t0 = 0;
	int			i,
				t;

	for (i = 0; i < b->nets; i++)
	{
		start[i] = 0;
		if (b->active[i])
			start[i] = fc_ets_reset(&b->ets[i], y, n);
		if (start[i] > t0)
			t0 = start[i];
	}
	if (b->has_lstm && b->active[b->nets])
	{
		b->lstm.ring_len = 0;
		b->lstm.ring_pos = 0;
		start[b->nets] = 0;
	}
	for (i = 0; i <= FC_BLEND_MAX_MEMBERS; i++)
	{
		b->err[i] = NAN;
		b->errw[i] = 0.0;
	}
	b->nobs = 0;
	for (t = 0; t < n; t++)
	{
		if (cb && (t % 1024) == 0 && cb(cb_arg))
			return FC_ERR_INTERRUPTED;
		if (t >= t0)
			score(b, y[t]);
		for (i = 0; i < b->nets; i++)
			if (b->active[i] && t >= start[i])
				fc_ets_step(&b->ets[i], y[t]);
		if (b->has_lstm && b->active[b->nets])
			fc_lstm_update(&b->lstm, y[t], false);
		if (t >= t0)
		{
			reweight(b);
			predict(b);
		}
	}
	if (t0 >= n)
	{
		/* too short to score anything: equal weights */
		reweight(b);
		predict(b);
	}
	b->lstm.nobs = lstm_nobs;
	return FC_OK;
}

fc_status
fc_blend_fit(fc_blend *b, const double *y, int n, fc_interrupt_fn cb, void *cb_arg)
{
	fc_status	st;

	if (n < fc_blend_min_length(NULL))
		return FC_ERR_TOO_SHORT;
	st = fit_members(b, y, n, cb, cb_arg);
	if (st != FC_OK)
		return st;
	return replay(b, y, n, cb, cb_arg);
}

fc_status
fc_blend_refit(fc_blend *b, const double *y, int n, fc_interrupt_fn cb, void *cb_arg)
{
	fc_status	st;

	if (b->nobs == 0)
		return fc_blend_fit(b, y, n, cb, cb_arg);
	score(b, y[n - 1]);
	st = fit_members(b, y, n, cb, cb_arg);
	if (st != FC_OK)
		return st;
	reweight(b);
	predict(b);
	return FC_OK;
}

fc_status
fc_blend_fit_from(fc_blend *b, const fc_blend *src, const double *y, int n,
				  bool refit, fc_interrupt_fn cb, void *cb_arg)
{
	if (refit && b->nobs > 0)
	{
		score(b, y[n - 1]);
		copy_members(b, src);
		reweight(b);
		predict(b);
		return FC_OK;
	}
	if (n < fc_blend_min_length(NULL))
		return FC_ERR_TOO_SHORT;
	copy_members(b, src);
	return replay(b, y, n, cb, cb_arg);
}

void
fc_blend_update(fc_blend *b, double y)
{
	score(b, y);
	update_members(b, y, true);
	reweight(b);
	predict(b);
}

void
fc_blend_forecast(const fc_blend *b, int h, double *out)
{
	double		path[FC_MAX_HORIZON];
	int			nm = fc_blend_members(b);
	int			i,
				k;

	for (k = 0; k < h; k++)
		out[k] = 0.0;
	for (i = 0; i < nm; i++)
	{
		if (!b->active[i] || b->weight[i] == 0.0)
			continue;
		if (i < b->nets)
			fc_ets_forecast(&b->ets[i], h, path);
		else
			fc_lstm_forecast(&b->lstm, h, path);
		for (k = 0; k < h; k++)
			out[k] += b->weight[i] * path[k];
	}
}

double
fc_blend_pending(const fc_blend *b, int i)
{
	return b->pending[b->nobs % b->horizon][i];
}

void
fc_blend_member(const fc_blend *b, int i, fc_member_info *info)
{
	if (i < b->nets)
	{
		info->kind = b->ets[i].kind;
		info->season = b->ets[i].season;
	}
	else
	{
		info->kind = FC_LSTM;
		info->season = 0;
	}
	info->active = b->active[i] != 0;
	info->weight = b->weight[i];
	info->rolling_mae = b->err[i];
}
