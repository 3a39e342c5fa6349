/*-------------------------------------------------------------------------
 *
 * lift_constants.c
 *	  Turn the constants of a parameterless query's WHERE and JOIN ... ON
 *	  conditions into parameters, so that a query shape has one text: this
 *	  server routes a shape seen before without planning it
 *	  (route_cache.c), and a node keeps a point lookup prepared instead of
 *	  parsing and planning every simple-protocol query again.
 *
 * "SELECT abalance FROM pgbench_accounts WHERE aid = 42" is sent as
 * "... WHERE (aid = $1)" with $1 = '42' (type int4): the text is the same
 * for every aid, so the node prepares it once and, like any prepared
 * statement, switches to a generic plan when that is no worse than the
 * custom ones (plan_cache_mode applies): no plan can change the row of a
 * unique key.  A lifted statement whose rows a plan could change is sent
 * unnamed, and the node plans it with its values, as this server did
 * (single_row.c, route_scan.c).  The value is the constant's
 * output text, which is exactly what the deparser would have written as a
 * literal, and the parameter is declared with the constant's type, so the
 * node parses the same expression: the result cannot change.
 *
 * Only conditions are lifted.  Target-list constants decide output column
 * types and names, LIMIT and OFFSET constants steer the node's plan shape,
 * and a constant with a type modifier or of a pseudo-type has no faithful
 * parameter; all of them stay literals.  Sub-queries are left as they are,
 * and so is current_setting('name'): whether it may run on a node depends
 * on the name (eligibility.c), so queries naming another setting must not
 * share its shape (route_cache.c).
 *
 * Some constants are not values but part of the syntax the deparser writes
 * (ruleutils.c reads them back from the tree), and stay literals too:
 *
 * - the arguments after the first of a cast function (FuncExpr shown as a
 *	 cast): the type modifier and the "explicit" flag of a length coercion,
 *	 "x::varchar(3)" being varchar(x, 7, true).  The deparser finds the
 *	 typmod it prints in that constant (exprIsLengthCoercion); as a
 *	 parameter it prints "x::varchar", which does not truncate.  This covers
 *	 every typmod cast (numeric(p,s), char(n), bit(n), timestamp(p), ...),
 *	 including the element coercion of an array cast.
 * - the direct arguments of a function shown in SQL syntax (EXTRACT(field
 *	 FROM ...), NORMALIZE(x, form), x IS form NORMALIZED, ...): the deparser
 *	 prints some of them as keywords, reading the constant's value.
 *
 * Nor are the constants of a sub-expression that the planner computes
 * itself (no column, sub-query or function that is not immutable:
 * "1 / 0", "lower('ABC')", "2 + 3"): eval_const_expressions folds it at
 * planning, raising its errors there, even in a branch the executor would
 * never reach ("CASE WHEN x > 0 THEN true ELSE 1 / 0 = 1 END" fails here
 * whatever the rows).  As parameters, a node's generic plan would
 * evaluate it only where reached, and the same query could return rows
 * there and fail here; as literals, the node folds it as this server does.
 * For the same reason a constant stays a literal where its value lets the
 * planner simplify the expression around it: an argument of AND, OR, NOT
 * or COALESCE, a CASE's argument or the test of one of its arms, a field
 * of a ROW tested for NULL ("aid / 0 = 1 OR true" is true here without
 * dividing; with $1 for true, a generic plan divides), and an argument of
 * a function the planner plans with its arguments' values: one written in
 * SQL, which it inlines and then simplifies (a body "CASE WHEN k > 0 THEN
 * x ELSE 1 / 0 END" with k = 5 loses its ELSE here; with k = $2 a node's
 * generic plan folds the division and fails), or one with a planner
 * support function that is not PostgreSQL's own.
 *
 * The value of an OID alias (regclass, regtype, regproc, ...) is sent as
 * the OID in digits, which every reg* input function reads as it is: its
 * output, a name, would be looked up again on the node, through the
 * session's search_path, and an object of this session's temporary schema
 * has no name there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteManip.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "router/lift_constants.h"

/* a query's parameter numbers must fit the remote protocol's Int16 count */
#define LIFT_MAX_PARAMS 1000

