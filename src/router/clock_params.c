/*-------------------------------------------------------------------------
 *
 * clock_params.c
 *	  A routed query reads this server's transaction and statement times:
 *	  now(), transaction_timestamp(), statement_timestamp(), CURRENT_DATE,
 *	  CURRENT_TIME, CURRENT_TIMESTAMP, LOCALTIME and LOCALTIMESTAMP (with
 *	  or without precision) are sent as parameters.
 *
 * PostgreSQL keeps now() constant within a transaction; a node's
 * transaction starts later than this one (by the time between BEGIN and
 * the block's first routed read, in a transaction block), so the node's
 * now() is not this transaction's.  The remote SQL therefore carries a
 * parameter in place of each of these (one per kind and precision: equal
 * expressions stay equal, GROUP BY date_trunc('day', now()) still matches
 * its select list), and the parameter's value is taken when the query is
 * sent, at each execution of a plan that may be cached.  The values are
 * written with DateStyle ISO (year first, numeric UTC offset), which every
 * DateStyle and TimeZone read back as the same value.
 *
 * Each parameter is the transaction's start (the statement's, for
 * statement_timestamp()), a timestamptz, and the remote SQL computes the
 * reading from it as PostgreSQL does (GetSQLCurrentDate() and its
 * siblings convert it in the session's time zone, which the node session
 * has too, then round it to the precision) with stable functions:
 * "($n + 'PT0S'::interval)" for now(), "($n)::date" for CURRENT_DATE,
 * "(($n)::time without time zone)::time(3) without time zone" for
 * LOCALTIME(3), ...  Not the bare
 * parameter: these readings are stable functions, which the planner
 * estimates with but does not fold with the constants around them, so an
 * expression of them that fails when computed ("(now() - now()) / 0")
 * fails only where a row reaches it; a node's custom plan folds a
 * parameter as a constant, and would fail at planning.  timestamptz +
 * interval and the casts from timestamptz are stable, and the node's
 * planner treats them as this one treats now().
 *
 * What runs on the node without being in the remote SQL reads the node's
 * clock: the body of a function the query calls, a row-level security
 * policy.  eligibility.c keeps queries whose policies read these times
 * here; functions are documented.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "router/clock_params.h"

/* what a parameter stands for: kind * CLOCK_KIND_STEP + precision + 1 */
typedef enum ClockKind
{
	CLOCK_TIMESTAMPTZ,			/* now(), CURRENT_TIMESTAMP[(p)] */
	CLOCK_STATEMENT,			/* statement_timestamp() */
	CLOCK_TIMESTAMP,			/* LOCALTIMESTAMP[(p)] */
	CLOCK_DATE,					/* CURRENT_DATE */
	CLOCK_TIMETZ,				/* CURRENT_TIME[(p)] */
	CLOCK_TIME					/* LOCALTIME[(p)] */
} ClockKind;

#define CLOCK_KIND_STEP 16
#define CLOCK_CODE(kind, typmod) ((kind) * CLOCK_KIND_STEP + (typmod) + 1)
#define CLOCK_KIND(code) ((ClockKind) ((code) / CLOCK_KIND_STEP))
#define CLOCK_TYPMOD(code) ((code) % CLOCK_KIND_STEP - 1)

typedef struct ClockContext
{
	int			first_paramid;
	List	   *kinds;			/* Integer nodes: codes */
} ClockContext;

/* The code of a reading of the clock; -1 for anything else. */
static int
clock_code(Node *node)
{
	if (IsA(node, FuncExpr))
	{
		FuncExpr   *f = (FuncExpr *) node;

		if (f->funcid == F_NOW || f->funcid == F_TRANSACTION_TIMESTAMP)
			return CLOCK_CODE(CLOCK_TIMESTAMPTZ, -1);
		if (f->funcid == F_STATEMENT_TIMESTAMP)
			return CLOCK_CODE(CLOCK_STATEMENT, -1);
	}
	else if (IsA(node, SQLValueFunction))
	{
		SQLValueFunction *svf = (SQLValueFunction *) node;
		int32		typmod = svf->typmod;

		/* the parser caps precisions at 6; anything else is not ours */
		if (typmod < -1 || typmod >= CLOCK_KIND_STEP - 1)
			return -1;
		switch (svf->op)
		{
			case SVFOP_CURRENT_DATE:
				return CLOCK_CODE(CLOCK_DATE, -1);
			case SVFOP_CURRENT_TIME:
			case SVFOP_CURRENT_TIME_N:
				return CLOCK_CODE(CLOCK_TIMETZ, typmod);
			case SVFOP_CURRENT_TIMESTAMP:
			case SVFOP_CURRENT_TIMESTAMP_N:
				return CLOCK_CODE(CLOCK_TIMESTAMPTZ, typmod);
			case SVFOP_LOCALTIME:
			case SVFOP_LOCALTIME_N:
				return CLOCK_CODE(CLOCK_TIME, typmod);
			case SVFOP_LOCALTIMESTAMP:
			case SVFOP_LOCALTIMESTAMP_N:
				return CLOCK_CODE(CLOCK_TIMESTAMP, typmod);
			default:
				break;
		}
	}
	return -1;
}

