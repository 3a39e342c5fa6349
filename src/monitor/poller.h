/*-------------------------------------------------------------------------
 *
 * poller.h
 *	  The monitor's connections to the nodes: one asynchronous libpq
 *	  connection per monitored node, all polled at once every sample, each
 *	  with its own deadline, so that a slow or dead node delays no other.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_POLLER_H
#define FORESIGHT_POLLER_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* GUCs */
extern int	foresight_poll_timeout_ms;
extern int	foresight_down_after;
extern char *foresight_monitor_user;

extern void poller_define_gucs(void);

/* At worker start (in a transaction): resolve the monitor's user name. */
extern void poller_init(void);

/*
 * Open, keep or drop connections to match the registry (generation change).
 * Returns how many nodes it set up afresh (new, or a new conninfo): those
 * are due their first poll.
 */
extern int	poller_reconcile(void);

/*
 * One sample of every node: send the queries, sample the coordinator
 * in-process, wait for the answers until the deadline (now + the effective
 * poll timeout), store the samples and node health.  Returns early on
 * shutdown request.  With first_polls_only, the same for the nodes set up
 * since the last cycle alone, without the coordinator's sample.
 */
extern void poller_cycle(TimestampTz now, bool first_polls_only);

/* Close every connection (worker exit). */
extern void poller_shutdown(void);

#endif							/* FORESIGHT_POLLER_H */
