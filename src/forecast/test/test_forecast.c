/*-------------------------------------------------------------------------
 *
 * test_forecast.c
 *	  Unit tests of the forecasting library, output as TAP (run with
 *	  `make forecast-check` or `prove -e '' src/forecast/test/test_forecast`).
 *	  The anomaly detector's are in test_anomaly.c, the forecasts over
 *	  several horizons in test_horizons.c (programs of their own).
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/test/test_forecast.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast/backtest.h"
#include "forecast/forecast.h"
#include "forecast/lstm.h"
#include "forecast/series.h"
#include "forecast/smoothing.h"
#include "core/test/tap.h"


#include "test_util.h"

/* All models live in static memory: fc_model is ~60 KiB. */
static fc_model m1,
			m2;
static unsigned char image[2 * 65536];

static fc_status
fit_kind(fc_model *m, fc_kind kind, int season, int horizon,
		 const double *y, int n)
{
	fc_config	cfg;
	fc_status	st;

	fc_config_default(&cfg, kind);
	cfg.season = season;
	cfg.horizon = horizon;
	st = fc_model_init(m, &cfg);
	if (st != FC_OK)
		return st;
	return fc_model_fit(m, y, n, NULL, NULL);
}

static void
test_metrics(void)
{
	fc_metrics	mt;
	double		y[] = {1, 3, 2, 6};

	fc_metrics_init(&mt, 2.0);
	fc_metrics_add(&mt, 1, 2);
	fc_metrics_add(&mt, 2, 2);
	fc_metrics_add(&mt, 3, 5);
	fc_metrics_finish(&mt);
	ok(mt.count == 3 && fabs(mt.mae - 1.0) < 1e-15, "MAE of errors 1,0,2 is 1");
	ok(fabs(mt.rmse - sqrt(5.0 / 3.0)) < 1e-15, "RMSE of errors 1,0,2 is sqrt(5/3)");
	ok(fabs(mt.mase - 0.5) < 1e-15, "MASE = MAE / scale = 0.5");
	ok(fabs(fc_series_naive_scale(y, 4) - 7.0 / 3.0) < 1e-15,
	   "MASE scale of 1,3,2,6 is 7/3");
	fc_metrics_init(&mt, 0.0);
	fc_metrics_add(&mt, 1, 1);
	fc_metrics_finish(&mt);
	ok(isnan(mt.mase) && mt.mae == 0.0, "zero scale gives NaN MASE, not a division by zero");
}

static void
test_validation(void)
{
	double		y[5] = {1, 2, NAN, 4, 5};
	double		z[3] = {1, INFINITY, 2};
	fc_config	cfg;
	fc_kind		k;
	int			bad;

	ok(fc_series_check(y, 5, 1, &bad) == FC_ERR_NONFINITE && bad == 2,
	   "NaN found at its index");
	ok(fc_series_check(z, 3, 1, &bad) == FC_ERR_NONFINITE && bad == 1,
	   "infinity found at its index");
	ok(fc_series_check(y, 0, 1, NULL) == FC_ERR_TOO_SHORT, "empty series is too short");
	ok(fc_series_check(NULL, 3, 1, NULL) == FC_ERR_ARGUMENT, "NULL series is an argument error");
	ok(fit_kind(&m1, FC_NAIVE, 0, 1, y, 5) == FC_ERR_NONFINITE, "fit rejects NaN");
	ok(fit_kind(&m1, FC_HW_ADD, 12, 1, (double[30]) {0}, 20) == FC_ERR_TOO_SHORT,
	   "hw_add with season 12 needs more than 20 points");
	ok(fit_kind(&m1, FC_HW_ADD, 0, 1, y, 2) == FC_ERR_SEASON, "hw_add without season");
	ok(fit_kind(&m1, FC_SNAIVE, 1, 1, y, 2) == FC_ERR_SEASON, "season 1 is rejected");
	ok(fit_kind(&m1, FC_SNAIVE, FC_MAX_SEASON + 1, 1, y, 2) == FC_ERR_SEASON,
	   "season above the maximum is rejected");
	ok(fit_kind(&m1, FC_NAIVE, 0, 0, y, 2) == FC_ERR_HORIZON, "horizon 0 is rejected");
	ok(fit_kind(&m1, FC_NAIVE, 0, FC_MAX_HORIZON + 1, y, 2) == FC_ERR_HORIZON,
	   "horizon above the maximum is rejected");
	fc_config_default(&cfg, FC_NAIVE);
	cfg.kind = FC_NUM_KINDS;
	ok(fc_model_init(&m1, &cfg) == FC_ERR_MODEL, "unknown kind is rejected");
	ok(!fc_kind_from_name("arima", &k) && fc_kind_from_name("hw_add", &k) && k == FC_HW_ADD,
	   "model names map to kinds");
	fc_config_default(&cfg, FC_SES);
	fc_model_init(&m1, &cfg);
	ok(fc_model_update(&m1, 1.0) == FC_ERR_STATE, "update before fit is refused");
	fit_kind(&m1, FC_SES, 0, 1, (double[]) {1, 2, 3, 4}, 4);
	ok(fc_model_update(&m1, NAN) == FC_ERR_NONFINITE, "update with NaN is refused");
	ok(fc_model_forecast(&m1, 0, z) == FC_ERR_HORIZON, "forecast horizon 0 is refused");
	ok(forecast_model_state_size() == sizeof(fc_model) &&
	   forecast_model_state_size() <= 65536, "state size %zu bytes, within 64 KiB",
	   forecast_model_state_size());
}