typedef struct LiftContext
{
	List	   *types;			/* OIDs, parameter n at position n-1 */
	List	   *values;			/* String nodes: output text of each value */
} LiftContext;

static bool
liftable(Const *c)
{
	char		typtype;

	if (c->constisnull || c->consttypmod != -1 || c->consttype == UNKNOWNOID)
		return false;
	typtype = get_typtype(c->consttype);
	return typtype == TYPTYPE_BASE || typtype == TYPTYPE_ENUM ||
		typtype == TYPTYPE_RANGE || typtype == TYPTYPE_MULTIRANGE ||
		typtype == TYPTYPE_DOMAIN;
}

/* an OID alias type: its input function also reads a bare OID */
static bool
is_oid_alias(Oid typid)
{
	switch (typid)
	{
		case REGPROCOID:
		case REGPROCEDUREOID:
		case REGOPEROID:
		case REGOPERATOROID:
		case REGCLASSOID:
		case REGCOLLATIONOID:
		case REGTYPEOID:
		case REGROLEOID:
		case REGNAMESPACEOID:
		case REGCONFIGOID:
		case REGDICTIONARYOID:
			return true;
		default:
			return false;
	}
}

static Node *lift_mutator(Node *node, LiftContext *cxt);

/*
 * Does the planner compute node at planning (see the header comment)?  An
 * expression without columns, sub-queries or functions other than
 * immutable ones: eval_const_expressions folds what it can of it, so all
 * of its constants stay literals.
 */
static bool
folded_when_planned(Node *node)
{
	return !contain_var_clause(node) && !checkExprHasSubLink(node) &&
		!contain_mutable_functions(node);
}

/*
 * A function whose deparsed form is syntax rather than a call: a cast, or
 * SQL-mandated syntax.  Its constant arguments are kept as they are (see
 * the header comment), except the value a cast converts; its other
 * arguments are lifted as usual.
 */
static Node *
lift_syntax_function(FuncExpr *func, LiftContext *cxt)
{
	FuncExpr   *copy = makeNode(FuncExpr);
	bool		is_cast = (func->funcformat == COERCE_EXPLICIT_CAST ||
						   func->funcformat == COERCE_IMPLICIT_CAST);
	ListCell   *lc;

	memcpy(copy, func, sizeof(FuncExpr));
	copy->args = NIL;
	foreach(lc, func->args)
	{
		Node	   *arg = (Node *) lfirst(lc);
		bool		value = is_cast && foreach_current_index(lc) == 0;

		if (arg != NULL && IsA(arg, Const) && !value)
			copy->args = lappend(copy->args, arg);
		else
			copy->args = lappend(copy->args, lift_mutator(arg, cxt));
	}
	return (Node *) copy;
}

/*
 * Does the planner plan a call of funcid with its arguments' values: a
 * function written in SQL (inlined, then simplified), or one with a
 * planner support function other than PostgreSQL's own (which simplify
 * without changing a result)?
 */
static bool
planned_with_arguments(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc proc;
	bool		result;

	if (!HeapTupleIsValid(tuple))
		return true;
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	result = proc->prolang == SQLlanguageId ||
		(OidIsValid(proc->prosupport) && funcid >= FirstNormalObjectId);
	ReleaseSysCache(tuple);
	return result;
}

/*
 * Does the planner simplify node by the values of its constant arguments
 * (see the header comment)?
 */
