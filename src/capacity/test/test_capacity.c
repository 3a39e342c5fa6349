/*-------------------------------------------------------------------------
 *
 * test_capacity.c
 *	  Unit tests of the split sizing library (src/capacity): node speeds,
 *	  the gain model, piece counts, consistent first owners and dynamic
 *	  assignment with stealing.  Plain C, no server.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "capacity/capacity.h"
#include "core/test/tap.h"

static const cap_costs costs = {
	.fixed_s = 0.005,
	.per_part_s = 0.002,
	.per_piece_s = 0.001,
	.margin = 0.1,
	.max_parts = 8,
};

static bool
near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static void
test_speed(void)
{
	cap_node	n = {1.0, 0.5};

	ok(near(cap_node_speed(&n), 0.5, 1e-12), "speed: pace 1 at load 0.5 is 0.5");
	n.predicted_load = 1.0;
	ok(near(cap_node_speed(&n), CAP_MIN_SPARE, 1e-12), "speed: a full node keeps the minimum spare");
	n.predicted_load = NAN;
	ok(near(cap_node_speed(&n), CAP_MIN_SPARE, 1e-12), "speed: an unknown load counts as busy");
	n.pace = 0.0;
	n.predicted_load = 0.0;
	ok(cap_node_speed(&n) == 0.0, "speed: pace 0 is unusable");
	n.pace = 2.0;
	ok(near(cap_node_speed(&n), 2.0, 1e-12), "speed: a node twice as fast, idle, is 2");
}

/* a node's pieces' overhead plus half a piece, the model of capacity.c */
static double
pieces_cost(int k, int pieces, double node_s)
{
	return costs.per_piece_s * pieces / k + node_s * k / (2.0 * pieces);
}

static void
test_choose(void)
{
	cap_node	idle3[3] = {{1, 0}, {1, 0}, {1, 0}};
	cap_node	uneven[2] = {{1, 0.5}, {1, 0}};
	cap_node	one_busy[3] = {{1, 0}, {1, 0}, {1, 0.99}};
	cap_node	single[2] = {{1, 0}, {0, 0}};
	cap_plan	plan;
	cap_costs	two = costs;
	cap_costs	per_part = costs;
	int			pieces;

	cap_choose(0.001, idle3, 3, &costs, &plan);
	ok(plan.verdict == CAP_NOT_WORTH && plan.k == 1,
	   "a 1 ms read is not split (overhead %.1f ms > gain)", plan.split_s * 1000);

	cap_choose(10.0, idle3, 3, &costs, &plan);
	ok(plan.verdict == CAP_SPLIT && plan.k == 3, "a 10 s read on three idle nodes is split 3 ways");
	ok(near(plan.share[0], 1.0 / 3, 1e-12) && near(plan.share[2], 1.0 / 3, 1e-12), "equal nodes, equal shares");
	ok(near(plan.whole_s, 10.0, 1e-12), "whole: 10 s");
	ok(near(plan.split_s, 10.0 / 3 + costs.fixed_s + 3 * costs.per_part_s +
			costs.per_piece_s * plan.pieces / 3, 1e-12),
	   "split: a third plus the fixed, per-node and per-piece overheads (%.4f s)", plan.split_s);
	ok(plan.pieces >= 3 && (plan.pieces & (plan.pieces - 1)) == 0 && plan.pieces <= CAP_MAX_PIECES,
	   "pieces a power of two, at least one per node, at most the bound (%d)", plan.pieces);
	ok(pieces_cost(3, plan.pieces, 10.0 / 3) < pieces_cost(3, plan.pieces / 2, 10.0 / 3) &&
	   pieces_cost(3, plan.pieces, 10.0 / 3) <= pieces_cost(3, plan.pieces * 2, 10.0 / 3),
	   "pieces: overhead plus half a piece's wait is least (%d; half or twice as many cost more)",
	   plan.pieces);
	pieces = plan.pieces;
	cap_choose(2.5, idle3, 3, &costs, &plan);
	ok(plan.pieces * 2 == pieces,
	   "pieces grow with the square root of the work: a quarter of the work, half the pieces (%d, %d)",
	   plan.pieces, pieces);
	per_part.fixed_s = 0.0;		/* only the pieces' overhead, as at planning */
	per_part.per_part_s = 0.0;
	per_part.margin = -1.0;
	cap_choose(0.006, idle3, 3, &per_part, &plan);
	ok(plan.verdict == CAP_SPLIT && plan.pieces == 4,
	   "a short read: one piece per node, rounded up to a power of two (%d)", plan.pieces);
	per_part = costs;

	two.max_parts = 2;
	cap_choose(10.0, idle3, 3, &two, &plan);
	ok(plan.verdict == CAP_SPLIT && plan.k == 2, "max_parts 2: split 2 ways");

	cap_choose(10.0, uneven, 2, &costs, &plan);
	ok(plan.verdict == CAP_SPLIT && plan.nodes[0] == 1 && near(plan.share[0], 2.0 / 3, 1e-12) &&
	   near(plan.share[1], 1.0 / 3, 1e-12), "half-busy node: a third, the idle one two thirds");

	per_part.per_part_s = 0.05;
	cap_choose(1.0, one_busy, 3, &per_part, &plan);
	ok(plan.verdict == CAP_SPLIT && plan.k == 2,
	   "a nearly full node is left out when its share does not pay for its part (k = %d)", plan.k);

	cap_choose(10.0, single, 2, &costs, &plan);
	ok(plan.verdict == CAP_TOO_FEW_NODES && plan.k == 1 && plan.nodes[0] == 0,
	   "one usable node: not split, runs whole there");
	cap_choose(0.0, idle3, 3, &costs, &plan);
	ok(plan.verdict == CAP_NO_ESTIMATE, "no work estimate: not split");
	cap_choose(NAN, idle3, 3, &costs, &plan);
	ok(plan.verdict == CAP_NO_ESTIMATE, "NaN work: not split");
}

