/*-------------------------------------------------------------------------
 *
 * unrouted_log.c
 *	  Decision-log entries for the top-level statements the planner hook
 *	  did not wrap: writes, FOR UPDATE, volatile functions, temporary
 *	  tables...  They run here, and the log says so and why.  So do the
 *	  reads the coordinator's own cost keeps here unwrapped (kept_here.c),
 *	  with the policy's reason, counted as reads run here.
 *
 * The planner hook remembers why it left each plan alone, in a small ring
 * keyed by the PlannedStmt's address (the newest entry for an address
 * wins, so a freed plan's address reused by a new plan is harmless).  At
 * executor start, a top-level statement without a route is logged as
 * "ineligible: <why>" when routing is on and a node is registered; a plan
 * older than the ring gets the reason its PlannedStmt shows (a DECLAREd
 * cursor's, whose plan its portal holds a copy of, the cursor's); a kept
 * read with the verdict's reason as it is.  A split
 * read logs its own entry (split_scan_explain.c), not this one.  Statements
 * that read pg_foresight's own views and functions are not logged: reading
 * the log must not fill it.  The latency
 * is filled in at executor end; a statement that ends in an error is
 * marked failed at transaction end.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "tcop/pquery.h"
#include "utils/timestamp.h"

#include "registry/registry.h"
#include "router/eligibility.h"
#include "router/policy.h"
#include "stats/request_shape.h"
#include "router/route_plan.h"
#include "router/router.h"
#include "router/split_scan.h"
#include "router/unrouted_log.h"
#include "stats/decision_log.h"
#include "stats/latency.h"

/* plans recently left unwrapped, and why */
#define REMEMBERED_PLANS 32

typedef struct RememberedPlan
{
	const PlannedStmt *stmt;
	bool		kept;			/* eligible, kept here by its cost */
	char		reason[DECISION_TEXT_MAX];
} RememberedPlan;

static RememberedPlan remembered[REMEMBERED_PLANS];
static int	remembered_next = 0;

/* logged statements still running (cursors keep theirs open) */
#define RUNNING_MAX 16

typedef struct RunningStatement
{
	const QueryDesc *query;
	uint64		seq;
	instr_time	start;
	bool		kept;			/* counted as a read run here: its class */
	RequestClass request_class;
} RunningStatement;

static RunningStatement running[RUNNING_MAX];
static int	nrunning = 0;

static void
remember(const PlannedStmt *stmt, const char *reason, bool kept)
{
	RememberedPlan *r = &remembered[remembered_next];

	r->stmt = stmt;
	r->kept = kept;
	strlcpy(r->reason, reason ? reason : "not eligible", sizeof(r->reason));
	remembered_next = (remembered_next + 1) % REMEMBERED_PLANS;
}

void
unrouted_remember_plan(const PlannedStmt *stmt, const char *reason)
{
	remember(stmt, reason, false);
}

void
unrouted_remember_kept(const PlannedStmt *stmt, const char *reason)
{
	remember(stmt, reason, true);
}

/* stmt's entry in the ring, the newest first, or NULL */
static const RememberedPlan *
find_remembered(const PlannedStmt *stmt)
{
	for (int k = 1; k <= REMEMBERED_PLANS; k++)
	{
		const RememberedPlan *r = &remembered[(remembered_next - k + REMEMBERED_PLANS) % REMEMBERED_PLANS];

		if (r->stmt == stmt)
			return r;
	}
	return NULL;
}

bool
unrouted_plan_is_kept(const PlannedStmt *stmt)
{
	const RememberedPlan *r = find_remembered(stmt);

	return r != NULL && r->kept;
}

/*
 * Why stmt was not wrapped: from the ring, or from the plan itself; *kept
 * when it was eligible and kept here by its cost (the reason says so).
 */
static const char *
unrouted_reason(const PlannedStmt *stmt, bool *kept)
{
	const RememberedPlan *r = find_remembered(stmt);

	*kept = r != NULL && r->kept;
	if (r != NULL)
		return r->reason;
	/* DECLARE copies its plan into the cursor's portal (PerformCursorOpen) */
	if (ActivePortal != NULL && (ActivePortal->cursorOptions & CURSOR_OPT_FAST_PLAN))
		return eligibility_reason_cursor;
	if (stmt->commandType != CMD_SELECT)
		return "not a SELECT";
	if (stmt->hasModifyingCTE)
		return "has a data-modifying WITH";
	if (stmt->rowMarks != NIL)
		return "has FOR UPDATE/SHARE";
	return "not eligible when planned";
}

void
unrouted_executor_start(QueryDesc *query, int eflags)
{
	Decision	d;
	const PlannedStmt *stmt = query->plannedstmt;

	const char *reason;
	bool		kept;

	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) ||
		MyBackendType != B_BACKEND ||
		foresight_routing_policy == ROUTING_POLICY_LOCAL ||
		stmt->utilityStmt != NULL ||
		route_scan_is_route(stmt->planTree) ||
		!policy_nodes_registered() ||
		(stmt->commandType == CMD_SELECT && split_scan_in_plan(stmt->planTree)))
		return;
	/* reading the decision log (or any foresight view) must not fill it */
	reason = unrouted_reason(stmt, &kept);
	if (!kept && strcmp(reason, eligibility_reason_own_function) == 0)
		return;

	memset(&d, 0, sizeof(d));
	d.at = GetCurrentTimestamp();
	d.pid = MyProcPid;
	d.queryid = (int64) stmt->queryId;
	{
		RequestShape shape;

		request_shape_of_plan(stmt, &shape);
		d.cost = shape.total_cost;
		d.request_class = shape.request_class;
		d.request_shape = shape.flags;
	}
	d.latency_us = -1;
	strlcpy(d.chosen, FORESIGHT_LOCAL_NODE_NAME, NAMEDATALEN);
	strlcpy(d.policy, routing_policy_name(foresight_routing_policy), sizeof(d.policy));
	if (kept)
		strlcpy(d.reason, reason, sizeof(d.reason));
	else
		snprintf(d.reason, sizeof(d.reason), "ineligible: %s", reason);
	decision_log_append(&d);

	if (nrunning < RUNNING_MAX)
	{
		running[nrunning].query = query;
		running[nrunning].seq = d.seq;
		running[nrunning].kept = kept;
		running[nrunning].request_class = (RequestClass) d.request_class;
		INSTR_TIME_SET_CURRENT(running[nrunning].start);
		nrunning++;
	}
}

static void
finish(int i, bool failed)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, running[i].start);
	decision_log_finish(running[i].seq, INSTR_TIME_GET_MICROSEC(now), failed,
						FORESIGHT_LOCAL_NODE_NAME, NULL);
	/* a read run here by the policy's choice counts as one, as routed ones do */
	if (running[i].kept)
		latency_record(FORESIGHT_LOCAL_SLOT, 0, running[i].request_class,
					   INSTR_TIME_GET_MICROSEC(now),
					   failed ? -1 : INSTR_TIME_GET_MICROSEC(now), false, failed, false);
	running[i] = running[--nrunning];
}

void
unrouted_executor_end(QueryDesc *query)
{
	for (int i = 0; i < nrunning; i++)
		if (running[i].query == query)
		{
			finish(i, false);
			return;
		}
}

void
unrouted_xact_end(bool aborted)
{
	/* at commit, only cursors closed by the commit itself are left */
	while (nrunning > 0)
		finish(nrunning - 1, aborted);
}
