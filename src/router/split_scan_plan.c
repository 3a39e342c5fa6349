/*-------------------------------------------------------------------------
 *
 * split_scan_plan.c
 *	  The plan of a split read: PostgreSQL's own plan of the combine step
 *	  (split/split_combine.c) over a "Foresight Split" custom scan whose
 *	  rows are the parts' results.
 *
 * The combine step is a query over a relation of the parts' rows
 * (SPLIT_PARTS_RELATION).  PostgreSQL has no relation kind for "rows
 * someone else produces", so it is planned as a function scan of a
 * set-returning function with a column definition list of the parts'
 * columns (json_to_recordset, never called): the planner does its whole
 * work above it (Aggregate with foresight.finalize_agg, HAVING, window
 * functions, Sort, Unique, Limit, Result, sub-plans), as parallel query
 * plans a Finalize Aggregate over its Gather.  Then the function scan is
 * replaced by the split scan, which reads the same columns (its
 * custom_scan_tlist) and runs the parts.
 *
 * The finished statement keeps the original plan's relations in its range
 * table (unreferenced by the plan), so that the executor checks the
 * session's privileges on them and a cached plan locks them, and its
 * relation OIDs, so that it is invalidated like the original.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"

#include "registry/registry.h"
#include "router/clock_params.h"
#include "router/lift_constants.h"
#include "router/planner_hook.h"
#include "router/policy.h"
#include "router/route_types.h"
#include "router/router.h"
#include "router/split_scan.h"
#include "split/partial_agg.h"
#include "split/split.h"
#include "stats/request_shape.h"

/* custom_private's elements (make_private()) */
#define PRIVATE_STATE_COLUMNS 5
#define PRIVATE_BLOCKS 6

static CustomScanMethods split_scan_methods = {
	.CustomName = SPLIT_SCAN_NAME,
};

/*
 * Does argument argno of this aggregate call read, unchanged, a column of a
 * split scan that holds the parts' aggregate states?  The argument must be
 * a plain column of the aggregate's input, passed down through nodes that
 * only reorder or keep rows (Sort, Incremental Sort, Material) to the split
 * scan's column; any expression on the way, or another input, is not the
 * parts' (partial_agg.h, partial_state_from_parts).
 */
static bool
state_from_parts(FunctionCallInfo fcinfo, int argno)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	TargetEntry *tle;
	Plan	   *plan;
	AttrNumber	attno;
	SplitScanInfo info;

	if (aggref == NULL || fcinfo->context == NULL || !IsA(fcinfo->context, AggState) ||
		argno >= list_length(aggref->args))
		return false;
	tle = list_nth_node(TargetEntry, aggref->args, argno);
	if (!IsA(tle->expr, Var) || ((Var *) tle->expr)->varno != OUTER_VAR)
		return false;
	attno = ((Var *) tle->expr)->varattno;
	plan = outerPlan(((AggState *) fcinfo->context)->ss.ps.plan);
	while (plan != NULL && (IsA(plan, Sort) || IsA(plan, IncrementalSort) || IsA(plan, Material)))
	{
		tle = get_tle_by_resno(plan->targetlist, attno);
		if (tle == NULL || !IsA(tle->expr, Var) || ((Var *) tle->expr)->varno != OUTER_VAR)
			return false;
		attno = ((Var *) tle->expr)->varattno;
		plan = outerPlan(plan);
	}
	if (plan == NULL || !IsA(plan, CustomScan) ||
		((CustomScan *) plan)->methods != &split_scan_methods)
		return false;
	tle = get_tle_by_resno(plan->targetlist, attno);
	if (tle == NULL || !IsA(tle->expr, Var) || ((Var *) tle->expr)->varno != INDEX_VAR)
		return false;
	split_scan_info((CustomScan *) plan, &info);
	return list_member_int(info.state_columns, ((Var *) tle->expr)->varattno);
}

