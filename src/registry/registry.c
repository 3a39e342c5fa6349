/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  The shared-memory copy of the node registry and how it is kept equal
 *	  to the table foresight.node.
 *
 * Two paths write the shared copy:
 *
 *	- A transaction that changes foresight.node (through add_node and the
 *	  other functions, or by plain DML) fires a statement trigger that reads
 *	  the table and stages the result in backend memory; when the
 *	  transaction commits, the staged copy is published, so the session sees
 *	  its change at once.  The commit also wakes the monitor.
 *	- The monitor reloads the table at start, whenever a commit woke it, and
 *	  every few seconds.  It reads under a SHARE lock, which waits for
 *	  writers to finish, so it always publishes committed state; this also
 *	  repairs what staging cannot see (changes rolled back to a savepoint,
 *	  concurrent REPEATABLE READ writers, DROP EXTENSION).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "core/guards.h"
#include "registry/registry.h"
#include "core/monitor_doorbell.h"

int			foresight_max_nodes = 16;
char	   *foresight_database = NULL;
char	   *foresight_local_region = NULL;

typedef struct RegistryShared
{
	LWLock	   *lock;			/* protects nodes[] */
	pg_atomic_uint64 generation;
	ForesightNode nodes[FLEXIBLE_ARRAY_MEMBER];
} RegistryShared;

static RegistryShared *registry = NULL;

/* staged copy of this transaction's registry (TopTransactionContext) */
static ForesightNode *staged_nodes = NULL;
static int	staged_count = 0;
static bool staged_valid = false;	/* a change is staged */
static bool staged_stale = false;	/* a subtransaction rolled back */
static bool callbacks_registered = false;

#define REGISTRY_TABLE_QUERY \
	"SELECT node_id, node_name, conninfo, region, kind, weight, state " \
	"FROM foresight.node ORDER BY node_id"

/* foresight.local_region: a region name as add_node() takes one */
static bool
check_local_region(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || !registry_simple_name(*newval, true))
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("A region starts with a lowercase letter or an underscore, has only lowercase letters, digits, underscores and hyphens, and is at most %d characters long.",
							NAMEDATALEN - 1);
		return false;
	}
	return true;
}

/*
 * foresight.database: a database name the monitor can connect to.  An
 * empty one (or one longer than a name can be) would be accepted by ALTER
 * SYSTEM and only fail after the restart, the monitor looping on FATAL:
 * database "" does not exist.
 */
static bool
check_database(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("The node registry needs a database; the default is \"postgres\".");
		return false;
	}
	if (strlen(*newval) >= NAMEDATALEN)
	{
		GUC_check_errdetail("A database name has at most %d bytes.", NAMEDATALEN - 1);
		return false;
	}
	return true;
}

