/*-------------------------------------------------------------------------
 *
 * route_plan.c
 *	  The "Foresight Route" plan node: made by the planner hook around a
 *	  local plan, or from a known shape's template (route_cache.c), and
 *	  read by its execution (route_scan.c).
 *
 * Plan shape: a CustomScan whose outer child (lefttree) is the complete
 * local plan, or, for a query of a shape seen before (route_cache.c), no
 * child and the query itself, planned at execution if it runs here and run
 * in an executor of its own.  Its scan tuple is described by
 * custom_scan_tlist, one Var (OUTER_VAR, i) per column the child returns,
 * and its targetlist is (INDEX_VAR, i) for each, with the child's names and
 * resjunk flags, so the node is a drop-in replacement for the child and
 * EXPLAIN VERBOSE shows the child's expressions.  custom_private holds the
 * remote SQL, the types of $1..$n, the role the plan was made for, the
 * lifted constants' values, the request shape, the deferred query and
 * what the last parameters stand for when they are the transaction's or
 * statement's time (clock_params.c), the settings its values are read
 * under on a node (route_values_settings()), whether the local plan
 * returns at most one row whatever its parameters (single_row.c)
 * (PRIV_*); the child's cost, which the
 * request class follows, is the node's own.
 *
 * This file knows nothing of execution: the node's methods get the
 * function that makes its execution state when they are registered.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"

#include "router/route_plan.h"

/* custom_private positions */
#define PRIV_SQL		0
#define PRIV_PARAMS		1
#define PRIV_USER		2
#define PRIV_VALUES		3
#define PRIV_SHAPE		4
#define PRIV_DEFERRED	5
#define PRIV_CLOCK		6
#define PRIV_NOT_SPLIT	7
#define PRIV_VALUE_SETTINGS 8
#define PRIV_SINGLE_ROW	9

static CustomScanMethods route_scan_methods = {
	ROUTE_SCAN_NAME,
	NULL						/* set by route_plan_register */
};

void
route_plan_register(Node *(*create_state) (CustomScan *cscan))
{
	route_scan_methods.CreateCustomScanState = create_state;
	RegisterCustomScanMethods(&route_scan_methods);
}

bool
route_scan_is_route(Plan *plan)
{
	return plan && IsA(plan, CustomScan) &&
		((CustomScan *) plan)->methods == &route_scan_methods;
}

const char *
route_scan_remote_sql(Plan *plan)
{
	if (!route_scan_is_route(plan))
		return NULL;
	return strVal(list_nth(((CustomScan *) plan)->custom_private, PRIV_SQL));
}

List *
route_scan_remote_parameters(Plan *plan)
{
	if (!route_scan_is_route(plan))
		return NIL;
	return (List *) list_nth(((CustomScan *) plan)->custom_private, PRIV_VALUES);
}

Plan *
route_scan_wrap(Plan *child, const char *remote_sql, List *param_types,
				List *param_values, List *clock_kinds, Oid check_user, int shape_flags,
				int value_settings, bool single_row)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *scan_tlist = NIL;
	List	   *tlist = NIL;
	ListCell   *lc;
	AttrNumber	attno = 0;

	foreach(lc, child->targetlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Oid			type = exprType((Node *) tle->expr);
		int32		typmod = exprTypmod((Node *) tle->expr);
		Oid			collation = exprCollation((Node *) tle->expr);
		TargetEntry *scan_tle;
		TargetEntry *out_tle;

		attno++;
		scan_tle = makeTargetEntry((Expr *) makeVar(OUTER_VAR, tle->resno, type, typmod, collation, 0),
								   attno, tle->resname, tle->resjunk);
		scan_tlist = lappend(scan_tlist, scan_tle);

		out_tle = flatCopyTargetEntry(tle);
		out_tle->expr = (Expr *) makeVar(INDEX_VAR, attno, type, typmod, collation, 0);
		tlist = lappend(tlist, out_tle);
	}

	cscan->scan.plan.startup_cost = child->startup_cost;
	cscan->scan.plan.total_cost = child->total_cost;
	cscan->scan.plan.plan_rows = child->plan_rows;
	cscan->scan.plan.plan_width = child->plan_width;
	cscan->scan.plan.parallel_aware = false;
	cscan->scan.plan.parallel_safe = false;
	cscan->scan.plan.plan_node_id = child->plan_node_id;
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = NIL;
	cscan->scan.plan.lefttree = child;
	cscan->scan.plan.righttree = NULL;
	cscan->scan.plan.extParam = bms_copy(child->extParam);
	cscan->scan.plan.allParam = bms_copy(child->allParam);
	cscan->scan.scanrelid = 0;
	cscan->flags = 0;
	cscan->custom_plans = NIL;
	cscan->custom_exprs = NIL;
	cscan->custom_scan_tlist = scan_tlist;
	cscan->custom_relids = NULL;
	cscan->methods = &route_scan_methods;
	cscan->custom_private = list_make4(makeString(pstrdup(remote_sql)),
									   param_types,
									   makeInteger((int) check_user),
									   param_values);
	cscan->custom_private = lappend(cscan->custom_private, makeInteger(shape_flags));
	cscan->custom_private = lappend(cscan->custom_private, NULL);
	cscan->custom_private = lappend(cscan->custom_private, clock_kinds);
	cscan->custom_private = lappend(cscan->custom_private, NULL);
	cscan->custom_private = lappend(cscan->custom_private, makeInteger(value_settings));
	cscan->custom_private = lappend(cscan->custom_private, makeBoolean(single_row));
	return (Plan *) cscan;
}

