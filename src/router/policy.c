/*-------------------------------------------------------------------------
 *
 * policy.c
 *	  Which nodes may take a query now, and in which order to try them.
 *
 * Candidates: the enabled physical standbys the monitor has polled with
 * success at least once (an UNKNOWN node, never polled or never answered,
 * is no candidate), that it has not marked DOWN since, and
 * that it has not found unusable (promoted, this coordinator
 * itself, another cluster's standby), that this backend has not just failed
 * to use, and that have replayed both this session's last commit
 * (read-your-writes) and the catalog floor (the latest catalog change made
 * here by anyone, catalog_floor.c): the monitor's last-seen replay LSN, or
 * the position this backend last saw itself, shows it; otherwise the node
 * stays a candidate flagged check_lsn and the executor asks the node before
 * sending the query.  The coordinator is a candidate when
 * foresight.include_local is on, and always the last resort; it is always
 * at the floor.
 *
 * Nodes of kind "replica" are never candidates: their WAL positions are
 * not positions in this coordinator's WAL, so neither read-your-writes nor
 * the catalog floor can be checked on them.
 *
 * On a standby (foresight.standby_routing), the same rules route the
 * standby's own sessions: "local" is that standby, its own registry row is
 * found to be itself by the monitor, the node of kind "primary" is a
 * candidate that is never checked (it is past any position of its WAL),
 * and the floor includes what this standby had replayed when the statement
 * began (monotonic reads).  On the primary the node of kind "primary" is
 * this server: it is never a candidate there.
 *
 * Inside a transaction block the first node a read went to is pinned: the
 * later reads of the block go there first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/timestamp.h"

#include "monitor/node_health.h"
#include "monitor/quarantine.h"
#include "remote/connection.h"
#include "router/catalog_floor.h"
#include "router/causal.h"
#include "router/kept_here.h"
#include "router/policy.h"
#include "router/reason_text.h"
#include "router/router.h"
#include "router/wal_position.h"
#include "stats/history.h"
#include "stats/latency.h"

#define NODE_RETRY_AFTER_MS 5000	/* skip a node this long after a failure */

/* this backend's copy of the registry, refreshed when the generation moves */
static ForesightNode *node_cache = NULL;
static int	node_cache_count = 0;
static int	node_cache_slots = 0;
static uint64 node_cache_generation = 0;
static bool node_cache_has_nodes = false;

/* per slot, backend-local: failure backoff and replay positions seen */
typedef struct SlotMemory
{
	int32		node_id;
	TimestampTz skip_until;
	XLogRecPtr	replayed;
} SlotMemory;

static SlotMemory *slot_memory = NULL;

/* pinned node of the current transaction block */
static LocalTransactionId pin_lxid = InvalidLocalTransactionId;
static int	pin_slot = -1;
static int32 pin_node_id = -1;

/* how far a statement of the pinned block that ran here saw (or Invalid) */
static XLogRecPtr pin_seen_lsn = InvalidXLogRecPtr;

/* is (slot, node_id) still a registered node at conninfo? */
static bool
node_still_valid(int slot, int32 node_id, const char *conninfo)
{
	for (int i = 0; i < node_cache_count; i++)
		if (node_cache[i].slot == slot && node_cache[i].node_id == node_id)
			return node_cache[i].state != NODE_STATE_DISABLED &&
				strcmp(node_cache[i].conninfo, conninfo) == 0;
	return false;
}

static void
node_cache_refresh(void)
{
	uint64		generation = registry_generation();

	if (node_cache != NULL && generation == node_cache_generation)
		return;

	if (node_cache == NULL)
	{
		node_cache_slots = registry_slot_count();
		node_cache = MemoryContextAllocZero(TopMemoryContext,
											sizeof(ForesightNode) * node_cache_slots);
		slot_memory = MemoryContextAllocZero(TopMemoryContext,
											 sizeof(SlotMemory) * node_cache_slots);
		for (int i = 0; i < node_cache_slots; i++)
			slot_memory[i].node_id = -1;
	}
	node_cache_count = registry_snapshot(node_cache, node_cache_slots, &generation);

	node_cache_has_nodes = false;
	for (int i = 0; i < node_cache_count; i++)
		if (node_cache[i].slot != FORESIGHT_LOCAL_SLOT &&
			node_cache[i].state == NODE_STATE_ENABLED)
			node_cache_has_nodes = true;

	/* plans made under the old registry may wrap, or not, wrongly */
	if (node_cache_generation != 0)
	{
		ResetPlanCache();
		remote_conn_prune(node_still_valid);
	}
	node_cache_generation = generation;
}

