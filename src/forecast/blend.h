/*-------------------------------------------------------------------------
 *
 * blend.h
 *	  Error-weighted blend of the forecasting models.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/blend.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORECAST_BLEND_H
#define FORECAST_BLEND_H

#include "forecast/forecast.h"

/* Choose the members from the configuration (unfitted). */
extern void fc_blend_init(fc_blend *b, const fc_config *cfg);

/* Fewest points fc_blend_fit() accepts (members needing more are left out). */
extern int	fc_blend_min_length(const fc_config *cfg);

/*
 * Fit every member that y is long enough for, then replay the window to
 * initialise the rolling errors and the weights.
 */
extern fc_status fc_blend_fit(fc_blend *b, const double *y, int n,
							  fc_interrupt_fn cb, void *cb_arg);

/*
 * y[n-1] is a new sample: score the pending forecasts against it, refit
 * the members on y, keep the rolling errors.
 */
extern fc_status fc_blend_refit(fc_blend *b, const double *y, int n,
								fc_interrupt_fn cb, void *cb_arg);

/*
 * As fc_blend_fit (refit false) or fc_blend_refit (refit true), but the
 * members are not fitted: they are copied from src, a blend with the same
 * members (a configuration that differs at most in blend_decay and
 * blend_power) that has just been fitted or refitted on the same y.  The
 * members do not depend on the weighting, so b ends up exactly as its own
 * fit would leave it, for the cost of the replay.  The backtest uses it to
 * score several weightings on one set of fitted members.
 */
extern fc_status fc_blend_fit_from(fc_blend *b, const fc_blend *src,
								   const double *y, int n, bool refit,
								   fc_interrupt_fn cb, void *cb_arg);

/* Absorb one sample: score, update members, reweight, forecast. */
extern void fc_blend_update(fc_blend *b, double y);

/* Members' and blend's next h values (weighted by the current weights). */
extern void fc_blend_forecast(const fc_blend *b, int h, double *out);

/*
 * The latest forecast of the configured target by member i, or by the
 * blend itself when i == fc_blend_members(b).
 */
extern double fc_blend_pending(const fc_blend *b, int i);

extern int	fc_blend_members(const fc_blend *b);
extern void fc_blend_member(const fc_blend *b, int i, fc_member_info *info);

#endif							/* FORECAST_BLEND_H */
