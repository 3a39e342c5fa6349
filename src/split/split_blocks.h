/*-------------------------------------------------------------------------
 *
 * split_blocks.h
 *	  Parts cut by block ranges of the split table instead of key ranges,
 *	  for nodes whose snapshots are all at one WAL position.
 *
 * A part of key range [a, b) is read on a node through the key's index,
 * which costs more per row than reading the table's blocks in order (and
 * far more when the table's order no longer follows the key).  Cut by
 * block ranges,
 *
 *	part 1:   ctid < '(b1,0)'
 *	part i:   ctid >= '(b(i-1),0)' AND ctid < '(bi,0)'
 *	part k:   ctid >= '(b(k-1),0)'
 *
 * a part is a TID range scan.  The ranges partition the table's tuples,
 * but a row's place is not fixed: an update writes its new version
 * elsewhere.  So the parts are exact only when they all read one state of
 * the table: streaming standbys that have replayed the same WAL hold the
 * same pages (replay writes them as the primary did; a standby prunes
 * nothing itself) and the same committed transactions, so snapshots taken
 * there at one WAL position see the same tuples at the same places.  Each
 * node opens a REPEATABLE READ block (split_scan_parts.c, all nodes at
 * once) whose first statement, foresight.snapshot_position(), says which
 * WAL position the block's snapshot shows, when it can tell: when all say
 * the same, the parts are cut by blocks; otherwise by the key.
 *
 * Also needed: a key unique by itself (a primary key or unique index of
 * one NOT NULL column), so that what the key ranges keep together (a
 * group, a DISTINCT value, a window partition of one key value) is one
 * row, in one block range too; a plain heap table without children.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SPLIT_BLOCKS_H
#define FORESIGHT_SPLIT_BLOCKS_H

#include "postgres.h"

#include "storage/block.h"
#include "utils/rel.h"

#include "split/split.h"

/*
 * Can the parts of a split of table relid on key (inh: the query reads its
 * children too) be cut by block ranges?  NULL when they can, else why not.
 */
extern const char *split_blocks_refusal(Oid relid, bool inh, const SplitKey *key);

/*
 * The plan cost of `part`, a part over all of table relid, read as block
 * ranges read it: in the table's order, none of its indexes used (the
 * planner, without the hooks, is shown the table without them).
 */
extern double split_blocks_whole_cost(Query *part, Oid relid);

/*
 * Where the block ranges of nparts parts of table rel are cut: nparts - 1
 * block numbers, in order, that give the parts about equal shares of what
 * a sequential scan of the table costs, its blocks and its tuples, as its
 * free space map tells where the tuples are (not equal numbers of blocks:
 * after an UPDATE of every row and a VACUUM, the first half of a table's
 * blocks may hold nothing).
 */
extern BlockNumber *split_blocks_cut_points(Relation rel, int nparts);

/* the condition of part `part` (0-based) of nparts cut at cuts, at rti; NULL: none */
extern Expr *split_blocks_condition(Index rti, const BlockNumber *cuts, int nparts, int part);

/* the same as SQL, on the table alone (range table index 1) */
extern char *split_blocks_deparse_condition(Oid relid, const BlockNumber *cuts, int nparts,
											int part);

#endif							/* FORESIGHT_SPLIT_BLOCKS_H */
