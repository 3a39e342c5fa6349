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

bool
remote_error_is_retryable(PGconn *conn, PGresult *res)
{
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return true;
	if (sqlstate == NULL)
		return true;
	/* connection exception class, operator intervention except query_canceled */
	if (strncmp(sqlstate, "08", 2) == 0)
		return true;
	if (strcmp(sqlstate, "57P01") == 0 ||	/* admin_shutdown */
		strcmp(sqlstate, "57P02") == 0 ||	/* crash_shutdown */
		strcmp(sqlstate, "57P03") == 0 ||	/* cannot_connect_now */
		strcmp(sqlstate, "40001") == 0)	/* recovery conflict on a standby */
		return true;
	return false;
}

void
remote_error_raise(PGconn *conn, PGresult *res, const char *node_name, const char *sql)
{
	char	   *sqlstate = copy_field(res, PG_DIAG_SQLSTATE);
	char	   *primary = copy_field(res, PG_DIAG_MESSAGE_PRIMARY);
	char	   *detail = copy_field(res, PG_DIAG_MESSAGE_DETAIL);
	char	   *hint = copy_field(res, PG_DIAG_MESSAGE_HINT);
	char	   *context = copy_field(res, PG_DIAG_CONTEXT);
	int			code;

	if (primary == NULL)
		primary = remote_error_message(conn, res);
	if (sqlstate)
		code = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4]);
	else
		code = ERRCODE_CONNECTION_FAILURE;
	if (res)
		PQclear(res);

	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", primary),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0,
			 context ? errcontext("%s", context) : 0,
			 errcontext("remote query on node \"%s\"", node_name)));
	pg_unreachable();
}
