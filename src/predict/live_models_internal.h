/*-------------------------------------------------------------------------
 *
 * live_models_internal.h
 *	  Shared-memory layout of the live models, for the files of
 *	  src/predict/ only (live_models.c and models_persist.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_LIVE_MODELS_INTERNAL_H
#define FORESIGHT_LIVE_MODELS_INTERNAL_H

#include "predict/live_models.h"
#include "storage/lwlock.h"

typedef struct SeriesState
{
	int32		node_id;		/* -1: unused */
	bool		retrain_pending;	/* foresight.retrain() asked */
	int			ring_len;		/* valid values in the window */
	int			ring_pos;		/* next position to write */
	int64		total_samples;	/* ever written to the window */
	ModelTraining training;
	Prediction	prediction;
	fc_model	model;
} SeriesState;

extern LWLock *live_models_lock(void);

/* The state of (slot, series) and its index; caller holds the lock. */
extern SeriesState *live_models_series(int slot, int series, int *index);

/* Copy a window oldest first into y; returns its length.  Lock held. */
extern int	live_models_copy_window(int index, const SeriesState *st, double *y);

/* Restore one saved series (takes the lock); false if the image is bad. */
extern bool live_models_restore(int slot, int32 node_id, int series,
								const double *window, int n,
								const void *image, size_t image_len,
								int64 training_samples, TimestampTz last_trained,
								double training_ms, double mase_scale);

#endif							/* FORESIGHT_LIVE_MODELS_INTERNAL_H */
