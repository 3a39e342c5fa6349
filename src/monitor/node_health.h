/*-------------------------------------------------------------------------
 *
 * node_health.h
 *	  What the monitor last learned about each node: up or down, in recovery
 *	  or not, replay position, last poll and error, and whether the node can
 *	  take routed queries at all (a standby that was promoted, a node that is
 *	  this coordinator itself cannot).  Written by the monitor, read by the
 *	  router (candidates, read-your-writes, the catalog floor) and the views.
 *
 * Indexed by registry slot (see registry/registry.h); an entry remembers the
 * node_id it describes and reads as "unknown" for any other node_id.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_NODE_HEALTH_H
#define FORESIGHT_NODE_HEALTH_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"

typedef enum NodeHealthStatus
{
	NODE_HEALTH_UNKNOWN,		/* not polled yet */
	NODE_HEALTH_UP,
	NODE_HEALTH_DOWN			/* missed foresight.down_after polls */
} NodeHealthStatus;

/*
 * What the monitor concluded from a node's answer about what the node is,
 * beside being up or down.  Anything but NODE_VERDICT_USABLE keeps the node
 * out of routing and is its status in foresight.node_health.
 */
typedef enum NodeHealthVerdict
{
	NODE_VERDICT_USABLE,		/* nothing against it (or not known yet) */
	NODE_VERDICT_NOT_IN_RECOVERY,	/* a standby that left recovery */
	NODE_VERDICT_COORDINATOR,	/* this server itself (the coordinator, or
								 * on a standby that standby) */
	NODE_VERDICT_OTHER_SYSTEM	/* a standby of another primary */
} NodeHealthVerdict;

#define NODE_HEALTH_ERROR_MAX 256

typedef struct NodeHealth
{
	int32		node_id;		/* node this entry describes */
	NodeHealthStatus status;
	NodeHealthVerdict verdict;	/* from the last good answer */
	bool		in_recovery;	/* the last good answer said so */
	XLogRecPtr	replay_lsn;		/* last seen replay (standby) or insert LSN */
	TimestampTz replay_lsn_at;	/* when it was seen (or learned by a backend) */
	TimestampTz last_poll;		/* last poll attempt finished */
	TimestampTz last_success;
	int32		consecutive_failures;
	int64		polls;
	int64		poll_errors;
	char		last_error[NODE_HEALTH_ERROR_MAX];
} NodeHealth;

extern void node_health_shmem_request(void);
extern void node_health_shmem_init(void);

/* Copy the entry of a slot; status UNKNOWN when it is for another node. */
extern void node_health_get(int slot, int32 node_id, NodeHealth *out);

/* Replace the entry of a slot (the monitor). */
extern void node_health_set(int slot, const NodeHealth *health);

/*
 * A backend asked the node itself and learned that it has replayed at
 * least lsn: raise the entry's replay_lsn to it, so that other backends
 * need not ask again before the next sample.  Only for a node the monitor
 * knows to be in recovery and usable.
 */
extern void node_health_note_replayed(int slot, int32 node_id, XLogRecPtr lsn);

/* The status text of a verdict other than usable ("not in recovery (promoted?)"). */
extern const char *node_health_verdict_text(NodeHealthVerdict verdict);

#endif							/* FORESIGHT_NODE_HEALTH_H */
