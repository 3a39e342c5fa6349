/*-------------------------------------------------------------------------
 *
 * block_scan.c
 *	  "Foresight Block Scan": where a query reads a range of a heap table's
 *	  blocks by ctid (ctid >= '(b,0)' AND ctid < '(e,0)', the conditions of
 *	  a split read's block-range parts), a sequential scan limited to those
 *	  blocks instead of PostgreSQL's TID Range Scan.
 *
 * Why.  A TID Range Scan reads its pages through the shared buffers as an
 * index scan does: each page not there takes a buffer found by the clock
 * sweep, anywhere in shared_buffers.  A sequential scan of a table larger
 * than a quarter of shared_buffers reads through a small ring of buffers
 * instead (the bulk-read strategy): no search for a victim, and the pages
 * it works on stay in the processor's cache.  On a table 20 times
 * shared_buffers, a TID Range Scan of every block took 1.33 times the
 * sequential scan's time (docs/benchmarks.md), and a split read's
 * block-range parts are TID ranges, so every node paid that.  This scan is
 * heapam's own sequential scan (table_beginscan_strat: the ring when the
 * table is that large; no synchronised start) limited to the blocks
 * (heap_setscanlimits), as BRIN summarisation reads a range of blocks.
 *
 * When.  While foresight.block_scan is on (off by default: the split turns
 * it on with SET LOCAL in the transaction in which a node runs its
 * block-range parts, remote_begin_snapshot_send), the planner gets this
 * path for a base relation that is a heap table with ctid range
 * conditions against constants, costed as a sequential scan of the
 * range's pages: it wins where a TID Range Scan would have been chosen,
 * which costs its first page as a random read.  Not under SERIALIZABLE,
 * where a sequential scan predicate-locks the whole relation.
 *
 * The same rows.  The block range holds every tuple the conditions
 * accept.  A condition the range enforces exactly (ctid >= '(b,0)': from
 * block b; ctid < '(e,0)': before block e; no tuple has offset 0) is
 * dropped; every other condition (another offset, >, <=, other columns)
 * stays as a filter.  The scan returns the tuples of its blocks that the
 * snapshot sees, in block order, as the TID Range Scan does.  Forward
 * only: a scrollable cursor gets a Material node above it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/relscan.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "storage/itemptr.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/spccache.h"

#include "blockscan/block_scan.h"

#define BLOCK_SCAN_NAME "Foresight Block Scan"

/* the end of a range without an upper bound: past the last possible block */
#define END_OF_TABLE	((uint64) MaxBlockNumber + 1)

bool		foresight_block_scan = false;

static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;

/* the blocks a scan reads, [start, end) */
typedef struct BlockRange
{
	uint64		start;
	uint64		end;
} BlockRange;

typedef struct BlockScanState
{
	CustomScanState css;
	BlockRange	range;
} BlockScanState;

static Plan *plan_block_scan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
							 List *tlist, List *clauses, List *custom_plans);
