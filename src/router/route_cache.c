/*-------------------------------------------------------------------------
 *
 * route_cache.c
 *	  Routed plans of query shapes this session has seen, so that a
 *	  simple-protocol query of a known shape is routed without being
 *	  planned here.
 *
 * A client sending its queries as text has each one parsed, analysed and
 * planned on the coordinator, although most of them run on a node and the
 * local plan is never used.  Once the constants of its conditions are
 * lifted into parameters (lift_constants.c), queries differing only in
 * those constants have equal trees and the same remote SQL.  The first
 * query of a shape is planned and wrapped as usual; its routed plan is kept
 * here without the local child.  A later query whose lifted tree is
 * equal() to it, issued by the same role under the same search_path, gets
 * a copy of that plan: the route node with this query's values, the remote
 * SQL already deparsed, and the query itself, planned at execution only if
 * it runs here (route_local.c).  Its local plan is therefore made for its
 * own constants and settings, as without this cache.
 *
 * The key.  The look-up comes after parse analysis (this is the planner
 * hook), so whatever the session's settings made of the client's text is
 * in the lifted tree already: a literal's value under DateStyle,
 * IntervalStyle, TimeZone or standard_conforming_strings, "x = NULL" under
 * transform_null_equals; constants lifted into parameters get this query's
 * own values.  What the entry keeps from another query is the remote SQL,
 * written under the settings of the first query's planning, and it is the
 * same text for every session only where the planner hook fixes the
 * setting (floats, dates, intervals, string literals: planner_hook.c).
 * The rest is in the key: the role, search_path (names are qualified as it
 * requires) and lc_monetary (money constants are written in its format).
 *
 * Bounds: ROUTE_CACHE_ENTRIES shapes per backend, the least recently used
 * making room, and only shapes whose first plan cost less than
 * ROUTE_CACHE_MAX_COST (where planning is a large share of the work).  Any
 * invalidation of a relation, function, type, operator, collation or
 * schema empties the cache: names in the remote SQL and eligibility both
 * depend on them.  A shape is kept only when every partition and
 * inheritance child of the tables it reads could be read on a node
 * (eligibility_check_children): the first query's plan names only those
 * its constants selected, and a later query's plan is not made here.
 * Attaching a partition or a child invalidates its parent, which empties
 * the cache.  The view foresight.query_shapes lists the entries.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/pg_locale.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "router/eligibility.h"
#include "router/route_plan.h"
#include "router/router.h"
#include "router/route_cache.h"

bool		foresight_defer_local_planning = true;

typedef struct RouteCacheEntry
{
	bool		used;
	uint64		hash;
	Oid			user;
	uint64		last_use;		/* use_clock at the last hit or store */
	int64		hits;
	TimestampTz created;
	MemoryContext cxt;			/* holds the fields below */
	Query	   *lifted;			/* the key, compared with equal() */
	OverrideSearchPath *search_path;
	char	   *lc_monetary;	/* money literals in the remote SQL use it */
	PlannedStmt *stmt;			/* route node without child and values */
} RouteCacheEntry;

static RouteCacheEntry entries[ROUTE_CACHE_ENTRIES];
static uint64 use_clock = 0;
static bool cache_invalid = false;
static MemoryContext shape_context = NULL;

static void
invalidate_all(Datum arg, int cacheid, uint32 hashvalue)
{
	cache_invalid = true;
}

static void
invalidate_all_rel(Datum arg, Oid relid)
{
	cache_invalid = true;
}

/* Free the entries if an invalidation arrived; never called from a callback. */
static void
flush_if_invalid(void)
{
	if (!cache_invalid)
		return;
	cache_invalid = false;
	for (int i = 0; i < ROUTE_CACHE_ENTRIES; i++)
	{
		if (entries[i].used)
			MemoryContextDelete(entries[i].cxt);
		entries[i].used = false;
	}
}

void
route_cache_forget_all(void)
{
	cache_invalid = true;
}

/* the invalidation callbacks, registered by the first entry of a backend */
static void
register_callbacks(void)
{
	static const int syscaches[] = {PROCOID, TYPEOID, OPEROID, NAMESPACEOID, COLLOID};

	CacheRegisterRelcacheCallback(invalidate_all_rel, (Datum) 0);
	for (int i = 0; i < lengthof(syscaches); i++)
		CacheRegisterSyscacheCallback(syscaches[i], invalidate_all, (Datum) 0);
}

/*
 * compute_query_id's identifier when it is on (it ignores constants' values,
 * as pg_stat_statements does); otherwise a cheap digest of the tables,
 * output columns, top condition and clauses.  Collisions only cost an
 * equal() that fails.
 */
uint64
route_cache_hash(const Query *query)
{
	uint32		h;
	ListCell   *lc;
	Node	   *quals = query->jointree ? query->jointree->quals : NULL;

	if (query->queryId != UINT64CONST(0))
		return query->queryId;

	h = hash_uint32((uint32) list_length(query->rtable));
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		h = hash_combine(h, (uint32) rte->rtekind);
		h = hash_combine(h, (uint32) rte->relid);
	}
	foreach(lc, query->targetList)
		h = hash_combine(h, (uint32) exprType((Node *) ((TargetEntry *) lfirst(lc))->expr));
	h = hash_combine(h, quals ? (uint32) nodeTag(quals) : 0);
	if (quals && IsA(quals, OpExpr))
		h = hash_combine(h, (uint32) ((OpExpr *) quals)->opno);
	else if (quals && IsA(quals, BoolExpr))
		h = hash_combine(h, (uint32) list_length(((BoolExpr *) quals)->args));
	h = hash_combine(h, (uint32) list_length(query->sortClause) |
					 (uint32) list_length(query->groupClause) << 8 |
					 (uint32) list_length(query->cteList) << 16 |
					 (uint32) (query->limitCount != NULL) << 24 |
					 (uint32) query->hasAggs << 25 |
					 (uint32) query->hasWindowFuncs << 26 |
					 (uint32) query->hasSubLinks << 27 |
					 (uint32) (query->setOperations != NULL) << 28 |
					 (uint32) query->hasDistinctOn << 29);
	return (uint64) h;
}

