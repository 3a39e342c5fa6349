/*-------------------------------------------------------------------------
 *
 * split_scan_parts.c
 *	  The parts of a split read: which nodes take them, the consistency
 *	  floor, sending a part to a node through the remote layer, reading its
 *	  rows, running it again elsewhere or here.
 *
 * Nodes: the candidates the routing policy orders for the query (enabled,
 * not down, not found unusable), physical standbys only (a part's SQL and
 * its aggregate states name objects by the coordinator's OIDs), at most
 * one per part; and the coordinator, when the policy makes it a candidate
 * by choice (foresight.include_local, an experiment's arm), not as the
 * last resort.  The coordinator runs its part here (SPI, read-only, in the
 * query's snapshot, as the session's role with its settings; its errors
 * and notices are the query's), after the nodes were sent theirs.  Each
 * node uses the backend's cached connection to it, set up as for a routed
 * query (remote_prepare: the session's settings, session user and role),
 * so the parts run with the session's identity and privileges.  Rows
 * come in single-row mode, in binary unless the types need text, and
 * become datums through route_tuples.c, with one RouteScanState per node
 * standing for the node's "route".
 *
 * Which part a free node takes next: split_scan_pieces.c (its own pieces
 * first, by the nodes' shares, else one stolen).
 *
 * Floor: before a node takes a part it must have replayed the
 * coordinator's WAL position at the start of the query (and the session's
 * last commit, and the catalog floor); a node behind is asked again every
 * few milliseconds until foresight.split_max_wait has passed, then takes
 * no part.  Parts left without a node wait for one to be free; with no
 * node left, they run here (SPI, into a tuplestore).
 *
 * A part that fails before returning a row (the node went away, or said
 * the query cannot run on a standby) is pending again and the node takes
 * no more parts; an error after rows were returned, or the query's own
 * error, is the node's error raised here, and the abort cancels every
 * other part on its node (connection.c).
 *
 * Notices a part's node sends (remote/notices.c) are raised here when the
 * part becomes part of the answer: with each row, at its end, before its
 * error; those of an attempt that runs again elsewhere are dropped, as a
 * routed read's are when it fails over.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "registry/registry.h"
#include "remote/errors.h"
#include "remote/notices.h"
#include "remote/remote_exec.h"
#include "remote/watch.h"
#include "router/route_deadline.h"
#include "router/route_inflight.h"
#include "router/split_scan_internal.h"
#include "router/wal_position.h"
#include "split/split.h"

/* a node's "route", for route_tuples.c */
static RouteScanState *
node_route(SplitScanState *st, SplitNode *n)
{
	RouteScanState *rs = palloc0(sizeof(RouteScanState));
	EState	   *estate = st->css.ss.ps.state;
	Plan	   *plan = palloc0(sizeof(Plan));

	NodeSetTag(rs, T_CustomScanState);
	plan->type = T_CustomScan;
	plan->targetlist = ((CustomScan *) st->css.ss.ps.plan)->custom_scan_tlist;
	rs->css.ss.ps.plan = plan;
	rs->css.ss.ps.state = estate;
	rs->css.ss.ss_ScanTupleSlot = st->css.ss.ss_ScanTupleSlot;
	rs->decision.ncandidates = 1;
	rs->decision.candidates[0] = n->cand;
	rs->inflight_slot = -1;
	rs->hedge_slot = -1;
	rs->hedge_attempt = -1;
	rs->row_ctx = AllocSetContextCreate(estate->es_query_cxt, "foresight split row",
										ALLOCSET_SMALL_SIZES);
	return rs;
}

static bool
is_physical_standby(const char *name)
{
	ForesightNode node;

	return registry_lookup(name, &node) && node.kind == NODE_KIND_STANDBY;
}