bool
policy_nodes_registered(void)
{
	node_cache_refresh();
	return node_cache_has_nodes;
}

static SlotMemory *
slot_mem(int slot, int32 node_id)
{
	SlotMemory *m = &slot_memory[slot];

	if (m->node_id != node_id)
	{
		m->node_id = node_id;
		m->skip_until = 0;
		m->replayed = InvalidXLogRecPtr;
	}
	return m;
}

void
policy_node_failed(int slot, int32 node_id)
{
	SlotMemory *m;

	if (slot_memory == NULL || slot < 0 || slot >= node_cache_slots)
		return;
	m = slot_mem(slot, node_id);
	m->skip_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), NODE_RETRY_AFTER_MS);
	/* it may have restarted (and replay from an earlier point): ask again */
	m->replayed = InvalidXLogRecPtr;
}

void
policy_node_replayed(int slot, int32 node_id, XLogRecPtr lsn)
{
	SlotMemory *m;

	if (slot_memory == NULL || slot < 0 || slot >= node_cache_slots)
		return;
	m = slot_mem(slot, node_id);
	if (lsn > m->replayed)
	{
		m->replayed = lsn;
		/* so that other backends need not ask before the next sample */
		node_health_note_replayed(slot, node_id, lsn);
	}
}

void
policy_pin(int slot, int32 node_id)
{
	if (!IsTransactionBlock())
		return;
	if (pin_lxid != MyProc->lxid)
		pin_seen_lsn = InvalidXLogRecPtr;
	pin_lxid = MyProc->lxid;
	pin_slot = slot;
	pin_node_id = node_id;
}

bool
policy_block_pinned(void)
{
	return IsTransactionBlock() && pin_lxid == MyProc->lxid && pin_slot >= 0;
}

void
policy_block_ran_here(void)
{
	if (policy_block_pinned() && pin_slot != FORESIGHT_LOCAL_SLOT &&
		XactIsoLevel == XACT_READ_COMMITTED)
		pin_seen_lsn = wal_position_here();
}

/* --- policies: each orders the candidates in place --- */

static void
rotate(RouteCandidate *cands, int n, int first)
{
	RouteCandidate tmp[ROUTE_MAX_CANDIDATES + 1];

	for (int i = 0; i < n; i++)
		tmp[i] = cands[(first + i) % n];
	memcpy(cands, tmp, sizeof(RouteCandidate) * n);
}

static void
order_round_robin(RouteDecision *d, RouteCandidate *cands, int n, bool dry_run)
{
	rotate(cands, n, (int) (router_next_round_robin() % (uint32) n));
}

static void
order_random(RouteDecision *d, RouteCandidate *cands, int n, bool dry_run)
{
	rotate(cands, n, (int) pg_prng_uint64_range(&pg_global_prng_state, 0, n - 1));
}

static void
order_least_connections(RouteDecision *d, RouteCandidate *cands, int n, bool dry_run)
{
	/* rotate first so that ties are broken round-robin, then a stable sort */
	order_round_robin(d, cands, n, dry_run);
	for (int i = 1; i < n; i++)
	{
		RouteCandidate c = cands[i];
		int			j = i - 1;

		while (j >= 0 && cands[j].inflight > c.inflight)
		{
			cands[j + 1] = cands[j];
			j--;
		}
		cands[j + 1] = c;
	}
}

