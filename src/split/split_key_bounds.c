/*-------------------------------------------------------------------------
 *
 * split_key_bounds.c
 *	  The range of the split key that a query's own conditions leave: from
 *	  "key < c", "key >= c", "key BETWEEN a AND b", "key = c" ANDed into
 *	  the WHERE clause at the table's level, so the cut points are chosen
 *	  inside it (split_ranges.c).
 *
 * "WHERE aid < 1000000" over a table of ten million keys reads a tenth of
 * the key's histogram; cut across the whole histogram, the parts that
 * hold rows would be the few under 1,000,000, and the rest empty.  Only
 * the evenness of the parts depends on these bounds: the parts' own
 * conditions partition the key's whole domain (split_ranges.h), so a bound
 * taken wrongly, or not at all, never loses or doubles a row.  So the
 * bounds are read simply: a comparison of the key column (under its
 * operator class's type) with a constant, by an operator of the key's
 * operator family taking that type on both sides, in a conjunction at the
 * top of the table's query level.  Any other expression (a function call
 * even of constants, a parameter), a comparison across types, or an OR
 * leaves that side unbounded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "utils/lsyscache.h"

#include "split/split_ranges.h"

/* the key column itself, under any relabelling (a domain, varchar) */
static bool
is_key(Node *node, const SplitKey *key, Index rti)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node && IsA(node, Var) &&
		((Var *) node)->varno == rti &&
		((Var *) node)->varlevelsup == 0 &&
		((Var *) node)->varattno == key->attnum;
}

/*
 * A non-null constant.  Expressions are not folded here: evaluating one
 * could raise an error the planner would not (it skips what a constant
 * FALSE beside it makes moot).
 */
static Const *
constant_of(Node *node)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node && IsA(node, Const) && !((Const *) node)->constisnull)
		return (Const *) node;
	return NULL;
}

static int
compare(const SplitKey *key, FmgrInfo *cmp, Datum a, Datum b)
{
	return DatumGetInt32(FunctionCall2Coll(cmp, key->collation, a, b));
}

/* narrow bounds by one conjunct, when it is a comparison of the key */
static void
narrow(Node *clause, const SplitKey *key, Index rti, FmgrInfo *cmp, SplitKeyBounds *bounds)
{
	OpExpr	   *op;
	Node	   *left;
	Node	   *right;
	Const	   *value;
	int			strategy;
	Oid			lefttype;
	Oid			righttype;

	if (!IsA(clause, OpExpr) || list_length(((OpExpr *) clause)->args) != 2)
		return;
	op = (OpExpr *) clause;
	if (op->opretset || !op_in_opfamily(op->opno, key->opfamily))
		return;
	get_op_opfamily_properties(op->opno, key->opfamily, false, &strategy, &lefttype, &righttype);
	if (lefttype != key->cmptype || righttype != key->cmptype)
		return;
	/* under another collation, the comparison orders differently */
	if (OidIsValid(key->collation) && op->inputcollid != key->collation)
		return;
	left = linitial(op->args);
	right = lsecond(op->args);
	if (is_key(left, key, rti) && (value = constant_of(right)) != NULL)
		;
	else if (is_key(right, key, rti) && (value = constant_of(left)) != NULL)
		strategy = BTCommuteStrategyNumber(strategy);	/* c < key is key > c */
	else
		return;

	if (strategy != BTLessStrategyNumber && strategy != BTLessEqualStrategyNumber &&
		(!bounds->has_lower || compare(key, cmp, value->constvalue, bounds->lower) > 0))
	{
		bounds->has_lower = true;
		bounds->lower = value->constvalue;
	}
	if (strategy != BTGreaterStrategyNumber && strategy != BTGreaterEqualStrategyNumber &&
		(!bounds->has_upper || compare(key, cmp, value->constvalue, bounds->upper) < 0))
	{
		bounds->has_upper = true;
		bounds->upper = value->constvalue;
	}
}

static void
walk_conjuncts(Node *quals, const SplitKey *key, Index rti, FmgrInfo *cmp, SplitKeyBounds *bounds)
{
	ListCell   *lc;

	if (quals == NULL)
		return;
	if (IsA(quals, List))
	{
		foreach(lc, (List *) quals)
			walk_conjuncts(lfirst(lc), key, rti, cmp, bounds);
		return;
	}
	if (is_andclause(quals))
	{
		foreach(lc, ((BoolExpr *) quals)->args)
			walk_conjuncts(lfirst(lc), key, rti, cmp, bounds);
		return;
	}
	narrow(quals, key, rti, cmp, bounds);
}

void
split_key_bounds(const SplitKey *key, Query *level, Index rti, SplitKeyBounds *bounds)
{
	FmgrInfo	cmp;

	memset(bounds, 0, sizeof(SplitKeyBounds));
	if (level == NULL || level->jointree == NULL)
		return;
	fmgr_info(key->cmp_proc, &cmp);
	walk_conjuncts(level->jointree->quals, key, rti, &cmp, bounds);
}
