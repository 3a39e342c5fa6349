/*-------------------------------------------------------------------------
 *
 * remote_exec.c
 *	  Asynchronous execution of a routed statement on a node.
 *
 * Everything goes through libpq's asynchronous calls on a non-blocking
 * connection, and every wait is on the connection's socket and this
 * backend's latch (the connection's wait event set; WaitLatchOrSocket while
 * connecting), followed by CHECK_FOR_INTERRUPTS: statement_timeout,
 * pg_cancel_backend and a client's cancel interrupt the wait like any local
 * query, and the abort that follows cancels the query on the node
 * (connection.c).
 *
 * Rows come in single-row mode: one PGresult per row, so a large result is
 * never held in memory at once, and in the format the caller asks for:
 * binary (the types' send functions on the node) unless text is needed
 * (route_tuples.c decides).  Parameters go in the format the caller gives
 * for each.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/wait_event.h"

#include "remote/errors.h"
#include "remote/guc_sync.h"
#include "remote/notices.h"
#include "remote/remote_exec.h"
#include "remote/watch.h"

/*
 * Each connection keeps its wait event set (latch, postmaster death, its
 * socket), made with the connection (connection.c, which counts its file
 * descriptor): creating a set per wait would cost an epoll instance and
 * several system calls per row.
 */
static void
wait_for_socket(RemoteConn *rc, int events, long timeout_ms)
{
	WaitEvent	event;

	Assert(rc->wait_set != NULL);
	ModifyWaitEvent(rc->wait_set, 2, events, NULL);
	(void) WaitEventSetWait(rc->wait_set, timeout_ms, &event, 1, PG_WAIT_EXTENSION);
}

PGresult *
remote_get_result(RemoteConn *rc)
{
	PGconn	   *conn = rc->conn;

	while (PQisBusy(conn))
	{
		wait_for_socket(rc, WL_SOCKET_READABLE, remote_watch_timeout(rc, -1L));
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		(void) remote_watch_check(rc);	/* a shut socket reads as closed */
		if (!PQconsumeInput(conn))
			return NULL;
	}
	return PQgetResult(conn);
}

/* has the query on rc a result ready (or did its connection break)? */
static bool
result_ready(RemoteConn *rc)
{
	return !PQconsumeInput(rc->conn) || !PQisBusy(rc->conn);
}

/* milliseconds left of timeout_ms since start; -1 (no limit) stays -1 */
static long
time_left_ms(instr_time start, long timeout_ms)
{
	instr_time	now;

	if (timeout_ms < 0)
		return -1L;
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return Max(0L, timeout_ms - (long) INSTR_TIME_GET_MILLISEC(now));
}

/* remote_wait_any's loop; set: the sockets' wait event set when n is 2 */
static int
wait_any(RemoteConn *const *rcs, int n, long timeout_ms, WaitEventSet *set)
{
	instr_time	start;

	INSTR_TIME_SET_CURRENT(start);
	for (;;)
	{
		long		left;
		WaitEvent	event;

		for (int i = 0; i < n; i++)
			if (result_ready(rcs[i]))
				return i;
		left = time_left_ms(start, timeout_ms);
		if (left == 0)
			return -1;
		for (int i = 0; i < n; i++)
			left = remote_watch_timeout(rcs[i], left);
		if (set == NULL)
			wait_for_socket(rcs[0], WL_SOCKET_READABLE, left);
		else
			(void) WaitEventSetWait(set, left, &event, 1, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
			(void) remote_watch_check(rcs[i]);
	}
}

int
remote_wait_any(RemoteConn *const *rcs, int n, long timeout_ms)
{
	WaitEventSet *set;
	volatile int ready = -1;

	Assert(n == 1 || n == 2);
	if (n == 1)
		return wait_any(rcs, 1, timeout_ms, NULL);

	/* a set of its own for two sockets, freed even when interrupted */
	set = CreateWaitEventSet(CurrentMemoryContext, 2 + n);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < n; i++)
		AddWaitEventToSet(set, WL_SOCKET_READABLE, PQsocket(rcs[i]->conn), NULL, NULL);
	PG_TRY();
	{
		ready = wait_any(rcs, n, timeout_ms, set);
	}
	PG_CATCH();
	{
		FreeWaitEventSet(set);
		PG_RE_THROW();
	}
	PG_END_TRY();
	FreeWaitEventSet(set);
	return ready;
}

