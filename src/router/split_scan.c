/*-------------------------------------------------------------------------
 *
 * split_scan.c
 *	  The "Foresight Split" custom scan's executor callbacks: the fan-out
 *	  loop that returns the parts' rows, as they arrive, to the combine
 *	  plan above it.
 *
 * BeginCustomScan checks the session as a routed query does (a session
 * that wrote, a role or settings that cannot be carried: every part runs
 * here) and, outside a transaction block, asks the routing policy for the
 * nodes (split_scan_parts.c); the coordinator is one of them when the
 * policy makes it a candidate (foresight.include_local).  The first row
 * request sends a piece to each node; then the coordinator, a candidate,
 * takes its next piece whenever its last one ended or no node has a row
 * ready: in its parallel worker (split_scan_worker.c), whose rows are read
 * in turn with the nodes', or, when it has none, itself, whole, into a
 * tuplestore (work_mem, then disk), as a Gather's leader takes part once
 * its workers are launched.  Then, when the plan merges sorted parts,
 * split_scan_merge.c returns the rows in order; otherwise the loop here
 * returns the rows of parts run here, then reads the worker's rows and
 * whichever node has a row ready, each first in turn, starting the next
 * pending part on a node that finished one, and otherwise waits on the
 * latch (which the worker's queue sets) and every busy node's socket.
 * Interrupts are checked at each turn: statement_timeout,
 * pg_cancel_backend and a client's cancel raise their error, and the
 * abort cancels every part still running on its node
 * (remote/connection.c) and stops the worker.  Memory: one row per
 * node at a time (single-row mode), the node's socket holding back the
 * rest, the worker's queues (dynamic shared memory: 64 kB for rows, the
 * longest part's SQL plus 1 kB) and the tuplestore of a part run here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

#include "router/eligibility.h"
#include "remote/watch.h"
#include "router/split_scan_internal.h"
#include "split/split.h"

static Node *split_create_state(CustomScan *cscan);
static void split_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *split_exec(CustomScanState *node);
static void split_end(CustomScanState *node);
static void split_rescan(CustomScanState *node);
static void split_shutdown(CustomScanState *node);

static CustomExecMethods split_exec_methods = {
	.CustomName = SPLIT_SCAN_NAME,
	.BeginCustomScan = split_begin,
	.ExecCustomScan = split_exec,
	.EndCustomScan = split_end,
	.ReScanCustomScan = split_rescan,
	.ShutdownCustomScan = split_shutdown,
	.ExplainCustomScan = split_explain_scan,
};

void
split_scan_register(void)
{
	split_scan_plan_register(split_create_state);
}

static Node *
split_create_state(CustomScan *cscan)
{
	SplitScanState *st = (SplitScanState *) newNode(sizeof(SplitScanState), T_CustomScanState);

	st->css.methods = &split_exec_methods;
	split_scan_info(cscan, &st->info);
	st->worker.part = -1;
	st->worker.inflight_slot = -1;
	return (Node *) st;
}

static void
reset_parts(SplitScanState *st)
{
	ListCell   *lc;

	st->nparts = list_length(st->info.part_sql);
	st->worker.pieces = 0;
	st->by_blocks = false;		/* until split_choose_ranges */
	st->blocks_at = InvalidXLogRecPtr;
	st->ranges_why = NULL;
	st->blocks_tried = false;
	if (st->parts == NULL)
		st->parts = palloc0(sizeof(SplitPart) * st->nparts);
	foreach(lc, st->info.part_sql)
	{
		SplitPart  *p = &st->parts[foreach_current_index(lc)];
		TupleTableSlot *head = p->head;

		memset(p, 0, sizeof(SplitPart));
		p->head = head;			/* the merge's slots are kept */

		p->index = foreach_current_index(lc);
		p->sql = lfirst(lc);
		p->condition = list_nth(st->info.part_conditions, p->index);
		p->status = PART_PENDING;
		p->node = -1;
	}
}

