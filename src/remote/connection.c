/*-------------------------------------------------------------------------
 *
 * connection.c
 *	  Per-backend cache of connections to nodes.
 *
 * Key: (registry slot, node_id, login).  A connection authenticates as the
 * role this session authenticated as (GetAuthenticatedUserId(): the session
 * user, unless a superuser changed it with SET SESSION AUTHORIZATION) to
 * the current database, using libpq's own means for credentials (passfile,
 * certificates, the node's conninfo), plus foresight.connection_options.
 * The session user and the current role of the node session are carried
 * like its settings before each query (guc_sync.c), so one connection per
 * node serves every role of the session.  A new connection's session is set
 * up first (remote_setup_session): it never routes onward, it is read-only,
 * and its settings are read.  The cache lives in TopMemoryContext; libpq
 * objects are malloc'd by libpq and freed with PQfinish.
 *
 * A connection is made with libpq's asynchronous calls, waiting on the latch
 * and its socket like every other wait of remote/ (a cancel or
 * statement_timeout interrupts it; connect_timeout is counted here), and
 * holds two of this backend's external file descriptors (fd.c): its socket
 * and its wait event set.  When they are not to be had, the node is not
 * connected to, as when it cannot be reached: the query runs elsewhere.
 *
 * A connection whose node's conninfo changed, or that failed, is dropped
 * and made again on next use.  A connection left running a query by an
 * error or a cancel (its scan never reached its end) is abandoned at
 * (sub)transaction abort: a cancel request is sent so that the node stops
 * the query, and the connection is closed.  A hedge's loser (an orphan) is
 * not: it is a read-only statement outside any transaction block, so it is
 * left to finish, and its results are read and discarded when its
 * connection is next asked for (a cancel request would make the waiting
 * client pay for a new connection to a node that is slow already).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "registry/conninfo.h"
#include "remote/conn_cap.h"
#include "remote/connection.h"
#include "remote/errors.h"
#include "remote/guc_sync.h"
#include "remote/notices.h"
#include "remote/remote_exec.h"
#include "remote/remote_gucs.h"
#include "remote/watch.h"

#define REMOTE_MAX_CONNECTIONS 128

/*
 * External file descriptors a connection holds (its socket, and the epoll
 * descriptor of its wait event set), and those that must be left after it
 * for the short-lived wait event sets of other waits (a hedge's wait on two
 * sockets, WaitLatchOrSocket while connecting), whose creation raises an
 * error when none is left.
 */
#define REMOTE_FDS_PER_CONNECTION 2
#define REMOTE_FDS_SPARE 1

bool		remote_conn_last_failure_is_role = false;
static RemoteConn *conns = NULL;
static int	conns_high = 0;		/* entries [conns_high, MAX) were never used */
static bool exit_callback_registered = false;
static bool out_of_fds_logged = false;	/* since the last connection made */

/*
 * Close the libpq connection of rc, if any, and give back the file
 * descriptors it held: an external one is held exactly while rc->conn is
 * set; the wait event set gives back its own.
 */
static void
close_conn(RemoteConn *rc)
{
	if (rc->cap_held)
		conn_cap_release(rc->cap_slot);
	rc->cap_held = false;
	if (rc->wait_set)
		FreeWaitEventSet(rc->wait_set);
	rc->wait_set = NULL;
	if (rc->conn)
	{
		PQfinish(rc->conn);
		ReleaseExternalFD();
	}
	rc->conn = NULL;
}

static void
remote_conn_cleanup_at_exit(int code, Datum arg)
{
	/* entries not in use too: one may be connecting */
	for (int i = 0; i < conns_high; i++)
		close_conn(&conns[i]);
}

static void
remote_conn_forget(RemoteConn *rc)
{
	close_conn(rc);
	guc_sync_forget(rc);
	remote_prepared_forget(rc);
	if (rc->conninfo)
		pfree(rc->conninfo);
	rc->conninfo = NULL;
	rc->busy = false;
	rc->orphaned = false;
	rc->xact_open = false;
	rc->xact_failed = false;
	rc->deadline = 0;
	rc->gave_up[0] = '\0';
	rc->in_use = false;
}

/*
 * A connection left running a hedge's loser: take in what has arrived of
 * its results, without waiting; it is free again once they are all in.
 * One that broke meanwhile is forgotten.
 */
