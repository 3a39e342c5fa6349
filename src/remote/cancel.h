/*-------------------------------------------------------------------------
 *
 * cancel.h
 *	  A cancel request to a node that never blocks: sent on a non-blocking
 *	  socket within a bounded wait, never waiting for the node's reply.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CANCEL_H
#define FORESIGHT_CANCEL_H

#include "postgres.h"

#include "libpq-fe.h"

/* the longest a cancel request may wait for its socket to connect */
#define REMOTE_CANCEL_CONNECT_MS 100

/*
 * Ask the node's postmaster to cancel the query running on conn: connect,
 * send the request, close, without waiting for the node to act on it (a
 * stopped node would never answer; libpq's PQcancel waits for it).  At
 * most timeout_ms for the connect.  Returns false with *error set (a
 * static or palloc'd string) when the request could not be sent; never
 * raises an error, so that it may run while aborting.
 */
extern bool remote_cancel_nowait(PGconn *conn, long timeout_ms, const char **error);

#endif							/* FORESIGHT_CANCEL_H */
