/*-------------------------------------------------------------------------
 *
 * backtest.h
 *	  Rolling-origin evaluation of a model on one series.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/backtest.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORECAST_BACKTEST_H
#define FORECAST_BACKTEST_H

#include "forecast/forecast.h"
#include "forecast/series.h"

#define FC_BACKTEST_MAX_VARIANTS 16

typedef struct fc_backtest_spec
{
	int			horizon;		/* h */
	int			target;			/* fc_target */
	double		train_fraction; /* first floor(f n) points train */
	int			fit_window;		/* parameters fitted on <= this many points */
	int			refit_every;	/* origins between refits */

	/*
	 * Blend only: other weightings (blend_decay, blend_power) scored in the
	 * same pass on the same fitted members (fc_model_fit_from), each exactly
	 * as its own backtest would score it.  0 = none.
	 */
	int			nvariants;
	double		variant_decay[FC_BACKTEST_MAX_VARIANTS];
	double		variant_power[FC_BACKTEST_MAX_VARIANTS];
} fc_backtest_spec;

typedef struct fc_backtest_result
{
	fc_metrics	model;			/* the model (for a blend: the blend) */
	int			nmembers;		/* blend members (0 for single models) */
	fc_metrics	member[FC_BLEND_MAX_MEMBERS];
	fc_member_info member_info[FC_BLEND_MAX_MEMBERS];	/* at the end */
	fc_metrics	variant[FC_BACKTEST_MAX_VARIANTS];	/* spec's variants */
	int			n_train;
	int			refits;
	double		fit_seconds;	/* CPU time in fit and refit */
	double		total_seconds;	/* CPU time of the whole backtest */
	double		variant_seconds;	/* CPU time of the variants (not in the
									 * two above) */
} fc_backtest_result;

/* h = 1, point, 0.7, 4032, 288, no variants: the protocol of the NAB baselines. */
extern void fc_backtest_spec_default(fc_backtest_spec *spec);

/*
 * Rolling origin: origins o = n_train - 1 .. n - 1 - h, each forecasting
 * y[o + h] (point) or the mean of y[o + 1 .. o + h] (mean) from y[0..o].
 * Parameters are fitted at the first origin on the trailing fit_window
 * points and refitted every refit_every origins; in between the state
 * absorbs each new observation.  MASE is scaled by the mean absolute
 * one-step change of the training part.  work is caller-provided memory
 * for the model, followed by one more model per variant (work[0] is the
 * model of cfg, work[1 + v] variant v); cfg's horizon and target are
 * overridden by spec's.
 */
extern fc_status fc_backtest(fc_model *work, const fc_config *cfg,
							 const double *y, int n,
							 const fc_backtest_spec *spec,
							 fc_backtest_result *result,
							 fc_interrupt_fn cb, void *cb_arg);

#endif							/* FORECAST_BACKTEST_H */
