/*-------------------------------------------------------------------------
 *
 * split_scan_pieces.c
 *	  How many pieces a split read's key range is cut into, and which piece
 *	  a free node takes next: the capacity library (src/capacity/) wired
 *	  into the split scan.  Dynamic sharding part 2
 *	  (docs/sharding.md#pieces-and-dynamic-assignment).
 *
 * Plan time: the range is cut into as many pieces as cap_choose gives for
 * the candidate nodes: the power of two that least adds the pieces'
 * overhead (foresight.split_piece_cost each, in plan cost units) to the
 * half piece the nodes may finish apart (capacity.c), about
 * nodes * sqrt(cost per node / (2 * split_piece_cost)); at least one
 * piece per node, at most SPLIT_MAX_PARTS_LIMIT.  Loads are not known at
 * plan time (a plan is cached): the nodes count as equal there, and a
 * plan that would give each node fewer than two pieces keeps one piece
 * per node (part 1).
 *
 * Run time: each node's share is its speed, its registry weight times
 * (1 - its predicted load) (cap_node_speed), the coordinator's too when
 * it is a candidate.  The pieces go to their first nodes by weighted
 * rendezvous hashing keyed by the relation and the piece's index, so the
 * same key ranges go to the same node from query to query while the loads
 * stay alike; a free node takes its own next piece, else steals the last
 * piece of the node with the most work left (cap_queue_next).  A piece
 * that failed before returning a row is pending again and the next free
 * node takes it first.  foresight.split_assignment = capacity or equal
 * gives each node one contiguous range instead (sized by its speed, or
 * equal) and no stealing: the ways dynamic assignment is measured against
 * (bench/split.sh).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"

#include "capacity/capacity.h"
#include "registry/registry.h"
#include "router/split_scan_internal.h"
#include "split/split.h"

#define SPLIT_GAIN_MARGIN		0.1 /* a split must beat whole by this fraction */

int
split_piece_count(int nnodes, double cost)
{
	cap_node	nodes[CAP_MAX_NODES];
	cap_costs	costs;
	cap_plan	plan;
	int			k = Min(nnodes, Min(foresight_max_split_parts, CAP_MAX_NODES));

	if (k < 2 || !(foresight_split_piece_cost > 0.0) || !(cost > 0.0))
		return k;
	for (int i = 0; i < k; i++)
	{
		nodes[i].pace = 1.0;
		nodes[i].predicted_load = 0.0;
	}
	memset(&costs, 0, sizeof(costs));
	costs.per_piece_s = foresight_split_piece_cost;
	costs.max_parts = k;
	costs.margin = -1.0;		/* the pieces only: whether to split is decided before */
	cap_choose(cost, nodes, k, &costs, &plan);
	if (plan.verdict != CAP_SPLIT || plan.pieces < 2 * plan.k)
		return k;
	return Min(plan.pieces, SPLIT_MAX_PARTS_LIMIT);
}

/* a node's speed for its share: its weight times its spare capacity */
static double
candidate_speed(const RouteCandidate *c)
{
	cap_node	n;

	n.pace = c->weight > 0.0 ? c->weight : 1.0;
	n.predicted_load = c->scored ? c->predicted_load : 0.0;
	return cap_node_speed(&n);
}

/*
 * The members' measured paces, when every member has run pieces in the
 * last 30 seconds (split_node_stats.c): their speeds become the inverse of
 * their paces, the fastest 1.  A pace is what a node did under the load
 * it had, so it replaces the predicted spare capacity rather than adding
 * to it; a member without a recent pace keeps all on the prediction.
 * Only under a policy that scores the nodes (predictive): the others
 * give every node the same share.
 */
static void
measured_speeds(SplitScanState *st, double *speed, int n)
{
	double		pace[CAP_MAX_NODES];
	double		fastest = 0.0;

	/* a policy that does not score the nodes does not weigh their loads */
	if (n == 0 || !st->nodes[0].cand.scored)
		return;
	for (int i = 0; i <= n; i++)
	{
		if (!(speed[i] > 0.0))
		{
			pace[i] = 0.0;
			continue;
		}
		pace[i] = split_node_pace(i == n ? FORESIGHT_LOCAL_NODE_NAME : st->nodes[i].cand.name);
		if (!(pace[i] > 0.0))
			return;
		if (fastest == 0.0 || pace[i] < fastest)
			fastest = pace[i];
	}
	if (fastest == 0.0)
		return;
	for (int i = 0; i <= n; i++)
		if (pace[i] > 0.0)
			speed[i] = fastest / pace[i];
	st->paced = true;
}

