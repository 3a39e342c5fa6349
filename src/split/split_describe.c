/*-------------------------------------------------------------------------
 *
 * split_describe.c
 *	  The combine step of a split query in words, for
 *	  foresight.split_explain: what each part does beyond its range, and
 *	  what the coordinator does with the parts' rows, including, for each
 *	  aggregate, the functions that combine and finalise its states.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "split/split_build.h"

/* "c2 DESC NULLS LAST, c1" for a list of SortGroupClause over a part's select list */
static void
describe_columns(StringInfo buf, List *clauses, List *tlist)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		TargetEntry *tle = get_sortgroupclause_tle(sgc, tlist);
		char	   *opname = get_opname(sgc->sortop);

		appendStringInfo(buf, "%s%s", foreach_current_index(lc) > 0 ? ", " : "", tle->resname);
		if (opname != NULL && strcmp(opname, ">") == 0)
			appendStringInfoString(buf, " DESC");
		else if (opname != NULL && strcmp(opname, "<") != 0)
			appendStringInfo(buf, " USING %s", opname);
		if (sgc->nulls_first != (opname != NULL && strcmp(opname, ">") == 0))
			appendStringInfoString(buf, sgc->nulls_first ? " NULLS FIRST" : " NULLS LAST");
	}
}

static const char *
function_name(Oid fn)
{
	return OidIsValid(fn) ? format_procedure(fn) : "-";
}

static void
describe_aggregate(StringInfo buf, Aggref *aggref, int column, const char *how)
{
	HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	Form_pg_aggregate agg;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for aggregate %u", aggref->aggfnoid);
	agg = (Form_pg_aggregate) GETSTRUCT(tup);
	appendStringInfo(buf, "\n  %s = %s%s: state %s, combine %s",
					 split_column_name(column), format_procedure(aggref->aggfnoid),
					 aggref->aggdistinct ? " DISTINCT (over the split key)" : "",
					 format_type_be(agg->aggtranstype), function_name(agg->aggcombinefn));
	if (OidIsValid(agg->aggserialfn))
		appendStringInfo(buf, ", serialize %s, deserialize %s",
						 function_name(agg->aggserialfn), function_name(agg->aggdeserialfn));
	appendStringInfo(buf, ", final %s", function_name(agg->aggfinalfn));
	if (how != NULL)
		appendStringInfo(buf, ", %s", how);
	if (aggref->aggfilter != NULL)
		appendStringInfoString(buf, ", FILTER in the parts");
	ReleaseSysCache(tup);
}

/* what the query does after grouping, as a list of clause names */
static void
describe_upper(StringInfo buf, Query *query, bool with_having)
{
	const char *sep = "";

#define CLAUSE(cond, text) \
	do { if (cond) { appendStringInfo(buf, "%s%s", sep, (text)); sep = ", "; } } while (0)
	CLAUSE(with_having && query->havingQual != NULL, "HAVING");
	CLAUSE(with_having && query->hasWindowFuncs, "window functions");
	CLAUSE(query->distinctClause != NIL, query->hasDistinctOn ? "DISTINCT ON" : "DISTINCT");
	CLAUSE(with_having && query->sortClause != NIL, "ORDER BY");
	CLAUSE(query->limitOffset != NULL, "OFFSET");
	CLAUSE(query->limitCount != NULL,
		   query->limitOption == LIMIT_OPTION_WITH_TIES ? "FETCH FIRST ... WITH TIES" : "LIMIT");
#undef CLAUSE
}

