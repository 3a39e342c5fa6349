/*-------------------------------------------------------------------------
 *
 * forecast.h
 *	  Public API of the pg_foresight load-forecasting library.
 *
 * The library forecasts any equally spaced series (in pg_foresight: a node's
 * load score).  It is plain C11 with no PostgreSQL headers so that it can be
 * unit-tested outside the server; src/forecast/forecast_sql.c wraps it for
 * SQL.
 *
 * Every model, whatever its kind, lives in one fixed-size POD struct,
 * fc_model, with no pointers: the server can keep one per node and request
 * class in shared memory, copy it with memcpy and persist it with
 * fc_model_serialise().  The library never allocates memory itself; all
 * scratch space is on the stack (a few tens of KiB at most).
 *
 * Life cycle of a model:
 *
 *		fc_config_default(&cfg, FC_BLEND); cfg.season = 288; cfg.horizon = 12;
 *		fc_model_init(m, &cfg);
 *		fc_model_fit(m, window, n, NULL, NULL);		-- training window
 *		loop:
 *			fc_model_update(m, sample);				-- one per new sample
 *			fc_model_forecast(m, h, path);			-- next h values
 *			every so often: fc_model_refit(m, trailing_window, n, ...);
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/forecast.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORECAST_H
#define FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forecast/forecast_types.h"

/*
 * Progress / interrupt callback: called now and then from long loops
 * (fitting, training, backtests).  Return true to abort the computation,
 * which then fails with FC_ERR_INTERRUPTED.  The server's callback simply
 * runs CHECK_FOR_INTERRUPTS(), which may longjmp out: that is safe because
 * the library holds no resources besides the caller's buffers.
 */
typedef bool (*fc_interrupt_fn) (void *arg);

/* Names ("naive", "hw_add", ...) and their inverse. */
extern const char *fc_kind_name(fc_kind kind);
extern bool fc_kind_from_name(const char *name, fc_kind *kind);
/* Comma-separated list of every valid model name, for error hints. */
extern const char *fc_kind_names(void);
extern bool fc_kind_is_seasonal(fc_kind kind);
extern const char *fc_status_message(fc_status status);

/*
 * The season of y[0..n-1] in samples, from the peaks of its
 * autocorrelation (season.c), at most max_season (0: no bound but
 * FC_MAX_SEASON); 0 when nothing repeats.
 */
extern int	fc_detect_season(const double *y, int n, int max_season);

/* Default configuration of a model kind (season 0 = not seasonal). */
extern void fc_config_default(fc_config *cfg, fc_kind kind);
/* Check a configuration; FC_OK or the first problem found. */
extern fc_status fc_config_check(const fc_config *cfg);
/* Fewest points fc_model_fit() accepts for this configuration. */
extern int	fc_min_length(const fc_config *cfg);

/* Size of the state of any model: sizeof(fc_model), under 64 KiB. */
extern size_t forecast_model_state_size(void);

/* Initialise an unfitted model in caller-provided memory. */
extern fc_status fc_model_init(fc_model *m, const fc_config *cfg);

/*
 * Fit on a training window y[0..n-1] (oldest first): estimate parameters
 * and bring the state up to date with y[n-1].
 */
extern fc_status fc_model_fit(fc_model *m, const double *y, int n,
							  fc_interrupt_fn cb, void *cb_arg);

/*
 * Re-estimate parameters on a trailing window whose last value y[n-1] is a
 * new sample not yet given to fc_model_update().  For single models this is
 * fc_model_fit(); the blend keeps its rolling errors and weights.
 */
extern fc_status fc_model_refit(fc_model *m, const double *y, int n,
								fc_interrupt_fn cb, void *cb_arg);

/*
 * Blends only: fit (refit false) or refit m as fc_model_fit/fc_model_refit
 * would, but copy its members from src instead of fitting them.  src must
 * be a blend whose configuration equals m's but for blend_decay and
 * blend_power, and must just have been fitted (or refitted) on the same y;
 * m ends up exactly as its own fit would leave it.  This scores several
 * weightings for the cost of one fit (the benchmark's held-out check).
 */
extern fc_status fc_model_fit_from(fc_model *m, const fc_model *src,
								   const double *y, int n, bool refit,
								   fc_interrupt_fn cb, void *cb_arg);

/* Absorb one new sample with the current parameters. */
extern fc_status fc_model_update(fc_model *m, double y);

/* Forecast the next h values (1 <= h <= FC_MAX_HORIZON) into out[0..h-1]. */
extern fc_status fc_model_forecast(const fc_model *m, int h, double *out);

/* Forecast one target: the value at t+h or the mean of t+1..t+h. */
extern fc_status fc_model_forecast_target(const fc_model *m, int h,
										  fc_target target, double *out);

/*
 * Blend introspection: number of members, and for member i its kind,
 * season, current weight and rolling (exponentially weighted) mean absolute
 * error of the configured target.  For a single model there is one member
 * with weight 1.
 */
extern int	fc_model_members(const fc_model *m);
extern fc_status fc_model_member(const fc_model *m, int i, fc_member_info *info);

/*
 * Persistence: a flat byte image (header with magic, version, size and
 * checksum, then the state).  The image is only valid on a machine with the
 * same endianness and double format.  fc_model_serialise() returns the
 * number of bytes needed; it writes them only if len is large enough.
 */
extern size_t fc_model_serialise(const fc_model *m, void *buf, size_t len);
extern fc_status fc_model_deserialise(fc_model *m, const void *buf, size_t len);

#endif							/* FORECAST_H */
