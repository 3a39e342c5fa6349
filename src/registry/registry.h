/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  The node registry: which nodes exist, where they are and whether they
 *	  may be used.  The table foresight.node in database foresight.database
 *	  is the source of truth; shared memory holds a copy that every backend
 *	  and the monitor read.
 *
 * Slots: the shared copy is an array of foresight.max_nodes + 1 slots.
 * Slot 0 is always the coordinator itself (the built-in node "local");
 * a registered node keeps its slot for as long as it exists, so other
 * components may keep per-node state in arrays indexed by slot.  A slot is
 * reused after its node is removed: such state must remember the node_id
 * it belongs to and reset itself when the slot's node_id changes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_REGISTRY_H
#define FORESIGHT_REGISTRY_H

#include "postgres.h"

#define FORESIGHT_LOCAL_SLOT		0
#define FORESIGHT_LOCAL_NODE_NAME	"local"
#define FORESIGHT_CONNINFO_MAX		1024

/*
 * Upper bound of foresight.max_nodes.  Every node, plus the coordinator,
 * can be a routing candidate of one query, and a decision holds its
 * candidates in a fixed array (ROUTE_MAX_CANDIDATES, router/policy.h, is
 * this + 1): the bound keeps that array, which every routed execution
 * allocates, small.
 */
#define FORESIGHT_MAX_NODES_LIMIT	64

typedef enum ForesightNodeKind
{
	NODE_KIND_COORDINATOR,		/* the built-in node "local" */
	NODE_KIND_STANDBY,			/* physical streaming standby */
	NODE_KIND_REPLICA,			/* any other replica with the same data */
	NODE_KIND_PRIMARY			/* the primary, as its standbys reach it: on
								 * the primary itself it is "local" */
} ForesightNodeKind;

typedef enum ForesightNodeState
{
	NODE_STATE_ENABLED,			/* candidate for routing */
	NODE_STATE_DRAINED,			/* no new routed queries; still monitored */
	NODE_STATE_DISABLED			/* neither routed to nor monitored */
} ForesightNodeState;

typedef struct ForesightNode
{
	bool		in_use;
	int			slot;			/* index in the shared array */
	int32		node_id;		/* foresight.node.node_id; 0 for local */
	char		name[NAMEDATALEN];
	char		conninfo[FORESIGHT_CONNINFO_MAX];	/* no user, no dbname */
	char		region[NAMEDATALEN];
	ForesightNodeKind kind;
	ForesightNodeState state;
	double		weight;
} ForesightNode;

/* GUCs */
extern int	foresight_max_nodes;
extern char *foresight_database;
extern char *foresight_local_region;

/* component entry points (see pg_foresight.h) */
extern void registry_define_gucs(void);

/* a node or region name: a lowercase letter or _, then [a-z0-9_] (and - if allow_dash) */
extern bool registry_simple_name(const char *name, bool allow_dash);
extern void registry_shmem_request(void);
extern void registry_shmem_init(void);

/* number of slots: foresight.max_nodes + 1 (slot 0 is local) */
extern int	registry_slot_count(void);

/*
 * Bumped every time the shared copy changes.  Cheap to read: backends poll
 * it to notice that cached connections or decisions are out of date.
 */
extern uint64 registry_generation(void);

/*
 * Copy the nodes in use (local first) into out[], at most max entries.
 * Returns the number copied; *generation (if not NULL) gets the generation
 * the copy belongs to.  Takes the registry lock in shared mode.
 */
extern int	registry_snapshot(ForesightNode *out, int max, uint64 *generation);

/* The same into a palloc'd array (current memory context); *count nodes. */
extern ForesightNode *registry_snapshot_palloc(int *count);

/* Copy one node by name; false if there is none. */
extern bool registry_lookup(const char *name, ForesightNode *out);

/*
 * The node of kind primary, on the primary itself: that row is this server,
 * the node "local" (neither polled nor a routing candidate).  On a standby
 * it is the primary, a node like the others.
 */
extern bool registry_row_is_this_primary(const ForesightNode *node);

/* Names used in messages and views. */
extern const char *registry_kind_name(ForesightNodeKind kind);
extern const char *registry_state_name(ForesightNodeState state);

/*
 * Reload the shared copy from foresight.node.  Must run inside a
 * transaction in database foresight.database (the monitor calls it at
 * start).  Returns the number of registered nodes.
 */
extern int	registry_reload_from_table(void);

/* True when MyDatabaseId is the database named by foresight.database. */
extern bool registry_in_home_database(void);

/* ereport(ERROR) unless in that database. */
extern void registry_require_home_database(void);

#endif							/* FORESIGHT_REGISTRY_H */
