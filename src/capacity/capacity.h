/*-------------------------------------------------------------------------
 *
 * capacity.h
 *	  How a split read is sized by the nodes' spare capacity, as plain C
 *	  without server headers (unit-tested outside the server): whether to
 *	  split and over how many nodes (the gain model), each node's share,
 *	  how many pieces the key range is cut into, which node a piece goes to
 *	  first (consistently, for cache locality), and which piece a node
 *	  takes next when it is done (dynamic assignment, with stealing).
 *	  Dynamic sharding part 2 (docs/sharding.md#sized-by-capacity).
 *
 * Units.  A read's work is in seconds at the reference pace: the time it
 * would take on an idle node of pace 1.  A node's speed is its pace (how
 * fast it runs the read's class, relative to the reference: its measured
 * answer times) times its spare capacity (1 - its predicted load), so a
 * node twice as fast or half as busy takes twice the share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CAPACITY_H
#define FORESIGHT_CAPACITY_H

#include <stdbool.h>
#include <stdint.h>

#define CAP_MAX_NODES		32
#define CAP_MAX_PIECES		256
#define CAP_MIN_SPARE		0.05	/* a node busier than 95% counts as this much spare */

/* What a split costs beyond the work itself, in seconds (measured). */
typedef struct cap_costs
{
	double		fixed_s;		/* fan-out set-up and the combine step */
	double		per_part_s;		/* each node used (its connection's round trips) */
	double		per_piece_s;	/* each piece (a query sent, planned, answered) */
	double		margin;			/* the split must beat running whole by this fraction */
	int			max_parts;		/* nodes at most (foresight.max_split_parts) */
} cap_costs;

typedef struct cap_node
{
	double		pace;			/* relative to the reference; <= 0: unusable */
	double		predicted_load; /* in [0,1] */
} cap_node;

typedef enum cap_verdict
{
	CAP_SPLIT,					/* split k ways */
	CAP_TOO_FEW_NODES,			/* fewer than two usable nodes */
	CAP_NOT_WORTH,				/* the best split does not beat whole by the margin */
	CAP_NO_ESTIMATE				/* no work estimate */
} cap_verdict;

typedef struct cap_plan
{
	cap_verdict verdict;
	int			k;				/* nodes used (1: whole) */
	int			nodes[CAP_MAX_NODES];	/* the k nodes, fastest first */
	double		share[CAP_MAX_NODES];	/* fraction of the work, indexed like nodes[] */
	double		whole_s;		/* predicted time run whole on the fastest node */
	double		split_s;		/* predicted time of the chosen split (k >= 2) */
	int			pieces;			/* pieces the range is cut into: a power of two >= k */
} cap_plan;

extern double cap_node_speed(const cap_node *node);
extern void cap_choose(double work_s, const cap_node *nodes, int n,
					   const cap_costs *costs, cap_plan *plan);
extern const char *cap_verdict_name(cap_verdict verdict);

/*
 * Pieces and who runs them.  cap_assign gives each piece its first node by
 * weighted rendezvous hashing on (key, piece, node id; the key names the
 * relation, the node ids are the registry's): the same pieces go to the
 * same nodes from query to query while the shares stay alike, and a change
 * of shares moves only the pieces it must.  cap_queue hands pieces out:
 * a node takes its own next piece, in key order; when it has none left it
 * takes the last piece of the node with the most work left, measured in
 * that node's time.  For comparison (bench/split.sh), the static ways
 * of part 1 and of sizing alone: cap_assign_ranges gives each node one
 * contiguous run of pieces, in proportion to its share (or equal), and
 * nobody steals.
 */
typedef enum cap_assignment
{
	CAP_ASSIGN_DYNAMIC,			/* rendezvous owners by share, stealing */
	CAP_ASSIGN_CAPACITY,		/* contiguous ranges by share, no stealing */
	CAP_ASSIGN_EQUAL			/* contiguous equal ranges, no stealing */
} cap_assignment;

typedef struct cap_queue
{
	int			npieces;
	int			nnodes;
	int			owner[CAP_MAX_PIECES];	/* first node of each piece */
	bool		taken[CAP_MAX_PIECES];
	double		speed[CAP_MAX_NODES];
	int			left;			/* pieces not taken yet */
	bool		steal;			/* a node with none of its own left steals */
} cap_queue;

extern void cap_assign(uint64_t key, int npieces, const uint32_t *node_ids,
					   const double *share, int nnodes, int *owner);
extern void cap_assign_ranges(int npieces, const double *share, int nnodes,
							  int *owner);
extern void cap_queue_init(cap_queue *q, cap_assignment how, uint64_t key,
						   int npieces, const uint32_t *node_ids,
						   const double *share, const double *speed, int nnodes);
extern int	cap_queue_next(cap_queue *q, int node, bool *stolen);

#endif							/* FORESIGHT_CAPACITY_H */
