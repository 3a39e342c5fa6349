/*-------------------------------------------------------------------------
 *
 * errors.c
 *	  Re-raise a node's error as if it happened here, and classify
 *	  failures for the retry logic.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "remote/errors.h"

static char *
copy_field(PGresult *res, int field)
{
	char	   *v = res ? PQresultErrorField(res, field) : NULL;

	return v ? pstrdup(v) : NULL;
}

static char *
one_line(const char *s)
{
	char	   *copy = pstrdup(s ? s : "");
	size_t		len = strlen(copy);

	while (len > 0 && (copy[len - 1] == '\n' || copy[len - 1] == ' '))
		copy[--len] = '\0';
	return copy;
}

char *
remote_error_message(PGconn *conn, PGresult *res)
{
	char	   *msg = copy_field(res, PG_DIAG_MESSAGE_PRIMARY);

	if (msg == NULL)
		msg = one_line(conn ? PQerrorMessage(conn) : "connection lost");
	if (msg[0] == '\0')
		msg = pstrdup("connection lost");
	return msg;
}

int
remote_sqlstate(const char *sqlstate)
{
	if (sqlstate == NULL || strlen(sqlstate) != 5)
		return 0;
	for (int i = 0; i < 5; i++)
		if (!((sqlstate[i] >= '0' && sqlstate[i] <= '9') ||
			  (sqlstate[i] >= 'A' && sqlstate[i] <= 'Z')))
			return 0;
	return MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4]);
}

bool
remote_error_is_retryable(PGconn *conn, PGresult *res)
{
	int			code;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return true;
	code = remote_sqlstate(res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
	if (code == 0)
		return true;
	if (ERRCODE_TO_CATEGORY(code) == ERRCODE_CONNECTION_EXCEPTION)
		return true;
	/* operator intervention but query_canceled; a recovery conflict */
	return code == ERRCODE_ADMIN_SHUTDOWN ||
		code == ERRCODE_CRASH_SHUTDOWN ||
		code == ERRCODE_CANNOT_CONNECT_NOW ||
		code == ERRCODE_T_R_SERIALIZATION_FAILURE;
}

bool
remote_error_means_not_here(PGresult *res)
{
	int			code = remote_sqlstate(res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);

	return code == ERRCODE_READ_ONLY_SQL_TRANSACTION ||
		code == ERRCODE_FEATURE_NOT_SUPPORTED ||
		code == ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
}

const int	remote_report_codes[RRF_COUNT] = {
	PG_DIAG_MESSAGE_PRIMARY,
	PG_DIAG_MESSAGE_DETAIL,
	PG_DIAG_MESSAGE_HINT,
	PG_DIAG_CONTEXT,
	PG_DIAG_INTERNAL_QUERY,
	PG_DIAG_SCHEMA_NAME,
	PG_DIAG_TABLE_NAME,
	PG_DIAG_COLUMN_NAME,
	PG_DIAG_DATATYPE_NAME,
	PG_DIAG_CONSTRAINT_NAME,
	PG_DIAG_SOURCE_FILE,
	PG_DIAG_SOURCE_FUNCTION,
};

void
remote_report_raise(const RemoteReport *report, const char *node_name, const char *sql)
{
	const char *const *t = report->text;

	if (!errstart(report->elevel, TEXTDOMAIN))
		return;
	errcode(report->sqlstate);
	errmsg_internal("%s", t[RRF_MESSAGE]);
	if (t[RRF_DETAIL])
		errdetail_internal("%s", t[RRF_DETAIL]);
	if (t[RRF_HINT])
		errhint("%s", t[RRF_HINT]);
	if (t[RRF_CONTEXT])
		errcontext("%s", t[RRF_CONTEXT]);
	if (t[RRF_QUERY])
	{
		internalerrquery(t[RRF_QUERY]);
		if (report->position > 0)
			internalerrposition(report->position);
	}
	for (int i = RRF_SCHEMA; i <= RRF_CONSTRAINT; i++)
		if (t[i])
			err_generic_string(remote_report_codes[i], t[i]);
	if (node_name)
	{
		/* the deparsed SQL as sent, less its leading blank */
		if (sql == NULL)
			sql = "";
		while (*sql == ' ' || *sql == '\n')
			sql++;
		errcontext("remote SQL command on node \"%s\": %s", node_name, sql);
	}
	errfinish(t[RRF_FILE] ? t[RRF_FILE] : __FILE__,
			  t[RRF_FILE] ? report->line : __LINE__,
			  t[RRF_FUNCTION] ? t[RRF_FUNCTION] : PG_FUNCNAME_MACRO);
}

void
remote_error_raise(PGconn *conn, PGresult *res, const char *node_name, const char *sql)
{
	RemoteReport report;
	const char *s;

	report.elevel = ERROR;
	report.sqlstate = remote_sqlstate(res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
	if (report.sqlstate == 0)
		report.sqlstate = ERRCODE_CONNECTION_FAILURE;
	s = res ? PQresultErrorField(res, PG_DIAG_INTERNAL_POSITION) : NULL;
	report.position = s ? atoi(s) : 0;
	s = res ? PQresultErrorField(res, PG_DIAG_SOURCE_LINE) : NULL;
	report.line = s ? atoi(s) : 0;
	for (int i = 0; i < RRF_COUNT; i++)
		report.text[i] = copy_field(res, remote_report_codes[i]);
	if (report.text[RRF_MESSAGE] == NULL)
	{
		/* not the node's report: no location of the node's either */
		report.text[RRF_MESSAGE] = remote_error_message(conn, res);
		report.text[RRF_FILE] = NULL;
	}
	if (res)
		PQclear(res);

	remote_report_raise(&report, node_name, sql);
	pg_unreachable();
}
