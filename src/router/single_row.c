/*-------------------------------------------------------------------------
 *
 * single_row.c
 *	  Whether a plan returns at most one row whatever its parameters.
 *
 * A query whose constants were lifted into parameters (lift_constants.c)
 * is planned here with their values: a custom plan.  On the node, a
 * prepared statement gets custom plans first and then, when that looks no
 * worse, a generic one, which may be another plan: another order of the
 * rows of a read without ORDER BY, other rows under a LIMIT without ORDER
 * BY (docs/routing.md, "Lifted constants").  The router keeps a lifted
 * statement prepared on the node only when no plan can change its rows:
 * a point lookup through a unique index, which returns the same row or
 * none whichever plan finds it.  Other lifted statements are sent unnamed,
 * and the node plans them with their values, as here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/pg_index.h"
#include "nodes/nodeFuncs.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "router/single_row.h"

/* the index column (1-based) an indexqual operand names, or 0 */
static AttrNumber
index_column(Node *operand)
{
	while (operand && IsA(operand, RelabelType))
		operand = (Node *) ((RelabelType *) operand)->arg;
	if (operand && IsA(operand, Var) && ((Var *) operand)->varno == INDEX_VAR)
		return ((Var *) operand)->varattno;
	return 0;
}

bool
plan_returns_single_row(Plan *plan)
{
	Oid			indexid;
	List	   *indexqual;
	HeapTuple	tup;
	Form_pg_index index;
	oidvector  *indclass;
	bool		isnull;
	int			nkeys;
	Bitmapset  *equal = NULL;
	ListCell   *lc;
	bool		single;

	while (plan != NULL && (IsA(plan, Limit) || IsA(plan, Result)))
		plan = plan->lefttree;
	if (plan == NULL)
		return false;
	if (IsA(plan, IndexScan))
	{
		indexid = ((IndexScan *) plan)->indexid;
		indexqual = ((IndexScan *) plan)->indexqual;
	}
	else if (IsA(plan, IndexOnlyScan))
	{
		indexid = ((IndexOnlyScan *) plan)->indexid;
		indexqual = ((IndexOnlyScan *) plan)->indexqual;
	}
	else
		return false;

	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
	if (!HeapTupleIsValid(tup))
		return false;
	index = (Form_pg_index) GETSTRUCT(tup);
	nkeys = index->indnkeyatts;
	if (!index->indisunique || !index->indimmediate)
	{
		ReleaseSysCache(tup);
		return false;
	}
	indclass = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, tup,
															 Anum_pg_index_indclass,
															 &isnull));
	if (isnull)
	{
		ReleaseSysCache(tup);
		return false;
	}
	foreach(lc, indexqual)
	{
		OpExpr	   *op = (OpExpr *) lfirst(lc);
		AttrNumber	col;

		if (!IsA(op, OpExpr) || list_length(op->args) != 2)
			continue;
		col = index_column(linitial(op->args));
		if (col < 1 || col > nkeys)
			continue;
		if (get_op_opfamily_strategy(op->opno, get_opclass_family(indclass->values[col - 1])) ==
			BTEqualStrategyNumber)
			equal = bms_add_member(equal, col);
	}
	ReleaseSysCache(tup);
	single = bms_num_members(equal) == nkeys;
	bms_free(equal);
	return single;
}