static void
split_begin(CustomScanState *node, EState *estate, int eflags)
{
	SplitScanState *st = (SplitScanState *) node;

	st->explain_only = (eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0;
	reset_parts(st);
	st->all_here = eligibility_check_session(st->info.plan_user);
	if (st->all_here == NULL)
		st->all_here = route_values_inexact(st->info.value_settings);
	if (st->all_here == NULL && IsTransactionBlock())
		st->all_here = "in a transaction block, the parts read the block's snapshot here";
	split_nodes_init(st);
	split_merge_init(st);
	if (!st->explain_only)
	{
		st->decision_seq = split_log_decision(st, estate->es_plannedstmt->queryId);
		if (st->decision_seq != 0)
			split_log_watch(st, estate->es_query_cxt);
	}
}

/* timeout_ms, shortened to wake in time for the busy nodes' watches */
static long
watched_timeout(SplitScanState *st, int only, long timeout_ms)
{
	for (int i = 0; i < st->nnodes; i++)
		if (st->nodes[i].status == SNODE_BUSY && (only < 0 || only == i))
			timeout_ms = remote_watch_timeout(st->nodes[i].rc, timeout_ms);
	return timeout_ms;
}

void
split_wait(SplitScanState *st, int only, long timeout_ms)
{
	WaitEventSet *set;
	WaitEvent	event;

	set = CreateWaitEventSet(CurrentMemoryContext, 2 + st->nnodes);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < st->nnodes; i++)
		if (st->nodes[i].status == SNODE_BUSY && (only < 0 || only == i))
			AddWaitEventToSet(set, WL_SOCKET_READABLE, PQsocket(st->nodes[i].rc->conn),
							  NULL, NULL);
	PG_TRY();
	{
		(void) WaitEventSetWait(set, watched_timeout(st, only, timeout_ms), &event, 1,
								PG_WAIT_EXTENSION);
	}
	PG_FINALLY();
	{
		FreeWaitEventSet(set);
	}
	PG_END_TRY();
	ResetLatch(MyLatch);

	/*
	 * A node past its piece's deadline, or marked down, is given up: its
	 * socket is shut, so it reads as ready and split_read_node runs the
	 * piece again elsewhere (or raises the error when rows were returned).
	 */
	for (int i = 0; i < st->nnodes; i++)
		if (st->nodes[i].status == SNODE_BUSY && (only < 0 || only == i))
			(void) remote_watch_check(st->nodes[i].rc);
}

bool
split_node_ready(SplitNode *n)
{
	PGconn	   *conn = n->rc->conn;

	if (!PQisBusy(conn))
		return true;
	if (!PQconsumeInput(conn))
		return true;
	return !PQisBusy(conn);
}

/* a row of a part run here, into the scan slot; NULL when none is left */
static TupleTableSlot *
read_here(SplitScanState *st)
{
	for (int i = 0; i < st->nparts; i++)
	{
		SplitPart  *p = &st->parts[i];

		if (p->store == NULL)
			continue;
		if (tuplestore_gettupleslot(p->store, true, false, st->local_slot))
			return ExecCopySlot(st->css.ss.ss_ScanTupleSlot, st->local_slot);
		tuplestore_end(p->store);
		p->store = NULL;
	}
	return NULL;
}

/*
 * The coordinator takes its next piece: in the parallel worker when it can
 * and nodes run pieces meanwhile (the loop goes on reading them), here
 * otherwise.  False when its worker runs one already or none is left.
 */
static bool
take_local_piece(SplitScanState *st, bool beside_nodes)
{
	int			mine;

	if (st->worker.part >= 0)
		return false;
	if ((mine = split_take_piece(st, -1)) < 0)
		return false;
	if (!beside_nodes || !split_worker_start(st, mine))
		split_run_here(st, mine);
	return true;
}

/* a row of the worker's piece; *ended when it ended its piece */
static TupleTableSlot *
read_worker(SplitScanState *st, bool *ended)
{
	*ended = false;
	if (st->worker.part < 0)
		return NULL;
	return split_worker_next(st, ended);
}

