/*-------------------------------------------------------------------------
 *
 * planner_hook.c
 *	  Plan every statement normally; wrap an eligible top-level SELECT in a
 *	  "Foresight Route" custom scan that keeps the local plan as its child
 *	  and carries the deparsed remote SQL.
 *
 * The planner rewrites the query tree it is given, so the query is copied
 * before planning and deparsed from the copy (a query without parameters
 * of its own has its conditions' constants lifted into parameters first,
 * lift_constants.c).  A parameterless query of a shape this backend has
 * routed before is not planned at all: it gets a copy of that shape's route
 * node, its local plan deferred to execution (route_cache.c); one of a
 * class the coordinator's own cost keeps here for now is planned here and
 * left unwrapped (kept_here.c).  A plan left
 * unwrapped is remembered with the reason, for the decision log
 * (unrouted_log.c).  Only client statements are wrapped: not statements
 * planned inside a function (one running outside any executor included:
 * a trigger function at COMMIT, an argument of EXECUTE), another statement
 * or another planner call, no query whose deparsed text would mean
 * something else on a node (deparse_limits.c), and nothing on a server in
 * recovery when foresight.standby_routing is off.  With the policy local,
 * or with no node registered, nothing is wrapped and the hook costs one
 * copy of nothing; plans cached meanwhile
 * are invalidated when either changes (routing_policy's assign hook,
 * registry generation).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "optimizer/planner.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/plancache.h"
#include "utils/ruleutils.h"

#include "registry/registry.h"
#include "monitor/worker.h"
#include "router/clock_params.h"
#include "router/coordinator_cost.h"
#include "router/deparse_limits.h"
#include "router/eligibility.h"
#include "router/kept_here.h"
#include "router/lift_constants.h"
#include "router/plan_notices.h"
#include "router/policy.h"
#include "stats/request_shape.h"
#include "router/route_cache.h"
#include "router/route_plan.h"
#include "router/route_types.h"
#include "router/planner_hook.h"
#include "router/random_seed.h"
#include "router/router.h"
#include "router/single_row.h"
#include "router/split_scan.h"
#include "router/unrouted_log.h"
#include "split/split.h"
#include "stats/decision_log.h"
#include "stats/request_class.h"

static planner_hook_type prev_planner_hook = NULL;
static post_parse_analyze_hook_type prev_post_parse_analyze_hook = NULL;

/*
 * The SELECT just analyzed for the simple protocol, until the next planner
 * call (or the transaction's end): a plan made for it is run once and
 * thrown away.  The extended protocol analyzes with variable parameters
 * (parse_analyze_varparams), even without any, and its plans may be kept
 * by the plan cache and executed again; so may those of a plan cache's
 * re-analysis, which plans a copy of the query.  Only a plan that is not
 * kept may be left unwrapped on a verdict of the moment (kept_here.c).
 */
static Query *one_shot_query = NULL;

/*
 * Deparse with every digit of float constants and with unambiguous date and
 * interval styles, whatever the session says: the text may be sent long
 * after planning (a cached plan, a known query shape), to a session whose
 * DateStyle has changed since.  Intervals are written in ISO 8601
 * (P1Y2M3DT4H5M6S), which interval_in reads back exactly under every
 * IntervalStyle: the postgres style's text of the smallest intervals
 * ('-2562047788:00:54.775808') is refused by PostgreSQL 15's interval_in.  String literals are written with
 * standard_conforming_strings on, and those holding a backslash then as
 * E'...' (deparse_limits.c), so that the text reads the same under either
 * setting of the session when it is sent.  When lift is set, the
 * conditions' constants are first turned into parameters
 * (lift_constants.c), their values written under the same settings.  When
 * clock_kinds is given, the readings of the transaction's and statement's
 * times become parameters too, numbered after those in *param_types
 * (clock_params.c).  With deparse unset, only that is done.  The variables
 * are set directly rather than through the GUC machinery: a GUC nest level
 * costs a pass over every setting at its end, per plan.  Returns NULL when
 * the text could not be made independent of the settings (it is then not
 * routed).
 */
