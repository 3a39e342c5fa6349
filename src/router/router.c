/*-------------------------------------------------------------------------
 *
 * router.c
 *	  The routing component: its GUCs, hooks and shared memory, and the
 *	  session state the other router files read (executor nesting depth,
 *	  the LSN of this backend's last commit, the cached node list).  The
 *	  hooks also keep the catalog floor (catalog_floor.c) up to date.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/snapmgr.h"

#include "core/guards.h"
#include "monitor/worker.h"
#include "registry/registry.h"
#include "remote/connection.h"
#include "remote/guc_sync.h"
#include "router/admission.h"
#include "router/catalog_floor.h"
#include "router/route_inflight.h"
#include "router/route_plan.h"
#include "router/route_scan.h"
#include "router/split_scan.h"
#include "router/planner_hook.h"
#include "router/policy.h"
#include "router/random_seed.h"
#include "router/router.h"
#include "router/scoring.h"
#include "router/route_cache.h"
#include "router/unrouted_log.h"

int			foresight_routing_policy = ROUTING_POLICY_PREDICTIVE;
bool		foresight_include_local = true;
int			foresight_max_replication_lag = -1;
bool		foresight_lift_constants = true;

XLogRecPtr	router_last_commit_lsn = InvalidXLogRecPtr;
int			router_exec_depth = 0;
int			router_plan_depth = 0;
int			router_utility_depth = 0;
bool		router_explaining = false;

static const struct config_enum_entry routing_policy_options[] = {
	{"local", ROUTING_POLICY_LOCAL, false},
	{"round_robin", ROUTING_POLICY_ROUND_ROBIN, false},
	{"random", ROUTING_POLICY_RANDOM, false},
	{"least_connections", ROUTING_POLICY_LEAST_CONNECTIONS, false},
	{"predictive", ROUTING_POLICY_PREDICTIVE, false},
	{NULL, 0, false}
};

typedef struct RouterShared
{
	pg_atomic_uint32 round_robin;
} RouterShared;

static RouterShared *router_shared = NULL;

static ExecutorStart_hook_type prev_executor_start = NULL;
static ExecutorRun_hook_type prev_executor_run = NULL;
static ExecutorFinish_hook_type prev_executor_finish = NULL;
static ExecutorEnd_hook_type prev_executor_end = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;

const char *
routing_policy_name(int policy)
{
	for (const struct config_enum_entry *e = routing_policy_options; e->name; e++)
		if (e->val == policy)
			return e->name;
	return "?";
}

/* a cached plan may have been made under another policy: replan */
static void
routing_policy_assign(int newval, void *extra)
{
	if (newval != foresight_routing_policy)
		ResetPlanCache();
}

/*
 * A parameterless query is planned here with its constants' values,
 * whatever plan_cache_mode says (that setting is for statements with
 * parameters).  Lifted, its constants are parameters of a statement
 * prepared on the node, where the session's plan_cache_mode is mirrored:
 * under force_generic_plan the node would plan it without their values,
 * another plan than here (a partial index the literal matches unused; the
 * rows of an unordered read in another order).  So under
 * force_generic_plan constants stay literals (a lifted statement sent
 * unnamed is planned generically there too).  Under auto (the default) a
 * lifted statement is sent unnamed and planned with its values, unless it
 * is a point lookup that stays prepared (single_row.c; docs/routing.md,
 * "Lifted constants").
 */
bool
router_lifts_constants(void)
{
	return foresight_lift_constants && plan_cache_mode != PLAN_CACHE_MODE_FORCE_GENERIC_PLAN;
}

/* cached plans carry their remote SQL: replan when its form changes */
static void
lift_constants_assign(bool newval, void *extra)
{
	if (newval != foresight_lift_constants)
		ResetPlanCache();
}

