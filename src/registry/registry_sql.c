/*-------------------------------------------------------------------------
 *
 * registry_sql.c
 *	  SQL functions that manage the node registry: add_node, remove_node,
 *	  alter_node, and node_list behind the view foresight.nodes.
 *
 * Changes go through SPI into foresight.node with every value passed as a
 * parameter; the table's trigger publishes them to shared memory at
 * commit.  Only superusers and members of foresight_admin may change nodes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "core/guards.h"
#include "registry/conninfo.h"
#include "registry/registry.h"

static char *
required_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* lowercase letter or underscore, then lowercase letters, digits, _ (and - if allowed) */
static bool
is_simple_name(const char *name, bool allow_dash)
{
	size_t		len = strlen(name);

	if (len == 0 || len >= NAMEDATALEN)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
			  (allow_dash && *p == '-')))
			return false;
	return true;
}

static void
validate_node_name(const char *name)
{
	if (!is_simple_name(name, false))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid node name \"%s\"", name),
				 errdetail("A node name starts with a lowercase letter or an underscore, has only lowercase letters, digits and underscores, and is at most %d characters long.",
						   NAMEDATALEN - 1)));
	if (strcmp(name, FORESIGHT_LOCAL_NODE_NAME) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_RESERVED_NAME),
				 errmsg("node name \"%s\" is reserved", name),
				 errdetail("\"%s\" is the coordinator itself.", FORESIGHT_LOCAL_NODE_NAME)));
}

static void
validate_region(const char *region)
{
	if (!is_simple_name(region, true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid region \"%s\"", region),
				 errdetail("A region starts with a lowercase letter or an underscore, has only lowercase letters, digits, underscores and hyphens, and is at most %d characters long.",
						   NAMEDATALEN - 1)));
}

static void
validate_kind(const char *kind)
{
	if (strcmp(kind, "standby") != 0 && strcmp(kind, "replica") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid node kind \"%s\"", kind),
				 errhint("Valid kinds are \"standby\" (a physical streaming standby) and \"replica\" (any other replica with the same data).")));
}

static void
validate_state(const char *state)
{
	if (strcmp(state, "enabled") != 0 && strcmp(state, "drained") != 0 &&
		strcmp(state, "disabled") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid node state \"%s\"", state),
				 errhint("Valid states are \"enabled\", \"drained\" (no new queries) and \"disabled\" (not routed to, not monitored).")));
}

static void
validate_weight(double weight)
{
	if (!(weight > 0.0 && weight <= 100.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("node weight %g is out of range", weight),
				 errdetail("A weight must be greater than 0 and at most 100.")));
}

static void
validate_conninfo(const char *conninfo)
{
	if (strlen(conninfo) >= FORESIGHT_CONNINFO_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("node connection string is too long"),
				 errdetail("It may have at most %d bytes.", FORESIGHT_CONNINFO_MAX - 1)));
	conninfo_validate(conninfo);
}

/* Common prologue of the functions that change nodes. */
static void
begin_registry_change(void)
{
	foresight_require_admin("manage pg_foresight nodes");
	foresight_require_shmem();
	registry_require_home_database();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* one registry change at a time, so staged copies never miss each other */
	if (SPI_execute("LOCK TABLE foresight.node IN SHARE ROW EXCLUSIVE MODE", false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not lock foresight.node");
}

static void
reject_local(const char *name, const char *action, const char *hint)
{
	if (strcmp(name, FORESIGHT_LOCAL_NODE_NAME) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s the built-in node \"%s\"", action, FORESIGHT_LOCAL_NODE_NAME),
				 hint ? errhint("%s", hint) : 0));
}

static void
raise_unknown_node(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("node \"%s\" does not exist", name),
			 errhint("SELECT node_name FROM foresight.nodes lists the nodes.")));
}

PG_FUNCTION_INFO_V1(foresight_add_node);