static TupleTableSlot *
split_next(ScanState *ss)
{
	SplitScanState *st = (SplitScanState *) ss;
	TupleTableSlot *scan = ss->ss_ScanTupleSlot;

	if (!st->started)
	{
		st->started = true;
		st->local_turn = true;
		/* as a Gather's workers: in parallel mode, run to the end at once */
		st->worker.usable = st->info.worker_ok && foresight_split_worker && !st->explain_only &&
			st->css.ss.ps.state->es_use_parallel_mode;
		INSTR_TIME_SET_CURRENT(st->start);
		split_choose_ranges(st);
		split_start_parts(st);
	}
	if (st->nkeys > 0)
		return split_merge_next(st);
	for (;;)
	{
		int			nbusy = 0;
		bool		lagging = false;
		bool		usable = false;
		bool		read_one = false;
		bool		pending = false;
		bool		worker_read = false;
		bool		ended;
		TupleTableSlot *here;

		CHECK_FOR_INTERRUPTS();

		/* a part run here */
		if ((here = read_here(st)) != NULL)
			return here;

		/* the worker's rows and the nodes', each first in turn */
		st->worker_first = !st->worker_first;
		if (st->worker_first)
		{
			worker_read = true;
			if ((here = read_worker(st, &ended)) != NULL)
				return here;
			if (ended)
			{
				st->local_turn = true;
				continue;
			}
		}

		/*
		 * The coordinator, a candidate, takes its next piece once the nodes
		 * have theirs, and again each time a piece ended.  Run here rather
		 * than in its worker, not piece after piece: the nodes' ended pieces
		 * would wait unread meanwhile.
		 */
		if (st->local_candidate && st->local_turn)
		{
			st->local_turn = false;
			if (take_local_piece(st, true))
				continue;
		}

		/* a node with a row ready, round robin */
		for (int k = 0; k < st->nnodes; k++)
		{
			int			i = (st->next_node + k) % st->nnodes;
			SplitNode  *n = &st->nodes[i];
			TupleTableSlot *slot;

			if (n->status != SNODE_BUSY)
				continue;
			nbusy++;
			if (!split_node_ready(n))
				continue;
			st->next_node = (i + 1) % st->nnodes;
			slot = split_read_node(st, i);
			if (slot != NULL)
				return slot;
			read_one = true;	/* a part ended or failed: start others */
			break;
		}
		if (read_one)
		{
			st->local_turn = true;
			split_start_parts(st);
			continue;
		}
		if (!worker_read)
		{
			if ((here = read_worker(st, &ended)) != NULL)
				return here;
			if (ended)
			{
				st->local_turn = true;
				continue;
			}
		}

		/* and when no node has a row ready */
		if (st->local_candidate && take_local_piece(st, true))
			continue;
		if (st->worker.part >= 0)
			nbusy++;			/* its rows wake the latch */

		for (int i = 0; i < st->nparts; i++)
			if (st->parts[i].status == PART_PENDING)
				pending = true;
		if (!pending && nbusy == 0)
		{
			for (int i = 0; i < st->nnodes; i++)
				if (st->nodes[i].status == SNODE_LAGGING)
				{
					st->nodes[i].status = SNODE_GONE;
					st->nodes[i].why_gone =
						psprintf("had not replayed %X/%X (it had replayed %X/%X)",
								 LSN_FORMAT_ARGS(st->floor),
								 LSN_FORMAT_ARGS(st->nodes[i].replayed));
				}
			st->finished = true;
			return ExecClearTuple(scan);
		}
		lagging = pending && split_wait_for_lagging(st);
		for (int i = 0; i < st->nnodes; i++)
			if (st->nodes[i].status != SNODE_GONE)
				usable = true;
		if (pending && !usable)
			split_blocks_lost(st, -1);	/* none left at the blocks' position */
		if (pending && !usable && split_take_back_left_out(st))
			continue;
		if (pending && !usable && st->worker.part < 0)
		{
			/* no node left to take the next part: it runs here */
			if (!take_local_piece(st, false))
				elog(ERROR, "pg_foresight: a pending part of the split was not found");
			continue;
		}
		if (nbusy == 0 && !lagging)
		{
			split_start_parts(st);
			continue;
		}
		/* lagging nodes are asked again every few milliseconds */
		split_wait(st, -1, lagging ? 5L : -1L);
		if (lagging)
			split_start_parts(st);
	}
}

static bool
split_recheck(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
split_exec(CustomScanState *node)
{
	return ExecScan(&node->ss, split_next, split_recheck);
}

/* the plan ran to its end: before the executor leaves parallel mode */
static void
split_shutdown(CustomScanState *node)
{
	split_worker_shutdown((SplitScanState *) node);
}

static void
split_end(CustomScanState *node)
{
	SplitScanState *st = (SplitScanState *) node;

	split_release(st);
	split_node_stats_add(st);
	if (st->decision_seq != 0)
		split_log_outcome(st, false);
	if (st->local_slot)
		ExecDropSingleTupleTableSlot(st->local_slot);
	st->local_slot = NULL;
	for (int i = 0; i < st->nparts; i++)
	{
		if (st->parts[i].head)
			ExecDropSingleTupleTableSlot(st->parts[i].head);
		st->parts[i].head = NULL;
	}
}

static void
split_rescan(CustomScanState *node)
{
	SplitScanState *st = (SplitScanState *) node;

	split_release(st);
	split_node_stats_add(st);
	split_merge_reset(st);
	reset_parts(st);
	split_pieces_init(st);
	st->started = false;
	st->finished = false;
}