void
split_scan_plan_register(Node *(*create_state) (CustomScan *cscan))
{
	split_scan_methods.CreateCustomScanState = create_state;
	RegisterCustomScanMethods(&split_scan_methods);
	partial_state_from_parts = state_from_parts;
}

/*
 * Nodes that may take parts: enabled physical standbys, and the
 * coordinator when it is a routing candidate (foresight.include_local).
 */
static int
count_part_nodes(void)
{
	int			count;
	int			n = foresight_include_local ? 1 : 0;
	ForesightNode *nodes = registry_snapshot_palloc(&count);

	for (int i = 0; i < count; i++)
		if (nodes[i].slot != FORESIGHT_LOCAL_SLOT &&
			nodes[i].state == NODE_STATE_ENABLED &&
			nodes[i].kind == NODE_KIND_STANDBY)
			n++;
	pfree(nodes);
	return n;
}

/* the parts' relation as a function scan with the parts' columns */
static void
parts_as_function(RangeTblEntry *rte)
{
	RangeTblFunction *rtfunc = makeNode(RangeTblFunction);
	Const	   *arg = makeNullConst(JSONOID, -1, InvalidOid);

	Assert(rte->rtekind == RTE_CTE);
	rtfunc->funcexpr = (Node *) makeFuncExpr(F_JSON_TO_RECORDSET, RECORDOID,
											 list_make1(arg), InvalidOid, InvalidOid,
											 COERCE_EXPLICIT_CALL);
	((FuncExpr *) rtfunc->funcexpr)->funcretset = true;
	rtfunc->funccolcount = list_length(rte->coltypes);
	rtfunc->funccolnames = copyObject(rte->eref->colnames);
	rtfunc->funccoltypes = rte->coltypes;
	rtfunc->funccoltypmods = rte->coltypmods;
	rtfunc->funccolcollations = rte->colcollations;

	rte->rtekind = RTE_FUNCTION;
	rte->ctename = NULL;
	rte->functions = list_make1(rtfunc);
	rte->funcordinality = false;
	rte->coltypes = NIL;
	rte->coltypmods = NIL;
	rte->colcollations = NIL;
}

/* Vars of the parts' relation (range table index 1) read the scan tuple */
static Node *
to_index_var(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var) && ((Var *) node)->varno == 1 && ((Var *) node)->varlevelsup == 0)
	{
		Var		   *v = (Var *) copyObject(node);

		v->varno = INDEX_VAR;
		return (Node *) v;
	}
	return expression_tree_mutator(node, to_index_var, context);
}

static Node *
make_private(SplitPlan *sp, Oid plan_user, int shape, bool worker_ok)
{
	List	   *part_sql = NIL;
	List	   *conds = NIL;
	List	   *state_columns = NIL;
	List	   *block_sql = NIL;
	List	   *block_conds = NIL;
	List	   *priv;
	ListCell   *lc;

	foreach(lc, sp->aggregates)
		state_columns = lappend_int(state_columns,
									((SplitAggregate *) lfirst(lc))->state_column);
	foreach(lc, sp->part_sql)
		part_sql = lappend(part_sql, makeString(pstrdup(lfirst(lc))));
	foreach(lc, sp->part_conditions)
		conds = lappend(conds, makeString(pstrdup(lfirst(lc))));
	priv = list_make5(list_make4(makeString(quote_qualified_identifier(get_namespace_name(get_rel_namespace(sp->relid)), get_rel_name(sp->relid))),
								 makeString(pstrdup(sp->key.attname)),
								 makeString(pstrdup(split_strategy_name(sp->strategy))),
								 makeString(pstrdup(sp->combine_description ?
													sp->combine_description : ""))),
					  part_sql, conds,
					  list_make4_oid(plan_user, (Oid) shape, (Oid) worker_ok,
									 (Oid) route_values_settings((Node *) sp->part_queries)),
					  makeString(psprintf("%.17g", sp->cost)));
	priv = lappend(priv, state_columns);
	foreach(lc, sp->block_sql)
		block_sql = lappend(block_sql, makeString(pstrdup(lfirst(lc))));
	foreach(lc, sp->block_conditions)
		block_conds = lappend(block_conds, makeString(pstrdup(lfirst(lc))));
	priv = lappend(priv, list_make3(block_sql, block_conds,
									makeString(pstrdup(sp->blocks_refusal ?
													   sp->blocks_refusal : ""))));
	/* the merge keys, last: none until a Sort gives way to the merge */
	return (Node *) lappend(priv, list_make4(NIL, NIL, NIL, NIL));
}