static char *
lift_and_deparse(Query *query, bool lift, bool deparse,
				 List **param_types, List **param_values, List **clock_kinds)
{
	int			saved_digits = extra_float_digits;
	int			saved_datestyle = DateStyle;
	int			saved_dateorder = DateOrder;
	int			saved_intervalstyle = IntervalStyle;
	bool		saved_conforming = standard_conforming_strings;
	char	   *volatile sql = NULL;

	extra_float_digits = 3;
	DateStyle = USE_ISO_DATES;
	DateOrder = DATEORDER_YMD;
	IntervalStyle = INTSTYLE_ISO_8601;
	standard_conforming_strings = true;
	PG_TRY();
	{
		if (lift)
			lift_constants(query, param_types, param_values);
		if (clock_kinds)
			clock_params_replace(query, list_length(*param_types) + 1,
								 param_types, clock_kinds);
		if (deparse)
			sql = deparse_portable_literals(pg_get_querydef(query, false));
	}
	PG_FINALLY();
	{
		extra_float_digits = saved_digits;
		DateStyle = saved_datestyle;
		DateOrder = saved_dateorder;
		IntervalStyle = saved_intervalstyle;
		standard_conforming_strings = saved_conforming;
	}
	PG_END_TRY();
	return sql;
}

/* the planner below this hook */
static PlannedStmt *
plan_below(Query *parse, const char *query_string, int cursorOptions,
		   ParamListInfo boundParams)
{
	PlannedStmt *volatile stmt;

	router_plan_depth++;
	PG_TRY();
	{
		if (prev_planner_hook)
			stmt = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
		else
			stmt = standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		router_plan_depth--;
	}
	PG_END_TRY();
	return stmt;
}

/*
 * plan_below for a statement that may be wrapped: the notices of planning
 * it wait for its route, since a node would raise them again
 * (plan_notices.c); an error raises them before itself.
 */
static PlannedStmt *
plan_holding_notices(Query *parse, const char *query_string, int cursorOptions,
					 ParamListInfo boundParams)
{
	PlannedStmt *volatile stmt = NULL;

	plan_notices_hold();
	PG_TRY();
	{
		stmt = plan_below(parse, query_string, cursorOptions, boundParams);
	}
	PG_CATCH();
	{
		plan_notices_release();
		PG_RE_THROW();
	}
	PG_END_TRY();
	plan_notices_stop();
	return stmt;
}

/* after parse analysis: note a simple-protocol SELECT (one_shot_query) */
static void
router_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (prev_post_parse_analyze_hook)
		prev_post_parse_analyze_hook(pstate, query, jstate);
	one_shot_query = (pstate->p_paramref_hook == NULL && query->commandType == CMD_SELECT &&
					  query->utilityStmt == NULL) ? query : NULL;
}

void
router_one_shot_forget(void)
{
	one_shot_query = NULL;
}

/*
 * Plan a statement that may be wrapped, here: *copy is left as it was
 * before planning (the planner rewrites parse), for deparsing, and so is
 * *split_copy when foresight.split is on.
 */
static PlannedStmt *
plan_here(Query *parse, const char *query_string, int cursorOptions,
		  ParamListInfo boundParams, Query **copy, Query **split_copy)
{
	bool		seed_after = random_seed_note_query(parse);
	PlannedStmt *stmt;

	*copy = copyObject(parse);
	*split_copy = foresight_split ? copyObject(parse) : NULL;
	stmt = plan_holding_notices(parse, query_string, cursorOptions, boundParams);
	if (seed_after)
		random_seed_note_planned(parse);
	return stmt;
}

PlannedStmt *
router_plan_deferred(Query *query, const char *query_string)
{
	return plan_below(query, query_string, 0, NULL);
}

/*
 * Is a function running around this planner call?  A function that plans
 * statements (PL/pgSQL, a SQL function, anything through SPI) reports its
 * errors through an error context callback, which is on the stack while it
 * plans; a client's statement is planned with none but the one that
 * reports the parameters of a Bind message (ParamsErrorCallback).
 */
static bool
planning_in_function(void)
{
	for (ErrorContextCallback *c = error_context_stack; c != NULL; c = c->previous)
	{
		if (c->callback != ParamsErrorCallback)
			return true;
	}
	return false;
}

/*
 * Is this planner call for a statement run by a function or by another
 * statement?  The executor and utility hooks count nesting (router.c), but
 * functions also run outside both: a deferred trigger (constraint
 * triggers, deferred foreign keys) fires at COMMIT, after the client's
 * statement has ended; the arguments of EXECUTE are evaluated by the
 * utility statement itself; a domain's check runs when a Bind message's
 * parameter is read.  The trigger depth and the error context stack show
 * those.
 *
 * Wrapping such a statement is not only against the rule that statements
 * run by functions are not routed: PL/pgSQL evaluates a "simple
 * expression" (a SELECT of one column without a range table, sub-links or
 * any clause: exec_simple_check_plan in PostgreSQL 15's pl_exec.c, e.g.
 * "NEW.bal < 0" or the arguments of RAISE) by reading the expression out of
 * its plan, whose top must be a bare Result (exec_save_simple_expr): a
 * route node there made it fail with "unexpected plan node type: 36" and
 * lost the transaction at COMMIT.  A client's own "SELECT f(42)" has that
 * shape too, and is run by the executor: it is still routed.
 */