static bool clock_walker(Node *node, void *context);

/* a cast of arg by funcid to type (with typmod when one is given) */
static Node *
cast_to(Node *arg, Oid funcid, Oid type, int32 typmod)
{
	List	   *args = list_make1(arg);

	if (typmod >= 0)
		args = lappend(args, makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
									   Int32GetDatum(typmod), false, true));
	return (Node *) makeFuncExpr(funcid, type, args, InvalidOid, InvalidOid,
								 COERCE_EXPLICIT_CAST);
}

/* p + 'PT0S'::interval: p, as stable as now() (see the header comment) */
static Node *
stable_timestamptz(Param *p)
{
	static Oid	plus = InvalidOid;
	OpExpr	   *op;

	if (!OidIsValid(plus))
		plus = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString("+")),
								TIMESTAMPTZOID, INTERVALOID);
	if (!OidIsValid(plus))
		elog(ERROR, "pg_foresight: operator timestamptz + interval not found");
	op = makeNode(OpExpr);
	op->opno = plus;
	op->opfuncid = F_TIMESTAMPTZ_PL_INTERVAL;
	op->opresulttype = TIMESTAMPTZOID;
	op->opretset = false;
	op->opcollid = InvalidOid;
	op->inputcollid = InvalidOid;
	op->args = list_make2(p, makeConst(INTERVALOID, -1, InvalidOid, sizeof(Interval),
									   PointerGetDatum(palloc0(sizeof(Interval))), false, false));
	op->location = p->location;
	return (Node *) op;
}

/*
 * How the node reads each kind from the start: the cast from timestamptz
 * (none: the stable no-op of stable_timestamptz), its type, and the cast
 * that rounds it to a precision.
 */
static const struct
{
	Oid			cast;
	Oid			type;
	Oid			scale;
}			clock_readings[] =
{
	[CLOCK_TIMESTAMPTZ] = {InvalidOid, TIMESTAMPTZOID, F_TIMESTAMPTZ_TIMESTAMPTZ_INT4},
	[CLOCK_STATEMENT] = {InvalidOid, TIMESTAMPTZOID, F_TIMESTAMPTZ_TIMESTAMPTZ_INT4},
	[CLOCK_TIMESTAMP] = {F_TIMESTAMP_TIMESTAMPTZ, TIMESTAMPOID, F_TIMESTAMP_TIMESTAMP_INT4},
	[CLOCK_DATE] = {F_DATE_TIMESTAMPTZ, DATEOID, InvalidOid},
	[CLOCK_TIMETZ] = {F_TIMETZ_TIMESTAMPTZ, TIMETZOID, F_TIMETZ_TIMETZ_INT4},
	[CLOCK_TIME] = {F_TIME_TIMESTAMPTZ, TIMEOID, F_TIME_TIME_INT4},
};

/*
 * The reading of code computed on the node from p, the transaction's (or
 * statement's) start, as GetSQLCurrentTimestamp() and its siblings compute
 * it here: converted in the session's time zone, then rounded to the
 * precision.
 */
static Node *
clock_expression(int code, Param *p)
{
	int32		typmod = CLOCK_TYPMOD(code);
	int			kind = CLOCK_KIND(code);
	Node	   *reading;

	if (kind < 0 || kind >= lengthof(clock_readings))
		elog(ERROR, "pg_foresight: unknown clock parameter %d", code);
	reading = OidIsValid(clock_readings[kind].cast) ?
		cast_to((Node *) p, clock_readings[kind].cast, clock_readings[kind].type, -1) :
		stable_timestamptz(p);
	if (typmod < 0 || !OidIsValid(clock_readings[kind].scale))
		return reading;
	return cast_to(reading, clock_readings[kind].scale, clock_readings[kind].type, typmod);
}

