/*-------------------------------------------------------------------------
 *
 * split_target.h
 *	  The tables a query could be split on: those whose every row of the
 *	  query's FROM clause (before grouping) comes from exactly one of their
 *	  rows, so that restricting the table to a range of its key restricts
 *	  the query's rows to exactly those that come from that range.
 *
 * That holds for a table reached from the top query's FROM list through
 * inner joins, the preserved side of outer joins, and sub-queries or WITH
 * queries (referenced once) that keep one row per row they read: no
 * aggregates, GROUP BY, DISTINCT, window functions, LIMIT/OFFSET or set
 * operations.  It fails on the nullable side of an outer join (a row of
 * the other side without a match would appear in every part), under a
 * sub-query that groups, deduplicates or limits (its rows depend on rows of
 * other ranges), and inside sub-links (a sub-link's table is read whole by
 * each part, which is exact but is not a split).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SPLIT_TARGET_H
#define FORESIGHT_SPLIT_TARGET_H

#include "postgres.h"

#include "nodes/parsenodes.h"

#include "split/split.h"

typedef struct SplitCandidate
{
	Oid			relid;
	List	   *path;			/* Integer RT indexes: top query down, last is the table's */
	List	   *levels;			/* Query *: the query of each RT index of path */
	bool		inh;			/* the RTE reads the table's children too */
	double		rows;			/* estimated size (split_plan.c) */
} SplitCandidate;

/*
 * The candidates of query, in range table order.  When there is none,
 * *why says the first reason a table was passed over, or why none may be
 * (a sub-query's ORDER BY that orders the result).
 */
extern List *split_target_candidates(Query *query, const char **why);

/*
 * The query level at which the candidate's RTE sits, in `query` (which may
 * be a copy of the query the candidate was found in).
 */
extern Query *split_target_level(Query *query, List *path);

/*
 * A Var of the top query that is the candidate's column attnum, passed up
 * through the sub-queries' select lists; NULL when some level does not
 * select it.
 */
extern Var *split_target_top_var(SplitCandidate *candidate, const SplitKey *key);

/*
 * Is expr (in query) the column var, once join alias variables are
 * resolved and binary-compatible relabelling is stripped?
 */
extern bool split_target_is_var(Query *query, Node *expr, Var *var);

#endif							/* FORESIGHT_SPLIT_TARGET_H */
