/*-------------------------------------------------------------------------
 *
 * request_shape.c
 *	  Classify a query from its plan (see request_shape.h).
 *
 * The class is a bucket of the plan's total cost: the planner's own
 * estimate of the work, which is what the mission calls the request's
 * complexity.  The shape flags say what kind of work it is, for the
 * decision log and EXPLAIN.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"

#include "stats/request_shape.h"

static void
walk_plan(const Plan *plan, int *flags)
{
	ListCell   *lc;

	if (plan == NULL)
		return;

	switch (nodeTag(plan))
	{
		case T_IndexScan:
		case T_IndexOnlyScan:
			*flags |= plan->plan_rows <= 1.0 ? SHAPE_POINT_LOOKUP : SHAPE_RANGE_SCAN;
			break;
		case T_BitmapHeapScan:
		case T_TidRangeScan:
			*flags |= SHAPE_RANGE_SCAN;
			break;
		case T_TidScan:
			*flags |= SHAPE_POINT_LOOKUP;
			break;
		case T_SeqScan:
		case T_SampleScan:
			*flags |= SHAPE_SEQ_SCAN;
			break;
		case T_Agg:
		case T_WindowAgg:
			*flags |= SHAPE_AGGREGATE;
			break;
		case T_NestLoop:
		case T_MergeJoin:
		case T_HashJoin:
			*flags |= SHAPE_JOIN;
			break;
		case T_Sort:
		case T_IncrementalSort:
			*flags |= SHAPE_SORT;
			break;
		default:
			break;
	}

	walk_plan(plan->lefttree, flags);
	walk_plan(plan->righttree, flags);

	/* children that are not in lefttree/righttree */
	switch (nodeTag(plan))
	{
		case T_Append:
			foreach(lc, ((const Append *) plan)->appendplans)
				walk_plan(lfirst(lc), flags);
			break;
		case T_MergeAppend:
			foreach(lc, ((const MergeAppend *) plan)->mergeplans)
				walk_plan(lfirst(lc), flags);
			break;
		case T_SubqueryScan:
			walk_plan(((const SubqueryScan *) plan)->subplan, flags);
			break;
		case T_CustomScan:
			foreach(lc, ((const CustomScan *) plan)->custom_plans)
				walk_plan(lfirst(lc), flags);
			break;
		default:
			break;
	}
}

void
request_shape_of_plan(const PlannedStmt *stmt, RequestShape *shape)
{
	ListCell   *lc;

	shape->flags = 0;
	shape->total_cost = stmt->planTree ? stmt->planTree->total_cost : 0.0;
	walk_plan(stmt->planTree, &shape->flags);
	foreach(lc, stmt->subplans)
		walk_plan(lfirst(lc), &shape->flags);
	shape->request_class = request_class_from_cost(shape->total_cost);
}

char *
request_shape_describe(int flags)
{
	static const struct
	{
		int			flag;
		const char *name;
	}			names[] = {
		{SHAPE_POINT_LOOKUP, "point lookup"},
		{SHAPE_RANGE_SCAN, "range scan"},
		{SHAPE_SEQ_SCAN, "sequential scan"},
		{SHAPE_JOIN, "join"},
		{SHAPE_AGGREGATE, "aggregate"},
		{SHAPE_SORT, "sort"},
	};
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < lengthof(names); i++)
	{
		if (!(flags & names[i].flag))
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, names[i].name);
	}
	if (buf.len == 0)
		appendStringInfoString(&buf, "other");
	return buf.data;
}