static void
test_assign(void)
{
	uint32_t	ids[3] = {11, 22, 33};
	uint32_t	ids_rev[3] = {33, 22, 11};
	double		share[3] = {0.5, 0.25, 0.25};
	double		share_rev[3] = {0.25, 0.25, 0.5};
	double		share_more[3] = {0.5, 0.25, 0.3};
	int			owner[CAP_MAX_PIECES],
				owner2[CAP_MAX_PIECES];
	int			count[3] = {0};
	int			total = 0;
	bool		same = true,
				order_free = true,
				moved_ok = true;
	int			moved = 0;

	for (uint64_t key = 1; key <= 200; key++)
	{
		cap_assign(key, 64, ids, share, 3, owner);
		cap_assign(key, 64, ids, share, 3, owner2);
		same &= memcmp(owner, owner2, sizeof(int) * 64) == 0;
		for (int p = 0; p < 64; p++)
			count[owner[p]]++, total++;
		cap_assign(key, 64, ids_rev, share_rev, 3, owner2);
		for (int p = 0; p < 64; p++)
			order_free &= ids[owner[p]] == ids_rev[owner2[p]];
		cap_assign(key, 64, ids, share_more, 3, owner2);
		for (int p = 0; p < 64; p++)
			if (owner[p] != owner2[p])
			{
				moved++;
				/* only towards the node whose share grew */
				moved_ok &= owner2[p] == 2;
			}
	}
	ok(same, "assign: the same pieces go to the same nodes every time");
	ok(order_free, "assign: the order of the nodes does not matter, only their ids and shares");
	ok(near((double) count[0] / total, 0.5, 0.03) && near((double) count[1] / total, 0.25, 0.03),
	   "assign: pieces in proportion to the shares (%.3f %.3f %.3f)",
	   (double) count[0] / total, (double) count[1] / total, (double) count[2] / total);
	ok(moved_ok && moved > 0 && moved < total / 8,
	   "assign: a larger share moves only pieces to that node (%d of %d moved)", moved, total);
}

/*
 * Simulate a split: node i runs a piece in 1 / actual[i] seconds; each asks
 * for its next piece when done.  Returns the finishing time; counts pieces
 * per node, the way "how" assigns them.
 */
static double
simulate(uint64_t key, int npieces, const double *predicted, const double *actual,
		 int n, cap_assignment how, int *ran, bool *each_once)
{
	uint32_t	ids[CAP_MAX_NODES];
	double		share[CAP_MAX_NODES];
	double		sum = 0.0;
	double		busy_until[CAP_MAX_NODES] = {0};
	bool		done[CAP_MAX_NODES] = {false};
	int			seen[CAP_MAX_PIECES] = {0};
	double		finish = 0.0;
	cap_queue	q;

	for (int i = 0; i < n; i++)
		sum += predicted[i];
	for (int i = 0; i < n; i++)
	{
		ids[i] = 100 + i;
		share[i] = predicted[i] / sum;
		ran[i] = 0;
	}
	cap_queue_init(&q, how, key, npieces, ids, share, predicted, n);
	for (;;)
	{
		int			next = -1;
		int			piece;
		bool		stolen;

		/* the node that is free first asks */
		for (int i = 0; i < n; i++)
			if (!done[i] && (next < 0 || busy_until[i] < busy_until[next]))
				next = i;
		if (next < 0)
			break;
		piece = cap_queue_next(&q, next, &stolen);
		if (piece < 0)
		{
			done[next] = true;
			continue;
		}
		seen[piece]++;
		ran[next]++;
		busy_until[next] += 1.0 / actual[next];
		if (busy_until[next] > finish)
			finish = busy_until[next];
	}
	*each_once = true;
	for (int p = 0; p < npieces; p++)
		*each_once &= seen[p] == 1;
	return finish;
}

