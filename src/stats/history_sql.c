/*-------------------------------------------------------------------------
 *
 * history_sql.c
 *	  SQL access to the history rings: foresight.node_metrics_latest()
 *	  (behind the view foresight.node_metrics) and
 *	  foresight.metrics_history(node, since).
 *
 * The output columns are matched to sample fields by name (the SQL
 * declaration lists them, history.h defines them), so the order in SQL is
 * free; a few columns (node_id, node_name, age) are not sample fields.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "registry/registry.h"
#include "stats/history.h"

PG_FUNCTION_INFO_V1(foresight_node_metrics_latest);
PG_FUNCTION_INFO_V1(foresight_metrics_history);

#define COL_NODE_ID		(-1)
#define COL_NODE_NAME	(-2)
#define COL_AGE			(-3)
#define COL_UNKNOWN		(-4)

/* For each output column, the sample field index or a COL_* code. */
static int *
map_columns(TupleDesc tupdesc)
{
	int		   *map = palloc(sizeof(int) * tupdesc->natts);

	for (int i = 0; i < tupdesc->natts; i++)
	{
		const char *name = NameStr(TupleDescAttr(tupdesc, i)->attname);

		map[i] = COL_UNKNOWN;
		if (strcmp(name, "node_id") == 0)
			map[i] = COL_NODE_ID;
		else if (strcmp(name, "node_name") == 0)
			map[i] = COL_NODE_NAME;
		else if (strcmp(name, "age") == 0)
			map[i] = COL_AGE;
		else
			for (int f = 0; f < history_field_count; f++)
				if (strcmp(history_fields[f].name, name) == 0)
					map[i] = f;
		if (map[i] == COL_UNKNOWN)
			elog(ERROR, "unknown metrics column \"%s\"", name);
	}
	return map;
}

static const char *
source_name(int8 source)
{
	switch (source)
	{
		case SAMPLE_SOURCE_LOCAL:
			return "local";
		case SAMPLE_SOURCE_EXTENSION:
			return "extension";
		case SAMPLE_SOURCE_SQL:
			return "sql";
		default:
			return NULL;
	}
}

static void
put_row(Tuplestorestate *store, TupleDesc tupdesc, const int *map,
		const ForesightNode *node, const MetricSample *sample, TimestampTz now,
		MemoryContext row_context)
{
	MemoryContext old_context = MemoryContextSwitchTo(row_context);
	Datum	   *values = palloc(sizeof(Datum) * tupdesc->natts);
	bool	   *nulls = palloc(sizeof(bool) * tupdesc->natts);

	for (int i = 0; i < tupdesc->natts; i++)
	{
		const SampleField *f;
		const char *p;

		nulls[i] = false;
		switch (map[i])
		{
			case COL_NODE_ID:
				values[i] = Int32GetDatum(node->node_id);
				continue;
			case COL_NODE_NAME:
				values[i] = CStringGetTextDatum(node->name);
				continue;
			case COL_AGE:
				if (sample == NULL || sample->sampled_at == 0)
					nulls[i] = true;
				else
				{
					Interval   *iv = palloc0(sizeof(Interval));

					iv->time = now - sample->sampled_at;
					values[i] = IntervalPGetDatum(iv);
				}
				continue;
		}
		f = &history_fields[map[i]];
		if (sample == NULL || !history_field_present(sample, f))
		{
			nulls[i] = true;
			continue;
		}
		p = (const char *) sample + f->offset;
		switch (f->kind)
		{
			case SF_FLOAT:
				values[i] = Float8GetDatum((float8) *(const float4 *) p);
				break;
			case SF_INT32:
				values[i] = Int32GetDatum(*(const int32 *) p);
				break;
			case SF_INT64:
				values[i] = Int64GetDatum(*(const int64 *) p);
				break;
			case SF_LSN:
				values[i] = LSNGetDatum(*(const XLogRecPtr *) p);
				break;
			case SF_TIME:
				values[i] = TimestampTzGetDatum(*(const TimestampTz *) p);
				break;
			case SF_BOOL:
				values[i] = BoolGetDatum(*(const int8 *) p != 0);
				break;
			case SF_SOURCE:
				{
					const char *name = source_name(*(const int8 *) p);

					if (name)
						values[i] = CStringGetTextDatum(name);
					else
						nulls[i] = true;
					break;
				}
		}
	}
	tuplestore_putvalues(store, tupdesc, values, nulls);
	MemoryContextSwitchTo(old_context);
	MemoryContextReset(row_context);
}

/*
 * The context put_row makes each row's values in, reset once the
 * tuplestore has copied them: reading a ring of up to a million samples
 * costs its copy and the tuplestore (which spills past work_mem), not also
 * every row's values.
 */
static MemoryContext
row_context_create(void)
{
	return AllocSetContextCreate(CurrentMemoryContext, "metrics row", ALLOCSET_SMALL_SIZES);
}

/* One row per node: its newest sample (NULLs when it has none yet). */
Datum
foresight_node_metrics_latest(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForesightNode *nodes;
	int			n;
	int		   *map;
	MemoryContext row_context;
	TimestampTz now = GetCurrentTimestamp();

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	map = map_columns(rsinfo->setDesc);
	row_context = row_context_create();

	nodes = registry_snapshot_palloc(&n);
	for (int i = 0; i < n; i++)
	{
		MetricSample sample;
		bool		found = history_latest(nodes[i].slot, nodes[i].node_id, &sample);

		put_row(rsinfo->setResult, rsinfo->setDesc, map, &nodes[i],
				found ? &sample : NULL, now, row_context);
	}
	return (Datum) 0;
}

/* The ring of one node as rows, oldest first, sampled at or after now - since. */
Datum
foresight_metrics_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForesightNode node;
	char	   *name;
	TimestampTz since = 0;
	TimestampTz now = GetCurrentTimestamp();
	MetricSample *samples;
	int			n;
	int		   *map;
	MemoryContext row_context;

	foresight_require_shmem();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("node name must not be null")));
	name = pstrdup(NameStr(*PG_GETARG_NAME(0)));
	if (!registry_lookup(name, &node))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("node \"%s\" does not exist", name),
				 errhint("The nodes are listed in foresight.nodes.")));
	if (!PG_ARGISNULL(1))
	{
		Interval   *iv = PG_GETARG_INTERVAL_P(1);

		since = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
														TimestampTzGetDatum(now),
														IntervalPGetDatum(iv)));
	}

	InitMaterializedSRF(fcinfo, 0);
	map = map_columns(rsinfo->setDesc);
	row_context = row_context_create();
	samples = palloc(sizeof(MetricSample) * foresight_history_size);
	n = history_copy(node.slot, node.node_id, since, samples);
	for (int i = 0; i < n; i++)
		put_row(rsinfo->setResult, rsinfo->setDesc, map, &node, &samples[i], now, row_context);
	return (Datum) 0;
}
