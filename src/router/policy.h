/*-------------------------------------------------------------------------
 *
 * policy.h
 *	  Routing candidates and policies.  A decision is an ordered list of
 *	  candidates: the first is the route, the others are where a query goes
 *	  when the route cannot be reached; the coordinator ("local") always
 *	  ends the list, as the last resort.
 *
 * Policies are a table of functions that order the candidates, so a new
 * policy (the predictive one) plugs in as one more row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_POLICY_H
#define FORESIGHT_POLICY_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "registry/registry.h"
#include "router/auto_tune.h"
#include "router/experiment.h"

/*
 * Candidates of one decision: every node foresight.max_nodes allows, plus
 * the coordinator, so that no enabled node is ever left out.  The arrays
 * below hold one more, for the coordinator as last resort.
 */
#define ROUTE_MAX_CANDIDATES (FORESIGHT_MAX_NODES_LIMIT + 1)

typedef struct RouteCandidate
{
	int			slot;
	int32		node_id;
	char		name[NAMEDATALEN];
	const char *conninfo;		/* backend copy of the registry, NULL for local */
	bool		is_local;
	bool		in_local_region;	/* its region is foresight.local_region */
	bool		check_lsn;		/* replay position must be checked on the node */
	uint32		inflight;
	double		weight;			/* the node's registry weight (1 for local) */
	/* set by the predictive policy */
	bool		scored;
	double		connection_score;
	double		predicted_load;
	double		score;
	double		answer_us;		/* recent answer time of the class; 0 if unknown */
} RouteCandidate;

typedef struct RouteDecision
{
	int			policy;
	int			request_class;	/* RequestClass of the query */
	double		cost;			/* plan's total cost */
	int64		queue_wait_us;	/* time spent in the admission queue */
	bool		run_local;		/* a policy decided: the coordinator only */
	XLogRecPtr	required_lsn;	/* a node must have replayed this, or Invalid */
	bool		block_start;	/* ... because it starts a REPEATABLE READ block */
	bool		catalog_floor;	/* ... because of others' catalog changes */
	bool		standby_floor;	/* ... because this standby had replayed it
								 * when the statement began (monotonic reads) */
	bool		block_seen;		/* ... because a statement of this READ
								 * COMMITTED block saw it here */
	bool		all_quarantined;	/* every node was quarantined or slowly
									 * readmitted: taken back (policy.c) */
	int			hedge_after_ms; /* predictive: hedge a query not answering by then (0: never) */
	ExperimentArmRef arm;		/* the experiment arm whose settings apply */
	AutoTuneRef tune;			/* the weights the tuner chose (auto_tune.c) */
	int			ncandidates;	/* in order of preference, local last if not a candidate */
	RouteCandidate candidates[ROUTE_MAX_CANDIDATES + 1];
	bool		local_is_candidate; /* local is there by choice, not as last resort */
	char		reason[256];	/* why the first candidate */
	char		excluded[512];	/* nodes left out and why */
} RouteDecision;

typedef void (*RoutePolicyOrder) (RouteDecision *d, RouteCandidate *cands, int n,
								  bool dry_run);

/* Any node besides local that routing could use (refreshes the node cache). */
extern bool policy_nodes_registered(void);

/*
 * Decide the route of one execution of a plan of total cost "cost" (its
 * request class follows from it).  dry_run: for EXPLAIN and
 * route_explain; still advances the round-robin counter so that EXPLAIN
 * shows what the next query would do.
 */
extern void policy_decide(RouteDecision *decision, double cost, bool dry_run);

/* The predictive policy (policy_predictive.c). */
extern void policy_order_predictive(RouteDecision *d, RouteCandidate *cands, int n,
									bool dry_run);

/* A node could not be used: skip it in this backend for a while. */
extern void policy_node_failed(int slot, int32 node_id);

/* The node's replay position is known to be at least lsn. */
extern void policy_node_replayed(int slot, int32 node_id, XLogRecPtr lsn);

/* Transaction-block pinning: the route (node or local) the block's reads use. */
extern void policy_pin(int slot, int32 node_id);

/* Has the current transaction block pinned a route? */
extern bool policy_block_pinned(void);

/*
 * A statement of the current transaction block ran here (not routed): a
 * READ COMMITTED block pinned to a node reads there from now on only what
 * that node has replayed as far as this server's WAL now goes.
 */
extern void policy_block_ran_here(void);

#endif							/* FORESIGHT_POLICY_H */