void
split_scan_info(const CustomScan *cscan, SplitScanInfo *info)
{
	List	   *priv = cscan->custom_private;
	List	   *names = linitial(priv);
	List	   *blocks;
	List	   *merge;
	ListCell   *lc;

	memset(info, 0, sizeof(*info));
	info->relation = strVal(linitial(names));
	info->key = strVal(lsecond(names));
	info->strategy = strVal(lthird(names));
	info->combine = strVal(lfourth(names));
	foreach(lc, (List *) lsecond(priv))
		info->part_sql = lappend(info->part_sql, strVal(lfirst(lc)));
	foreach(lc, (List *) lthird(priv))
		info->part_conditions = lappend(info->part_conditions, strVal(lfirst(lc)));
	info->plan_user = linitial_oid((List *) lfourth(priv));
	info->shape = (int) lsecond_oid((List *) lfourth(priv));
	info->worker_ok = lthird_oid((List *) lfourth(priv)) != 0;
	info->value_settings = (int) lfourth_oid((List *) lfourth(priv));
	info->cost = strtod(strVal(list_nth(priv, 4)), NULL);
	info->state_columns = list_nth(priv, PRIVATE_STATE_COLUMNS);
	blocks = list_nth(priv, PRIVATE_BLOCKS);
	foreach(lc, (List *) linitial(blocks))
		info->block_sql = lappend(info->block_sql, strVal(lfirst(lc)));
	foreach(lc, (List *) lsecond(blocks))
		info->block_conditions = lappend(info->block_conditions, strVal(lfirst(lc)));
	info->blocks_refusal = strVal(lthird(blocks));
	if (info->blocks_refusal[0] == '\0')
		info->blocks_refusal = NULL;
	merge = llast(priv);
	info->merge_attnos = linitial(merge);
	info->merge_sortops = lsecond(merge);
	info->merge_collations = lthird(merge);
	info->merge_nulls_first = lfourth(merge);
}

/*
 * Replace the function scan of range table entry 1 in plan (and below) by
 * the split scan; how many were replaced.
 */
static int
replace_parts_scan(Plan **planp, Node *private, List *coltypes_tlist)
{
	Plan	   *plan = *planp;
	int			n = 0;

	if (plan == NULL)
		return 0;
	if (IsA(plan, FunctionScan) && ((Scan *) plan)->scanrelid == 1)
	{
		CustomScan *cs = makeNode(CustomScan);

		cs->scan.plan = *plan;
		cs->scan.plan.type = T_CustomScan;
		cs->scan.plan.parallel_aware = false;
		cs->scan.plan.parallel_safe = false;
		cs->scan.plan.targetlist = (List *) to_index_var((Node *) plan->targetlist, NULL);
		cs->scan.plan.qual = (List *) to_index_var((Node *) plan->qual, NULL);
		cs->scan.scanrelid = 0;
		cs->flags = 0;
		cs->custom_private = (List *) private;
		cs->custom_scan_tlist = coltypes_tlist;
		cs->custom_relids = bms_make_singleton(1);
		cs->methods = &split_scan_methods;
		*planp = (Plan *) cs;
		return 1;
	}
	n += replace_parts_scan(&plan->lefttree, private, coltypes_tlist);
	n += replace_parts_scan(&plan->righttree, private, coltypes_tlist);
	if (IsA(plan, Append))
	{
		ListCell   *lc;

		foreach(lc, ((Append *) plan)->appendplans)
			n += replace_parts_scan((Plan **) &lfirst(lc), private, coltypes_tlist);
	}
	else if (IsA(plan, SubqueryScan))
		n += replace_parts_scan(&((SubqueryScan *) plan)->subplan, private, coltypes_tlist);
	return n;
}

