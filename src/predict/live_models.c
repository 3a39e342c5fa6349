/*-------------------------------------------------------------------------
 *
 * live_models.c
 *	  Per node and series: a window of recent load samples, a blend model
 *	  (src/forecast) kept up to date on every sample and retrained on a
 *	  schedule, and the prediction the router reads.
 *
 * Layout in shared memory: one SeriesState per (registry slot, series) and
 * one window of foresight.model_window doubles beside it.  One LWLock
 * protects all of it; the monitor holds it exclusively only for the short
 * update of one series, and trains on a private copy of a model without
 * the lock, replaying the samples that arrived meanwhile before it puts
 * the trained copy back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "port/atomics.h"
#include "portability/instr_time.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "forecast/blend.h"
#include "core/monitor_doorbell.h"
#include "registry/registry.h"
#include "predict/live_models.h"
#include "predict/class_signal.h"
#include "predict/live_models_internal.h"
#include "stats/history.h"
#include "stats/history_persist.h"

int			foresight_retrain_interval_ms = 3600 * 1000;
int			foresight_prediction_horizon_ms = 5000;
int			foresight_model_window = 3600;
int			foresight_retrain_budget_ms = 100;

typedef struct LiveModelsShared
{
	LWLock	   *lock;
	pg_atomic_uint32 retrain_requested;
	int			cursor;			/* where the next training pass starts */
	SeriesState series[FLEXIBLE_ARRAY_MEMBER];
	/* then: double windows[nseries][foresight.model_window] */
} LiveModelsShared;

static LiveModelsShared *live = NULL;

/* the monitor's copy of a model being updated (see live_models_observe) */
static fc_model *update_scratch = NULL;

static int
series_count(void)
{
	return registry_slot_count() * PREDICT_SERIES_COUNT;
}

static Size
series_area_size(void)
{
	return MAXALIGN(add_size(offsetof(LiveModelsShared, series),
							 mul_size(series_count(), sizeof(SeriesState))));
}

static Size
live_models_shmem_size(void)
{
	return add_size(series_area_size(),
					mul_size(mul_size(series_count(), foresight_model_window), sizeof(double)));
}

static double *
series_window(int index)
{
	return (double *) ((char *) live + series_area_size()) + (Size) index * foresight_model_window;
}

