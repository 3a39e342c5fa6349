/*-------------------------------------------------------------------------
 *
 * node_health.h
 *	  What the monitor last learned about each node: up or down, replay
 *	  position, last poll and error.  Written by the monitor, read by the
 *	  router (candidates, read-your-writes) and the views.
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

#define NODE_HEALTH_ERROR_MAX 256

typedef struct NodeHealth
{
	int32		node_id;		/* node this entry describes */
	NodeHealthStatus status;
	XLogRecPtr	replay_lsn;		/* last seen replay (standby) or insert LSN */
	TimestampTz replay_lsn_at;	/* when it was seen */
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

#endif							/* FORESIGHT_NODE_HEALTH_H */