/* a copy of stmt around plan, with its own range table and dependencies */
static PlannedStmt *
copy_stmt_around(const PlannedStmt *stmt, Plan *plan)
{
	PlannedStmt *copy = makeNode(PlannedStmt);

	memcpy(copy, stmt, sizeof(PlannedStmt));
	copy->planTree = plan;
	copy->rtable = copyObject(stmt->rtable);
	copy->relationOids = list_copy(stmt->relationOids);
	copy->invalItems = copyObject(stmt->invalItems);
	return copy;
}

PlannedStmt *
route_cache_lookup(uint64 hash, const Query *lifted, Query *query, List *param_values)
{
	Oid			user = GetUserId();

	flush_if_invalid();
	for (int i = 0; i < ROUTE_CACHE_ENTRIES; i++)
	{
		RouteCacheEntry *e = &entries[i];
		PlannedStmt *stmt;

		if (!e->used || e->hash != hash || e->user != user ||
			!equal(e->lifted, lifted))
			continue;
		if (strcmp(e->lc_monetary, locale_monetary) != 0)
			continue;
		/* names in the remote SQL were written for this search_path */
		if (!OverrideSearchPathMatchesCurrent(e->search_path))
			continue;
		/* (computing the current search_path may read catalogs) */
		if (cache_invalid)
			return NULL;

		stmt = copy_stmt_around(e->stmt, route_scan_deferred(e->stmt->planTree, query,
																param_values, user));
		stmt->queryId = query->queryId;
		stmt->stmt_location = query->stmt_location;
		stmt->stmt_len = query->stmt_len;
		e->last_use = ++use_clock;
		e->hits++;
		return stmt;
	}
	return NULL;
}

void
route_cache_store(uint64 hash, const Query *lifted, const PlannedStmt *stmt)
{
	RouteCacheEntry *e = NULL;
	MemoryContext old;
	PlannedStmt *copy;

	flush_if_invalid();
	if (!route_scan_is_route(stmt->planTree) || stmt->parallelModeNeeded ||
		stmt->planTree->total_cost >= ROUTE_CACHE_MAX_COST)
		return;
	/* other constants could select a partition this plan pruned */
	if (eligibility_check_children(lifted) != NULL)
		return;

	if (shape_context == NULL)
	{
		register_callbacks();
		shape_context = AllocSetContextCreate(TopMemoryContext, "foresight query shapes",
											  ALLOCSET_SMALL_SIZES);
	}
	/* a free entry, else the least recently used */
	for (int i = 0; i < ROUTE_CACHE_ENTRIES; i++)
	{
		if (!entries[i].used)
		{
			e = &entries[i];
			break;
		}
		if (e == NULL || entries[i].last_use < e->last_use)
			e = &entries[i];
	}
	if (e->used)
		MemoryContextDelete(e->cxt);
	memset(e, 0, sizeof(*e));
	e->cxt = AllocSetContextCreate(shape_context, "foresight query shape", ALLOCSET_SMALL_SIZES);

	old = MemoryContextSwitchTo(e->cxt);
	e->lifted = (Query *) copyObjectImpl(lifted);
	e->search_path = GetOverrideSearchPath(e->cxt);
	e->lc_monetary = pstrdup(locale_monetary);
	copy = copy_stmt_around(stmt, route_scan_template(stmt->planTree));
	/* everything that belonged to the local plan goes */
	copy->resultRelations = NIL;
	copy->appendRelations = NIL;
	copy->subplans = NIL;
	copy->rewindPlanIDs = NULL;
	copy->rowMarks = NIL;
	copy->paramExecTypes = NIL;
	copy->utilityStmt = NULL;
	e->stmt = copy;
	MemoryContextSwitchTo(old);

	e->hash = hash;
	e->user = GetUserId();
	e->created = GetCurrentTimestamp();
	e->last_use = ++use_clock;
	e->used = true;
}

/*
 * foresight.query_shapes(): this session's entries, like
 * pg_prepared_statements.
 */
PG_FUNCTION_INFO_V1(foresight_query_shapes);

Datum
foresight_query_shapes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 5);
	flush_if_invalid();
	for (int i = 0; i < ROUTE_CACHE_ENTRIES; i++)
	{
		RouteCacheEntry *e = &entries[i];
		Datum		values[5];
		bool		nulls[5] = {false};

		if (!e->used)
			continue;
		values[0] = CStringGetTextDatum(route_scan_remote_sql(e->stmt->planTree));
		values[1] = ObjectIdGetDatum(e->user);
		values[2] = Float8GetDatum(e->stmt->planTree->total_cost);
		values[3] = Int64GetDatum(e->hits);
		values[4] = TimestampTzGetDatum(e->created);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
