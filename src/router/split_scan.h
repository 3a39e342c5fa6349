/*-------------------------------------------------------------------------
 *
 * split_scan.h
 *	  The "Foresight Split" plan: a read cut into parts over ranges of a
 *	  key (split/), run on several nodes at once and combined here by a
 *	  plan PostgreSQL made of the combine step (split_scan_plan.c), whose
 *	  leaf is the fan-out scan that returns the parts' rows
 *	  (split_scan.c, split_scan_parts.c, split_scan_explain.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SPLIT_SCAN_H
#define FORESIGHT_SPLIT_SCAN_H

#include "postgres.h"

#include "nodes/extensible.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

#define SPLIT_SCAN_NAME "Foresight Split"

/* What a split scan carries for its execution (its custom_private). */
typedef struct SplitScanInfo
{
	char	   *relation;		/* the split relation, qualified */
	char	   *key;			/* its key column */
	char	   *strategy;		/* split_strategy_name() */
	char	   *combine;		/* the combine step in words */
	List	   *part_sql;		/* char *: each part's SQL */
	List	   *part_conditions;	/* char *: each part's range condition */
	Oid			plan_user;		/* the role the plan was made for */
	double		cost;			/* the whole query's local plan cost */
	int			shape;			/* SHAPE_* flags of the local plan */
	bool		worker_ok;		/* the coordinator's pieces may run in a
								 * parallel worker (split_scan_worker.c) */
	int			value_settings; /* the parts' values' input settings
								 * (route_values_settings()) */
	List	   *state_columns;	/* int: scan tuple columns of the parts'
								 * aggregate states */
	/* the same parts by block ranges (split/split_blocks.h), or NIL */
	List	   *block_sql;		/* char * */
	List	   *block_conditions;	/* char * */
	char	   *blocks_refusal; /* why none, or NULL */
	/* merge of parts sorted on their nodes (NIL: rows in any order) */
	List	   *merge_attnos;	/* int: scan tuple columns, most significant first */
	List	   *merge_sortops;	/* Oid: their sort operators (< or >) */
	List	   *merge_collations;	/* Oid */
	List	   *merge_nulls_first;	/* int: NULLS FIRST */
} SplitScanInfo;

/* Register the split scan's plan and execution methods; once, at load. */
extern void split_scan_register(void);

/*
 * Called by the planner hook for an eligible read already planned as stmt
 * (query: the analysed query before planning, not modified): the plan
 * that splits it, or NULL with *reason set (NULL reason: foresight.split
 * is off).
 */
extern PlannedStmt *split_scan_try(Query *query, PlannedStmt *stmt, const char *query_string,
								   int cursorOptions, const char **reason);

/*
 * How many pieces a read of plan cost "cost" is cut into for nnodes nodes
 * (split_scan_pieces.c): nnodes, or more so that a free node takes the
 * next piece.
 */
extern int	split_piece_count(int nnodes, double cost);

/* The cumulative per-node split counters (split_node_stats.c). */
extern void split_node_stats_shmem_request(void);
extern void split_node_stats_shmem_init(void);

/* What split scan cscan carries (split_scan_plan.c). */
extern void split_scan_info(const CustomScan *cscan, SplitScanInfo *info);

/*
 * foresight.route_explain() of a split plan: false when stmt is not one;
 * otherwise the nodes in d (a dry run of the policy), why (the split, each
 * part's range and node) and the parts' SQL.
 */
struct RouteDecision;
extern bool split_scan_route_explain(PlannedStmt *stmt, struct RouteDecision *d,
									 char **reason, char **sql);

/* Does plan hold a split scan?  (Its decision-log entry is its own.) */
extern bool split_scan_in_plan(Plan *plan);

/* the plan methods, so that the executor can make its state */
extern void split_scan_plan_register(Node *(*create_state) (CustomScan *cscan));

#endif							/* FORESIGHT_SPLIT_SCAN_H */
