/*-------------------------------------------------------------------------
 *
 * split_scan_internal.h
 *	  The execution state of a "Foresight Split" scan, and what the files
 *	  that run it share: split_scan.c (executor callbacks, the fan-out
 *	  loop), split_scan_parts.c (a part on a node or here) and
 *	  split_scan_explain.c (EXPLAIN, the decision log).  Not for other
 *	  files.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SPLIT_SCAN_INTERNAL_H
#define FORESIGHT_SPLIT_SCAN_INTERNAL_H

#include "postgres.h"

#include "access/parallel.h"
#include "access/xlogdefs.h"
#include "commands/explain.h"
#include "libpq-fe.h"
#include "nodes/execnodes.h"
#include "portability/instr_time.h"
#include "storage/shm_mq.h"
#include "utils/sortsupport.h"
#include "utils/tuplestore.h"

#include "capacity/capacity.h"
#include "remote/connection.h"
#include "router/policy.h"
#include "router/route_scan_internal.h"
#include "router/split_scan.h"

typedef enum SplitPartStatus
{
	PART_PENDING,				/* not started, or to be run again */
	PART_RUNNING,				/* on a node, or being read from here */
	PART_DONE
} SplitPartStatus;

typedef struct SplitPart
{
	int			index;
	const char *sql;
	const char *condition;
	SplitPartStatus status;
	int			node;			/* index in SplitScanState.nodes, -1: here */
	const char *ran_on;			/* node name, "local", or NULL */
	bool		returned_row;
	bool		stolen;			/* taken by a node that did not own it */
	int			attempts;
	int64		rows;
	instr_time	started;
	double		ms;				/* when done; split_part_ms() at any time */
	bool		cut_short;		/* still running when the scan ended: its
								 * rest was not needed (a LIMIT above) */
	char	   *failure;		/* the last failed attempt, for EXPLAIN */
	Tuplestorestate *store;		/* run here: its rows not read yet */
	TupleTableSlot *head;		/* merging: its next row (scan tuple) */
} SplitPart;

typedef enum SplitNodeStatus
{
	SNODE_FREE,					/* may take a part */
	SNODE_BUSY,					/* running part "part" */
	SNODE_LAGGING,				/* has not replayed the floor yet */
	SNODE_GONE					/* failed, unusable or too late: no more parts */
} SplitNodeStatus;

typedef struct SplitNode
{
	RouteCandidate cand;
	SplitNodeStatus status;
	int			part;			/* running, when SNODE_BUSY */
	RemoteConn *rc;
	RouteScanState *route;		/* for route_tuples.c: its conversion of rows */
	XLogRecPtr	replayed;
	char	   *why_gone;
	bool		left_out;		/* by the gain model: taken back when needed */
	int			inflight_slot;	/* its in-flight count held, or -1 */
	int			parts_run;
	bool		in_block;		/* this scan opened a transaction block on it
								 * (split_choose_ranges), ended at release */
} SplitNode;

/* the coordinator's pieces in a parallel worker (split_scan_worker.c) */
typedef struct SplitWorker
{
	bool		usable;			/* the plan and the executor allow one */
	ParallelContext *pcxt;		/* launched at the first piece, kept */
	shm_mq_handle *sql;			/* the pieces' SQL, to the worker */
	shm_mq_handle *rows;		/* their rows, and an end mark per piece */
	int			part;			/* the piece it runs, or -1 */
	int			inflight_slot;	/* its in-flight count held, or -1 */
	int			pieces;			/* pieces it ran in this execution */
} SplitWorker;

typedef struct SplitScanState
{
	CustomScanState css;
	SplitScanInfo info;

	bool		explain_only;
	bool		started;
	bool		finished;
	const char *all_here;		/* why every part runs here, or NULL */
	RouteDecision decision;
	XLogRecPtr	floor;			/* every part's node must have replayed it */
	instr_time	start;
	instr_time	wait_start;		/* lagging nodes are waited for from then */

	int			nparts;
	SplitPart  *parts;
	int			nnodes;
	SplitNode  *nodes;
	int			next_node;		/* round-robin reading */

	/* the coordinator takes parts beside the nodes (a routing candidate) */
	bool		local_candidate;
	RouteCandidate local_cand;	/* the coordinator, when a candidate */
	bool		local_turn;		/* it may take a piece (split_scan.c) */
	TupleTableSlot *local_slot; /* reads the rows of a part run here */
	SplitWorker worker;			/* or run by a parallel worker */
	bool		worker_first;	/* read the worker before the nodes, in turn */

	/* which node takes which piece (split_scan_pieces.c) */
	cap_queue	queue;
	int			queue_local;	/* the coordinator's index in the queue */
	cap_plan	gain;			/* the gain model's choice of nodes */
	bool		gain_decided;	/* it chose (more pieces than nodes) */
	bool		paced;			/* the shares follow measured paces */
	int			gain_members;	/* nodes it chose among */
	char	   *gain_text;		/* what it chose, for EXPLAIN and the decision
								 * log ("2 of 2 nodes by ..."), or NULL */

	/* merging parts sorted on their nodes (split_scan_merge.c) */
	int			nkeys;			/* 0: no merge */
	SortSupport sortkeys;
	struct binaryheap *heap;	/* parts with a head row, by it */
	bool		merge_started;

	uint64		decision_seq;
	MemoryContextCallback log_callback; /* its outcome, however it ends */
	int			nretries;
	/* the parts' ranges: of blocks, or of the key (split_choose_ranges) */
	bool		by_blocks;
	XLogRecPtr	blocks_at;		/* the nodes' snapshot position, by blocks */
	const char *ranges_why;		/* why by the key, when blocks were possible */
	bool		blocks_tried;	/* the nodes were asked for their positions */
} SplitScanState;

