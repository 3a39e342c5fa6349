/*-------------------------------------------------------------------------
 *
 * remote_exec.h
 *	  Run a statement on a node asynchronously: preliminaries (settings,
 *	  replay position), the query itself in single-row mode, and waits
 *	  that let cancels, timeouts and postmaster death through.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_REMOTE_EXEC_H
#define FORESIGHT_REMOTE_EXEC_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "libpq-fe.h"
#include "remote/connection.h"

/*
 * Wait for and return the next result of the query running on conn (NULL
 * when there is none left, or when the connection broke: check PQstatus).
 * Waits on the latch and the socket; CHECK_FOR_INTERRUPTS may raise, in
 * which case the (sub)transaction abort abandons the busy connection,
 * which sends the node a cancel request.
 */
extern PGresult *remote_get_result(RemoteConn *rc);

/*
 * Wait until one of the queries running on rcs[0..n-1] (n is 1 or 2) has
 * a result ready, or its connection broke, for at most timeout_ms (-1: no
 * limit).  Returns its index, or -1 at the timeout.  Interrupts are
 * checked as in remote_get_result.
 */
extern int	remote_wait_any(RemoteConn *const *rcs, int n, long timeout_ms);

/*
 * Read, without waiting, what has arrived of the results of a query whose
 * rows nobody wants (a hedge's loser): the connection is no longer busy
 * once they are all in.  false when the connection broke.
 */
extern bool remote_reap(RemoteConn *rc);

/*
 * A cancelled query ends at the node's next check for interrupts, within
 * milliseconds; one that takes longer to end costs more than the new
 * connection that replaces this one.
 */
#define REMOTE_STOP_WAIT_MS 100

/*
 * Stop a query whose remaining rows nobody will read (a split's part above
 * which a LIMIT is met), keeping the connection: what has arrived is read
 * and discarded; if the query still runs, the node is sent a cancel and
 * its end waited for (interruptibly, at most REMOTE_STOP_WAIT_MS).  true
 * when the connection is free again and no cancel of it can still arrive
 * (the query ended on its own before any was sent, or by the cancel);
 * false otherwise: the caller abandons the connection
 * (remote_conn_abandon).
 */
extern bool remote_stop_query(RemoteConn *rc);

/*
 * Set up a new connection's session: it never routes onward
 * (foresight.routing_policy = local, harmless where pg_foresight is not
 * loaded), it is read-only (default_transaction_read_only = on), and its
 * settings are read for guc_sync.c.  false with *error set when the node
 * did not take it.
 */
extern bool remote_setup_session(RemoteConn *rc, char **error);

/*
 * Bring the session up to date (settings, session user, role:
 * guc_sync.c), open a remote transaction block with the statement begin
 * (NULL: none) and, when need_lsn is valid, read the node's replay
 * position into *replay_lsn before the block begins; when a block would
 * begin and the node has not replayed need_lsn, the block is not begun
 * (the caller sees *replay_lsn and moves on).  false with *error set when
 * the connection failed (retryable), or when something of the session
 * cannot be carried there (then remote_prepare_refused is set).
 */
extern bool remote_prepare(RemoteConn *rc, const char *begin, XLogRecPtr need_lsn,
						   XLogRecPtr *replay_lsn, char **error);

/*
 * Open a REPEATABLE READ, READ ONLY transaction block on the node and take
 * its snapshot at once, with foresight.snapshot_position() (split/
 * split_blocks.c): _send sends it, without waiting (so that several nodes
 * take theirs at about the same moment), false with *error set when the
 * connection broke (it is dropped); _end reads the answer: *position is
 * the WAL position the snapshot shows, when the node could tell (else
 * InvalidXLogRecPtr).  foresight.block_scan is on for the block, so that
 * block-range parts read their blocks by the node's Foresight Block Scan
 * (blockscan/block_scan.c).  The block stays open (rc->xact_open) for the
 * queries to come, until remote_conn_end_block() or the local
 * transaction's end.  false with *error set when the node failed it (the
 * block is then rolled back, or the connection dropped: rc->in_use).
 */
extern bool remote_begin_snapshot_send(RemoteConn *rc, char **error);
extern bool remote_begin_snapshot_end(RemoteConn *rc, XLogRecPtr *position, char **error);

/*
 * After remote_prepare() failed: true when the node is in order and the
 * connection usable, but the session's settings or identity cannot be
 * carried to it (a superuser-only setting the login may not set, a value
 * or a role the node refused): the query runs elsewhere, the node is not
 * to be avoided.
 */
extern bool remote_prepare_refused;

/*
 * Send the query with its parameters and switch to single-row mode.  A
 * parameter's value is NULL for SQL NULL, else text (formats[i] 0) or its
 * type's binary form of lengths[i] bytes (formats[i] 1); formats and
 * lengths may be NULL when every value is text.  Rows come in binary
 * (binary_result) or text.  A statement with parameters is prepared on the
 * node (kept per connection, planned as plan_cache_mode says) when prepare
 * is set, else sent unnamed: planned with its values at every execution.
 * false with *error set on failure.
 */
extern bool remote_send(RemoteConn *rc, const char *sql, int nparams,
						const Oid *types, const char *const *values,
						const int *lengths, const int *formats,
						bool binary_result, bool prepare, char **error);

/*
 * Send what libpq has not sent yet of a query on the (non-blocking)
 * connection, waiting for the socket as remote_get_result does.  false
 * when the connection broke.
 */
extern bool remote_flush(RemoteConn *rc);

/*
 * Forget the statements prepared on a connection (it is closed): they are
 * kept by SQL text and parameter types, so that the same text with other
 * types is prepared again.
 */
extern void remote_prepared_forget(RemoteConn *rc);

/* Read and discard whatever is left of the current query's results. */
extern void remote_drain(RemoteConn *rc);

/* The same while the caller holds a result: cleared if the wait is interrupted. */
extern void remote_drain_keeping(RemoteConn *rc, PGresult *held);

#endif							/* FORESIGHT_REMOTE_EXEC_H */