static void
test_simple_models(void)
{
	double		y[200];
	double		f[24];
	int			i,
				good;

	for (i = 0; i < 200; i++)
		y[i] = 7.25;
	for (i = FC_NAIVE; i <= FC_HW_ADD; i++)
	{
		int			s = fc_kind_is_seasonal((fc_kind) i) ? 12 : 0;
		int			k;

		good = fit_kind(&m1, (fc_kind) i, s, 1, y, 200) == FC_OK &&
			fc_model_forecast(&m1, 24, f) == FC_OK;
		for (k = 0; good && k < 24; k++)
			good = fabs(f[k] - 7.25) < 1e-9;
		ok(good, "%s forecasts a constant series exactly", fc_kind_name((fc_kind) i));
	}

	for (i = 0; i < 50; i++)
		y[i] = i % 5 == 0 ? 3.0 : (double) i;
	fit_kind(&m1, FC_NAIVE, 0, 1, y, 50);
	fc_model_forecast(&m1, 3, f);
	ok(f[0] == 49.0 && f[2] == 49.0, "naive repeats the last value");
	fit_kind(&m1, FC_SNAIVE, 7, 1, y, 50);
	fc_model_forecast(&m1, 8, f);
	ok(f[0] == y[43] && f[6] == y[49] && f[7] == y[43],
	   "snaive repeats the last season");
}

static void
test_holt_trend(void)
{
	double		y[300];
	double		f[10];
	unsigned	st = 1;
	int			i;

	for (i = 0; i < 300; i++)
		y[i] = 5.0 + 0.5 * i + 0.3 * noise(&st);
	fit_kind(&m1, FC_HOLT_DAMPED, 0, 1, y, 300);
	fc_model_forecast(&m1, 10, f);
	diag("holt: alpha %.3f beta %.3f phi %.3f trend %.4f, f[9] %.3f (true %.3f)",
		 m1.u.ets.alpha, m1.u.ets.beta, m1.u.ets.phi, m1.u.ets.trend, f[9],
		 5.0 + 0.5 * 309);
	ok(fabs(m1.u.ets.trend - 0.5) < 0.05, "Holt recovers the slope 0.5 (%.4f)",
	   m1.u.ets.trend);
	ok(fabs(f[0] - (5.0 + 0.5 * 300)) < 0.5 && fabs(f[9] - (5.0 + 0.5 * 309)) < 1.5,
	   "Holt extrapolates the trend");
}

