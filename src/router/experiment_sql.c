/*-------------------------------------------------------------------------
 *
 * experiment_sql.c
 *	  The SQL functions of experiments: start_experiment, stop_experiment,
 *	  drop_experiment, promote_experiment (administrators only), and
 *	  experiment_list (behind the view foresight.experiments).  The report
 *	  is in experiment_report.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "postmaster/postmaster.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "router/experiment.h"
#include "router/scoring.h"

static char *
name_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	char	   *name;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strlen(name) == 0 || strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid %s \"%s\"", what, name),
				 errdetail("A name has 1 to %d bytes.", NAMEDATALEN - 1)));
	return name;
}

static void
no_such_experiment(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("experiment \"%s\" does not exist", name),
			 errhint("foresight.experiments lists the experiments.")));
}

PG_FUNCTION_INFO_V1(foresight_start_experiment);

/*
 * foresight.start_experiment(name, arms jsonb, traffic float8 default 1,
 *							  unit text default 'session',
 *							  control text default null, seed bigint default null)
 */
Datum
foresight_start_experiment(PG_FUNCTION_ARGS)
{
	char	   *name = name_arg(fcinfo, 0, "experiment name");
	Jsonb	   *arms;
	double		traffic;
	char	   *unit_name;
	ExperimentUnit unit;
	int			control = -1;
	int64		seed;
	char		(*names)[NAMEDATALEN];
	ArmSettings *settings;
	int			narms;

	foresight_require_admin("start an experiment");
	foresight_require_shmem();
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("arms, traffic and unit must not be null")));
	arms = PG_GETARG_JSONB_P(1);
	traffic = PG_GETARG_FLOAT8(2);
	unit_name = text_to_cstring(PG_GETARG_TEXT_PP(3));

	if (!(traffic >= 0.0 && traffic <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("traffic %s is out of range", double_to_shortest_decimal(traffic)),
				 errdetail("traffic is the share of eligible reads in the experiment, between 0 and 1.")));
	if (strcmp(unit_name, "session") == 0)
		unit = EXPERIMENT_UNIT_SESSION;
	else if (strcmp(unit_name, "query") == 0)
		unit = EXPERIMENT_UNIT_QUERY;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown experiment unit \"%s\"", unit_name),
				 errhint("The unit is \"session\" (a session stays in its arm) or \"query\" (each transaction is assigned anew).")));

	names = palloc0(sizeof(*names) * foresight_experiment_max_arms);
	settings = palloc0(sizeof(ArmSettings) * foresight_experiment_max_arms);
	narms = experiment_parse_arms(arms, foresight_experiment_max_arms, names, settings);

	if (!PG_ARGISNULL(4))
	{
		char	   *c = text_to_cstring(PG_GETARG_TEXT_PP(4));

		for (int a = 0; a < narms; a++)
			if (strcmp(names[a], c) == 0)
				control = a;
		if (control < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("control arm \"%s\" is not one of the arms", c)));
	}
	else
	{
		/* the arm named "control", else the first one (jsonb's key order) */
		control = 0;
		for (int a = 0; a < narms; a++)
			if (strcmp(names[a], "control") == 0)
				control = a;
	}
	/* no seed given: one from the name, so that the same call assigns alike */
	seed = PG_ARGISNULL(5) ? (int64) ab_mix64(hash_bytes_extended((const unsigned char *) name,
																  strlen(name), 0)) :
		PG_GETARG_INT64(5);

	experiment_start(name, unit, traffic, seed, narms, names, settings, control);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(foresight_stop_experiment);

/* foresight.stop_experiment(name): no more reads assigned; statistics kept */
Datum
foresight_stop_experiment(PG_FUNCTION_ARGS)
{
	char	   *name = name_arg(fcinfo, 0, "experiment name");
	ExperimentCopy e;

	foresight_require_admin("stop an experiment");
	if (!experiment_copy(name, &e))
		no_such_experiment(name);
	if (e.status != EXPERIMENT_RUNNING)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("experiment \"%s\" is not running", name)));
	(void) experiment_set_status(name, EXPERIMENT_STOPPED, "stopped by stop_experiment()");
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(foresight_drop_experiment);

