/*-------------------------------------------------------------------------
 *
 * conninfo.h
 *	  A node's connection string: validation with libpq's own parser,
 *	  masking for display, and building the string a session connects with.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CONNINFO_H
#define FORESIGHT_CONNINFO_H

#include "postgres.h"

/*
 * Check a node conninfo; ereport(ERROR) naming the problem when it cannot
 * be parsed or holds a keyword that belongs to the session (user, dbname,
 * replication).
 */
extern void conninfo_validate(const char *conninfo);

/* The conninfo with any password replaced by ********, palloc'd. */
extern char *conninfo_mask_password(const char *conninfo);

/*
 * The full connection string for a node: its conninfo, then extra_options
 * (may be NULL or empty), then user, dbname and application_name, each
 * value quoted for libpq.  palloc'd.
 */
extern char *conninfo_for_session(const char *conninfo, const char *extra_options,
								  const char *user, const char *dbname,
								  const char *application_name);

/* Append keyword='value' with libpq quoting to buf. */
struct StringInfoData;
extern void conninfo_append_param(struct StringInfoData *buf,
								  const char *keyword, const char *value);

#endif							/* FORESIGHT_CONNINFO_H */
