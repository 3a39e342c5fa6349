/*-------------------------------------------------------------------------
 *
 * forecast_types.h
 *	  Fixed-size, pointer-free state structs of the forecasting models.
 *
 * Everything here is plain old data so that a model can live in shared
 * memory and be saved as a byte image.  The sizes are bounded by the
 * FC_MAX_* limits below; sizeof(fc_model) is checked to stay under 64 KiB.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/forecast_types.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORECAST_TYPES_H
#define FORECAST_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#define FC_MAX_SEASON			288 /* one day of 5-minute samples */
#define FC_MAX_HORIZON			288
#define FC_LSTM_MAX_HIDDEN		12
#define FC_LSTM_MAX_WINDOW		32
#define FC_LSTM_MAX_OUT			48	/* LSTM outputs; longer paths are held */
#define FC_LSTM_INPUTS			2	/* normalised value and first difference */
#define FC_LSTM_MAX_PARAMS \
	(4 * FC_LSTM_MAX_HIDDEN * (FC_LSTM_INPUTS + FC_LSTM_MAX_HIDDEN + 1) + \
	 FC_LSTM_MAX_OUT * (FC_LSTM_MAX_HIDDEN + 1))
#define FC_LSTM_RING			(FC_LSTM_MAX_WINDOW + FC_LSTM_MAX_OUT + 1)
#define FC_BLEND_MAX_ETS		7
#define FC_BLEND_MAX_MEMBERS	(FC_BLEND_MAX_ETS + 1)
#define FC_STATE_LIMIT			65536	/* documented bound of sizeof(fc_model) */

/*
 * Largest magnitude of a value the models take.  Beyond it their sums of
 * squares, variances and the blend's single-precision pending forecasts
 * overflow (the blend from 3.4e38, everything from about 1e154), and a
 * forecast would come out as NaN or infinity.  Callers with larger values
 * scale the series by a power of two first (fc_series_scale_exponent()).
 */
#define FC_MAX_ABS_VALUE		1e30

typedef enum fc_status
{
	FC_OK = 0,
	FC_ERR_ARGUMENT,			/* NULL pointer or nonsensical argument */
	FC_ERR_NONFINITE,			/* NaN or infinity in the series */
	FC_ERR_TOO_SHORT,			/* fewer points than the model needs */
	FC_ERR_HORIZON,				/* horizon outside 1..FC_MAX_HORIZON */
	FC_ERR_SEASON,				/* season outside 2..FC_MAX_SEASON or missing */
	FC_ERR_MODEL,				/* unknown model kind */
	FC_ERR_PARAMETER,			/* other configuration value out of range */
	FC_ERR_STATE,				/* model not fitted, or corrupt state image */
	FC_ERR_INTERRUPTED,			/* the interrupt callback asked to stop */
	FC_ERR_RANGE				/* a value beyond +-FC_MAX_ABS_VALUE */
} fc_status;

typedef enum fc_kind
{
	FC_NAIVE = 0,				/* y[t+h] = y[t] */
	FC_SNAIVE,					/* y[t+h] = y[t+h-m] */
	FC_SES,						/* simple exponential smoothing */
	FC_HOLT_DAMPED,				/* Holt, additive damped trend */
	FC_HW_ADD,					/* Holt-Winters, damped trend, additive season */
	FC_LSTM,					/* LSTM-lite */
	FC_BLEND,					/* error-weighted blend of the above */
	FC_NUM_KINDS
} fc_kind;

typedef enum fc_target
{
	FC_TARGET_POINT = 0,		/* the value at t+h */
	FC_TARGET_MEAN				/* the mean of t+1..t+h */
} fc_target;