void
split_nodes_init(SplitScanState *st)
{
	RouteDecision *d = &st->decision;

	st->floor = wal_position_here();
	if (st->all_here != NULL)
		return;
	policy_decide(d, st->info.cost, st->explain_only);
	if (d->required_lsn > st->floor)
		st->floor = d->required_lsn;
	if (!st->explain_only)
		wal_flush_for_nodes(st->floor);
	st->nodes = palloc0(sizeof(SplitNode) * Max(d->ncandidates, 1));
	for (int i = 0; i < d->ncandidates &&
		 st->nnodes + st->local_candidate < Min(st->nparts, foresight_max_split_parts); i++)
	{
		RouteCandidate *c = &d->candidates[i];
		SplitNode  *n;

		/* the coordinator takes parts when it is a candidate by choice */
		if (c->is_local && d->local_is_candidate && !d->run_local)
		{
			st->local_candidate = true;
			st->local_cand = *c;
			continue;
		}
		if (c->is_local || !is_physical_standby(c->name))
			continue;
		n = &st->nodes[st->nnodes++];
		n->cand = *c;
		n->status = SNODE_FREE;
		n->inflight_slot = -1;
		n->part = -1;
		n->route = node_route(st, n);
	}
	if (st->nnodes == 0)
		st->all_here = "no standby is a candidate";
	for (int i = 0; i < st->nnodes && st->all_here == NULL; i++)
		st->all_here = route_transport_check(st->nodes[i].route);
	if (st->all_here != NULL)
	{
		st->nnodes = 0;
		st->local_candidate = false;
	}
	split_pieces_init(st);
	INSTR_TIME_SET_CURRENT(st->wait_start);
}

static void
node_gone(SplitScanState *st, SplitNode *n, const char *why, bool blame)
{
	n->status = SNODE_GONE;
	route_inflight_drop(&n->inflight_slot);
	n->why_gone = pstrdup(why ? why : "failed");
	if (blame)
		policy_node_failed(n->cand.slot, n->cand.node_id);
	ereport(DEBUG1,
			(errmsg_internal("pg_foresight: node \"%s\" takes no more parts: %s",
							 n->cand.name, n->why_gone)));
}

/* node n, still behind the floor after foresight.split_max_wait: given up */
static void
too_late(SplitScanState *st, SplitNode *n)
{
	node_gone(st, n, psprintf("had not replayed %X/%X within foresight.split_max_wait",
							  LSN_FORMAT_ARGS(st->floor)), false);
}

static bool
waited_enough(SplitScanState *st)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, st->wait_start);
	return INSTR_TIME_GET_MILLISEC(now) >= foresight_split_max_wait;
}

/*
 * Node n's connection, set up for the session's query: false when the node
 * is gone (n->status).
 */
static bool
node_connect(SplitScanState *st, SplitNode *n, bool *binary)
{
	char	   *error = NULL;
	const char *text_reason;
	const char *unusable;

	if (n->rc == NULL || !n->rc->in_use)
	{
		if (remote_conn_busy(n->cand.slot, n->cand.node_id))
		{
			node_gone(st, n, "its connection is busy with another query of this session", false);
			return false;
		}
		n->rc = remote_conn_get(n->cand.slot, n->cand.node_id, n->cand.name,
								n->cand.conninfo, &error);
		if (n->rc == NULL)
		{
			node_gone(st, n, error, !remote_conn_last_failure_is_role);
			return false;
		}
	}
	*binary = route_transport_binary(n->route, n->rc, &text_reason, &unusable);
	if (unusable != NULL)
	{
		node_gone(st, n, unusable, false);
		return false;
	}
	return true;
}

/*
 * Bring node n's session up to date and check that it has replayed the
 * floor: false when it has not (lagging, or too late) or is gone.
 */
static bool
node_at_floor(SplitScanState *st, SplitNode *n)
{
	char	   *error = NULL;
	XLogRecPtr	replayed = InvalidXLogRecPtr;
	XLogRecPtr	need = st->floor;

	/*
	 * A node that reached the floor for an earlier piece of this read, on
	 * this connection, still has: no need to ask it again (a round trip a
	 * piece).
	 */
	if (n->replayed != InvalidXLogRecPtr && n->replayed >= st->floor)
		need = InvalidXLogRecPtr;
	if (!remote_prepare(n->rc, NULL, need, &replayed, &error))
	{
		if (!remote_prepare_refused)
			remote_conn_drop(n->rc);
		n->rc = NULL;
		node_gone(st, n, error, !remote_prepare_refused);
		return false;
	}
	if (need == InvalidXLogRecPtr)
		replayed = n->replayed;
	n->replayed = replayed;
	if (replayed == InvalidXLogRecPtr || replayed < st->floor)
	{
		if (waited_enough(st))
			too_late(st, n);
		else
			n->status = SNODE_LAGGING;
		return false;
	}
	policy_node_replayed(n->cand.slot, n->cand.node_id, replayed);
	return true;
}

