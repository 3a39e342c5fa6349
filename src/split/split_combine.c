/*-------------------------------------------------------------------------
 *
 * split_combine.c
 *	  The combine step of a split query, as a query over the union of the
 *	  parts' rows (a relation named SPLIT_PARTS_RELATION, columns c1, c2,
 *	  ...): what the coordinator computes after the parts.
 *
 * Rows and whole groups: the query's select list, DISTINCT [ON], ORDER BY
 * and LIMIT/OFFSET over the parts' columns; nothing else is left to do.
 *
 * Partial aggregates: the query's select list, HAVING, window functions,
 * DISTINCT, ORDER BY and LIMIT with every GROUP BY expression replaced by
 * its column, every aggregate by foresight.finalize_agg(aggregate, state
 * column, NULL::result type) or, when the parts ran it as it is
 * (SplitShape.native_aggs), by foresight.combine_results(aggregate,
 * result column), or, when they computed its state from count and sum
 * (SplitShape.count_sum_aggs: avg of int2 and int4), by its final function
 * of foresight.combine_results(aggregate, state column), and every column
 * selected ungrouped by its
 * column (added to GROUP BY: it depends on the grouped ones, so the groups
 * stay the same); GROUP BY as the query's.  split_collect_upper() walks
 * the same expressions first to find the aggregates and those columns,
 * and refuses what the combine step could not compute: a correlated
 * sub-query there (an uncorrelated one runs on the coordinator as it is).
 *
 * Nothing here is planned or run yet: the text (split_deparse.c) is what
 * foresight.split_explain shows and what the tests run over the parts'
 * results; the executor will plan this query over its fan-out scan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_aggregate.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_oper.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "split/split_build.h"

typedef struct UpperContext
{
	SplitShape *shape;
	bool		mutate;			/* false: only collect */
	const char *why;
} UpperContext;

static int
find_equal(List *list, Node *node)
{
	ListCell   *lc;

	foreach(lc, list)
		if (equal(lfirst(lc), node))
			return foreach_current_index(lc);
	return -1;
}

static int
find_group_expr(List *group_tles, Node *node)
{
	ListCell   *lc;

	foreach(lc, group_tles)
		if (equal(lfirst_node(TargetEntry, lc)->expr, node))
			return foreach_current_index(lc);
	return -1;
}

static Var *
parts_var(int column, Node *like)
{
	return makeVar(1, column, exprType(like), exprTypmod(like), exprCollation(like), 0);
}

/*
 * One of the extension's combining aggregates (finalize_agg, combine_results)
 * over the parts' column for `orig`: its first argument is `orig`'s
 * aggregate as a regprocedure constant, then `args`; it returns what `orig`
 * returns.
 */
static Aggref *
combining_aggref(Oid aggfnoid, Aggref *orig, Oid inputcollid, List *args)
{
	Aggref	   *f = makeNode(Aggref);
	Const	   *aggfn = makeConst(REGPROCEDUREOID, -1, InvalidOid, sizeof(Oid),
								  ObjectIdGetDatum(orig->aggfnoid), false, true);
	ListCell   *lc;

	args = lcons(aggfn, args);
	f->aggfnoid = aggfnoid;
	f->aggtype = orig->aggtype;
	f->aggcollid = orig->aggcollid;
	f->inputcollid = inputcollid;
	foreach(lc, args)
	{
		f->aggargtypes = lappend_oid(f->aggargtypes, exprType(lfirst(lc)));
		f->args = lappend(f->args, makeTargetEntry(lfirst(lc), foreach_current_index(lc) + 1,
												   NULL, false));
	}
	f->aggkind = AGGKIND_NORMAL;
	f->aggsplit = AGGSPLIT_SIMPLE;
	f->aggno = -1;
	f->aggtransno = -1;
	f->location = -1;
	return f;
}

/* foresight.finalize_agg('agg'::regprocedure, cN, NULL::result) */
static Aggref *
finalize_aggref(SplitShape *shape, Aggref *orig, int column)
{
	return combining_aggref(shape->finalize_agg, orig, orig->aggcollid,
							list_make2(makeVar(1, column, BYTEAOID, -1, InvalidOid, 0),
									   makeNullConst(orig->aggtype, -1, orig->aggcollid)));
}

/*
 * foresight.combine_results('agg'::regprocedure, cN), under the aggregate's
 * input collation: its combine function compares (min and max of text)
 */
