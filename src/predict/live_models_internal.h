/*-------------------------------------------------------------------------
 *
 * live_models_internal.h
 *	  Shared-memory layout of the live models, for the files of
 *	  src/predict/ only (live_models.c and models_persist.c).
 *
 * Per (registry slot, series): one SeriesState (the window's ring and
 * counters), horizons_slots() HorizonModels (model k predicts over
 * horizon k of foresight.prediction_horizons) and the window of
 * foresight.model_window doubles.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_LIVE_MODELS_INTERNAL_H
#define FORESIGHT_LIVE_MODELS_INTERNAL_H

#include "predict/live_models.h"
#include "storage/lwlock.h"

typedef struct HorizonModel
{
	bool		retrain_pending;	/* foresight.retrain() asked */
	/*
	 * The series' total_samples when the model was last written: it has
	 * absorbed every sample up to there.  The monitor (updating it with a
	 * sample) and the trainer (replacing it) write it from two processes;
	 * this tells either whether the other wrote in between.
	 */
	int64		absorbed;
	ModelTraining training;
	Prediction	prediction;
	fc_model	model;
} HorizonModel;

typedef struct SeriesState
{
	int32		node_id;		/* -1: unused */
	int			ring_len;		/* valid values in the window */
	int			ring_pos;		/* next position to write */
	int64		total_samples;	/* ever written to the window */
	int64		skipped_nonfinite;	/* samples without a usable load */
} SeriesState;

extern LWLock *live_models_lock(void);

/* The state of (slot, series) and its index; caller holds the lock. */
extern SeriesState *live_models_series(int slot, int series, int *index);

/* Model k of series index; caller holds the lock. */
extern HorizonModel *live_models_model(int index, int k);

/* Copy a window oldest first into y; returns its length.  Lock held. */
extern int	live_models_copy_window(int index, const SeriesState *st, double *y);

/*
 * Restore one saved series' window (takes the lock; resets its models),
 * then each saved model: it goes to the first model slot of the series
 * whose horizon it was trained for (in samples) and that has none yet;
 * false when the image is bad or no slot wants it.
 */
extern void live_models_restore_window(int slot, int32 node_id, int series,
									   const double *window, int n);
extern bool live_models_restore_model(int slot, int32 node_id, int series,
									  const void *image, size_t image_len,
									  int64 training_samples, TimestampTz last_trained,
									  double training_ms, double mase_scale);

#endif							/* FORESIGHT_LIVE_MODELS_INTERNAL_H */