/* remote_reap; *cancelled (when not NULL) set if the query ended by a cancel */
static bool
reap(RemoteConn *rc, bool *cancelled)
{
	PGresult   *res;

	while (rc->busy)
	{
		if (!PQconsumeInput(rc->conn))
			return false;
		if (PQisBusy(rc->conn))
			return true;
		res = PQgetResult(rc->conn);
		if (res == NULL)
			rc->busy = false;
		else
		{
			const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			if (cancelled && PQresultStatus(res) == PGRES_FATAL_ERROR && sqlstate &&
				strcmp(sqlstate, "57014") == 0)
				*cancelled = true;
			PQclear(res);
		}
	}
	return true;
}

bool
remote_reap(RemoteConn *rc)
{
	return reap(rc, NULL);
}

bool
remote_stop_query(RemoteConn *rc)
{
	RemoteConn *one[1] = {rc};
	bool		cancelled = false;
	instr_time	start;

	if (!reap(rc, NULL))
		return false;
	if (!rc->busy)
		return true;
	if (rc->gave_up[0] != '\0')
		return false;
	remote_watch_cancel(rc);
	INSTR_TIME_SET_CURRENT(start);
	while (rc->busy)
	{
		long		left = time_left_ms(start, REMOTE_STOP_WAIT_MS);

		if (left == 0 || wait_any(one, 1, left, NULL) < 0 || rc->gave_up[0] != '\0' ||
			!reap(rc, &cancelled))
			return false;
	}

	/*
	 * Ended by something else than the cancel (it finished meanwhile, or
	 * failed): the cancel may still reach the node's session and stop the
	 * next query sent there.
	 */
	return cancelled;
}

bool
remote_flush(RemoteConn *rc)
{
	PGconn	   *conn = rc->conn;
	int			r;

	while ((r = PQflush(conn)) == 1)
	{
		wait_for_socket(rc, WL_SOCKET_WRITEABLE | WL_SOCKET_READABLE,
						remote_watch_timeout(rc, -1L));
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		(void) remote_watch_check(rc);
		if (!PQconsumeInput(conn))
			return false;
	}
	return r == 0;
}

bool		remote_prepare_refused = false;

/*
 * Run one simple-protocol string of preliminaries; see remote_prepare.
 * When a statement of it fails, *failed_at is its number (0 for the first
 * of the string), and the node ran none after it.
 */
