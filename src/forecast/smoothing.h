/*-------------------------------------------------------------------------
 *
 * smoothing.h
 *	  Naive, seasonal naive and exponential smoothing models (SES, Holt with
 *	  damped additive trend, Holt-Winters additive).
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/smoothing.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORECAST_SMOOTHING_H
#define FORECAST_SMOOTHING_H

#include "forecast/forecast.h"

/* Set up an unfitted model of one of the kinds FC_NAIVE .. FC_HW_ADD. */
extern void fc_ets_init(fc_ets *e, fc_kind kind, int season);

/* Fewest points fc_ets_fit() accepts. */
extern int	fc_ets_min_length(fc_kind kind, int season);

/*
 * Estimate the smoothing parameters on y[0..n-1] by minimising the sum of
 * squared one-step errors (Nelder-Mead on logistic-mapped parameters), then
 * filter the whole window so that the state is current with y[n-1].
 */
extern fc_status fc_ets_fit(fc_ets *e, const double *y, int n,
							fc_interrupt_fn cb, void *cb_arg);

/*
 * Set the initial state from the start of y (the parameters are kept) and
 * return how many leading points that consumed; the caller filters the rest
 * with fc_ets_step().
 */
extern int	fc_ets_reset(fc_ets *e, const double *y, int n);

/* Absorb one observation; returns the one-step error y - forecast. */
extern double fc_ets_step(fc_ets *e, double y);

/* The forecast of the value h steps ahead (h >= 1). */
extern double fc_ets_forecast_at(const fc_ets *e, int h);

/* The next h values. */
extern void fc_ets_forecast(const fc_ets *e, int h, double *out);

#endif							/* FORECAST_SMOOTHING_H */
