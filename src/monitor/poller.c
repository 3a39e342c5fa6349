/*-------------------------------------------------------------------------
 *
 * poller.c
 *	  Polling the nodes: asynchronous libpq connections, concurrent queries
 *	  with per-node deadlines, and what follows from an answer or its
 *	  absence (sample, node health, log lines).
 *
 * Each monitored node (enabled or drained; never disabled ones, never the
 * coordinator, which is sampled in-process) has a NodeConn that goes
 *
 *	 DISCONNECTED -> CONNECTING -> READY <-> BUSY
 *
 * At every sample the monitor sends a query to every READY connection and
 * starts connecting the DISCONNECTED ones, then waits on all their sockets
 * at once (one WaitEventSet with the latch) until every node has answered
 * or the deadline passed (foresight.poll_timeout, at most 80% of the
 * interval).  A node that has not answered by then has missed the sample:
 * its query is cancelled with a request that does not wait for the node
 * (remote/cancel.c), its connection is closed and opened again at the next
 * sample.  Connecting is asynchronous too (PQconnectStart/PQconnectPoll),
 * so a node that accepts and never answers costs the others nothing.
 *
 * After its sample, each node gets an empty query: its time is the node's
 * network round trip (round_trip.c).  Missing it by the deadline is not
 * missing the sample (the answer is read at the next cycle).
 *
 * Each connection holds one of the process's external file descriptors
 * (fd.c's budget, a third of max_files_per_process), like postgres_fdw's:
 * a node whose connection would exceed them is not connected to, and
 * misses the sample ("out of file descriptors").
 *
 * The first query on a new connection asks whether the node has
 * foresight.node_snapshot(); if so the node is polled with it (binary
 * result: the protobuf message), otherwise, or if it fails, with the plain
 * statistics query of pgstats.c (PostgreSQL part only).
 *
 * Logging: once per incident.  The first failure after a success logs the
 * error; further failures are silent until the node answers again; the
 * transition to DOWN (foresight.down_after consecutive misses) and back to
 * UP are logged.
 *
 * Each good answer is also judged (judge_node): a node that is this
 * server itself, or a registered standby that is not in recovery
 * (promoted) or belongs to another cluster, is kept out of routing from
 * that sample on; its status says why, and the change is logged once.
 *
 * A node's notices and warnings (the "terminating connection due to
 * immediate shutdown command" a stopping standby sends its sessions) go to
 * the server log as lines of the monitor, naming the node
 * (monitor_notices.c), not to stderr raw as libpq's default notice
 * processor would print them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "access/xlog.h"

#include "monitor/monitor_notices.h"
#include "monitor/node_health.h"
#include "monitor/pgstats.h"
#include "monitor/poll_outcome.h"
#include "monitor/round_trip.h"
#include "monitor/poller.h"
#include "monitor/sample.h"
#include "monitor/sample_local.h"
#include "monitor/snapshot.h"
#include "monitor/worker.h"
#include "registry/conninfo.h"
#include "registry/registry.h"
#include "remote/cancel.h"
#include "predict/live_models.h"
#include "stats/history.h"
#include "stats/latency.h"

#define MONITOR_APPLICATION_NAME "foresight monitor"

#define PROBE_QUERY "SELECT pg_catalog.to_regprocedure('foresight.node_snapshot()') IS NOT NULL"
/* the value only when within the decoder's limit: its size is checked there */
#define SNAPSHOT_RETRY_SAMPLES 10
#define SNAPSHOT_QUERY "SELECT CASE WHEN pg_catalog.octet_length(s) OPERATOR(pg_catalog.<=) " \
	CppAsString2(SNAPSHOT_MAX_BYTES) " THEN s END, pg_catalog.octet_length(s) " \
	"FROM foresight.node_snapshot() AS s"

typedef enum ConnPhase
{
	CONN_DISCONNECTED,
	CONN_CONNECTING,
	CONN_READY,
	CONN_BUSY
} ConnPhase;

typedef enum NodeMode
{
	MODE_UNKNOWN,				/* not probed yet on this connection */
	MODE_EXTENSION,
	MODE_SQL
} NodeMode;

