/*-------------------------------------------------------------------------
 *
 * forecast_sql.c
 *	  SQL-callable wrappers of the forecasting library:
 *
 *		foresight.forecast(series float8[], horizon int,
 *						   model text DEFAULT 'blend', season int DEFAULT NULL)
 *			RETURNS float8[]
 *		foresight.backtest(series float8[], horizon int, model text,
 *						   season int DEFAULT NULL,
 *						   train_fraction float8 DEFAULT 0.7,
 *						   target text DEFAULT 'point')
 *			RETURNS TABLE(mae float8, rmse float8, mase float8, forecasts bigint)
 *
 * This is the only file of src/forecast/ that includes server headers: it
 * validates the arguments (reporting which one is wrong), converts the
 * array, and maps library status codes to ereport().
 *
 * Any finite series is accepted: one with values beyond the models' range
 * (FC_MAX_ABS_VALUE, 1e30) is scaled by a power of two first, which is
 * exact, and the forecasts and errors are scaled back.  A result that does
 * not fit in double precision once scaled back is an error, never an
 * infinity or a NaN.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/forecast_sql.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "core/guards.h"
#include "forecast/backtest.h"
#include "forecast/forecast.h"
#include "forecast/forecast_sql.h"
#include "forecast/series.h"

PG_FUNCTION_INFO_V1(foresight_forecast);
PG_FUNCTION_INFO_V1(foresight_backtest);

extern Datum foresight_forecast(PG_FUNCTION_ARGS);
extern Datum foresight_backtest(PG_FUNCTION_ARGS);

/* Fit window and refit interval of backtests (the NAB protocol). */
#define SQL_FIT_WINDOW	4032
#define SQL_REFIT_EVERY 288

/* Interrupt callback of the library: lets cancels and timeouts through. */
static bool
sql_interrupt(void *arg)
{
	CHECK_FOR_INTERRUPTS();
	return false;
}

/* Error out if argument argno is NULL. */
static void
require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"%s\" must not be NULL", name)));
}

/*
 * The series argument as a palloc'd array of doubles: one-dimensional, no
 * NULL, NaN or infinite elements.
 */
double *
forecast_series_arg(FunctionCallInfo fcinfo, int argno, int *n)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			lbound;
	double	   *y;
	int			i;

	require_arg(fcinfo, argno, "series");
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("argument \"series\" must be a one-dimensional array"),
				 errdetail("The array has %d dimensions.", ARR_NDIM(arr))));
	if (ARR_ELEMTYPE(arr) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("argument \"series\" must be an array of double precision")));
	lbound = ARR_NDIM(arr) == 1 ? ARR_LBOUND(arr)[0] : 1;
	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &nelems);
	y = palloc(sizeof(double) * Max(nelems, 1));
	for (i = 0; i < nelems; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument \"series\" must not contain NULL elements"),
					 errdetail("Element %d is NULL.", i + lbound),
					 errhint("Remove or fill the missing values, for example with the previous value.")));
		y[i] = DatumGetFloat8(elems[i]);
		if (!isfinite(y[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument \"series\" must contain only finite values"),
					 errdetail("Element %d is %s.", i + lbound,
							   isnan(y[i]) ? "NaN" : (y[i] > 0 ? "Infinity" : "-Infinity"))));
	}
	*n = nelems;
	return y;
}

static int
horizon_arg(FunctionCallInfo fcinfo, int argno)
{
	int32		h;

	require_arg(fcinfo, argno, "horizon");
	h = PG_GETARG_INT32(argno);
	if (h < 1 || h > FC_MAX_HORIZON)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"horizon\" must be between 1 and %d", FC_MAX_HORIZON),
				 errdetail("The value given is %d.", h)));
	return h;
}

static fc_kind
model_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *name;
	fc_kind		kind;

	require_arg(fcinfo, argno, "model");
	name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (!fc_kind_from_name(name, &kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown forecasting model \"%s\"", name),
				 errhint("Valid models are: %s.", fc_kind_names())));
	return kind;
}

/* season (NULL = none); required by the seasonal models. */
static int
season_arg(FunctionCallInfo fcinfo, int argno, fc_kind kind)
{
	int32		season;

	if (PG_ARGISNULL(argno))
	{
		if (fc_kind_is_seasonal(kind))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("model \"%s\" needs argument \"season\"", fc_kind_name(kind)),
					 errhint("Give the season length in samples, for example 12 or 288.")));
		return 0;
	}
	season = PG_GETARG_INT32(argno);
	if (season < 2 || season > FC_MAX_SEASON)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"season\" must be between 2 and %d", FC_MAX_SEASON),
				 errdetail("The value given is %d.", season),
				 errhint("Pass NULL for a series without a season.")));
	return season;
}

/* Report a library failure that argument checking did not catch. */
static void
report_status(fc_status st, const fc_config *cfg, int n)
{
	if (st == FC_OK)
		return;
	if (st == FC_ERR_RANGE)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("argument \"series\" has values too large for model \"%s\"",
						fc_kind_name((fc_kind) cfg->kind)),
				 errdetail("The models work on values between %s and %s.",
						   double_to_shortest_decimal(-FC_MAX_ABS_VALUE), double_to_shortest_decimal(FC_MAX_ABS_VALUE))));
	if (st == FC_ERR_TOO_SHORT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"series\" is too short for model \"%s\"",
						fc_kind_name((fc_kind) cfg->kind)),
				 errdetail("The series has %d values; the model needs at least %d.",
						   n, fc_min_length(cfg))));
	ereport(ERROR,
			(errcode(st == FC_ERR_INTERRUPTED ? ERRCODE_QUERY_CANCELED
					 : ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("forecasting failed: %s", fc_status_message(st))));
}