Datum
foresight_add_node(PG_FUNCTION_ARGS)
{
	char	   *name = required_text_arg(fcinfo, 0, "node_name");
	char	   *conninfo = required_text_arg(fcinfo, 1, "conninfo");
	char	   *region = required_text_arg(fcinfo, 2, "region");
	char	   *kind = required_text_arg(fcinfo, 3, "kind");
	double		weight;
	Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID};
	Datum		values[5];
	bool		isnull;
	int32		node_id;

	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("weight must not be null")));
	weight = PG_GETARG_FLOAT8(4);

	validate_node_name(name);
	validate_conninfo(conninfo);
	validate_region(region);
	validate_kind(kind);
	validate_weight(weight);

	begin_registry_change();

	values[0] = CStringGetTextDatum(name);
	if (SPI_execute_with_args("SELECT 1 FROM foresight.node WHERE node_name = $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read foresight.node");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("node \"%s\" already exists", name)));

	values[1] = CStringGetTextDatum(conninfo);
	values[2] = CStringGetTextDatum(region);
	values[3] = CStringGetTextDatum(kind);
	values[4] = Float8GetDatum(weight);
	if (SPI_execute_with_args("INSERT INTO foresight.node (node_name, conninfo, region, kind, weight) "
							  "VALUES ($1, $2, $3, $4, $5) RETURNING node_id",
							  5, argtypes, values, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert into foresight.node");
	node_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	SPI_finish();
	PG_RETURN_INT32(node_id);
}

PG_FUNCTION_INFO_V1(foresight_remove_node);

Datum
foresight_remove_node(PG_FUNCTION_ARGS)
{
	char	   *name = required_text_arg(fcinfo, 0, "node_name");
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	reject_local(name, "remove", NULL);
	begin_registry_change();

	values[0] = CStringGetTextDatum(name);
	if (SPI_execute_with_args("DELETE FROM foresight.node WHERE node_name = $1",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from foresight.node");
	if (SPI_processed == 0)
		raise_unknown_node(name);

	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(foresight_alter_node);

Datum
foresight_alter_node(PG_FUNCTION_ARGS)
{
	char	   *name = required_text_arg(fcinfo, 0, "node_name");
	Oid			argtypes[5] = {TEXTOID, TEXTOID, FLOAT8OID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', 'n', 'n', 'n', 'n'};
	bool		any = false;

	reject_local(name, "alter",
				 "Set foresight.include_local to keep routed queries off the coordinator.");

	values[0] = CStringGetTextDatum(name);
	if (!PG_ARGISNULL(1))
	{
		char	   *state = text_to_cstring(PG_GETARG_TEXT_PP(1));

		validate_state(state);
		values[1] = CStringGetTextDatum(state);
		nulls[1] = ' ';
		any = true;
	}
	if (!PG_ARGISNULL(2))
	{
		validate_weight(PG_GETARG_FLOAT8(2));
		values[2] = PG_GETARG_DATUM(2);
		nulls[2] = ' ';
		any = true;
	}
	if (!PG_ARGISNULL(3))
	{
		char	   *region = text_to_cstring(PG_GETARG_TEXT_PP(3));

		validate_region(region);
		values[3] = CStringGetTextDatum(region);
		nulls[3] = ' ';
		any = true;
	}
	if (!PG_ARGISNULL(4))
	{
		char	   *conninfo = text_to_cstring(PG_GETARG_TEXT_PP(4));

		validate_conninfo(conninfo);
		values[4] = CStringGetTextDatum(conninfo);
		nulls[4] = ' ';
		any = true;
	}
	if (!any)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nothing to change for node \"%s\"", name),
				 errhint("Give at least one of state, weight, region or conninfo.")));

	begin_registry_change();

	if (SPI_execute_with_args("UPDATE foresight.node SET "
							  "state = coalesce($2, state), weight = coalesce($3, weight), "
							  "region = coalesce($4, region), conninfo = coalesce($5, conninfo) "
							  "WHERE node_name = $1",
							  5, argtypes, values, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update foresight.node");
	if (SPI_processed == 0)
		raise_unknown_node(name);

	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(foresight_node_list);

Datum
foresight_node_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			max = registry_slot_count();
	ForesightNode *nodes;
	int			count;

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 7);

	nodes = palloc(sizeof(ForesightNode) * max);
	count = registry_snapshot(nodes, max, NULL);

	for (int i = 0; i < count; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {false};
		ForesightNode *node = &nodes[i];

		values[0] = Int32GetDatum(node->node_id);
		values[1] = CStringGetTextDatum(node->name);
		if (node->kind == NODE_KIND_COORDINATOR)
			nulls[2] = true;
		else
			values[2] = CStringGetTextDatum(conninfo_mask_password(node->conninfo));
		values[3] = CStringGetTextDatum(node->region);
		values[4] = CStringGetTextDatum(registry_kind_name(node->kind));
		values[5] = Float8GetDatum(node->weight);
		values[6] = CStringGetTextDatum(registry_state_name(node->state));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