typedef enum PendingQuery
{
	QUERY_NONE,
	QUERY_PROBE,
	QUERY_PING,					/* an empty query: the round trip */
	QUERY_SNAPSHOT,
	QUERY_SQL
} PendingQuery;

typedef struct NodeConn
{
	bool		in_use;
	int			slot;
	int32		node_id;
	char		name[NAMEDATALEN];
	ForesightNodeKind kind;
	char		conninfo[FORESIGHT_CONNINFO_MAX];	/* as registered */
	PGconn	   *conn;
	ConnPhase	phase;
	bool		want_write;		/* connecting or flushing: wait for writable */
	NodeMode	mode;
	bool		fallback_logged;	/* the extension path failed once */
	bool		unreadable_logged;	/* its snapshot could not be read */
	int			sql_samples;	/* ... samples by plain SQL since */
	PendingQuery query;
	bool		first_poll_due;	/* set up since the last cycle, not polled yet */
	bool		pending;		/* polled this cycle, no outcome yet */
	bool		sampled;		/* its sample taken this cycle */
	bool		pinged;			/* its round trip measured this cycle */
	instr_time	ping_sent;
	SampleState state;
	bool		in_incident;	/* failures logged since the last success */
	MonitorNotices notices;		/* the node's, until the end of the cycle */
} NodeConn;

static NodeConn *conns = NULL;	/* one per registry slot; slot 0 unused */
static char *monitor_user = NULL;

void
poller_init(void)
{
	conns = MemoryContextAllocZero(TopMemoryContext,
								   sizeof(NodeConn) * registry_slot_count());
	sample_local_reset();
	/* the bootstrap superuser's name; we are in a transaction */
	monitor_user = MemoryContextStrdup(TopMemoryContext,
									   GetUserNameFromId(BOOTSTRAP_SUPERUSERID, false));
}

static const char *
connect_user(void)
{
	if (foresight_monitor_user && foresight_monitor_user[0] != '\0')
		return foresight_monitor_user;
	return monitor_user;
}

/*
 * The time nodes have to answer a sample: foresight.poll_timeout, but at
 * most POLL_SHARE_OF_INTERVAL of the interval, so that a node that does
 * not answer leaves the cycle time for the rest of the sample's work and
 * the next sample starts on time: one bad node must not slow the others'
 * sampling.
 */
#define POLL_SHARE_OF_INTERVAL 0.8

static int
effective_timeout_ms(void)
{
	return Max(1, Min(foresight_poll_timeout_ms,
					  (int) (foresight_sample_interval_ms * POLL_SHARE_OF_INTERVAL)));
}

/*
 * A poll that missed its sample: ask the node to cancel the query (it may
 * be stuck in the node, holding a backend there), without waiting for the
 * node, then close.  Not connected yet: nothing runs there to cancel.
 */
static void
cancel_missed_poll(NodeConn *nc)
{
	const char *error;

	if (nc->conn == NULL || nc->phase != CONN_BUSY)
		return;
	if (!remote_cancel_nowait(nc->conn, REMOTE_CANCEL_CONNECT_MS, &error))
		ereport(DEBUG1,
				(errmsg_internal("foresight monitor: could not cancel the poll of node \"%s\": %s",
								 nc->name, error)));
}

/*
 * A connection holds one of the process's external file descriptors (fd.c)
 * exactly while nc->conn is set: taken in start_connect, given back here.
 */
static void
close_conn(NodeConn *nc)
{
	if (nc->conn)
	{
		PQfinish(nc->conn);
		ReleaseExternalFD();
	}
	nc->conn = NULL;
	nc->phase = CONN_DISCONNECTED;
	nc->want_write = false;
	nc->query = QUERY_NONE;
	nc->mode = MODE_UNKNOWN;
}