/* the name of member i of the queue: a node's, or the coordinator's */
static const char *
member_name(SplitScanState *st, int i)
{
	return i == st->queue_local ? FORESIGHT_LOCAL_NODE_NAME : st->nodes[i].cand.name;
}

/*
 * What the gain model chose, short: the decision log's reason has room for
 * 191 bytes.
 */
static char *
describe_gain(SplitScanState *st)
{
	cap_plan   *plan = &st->gain;

	if (plan->verdict == CAP_SPLIT)
		return psprintf("%d of %d nodes by %s: %.0f vs %.0f whole on %s",
						plan->k, st->gain_members,
						st->paced ? "measured pace" : "predicted capacity",
						plan->split_s, plan->whole_s, member_name(st, plan->nodes[0]));
	return psprintf("all on %s: split %.0f vs %.0f whole, not %.0f%% less",
					member_name(st, plan->nodes[0]), plan->split_s, plan->whole_s,
					SPLIT_GAIN_MARGIN * 100.0);
}

/*
 * The gain model at execution: over how many of the nodes to run the
 * pieces, in plan cost units.  Run whole, the read takes its cost over the
 * fastest node's speed; split over the k fastest, its cost over their
 * summed speeds, plus what splitting costs: a fixed part that puts the
 * break-even of a split over two idle nodes at foresight.split_min_cost
 * (measured: there the halved work plus that part is the whole less the
 * margin, so the part is (1/2 - margin) of it), and
 * foresight.split_piece_cost for each node used and each piece a node
 * runs.  The split must beat whole by SPLIT_GAIN_MARGIN.  The nodes left
 * out take no piece; when no split pays, the fastest runs every piece.
 * Reads merged in key order keep every node (one piece each: the merge
 * needs every part's first row at once).  Sets st->gain and returns the
 * chosen nodes' flags in chosen[] (indexed like speed[]).
 */
static void
choose_nodes(SplitScanState *st, const double *speed, int n, bool *chosen)
{
	cap_node	nodes[CAP_MAX_NODES];
	cap_costs	costs;
	cap_plan   *plan = &st->gain;

	st->gain_members = 0;
	for (int i = 0; i < n; i++)
	{
		nodes[i].pace = speed[i];
		nodes[i].predicted_load = 0.0;	/* the speed has it */
		chosen[i] = speed[i] > 0.0;
		st->gain_members += chosen[i];
	}
	memset(&costs, 0, sizeof(costs));
	costs.fixed_s = foresight_split_min_cost * (0.5 - SPLIT_GAIN_MARGIN);
	costs.per_part_s = foresight_split_piece_cost;
	costs.per_piece_s = foresight_split_piece_cost;
	costs.margin = SPLIT_GAIN_MARGIN;
	costs.max_parts = Min(n, foresight_max_split_parts);
	cap_choose(st->info.cost, nodes, n, &costs, plan);
	st->gain_decided = st->nparts > st->nnodes + (st->local_candidate ? 1 : 0) &&
		plan->k >= 1 && (plan->verdict == CAP_SPLIT || plan->verdict == CAP_NOT_WORTH);
	if (st->gain_text)
		pfree(st->gain_text);
	st->gain_text = NULL;
	if (!st->gain_decided)
		return;
	/* kept as long as the scan state (a rescan chooses again) */
	{
		MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(st));

		st->gain_text = describe_gain(st);
		MemoryContextSwitchTo(old);
	}
	for (int i = 0; i < n; i++)
		chosen[i] = false;
	for (int i = 0; i < plan->k; i++)
		chosen[plan->nodes[i]] = true;
}

