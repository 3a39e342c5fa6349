/*-------------------------------------------------------------------------
 *
 * split_blocks.c
 *	  Parts cut by block ranges of the split table (see split_blocks.h):
 *	  whether a table and key allow them, where the ranges are cut (equal
 *	  shares of what a sequential scan of the table costs), each part's
 *	  condition on ctid, and foresight.snapshot_position(), which a standby
 *	  answers so that the coordinator can tell where a part's snapshot
 *	  stands.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/spccache.h"
#include "utils/syscache.h"

#include "split/split_blocks.h"
#include "split/split_build.h"

PG_FUNCTION_INFO_V1(foresight_snapshot_position);

const char *
split_blocks_refusal(Oid relid, bool inh, const SplitKey *key)
{
	HeapTuple	tup;
	Form_pg_class rel;
	const char *why = NULL;

	if (!key->unique)
		return "the split key is not unique by itself";
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	rel = (Form_pg_class) GETSTRUCT(tup);
	if (rel->relkind != RELKIND_RELATION || rel->relam != HEAP_TABLE_AM_OID)
		why = "the split relation is not a heap table";
	else if (inh && rel->relhassubclass)
		why = "the split relation has children";
	ReleaseSysCache(tup);
	/* the parts name ctid: for who may read it (as the key, split_plan.c) */
	if (why == NULL && pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_attribute_aclcheck(relid, SelfItemPointerAttributeNumber, GetUserId(),
							  ACL_SELECT) != ACLCHECK_OK)
		why = "the role may not read the table's ctid column";
	if (why == NULL &&
		!OidIsValid(LookupFuncName(list_make2(makeString("foresight"),
											  makeString("snapshot_position")),
								   0, NULL, true)))
		why = "foresight.snapshot_position() is missing (ALTER EXTENSION pg_foresight UPDATE)";
	return why;
}

/* the relation whose indexes the planner does not see (blocks_whole_cost) */
static Oid	unindexed_relid = InvalidOid;
static get_relation_info_hook_type prev_get_relation_info = NULL;

static void
hide_indexes(PlannerInfo *root, Oid relid, bool inhparent, RelOptInfo *rel)
{
	if (prev_get_relation_info)
		prev_get_relation_info(root, relid, inhparent, rel);
	if (relid == unindexed_relid)
		rel->indexlist = NIL;
}

double
split_blocks_whole_cost(Query *part, Oid relid)
{
	PlannedStmt *volatile stmt = NULL;

	prev_get_relation_info = get_relation_info_hook;
	get_relation_info_hook = hide_indexes;
	unindexed_relid = relid;
	PG_TRY();
	{
		stmt = standard_planner(part, NULL, 0, NULL);
	}
	PG_FINALLY();
	{
		get_relation_info_hook = prev_get_relation_info;
		unindexed_relid = InvalidOid;
	}
	PG_END_TRY();
	return stmt->planTree->total_cost;
}

/* ctid <op> '(block,0)' */
static Expr *
ctid_comparison(Index rti, Oid opno, BlockNumber block)
{
	ItemPointer tid = palloc(sizeof(ItemPointerData));
	Var		   *ctid = makeVar(rti, SelfItemPointerAttributeNumber, TIDOID, -1, InvalidOid, 0);

	ItemPointerSet(tid, block, 0);
	return make_opclause(opno, BOOLOID, false, (Expr *) ctid,
						 (Expr *) makeConst(TIDOID, -1, InvalidOid, sizeof(ItemPointerData),
											PointerGetDatum(tid), false, false),
						 InvalidOid, InvalidOid);
}

/*
 * The table's space is probed at up to this many blocks, evenly spaced:
 * each stands for the segment of blocks around it.  One probe reads a
 * byte of the free space map (about 4,000 heap blocks share one of its
 * pages), so a table of any size costs at most 1,024 such reads.
 */
#define SPLIT_BLOCKS_PROBES 1024

/* tuples in a full block when the table was never analysed: rows of ~80 bytes */
#define SPLIT_BLOCKS_DEFAULT_DENSITY 100.0

/* the first block of segment i of nsegs over nblocks */
static BlockNumber
segment_start(BlockNumber nblocks, int nsegs, int i)
{
	return (BlockNumber) (((uint64) nblocks * i) / nsegs);
}

/*
 * Each segment weighs what the planner charges a sequential scan for it:
 * seq_page_cost a block, and cpu_tuple_cost a tuple (the query's own
 * conditions, a few operators a tuple, are left out).  A block's tuples
 * are its used space, from the free space map (free space in 32-byte
 * steps; none, so full, for a block VACUUM has not recorded), times the
 * table's tuples per full block (reltuples over the used space of all
 * blocks).  An empty block so weighs 1 and a full one of 60 rows 1.6, about
 * what they cost to read through the OS cache (on a standby of the
 * development cluster: 32,000 empty blocks about 120 ms, 17,000 full ones
 * about 100 ms).
 */
