/*-------------------------------------------------------------------------
 *
 * split_target.c
 *	  Find the tables a query could be split on (see split_target.h).
 *
 * The walk follows the FROM clause of the top query and, through
 * sub-queries and WITH queries that keep one row per row they read, the
 * FROM clauses below it, remembering whether each step is on a preserved
 * side.  A table reached only through a nullable side, a grouping or
 * limiting sub-query, an aliased join (its tables' names are hidden
 * outside it, so a condition on them could not be written) or TABLESAMPLE
 * is passed over, and the first such reason is kept for the caller.  A
 * sub-query whose ORDER BY orders the result (the top query does not
 * aggregate) vetoes every table: the split would lose that order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

#include "split/split_target.h"

typedef struct TargetWalk
{
	List	   *candidates;
	const char *why;
	bool		order_free;		/* the top query aggregates: the order of
								 * the rows it reads does not reach its
								 * result */
	const char *veto;			/* why no table of the query may be split */
} TargetWalk;

static void walk_jointree(Query *query, Node *node, bool preserved, bool aliased,
						  List *path, List *levels, TargetWalk *w);

static void
pass_over(TargetWalk *w, const char *why)
{
	if (w->why == NULL)
		w->why = why;
}

/* why a sub-query does not keep one row per row it reads, or NULL */
static const char *
subquery_blocker(Query *sub)
{
	if (sub->commandType != CMD_SELECT || sub->utilityStmt != NULL)
		return "is not a SELECT";
	if (sub->setOperations != NULL)
		return "has a set operation";
	if (sub->limitCount != NULL || sub->limitOffset != NULL)
		return "has LIMIT or OFFSET";
	if (sub->hasAggs || sub->groupClause != NIL || sub->groupingSets != NIL ||
		sub->havingQual != NULL)
		return "has aggregates or GROUP BY";
	if (sub->distinctClause != NIL)
		return "has DISTINCT";
	if (sub->hasWindowFuncs)
		return "has window functions";
	if (sub->rowMarks != NIL)
		return "has FOR UPDATE/SHARE";
	return NULL;
}

/* does the query read a table anywhere in its own FROM list's range table? */
static bool
reads_tables(Query *query)
{
	ListCell   *lc;

	foreach(lc, query->rtable)
		if (lfirst_node(RangeTblEntry, lc)->rtekind == RTE_RELATION)
			return true;
	return false;
}

static CommonTableExpr *
find_cte(Query *query, const char *name)
{
	ListCell   *lc;

	foreach(lc, query->cteList)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

		if (strcmp(cte->ctename, name) == 0)
			return cte;
	}
	return NULL;
}

static void
visit_subquery(Query *sub, const char *what, bool preserved, bool aliased, List *path,
			   List *levels, TargetWalk *w)
{
	const char *blocker;

	if (!reads_tables(sub) && sub->jointree->fromlist == NIL)
		return;
	if (!preserved)
	{
		pass_over(w, psprintf("the tables are on the nullable side of an outer join"));
		return;
	}
	if ((blocker = subquery_blocker(sub)) != NULL)
	{
		pass_over(w, psprintf("the tables are read by a %s that %s", what, blocker));
		return;
	}

	/*
	 * Its ORDER BY orders the rows the query above reads, and so its result
	 * (row order, which rows a LIMIT keeps, what a window function or
	 * DISTINCT ON sees first), unless the top query aggregates them: the
	 * parts, concatenated or merged on the top query's own ORDER BY, would
	 * not keep that order, whichever table they split.
	 */
	if (sub->sortClause != NIL && !w->order_free)
	{
		if (w->veto == NULL)
			w->veto = psprintf("a %s has an ORDER BY that orders the result, which the parts would not keep",
							   what);
		return;
	}
	walk_jointree(sub, (Node *) sub->jointree, true, aliased, path, levels, w);
}

