/*-------------------------------------------------------------------------
 *
 * backtest.c
 *	  Rolling-origin backtest, following the protocol of the NAB
 *	  baselines (shared/data/nab/baselines.md): train on the first
 *	  floor(f n) points, forecast from every later origin, refit on a
 *	  trailing window every refit_every origins.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/backtest.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "forecast/backtest.h"
#include "forecast/blend.h"

void
fc_backtest_spec_default(fc_backtest_spec *spec)
{
	spec->horizon = 1;
	spec->target = FC_TARGET_POINT;
	spec->train_fraction = 0.7;
	spec->fit_window = 4032;
	spec->refit_every = 288;
	spec->nvariants = 0;
}

static double
cpu_now(void)
{
	return (double) clock() / CLOCKS_PER_SEC;
}

fc_status
fc_backtest(fc_model *work, const fc_config *cfg, const double *y, int n,
			const fc_backtest_spec *spec, fc_backtest_result *res,
			fc_interrupt_fn cb, void *cb_arg)
{
	fc_config	c;
	int			h = spec->horizon;
	int			nv = spec->nvariants;
	int			n_train;
	int			o,
				i,
				v;
	double		scale;
	double		t_start = cpu_now();
	fc_status	st;

	if (work == NULL || cfg == NULL || y == NULL || res == NULL)
		return FC_ERR_ARGUMENT;
	if (!(spec->train_fraction > 0.0 && spec->train_fraction < 1.0) ||
		spec->fit_window < 1 || spec->refit_every < 1 ||
		nv < 0 || nv > FC_BACKTEST_MAX_VARIANTS)
		return FC_ERR_PARAMETER;
	c = *cfg;
	c.horizon = h;
	c.target = spec->target;
	st = fc_config_check(&c);
	if (st != FC_OK)
		return st;
	if (nv > 0 && c.kind != FC_BLEND)
		return FC_ERR_MODEL;
	st = fc_series_check(y, n, 1, NULL);
	if (st != FC_OK)
		return st;
	n_train = (int) floor(spec->train_fraction * n);
	if (n_train < fc_min_length(&c) || n_train < 2 || n - n_train < h)
		return FC_ERR_TOO_SHORT;
	st = fc_model_init(work, &c);
	if (st != FC_OK)
		return st;
	for (v = 0; v < nv; v++)
	{
		fc_config	cv = c;

		cv.blend_decay = spec->variant_decay[v];
		cv.blend_power = spec->variant_power[v];
		st = fc_model_init(&work[1 + v], &cv);
		if (st != FC_OK)
			return st;
	}

	memset(res, 0, sizeof(*res));
	res->n_train = n_train;
	scale = fc_series_naive_scale(y, n_train);
	fc_metrics_init(&res->model, scale);
	res->nmembers = c.kind == FC_BLEND ? fc_model_members(work) : 0;
	for (i = 0; i < res->nmembers; i++)
		fc_metrics_init(&res->member[i], scale);
	for (v = 0; v < nv; v++)
		fc_metrics_init(&res->variant[v], scale);

	for (o = n_train - 1; o <= n - 1 - h; o++)
	{
		int			k = o - (n_train - 1);
		double		f,
					actual,
					t0;

		if (k % spec->refit_every == 0)
		{
			int			start = o + 1 - spec->fit_window;

			if (start < 0)
				start = 0;
			t0 = cpu_now();
			st = k == 0 ? fc_model_fit(work, y + start, o + 1 - start, cb, cb_arg)
				: fc_model_refit(work, y + start, o + 1 - start, cb, cb_arg);
			if (st != FC_OK)
				return st;
			res->fit_seconds += cpu_now() - t0;
			res->refits++;
			if (nv > 0)
			{
				t0 = cpu_now();
				for (v = 0; v < nv; v++)
				{
					st = fc_model_fit_from(&work[1 + v], work, y + start,
										   o + 1 - start, k != 0, cb, cb_arg);
					if (st != FC_OK)
						return st;
				}
				res->variant_seconds += cpu_now() - t0;
			}
		}
		else
		{
			st = fc_model_update(work, y[o]);
			if (st != FC_OK)
				return st;
			if (nv > 0)
			{
				t0 = cpu_now();
				for (v = 0; v < nv; v++)
				{
					st = fc_model_update(&work[1 + v], y[o]);
					if (st != FC_OK)
						return st;
				}
				res->variant_seconds += cpu_now() - t0;
			}
			if (cb && (k % 256) == 0 && cb(cb_arg))
				return FC_ERR_INTERRUPTED;
		}

		st = fc_model_forecast_target(work, h, (fc_target) c.target, &f);
		if (st != FC_OK)
			return st;
		if (c.target == FC_TARGET_POINT)
			actual = y[o + h];
		else
		{
			actual = 0.0;
			for (i = 1; i <= h; i++)
				actual += y[o + i];
			actual /= h;
		}
		fc_metrics_add(&res->model, f, actual);
		for (i = 0; i < res->nmembers; i++)
			if (work->u.blend.active[i])
				fc_metrics_add(&res->member[i],
							   fc_blend_pending(&work->u.blend, i), actual);
		if (nv > 0)
		{
			t0 = cpu_now();
			for (v = 0; v < nv; v++)
			{
				st = fc_model_forecast_target(&work[1 + v], h,
											  (fc_target) c.target, &f);
				if (st != FC_OK)
					return st;
				fc_metrics_add(&res->variant[v], f, actual);
			}
			res->variant_seconds += cpu_now() - t0;
		}
	}

	fc_metrics_finish(&res->model);
	for (i = 0; i < res->nmembers; i++)
	{
		fc_metrics_finish(&res->member[i]);
		fc_model_member(work, i, &res->member_info[i]);
	}
	for (v = 0; v < nv; v++)
		fc_metrics_finish(&res->variant[v]);
	res->total_seconds = cpu_now() - t_start - res->variant_seconds;
	return FC_OK;
}
