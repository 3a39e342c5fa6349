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

/*
 * An eligible plan left unwrapped because the coordinator's own cost keeps
 * its class here (kept_here.c): logged with reason, as the policy's
 * decision, and counted as a read run here.
 */
extern void unrouted_remember_kept(const PlannedStmt *stmt, const char *reason);

/* Was stmt kept here so (and so found eligible)? */
extern bool unrouted_plan_is_kept(const PlannedStmt *stmt);

/* log a top-level statement without a route (after standard start) */
extern void unrouted_executor_start(QueryDesc *query, int eflags);

/* its latency, once it ends */
extern void unrouted_executor_end(QueryDesc *query);

/* statements that did not reach executor end: finished, failed if aborted */
extern void unrouted_xact_end(bool aborted);

#endif							/* FORESIGHT_UNROUTED_LOG_H */
