/*-------------------------------------------------------------------------
 *
 * notices.c
 *	  A node's notices and warnings, passed on to the client as if raised
 *	  here.
 *
 * A routed query that calls a function raising a NOTICE or a WARNING
 * raises it on the node, whose session sends it to its client: this
 * backend.  libpq hands it to the connection's notice receiver (set when
 * the connection is made), which keeps a copy; the copies are raised here
 * with ereport at their own level, with the node's SQLSTATE, message,
 * detail, hint, context, internal query and position, object names and
 * source location, so that the client sees what a local run would have
 * shown, and client_min_messages and log_min_messages apply here as they
 * would to a local run.  Only NOTICE, WARNING and INFO pass: DEBUG and LOG
 * messages would be the node session's own chatter.
 *
 * The receiver runs inside libpq (PQconsumeInput, PQgetResult), where an
 * ereport, which may longjmp, must not happen: it only copies, without
 * raising an error even when out of memory (the notice is then dropped).
 * The copies are raised by the route (route_scan.c) when the query on the
 * connection is the one the client gets the answer of: at its first row
 * (and every later one), its end, its error.  A query that fails over to
 * another candidate before its first row has its notices discarded, since
 * the next candidate runs the query again; so are a hedge's loser's, and
 * those of the preliminaries (settings) and of preparing the statement,
 * which are the node session's business.
 *
 * The node session sends notices only at or above its client_min_messages,
 * which is not a mirrored setting (the node session's own level would
 * decide what gets here, and the local one whether the client sees it):
 * each connection sets it to notice once, and this session's own
 * client_min_messages filters when the notice is raised here.  It also
 * sets escape_string_warning off: with standard_conforming_strings off
 * (mirrored), the node would warn about the backslashes of the literals
 * the deparser wrote, which this server warned about already when it
 * parsed the client's statement.
 *
 * A notice the node raises while it plans the statement (an immutable
 * function folded into a constant, a stable one evaluated to estimate a
 * selectivity) comes with the others: the one this server raised when it
 * planned the statement was held back (router/plan_notices.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "remote/errors.h"
#include "remote/notices.h"

/* a connection whose query sends more than this before answering loses the rest */
#define NOTICES_MAX_COUNT	10000
#define NOTICES_MAX_BYTES	(16 * 1024 * 1024)

typedef struct QueuedNotice
{
	struct QueuedNotice *next;
	Size		size;
	RemoteReport report;		/* its texts follow the struct */
} QueuedNotice;

/* one per connection that was ever made with a RemoteConn entry */
typedef struct ConnNotices
{
	RemoteConn *rc;
	PGconn	   *conn;			/* the connection they come from */
	bool		session_set;	/* client_min_messages was sent */
	QueuedNotice *head;
	QueuedNotice *tail;
	int			count;
	Size		bytes;
	int			dropped;		/* beyond the limits, or out of memory */
} ConnNotices;

static MemoryContext notices_cxt = NULL;
static ConnNotices *conns = NULL;
static int	nconns = 0;
static int	maxconns = 0;
static int	pending = 0;		/* notices queued, all connections */
static QueuedNotice *raising = NULL;	/* the one being raised (freed next time) */

static ConnNotices *
find_entry(RemoteConn *rc)
{
	for (int i = 0; i < nconns; i++)
		if (conns[i].rc == rc)
			return &conns[i];
	return NULL;
}

/* rc's entry, when it is for rc's current connection */
static ConnNotices *
current_entry(RemoteConn *rc)
{
	ConnNotices *e = find_entry(rc);

	return e != NULL && e->conn == rc->conn ? e : NULL;
}

static void
clear_entry(ConnNotices *e)
{
	while (e->head != NULL)
	{
		QueuedNotice *n = e->head;

		e->head = n->next;
		pfree(n);
		pending--;
	}
	e->tail = NULL;
	e->count = 0;
	e->bytes = 0;
	e->dropped = 0;
}

static int
notice_level(const char *severity)
{
	if (severity == NULL)
		return 0;
	if (strcmp(severity, "WARNING") == 0)
		return WARNING;
	if (strcmp(severity, "NOTICE") == 0)
		return NOTICE;
	if (strcmp(severity, "INFO") == 0)
		return INFO;
	return 0;
}

/*
 * libpq's notice receiver of a node connection: keep a copy.  Never
 * raises an error (see the file's comment).
 */