static void
visit_rte(Query *query, Index rti, bool preserved, bool aliased, List *path, List *levels,
		  TargetWalk *w)
{
	RangeTblEntry *rte = rt_fetch(rti, query->rtable);

	path = lappend_int(list_copy(path), rti);
	levels = lappend(list_copy(levels), query);

	switch (rte->rtekind)
	{
		case RTE_RELATION:
			if (!preserved)
				pass_over(w, psprintf("table %s is on the nullable side of an outer join",
									  get_rel_name(rte->relid)));
			else if (aliased)
				pass_over(w, psprintf("table %s is inside a join with an alias",
									  get_rel_name(rte->relid)));
			else if (rte->tablesample != NULL)
				pass_over(w, psprintf("table %s is sampled (TABLESAMPLE)",
									  get_rel_name(rte->relid)));
			else if (rte->relkind != RELKIND_RELATION &&
					 rte->relkind != RELKIND_PARTITIONED_TABLE &&
					 rte->relkind != RELKIND_MATVIEW)
				pass_over(w, psprintf("%s is not a table or materialized view",
									  get_rel_name(rte->relid)));
			else
			{
				SplitCandidate *c = palloc0(sizeof(SplitCandidate));

				c->relid = rte->relid;
				c->path = path;
				c->levels = levels;
				c->inh = rte->inh;
				w->candidates = lappend(w->candidates, c);
			}
			break;
		case RTE_SUBQUERY:
			visit_subquery(rte->subquery, "sub-query", preserved, aliased, path, levels, w);
			break;
		case RTE_CTE:
			{
				CommonTableExpr *cte = rte->ctelevelsup == 0 ? find_cte(query, rte->ctename) : NULL;

				if (cte == NULL || !IsA(cte->ctequery, Query))
					break;
				if (cte->cterecursive)
					pass_over(w, "the tables are read by a recursive WITH query");
				else if (cte->cterefcount != 1)
					pass_over(w, "the tables are read by a WITH query referenced more than once");
				else
					visit_subquery((Query *) cte->ctequery, "WITH query", preserved, aliased,
								   path, levels, w);
			}
			break;
		default:
			break;
	}
}

static void
walk_jointree(Query *query, Node *node, bool preserved, bool aliased, List *path,
			  List *levels, TargetWalk *w)
{
	if (node == NULL)
		return;
	if (IsA(node, RangeTblRef))
		visit_rte(query, ((RangeTblRef *) node)->rtindex, preserved, aliased, path, levels, w);
	else if (IsA(node, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) node)->fromlist)
			walk_jointree(query, lfirst(lc), preserved, aliased, path, levels, w);
	}
	else if (IsA(node, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) node;
		bool		left = preserved;
		bool		right = preserved;

		switch (j->jointype)
		{
			case JOIN_INNER:
				break;
			case JOIN_LEFT:
				right = false;
				break;
			case JOIN_RIGHT:
				left = false;
				break;
			default:
				left = right = false;
				break;
		}
		aliased = aliased || j->alias != NULL;
		walk_jointree(query, j->larg, left, aliased, path, levels, w);
		walk_jointree(query, j->rarg, right, aliased, path, levels, w);
	}
}

List *
split_target_candidates(Query *query, const char **why)
{
	TargetWalk	w = {NIL, NULL, false, NULL};

	w.order_free = query->hasAggs || query->groupClause != NIL || query->groupingSets != NIL;
	walk_jointree(query, (Node *) query->jointree, true, false, NIL, NIL, &w);
	if (w.veto != NULL)
	{
		*why = w.veto;
		return NIL;
	}
	*why = w.candidates == NIL ? (w.why ? w.why : "the query reads no table in its FROM list") : NULL;
	return w.candidates;
}

static Query *
descend(Query *query, Index rti)
{
	RangeTblEntry *rte = rt_fetch(rti, query->rtable);

	if (rte->rtekind == RTE_SUBQUERY)
		return rte->subquery;
	Assert(rte->rtekind == RTE_CTE);
	return (Query *) find_cte(query, rte->ctename)->ctequery;
}

Query *
split_target_level(Query *query, List *path)
{
	ListCell   *lc;

	foreach(lc, path)
	{
		if (foreach_current_index(lc) == list_length(path) - 1)
			break;
		query = descend(query, lfirst_int(lc));
	}
	return query;
}

bool
split_target_is_var(Query *query, Node *expr, Var *var)
{
	Var		   *v;

	expr = flatten_join_alias_vars(query, expr);
	while (IsA(expr, RelabelType))
		expr = (Node *) ((RelabelType *) expr)->arg;
	if (!IsA(expr, Var))
		return false;
	v = (Var *) expr;
	return v->varno == var->varno && v->varattno == var->varattno &&
		v->varlevelsup == var->varlevelsup;
}

Var *
split_target_top_var(SplitCandidate *candidate, const SplitKey *key)
{
	int			depth = list_length(candidate->path) - 1;
	Var		   *var = makeVar(llast_int(candidate->path), key->attnum, key->atttype,
							  key->atttypmod, key->collation, 0);

	/* from the table's level up: which column of the level above is this Var? */
	for (int level = depth; level > 0; level--)
	{
		Query	   *sub = list_nth(candidate->levels, level);
		AttrNumber	column = InvalidAttrNumber;
		ListCell   *lc;

		foreach(lc, sub->targetList)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);

			if (!tle->resjunk && split_target_is_var(sub, (Node *) tle->expr, var))
			{
				column = tle->resno;
				break;
			}
		}
		if (column == InvalidAttrNumber)
			return NULL;
		var = makeVar(list_nth_int(candidate->path, level - 1), column, key->atttype,
					  key->atttypmod, key->collation, 0);
	}
	return var;
}
