/*-------------------------------------------------------------------------
 *
 * split_ranges.h
 *	  The ranges of the split key that the parts cover: cut points chosen
 *	  from the key's statistics, and each part's condition.
 *
 * With cut points c1 < c2 < ... < c(k-1) (strictly, under the key's btree
 * order and collation) the conditions are
 *
 *	part 1:   key < c1 OR key IS NULL
 *	part i:   key >= c(i-1) AND key < ci
 *	part k:   key >= c(k-1)
 *
 * and one part has no condition.  They partition the key's domain: a
 * non-null value v has exactly one i with c(i-1) <= v < ci (taking c0 = -∞,
 * ck = +∞), because < and >= of a btree operator family are complementary
 * and the cut points increase strictly; NULL satisfies only "key IS NULL"
 * (a comparison with NULL is not true).  So every row is in exactly one
 * part, whatever the statistics said: they only decide how even the parts
 * are.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SPLIT_RANGES_H
#define FORESIGHT_SPLIT_RANGES_H

#include "postgres.h"

#include "split/split.h"

/*
 * The range of the key a query's own conditions leave (split_key_bounds.c):
 * lower <= key and key <= upper where has_lower and has_upper (whether
 * each bound is inclusive does not matter for where to cut).  Values of
 * key->cmptype, pointing into the query.
 */
typedef struct SplitKeyBounds
{
	bool		has_lower;
	Datum		lower;
	bool		has_upper;
	Datum		upper;
} SplitKeyBounds;

/* the bounds of the key at range table index rti of level (a Query) */
extern void split_key_bounds(const SplitKey *key, Query *level, Index rti,
							 SplitKeyBounds *bounds);

/*
 * At most nparts - 1 cut points (Const nodes of key->cmptype, strictly
 * increasing) that divide the rows of the table the query reads (the
 * rows inside bounds, when not NULL; a small table without statistics is
 * cut over all of it, split_ranges_from_table) into parts of about equal
 * row counts, NULLs counted in the first part.  *note says why there are fewer than
 * asked (no statistics, too few distinct values), or is NULL.  inh: the
 * statistics of the table with its children (a partitioned table).
 */
extern List *split_ranges_cut_points(const SplitKey *key, bool inh, int nparts,
									 const SplitKeyBounds *bounds, const char **note);

/*
 * Cut points of a small table without statistics, read from the table
 * (split_ranges_sample.c); NIL when it is large, empty or partitioned.
 */
extern List *split_ranges_from_table(const SplitKey *key, int nparts);

/* the condition of part `part` (0-based) of the cut points, on the key at rti; NULL: none */
extern Expr *split_ranges_condition(const SplitKey *key, Index rti, List *cut_points, int part);

#endif							/* FORESIGHT_SPLIT_RANGES_H */
