/*-------------------------------------------------------------------------
 *
 * split_plan.c
 *	  Decide whether and how a read is split (split.h): the rules, one
 *	  reason each, the choice of the split relation and of the strategy,
 *	  then the parts and the combine step (split_build.h).
 *
 * A query is split only when the union of its parts, combined, is exactly
 * its answer.  The statement rules refuse what a part cannot reproduce
 * (volatile functions, set operations, grouping sets, tables a node does
 * not have); the split relation must be one whose ranges partition the
 * query's rows (split_target.c) and that the role may read directly (the
 * cut points come from the statistics of its key); the strategy then says
 * how the parts' rows make the answer:
 *
 *	rows				no aggregates: the parts' rows, concatenated (merged
 *						when sorted); window functions only when their
 *						PARTITION BY holds the split key
 *	whole groups		GROUP BY holds the split key: a group's rows are in
 *						one part, which computes it whole (any aggregate,
 *						HAVING); concatenated as rows are
 *	partial aggregates	otherwise: every aggregate has a combine function, no
 *						ORDER BY in its arguments, DISTINCT only over the
 *						split key; parts give states, the combine step
 *						finalises them and does what follows grouping
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "split/partial_agg.h"
#include "split/split_blocks.h"
#include "split/split_build.h"
#include "split/split_key.h"
#include "split/split_ranges.h"
#include "split/split_target.h"

const char *
split_strategy_name(SplitStrategy strategy)
{
	switch (strategy)
	{
		case SPLIT_ROWS:
			return "rows";
		case SPLIT_WHOLE_GROUPS:
			return "whole groups";
		case SPLIT_PARTIAL_AGGREGATES:
			return "partial aggregates";
		default:
			return "none";
	}
}

/* an aggregate query without GROUP BY: one row, or none under HAVING */
static bool
one_row_at_most(Query *query)
{
	return query->hasAggs && query->groupClause == NIL && query->groupingSets == NIL &&
		!query->hasTargetSRFs;
}

/* what the statement as a whole does that no part could reproduce */
static const char *
statement_refusal(Query *query, PlannedStmt *stmt)
{
	ListCell   *lc;

	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL)
		return "not a SELECT";
	if (query->rowMarks != NIL || (stmt && stmt->rowMarks != NIL))
		return "has FOR UPDATE/SHARE";
	if (query->hasModifyingCTE)
		return "has a data-modifying WITH";
	if (query->setOperations != NULL)
		return "has a set operation (UNION, INTERSECT or EXCEPT)";
	if (query->groupingSets != NIL)
		return "has grouping sets (GROUPING SETS, ROLLUP or CUBE)";
	if (query->havingQual != NULL && !query->hasAggs && query->groupClause == NIL)
		return "has HAVING without GROUP BY or aggregates";
	if (contain_volatile_functions((Node *) query))
		return "calls a volatile function";

	/*
	 * Without an ORDER BY, which rows a LIMIT or OFFSET keeps, and which row
	 * of each DISTINCT ON group, follows the order the rows come in: run
	 * whole, the plan's order (the same on a node as here); split, the
	 * parts'.  SQL promises neither, but a client (PostgreSQL's own
	 * regression suite among them) expects the rows the plan gives.  An
	 * aggregate query without GROUP BY (nor a set-returning function in its
	 * select list) has one row at most: no order to follow.
	 */
	if (query->sortClause == NIL && !one_row_at_most(query) &&
		(query->limitCount != NULL || query->limitOffset != NULL))
		return "has LIMIT or OFFSET without ORDER BY (the rows it keeps would follow the parts' order)";
	if (query->sortClause == NIL && !one_row_at_most(query) && query->hasDistinctOn)
		return "has DISTINCT ON without ORDER BY (the row kept of each group would follow the parts' order)";

	/* every relation the plan reads, views' and partitions' included */
	foreach(lc, stmt ? stmt->rtable : NIL)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION)
			continue;
		if (rte->relkind == RELKIND_FOREIGN_TABLE)
			return "reads a foreign table";
		switch (get_rel_persistence(rte->relid))
		{
			case RELPERSISTENCE_TEMP:
				return "reads a temporary table";
			case RELPERSISTENCE_UNLOGGED:
				return "reads an unlogged table";
			default:
				break;
		}
		if (OidIsValid(rte->checkAsUser) && rte->checkAsUser != GetUserId())
			return "reads a view owned by another role";
	}
	return NULL;
}