static void
test_hw_season(void)
{
	double		y[400];
	double		f[24];
	double		maxerr = 0.0,
				maxerr_t = 0.0;
	unsigned	st = 7;
	int			i;

	for (i = 0; i < 240; i++)
		y[i] = 50.0 + 10.0 * sin(2 * PI * i / 12.0) + 3.0 * (i % 12 == 3);
	fit_kind(&m1, FC_HW_ADD, 12, 1, y, 240);
	fc_model_forecast(&m1, 24, f);
	for (i = 0; i < 24; i++)
	{
		int			t = 240 + i;
		double		truth = 50.0 + 10.0 * sin(2 * PI * t / 12.0) + 3.0 * (t % 12 == 3);

		if (fabs(f[i] - truth) > maxerr)
			maxerr = fabs(f[i] - truth);
	}
	ok(maxerr < 1e-3, "Holt-Winters recovers a pure season (max error %.2g)", maxerr);

	for (i = 0; i < 400; i++)
		y[i] = 20.0 + 0.1 * i + 5.0 * cos(2 * PI * i / 24.0) + 0.2 * noise(&st);
	fit_kind(&m1, FC_HW_ADD, 24, 1, y, 400);
	fc_model_forecast(&m1, 24, f);
	for (i = 0; i < 24; i++)
	{
		int			t = 400 + i;
		double		truth = 20.0 + 0.1 * t + 5.0 * cos(2 * PI * t / 24.0);

		if (fabs(f[i] - truth) > maxerr_t)
			maxerr_t = fabs(f[i] - truth);
	}
	ok(maxerr_t < 1.0, "Holt-Winters follows trend + season + noise (max error %.3f)",
	   maxerr_t);
}

static void
test_lstm_gradient(void)
{
	fc_config	cfg;
	fc_lstm    *l = &m1.u.lstm;
	static double p[FC_LSTM_MAX_PARAMS],
				g[FC_LSTM_MAX_PARAMS];
	double		x[FC_LSTM_MAX_WINDOW * FC_LSTM_INPUTS];
	double		tgt[FC_LSTM_MAX_OUT];
	double		worst = 0.0;
	unsigned	st = 99;
	int			i;

	fc_config_default(&cfg, FC_LSTM);
	cfg.lstm_hidden = 5;
	cfg.lstm_window = 7;
	cfg.horizon = 3;
	fc_lstm_init(l, &cfg);
	for (i = 0; i < l->nparams; i++)
		p[i] = 0.5 * noise(&st);
	for (i = 0; i < l->window * FC_LSTM_INPUTS; i++)
		x[i] = noise(&st);
	for (i = 0; i < l->nout; i++)
		tgt[i] = noise(&st);
	memset(g, 0, sizeof(g));
	fc_lstm_loss_grad(l, p, x, tgt, g);
	for (i = 0; i < l->nparams; i++)
	{
		double		save = p[i];
		double		eps = 1e-5;
		double		lp,
					lm,
					num,
					rel;

		p[i] = save + eps;
		lp = fc_lstm_loss_grad(l, p, x, tgt, NULL);
		p[i] = save - eps;
		lm = fc_lstm_loss_grad(l, p, x, tgt, NULL);
		p[i] = save;
		num = (lp - lm) / (2 * eps);
		rel = fabs(num - g[i]) / fmax(1e-7, fabs(num) + fabs(g[i]));
		if (rel > worst)
			worst = rel;
	}
	ok(worst < 1e-5, "LSTM BPTT gradient matches central differences on all %d "
	   "parameters (worst relative error %.2g)", l->nparams, worst);
}

