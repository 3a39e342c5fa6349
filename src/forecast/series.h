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
 * Check that y[0..n-1] holds at least min_len finite values.  On
 * FC_ERR_NONFINITE, *bad (if not NULL) is the index of the first bad value.
 */
extern fc_status fc_series_check(const double *y, int n, int min_len, int *bad);

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
