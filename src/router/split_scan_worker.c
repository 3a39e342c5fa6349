/*-------------------------------------------------------------------------
 *
 * split_scan_worker.c
 *	  The pieces of a split read that the coordinator takes, run by a
 *	  parallel worker while this backend goes on reading the nodes' rows.
 *
 * Run in this backend (split_run_here), a piece of the coordinator's
 * stops the fan-out loop until it ends: the nodes that finish their pieces
 * meanwhile wait, unread, for their next.  So when the plan allows it
 * (split_scan_plan.c: nothing in the query is restricted to the leader,
 * and the executor runs it in parallel mode, to its end at once, as it
 * would a Gather; foresight.split_worker on) the coordinator's pieces run
 * in one parallel worker, PostgreSQL's own: it has this session's
 * settings, role and snapshot (the active snapshot, which a piece run
 * here reads too).  It is launched at the coordinator's first piece and
 * kept for the others: this backend sends a piece (its number and SQL)
 * through one queue, the worker runs it with SPI and sends its rows back
 * through another, then a one-byte mark (a row is never that short) for
 * the piece's end, and waits for the next.  This backend reads the rows as they come,
 * waking on its latch as it does for the nodes' sockets.  An error in the
 * worker is raised here, as a parallel query's is.  At the end (or an
 * error or cancel stopping it early) both queues are detached, so the worker
 * stops at its next row or its next wait, and is waited for, as a
 * Gather's workers are.  When no worker can be launched
 * (max_parallel_workers reached, no dynamic shared memory left) the
 * pieces run here.
 *
 * A launch costs a process started and this session's state restored in
 * it (a small read's part took 22.7 ms in its worker on a 2-CPU VM, the
 * read 41 ms against 3.2 ms without one), which PostgreSQL's planner
 * prices as parallel_setup_cost before it plans a Gather.  So a worker is
 * launched only when the coordinator's share of the read, its plan cost
 * over the nodes that may take parts (the coordinator one of them), is
 * estimated above that cost; a cheaper share runs here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/dest.h"

#include "router/route_inflight.h"
#include "router/router.h"
#include "router/split_scan_internal.h"

#define SPLIT_KEY_SQL		UINT64CONST(0xF0E5164700000001)
#define SPLIT_KEY_ROWS		UINT64CONST(0xF0E5164700000002)
#define SPLIT_KEY_NATTS		UINT64CONST(0xF0E5164700000003)

/* a piece, as sent to the worker: its number, then its SQL */
typedef struct PieceMessage
{
	int32		part;
	char		sql[FLEXIBLE_ARRAY_MEMBER];
} PieceMessage;

/* as a Gather's tuple queue (execParallel.c's PARALLEL_TUPLE_QUEUE_SIZE) */
#define SPLIT_ROWS_QUEUE_SIZE	65536

/* the end of a piece in the rows' queue */
#define SPLIT_PIECE_END		"E"

PGDLLEXPORT void split_worker_main(dsm_segment *seg, shm_toc *toc);

/* --- this backend --- */

/* the worker stopped without a word: raise its error, or say so */
static void
worker_lost(SplitScanState *st)
{
	/* raises the error the worker ended with */
	WaitForParallelWorkersToFinish(st->worker.pcxt);
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("the parallel worker running the coordinator's pieces of a split read ended early")));
}

