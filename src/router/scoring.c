/*-------------------------------------------------------------------------
 *
 * scoring.c
 *	  Weights, peak hours and the score formula of the predictive policy.
 *
 * The weights in force live in shared memory so that set_weights() changes
 * them for every backend at once.  They start from the GUCs
 * foresight.weight_connection / weight_load / peak_weight_connection /
 * peak_weight_load, and a configuration reload that changes one of those
 * GUCs overrides what set_weights() set (the last change wins).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "router/peak_hours.h"
#include "router/scoring.h"

/* GUCs */
static double weight_connection_guc = 0.3;
static double weight_load_guc = 0.7;
static double peak_weight_connection_guc = 0.1;
static double peak_weight_load_guc = 0.9;
static char *peak_hours_guc = NULL;
static PeakHours *peak_hours = NULL;	/* parsed by the check hook */

typedef struct ScoringShared
{
	slock_t		mutex;
	RoutingWeights offpeak;
	RoutingWeights peak;
	/* GUC values last copied in, to notice a reload that changes them */
	double		guc_values[4];
} ScoringShared;

static ScoringShared *scoring = NULL;

static bool
check_peak_hours(char **newval, void **extra, GucSource source)
{
	PeakHours	parsed;
	char		error[256];
	PeakHours  *copy;

	if (!peak_hours_parse(*newval, &parsed, error, sizeof(error)))
	{
		GUC_check_errdetail("%s.", error);
		GUC_check_errhint("Write windows such as 'Mon-Fri 08:00-18:00, Sat 10:00-13:00', or '' for none.");
		return false;
	}
	copy = malloc(sizeof(PeakHours));
	if (copy == NULL)
		return false;
	*copy = parsed;
	*extra = copy;
	return true;
}

static void
assign_peak_hours(const char *newval, void *extra)
{
	peak_hours = (PeakHours *) extra;
}

