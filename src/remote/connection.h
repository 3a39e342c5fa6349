/*-------------------------------------------------------------------------
 *
 * connection.h
 *	  Per-backend cache of libpq connections to nodes: one per node,
 *	  logged in as the role this session authenticated as (the session user
 *	  and the current role are settings of the node session, guc_sync.c),
 *	  reused across queries, dropped when the node's conninfo changes, after
 *	  an error, or at backend exit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CONNECTION_H
#define FORESIGHT_CONNECTION_H

#include "postgres.h"

#include "access/xact.h"
#include "libpq-fe.h"

#define REMOTE_MAX_PREPARED 128

/*
 * The first queries of a connection are a new backend's: its catalog and
 * plan caches fill, and it touches shared memory it has not mapped yet.  On
 * the test VM (2026-12-07) a point read on a new standby connection took
 * 5-20 ms, then 0.3-0.5, 0.16-2 and 0.09-0.2 ms, then 0.07-0.14: times
 * that say little of the node's steady pace (sent_cold; the router keeps
 * them apart, stats/latency.h).
 */
#define REMOTE_COLD_SENDS 4

/* guc_sync.c's record of a node session's settings, session user and role */
struct RemoteSettings;

typedef struct RemoteConn
{
	/* key */
	int			slot;
	int32		node_id;
	Oid			userid;			/* the login: this session's authenticated role */

	bool		in_use;
	PGconn	   *conn;
	char		node_name[NAMEDATALEN];
	char	   *conninfo;		/* the node's conninfo when connected */
	bool		busy;			/* a query is running on it */
	bool		orphaned;		/* ... whose rows nobody wants (a hedge's loser) */
	struct WaitEventSet *wait_set;	/* latch, postmaster death, socket; made
									 * with the connection */
	struct RemoteSettings *settings;	/* the node session's settings, as
										 * known here (guc_sync.c) */
	bool		xact_open;		/* a remote transaction block is open */
	bool		xact_failed;	/* ... and an error aborted it */
	int			nprepared;		/* statements prepared on this connection */
	struct RemotePreparedSet *prepared; /* ... by SQL and parameter types
										 * (remote_exec.c), NULL if none */
	uint64		nsent;			/* queries sent on this connection */
	bool		sent_cold;		/* the last one was among its first
								 * REMOTE_COLD_SENDS, or prepared its
								 * statement: its time is not the node's pace */
	/* watch.c: waits on this connection are bounded */
	int64		deadline;		/* no answer by then (watch_clock_ms()): give
								 * up; 0: no deadline */
	int			deadline_ms;	/* ... the deadline as set, for messages */
	char		gave_up[128];	/* why waits were given up, "" if not */
	bool		cap_held;		/* holds one of the node's connections
								 * (conn_cap.c) ... */
	int			cap_slot;		/* ... of this slot */
} RemoteConn;

/*
 * The connection for a node: the cached one, or a new one, whose session is
 * set up (no onward routing, read-only, its settings read for guc_sync.c).
 * Returns NULL when the node cannot be reached, or when this backend
 * has no file descriptors left for another connection; *error then says why
 * (palloc'd).  Never raises an error for an unreachable node, but waiting
 * for it may be interrupted (cancel, statement_timeout).
 */
extern RemoteConn *remote_conn_get(int slot, int32 node_id, const char *node_name,
								   const char *conninfo, char **error);

/*
 * After remote_conn_get() failed: true when the failure says nothing about
 * the node: it refused the role (SQLSTATE class 28: authentication,
 * pg_hba.conf, no such role, NOLOGIN; or libpq had no password to give), or
 * this backend is out of file descriptors.  False when the node is
 * unreachable or broken.
 */
extern bool remote_conn_last_failure_is_role;

/* Is the cached connection of the node running a query? */
extern bool remote_conn_busy(int slot, int32 node_id);

/*
 * Is the cached connection of the node still running a query
 * left behind by a hedge (remote_conn_orphan)?
 */
extern bool remote_conn_left_running(int slot, int32 node_id);

/*
 * The registry changed: close the idle connections for which still_valid()
 * says the node is gone or moved.
 */
extern void remote_conn_prune(bool (*still_valid) (int slot, int32 node_id,
												   const char *conninfo));

/* Close and forget a connection (after an error). */
extern void remote_conn_drop(RemoteConn *rc);

/*
 * Stop the query running on a connection: send a cancel request (one that
 * never waits for the node, cancel.c; a failure is logged on the server
 * only), then drop the connection, so that nothing of it is left on the
 * node.
 */
extern void remote_conn_abandon(RemoteConn *rc);

/*
 * End the connection's remote transaction block now (COMMIT: it only
 * read), not at the local transaction's end; the connection is dropped
 * when that fails.  Nothing when no block is open or a query runs.
 */
extern void remote_conn_end_block(RemoteConn *rc);

/*
 * Leave the query running on a busy connection to finish on its own: its
 * results are discarded as they arrive, and the connection is busy until
 * then (remote_conn_busy, remote_conn_get).  Not for a connection with a
 * remote transaction block open.
 */
extern void remote_conn_orphan(RemoteConn *rc);

/* transaction end: abandon connections that were left busy by an error */
extern void remote_xact_callback(XactEvent event);
extern void remote_subxact_callback(SubXactEvent event);

#endif							/* FORESIGHT_CONNECTION_H */
