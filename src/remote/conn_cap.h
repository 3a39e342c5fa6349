/*-------------------------------------------------------------------------
 *
 * conn_cap.h
 *	  A cap on each node's connections from all the coordinator's backends
 *	  together (foresight.max_node_connections), counted in shared memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CONN_CAP_H
#define FORESIGHT_CONN_CAP_H

#include "postgres.h"

extern int	foresight_max_node_connections;

extern void conn_cap_define_gucs(void);
extern void conn_cap_shmem_request(void);
extern void conn_cap_shmem_init(void);

/* Take one of the node's connections; false when it has the cap already. */
extern bool conn_cap_reserve(int slot);

/* Give one back. */
extern void conn_cap_release(int slot);

/* The node's connections from all backends now. */
extern uint32 conn_cap_count(int slot);

#endif							/* FORESIGHT_CONN_CAP_H */