/*
 * Send part p to node n: true when it runs there.  Otherwise the node is
 * lagging or gone, and the part still pending.
 */
static bool
send_part(SplitScanState *st, SplitNode *n, SplitPart *p)
{
	char	   *error = NULL;
	bool		binary;

	if (!node_connect(st, n, &binary) || !node_at_floor(st, n))
		return false;

	if (!remote_send(n->rc, p->sql, 0, NULL, NULL, NULL, NULL, binary, false, &error))
	{
		remote_conn_drop(n->rc);
		n->rc = NULL;
		node_gone(st, n, error, true);
		return false;
	}
	/* its first answer within the deadline of a read of the piece's class */
	remote_watch_deadline(n->rc, route_deadline_ms(n->cand.slot, n->cand.node_id,
												   request_class_from_cost(st->info.cost / Max(st->nparts, 1))));
	n->route->rc = n->rc;
	n->route->plan.sql = (char *) p->sql;
	n->route->conv_attempt = -1;
	route_prepare_conversion(n->route);
	n->status = SNODE_BUSY;
	/* the piece is in flight on the node: other reads' routing sees it */
	route_inflight_hold(&n->inflight_slot, n->cand.slot);
	n->part = p->index;
	p->status = PART_RUNNING;
	p->node = n - st->nodes;
	p->ran_on = n->cand.name;
	p->attempts++;
	p->rows = 0;
	INSTR_TIME_SET_CURRENT(p->started);
	return true;
}

/* how often a node behind the floor is asked again, a millisecond apart, before blocks */
#define FLOOR_TRIES 10

/* every part's SQL and condition: by blocks or by the key */
static void
use_ranges(SplitScanState *st, bool blocks)
{
	List	   *sql = blocks ? st->info.block_sql : st->info.part_sql;
	List	   *conds = blocks ? st->info.block_conditions : st->info.part_conditions;

	for (int i = 0; i < st->nparts; i++)
	{
		st->parts[i].sql = list_nth(sql, i);
		st->parts[i].condition = list_nth(conds, i);
	}
	st->by_blocks = blocks;
}