static Aggref *
combine_results_aggref(SplitShape *shape, Aggref *orig, int column)
{
	return combining_aggref(shape->combine_results, orig, orig->inputcollid,
							list_make1(parts_var(column, (Node *) orig)));
}

/*
 * FINAL(foresight.combine_results('agg'::regprocedure, cN)): the states the
 * parts computed from count and sum (partial_agg_count_sum), combined by
 * the aggregate's combine function, then its final function (int8_avg)
 */
static Node *
count_sum_final(SplitShape *shape, Aggref *orig, int column)
{
	HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(orig->aggfnoid));
	Aggref	   *combined;
	Oid			finalfn;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for aggregate %u", orig->aggfnoid);
	finalfn = ((Form_pg_aggregate) GETSTRUCT(tup))->aggfinalfn;
	ReleaseSysCache(tup);
	combined = combining_aggref(shape->combine_results, orig, orig->inputcollid,
								list_make1(makeVar(1, column, INT8ARRAYOID, -1, InvalidOid, 0)));
	combined->aggtype = INT8ARRAYOID;
	combined->aggcollid = InvalidOid;
	return (Node *) makeFuncExpr(finalfn, orig->aggtype, list_make1(combined),
								 orig->aggcollid, InvalidOid, COERCE_EXPLICIT_CALL);
}

static Node *
upper_mutator(Node *node, UpperContext *cxt)
{
	SplitShape *shape = cxt->shape;
	int			ngroup = list_length(shape->group_tles);
	int			i;
	int			column;

	if (node == NULL || cxt->why != NULL)
		return node;

	if ((i = find_group_expr(shape->group_tles, node)) >= 0)
		return cxt->mutate ? (Node *) parts_var(i + 1, node) : node;

	if (IsA(node, Aggref))
	{
		if ((i = find_equal(shape->aggrefs, node)) < 0)
		{
			Assert(!cxt->mutate);
			shape->aggrefs = lappend(shape->aggrefs, node);
			i = list_length(shape->aggrefs) - 1;
		}
		if (!cxt->mutate)
			return node;
		column = ngroup + list_length(shape->dependent_vars) + i + 1;
		if (bms_is_member(i, shape->native_aggs))
			return (Node *) combine_results_aggref(shape, (Aggref *) node, column);
		if (bms_is_member(i, shape->count_sum_aggs))
			return count_sum_final(shape, (Aggref *) node, column);
		return (Node *) finalize_aggref(shape, (Aggref *) node, column);
	}

	if (IsA(node, Var) && ((Var *) node)->varlevelsup == 0)
	{
		if ((i = find_equal(shape->dependent_vars, node)) < 0)
		{
			Assert(!cxt->mutate);
			shape->dependent_vars = lappend(shape->dependent_vars, node);
			i = list_length(shape->dependent_vars) - 1;
		}
		return cxt->mutate ? (Node *) parts_var(ngroup + i + 1, node) : node;
	}

	if (IsA(node, SubLink))
	{
		SubLink    *sublink = (SubLink *) node;
		SubLink    *copy;

		/*
		 * An uncorrelated sub-query reads its own tables, which the
		 * coordinator has: it stays as it is; its test expression is an
		 * upper expression like any other.  A correlated one would need its
		 * references to this query's columns turned into the parts' columns.
		 */
		if (contain_vars_of_level(sublink->subselect, 1) ||
			contain_aggs_of_level(sublink->subselect, 1))
		{
			cxt->why = "a correlated sub-query in the select list, HAVING or ORDER BY of a query with aggregates that are computed in parts";
			return node;
		}
		copy = cxt->mutate ? (SubLink *) copyObject(sublink) : sublink;
		copy->testexpr = upper_mutator(sublink->testexpr, cxt);
		return (Node *) copy;
	}
	if (IsA(node, GroupingFunc))
	{
		cxt->why = "uses GROUPING()";
		return node;
	}
	return expression_tree_mutator(node, upper_mutator, (void *) cxt);
}

const char *
split_collect_upper(SplitShape *shape)
{
	Query	   *query = shape->query;
	UpperContext cxt = {shape, false, NULL};
	ListCell   *lc;

	shape->group_tles = NIL;
	foreach(lc, query->groupClause)
		shape->group_tles = lappend(shape->group_tles,
									get_sortgroupclause_tle(lfirst_node(SortGroupClause, lc),
															query->targetList));
	(void) upper_mutator((Node *) query->targetList, &cxt);
	(void) upper_mutator(query->havingQual, &cxt);
	return cxt.why;
}

