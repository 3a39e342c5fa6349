/*-------------------------------------------------------------------------
 *
 * split_scan_merge.c
 *	  The merge of parts sorted on their nodes: a split scan whose plan
 *	  merges (split_scan_plan.c put the keys of the Sort it replaced in the
 *	  scan) returns the parts' rows in the query's order, as MergeAppend and
 *	  Gather Merge do.
 *
 * Each part has a head: its next row, copied into its own slot.  A binary
 * heap holds the parts that have one, ordered by the sort keys with the
 * sort operators' own comparators (SortSupport), collations and NULLS
 * FIRST/LAST.  The first row request reads every part's first row; each
 * later one reads the next row of the part whose head was returned last,
 * so memory stays at one row per part (single-row mode; the node's socket
 * holds back the rest), plus the rows of a part run here, which is run
 * whole into a tuplestore (work_mem, then disk).
 *
 * Waiting for a part's next row waits on its node's socket alone: the
 * others' rows are not needed yet.  A part whose node failed before its
 * first row is pending again: a free node takes it, or, while a node
 * lags, it waits (foresight.split_max_wait); otherwise it runs here.  A
 * busy node cannot take it: its own part is not read to its end before
 * the merge needs it, so waiting for it could wait for ever.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "lib/binaryheap.h"
#include "miscadmin.h"

#include "router/split_scan_internal.h"

/* binaryheap is a max-heap: the part whose head sorts first is "largest" */
static int32
heap_compare(Datum a, Datum b, void *arg)
{
	SplitScanState *st = (SplitScanState *) arg;
	TupleTableSlot *s1 = st->parts[DatumGetInt32(a)].head;
	TupleTableSlot *s2 = st->parts[DatumGetInt32(b)].head;

	for (int k = 0; k < st->nkeys; k++)
	{
		SortSupport sort = &st->sortkeys[k];
		AttrNumber	attno = sort->ssup_attno;
		Datum		d1;
		Datum		d2;
		bool		n1;
		bool		n2;
		int			compare;

		d1 = slot_getattr(s1, attno, &n1);
		d2 = slot_getattr(s2, attno, &n2);
		compare = ApplySortComparator(d1, n1, d2, n2, sort);
		if (compare != 0)
		{
			INVERT_COMPARE_RESULT(compare);
			return compare;
		}
	}
	return 0;
}

void
split_merge_init(SplitScanState *st)
{
	TupleDesc	desc = st->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	ListCell   *lc;

	st->nkeys = list_length(st->info.merge_attnos);
	if (st->nkeys == 0)
		return;
	st->sortkeys = palloc0(sizeof(SortSupportData) * st->nkeys);
	foreach(lc, st->info.merge_attnos)
	{
		int			k = foreach_current_index(lc);
		SortSupport sort = &st->sortkeys[k];

		sort->ssup_cxt = CurrentMemoryContext;
		sort->ssup_collation = list_nth_oid(st->info.merge_collations, k);
		sort->ssup_nulls_first = list_nth_int(st->info.merge_nulls_first, k) != 0;
		sort->ssup_attno = (AttrNumber) lfirst_int(lc);
		sort->abbreviate = false;
		PrepareSortSupportFromOrderingOp(list_nth_oid(st->info.merge_sortops, k), sort);
	}
	for (int i = 0; i < st->nparts; i++)
		if (st->parts[i].head == NULL)
			st->parts[i].head = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	st->heap = binaryheap_allocate(st->nparts, heap_compare, st);
}

void
split_merge_reset(SplitScanState *st)
{
	if (st->nkeys == 0)
		return;
	binaryheap_reset(st->heap);
	for (int i = 0; i < st->nparts; i++)
		ExecClearTuple(st->parts[i].head);
	st->merge_started = false;
}

/*
 * Part p's next row into its head: false at its end.  Runs the part again
 * (elsewhere, or here) when its node failed before its first row.
 */
static bool
part_next(SplitScanState *st, SplitPart *p)
{
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();

		if (p->store != NULL)
		{
			if (tuplestore_gettupleslot(p->store, true, false, p->head))
				return true;
			tuplestore_end(p->store);
			p->store = NULL;
			return false;
		}
		if (p->status == PART_DONE)
			return false;
		if (p->status == PART_RUNNING)
		{
			SplitNode  *n = &st->nodes[p->node];
			TupleTableSlot *slot;

			Assert(p->node >= 0 && n->status == SNODE_BUSY && n->part == p->index);
			if (!split_node_ready(n))
			{
				split_wait(st, p->node, -1L);
				continue;
			}
			slot = split_read_node(st, p->node);
			if (slot != NULL)
			{
				ExecCopySlot(p->head, slot);
				return true;
			}
			continue;			/* ended, or pending again */
		}

		/* pending: a free node takes it, a lagging one may, or it runs here */
		split_start_parts(st);
		if (p->status != PART_PENDING)
			continue;
		/*
		 * A lagging node may yet take it, for split_max_wait at most: the
		 * node that owns it may be busy with another part of this merge,
		 * which cannot end before every part has its first row.
		 */
		if (!st->local_candidate && split_wait_for_lagging(st))
		{
			split_wait(st, -1, 5L);
			continue;
		}
		split_run_here(st, p->index);
	}
}

TupleTableSlot *
split_merge_next(SplitScanState *st)
{
	int			i;

	if (!st->merge_started)
	{
		int			here;

		st->merge_started = true;

		/*
		 * The nodes have their parts (split_start_parts): the coordinator,
		 * a candidate, runs the next one meanwhile.
		 */
		if (st->local_candidate && (here = split_take_piece(st, -1)) >= 0)
			split_run_here(st, here);
		for (int k = 0; k < st->nparts; k++)
			if (part_next(st, &st->parts[k]))
				binaryheap_add_unordered(st->heap, Int32GetDatum(k));
		binaryheap_build(st->heap);
	}
	else if (!binaryheap_empty(st->heap))
	{
		i = DatumGetInt32(binaryheap_first(st->heap));
		if (part_next(st, &st->parts[i]))
			binaryheap_replace_first(st->heap, Int32GetDatum(i));
		else
			(void) binaryheap_remove_first(st->heap);
	}
	if (binaryheap_empty(st->heap))
	{
		st->finished = true;
		return ExecClearTuple(st->css.ss.ss_ScanTupleSlot);
	}
	i = DatumGetInt32(binaryheap_first(st->heap));
	return st->parts[i].head;
}