void
split_choose_ranges(SplitScanState *st)
{
	XLogRecPtr	at = InvalidXLogRecPtr;
	int			synced = 0;
	const char *why = NULL;

	st->ranges_why = st->info.blocks_refusal;
	if (st->info.block_sql == NIL || st->nnodes == 0)
		return;
	if (!foresight_split_block_ranges)
	{
		st->ranges_why = "foresight.split_block_ranges is off";
		return;
	}
	if (st->local_candidate)
	{
		st->ranges_why = "the coordinator takes parts (its snapshot is not at a standby's position)";
		return;
	}

	/* each node: connected, its session up to date, at the floor */
	st->blocks_tried = true;
	for (int i = 0; i < st->nnodes && why == NULL; i++)
	{
		SplitNode  *n = &st->nodes[i];
		bool		binary;

		if (n->status != SNODE_FREE)
			continue;			/* left out by the gain model */
		CHECK_FOR_INTERRUPTS();
		if (!node_connect(st, n, &binary))
			continue;			/* gone: the others may still agree */
		/* just behind the floor, a node catches up within a millisecond or two */
		for (int tries = 0; !node_at_floor(st, n); tries++)
		{
			if (n->status != SNODE_LAGGING || tries == FLOOR_TRIES)
				break;
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1L,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			n->status = SNODE_FREE;
		}
		if (n->status == SNODE_LAGGING)
			why = psprintf("node \"%s\" had not replayed the floor", n->cand.name);
		if (n->status != SNODE_FREE)
			continue;
		if (n->rc->xact_open)
			why = psprintf("node \"%s\" has a transaction block open", n->cand.name);
	}
	if (why != NULL)
	{
		st->ranges_why = why;
		return;
	}

	/*
	 * Then their blocks and snapshots, all sent before any answer is read,
	 * so that the nodes take them at about the same moment.  Every block
	 * stays open for the node's parts, whether they are cut by blocks or,
	 * failing that, by the key (a snapshot at the floor either way).
	 */
	for (int i = 0; i < st->nnodes; i++)
	{
		SplitNode  *n = &st->nodes[i];
		char	   *error;

		if (n->status != SNODE_FREE)
			continue;
		if (!remote_begin_snapshot_send(n->rc, &error))
		{
			n->rc = NULL;
			node_gone(st, n, error, true);
			continue;
		}
		n->in_block = true;
	}
	for (int i = 0; i < st->nnodes; i++)
	{
		SplitNode  *n = &st->nodes[i];
		XLogRecPtr	position;
		char	   *error;

		if (!n->in_block)
			continue;
		if (!remote_begin_snapshot_end(n->rc, &position, &error))
		{
			n->in_block = false;
			if (!n->rc->in_use)
			{
				n->rc = NULL;
				node_gone(st, n, error, true);
			}
			else if (why == NULL)
				why = psprintf("node \"%s\" did not take a snapshot: %s", n->cand.name, error);
			continue;
		}
		if (why != NULL)
			continue;
		if (position == InvalidXLogRecPtr)
			why = psprintf("node \"%s\" could not tell where its snapshot stands (WAL was replayed meanwhile)",
						   n->cand.name);
		else if (synced > 0 && position != at)
			why = psprintf("the nodes' snapshots are at different WAL positions (%X/%X, %X/%X)",
						   LSN_FORMAT_ARGS(at), LSN_FORMAT_ARGS(position));
		at = position;
		synced++;
	}
	if (why == NULL && synced == 0)
		why = "no node took a snapshot";
	st->ranges_why = why;
	if (why == NULL)
	{
		st->blocks_at = at;
		use_ranges(st, true);
	}
}

void
split_blocks_lost(SplitScanState *st, int part)
{
	if (!st->by_blocks)
		return;
	for (int i = 0; i < st->nparts; i++)
		if (st->parts[i].status != PART_PENDING || st->parts[i].returned_row)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 part >= 0 ?
					 errmsg("no node is left to read part %d of the split read", part + 1) :
					 errmsg("no node is left to read the split read's parts"),
					 errdetail("The parts were cut by block ranges of %s for nodes whose snapshots were at WAL position %X/%X, and parts have run there already.",
							   st->info.relation, LSN_FORMAT_ARGS(st->blocks_at)),
					 errhint("Run the query again.  With foresight.split_block_ranges off, parts are cut by key ranges, which the coordinator can finish alone.")));
	/* nothing read yet: the parts as cut by the key, which any node (or here) reads */
	use_ranges(st, false);
	st->ranges_why = "every node at the blocks' snapshot position was lost before a part ran";
}

bool
split_wait_for_lagging(SplitScanState *st)
{
	bool		lagging = false;

	for (int i = 0; i < st->nnodes; i++)
		lagging = lagging || st->nodes[i].status == SNODE_LAGGING;
	if (!lagging || !waited_enough(st))
		return lagging;

	/*
	 * Given up, as send_part gives up a node it offers a piece to: a node
	 * no pending piece is offered to (its own are done, and the pending
	 * ones are another's) would otherwise never be asked again.
	 */
	for (int i = 0; i < st->nnodes; i++)
		if (st->nodes[i].status == SNODE_LAGGING)
			too_late(st, &st->nodes[i]);
	return false;
}