/* the parts' columns, as the combine step's range table entry sees them */
static RangeTblEntry *
parts_rte(Query *part)
{
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	List	   *names = NIL;
	ListCell   *lc;

	rte->rtekind = RTE_CTE;
	rte->ctename = pstrdup(SPLIT_PARTS_RELATION);
	rte->ctelevelsup = 0;
	rte->self_reference = false;
	foreach(lc, part->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk)
			continue;			/* not a column of the part's rows */
		names = lappend(names, makeString(pstrdup(tle->resname)));
		rte->coltypes = lappend_oid(rte->coltypes, exprType((Node *) tle->expr));
		rte->coltypmods = lappend_int(rte->coltypmods, exprTypmod((Node *) tle->expr));
		rte->colcollations = lappend_oid(rte->colcollations, exprCollation((Node *) tle->expr));
	}
	rte->eref = makeAlias(SPLIT_PARTS_RELATION, names);
	rte->inh = false;
	rte->inFromCl = true;
	return rte;
}

/* a column selected ungrouped joins GROUP BY as a junk entry */
static void
group_dependent_vars(Query *combine, SplitShape *shape)
{
	Index		maxref = 0;
	ListCell   *lc;

	foreach(lc, combine->targetList)
		maxref = Max(maxref, lfirst_node(TargetEntry, lc)->ressortgroupref);
	foreach(lc, shape->dependent_vars)
	{
		Var		   *v = lfirst_node(Var, lc);
		SortGroupClause *sgc = makeNode(SortGroupClause);
		TargetEntry *tle;

		tle = makeTargetEntry((Expr *) parts_var(list_length(shape->group_tles) +
												 foreach_current_index(lc) + 1, (Node *) v),
							  list_length(combine->targetList) + 1, NULL, true);
		tle->ressortgroupref = ++maxref;
		combine->targetList = lappend(combine->targetList, tle);
		get_sort_group_operators(v->vartype, false, true, false,
								 &sgc->sortop, &sgc->eqop, NULL, &sgc->hashable);
		sgc->tleSortGroupRef = tle->ressortgroupref;
		combine->groupClause = lappend(combine->groupClause, sgc);
	}
}

Query *
split_build_combine(SplitShape *shape, SplitPlan *plan)
{
	Query	   *query = shape->query;
	Query	   *combine = makeNode(Query);
	Query	   *part = linitial_node(Query, plan->part_queries);
	ListCell   *lc;

	combine->commandType = CMD_SELECT;
	combine->querySource = QSRC_ORIGINAL;
	combine->canSetTag = true;
	combine->rtable = list_make1(parts_rte(part));
	combine->jointree = makeFromExpr(list_make1(makeNode(RangeTblRef)), NULL);
	linitial_node(RangeTblRef, combine->jointree->fromlist)->rtindex = 1;
	combine->distinctClause = copyObject(query->distinctClause);
	combine->hasDistinctOn = query->hasDistinctOn;
	combine->sortClause = copyObject(query->sortClause);
	combine->limitCount = copyObject(query->limitCount);
	combine->limitOffset = copyObject(query->limitOffset);
	combine->limitOption = query->limitOption;

	if (plan->strategy == SPLIT_PARTIAL_AGGREGATES)
	{
		UpperContext cxt = {shape, true, NULL};

		foreach(lc, query->targetList)
		{
			TargetEntry *tle = flatCopyTargetEntry(lfirst_node(TargetEntry, lc));

			tle->expr = (Expr *) upper_mutator((Node *) tle->expr, &cxt);
			combine->targetList = lappend(combine->targetList, tle);
		}
		combine->havingQual = upper_mutator(query->havingQual, &cxt);
		combine->groupClause = copyObject(query->groupClause);
		combine->hasAggs = (shape->aggrefs != NIL);
		combine->windowClause = copyObject(query->windowClause);
		combine->hasWindowFuncs = query->hasWindowFuncs;
		combine->hasTargetSRFs = query->hasTargetSRFs;
		group_dependent_vars(combine, shape);
	}
	else
	{
		/* the parts computed the columns: the n-th one they show is cn */
		int			column = 0;

		foreach(lc, query->targetList)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);

			if (!split_part_shows(query, tle))
				continue;
			tle = flatCopyTargetEntry(tle);
			tle->expr = (Expr *) parts_var(++column, (Node *) tle->expr);
			tle->resno = list_length(combine->targetList) + 1;
			combine->targetList = lappend(combine->targetList, tle);
		}
	}
	return combine;
}