BlockNumber *
split_blocks_cut_points(Relation rel, int nparts)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
	int			nsegs = (int) Min(nblocks, (BlockNumber) SPLIT_BLOCKS_PROBES);
	double	   *full = palloc(Max(nsegs, 1) * sizeof(double));
	double	   *upto = palloc((nsegs + 1) * sizeof(double));
	BlockNumber *cuts = palloc(Max(nparts - 1, 1) * sizeof(BlockNumber));
	double		full_blocks = 0;
	double		density = SPLIT_BLOCKS_DEFAULT_DENSITY;
	double		page_cost;
	double		unused;
	int			seg = 0;

	/* full[i]: how full segment i's blocks are, 0 to 1 */
	for (int i = 0; i < nsegs; i++)
	{
		BlockNumber first = segment_start(nblocks, nsegs, i);
		BlockNumber next = segment_start(nblocks, nsegs, i + 1);
		Size		free_space = GetRecordedFreeSpace(rel, first + (next - first) / 2);

		full[i] = 1.0 - (double) Min(free_space, (Size) BLCKSZ) / BLCKSZ;
		full_blocks += full[i] * (next - first);
	}
	if (rel->rd_rel->reltuples > 0 && full_blocks > 0)
		density = rel->rd_rel->reltuples / full_blocks;
	get_tablespace_page_costs(rel->rd_rel->reltablespace, &unused, &page_cost);

	/* upto[i]: the weight of segments 0 .. i-1 */
	upto[0] = 0;
	for (int i = 0; i < nsegs; i++)
		upto[i + 1] = upto[i] + (page_cost + cpu_tuple_cost * density * full[i]) *
			(segment_start(nblocks, nsegs, i + 1) - segment_start(nblocks, nsegs, i));

	/*
	 * Cut j - 1 ends part j - 1 at j / nparts of the weight, within its
	 * segment; equal blocks when nothing weighs (an empty table, or
	 * seq_page_cost and cpu_tuple_cost both set to 0).
	 */
	for (int j = 1; j < nparts; j++)
	{
		double		target = upto[nsegs] * j / nparts;
		BlockNumber first;
		BlockNumber next;

		if (upto[nsegs] <= 0)
		{
			cuts[j - 1] = segment_start(nblocks, nparts, j);
			continue;
		}
		while (seg < nsegs - 1 && upto[seg + 1] <= target)
			seg++;
		first = segment_start(nblocks, nsegs, seg);
		next = segment_start(nblocks, nsegs, seg + 1);
		cuts[j - 1] = first + (BlockNumber) ((next - first) * (target - upto[seg]) /
											 (upto[seg + 1] - upto[seg]));
	}
	pfree(full);
	pfree(upto);
	return cuts;
}

Expr *
split_blocks_condition(Index rti, const BlockNumber *cuts, int nparts, int part)
{
	Expr	   *lower = NULL;
	Expr	   *upper = NULL;

	Assert(part >= 0 && part < nparts);
	if (nparts <= 1)
		return NULL;
	/* the first and last are open: the table may have grown since */
	if (part > 0)
		lower = ctid_comparison(rti, TIDGreaterEqOperator, cuts[part - 1]);
	if (part < nparts - 1)
		upper = ctid_comparison(rti, TIDLessOperator, cuts[part]);
	if (lower == NULL)
		return upper;
	if (upper == NULL)
		return lower;
	return make_andclause(list_make2(lower, upper));
}

char *
split_blocks_deparse_condition(Oid relid, const BlockNumber *cuts, int nparts, int part)
{
	Expr	   *cond = split_blocks_condition(1, cuts, nparts, part);

	if (cond == NULL)
		return pstrdup("true");
	return split_deparse_table_condition((Node *) cond, relid);
}

/* do two snapshots show the same transactions as running (on a standby: subxip) */
static bool
same_transactions(Snapshot a, Snapshot b)
{
	return a->xmin == b->xmin && a->xmax == b->xmax &&
		a->xcnt == b->xcnt && a->subxcnt == b->subxcnt &&
		a->suboverflowed == b->suboverflowed &&
		(a->xcnt == 0 || memcmp(a->xip, b->xip, a->xcnt * sizeof(TransactionId)) == 0) &&
		(a->subxcnt == 0 ||
		 memcmp(a->subxip, b->subxip, a->subxcnt * sizeof(TransactionId)) == 0);
}

/* the position replayed, when no record is being replayed; else invalid */
static XLogRecPtr
replay_at_rest(void)
{
	XLogRecPtr	replayed = GetXLogReplayRecPtr(NULL);

	return GetCurrentReplayRecPtr(NULL) == replayed ? replayed : InvalidXLogRecPtr;
}

/*
 * foresight.snapshot_position(): on a hot standby, in a transaction whose
 * snapshot lasts (REPEATABLE READ or SERIALIZABLE) and was taken (by this
 * statement at the latest), the WAL position it shows: the position
 * replayed now, when a snapshot taken now, with no record replayed around
 * it, shows the same transactions as running as the transaction's (and so
 * the same rows: on a standby every change comes from the WAL, and which
 * transactions a snapshot counts as running decides what it sees).  NULL
 * otherwise: a transaction ended since (the snapshot is older than the
 * position), a record was being replayed, or not on a standby.
 */
Datum
foresight_snapshot_position(PG_FUNCTION_ARGS)
{
	XLogRecPtr	before;
	Snapshot	now;

	if (!RecoveryInProgress() || !IsolationUsesXactSnapshot() || !FirstSnapshotSet)
		PG_RETURN_NULL();
	before = replay_at_rest();
	now = GetLatestSnapshot();
	if (before == InvalidXLogRecPtr || replay_at_rest() != before ||
		!same_transactions(GetTransactionSnapshot(), now))
		PG_RETURN_NULL();
	PG_RETURN_LSN(before);
}
