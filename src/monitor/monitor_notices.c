/*-------------------------------------------------------------------------
 *
 * monitor_notices.c
 *	  A node's notices to the monitor's connection, held until they can be
 *	  logged.
 *
 * A node sends notices and warnings to the monitor's session as to any
 * (the "terminating connection due to immediate shutdown command" of a
 * stopping standby).  libpq's default notice processor prints them raw to
 * stderr, which ends in the server log without its line prefix.  They go
 * to the server log as lines of the monitor instead, naming the node.
 *
 * The notice receiver runs inside libpq, where nothing may longjmp out:
 * even an ereport(LOG), which raises no error itself, allocates and could
 * fail out of memory there (or run a log hook that raises one).  So it
 * only copies the severity and message into the connection's fixed buffer,
 * and the poller logs the copies at the end of each cycle
 * (monitor_notices_flush), at LOG.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "monitor/monitor_notices.h"

/*
 * PG_DIAG_SEVERITY_NONLOCALIZED is missing only from servers before 9.6:
 * then the localized severity.
 */
void
monitor_notices_receiver(void *arg, const PGresult *res)
{
	MonitorNotices *notices = (MonitorNotices *) arg;
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	MonitorNotice *held;

	if (notices->count >= MONITOR_HELD_NOTICES)
	{
		notices->lost++;
		return;
	}
	held = &notices->held[notices->count++];
	if (severity == NULL)
		severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
	strlcpy(held->severity, severity ? severity : "NOTICE", sizeof(held->severity));
	strlcpy(held->message, message ? message : "", sizeof(held->message));
}

void
monitor_notices_flush(MonitorNotices *notices, const char *node_name)
{
	for (int i = 0; i < notices->count; i++)
		ereport(LOG,
				(errmsg_internal("foresight monitor: node \"%s\" sent %s: %s",
								 node_name, notices->held[i].severity,
								 notices->held[i].message)));
	if (notices->lost > 0)
		ereport(LOG,
				(errmsg_internal("foresight monitor: node \"%s\" sent %d more notices, not logged",
								 node_name, notices->lost)));
	notices->count = 0;
	notices->lost = 0;
}
