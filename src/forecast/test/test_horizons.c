/*-------------------------------------------------------------------------
 *
 * test_horizons.c
 *	  Unit tests of forecasts several steps ahead, as the live models make
 *	  them for each horizon of foresight.prediction_horizons: each model's
 *	  h-step path, the mean target over h steps, and the blend judging its
 *	  members by the errors of its own horizon.  TAP output (run with
 *	  `make forecast-check`).
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/test/test_horizons.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast/blend.h"
#include "forecast/forecast.h"
#include "core/test/tap.h"
#include "test_util.h"

#define N 1200

static fc_model m1,
			m2;
static double y[N];
static double path[FC_MAX_HORIZON];
/* forecasts of the blend's members (and the blend) recorded at each origin */
static double rec[N][FC_BLEND_MAX_MEMBERS + 1];

static fc_status
fit(fc_model *m, fc_kind kind, int horizon, int short_season, const double *v, int n)
{
	fc_config	cfg;
	fc_status	st;

	fc_config_default(&cfg, kind);
	cfg.horizon = horizon;
	cfg.target = FC_TARGET_MEAN;
	cfg.short_season = short_season;
	cfg.lstm_steps = 200;
	st = fc_model_init(m, &cfg);
	return st == FC_OK ? fc_model_fit(m, v, n, NULL, NULL) : st;
}

/* Smoothing models: the closed forms of their h-step paths. */
static void
test_ets_paths(void)
{
	unsigned	seed = 7;
	double		worst = 0.0;
	bool		flat = true;
	int			k;

	for (k = 0; k < 400; k++)
		y[k] = 0.3 + 0.001 * k + 0.002 * noise(&seed);

	ok(fit(&m1, FC_NAIVE, 1, 0, y, 400) == FC_OK &&
	   fc_model_forecast(&m1, 60, path) == FC_OK, "naive: forecasts 60 steps ahead");
	for (k = 0; k < 60; k++)
		flat &= path[k] == y[399];
	ok(flat, "naive: every step of the path is the last value");

	ok(fit(&m1, FC_SES, 1, 0, y, 400) == FC_OK &&
	   fc_model_forecast(&m1, 60, path) == FC_OK, "ses: forecasts 60 steps ahead");
	for (k = 0, flat = true; k < 60; k++)
		flat &= path[k] == m1.u.ets.level;
	ok(flat, "ses: every step of the path is the level");

	ok(fit(&m1, FC_HOLT_DAMPED, 1, 0, y, 400) == FC_OK &&
	   fc_model_forecast(&m1, 60, path) == FC_OK, "holt_damped: forecasts 60 steps ahead");
	/* f(h) = level + (phi + ... + phi^h) trend: f(h) - f(h-1) = phi^h trend */
	for (k = 1; k < 60; k++)
	{
		double		step = pow(m1.u.ets.phi, k + 1) * m1.u.ets.trend;

		worst = fmax(worst, fabs((path[k] - path[k - 1]) - step));
	}
	ok(worst < 1e-12 && fabs(path[0] - (m1.u.ets.level + m1.u.ets.phi * m1.u.ets.trend)) < 1e-12,
	   "holt_damped: each step adds phi^h times the trend (worst %.1e)", worst);
	ok(m1.u.ets.trend > 0 && path[59] > path[0],
	   "holt_damped: the path follows the rising trend");
}

/* The mean target over h steps is the mean of the h-step path. */
static void
test_mean_target(void)
{
	int			hs[] = {1, 5, 12, 60, FC_MAX_HORIZON};
	unsigned	seed = 11;
	int			k;

	for (k = 0; k < 600; k++)
		y[k] = 0.5 + 0.2 * sin(2 * PI * k / 24.0) + 0.03 * noise(&seed);
	ok(fit(&m1, FC_BLEND, 5, 24, y, 600) == FC_OK, "blend: fits for a 5-step horizon");
	for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
	{
		int			h = hs[i];
		double		mean,
					s = 0.0;

		ok(fc_model_forecast(&m1, h, path) == FC_OK &&
		   fc_model_forecast_target(&m1, h, FC_TARGET_MEAN, &mean) == FC_OK,
		   "blend: forecasts the path and the mean %d steps ahead", h);
		for (k = 0; k < h; k++)
			s += path[k];
		ok(fabs(mean - s / h) < 1e-12, "blend: the mean over %d steps is the mean of the path", h);
	}
	ok(fc_model_forecast(&m1, FC_MAX_HORIZON + 1, path) == FC_ERR_HORIZON,
	   "a path longer than FC_MAX_HORIZON is refused");
}