static void
test_dynamic(void)
{
	double		predicted[3] = {1, 1, 1};
	double		actual[3] = {1, 1, 0.25};	/* node 2 is 4x slower than predicted */
	int			ran_static[3],
				ran_dynamic[3];
	bool		once_static,
				once_dynamic;
	double		t_static = simulate(7, 64, predicted, actual, 3, CAP_ASSIGN_CAPACITY, ran_static, &once_static);
	double		t_dynamic = simulate(7, 64, predicted, actual, 3, CAP_ASSIGN_DYNAMIC, ran_dynamic, &once_dynamic);
	double		even_s;
	bool		stolen;
	cap_queue	q;
	uint32_t	ids[2] = {1, 2};
	double		share[2] = {0.5, 0.5};
	double		speed[2] = {1, 1};
	int			first;

	ok(once_static && once_dynamic, "every piece runs exactly once");
	ok(t_dynamic <= 0.8 * t_static,
	   "a node slower than predicted: dynamic assignment finishes in %.1f against %.1f (<= 0.8x)",
	   t_dynamic, t_static);
	ok(ran_dynamic[2] < ran_static[2],
	   "and the slow node runs fewer pieces (%d, it owned %d)", ran_dynamic[2], ran_static[2]);
	/* with the prediction right, the split ends near the ideal */
	even_s = simulate(7, 64, actual, actual, 3, CAP_ASSIGN_DYNAMIC, ran_dynamic, &once_dynamic);
	ok(even_s <= 64.0 / 2.25 + 4.0 + 1e-9,
	   "prediction right: finishes within one piece of the ideal (%.1f, ideal %.1f)", even_s, 64.0 / 2.25);

	cap_queue_init(&q, CAP_ASSIGN_DYNAMIC, 3, 8, ids, share, speed, 2);
	first = cap_queue_next(&q, 0, &stolen);
	ok(first >= 0 && !stolen && q.owner[first] == 0, "a node first takes a piece of its own");
	ok(cap_queue_next(&q, 5, &stolen) == -1, "an unknown node gets nothing");
	while (cap_queue_next(&q, 0, &stolen) >= 0)
		;
	ok(q.left == 0 && cap_queue_next(&q, 1, &stolen) == -1, "node 0 alone drained the queue, stealing");
}

/* the static ways: contiguous runs, sized by share or equal, no stealing */
static void
test_ranges(void)
{
	double		share[3] = {0.5, 0.0, 0.25};
	double		slow[3] = {1, 1, 0.25};
	double		sized[3] = {1, 1, 0.25};
	int			owner[16];
	int			ran_equal[3],
				ran_sized[3];
	bool		once_equal,
				once_sized;
	double		t_equal,
				t_sized;
	bool		contiguous = true;

	cap_assign_ranges(12, share, 3, owner);
	for (int p = 1; p < 12; p++)
		contiguous &= owner[p] >= owner[p - 1];
	ok(contiguous && owner[0] == 0 && owner[7] == 0 && owner[8] == 2 && owner[11] == 2,
	   "ranges: contiguous runs by share, none for a share of 0 (8 and 4 of 12)");
	/* a node 4x slower, known (sized) or not (equal) */
	t_equal = simulate(5, 12, (double[]) {1, 1, 1}, slow, 3, CAP_ASSIGN_EQUAL, ran_equal, &once_equal);
	t_sized = simulate(5, 12, sized, slow, 3, CAP_ASSIGN_CAPACITY, ran_sized, &once_sized);
	ok(once_equal && once_sized && ran_equal[2] == 4 && ran_sized[2] < ran_equal[2],
	   "equal ranges give the slow node 4 of 12 pieces, sized ranges %d", ran_sized[2]);
	ok(t_sized < t_equal, "sized ranges finish first (%.1f against %.1f)", t_sized, t_equal);
}

int
main(void)
{
	test_speed();
	test_choose();
	test_assign();
	test_dynamic();
	test_ranges();
	return tap_done();
}