static void
test_lstm_learns_and_determinism(void)
{
	double		y[1200];
	double		f1[12],
				f2[12];
	fc_backtest_spec spec;
	fc_backtest_result r_naive,
				r_lstm;
	fc_config	cfg;
	unsigned	st = 3;
	int			i;

	for (i = 0; i < 1200; i++)
		y[i] = 10.0 + 4.0 * sin(2 * PI * i / 16.0) + 0.3 * noise(&st);

	fit_kind(&m1, FC_LSTM, 0, 12, y, 1200);
	fit_kind(&m2, FC_LSTM, 0, 12, y, 1200);
	fc_model_forecast(&m1, 12, f1);
	fc_model_forecast(&m2, 12, f2);
	ok(memcmp(f1, f2, sizeof(f1)) == 0 && memcmp(&m1, &m2, sizeof(fc_model)) == 0,
	   "same seed: bit-identical LSTM state and forecasts");
	fc_model_update(&m1, 11.0);
	fc_model_update(&m2, 11.0);
	fc_model_forecast(&m1, 12, f1);
	fc_model_forecast(&m2, 12, f2);
	ok(memcmp(f1, f2, sizeof(f1)) == 0, "same seed: identical after an online update");
	fc_config_default(&cfg, FC_LSTM);
	cfg.horizon = 12;
	cfg.seed = 12345;
	fc_model_init(&m2, &cfg);
	fc_model_fit(&m2, y, 1200, NULL, NULL);
	fc_model_forecast(&m2, 12, f2);
	ok(memcmp(f1, f2, sizeof(f1)) != 0, "another seed gives another network");

	fc_backtest_spec_default(&spec);
	spec.horizon = 4;
	spec.fit_window = 1000;
	fc_config_default(&cfg, FC_NAIVE);
	fc_backtest(&m1, &cfg, y, 1200, &spec, &r_naive, NULL, NULL);
	fc_config_default(&cfg, FC_LSTM);
	fc_backtest(&m1, &cfg, y, 1200, &spec, &r_lstm, NULL, NULL);
	ok(r_lstm.model.mae < 0.5 * r_naive.model.mae,
	   "LSTM learns a sine wave: 4-step MAE %.3f vs naive %.3f",
	   r_lstm.model.mae, r_naive.model.mae);

	for (i = 0; i < 200; i++)
		y[i] = 3.0;
	ok(fit_kind(&m1, FC_LSTM, 0, 6, y, 200) == FC_OK &&
	   fc_model_forecast(&m1, 6, f1) == FC_OK && f1[0] == 3.0 && f1[5] == 3.0,
	   "LSTM on a constant series forecasts the constant");
}

static int	interrupt_calls;

static bool
interrupt_after_two(void *arg)
{
	(void) arg;
	return ++interrupt_calls > 2;
}

static void
test_blend(void)
{
	double		y[2000];
	double		f[12];
	fc_config	cfg;
	fc_member_info info;
	double		w_before = 0.0,
				w_after = 0.0;
	unsigned	st = 11;
	bool		good;
	int			i,
				n;
	size_t		len;

	/* a random walk: the non-seasonal members fit best */
	y[0] = 100.0;
	for (i = 1; i < 600; i++)
		y[i] = y[i - 1] + noise(&st);
	fc_config_default(&cfg, FC_BLEND);
	cfg.horizon = 1;
	cfg.use_lstm = 0;
	fc_model_init(&m1, &cfg);
	ok(fc_model_fit(&m1, y, 600, NULL, NULL) == FC_OK, "blend fits a random walk");
	n = fc_model_members(&m1);
	for (i = 0; i < n; i++)
	{
		fc_model_member(&m1, i, &info);
		if (fc_kind_is_seasonal((fc_kind) info.kind))
			w_before += info.weight;
	}
	/* then the series turns into a strong 12-periodic pattern */
	for (i = 600; i < 2000; i++)
	{
		y[i] = 100.0 + 20.0 * ((i % 12) < 4) + 0.05 * noise(&st);
		fc_model_update(&m1, y[i]);
	}
	for (i = 0; i < n; i++)
	{
		fc_model_member(&m1, i, &info);
		if (fc_kind_is_seasonal((fc_kind) info.kind))
			w_after += info.weight;
		diag("member %s/%d weight %.3f rolling MAE %.4f",
			 fc_kind_name((fc_kind) info.kind), info.season, info.weight,
			 info.rolling_mae);
	}
	ok(w_after > 0.9 && w_after > w_before + 0.3,
	   "blend moves weight to the seasonal members (%.3f -> %.3f)", w_before, w_after);
	fc_model_forecast(&m1, 12, f);
	ok(fabs(f[0] - (100.0 + 20.0 * ((2000 % 12) < 4))) < 2.0,
	   "blend forecast follows the pattern (%.2f)", f[0]);

	/* serialise / deserialise */
	len = fc_model_serialise(&m1, NULL, 0);
	ok(len > sizeof(fc_model) && len <= sizeof(image) &&
	   fc_model_serialise(&m1, image, sizeof(image)) == len,
	   "serialised image is %zu bytes", len);
	memset(&m2, 0xAB, sizeof(m2));
	ok(fc_model_deserialise(&m2, image, len) == FC_OK &&
	   memcmp(&m1, &m2, sizeof(fc_model)) == 0, "round trip restores the state");
	fc_model_update(&m1, 101.0);
	fc_model_update(&m2, 101.0);
	{
		double		g[12];

		fc_model_forecast(&m1, 12, f);
		fc_model_forecast(&m2, 12, g);
		ok(memcmp(f, g, sizeof(f)) == 0, "restored model continues identically");
	}
	image[len / 2] ^= 1;
	ok(fc_model_deserialise(&m2, image, len) == FC_ERR_STATE, "corrupt image is rejected");
	ok(fc_model_deserialise(&m2, image, len - 1) == FC_ERR_STATE, "short image is rejected");

	/* a series just long enough for the seasonal naive member */
	fc_config_default(&cfg, FC_BLEND);
	cfg.season = 12;
	fc_model_init(&m2, &cfg);
	memset(f, 0, sizeof(f));
	good = fc_model_fit(&m2, y + 600, 12, NULL, NULL) == FC_OK &&
		fc_model_forecast(&m2, 12, f) == FC_OK;
	ok(good && fabs(f[0] - y[600]) < 25.0 && f[0] > 50.0, "blend on a 12-value series forecasts from equal weights (%.2f)", f[0]);

	/* interrupt callback */
	fc_config_default(&cfg, FC_BLEND);
	cfg.season = 12;
	fc_model_init(&m2, &cfg);
	interrupt_calls = 0;
	ok(fc_model_fit(&m2, y, 2000, interrupt_after_two, NULL) == FC_ERR_INTERRUPTED,
	   "the interrupt callback stops a fit");
}