/* microseconds since this execution started */
static inline int64
split_elapsed_us(SplitScanState *st)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, st->start);
	return (int64) INSTR_TIME_GET_MICROSEC(now);
}

/*
 * A part's time: from its start to its end, or, while it runs (an answer
 * complete before the part was read to the end, as EXPLAIN ANALYZE prints
 * it), to now.
 */
static inline double
split_part_ms(SplitPart *p)
{
	instr_time	now;

	if (p->status != PART_RUNNING)
		return p->ms;
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, p->started);
	return INSTR_TIME_GET_MILLISEC(now);
}

/* --- split_scan.c --- */

/* Has busy node n a result ready, or a broken connection? */
extern bool split_node_ready(SplitNode *n);

/*
 * Wait for the latch and the sockets of the busy nodes (only that of node
 * "only" when it is >= 0), at most timeout_ms (-1: no limit).
 */
extern void split_wait(SplitScanState *st, int only, long timeout_ms);

/* --- split_scan_merge.c --- */

/* Set up the merge of sorted parts, when the plan merges (st->nkeys). */
extern void split_merge_init(SplitScanState *st);

/* The next row of the merge into the scan, or an empty slot at the end. */
extern TupleTableSlot *split_merge_next(SplitScanState *st);

/* Forget the heads and the heap (a rescan). */
extern void split_merge_reset(SplitScanState *st);

/* --- split_scan_parts.c --- */

/* The nodes of this execution and the floor they must reach. */
extern void split_nodes_init(SplitScanState *st);

/*
 * Before the first part is sent: cut the parts by block ranges when the
 * plan allows it and every node's snapshot is at one WAL position, by the
 * key otherwise (split/split_blocks.h).
 */
extern void split_choose_ranges(SplitScanState *st);

/*
 * Parts cut by blocks, and part "part" (-1: any) has no node at the
 * blocks' snapshot position left to run it: cut by the key again when no
 * part has started, else raise an error.
 */
extern void split_blocks_lost(SplitScanState *st, int part);

/* Start pending parts on free nodes (and try lagging ones again). */
extern void split_start_parts(SplitScanState *st);

/*
 * Is a node still behind the floor and worth waiting for?  Past
 * foresight.split_max_wait every lagging node is given up, so no wait for
 * one lasts longer, whether or not it is offered a piece again.
 */
extern bool split_wait_for_lagging(SplitScanState *st);

/*
 * A row from node i's part (a PGresult it has ready): into the scan slot,
 * or NULL when the part ended (the node is free again).  Raises the
 * node's error when the part failed after returning rows.
 */
extern TupleTableSlot *split_read_node(SplitScanState *st, int i);

/* Part p starts on the coordinator (here, or in its worker): taken, timed. */
extern void split_part_starts_here(SplitScanState *st, SplitPart *p);

/* A piece run on the coordinator returned "got" columns: the expected ones? */
extern void split_part_check_columns(int part, int got, int expected);

/* Run part "part" here, all of it, its rows into its tuplestore (p->store). */
extern void split_run_here(SplitScanState *st, int part);

/* Abandon parts still running (the scan ended early, or a rescan). */
extern void split_release(SplitScanState *st);

/* --- split_scan_worker.c --- */

/*
 * Start part "part" in a parallel worker: false when none can run it now
 * (not usable, busy, or no worker could be launched: run it here).
 */
extern bool split_worker_start(SplitScanState *st, int part);

/*
 * A row of the worker's piece into the scan slot, or NULL when none is
 * ready; *ended when the piece ended (the worker is free again).  Raises
 * the worker's error.
 */
extern TupleTableSlot *split_worker_next(SplitScanState *st, bool *ended);

/* Stop the worker, if running, and free its parallel context. */
extern void split_worker_shutdown(SplitScanState *st);

/* --- split_scan_pieces.c --- */

/* The pieces' first nodes, by the nodes' shares (after split_nodes_init). */
extern void split_pieces_init(SplitScanState *st);


/*
 * When the nodes chosen are all gone, the nodes the gain model left out
 * take pieces after all (rather than the coordinator running them): true
 * when there was one.
 */
extern bool split_take_back_left_out(SplitScanState *st);

/* The node that owns piece "part" first (nnodes: the coordinator), or -1. */
extern int	split_piece_owner(SplitScanState *st, int part);

/*
 * The piece free node "node" (-1: the coordinator) takes next, marked
 * taken, or -1 when none is left: a piece to run again first, then its
 * own, else one stolen.
 */
extern int	split_take_piece(SplitScanState *st, int node);

/* --- split_node_stats.c --- */

/* Add a finished split's pieces, per node, to the cumulative counters. */
extern void split_node_stats_add(SplitScanState *st);

/*
 * Node "name"'s pace on its recent pieces: its time per plan cost unit
 * over that of the splits' nodes together (2: half as fast); 0 when it
 * has none measured in the last 30 seconds.
 */
extern double split_node_pace(const char *name);

/* --- split_scan_explain.c --- */

extern void split_explain_scan(CustomScanState *node, List *ancestors, ExplainState *es);
extern uint64 split_log_decision(SplitScanState *st, uint64 queryid);
extern void split_log_outcome(SplitScanState *st, bool failed);
extern void split_log_watch(SplitScanState *st, MemoryContext query_cxt);

#endif							/* FORESIGHT_SPLIT_SCAN_INTERNAL_H */
