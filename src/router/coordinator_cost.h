/*-------------------------------------------------------------------------
 *
 * coordinator_cost.h
 *	  What a read costs the coordinator's own CPU, routed or run here, per
 *	  request class, measured; and the predictive policy's rule that runs
 *	  a read here when the coordinator is busy (its predicted load, or its
 *	  CPU limit reached), its CPU scarcer than the node's the scores chose, and
 *	  routing the read would cost it more than running it
 *	  (foresight.coordinator_cost; docs/routing.md#the-coordinators-own-cost).
 *
 * The clock is the backend's thread CPU time (CLOCK_THREAD_CPUTIME_ID)
 * from the start of the statement's planning (when the execution is the
 * first of the plan) or else of the route scan, to the route scan's end:
 * the planning, the decision, the remote round trip or the local
 * execution, and the rows handed to the client.  Planning is counted
 * because how much of it a read needs depends on where it runs: a shape
 * routed before is not planned here (route_cache.c) unless it then runs
 * here, so without it a read run here would look cheaper when planned
 * ahead than when planned late.  Parsing and the client's socket are the
 * same either way and are left out.  One statement in COST_SAMPLE_EVERY
 * of each backend is timed, after its first COST_COLD_STATEMENTS (cold
 * caches), so the clock reads cost little; the averages are smoothed and
 * kept in shared memory under a spinlock.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_COORDINATOR_COST_H
#define FORESIGHT_COORDINATOR_COST_H

#include "stats/request_class.h"

/* one execution's clock: started when this backend samples it */
typedef struct CostClock
{
	bool		running;
	int64		start_ns;
} CostClock;

/* what a class costs, as measured */
typedef struct CoordinatorCost
{
	double		route_us;		/* coordinator CPU per routed read */
	double		local_us;		/* coordinator CPU per read run here */
	int64		route_samples;
	int64		local_samples;
} CoordinatorCost;

extern bool foresight_coordinator_cost;

extern void coordinator_cost_define_gucs(void);
extern void coordinator_cost_shmem_request(void);
extern void coordinator_cost_shmem_init(void);

struct PlannedStmt;

/* around the planning of a top-level read that may be routed */
extern void coordinator_cost_planning_start(void);
extern void coordinator_cost_planning_done(struct PlannedStmt *stmt);

/* a planning left untimed (a read kept here unwrapped: kept_here.c) */
extern void coordinator_cost_planning_untimed(void);

/* the route scan's start: the clock of stmt's execution */
extern void coordinator_cost_start(CostClock *clock, struct PlannedStmt *stmt);
extern void coordinator_cost_stop(CostClock *clock, RequestClass cls, bool ran_here);
extern void coordinator_cost_get(RequestClass cls, CoordinatorCost *out);

/*
 * Is the coordinator a bottleneck: its predicted load, or its CPU limit
 * (throttled: the share of its CPU periods its control group was
 * throttled in over the last sample, -1 when unknown)?
 */
extern bool coordinator_cost_busy(double here_load, double here_throttled);

/*
 * Is the coordinator's CPU scarcer than the node's (coordinator_cost.c)?
 * The same order compares any two servers.
 */
extern bool coordinator_cost_scarcer(double here_load, double here_throttled,
									 double node_load, double node_throttled);

/*
 * The rule (coordinator_cost.c): true when the read runs here, reason then
 * why; *cheaper when because running here is measured the cheaper (not to
 * measure the cost of running here).
 */
extern bool coordinator_cost_runs_here(RequestClass cls, double here_load,
									   double here_throttled,
									   const char *node_name, double node_load,
									   double node_throttled,
									   char *reason, size_t reason_len, bool *cheaper);

#endif							/* FORESIGHT_COORDINATOR_COST_H */