char *
split_describe_combine(SplitShape *shape, SplitPlan *plan)
{
	Query	   *query = shape->query;
	Query	   *part = linitial_node(Query, plan->part_queries);
	StringInfoData buf;
	ListCell   *lc;
	int			nnative = bms_num_members(shape->native_aggs);
	int			ncount_sum = bms_num_members(shape->count_sum_aggs);
	int			ngeneric = list_length(shape->aggrefs) - nnative - ncount_sum;

	initStringInfo(&buf);
	appendStringInfo(&buf, "strategy: %s", split_strategy_name(plan->strategy));

	if (plan->strategy != SPLIT_PARTIAL_AGGREGATES)
	{
		appendStringInfoString(&buf, "\nparts: the query on their range");
		if (plan->strategy == SPLIT_WHOLE_GROUPS)
			appendStringInfoString(&buf, ", grouped by the split key (every group is whole in one part)");
		if (query->sortClause != NIL)
		{
			appendStringInfoString(&buf, ", sorted by ");
			describe_columns(&buf, query->sortClause, part->targetList);
		}
		if (plan->part_limit >= 0)
			appendStringInfo(&buf, ", LIMIT " INT64_FORMAT, plan->part_limit);
		appendStringInfoString(&buf, "\ncombine: concatenate");
		if (query->sortClause != NIL)
		{
			appendStringInfoString(&buf, ", merging the sorted parts on ");
			describe_columns(&buf, query->sortClause, part->targetList);
		}
		if (query->distinctClause != NIL || query->limitCount || query->limitOffset)
		{
			appendStringInfoString(&buf, "; then ");
			describe_upper(&buf, query, false);
		}
		return buf.data;
	}

	appendStringInfoString(&buf, "\nparts: ");
	if (shape->group_tles != NIL)
	{
		appendStringInfoString(&buf, "GROUP BY ");
		for (int i = 1; i <= list_length(shape->group_tles); i++)
			appendStringInfo(&buf, "%s%s", i > 1 ? ", " : "", split_column_name(i));
		appendStringInfoString(&buf, ", ");
	}
	if (ngeneric > 0)
		appendStringInfo(&buf, "the partial state of %d aggregate%s (foresight.partial_agg)%s",
						 ngeneric, ngeneric == 1 ? "" : "s",
						 nnative + ncount_sum > 0 ? ", " : "");
	if (nnative > 0)
		appendStringInfo(&buf, "%d aggregate%s whose result is %s state%s",
						 nnative, nnative == 1 ? "" : "s", nnative == 1 ? "its" : "their",
						 ncount_sum > 0 ? ", " : "");
	if (ncount_sum > 0)
		appendStringInfo(&buf, "the state of %d aggregate%s from count and sum",
						 ncount_sum, ncount_sum == 1 ? "" : "s");
	appendStringInfoString(&buf, "\ncombine: ");
	if (shape->group_tles != NIL)
	{
		appendStringInfoString(&buf, "GROUP BY ");
		for (int i = 1; i <= list_length(shape->group_tles); i++)
			appendStringInfo(&buf, "%s%s", i > 1 ? ", " : "", split_column_name(i));
		foreach(lc, shape->dependent_vars)
			appendStringInfo(&buf, ", %s (functionally dependent)",
							 split_column_name(list_length(shape->group_tles) +
											   foreach_current_index(lc) + 1));
	}
	else
		appendStringInfoString(&buf, "one group");
	appendStringInfoString(&buf, ", ");
	if (ngeneric > 0)
		appendStringInfo(&buf, "foresight.finalize_agg of each state%s",
						 nnative + ncount_sum > 0 ? ", " : "");
	if (nnative > 0)
		appendStringInfo(&buf, "foresight.combine_results of each result%s",
						 ncount_sum > 0 ? ", " : "");
	if (ncount_sum > 0)
		appendStringInfoString(&buf, "the final function of foresight.combine_results of each count and sum");
	appendStringInfoChar(&buf, ':');
	foreach(lc, shape->aggrefs)
	{
		int			i = foreach_current_index(lc);

		describe_aggregate(&buf, lfirst_node(Aggref, lc),
						   list_length(shape->group_tles) + list_length(shape->dependent_vars) + i + 1,
						   bms_is_member(i, shape->native_aggs) ? "run as it is in the parts" :
						   bms_is_member(i, shape->count_sum_aggs) ?
						   "its state ARRAY[count, sum] computed in the parts" : NULL);
	}
	if (query->havingQual || query->hasWindowFuncs || query->distinctClause ||
		query->sortClause || query->limitCount || query->limitOffset)
	{
		appendStringInfoString(&buf, "\nthen: ");
		describe_upper(&buf, query, true);
		appendStringInfoString(&buf, " (combine_sql)");
	}
	return buf.data;
}
