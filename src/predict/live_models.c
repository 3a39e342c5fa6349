/*-------------------------------------------------------------------------
 *
 * live_models.c
 *	  Per node and series: a window of recent load samples, a blend model
 *	  (src/forecast) kept up to date on every sample and retrained on a
 *	  schedule, and the prediction the router reads.
 *
 * Layout in shared memory: one SeriesState per (registry slot, series), its
 * horizons_slots() models (one per horizon of foresight.prediction_horizons,
 * each a blend configured for its horizon, so that the blend's weights are
 * judged by that horizon's own recent errors) and one window of
 * foresight.model_window doubles that all its models train on.  One LWLock
 * protects all of it; the monitor holds it exclusively only for the short
 * update of one series with a sample.  The trainer (trainer.c, a process
 * of its own) trains on a private copy of a model without the lock, and
 * replays the samples that arrived meanwhile before it puts the trained
 * copy back.
 *
 * The router reads a few predictions for every routed query, in every
 * backend, while they change a few dozen times a second.  Taking the lock
 * for each read, even shared, writes the lock's cache line from every
 * core: with two backends deciding at once on two cores, the lock alone
 * took a quarter of a decision's time (docs/benchmarks.md, "Predictions
 * read without the lock").  So every change made under the exclusive lock
 * advances a generation counter before the lock is released, and a
 * backend keeps its own copy of each prediction it read with the
 * generation it read it at: while the counter has not moved, the copy is
 * what the lock would give, and reading the counter writes nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "port/atomics.h"
#include "portability/instr_time.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "forecast/blend.h"
#include "registry/registry.h"
#include "predict/live_models.h"
#include "predict/class_signal.h"
#include "predict/horizons.h"
#include "predict/live_models_internal.h"
#include "stats/history.h"
#include "stats/history_persist.h"

int			foresight_retrain_interval_ms = 3600 * 1000;
int			foresight_model_window = 3600;
int			foresight_retrain_budget_ms = 100;

typedef struct LiveModelsShared
{
	LWLock	   *lock;
	pg_atomic_uint64 generation;	/* advanced by every exclusive holder */
	pg_atomic_uint32 retrain_requested;
	Latch	   *trainer_latch;	/* the trainer's, while it runs; under lock */
	int			cursor;			/* where the next training pass starts */
	SeriesState series[FLEXIBLE_ARRAY_MEMBER];
	/* then: HorizonModel models[nseries][horizons_slots()] */
	/* then: double windows[nseries][foresight.model_window] */
} LiveModelsShared;

static LiveModelsShared *live = NULL;

/* the monitor's copy of a model being updated (see live_models_observe) */
static fc_model *update_scratch = NULL;

/*
 * This backend's copies of the predictions it read, one per (series,
 * horizon slot), each made when it was first needed.
 */
typedef struct CachedPrediction
{
	uint64		generation;		/* live->generation when read; 0: never */
	int32		series_node_id; /* the series' node then */
	Prediction	prediction;		/* valid: the series had one then */
} CachedPrediction;

static CachedPrediction **prediction_cache = NULL;

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
models_area_size(void)
{
	return MAXALIGN(mul_size(mul_size(series_count(), horizons_slots()),
							 sizeof(HorizonModel)));
}

static Size
live_models_shmem_size(void)
{
	return add_size(add_size(series_area_size(), models_area_size()),
					mul_size(mul_size(series_count(), foresight_model_window), sizeof(double)));
}

HorizonModel *
live_models_model(int index, int k)
{
	Assert(k >= 0 && k < horizons_slots());
	return (HorizonModel *) ((char *) live + series_area_size()) +
		(Size) index * horizons_slots() + k;
}

