/*-------------------------------------------------------------------------
 *
 * split_gucs.c
 *	  The settings of dynamic sharding: foresight.split,
 *	  foresight.split_min_cost, foresight.max_split_parts,
 *	  foresight.split_max_wait, foresight.split_piece_cost,
 *	  foresight.split_assignment, foresight.split_native_aggregates,
 *	  foresight.split_worker.
 *
 * foresight.split is off by default: the measured speed-ups are still
 * below the targets they are held to (docs/benchmarks.md).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "utils/guc.h"
#include "utils/plancache.h"

#include "capacity/capacity.h"
#include "split/split.h"

bool		foresight_split = false;
double		foresight_split_min_cost = 30000.0;
int			foresight_max_split_parts = 8;
int			foresight_split_max_wait = 200;
double		foresight_split_piece_cost = 200.0;
int			foresight_split_assignment = CAP_ASSIGN_DYNAMIC;
bool		foresight_split_native_aggregates = true;
bool		foresight_split_worker = true;
bool		foresight_split_block_ranges = false;

static const struct config_enum_entry split_assignment_options[] = {
	{"dynamic", CAP_ASSIGN_DYNAMIC, false},
	{"capacity", CAP_ASSIGN_CAPACITY, false},
	{"equal", CAP_ASSIGN_EQUAL, false},
	{NULL, 0, false}
};

/* plans made under the other setting split, or not, wrongly */
static void
split_assign(bool newval, void *extra)
{
	if (newval != foresight_split)
		ResetPlanCache();
}

/* cached split plans compute their aggregates the other way */
static void
split_native_aggregates_assign(bool newval, void *extra)
{
	if (newval != foresight_split_native_aggregates)
		ResetPlanCache();
}

void
split_define_gucs(void)
{
	DefineCustomBoolVariable("foresight.split",
							 "Whether eligible reads may be cut into parts run on several nodes.",
							 "Off by default: the measured speed-ups are below their targets (docs/benchmarks.md); foresight.split_explain() shows what would be done.",
							 &foresight_split,
							 false,
							 PGC_USERSET, 0,
							 NULL, split_assign, NULL);

	DefineCustomRealVariable("foresight.split_min_cost",
							 "Smallest plan cost of a read that is split into parts.",
							 "Cheaper reads run whole: sending parts to several nodes costs more than it saves (the default is the break-even measured by bench/split.sh).",
							 &foresight_split_min_cost,
							 30000.0, 0.0, DBL_MAX,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("foresight.max_split_parts",
							"Largest number of parts a read is split into.",
							NULL,
							&foresight_max_split_parts,
							8, 1, SPLIT_MAX_PARTS_LIMIT,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("foresight.split_max_wait",
							"Longest wait for a node to replay what was written here before a split read began.",
							"A node still behind then takes no part: the parts go to fewer nodes, or run here.",
							&foresight_split_max_wait,
							200, 0, 60000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomRealVariable("foresight.split_piece_cost",
							 "What sending, planning and answering one piece of a split read costs, in plan cost units.",
							 "The key range is cut into as many pieces as least add this cost per piece to the half piece by which the nodes may finish apart, so that a free node takes the next piece (docs/sharding.md); 0: one piece per node.",
							 &foresight_split_piece_cost,
							 200.0, 0.0, DBL_MAX,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("foresight.split_assignment",
							 "How a split read's pieces are given to its nodes.",
							 "dynamic: first by predicted capacity, consistently, then a free node takes the next piece or steals one; capacity: one contiguous range per node sized by predicted capacity; equal: equal ranges. The last two are for comparison.",
							 &foresight_split_assignment,
							 CAP_ASSIGN_DYNAMIC, split_assignment_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("foresight.split_native_aggregates",
							 "Whether the parts of a split run aggregates whose result is their state as they are.",
							 "Such aggregates (count, min, max, sum of integers...) are then combined by foresight.combine_results; off, every aggregate's state goes through foresight.partial_agg.",
							 &foresight_split_native_aggregates,
							 true,
							 PGC_USERSET, 0,
							 NULL, split_native_aggregates_assign, NULL);

	DefineCustomBoolVariable("foresight.split_worker",
							 "Whether the coordinator runs its pieces of a split read in a parallel worker.",
							 "Then the coordinator goes on reading the nodes' rows while its piece runs (a worker of max_parallel_workers, when one is free); off, or when the query is not parallel safe, it runs each of its pieces itself, the nodes' ended pieces waiting unread meanwhile.",
							 &foresight_split_worker,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("foresight.split_block_ranges",
							 "Whether a split read's parts are cut by block ranges of the table when every node's snapshot is at one WAL position.",
							 "A part is then read in block order (a TID range scan) instead of through the split key's index, and every part reads one snapshot; otherwise, or off, the parts are cut by key ranges.",
							 &foresight_split_block_ranges,
							 false,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
}
