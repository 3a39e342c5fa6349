/*-------------------------------------------------------------------------
 *
 * split_build.h
 *	  Building a split query's parts and its combine step, once
 *	  split_plan.c has chosen the split relation, key and strategy.
 *
 *	split_parts.c	  each part: the query with its range condition, adapted
 *					  to the strategy (partial aggregates, LIMIT n + m, ...)
 *	split_combine.c   the query that makes the answer from the union of the
 *					  parts (SPLIT_PARTS_RELATION), and what it needs to know
 *					  about the query's upper expressions
 *	split_describe.c  the combine step in words
 *	split_deparse.c   SQL text of parts, combine step and conditions
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SPLIT_BUILD_H
#define FORESIGHT_SPLIT_BUILD_H

#include "postgres.h"

#include "nodes/bitmapset.h"
#include "nodes/parsenodes.h"

#include "split/split.h"

typedef struct SplitShape
{
	Query	   *query;			/* the query being split (never modified) */
	Var		   *top_key;		/* the key as a column of the top query, or NULL */

	/* SPLIT_PARTIAL_AGGREGATES: the parts' columns, in this order */
	List	   *group_tles;		/* TargetEntry * of query, groupClause order */
	List	   *dependent_vars; /* Var * selected ungrouped (functionally dependent) */
	List	   *aggrefs;		/* distinct Aggref * of the select list and HAVING */

	/* the extension's aggregates, found by split_plan.c */
	Oid			partial_agg_noargs; /* foresight.partial_agg(regprocedure) */
	Oid			partial_agg;	/* foresight.partial_agg(regprocedure, VARIADIC "any") */
	Oid			finalize_agg;	/* foresight.finalize_agg(regprocedure, bytea, anyelement) */
	Oid			combine_results;	/* foresight.combine_results(regprocedure,
									 * anyelement), InvalidOid before 0.9 */
	/*
	 * Indexes in aggrefs of the aggregates the parts run as they are (their
	 * result is their state, partial_agg_native): combined here by
	 * foresight.combine_results, not through partial_agg and finalize_agg.
	 * Decided once by split_plan.c (foresight.split_native_aggregates).
	 */
	Bitmapset  *native_aggs;

	/*
	 * Indexes in aggrefs of the aggregates whose state the parts compute
	 * from count and sum (partial_agg_count_sum: avg of int2 and int4):
	 * combined here by foresight.combine_results, then the aggregate's
	 * final function.  Decided with native_aggs.
	 */
	Bitmapset  *count_sum_aggs;
} SplitShape;

/* the name of the parts' column n (1-based) */
extern char *split_column_name(int n);

/* split_combine.c */
extern const char *split_collect_upper(SplitShape *shape);
extern Query *split_build_combine(SplitShape *shape, SplitPlan *plan);

/* what a part reads of the split relation */
typedef enum SplitRange
{
	SPLIT_RANGE_KEY,			/* its key range */
	SPLIT_RANGE_BLOCKS,			/* its block range (split_blocks.h) */
	SPLIT_RANGE_NONE			/* all of it: what one part would cost */
} SplitRange;

/* split_parts.c */
extern Query *split_build_part(SplitShape *shape, SplitPlan *plan, int part, SplitRange range);
/* does a part (rows, whole groups) show this select-list entry of the query? */
extern bool split_part_shows(Query *query, TargetEntry *tle);

/* split_describe.c */
extern char *split_describe_combine(SplitShape *shape, SplitPlan *plan);

/* split_deparse.c */
extern char *split_deparse_query(Query *query);
extern char *split_deparse_condition(const SplitKey *key, List *cut_points, int part);
/* a condition on the columns of table relid alone (range table index 1) */
extern char *split_deparse_table_condition(Node *cond, Oid relid);
extern char *split_deparse_value(Const *value);

#endif							/* FORESIGHT_SPLIT_BUILD_H */
