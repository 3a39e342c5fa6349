/*-------------------------------------------------------------------------
 *
 * route_scan.h
 *	  The "Foresight Route" custom scan (see route_scan.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUTE_SCAN_H
#define FORESIGHT_ROUTE_SCAN_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

/* The remote SQL of a route node, NULL for any other plan. */
extern const char *route_scan_remote_sql(Plan *plan);

/* the values of the constants lifted into parameters (String nodes), or NIL */
extern List *route_scan_remote_parameters(Plan *plan);

/* A route node's copy without local plan and values, for route_cache.c. */
extern Plan *route_scan_template(const Plan *route);

/* The route node for query from a template, its local plan made if it runs here. */
extern Plan *route_scan_deferred(const Plan *template, Query *query, List *param_values,
								 Oid check_user);

/* Transaction abort: give back the in-flight counts of interrupted scans. */
extern void route_scan_abort_cleanup(void);

#endif							/* FORESIGHT_ROUTE_SCAN_H */