void
registry_define_gucs(void)
{
	DefineCustomIntVariable("foresight.max_nodes",
							"Maximum number of registered nodes.",
							"Sizes the shared memory of the registry, the metric rings and the models.",
							&foresight_max_nodes,
							16, 1, FORESIGHT_MAX_NODES_LIMIT,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("foresight.database",
							   "Database that holds the node registry (foresight.node).",
							   "The monitor connects to it; nodes are managed there.",
							   &foresight_database,
							   "postgres",
							   PGC_POSTMASTER, 0,
							   check_database, NULL, NULL);

	DefineCustomStringVariable("foresight.local_region",
							   "Region of this coordinator.",
							   "The region of the node \"local\"; foresight.regions marks it.",
							   &foresight_local_region,
							   "local",
							   PGC_SIGHUP, 0,
							   check_local_region, NULL, NULL);
}

/* the coordinator's entry as this process sees it: its region is a GUC */
static void
local_view(ForesightNode *node)
{
	if (node->slot == FORESIGHT_LOCAL_SLOT && foresight_local_region != NULL)
		strlcpy(node->region, foresight_local_region, NAMEDATALEN);
}

int
registry_slot_count(void)
{
	return foresight_max_nodes + 1;
}

static Size
registry_shmem_size(void)
{
	return add_size(offsetof(RegistryShared, nodes),
					mul_size(registry_slot_count(), sizeof(ForesightNode)));
}

void
registry_shmem_request(void)
{
	RequestAddinShmemSpace(registry_shmem_size());
	RequestNamedLWLockTranche("pg_foresight registry", 1);
}

void
registry_shmem_init(void)
{
	bool		found;

	registry = ShmemInitStruct("pg_foresight registry", registry_shmem_size(), &found);
	if (!found)
	{
		ForesightNode *local;

		memset(registry, 0, registry_shmem_size());
		registry->lock = &(GetNamedLWLockTranche("pg_foresight registry"))->lock;
		pg_atomic_init_u64(&registry->generation, 1);
		for (int i = 0; i < registry_slot_count(); i++)
			registry->nodes[i].slot = i;

		local = &registry->nodes[FORESIGHT_LOCAL_SLOT];
		local->in_use = true;
		local->node_id = 0;
		strlcpy(local->name, FORESIGHT_LOCAL_NODE_NAME, NAMEDATALEN);
		strlcpy(local->region, "local", NAMEDATALEN);
		local->kind = NODE_KIND_COORDINATOR;
		local->state = NODE_STATE_ENABLED;
		local->weight = 1.0;
	}
}

uint64
registry_generation(void)
{
	foresight_require_shmem();
	return pg_atomic_read_u64(&registry->generation);
}

int
registry_snapshot(ForesightNode *out, int max, uint64 *generation)
{
	int			n = 0;

	foresight_require_shmem();
	LWLockAcquire(registry->lock, LW_SHARED);
	for (int i = 0; i < registry_slot_count() && n < max; i++)
		if (registry->nodes[i].in_use)
		{
			out[n] = registry->nodes[i];
			local_view(&out[n++]);
		}
	if (generation)
		*generation = pg_atomic_read_u64(&registry->generation);
	LWLockRelease(registry->lock);
	return n;
}

ForesightNode *
registry_snapshot_palloc(int *count)
{
	int			max = registry_slot_count();
	ForesightNode *nodes = palloc(sizeof(ForesightNode) * max);

	*count = registry_snapshot(nodes, max, NULL);
	return nodes;
}

bool
registry_lookup(const char *name, ForesightNode *out)
{
	bool		found = false;

	foresight_require_shmem();
	LWLockAcquire(registry->lock, LW_SHARED);
	for (int i = 0; i < registry_slot_count(); i++)
	{
		if (registry->nodes[i].in_use && strcmp(registry->nodes[i].name, name) == 0)
		{
			*out = registry->nodes[i];
			local_view(out);
			found = true;
			break;
		}
	}
	LWLockRelease(registry->lock);
	return found;
}

bool
registry_row_is_this_primary(const ForesightNode *node)
{
	return node->kind == NODE_KIND_PRIMARY && !RecoveryInProgress();
}

const char *
registry_kind_name(ForesightNodeKind kind)
{
	switch (kind)
	{
		case NODE_KIND_COORDINATOR:
			return "coordinator";
		case NODE_KIND_STANDBY:
			return "standby";
		case NODE_KIND_REPLICA:
			return "replica";
		case NODE_KIND_PRIMARY:
			return "primary";
	}
	return "?";
}

const char *
registry_state_name(ForesightNodeState state)
{
	switch (state)
	{
		case NODE_STATE_ENABLED:
			return "enabled";
		case NODE_STATE_DRAINED:
			return "drained";
		case NODE_STATE_DISABLED:
			return "disabled";
	}
	return "?";
}

static ForesightNodeKind
kind_from_name(const char *name)
{
	if (strcmp(name, "replica") == 0)
		return NODE_KIND_REPLICA;
	if (strcmp(name, "primary") == 0)
		return NODE_KIND_PRIMARY;
	return NODE_KIND_STANDBY;
}

static ForesightNodeState
state_from_name(const char *name)
{
	if (strcmp(name, "drained") == 0)
		return NODE_STATE_DRAINED;
	if (strcmp(name, "disabled") == 0)
		return NODE_STATE_DISABLED;
	return NODE_STATE_ENABLED;
}

bool
registry_in_home_database(void)
{
	char	   *name = get_database_name(MyDatabaseId);

	return name != NULL && strcmp(name, foresight_database) == 0;
}

/*
 * Read foresight.node through SPI (the caller has connected) into a
 * palloc'd array; too many rows for the shared array is an error.
 */
static ForesightNode *
read_registry_table(int *count)
{
	ForesightNode *nodes;
	uint64		nrows;

	if (SPI_execute(REGISTRY_TABLE_QUERY, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read foresight.node");

	nrows = SPI_processed;
	if (nrows > (uint64) foresight_max_nodes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many nodes: %llu registered, foresight.max_nodes is %d",
						(unsigned long long) nrows, foresight_max_nodes),
				 errhint("Remove a node, or raise foresight.max_nodes and restart the server.")));

	nodes = palloc0(sizeof(ForesightNode) * Max(nrows, 1));
	for (uint64 i = 0; i < nrows; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ForesightNode *node = &nodes[i];
		bool		isnull;

		node->in_use = true;
		node->node_id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		strlcpy(node->name, SPI_getvalue(tup, desc, 2), NAMEDATALEN);
		strlcpy(node->conninfo, SPI_getvalue(tup, desc, 3), FORESIGHT_CONNINFO_MAX);
		strlcpy(node->region, SPI_getvalue(tup, desc, 4), NAMEDATALEN);
		node->kind = kind_from_name(SPI_getvalue(tup, desc, 5));
		node->weight = DatumGetFloat8(SPI_getbinval(tup, desc, 6, &isnull));
		node->state = state_from_name(SPI_getvalue(tup, desc, 7));
	}
	*count = (int) nrows;
	return nodes;
}

/*
 * Make the shared copy equal to nodes[0..count-1].  A node keeps its slot
 * (matched by node_id); new nodes take free slots.
 */
static void
publish(const ForesightNode *nodes, int count)
{
	int			nslots = registry_slot_count();
	bool		changed = false;

	LWLockAcquire(registry->lock, LW_EXCLUSIVE);

	/* free the slots of nodes that are gone */
	for (int s = 1; s < nslots; s++)
	{
		bool		keep = false;

		if (!registry->nodes[s].in_use)
			continue;
		for (int i = 0; i < count && !keep; i++)
			keep = (nodes[i].node_id == registry->nodes[s].node_id);
		if (!keep)
		{
			registry->nodes[s].in_use = false;
			changed = true;
		}
	}

	for (int i = 0; i < count; i++)
	{
		int			slot = -1;
		int			free_slot = -1;

		for (int s = 1; s < nslots; s++)
		{
			if (registry->nodes[s].in_use && registry->nodes[s].node_id == nodes[i].node_id)
			{
				slot = s;
				break;
			}
			if (!registry->nodes[s].in_use && free_slot < 0)
				free_slot = s;
		}
		if (slot < 0)
			slot = free_slot;
		Assert(slot > 0);		/* count <= max_nodes was checked */

		{
			ForesightNode candidate = nodes[i];

			candidate.slot = slot;
			if (memcmp(&registry->nodes[slot], &candidate, sizeof(ForesightNode)) != 0)
			{
				registry->nodes[slot] = candidate;
				changed = true;
			}
		}
	}

	if (changed)
		pg_atomic_fetch_add_u64(&registry->generation, 1);
	LWLockRelease(registry->lock);
}

int
registry_reload_from_table(void)
{
	ForesightNode *nodes = NULL;
	int			count = 0;
	bool		have_table;

	foresight_require_shmem();

	SPI_connect();
	have_table = OidIsValid(get_relname_relid("node", get_namespace_oid("foresight", true)));
	if (have_table)
	{
		/*
		 * Waits for writers, so what we read is committed.  A standby (the
		 * monitor runs there too) has no writers, replay makes each commit
		 * visible at once, and recovery allows no lock above ROW EXCLUSIVE.
		 */
		if (!RecoveryInProgress() &&
			SPI_execute("LOCK TABLE foresight.node IN SHARE MODE", false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not lock foresight.node");
		nodes = read_registry_table(&count);
	}

	/* publish while the lock is held; count==0 clears the registry */
	publish(nodes, count);
	SPI_finish();
	return count;
}

/* Transaction callbacks: publish the staged copy at commit. */
static void
registry_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (staged_valid)
			{
				if (!staged_stale)
					publish(staged_nodes, staged_count);
				monitor_request_registry_reload();
			}
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		default:
			break;
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		staged_nodes = NULL;	/* freed with TopTransactionContext */
		staged_count = 0;
		staged_valid = false;
		staged_stale = false;
	}
}

static void
registry_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	/* what was staged may include rolled-back rows: let the monitor reload */
	if (event == SUBXACT_EVENT_ABORT_SUB && staged_valid)
		staged_stale = true;
}

