/*-------------------------------------------------------------------------
 *
 * series.h
 *	  Series validation, normalisation statistics and error metrics.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/series.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORECAST_SERIES_H
#define FORECAST_SERIES_H

#include "forecast/forecast_types.h"

/*
 * Check that y[0..n-1] holds at least min_len finite values, none beyond
 * +-FC_MAX_ABS_VALUE.  On FC_ERR_NONFINITE or FC_ERR_RANGE, *bad (if not
 * NULL) is the index of the first bad value.
 */
extern fc_status fc_series_check(const double *y, int n, int min_len, int *bad);

/*
 * Scaling a series of large finite values into the models' range: the
 * exponent e such that y[i] * 2^-e lies within +-2 for every i, or 0 when
 * every value already lies within +-FC_MAX_ABS_VALUE (the series is then
 * used as it is).  Multiplying by a power of two is exact, so the models
 * see the same shape; forecasts and absolute errors are multiplied by 2^e
 * afterwards (ldexp), and may then overflow, which the caller checks.
 * The values must be finite.
 */
extern int	fc_series_scale_exponent(const double *y, int n);

/* y[i] = y[i] * 2^-exponent for every i. */
extern void fc_series_scale(double *y, int n, int exponent);

/* Mean and population standard deviation. */
extern void fc_series_moments(const double *y, int n, double *mean, double *sd);

/* Mean absolute one-step change: the MASE scale (0 if n < 2). */
extern double fc_series_naive_scale(const double *y, int n);

/* Error accumulator: MAE, RMSE and MASE of a stream of forecasts. */
typedef struct fc_metrics
{
	int64_t		count;
	double		sum_abs;
	double		sum_sq;
	double		scale;			/* MASE denominator */
	double		mae;
	double		rmse;
	double		mase;			/* NaN if scale is 0 */
} fc_metrics;

extern void fc_metrics_init(fc_metrics *mt, double scale);
extern void fc_metrics_add(fc_metrics *mt, double forecast, double actual);
/* Compute mae, rmse and mase from the sums (NaN when count is 0). */
extern void fc_metrics_finish(fc_metrics *mt);

#endif							/* FORECAST_SERIES_H */
