/*-------------------------------------------------------------------------
 *
 * watch.h
 *	  Bounded waits on node connections: a response deadline per query,
 *	  and the monitor's verdict that a node is down, both ending any wait
 *	  on its connection (the query is cancelled, the connection shut).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_WATCH_H
#define FORESIGHT_WATCH_H

#include "postgres.h"

#include "remote/connection.h"

/*
 * How often a wait on a node looks at whether the node was marked down
 * (a read of shared memory under a shared lock).
 */
#define REMOTE_WATCH_PERIOD_MS 100

/*
 * Set by a floor above (the router, which may read the monitor's node
 * health): is the node marked down?  NULL: nothing is marked down.
 */
extern bool (*remote_node_down_hook) (int slot, int32 node_id);

/*
 * While set (> 0), a connection being made waits at most this many
 * milliseconds, less than connect_timeout when that is longer: the router
 * sets a query's response deadline around remote_conn_get().
 */
extern int	remote_connect_limit_ms;

/* a monotonic clock in milliseconds, the deadlines' */
extern int64 watch_clock_ms(void);

/*
 * Give up waiting on rc when no answer came within deadline_ms from now
 * (0 or less: no deadline; the down check stays).  Clears an earlier
 * give-up.
 */
extern void remote_watch_deadline(RemoteConn *rc, int deadline_ms);

/* The query on rc answered: no deadline any more (the down check stays). */
extern void remote_watch_clear(RemoteConn *rc);

/*
 * A wait of timeout_ms (-1: none) on rc, shortened so that the watch is
 * checked on time.
 */
extern long remote_watch_timeout(RemoteConn *rc, long timeout_ms);

/*
 * After a wait on rc: when its deadline passed or its node was marked
 * down, give up: the node is asked to cancel the query (without waiting),
 * and the connection's socket is shut, so that libpq sees it closed and
 * every caller takes its path for a broken connection; rc->gave_up says
 * why.  True when rc was given up (now or before).
 */
extern bool remote_watch_check(RemoteConn *rc);

/*
 * Ask the node to cancel the query on rc without waiting (cancel.c); a
 * failure goes to the server log only, never to the client.
 */
extern void remote_watch_cancel(RemoteConn *rc);

#endif							/* FORESIGHT_WATCH_H */
