/*-------------------------------------------------------------------------
 *
 * split_sql.c
 *	  SQL functions of dynamic sharding: foresight.split_explain(sql, parts)
 *	  and foresight.set_split_key(relation, column).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "core/guards.h"
#include "split/split.h"
#include "split/split_build.h"
#include "split/split_key.h"

PG_FUNCTION_INFO_V1(foresight_split_explain);
PG_FUNCTION_INFO_V1(foresight_set_split_key);

#define SPLIT_EXPLAIN_COLUMNS 15

static Datum
text_array(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(1, list_length(strings)));
	ListCell   *lc;

	foreach(lc, strings)
		elems[foreach_current_index(lc)] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, list_length(strings), TEXTOID, -1, false,
										   TYPALIGN_INT));
}

static List *
cut_point_texts(List *cut_points)
{
	List	   *texts = NIL;
	ListCell   *lc;

	foreach(lc, cut_points)
		texts = lappend(texts, split_deparse_value(lfirst_node(Const, lc)));
	return texts;
}

/*
 * split_explain(sql text, parts integer DEFAULT 2): plan the statement as
 * a client's would be planned, check that the caller may run it (as
 * route_explain does, before anything is computed from the plan), and
 * describe how it would be split into at most `parts` parts under the
 * session's settings, without running anything.
 */
Datum
foresight_split_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *sql;
	int			nparts;
	List	   *raw;
	List	   *queries;
	Query	   *query;
	PlannedStmt *stmt;
	SplitPlan  *plan;
	Datum		values[SPLIT_EXPLAIN_COLUMNS];
	bool		nulls[SPLIT_EXPLAIN_COLUMNS];

	foresight_require_shmem();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the statement must not be null")));
	sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	nparts = PG_ARGISNULL(1) ? 2 : PG_GETARG_INT32(1);
	if (nparts < 1 || nparts > foresight_max_split_parts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parts must be between 1 and foresight.max_split_parts (%d)",
						foresight_max_split_parts)));
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, SPLIT_EXPLAIN_COLUMNS);

	raw = pg_parse_query(sql);
	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("split_explain expects exactly one statement")));
	queries = pg_analyze_and_rewrite_fixedparams(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);

	memset(nulls, true, sizeof(nulls));
	values[0] = BoolGetDatum(false);
	nulls[0] = false;
	if (list_length(queries) != 1 ||
		(query = linitial_node(Query, queries))->commandType == CMD_UTILITY)
	{
		values[1] = CStringGetTextDatum("not a plain statement");
		nulls[1] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		return (Datum) 0;
	}

	/* the planner scribbles on its input: split a copy */
	query = copyObject(query);
	stmt = pg_plan_query(linitial_node(Query, queries), sql, CURSOR_OPT_PARALLEL_OK, NULL);
	(void) ExecCheckRTPerms(stmt->rtable, true);
	plan = split_plan_query(query, stmt, nparts, true);

	values[0] = BoolGetDatum(plan->splittable);
	if (plan->reason)
	{
		values[1] = CStringGetTextDatum(plan->reason);
		nulls[1] = false;
	}
	if (OidIsValid(plan->relid))
	{
		values[2] = ObjectIdGetDatum(plan->relid);
		values[3] = CStringGetDatum(plan->key.attname);
		values[4] = CStringGetTextDatum(plan->key.source);
		values[5] = ObjectIdGetDatum(plan->key.atttype);
		nulls[2] = nulls[3] = nulls[4] = nulls[5] = false;
		if (OidIsValid(plan->key.collation))
		{
			values[6] = ObjectIdGetDatum(plan->key.collation);
			nulls[6] = false;
		}
	}
	values[7] = CStringGetTextDatum(split_strategy_name(plan->strategy));
	values[8] = Float8GetDatum(plan->cost);
	nulls[7] = nulls[8] = false;
	if (plan->splittable)
	{
		values[9] = Int32GetDatum(plan->nparts);
		values[10] = text_array(cut_point_texts(plan->cut_points));
		values[11] = text_array(plan->part_conditions);
		values[12] = text_array(plan->part_sql);
		values[13] = CStringGetTextDatum(plan->combine_description);
		values[14] = CStringGetTextDatum(plan->combine_sql);
		for (int i = 9; i <= 14; i++)
			nulls[i] = false;
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/* "the column was dropped" → "The column was dropped." */
static char *
sentence(const char *phrase)
{
	char	   *s = psprintf("%s.", phrase);

	s[0] = pg_toupper((unsigned char) s[0]);
	return s;
}

/*
 * set_split_key(relation regclass, column_name name): declare the column
 * a table's reads are split on; a NULL column removes the declaration.
 * Superusers and members of foresight_admin.  The table's relcache entry
 * is invalidated, so that cached plans that split its reads are made again
 * with the new key in every session.
 */
Datum
foresight_set_split_key(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char		relkind;
	char	   *column;
	AttrNumber	attnum;
	SplitKey	key;
	const char *why;
	Oid			argtypes[2] = {OIDOID, NAMEOID};
	Datum		args[2];

	/* before any statement of its own: PostgreSQL's errors (guards.h) */
	foresight_require_writable("set_split_key()",
							   "Split keys are declared on the primary; the table foresight.split_key replicates to the standbys.");
	foresight_require_admin("declare split keys");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the relation must not be null")));
	relid = PG_GETARG_OID(0);
	relkind = get_rel_relkind(relid);
	/* an OID given as a number need not name a relation at all */
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table or materialized view",
						get_rel_name(relid))));
	if (get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("temporary table \"%s\" cannot have a split key", get_rel_name(relid)),
				 errdetail("Its rows exist only in this session, never on a node.")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = ObjectIdGetDatum(relid);
	if (PG_ARGISNULL(1))
	{
		if (SPI_execute_with_args("DELETE FROM foresight.split_key WHERE relid OPERATOR(pg_catalog.=) $1",
								  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not remove the split key");
		SPI_finish();
		/* plans split on the old key are made again (plancache.c) */
		CacheInvalidateRelcacheByRelid(relid);
		PG_RETURN_VOID();
	}

	column = NameStr(*PG_GETARG_NAME(1));
	attnum = get_attnum(relid, column);
	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						column, get_rel_name(relid))));
	if (!split_key_describe(relid, attnum, &key, &why))
		ereport(ERROR,
				(errcode(attnum > 0 && key.attname && strncmp(why, "type ", 5) == 0 ?
						 ERRCODE_DATATYPE_MISMATCH : ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" of relation \"%s\" cannot be a split key",
						column, get_rel_name(relid)),
				 errdetail("%s", sentence(why)),
				 errhint("A split key is a column of a type with a total btree order whose values read back exactly.")));

	args[1] = PG_GETARG_DATUM(1);
	if (SPI_execute_with_args("INSERT INTO foresight.split_key (relid, column_name) VALUES ($1, $2) "
							  "ON CONFLICT (relid) DO UPDATE SET column_name = EXCLUDED.column_name",
							  2, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store the split key");
	SPI_finish();
	/* plans split on the old key are made again (plancache.c) */
	CacheInvalidateRelcacheByRelid(relid);
	PG_RETURN_VOID();
}
