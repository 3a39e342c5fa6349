/*-------------------------------------------------------------------------
 *
 * self_address.h
 *	  Does a node connection string name this very server?  A coordinator
 *	  registered as its own node would send reads to itself over libpq
 *	  (twice the work, no capacity added).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SELF_ADDRESS_H
#define FORESIGHT_SELF_ADDRESS_H

#include "postgres.h"

/*
 * Raise an error when one of the conninfo's hosts is this server: a
 * loopback address or this server's listen_addresses, or a directory of
 * unix_socket_directories, at this server's port.  Names that only DNS
 * says are this machine are not resolved here (no lookup while a catalog
 * change waits); the monitor recognises such a node by its identity when
 * it polls it.  The conninfo has passed conninfo_validate().
 */
extern void conninfo_refuse_self(const char *conninfo);

#endif							/* FORESIGHT_SELF_ADDRESS_H */