void
split_start_parts(SplitScanState *st)
{
	for (int i = 0; i < st->nnodes; i++)
	{
		SplitNode  *n = &st->nodes[i];
		int			p;

		if (n->status != SNODE_FREE && n->status != SNODE_LAGGING)
			continue;
		/* none for this node (without stealing, others may have theirs) */
		if ((p = split_take_piece(st, i)) < 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		(void) send_part(st, n, &st->parts[p]);
	}
}

/* the part failed before any row: pending again, the node takes no more */
static void
part_again(SplitScanState *st, SplitNode *n, SplitPart *p, const char *why)
{
	p->status = PART_PENDING;
	p->failure = psprintf("%s: %s", n->cand.name, why);
	p->ran_on = NULL;
	st->nretries++;
	n->part = -1;
}

/*
 * The part failed for good: raise the node's error as the query's.  The
 * connection is read to its end when still usable, dropped otherwise
 * (after the error was read from it).
 */
static void
part_failed(SplitScanState *st, SplitNode *n, SplitPart *p, PGresult *res)
{
	RemoteConn *rc = n->rc;
	bool		usable = res != NULL && PQstatus(rc->conn) == CONNECTION_OK;

	p->ms = split_part_ms(p);
	p->status = PART_DONE;
	n->status = SNODE_GONE;
	route_inflight_drop(&n->inflight_slot);
	split_log_outcome(st, true);
	if (usable)
	{
		remote_drain_keeping(rc, res);
	}
	PG_TRY();
	{
		/* the notices before the error, as a run here shows them */
		remote_notices_emit(rc);
		remote_error_raise(rc->conn, res, n->cand.name, p->sql);
	}
	PG_CATCH();
	{
		if (!usable)
			remote_conn_drop(rc);
		n->rc = NULL;
		PG_RE_THROW();
	}
	PG_END_TRY();
	pg_unreachable();
}

TupleTableSlot *
split_read_node(SplitScanState *st, int i)
{
	SplitNode  *n = &st->nodes[i];
	SplitPart  *p = &st->parts[n->part];
	RemoteConn *rc = n->rc;
	PGresult   *res = NULL;
	ExecStatusType status = PGRES_FATAL_ERROR;

	/* the remote layer gave the node up (watch.c): past the deadline, or down */
	if (rc->gave_up[0] != '\0')
	{
		char	   *why = psprintf("stopped answering: %s", rc->gave_up);

		remote_notices_discard(rc);
		remote_conn_abandon(rc);
		n->rc = NULL;
		if (p->returned_row)
		{
			n->status = SNODE_GONE;
			route_inflight_drop(&n->inflight_slot);
			p->status = PART_DONE;
			split_log_outcome(st, true);
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("node \"%s\" %s", n->cand.name, why),
					 errdetail("Rows of part %d of the split read were returned already, so it cannot run again elsewhere.",
							   p->index + 1),
					 errhint("Run the query again: a node marked down is not chosen.")));
		}
		part_again(st, n, p, why);
		node_gone(st, n, why, true);
		return NULL;
	}

	if (PQstatus(rc->conn) == CONNECTION_OK && PQconsumeInput(rc->conn))
	{
		res = PQgetResult(rc->conn);
		if (res != NULL)
		{
			status = PQresultStatus(res);
			remote_watch_clear(rc); /* it answered: no deadline any more */
		}
		else
			status = PGRES_TUPLES_OK;	/* no result left: the part ended */
	}

	if (status == PGRES_SINGLE_TUPLE)
	{
		TupleTableSlot *slot = route_store_row(n->route, res);

		p->rows++;
		p->returned_row = true;
		/* the part's notices so far: it is part of the answer now */
		if (remote_notices_waiting())
			remote_notices_emit(rc);
		return slot;
	}
	if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
	{
		if (res)
			PQclear(res);
		remote_drain(rc);
		remote_notices_emit(rc);
		p->ms = split_part_ms(p);
		p->status = PART_DONE;
		n->status = SNODE_FREE;
		route_inflight_drop(&n->inflight_slot);
		n->part = -1;
		n->parts_run++;
		return NULL;
	}

	/* an error, or the connection broke */
	if (!p->returned_row && res != NULL && PQstatus(rc->conn) == CONNECTION_OK &&
		remote_error_means_not_here(res))
	{
		char	   *why = psprintf("cannot run on a standby: %s", remote_error_message(rc->conn, res));

		PQclear(res);
		remote_drain(rc);
		remote_notices_discard(rc);
		part_again(st, n, p, why);
		node_gone(st, n, why, false);
		return NULL;
	}
	if (!p->returned_row && remote_error_is_retryable(rc->conn, res))
	{
		char	   *why = remote_error_message(rc->conn, res);

		if (res)
			PQclear(res);
		remote_notices_discard(rc);
		remote_conn_abandon(rc);
		n->rc = NULL;
		part_again(st, n, p, why);
		node_gone(st, n, why, true);
		return NULL;
	}
	part_failed(st, n, p, res);
	return NULL;				/* not reached */
}