typedef struct fc_config
{
	int32_t		kind;			/* fc_kind */
	int32_t		season;			/* 0 = none, else 2..FC_MAX_SEASON */
	int32_t		short_season;	/* blend: extra Holt-Winters season, 0 = none */
	int32_t		horizon;		/* horizon the blend scores and the LSTM learns */
	int32_t		target;			/* fc_target the blend scores */
	int32_t		lstm_hidden;	/* LSTM hidden units, 1..FC_LSTM_MAX_HIDDEN */
	int32_t		lstm_window;	/* LSTM input window (BPTT length) */
	int32_t		lstm_steps;		/* Adam steps of a full (re)training */
	int32_t		lstm_batch;		/* windows per Adam step */
	int32_t		use_lstm;		/* blend: include the LSTM member */
	double		lstm_lr;		/* Adam learning rate of a full training */
	double		lstm_online_lr; /* Adam learning rate of online updates */
	double		blend_decay;	/* per-sample decay of the rolling errors */
	double		blend_power;	/* weight = error ^ -power */
	uint64_t	seed;			/* LSTM initialisation and sampling */
} fc_config;

/* Exponential smoothing family: naive, snaive, ses, holt_damped, hw_add. */
typedef struct fc_ets
{
	int32_t		kind;
	int32_t		season;			/* m, 0 if not seasonal */
	int32_t		pos;			/* seas[pos] belongs to the next time step */
	int32_t		pad;
	double		alpha;
	double		beta;
	double		gamma;
	double		phi;
	double		level;
	double		trend;
	int64_t		nobs;
	double		seas[FC_MAX_SEASON];
} fc_ets;

/* LSTM-lite: one LSTM layer and a linear head of nout outputs. */
typedef struct fc_lstm
{
	int32_t		hidden;
	int32_t		window;
	int32_t		nout;			/* min(horizon, FC_LSTM_MAX_OUT) */
	int32_t		nparams;
	int32_t		steps;
	int32_t		batch;
	int32_t		ring_len;		/* valid values in ring */
	int32_t		ring_pos;		/* next slot to write */
	double		lr;
	double		online_lr;
	double		mu;				/* input normalisation (training window) */
	double		sigma;
	int64_t		adam_t;
	uint64_t	seed;
	uint64_t	rng;
	int64_t		nobs;
	double		ring[FC_LSTM_RING]; /* most recent raw values */
	double		p[FC_LSTM_MAX_PARAMS];	/* parameters */
	double		m[FC_LSTM_MAX_PARAMS];	/* Adam first moments */
	double		v[FC_LSTM_MAX_PARAMS];	/* Adam second moments */
} fc_lstm;

/* The blend: members, their rolling errors and pending forecasts. */
typedef struct fc_blend
{
	int32_t		nets;			/* smoothing members in ets[] */
	int32_t		has_lstm;
	int32_t		horizon;
	int32_t		target;
	double		decay;
	double		power;
	int64_t		nobs;			/* samples seen since the first fit */
	int32_t		active[FC_BLEND_MAX_MEMBERS];	/* fitted and usable */
	double		err[FC_BLEND_MAX_MEMBERS + 1];	/* rolling MAE; last = blend */
	double		errw[FC_BLEND_MAX_MEMBERS + 1]; /* weight sum behind err */
	double		weight[FC_BLEND_MAX_MEMBERS];
	double		recent[FC_MAX_HORIZON]; /* last h samples (ring) */
	/* target forecasts made at the last h origins: members, then the blend */
	float		pending[FC_MAX_HORIZON][FC_BLEND_MAX_MEMBERS + 1];
	fc_ets		ets[FC_BLEND_MAX_ETS];
	fc_lstm		lstm;
} fc_blend;

typedef struct fc_model
{
	uint32_t	magic;
	uint32_t	version;
	fc_config	cfg;
	int32_t		fitted;
	int32_t		pad;
	union
	{
		fc_ets		ets;
		fc_lstm		lstm;
		fc_blend	blend;
	}			u;
} fc_model;

typedef struct fc_member_info
{
	int32_t		kind;
	int32_t		season;
	bool		active;
	double		weight;
	double		rolling_mae;	/* NaN until the first error is known */
} fc_member_info;

#endif							/* FORECAST_TYPES_H */
