/*-------------------------------------------------------------------------
 *
 * series.c
 *	  Series validation, normalisation statistics and error metrics
 *	  (MAE, RMSE, MASE) shared by the models, the backtest and the SQL
 *	  functions.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/series.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>

#include "forecast/series.h"

fc_status
fc_series_check(const double *y, int n, int min_len, int *bad)
{
	int			i;

	if (bad)
		*bad = -1;
	if (n < 0 || (n > 0 && y == NULL))
		return FC_ERR_ARGUMENT;
	for (i = 0; i < n; i++)
	{
		if (!isfinite(y[i]) || fabs(y[i]) > FC_MAX_ABS_VALUE)
		{
			if (bad)
				*bad = i;
			return isfinite(y[i]) ? FC_ERR_RANGE : FC_ERR_NONFINITE;
		}
	}
	if (n < min_len || n == 0)
		return FC_ERR_TOO_SHORT;
	return FC_OK;
}

int
fc_series_scale_exponent(const double *y, int n)
{
	double		max = 0.0;
	int			i;

	for (i = 0; i < n; i++)
		if (fabs(y[i]) > max)
			max = fabs(y[i]);
	if (!(max > FC_MAX_ABS_VALUE) || !isfinite(max))
		return 0;
	/* max = m * 2^e with m in [1, 2): every value ends up within +-2 */
	return ilogb(max);
}

void
fc_series_scale(double *y, int n, int exponent)
{
	int			i;

	for (i = 0; i < n; i++)
		y[i] = ldexp(y[i], -exponent);
}

void
fc_series_moments(const double *y, int n, double *mean, double *sd)
{
	double		s = 0.0;
	double		ss = 0.0;
	int			i;

	if (n <= 0)
	{
		*mean = 0.0;
		*sd = 0.0;
		return;
	}
	for (i = 0; i < n; i++)
		s += y[i];
	s /= n;
	for (i = 0; i < n; i++)
		ss += (y[i] - s) * (y[i] - s);
	*mean = s;
	*sd = sqrt(ss / n);
}

double
fc_series_naive_scale(const double *y, int n)
{
	double		s = 0.0;
	int			i;

	if (n < 2)
		return 0.0;
	for (i = 1; i < n; i++)
		s += fabs(y[i] - y[i - 1]);
	return s / (n - 1);
}

void
fc_metrics_init(fc_metrics *mt, double scale)
{
	mt->count = 0;
	mt->sum_abs = 0.0;
	mt->sum_sq = 0.0;
	mt->scale = scale;
	mt->mae = NAN;
	mt->rmse = NAN;
	mt->mase = NAN;
}

void
fc_metrics_add(fc_metrics *mt, double forecast, double actual)
{
	double		e = forecast - actual;

	mt->count++;
	mt->sum_abs += fabs(e);
	mt->sum_sq += e * e;
}

void
fc_metrics_finish(fc_metrics *mt)
{
	if (mt->count == 0)
	{
		mt->mae = mt->rmse = mt->mase = NAN;
		return;
	}
	mt->mae = mt->sum_abs / mt->count;
	mt->rmse = sqrt(mt->sum_sq / mt->count);
	mt->mase = mt->scale > 0.0 ? mt->mae / mt->scale : NAN;
}
