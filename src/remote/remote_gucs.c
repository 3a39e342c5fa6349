/*-------------------------------------------------------------------------
 *
 * remote_gucs.c
 *	  Settings of the connections to nodes (see remote_gucs.h).  They are
 *	  superuser-only: they decide where and how the server connects.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "registry/conninfo.h"
#include "remote/remote_gucs.h"

char	   *foresight_connection_options = NULL;
char	   *foresight_application_name = NULL;
int			foresight_connect_timeout = 2;

/*
 * foresight.connection_options is checked as node conninfos are
 * (conninfo_check): a string libpq refuses, or a value it would refuse when
 * connecting, would make every node's connection fail and every read run
 * here.  The message never holds the value, which may hold a password:
 * PostgreSQL's own ("invalid value for parameter ...: \"...\"") would print
 * it, so one is always given.
 */
static bool
check_connection_options(char **newval, void **extra, GucSource source)
{
	ConninfoProblem problem;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (conninfo_check(*newval, CONNINFO_OPTIONS, &problem))
		return true;
	GUC_check_errcode(problem.sqlerrcode);
	GUC_check_errmsg("%s", problem.message);
	if (problem.detail)
		GUC_check_errdetail("%s", problem.detail);
	if (problem.hint)
		GUC_check_errhint("%s", problem.hint);
	return false;
}

void
remote_define_gucs(void)
{
	DefineCustomStringVariable("foresight.connection_options",
							   "Extra libpq options for connections to nodes, such as 'sslmode=require'.",
							   "Appended to each node's conninfo; user, dbname and application_name are always the session's.",
							   &foresight_connection_options,
							   "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY,
							   check_connection_options, NULL, NULL);

	DefineCustomStringVariable("foresight.application_name",
							   "application_name of the connections routed queries use on the nodes.",
							   NULL,
							   &foresight_application_name,
							   "pg_foresight",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("foresight.connect_timeout",
							"Seconds to wait for a connection to a node before trying another candidate.",
							NULL,
							&foresight_connect_timeout,
							2, 1, 3600,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}