void
router_define_gucs(void)
{
	DefineCustomEnumVariable("foresight.routing_policy",
							 "How eligible read-only queries are routed.",
							 "local runs everything here; round_robin, random and least_connections spread eligible queries over the nodes (and this server when foresight.include_local is on); predictive sends each to the node predicted to have the most spare capacity.",
							 &foresight_routing_policy,
							 ROUTING_POLICY_PREDICTIVE,
							 routing_policy_options,
							 PGC_USERSET, 0,
							 NULL, routing_policy_assign, NULL);

	DefineCustomIntVariable("foresight.max_replication_lag",
							"Largest replication lag of a node that may take routed queries.",
							"From the node's last sample: time since the last replayed transaction while WAL is still waiting to be replayed. -1: no limit.",
							&foresight_max_replication_lag,
							-1, -1, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("foresight.include_local",
							 "Whether the coordinator itself is a routing candidate.",
							 NULL,
							 &foresight_include_local,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("foresight.lift_constants",
							 "Sends the constants of a routed query's conditions as parameters.",
							 "A query without parameters of its own (the simple protocol) then has one text per query shape, which this server routes without planning it again; on each node a point lookup through a unique index is prepared once, any other shape planned with its values.",
							 &foresight_lift_constants,
							 true,
							 PGC_USERSET, 0,
							 NULL, lift_constants_assign, NULL);

	DefineCustomBoolVariable("foresight.defer_local_planning",
							 "Routes a simple-protocol query of a shape seen before without planning it here first.",
							 "Its local plan is made only if it runs on this server.  Applies with foresight.lift_constants.",
							 &foresight_defer_local_planning,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

}

/* --- shared memory --- */

void
router_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(RouterShared));
	RequestAddinShmemSpace(catalog_floor_shmem_size());
}

void
router_shmem_init(void)
{
	bool		found;

	router_shared = ShmemInitStruct("pg_foresight router", sizeof(RouterShared), &found);
	if (!found)
		pg_atomic_init_u32(&router_shared->round_robin, 0);
	catalog_floor_shmem_init();
}

uint32
router_next_round_robin(void)
{
	foresight_require_shmem();
	return pg_atomic_fetch_add_u32(&router_shared->round_robin, 1);
}

/* --- executor nesting --- */

/*
 * Statements of the current transaction block (REPEATABLE READ routing):
 * those run at top level, and the top-level utilities after which the
 * block had its snapshot (router_process_utility).
 */
static LocalTransactionId block_lxid = InvalidLocalTransactionId;
static int	block_statements = 0;

int
router_block_statements(void)
{
	return block_lxid == MyProc->lxid ? block_statements : 0;
}

static void
count_block_statement(void)
{
	if (block_lxid != MyProc->lxid)
	{
		block_lxid = MyProc->lxid;
		block_statements = 0;
	}
	block_statements++;
}

static void
router_executor_start(QueryDesc *queryDesc, int eflags)
{
	catalog_floor_executor_start(router_exec_depth == 0 && router_utility_depth == 0);
	/*
	 * A plan run here may change settings (set_config(), a function's SET
	 * clause).  A route node's local plan cannot: it calls no volatile
	 * function but the safe ones (eligibility.c); nor can an eligible plan
	 * kept here unwrapped (kept_here.c).
	 */
	if (!route_scan_is_route(queryDesc->plannedstmt->planTree) &&
		!unrouted_plan_is_kept(queryDesc->plannedstmt))
		guc_sync_touch();

	router_exec_depth++;
	PG_TRY();
	{
		if (prev_executor_start)
			prev_executor_start(queryDesc, eflags);
		else
			standard_ExecutorStart(queryDesc, eflags);
	}
	PG_FINALLY();
	{
		router_exec_depth--;
	}
	PG_END_TRY();

	if (router_exec_depth == 0)
		unrouted_executor_start(queryDesc, eflags);

	if (router_exec_depth == 0 && IsTransactionBlock() &&
		!(eflags & EXEC_FLAG_EXPLAIN_ONLY))
	{
		count_block_statement();
		/* a route node says itself whether it ran here (route_scan.c) */
		if (!route_scan_is_route(queryDesc->plannedstmt->planTree))
			policy_block_ran_here();
	}
}

static void
router_executor_run(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
					bool execute_once)
{
	router_exec_depth++;
	PG_TRY();
	{
		if (prev_executor_run)
			prev_executor_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		router_exec_depth--;
	}
	PG_END_TRY();
}

static void
router_executor_finish(QueryDesc *queryDesc)
{
	router_exec_depth++;
	PG_TRY();
	{
		if (prev_executor_finish)
			prev_executor_finish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		router_exec_depth--;
	}
	PG_END_TRY();
}

static void
router_executor_end(QueryDesc *queryDesc)
{
	if (router_exec_depth == 0)
		unrouted_executor_end(queryDesc);
	if (prev_executor_end)
		prev_executor_end(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/*
 * Utility statements that run a client's query themselves (EXPLAIN,
 * EXECUTE, DECLARE CURSOR, CREATE TABLE AS) keep it at top level; any other
 * utility statement (DO, CALL, ...) makes what it runs nested.
 */
static void
router_process_utility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	volatile bool nests = !(IsA(stmt, ExplainStmt) || IsA(stmt, ExecuteStmt) ||
						  IsA(stmt, DeclareCursorStmt) || IsA(stmt, CreateTableAsStmt) ||
						  IsA(stmt, FetchStmt));
	bool		top_level = router_exec_depth == 0 && router_utility_depth == 0;

	/*
	 * SET, RESET, DISCARD, SET ROLE, LOAD, what a DO block or CALL runs ...
	 * may change a setting.  BEGIN, COMMIT and savepoints do not: what a
	 * transaction's end undoes is counted by the transaction callbacks.
	 */
	volatile bool touches = !IsA(stmt, TransactionStmt);

	catalog_floor_utility_begin(stmt, top_level);

	if (nests)
		router_exec_depth++;
	router_utility_depth++;
	if (touches)
		guc_sync_touch();
	PG_TRY();
	{
		if (prev_process_utility)
			prev_process_utility(pstmt, queryString, readOnlyTree, context,
								 params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		if (nests)
			router_exec_depth--;
		router_utility_depth--;
		catalog_floor_utility_end(stmt, top_level);
		if (touches)
			guc_sync_touch();
	}
	PG_END_TRY();

	/*
	 * A block that has its snapshot after a top-level utility got it there
	 * (SET TRANSACTION SNAPSHOT, or one that needs a snapshot: PREPARE,
	 * EXPLAIN, DO, CALL ...; pquery.c's PlannedStmtRequiresSnapshot): as
	 * after a statement run here, a REPEATABLE READ block's later reads
	 * run here, in that snapshot, not in a node's newer one.
	 */
	if (top_level && IsTransactionBlock() && FirstSnapshotSet)
		count_block_statement();

	/*
	 * A utility that read here (DO, CALL, COPY ...; the statements EXPLAIN,
	 * EXECUTE and DECLARE run start in the executor, above).
	 */
	if (top_level && nests && IsTransactionBlock() && PlannedStmtRequiresSnapshot(pstmt))
		policy_block_ran_here();
}

/* --- transaction end --- */

static void
router_xact_callback(XactEvent event, void *arg)
{
	catalog_floor_xact_callback(event);
	router_one_shot_forget();
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			/* read-your-writes: remember where our last commit ended */
			if (XactLastCommitEnd > router_last_commit_lsn)
				router_last_commit_lsn = XactLastCommitEnd;
			/* scans interrupted in a rolled-back savepoint */
			route_inflight_abort_cleanup();
			unrouted_xact_end(false);
			/* what SET LOCAL set is undone */
			guc_sync_xact_end(false);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			route_inflight_abort_cleanup();
			unrouted_xact_end(true);
			/* ... and what the transaction set */
			guc_sync_xact_end(true);
			break;
		case XACT_EVENT_PREPARE:
			guc_sync_xact_end(false);
			break;
		default:
			break;
	}
	remote_xact_callback(event);
}

static void
router_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		unrouted_xact_end(true);
		/* what the subtransaction set is undone */
		guc_sync_touch();
	}
	remote_subxact_callback(event);
}

void
router_install_hooks(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = router_executor_start;
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = router_executor_run;
	prev_executor_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = router_executor_finish;
	prev_executor_end = ExecutorEnd_hook;
	ExecutorEnd_hook = router_executor_end;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = router_process_utility;

	RegisterXactCallback(router_xact_callback, NULL);
	RegisterSubXactCallback(router_subxact_callback, NULL);

	router_install_planner_hook();
	random_seed_install();
	route_scan_register();
	split_scan_register();

	/* the monitor's loop drives the admission queue and the weights */
	monitor_on_sample(admission_wakeup);
	monitor_on_config_reload(scoring_sync_from_gucs);
}