/* Launch the worker: false when none could be (the pieces run here). */
static bool
worker_launch(SplitScanState *st)
{
	ParallelContext *pcxt;
	Size		sql_room = 0;
	shm_mq	   *sql_mq;
	shm_mq	   *rows_mq;
	int		   *natts;
	MemoryContext old;

	for (int i = 0; i < st->nparts; i++)
		sql_room = Max(sql_room, offsetof(PieceMessage, sql) + strlen(st->parts[i].sql) + 1);
	/* a queue holds a message and its length word with room to spare */
	sql_room = MAXALIGN(sql_room) + 1024;

	old = MemoryContextSwitchTo(st->css.ss.ps.state->es_query_cxt);
	pcxt = CreateParallelContext("pg_foresight", "split_worker_main", 1);
	shm_toc_estimate_chunk(&pcxt->estimator, sql_room);
	shm_toc_estimate_chunk(&pcxt->estimator, SPLIT_ROWS_QUEUE_SIZE);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(int));
	shm_toc_estimate_keys(&pcxt->estimator, 3);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL || pcxt->nworkers == 0)
	{
		DestroyParallelContext(pcxt);
		MemoryContextSwitchTo(old);
		return false;
	}
	sql_mq = shm_mq_create(shm_toc_allocate(pcxt->toc, sql_room), sql_room);
	shm_toc_insert(pcxt->toc, SPLIT_KEY_SQL, sql_mq);
	shm_mq_set_sender(sql_mq, MyProc);
	rows_mq = shm_mq_create(shm_toc_allocate(pcxt->toc, SPLIT_ROWS_QUEUE_SIZE),
							SPLIT_ROWS_QUEUE_SIZE);
	shm_toc_insert(pcxt->toc, SPLIT_KEY_ROWS, rows_mq);
	shm_mq_set_receiver(rows_mq, MyProc);
	natts = shm_toc_allocate(pcxt->toc, sizeof(int));
	*natts = st->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor->natts;
	shm_toc_insert(pcxt->toc, SPLIT_KEY_NATTS, natts);
	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched == 0)
	{
		DestroyParallelContext(pcxt);
		MemoryContextSwitchTo(old);
		return false;
	}
	/* a worker that dies is seen as a detached queue */
	st->worker.sql = shm_mq_attach(sql_mq, pcxt->seg, pcxt->worker[0].bgwhandle);
	st->worker.rows = shm_mq_attach(rows_mq, pcxt->seg, pcxt->worker[0].bgwhandle);
	MemoryContextSwitchTo(old);
	st->worker.pcxt = pcxt;
	return true;
}

/* the coordinator's share of the read is worth a worker's launch */
static bool
worker_worth_launching(SplitScanState *st)
{
	return st->info.cost / (st->nnodes + 1) > parallel_setup_cost;
}

bool
split_worker_start(SplitScanState *st, int part)
{
	SplitPart  *p = &st->parts[part];
	Size		len = offsetof(PieceMessage, sql) + strlen(p->sql) + 1;
	PieceMessage *msg;

	if (!st->worker.usable || st->worker.part >= 0)
		return false;
	if (st->worker.pcxt == NULL && (!worker_worth_launching(st) || !worker_launch(st)))
	{
		/*
		 * A share cheaper than a launch, or every worker slot taken: this
		 * execution's pieces of the coordinator run here
		 */
		st->worker.usable = false;
		return false;
	}
	msg = palloc(len);
	msg->part = part;
	strcpy(msg->sql, p->sql);
	if (shm_mq_send(st->worker.sql, len, msg, false, true) != SHM_MQ_SUCCESS)
		worker_lost(st);
	pfree(msg);
	split_part_starts_here(st, p);
	route_inflight_hold(&st->worker.inflight_slot, FORESIGHT_LOCAL_SLOT);
	st->worker.part = part;
	st->worker.pieces++;
	return true;
}

TupleTableSlot *
split_worker_next(SplitScanState *st, bool *ended)
{
	SplitPart  *p;
	shm_mq_result result;
	Size		nbytes;
	void	   *data;

	*ended = false;
	if (st->worker.part < 0)
		return NULL;
	p = &st->parts[st->worker.part];
	result = shm_mq_receive(st->worker.rows, &nbytes, &data, true);
	if (result == SHM_MQ_WOULD_BLOCK)
		return NULL;
	if (result == SHM_MQ_DETACHED)
		worker_lost(st);
	if (nbytes == sizeof(SPLIT_PIECE_END) - 1)
	{
		p->ms = split_part_ms(p);
		p->status = PART_DONE;
		route_inflight_drop(&st->worker.inflight_slot);
		st->worker.part = -1;
		*ended = true;
		return NULL;
	}
	p->rows++;
	/* the queue's memory is the next message's: copied out */
	ExecStoreMinimalTuple((MinimalTuple) data, st->local_slot, false);
	return ExecCopySlot(st->css.ss.ss_ScanTupleSlot, st->local_slot);
}

