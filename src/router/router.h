/*-------------------------------------------------------------------------
 *
 * router.h
 *	  Routing of read-only queries: GUCs, component entry points and the
 *	  session state the planner hook, the custom scan and the policies
 *	  share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUTER_H
#define FORESIGHT_ROUTER_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "nodes/pg_list.h"

typedef enum RoutingPolicy
{
	ROUTING_POLICY_LOCAL,
	ROUTING_POLICY_ROUND_ROBIN,
	ROUTING_POLICY_RANDOM,
	ROUTING_POLICY_LEAST_CONNECTIONS,
	ROUTING_POLICY_PREDICTIVE
} RoutingPolicy;

/* GUCs */
extern int	foresight_routing_policy;
extern bool foresight_include_local;
extern int	foresight_max_replication_lag;	/* ms, -1 = no limit */
extern bool foresight_lift_constants;

/*
 * Are a parameterless query's constants lifted into parameters now?
 * foresight.lift_constants, unless plan_cache_mode is force_generic_plan
 * (router.c says why).
 */
extern bool router_lifts_constants(void);

/* component entry points (see pg_foresight.h) */
extern void router_define_gucs(void);
extern void router_install_hooks(void);
extern void router_shmem_request(void);
extern void router_shmem_init(void);

extern const char *routing_policy_name(int policy);

/* next value of the shared round-robin counter */
extern uint32 router_next_round_robin(void);

/* --- session state (router.c) --- */

/* end LSN of this backend's last commit that wrote WAL */
extern XLogRecPtr router_last_commit_lsn;

/* depth of executor calls: 1 while a top-level statement runs */
extern int	router_exec_depth;

/* foresight.route_explain() is planning and deciding: act as top level */
extern bool router_explaining;

/* depth of planner calls */
extern int	router_plan_depth;

/* Top-level statements executed so far in the current transaction block. */
extern int	router_block_statements(void);

/* True when the current transaction has written (or is about to). */
extern bool router_xact_has_written(void);

/* depth of utility statements (EXPLAIN, EXECUTE, DECLARE, ...) */
extern int	router_utility_depth;

#endif							/* FORESIGHT_ROUTER_H */