/* the table's size in rows, as its statistics (or, never analysed, its blocks) say */
static double
estimated_rows(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	double		n = 0;

	if (HeapTupleIsValid(tup))
	{
		n = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
		ReleaseSysCache(tup);
	}
	if (n < 0 && get_rel_relkind(relid) == RELKIND_RELATION)
	{
		Relation	rel = table_open(relid, AccessShareLock);

		n = (double) RelationGetNumberOfBlocks(rel) * (BLCKSZ / 100);
		table_close(rel, AccessShareLock);
	}
	return Max(n, 0);
}

/* why a candidate table cannot be the split relation, or NULL (and its key) */
static const char *
candidate_refusal(SplitCandidate *c, SplitKey *key)
{
	const char *why;
	AclResult	acl;

	if (get_rel_persistence(c->relid) != RELPERSISTENCE_PERMANENT)
		return psprintf("table %s is not a permanent table", get_rel_name(c->relid));
	if (check_enable_rls(c->relid, InvalidOid, true) == RLS_ENABLED)
		return psprintf("table %s has row-level security", get_rel_name(c->relid));
	if (!split_key_choose(c->relid, key, &why))
		return why;
	/* the cut points are values of the key: only for who may read it */
	acl = pg_class_aclcheck(c->relid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		acl = pg_attribute_aclcheck(c->relid, key->attnum, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		return psprintf("the role may not read the split key %s of table %s itself",
						quote_identifier(key->attname), get_rel_name(c->relid));
	return NULL;
}

static int
compare_sizes(const ListCell *a, const ListCell *b)
{
	double		x = ((SplitCandidate *) lfirst(a))->rows;
	double		y = ((SplitCandidate *) lfirst(b))->rows;

	return (x < y) - (x > y);
}

static bool
clauses_hold_key(Query *query, List *clauses, Var *key)
{
	ListCell   *lc;

	if (key == NULL)
		return false;
	foreach(lc, clauses)
	{
		TargetEntry *tle = get_sortgroupclause_tle(lfirst_node(SortGroupClause, lc),
												   query->targetList);

		if (split_target_is_var(query, (Node *) tle->expr, key))
			return true;
	}
	return false;
}

static bool
windows_partitioned_by_key(Query *query, Var *key)
{
	ListCell   *lc;

	foreach(lc, query->windowClause)
		if (!clauses_hold_key(query, lfirst_node(WindowClause, lc)->partitionClause, key))
			return false;
	return true;
}

static bool
arguments_hold_key(Query *query, Aggref *aggref, Var *key)
{
	ListCell   *lc;

	foreach(lc, aggref->args)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (key != NULL && !tle->resjunk && split_target_is_var(query, (Node *) tle->expr, key))
			return true;
	}
	return false;
}

static Oid
extension_aggregate(const char *name, int nargs, Oid arg2, Oid arg3)
{
	Oid			argtypes[3] = {REGPROCEDUREOID, arg2, arg3};

	return LookupFuncName(list_make2(makeString("foresight"), makeString(pstrdup(name))),
						  nargs, argtypes, true);
}

/* the aggregates of a query computed in parts, or why not */
static const char *
partial_refusal(SplitShape *shape)
{
	const char *why;
	ListCell   *lc;

	if ((why = split_collect_upper(shape)) != NULL)
		return why;
	foreach(lc, shape->aggrefs)
	{
		Aggref	   *aggref = lfirst_node(Aggref, lc);
		char		typtype = get_typtype(aggref->aggtype);

		if ((why = partial_agg_refusal(aggref->aggfnoid)) != NULL)
			return why;
		if (aggref->aggorder != NIL)
			return psprintf("aggregate %s has ORDER BY in its arguments",
							format_procedure(aggref->aggfnoid));
		if (aggref->aggdistinct != NIL &&
			!arguments_hold_key(shape->query, aggref, shape->top_key))
			return psprintf("aggregate %s has DISTINCT over columns other than the split key",
							format_procedure(aggref->aggfnoid));
		if (typtype == TYPTYPE_DOMAIN || typtype == TYPTYPE_PSEUDO)
			return psprintf("aggregate %s returns a domain or a pseudo-type",
							format_procedure(aggref->aggfnoid));
	}
	foreach(lc, shape->dependent_vars)
	{
		Var		   *v = lfirst_node(Var, lc);

		if (!OidIsValid(lookup_type_cache(v->vartype, TYPECACHE_EQ_OPR)->eq_opr))
			return psprintf("selects a column of type %s, not grouped and without an equality operator",
							format_type_be(v->vartype));
	}
	shape->partial_agg_noargs = extension_aggregate("partial_agg", 1, InvalidOid, InvalidOid);
	shape->partial_agg = extension_aggregate("partial_agg", 2, ANYOID, InvalidOid);
	shape->finalize_agg = extension_aggregate("finalize_agg", 3, BYTEAOID, ANYELEMENTOID);
	shape->combine_results = extension_aggregate("combine_results", 2, ANYELEMENTOID, InvalidOid);
	if (!OidIsValid(shape->partial_agg_noargs) || !OidIsValid(shape->partial_agg) ||
		!OidIsValid(shape->finalize_agg))
		return "the extension's partial aggregates are missing (ALTER EXTENSION pg_foresight UPDATE)";
	/* those whose result is their state run as they are (0.9 and later) */
	if (foresight_split_native_aggregates && OidIsValid(shape->combine_results))
		foreach(lc, shape->aggrefs)
		{
			Oid			aggfnoid = lfirst_node(Aggref, lc)->aggfnoid;

			if (partial_agg_native(aggfnoid))
				shape->native_aggs = bms_add_member(shape->native_aggs,
													foreach_current_index(lc));
			else if (OidIsValid(partial_agg_count_sum(aggfnoid)))
				shape->count_sum_aggs = bms_add_member(shape->count_sum_aggs,
													   foreach_current_index(lc));
		}
	return NULL;
}

static SplitStrategy
choose_strategy(SplitShape *shape, const char **why)
{
	Query	   *query = shape->query;
	bool		windows_ok = !query->hasWindowFuncs ||
		windows_partitioned_by_key(query, shape->top_key);

	*why = NULL;
	if (!query->hasAggs && query->groupClause == NIL)
	{
		if (!windows_ok)
		{
			*why = "has a window function whose PARTITION BY does not hold the split key";
			return SPLIT_NONE;
		}
		return SPLIT_ROWS;
	}
	if (windows_ok && clauses_hold_key(query, query->groupClause, shape->top_key))
		return SPLIT_WHOLE_GROUPS;
	if ((*why = partial_refusal(shape)) != NULL)
		return SPLIT_NONE;
	return SPLIT_PARTIAL_AGGREGATES;
}

static SplitAggregate *
describe_aggregate(Aggref *aggref, int column)
{
	SplitAggregate *a = palloc0(sizeof(SplitAggregate));
	HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	Form_pg_aggregate agg;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for aggregate %u", aggref->aggfnoid);
	agg = (Form_pg_aggregate) GETSTRUCT(tup);
	a->aggref = aggref;
	a->state_column = column;
	a->aggfnoid = aggref->aggfnoid;
	a->transtype = agg->aggtranstype;
	a->combinefn = agg->aggcombinefn;
	a->finalfn = agg->aggfinalfn;
	a->serialfn = agg->aggserialfn;
	a->deserialfn = agg->aggdeserialfn;
	ReleaseSysCache(tup);
	return a;
}

/* does plan (of stmt) read table relid by an index-only scan somewhere? */
static bool
reads_index_only(PlannedStmt *stmt, Plan *plan, Oid relid)
{
	ListCell   *lc;

	if (plan == NULL)
		return false;
	if (IsA(plan, IndexOnlyScan) &&
		rt_fetch(((Scan *) plan)->scanrelid, stmt->rtable)->relid == relid)
		return true;
	if (IsA(plan, Append))
		foreach(lc, ((Append *) plan)->appendplans)
			if (reads_index_only(stmt, lfirst(lc), relid))
				return true;
	if (IsA(plan, MergeAppend))
		foreach(lc, ((MergeAppend *) plan)->mergeplans)
			if (reads_index_only(stmt, lfirst(lc), relid))
				return true;
	if (IsA(plan, SubqueryScan) &&
		reads_index_only(stmt, ((SubqueryScan *) plan)->subplan, relid))
		return true;
	return reads_index_only(stmt, plan->lefttree, relid) ||
		reads_index_only(stmt, plan->righttree, relid);
}

/*
 * Would a part cost more read by blocks than by its key range?  (A
 * planning of two parts more, when a read is split.)  A key
 * range may be read through an index that answers alone (an index-only
 * scan: count(*)) or in the order the part sorts or groups by; a block
 * range is read in the table's order.  The planner cannot cost a block
 * range itself (it has no statistics of ctid, and takes any range of it for
 * half a percent of the table): a block range is costed as its share of
 * the part over the whole table planned without the table's indexes, which
 * the block ranges share about equally.  The middle key range stands for the key
 * ranges.  NULL when blocks cost less, else why not blocks.
 */
static const char *
blocks_cost_more(SplitShape *shape, SplitPlan *plan)
{
	PlannedStmt *key_part = standard_planner(copyObject(list_nth(plan->part_queries,
																  plan->nparts / 2)),
											  NULL, 0, NULL);
	double		by_key = key_part->planTree->total_cost;
	double		by_blocks = split_blocks_whole_cost(split_build_part(shape, plan, 0,
																	SPLIT_RANGE_NONE),
													plan->relid) / plan->nparts;

	/*
	 * An index-only scan, the planner's choice for the key range, beats
	 * block ranges by more than their costs say on a standby, which checks
	 * every tuple's visibility when it reads a table's pages (measured, 10
	 * million rows: count(*) in 0.7 s by key ranges, 2.8 s by blocks).
	 */
	if (reads_index_only(key_part, key_part->planTree, plan->relid))
		return "a part's key range is read by an index-only scan";
	if (by_blocks < by_key)
		return NULL;
	return psprintf("a part costs less by its key range (%.0f) than by blocks (%.0f)",
					by_key, by_blocks);
}

static SplitPlan *
refuse(SplitPlan *plan, const char *why)
{
	plan->splittable = false;
	plan->strategy = SPLIT_NONE;
	plan->reason = why;
	return plan;
}

SplitPlan *
split_plan_query(Query *query, PlannedStmt *stmt, int nparts, bool check_settings)
{
	SplitPlan  *plan = palloc0(sizeof(SplitPlan));
	SplitShape	shape;
	SplitCandidate *target;
	List	   *candidates;
	const char *why;
	const char *note;
	SplitKeyBounds bounds;
	ListCell   *lc;

	plan->cost = stmt ? stmt->planTree->total_cost : -1;
	plan->part_limit = -1;
	if (check_settings && !foresight_split)
		return refuse(plan, "foresight.split is off");
	if (check_settings && stmt && plan->cost < foresight_split_min_cost)
		return refuse(plan, psprintf("its cost %.0f is below foresight.split_min_cost (%.0f)",
									 plan->cost, foresight_split_min_cost));
	if ((why = statement_refusal(query, stmt)) != NULL)
		return refuse(plan, why);

	candidates = split_target_candidates(query, &why);
	if (candidates == NIL)
		return refuse(plan, why);

	/*
	 * The largest table that can be the split relation and gives the query
	 * a strategy: a smaller one may, where the largest does not (it is not
	 * the key of the GROUP BY or of the window functions).  The reason kept
	 * is the largest candidate's.
	 */
	foreach(lc, candidates)
		((SplitCandidate *) lfirst(lc))->rows = estimated_rows(((SplitCandidate *) lfirst(lc))->relid);
	list_sort(candidates, compare_sizes);
	why = NULL;
	target = NULL;
	foreach(lc, candidates)
	{
		SplitCandidate *c = lfirst(lc);
		SplitKey	key;
		const char *w = candidate_refusal(c, &key);

		if (w == NULL)
		{
			memset(&shape, 0, sizeof(shape));
			shape.query = query;
			shape.top_key = split_target_top_var(c, &key);
			plan->strategy = choose_strategy(&shape, &w);
			if (plan->strategy != SPLIT_NONE)
			{
				target = c;
				plan->key = key;
				break;
			}
			if (why == NULL)
			{
				/* show the largest usable candidate with its refusal */
				plan->relid = c->relid;
				plan->key = key;
			}
		}
		if (why == NULL)
			why = w;
	}
	if (target == NULL)
		return refuse(plan, why);
	plan->relid = target->relid;
	plan->path = target->path;

	nparts = Max(1, Min(nparts, SPLIT_MAX_PARTS_LIMIT));
	/* cut inside the range of the key the query reads */
	split_key_bounds(&plan->key, split_target_level(query, target->path),
					 llast_int(target->path), &bounds);
	plan->cut_points = split_ranges_cut_points(&plan->key, target->inh, nparts, &bounds, &note);
	plan->nparts = list_length(plan->cut_points) + 1;
	plan->splittable = true;
	plan->reason = note;

	for (int i = 0; i < plan->nparts; i++)
	{
		Query	   *part = split_build_part(&shape, plan, i, SPLIT_RANGE_KEY);

		CHECK_FOR_INTERRUPTS();
		plan->part_queries = lappend(plan->part_queries, part);
		plan->part_sql = lappend(plan->part_sql, split_deparse_query(part));
		plan->part_conditions = lappend(plan->part_conditions,
										split_deparse_condition(&plan->key, plan->cut_points, i));
	}
	/*
	 * The same parts by block ranges, for nodes at one WAL position; not
	 * priced nor written when the session does not use them (the default).
	 */
	plan->block_cuts = NULL;
	if (!foresight_split_block_ranges)
		plan->blocks_refusal = "foresight.split_block_ranges is off";
	else if (plan->nparts > 1 &&
		(plan->blocks_refusal = split_blocks_refusal(plan->relid, target->inh, &plan->key)) == NULL &&
		(plan->blocks_refusal = blocks_cost_more(&shape, plan)) == NULL)
	{
		Relation	rel = table_open(plan->relid, AccessShareLock);

		plan->block_cuts = split_blocks_cut_points(rel, plan->nparts);
		table_close(rel, AccessShareLock);
		for (int i = 0; i < plan->nparts; i++)
		{
			CHECK_FOR_INTERRUPTS();
			plan->block_sql = lappend(plan->block_sql,
									  split_deparse_query(split_build_part(&shape, plan, i, SPLIT_RANGE_BLOCKS)));
			plan->block_conditions =
				lappend(plan->block_conditions,
						split_blocks_deparse_condition(plan->relid, plan->block_cuts,
													   plan->nparts, i));
		}
	}
	foreach(lc, shape.aggrefs)
		plan->aggregates = lappend(plan->aggregates,
								   describe_aggregate(lfirst_node(Aggref, lc),
													  list_length(shape.group_tles) +
													  list_length(shape.dependent_vars) +
													  foreach_current_index(lc) + 1));
	plan->combine_query = split_build_combine(&shape, plan);
	plan->combine_sql = split_deparse_query(plan->combine_query);
	plan->combine_description = split_describe_combine(&shape, plan);
	return plan;
}
