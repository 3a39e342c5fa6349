/*-------------------------------------------------------------------------
 *
 * watch.c
 *	  Bounded waits on node connections (see watch.h).
 *
 * A node that stops (SIGSTOP, a frozen host, a partition that drops
 * packets silently) leaves its connections open: libpq would wait for its
 * answer without end.  Every wait on a connection (remote_exec.c) is cut
 * into steps of at most REMOTE_WATCH_PERIOD_MS, and after each step the
 * connection is checked: a deadline set by the router that passed, or the
 * monitor's verdict that the node is down, gives up the connection.
 * Giving up sends a cancel request that does not wait (cancel.c) and
 * shuts the socket down: libpq then reads end-of-file, reports the
 * connection broken, and the callers take their path for a lost node
 * (retry elsewhere before the first row, an error naming the node after).
 * The descriptor itself stays with libpq, closed when the connection is
 * dropped.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>

#include "portability/instr_time.h"

#include "remote/cancel.h"
#include "remote/watch.h"

bool		(*remote_node_down_hook) (int slot, int32 node_id) = NULL;
int			remote_connect_limit_ms = 0;

int64
watch_clock_ms(void)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	return (int64) INSTR_TIME_GET_MILLISEC(now);
}

void
remote_watch_deadline(RemoteConn *rc, int deadline_ms)
{
	rc->gave_up[0] = '\0';
	rc->deadline_ms = Max(deadline_ms, 0);
	rc->deadline = deadline_ms > 0 ? watch_clock_ms() + deadline_ms : 0;
}

void
remote_watch_clear(RemoteConn *rc)
{
	rc->deadline = 0;
}

long
remote_watch_timeout(RemoteConn *rc, long timeout_ms)
{
	long		step = REMOTE_WATCH_PERIOD_MS;

	if (rc->deadline > 0)
		step = Min(step, Max(0, (long) (rc->deadline - watch_clock_ms())));
	return timeout_ms < 0 ? step : Min(timeout_ms, step);
}

void
remote_watch_cancel(RemoteConn *rc)
{
	const char *error;

	if (rc->conn == NULL || PQstatus(rc->conn) != CONNECTION_OK)
		return;
	if (!remote_cancel_nowait(rc->conn, REMOTE_CANCEL_CONNECT_MS, &error))
		ereport(LOG_SERVER_ONLY,
				(errmsg("could not send cancel request to node \"%s\": %s",
						rc->node_name, error)));
}

bool
remote_watch_check(RemoteConn *rc)
{
	if (rc->gave_up[0] != '\0')
		return true;
	if (rc->conn == NULL)
		return false;
	if (rc->deadline > 0 && watch_clock_ms() >= rc->deadline)
		snprintf(rc->gave_up, sizeof(rc->gave_up),
				 "no answer within the response deadline (%d ms)", rc->deadline_ms);
	else if (remote_node_down_hook != NULL && remote_node_down_hook(rc->slot, rc->node_id))
		strlcpy(rc->gave_up, "the monitor marked the node down", sizeof(rc->gave_up));
	else
		return false;

	ereport(LOG_SERVER_ONLY,
			(errmsg("pg_foresight: gave up waiting for node \"%s\": %s",
					rc->node_name, rc->gave_up)));
	remote_watch_cancel(rc);
	if (PQsocket(rc->conn) != PGINVALID_SOCKET)
		(void) shutdown(PQsocket(rc->conn), SHUT_RDWR);
	return true;
}