static bool
run_preliminaries(RemoteConn *rc, const char *sql, bool check_lsn, XLogRecPtr *replay_lsn,
				  int *failed_at, char **error)
{
	PGresult   *res;
	bool		ok = true;
	int			n = 0;

	*failed_at = -1;
	rc->busy = true;
	if (!PQsendQuery(rc->conn, sql) || !remote_flush(rc))
	{
		*error = remote_error_message(rc->conn, NULL);
		return false;
	}
	while ((res = remote_get_result(rc)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		{
			if (ok)
			{
				*error = remote_error_message(rc->conn, res);
				*failed_at = n;
			}
			ok = false;
		}
		else if (check_lsn && st == PGRES_TUPLES_OK && PQnfields(res) == 1 &&
				 strcmp(PQfname(res, 0), "pg_last_wal_replay_lsn") == 0)
		{
			*replay_lsn = InvalidXLogRecPtr;
			if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
			{
				bool		have_error = false;

				*replay_lsn = pg_lsn_in_internal(PQgetvalue(res, 0, 0), &have_error);
				if (have_error)
					*replay_lsn = InvalidXLogRecPtr;
			}
		}
		PQclear(res);
		n++;
	}
	if (PQstatus(rc->conn) != CONNECTION_OK)
	{
		if (ok)
			*error = remote_error_message(rc->conn, NULL);
		ok = false;
		*failed_at = -1;		/* the connection's failure, not a statement's */
	}
	rc->busy = false;
	return ok;
}

/* Roll the connection's transaction block back: true when it is idle again. */
static bool
roll_back(RemoteConn *rc)
{
	PGresult   *res;

	rc->busy = true;
	if (!PQsendQuery(rc->conn, "ROLLBACK") || !remote_flush(rc))
		return false;
	while ((res = remote_get_result(rc)) != NULL)
		PQclear(res);
	rc->busy = false;
	return PQstatus(rc->conn) == CONNECTION_OK &&
		PQtransactionStatus(rc->conn) == PQTRANS_IDLE;
}

/*
 * The preliminaries failed at statement failed_at: when that was one of
 * the session's settings, the node refused it, which says nothing of the
 * node.  Its transaction is then cleaned up: the one this string began is
 * rolled back (what the string set goes with it, as with an implicit
 * transaction's), one begun before is left failed, so the block reads
 * nowhere else on this connection and the connection is closed when it
 * ends (connection.c).
 */
static bool
preliminaries_failed(RemoteConn *rc, bool block_was_open, int failed_at, char **error)
{
	char	   *message = *error;

	if (failed_at < 0 || !guc_sync_refused(rc, failed_at, message))
		return false;
	remote_prepare_refused = true;
	*error = psprintf("node \"%s\" refused a setting of this session: %s", rc->node_name, message);
	if (block_was_open)
	{
		rc->xact_failed = true;
		return false;
	}
	if (PQtransactionStatus(rc->conn) == PQTRANS_INERROR && !roll_back(rc))
		remote_prepare_refused = false;
	return false;
}

bool
remote_setup_session(RemoteConn *rc, char **error)
{
	PGresult   *res;
	PGresult   *last = NULL;
	bool		ok = true;

	*error = NULL;
	rc->busy = true;
	if (!PQsendQuery(rc->conn, guc_sync_setup_sql()) || !remote_flush(rc))
	{
		*error = remote_error_message(rc->conn, NULL);
		return false;
	}
	while ((res = remote_get_result(rc)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && ok)
		{
			*error = remote_error_message(rc->conn, res);
			ok = false;
		}
		if (last)
			PQclear(last);
		last = res;
	}
	rc->busy = false;
	if (ok && PQstatus(rc->conn) != CONNECTION_OK)
	{
		*error = remote_error_message(rc->conn, NULL);
		ok = false;
	}
	if (ok && last == NULL)
	{
		*error = pstrdup("no answer to the session set-up");
		ok = false;
	}
	if (ok)
		ok = guc_sync_baseline(rc, last, error);
	if (last)
		PQclear(last);
	return ok;
}

bool
remote_prepare(RemoteConn *rc, const char *begin, XLogRecPtr need_lsn, XLogRecPtr *replay_lsn,
			   char **error)
{
	StringInfoData sql;
	bool		check_lsn = (need_lsn != InvalidXLogRecPtr);
	bool		block_was_open = rc->xact_open;
	char	   *refusal = NULL;
	int			failed_at;

	*error = NULL;
	remote_prepare_refused = false;
	initStringInfo(&sql);

	/*
	 * The replay position is read before the remote transaction begins, so
	 * that the snapshot the query takes later includes everything replayed
	 * by then: that takes a round trip of its own when a block begins (an
	 * isolation level must precede any query of its transaction).
	 * Otherwise BEGIN goes first and the settings follow in the same trip.
	 * The settings are one statement each, so that a refused one is known
	 * by its place in the answers.
	 */
	if (begin != NULL && check_lsn)
	{
		if (guc_sync_statement(rc, &sql, 0, &refusal) < 0)
		{
			*error = refusal;
			remote_prepare_refused = true;
			return false;
		}
		remote_notices_session(rc, &sql);
		appendStringInfoString(&sql, "SELECT pg_catalog.pg_last_wal_replay_lsn()");
		if (!run_preliminaries(rc, sql.data, true, replay_lsn, &failed_at, error))
			return preliminaries_failed(rc, block_was_open, failed_at, error);
		guc_sync_confirm(rc);
		if (*replay_lsn == InvalidXLogRecPtr || *replay_lsn < need_lsn)
			return true;		/* not this node: the caller moves on */
		resetStringInfo(&sql);
		check_lsn = false;
		appendStringInfoString(&sql, begin);
	}
	else
	{
		if (begin != NULL)
			appendStringInfo(&sql, "%s; ", begin);
		if (guc_sync_statement(rc, &sql, begin != NULL ? 1 : 0, &refusal) < 0)
		{
			*error = refusal;
			remote_prepare_refused = true;
			return false;
		}
		remote_notices_session(rc, &sql);
		if (check_lsn)
			appendStringInfoString(&sql, "SELECT pg_catalog.pg_last_wal_replay_lsn()");
	}
	if (sql.len == 0)
		return true;
	if (!run_preliminaries(rc, sql.data, check_lsn, replay_lsn, &failed_at, error))
		return preliminaries_failed(rc, block_was_open, failed_at, error);
	guc_sync_confirm(rc);
	if (begin != NULL)
	{
		rc->xact_open = true;
		rc->xact_failed = false;
	}
	return true;
}

bool
remote_begin_snapshot_send(RemoteConn *rc, char **error)
{
	Assert(!rc->xact_open && !rc->busy);
	*error = NULL;
	rc->busy = true;
	if (!PQsendQuery(rc->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
					 "SET LOCAL foresight.block_scan = on; "
					 "SELECT foresight.snapshot_position()") || !remote_flush(rc))
	{
		*error = remote_error_message(rc->conn, NULL);
		remote_conn_drop(rc);
		return false;
	}
	return true;
}

bool
remote_begin_snapshot_end(RemoteConn *rc, XLogRecPtr *position, char **error)
{
	PGresult   *res;
	bool		ok = true;

	*error = NULL;
	*position = InvalidXLogRecPtr;
	while ((res = remote_get_result(rc)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		{
			if (ok)
				*error = remote_error_message(rc->conn, res);
			ok = false;
		}
		else if (st == PGRES_TUPLES_OK && PQnfields(res) == 1 && PQntuples(res) == 1 &&
				 !PQgetisnull(res, 0, 0))
		{
			bool		have_error = false;

			*position = pg_lsn_in_internal(PQgetvalue(res, 0, 0), &have_error);
			if (have_error)
				*position = InvalidXLogRecPtr;
		}
		PQclear(res);
	}
	rc->busy = false;
	if (PQstatus(rc->conn) != CONNECTION_OK)
	{
		if (ok)
			*error = remote_error_message(rc->conn, NULL);
		remote_conn_drop(rc);
		return false;
	}
	if (ok && PQtransactionStatus(rc->conn) == PQTRANS_INTRANS)
	{
		rc->xact_open = true;
		rc->xact_failed = false;
		return true;
	}
	/* refused (a node without the function): idle again, or closed */
	if (ok)
		*error = pstrdup("no transaction block began");
	if (PQtransactionStatus(rc->conn) != PQTRANS_IDLE && !roll_back(rc))
		remote_conn_drop(rc);
	return false;
}

/*
 * Statements prepared on a connection, found by their SQL text and
 * parameter types: the same text with other types is another statement (a
 * client's PREPARE of one query for int4 and for int8, or lifted constants
 * of other types, "r @> 5" and "r @> '[1,5)'").  An open-addressing table
 * of twice REMOTE_MAX_PREPARED slots, so a look-up costs a hash of the text
 * and about one comparison, whatever the number of statements.  Entries
 * are never removed one by one: the whole set goes with the connection.
 */
#define PREPARED_SLOTS (2 * REMOTE_MAX_PREPARED)	/* a power of two */

typedef struct RemotePrepared
{
	char	   *sql;			/* NULL: free slot */
	uint32		hash;
	int			nparams;
	Oid		   *types;
	int			number;			/* its name is fs_<number> */
} RemotePrepared;

typedef struct RemotePreparedSet
{
	MemoryContext cxt;			/* this struct and everything it points to */
	RemotePrepared slots[PREPARED_SLOTS];
} RemotePreparedSet;

StaticAssertDecl((PREPARED_SLOTS & (PREPARED_SLOTS - 1)) == 0,
				 "PREPARED_SLOTS must be a power of two");

static uint32
prepared_hash(const char *sql, int nparams, const Oid *types)
{
	uint32		h = hash_bytes((const unsigned char *) sql, strlen(sql));

	if (nparams > 0)
		h = hash_combine(h, hash_bytes((const unsigned char *) types,
									   nparams * sizeof(Oid)));
	return h;
}

/*
 * The slot of (sql, types) in set: the one holding it, or the free slot
 * where it would go.  The table is never more than half full, so there is
 * always a free slot.
 */
static RemotePrepared *
prepared_slot(RemotePreparedSet *set, uint32 hash, const char *sql, int nparams,
			  const Oid *types)
{
	uint32		i = hash & (PREPARED_SLOTS - 1);

	for (;;)
	{
		RemotePrepared *p = &set->slots[i];

		if (p->sql == NULL)
			return p;
		if (p->hash == hash && p->nparams == nparams &&
			(nparams == 0 || memcmp(p->types, types, nparams * sizeof(Oid)) == 0) &&
			strcmp(p->sql, sql) == 0)
			return p;
		i = (i + 1) & (PREPARED_SLOTS - 1);
	}
}

void
remote_prepared_forget(RemoteConn *rc)
{
	if (rc->prepared != NULL)
		MemoryContextDelete(rc->prepared->cxt);
	rc->prepared = NULL;
	rc->nprepared = 0;
}

/*
 * The name of the statement prepared for sql with these parameter types on
 * this connection, preparing it first if needed; NULL when it cannot be
 * (too many), or on failure (then *error is set).
 */
static const char *
remote_prepared_name(RemoteConn *rc, const char *sql, int nparams, const Oid *types,
					 char **error)
{
	static char name[32];
	uint32		hash = prepared_hash(sql, nparams, types);
	RemotePrepared *slot;
	PGresult   *res;
	bool		ok = true;

	if (rc->prepared == NULL)
	{
		MemoryContext cxt = AllocSetContextCreate(TopMemoryContext,
												  "foresight prepared statements",
												  ALLOCSET_SMALL_SIZES);

		rc->prepared = MemoryContextAllocZero(cxt, sizeof(RemotePreparedSet));
		rc->prepared->cxt = cxt;
	}
	slot = prepared_slot(rc->prepared, hash, sql, nparams, types);
	if (slot->sql != NULL)
	{
		snprintf(name, sizeof(name), "fs_%d", slot->number);
		return name;
	}
	if (rc->nprepared >= REMOTE_MAX_PREPARED)
		return NULL;

	snprintf(name, sizeof(name), "fs_%d", rc->nprepared);
	rc->busy = true;
	if (!PQsendPrepare(rc->conn, name, sql, nparams, types) || !remote_flush(rc))
	{
		*error = remote_error_message(rc->conn, NULL);
		return NULL;
	}
	while ((res = remote_get_result(rc)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ok)
		{
			*error = remote_error_message(rc->conn, res);
			ok = false;
		}
		PQclear(res);
	}
	rc->busy = false;
	if (!ok || PQstatus(rc->conn) != CONNECTION_OK)
	{
		if (*error == NULL)
			*error = remote_error_message(rc->conn, NULL);
		return NULL;
	}
	slot->sql = MemoryContextStrdup(rc->prepared->cxt, sql);
	slot->hash = hash;
	slot->nparams = nparams;
	slot->types = NULL;
	if (nparams > 0)
	{
		slot->types = MemoryContextAlloc(rc->prepared->cxt, nparams * sizeof(Oid));
		memcpy(slot->types, types, nparams * sizeof(Oid));
	}
	slot->number = rc->nprepared++;
	return name;
}

bool
remote_send(RemoteConn *rc, const char *sql, int nparams,
			const Oid *types, const char *const *values, const int *lengths,
			const int *formats, bool binary_result, bool prepare, char **error)
{
	const char *prepared = NULL;
	int			nprepared = rc->nprepared;
	int			result_format = binary_result ? 1 : 0;
	int			sent;

	*error = NULL;

	/*
	 * A statement with parameters is a prepared statement of the client's:
	 * prepare it on the node too, so that the node plans it like this
	 * server does (once, or per execution as plan_cache_mode says).  One
	 * whose parameters were values here (lifted constants) is prepared
	 * only when the caller says no plan can change its rows.
	 */
	if (nparams > 0 && prepare)
	{
		prepared = remote_prepared_name(rc, sql, nparams, types, error);
		if (prepared == NULL && *error != NULL)
			return false;
	}

	/* what the node said while being set up is its session's business */
	remote_notices_discard(rc);

	rc->busy = true;
	if (prepared)
		sent = PQsendQueryPrepared(rc->conn, prepared, nparams, values, lengths, formats,
								   result_format);
	else if (nparams > 0 || binary_result)
	{
		/* binary rows need the extended protocol, parameters or not */
		sent = PQsendQueryParams(rc->conn, sql, nparams, types, values, lengths, formats,
								 result_format);
	}
	else
	{
		/*
		 * Without parameters, in text, the simple protocol: one message
		 * instead of five, and no unnamed statement and portal on the node.
		 * The SQL is one deparsed statement, so it cannot smuggle in a
		 * second one.
		 */
		sent = PQsendQuery(rc->conn, sql);
	}
	if (!sent ||
		!PQsetSingleRowMode(rc->conn) ||
		!remote_flush(rc))
	{
		*error = remote_error_message(rc->conn, NULL);
		return false;
	}
	/*
	 * A new backend's caches, or a new statement's planning, are warming
	 * up: the first REMOTE_COLD_SENDS queries of a connection, and one that
	 * prepared a statement.
	 */
	rc->sent_cold = rc->nsent++ < REMOTE_COLD_SENDS || rc->nprepared > nprepared;
	return true;
}

void
remote_drain(RemoteConn *rc)
{
	PGresult   *res;

	while ((res = remote_get_result(rc)) != NULL)
		PQclear(res);
	rc->busy = false;
}

/*
 * remote_drain while the caller still holds a result (an error it raises
 * next): if the wait is interrupted (a cancel), that result is cleared
 * before the error goes on, so that nothing leaks.
 */
void
remote_drain_keeping(RemoteConn *rc, PGresult *held)
{
	PG_TRY();
	{
		remote_drain(rc);
	}
	PG_CATCH();
	{
		PQclear(held);
		PG_RE_THROW();
	}
	PG_END_TRY();
}
