/*-------------------------------------------------------------------------
 *
 * split_parts.c
 *	  One part of a split query: a copy of the query with the part's range
 *	  condition on the split key, adapted to the strategy.
 *
 * The condition is ANDed to the WHERE clause of the query level whose
 * FROM list holds the split relation (the top query, or a sub-query or
 * WITH query on the way to it, split_target.c), so it restricts exactly
 * the rows that come from the part's range: of the key, or of the
 * table's blocks (split_blocks.h; the same parts otherwise).
 *
 * Rows and whole groups (split_plan.c chose them): the part is the query
 * itself, the columns it computes visible (the sort keys the combine step
 * merges on included; not under a plain DISTINCT, split_part_shows()),
 * named c1, c2, ...; sorted, deduplicated and grouped
 * as the query is; "LIMIT n OFFSET m" becomes "LIMIT n + m" (any row among
 * the first n + m of the whole answer is among the first n + m of its
 * part: the part's rows are a subset in the same order).
 *
 * Partial aggregates: the part selects the GROUP BY expressions, the
 * columns selected ungrouped (functionally dependent on them), and for
 * each aggregate foresight.partial_agg(aggregate, arguments) with the
 * aggregate's FILTER and DISTINCT (DISTINCT only over the split key, whose
 * values are in one part each), or the aggregate itself where its result
 * is its state (no final function, a state type that is not internal:
 * count, sum of integers, min, max...; with the extension at 0.9 or
 * later), which PostgreSQL computes faster than the generic wrapper;
 * GROUP BY stays, HAVING, window functions, DISTINCT, ORDER BY and LIMIT
 * go to the combine step.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_aggregate.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_oper.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "split/partial_agg.h"
#include "split/split_blocks.h"
#include "split/split_build.h"
#include "split/split_ranges.h"
#include "split/split_target.h"

char *
split_column_name(int n)
{
	return psprintf("c%d", n);
}

static void
add_condition(Query *part, SplitPlan *plan, int partno, SplitRange range)
{
	Query	   *level = split_target_level(part, plan->path);
	Index		rti = llast_int(plan->path);
	Expr	   *cond = NULL;

	if (range == SPLIT_RANGE_BLOCKS)
		cond = split_blocks_condition(rti, plan->block_cuts, plan->nparts, partno);
	else if (range == SPLIT_RANGE_KEY)
		cond = split_ranges_condition(&plan->key, rti, plan->cut_points, partno);

	if (cond != NULL)
		level->jointree->quals = make_and_qual(level->jointree->quals, (Node *) cond);
}

/* LIMIT n OFFSET m → LIMIT n + m, when both are known now */
static void
adapt_limit(Query *part, Query *query, SplitPlan *plan)
{
	/* LIMIT 10 is int8(10) until folded */
	Const	   *count = (Const *) eval_const_expressions(NULL, copyObject(query->limitCount));
	Const	   *offset = (Const *) eval_const_expressions(NULL, copyObject(query->limitOffset));
	int64		n;
	int64		m = 0;
	int64		total;

	part->limitCount = NULL;
	part->limitOffset = NULL;
	part->limitOption = LIMIT_OPTION_DEFAULT;
	plan->part_limit = -1;

	if (count == NULL || !IsA(count, Const) || count->constisnull)
		return;
	if (offset != NULL && (!IsA(offset, Const)))
		return;
	n = DatumGetInt64(count->constvalue);
	if (offset != NULL && !offset->constisnull)
		m = DatumGetInt64(offset->constvalue);
	/* a negative LIMIT or OFFSET is the combine step's error to raise */
	if (n < 0 || m < 0 || pg_add_s64_overflow(n, m, &total))
		return;
	part->limitCount = (Node *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
										  Int64GetDatum(total), false, FLOAT8PASSBYVAL);
	part->limitOption = query->limitOption;
	plan->part_limit = total;
}

bool
split_part_shows(Query *query, TargetEntry *tle)
{
	/*
	 * Under a plain DISTINCT a column the query does not select stays
	 * hidden: shown, it would take part in the part's DISTINCT, and the
	 * part's first n + m rows could hold fewer than n + m distinct answers.
	 * The combine step needs none of them there (ORDER BY keys of a
	 * DISTINCT query are selected).
	 */
	return !tle->resjunk || query->distinctClause == NIL || query->hasDistinctOn;
}

static void
build_whole(Query *part, Query *query, SplitPlan *plan)
{
	int			column = 0;
	ListCell   *lc;

	foreach(lc, part->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (!split_part_shows(query, tle))
			continue;
		tle->resjunk = false;
		tle->resname = split_column_name(++column);
	}
	adapt_limit(part, query, plan);
}

/*
 * ARRAY[count(x), COALESCE(sum(x), 0)]: the state of avg(x) for x of int2
 * or int4 (partial_agg_count_sum), from native aggregates that take the
 * avg's arguments, DISTINCT, ORDER BY and FILTER as they are.
 */