void
split_worker_shutdown(SplitScanState *st)
{
	if (st->worker.part >= 0)
	{
		SplitPart  *p = &st->parts[st->worker.part];

		/* stopped before its end (the plan stopped reading): its time so far */
		p->ms = split_part_ms(p);
		p->status = PART_DONE;
		p->cut_short = true;
		route_inflight_drop(&st->worker.inflight_slot);
		st->worker.part = -1;
	}
	if (st->worker.pcxt == NULL)
		return;
	/* the worker stops at its next row or its wait for the next piece */
	shm_mq_detach(st->worker.sql);
	shm_mq_detach(st->worker.rows);
	st->worker.sql = NULL;
	st->worker.rows = NULL;
	WaitForParallelWorkersToFinish(st->worker.pcxt);
	DestroyParallelContext(st->worker.pcxt);
	st->worker.pcxt = NULL;
}

/* --- the worker --- */

/* sends each row of a piece through the rows' queue */
typedef struct PieceReceiver
{
	DestReceiver pub;
	shm_mq_handle *rows;
	int			natts;			/* the columns the split scan expects */
	int			part;			/* the piece running */
	bool		detached;		/* the coordinator stopped reading */
} PieceReceiver;

static bool
piece_receive(TupleTableSlot *slot, DestReceiver *self)
{
	PieceReceiver *r = (PieceReceiver *) self;
	bool		should_free;
	MinimalTuple tuple = ExecFetchSlotMinimalTuple(slot, &should_free);
	shm_mq_result result = shm_mq_send(r->rows, tuple->t_len, tuple, false, false);

	if (should_free)
		pfree(tuple);
	if (result != SHM_MQ_SUCCESS)
	{
		r->detached = true;
		return false;			/* the executor stops */
	}
	return true;
}

/* as split_run_here checks a piece run in-process */
static void
piece_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	PieceReceiver *r = (PieceReceiver *) self;

	split_part_check_columns(r->part, typeinfo->natts, r->natts);
}

static void
piece_nothing(DestReceiver *self)
{
}

/*
 * The worker: each piece's SQL, as it comes, run with SPI, read-only (the
 * active snapshot the coordinator gave it), its rows into the queue, then
 * the end mark; until the coordinator detaches the queues.
 */
void
split_worker_main(dsm_segment *seg, shm_toc *toc)
{
	shm_mq	   *sql_mq = shm_toc_lookup(toc, SPLIT_KEY_SQL, false);
	shm_mq	   *rows_mq = shm_toc_lookup(toc, SPLIT_KEY_ROWS, false);
	shm_mq_handle *sql;
	PieceReceiver receiver;

	shm_mq_set_receiver(sql_mq, MyProc);
	shm_mq_set_sender(rows_mq, MyProc);
	sql = shm_mq_attach(sql_mq, seg, NULL);
	memset(&receiver, 0, sizeof(receiver));
	receiver.pub.receiveSlot = piece_receive;
	receiver.pub.rStartup = piece_startup;
	receiver.pub.rShutdown = piece_nothing;
	receiver.pub.rDestroy = piece_nothing;
	receiver.pub.mydest = DestTupleQueue;
	receiver.rows = shm_mq_attach(rows_mq, seg, NULL);
	receiver.natts = *(int *) shm_toc_lookup(toc, SPLIT_KEY_NATTS, false);

	for (;;)
	{
		SPIExecuteOptions options;
		Size		nbytes;
		void	   *data;
		char	   *text;
		int			ret;

		if (shm_mq_receive(sql, &nbytes, &data, false) != SHM_MQ_SUCCESS)
			break;				/* the split ended */
		receiver.part = ((PieceMessage *) data)->part;
		text = pstrdup(((PieceMessage *) data)->sql);
		if ((ret = SPI_connect()) != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(ret));
		memset(&options, 0, sizeof(options));
		options.read_only = true;
		options.dest = &receiver.pub;
		if ((ret = SPI_execute_extended(text, &options)) < 0)
			elog(ERROR, "SPI_execute_extended failed: %s", SPI_result_code_string(ret));
		SPI_finish();
		pfree(text);
		if (receiver.detached ||
			shm_mq_send(receiver.rows, sizeof(SPLIT_PIECE_END) - 1, SPLIT_PIECE_END,
						false, true) != SHM_MQ_SUCCESS)
			break;
	}
}
