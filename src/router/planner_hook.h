/*-------------------------------------------------------------------------
 *
 * planner_hook.h
 *	  The planner hook: wraps an eligible plan in the route node, with the
 *	  deparsed remote SQL (see planner_hook.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_PLANNER_HOOK_H
#define FORESIGHT_PLANNER_HOOK_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

extern void router_install_planner_hook(void);

/* The transaction ended: no SELECT analyzed since is still to be planned. */
extern void router_one_shot_forget(void);

/* Plan a deferred query (route_cache.c) for local execution, unwrapped. */
extern PlannedStmt *router_plan_deferred(Query *query, const char *query_string);

#endif							/* FORESIGHT_PLANNER_HOOK_H */
