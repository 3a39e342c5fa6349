/*-------------------------------------------------------------------------
 *
 * node_health.c
 *	  Shared-memory table of node health, one entry per registry slot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "monitor/node_health.h"
#include "registry/registry.h"

typedef struct NodeHealthShared
{
	LWLock	   *lock;
	NodeHealth	entries[FLEXIBLE_ARRAY_MEMBER];
} NodeHealthShared;

static NodeHealthShared *health = NULL;

static Size
node_health_shmem_size(void)
{
	return add_size(offsetof(NodeHealthShared, entries),
					mul_size(registry_slot_count(), sizeof(NodeHealth)));
}

void
node_health_shmem_request(void)
{
	RequestAddinShmemSpace(node_health_shmem_size());
	RequestNamedLWLockTranche("pg_foresight node health", 1);
}

void
node_health_shmem_init(void)
{
	bool		found;

	health = ShmemInitStruct("pg_foresight node health", node_health_shmem_size(), &found);
	if (!found)
	{
		memset(health, 0, node_health_shmem_size());
		health->lock = &(GetNamedLWLockTranche("pg_foresight node health"))->lock;
		for (int i = 0; i < registry_slot_count(); i++)
			health->entries[i].node_id = -1;
	}
}

void
node_health_get(int slot, int32 node_id, NodeHealth *out)
{
	foresight_require_shmem();
	Assert(slot >= 0 && slot < registry_slot_count());

	LWLockAcquire(health->lock, LW_SHARED);
	*out = health->entries[slot];
	LWLockRelease(health->lock);

	if (out->node_id != node_id)
	{
		memset(out, 0, sizeof(NodeHealth));
		out->node_id = node_id;
		out->status = NODE_HEALTH_UNKNOWN;
	}
}

void
node_health_set(int slot, const NodeHealth *entry)
{
	foresight_require_shmem();
	Assert(slot >= 0 && slot < registry_slot_count());

	LWLockAcquire(health->lock, LW_EXCLUSIVE);
	health->entries[slot] = *entry;
	LWLockRelease(health->lock);
}

void
node_health_note_replayed(int slot, int32 node_id, XLogRecPtr lsn)
{
	NodeHealth *entry;
	TimestampTz now = GetCurrentTimestamp();

	foresight_require_shmem();
	Assert(slot >= 0 && slot < registry_slot_count());

	LWLockAcquire(health->lock, LW_EXCLUSIVE);
	entry = &health->entries[slot];
	if (entry->node_id == node_id && entry->in_recovery &&
		entry->verdict == NODE_VERDICT_USABLE && lsn > entry->replay_lsn)
	{
		entry->replay_lsn = lsn;
		entry->replay_lsn_at = now;
	}
	LWLockRelease(health->lock);
}

const char *
node_health_verdict_text(NodeHealthVerdict verdict)
{
	switch (verdict)
	{
		case NODE_VERDICT_USABLE:
			return "usable";
		case NODE_VERDICT_NOT_IN_RECOVERY:
			return "not in recovery (promoted?)";
		case NODE_VERDICT_COORDINATOR:
			/* a standby routes too: its own row is this standby */
			return RecoveryInProgress() ? "this standby itself" : "this coordinator itself";
		case NODE_VERDICT_OTHER_SYSTEM:
			return "not a standby of this coordinator (other system identifier)";
	}
	return "?";
}