static double *
series_window(int index)
{
	return (double *) ((char *) live + series_area_size() + models_area_size()) +
		(Size) index * foresight_model_window;
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
	horizons_define_guc();
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
	horizons_fix_slots();
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
		memset(live, 0, series_area_size() + models_area_size());
		live->lock = &(GetNamedLWLockTranche("pg_foresight models"))->lock;
		pg_atomic_init_u64(&live->generation, 1);
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

/* Samples ahead that horizon k covers. */
static int
horizon_steps(int k)
{
	return horizons_steps(horizons_ms(k));
}

static void
model_config(fc_config *cfg, int k)
{
	fc_config_default(cfg, FC_BLEND);
	cfg->horizon = horizon_steps(k);
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

/* Take the lock exclusively: to change what readers of predictions see. */
static void
lock_exclusive(void)
{
	LWLockAcquire(live->lock, LW_EXCLUSIVE);
}

/* ... and release it, the change made: every backend's copies are stale. */
static void
unlock_exclusive(void)
{
	pg_atomic_fetch_add_u64(&live->generation, 1);
	LWLockRelease(live->lock);
}

/* Publish the prediction of model k of a series after it saw a sample. */
static void
publish_prediction(const SeriesState *st, HorizonModel *hm, int k,
				   double last_value, TimestampTz at)
{
	Prediction *p = &hm->prediction;

	p->node_id = st->node_id;
	p->valid = true;
	p->made_at = at;
	p->samples++;
	p->fitted = hm->training.fitted;
	p->horizon_ms = horizons_ms(k);
	p->horizon_steps = hm->training.fitted ? hm->model.cfg.horizon : 0;
	p->nmembers = 0;

	if (!hm->training.fitted)
	{
		/* too little history to train: the last value (naive) */
		p->predicted_load = clamp01(last_value);
		p->mae = NAN;
		return;
	}

	p->predicted_load = clamp01(fc_blend_pending(&hm->model.u.blend,
												 fc_blend_members(&hm->model.u.blend)));
	p->mae = hm->model.u.blend.err[fc_blend_members(&hm->model.u.blend)];
	p->nmembers = Min(fc_model_members(&hm->model), PREDICT_MAX_MEMBERS);
	for (int i = 0; i < p->nmembers; i++)
	{
		fc_member_info info;

		fc_model_member(&hm->model, i, &info);
		p->member_kind[i] = info.kind;
		p->member_season[i] = info.season;
		p->member_weight[i] = info.weight;
		p->member_mae[i] = info.rolling_mae;
		p->member_forecast[i] = fc_blend_pending(&hm->model.u.blend, i);
	}
}

/* A new node in the slot of a series: forget the old one's window and models. */
static void
reset_series(SeriesState *st, int index, int32 node_id)
{
	memset(st, 0, sizeof(SeriesState));
	st->node_id = node_id;
	for (int k = 0; k < horizons_slots(); k++)
	{
		HorizonModel *hm = live_models_model(index, k);

		memset(hm, 0, offsetof(HorizonModel, model));
		hm->training.node_id = node_id;
		hm->model.magic = 0;
	}
}

void
live_models_observe(int slot, int32 node_id, int series, double value, TimestampTz at)
{
	SeriesState *st;
	int			index;
	double	   *window;
	int			nhorizons = horizons_count();
	bool		fitted[PREDICT_MAX_HORIZONS];
	int64		sample_number;

	foresight_require_shmem();
	lock_exclusive();
	st = series_for(slot, node_id, series, &index);
	if (st->node_id != node_id)
		reset_series(st, index, node_id);

	if (!isfinite(value))
	{
		st->skipped_nonfinite++;
		unlock_exclusive();
		return;
	}
	value = clamp01(value);

	window = series_window(index);
	window[st->ring_pos] = value;
	st->ring_pos = (st->ring_pos + 1) % foresight_model_window;
	st->ring_len = Min(st->ring_len + 1, foresight_model_window);
	st->total_samples++;
	sample_number = st->total_samples;
	for (int k = 0; k < nhorizons; k++)
	{
		HorizonModel *hm = live_models_model(index, k);

		fitted[k] = hm->training.fitted;
		if (!fitted[k])
			publish_prediction(st, hm, k, value, at);
	}
	unlock_exclusive();

	/*
	 * Update a private copy of each fitted model without the lock, then put
	 * it back: backends reading predictions wait for a copy, not for the
	 * update.  The trainer may put a newly trained model in meanwhile; it
	 * replays every sample in the window up to its put-back, this one
	 * included, so the update is then dropped (and skipped when that
	 * happened before the copy).
	 */
	for (int k = 0; k < nhorizons; k++)
	{
		HorizonModel *hm = live_models_model(index, k);
		int64		absorbed;

		if (!fitted[k])
			continue;
		if (update_scratch == NULL)
			update_scratch = MemoryContextAlloc(TopMemoryContext, sizeof(fc_model));
		LWLockAcquire(live->lock, LW_SHARED);
		absorbed = hm->absorbed;
		if (absorbed < sample_number)
			memcpy(update_scratch, &hm->model, sizeof(fc_model));
		LWLockRelease(live->lock);
		if (absorbed >= sample_number)
			continue;
		(void) fc_model_update(update_scratch, value);

		lock_exclusive();
		if (st->node_id == node_id && hm->training.fitted && hm->absorbed == absorbed)
		{
			memcpy(&hm->model, update_scratch, sizeof(fc_model));
			hm->absorbed = sample_number;
			publish_prediction(st, hm, k, value, at);
		}
		unlock_exclusive();
	}
}

void
live_models_request_retrain(void)
{
	Latch	   *latch;

	foresight_require_shmem();
	pg_atomic_write_u32(&live->retrain_requested, 1);
	LWLockAcquire(live->lock, LW_SHARED);
	latch = live->trainer_latch;
	LWLockRelease(live->lock);
	if (latch)
		SetLatch(latch);
}

void
live_models_set_trainer_latch(Latch *latch)
{
	foresight_require_shmem();
	lock_exclusive();
	live->trainer_latch = latch;
	unlock_exclusive();
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
training_due(const SeriesState *st, const HorizonModel *hm, int k,
			 TimestampTz now, int min_length)
{
	if (st->node_id < 0 || st->ring_len < min_length)
		return false;
	if (!hm->training.fitted || hm->retrain_pending)
		return true;
	if (hm->model.cfg.horizon != horizon_steps(k))
		return true;
	/* while the window fills, retrain each time it has doubled */
	if (st->ring_len >= 2 * hm->training.training_samples)
		return true;
	return TimestampDifferenceExceeds(hm->training.last_trained, now,
									  foresight_retrain_interval_ms);
}

/*
 * Train model k of series index on a private copy; put it back with the
 * new samples.  False when pause asked the fit to stop.
 */
static bool
train_one(int index, int k, fc_model *scratch, double *y,
		  fc_interrupt_fn pause, void *pause_arg)
{
	SeriesState *st = &live->series[index];
	HorizonModel *hm = live_models_model(index, k);
	fc_config	cfg;
	int32		node_id;
	int64		copied_total;
	int			n;
	double		scale = 0.0;
	int			season;
	instr_time	start,
				elapsed;
	fc_status	status;

	LWLockAcquire(live->lock, LW_SHARED);
	node_id = st->node_id;
	n = live_models_copy_window(index, st, y);
	copied_total = st->total_samples;
	LWLockRelease(live->lock);

	INSTR_TIME_SET_CURRENT(start);
	model_config(&cfg, k);
	/*
	 * The Holt-Winters members' season: the one the window shows when it
	 * shows one (a neighbour that comes back every 20 s), else the
	 * library's default of 12 samples.
	 */
	season = fc_detect_season(y, n, 0);
	if (season > 0)
		cfg.short_season = season;
	status = fc_model_init(scratch, &cfg);
	if (status == FC_OK)
		status = fc_model_fit(scratch, y, n, pause, pause_arg);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	for (int k = 1; k < n; k++)
		scale += fabs(y[k] - y[k - 1]);
	scale = n > 1 ? scale / (n - 1) : 0.0;

	/* stopped (shutdown): the model stays as it was, due as before */
	if (status == FC_ERR_INTERRUPTED)
		return false;

	lock_exclusive();
	if (st->node_id == node_id)
	{
		hm->retrain_pending = false;
		hm->training.last_trained = GetCurrentTimestamp();
		hm->training.training_ms = INSTR_TIME_GET_MILLISEC(elapsed);
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
			memcpy(&hm->model, scratch, sizeof(fc_model));
			hm->absorbed = st->total_samples;
			hm->training.fitted = true;
			hm->training.config = cfg;
			hm->training.training_samples = n;
			hm->training.mase_scale = scale;
		}
		else
			ereport(LOG,
					(errmsg("foresight trainer: could not train the %s model of node %d for the horizon of %d ms: %s",
							live_models_series_name(index % PREDICT_SERIES_COUNT), node_id,
							horizons_ms(k), fc_status_message(status))));
	}
	unlock_exclusive();
	return true;
}

void
live_models_train_due(fc_interrupt_fn pause, void *pause_arg)
{
	fc_config	cfg;
	int			min_length;
	int			n = series_count();
	int			nhorizons = horizons_count();
	TimestampTz now = GetCurrentTimestamp();
	instr_time	start,
				elapsed;
	fc_model   *scratch = NULL;
	double	   *y = NULL;

	foresight_require_shmem();
	model_config(&cfg, 0);
	min_length = fc_min_length(&cfg);

	if (pg_atomic_exchange_u32(&live->retrain_requested, 0) != 0)
	{
		lock_exclusive();
		for (int i = 0; i < n; i++)
			for (int k = 0; k < horizons_slots(); k++)
				live_models_model(i, k)->retrain_pending = (live->series[i].node_id >= 0);
		unlock_exclusive();
	}

	INSTR_TIME_SET_CURRENT(start);
	/* the cursor walks (series, horizon) pairs */
	n *= nhorizons;
	for (int visited = 0; visited < n; visited++)
	{
		int			pair = (live->cursor + visited) % n;
		int			index = pair / nhorizons;
		int			k = pair % nhorizons;
		bool		due;

		/* the trainer reloads its settings in a fit's pauses: fewer horizons now? */
		if (k >= horizons_count())
			continue;
		LWLockAcquire(live->lock, LW_SHARED);
		due = training_due(&live->series[index], live_models_model(index, k), k,
						   now, min_length);
		LWLockRelease(live->lock);
		if (!due)
			continue;

		if (scratch == NULL)
		{
			scratch = palloc(sizeof(fc_model));
			y = palloc(sizeof(double) * foresight_model_window);
		}
		if (!train_one(index, k, scratch, y, pause, pause_arg))
			break;

		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, start);
		if (INSTR_TIME_GET_MILLISEC(elapsed) >= foresight_retrain_budget_ms)
		{
			/* out of budget: the next cycle goes on after this one */
			live->cursor = (pair + 1) % n;
			break;
		}
	}
	if (scratch)
	{
		pfree(scratch);
		pfree(y);
	}
}

/* this backend's copy of prediction k of series index, made if need be */
static CachedPrediction *
cached_prediction(int index, int k)
{
	CachedPrediction **entry;

	if (prediction_cache == NULL)
		prediction_cache = MemoryContextAllocZero(TopMemoryContext,
												  sizeof(CachedPrediction *) *
												  series_count() * horizons_slots());
	entry = &prediction_cache[index * horizons_slots() + k];
	if (*entry == NULL)
		*entry = MemoryContextAllocZero(TopMemoryContext, sizeof(CachedPrediction));
	return *entry;
}

bool
live_models_prediction(int slot, int32 node_id, int series, int k, Prediction *out)
{
	int			index;
	CachedPrediction *c;
	uint64		generation;

	foresight_require_shmem();
	if (k < 0 || k >= horizons_count())
		return false;
	(void) series_for(slot, node_id, series, &index);
	c = cached_prediction(index, k);

	/*
	 * Read before the lock is taken: a change after this read leaves the
	 * copy older than the counter, and the next read takes it again.
	 */
	generation = pg_atomic_read_u64(&live->generation);
	if (c->generation != generation)
	{
		SeriesState *st;
		HorizonModel *hm;

		LWLockAcquire(live->lock, LW_SHARED);
		st = &live->series[index];
		hm = live_models_model(index, k);
		c->series_node_id = st->node_id;
		c->prediction = hm->prediction;
		LWLockRelease(live->lock);
		c->generation = generation;
	}
	if (c->series_node_id != node_id || !c->prediction.valid)
		return false;
	*out = c->prediction;
	return true;
}

/* the index of the blend's naive member in a fitted prediction, or -1 */
static int
naive_member(const Prediction *p)
{
	if (p->fitted)
		for (int i = 0; i < p->nmembers; i++)
			if (p->member_kind[i] == FC_NAIVE)
				return i;
	return -1;
}

double
live_models_naive_load(const Prediction *p)
{
	/* the blend always has a naive member (blend.c): reuse its forecast */
	int			i = naive_member(p);

	/* unfitted, the published value is the last value */
	return i >= 0 ? clamp01(p->member_forecast[i]) : p->predicted_load;
}

double
live_models_naive_mae(const Prediction *p)
{
	int			i = naive_member(p);

	if (i >= 0)
		return p->member_mae[i];
	return p->fitted ? p->mae : NAN;
}

bool
live_models_training(int slot, int32 node_id, int series, int k,
					 ModelTraining *out, fc_model *model)
{
	SeriesState *st;
	HorizonModel *hm;
	int			index;
	bool		found;

	foresight_require_shmem();
	if (k < 0 || k >= horizons_count())
		return false;
	LWLockAcquire(live->lock, LW_SHARED);
	st = series_for(slot, node_id, series, &index);
	hm = live_models_model(index, k);
	found = st->node_id == node_id;
	if (found)
	{
		*out = hm->training;
		out->skipped_nonfinite = st->skipped_nonfinite;
		out->samples_in_window = st->ring_len;
		if (model)
			memcpy(model, &hm->model, sizeof(fc_model));
	}
	LWLockRelease(live->lock);
	return found;
}

void
live_models_restore_window(int slot, int32 node_id, int series,
						   const double *values, int n)
{
	SeriesState *st;
	int			index;
	double	   *window;
	int			kept = 0;

	lock_exclusive();
	st = series_for(slot, node_id, series, &index);
	reset_series(st, index, node_id);
	window = series_window(index);
	if (n > foresight_model_window)
	{
		/* the window shrank since the file was written: keep the newest */
		values += n - foresight_model_window;
		n = foresight_model_window;
	}
	/* a saved window is data from a file: keep only loads in [0,1] */
	for (int k = 0; k < n; k++)
	{
		if (isfinite(values[k]) && values[k] >= 0.0 && values[k] <= 1.0)
			window[kept++] = values[k];
		else
			st->skipped_nonfinite++;
	}
	st->ring_len = kept;
	st->ring_pos = kept % foresight_model_window;
	st->total_samples = kept;
	unlock_exclusive();
}

bool
live_models_restore_model(int slot, int32 node_id, int series,
						  const void *image, size_t image_len,
						  int64 training_samples, TimestampTz last_trained,
						  double training_ms, double mase_scale)
{
	SeriesState *st;
	int			index;
	fc_model   *model = palloc(sizeof(fc_model));
	bool		restored = false;

	if (fc_model_deserialise(model, image, image_len) != FC_OK ||
		model->cfg.kind != FC_BLEND)
		return false;

	lock_exclusive();
	st = series_for(slot, node_id, series, &index);
	for (int k = 0; k < horizons_count() && st->node_id == node_id && !restored; k++)
	{
		HorizonModel *hm = live_models_model(index, k);

		if (hm->training.fitted || model->cfg.horizon != horizon_steps(k))
			continue;
		memcpy(&hm->model, model, sizeof(fc_model));
		hm->absorbed = st->total_samples;
		hm->training.fitted = true;
		hm->training.config = model->cfg;
		hm->training.training_samples = training_samples;
		hm->training.last_trained = last_trained;
		hm->training.training_ms = training_ms;
		hm->training.mase_scale = mase_scale;
		restored = true;
	}
	unlock_exclusive();
	pfree(model);
	return restored;
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
