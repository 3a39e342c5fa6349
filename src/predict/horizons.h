/*-------------------------------------------------------------------------
 *
 * horizons.h
 *	  foresight.prediction_horizons: the list of time windows over which
 *	  the live models predict each series' mean load, and the rule that
 *	  picks one of them for a query.
 *
 * The list is sorted ascending.  Shared memory holds one model per node,
 * series and horizon for as many horizons as the list had at server
 * start (at most PREDICT_MAX_HORIZONS); a reload may change the
 * durations but not list more of them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_HORIZONS_H
#define FORESIGHT_HORIZONS_H

#include "postgres.h"

#define PREDICT_MAX_HORIZONS	4
#define PREDICT_HORIZON_MIN_MS	100
#define PREDICT_HORIZON_MAX_MS	(3600 * 1000)

extern char *foresight_prediction_horizons;

extern void horizons_define_guc(void);

/* Called from shmem_request: fixes the number of model slots per series. */
extern void horizons_fix_slots(void);

/* Model slots per series in shared memory (the count at server start). */
extern int	horizons_slots(void);

/* Horizons configured now (1..horizons_slots()), and horizon k in ms. */
extern int	horizons_count(void);
extern int	horizons_ms(int k);

/* Samples ahead that a horizon covers at foresight.sample_interval. */
extern int	horizons_steps(int horizon_ms);

/*
 * The horizon a query's score reads: the smallest configured horizon at
 * least needed_ms long (expected duration plus expected queue wait), else
 * the largest.  Returns its index.
 */
extern int	horizons_choose(double needed_ms);

/*
 * Parse a list as the GUC does; on error returns false with a message in
 * *error (palloc'd).  For tests and the check hook.
 */
extern bool horizons_parse(const char *value, int *ms, int *count, char **error);

#endif							/* FORESIGHT_HORIZONS_H */