static Expr *
count_sum_state(Aggref *orig)
{
	Aggref	   *count = copyObject(orig);
	Aggref	   *sum = copyObject(orig);
	CoalesceExpr *sum_or_0 = makeNode(CoalesceExpr);
	ArrayExpr  *state = makeNode(ArrayExpr);

	count->aggfnoid = F_COUNT_ANY;
	count->aggtype = INT8OID;
	count->location = -1;
	sum->aggfnoid = partial_agg_count_sum(orig->aggfnoid);
	sum->aggtype = INT8OID;
	sum->location = -1;
	sum_or_0->coalescetype = INT8OID;
	sum_or_0->coalescecollid = InvalidOid;
	sum_or_0->args = list_make2(sum, makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
											   Int64GetDatum(0), false, FLOAT8PASSBYVAL));
	sum_or_0->location = -1;
	state->array_typeid = INT8ARRAYOID;
	state->array_collid = InvalidOid;
	state->element_typeid = INT8OID;
	state->elements = list_make2(count, sum_or_0);
	state->multidims = false;
	state->location = -1;
	return (Expr *) state;
}

/* foresight.partial_agg(aggregate, arguments...) for one aggregate of the query */
static Aggref *
partial_aggref(SplitShape *shape, Aggref *orig)
{
	Aggref	   *p = makeNode(Aggref);
	Const	   *aggfn = makeConst(REGPROCEDUREOID, -1, InvalidOid, sizeof(Oid),
								  ObjectIdGetDatum(orig->aggfnoid), false, true);
	List	   *args = list_make1(makeTargetEntry((Expr *) aggfn, 1, NULL, false));
	ListCell   *lc;

	foreach(lc, orig->args)
	{
		TargetEntry *tle = copyObject(lfirst_node(TargetEntry, lc));

		tle->resno = list_length(args) + 1;
		tle->ressortgroupref = 0;
		args = lappend(args, tle);
	}

	p->aggfnoid = list_length(args) == 1 ? shape->partial_agg_noargs : shape->partial_agg;
	p->aggtype = BYTEAOID;
	p->aggcollid = InvalidOid;
	p->inputcollid = orig->inputcollid;
	p->aggargtypes = lcons_oid(REGPROCEDUREOID, list_copy(orig->aggargtypes));
	p->args = args;
	p->aggfilter = copyObject(orig->aggfilter);
	p->aggkind = AGGKIND_NORMAL;
	p->aggsplit = AGGSPLIT_SIMPLE;
	p->aggno = -1;
	p->aggtransno = -1;
	p->location = -1;

	/* DISTINCT (over the split key): over every argument, the constant too */
	if (orig->aggdistinct != NIL)
	{
		foreach(lc, p->args)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);
			SortGroupClause *sgc = makeNode(SortGroupClause);
			Oid			type = exprType((Node *) tle->expr);

			get_sort_group_operators(type, true, true, false,
									 &sgc->sortop, &sgc->eqop, NULL, &sgc->hashable);
			tle->ressortgroupref = foreach_current_index(lc) + 1;
			sgc->tleSortGroupRef = tle->ressortgroupref;
			p->aggdistinct = lappend(p->aggdistinct, sgc);
		}
	}
	return p;
}

static void
build_partial(Query *part, SplitShape *shape)
{
	List	   *tlist = NIL;
	ListCell   *lc;

	foreach(lc, shape->group_tles)
	{
		TargetEntry *tle = copyObject(lfirst_node(TargetEntry, lc));

		tle->resno = list_length(tlist) + 1;
		tle->resname = split_column_name(tle->resno);
		tle->resjunk = false;
		tlist = lappend(tlist, tle);
	}
	foreach(lc, shape->dependent_vars)
		tlist = lappend(tlist, makeTargetEntry(copyObject(lfirst(lc)), list_length(tlist) + 1,
											   split_column_name(list_length(tlist) + 1), false));
	foreach(lc, shape->aggrefs)
	{
		Aggref	   *aggref = lfirst_node(Aggref, lc);
		Expr	   *computed;

		/* the aggregate itself when its result is its state */
		if (bms_is_member(foreach_current_index(lc), shape->native_aggs))
		{
			Aggref	   *copy = copyObject(aggref);

			copy->location = -1;
			computed = (Expr *) copy;
		}
		else if (bms_is_member(foreach_current_index(lc), shape->count_sum_aggs))
			computed = count_sum_state(aggref);
		else
			computed = (Expr *) partial_aggref(shape, aggref);
		tlist = lappend(tlist, makeTargetEntry((Expr *) computed, list_length(tlist) + 1,
											   split_column_name(list_length(tlist) + 1),
											   false));
	}

	part->targetList = tlist;
	part->hasAggs = (shape->aggrefs != NIL);
	part->havingQual = NULL;
	part->hasWindowFuncs = false;
	part->windowClause = NIL;
	part->hasTargetSRFs = false;
	part->distinctClause = NIL;
	part->hasDistinctOn = false;
	part->sortClause = NIL;
	part->limitCount = NULL;
	part->limitOffset = NULL;
	part->limitOption = LIMIT_OPTION_DEFAULT;
}

Query *
split_build_part(SplitShape *shape, SplitPlan *plan, int part, SplitRange range)
{
	Query	   *q = copyObject(shape->query);

	add_condition(q, plan, part, range);
	if (plan->strategy == SPLIT_PARTIAL_AGGREGATES)
		build_partial(q, shape);
	else
		build_whole(q, shape->query, plan);
	return q;
}