static void
settle_orphan(RemoteConn *rc)
{
	if (!rc->in_use || !rc->orphaned)
		return;
	if (!remote_reap(rc))
		remote_conn_forget(rc);
	else if (!rc->busy)
		rc->orphaned = false;
}

void
remote_conn_orphan(RemoteConn *rc)
{
	Assert(rc->busy && !rc->xact_open);
	rc->orphaned = true;
	settle_orphan(rc);
}

/*
 * The cached connection of the node, its query left behind by a hedge read
 * as far as it has arrived; NULL when there is none (or it broke while
 * being read).
 */
static RemoteConn *
cached_conn(int slot, int32 node_id)
{
	Oid			userid = GetAuthenticatedUserId();

	if (conns == NULL)
		return NULL;
	for (int i = 0; i < conns_high; i++)
		if (conns[i].in_use && conns[i].slot == slot && conns[i].node_id == node_id &&
			conns[i].userid == userid)
		{
			settle_orphan(&conns[i]);
			return conns[i].in_use ? &conns[i] : NULL;
		}
	return NULL;
}

bool
remote_conn_busy(int slot, int32 node_id)
{
	RemoteConn *rc = cached_conn(slot, node_id);

	return rc != NULL && rc->busy;
}

bool
remote_conn_left_running(int slot, int32 node_id)
{
	RemoteConn *rc = cached_conn(slot, node_id);

	return rc != NULL && rc->orphaned;
}

void
remote_conn_prune(bool (*still_valid) (int slot, int32 node_id, const char *conninfo))
{
	if (conns == NULL)
		return;
	for (int i = 0; i < conns_high; i++)
	{
		RemoteConn *rc = &conns[i];

		if (rc->in_use && !rc->busy && !rc->xact_open &&
			!still_valid(rc->slot, rc->node_id, rc->conninfo))
			remote_conn_forget(rc);
	}
}

void
remote_conn_drop(RemoteConn *rc)
{
	if (rc && rc->in_use)
		remote_conn_forget(rc);
}

void
remote_conn_abandon(RemoteConn *rc)
{
	if (rc == NULL || !rc->in_use)
		return;
	/* a connection given up was sent its cancel then */
	if (rc->conn && rc->busy && rc->gave_up[0] == '\0' &&
		PQtransactionStatus(rc->conn) == PQTRANS_ACTIVE)
		remote_watch_cancel(rc);
	remote_conn_forget(rc);
}

static char *
remote_conn_string(const char *conninfo)
{
	StringInfoData extra;
	char	   *user = GetUserNameFromId(GetAuthenticatedUserId(), false);
	char	   *dbname = get_database_name(MyDatabaseId);

	initStringInfo(&extra);
	appendStringInfo(&extra, "connect_timeout=%d", foresight_connect_timeout);
	conninfo_append_param(&extra, "client_encoding", GetDatabaseEncodingName());
	if (foresight_connection_options && foresight_connection_options[0])
		appendStringInfo(&extra, " %s", foresight_connection_options);

	return conninfo_for_session(conninfo, extra.data, user, dbname,
								foresight_application_name);
}

/*
 * Are the file descriptors of one more connection to be had (fd.c's budget
 * of external ones, a third of max_files_per_process)?  If so, the socket's
 * is kept (given back by close_conn); the wait event set's is taken when
 * the set is made, and the spare is only checked for.
 */
static bool
reserve_fds(void)
{
	int			n = 0;

	while (n < REMOTE_FDS_PER_CONNECTION + REMOTE_FDS_SPARE && AcquireExternalFD())
		n++;
	if (n < REMOTE_FDS_PER_CONNECTION + REMOTE_FDS_SPARE)
	{
		while (n-- > 0)
			ReleaseExternalFD();
		return false;
	}
	while (n-- > 1)
		ReleaseExternalFD();
	return true;
}

/*
 * The connection's connect_timeout in milliseconds, -1 for none, read as
 * libpq reads it in its blocking calls (its asynchronous ones leave it to
 * the caller): at least 2 seconds, none when 0 or less.
 */