/* The LSTM has FC_LSTM_MAX_OUT outputs: a longer path holds the last one. */
static void
test_lstm_long_path(void)
{
	unsigned	seed = 3;
	bool		held = true;
	int			k;

	for (k = 0; k < 400; k++)
		y[k] = 0.5 + 0.1 * sin(2 * PI * k / 30.0) + 0.01 * noise(&seed);
	ok(fit(&m1, FC_LSTM, 60, 0, y, 400) == FC_OK &&
	   m1.u.lstm.nout == FC_LSTM_MAX_OUT &&
	   fc_model_forecast(&m1, 60, path) == FC_OK,
	   "lstm: a 60-step horizon trains %d outputs", FC_LSTM_MAX_OUT);
	for (k = FC_LSTM_MAX_OUT; k < 60; k++)
		held &= path[k] == path[FC_LSTM_MAX_OUT - 1];
	ok(held, "lstm: steps beyond %d repeat the last output", FC_LSTM_MAX_OUT);
	for (k = 0, held = true; k < 60; k++)
		held &= isfinite(path[k]);
	ok(held, "lstm: the 60-step path is finite");
}

/*
 * The blend of horizon h scores each member's forecast of the mean of the
 * next h samples against that mean once it is known, h samples later, and
 * keeps a bias-corrected exponentially weighted mean of those errors.
 * Recomputed here from the forecasts the blend published at each origin
 * (h >= 2).
 */
static double
check_rolling_errors(fc_model *m, int h, int n0, int n)
{
	const fc_blend *b = &m->u.blend;
	int			nm = fc_blend_members(b);
	double		e_ref[FC_BLEND_MAX_MEMBERS + 1];
	double		w_ref[FC_BLEND_MAX_MEMBERS + 1];
	double		worst = 0.0;
	int			t,
				i;

	for (t = n0; t < n; t++)
	{
		for (i = 0; i <= nm; i++)
			rec[t][i] = fc_blend_pending(b, i);
		fc_model_update(m, y[t]);
		if (t == n0 + h - 2)
		{
			/* the state just before the first recorded forecast is scored */
			memcpy(e_ref, b->err, sizeof(e_ref));
			memcpy(w_ref, b->errw, sizeof(w_ref));
		}
		if (t >= n0 + h - 1)
		{
			double		actual = 0.0;

			for (int j = t - h + 1; j <= t; j++)
				actual += y[j];
			actual /= h;
			for (i = 0; i <= nm; i++)
			{
				double		e = fabs(rec[t - h + 1][i] - actual);

				e_ref[i] = (b->decay * e_ref[i] * w_ref[i] + e) / (b->decay * w_ref[i] + 1.0);
				w_ref[i] = b->decay * w_ref[i] + 1.0;
			}
		}
	}
	for (i = 0; i <= nm; i++)
		if (i == nm || b->active[i])
			worst = fmax(worst, fabs(e_ref[i] - b->err[i]) / fmax(b->err[i], 1e-12));
	return worst;
}

static double
weight_of(const fc_model *m, fc_kind kind, int season)
{
	for (int i = 0; i < fc_model_members(m); i++)
	{
		fc_member_info info;

		fc_model_member(m, i, &info);
		if (info.kind == (int32_t) kind && info.season == season)
			return info.weight;
	}
	return -1.0;
}

static void
test_blend_per_horizon(void)
{
	unsigned	seed = 5;
	int			hs[] = {5, 60};
	double		naive_w[2];
	int			k;

	/* a daily-like cycle of 24 samples with noise */
	for (k = 0; k < N; k++)
		y[k] = 0.5 + 0.25 * sin(2 * PI * k / 24.0) + 0.02 * noise(&seed);

	for (int j = 0; j < 2; j++)
	{
		int			h = hs[j];
		double		worst;

		ok(fit(&m1, FC_BLEND, h, 24, y, 600) == FC_OK && m1.u.blend.horizon == h,
		   "blend: trained for a horizon of %d steps", h);
		worst = check_rolling_errors(&m1, h, 600, N);
		ok(worst < 1e-9,
		   "blend h=%d: every rolling error is that of the forecasts of the mean of the next %d samples (worst relative %.1e)",
		   h, h, worst);
		naive_w[j] = weight_of(&m1, FC_NAIVE, 0);
	}
	/*
	 * Over 5 samples the last value is still near the cycle; over 60 (2.5
	 * cycles) the mean is the cycle's centre, far from the last value: the
	 * 60-step blend, judged by its own errors, trusts naive less.
	 */
	ok(naive_w[1] < naive_w[0],
	   "blend: naive weighs less at 60 steps (%.3g) than at 5 (%.3g)", naive_w[1], naive_w[0]);

	/* the blend of each horizon forecasts better than naive at its horizon */
	for (int j = 0; j < 2; j++)
	{
		int			h = hs[j];
		int			nm;

		fit(&m2, FC_BLEND, h, 24, y, 600);
		check_rolling_errors(&m2, h, 600, N);
		nm = fc_blend_members(&m2.u.blend);
		ok(m2.u.blend.err[nm] < m2.u.blend.err[0],
		   "blend h=%d: rolling error %.4f below naive's %.4f", h,
		   m2.u.blend.err[nm], m2.u.blend.err[0]);
	}
}

int
main(void)
{
	test_ets_paths();
	test_mean_target();
	test_lstm_long_path();
	test_blend_per_horizon();
	return tap_done();
}
