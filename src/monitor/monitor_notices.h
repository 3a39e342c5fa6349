/*-------------------------------------------------------------------------
 *
 * monitor_notices.h
 *	  A node's notices to the monitor's connection, held until they can be
 *	  logged.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_MONITOR_NOTICES_H
#define FORESIGHT_MONITOR_NOTICES_H

#include "postgres.h"

#include "libpq-fe.h"

/* notices a connection holds until they are logged; more are counted */
#define MONITOR_HELD_NOTICES 4
#define MONITOR_NOTICE_MAX 256	/* bytes of a message kept, the rest cut */

typedef struct MonitorNotice
{
	char		severity[16];
	char		message[MONITOR_NOTICE_MAX];
} MonitorNotice;

typedef struct MonitorNotices
{
	int			count;			/* held in held[] */
	int			lost;			/* received beyond MONITOR_HELD_NOTICES */
	MonitorNotice held[MONITOR_HELD_NOTICES];
} MonitorNotices;

/*
 * libpq's notice receiver (PQsetNoticeReceiver) of a node connection, arg
 * its MonitorNotices: copies, never raises.
 */
extern void monitor_notices_receiver(void *arg, const PGresult *res);

/* Log the notices held (outside libpq), naming the node, and forget them. */
extern void monitor_notices_flush(MonitorNotices *notices, const char *node_name);

#endif							/* FORESIGHT_MONITOR_NOTICES_H */
