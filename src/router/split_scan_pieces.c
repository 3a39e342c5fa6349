/*-------------------------------------------------------------------------
 *
 * split_scan_pieces.c
 *	  How many pieces a split read's key range is cut into, and which piece
 *	  a free node takes next: the capacity library (src/capacity/) wired
 *	  into the split scan.  Dynamic sharding part 2
 *	  (docs/sharding.md#pieces-and-dynamic-assignment).
 *
 * Plan time: the range is cut into as many pieces as cap_choose gives for
 * the candidate nodes, so that a piece's overhead
 * (foresight.split_piece_cost, in plan cost units) is at most a tenth of
 * the piece's cost; at least one piece per node, at most
 * SPLIT_MAX_PARTS_LIMIT.  Loads are not known at plan time (a plan is
 * cached): the nodes count as equal there, and a plan that would give
 * each node fewer than two pieces keeps one piece per node (part 1).
 *
 * Run time: each node's share is its speed, its registry weight times
 * (1 - its predicted load) (cap_node_speed), the coordinator's too when
 * it is a candidate.  The pieces go to their first nodes by weighted
 * rendezvous hashing keyed by the relation and the piece's index, so the
 * same key ranges go to the same node from query to query while the loads
 * stay alike; a free node takes its own next piece, else steals the last
 * piece of the node with the most work left (cap_queue_next).  A piece
 * that failed before returning a row is pending again and the next free
 * node takes it first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"

#include "capacity/capacity.h"
#include "router/split_scan_internal.h"
#include "split/split.h"

#define PIECE_OVERHEAD_SHARE	0.1 /* a piece's overhead at most this of its cost */

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
	costs.piece_overhead_share = PIECE_OVERHEAD_SHARE;
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

void
split_pieces_init(SplitScanState *st)
{
	uint32		ids[CAP_MAX_NODES];
	double		speed[CAP_MAX_NODES];
	double		share[CAP_MAX_NODES];
	double		sum = 0.0;
	int			n = Min(st->nnodes, CAP_MAX_NODES - 1);
	uint64		key;

	for (int i = 0; i < n; i++)
	{
		ids[i] = (uint32) st->nodes[i].cand.node_id;
		speed[i] = candidate_speed(&st->nodes[i].cand);
	}
	/* the coordinator is the last member: it owns pieces when a candidate */
	ids[n] = 0;
	speed[n] = st->local_candidate ? candidate_speed(&st->local_cand) : 0.0;
	for (int i = 0; i <= n; i++)
		sum += speed[i];
	for (int i = 0; i <= n; i++)
		share[i] = sum > 0.0 ? speed[i] / sum : 0.0;
	st->queue_local = n;
	key = hash_bytes_extended((const unsigned char *) st->info.relation,
							  strlen(st->info.relation), 0);
	cap_queue_init(&st->queue, key, Min(st->nparts, CAP_MAX_PIECES), ids, share, speed,
				   n + 1);
}

int
split_piece_owner(SplitScanState *st, int part)
{
	if (part >= st->queue.npieces)
		return -1;
	return st->queue.owner[part];
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
	if (p >= 0)
		st->parts[p].stolen = stolen;
	return p;
}