static void
test_backtest(void)
{
	double		y[10] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
	double		z[13];
	fc_backtest_spec spec;
	fc_backtest_result r;
	fc_config	cfg;
	fc_status	st;
	int			i;

	fc_backtest_spec_default(&spec);
	spec.train_fraction = 0.5;
	fc_config_default(&cfg, FC_NAIVE);
	ok(fc_backtest(&m1, &cfg, y, 10, &spec, &r, NULL, NULL) == FC_OK &&
	   r.model.count == 5 && r.model.mae == 1.0 && r.model.mase == 1.0 &&
	   r.model.rmse == 1.0, "naive backtest on 0,1,0,1,...: 5 forecasts, MASE 1");

	/* mean target: y = t, naive at origin o, target mean(o+1..o+3) = o + 2 */
	for (i = 0; i < 13; i++)
		z[i] = i;
	spec.horizon = 3;
	spec.target = FC_TARGET_MEAN;
	st = fc_backtest(&m1, &cfg, z, 13, &spec, &r, NULL, NULL);
	ok(st == FC_OK &&
	   r.model.count == 13 - 6 - 3 + 1 && fabs(r.model.mase - 2.0) < 1e-12,
	   "mean target: naive on a unit ramp is 2 steps behind (MASE %.3f)", r.model.mase);
	spec.train_fraction = 1.0;
	ok(fc_backtest(&m1, &cfg, z, 13, &spec, &r, NULL, NULL) == FC_ERR_PARAMETER,
	   "train fraction 1 is rejected");
	spec.train_fraction = 0.9;
	ok(fc_backtest(&m1, &cfg, z, 13, &spec, &r, NULL, NULL) == FC_ERR_TOO_SHORT,
	   "no origin left for the horizon is an error");
}

/* Models for the variants test: the base and three weightings. */
static fc_model mv[4];