static long
connect_timeout_ms(PGconn *conn)
{
	PQconninfoOption *options = PQconninfo(conn);
	long		timeout = foresight_connect_timeout;

	for (PQconninfoOption *opt = options; opt && opt->keyword; opt++)
	{
		if (strcmp(opt->keyword, "connect_timeout") == 0 && opt->val && opt->val[0])
		{
			char	   *end;
			long		v = strtol(opt->val, &end, 10);

			if (*end == '\0')
				timeout = v;
		}
	}
	if (options)
		PQconninfoFree(options);
	if (timeout <= 0)
		return -1;
	return Max(timeout, 2) * 1000L;
}

/*
 * The SQLSTATE that libpq put in a failed connection's message line, and
 * that line as it reads at default verbosity.  The handshake runs at
 * verbose error verbosity (see connect_node), so the server's refusal
 * reads "... failed: FATAL:  28P01: password authentication failed ...":
 * the code follows the severity and its two spaces.  Returns the error
 * code, with "28P01: " cut out of line, or 0 when the line has none (a
 * failure of libpq's own: no answer, no password supplied).
 */
static int
take_sqlstate(char *line)
{
	for (char *p = strstr(line, ":  "); p != NULL; p = strstr(p + 1, ":  "))
	{
		char	   *field = p + 3;
		char		sqlstate[6];
		int			code;

		if (strlen(field) < 7 || field[5] != ':' || field[6] != ' ')
			continue;
		strlcpy(sqlstate, field, sizeof(sqlstate));
		if ((code = remote_sqlstate(sqlstate)) == 0)
			continue;
		memmove(field, field + 7, strlen(field + 7) + 1);
		return code;
	}
	return 0;
}

/*
 * Drive a connection started with PQconnectStart until it is made or has
 * failed, or until its connect_timeout has passed, waiting on the latch and
 * the socket.  Returns PQconnectPoll's last answer: OK, FAILED, or READING
 * or WRITING at the timeout.
 *
 * A wait event set of its own for each wait (WaitLatchOrSocket): libpq may
 * close the socket and open another (the next address, or without SSL),
 * maybe with the same number, which a kept set would no longer watch.
 */
static PostgresPollingStatusType
wait_connected(PGconn *conn)
{
	PostgresPollingStatusType status = PGRES_POLLING_WRITING;
	long		timeout_ms = connect_timeout_ms(conn);
	TimestampTz deadline = 0;

	/* a query's response deadline bounds its connection too (watch.h) */
	if (remote_connect_limit_ms > 0 &&
		(timeout_ms < 0 || remote_connect_limit_ms < timeout_ms))
		timeout_ms = remote_connect_limit_ms;

	if (timeout_ms > 0)
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);

	if (PQstatus(conn) == CONNECTION_BAD)
		return PGRES_POLLING_FAILED;
	while (status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED)
	{
		int			io = status == PGRES_POLLING_READING ?
			WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
		long		left = -1;
		int			events;

		if (deadline != 0 &&
			(left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline)) <= 0)
			break;
		events = WaitLatchOrSocket(MyLatch,
								   WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | io |
								   (left >= 0 ? WL_TIMEOUT : 0),
								   PQsocket(conn), left, PG_WAIT_EXTENSION);
		if (events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if (events & io)
			status = PQconnectPoll(conn);
	}
	return status;
}

/*
 * Connect rc->conn to connstr, like PQconnectdb but interruptible: a
 * cancel, statement_timeout or the postmaster's death end the wait, which
 * PQconnectdb would prolong up to connect_timeout; connect_timeout counts
 * here for the whole connection.  One of the file descriptors reserved for
 * it is held (reserve_fds).  On success the connection is non-blocking, at
 * default error verbosity, with its wait event set; on failure it is
 * closed, *error says why (one line, as libpq says it) and
 * remote_conn_last_failure_is_role is set when the node refused the role
 * rather than being unreachable.
 */
