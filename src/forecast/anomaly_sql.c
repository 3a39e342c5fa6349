/*-------------------------------------------------------------------------
 *
 * anomaly_sql.c
 *	  SQL-callable wrappers of the online anomaly detector (anomaly.h):
 *
 *		foresight.anomaly_scores(series float8[]) RETURNS float8[]
 *		foresight.detect_anomalies(series float8[],
 *								   threshold float8 DEFAULT 0.5)
 *			RETURNS bool[]
 *
 * Both run a fresh detector with the shipped defaults over the series,
 * oldest value first, one value at a time, exactly as a live detector fed
 * the same values would: element i of the result depends on elements
 * 1..i only.  detect_anomalies() returns the alerts, suppression included.
 *
 * The series is checked as foresight.forecast() checks it: one-dimensional,
 * no NULL, NaN or infinite elements.  Values beyond FC_MAX_ABS_VALUE are
 * scaled by a power of two first, which leaves the scores exactly as they
 * are (the detector is scale-invariant).
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/anomaly_sql.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"

#include "forecast/anomaly.h"
#include "forecast/forecast_sql.h"
#include "forecast/series.h"

PG_FUNCTION_INFO_V1(foresight_anomaly_scores);
PG_FUNCTION_INFO_V1(foresight_detect_anomalies);

extern Datum foresight_anomaly_scores(PG_FUNCTION_ARGS);
extern Datum foresight_detect_anomalies(PG_FUNCTION_ARGS);

/* Interrupt callback of the library: lets cancels and timeouts through. */
static bool
anomaly_interrupt(void *arg)
{
	CHECK_FOR_INTERRUPTS();
	return false;
}

/*
 * The series argument as a palloc'd array of doubles: one-dimensional, no
 * NULL, NaN or infinite elements, at least the detector's warm-up plus one
 * values.  The messages are those of foresight.forecast().
 */
static double *
anomaly_series_arg(FunctionCallInfo fcinfo, const fc_anomaly_config *cfg,
				   int *n)
{
	double	   *y = forecast_series_arg(fcinfo, 0, n);

	if (*n < fc_anomaly_min_length(cfg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"series\" is too short for anomaly detection"),
				 errdetail("The series has %d values; the detector learns from the first %d and judges only the values after them.",
						   *n, cfg->warmup),
				 errhint("Pass at least %d values, oldest first.",
						 fc_anomaly_min_length(cfg))));
	return y;
}

/* Run the detector; scores or alerts (either may be NULL) are palloc'd. */
static void
run_detector(FunctionCallInfo fcinfo, const fc_anomaly_config *cfg,
			 int *n, double **scores, bool **alerts)
{
	double	   *y = anomaly_series_arg(fcinfo, cfg, n);
	int			exponent = fc_series_scale_exponent(y, *n);
	fc_status	st;

	fc_series_scale(y, *n, exponent);
	if (scores)
		*scores = palloc(sizeof(double) * *n);
	if (alerts)
		*alerts = palloc(sizeof(bool) * *n);
	st = fc_anomaly_run(cfg, y, *n, scores ? *scores : NULL,
						alerts ? *alerts : NULL, anomaly_interrupt, NULL);
	if (st != FC_OK)
		ereport(ERROR,
				(errcode(st == FC_ERR_INTERRUPTED ? ERRCODE_QUERY_CANCELED
						 : ERRCODE_INTERNAL_ERROR),
				 errmsg("anomaly detection failed: %s", fc_status_message(st))));
}

/*
 * foresight.anomaly_scores(series): the detector's score in [0, 1] of every
 * value (0 during the warm-up).
 */
Datum
foresight_anomaly_scores(PG_FUNCTION_ARGS)
{
	fc_anomaly_config cfg;
	double	   *scores;
	Datum	   *d;
	int			n;
	int			i;

	fc_anomaly_config_default(&cfg);
	run_detector(fcinfo, &cfg, &n, &scores, NULL);
	d = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(scores[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, n, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * foresight.detect_anomalies(series, threshold): the alerts the detector
 * raises on the series (score >= threshold, after the warm-up, at most one
 * per suppression period).
 */
Datum
foresight_detect_anomalies(PG_FUNCTION_ARGS)
{
	fc_anomaly_config cfg;
	bool	   *alerts;
	Datum	   *d;
	int			n;
	int			i;

	fc_anomaly_config_default(&cfg);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"threshold\" must not be NULL"),
				 errhint("Omit it for the default, %s.", double_to_shortest_decimal(FC_ANOMALY_DEFAULT_THRESHOLD))));
	cfg.threshold = PG_GETARG_FLOAT8(1);
	if (!(cfg.threshold > 0.0 && cfg.threshold <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"threshold\" must be greater than 0 and at most 1"),
				 errdetail("The value given is %s.", double_to_shortest_decimal(cfg.threshold)),
				 errhint("Scores lie in [0, 1]; the default, %s, alerts on values as extreme as the top 0.1%% of the recent past.",
						 double_to_shortest_decimal(FC_ANOMALY_DEFAULT_THRESHOLD))));
	run_detector(fcinfo, &cfg, &n, NULL, &alerts);
	d = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
		d[i] = BoolGetDatum(alerts[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, n, BOOLOID, sizeof(bool), true,
										  TYPALIGN_CHAR));
}
