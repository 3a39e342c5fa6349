/*-------------------------------------------------------------------------
 *
 * unrouted_log.h
 *	  Decision-log entries for top-level statements that are not routable.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_UNROUTED_LOG_H
#define FORESIGHT_UNROUTED_LOG_H

#include "postgres.h"

#include "executor/execdesc.h"
#include "nodes/plannodes.h"

/* the planner hook left stmt alone, for this reason */
extern void unrouted_remember_plan(const PlannedStmt *stmt, const char *reason);

/* log a top-level statement without a route (after standard start) */
extern void unrouted_executor_start(QueryDesc *query, int eflags);

/* its latency, once it ends */
extern void unrouted_executor_end(QueryDesc *query);

/* statements that did not reach executor end: finished, failed if aborted */
extern void unrouted_xact_end(bool aborted);

#endif							/* FORESIGHT_UNROUTED_LOG_H */
