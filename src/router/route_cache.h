/*-------------------------------------------------------------------------
 *
 * route_cache.h
 *	  Routed plans of query shapes this session has seen, reused without
 *	  planning (see route_cache.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUTE_CACHE_H
#define FORESIGHT_ROUTE_CACHE_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

/* shapes kept per session; the least recently used one makes room */
#define ROUTE_CACHE_ENTRIES 64

/* only shapes whose first plan cost less than this (classes point, small) */
#define ROUTE_CACHE_MAX_COST 10000.0

/* foresight.defer_local_planning */
extern bool foresight_defer_local_planning;

/* A hash of a query's shape: equal for queries differing only in constants. */
extern uint64 route_cache_hash(const Query *query);

/*
 * The routed plan for query, whose lifted form (constants replaced by
 * parameters, lift_constants.c) is lifted with values param_values, when a
 * query of that shape was planned before by this role with this
 * search_path; NULL otherwise.  The plan's route node has no child: the
 * query is planned at execution if it runs here (route_local.c).
 */
extern PlannedStmt *route_cache_lookup(uint64 hash, const Query *lifted,
									   Query *query, List *param_values);

/* Remember stmt, the routed plan made for a query whose lifted form is lifted. */
extern void route_cache_store(uint64 hash, const Query *lifted, const PlannedStmt *stmt);

/*
 * Forget every shape (at the next look-up): something a shape's eligibility
 * was decided on has changed (random_seed.c).
 */
extern void route_cache_forget_all(void);

#endif							/* FORESIGHT_ROUTE_CACHE_H */
