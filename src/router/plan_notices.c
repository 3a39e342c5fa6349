/*-------------------------------------------------------------------------
 *
 * plan_notices.c
 *	  The notices raised while a routable statement is planned here, held
 *	  back until its route is known.
 *
 * A statement is planned here even when a node runs it: the planner
 * evaluates immutable functions of constants (to_tsquery('english', ''),
 * an xpath() that warns about a namespace, a PL/pgSQL function declared
 * IMMUTABLE) and stable ones whose value helps estimate a condition, and
 * whatever they raise reaches the client at once.  A node plans the
 * statement again and raises the same, which is passed on to the client
 * (remote/notices.c): twice, where a local run shows it once.  So the
 * planner hook holds back the NOTICE, WARNING and INFO messages of the
 * planning of a statement it may wrap, and:
 *
 *	- the statement is not wrapped: they are raised at once;
 *	- planning fails: they are raised before the error is, as locally;
 *	- it is wrapped: they wait for the next executor start of a route node
 *	  (the plan is run right after it is made: a simple query, a Bind, an
 *	  EXECUTE; the plan cache copies plans, so a node's address would not
 *	  tell), which raises them if the query runs here (or for EXPLAIN), and
 *	  forgets them once a node answers (the node raised its own);
 *	- no route node starts before another statement is planned: they are
 *	  raised then, late rather than never.
 *
 * A cached plan is planned once, like locally: later executions have no
 * planning notices, here or on a node that reuses its own plan.
 *
 * How: emit_log_hook sees a message only when it goes to the server log,
 * so while a statement is planned log_min_messages is DEBUG5 (set directly,
 * not through the GUC machinery, and set back after): the hook then sees
 * every message, keeps a copy of those going to the client at NOTICE,
 * WARNING and INFO and stops them, and lets the others reach the log as
 * the real log_min_messages says (is_log_level_output's rule).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/memutils.h"

#include "router/plan_notices.h"

static emit_log_hook_type prev_emit_log_hook = NULL;
static bool hook_installed = false;
static MemoryContext held_cxt = NULL;
static bool holding = false;
static List *held = NIL;		/* ErrorData copies, in held_cxt */
static List *pending = NIL;		/* held for the next route node's start */

static int	saved_log_min_messages;

/* would a message of elevel go to the server log (elog.c's is_log_level_output)? */
static bool
would_log(int elevel, int log_min_level)
{
	if (elevel == LOG || elevel == LOG_SERVER_ONLY)
		return log_min_level == LOG || log_min_level <= ERROR;
	if (elevel == WARNING_CLIENT_ONLY)
		return false;
	if (log_min_level == LOG)
		return elevel >= FATAL;
	return elevel >= log_min_level;
}

static void
hold_back(ErrorData *edata)
{
	if (holding)
	{
		if (edata->output_to_client &&
			(edata->elevel == NOTICE || edata->elevel == WARNING ||
			 edata->elevel == WARNING_CLIENT_ONLY || edata->elevel == INFO))
		{
			/* in errfinish: copy the message being emitted */
			MemoryContext old = MemoryContextSwitchTo(held_cxt);

			held = lappend(held, CopyErrorData());
			MemoryContextSwitchTo(old);
			/* raised again, and logged then, if it is to be shown at all */
			edata->output_to_client = false;
			edata->output_to_server = false;
			return;
		}
		/* here only because log_min_messages is DEBUG5 for the while */
		if (!would_log(edata->elevel, saved_log_min_messages))
		{
			edata->output_to_server = false;
			return;
		}
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

static void
stop_holding(void)
{
	if (holding)
		log_min_messages = saved_log_min_messages;
	holding = false;
}

void
plan_notices_raise(List **notices)
{
	List	   *l = *notices;
	ListCell   *lc;

	*notices = NIL;
	foreach(lc, l)
	{
		ErrorData  *edata = (ErrorData *) lfirst(lc);

		ThrowErrorData(edata);
		FreeErrorData(edata);
	}
	list_free(l);
}

void
plan_notices_forget(List **notices)
{
	ListCell   *lc;

	foreach(lc, *notices)
		FreeErrorData((ErrorData *) lfirst(lc));
	list_free(*notices);
	*notices = NIL;
}

void
plan_notices_hold(void)
{
	if (!hook_installed)
	{
		held_cxt = AllocSetContextCreate(TopMemoryContext, "pg_foresight plan notices",
										 ALLOCSET_SMALL_SIZES);
		prev_emit_log_hook = emit_log_hook;
		emit_log_hook = hold_back;
		hook_installed = true;
	}
	/* a plan that kept some and never ran: raise them now */
	plan_notices_raise(&pending);
	/* left by an error between plan_notices_stop() and the decision */
	plan_notices_forget(&held);
	saved_log_min_messages = log_min_messages;
	log_min_messages = DEBUG5;
	holding = true;
}

void
plan_notices_stop(void)
{
	stop_holding();
}

void
plan_notices_release(void)
{
	stop_holding();
	plan_notices_raise(&held);
}

void
plan_notices_keep(void)
{
	MemoryContext old;

	stop_holding();
	if (held == NIL)
		return;
	old = MemoryContextSwitchTo(held_cxt);
	pending = list_concat(pending, held);
	MemoryContextSwitchTo(old);
	list_free(held);
	held = NIL;
}

List *
plan_notices_take(void)
{
	List	   *l = pending;

	pending = NIL;
	return l;
}