void
split_pieces_init(SplitScanState *st)
{
	uint32		ids[CAP_MAX_NODES];
	double		speed[CAP_MAX_NODES];
	double		share[CAP_MAX_NODES];
	bool		chosen[CAP_MAX_NODES];
	double		sum = 0.0;
	int			n = Min(st->nnodes, CAP_MAX_NODES - 1);
	int			members = 0;
	uint64		key;

	for (int i = 0; i < n; i++)
	{
		ids[i] = (uint32) st->nodes[i].cand.node_id;
		speed[i] = candidate_speed(&st->nodes[i].cand);
	}
	/* the coordinator is the last member: it owns pieces when a candidate */
	ids[n] = 0;
	speed[n] = st->local_candidate ? candidate_speed(&st->local_cand) : 0.0;
	st->queue_local = n;
	measured_speeds(st, speed, n);
	choose_nodes(st, speed, n + 1, chosen);
	for (int i = 0; i <= n; i++)
	{
		if (!chosen[i])
			speed[i] = 0.0;
		sum += speed[i];
	}
	for (int i = 0; i < n; i++)
		if (!chosen[i] && st->nodes[i].status != SNODE_GONE)
		{
			st->nodes[i].status = SNODE_GONE;
			st->nodes[i].left_out = true;
			st->nodes[i].why_gone = "left out: the split is predicted faster without it";
		}
	if (!chosen[n])
		st->local_candidate = false;
	for (int i = 0; i <= n; i++)
		share[i] = sum > 0.0 ? speed[i] / sum : 0.0;
	key = hash_bytes_extended((const unsigned char *) st->info.relation,
							  strlen(st->info.relation), 0);
	for (int i = 0; i <= n; i++)
		members += speed[i] > 0.0;
	if (foresight_split_assignment == CAP_ASSIGN_DYNAMIC && st->nparts <= members)
	{
		/*
		 * No more pieces than nodes: one each, in order (hashing by shares
		 * could give one node two and another none); a free node still
		 * steals.
		 */
		cap_queue_init(&st->queue, CAP_ASSIGN_EQUAL, key, Min(st->nparts, CAP_MAX_PIECES),
					   ids, share, speed, n + 1);
		st->queue.steal = true;
		return;
	}
	cap_queue_init(&st->queue, (cap_assignment) foresight_split_assignment, key,
				   Min(st->nparts, CAP_MAX_PIECES), ids, share, speed, n + 1);
}

bool
split_take_back_left_out(SplitScanState *st)
{
	bool		any = false;

	for (int i = 0; i < st->nnodes; i++)
		if (st->nodes[i].left_out && st->nodes[i].status == SNODE_GONE)
		{
			st->nodes[i].status = SNODE_FREE;
			st->nodes[i].left_out = false;
			st->nodes[i].why_gone = NULL;
			any = true;
		}
	return any;
}

int
split_piece_owner(SplitScanState *st, int part)
{
	if (part >= st->queue.npieces)
		return -1;
	return st->queue.owner[part];
}

/*
 * Without stealing (foresight.split_assignment = capacity or equal), the
 * pieces of a node that takes no more (gone, or the coordinator no longer
 * a candidate) would wait forever: whoever is free takes them.
 */
static int
take_orphan(SplitScanState *st, bool *stolen)
{
	for (int p = 0; p < st->queue.npieces; p++)
	{
		int			owner = st->queue.owner[p];
		bool		orphan;

		if (st->queue.taken[p])
			continue;
		if (owner == st->queue_local)
			orphan = !st->local_candidate;
		else
			orphan = owner < 0 || st->nodes[owner].status == SNODE_GONE;
		if (orphan)
		{
			st->queue.taken[p] = true;
			st->queue.left--;
			*stolen = true;
			return p;
		}
	}
	return -1;
}

int
split_take_piece(SplitScanState *st, int node)
{
	bool		stolen;
	int			p;

	/* a piece that failed on its node is taken first */
	for (int i = 0; i < st->nparts; i++)
		if (st->parts[i].status == PART_PENDING &&
			(i >= st->queue.npieces || st->queue.taken[i]))
			return i;
	p = cap_queue_next(&st->queue, node < 0 ? st->queue_local : node, &stolen);
	if (p < 0 && st->queue.left > 0)
		p = take_orphan(st, &stolen);
	if (p >= 0)
		st->parts[p].stolen = stolen;
	return p;
}