/*
 * The Sort directly above the split scan, when the parts are sorted on
 * their nodes by a prefix of its keys, gives way to a merge of the parts
 * in the split scan: its keys (the columns of the scan, sort operators,
 * collations, NULLS FIRST/LAST) go into the scan's private data and the
 * scan takes the Sort's place.  Only the rows and whole groups strategies
 * keep the query's ORDER BY in the parts; the Sort's keys must be a prefix
 * of it (column, operator, collation and NULLS placement each), since a
 * Sort for DISTINCT or grouping may sort by more than the parts did.
 * A Sort does not project: its target list is its input's, position by
 * position, so the plan above reads the scan as it read the Sort.
 */
static bool
merge_instead_of_sort(Plan **planp, Query *combine)
{
	Plan	   *plan = *planp;
	Sort	   *sort;
	CustomScan *cs;
	List	   *attnos = NIL;
	List	   *ops = NIL;
	List	   *colls = NIL;
	List	   *nulls = NIL;

	if (plan == NULL)
		return false;
	if (!IsA(plan, Sort) || plan->lefttree == NULL || !IsA(plan->lefttree, CustomScan) ||
		((CustomScan *) plan->lefttree)->methods != &split_scan_methods)
	{
		if (merge_instead_of_sort(&plan->lefttree, combine) ||
			merge_instead_of_sort(&plan->righttree, combine))
			return true;
		if (IsA(plan, SubqueryScan))
			return merge_instead_of_sort(&((SubqueryScan *) plan)->subplan, combine);
		return false;
	}
	sort = (Sort *) plan;
	cs = (CustomScan *) plan->lefttree;
	if (sort->numCols > list_length(combine->sortClause))
		return false;
	for (int i = 0; i < sort->numCols; i++)
	{
		SortGroupClause *sgc = list_nth_node(SortGroupClause, combine->sortClause, i);
		TargetEntry *want = get_sortgroupclause_tle(sgc, combine->targetList);
		TargetEntry *have = list_nth_node(TargetEntry, cs->scan.plan.targetlist,
										  sort->sortColIdx[i] - 1);
		Var		   *wv = (Var *) want->expr;
		Var		   *hv = (Var *) have->expr;

		if (!IsA(wv, Var) || wv->varno != 1 || wv->varlevelsup != 0 ||
			!IsA(hv, Var) || hv->varno != INDEX_VAR || hv->varattno != wv->varattno ||
			sgc->sortop != sort->sortOperators[i] ||
			sgc->nulls_first != sort->nullsFirst[i] ||
			exprCollation((Node *) wv) != sort->collations[i])
			return false;
		attnos = lappend_int(attnos, hv->varattno);
		ops = lappend_oid(ops, sort->sortOperators[i]);
		colls = lappend_oid(colls, sort->collations[i]);
		nulls = lappend_int(nulls, sort->nullsFirst[i]);
	}
	llast(cs->custom_private) = list_make4(attnos, ops, colls, nulls);

	/*
	 * The scan, in the Sort's place, with the Sort's estimates and the
	 * labels of its target list: when the Sort was the top node, its
	 * entries carry the result's column names and their table and column
	 * of origin (the row description a client gets), which the scan's own
	 * entries, made for a node below the top, do not.
	 */
	apply_tlist_labeling(cs->scan.plan.targetlist, plan->targetlist);
	cs->scan.plan.startup_cost = plan->startup_cost;
	cs->scan.plan.total_cost = plan->total_cost;
	*planp = (Plan *) cs;
	return true;
}