static const RoutePolicyOrder policy_table[] = {
	[ROUTING_POLICY_LOCAL] = NULL,
	[ROUTING_POLICY_ROUND_ROBIN] = order_round_robin,
	[ROUTING_POLICY_RANDOM] = order_random,
	[ROUTING_POLICY_LEAST_CONNECTIONS] = order_least_connections,
	[ROUTING_POLICY_PREDICTIVE] = policy_order_predictive,
};

static void
set_local_candidate(RouteCandidate *c)
{
	memset(c, 0, sizeof(*c));
	c->slot = FORESIGHT_LOCAL_SLOT;
	c->node_id = 0;
	strlcpy(c->name, FORESIGHT_LOCAL_NODE_NAME, NAMEDATALEN);
	c->is_local = true;
	c->in_local_region = true;
	c->inflight = latency_inflight(FORESIGHT_LOCAL_SLOT);
	c->weight = 1.0;
}

static void
note_excluded(RouteDecision *d, const char *name, const char *why)
{
	size_t		len = strlen(d->excluded);

	snprintf(d->excluded + len, sizeof(d->excluded) - len, "%s%s: %s",
			 len > 0 ? "; " : "", name, why);
}

/*
 * The reason starts with the experiment and arm whose settings decided,
 * "[experiment/arm] ", so that the decision log's short copy keeps them.
 */
static void
policy_note_arm(RouteDecision *d)
{
	char		reason[sizeof(d->reason)];

	if (d->arm.slot < 0)
		return;
	snprintf(reason, sizeof(reason), "[%s/%s] %s", d->arm.experiment, d->arm.arm_name, d->reason);
	strlcpy(d->reason, reason, sizeof(d->reason));
}

/*
 * Whether a node of the registry is a candidate of decision d, with the
 * reason in d->excluded when it is not; fills *c when it is.  *now is the
 * clock read once (0: not yet).  admit_quarantined: the monitor's
 * quarantines and slow starts exclude nothing (the second pass of
 * policy_decide); *quarantined_out counts the nodes they excluded.
 */
static bool
consider_node(RouteDecision *d, ForesightNode *node, RouteCandidate *c,
			  TimestampTz *now, int max_lag, bool admit_quarantined,
			  int *quarantined_out)
{
	NodeHealth health;
	SlotMemory *mem;

	if (node->state != NODE_STATE_ENABLED)
	{
		note_excluded(d, node->name, registry_state_name(node->state));
		return false;
	}
	if (node->kind == NODE_KIND_REPLICA)
	{
		note_excluded(d, node->name,
					  "kind replica (its replay position cannot be compared with this coordinator's WAL)");
		return false;
	}
	/* the primary's row is this server on the primary: "local" */
	if (registry_row_is_this_primary(node))
	{
		note_excluded(d, node->name, "kind primary: this server, the node \"local\"");
		return false;
	}
	node_health_get(node->slot, node->node_id, &health);
	if (health.status == NODE_HEALTH_DOWN)
	{
		note_excluded(d, node->name, "down");
		return false;
	}
	/* never answered a poll: a session would pay its connect timeout */
	if (health.status == NODE_HEALTH_UNKNOWN)
	{
		note_excluded(d, node->name, "unknown: no good poll yet");
		return false;
	}
	if (health.verdict != NODE_VERDICT_USABLE)
	{
		note_excluded(d, node->name, node_health_verdict_text(health.verdict));
		return false;
	}
	if (max_lag >= 0)
	{
		MetricSample sample;

		if (history_latest(node->slot, node->node_id, &sample) &&
			!isnan(sample.replay_lag_ms) &&
			sample.replay_lag_ms > max_lag)
		{
			note_excluded(d, node->name,
						  psprintf("replication lag %.0f ms over foresight.max_replication_lag",
								   sample.replay_lag_ms));
			return false;
		}
	}
	/*
	 * Quarantined, or a share of the decisions while it ramps up; not when
	 * the monitor's quarantines and slow starts left no candidate at all
	 * (admit_quarantined): an administrator's quarantine always holds.
	 */
	{
		const char *why = NULL;
		bool		by_hand = false;
		double		share;

		share = quarantine_route_share(node->slot, node->node_id, now, &why, &by_hand);
		/* a slow start: a candidate for that share of the decisions */
		if (share < 1.0 && (share <= 0.0 || pg_prng_double(&pg_global_prng_state) >= share) &&
			(by_hand || !admit_quarantined))
		{
			note_excluded(d, node->name, why);
			if (!by_hand)
				(*quarantined_out)++;
			return false;
		}
	}

	mem = slot_mem(node->slot, node->node_id);
	if (mem->skip_until != 0)
	{
		if (*now == 0)
			*now = GetCurrentTimestamp();
		if (*now < mem->skip_until)
		{
			note_excluded(d, node->name, "failed recently");
			return false;
		}
	}

	if (remote_conn_left_running(node->slot, node->node_id))
	{
		note_excluded(d, node->name, "still running a query of this session that a hedge answered");
		return false;
	}

	memset(c, 0, sizeof(*c));
	c->slot = node->slot;
	c->node_id = node->node_id;
	strlcpy(c->name, node->name, NAMEDATALEN);
	c->conninfo = node->conninfo;
	c->in_local_region = strcmp(node->region, foresight_local_region) == 0;
	c->inflight = latency_inflight(node->slot);
	c->weight = node->weight;
	/*
	 * The monitor's replay position counts only while the node was in
	 * recovery: out of it, its WAL positions are its own.  The primary
	 * (kind primary, a standby's candidate) is past any position of its
	 * WAL: never checked.
	 */
	if (d->required_lsn != InvalidXLogRecPtr &&
		!(node->kind == NODE_KIND_PRIMARY && !health.in_recovery) &&
		(!health.in_recovery || health.replay_lsn < d->required_lsn) &&
		mem->replayed < d->required_lsn)
		c->check_lsn = true;
	return true;
}

