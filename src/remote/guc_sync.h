/*-------------------------------------------------------------------------
 *
 * guc_sync.h
 *	  Carry this session's settings, session user and current role to the
 *	  node sessions that run its routed queries (see guc_sync.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_GUC_SYNC_H
#define FORESIGHT_GUC_SYNC_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "libpq-fe.h"
#include "remote/connection.h"

/*
 * Something ran here that may have changed a setting of this session (a
 * utility statement, a statement or a plan run here, the end of a
 * subtransaction); the next check looks at the settings again.  Costs an
 * increment.
 */
extern void guc_sync_touch(void);

/* Transaction end: what it set with SET LOCAL, or set and rolled back, is undone. */
extern void guc_sync_xact_end(bool aborted);

/*
 * Executor-start check: NULL when the session's identity and settings can
 * be carried to a node session, otherwise why not (palloc'd in the current
 * memory context).  A few comparisons when nothing changed since the last
 * check.
 */
extern const char *guc_sync_check_session(void);

/*
 * May current_setting(name) run on a node?  True when name is a setting
 * of this server that any role may change (so always carried) and that
 * every role may read.
 */
extern bool guc_sync_setting_is_carried(const char *name);

/*
 * The statements that set up a new node session (never route onward, read
 * only) and read its settings; guc_sync_baseline() takes the answer of
 * the last one, which it checks.  false with *error when it is not what
 * was asked for.
 */
extern const char *guc_sync_setup_sql(void);
extern bool guc_sync_baseline(RemoteConn *rc, PGresult *res, char **error);

/*
 * Append to sql the statements (one SELECT pg_catalog.set_config(...)
 * each, ending with "; ") that bring the node session up to date, the
 * first of them being statement number first_statement of the string sent;
 * returns how many, 0 when nothing changed.  Returns -1 with *refusal set
 * when something that must reach the node cannot (a superuser-only setting
 * the login may not set, a value a node refused before): the query must
 * run elsewhere.  What is appended is remembered as sent only after
 * guc_sync_confirm().
 */
extern int	guc_sync_statement(RemoteConn *rc, StringInfo sql, int first_statement,
							   char **refusal);

/* The node ran the statements: its session has the values now. */
extern void guc_sync_confirm(RemoteConn *rc);

/*
 * Statement number statement of the string sent failed with message: true
 * when it was one of guc_sync_statement()'s, which is then remembered as
 * refused (the node session has none of them: its transaction rolled
 * back).  Either way nothing of the batch counts as sent.
 */
extern bool guc_sync_refused(RemoteConn *rc, int statement, const char *message);

/* The connection is closed: free what is known of its session. */
extern void guc_sync_forget(RemoteConn *rc);

#endif							/* FORESIGHT_GUC_SYNC_H */
