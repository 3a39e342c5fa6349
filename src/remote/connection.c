/*-------------------------------------------------------------------------
 *
 * connection.c
 *	  Per-backend cache of connections to nodes.
 *
 * Key: (registry slot, node_id, role).  A connection authenticates as the
 * role running the query (GetUserId(), so SET ROLE and SECURITY DEFINER
 * are respected) to the current database, using libpq's own means for
 * credentials (passfile, certificates, the node's conninfo), plus
 * foresight.connection_options.  The cache lives in TopMemoryContext; libpq
 * objects are malloc'd by libpq and freed with PQfinish.
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
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/memutils.h"

#include "registry/conninfo.h"
#include "remote/connection.h"
#include "remote/remote_exec.h"
#include "remote/remote_gucs.h"

#define REMOTE_MAX_CONNECTIONS 128

bool		remote_conn_last_failure_is_role = false;
static RemoteConn *conns = NULL;
static int	conns_high = 0;		/* entries [conns_high, MAX) were never used */
static bool exit_callback_registered = false;

static void
remote_conn_cleanup_at_exit(int code, Datum arg)
{
	for (int i = 0; i < REMOTE_MAX_CONNECTIONS; i++)
		if (conns[i].in_use && conns[i].conn)
		{
			PQfinish(conns[i].conn);
			conns[i].conn = NULL;
		}
}

static void
remote_conn_forget(RemoteConn *rc)
{
	if (rc->wait_set)
		FreeWaitEventSet(rc->wait_set);
	rc->wait_set = NULL;
	if (rc->conn)
		PQfinish(rc->conn);
	rc->conn = NULL;
	for (int i = 0; i < REMOTE_SETTING_COUNT; i++)
	{
		if (rc->settings[i])
			pfree(rc->settings[i]);
		rc->settings[i] = NULL;
	}
	rc->stamp.valid = false;
	for (int i = 0; i < rc->nprepared; i++)
		pfree(rc->prepared[i]);
	rc->nprepared = 0;
	if (rc->conninfo)
		pfree(rc->conninfo);
	rc->conninfo = NULL;
	rc->busy = false;
	rc->orphaned = false;
	rc->xact_open = false;
	rc->xact_failed = false;
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
 * The cached connection of (node, current role), its query left behind by
 * a hedge read as far as it has arrived; NULL when there is none (or it
 * broke while being read).
 */
static RemoteConn *
cached_conn(int slot, int32 node_id)
{
	Oid			userid = GetUserId();

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
	if (rc->conn && rc->busy && PQtransactionStatus(rc->conn) == PQTRANS_ACTIVE)
	{
		PGcancel   *cancel = PQgetCancel(rc->conn);
		char		errbuf[256];

		if (cancel)
		{
			if (!PQcancel(cancel, errbuf, sizeof(errbuf)))
				ereport(WARNING,
						(errmsg("could not send cancel request to node \"%s\": %s",
								rc->node_name, errbuf)));
			PQfreeCancel(cancel);
		}
	}
	remote_conn_forget(rc);
}

static char *
remote_conn_string(const char *conninfo)
{
	StringInfoData extra;
	char	   *user = GetUserNameFromId(GetUserId(), false);
	char	   *dbname = get_database_name(MyDatabaseId);

	initStringInfo(&extra);
	appendStringInfo(&extra, "connect_timeout=%d", foresight_connect_timeout);
	conninfo_append_param(&extra, "client_encoding", GetDatabaseEncodingName());
	if (foresight_connection_options && foresight_connection_options[0])
		appendStringInfo(&extra, " %s", foresight_connection_options);

	return conninfo_for_session(conninfo, extra.data, user, dbname,
								foresight_application_name);
}

RemoteConn *
remote_conn_get(int slot, int32 node_id, const char *node_name,
				const char *conninfo, char **error)
{
	Oid			userid = GetUserId();
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

	connstr = remote_conn_string(conninfo);
	rc = free_entry;
	memset(rc, 0, sizeof(*rc));
	conns_high = Max(conns_high, (int) (rc - conns) + 1);
	rc->conn = PQconnectdb(connstr);
	pfree(connstr);
	if (rc->conn == NULL || PQstatus(rc->conn) != CONNECTION_OK)
	{
		char	   *msg = rc->conn ? pstrdup(PQerrorMessage(rc->conn)) : pstrdup("out of memory");

		msg[strcspn(msg, "\n")] = '\0';
		*error = msg;
		/* a role that may not log in there says nothing about the node */
		remote_conn_last_failure_is_role = rc->conn &&
			(PQconnectionNeedsPassword(rc->conn) ||
			 strstr(msg, "authentication failed") != NULL ||
			 strstr(msg, "not permitted to log in") != NULL ||
			 strstr(msg, "no pg_hba.conf entry") != NULL ||
			 (strstr(msg, "role \"") != NULL && strstr(msg, "does not exist") != NULL));
		if (rc->conn)
			PQfinish(rc->conn);
		rc->conn = NULL;
		return NULL;
	}
	rc->in_use = true;
	rc->slot = slot;
	rc->node_id = node_id;
	rc->userid = userid;
	strlcpy(rc->node_name, node_name, NAMEDATALEN);
	old = MemoryContextSwitchTo(TopMemoryContext);
	rc->conninfo = pstrdup(conninfo);
	MemoryContextSwitchTo(old);
	return rc;
}

/*
 * End the remote transaction of a connection with the local one.  The
 * remote transactions are read-only, so committing them cannot fail in a
 * way that matters; it is done before the local commit (PRE_COMMIT), where
 * an error (a cancel while waiting) may still abort the local transaction.
 */
static void
remote_xact_commit(RemoteConn *rc)
{
	PGresult   *res;

	rc->busy = true;
	if (!PQsendQuery(rc->conn, "COMMIT"))
	{
		remote_conn_forget(rc);
		return;
	}
	while ((res = remote_get_result(rc)) != NULL)
		PQclear(res);
	rc->busy = false;
	rc->xact_open = false;
	rc->xact_failed = false;
	if (PQstatus(rc->conn) != CONNECTION_OK ||
		PQtransactionStatus(rc->conn) != PQTRANS_IDLE)
		remote_conn_forget(rc);
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