/* foresight.drop_experiment(name): forget it and its statistics */
Datum
foresight_drop_experiment(PG_FUNCTION_ARGS)
{
	char	   *name = name_arg(fcinfo, 0, "experiment name");

	foresight_require_admin("drop an experiment");
	if (!experiment_drop(name))
		no_such_experiment(name);
	PG_RETURN_VOID();
}

/* the arm experiment_report judges best (experiment_report.c) */
extern int	experiment_best_arm(const ExperimentCopy *e, double alpha, double min_effect,
								char **why);

/* scoring.c */
extern Datum foresight_set_weights(PG_FUNCTION_ARGS);

PG_FUNCTION_INFO_V1(foresight_promote_experiment);

/*
 * foresight.promote_experiment(name, arm default null, alpha default 0.05,
 * min_effect default 0.2): make the arm's settings the configured ones and
 * stop the experiment.  Without an arm, the one experiment_report(name,
 * alpha, min_effect) finds better than the control (lowest p95 ratio over
 * all classes); an error when none is.  Weights go through
 * set_weights' path (shared memory, every backend at once); every setting
 * of the arm is also written with ALTER SYSTEM and the configuration
 * reloaded, which needs a superuser unless the arm sets weights only.
 */
Datum
foresight_promote_experiment(PG_FUNCTION_ARGS)
{
	char	   *name = name_arg(fcinfo, 0, "experiment name");
	ExperimentCopy e;
	int			arm = -1;
	ArmSettings *s;
	const char *gucs[ARM_MAX_SETTINGS];
	char	   *values[ARM_MAX_SETTINGS];
	int			ngucs;
	char	   *why = NULL;

	foresight_require_admin("promote an experiment's arm");
	if (!experiment_copy(name, &e))
		no_such_experiment(name);
	if (e.status == EXPERIMENT_PROMOTED)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("experiment \"%s\" was promoted already", name)));
	if (!PG_ARGISNULL(1))
	{
		char	   *a = text_to_cstring(PG_GETARG_TEXT_PP(1));

		for (int i = 0; i < e.narms; i++)
			if (strcmp(e.arms[i].name, a) == 0)
				arm = i;
		if (arm < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("experiment \"%s\" has no arm \"%s\"", name, a)));
	}
	else if ((arm = experiment_best_arm(&e, PG_ARGISNULL(2) ? 0.05 : PG_GETARG_FLOAT8(2),
										PG_ARGISNULL(3) ? 0.2 : PG_GETARG_FLOAT8(3), &why)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no arm of experiment \"%s\" is better than the control", name),
				 errdetail("%s", why),
				 errhint("Name the arm to promote it anyway.")));
	s = &e.arms[arm].settings;
	ngucs = experiment_arm_gucs(s, gucs, values);

	if (!superuser() && (s->set & ~ARM_WEIGHTS) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to promote arm \"%s\"", e.arms[arm].name),
				 errdetail("Its settings other than weights become the configured ones through ALTER SYSTEM, which only superusers may run."),
				 errhint("Have a superuser promote it, or set them with ALTER SYSTEM and stop the experiment.")));

	/* weights: through set_weights() itself, for every backend at once */
	for (int peak = 0; peak <= 1; peak++)
	{
		uint32		cbit = peak ? ARM_PEAK_WEIGHT_CONNECTION : ARM_WEIGHT_CONNECTION;
		uint32		lbit = peak ? ARM_PEAK_WEIGHT_LOAD : ARM_WEIGHT_LOAD;
		RoutingWeights now = scoring_weights(peak);

		if (s->set & (cbit | lbit))
			DirectFunctionCall3(foresight_set_weights,
								Float8GetDatum(s->set & cbit ?
											   (peak ? s->peak_weight_connection : s->weight_connection) :
											   now.connection),
								Float8GetDatum(s->set & lbit ?
											   (peak ? s->peak_weight_load : s->weight_load) :
											   now.load),
								BoolGetDatum(peak));
	}

	/* the rest, and the weights too when we may: the configuration */
	if (superuser() && ngucs > 0)
	{
		for (int i = 0; i < ngucs; i++)
		{
			AlterSystemStmt *stmt = makeNode(AlterSystemStmt);
			VariableSetStmt *set = makeNode(VariableSetStmt);
			A_Const    *value = makeNode(A_Const);

			value->val.sval.type = T_String;
			value->val.sval.sval = values[i];
			value->location = -1;
			set->kind = VAR_SET_VALUE;
			set->name = (char *) gucs[i];
			set->args = list_make1(value);
			stmt->setstmt = set;
			AlterSystemSetConfigFile(stmt);
		}
		if (kill(PostmasterPid, SIGHUP) != 0)
			ereport(WARNING,
					(errmsg("could not signal the postmaster to reload the configuration: %m")));
	}
	(void) experiment_set_status(name, EXPERIMENT_PROMOTED,
								 psprintf("arm \"%s\" promoted", e.arms[arm].name));
	PG_RETURN_TEXT_P(cstring_to_text(e.arms[arm].name));
}

