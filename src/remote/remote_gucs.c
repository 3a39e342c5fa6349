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

#include "remote/remote_gucs.h"

char	   *foresight_connection_options = NULL;
char	   *foresight_application_name = NULL;
int			foresight_connect_timeout = 2;

void
remote_define_gucs(void)
{
	DefineCustomStringVariable("foresight.connection_options",
							   "Extra libpq options for connections to nodes, such as 'sslmode=require'.",
							   "Appended to each node's conninfo; user, dbname and application_name are always the session's.",
							   &foresight_connection_options,
							   "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

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