static void
test_backtest_variants(void)
{
	static const double decay[3] = {0.9, 0.995, 0.98};
	static const double power[3] = {4.0, 64.0, 16.0};
	double		y[1500];
	fc_backtest_spec spec;
	fc_backtest_result r_all,
				r_one;
	fc_config	cfg;
	unsigned	st = 29;
	bool		same = true,
				good;
	int			i,
				v;

	for (i = 0; i < 1500; i++)
		y[i] = 50.0 + 10.0 * sin(2 * PI * i / 12.0) + 3.0 * noise(&st) +
			(i > 1100 ? 15.0 : 0.0);
	fc_config_default(&cfg, FC_BLEND);
	cfg.season = 24;
	cfg.lstm_steps = 100;
	fc_backtest_spec_default(&spec);
	spec.horizon = 3;
	spec.target = FC_TARGET_MEAN;
	spec.train_fraction = 0.6;
	spec.fit_window = 500;
	spec.refit_every = 100;
	spec.nvariants = 3;
	for (v = 0; v < 3; v++)
	{
		spec.variant_decay[v] = decay[v];
		spec.variant_power[v] = power[v];
	}
	good = fc_backtest(mv, &cfg, y, 1500, &spec, &r_all, NULL, NULL) == FC_OK;
	ok(good && r_all.refits == 6,
	   "backtest with 3 weighting variants (%d refits)", r_all.refits);

	/* each variant scores exactly as its own backtest */
	spec.nvariants = 0;
	good = fc_backtest(&m1, &cfg, y, 1500, &spec, &r_one, NULL, NULL) == FC_OK;
	ok(good && r_one.model.mae == r_all.model.mae &&
	   r_one.model.count == r_all.model.count,
	   "the base model is unaffected by its variants (MAE %.6f)", r_one.model.mae);
	for (v = 0; v < 3; v++)
	{
		fc_config	c = cfg;

		c.blend_decay = decay[v];
		c.blend_power = power[v];
		if (fc_backtest(&m1, &c, y, 1500, &spec, &r_one, NULL, NULL) != FC_OK ||
			r_one.model.mae != r_all.variant[v].mae ||
			r_one.model.rmse != r_all.variant[v].rmse ||
			r_one.model.count != r_all.variant[v].count)
			same = false;
		diag("decay %.3f power %.0f: MAE %.6f alone, %.6f as a variant",
			 decay[v], power[v], r_one.model.mae, r_all.variant[v].mae);
	}
	ok(same, "every variant's errors are bit-identical to its own backtest");
	ok(r_all.variant[0].mae != r_all.variant[1].mae,
	   "different weightings give different errors");

	/* misuse */
	spec.nvariants = 1;
	fc_config_default(&cfg, FC_SES);
	ok(fc_backtest(mv, &cfg, y, 1500, &spec, &r_all, NULL, NULL) == FC_ERR_MODEL,
	   "variants need a blend");
	fc_config_default(&cfg, FC_BLEND);
	cfg.use_lstm = 0;
	fc_model_init(&mv[0], &cfg);
	fc_model_fit(&mv[0], y, 600, NULL, NULL);
	cfg.season = 12;
	fc_model_init(&mv[1], &cfg);
	ok(fc_model_fit_from(&mv[1], &mv[0], y, 600, false, NULL, NULL) == FC_ERR_PARAMETER,
	   "members are only shared between blends of the same members");
}

/*
 * Values near the top of double precision: the models refuse them
 * (FC_ERR_RANGE) instead of returning NaN, and a series scaled by a power
 * of two (what foresight.forecast does) gives the small series' forecast
 * scaled.
 */
static void
test_large_values(void)
{
	static const fc_kind kinds[] = {FC_LSTM, FC_BLEND, FC_HW_ADD};
	double		small[200];
	double		big[200];
	double		scaled[200];
	int			bad = -1;
	int			i,
				k,
				e;

	for (i = 0; i < 200; i++)
	{
		small[i] = 0.5 + 0.3 * sin(i * 0.5) + 0.1 * ((i * 7919) % 13) / 13.0;
		big[i] = ldexp(small[i], 1020);	/* up to about 1e307 */
	}
	k = fc_series_check(big, 200, 1, &bad) == FC_ERR_RANGE;
	ok(k && bad == 0, "a series beyond +-FC_MAX_ABS_VALUE is refused (element %d)", bad);
	ok(fc_series_scale_exponent(small, 200) == 0, "a small series is not scaled");
	e = fc_series_scale_exponent(big, 200);
	memcpy(scaled, big, sizeof(big));
	fc_series_scale(scaled, 200, e);
	for (i = 0, bad = 0; i < 200; i++)
		bad += !(fabs(scaled[i]) < 2.0 && scaled[i] == ldexp(small[i], 1020 - e));
	ok(e > 1000 && bad == 0, "scaling by 2^-%d is exact and brings every value within +-2", e);

	for (k = 0; k < (int) (sizeof(kinds) / sizeof(kinds[0])); k++)
	{
		const char *name = fc_kind_name(kinds[k]);
		int			season = kinds[k] == FC_HW_ADD ? 12 : 0;
		double		f_small[4],
					f_big[4];
		int			finite = 1;
		double		worst = 0.0;

		ok(fit_kind(&m1, kinds[k], season, 4, big, 200) == FC_ERR_RANGE,
		   "%s: fitting values near 1e307 is refused, not NaN", name);
		ok(fit_kind(&m1, kinds[k], season, 4, small, 200) == FC_OK &&
		   fc_model_forecast(&m1, 4, f_small) == FC_OK, "%s: the small series fits", name);
		ok(fc_model_update(&m1, 2.0 * FC_MAX_ABS_VALUE) == FC_ERR_RANGE,
		   "%s: an update beyond the range is refused", name);
		ok(fit_kind(&m2, kinds[k], season, 4, scaled, 200) == FC_OK &&
		   fc_model_forecast(&m2, 4, f_big) == FC_OK, "%s: the scaled series fits", name);
		for (i = 0; i < 4; i++)
		{
			double		back = ldexp(f_big[i], e);
			double		expect = ldexp(f_small[i], 1020);

			finite &= isfinite(back);
			if (fabs(back - expect) / fabs(expect) > worst)
				worst = fabs(back - expect) / fabs(expect);
		}
		ok(finite && worst < 1e-9,
		   "%s: scaled back, the forecast is the small series' forecast times 2^1020 (relative error %.1e)",
		   name, worst);
	}
}