/*
 * v (a forecast or an error of the scaled series) scaled back by 2^exponent;
 * what overflows double precision is an error.
 */
static double
unscale(double v, int exponent, const char *what, fc_kind kind)
{
	double		r = ldexp(v, exponent);

	if (!isfinite(r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s of model \"%s\" is out of range for type double precision",
						what, fc_kind_name(kind)),
				 errdetail("The series was fitted scaled down by 2^%d; the result, scaled back, exceeds %s in magnitude.",
						   exponent, double_to_shortest_decimal(DBL_MAX)),
				 errhint("Divide the series by a constant, for example 1e10, and multiply the result by it as numeric.")));
	return r;
}

/*
 * foresight.forecast(series, horizon, model, season): fit the model on the
 * whole series and return the next horizon values.
 */
Datum
foresight_forecast(PG_FUNCTION_ARGS)
{
	int			n;
	double	   *y = forecast_series_arg(fcinfo, 0, &n);
	int			h = horizon_arg(fcinfo, 1);
	fc_kind		kind = model_arg(fcinfo, 2);
	int			season = season_arg(fcinfo, 3, kind);
	fc_config	cfg;
	fc_model   *m;
	double	   *out;
	Datum	   *d;
	int			exponent = fc_series_scale_exponent(y, n);
	int			i;

	fc_series_scale(y, n, exponent);
	fc_config_default(&cfg, kind);
	cfg.season = season;
	cfg.horizon = h;
	if (n < fc_min_length(&cfg))
		report_status(FC_ERR_TOO_SHORT, &cfg, n);

	m = palloc(forecast_model_state_size());
	report_status(fc_model_init(m, &cfg), &cfg, n);
	report_status(fc_model_fit(m, y, n, sql_interrupt, NULL), &cfg, n);
	out = palloc(sizeof(double) * h);
	report_status(fc_model_forecast(m, h, out), &cfg, n);

	d = palloc(sizeof(Datum) * h);
	for (i = 0; i < h; i++)
		d[i] = Float8GetDatum(unscale(out[i], exponent, "forecast", kind));
	PG_RETURN_ARRAYTYPE_P(construct_array(d, h, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * foresight.backtest(series, horizon, model, season, train_fraction,
 * target): rolling-origin evaluation, one row of metrics.
 */
Datum
foresight_backtest(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;
	double	   *y = forecast_series_arg(fcinfo, 0, &n);
	int			h = horizon_arg(fcinfo, 1);
	fc_kind		kind = model_arg(fcinfo, 2);
	int			season = season_arg(fcinfo, 3, kind);
	double		train_fraction;
	char	   *target_name;
	fc_config	cfg;
	fc_backtest_spec spec;
	fc_backtest_result *res;
	fc_model   *m;
	int			n_train;
	int			need;
	int			exponent = fc_series_scale_exponent(y, n);
	fc_status	st;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	require_arg(fcinfo, 4, "train_fraction");
	train_fraction = PG_GETARG_FLOAT8(4);
	if (!(train_fraction > 0.0 && train_fraction < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"train_fraction\" must be between 0 and 1 (exclusive)"),
				 errdetail("The value given is %s.", double_to_shortest_decimal(train_fraction))));
	require_arg(fcinfo, 5, "target");
	target_name = text_to_cstring(PG_GETARG_TEXT_PP(5));

	fc_config_default(&cfg, kind);
	cfg.season = season;
	cfg.horizon = h;
	if (strcmp(target_name, "point") == 0)
		cfg.target = FC_TARGET_POINT;
	else if (strcmp(target_name, "mean") == 0)
		cfg.target = FC_TARGET_MEAN;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown backtest target \"%s\"", target_name),
				 errhint("Valid targets are: point (the value at t+horizon), mean (the mean of the next horizon values).")));

	n_train = (int) floor(train_fraction * n);
	need = Max(fc_min_length(&cfg), 2);
	if (n_train < need || n - n_train < h)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument \"series\" is too short for a backtest of model \"%s\"",
						fc_kind_name(kind)),
				 errdetail("The series has %d values: %d for training (the model needs at least %d) and %d for testing (the horizon needs at least %d).",
						   n, n_train, need, n - n_train, h),
				 errhint("Use a longer series or another train_fraction.")));

	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 4);

	fc_series_scale(y, n, exponent);
	fc_backtest_spec_default(&spec);
	spec.horizon = h;
	spec.target = cfg.target;
	spec.train_fraction = train_fraction;
	spec.fit_window = SQL_FIT_WINDOW;
	spec.refit_every = SQL_REFIT_EVERY;
	m = palloc(forecast_model_state_size());
	res = palloc(sizeof(fc_backtest_result));
	st = fc_backtest(m, &cfg, y, n, &spec, res, sql_interrupt, NULL);
	report_status(st, &cfg, n);

	values[0] = Float8GetDatum(unscale(res->model.mae, exponent, "mean absolute error", kind));
	values[1] = Float8GetDatum(unscale(res->model.rmse, exponent, "root mean squared error", kind));
	if (isnan(res->model.mase))
		nulls[2] = true;		/* constant training part: no scale */
	else
		values[2] = Float8GetDatum(res->model.mase);
	values[3] = Int64GetDatum(res->model.count);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