static Node *
clock_mutator(Node *node, ClockContext *cxt)
{
	int			code;

	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, clock_mutator, (void *) cxt, 0);
	if ((code = clock_code(node)) >= 0)
	{
		Param	   *p = makeNode(Param);
		ListCell   *lc;
		int			index = -1;

		foreach(lc, cxt->kinds)
		{
			if (intVal(lfirst(lc)) == code)
			{
				index = foreach_current_index(lc);
				break;
			}
		}
		if (index < 0)
		{
			index = list_length(cxt->kinds);
			cxt->kinds = lappend(cxt->kinds, makeInteger(code));
		}
		p->paramkind = PARAM_EXTERN;
		p->paramid = cxt->first_paramid + index;
		p->paramtype = TIMESTAMPTZOID;
		p->paramtypmod = -1;
		p->paramcollid = InvalidOid;
		p->location = exprLocation(node);
		return clock_expression(code, p);
	}
	return expression_tree_mutator(node, clock_mutator, (void *) cxt);
}

void
clock_params_replace(Query *query, int first_paramid, List **param_types, List **kinds)
{
	ClockContext cxt = {first_paramid, NIL};

	/* most queries read no clock: look before copying the tree */
	*kinds = NIL;
	if (!query_tree_walker(query, clock_walker, NULL, 0))
		return;
	(void) query_tree_mutator(query, clock_mutator, (void *) &cxt, QTW_DONT_COPY_QUERY);
	/* every parameter is a start, a timestamptz (clock_value) */
	for (int i = 0; i < list_length(cxt.kinds); i++)
		*param_types = lappend_oid(*param_types, TIMESTAMPTZOID);
	*kinds = cxt.kinds;
}

static bool
clock_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, clock_walker, context, 0);
	if (clock_code(node) >= 0)
		return true;
	return expression_tree_walker(node, clock_walker, context);
}

bool
clock_params_found(Node *node)
{
	return clock_walker(node, NULL);
}

/*
 * The value of a parameter of code, as text (DateStyle ISO set by the
 * caller): the statement's start for statement_timestamp(), else the
 * transaction's, from which the remote SQL computes the reading.
 */
static char *
clock_value(int code)
{
	TimestampTz start = CLOCK_KIND(code) == CLOCK_STATEMENT ?
		GetCurrentStatementStartTimestamp() : GetCurrentTransactionStartTimestamp();

	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(start)));
}

void
clock_params_values(List *kinds, char **values)
{
	int			saved_datestyle = DateStyle;
	int			saved_dateorder = DateOrder;

	/* year first and a numeric offset: any DateStyle and TimeZone read it back */
	DateStyle = USE_ISO_DATES;
	DateOrder = DATEORDER_YMD;
	PG_TRY();
	{
		ListCell   *lc;

		foreach(lc, kinds)
			values[foreach_current_index(lc)] = clock_value(intVal(lfirst(lc)));
	}
	PG_FINALLY();
	{
		DateStyle = saved_datestyle;
		DateOrder = saved_dateorder;
	}
	PG_END_TRY();
}

void
clock_params_describe(StringInfo buf, List *kinds, int first_paramid)
{
	static const char *const names[] = {
		[CLOCK_TIMESTAMPTZ] = "CURRENT_TIMESTAMP",
		[CLOCK_STATEMENT] = "statement_timestamp()",
		[CLOCK_TIMESTAMP] = "LOCALTIMESTAMP",
		[CLOCK_DATE] = "CURRENT_DATE",
		[CLOCK_TIMETZ] = "CURRENT_TIME",
		[CLOCK_TIME] = "LOCALTIME",
	};
	ListCell   *lc;

	foreach(lc, kinds)
	{
		int			code = intVal(lfirst(lc));
		int32		typmod = CLOCK_TYPMOD(code);

		if (buf->len > 0)
			appendStringInfoString(buf, ", ");
		appendStringInfo(buf, "$%d = ", first_paramid + foreach_current_index(lc));
		if (CLOCK_KIND(code) == CLOCK_TIMESTAMPTZ && typmod < 0)
			appendStringInfoString(buf, "now()");
		else if (typmod >= 0)
			appendStringInfo(buf, "%s(%d)", names[CLOCK_KIND(code)], typmod);
		else
			appendStringInfoString(buf, names[CLOCK_KIND(code)]);
	}
}
