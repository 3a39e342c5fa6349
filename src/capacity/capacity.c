/*-------------------------------------------------------------------------
 *
 * capacity.c
 *	  Whether to split a read, over how many nodes, with which shares and
 *	  how many pieces (see capacity.h).
 *
 * The model.  Run whole, the read takes work / speed on the fastest node.
 * Split over the k fastest nodes with shares in proportion to their
 * speeds, every node finishes its share at the same time, work / (sum of
 * their speeds), plus what splitting costs: a fixed part (fan-out set-up,
 * the combine step), a part per node used, and a part per piece each node
 * runs.  The k with the least predicted time wins; the read is split only
 * when that beats running whole by the margin.
 *
 * How many pieces.  Dynamic assignment (pieces.c) corrects a wrong
 * prediction piece by piece, so the nodes finish up to a piece's time
 * apart: on average half a piece later than if each had finished its share
 * exactly.  More pieces shorten that wait and add their overhead; with P
 * pieces over k nodes that each run node_s of work and per_piece_s a
 * piece, a node spends per_piece_s * P / k on pieces and the split waits
 * about node_s * k / (2 P) at its end, the least of the two together at
 * P = k * sqrt(node_s / (2 per_piece_s)): the pieces grow with the square
 * root of the work, not in proportion to it.  (The predicted time that
 * decides whether to split counts the pieces' overhead, not that wait:
 * with exact predictions the nodes finish together.)
 *
 * The number of pieces is a power of two: equal-frequency ranges of 2P
 * pieces refine those of P, so the same keys fall in the same pieces,
 * and on the same nodes (pieces.c), when the count changes by a factor of
 * two.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "capacity/capacity.h"

double
cap_node_speed(const cap_node *node)
{
	double		spare;

	if (!(node->pace > 0.0) || !isfinite(node->pace))
		return 0.0;
	spare = 1.0 - node->predicted_load;
	if (!(spare >= CAP_MIN_SPARE))
		spare = CAP_MIN_SPARE;	/* NaN too: a node we know nothing of is busy */
	if (spare > 1.0)
		spare = 1.0;
	return node->pace * spare;
}

const char *
cap_verdict_name(cap_verdict verdict)
{
	switch (verdict)
	{
		case CAP_SPLIT:
			return "split";
		case CAP_TOO_FEW_NODES:
			return "fewer than two nodes with capacity";
		case CAP_NOT_WORTH:
			return "splitting would not beat running whole by the margin";
		case CAP_NO_ESTIMATE:
			return "no estimate of the read's work";
	}
	return "?";
}

static int
pow2_at_least(int n)
{
	int			p = 1;

	while (p < n && p < CAP_MAX_PIECES)
		p <<= 1;
	return p;
}

/* a node's pieces' overhead plus the split's expected wait at its end */
static double
pieces_time(int k, int pieces, double node_s, const cap_costs *costs)
{
	return costs->per_piece_s * pieces / k + node_s * k / (2.0 * pieces);
}

/*
 * Pieces for k nodes that each run node_s seconds of work: the power of
 * two, at least one piece per node and at most CAP_MAX_PIECES, with the
 * least overhead plus end wait (above): the most when a piece costs
 * nothing, one per node when there is no work to wait for.
 */
static int
pieces_for(int k, double node_s, const cap_costs *costs)
{
	int			best = pow2_at_least(k);

	if (!(costs->per_piece_s > 0.0))
		return CAP_MAX_PIECES;
	if (!(node_s > 0.0))
		return best;
	for (int p = best * 2; p <= CAP_MAX_PIECES; p *= 2)
	{
		if (pieces_time(k, p, node_s, costs) >= pieces_time(k, best, node_s, costs))
			break;				/* convex in p: past the least */
		best = p;
	}
	return best;
}

void
cap_choose(double work_s, const cap_node *nodes, int n, const cap_costs *costs,
		   cap_plan *plan)
{
	int			order[CAP_MAX_NODES];
	double		speed[CAP_MAX_NODES];
	int			m = 0;
	int			best_k = 0;
	double		best_s = INFINITY;
	int			best_pieces = 0;
	double		sum = 0.0;
	int			limit;

	memset(plan, 0, sizeof(cap_plan));
	plan->k = 1;
	plan->split_s = NAN;
	if (n > CAP_MAX_NODES)
		n = CAP_MAX_NODES;

	/* the usable nodes, fastest first */
	for (int i = 0; i < n; i++)
	{
		double		s = cap_node_speed(&nodes[i]);
		int			at;

		if (s <= 0.0)
			continue;
		for (at = m; at > 0 && speed[at - 1] < s; at--)
		{
			speed[at] = speed[at - 1];
			order[at] = order[at - 1];
		}
		speed[at] = s;
		order[at] = i;
		m++;
	}
	if (m == 0)
	{
		plan->k = 0;
		plan->verdict = CAP_TOO_FEW_NODES;
		return;
	}
	plan->nodes[0] = order[0];
	plan->share[0] = 1.0;
	if (!(work_s > 0.0) || !isfinite(work_s))
	{
		plan->verdict = CAP_NO_ESTIMATE;
		return;
	}
	plan->whole_s = work_s / speed[0];
	if (m < 2 || costs->max_parts < 2)
	{
		plan->verdict = CAP_TOO_FEW_NODES;
		return;
	}

	limit = m < costs->max_parts ? m : costs->max_parts;
	for (int k = 1; k <= limit; k++)
	{
		double		node_s;
		int			pieces;
		double		t;

		sum += speed[k - 1];
		if (k < 2)
			continue;
		node_s = work_s / sum;
		pieces = pieces_for(k, node_s, costs);
		t = node_s + costs->fixed_s + costs->per_part_s * k +
			costs->per_piece_s * ((double) pieces / k);
		if (t < best_s)
		{
			best_s = t;
			best_k = k;
			best_pieces = pieces;
		}
	}
	plan->split_s = best_s;
	if (!(best_s < plan->whole_s * (1.0 - costs->margin)))
	{
		plan->verdict = CAP_NOT_WORTH;
		return;
	}

	plan->verdict = CAP_SPLIT;
	plan->k = best_k;
	plan->pieces = best_pieces;
	sum = 0.0;
	for (int i = 0; i < best_k; i++)
		sum += speed[i];
	for (int i = 0; i < best_k; i++)
	{
		plan->nodes[i] = order[i];
		plan->share[i] = speed[i] / sum;
	}
}