/* what a candidate flagged check_lsn must be found to have replayed */
static const char *
replay_requirement(const RouteDecision *d)
{
	return d->block_start ? "the start of a REPEATABLE READ block" :
		d->standby_floor ? "monotonic reads (what this standby had replayed)" :
		d->block_seen ? "what a statement of this block saw here" :
		d->catalog_floor ? "the catalog floor (a catalog change made here)" :
		"read-your-writes";
}

void
policy_decide(RouteDecision *d, double cost, bool dry_run)
{
	RouteCandidate *cands = d->candidates;
	int			n = 0;
	TimestampTz now = 0;
	bool		pinned_found = false;
	bool		admit_quarantined = false;
	char		moved_after[NAMEDATALEN];
	int			max_lag;

	memset(d, 0, offsetof(RouteDecision, candidates));
	moved_after[0] = '\0';
	d->local_is_candidate = false;
	d->reason[0] = '\0';
	d->excluded[0] = '\0';
	/* an experiment's arm overrides the configured settings (experiment.c) */
	experiment_assign(d);
	d->policy = arm_int(&d->arm, ARM_ROUTING_POLICY, d->arm.settings.routing_policy,
						foresight_routing_policy);
	d->cost = cost;
	d->request_class = request_class_from_cost(cost);

	/*
	 * A read the coordinator's own cost kept here moments ago, in a decision
	 * of this backend that no node could have changed: here again, unscored
	 * (kept_here.c).  It needs none of what follows: the floors concern the
	 * nodes only.
	 */
	if (!dry_run && d->policy == ROUTING_POLICY_PREDICTIVE && d->arm.slot < 0 &&
		kept_here_pending() &&
		kept_here_applies((RequestClass) d->request_class, d->reason, sizeof(d->reason)))
	{
		set_local_candidate(&cands[0]);
		d->ncandidates = 1;
		d->local_is_candidate = true;
		return;
	}
	d->required_lsn = Max(router_last_commit_lsn, causal_min_lsn());
	max_lag = arm_int(&d->arm, ARM_MAX_REPLICATION_LAG, d->arm.settings.max_replication_lag,
					  foresight_max_replication_lag);
	node_cache_refresh();

	/*
	 * The catalogs the query was planned with: whoever changed them, a node
	 * must have replayed the change (catalog_floor.c).
	 */
	{
		XLogRecPtr	floor = catalog_floor_required();

		if (floor > d->required_lsn)
		{
			d->required_lsn = floor;
			d->catalog_floor = true;
		}
	}

	/*
	 * The first routed read of a REPEATABLE READ block takes the block's
	 * snapshot on the node: it must not be older than one taken here now,
	 * or the block would miss what others committed before it began (and
	 * disagree with any statement of the block that runs here).  So the
	 * node must have replayed everything written here so far.
	 */
	if (IsTransactionBlock() && XactIsoLevel >= XACT_REPEATABLE_READ &&
		router_block_statements() == 0)
	{
		XLogRecPtr	written = wal_position_here();

		if (written > d->required_lsn)
		{
			d->required_lsn = written;
			d->block_start = true;
			d->catalog_floor = false;
		}
		/* which the nodes can reach only once it is flushed (wal_position.c) */
		if (!dry_run)
			wal_flush_for_nodes(written);
	}

	/*
	 * A READ COMMITTED block pinned to a node, in which a statement ran here
	 * since (policy_block_ran_here): that statement saw what was written
	 * here when it ran, and a later read of the block must not see less
	 * (each statement of a block sees at least what an earlier one saw, as
	 * here).  The node reads on once it has replayed that far; until then
	 * the block reads here.  A REPEATABLE READ block's reads on the node
	 * share one snapshot, which replay does not move.
	 */
	if (XactIsoLevel == XACT_READ_COMMITTED && policy_block_pinned() &&
		pin_slot != FORESIGHT_LOCAL_SLOT && pin_seen_lsn > d->required_lsn)
	{
		d->required_lsn = pin_seen_lsn;
		d->block_seen = true;
		d->catalog_floor = false;
		if (!dry_run)
			wal_flush_for_nodes(pin_seen_lsn);
	}

	/*
	 * On a standby (foresight.standby_routing), monotonic reads: a read
	 * never goes to a node that has replayed less than this standby had when
	 * the statement began, or a session could see a row and then not see it.
	 * The position is read at the statement's first routing decision, after
	 * its snapshot was taken, so it is never below what the snapshot saw.
	 * The primary is always past it.
	 */
	if (RecoveryInProgress())
	{
		XLogRecPtr	replayed = wal_position_here();

		if (replayed > d->required_lsn)
		{
			d->required_lsn = replayed;
			d->standby_floor = true;
			d->catalog_floor = false;
			d->block_seen = false;
		}
	}

	/*
	 * The candidates.  When the monitor has quarantined or is slowly
	 * readmitting every node and nothing else is a candidate, a second pass
	 * takes them back: degraded nodes answer, while running every read on
	 * this server would load the one server foresight.include_local keeps
	 * out (noise that moves between the nodes faster than a quarantine
	 * clears can quarantine them all).
	 */
	for (int pass = 0; pass < 2; pass++)
	{
		int			quarantined_out = 0;

		if (pass == 1)
		{
			if (!admit_quarantined)
				break;
			d->excluded[0] = '\0';
		}
		for (int i = 0; i < node_cache_count && n < ROUTE_MAX_CANDIDATES; i++)
		{
			ForesightNode *node = &node_cache[i];

			if (node->slot != FORESIGHT_LOCAL_SLOT)
			{
				if (consider_node(d, node, &cands[n], &now, max_lag, pass == 1,
								  &quarantined_out))
					n++;
				continue;
			}
			if (pass == 1)
				continue;

			/*
			 * A standby is not always at the floor: foresight.min_lsn may be
			 * past what it has replayed.  Then it is only the last resort.
			 */
			if (RecoveryInProgress() && d->required_lsn > wal_position_here())
				note_excluded(d, FORESIGHT_LOCAL_NODE_NAME,
							  "this standby has not replayed foresight.min_lsn");
			else if (arm_int(&d->arm, ARM_INCLUDE_LOCAL, d->arm.settings.include_local,
							 foresight_include_local))
			{
				set_local_candidate(&cands[n]);
				d->local_is_candidate = true;
				n++;
			}
		}
		/*
		 * The second pass only when the first found no candidate at all and
		 * the monitor's quarantines or slow starts are why (some node was
		 * left out by them).  One node in its slow start beside other
		 * candidates is just a node left out of this decision.
		 */
		if (pass == 0)
			admit_quarantined = n == 0 && quarantined_out > 0;
	}
	/* candidates found by the second pass only: they are what the reason says */
	d->all_quarantined = n > 0 && admit_quarantined;

	if (n == 0 || d->policy == ROUTING_POLICY_LOCAL)
	{
		/* none, or an experiment's arm routes nothing */
		set_local_candidate(&cands[0]);
		d->ncandidates = 1;
		d->local_is_candidate = d->policy == ROUTING_POLICY_LOCAL;
		snprintf(d->reason, sizeof(d->reason), "%s",
				 n == 0 ? "no node is a candidate" : "policy local");
		policy_note_arm(d);
		return;
	}

	if (policy_table[d->policy] != NULL)
		policy_table[d->policy] (d, cands, n, dry_run);
	if (d->run_local)
	{
		/* the policy sent the query to the coordinator (admission) */
		set_local_candidate(&cands[0]);
		d->ncandidates = 1;
		d->local_is_candidate = true;
		return;
	}

	/*
	 * A transaction block keeps the route its first routed read took: the
	 * node (one remote transaction) or the coordinator.  If that node is no
	 * longer a candidate, the block reads locally.
	 */
	if (IsTransactionBlock() && pin_lxid == MyProc->lxid && pin_slot >= 0)
	{
		RouteCandidate pinned;

		set_local_candidate(&pinned);
		for (int i = 0; i < n; i++)
			if (cands[i].slot == pin_slot && cands[i].node_id == pin_node_id)
				pinned = cands[i];
		pinned_found = true;
		cands[0] = pinned;
		n = 1;
		d->local_is_candidate = pinned.is_local;
	}

	/*
	 * Checked candidates go after the ones known to have replayed enough;
	 * when that moves the policy's choice, the reason says so below.
	 */
	if (d->required_lsn != InvalidXLogRecPtr && !pinned_found)
	{
		RouteCandidate tmp[ROUTE_MAX_CANDIDATES + 1];
		int			k = 0;

		for (int pass = 0; pass < 2; pass++)
			for (int i = 0; i < n; i++)
				if (cands[i].check_lsn == (pass == 1))
					tmp[k++] = cands[i];
		if (n > 0 && cands[0].check_lsn && !tmp[0].check_lsn)
			strlcpy(moved_after, cands[0].name, sizeof(moved_after));
		memcpy(cands, tmp, sizeof(RouteCandidate) * n);
	}

	if (!d->local_is_candidate)
		set_local_candidate(&cands[n++]);
	d->ncandidates = n;

	if (pinned_found)
		snprintf(d->reason, sizeof(d->reason), "pinned for the transaction block");
	else if (d->reason[0] != '\0')
		;						/* the policy said why */
	else if (cands[0].check_lsn)
		snprintf(d->reason, sizeof(d->reason), "policy %s; replay position to be checked for %s",
				 routing_policy_name(d->policy), replay_requirement(d));
	else
	{
		ReasonText	rt;

		/* "policy %s" without printf: every routed read writes it */
		reason_text_init(&rt, d->reason, sizeof(d->reason));
		reason_text_str(&rt, "policy ");
		reason_text_str(&rt, routing_policy_name(d->policy));
	}
	if (moved_after[0] != '\0')
	{
		size_t		len = strlen(d->reason);

		snprintf(d->reason + len, sizeof(d->reason) - len,
				 "; %s first: %s is not yet seen past %s",
				 cands[0].name, moved_after, replay_requirement(d));
	}
	if (d->all_quarantined)
	{
		size_t		len = strlen(d->reason);

		snprintf(d->reason + len, sizeof(d->reason) - len,
				 "; every node quarantined or slowly readmitted: routed among them");
	}
	policy_note_arm(d);
}