int
poller_reconcile(void)
{
	int			nslots = registry_slot_count();
	ForesightNode *nodes = palloc(sizeof(ForesightNode) * nslots);
	bool	   *keep = palloc0(sizeof(bool) * nslots);
	int			n;
	int			nnew = 0;

	n = registry_snapshot(nodes, nslots, NULL);
	for (int i = 0; i < n; i++)
	{
		ForesightNode *node = &nodes[i];
		NodeConn   *nc;

		if (node->slot == FORESIGHT_LOCAL_SLOT || node->state == NODE_STATE_DISABLED ||
			registry_row_is_this_primary(node))
			continue;
		nc = &conns[node->slot];
		keep[node->slot] = true;
		if (nc->in_use && nc->node_id == node->node_id &&
			strcmp(nc->conninfo, node->conninfo) == 0)
		{
			strlcpy(nc->name, node->name, NAMEDATALEN);
			nc->kind = node->kind;
			continue;
		}
		/* new node in this slot, or its conninfo changed */
		close_conn(nc);
		if (!nc->in_use || nc->node_id != node->node_id)
		{
			sample_state_reset(&nc->state, node->node_id);
			nc->in_incident = false;
			nc->fallback_logged = false;
		}
		nc->in_use = true;
		nc->first_poll_due = true;
		nnew++;
		nc->slot = node->slot;
		nc->node_id = node->node_id;
		strlcpy(nc->name, node->name, NAMEDATALEN);
		nc->kind = node->kind;
		strlcpy(nc->conninfo, node->conninfo, FORESIGHT_CONNINFO_MAX);
	}
	for (int s = 1; s < nslots; s++)
	{
		if (conns[s].in_use && !keep[s])
		{
			close_conn(&conns[s]);
			conns[s].in_use = false;
		}
	}
	pfree(nodes);
	pfree(keep);
	return nnew;
}

void
poller_shutdown(void)
{
	if (conns == NULL)
		return;
	for (int s = 0; s < registry_slot_count(); s++)
		if (conns[s].in_use)
			close_conn(&conns[s]);
}

static void
conn_failed(NodeConn *nc, const char *what)
{
	const char *err = nc->conn ? PQerrorMessage(nc->conn) : "out of memory";

	nc->pending = false;
	poll_record_failure(nc->slot, nc->node_id, nc->name, &nc->in_incident, what, err);
	close_conn(nc);
}

/* ---- remote nodes ---- */

static void
send_query(NodeConn *nc)
{
	int			ok;

	if (nc->sampled && !nc->pinged)
	{
		/*
		 * After the sample, its round trip: by then the monitor is waiting
		 * on the sockets, not sampling the coordinator, so the answer is
		 * read when it comes.
		 */
		nc->query = QUERY_PING;
		INSTR_TIME_SET_CURRENT(nc->ping_sent);
		ok = PQsendQuery(nc->conn, "");
	}
	else if (nc->mode == MODE_UNKNOWN)
	{
		nc->query = QUERY_PROBE;
		ok = PQsendQuery(nc->conn, PROBE_QUERY);
	}
	else if (nc->mode == MODE_EXTENSION)
	{
		nc->query = QUERY_SNAPSHOT;
		ok = PQsendQueryParams(nc->conn, SNAPSHOT_QUERY, 0, NULL, NULL, NULL, NULL, 1);
	}
	else
	{
		nc->query = QUERY_SQL;
		ok = PQsendQuery(nc->conn, pgstats_query);
	}
	if (!ok)
	{
		conn_failed(nc, "could not send query");
		return;
	}
	nc->phase = CONN_BUSY;
	nc->want_write = PQflush(nc->conn) == 1;
}

/*
 * The file descriptor of one more connection, if fd.c's budget of external
 * ones has it and one more besides, for the wait event set of
 * poller_cycle, whose creation would raise an error without it.
 */
static bool
reserve_fd(void)
{
	if (!AcquireExternalFD())
		return false;
	if (!AcquireExternalFD())
	{
		ReleaseExternalFD();
		return false;
	}
	ReleaseExternalFD();
	return true;
}

