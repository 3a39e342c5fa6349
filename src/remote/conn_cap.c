/*-------------------------------------------------------------------------
 *
 * conn_cap.c
 *	  The shared cap on each node's connections (see conn_cap.h).
 *
 * Every backend keeps one connection per node and role it routed to
 * (connection.c), so a coordinator with many backends can use up a node's
 * max_connections.  With foresight.max_node_connections set, a backend
 * takes one of the node's connections from a shared count (one atomic per
 * registry slot) before connecting and gives it back when the connection
 * closes, at backend exit too; at the cap the connection is not made, the
 * query runs on the next candidate or here, and the node is not blamed.
 * The cap counts the connections routed queries hold, open or idle in a
 * backend's cache; the monitor's own (one per node) are not counted.  A
 * lower cap set by a reload applies to new connections: those open stay.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "port/atomics.h"
#include "storage/shmem.h"
#include "utils/guc.h"

#include "registry/registry.h"
#include "remote/conn_cap.h"

int			foresight_max_node_connections = 0;

static pg_atomic_uint32 *counts = NULL;

void
conn_cap_define_gucs(void)
{
	DefineCustomIntVariable("foresight.max_node_connections",
							"Most connections to each node from all of this coordinator's backends together.",
							"At the cap a routed query runs on another candidate or here.  0: no cap.",
							&foresight_max_node_connections,
							0, 0, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
}

static Size
conn_cap_shmem_size(void)
{
	return mul_size(registry_slot_count(), sizeof(pg_atomic_uint32));
}

void
conn_cap_shmem_request(void)
{
	RequestAddinShmemSpace(conn_cap_shmem_size());
}

void
conn_cap_shmem_init(void)
{
	bool		found;

	counts = ShmemInitStruct("pg_foresight node connections", conn_cap_shmem_size(), &found);
	if (!found)
		for (int i = 0; i < registry_slot_count(); i++)
			pg_atomic_init_u32(&counts[i], 0);
}

bool
conn_cap_reserve(int slot)
{
	uint32		cur;

	if (counts == NULL || slot < 0 || slot >= registry_slot_count())
		return true;
	cur = pg_atomic_read_u32(&counts[slot]);
	for (;;)
	{
		if (foresight_max_node_connections > 0 &&
			cur >= (uint32) foresight_max_node_connections)
			return false;
		if (pg_atomic_compare_exchange_u32(&counts[slot], &cur, cur + 1))
			return true;
	}
}

void
conn_cap_release(int slot)
{
	if (counts == NULL || slot < 0 || slot >= registry_slot_count())
		return;
	(void) pg_atomic_fetch_sub_u32(&counts[slot], 1);
}

uint32
conn_cap_count(int slot)
{
	if (counts == NULL || slot < 0 || slot >= registry_slot_count())
		return 0;
	return pg_atomic_read_u32(&counts[slot]);
}