static void
notice_receiver(void *arg, const PGresult *res)
{
	RemoteConn *rc = (RemoteConn *) arg;
	ConnNotices *e = current_entry(rc);
	int			elevel = notice_level(PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED));
	const char *value[RRF_COUNT];
	const char *s;
	Size		size = sizeof(QueuedNotice);
	QueuedNotice *n;
	char	   *p;

	if (e == NULL || rc->orphaned || elevel == 0)
		return;
	for (int i = 0; i < RRF_COUNT; i++)
	{
		value[i] = PQresultErrorField(res, remote_report_codes[i]);
		if (value[i] != NULL)
			size += strlen(value[i]) + 1;
	}
	if (value[RRF_MESSAGE] == NULL ||
		e->count >= NOTICES_MAX_COUNT || e->bytes + size > NOTICES_MAX_BYTES ||
		(n = MemoryContextAllocExtended(notices_cxt, size, MCXT_ALLOC_NO_OOM)) == NULL)
	{
		e->dropped++;
		return;
	}

	n->next = NULL;
	n->size = size;
	n->report.elevel = elevel;
	n->report.sqlstate = remote_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));
	s = PQresultErrorField(res, PG_DIAG_INTERNAL_POSITION);
	n->report.position = s ? atoi(s) : 0;
	s = PQresultErrorField(res, PG_DIAG_SOURCE_LINE);
	n->report.line = s ? atoi(s) : 0;
	p = (char *) n + sizeof(QueuedNotice);
	for (int i = 0; i < RRF_COUNT; i++)
	{
		n->report.text[i] = NULL;
		if (value[i] != NULL)
		{
			size_t		len = strlen(value[i]) + 1;

			memcpy(p, value[i], len);
			n->report.text[i] = p;
			p += len;
		}
	}

	if (e->tail)
		e->tail->next = n;
	else
		e->head = n;
	e->tail = n;
	e->count++;
	e->bytes += size;
	pending++;
}

void
remote_notices_attach(RemoteConn *rc)
{
	ConnNotices *e;

	if (notices_cxt == NULL)
		notices_cxt = AllocSetContextCreate(TopMemoryContext, "pg_foresight node notices",
											ALLOCSET_SMALL_SIZES);
	if ((e = find_entry(rc)) == NULL)
	{
		if (nconns == maxconns)
		{
			int			n = Max(8, maxconns * 2);

			conns = conns == NULL ?
				MemoryContextAlloc(notices_cxt, sizeof(ConnNotices) * n) :
				repalloc(conns, sizeof(ConnNotices) * n);
			maxconns = n;
		}
		e = &conns[nconns++];
		memset(e, 0, sizeof(*e));
		e->rc = rc;
	}
	clear_entry(e);
	e->conn = rc->conn;
	e->session_set = false;
	PQsetNoticeReceiver(rc->conn, notice_receiver, rc);
}

void
remote_notices_session(RemoteConn *rc, StringInfo sql)
{
	ConnNotices *e = current_entry(rc);

	if (e == NULL || e->session_set)
		return;
	appendStringInfoString(sql, "SELECT pg_catalog.set_config('client_min_messages', 'notice', false), "
						   "pg_catalog.set_config('escape_string_warning', 'off', false); ");
	e->session_set = true;
}

bool
remote_notices_waiting(void)
{
	return pending > 0;
}

void
remote_notices_discard(RemoteConn *rc)
{
	ConnNotices *e;

	if (pending == 0 || (e = find_entry(rc)) == NULL)
		return;
	clear_entry(e);
}

void
remote_notices_emit(RemoteConn *rc)
{
	ConnNotices *e;
	int			dropped;

	if (raising != NULL)
	{
		pfree(raising);
		raising = NULL;
	}
	if (pending == 0 || (e = current_entry(rc)) == NULL)
		return;

	while (e->head != NULL)
	{
		QueuedNotice *n = e->head;

		/* out of the queue first: raising it may fail */
		e->head = n->next;
		if (e->head == NULL)
			e->tail = NULL;
		e->count--;
		e->bytes -= n->size;
		pending--;
		raising = n;

		/* ereport, with the node's source location */
		remote_report_raise(&n->report, NULL, NULL);
		pfree(n);
		raising = NULL;
	}

	if ((dropped = e->dropped) > 0)
	{
		e->dropped = 0;
		ereport(WARNING,
				(errmsg("%d notices from node \"%s\" were not passed on", dropped, rc->node_name),
				 errdetail("The node sent more than %d notices, or %d MB of them, between two rows of its answer.",
						   NOTICES_MAX_COUNT, NOTICES_MAX_BYTES / (1024 * 1024))));
	}
}