void
live_models_define_gucs(void)
{
	DefineCustomIntVariable("foresight.retrain_interval",
							"Time between two full retrainings of each model.",
							"Models also update on every sample; this re-estimates their parameters.",
							&foresight_retrain_interval_ms,
							3600 * 1000, 60 * 1000, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.prediction_horizon",
							"Time ahead over which the predicted load is the mean.",
							NULL,
							&foresight_prediction_horizon_ms,
							5000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.model_window",
							"Samples of history each model is trained on.",
							"Sizes shared memory: 8 bytes per sample per node and series.",
							&foresight_model_window,
							3600, 64, 100000,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.retrain_budget",
							"CPU time the monitor may spend training models per sampling cycle.",
							"Training that does not fit continues in the next cycle.",
							&foresight_retrain_budget_ms,
							100, 1, 10000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	history_persist_register_section("models", live_models_save, live_models_load);
}

void
live_models_shmem_request(void)
{
	RequestAddinShmemSpace(live_models_shmem_size());
	RequestNamedLWLockTranche("pg_foresight models", 1);
}

void
live_models_shmem_init(void)
{
	bool		found;

	live = ShmemInitStruct("pg_foresight models", live_models_shmem_size(), &found);
	if (!found)
	{
		memset(live, 0, series_area_size());
		live->lock = &(GetNamedLWLockTranche("pg_foresight models"))->lock;
		pg_atomic_init_u32(&live->retrain_requested, 0);
		for (int i = 0; i < series_count(); i++)
			live->series[i].node_id = -1;
	}
}

const char *
live_models_series_name(int series)
{
	if (series == PREDICT_SERIES_NODE)
		return "all";
	return request_class_name((RequestClass) (series - 1));
}

/* Samples ahead that foresight.prediction_horizon covers. */
static int
horizon_steps(void)
{
	int			steps = (foresight_prediction_horizon_ms + foresight_sample_interval_ms - 1) /
		foresight_sample_interval_ms;

	return Max(1, Min(steps, FC_MAX_HORIZON));
}

static void
model_config(fc_config *cfg)
{
	fc_config_default(cfg, FC_BLEND);
	cfg->horizon = horizon_steps();
	cfg->target = FC_TARGET_MEAN;
}

static double
clamp01(double x)
{
	return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

static SeriesState *
series_for(int slot, int32 node_id, int series, int *index)
{
	int			i;

	Assert(slot >= 0 && slot < registry_slot_count());
	Assert(series >= 0 && series < PREDICT_SERIES_COUNT);
	i = slot * PREDICT_SERIES_COUNT + series;
	if (index)
		*index = i;
	return &live->series[i];
}

/* Publish the prediction of a series after its model saw a sample. */
static void
publish_prediction(SeriesState *st, double last_value, TimestampTz at)
{
	Prediction *p = &st->prediction;

	p->node_id = st->node_id;
	p->valid = true;
	p->made_at = at;
	p->samples++;
	p->fitted = st->training.fitted;
	p->horizon_steps = st->training.fitted ? st->model.cfg.horizon : 0;
	p->nmembers = 0;

	if (!st->training.fitted)
	{
		/* too little history to train: the last value (naive) */
		p->predicted_load = clamp01(last_value);
		return;
	}

	p->predicted_load = clamp01(fc_blend_pending(&st->model.u.blend,
												 fc_blend_members(&st->model.u.blend)));
	p->nmembers = Min(fc_model_members(&st->model), PREDICT_MAX_MEMBERS);
	for (int i = 0; i < p->nmembers; i++)
	{
		fc_member_info info;

		fc_model_member(&st->model, i, &info);
		p->member_kind[i] = info.kind;
		p->member_season[i] = info.season;
		p->member_weight[i] = info.weight;
		p->member_mae[i] = info.rolling_mae;
		p->member_forecast[i] = fc_blend_pending(&st->model.u.blend, i);
	}
}

void
live_models_observe(int slot, int32 node_id, int series, double value, TimestampTz at)
{
	SeriesState *st;
	int			index;
	double	   *window;
	bool		fitted;

	foresight_require_shmem();
	LWLockAcquire(live->lock, LW_EXCLUSIVE);
	st = series_for(slot, node_id, series, &index);
	if (st->node_id != node_id)
	{
		/* a new node in this slot: forget the old one */
		memset(st, 0, offsetof(SeriesState, model));
		st->node_id = node_id;
		st->training.node_id = node_id;
		st->model.magic = 0;
	}

	if (!isfinite(value))
	{
		st->training.skipped_nonfinite++;
		LWLockRelease(live->lock);
		return;
	}
	value = clamp01(value);

	window = series_window(index);
	window[st->ring_pos] = value;
	st->ring_pos = (st->ring_pos + 1) % foresight_model_window;
	st->ring_len = Min(st->ring_len + 1, foresight_model_window);
	st->total_samples++;
	st->training.samples_in_window = st->ring_len;
	fitted = st->training.fitted;
	if (!fitted)
		publish_prediction(st, value, at);
	LWLockRelease(live->lock);
	if (!fitted)
		return;

	/*
	 * Update a private copy without the lock (only the monitor writes
	 * models, so the shared one cannot change meanwhile), then put it back:
	 * backends reading predictions wait for a copy, not for the update.
	 */
	if (update_scratch == NULL)
		update_scratch = MemoryContextAlloc(TopMemoryContext, sizeof(fc_model));
	memcpy(update_scratch, &st->model, sizeof(fc_model));
	(void) fc_model_update(update_scratch, value);

	LWLockAcquire(live->lock, LW_EXCLUSIVE);
	if (st->node_id == node_id && st->training.fitted)
	{
		memcpy(&st->model, update_scratch, sizeof(fc_model));
		publish_prediction(st, value, at);
	}
	LWLockRelease(live->lock);
}

void
live_models_request_retrain(void)
{
	foresight_require_shmem();
	pg_atomic_write_u32(&live->retrain_requested, 1);
	monitor_wakeup();
}

LWLock *
live_models_lock(void)
{
	return live->lock;
}

SeriesState *
live_models_series(int slot, int series, int *index)
{
	int			i = slot * PREDICT_SERIES_COUNT + series;

	if (index)
		*index = i;
	return &live->series[i];
}

/* Copy the window of a series, oldest first, into y; returns its length. */
int
live_models_copy_window(int index, const SeriesState *st, double *y)
{
	double	   *window = series_window(index);
	int			start = (st->ring_pos - st->ring_len + foresight_model_window) % foresight_model_window;

	for (int k = 0; k < st->ring_len; k++)
		y[k] = window[(start + k) % foresight_model_window];
	return st->ring_len;
}

static bool
training_due(const SeriesState *st, TimestampTz now, int min_length)
{
	if (st->node_id < 0 || st->ring_len < min_length)
		return false;
	if (!st->training.fitted || st->retrain_pending)
		return true;
	if (st->model.cfg.horizon != horizon_steps())
		return true;
	/* while the window fills, retrain each time it has doubled */
	if (st->ring_len >= 2 * st->training.training_samples)
		return true;
	return TimestampDifferenceExceeds(st->training.last_trained, now,
									  foresight_retrain_interval_ms);
}

static bool
training_interrupt(void *arg)
{
	CHECK_FOR_INTERRUPTS();
	return false;
}

/* Train series index on a private copy; put it back with the new samples. */
static void
train_one(int index, fc_model *scratch, double *y)
{
	SeriesState *st = &live->series[index];
	fc_config	cfg;
	int32		node_id;
	int64		copied_total;
	int			n;
	double		scale = 0.0;
	instr_time	start,
				elapsed;
	fc_status	status;

	LWLockAcquire(live->lock, LW_SHARED);
	node_id = st->node_id;
	n = live_models_copy_window(index, st, y);
	copied_total = st->total_samples;
	LWLockRelease(live->lock);

	INSTR_TIME_SET_CURRENT(start);
	model_config(&cfg);
	status = fc_model_init(scratch, &cfg);
	if (status == FC_OK)
		status = fc_model_fit(scratch, y, n, training_interrupt, NULL);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	for (int k = 1; k < n; k++)
		scale += fabs(y[k] - y[k - 1]);
	scale = n > 1 ? scale / (n - 1) : 0.0;

	LWLockAcquire(live->lock, LW_EXCLUSIVE);
	if (st->node_id == node_id)
	{
		st->retrain_pending = false;
		st->training.last_trained = GetCurrentTimestamp();
		st->training.training_ms = INSTR_TIME_GET_MILLISEC(elapsed);
		if (status == FC_OK)
		{
			double	   *window = series_window(index);
			int64		missed = Min(st->total_samples - copied_total, st->ring_len);

			/* replay what arrived while we trained */
			for (int64 k = missed; k > 0; k--)
			{
				int			pos = (st->ring_pos - (int) k + foresight_model_window) % foresight_model_window;

				(void) fc_model_update(scratch, window[pos]);
			}
			memcpy(&st->model, scratch, sizeof(fc_model));
			st->training.fitted = true;
			st->training.config = cfg;
			st->training.training_samples = n;
			st->training.mase_scale = scale;
		}
		else
			ereport(LOG,
					(errmsg("foresight monitor: could not train the %s model of node %d: %s",
							live_models_series_name(index % PREDICT_SERIES_COUNT), node_id,
							fc_status_message(status))));
	}
	LWLockRelease(live->lock);
}

void
live_models_train_due(void)
{
	fc_config	cfg;
	int			min_length;
	int			n = series_count();
	TimestampTz now = GetCurrentTimestamp();
	instr_time	start,
				elapsed;
	fc_model   *scratch = NULL;
	double	   *y = NULL;

	foresight_require_shmem();
	model_config(&cfg);
	min_length = fc_min_length(&cfg);

	if (pg_atomic_exchange_u32(&live->retrain_requested, 0) != 0)
	{
		LWLockAcquire(live->lock, LW_EXCLUSIVE);
		for (int i = 0; i < n; i++)
			live->series[i].retrain_pending = (live->series[i].node_id >= 0);
		LWLockRelease(live->lock);
	}

	INSTR_TIME_SET_CURRENT(start);
	for (int visited = 0; visited < n; visited++)
	{
		int			index = (live->cursor + visited) % n;
		bool		due;

		LWLockAcquire(live->lock, LW_SHARED);
		due = training_due(&live->series[index], now, min_length);
		LWLockRelease(live->lock);
		if (!due)
			continue;

		if (scratch == NULL)
		{
			scratch = palloc(sizeof(fc_model));
			y = palloc(sizeof(double) * foresight_model_window);
		}
		train_one(index, scratch, y);

		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, start);
		if (INSTR_TIME_GET_MILLISEC(elapsed) >= foresight_retrain_budget_ms)
		{
			/* out of budget: the next cycle goes on after this one */
			live->cursor = (index + 1) % n;
			break;
		}
	}
	if (scratch)
	{
		pfree(scratch);
		pfree(y);
	}
}

bool
live_models_prediction(int slot, int32 node_id, int series, Prediction *out)
{
	SeriesState *st;
	bool		found;

	foresight_require_shmem();
	LWLockAcquire(live->lock, LW_SHARED);
	st = series_for(slot, node_id, series, NULL);
	found = st->node_id == node_id && st->prediction.valid;
	if (found)
		*out = st->prediction;
	LWLockRelease(live->lock);
	return found;
}

bool
live_models_training(int slot, int32 node_id, int series, ModelTraining *out, fc_model *model)
{
	SeriesState *st;
	bool		found;

	foresight_require_shmem();
	LWLockAcquire(live->lock, LW_SHARED);
	st = series_for(slot, node_id, series, NULL);
	found = st->node_id == node_id;
	if (found)
	{
		*out = st->training;
		if (model)
			memcpy(model, &st->model, sizeof(fc_model));
	}
	LWLockRelease(live->lock);
	return found;
}

bool
live_models_restore(int slot, int32 node_id, int series,
					const double *values, int n,
					const void *image, size_t image_len,
					int64 training_samples, TimestampTz last_trained,
					double training_ms, double mase_scale)
{
	SeriesState *st;
	int			index;
	double	   *window;
	fc_model   *model = NULL;

	if (image != NULL)
	{
		model = palloc(sizeof(fc_model));
		if (fc_model_deserialise(model, image, image_len) != FC_OK)
			return false;
	}

	LWLockAcquire(live->lock, LW_EXCLUSIVE);
	st = series_for(slot, node_id, series, &index);
	memset(st, 0, offsetof(SeriesState, model));
	st->node_id = node_id;
	st->training.node_id = node_id;
	window = series_window(index);
	if (n > foresight_model_window)
	{
		/* the window shrank since the file was written: keep the newest */
		values += n - foresight_model_window;
		n = foresight_model_window;
	}
	{
		int			kept = 0;

		/* a saved window is data from a file: keep only loads in [0,1] */
		for (int k = 0; k < n; k++)
		{
			if (isfinite(values[k]) && values[k] >= 0.0 && values[k] <= 1.0)
				window[kept++] = values[k];
			else
				st->training.skipped_nonfinite++;
		}
		n = kept;
	}
	st->ring_len = n;
	st->ring_pos = n % foresight_model_window;
	st->total_samples = n;
	st->training.samples_in_window = n;
	if (model)
	{
		memcpy(&st->model, model, sizeof(fc_model));
		st->training.fitted = true;
		st->training.config = model->cfg;
		st->training.training_samples = training_samples;
		st->training.last_trained = last_trained;
		st->training.training_ms = training_ms;
		st->training.mase_scale = mase_scale;
	}
	LWLockRelease(live->lock);
	return true;
}

void
live_models_feed(int slot, int32 node_id, const MetricSample *sample,
				 const LatencyInterval *lat)
{
	double		class_load[REQUEST_CLASS_COUNT];
	bool		present[REQUEST_CLASS_COUNT];
	TimestampTz at = sample->sampled_at;

	/* an absent load (NaN) is skipped and counted by observe */
	live_models_observe(slot, node_id, PREDICT_SERIES_NODE, sample->load, at);
	if (lat == NULL || !isfinite(sample->load))
		return;
	class_signal_compute(slot, node_id, sample->load, lat, at, class_load, present);
	for (int c = 0; c < REQUEST_CLASS_COUNT; c++)
		if (present[c])
			live_models_observe(slot, node_id, 1 + c, class_load[c], at);
}
