/*-------------------------------------------------------------------------
 *
 * experiment_arms.c
 *	  The arms of an experiment as start_experiment() takes them: a jsonb
 *	  object mapping each arm's name to its routing settings, named as the
 *	  GUCs without "foresight.", e.g.
 *
 *		{"rr": {"routing_policy": "round_robin"},
 *		 "pred": {"routing_policy": "predictive", "hedge_factor": 8}}
 *
 *	  Parsed and checked here against the same ranges as the GUCs; and
 *	  written back as jsonb text for foresight.experiments.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "router/experiment.h"
#include "router/predictive_score.h"
#include "router/router.h"

typedef enum SettingKind
{
	KIND_POLICY,
	KIND_MODEL,
	KIND_BOOL,
	KIND_INT,
	KIND_REAL
} SettingKind;

typedef struct ArmSettingDef
{
	const char *name;
	uint32		bit;
	SettingKind kind;
	double		min;
	double		max;
	size_t		offset;
} ArmSettingDef;

static const ArmSettingDef setting_defs[] = {
	{"routing_policy", ARM_ROUTING_POLICY, KIND_POLICY, 0, 0, offsetof(ArmSettings, routing_policy)},
	{"include_local", ARM_INCLUDE_LOCAL, KIND_BOOL, 0, 0, offsetof(ArmSettings, include_local)},
	{"max_replication_lag", ARM_MAX_REPLICATION_LAG, KIND_INT, -1, INT_MAX, offsetof(ArmSettings, max_replication_lag)},
	{"weight_connection", ARM_WEIGHT_CONNECTION, KIND_REAL, 0, 1000, offsetof(ArmSettings, weight_connection)},
	{"weight_load", ARM_WEIGHT_LOAD, KIND_REAL, 0, 1000, offsetof(ArmSettings, weight_load)},
	{"peak_weight_connection", ARM_PEAK_WEIGHT_CONNECTION, KIND_REAL, 0, 1000, offsetof(ArmSettings, peak_weight_connection)},
	{"peak_weight_load", ARM_PEAK_WEIGHT_LOAD, KIND_REAL, 0, 1000, offsetof(ArmSettings, peak_weight_load)},
	{"hedge_factor", ARM_HEDGE_FACTOR, KIND_REAL, 0, 1000, offsetof(ArmSettings, hedge_factor)},
	{"hedge_min_delay", ARM_HEDGE_MIN_DELAY, KIND_INT, 1, 60000, offsetof(ArmSettings, hedge_min_delay)},
	{"prediction_model", ARM_PREDICTION_MODEL, KIND_MODEL, 0, 0, offsetof(ArmSettings, prediction_model)},
};

static const char *const policy_names[] = {"local", "round_robin", "random", "least_connections", "predictive"};

static const char *
known_settings(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < lengthof(setting_defs); i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", setting_defs[i].name);
	return buf.data;
}

static void
bad_value(const char *arm, const char *setting, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for setting \"%s\" of arm \"%s\"", setting, arm),
			 errdetail("%s", detail)));
}

static double
number_of(const char *arm, const char *setting, JsonbValue *v)
{
	if (v->type == jbvNumeric)
		return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	if (v->type == jbvString)
	{
		char	   *s = pnstrdup(v->val.string.val, v->val.string.len);
		char	   *end;
		double		d = strtod(s, &end);

		if (end != s && *end == '\0')
			return d;
	}
	bad_value(arm, setting, "A number is expected.");
	return 0;
}

static void
set_one(const char *arm, ArmSettings *s, const char *key, JsonbValue *v)
{
	const ArmSettingDef *def = NULL;
	char	   *field;

	for (int i = 0; i < lengthof(setting_defs); i++)
		if (strcmp(setting_defs[i].name, key) == 0)
			def = &setting_defs[i];
	if (def == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown setting \"%s\" in arm \"%s\"", key, arm),
				 errdetail("An arm may set: %s.", known_settings()),
				 errhint("Name settings without the prefix \"foresight.\"; admission settings are not per arm (the queue is shared).")));
	field = (char *) s + def->offset;
	switch (def->kind)
	{
		case KIND_POLICY:
			{
				char	   *name;
				int			found = -1;

				if (v->type != jbvString)
					bad_value(arm, key, "A policy name is expected.");
				name = pnstrdup(v->val.string.val, v->val.string.len);
				for (int i = 0; i < lengthof(policy_names); i++)
					if (strcmp(policy_names[i], name) == 0)
						found = i;
				if (found < 0)
					bad_value(arm, key, psprintf("\"%s\" is not a policy: local, round_robin, random, least_connections or predictive.", name));
				*(int *) field = found;
				break;
			}
		case KIND_MODEL:
			{
				char	   *name;
				int			found = -1;

				if (v->type != jbvString)
					bad_value(arm, key, "A model name is expected.");
				name = pnstrdup(v->val.string.val, v->val.string.len);
				for (int m = PREDICTION_MODEL_BLEND; m <= PREDICTION_MODEL_NAIVE; m++)
					if (strcmp(prediction_model_name(m), name) == 0)
						found = m;
				if (found < 0)
					bad_value(arm, key, psprintf("\"%s\" is not a prediction model: blend or naive.", name));
				*(int *) field = found;
				break;
			}
		case KIND_BOOL:
			{
				bool		b;

				if (v->type == jbvBool)
					b = v->val.boolean;
				else if (v->type != jbvString ||
						 !parse_bool_with_len(v->val.string.val, v->val.string.len, &b))
				{
					bad_value(arm, key, "A boolean is expected.");
					b = false;
				}
				*(bool *) field = b;
				break;
			}
		case KIND_INT:
		case KIND_REAL:
			{
				double		d = number_of(arm, key, v);

				if (!(d >= def->min && d <= def->max) ||
					(def->kind == KIND_INT && d != floor(d)))
					bad_value(arm, key, psprintf("%s is not %s between %s and %s.", double_to_shortest_decimal(d),
												 def->kind == KIND_INT ? "an integer" : "a number",
												 double_to_shortest_decimal(def->min),
												 double_to_shortest_decimal(def->max)));
				if (def->kind == KIND_INT)
					*(int *) field = (int) d;
				else
					*(double *) field = d;
				break;
			}
	}
	s->set |= def->bit;
}

int
experiment_parse_arms(Jsonb *arms, int max_arms, char (*names)[NAMEDATALEN], ArmSettings *settings)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			narms = 0;
	int			depth = 0;
	char	   *arm = NULL;
	char	   *key = NULL;

	if (!JB_ROOT_IS_OBJECT(arms) || JB_ROOT_IS_SCALAR(arms))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("arms must be a jsonb object"),
				 errdetail("Map each arm's name to an object of its settings."),
				 errhint("For example '{\"rr\": {\"routing_policy\": \"round_robin\"}, \"pred\": {\"routing_policy\": \"predictive\"}}'.")));
	it = JsonbIteratorInit(&arms->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_OBJECT:
				depth++;
				if (depth == 2)
				{
					if (narms >= max_arms)
						ereport(ERROR,
								(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
								 errmsg("an experiment has at most %d arms", max_arms),
								 errhint("Raise foresight.experiment_max_arms (a restart is needed).")));
					if (strlen(arm) == 0 || strlen(arm) >= NAMEDATALEN)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_NAME),
								 errmsg("invalid arm name \"%s\"", arm),
								 errdetail("An arm's name has 1 to %d bytes.", NAMEDATALEN - 1)));
					memset(&settings[narms], 0, sizeof(ArmSettings));
					strlcpy(names[narms], arm, NAMEDATALEN);
					narms++;
				}
				else if (depth > 2)
					bad_value(arm, key, "A scalar is expected.");
				break;
			case WJB_END_OBJECT:
				depth--;
				break;
			case WJB_BEGIN_ARRAY:
				if (depth >= 2)
					bad_value(arm, key, "A scalar is expected.");
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("arm \"%s\" must be a jsonb object of settings", arm)));
				break;
			case WJB_KEY:
				if (depth == 1)
					arm = pnstrdup(v.val.string.val, v.val.string.len);
				else
					key = pnstrdup(v.val.string.val, v.val.string.len);
				break;
			case WJB_VALUE:
				if (depth == 1)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("arm \"%s\" must be a jsonb object of settings", arm),
							 errhint("Use {} for an arm with the configured settings.")));
				if (v.type == jbvNull)
					bad_value(arm, key, "null is not a value; leave the setting out for the configured one.");
				set_one(arm, &settings[narms - 1], key, &v);
				break;
			default:
				break;
		}
	}
	if (narms < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an experiment needs at least two arms"),
				 errdetail("arms has %d.", narms)));
	return narms;
}

char *
experiment_arm_json(const ArmSettings *s)
{
	StringInfoData buf;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < lengthof(setting_defs); i++)
	{
		const ArmSettingDef *def = &setting_defs[i];
		const char *field = (const char *) s + def->offset;

		if (!(s->set & def->bit))
			continue;
		appendStringInfo(&buf, "%s\"%s\": ", first ? "" : ", ", def->name);
		first = false;
		switch (def->kind)
		{
			case KIND_POLICY:
				appendStringInfo(&buf, "\"%s\"", routing_policy_name(*(const int *) field));
				break;
			case KIND_MODEL:
				appendStringInfo(&buf, "\"%s\"", prediction_model_name(*(const int *) field));
				break;
			case KIND_BOOL:
				appendStringInfoString(&buf, *(const bool *) field ? "true" : "false");
				break;
			case KIND_INT:
				appendStringInfo(&buf, "%d", *(const int *) field);
				break;
			case KIND_REAL:
				appendStringInfo(&buf, "%.15g", *(const double *) field);
				break;
		}
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* The GUC name and value of each setting of an arm (for promotion). */
int
experiment_arm_gucs(const ArmSettings *s, const char **names, char **values)
{
	int			n = 0;

	for (int i = 0; i < lengthof(setting_defs); i++)
	{
		const ArmSettingDef *def = &setting_defs[i];
		const char *field = (const char *) s + def->offset;

		if (!(s->set & def->bit))
			continue;
		names[n] = psprintf("foresight.%s", def->name);
		switch (def->kind)
		{
			case KIND_POLICY:
				values[n] = pstrdup(routing_policy_name(*(const int *) field));
				break;
			case KIND_MODEL:
				values[n] = pstrdup(prediction_model_name(*(const int *) field));
				break;
			case KIND_BOOL:
				values[n] = pstrdup(*(const bool *) field ? "on" : "off");
				break;
			case KIND_INT:
				values[n] = psprintf("%d", *(const int *) field);
				break;
			case KIND_REAL:
				values[n] = psprintf("%.15g", *(const double *) field);
				break;
		}
		n++;
	}
	return n;
}
