/*-------------------------------------------------------------------------
 *
 * split_blocks.c
 *	  Parts cut by block ranges of the split table (see split_blocks.h):
 *	  whether a table and key allow them, each part's condition on ctid,
 *	  and foresight.snapshot_position(), which a standby answers so that
 *	  the coordinator can tell where a part's snapshot stands.
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
#include "optimizer/plancat.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
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

/* where part `part` of nparts begins: the parts are equal in blocks */
static BlockNumber
part_start(BlockNumber nblocks, int nparts, int part)
{
	return (BlockNumber) (((uint64) nblocks * part) / nparts);
}

Expr *
split_blocks_condition(Index rti, BlockNumber nblocks, int nparts, int part)
{
	Expr	   *lower = NULL;
	Expr	   *upper = NULL;

	Assert(part >= 0 && part < nparts);
	if (nparts <= 1)
		return NULL;
	/* the first and last are open: the table may have grown since */
	if (part > 0)
		lower = ctid_comparison(rti, TIDGreaterEqOperator, part_start(nblocks, nparts, part));
	if (part < nparts - 1)
		upper = ctid_comparison(rti, TIDLessOperator, part_start(nblocks, nparts, part + 1));
	if (lower == NULL)
		return upper;
	if (upper == NULL)
		return lower;
	return make_andclause(list_make2(lower, upper));
}

char *
split_blocks_deparse_condition(Oid relid, BlockNumber nblocks, int nparts, int part)
{
	Expr	   *cond = split_blocks_condition(1, nblocks, nparts, part);

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