/*
 * The season found in the autocorrelation: a square wave of period 20 with
 * noise (a neighbour alternating between two servers every 10 samples), a
 * sine of period 17 on a rising trend, and a series that only persists or
 * is white noise (none).  The last 1024 samples count: a season that
 * started recently is found under an older flat stretch.
 */
static void
test_detect_season(void)
{
	static double y[3600];
	unsigned	st = 7;
	double		walk = 0.5;

	for (int i = 0; i < 600; i++)
		y[i] = ((i / 10) % 2 ? 0.8 : 0.2) + 0.05 * noise(&st);
	ok(fc_detect_season(y, 600, 0) == 20, "a square wave of period 20 has season 20 (got %d)",
	   fc_detect_season(y, 600, 0));
	ok(fc_detect_season(y, 600, 12) == 0, "at most 12: none (10 is a trough, not a peak)");
	for (int i = 0; i < 600; i++)
		y[i] = 0.001 * i + 0.3 * sin(2 * PI * i / 17.0) + 0.05 * noise(&st);
	ok(fc_detect_season(y, 600, 0) == 17, "a sine of period 17 on a trend has season 17 (got %d)",
	   fc_detect_season(y, 600, 0));
	for (int i = 0; i < 600; i++)
	{
		walk += 0.02 * noise(&st);
		y[i] = walk;
	}
	ok(fc_detect_season(y, 600, 0) == 0, "a random walk has none (got %d)", fc_detect_season(y, 600, 0));
	for (int i = 0; i < 600; i++)
		y[i] = 0.5 + 0.2 * noise(&st);
	ok(fc_detect_season(y, 600, 0) == 0, "white noise has none (got %d)", fc_detect_season(y, 600, 0));
	for (int i = 0; i < 600; i++)
		y[i] = 0.5;
	ok(fc_detect_season(y, 600, 0) == 0, "a flat series has none");
	ok(fc_detect_season(y, 5, 0) == 0 && fc_detect_season(NULL, 10, 0) == 0, "too short or NULL: none");
	{
		int			found = 0;

		/* short noise: its autocorrelation spreads as 1 / sqrt(n) */
		for (int t = 0; t < 500; t++)
		{
			for (int i = 0; i < 80; i++)
				y[i] = 0.5 + 0.2 * noise(&st);
			found += fc_detect_season(y, 80, 0) > 0;
		}
		ok(found == 0, "white noise of 80 samples: no season in 500 draws (found %d)", found);
	}
	for (int i = 0; i < 3600; i++)
		y[i] = i < 2400 ? 0.3 + 0.02 * noise(&st) : ((i / 15) % 2 ? 0.9 : 0.1);
	ok(fc_detect_season(y, 3600, 0) == 30, "a season of the last 1200 samples is found (got %d)",
	   fc_detect_season(y, 3600, 0));
}

int
main(void)
{
	test_metrics();
	test_validation();
	test_simple_models();
	test_holt_trend();
	test_hw_season();
	test_lstm_gradient();
	test_lstm_learns_and_determinism();
	test_blend();
	test_backtest();
	test_backtest_variants();
	test_large_values();
	test_detect_season();
	return tap_done();
}