PlannedStmt *
split_scan_try(Query *query, PlannedStmt *stmt, const char *query_string,
			   int cursorOptions, const char **reason)
{
	SplitPlan  *sp;
	Query	   *combine;
	PlannedStmt *cstmt;
	RangeTblEntry *rte;
	List	   *scan_tlist = NIL;
	int			nnodes = 0;
	RequestShape shape;
	bool		worker_ok;
	ListCell   *lc;

	*reason = NULL;
	if (!foresight_split)
		return NULL;
	if (IsTransactionBlock() && policy_block_pinned())
		*reason = "in a transaction block pinned to one node";
	else if (cursorOptions & CURSOR_OPT_SCROLL)
		*reason = "a scrollable cursor";
	else if (query_has_external_params(query))
		*reason = "has parameters";
	else if (clock_params_found((Node *) query))
		*reason = "reads the transaction's or statement's time, which each node would read itself";
	else if ((nnodes = count_part_nodes()) < 2)
		*reason = "fewer than two candidates (enabled standbys, and the coordinator when foresight.include_local is on)";
	if (*reason != NULL)
		return NULL;

	/*
	 * More pieces than nodes, so that a free node takes the next piece
	 * (split_scan_pieces.c); one per node when the parts are merged in
	 * order (the merge needs every part's first row at once).
	 */
	nnodes = Min(nnodes, foresight_max_split_parts);
	sp = split_plan_query(query, stmt, split_piece_count(nnodes, stmt ? stmt->planTree->total_cost : -1), true);
	if (sp->splittable && sp->nparts > nnodes &&
		sp->strategy != SPLIT_PARTIAL_AGGREGATES && sp->combine_query->sortClause != NIL)
		sp = split_plan_query(query, stmt, nnodes, true);
	if (!sp->splittable)
	{
		*reason = sp->reason;
		return NULL;
	}
	if (sp->nparts < 2)
	{
		*reason = sp->reason ? sp->reason : "the key's statistics give one part";
		return NULL;
	}

	combine = copyObject(sp->combine_query);
	combine->hasSubLinks = checkExprHasSubLink((Node *) combine->targetList) ||
		checkExprHasSubLink(combine->havingQual) ||
		checkExprHasSubLink(combine->limitCount) ||
		checkExprHasSubLink(combine->limitOffset);
	rte = rt_fetch(1, combine->rtable);
	foreach(lc, rte->coltypes)
	{
		int			i = foreach_current_index(lc);
		Var		   *v = makeVar(1, i + 1, lfirst_oid(lc), list_nth_int(rte->coltypmods, i),
								list_nth_oid(rte->colcollations, i), 0);

		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry((Expr *) v, i + 1,
											 pstrdup(strVal(list_nth(rte->eref->colnames, i))),
											 false));
	}
	parts_as_function(rte);

	/*
	 * The coordinator's pieces may run in a parallel worker when nothing in
	 * the query is restricted to the leader (the parts hold its expressions
	 * and pg_foresight's parallel-safe aggregates).  The executor then runs
	 * the plan in parallel mode, as it would a Gather's, and only when it
	 * runs it to its end at once (split_scan_worker.c).
	 */
	worker_ok = max_parallel_hazard(query) == PROPARALLEL_SAFE;

	cstmt = router_plan_deferred(combine, query_string);
	request_shape_of_plan(stmt, &shape);
	if (replace_parts_scan(&cstmt->planTree,
						   make_private(sp, GetUserId(), shape.flags, worker_ok),
						   scan_tlist) != 1)
	{
		*reason = "the combine step's plan does not read the parts once";
		return NULL;
	}
	if (worker_ok)
		cstmt->parallelModeNeeded = true;
	/* sorted parts are merged, not sorted again here */
	if (sp->strategy != SPLIT_PARTIAL_AGGREGATES && combine->sortClause != NIL)
		(void) merge_instead_of_sort(&cstmt->planTree, combine);

	/* the statement's identity, and the original's relations */
	cstmt->queryId = stmt->queryId;
	cstmt->stmt_location = stmt->stmt_location;
	cstmt->stmt_len = stmt->stmt_len;
	cstmt->canSetTag = stmt->canSetTag;
	cstmt->dependsOnRole = cstmt->dependsOnRole || stmt->dependsOnRole;
	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *orig = lfirst_node(RangeTblEntry, lc);

		if (orig->rtekind == RTE_RELATION)
			cstmt->rtable = lappend(cstmt->rtable, orig);
	}
	cstmt->relationOids = list_concat_unique_oid(cstmt->relationOids, stmt->relationOids);
	cstmt->invalItems = list_concat(cstmt->invalItems, stmt->invalItems);
	return cstmt;
}