/*
 * Stage the current content of foresight.node for publication at commit.
 * Called by the statement trigger after every change of the table.
 */
static void
registry_stage_from_table(void)
{
	MemoryContext oldcxt;
	ForesightNode *nodes;
	int			count;

	if (!callbacks_registered)
	{
		RegisterXactCallback(registry_xact_callback, NULL);
		RegisterSubXactCallback(registry_subxact_callback, NULL);
		callbacks_registered = true;
	}

	SPI_connect();
	nodes = read_registry_table(&count);

	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	staged_nodes = palloc(sizeof(ForesightNode) * Max(count, 1));
	memcpy(staged_nodes, nodes, sizeof(ForesightNode) * count);
	MemoryContextSwitchTo(oldcxt);
	staged_count = count;
	staged_valid = true;
	SPI_finish();
}

/* Raise an error unless we are in the database that holds the registry. */
void
registry_require_home_database(void)
{
	if (!registry_in_home_database())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("nodes are managed in database \"%s\"", foresight_database),
				 errdetail("foresight.database names the database that holds the node registry."),
				 errhint("Connect to database \"%s\" to change nodes.", foresight_database)));
}

PG_FUNCTION_INFO_V1(foresight_node_registry_changed);

Datum
foresight_node_registry_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("foresight.node_registry_changed() must be called as a trigger")));

	foresight_require_shmem();
	registry_require_home_database();
	registry_stage_from_table();

	return PointerGetDatum(NULL);
}