void
scoring_define_gucs(void)
{
	DefineCustomRealVariable("foresight.weight_connection",
							 "Weight of the connection score in the predictive policy, off-peak.",
							 NULL, &weight_connection_guc, 0.3, 0.0, 1000.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("foresight.weight_load",
							 "Weight of the predicted spare capacity (1 - predicted load) in the predictive policy, off-peak.",
							 NULL, &weight_load_guc, 0.7, 0.0, 1000.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("foresight.peak_weight_connection",
							 "Weight of the connection score during foresight.peak_hours.",
							 NULL, &peak_weight_connection_guc, 0.1, 0.0, 1000.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("foresight.peak_weight_load",
							 "Weight of the predicted spare capacity during foresight.peak_hours.",
							 NULL, &peak_weight_load_guc, 0.9, 0.0, 1000.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("foresight.peak_hours",
							   "Weekly windows in which the peak weights apply, e.g. 'Mon-Fri 08:00-18:00'.",
							   "Read in the server's time zone (log_timezone). Empty: never.",
							   &peak_hours_guc, "",
							   PGC_SIGHUP, 0,
							   check_peak_hours, assign_peak_hours, NULL);
}

void
scoring_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(ScoringShared));
}

void
scoring_shmem_init(void)
{
	bool		found;

	scoring = ShmemInitStruct("pg_foresight scoring", sizeof(ScoringShared), &found);
	if (!found)
	{
		memset(scoring, 0, sizeof(ScoringShared));
		SpinLockInit(&scoring->mutex);
		/* NaN never equals a GUC value: the first read copies the GUCs in */
		for (int i = 0; i < lengthof(scoring->guc_values); i++)
			scoring->guc_values[i] = get_float8_nan();
		scoring_sync_from_gucs();
	}
}

/*
 * Copy GUC values that changed since the last copy into shared memory.
 * Called at shared memory initialisation and by the monitor after each
 * configuration reload (backends do not: one that has not yet processed a
 * reload would copy stale values back).
 */
void
scoring_sync_from_gucs(void)
{
	double		gucs[4] = {weight_connection_guc, weight_load_guc,
	peak_weight_connection_guc, peak_weight_load_guc};

	SpinLockAcquire(&scoring->mutex);
	if (gucs[0] != scoring->guc_values[0] || gucs[1] != scoring->guc_values[1])
	{
		scoring->offpeak.connection = gucs[0];
		scoring->offpeak.load = gucs[1];
	}
	if (gucs[2] != scoring->guc_values[2] || gucs[3] != scoring->guc_values[3])
	{
		scoring->peak.connection = gucs[2];
		scoring->peak.load = gucs[3];
	}
	scoring->peak.peak = true;
	memcpy(scoring->guc_values, gucs, sizeof(gucs));
	SpinLockRelease(&scoring->mutex);
}

/* Minute of the week (0 = Monday 00:00) of t in the server's time zone; -1 if out of range. */
static int
minute_of_week(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	int			weekday;

	if (timestamp2tm(t, &tz, &tm, &fsec, NULL, log_timezone) != 0)
		return -1;
	/* j2day: 0 = Sunday; ours: 0 = Monday */
	weekday = (j2day(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday)) + 6) % 7;
	return weekday * 24 * 60 + tm.tm_hour * 60 + tm.tm_min;
}

bool
scoring_in_peak_hours(TimestampTz now)
{
	if (peak_hours == NULL || !peak_hours->any)
		return false;
	return peak_hours_contains(peak_hours, minute_of_week(now));
}

RoutingWeights
scoring_current_weights(TimestampTz now)
{
	RoutingWeights result;
	bool		peak = scoring_in_peak_hours(now);

	foresight_require_shmem();
	SpinLockAcquire(&scoring->mutex);
	result = peak ? scoring->peak : scoring->offpeak;
	SpinLockRelease(&scoring->mutex);
	result.peak = peak;
	return result;
}

RoutingWeights
scoring_weights(bool peak)
{
	RoutingWeights result;

	foresight_require_shmem();
	SpinLockAcquire(&scoring->mutex);
	result = peak ? scoring->peak : scoring->offpeak;
	SpinLockRelease(&scoring->mutex);
	result.peak = peak;
	return result;
}

double
scoring_connection_score(double weight, double max_weight,
						 int connections, int max_connections, uint32 inflight,
						 double speed)
{
	double		weight_factor = max_weight > 0 ? weight / max_weight : 1.0;
	double		headroom = 1.0;

	if (max_connections > 0)
		headroom = Max(0.0, (double) (max_connections - connections)) / max_connections;
	weight_factor = Min(Max(weight_factor, 0.0), 1.0);
	speed = Min(Max(speed, 0.0), 1.0);
	return weight_factor * headroom * speed / (1.0 + inflight);
}

double
scoring_score(const RoutingWeights *weights, double connection_score, double predicted_load)
{
	double		load = Min(Max(predicted_load, 0.0), 1.0);

	return weights->connection * connection_score + weights->load * (1.0 - load);
}

static double
weight_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	double		value;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	value = PG_GETARG_FLOAT8(argno);
	if (!(value >= 0.0 && value <= 1000.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s weight %s is out of range", name, double_to_shortest_decimal(value)),
				 errdetail("A weight must be between 0 and 1000.")));
	return value;
}

PG_FUNCTION_INFO_V1(foresight_set_weights);

/* foresight.set_weights(connection, load, peak default false) */
Datum
foresight_set_weights(PG_FUNCTION_ARGS)
{
	double		connection = weight_arg(fcinfo, 0, "connection");
	double		load = weight_arg(fcinfo, 1, "load");
	bool		peak = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);

	foresight_require_admin("set pg_foresight routing weights");
	if (connection == 0.0 && load == 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("connection and load weights must not both be zero")));

	foresight_require_shmem();
	SpinLockAcquire(&scoring->mutex);
	if (peak)
	{
		scoring->peak.connection = connection;
		scoring->peak.load = load;
	}
	else
	{
		scoring->offpeak.connection = connection;
		scoring->offpeak.load = load;
	}
	SpinLockRelease(&scoring->mutex);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(foresight_current_weights);