/* the split scan of plan, or NULL */
static CustomScan *
find_split_scan(Plan *plan)
{
	CustomScan *found = NULL;

	if (plan == NULL)
		return NULL;
	if (IsA(plan, CustomScan) && ((CustomScan *) plan)->methods == &split_scan_methods)
		return (CustomScan *) plan;
	if ((found = find_split_scan(plan->lefttree)) != NULL)
		return found;
	if ((found = find_split_scan(plan->righttree)) != NULL)
		return found;
	if (IsA(plan, SubqueryScan))
		return find_split_scan(((SubqueryScan *) plan)->subplan);
	if (IsA(plan, Append))
	{
		ListCell   *lc;

		foreach(lc, ((Append *) plan)->appendplans)
			if ((found = find_split_scan(lfirst(lc))) != NULL)
				return found;
	}
	return NULL;
}

bool
split_scan_in_plan(Plan *plan)
{
	return find_split_scan(plan) != NULL;
}

bool
split_scan_route_explain(PlannedStmt *stmt, RouteDecision *d, char **reason, char **sql)
{
	CustomScan *cs = find_split_scan(stmt->planTree);
	SplitScanInfo info;
	StringInfoData why;
	StringInfoData text;
	List	   *nodes = NIL;
	ListCell   *lc;

	if (cs == NULL)
		return false;
	split_scan_info(cs, &info);
	policy_decide(d, info.cost, true);
	/* the standbys take the first parts, the coordinator (a candidate) the next */
	for (int i = 0; i < d->ncandidates; i++)
	{
		ForesightNode node;
		int			room = list_length(info.part_sql) - (d->local_is_candidate ? 1 : 0);

		if (!d->candidates[i].is_local && list_length(nodes) < room &&
			registry_lookup(d->candidates[i].name, &node) && node.kind == NODE_KIND_STANDBY)
			nodes = lappend(nodes, d->candidates[i].name);
	}
	if (d->local_is_candidate && !d->run_local && nodes != NIL)
		nodes = lappend(nodes, FORESIGHT_LOCAL_NODE_NAME);
	initStringInfo(&why);
	initStringInfo(&text);
	appendStringInfo(&why, "split: %d parts of %s by %s (%s)", list_length(info.part_sql),
					 info.relation, info.key, info.strategy);
	foreach(lc, info.part_conditions)
	{
		int			i = foreach_current_index(lc);

		appendStringInfo(&why, "%s part %d %s on %s", i == 0 ? ":" : ",", i + 1,
						 (char *) lfirst(lc),
						 nodes ? (char *) list_nth(nodes, i % list_length(nodes)) :
						 FORESIGHT_LOCAL_NODE_NAME);
		appendStringInfo(&text, "%s%s", i == 0 ? "" : ";\n", (char *) list_nth(info.part_sql, i));
	}
	*reason = why.data;
	*sql = text.data;
	return true;
}
