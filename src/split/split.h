/*-------------------------------------------------------------------------
 *
 * split.h
 *	  Dynamic sharding, planning side: decide whether a read can be cut
 *	  into parts over ranges of a key of one table (the split relation),
 *	  and build each part's SQL and the step that combines the parts'
 *	  results into the answer the whole query would give.
 *
 * Planning only (docs/sharding.md): nothing here runs a part.  The
 * executor that sends the parts to nodes and combines them is a later
 * step; foresight.split_explain() shows the decision.
 *
 * Floor 5 (docs/architecture.md): split/ may include core/ and the floors
 * below the router; the router includes split/, never the reverse.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SPLIT_H
#define FORESIGHT_SPLIT_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "storage/block.h"

/* GUCs (split_gucs.c) */
extern bool foresight_split;
extern double foresight_split_min_cost;
extern int	foresight_max_split_parts;
extern int	foresight_split_max_wait;	/* ms */
extern double foresight_split_piece_cost;
extern int	foresight_split_assignment;	/* a cap_assignment (capacity.h) */
extern bool foresight_split_native_aggregates;
extern bool foresight_split_worker;
extern bool foresight_split_block_ranges;

#define SPLIT_MAX_PARTS_LIMIT 256

extern void split_define_gucs(void);

/* the name under which the combine step reads the union of the parts */
#define SPLIT_PARTS_RELATION "foresight_parts"

typedef enum SplitStrategy
{
	SPLIT_NONE,
	SPLIT_ROWS,					/* parts' rows concatenated (merged when sorted) */
	SPLIT_WHOLE_GROUPS,			/* grouped by the key: each group is whole in one part */
	SPLIT_PARTIAL_AGGREGATES	/* parts give aggregate states per group, combined here */
} SplitStrategy;

/* the key the parts are cut on, and how its values are ordered */
typedef struct SplitKey
{
	Oid			relid;
	AttrNumber	attnum;
	char	   *attname;
	bool		notnull;		/* NOT NULL: the first part need not ask for NULLs */
	bool		unique;			/* the column alone is a primary key or a unique
								 * index's (not NULL): one row per value */
	Oid			atttype;		/* the column's type (maybe a domain) */
	int32		atttypmod;
	Oid			collation;		/* the column's collation, or InvalidOid */
	Oid			cmptype;		/* type of the cut points and comparisons */
	Oid			opfamily;		/* default btree operator family of cmptype */
	Oid			lt_opr;			/* cmptype < cmptype */
	Oid			ge_opr;			/* cmptype >= cmptype */
	Oid			cmp_proc;		/* btree comparison support function */
	const char *source;			/* "primary key", "unique index NAME", "declared" */
} SplitKey;

/* an aggregate the combine step finalises (strategy SPLIT_PARTIAL_AGGREGATES) */
typedef struct SplitAggregate
{
	Aggref	   *aggref;			/* as the query has it */
	int			state_column;	/* 1-based column of the parts holding its state */
	Oid			aggfnoid;
	Oid			transtype;		/* declared (maybe polymorphic) */
	Oid			combinefn;
	Oid			finalfn;		/* InvalidOid: the state is the result */
	Oid			serialfn;
	Oid			deserialfn;
} SplitAggregate;

typedef struct SplitPlan
{
	bool		splittable;
	const char *reason;			/* why not; when split, a note or NULL */
	double		cost;			/* the plan's total cost, -1 if unknown */
	SplitStrategy strategy;

	/* the split relation and its key */
	Oid			relid;
	SplitKey	key;
	List	   *path;			/* Integer RT indexes from the top query to its RTE */

	/* the parts: nparts ranges, nparts - 1 cut points (Const) */
	int			nparts;
	List	   *cut_points;
	List	   *part_conditions; /* char *: each part's condition on the key */
	List	   *part_queries;	/* Query *: each part */
	List	   *part_sql;		/* char *: each part's SQL */
	/*
	 * The same parts cut by block ranges of the table instead (the nodes
	 * read them when their snapshots are at one WAL position; see
	 * split_blocks.c), or NIL when the table or the key does not allow it.
	 */
	List	   *block_conditions;	/* char * */
	List	   *block_sql;		/* char * */
	BlockNumber *block_cuts;	/* the nparts - 1 blocks they are cut at */
	const char *blocks_refusal; /* why not by blocks, when block_sql is NIL */
	int64		part_limit;		/* LIMIT a part has (n + m), -1 when none */

	/* the combine step */
	List	   *aggregates;		/* SplitAggregate * */
	Query	   *combine_query;	/* reads SPLIT_PARTS_RELATION */
	char	   *combine_sql;
	char	   *combine_description;
} SplitPlan;

/*
 * Decide how `query` (the analysed and rewritten query, not modified) is
 * split into at most `nparts` parts.  `stmt` is its plan (cost, every
 * relation it reads), or NULL.  With check_settings, foresight.split and
 * foresight.split_min_cost apply.  Never raises an error for a query that
 * cannot be split: splittable is false and reason says why.
 */
extern SplitPlan *split_plan_query(Query *query, PlannedStmt *stmt, int nparts,
								   bool check_settings);

extern const char *split_strategy_name(SplitStrategy strategy);

#endif							/* FORESIGHT_SPLIT_H */
