/*-------------------------------------------------------------------------
 *
 * coordinator_cost.h
 *	  What a read costs the coordinator's own CPU, routed or run here, per
 *	  request class, measured; and the predictive policy's rule that runs
 *	  a read here when the coordinator is the busiest candidate and routing
 *	  the read would cost it more than running it
 *	  (foresight.coordinator_cost; docs/routing.md#the-coordinators-own-cost).
 *
 * The clock is the backend's thread CPU time (CLOCK_THREAD_CPUTIME_ID)
 * from the route scan's start to its end: the decision, the remote round
 * trip or the local plan and execution, and the rows handed to the client.
 * Parsing and the client's socket are the same either way and are left
 * out.  One execution in COST_SAMPLE_EVERY of each backend is timed, so
 * the two clock reads cost little; the averages are smoothed and kept in
 * shared memory under a spinlock.
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

extern void coordinator_cost_start(CostClock *clock);
extern void coordinator_cost_stop(CostClock *clock, RequestClass cls, bool ran_here);
extern void coordinator_cost_get(RequestClass cls, CoordinatorCost *out);

extern bool coordinator_cost_runs_here(RequestClass cls, double here_load,
									   double busiest_other_load,
									   char *reason, size_t reason_len);

#endif							/* FORESIGHT_COORDINATOR_COST_H */
