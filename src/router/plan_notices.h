/*-------------------------------------------------------------------------
 *
 * plan_notices.h
 *	  The notices raised while a routable statement is planned here, held
 *	  back until its route is known (see plan_notices.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_PLAN_NOTICES_H
#define FORESIGHT_PLAN_NOTICES_H

#include "postgres.h"

#include "nodes/pg_list.h"

/*
 * Planner hook, around the planning of a statement it may wrap: hold back
 * the NOTICE, WARNING and INFO messages raised from now on, until
 * plan_notices_stop().  An error in between: plan_notices_release(), then
 * re-throw (they come before the error, as locally).
 */
extern void plan_notices_hold(void);
extern void plan_notices_stop(void);

/* The statement was not wrapped: raise what was held back, now. */
extern void plan_notices_release(void);

/* It was: keep what was held back for the next route node's executor start. */
extern void plan_notices_keep(void);

/*
 * Executor start of a route node: what was held back while it was planned
 * (NIL if nothing, or if it was planned earlier: a cached plan).
 */
extern List *plan_notices_take(void);

/* Raise held-back notices (the query runs here), or forget them (a node runs it). */
extern void plan_notices_raise(List **notices);
extern void plan_notices_forget(List **notices);

#endif							/* FORESIGHT_PLAN_NOTICES_H */