static Node *create_block_scan_state(CustomScan *cscan);
static void begin_block_scan(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *exec_block_scan(CustomScanState *node);
static void end_block_scan(CustomScanState *node);
static void rescan_block_scan(CustomScanState *node);
static void explain_block_scan(CustomScanState *node, List *ancestors, ExplainState *es);

static const CustomPathMethods block_path_methods = {
	.CustomName = BLOCK_SCAN_NAME,
	.PlanCustomPath = plan_block_scan,
};

static const CustomScanMethods block_plan_methods = {
	.CustomName = BLOCK_SCAN_NAME,
	.CreateCustomScanState = create_block_scan_state,
};

static const CustomExecMethods block_exec_methods = {
	.CustomName = BLOCK_SCAN_NAME,
	.BeginCustomScan = begin_block_scan,
	.ExecCustomScan = exec_block_scan,
	.EndCustomScan = end_block_scan,
	.ReScanCustomScan = rescan_block_scan,
	.ExplainCustomScan = explain_block_scan,
};

/* --- the conditions --- */

static bool
is_ctid_of(Node *node, Index relid)
{
	Var		   *var = (Var *) node;

	return IsA(node, Var) && var->varno == relid && var->varlevelsup == 0 &&
		var->varattno == SelfItemPointerAttributeNumber;
}

/*
 * Narrow *range by clause when it is a ctid comparison of relation relid
 * with a constant; returns whether it is one, and sets *exact when the
 * narrowed range enforces it exactly (the filter can then drop it).
 */
static bool
narrow_by_clause(Expr *clause, Index relid, BlockRange *range, bool *exact)
{
	OpExpr	   *op = (OpExpr *) clause;
	Node	   *left;
	Node	   *right;
	Oid			opno;
	Const	   *bound;
	ItemPointer tid;
	BlockNumber block;
	OffsetNumber offset;

	*exact = false;
	if (!IsA(clause, OpExpr) || list_length(op->args) != 2)
		return false;
	opno = op->opno;
	left = linitial(op->args);
	right = lsecond(op->args);
	if (is_ctid_of(right, relid))
	{
		Node	   *swap = left;

		/* '(b,o)' < ctid reads ctid > '(b,o)' */
		left = right;
		right = swap;
		switch (opno)
		{
			case TIDLessOperator:
				opno = TIDGreaterOperator;
				break;
			case TIDLessEqOperator:
				opno = TIDGreaterEqOperator;
				break;
			case TIDGreaterOperator:
				opno = TIDLessOperator;
				break;
			case TIDGreaterEqOperator:
				opno = TIDLessEqOperator;
				break;
			default:
				return false;
		}
	}
	if (!is_ctid_of(left, relid) || !IsA(right, Const))
		return false;
	bound = (Const *) right;
	if (bound->consttype != TIDOID || bound->constisnull)
		return false;
	tid = (ItemPointer) DatumGetPointer(bound->constvalue);
	block = ItemPointerGetBlockNumberNoCheck(tid);
	offset = ItemPointerGetOffsetNumberNoCheck(tid);

	switch (opno)
	{
		case TIDGreaterEqOperator:
		case TIDGreaterOperator:
			/* block's tuples after the offset qualify, earlier blocks' none */
			range->start = Max(range->start, (uint64) block);
			*exact = opno == TIDGreaterEqOperator && offset == 0;
			return true;
		case TIDLessOperator:
			/* no tuple has offset 0: '(e,0)' ends before block e */
			range->end = Min(range->end, (uint64) block + (offset == 0 ? 0 : 1));
			*exact = offset == 0;
			return true;
		case TIDLessEqOperator:
			range->end = Min(range->end, (uint64) block + 1);
			return true;
		default:
			return false;
	}
}

/* a bound the block range enforces exactly: the filter can drop it */
static bool
is_exact_bound(Expr *clause, Index relid)
{
	BlockRange	scratch = {0, END_OF_TABLE};
	bool		exact;

	return narrow_by_clause(clause, relid, &scratch, &exact) && exact;
}

/* the block range of restriction clauses (RestrictInfos); false if none */
static bool
range_of_clauses(List *clauses, Index relid, BlockRange *range)
{
	ListCell   *lc;
	bool		found = false;

	range->start = 0;
	range->end = END_OF_TABLE;
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		bool		exact;

		if (!rinfo->pseudoconstant)
			found |= narrow_by_clause(rinfo->clause, relid, range, &exact);
	}
	return found;
}

/* --- the path --- */

static bool
is_heap_table(Oid relid)
{
	Relation	rel = table_open(relid, NoLock);
	bool		heap = rel->rd_tableam == GetHeapamTableAmRoutine();

	table_close(rel, NoLock);
	return heap;
}

/*
 * Cost as a sequential scan of the range's pages: the pages read in
 * order, every tuple on them checked against the conditions kept; and
 * disabled, as one, by enable_seqscan = off.
 */
static void
cost_block_scan(PlannerInfo *root, RelOptInfo *rel, const BlockRange *range, Path *path)
{
	double		spc_seq_page_cost;
	uint64		start;
	uint64		end;
	double		pages;
	double		tuples;
	QualCost	quals;
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (!is_exact_bound(rinfo->clause, rel->relid))
			kept = lappend(kept, rinfo);
	}
	cost_qual_eval(&quals, kept, root);
	get_tablespace_page_costs(rel->reltablespace, NULL, &spc_seq_page_cost);
	start = Min(range->start, (uint64) rel->pages);
	end = Min(range->end, (uint64) rel->pages);
	pages = end > start ? (double) (end - start) : 0.0;
	tuples = rel->pages > 0 ? rel->tuples * pages / rel->pages : 0.0;

	path->rows = rel->rows;
	path->startup_cost = quals.startup + path->pathtarget->cost.startup;
	if (!enable_seqscan)
		path->startup_cost += disable_cost; /* a sequential scan, as it is */
	path->total_cost = path->startup_cost + spc_seq_page_cost * pages +
		(cpu_tuple_cost + quals.per_tuple) * tuples +
		path->pathtarget->cost.per_tuple * path->rows;
}

static void
add_block_scan_path(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	CustomPath *path;
	BlockRange	range;

	if (!foresight_block_scan || rel->reloptkind != RELOPT_BASEREL ||
		rte->rtekind != RTE_RELATION || rte->inh || rte->tablesample != NULL ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW) ||
		IsolationIsSerializable())
		return;
	if (!range_of_clauses(rel->baserestrictinfo, rti, &range) || !is_heap_table(rte->relid))
		return;

	path = makeNode(CustomPath);
	path->path.pathtype = T_CustomScan;
	path->path.parent = rel;
	path->path.pathtarget = rel->reltarget;
	path->path.param_info = NULL;
	path->path.parallel_aware = false;
	path->path.parallel_safe = rel->consider_parallel;
	path->path.parallel_workers = 0;
	path->path.pathkeys = NIL;
	path->flags = 0;
	path->methods = &block_path_methods;
	cost_block_scan(root, rel, &range, &path->path);
	add_path(rel, &path->path);
}

static void
block_scan_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
							RangeTblEntry *rte)
{
	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);
	add_block_scan_path(root, rel, rti, rte);
}

/* --- the plan --- */