void
route_scan_set_not_split(Plan *route, const char *reason)
{
	Assert(route_scan_is_route(route));
	lfirst(list_nth_cell(((CustomScan *) route)->custom_private, PRIV_NOT_SPLIT)) =
		reason ? makeString(pstrdup(reason)) : NULL;
}

const char *
route_scan_not_split(Plan *plan)
{
	Node	   *reason;

	if (!route_scan_is_route(plan))
		return NULL;
	reason = list_nth(((CustomScan *) plan)->custom_private, PRIV_NOT_SPLIT);
	return reason ? strVal(reason) : NULL;
}

/*
 * A copy of a route node without its local plan and without values: what
 * route_cache.c keeps of a shape.
 */
Plan *
route_scan_template(const Plan *route)
{
	CustomScan	shallow;
	CustomScan *cscan;

	Assert(route_scan_is_route((Plan *) route));
	memcpy(&shallow, route, sizeof(CustomScan));
	shallow.scan.plan.lefttree = NULL;
	shallow.scan.plan.extParam = NULL;
	shallow.scan.plan.allParam = NULL;
	cscan = copyObject(&shallow);
	lfirst(list_nth_cell(cscan->custom_private, PRIV_USER)) = makeInteger(InvalidOid);
	lfirst(list_nth_cell(cscan->custom_private, PRIV_VALUES)) = NIL;
	return (Plan *) cscan;
}

/*
 * The route node for query from a template (route_scan_template): no local
 * plan, which is made from query at execution if the query runs here.
 */
Plan *
route_scan_deferred(const Plan *template, Query *query, List *param_values, Oid check_user)
{
	CustomScan *cscan = (CustomScan *) copyObject(template);

	lfirst(list_nth_cell(cscan->custom_private, PRIV_USER)) = makeInteger((int) check_user);
	lfirst(list_nth_cell(cscan->custom_private, PRIV_VALUES)) = param_values;
	lfirst(list_nth_cell(cscan->custom_private, PRIV_DEFERRED)) = query;
	return (Plan *) cscan;
}

void
route_plan_info(const CustomScan *cscan, RoutePlanInfo *info)
{
	info->sql = strVal(list_nth(cscan->custom_private, PRIV_SQL));
	info->param_types = (List *) list_nth(cscan->custom_private, PRIV_PARAMS);
	info->plan_user = (Oid) intVal(list_nth(cscan->custom_private, PRIV_USER));
	/* the child's, copied above: a float read back from text costs a strtod */
	info->cost = cscan->scan.plan.total_cost;
	info->lifted_values = (List *) list_nth(cscan->custom_private, PRIV_VALUES);
	info->shape = intVal(list_nth(cscan->custom_private, PRIV_SHAPE));
	info->deferred = (Query *) list_nth(cscan->custom_private, PRIV_DEFERRED);
	info->clock_kinds = (List *) list_nth(cscan->custom_private, PRIV_CLOCK);
	info->value_settings = intVal(list_nth(cscan->custom_private, PRIV_VALUE_SETTINGS));
	info->single_row = boolVal(list_nth(cscan->custom_private, PRIV_SINGLE_ROW));
	info->not_split = route_scan_not_split((Plan *) cscan);
}