void
split_part_check_columns(int part, int got, int expected)
{
	if (got != expected)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("part %d returned %d columns, expected %d",
						part + 1, got, expected)));
}

void
split_part_starts_here(SplitScanState *st, SplitPart *p)
{
	/* the slot its rows are read into */
	if (st->local_slot == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(st->css.ss.ps.state->es_query_cxt);

		st->local_slot = MakeSingleTupleTableSlot(st->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor,
												  &TTSOpsMinimalTuple);
		MemoryContextSwitchTo(old);
	}
	/* taken, when the merge runs it here without asking the queue */
	if (p->index < st->queue.npieces && !st->queue.taken[p->index])
	{
		st->queue.taken[p->index] = true;
		st->queue.left--;
	}
	p->status = PART_RUNNING;
	p->node = -1;
	p->ran_on = FORESIGHT_LOCAL_NODE_NAME;
	p->attempts++;
	p->rows = 0;
	INSTR_TIME_SET_CURRENT(p->started);
}

void
split_run_here(SplitScanState *st, int part)
{
	SplitPart  *p = &st->parts[part];
	TupleDesc	desc = st->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	MemoryContext old;
	Portal		portal;
	int			ret;
	int			held = -1;

	split_blocks_lost(st, part);
	split_part_starts_here(st, p);
	old = MemoryContextSwitchTo(st->css.ss.ps.state->es_query_cxt);
	p->store = tuplestore_begin_heap(false, false, work_mem);
	MemoryContextSwitchTo(old);

	/* in flight here while it runs (an error gives it back at abort) */
	route_inflight_hold(&held, FORESIGHT_LOCAL_SLOT);
	if ((ret = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(ret));
	portal = SPI_cursor_open_with_args(NULL, p->sql, 0, NULL, NULL, NULL, true,
									   CURSOR_OPT_NO_SCROLL);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		split_part_check_columns(part, SPI_tuptable->tupdesc->natts, desc->natts);
		for (uint64 i = 0; i < SPI_processed; i++)
			tuplestore_puttuple(p->store, SPI_tuptable->vals[i]);
		p->rows += SPI_processed;
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_finish();
	route_inflight_drop(&held);
	p->ms = split_part_ms(p);
	p->status = PART_DONE;
}

void
split_release(SplitScanState *st)
{
	split_worker_shutdown(st);
	for (int i = 0; i < st->nnodes; i++)
	{
		SplitNode  *n = &st->nodes[i];

		/*
		 * A part not read to the end (a LIMIT above is met): its connection
		 * is kept when the query can be stopped cleanly, so that the next
		 * read does not pay a new session on the node.  A remote block open
		 * there is the split's own (in a transaction block every part runs
		 * here, split_scan.c), which ends with the scan, below.
		 */
		Assert(n->rc == NULL || !n->rc->in_use || !n->rc->xact_open || n->in_block);
		if (n->status == SNODE_BUSY && n->rc && n->rc->in_use && n->rc->busy &&
			!remote_stop_query(n->rc))
			remote_conn_abandon(n->rc);
		/* a rescan reconnects: the node's cached connection is gone */
		if (n->status == SNODE_BUSY)
			n->status = SNODE_FREE;
		route_inflight_drop(&n->inflight_slot);
		/* the block its parts read in ends with them, not with the transaction */
		if (n->in_block && n->rc)
			remote_conn_end_block(n->rc);
		n->in_block = false;
		n->part = -1;
		n->rc = NULL;
	}
	for (int i = 0; i < st->nparts; i++)
	{
		SplitPart  *p = &st->parts[i];

		/* stopped before its end: its time so far, for the log and stats */
		if (p->status == PART_RUNNING)
		{
			p->ms = split_part_ms(p);
			p->status = PART_DONE;
			p->cut_short = true;
		}
		if (p->store)
			tuplestore_end(p->store);
		p->store = NULL;
	}
}
