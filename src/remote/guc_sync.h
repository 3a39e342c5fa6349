/*-------------------------------------------------------------------------
 *
 * guc_sync.h
 *	  Keep a node session's result-affecting settings equal to the local
 *	  session's, sending only what changed since the connection last heard.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_GUC_SYNC_H
#define FORESIGHT_GUC_SYNC_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "remote/connection.h"

/*
 * Append to sql a statement that brings the node session up to date (and
 * remember the values as sent); returns false when nothing changed.
 */
extern bool guc_sync_statement(RemoteConn *rc, StringInfo sql);

/* The settings mirrored, for the documentation and tests. */
extern const char *const guc_sync_names[];
extern const int guc_sync_count;

#endif							/* FORESIGHT_GUC_SYNC_H */