/*
 * The node's conninfo's own "options", then -c foresight.routing_policy=local:
 * the monitor's session on a node that is a pg_foresight coordinator too
 * must answer for that node, never route its queries onward (a harmless
 * placeholder where pg_foresight is not loaded); and the catalog's
 * search_path, so that the statistics query, sent as text to a node
 * without the extension, resolves no name in a schema that a database's
 * or role's setting puts first.  As a keyword=value pair for
 * conninfo_for_session; later keywords win in libpq.
 */
static char *
monitor_options(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	StringInfoData value;
	StringInfoData pair;

	initStringInfo(&value);
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "options") == 0 && o->val && o->val[0])
			appendStringInfo(&value, "%s ", o->val);
	if (opts)
		PQconninfoFree(opts);
	appendStringInfoString(&value, "-c foresight.routing_policy=local -c search_path=" PGSTATS_SEARCH_PATH);
	initStringInfo(&pair);
	conninfo_append_param(&pair, "options", value.data);
	pfree(value.data);
	return pair.data;
}

static void
start_connect(NodeConn *nc)
{
	char	   *conninfo;
	char	   *options;

	nc->mode = MODE_UNKNOWN;
	if (!reserve_fd())
	{
		nc->pending = false;
		poll_record_failure(nc->slot, nc->node_id, nc->name, &nc->in_incident,
					   "could not connect",
					   "out of file descriptors (raise max_files_per_process and/or \"ulimit -n\")");
		return;
	}
	options = monitor_options(nc->conninfo);
	conninfo = conninfo_for_session(nc->conninfo, options, connect_user(),
									foresight_database, MONITOR_APPLICATION_NAME);
	nc->conn = PQconnectStart(conninfo);
	pfree(conninfo);
	pfree(options);
	if (nc->conn == NULL)
		ReleaseExternalFD();	/* close_conn has no connection to close */
	if (nc->conn == NULL || PQstatus(nc->conn) == CONNECTION_BAD)
	{
		conn_failed(nc, "could not connect");
		return;
	}
	PQsetNoticeReceiver(nc->conn, monitor_notices_receiver, &nc->notices);
	nc->phase = CONN_CONNECTING;
	nc->want_write = true;
}