static bool
planning_nested(void)
{
	LOCAL_FCINFO(fcinfo, 0);

	if (router_plan_depth > 0 || (router_exec_depth > 0 && !router_explaining))
		return true;
	if (planning_in_function())
		return true;
	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	return DatumGetInt32(pg_trigger_depth(fcinfo)) > 0;
}

/*
 * May this planner call use the shape cache (route_cache.c)?  A client's
 * own parameterless query, planned for one execution or kept as it is
 * (the simple protocol, or the extended one without parameters), and not
 * under a utility statement: EXPLAIN shows the local plan, so it makes one.
 */
static bool
route_cache_applies(Query *parse, int cursorOptions, ParamListInfo boundParams)
{
	return foresight_defer_local_planning && router_lifts_constants() && !foresight_split &&
		boundParams == NULL && cursorOptions == CURSOR_OPT_PARALLEL_OK &&
		router_utility_depth == 0 && !router_explaining &&
		!query_has_external_params(parse);
}

/*
 * force_parallel_mode = regress puts a Gather that EXPLAIN does not show
 * (an "invisible" one, single copy, one worker) on top of a parallel-safe
 * plan.  EXPLAIN hides it only at the top of the plan, and the route node
 * is the top now: wrapped, it would show, with its worker's lines under
 * ANALYZE.  So it is taken away, and the local plan under the route node
 * and its EXPLAIN are those of the statement without routing.  The plan
 * then runs here in this backend, not in the one worker the setting asks
 * for (a developer's setting to test parallel workers; the statement
 * stays in parallel mode).  PostgreSQL 15 adds the Gather only to a plan
 * without initPlans, so none is left behind.
 */
static void
drop_invisible_gather(PlannedStmt *stmt)
{
	Gather	   *gather;

	if (!IsA(stmt->planTree, Gather))
		return;
	gather = (Gather *) stmt->planTree;
	if (!gather->invisible || gather->plan.initPlan != NIL || outerPlan(gather) == NULL)
		return;
	stmt->planTree = outerPlan(gather);
}

