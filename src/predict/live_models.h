/*-------------------------------------------------------------------------
 *
 * live_models.h
 *	  The live forecasting models: one blend (src/forecast) per node and
 *	  series, fed by the monitor on every sample, retrained on a schedule,
 *	  publishing a predicted load in [0,1] over each horizon of
 *	  foresight.prediction_horizons (one model per horizon, see horizons.h).
 *
 * Series of a node: PREDICT_SERIES_NODE is the node's load signal; series
 * 1 + c is the load seen by request class c (see class_signal.h).
 *
 * The monitor feeds the samples, the trainer (trainer.h) retrains; backends
 * read predictions, never train.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_LIVE_MODELS_H
#define FORESIGHT_LIVE_MODELS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "storage/latch.h"
#include "forecast/forecast.h"
#include "stats/latency.h"

#define PREDICT_SERIES_NODE		0
#define PREDICT_SERIES_COUNT	(REQUEST_CLASS_COUNT + 1)
#define PREDICT_MAX_MEMBERS		(FC_BLEND_MAX_MEMBERS)

/* What a backend reads to route. */
typedef struct Prediction
{
	int32		node_id;
	bool		valid;			/* at least one sample seen */
	bool		fitted;			/* the blend is trained; else last value */
	double		predicted_load; /* mean load over the horizon, in [0,1] */
	double		mae;			/* the blend's rolling MAE; NaN unfitted */
	int			horizon_ms;		/* the horizon this prediction is for */
	int			horizon_steps;	/* samples ahead the model covers; 0 unfitted */
	TimestampTz made_at;
	int64		samples;		/* samples absorbed since the last reset */
	int			nmembers;
	int32		member_kind[PREDICT_MAX_MEMBERS];
	int32		member_season[PREDICT_MAX_MEMBERS];
	double		member_forecast[PREDICT_MAX_MEMBERS];
	double		member_weight[PREDICT_MAX_MEMBERS];
	double		member_mae[PREDICT_MAX_MEMBERS];
} Prediction;

/* What the views show about a model's training. */
typedef struct ModelTraining
{
	int32		node_id;
	fc_config	config;
	bool		fitted;
	int64		training_samples;
	TimestampTz last_trained;
	double		training_ms;
	double		mase_scale;		/* mean |y[t]-y[t-1]| of the training window */
	int64		skipped_nonfinite;
	int64		samples_in_window;
} ModelTraining;

/* GUCs */
extern int	foresight_retrain_interval_ms;
extern int	foresight_model_window;
extern int	foresight_retrain_budget_ms;

extern void live_models_define_gucs(void);
extern void live_models_shmem_request(void);
extern void live_models_shmem_init(void);

/* The monitor: one sample of one series of a node. */
extern void live_models_observe(int slot, int32 node_id, int series, double value,
								TimestampTz at);

/*
 * The trainer: (re)train what is due, within foresight.retrain_budget.
 * pause is called every few hundred microseconds of a fit (it may sleep);
 * when it returns true the pass stops, and the model it was training
 * stays as it was.
 */
extern void live_models_train_due(fc_interrupt_fn pause, void *pause_arg);

/* Any process: ask the trainer to retrain every model, and wake it. */
extern void live_models_request_retrain(void);

/* The trainer, at start and exit: the latch a retrain request sets, or NULL. */
extern void live_models_set_trainer_latch(Latch *latch);

/*
 * Read the prediction of a series over horizon k (0 = the shortest of
 * foresight.prediction_horizons, k < horizons_count()); false when there
 * is none for node_id.
 */
extern bool live_models_prediction(int slot, int32 node_id, int series, int k,
								   Prediction *out);

/*
 * The naive model's prediction (the last observed load) of a prediction
 * read above: the blend's naive member, or the published value while the
 * blend is not fitted (which is then the last value too).
 */
extern double live_models_naive_load(const Prediction *p);

/* The naive member's rolling MAE of a prediction read above; NaN unfitted. */
extern double live_models_naive_mae(const Prediction *p);

/*
 * Read the training facts of the model of a series for horizon k (and
 * optionally a copy of the model).
 */
extern bool live_models_training(int slot, int32 node_id, int series, int k,
								 ModelTraining *out, fc_model *model);

/*
 * Persistence, as the section "models" of the history file: every window
 * and model (the monitor, at clean exit and at start).
 */
extern void live_models_save(StringInfo out);
extern void live_models_load(const char *data, size_t len);

/*
 * The monitor, after each successful sample of a node: feed the node's
 * load signal and the per-class loads derived from its latencies.
 */
struct MetricSample;
extern void live_models_feed(int slot, int32 node_id, const struct MetricSample *sample,
							 const LatencyInterval *lat);

extern const char *live_models_series_name(int series);

#endif							/* FORESIGHT_LIVE_MODELS_H */
