/*-------------------------------------------------------------------------
 *
 * registry_sql.c
 *	  SQL functions that manage the node registry: add_node, remove_node,
 *	  alter_node, and node_list behind the view foresight.nodes.
 *
 * Changes go through SPI into foresight.node with every value passed as a
 * parameter and every operator named in pg_catalog (an administrator's
 * search_path may put another role's schema first); the table's statement
 * trigger publishes them to shared memory at commit.  Only superusers and
 * members of foresight_admin may change nodes.  The table's row trigger
 * (foresight.node_check) applies the same checks as the functions to plain
 * INSERT and UPDATE.  On a hot standby or in a read-only transaction the
 * functions fail before anything else with PostgreSQL's own messages
 * ("cannot execute add_node() during recovery", "... in a read-only
 * transaction"), not with those of their internal statements.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "core/guards.h"
#include "registry/conninfo.h"
#include "registry/self_address.h"
#include "registry/registry.h"

/* third field of the lock tag of a node name (see check_name_free) */
#define NODE_NAME_LOCK_MAGIC 0x466f7265	/* "Fore" */

/* lowercase letter or underscore, then lowercase letters, digits, _ (and - if allowed) */
bool
registry_simple_name(const char *name, bool allow_dash)
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
	if (!registry_simple_name(name, false))
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
	if (!registry_simple_name(region, true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid region \"%s\"", region),
				 errdetail("A region starts with a lowercase letter or an underscore, has only lowercase letters, digits, underscores and hyphens, and is at most %d characters long.",
						   NAMEDATALEN - 1)));
}

static void
validate_kind(const char *kind)
{
	if (strcmp(kind, "standby") != 0 && strcmp(kind, "replica") != 0 &&
		strcmp(kind, "primary") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid node kind \"%s\"", kind),
				 errhint("Valid kinds are \"standby\" (a physical streaming standby of this coordinator, the kind that takes routed queries), \"replica\" (any other replica with the same data: monitored, never routed to) and \"primary\" (this coordinator as its standbys reach it, for the standbys' own routing).")));
}

/*
 * A node of kind "primary" names this coordinator on purpose: the standbys
 * route to it through that conninfo, and here it is the node "local".
 * Any other kind must not name this server (self_address.h).
 */
static void
refuse_self_unless_primary(const char *conninfo, const char *kind)
{
	if (kind == NULL || strcmp(kind, "primary") != 0)
		conninfo_refuse_self(conninfo);
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
				 errmsg("node weight %s is out of range", double_to_shortest_decimal(weight)),
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

/*
 * First of all in the functions that change nodes: on a standby or in a
 * read-only transaction, PostgreSQL's own errors (guards.h), before any
 * statement of theirs runs.
 */
static void
require_writable(const char *cmdname)
{
	foresight_require_writable(cmdname,
							   "Nodes are managed on the primary; its registry replicates to the standbys.");
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

/*
 * Raise duplicate_object if a node other than exclude_id (0: none) is
 * named name, so that the unique index never has to say it.  The caller
 * is connected to SPI.
 *
 * The check sees what the unique index would: rows inserted earlier by the
 * same statement (two add_node calls in one SELECT; SPI runs the query
 * with a new command id), and under REPEATABLE READ or SERIALIZABLE the
 * rows other transactions committed after the snapshot was taken (read
 * with the latest snapshot, as a foreign key check does).  A transaction
 * lock on the name (an advisory lock tag of class 3, which PostgreSQL's
 * own advisory lock functions never use) makes a second writer of the same
 * name wait until the first one commits or aborts, so that plain INSERTs
 * racing each other get this error too, not the index's.
 */
static void
check_name_free(const char *name, int32 exclude_id)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	LOCKTAG		tag;
	int			rc;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId,
						 (uint32) hash_bytes((const unsigned char *) name, strlen(name)),
						 NODE_NAME_LOCK_MAGIC, 3);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);

	if (plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("SELECT 1 FROM foresight.node "
									"WHERE node_name OPERATOR(pg_catalog.=) $1 "
									"AND node_id OPERATOR(pg_catalog.<>) $2",
									2, argtypes);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare the node name check");
		plan = p;
	}
	values[0] = CStringGetTextDatum(name);
	values[1] = Int32GetDatum(exclude_id);
	rc = SPI_execute_snapshot(plan, values, NULL,
							  IsolationUsesXactSnapshot() ? GetLatestSnapshot() : InvalidSnapshot,
							  InvalidSnapshot, false, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read foresight.node");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("node \"%s\" already exists", name)));
}

PG_FUNCTION_INFO_V1(foresight_add_node);