static PlannedStmt *
router_planner(Query *parse, const char *query_string, int cursorOptions,
			   ParamListInfo boundParams)
{
	PlannedStmt *stmt = NULL;
	Query	   *copy = NULL;
	Query	   *probe = NULL;
	List	   *probe_types = NIL;
	List	   *probe_values = NIL;
	List	   *probe_clock = NIL;
	List	   *clock = NIL;
	uint64		shape_hash = 0;
	const char *off_reason = NULL;
	const char *reason;
	List	   *param_types = NIL;
	List	   *lifted = NIL;
	RequestShape shape;
	char	   *sql;
	int			value_settings = 0;
	bool		nested;
	Query	   *split_copy = NULL;
	const char *split_reason = NULL;
	bool		seed_after;
	bool		one_shot = parse == one_shot_query;
	bool		cacheable;

	one_shot_query = NULL;
	nested = planning_nested();
	if (nested)
		off_reason = "statement inside a function or another statement";
	else if (MyBackendType != B_BACKEND)
		off_reason = "not a client backend";
	else if (foresight_routing_policy == ROUTING_POLICY_LOCAL)
		off_reason = "policy is local";
	else if (parse->commandType != CMD_SELECT || parse->utilityStmt != NULL)
		off_reason = "not a SELECT";
	else if (parse->hasModifyingCTE)
		off_reason = "has a data-modifying WITH";
	else if (parse->rowMarks != NIL)
		off_reason = "has FOR UPDATE/SHARE";
	else if (RecoveryInProgress() && !foresight_standby_routing)
		off_reason = "this server is in recovery and foresight.standby_routing is off";
	else if (!policy_nodes_registered())
		off_reason = "no node is registered and enabled";

	if (off_reason != NULL)
	{
		seed_after = random_seed_note_query(parse);
		stmt = plan_below(parse, query_string, cursorOptions, boundParams);
		if (seed_after)
			random_seed_note_planned(parse);
		eligibility_last_reason = off_reason;
		/* nested plans are never logged: keep the ring for top-level ones */
		if (!nested)
			unrouted_remember_plan(stmt, off_reason);
		return stmt;
	}

	/*
	 * A simple-protocol read of a class the coordinator's own cost keeps
	 * here for now (kept_here.c): planned here, and left as it is when its
	 * class is kept.  Else it goes on as any other, planned already.
	 * Neither is timed for the coordinator's cost (coordinator_cost.h): the
	 * reads decided in full measure it.
	 */
	cacheable = route_cache_applies(parse, cursorOptions, boundParams);
	if (one_shot && cacheable && kept_here_pending())
	{
		char		kept_reason[DECISION_TEXT_MAX];

		coordinator_cost_planning_untimed();
		stmt = plan_here(parse, query_string, cursorOptions, boundParams, &copy, &split_copy);
		if (kept_here_applies(request_class_from_cost(stmt->planTree->total_cost),
							  kept_reason, sizeof(kept_reason)))
		{
			/* the log says why it runs here: ineligible, or kept */
			reason = eligibility_check_statement(copy, stmt, cursorOptions, &param_types);
			eligibility_last_reason = reason;
			plan_notices_release();
			if (reason != NULL)
				unrouted_remember_plan(stmt, reason);
			else
				unrouted_remember_kept(stmt, kept_reason);
			return stmt;
		}
	}
	else
	{
		/* the planning of a read that may be routed counts in what it costs */
		coordinator_cost_planning_start();
	}

	/* a shape seen before: route it without planning it here */
	if (stmt == NULL && cacheable)
	{
		probe = copyObject(parse);
		/* equal() compares the statement's length, which the constants change */
		probe->stmt_location = 0;
		probe->stmt_len = 0;
		(void) lift_and_deparse(probe, true, false, &probe_types, &probe_values,
								&probe_clock);
		shape_hash = route_cache_hash(parse);
		stmt = route_cache_lookup(shape_hash, probe, parse, probe_values);
		if (stmt != NULL)
		{
			eligibility_last_reason = NULL;
			coordinator_cost_planning_done(stmt);
			return stmt;
		}
	}

	/* (a shape seen before was eligible: it does not call setseed()) */
	if (stmt == NULL)
		stmt = plan_here(parse, query_string, cursorOptions, boundParams, &copy, &split_copy);

	reason = eligibility_check_statement(copy, stmt, cursorOptions, &param_types);
	if (reason == NULL)
	{
		Query	   *remote = copy;

		/* (copy's constants are not lifted yet) */
		value_settings = route_values_settings((Node *) copy);

		if (probe != NULL)
		{
			/* already lifted */
			Assert(param_types == NIL);
			remote = probe;
		}
		else
		{
			/*
			 * a query without parameters of its own: lift its constants; and
			 * the readings of the transaction's times in any case
			 */
			(void) lift_and_deparse(copy, param_types == NIL && router_lifts_constants(),
									false, &param_types, &lifted, &clock);
		}
		/* lifted constants are parameters: the limits concern the text */
		reason = deparse_limit_reason(remote);
		if (reason == NULL)
		{
			sql = lift_and_deparse(remote, false, true, NULL, NULL, NULL);
			if (sql == NULL)
				reason = "a string literal could not be written for every standard_conforming_strings";
		}
	}
	eligibility_last_reason = reason;
	if (reason != NULL)
	{
		plan_notices_release();
		unrouted_remember_plan(stmt, reason);
		return stmt;
	}

	/* a read cut into parts run on several nodes (split_scan_plan.c) */
	if (split_copy != NULL)
	{
		PlannedStmt *split = split_scan_try(split_copy, stmt, query_string,
											cursorOptions, &split_reason);

		if (split != NULL)
		{
			/* the combine step runs here: so do the notices of planning */
			plan_notices_release();
			return split;
		}
	}

	drop_invisible_gather(stmt);
	request_shape_of_plan(stmt, &shape);
	if (probe != NULL)
	{
		/* keep the plan for its shape */
		stmt->planTree = route_scan_wrap(stmt->planTree, sql, probe_types, probe_values,
										 probe_clock, GetUserId(), shape.flags, value_settings,
										 plan_returns_single_row(stmt->planTree));
		route_cache_store(shape_hash, probe, stmt);
	}
	else
		stmt->planTree = route_scan_wrap(stmt->planTree, sql, param_types, lifted,
										 clock, GetUserId(), shape.flags, value_settings,
										 plan_returns_single_row(stmt->planTree));
	/* routed whole though splitting was asked for: why, for the decision log */
	if (split_reason != NULL)
		route_scan_set_not_split(stmt->planTree, split_reason);
	plan_notices_keep();
	coordinator_cost_planning_done(stmt);
	return stmt;
}

void
router_install_planner_hook(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = router_planner;
	prev_post_parse_analyze_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = router_post_parse_analyze;
}