static const char *
status_name(ExperimentStatus s)
{
	switch (s)
	{
		case EXPERIMENT_RUNNING:
			return "running";
		case EXPERIMENT_STOPPED:
			return "stopped";
		case EXPERIMENT_PROMOTED:
			return "promoted";
		case EXPERIMENT_FREE:
			break;
	}
	return "?";
}

PG_FUNCTION_INFO_V1(foresight_experiment_list);

/*
 * foresight.experiment_list(): name, status, unit, traffic, seed,
 * control, arms (jsonb: each arm's settings), stopped_arms (jsonb: arm ->
 * why), started_at, stopped_at, stop_reason, queries (per arm, jsonb)
 */
#define EXPERIMENT_LIST_COLS 12

Datum
foresight_experiment_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ExperimentCopy *all;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, EXPERIMENT_LIST_COLS);
	n = experiment_copy_all(&all);
	for (int i = 0; i < n; i++)
	{
		ExperimentCopy *e = &all[i];
		Datum		values[EXPERIMENT_LIST_COLS];
		bool		nulls[EXPERIMENT_LIST_COLS] = {false};
		StringInfoData arms,
					stopped,
					queries;

		initStringInfo(&arms);
		initStringInfo(&stopped);
		initStringInfo(&queries);
		for (int a = 0; a < e->narms; a++)
		{
			int64		q = 0;

			for (int c = 0; c < REQUEST_CLASS_COUNT; c++)
				q += e->arms[a].cls[c].queries + e->arms[a].cls[c].failed;
			appendStringInfo(&arms, "%s", a ? ", " : "{");
			escape_json(&arms, e->arms[a].name);
			appendStringInfo(&arms, ": %s", experiment_arm_json(&e->arms[a].settings));
			appendStringInfo(&queries, "%s", a ? ", " : "{");
			escape_json(&queries, e->arms[a].name);
			appendStringInfo(&queries, ": " INT64_FORMAT, q);
			if (e->arms[a].stopped)
			{
				appendStringInfoString(&stopped, stopped.len ? ", " : "{");
				escape_json(&stopped, e->arms[a].name);
				appendStringInfoString(&stopped, ": ");
				escape_json(&stopped, e->arms[a].stop_reason);
			}
		}
		appendStringInfoChar(&arms, '}');
		appendStringInfoChar(&queries, '}');
		appendStringInfoString(&stopped, stopped.len ? "}" : "{}");

		values[0] = CStringGetTextDatum(e->name);
		values[1] = CStringGetTextDatum(status_name(e->status));
		values[2] = CStringGetTextDatum(e->unit == EXPERIMENT_UNIT_QUERY ? "query" : "session");
		values[3] = Float8GetDatum(e->traffic);
		values[4] = Int64GetDatum(e->seed);
		values[5] = CStringGetTextDatum(e->arms[e->control].name);
		values[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(arms.data));
		values[7] = DirectFunctionCall1(jsonb_in, CStringGetDatum(stopped.data));
		values[8] = TimestampTzGetDatum(e->started_at);
		values[9] = TimestampTzGetDatum(e->stopped_at);
		nulls[9] = e->stopped_at == 0;
		values[10] = CStringGetTextDatum(e->stop_reason);
		nulls[10] = e->stop_reason[0] == '\0';
		values[11] = DirectFunctionCall1(jsonb_in, CStringGetDatum(queries.data));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
