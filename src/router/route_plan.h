/*-------------------------------------------------------------------------
 *
 * route_plan.h
 *	  The "Foresight Route" plan node: how the planner hook and the shape
 *	  cache make one, and what it carries for its execution (see
 *	  route_plan.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUTE_PLAN_H
#define FORESIGHT_ROUTE_PLAN_H

#include "postgres.h"

#include "nodes/extensible.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

#define ROUTE_SCAN_NAME "Foresight Route"

/* What a route node carries for its execution (its custom_private). */
typedef struct RoutePlanInfo
{
	char	   *sql;			/* the remote SQL */
	List	   *param_types;	/* types of $1..$n (OID list) */
	List	   *lifted_values;	/* values of lifted constants, or NIL */
	Oid			plan_user;		/* the role the plan was made for */
	double		cost;			/* the local plan's total cost */
	int			shape;			/* SHAPE_* flags of the local plan */
	Query	   *deferred;		/* to plan if it runs here, when no child */
	List	   *clock_kinds;	/* the last parameters: the transaction's and
								 * statement's times (clock_params.c), or NIL */
	const char *not_split;		/* foresight.split on: why it is routed whole */
	int			value_settings; /* its values' input settings
								 * (route_values_settings()) */
	bool		single_row;		/* at most one row whatever its parameters
								 * (plan_returns_single_row()) */
} RoutePlanInfo;

/*
 * Register the node's methods, whose state the executor makes with
 * create_state (route_scan.c); once, at load.
 */
extern void route_plan_register(Node *(*create_state) (CustomScan *cscan));

/*
 * Wrap child, a complete local plan, in a route node that runs remote_sql
 * (parameters of types param_types; param_values, String nodes, when they
 * are the values of lifted constants; the last list_length(clock_kinds)
 * parameters are the transaction's and statement's times, clock_params.c)
 * on a node when the route says so.
 */
extern Plan *route_scan_wrap(Plan *child, const char *remote_sql, List *param_types,
							 List *param_values, List *clock_kinds, Oid check_user,
							 int shape_flags, int value_settings, bool single_row);

/* A route node's copy without local plan and values, for route_cache.c. */
extern Plan *route_scan_template(const Plan *route);

/* The route node for query from a template, its local plan made if it runs here. */
extern Plan *route_scan_deferred(const Plan *template, Query *query, List *param_values,
								 Oid check_user);

/* Is plan a route node? */
extern bool route_scan_is_route(Plan *plan);

/* The remote SQL of a route node, NULL for any other plan. */
extern const char *route_scan_remote_sql(Plan *plan);

/* the values of the constants lifted into parameters (String nodes), or NIL */
extern List *route_scan_remote_parameters(Plan *plan);

/*
 * With foresight.split on, why a read the router routes whole was not
 * split (for the decision log, EXPLAIN and route_explain); NULL when split
 * was not asked for.
 */
extern void route_scan_set_not_split(Plan *route, const char *reason);
extern const char *route_scan_not_split(Plan *plan);

/* What route node cscan carries, for its execution. */
extern void route_plan_info(const CustomScan *cscan, RoutePlanInfo *info);

#endif							/* FORESIGHT_ROUTE_PLAN_H */
