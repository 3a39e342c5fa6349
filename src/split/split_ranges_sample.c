/*-------------------------------------------------------------------------
 *
 * split_ranges_sample.c
 *	  Cut points of the split key of a small table that has no statistics
 *	  (never analysed): read from the table itself.
 *
 * A table loaded a moment ago has no statistics until autovacuum or an
 * ANALYZE gets to it.  When it is small (at most SAMPLE_MAX_BLOCKS
 * blocks, 8 MB with the default block size), its key's quantiles are
 * read with percentile_disc over the key, under the key's collation and
 * ordered by its comparison type's default btree order (the order the
 * parts' conditions use), as the session's role: one pass over at most
 * 8 MB, during planning.  Larger tables, partitioned ones (which have no
 * blocks of their own) and empty ones keep one part.  Like statistics,
 * the values only decide how even the parts are: the conditions partition
 * the key's domain whatever the cut points (split_ranges.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "split/split_ranges.h"

#define SAMPLE_MAX_BLOCKS 1024

List *
split_ranges_from_table(const SplitKey *key, int nparts)
{
	Relation	rel;
	BlockNumber blocks;
	StringInfoData sql;
	Datum		array = (Datum) 0;
	bool		isnull = true;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *values;
	bool	   *nulls;
	int			nvalues;
	FmgrInfo	cmp;
	List	   *cuts = NIL;
	Datum		last = (Datum) 0;
	MemoryContext outer = CurrentMemoryContext;

	if (nparts <= 1)
		return NIL;
	rel = table_open(key->relid, AccessShareLock);
	blocks = (rel->rd_rel->relkind == RELKIND_RELATION ||
			  rel->rd_rel->relkind == RELKIND_MATVIEW) ?
		RelationGetNumberOfBlocks(rel) : InvalidBlockNumber;
	table_close(rel, AccessShareLock);
	if (blocks == InvalidBlockNumber || blocks == 0 || blocks > SAMPLE_MAX_BLOCKS)
		return NIL;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT pg_catalog.percentile_disc(ARRAY[");
	for (int i = 1; i < nparts; i++)
		appendStringInfo(&sql, "%s%d::pg_catalog.float8 OPERATOR(pg_catalog./) %d",
						 i > 1 ? ", " : "", i, nparts);
	appendStringInfo(&sql, "]) WITHIN GROUP (ORDER BY %s::%s",
					 quote_identifier(key->attname), format_type_be_qualified(key->cmptype));
	if (OidIsValid(key->collation))
		appendStringInfo(&sql, " COLLATE %s", generate_collation_name(key->collation));
	appendStringInfo(&sql, ") FROM ONLY %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(key->relid)),
												get_rel_name(key->relid)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql.data, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		array = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
			array = SPI_datumTransfer(array, false, -1);
	}
	SPI_finish();
	MemoryContextSwitchTo(outer);
	if (isnull)
		return NIL;				/* no rows, or only NULL keys */

	get_typlenbyvalalign(key->cmptype, &typlen, &typbyval, &typalign);
	deconstruct_array(DatumGetArrayTypeP(array), key->cmptype, typlen, typbyval, typalign,
					  &values, &nulls, &nvalues);
	fmgr_info(key->cmp_proc, &cmp);
	for (int i = 0; i < nvalues; i++)
	{
		if (nulls[i])
			continue;
		/* strictly increasing: equal quantiles (a value many rows share) merge */
		if (cuts != NIL &&
			DatumGetInt32(FunctionCall2Coll(&cmp, key->collation, last, values[i])) >= 0)
			continue;
		cuts = lappend(cuts, makeConst(key->cmptype, -1, key->collation, typlen,
									   datumCopy(values[i], typbyval, typlen),
									   false, typbyval));
		last = values[i];
	}
	return cuts;
}
