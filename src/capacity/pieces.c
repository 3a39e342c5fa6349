/*-------------------------------------------------------------------------
 *
 * pieces.c
 *	  Which node runs which piece of a split read (see capacity.h).
 *
 * First owners: weighted rendezvous hashing.  Each piece goes to the node
 * with the highest share / -ln(u), u a hash of (key, piece, node id) in
 * (0,1): a node gets pieces in proportion to its share, the choice depends
 * only on the pieces, the nodes and the shares (not on their order), so
 * the same key ranges land on the same node from query to query and each
 * standby's buffer cache holds its part of the table; when one node's
 * share changes, only pieces that move to or from it move.
 *
 * Then dynamic assignment: a node runs its own pieces in key order and,
 * when it has none left, takes the last piece of the node with the most
 * work left in that node's time (its untaken pieces over its speed), so a
 * node that is slower than predicted ends up running fewer pieces and
 * the split finishes about when the work is done, not when the slowest
 * node is.  ClickHouse's parallel replicas assign granules consistently
 * and let an idle replica steal the same way.
 *
 * The static ways (capacity-sized or equal contiguous ranges, no
 * stealing) are there to be compared with it (foresight.split_assignment).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "capacity/capacity.h"

/* splitmix64's finaliser: a well-mixed 64-bit hash of x */
static uint64_t
mix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* a uniform draw in (0,1) from (key, piece, node) */
static double
unit_hash(uint64_t key, int piece, uint32_t node_id)
{
	uint64_t	h = mix64(mix64(key ^ mix64((uint64_t) piece)) ^ (uint64_t) node_id);

	return ((double) (h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

void
cap_assign(uint64_t key, int npieces, const uint32_t *node_ids, const double *share,
		   int nnodes, int *owner)
{
	for (int p = 0; p < npieces; p++)
	{
		double		best = -1.0;

		owner[p] = -1;
		for (int i = 0; i < nnodes; i++)
		{
			double		score;

			if (!(share[i] > 0.0))
				continue;
			score = share[i] / -log(unit_hash(key, p, node_ids[i]));
			if (score > best)
			{
				best = score;
				owner[p] = i;
			}
		}
	}
}

/*
 * Contiguous runs of pieces in node order, node i's run as long as its
 * share of npieces (largest remainders round, so the runs add up); a node
 * with a share of 0 gets none.
 */
void
cap_assign_ranges(int npieces, const double *share, int nnodes, int *owner)
{
	double		sum = 0.0;
	double		cum = 0.0;
	int			p = 0;

	for (int i = 0; i < nnodes; i++)
		if (share[i] > 0.0)
			sum += share[i];
	for (int i = 0; i < nnodes && sum > 0.0; i++)
	{
		int			end;

		if (!(share[i] > 0.0))
			continue;
		cum += share[i];
		end = (int) floor(cum / sum * npieces + 0.5);
		if (end > npieces)
			end = npieces;
		for (; p < end; p++)
			owner[p] = i;
	}
	for (; p < npieces; p++)
		owner[p] = -1;
}

void
cap_queue_init(cap_queue *q, cap_assignment how, uint64_t key, int npieces,
			   const uint32_t *node_ids, const double *share, const double *speed,
			   int nnodes)
{
	double		equal[CAP_MAX_NODES];

	memset(q, 0, sizeof(cap_queue));
	if (npieces > CAP_MAX_PIECES)
		npieces = CAP_MAX_PIECES;
	if (nnodes > CAP_MAX_NODES)
		nnodes = CAP_MAX_NODES;
	q->npieces = npieces;
	q->nnodes = nnodes;
	q->left = npieces;
	for (int i = 0; i < nnodes; i++)
		q->speed[i] = speed[i] > 0.0 ? speed[i] : 1e-9;
	q->steal = how == CAP_ASSIGN_DYNAMIC;
	switch (how)
	{
		case CAP_ASSIGN_DYNAMIC:
			cap_assign(key, npieces, node_ids, share, nnodes, q->owner);
			break;
		case CAP_ASSIGN_CAPACITY:
			cap_assign_ranges(npieces, share, nnodes, q->owner);
			break;
		case CAP_ASSIGN_EQUAL:
			for (int i = 0; i < nnodes; i++)
				equal[i] = share[i] > 0.0 ? 1.0 : 0.0;
			cap_assign_ranges(npieces, equal, nnodes, q->owner);
			break;
	}
}

int
cap_queue_next(cap_queue *q, int node, bool *stolen)
{
	int			victim = -1;
	double		most = 0.0;

	*stolen = false;
	if (q->left == 0 || node < 0 || node >= q->nnodes)
		return -1;

	/* its own next piece, in key order */
	for (int p = 0; p < q->npieces; p++)
		if (!q->taken[p] && q->owner[p] == node)
		{
			q->taken[p] = true;
			q->left--;
			return p;
		}

	/* else the last piece of the node with the most work left, in its time */
	if (!q->steal)
		return -1;
	for (int i = 0; i < q->nnodes; i++)
	{
		int			own = 0;
		double		t;

		if (i == node)
			continue;
		for (int p = 0; p < q->npieces; p++)
			own += (!q->taken[p] && q->owner[p] == i);
		t = own / q->speed[i];
		if (own > 0 && t > most)
		{
			most = t;
			victim = i;
		}
	}
	/* pieces no node owns (a share of 0) go to whoever asks */
	for (int p = q->npieces - 1; p >= 0; p--)
		if (!q->taken[p] && (q->owner[p] == victim || q->owner[p] < 0))
		{
			q->taken[p] = true;
			q->left--;
			*stolen = true;
			return p;
		}
	return -1;
}
