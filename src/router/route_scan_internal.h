/*-------------------------------------------------------------------------
 *
 * route_scan_internal.h
 *	  The execution state of a "Foresight Route" node, and what the files
 *	  that run it share: route_scan.c (the executor callbacks, routing and
 *	  retries), route_local.c (the local plan), route_tuples.c (values to
 *	  and from a node), route_decision.c (the decision log), route_explain.c
 *	  (EXPLAIN) and hedge.c (hedging).  Not for other files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUTE_SCAN_INTERNAL_H
#define FORESIGHT_ROUTE_SCAN_INTERNAL_H

#include "postgres.h"

#include "commands/explain.h"
#include "executor/execdesc.h"
#include "fmgr.h"
#include "libpq-fe.h"
#include "nodes/execnodes.h"
#include "portability/instr_time.h"

#include "remote/connection.h"
#include "router/coordinator_cost.h"
#include "router/policy.h"
#include "router/route_plan.h"
#include "router/route_types.h"

typedef enum RouteMode
{
	ROUTE_PENDING,				/* nothing run yet */
	ROUTE_LOCAL,				/* running the child plan */
	ROUTE_REMOTE,				/* reading rows from a node */
	ROUTE_DONE					/* remote rows all read */
} RouteMode;

typedef struct RouteScanState
{
	CustomScanState css;

	/* from the plan */
	RoutePlanInfo plan;

	/* route */
	const char *ineligible;		/* session reason to stay local, or NULL */
	RouteDecision decision;
	int			attempt;		/* index of the candidate in use */
	RouteMode	mode;
	CostClock	cost_clock;		/* the coordinator's CPU for this read */
	RemoteConn *rc;
	bool		explain_only;

	/* results: how they come back (route_tuples.c) */
	RouteTypeNeeds needs;		/* of the columns the node returns */
	int			nremote;		/* columns the node returns */
	struct RouteColumn *cols;	/* how each is turned into a datum */
	List	   *recv_types;		/* how types met in anonymous records are read */
	int			conv_attempt;	/* the candidate cols are set for, or -1 */
	bool		conv_binary;	/* ... in binary, or text */
	const char *text_reason;	/* why text, for EXPLAIN; NULL: binary */
	MemoryContext row_ctx;

	/* accounting */
	bool		started;
	bool		returned_row;
	int			retries;
	int			inflight_slot;	/* -1 when not counted */
	uint64		decision_seq;	/* entry in the decision log, 0 if none */
	MemoryContextCallback log_callback; /* its outcome, however it ends */
	instr_time	start;
	bool		answer_cold;	/* a new connection or statement answered */
	int64		sent_us;		/* when the query was sent to the current node */
	bool		hedge_checked;	/* hedging was considered (first node only) */
	int			hedge_attempt;	/* candidate the query was hedged to, or -1 */
	int			hedge_slot;		/* its in-flight count, -1 when not held */
	bool		hedge_won;		/* ... and it answered first */
	bool		block_on_node;	/* the transaction block's earlier reads
								 * ran on the current node */
	double		remote_ms;
	int64		remote_rows;
	char	   *last_failure;
	int			eflags;			/* for a late initialisation of the child */
	QueryDesc  *deferred_qd;	/* the deferred query's local execution */
	List	   *plan_notices;	/* notices of planning it here, held back
								 * until it is known where it runs
								 * (plan_notices.c) */
} RouteScanState;

/* the candidate in use */
static inline RouteCandidate *
route_current_candidate(RouteScanState *st)
{
	return &st->decision.candidates[st->attempt];
}

/* microseconds since this execution started */
static inline int64
route_elapsed_us(RouteScanState *st)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, st->start);
	return (int64) INSTR_TIME_GET_MICROSEC(now);
}

/* --- route_scan.c --- */