/* A complete answer to the current query. */
static void
handle_result(NodeConn *nc, PGresult *res, TimestampTz now)
{
	NodeSnapshot snap;
	char		error[256];

	switch (nc->query)
	{
		case QUERY_PROBE:
			if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
			{
				poll_record_failure(nc->slot, nc->node_id, nc->name, &nc->in_incident,
							   "probe failed", PQresultErrorMessage(res));
				nc->pending = false;
				return;
			}
			nc->mode = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? MODE_EXTENSION : MODE_SQL;
			/* the sample itself follows at once, same deadline */
			nc->phase = CONN_READY;
			return;

		case QUERY_PING:
			{
				instr_time	elapsed;

				INSTR_TIME_SET_CURRENT(elapsed);
				INSTR_TIME_SUBTRACT(elapsed, nc->ping_sent);
				nc->pinged = true;
				if (PQresultStatus(res) == PGRES_EMPTY_QUERY)
					round_trip_record(nc->slot, nc->node_id, INSTR_TIME_GET_MILLISEC(elapsed));
				nc->pending = false;
				nc->phase = CONN_READY;
				return;
			}

		case QUERY_SNAPSHOT:
			if (PQresultStatus(res) != PGRES_TUPLES_OK)
			{
				/* e.g. no library or no privilege there: plain SQL from now on */
				if (!nc->fallback_logged)
					ereport(LOG,
							(errmsg("foresight monitor: node \"%s\": foresight.node_snapshot() failed, using plain SQL",
									nc->name),
							 errdetail("%s", PQresultErrorMessage(res))));
				nc->fallback_logged = true;
				nc->mode = MODE_SQL;
				nc->phase = CONN_READY;
				return;
			}
			if (!poll_read_snapshot(res, &snap, error, sizeof(error)))
			{
				/* unreadable (a rolling upgrade?): nothing against the node */
				if (!nc->unreadable_logged)
					ereport(LOG,
							(errmsg("foresight monitor: node \"%s\": its snapshot cannot be read, using plain SQL",
									nc->name),
							 errdetail("%s", error)));
				nc->unreadable_logged = true;
				nc->sql_samples = 0;
				nc->mode = MODE_SQL;
				nc->phase = CONN_READY;
				return;
			}
			nc->unreadable_logged = false;
			poll_record_success(nc->slot, nc->node_id, nc->name, nc->kind, &nc->in_incident,
						   &snap, &nc->state, SAMPLE_SOURCE_EXTENSION, now);
			nc->sampled = true; /* its round trip next */
			nc->phase = CONN_READY;
			return;

		case QUERY_SQL:
			{
				const char *values[PGSTATS_NCOLUMNS];

				if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
					PQnfields(res) != PGSTATS_NCOLUMNS)
				{
					poll_record_failure(nc->slot, nc->node_id, nc->name, &nc->in_incident,
								   "statistics query failed", PQresultErrorMessage(res));
					nc->pending = false;
					return;
				}
				for (int i = 0; i < PGSTATS_NCOLUMNS; i++)
					values[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
				snapshot_init(&snap);
				snap.has_version = true;
				snap.version = SNAPSHOT_VERSION;
				if (!pgstats_fill_from_text(&snap, values, PGSTATS_NCOLUMNS, error, sizeof(error)) ||
					!snapshot_validate(&snap, error, sizeof(error)))
				{
					poll_record_failure(nc->slot, nc->node_id, nc->name, &nc->in_incident,
								   "invalid statistics", error);
					nc->pending = false;
					return;
				}
				poll_record_success(nc->slot, nc->node_id, nc->name, nc->kind, &nc->in_incident,
							   &snap, &nc->state, SAMPLE_SOURCE_SQL, now);
				/* after an unreadable snapshot, try it again now and then */
				if (nc->unreadable_logged && ++nc->sql_samples >= SNAPSHOT_RETRY_SAMPLES)
					nc->mode = MODE_EXTENSION;
				nc->sampled = true; /* its round trip next */
				nc->phase = CONN_READY;
				return;
			}
		case QUERY_NONE:
			break;
	}
}

/* Move a connection forward after its socket became ready (or to start). */
static void
advance(NodeConn *nc, TimestampTz now)
{
	if (nc->phase == CONN_CONNECTING)
	{
		switch (PQconnectPoll(nc->conn))
		{
			case PGRES_POLLING_READING:
				nc->want_write = false;
				return;
			case PGRES_POLLING_WRITING:
				nc->want_write = true;
				return;
			case PGRES_POLLING_FAILED:
				conn_failed(nc, "could not connect");
				return;
			case PGRES_POLLING_OK:
				if (PQsetnonblocking(nc->conn, 1) != 0)
				{
					conn_failed(nc, "could not set non-blocking mode");
					return;
				}
				nc->phase = CONN_READY;
				break;
			default:
				return;
		}
	}

	while (nc->pending)
	{
		if (nc->phase == CONN_READY)
		{
			send_query(nc);
			if (nc->phase != CONN_BUSY)
				return;
		}
		if (nc->want_write)
		{
			int			r = PQflush(nc->conn);

			if (r < 0)
			{
				conn_failed(nc, "could not send query");
				return;
			}
			nc->want_write = r == 1;
			if (nc->want_write)
				return;
		}
		if (!PQconsumeInput(nc->conn))
		{
			conn_failed(nc, "connection lost");
			return;
		}
		if (PQisBusy(nc->conn))
			return;

		/* a complete result: take it and drain up to the end of the query */
		{
			PGresult   *res = PQgetResult(nc->conn);
			PGresult   *extra;
			bool		broken = false;

			while ((extra = PQgetResult(nc->conn)) != NULL)
			{
				PQclear(extra);
				if (PQstatus(nc->conn) == CONNECTION_BAD)
				{
					broken = true;
					break;
				}
			}
			if (res == NULL || broken)
			{
				if (res)
					PQclear(res);
				conn_failed(nc, "connection lost");
				return;
			}
			nc->phase = CONN_READY;
			handle_result(nc, res, now);
			PQclear(res);
			/* a probe is followed by the real query; anything else is done */
		}
	}
}

