/*-------------------------------------------------------------------------
 *
 * errors.h
 *	  Turn a node's error into a local one, and tell the errors worth
 *	  retrying elsewhere from the ones the client must see.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_REMOTE_ERRORS_H
#define FORESIGHT_REMOTE_ERRORS_H

#include "postgres.h"

#include "libpq-fe.h"

/*
 * True when the failure (res may be NULL) says the node, not the query,
 * is the problem: a broken connection, a node shutting down or starting,
 * a query cancelled by a recovery conflict.  Such a query may run again
 * elsewhere if no row has reached the client.
 */
extern bool remote_error_is_retryable(PGconn *conn, PGresult *res);

/*
 * True when the node's error says the statement cannot run on a standby,
 * although it may run on the primary: a write attempted in the node
 * session's read-only transaction (25006 read_only_sql_transaction, e.g.
 * nextval() in a STABLE function), a relation a standby cannot read
 * (0A000: temporary or unlogged relations during recovery), a function
 * refused during recovery (55000: WAL control functions, locks).  Such a
 * query runs on the coordinator instead if no row has reached the client;
 * where the error was not about the standby, the coordinator raises it
 * again.
 */
extern bool remote_error_means_not_here(PGresult *res);

/*
 * The error code (as MAKE_SQLSTATE makes it, to compare with ERRCODE_*) of
 * a five-character SQLSTATE from a node; 0 when sqlstate is NULL or not
 * one (0 is 00000, successful completion, never an error's).
 */
extern int	remote_sqlstate(const char *sqlstate);

/* A one-line description of the failure, palloc'd. */
extern char *remote_error_message(PGconn *conn, PGresult *res);

/*
 * The fields of a node's error or notice that are raised here as the
 * node raised them, in the order of remote_report_codes (PG_DIAG_*).
 */
typedef enum RemoteReportField
{
	RRF_MESSAGE,
	RRF_DETAIL,
	RRF_HINT,
	RRF_CONTEXT,
	RRF_QUERY,					/* the internal query (PL/pgSQL's EXECUTE) */
	RRF_SCHEMA,
	RRF_TABLE,
	RRF_COLUMN,
	RRF_DATATYPE,
	RRF_CONSTRAINT,
	RRF_FILE,
	RRF_FUNCTION,
	RRF_COUNT
} RemoteReportField;

extern const int remote_report_codes[RRF_COUNT];

/* what a node reported, as kept until it is raised here */
typedef struct RemoteReport
{
	int			elevel;
	int			sqlstate;		/* as remote_sqlstate() gives it */
	int			position;		/* in the internal query, 0 if none */
	int			line;			/* of the node's source file */
	const char *text[RRF_COUNT];	/* NULL when the node sent none */
} RemoteReport;

/*
 * ereport the report at its level with every field, at the node's source
 * location; with node_name, a last context line names the node and the
 * SQL it ran (remote SQL command on node "NAME": SQL).  Does not return
 * at ERROR.
 */
extern void remote_report_raise(const RemoteReport *report, const char *node_name,
								const char *sql);

/*
 * ereport(ERROR) the node's error in res as remote_report_raise() does: the
 * message of a connection's failure when res has none.  Clears res.
 */
extern void remote_error_raise(PGconn *conn, PGresult *res, const char *node_name,
							   const char *sql) pg_attribute_noreturn();

#endif							/* FORESIGHT_REMOTE_ERRORS_H */