static Const *
block_const(uint64 block)
{
	return makeConst(INT8OID, -1, InvalidOid, sizeof(int64), Int64GetDatum((int64) block),
					 false, FLOAT8PASSBYVAL);
}

static Plan *
plan_block_scan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	BlockRange	range;
	List	   *kept = NIL;
	ListCell   *lc;

	(void) range_of_clauses(clauses, rel->relid, &range);
	foreach(lc, clauses)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->pseudoconstant)
			continue;			/* the plan's gating Result has them */
		if (is_exact_bound(rinfo->clause, rel->relid))
			continue;			/* the block range is this condition */
		kept = lappend(kept, rinfo->clause);
	}
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = kept;
	cscan->scan.scanrelid = rel->relid;
	cscan->flags = best_path->flags;
	cscan->custom_private = list_make2(block_const(range.start), block_const(range.end));
	cscan->methods = &block_plan_methods;
	return &cscan->scan.plan;
}

/* --- the executor --- */

static Node *
create_block_scan_state(CustomScan *cscan)
{
	BlockScanState *state = (BlockScanState *) newNode(sizeof(BlockScanState),
													   T_CustomScanState);
	Const	   *start = linitial_node(Const, cscan->custom_private);
	Const	   *end = lsecond_node(Const, cscan->custom_private);

	state->css.methods = &block_exec_methods;
	state->range.start = (uint64) DatumGetInt64(start->constvalue);
	state->range.end = (uint64) DatumGetInt64(end->constvalue);
	return (Node *) state;
}

/*
 * PostgreSQL 15 gives a custom scan a virtual scan slot: the table's own
 * kind instead (a heap tuple in its buffer, deformed only as far as the
 * filter and the projection need), and those built again for it.  The
 * scan itself begins at the first row asked for.
 */
static void
begin_block_scan(CustomScanState *node, EState *estate, int eflags)
{
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;

	ExecInitScanTupleSlot(estate, &node->ss, RelationGetDescr(rel),
						  table_slot_callbacks(rel));
	ExecAssignScanProjectionInfoWithVarno(&node->ss, cscan->scan.scanrelid);
	node->ss.ps.qual = ExecInitQual(cscan->scan.plan.qual, (PlanState *) node);
}

/* the next tuple of the blocks, the scan begun on the first call */
static TupleTableSlot *
next_tuple(ScanState *ss)
{
	BlockScanState *state = (BlockScanState *) ss;
	TableScanDesc scan = ss->ss_currentScanDesc;

	if (scan == NULL)
	{
		BlockNumber nblocks;
		uint64		end;

		/* ring buffer when large (heapam decides), no synchronised start */
		scan = table_beginscan_strat(ss->ss_currentRelation, ss->ps.state->es_snapshot,
									 0, NULL, true, false);
		nblocks = ((HeapScanDesc) scan)->rs_nblocks;
		end = Min(state->range.end, (uint64) nblocks);
		if (state->range.start >= end)
			heap_setscanlimits(scan, 0, 0);
		else
			heap_setscanlimits(scan, (BlockNumber) state->range.start,
							   (BlockNumber) (end - state->range.start));
		ss->ss_currentScanDesc = scan;
	}
	if (table_scan_getnextslot(scan, ForwardScanDirection, ss->ss_ScanTupleSlot))
		return ss->ss_ScanTupleSlot;
	return NULL;
}

/* the tuple is its own: nothing to check again (EvalPlanQual) */
static bool
recheck_tuple(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
exec_block_scan(CustomScanState *node)
{
	return ExecScan(&node->ss, next_tuple, recheck_tuple);
}

static void
end_block_scan(CustomScanState *node)
{
	if (node->ss.ss_currentScanDesc != NULL)
		table_endscan(node->ss.ss_currentScanDesc);
	node->ss.ss_currentScanDesc = NULL;
}

/* a rescan begins again: heap_rescan would forget the limits */
static void
rescan_block_scan(CustomScanState *node)
{
	end_block_scan(node);
	ExecScanReScan(&node->ss);
}

static void
explain_block_scan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	BlockScanState *state = (BlockScanState *) node;

	if (state->range.end == END_OF_TABLE)
		ExplainPropertyText("Blocks",
							psprintf(UINT64_FORMAT " to the end", state->range.start), es);
	else if (state->range.end <= state->range.start)
		ExplainPropertyText("Blocks", "none", es);
	else
		ExplainPropertyText("Blocks", psprintf(UINT64_FORMAT " to " UINT64_FORMAT,
											   state->range.start, state->range.end - 1), es);
}

/* --- set-up --- */

void
block_scan_define_gucs(void)
{
	DefineCustomBoolVariable("foresight.block_scan",
							 "Whether a range of a heap table's blocks named by ctid conditions may be read by a sequential scan limited to those blocks.",
							 "Read through a ring of buffers like any large sequential scan, where a TID Range Scan takes buffers all over shared_buffers. A split read turns it on in the transaction of its block-range parts on each node.",
							 &foresight_block_scan,
							 false,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

void
block_scan_install_hooks(void)
{
	RegisterCustomScanMethods(&block_plan_methods);
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = block_scan_set_rel_pathlist;
}