/* A round trip that came after the deadline, read now (not measured). */
static bool
late_round_trip_read(NodeConn *nc)
{
	PGresult   *res;

	if (nc->query != QUERY_PING || !PQconsumeInput(nc->conn) || PQisBusy(nc->conn))
		return false;
	while ((res = PQgetResult(nc->conn)) != NULL)
		PQclear(res);
	nc->phase = CONN_READY;
	return PQstatus(nc->conn) == CONNECTION_OK;
}

void
poller_cycle(TimestampTz now, bool first_polls_only)
{
	int			nslots = registry_slot_count();
	TimestampTz deadline = TimestampTzPlusMilliseconds(now, effective_timeout_ms());
	WaitEvent  *occurred;
	int			npending = 0;

	/* start every node at once */
	for (int s = 1; s < nslots; s++)
	{
		NodeConn   *nc = &conns[s];

		if (!nc->in_use || (first_polls_only && !nc->first_poll_due))
			continue;
		nc->first_poll_due = false;
		nc->pending = true;
		nc->sampled = false;
		nc->pinged = false;
		if (nc->phase == CONN_BUSY && !late_round_trip_read(nc))
		{
			/* leftover of a missed sample: start afresh */
			cancel_missed_poll(nc);
			close_conn(nc);
		}
		if (nc->phase == CONN_DISCONNECTED)
			start_connect(nc);
		if (nc->pending && nc->phase == CONN_READY)
			advance(nc, now);
	}

	/* the coordinator meanwhile, in-process */
	if (!first_polls_only)
		sample_local(now);

	occurred = palloc(sizeof(WaitEvent) * (nslots + 2));
	for (;;)
	{
		WaitEventSet *set;
		long		timeout;
		int			nevents;
		TimestampTz wait_now;

		npending = 0;
		for (int s = 1; s < nslots; s++)
			if (conns[s].in_use && conns[s].pending)
				npending++;
		if (npending == 0 || ShutdownRequestPending)
			break;
		wait_now = GetCurrentTimestamp();
		timeout = TimestampDifferenceMilliseconds(wait_now, deadline);
		if (timeout <= 0)
			break;

		set = CreateWaitEventSet(CurrentMemoryContext, npending + 2);
		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		for (int s = 1; s < nslots; s++)
		{
			NodeConn   *nc = &conns[s];
			pgsocket	sock;

			if (!nc->in_use || !nc->pending)
				continue;
			sock = PQsocket(nc->conn);
			if (sock == PGINVALID_SOCKET)
			{
				conn_failed(nc, "connection has no socket");
				continue;
			}
			AddWaitEventToSet(set, nc->want_write ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE,
							  sock, NULL, nc);
		}
		nevents = WaitEventSetWait(set, timeout, occurred, nslots + 2, PG_WAIT_EXTENSION);
		FreeWaitEventSet(set);

		for (int i = 0; i < nevents; i++)
		{
			if (occurred[i].events & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
			else if (occurred[i].user_data != NULL)
			{
				NodeConn   *nc = (NodeConn *) occurred[i].user_data;

				if (nc->pending)
					advance(nc, now);
			}
		}
	}
	pfree(occurred);

	/* whoever has not answered missed this sample */
	for (int s = 1; s < nslots; s++)
	{
		NodeConn   *nc = &conns[s];

		if (!nc->in_use || !nc->pending)
			continue;
		nc->pending = false;
		/* only its round trip outstanding: the sample was given */
		if (ShutdownRequestPending || nc->sampled)
			continue;
		poll_record_failure(nc->slot, nc->node_id, nc->name, &nc->in_incident,
					   psprintf("no answer within %d ms", effective_timeout_ms()), NULL);
		cancel_missed_poll(nc);
		close_conn(nc);
	}

	/* what the nodes said meanwhile, now that libpq is not running */
	for (int s = 1; s < nslots; s++)
		if (conns[s].in_use)
			monitor_notices_flush(&conns[s].notices, conns[s].name);
}