static bool
keeps_constant_arguments(Node *node)
{
	switch (nodeTag(node))
	{
		case T_BoolExpr:
		case T_CoalesceExpr:
		case T_CaseExpr:
			return true;
		case T_FuncExpr:
			return planned_with_arguments(((FuncExpr *) node)->funcid);
		case T_OpExpr:
		case T_DistinctExpr:		/* (both are OpExprs) */
		case T_NullIfExpr:
			return planned_with_arguments(get_opcode(((OpExpr *) node)->opno));
		case T_ScalarArrayOpExpr:
			return planned_with_arguments(get_opcode(((ScalarArrayOpExpr *) node)->opno));
		case T_NullTest:
			/* ROW(x, 5) IS NULL is false without evaluating x */
			return IsA(((NullTest *) node)->arg, RowExpr);
		default:
			return false;
	}
}

/*
 * lift_mutator for the arguments of such a node (the argument list, a
 * CASE's argument, arms and default, the fields of a ROW tested for NULL):
 * its constants stay, the rest is lifted as usual.
 */
static Node *
lift_keeping_constants(Node *node, LiftContext *cxt)
{
	if (node == NULL || IsA(node, Const))
		return node;
	if (IsA(node, List))
	{
		List	   *lifted = NIL;
		ListCell   *lc;

		foreach(lc, (List *) node)
			lifted = lappend(lifted, lift_keeping_constants((Node *) lfirst(lc), cxt));
		return (Node *) lifted;
	}
	if (IsA(node, CaseWhen) || IsA(node, RowExpr))
		return expression_tree_mutator(node, lift_keeping_constants, (void *) cxt);
	return lift_mutator(node, cxt);
}

static Node *
lift_mutator(Node *node, LiftContext *cxt)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return node;			/* a sub-query keeps its literals */
	/* the join tree, and lists */
	if (IsA(node, FromExpr) || IsA(node, JoinExpr) || IsA(node, List))
		return expression_tree_mutator(node, lift_mutator, (void *) cxt);
	if (!IsA(node, Const) && folded_when_planned(node))
		return node;			/* the planner computes it: literals */
	if (keeps_constant_arguments(node))
		return expression_tree_mutator(node, lift_keeping_constants, (void *) cxt);
	if (IsA(node, FuncExpr) &&
		(((FuncExpr *) node)->funcid == F_CURRENT_SETTING_TEXT ||
		 ((FuncExpr *) node)->funcid == F_CURRENT_SETTING_TEXT_BOOL))
		return node;			/* so does the name of a setting */
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcformat != COERCE_EXPLICIT_CALL)
		return lift_syntax_function((FuncExpr *) node, cxt);
	if (IsA(node, Const) && liftable((Const *) node) &&
		list_length(cxt->types) < LIFT_MAX_PARAMS)
	{
		Const	   *c = (Const *) node;
		Param	   *p = makeNode(Param);
		Oid			outfunc;
		bool		isvarlena;

		if (is_oid_alias(c->consttype))
			cxt->values = lappend(cxt->values,
								  makeString(psprintf("%u", DatumGetObjectId(c->constvalue))));
		else
		{
			getTypeOutputInfo(c->consttype, &outfunc, &isvarlena);
			cxt->values = lappend(cxt->values,
								  makeString(OidOutputFunctionCall(outfunc, c->constvalue)));
		}
		cxt->types = lappend_oid(cxt->types, c->consttype);

		p->paramkind = PARAM_EXTERN;
		p->paramid = list_length(cxt->types);
		p->paramtype = c->consttype;
		p->paramtypmod = -1;
		p->paramcollid = c->constcollid;
		p->location = c->location;
		return (Node *) p;
	}
	return expression_tree_mutator(node, lift_mutator, (void *) cxt);
}

void
lift_constants(Query *query, List **param_types, List **param_values)
{
	LiftContext cxt = {NIL, NIL};

	Assert(*param_types == NIL);
	query->jointree = (FromExpr *) lift_mutator((Node *) query->jointree, &cxt);
	*param_types = cxt.types;
	*param_values = cxt.values;
}

static bool
external_param_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind == PARAM_EXTERN;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, external_param_walker, context, 0);
	return expression_tree_walker(node, external_param_walker, context);
}

bool
query_has_external_params(Query *query)
{
	return query_tree_walker(query, external_param_walker, NULL, 0);
}
