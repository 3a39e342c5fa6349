/*-------------------------------------------------------------------------
 *
 * eligibility.h
 *	  Which statements may run on a node.  Two checks: one at plan time on
 *	  the analysed query and its plan (the shape), one at executor start on
 *	  the session (the circumstances: the plan may be cached).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ELIGIBILITY_H
#define FORESIGHT_ELIGIBILITY_H

#include "postgres.h"

#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

/*
 * Plan-time check.  Returns NULL when the statement may be routed (and
 * fills *param_types with the types of $1..$n it references), otherwise
 * the reason it may not, a static string.
 */
extern const char *eligibility_check_statement(Query *parse, PlannedStmt *stmt,
											   int cursorOptions,
											   List **param_types);

/*
 * For a query shape kept for later queries with other constants
 * (route_cache.c): NULL when no inheritance child or partition of a table
 * parse reads is one a node cannot read, else the reason.  A plan names
 * only the children its constants select, so eligibility_check_statement
 * answers for one query, this for its shape.
 */
extern const char *eligibility_check_children(const Query *parse);

/* Executor-start check of the session; NULL or the reason (static). */
extern const char *eligibility_check_session(Oid plan_user);

/* Volatile functions that are nevertheless safe to run on a node. */
extern bool eligibility_function_is_safe_volatile(Oid funcid);

/* The reason the last statement planned in this backend was not wrapped. */
extern const char *eligibility_last_reason;

/* the reason given to statements that read pg_foresight's own state */
extern const char eligibility_reason_own_function[];

/* the reason given to a cursor opened with DECLARE */
extern const char eligibility_reason_cursor[];

#endif							/* FORESIGHT_ELIGIBILITY_H */
