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

void
remote_error_raise(PGconn *conn, PGresult *res, const char *node_name, const char *sql)
{
	int			code = remote_sqlstate(res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
	char	   *primary = copy_field(res, PG_DIAG_MESSAGE_PRIMARY);
	char	   *detail = copy_field(res, PG_DIAG_MESSAGE_DETAIL);
	char	   *hint = copy_field(res, PG_DIAG_MESSAGE_HINT);
	char	   *context = copy_field(res, PG_DIAG_CONTEXT);

	if (primary == NULL)
		primary = remote_error_message(conn, res);
	if (code == 0)
		code = ERRCODE_CONNECTION_FAILURE;
	/* the deparsed SQL as sent, less its leading blank */
	if (sql == NULL)
		sql = "";
	while (*sql == ' ' || *sql == '\n')
		sql++;
	if (res)
		PQclear(res);

	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", primary),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0,
			 context ? errcontext("%s", context) : 0,
			 errcontext("remote SQL command on node \"%s\": %s", node_name, sql)));
	pg_unreachable();
}
