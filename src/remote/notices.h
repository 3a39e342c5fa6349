/*-------------------------------------------------------------------------
 *
 * notices.h
 *	  A node's notices and warnings, passed on to the client as if raised
 *	  here (see notices.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_NOTICES_H
#define FORESIGHT_NOTICES_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "remote/connection.h"

/* A new connection of rc: its notices are kept from now on (connection.c). */
extern void remote_notices_attach(RemoteConn *rc);

/*
 * What the node session needs, once per connection, for its notices to be
 * sent at all: appended to the preliminaries in sql (remote_exec.c).
 */
extern void remote_notices_session(RemoteConn *rc, StringInfo sql);

/*
 * Raise here, in the order they came, the notices rc's node sent and that
 * were not raised yet (at their severity, so client_min_messages and
 * log_min_messages apply).  Called when the query on rc is the one whose
 * answer the client gets: its first row, its end, its error.
 */
extern void remote_notices_emit(RemoteConn *rc);

/* Are notices of some connection waiting to be raised or discarded? */
extern bool remote_notices_waiting(void);

/*
 * Forget rc's notices not raised yet: those of the preliminaries and of
 * preparing the statement, and those of a query whose answer the client
 * will not get (it fails over to another candidate).
 */
extern void remote_notices_discard(RemoteConn *rc);

#endif							/* FORESIGHT_NOTICES_H */
