/*-------------------------------------------------------------------------
 *
 * predict_sql.c
 *	  SQL interface of the live models: foresight.prediction_list() behind
 *	  the view foresight.predictions, foresight.model_list() behind
 *	  foresight.models (one row per horizon of foresight.prediction_horizons
 *	  in both), and foresight.retrain().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "forecast/forecast.h"
#include "registry/registry.h"
#include "predict/horizons.h"
#include "predict/live_models.h"

/* NULL for NaN, so that "not known yet" reads as NULL in SQL */
static Datum
float_or_null(double x, bool *isnull)
{
	*isnull = !isfinite(x);
	return Float8GetDatum(*isnull ? 0.0 : x);
}

static Datum
float_array(const double *values, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
		d[i] = float_or_null(values[i], &nulls[i]);
	return PointerGetDatum(construct_md_array(d, nulls, 1, dims, lbs,
											  FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

static char *
member_name(int32 kind, int32 season)
{
	if (season > 0)
		return psprintf("%s/%d", fc_kind_name((fc_kind) kind), season);
	return pstrdup(fc_kind_name((fc_kind) kind));
}

static Interval *
ms_interval(double ms)
{
	Interval   *iv = palloc0(sizeof(Interval));

	iv->time = (TimeOffset) (ms * 1000.0);
	return iv;
}

static ForesightNode *
all_nodes(int *count)
{
	int			max = registry_slot_count();
	ForesightNode *nodes = palloc(sizeof(ForesightNode) * max);

	*count = registry_snapshot(nodes, max, NULL);
	return nodes;
}

PG_FUNCTION_INFO_V1(foresight_prediction_list);

Datum
foresight_prediction_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			nnodes;
	int			nhorizons = horizons_count();
	ForesightNode *nodes;
	TimestampTz now = GetCurrentTimestamp();

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 12);
	nodes = all_nodes(&nnodes);

	for (int i = 0; i < nnodes; i++)
	{
		/* by series, then horizon (shortest first) */
		for (int j = 0; j < PREDICT_SERIES_COUNT * nhorizons; j++)
		{
			int			series = j / nhorizons;
			int			k = j % nhorizons;
			Prediction p;
			Datum		values[12];
			bool		nulls[12] = {false};
			Datum	   *names;
			int			dims[1];
			int			lbs[1] = {1};

			if (!live_models_prediction(nodes[i].slot, nodes[i].node_id, series, k, &p))
				continue;
			values[0] = CStringGetTextDatum(nodes[i].name);
			values[1] = CStringGetTextDatum(live_models_series_name(series));
			values[2] = IntervalPGetDatum(ms_interval((double) p.horizon_ms));
			values[3] = Float8GetDatum(p.predicted_load);
			values[4] = BoolGetDatum(p.fitted);
			names = palloc(sizeof(Datum) * Max(p.nmembers, 1));
			for (int m = 0; m < p.nmembers; m++)
				names[m] = CStringGetTextDatum(member_name(p.member_kind[m], p.member_season[m]));
			dims[0] = p.nmembers;
			values[5] = PointerGetDatum(construct_md_array(names, NULL, 1, dims, lbs,
														   TEXTOID, -1, false, TYPALIGN_INT));
			values[6] = float_array(p.member_forecast, p.nmembers);
			values[7] = float_array(p.member_weight, p.nmembers);
			values[8] = float_array(p.member_mae, p.nmembers);
			values[9] = Int64GetDatum(p.samples);
			values[10] = IntervalPGetDatum(ms_interval((double) (now - p.made_at) / 1000.0));
			values[11] = Int32GetDatum(p.horizon_steps);
			nulls[11] = !p.fitted;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/* Parameters of blend member i as a JSON object. */
static Datum
member_parameters(const fc_model *m, int i)
{
	StringInfoData buf;
	const fc_blend *b = &m->u.blend;

	initStringInfo(&buf);
	if (i < b->nets)
	{
		const fc_ets *e = &b->ets[i];

		appendStringInfo(&buf, "{\"alpha\": %.6g, \"beta\": %.6g, \"gamma\": %.6g, \"phi\": %.6g, \"season\": %d}",
						 e->alpha, e->beta, e->gamma, e->phi, e->season);
	}
	else
		appendStringInfo(&buf, "{\"hidden\": %d, \"window\": %d, \"outputs\": %d, \"parameters\": %d, \"adam_steps\": %d}",
						 b->lstm.hidden, b->lstm.window, b->lstm.nout, b->lstm.nparams, b->lstm.steps);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

PG_FUNCTION_INFO_V1(foresight_model_list);

Datum
foresight_model_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			nnodes;
	int			nhorizons = horizons_count();
	ForesightNode *nodes;
	fc_model   *model = palloc(sizeof(fc_model));

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 12);
	nodes = all_nodes(&nnodes);

	for (int i = 0; i < nnodes; i++)
	{
		/* by series, then horizon (shortest first) */
		for (int j = 0; j < PREDICT_SERIES_COUNT * nhorizons; j++)
		{
			int			series = j / nhorizons;
			int			k = j % nhorizons;
			ModelTraining t;
			int			nmembers;

			if (!live_models_training(nodes[i].slot, nodes[i].node_id, series, k, &t, model) ||
				!t.fitted)
				continue;
			nmembers = fc_model_members(model);
			/* one row per member, then one for the blend itself */
			for (int m = 0; m <= nmembers; m++)
			{
				Datum		values[12];
				bool		nulls[12] = {false};
				fc_member_info info;
				double		mae;

				values[0] = CStringGetTextDatum(nodes[i].name);
				values[1] = CStringGetTextDatum(live_models_series_name(series));
				if (m < nmembers)
				{
					fc_model_member(model, m, &info);
					values[2] = CStringGetTextDatum(member_name(info.kind, info.season));
					values[3] = member_parameters(model, m);
					values[4] = float_or_null(info.weight, &nulls[4]);
					mae = info.rolling_mae;
				}
				else
				{
					char		json[128];

					values[2] = CStringGetTextDatum("blend");
					snprintf(json, sizeof(json), "{\"decay\": %.6g, \"power\": %.6g, \"horizon\": %d}",
							 model->u.blend.decay, model->u.blend.power, model->u.blend.horizon);
					values[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(json));
					values[4] = Float8GetDatum(1.0);
					mae = model->u.blend.err[nmembers];
				}
				values[5] = Int64GetDatum(t.training_samples);
				values[6] = TimestampTzGetDatum(t.last_trained);
				values[7] = Float8GetDatum(t.training_ms);
				values[8] = float_or_null(mae, &nulls[8]);
				values[9] = float_or_null(t.mase_scale > 0 ? mae / t.mase_scale : NAN, &nulls[9]);
				values[10] = Int64GetDatum(t.skipped_nonfinite);
				values[11] = IntervalPGetDatum(ms_interval((double) horizons_ms(k)));
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			}
		}
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(foresight_retrain);

Datum
foresight_retrain(PG_FUNCTION_ARGS)
{
	foresight_require_admin("retrain pg_foresight models");
	live_models_request_retrain();
	PG_RETURN_VOID();
}

static double
interval_ms(const Interval *iv)
{
	return iv->time / 1000.0 +
		((double) iv->month * DAYS_PER_MONTH + iv->day) * SECS_PER_DAY * 1000.0;
}

PG_FUNCTION_INFO_V1(foresight_prediction_horizon_for);

/*
 * foresight.prediction_horizon_for(expected_duration, expected_wait): the
 * horizon the predictive policy reads for a query expected to run that
 * long after waiting that long in the admission queue (horizons_choose()).
 */
Datum
foresight_prediction_horizon_for(PG_FUNCTION_ARGS)
{
	double		duration_ms = interval_ms(PG_GETARG_INTERVAL_P(0));
	double		wait_ms = interval_ms(PG_GETARG_INTERVAL_P(1));

	if (duration_ms < 0 || wait_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an expected duration or wait cannot be negative")));
	PG_RETURN_INTERVAL_P(ms_interval((double) horizons_ms(horizons_choose(duration_ms + wait_ms))));
}