/* foresight.current_weights(OUT connection, OUT load, OUT peak) */
Datum
foresight_current_weights(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	RoutingWeights weights = scoring_current_weights(GetCurrentTimestamp());
	Datum		values[3];
	bool		nulls[3] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	foresight_check_result_columns(fcinfo, tupdesc, 3);
	values[0] = Float8GetDatum(weights.connection);
	values[1] = Float8GetDatum(weights.load);
	values[2] = BoolGetDatum(weights.peak);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(foresight_score);

/*
 * foresight.score(connection_score, predicted_load, w_conn, w_load): the
 * formula on given numbers, so that it can be tested exactly.
 */
Datum
foresight_score(PG_FUNCTION_ARGS)
{
	RoutingWeights weights;
	double		connection_score = PG_GETARG_FLOAT8(0);
	double		predicted_load = PG_GETARG_FLOAT8(1);

	weights.connection = PG_GETARG_FLOAT8(2);
	weights.load = PG_GETARG_FLOAT8(3);
	weights.peak = false;
	if (!(connection_score >= 0.0 && connection_score <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("connection_score %s is out of range", double_to_shortest_decimal(connection_score)),
				 errdetail("It must be between 0 and 1.")));
	if (!(predicted_load >= 0.0 && predicted_load <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("predicted_load %s is out of range", double_to_shortest_decimal(predicted_load)),
				 errdetail("It must be between 0 and 1.")));
	PG_RETURN_FLOAT8(scoring_score(&weights, connection_score, predicted_load));
}

PG_FUNCTION_INFO_V1(foresight_connection_score);

/*
 * foresight.connection_score(weight, max_weight, connections, max_connections,
 * inflight, speed default 1).  The SQL of version 0.3 and older declares no
 * speed: the node then counts as fast.
 */
Datum
foresight_connection_score(PG_FUNCTION_ARGS)
{
	double		weight = PG_GETARG_FLOAT8(0);
	double		max_weight = PG_GETARG_FLOAT8(1);
	int32		connections = PG_GETARG_INT32(2);
	int32		max_connections = PG_GETARG_INT32(3);
	int32		inflight = PG_GETARG_INT32(4);
	double		speed = PG_NARGS() > 5 ? PG_GETARG_FLOAT8(5) : 1.0;

	if (weight <= 0 || max_weight < weight || connections < 0 || max_connections <= 0 || inflight < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid connection score input"),
				 errdetail("Need 0 < weight <= max_weight, connections >= 0, max_connections > 0, inflight >= 0.")));
	if (!(speed > 0.0 && speed <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("speed %s is out of range", double_to_shortest_decimal(speed)),
				 errdetail("It must be greater than 0 and at most 1.")));
	PG_RETURN_FLOAT8(scoring_connection_score(weight, max_weight, connections,
											  max_connections, (uint32) inflight, speed));
}

PG_FUNCTION_INFO_V1(foresight_in_peak_hours);

/* foresight.in_peak_hours(spec text, at timestamptz): test the language */
Datum
foresight_in_peak_hours(PG_FUNCTION_ARGS)
{
	char	   *spec = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);
	PeakHours	parsed;
	char		error[256];
	int			minute;

	if (TIMESTAMP_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp must be finite"),
				 errdetail("Argument \"at\" is %s; peak hours are days and times of the week.",
						   TIMESTAMP_IS_NOBEGIN(at) ? "-infinity" : "infinity"),
				 errhint("Give a finite timestamp, such as now().")));
	minute = minute_of_week(at);
	if (!peak_hours_parse(spec, &parsed, error, sizeof(error)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid peak hours \"%s\"", spec),
				 errdetail("%s.", error),
				 errhint("Write windows such as 'Mon-Fri 08:00-18:00, Sat 10:00-13:00', or '' for none.")));
	if (minute < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	PG_RETURN_BOOL(peak_hours_contains(&parsed, minute));
}
