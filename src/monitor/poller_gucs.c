/*-------------------------------------------------------------------------
 *
 * poller_gucs.c
 *	  The poller's settings (see poller.h): how long a node has to answer a
 *	  sample, after how many missed samples it is down, and the role the
 *	  monitor connects to the nodes as.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "monitor/poller.h"

int			foresight_poll_timeout_ms = 1000;
int			foresight_down_after = 2;
char	   *foresight_monitor_user = NULL;

static bool
check_poll_timeout(int *newval, void **extra, GucSource source)
{
	if (*newval < 10)
	{
		GUC_check_errdetail("foresight.poll_timeout must be at least 10 ms; %d ms would miss every answer.", *newval);
		return false;
	}
	return true;
}

static bool
check_down_after(int *newval, void **extra, GucSource source)
{
	if (*newval < 1)
	{
		GUC_check_errdetail("A node is marked down after at least one missed sample; %d makes no sense.", *newval);
		return false;
	}
	return true;
}

static bool
check_monitor_user(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;

	if (v == NULL || v[0] == '\0')
		return true;
	if (strlen(v) >= NAMEDATALEN)
	{
		GUC_check_errdetail("A role name has at most %d bytes.", NAMEDATALEN - 1);
		return false;
	}
	for (const char *p = v; *p; p++)
		if ((unsigned char) *p < 0x20)
		{
			GUC_check_errdetail("The role name contains a control character.");
			return false;
		}
	return true;
}

void
poller_define_gucs(void)
{
	DefineCustomIntVariable("foresight.poll_timeout",
							"Time a node has to answer one sample before it counts as missed.",
							"Capped by foresight.sample_interval.",
							&foresight_poll_timeout_ms,
							1000, 1, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							check_poll_timeout, NULL, NULL);
	DefineCustomIntVariable("foresight.down_after",
							"Consecutive missed samples after which a node is marked down.",
							NULL,
							&foresight_down_after,
							2, 0, 1000,
							PGC_SIGHUP, 0,
							check_down_after, NULL, NULL);
	DefineCustomStringVariable("foresight.monitor_user",
							   "Role the monitor connects to the nodes as.",
							   "Empty: the bootstrap superuser of the coordinator.  The role needs EXECUTE on foresight.node_snapshot() (pg_monitor has it) and may log in to foresight.database on every node.",
							   &foresight_monitor_user,
							   "",
							   PGC_SIGHUP, 0,
							   check_monitor_user, NULL, NULL);
}