Datum
foresight_add_node(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *conninfo;
	char	   *region;
	char	   *kind;
	double		weight;
	Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID};
	Datum		values[5];
	bool		isnull;
	int32		node_id;

	require_writable("add_node()");
	name = foresight_required_text_arg(fcinfo, 0, "node_name");
	conninfo = foresight_required_text_arg(fcinfo, 1, "conninfo");
	region = foresight_required_text_arg(fcinfo, 2, "region");
	kind = foresight_required_text_arg(fcinfo, 3, "kind");
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
	refuse_self_unless_primary(conninfo, kind);

	check_name_free(name, 0);

	values[0] = CStringGetTextDatum(name);
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
	char	   *name;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];

	require_writable("remove_node()");
	name = foresight_required_text_arg(fcinfo, 0, "node_name");
	reject_local(name, "remove", NULL);
	begin_registry_change();

	values[0] = CStringGetTextDatum(name);
	if (SPI_execute_with_args("DELETE FROM foresight.node WHERE node_name OPERATOR(pg_catalog.=) $1",
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
	char	   *name;
	Oid			argtypes[5] = {TEXTOID, TEXTOID, FLOAT8OID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', 'n', 'n', 'n', 'n'};
	bool		any = false;

	require_writable("alter_node()");
	name = foresight_required_text_arg(fcinfo, 0, "node_name");
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
	if (!PG_ARGISNULL(4))
	{
		Oid			kind_argtypes[1] = {TEXTOID};
		char	   *kind = NULL;

		if (SPI_execute_with_args("SELECT kind FROM foresight.node WHERE node_name OPERATOR(pg_catalog.=) $1",
								  1, kind_argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not read foresight.node");
		if (SPI_processed == 1)
			kind = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		refuse_self_unless_primary(text_to_cstring(PG_GETARG_TEXT_PP(4)), kind);
	}

	if (SPI_execute_with_args("UPDATE foresight.node SET "
							  "state = coalesce($2, state), weight = coalesce($3, weight), "
							  "region = coalesce($4, region), conninfo = coalesce($5, conninfo) "
							  "WHERE node_name OPERATOR(pg_catalog.=) $1",
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
			values[2] = CStringGetTextDatum(conninfo_mask_secrets(node->conninfo));
		values[3] = CStringGetTextDatum(node->region);
		values[4] = CStringGetTextDatum(registry_kind_name(node->kind));
		values[5] = Float8GetDatum(node->weight);
		values[6] = CStringGetTextDatum(registry_state_name(node->state));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* a text column of the row, or NULL */
static char *
row_text(HeapTuple tuple, TupleDesc desc, const char *column)
{
	int			attnum = SPI_fnumber(desc, column);
	bool		isnull;
	Datum		d;

	if (attnum <= 0)
		elog(ERROR, "foresight.node has no column \"%s\"", column);
	d = heap_getattr(tuple, attnum, desc, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

PG_FUNCTION_INFO_V1(foresight_node_check);

/*
 * BEFORE INSERT OR UPDATE row trigger of foresight.node: the checks of
 * add_node and alter_node for plain DML.  node_id must be positive (0 is
 * the built-in node "local"); the name, region, kind, weight and state
 * follow the functions' rules; a new or changed conninfo is validated for
 * the current user (conninfo_validate: libpq's judgement of every value,
 * no session keywords, superuser-only options); a new or changed name must
 * be free.  An unchanged conninfo is not checked again, so that a node a
 * superuser set up with superuser-only options can still be drained or
 * reweighted by foresight_admin.  NULLs are left to the NOT NULL
 * constraints.
 */
Datum
foresight_node_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	newtuple;
	HeapTuple	oldtuple = NULL;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;
	char	   *name;
	char	   *conninfo;
	char	   *value;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("foresight.node_check() must be called as a BEFORE INSERT OR UPDATE row trigger")));

	desc = RelationGetDescr(trigdata->tg_relation);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		oldtuple = trigdata->tg_trigtuple;
		newtuple = trigdata->tg_newtuple;
	}
	else
		newtuple = trigdata->tg_trigtuple;

	d = heap_getattr(newtuple, SPI_fnumber(desc, "node_id"), desc, &isnull);
	if (!isnull && DatumGetInt32(d) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("invalid node_id %d", DatumGetInt32(d)),
				 errdetail("node_id 0 is the built-in node \"%s\"; registered nodes have positive ids.",
						   FORESIGHT_LOCAL_NODE_NAME),
				 errhint("Leave node_id out: it is generated.")));

	if ((name = row_text(newtuple, desc, "node_name")) != NULL)
		validate_node_name(name);
	if ((value = row_text(newtuple, desc, "region")) != NULL)
		validate_region(value);
	if ((value = row_text(newtuple, desc, "kind")) != NULL)
		validate_kind(value);
	if ((value = row_text(newtuple, desc, "state")) != NULL)
		validate_state(value);
	d = heap_getattr(newtuple, SPI_fnumber(desc, "weight"), desc, &isnull);
	if (!isnull)
		validate_weight(DatumGetFloat8(d));

	conninfo = row_text(newtuple, desc, "conninfo");
	if (conninfo != NULL)
	{
		char	   *old = oldtuple ? row_text(oldtuple, desc, "conninfo") : NULL;

		if (old == NULL || strcmp(old, conninfo) != 0)
		{
			validate_conninfo(conninfo);
			refuse_self_unless_primary(conninfo, row_text(newtuple, desc, "kind"));
		}
	}

	if (name != NULL)
	{
		char	   *old = oldtuple ? row_text(oldtuple, desc, "node_name") : NULL;

		if (old == NULL || strcmp(old, name) != 0)
		{
			d = heap_getattr(newtuple, SPI_fnumber(desc, "node_id"), desc, &isnull);
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			check_name_free(name, isnull ? 0 : DatumGetInt32(d));
			SPI_finish();
		}
	}

	return PointerGetDatum(newtuple);
}
