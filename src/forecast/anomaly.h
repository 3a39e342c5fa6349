/*-------------------------------------------------------------------------
 *
 * anomaly.h
 *	  Online (causal) anomaly detector for one equally spaced series.
 *
 * Each value is judged from the past only, then absorbed: the detector
 * never looks ahead, so appending values never changes earlier scores.  Per
 * value it computes two surprise features,
 *
 *		spike	|y[t] - y[t-1]|, the error of the naive one-step forecast;
 *		level	|mean(y[t-w+1..t]) - L|, how far the mean of the last w
 *				values is from L, a slow exponentially weighted average of
 *				that same window mean (the usual level);
 *
 * and divides each by a high quantile (default the 99.9th percentile) of
 * the feature's own history, held in a histogram with exponentially
 * decaying weights (half-life `memory` values).  The larger ratio u is the
 * surprise: u = 1 means "as extreme as the top 0.1% of the recent past".
 * The score is u / (1 + u), in [0, 1]; 0.5 is u = 1.  An alert is raised
 * when the score reaches the threshold, the detector has seen at least
 * `warmup` values, and no alert was raised in the previous `suppress`
 * values (one alert per event).
 *
 * The state, fc_anomaly, is a fixed-size plain struct without pointers
 * (about 3.7 KiB): the server can keep one per node and metric in shared
 * memory and copy it with memcpy.  Work per value is O(w + bins), with no
 * allocation; memory does not depend on the length of the series.
 *
 * The detector is exactly invariant under scaling the series by a power of
 * two (what the SQL functions do with values beyond FC_MAX_ABS_VALUE), and
 * under adding a constant up to rounding.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/anomaly.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORECAST_ANOMALY_H
#define FORECAST_ANOMALY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forecast/forecast.h"

#define FC_ANOMALY_MAX_WINDOW	64	/* largest level window w */
#define FC_ANOMALY_BINS			192 /* histogram bins: 48 octaves */
#define FC_ANOMALY_FEATURES		2	/* spike, level */

/* Defaults (docs/forecasting.md says why). */
#define FC_ANOMALY_DEFAULT_WINDOW		24
#define FC_ANOMALY_DEFAULT_MEMORY		2000.0
#define FC_ANOMALY_DEFAULT_LEVEL_MEMORY 500.0
#define FC_ANOMALY_DEFAULT_QUANTILE		0.999
#define FC_ANOMALY_DEFAULT_THRESHOLD	0.5
#define FC_ANOMALY_DEFAULT_WARMUP		300
#define FC_ANOMALY_DEFAULT_SUPPRESS		150

typedef struct fc_anomaly_config
{
	int32_t		window;			/* w: values in the level window, 2..64 */
	int32_t		warmup;			/* values seen before the first score */
	int32_t		suppress;		/* values after an alert without another */
	int32_t		pad;
	double		memory;			/* half-life of the histories, in values */
	double		level_memory;	/* time constant of the usual level L */
	double		quantile;		/* reference quantile of the histories */
	double		threshold;		/* alert when score >= threshold, (0, 1] */
} fc_anomaly_config;

/*
 * Histogram of a nonnegative feature over quarter-octave bins: bin i > 0
 * holds the values in [2^((anchor+i)/4), 2^((anchor+i+1)/4)); bin 0 holds
 * zero and everything below bin 1.  The first positive value sets the
 * anchor (in the middle); a value above the top shifts the bins down
 * (merging the lowest into bin 0), so the upper tail is always resolved.
 * Weights decay exponentially: the k-th value before the last weighs
 * decay^k.  Instead of multiplying every bin each time, each new value
 * weighs `unit`, which grows by 1/decay per value; the bins are rescaled
 * when it gets large.
 */
typedef struct fc_anomaly_hist
{
	int32_t		anchor;
	int32_t		anchored;		/* a positive value has set the anchor */
	double		unit;			/* weight of the next value */
	double		total;			/* sum of the bins */
	double		bin[FC_ANOMALY_BINS];
} fc_anomaly_hist;

typedef struct fc_anomaly
{
	uint32_t	magic;
	uint32_t	version;
	fc_anomaly_config cfg;
	int64_t		nobs;			/* values absorbed */
	int64_t		last_alert;		/* index of the last alert, -1 if none */
	double		decay;			/* 2^(-1/memory) */
	double		level_alpha;	/* 1/level_memory */
	double		level;			/* L, valid once nobs >= window */
	double		ring[FC_ANOMALY_MAX_WINDOW];	/* last values; y[t] at t % 64 */
	fc_anomaly_hist hist[FC_ANOMALY_FEATURES];
} fc_anomaly;

/* What one value was judged (fc_anomaly_update's detail output). */
typedef struct fc_anomaly_point
{
	double		score;			/* u / (1 + u), 0 during the warm-up */
	double		ratio[FC_ANOMALY_FEATURES]; /* feature / its reference */
	bool		alert;
} fc_anomaly_point;

extern void fc_anomaly_config_default(fc_anomaly_config *cfg);

/* FC_OK, or FC_ERR_PARAMETER for a value out of its range. */
extern fc_status fc_anomaly_config_check(const fc_anomaly_config *cfg);

/* Fewest values for any alert to be possible: warmup + 1. */
extern int	fc_anomaly_min_length(const fc_anomaly_config *cfg);

/* sizeof(fc_anomaly). */
extern size_t fc_anomaly_state_size(void);

/* Initialise an empty detector in caller-provided memory. */
extern fc_status fc_anomaly_init(fc_anomaly *a, const fc_anomaly_config *cfg);

/*
 * Judge y from the past, then absorb it.  out (may be NULL) receives the
 * score, the feature ratios and whether an alert is raised.  A NaN or
 * infinite y (FC_ERR_NONFINITE) or one beyond +-FC_MAX_ABS_VALUE
 * (FC_ERR_RANGE) leaves the state as it was: the caller may skip it.
 */
extern fc_status fc_anomaly_update(fc_anomaly *a, double y, fc_anomaly_point *out);

/*
 * Run a fresh detector over y[0..n-1]: scores[i] and alerts[i] (either may
 * be NULL) are what fc_anomaly_update() gives for y[i].  The values must be
 * finite and within +-FC_MAX_ABS_VALUE (checked first, nothing is written
 * otherwise).  cb is called every few thousand values.
 */
extern fc_status fc_anomaly_run(const fc_anomaly_config *cfg,
								const double *y, int n,
								double *scores, bool *alerts,
								fc_interrupt_fn cb, void *cb_arg);

#endif							/* FORECAST_ANOMALY_H */