/*
 * Send the query to candidate c, a node: its connection (the cached one or
 * a new one), the session's settings and, in a transaction block, the
 * remote transaction, its replay position when c->check_lsn, then the
 * query.  Returns the connection, or NULL with *why set; *node_failed then
 * says whether the node itself failed (rather than the role, a setting it
 * refused, the block or the replay position).  A connection that failed is dropped.
 */
extern RemoteConn *route_send_query(RouteScanState *st, RouteCandidate *c,
									const char **why, bool *node_failed);

/* --- route_local.c: the query run here --- */

/* Initialise the local plan, or start the deferred one, once. */
extern void route_local_init(RouteScanState *st);

/* The next row of the local plan (initialised if it was not). */
extern TupleTableSlot *route_local_next(RouteScanState *st);

extern void route_local_rescan(RouteScanState *st);
extern void route_local_end(RouteScanState *st);

/* --- route_tuples.c: values to and from a node --- */

/*
 * Executor start: what the result columns need (st->needs), and why the
 * query cannot be routed at all under this session's settings (their
 * types need text transport, whose text forms would not read back
 * exactly), or NULL.
 */
extern const char *route_transport_check(RouteScanState *st);

/*
 * How rows come back from rc's node: true for binary, false for text (then
 * *text_reason says why); when neither can bring this query's rows back
 * exactly from that node, false with *unusable set to why.
 */
extern bool route_transport_binary(RouteScanState *st, RemoteConn *rc,
								   const char **text_reason, const char **unusable);

/*
 * Set up the conversion of the rows of the node the query was sent to
 * (st->rc, the current candidate); nothing when it is set up already.
 */
extern void route_prepare_conversion(RouteScanState *st);

/*
 * "binary" or "text (why)", for EXPLAIN VERBOSE: what the rows of the
 * node in use came in, or, before a node was used, what the result's types
 * allow.
 */
extern const char *route_transport_describe(RouteScanState *st);

/*
 * The scan tuple of res, one row of the node's answer (PGRES_SINGLE_TUPLE)
 * from st->rc, converted in the transport it was asked for.
 */
extern TupleTableSlot *route_store_row(RouteScanState *st, PGresult *res);

/*
 * The parameters of this execution: the lifted constants' values fixed at
 * plan time (text), or the execution's own parameters, as text in
 * unambiguous styles or, for arrays and composites when binary is set, in
 * binary (see route_tuples.c); then the transaction's and statement's
 * times, taken now (clock_params.c).
 */
extern void route_param_values(RouteScanState *st, bool binary, int *nparams,
							   Oid **types, char ***values, int **lengths,
							   int **formats);

/* --- route_decision.c: the decision log --- */

/* Append this execution's decision to the decision log; its entry. */
extern uint64 route_log_decision(RouteScanState *st, uint64 queryid);

/* A query refused by admission control: an entry with what is known. */
extern void route_log_refusal(RouteScanState *st, uint64 queryid, int64 waited_us);

/*
 * The outcome of this execution, into its decision-log entry (once:
 * decision_seq is 0 after).  Allocates nothing: it also runs from
 * route_log_watch's callback, while an aborted transaction is cleaned up.
 */
extern void route_log_outcome(RouteScanState *st, int64 elapsed_us, bool failed);

/*
 * Have the entry completed as failed if the execution ends without
 * route_end (an error raised here, a cancel, statement_timeout): a
 * callback on the query's memory context, which PostgreSQL deletes at
 * abort too (the executor's End functions are not called on error).
 */
extern void route_log_watch(RouteScanState *st, MemoryContext query_cxt);

/* --- route_explain.c --- */

extern void route_explain_scan(CustomScanState *node, List *ancestors, ExplainState *es);

/* --- hedge.c --- */

/*
 * The first node has not started to answer within the policy's hedge
 * delay: send the query to the next candidate too, and go on with the
 * first to answer.
 */
extern void hedge_if_late(RouteScanState *st);

#endif							/* FORESIGHT_ROUTE_SCAN_INTERNAL_H */