static bool
connect_node(RemoteConn *rc, const char *connstr, char **error)
{
	volatile PostgresPollingStatusType status = PGRES_POLLING_FAILED;
	char	   *msg;
	int			sqlstate;

	rc->conn = PQconnectStart(connstr);
	if (rc->conn == NULL)
	{
		ReleaseExternalFD();	/* close_conn has no connection to close */
		*error = pstrdup("out of memory");
		return false;
	}

	/*
	 * The server's refusal during the handshake has no PGresult: libpq
	 * formats it into the connection's message, with the SQLSTATE at
	 * verbose verbosity only.  PQconnectStart has read nothing yet.
	 */
	PQsetErrorVerbosity(rc->conn, PQERRORS_VERBOSE);

	PG_TRY();
	{
		status = wait_connected(rc->conn);
	}
	PG_CATCH();
	{
		close_conn(rc);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (status == PGRES_POLLING_OK &&
		PQsetnonblocking(rc->conn, 1) == 0)
	{
		PQsetErrorVerbosity(rc->conn, PQERRORS_DEFAULT);
		/* with the file descriptor reserved for it */
		rc->wait_set = CreateWaitEventSet(TopMemoryContext, 3);
		AddWaitEventToSet(rc->wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(rc->wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		AddWaitEventToSet(rc->wait_set, WL_SOCKET_READABLE, PQsocket(rc->conn), NULL, NULL);
		remote_notices_attach(rc);
		return true;
	}

	if (status == PGRES_POLLING_FAILED)
		msg = pstrdup(PQerrorMessage(rc->conn));
	else if (status == PGRES_POLLING_OK)
		msg = psprintf("could not set non-blocking mode: %s", PQerrorMessage(rc->conn));
	else
	{
		/*
		 * As libpq's blocking calls say it: the message holds "connection to
		 * server at ... failed: " for the attempt under way, and the failures
		 * of earlier ones (other addresses) before it.
		 */
		msg = psprintf("%stimeout expired", PQerrorMessage(rc->conn));
	}
	msg[strcspn(msg, "\n")] = '\0';
	sqlstate = take_sqlstate(msg);
	*error = msg;

	/*
	 * A role that may not log in there says nothing about the node: class
	 * 28 is a pg_hba.conf entry missing or rejecting, a failed
	 * authentication, a role that does not exist or may not log in.
	 */
	remote_conn_last_failure_is_role =
		PQconnectionNeedsPassword(rc->conn) ||
		ERRCODE_TO_CATEGORY(sqlstate) == ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
	close_conn(rc);
	return false;
}

RemoteConn *
remote_conn_get(int slot, int32 node_id, const char *node_name,
				const char *conninfo, char **error)
{
	Oid			userid = GetAuthenticatedUserId();
	RemoteConn *rc = NULL;
	RemoteConn *free_entry = NULL;
	char	   *connstr;
	MemoryContext old;

	*error = NULL;
	remote_conn_last_failure_is_role = false;
	if (conns == NULL)
		conns = MemoryContextAllocZero(TopMemoryContext,
									   sizeof(RemoteConn) * REMOTE_MAX_CONNECTIONS);
	if (!exit_callback_registered)
	{
		before_shmem_exit(remote_conn_cleanup_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}

	for (int i = 0; i < REMOTE_MAX_CONNECTIONS; i++)
	{
		RemoteConn *c = &conns[i];

		if (!c->in_use)
		{
			if (!free_entry)
				free_entry = c;
			continue;
		}
		if (c->slot == slot && c->node_id == node_id && c->userid == userid)
		{
			rc = c;
			break;
		}
	}

	if (rc)
		settle_orphan(rc);
	if (rc && !rc->in_use)
		free_entry = rc;		/* it broke while settling */
	else if (rc)
	{
		/* the node moved, or the connection broke since last use */
		if (strcmp(rc->conninfo, conninfo) != 0 ||
			PQstatus(rc->conn) != CONNECTION_OK)
			remote_conn_forget(rc);
		else if (rc->busy)
		{
			*error = psprintf("the connection to node \"%s\" is busy with another query of this session", node_name);
			return NULL;
		}
		else
			return rc;
		free_entry = rc;
	}
	if (free_entry == NULL)
	{
		*error = pstrdup("too many cached node connections in this session");
		return NULL;
	}

	rc = free_entry;
	close_conn(rc);				/* nothing, unless an error cut a connection short */
	memset(rc, 0, sizeof(*rc));
	conns_high = Max(conns_high, (int) (rc - conns) + 1);
	if (!conn_cap_reserve(slot))
	{
		*error = psprintf("node \"%s\" has foresight.max_node_connections (%d) connections from this coordinator",
						  node_name, foresight_max_node_connections);
		/* the cap says nothing about the node */
		remote_conn_last_failure_is_role = true;
		return NULL;
	}
	rc->cap_held = true;
	rc->cap_slot = slot;
	if (!reserve_fds())
	{
		close_conn(rc);			/* gives the connection back to the cap */
		if (!out_of_fds_logged)
			ereport(LOG,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to node \"%s\": out of file descriptors",
							node_name),
					 errdetail("There are too many open files on the local server; routed queries run on other candidates meanwhile."),
					 errhint("Raise the server's max_files_per_process and/or \"ulimit -n\" limits.")));
		out_of_fds_logged = true;
		*error = psprintf("could not connect to node \"%s\": out of file descriptors",
						  node_name);
		/* this backend's shortage says nothing about the node */
		remote_conn_last_failure_is_role = true;
		return NULL;
	}
	connstr = remote_conn_string(conninfo);
	if (!connect_node(rc, connstr, error))
	{
		pfree(connstr);
		return NULL;
	}
	pfree(connstr);
	out_of_fds_logged = false;
	rc->in_use = true;
	rc->slot = slot;
	rc->node_id = node_id;
	rc->userid = userid;
	strlcpy(rc->node_name, node_name, NAMEDATALEN);
	old = MemoryContextSwitchTo(TopMemoryContext);
	rc->conninfo = pstrdup(conninfo);
	MemoryContextSwitchTo(old);

	/* a session that does not take its set-up is a node that does not work */
	if (!remote_setup_session(rc, error))
	{
		remote_conn_forget(rc);
		return NULL;
	}
	return rc;
}

/*
 * End the remote transaction of a connection with the local one.  The
 * remote transactions are read-only, so committing them cannot fail in a
 * way that matters; it is done before the local commit (PRE_COMMIT), where
 * an error (a cancel while waiting) may still abort the local transaction.
 * A remote transaction that failed rolls back instead, and with it what
 * was set in it: the connection is closed, since what its session has is
 * no longer what was sent.
 */
static void
remote_xact_commit(RemoteConn *rc)
{
	PGresult   *res;
	bool		rolls_back = rc->xact_failed;

	rc->busy = true;
	if (!PQsendQuery(rc->conn, "COMMIT") || !remote_flush(rc))
	{
		remote_conn_forget(rc);
		return;
	}
	while ((res = remote_get_result(rc)) != NULL)
		PQclear(res);
	rc->busy = false;
	rc->xact_open = false;
	rc->xact_failed = false;
	if (rolls_back || PQstatus(rc->conn) != CONNECTION_OK ||
		PQtransactionStatus(rc->conn) != PQTRANS_IDLE)
		remote_conn_forget(rc);
}

void
remote_conn_end_block(RemoteConn *rc)
{
	if (rc != NULL && rc->in_use && rc->xact_open && !rc->busy)
		remote_xact_commit(rc);
}

void
remote_xact_callback(XactEvent event)
{
	if (conns == NULL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			for (int i = 0; i < conns_high; i++)
				if (conns[i].in_use && conns[i].xact_open && !conns[i].busy)
					remote_xact_commit(&conns[i]);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:

			/*
			 * A query still running, or a remote transaction still open
			 * (abort): closing the connection ends both on the node, after
			 * a cancel request for a running query.
			 */
			for (int i = 0; i < conns_high; i++)
				if (conns[i].in_use && !conns[i].orphaned &&
					(conns[i].busy || conns[i].xact_open))
					remote_conn_abandon(&conns[i]);
			break;
		default:
			break;
	}
}

void
remote_subxact_callback(SubXactEvent event)
{
	/*
	 * A scan interrupted inside a subtransaction: its connection cannot be
	 * reused until the query is gone.  (A cursor opened before the savepoint
	 * would lose its connection too; it then fails cleanly on next fetch.)
	 */
	if (conns == NULL || event != SUBXACT_EVENT_ABORT_SUB)
		return;
	for (int i = 0; i < conns_high; i++)
	{
		if (!conns[i].in_use || conns[i].orphaned)
			continue;
		if (conns[i].xact_open)
		{
			/* its remote transaction may have failed: no more reads there */
			conns[i].xact_failed = true;
			if (conns[i].busy)
			{
				remote_conn_abandon(&conns[i]);
				continue;
			}
		}
		else if (conns[i].busy)
			remote_conn_abandon(&conns[i]);
	}
}
