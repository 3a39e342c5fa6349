/*-------------------------------------------------------------------------
 *
 * deparse_limits.c
 *	  What the remote SQL cannot carry.
 *
 * A routed query is sent as pg_get_querydef() writes its analysed tree, and
 * the node parses and analyses that text again.  ruleutils.c writes what a
 * view definition needs, and for a few shapes of a planner-ready query
 * (PostgreSQL 15) the text, read again, is another query.  Those shapes
 * are not routed (the decision log gives the reason):
 *
 * - A recursive WITH with a SEARCH or CYCLE clause.  The rewriter has
 *	 already added the search or cycle columns to the CTE's query, and the
 *	 deparser writes both that query and the clause: the node adds the
 *	 columns again ("column reference ... is ambiguous", or a syntax error
 *	 for CYCLE ... TO 'Y'::text).
 * - Grouping sets over two output columns with equal expressions
 *	 ("SELECT a AS x, a AS y ... GROUP BY x, ROLLUP(y)").  The deparser
 *	 writes expressions, "GROUP BY a, ROLLUP(a)", and the node binds both
 *	 to the first column: which column a grouping set nulls changes.
 * - A row built with column names other than f1, f2, ... (the whole row
 *	 of a JOIN ... USING (...) AS alias is ROW(...) with the USING names):
 *	 the deparser writes ROW(...), whose columns are f1, f2, ... again, and
 *	 row_to_json() and the like show other keys.
 * - ORDER BY or DISTINCT ON a column of the only table whose name is also
 *	 the name of an output column with another expression ("SELECT b AS a
 *	 FROM t ORDER BY t.a"): the deparser writes "ORDER BY a" unqualified,
 *	 which the node takes for the output column (SQL92 rule).
 * - A row compared with a sub-query's one column (ROW(ROW(1)) = ANY
 *	 (SELECT ROW(1))): the deparser writes the left row without its outer
 *	 ROW(), and the node takes the row's columns for the comparison's.
 * - An object of this session's temporary schema other than a table (those
 *	 are refused by eligibility.c): a type (a temporary table's row type, a
 *	 domain), a function, an operator, or a reg* constant naming a
 *	 temporary object.  The text names it, pg_temp being on search_path
 *	 here; a node session has a temporary schema of its own.  (A reg*
 *	 constant lifted into a parameter is sent as its OID: the query is
 *	 checked once lifted.)
 *
 * String literals are written by the deparser as standard_conforming_strings
 * says when it runs, and read by the node as the session says when the text
 * is sent, which can be later and different (a cached plan, a known query
 * shape, a statement prepared on the node).  The planner hook deparses with
 * standard_conforming_strings on, and deparse_portable_literals() writes
 * each literal that holds a backslash as E'...', which every setting reads
 * alike; the text is the same for every setting.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_ts_config.h"
#include "catalog/pg_ts_dict.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "router/deparse_limits.h"

typedef struct LimitWalk
{
	const char *reason;
} LimitWalk;

static bool limit_walker(Node *node, LimitWalk *w);

/* Does a CTE of the query have a SEARCH or CYCLE clause? */
static bool
has_search_or_cycle(const Query *query)
{
	ListCell   *lc;

	foreach(lc, query->cteList)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

		if (cte->search_clause != NULL || cte->cycle_clause != NULL)
			return true;
	}
	return false;
}

/*
 * Grouping sets whose GROUP BY columns include two target entries with
 * equal expressions: written back as expressions, both name the first.
 */
static bool
grouping_sets_over_equal_columns(const Query *query)
{
	ListCell   *lc1;

	if (query->groupingSets == NIL)
		return false;
	foreach(lc1, query->groupClause)
	{
		TargetEntry *tle1 = get_sortgroupclause_tle(lfirst_node(SortGroupClause, lc1),
													query->targetList);
		ListCell   *lc2;

		for_each_cell(lc2, query->groupClause, lnext(query->groupClause, lc1))
		{
			TargetEntry *tle2 = get_sortgroupclause_tle(lfirst_node(SortGroupClause, lc2),
														query->targetList);

			if (tle1 != tle2 && equal(tle1->expr, tle2->expr))
				return true;
		}
	}
	return false;
}

/*
 * Is one of clauses (ORDER BY or DISTINCT ON items) a column of the only
 * range table entry whose name is the name of an output column with
 * another expression?  The deparser writes the column's bare name there
 * (a query with one range table entry gets no prefixes), and a bare name in
 * ORDER BY and DISTINCT ON is an output column first.
 */
static bool
sort_name_captured(const Query *query, List *clauses)
{
	ListCell   *lc;

	foreach(lc, clauses)
	{
		TargetEntry *tle = get_sortgroupclause_tle(lfirst_node(SortGroupClause, lc),
												   query->targetList);
		Var		   *var = (Var *) tle->expr;
		char	   *name;
		ListCell   *lc2;

		if (var == NULL || !IsA(var, Var) || var->varlevelsup != 0 || var->varattno <= 0)
			continue;
		name = get_rte_attribute_name(rt_fetch(var->varno, query->rtable), var->varattno);
		foreach(lc2, query->targetList)
		{
			TargetEntry *other = lfirst_node(TargetEntry, lc2);

			if (other != tle && !other->resjunk && other->resname != NULL &&
				strcmp(other->resname, name) == 0 && !equal(other->expr, tle->expr))
				return true;
		}
	}
	return false;
}

/* A row whose column names ROW(...) would not give back: not f1, f2, ... */
static bool
row_names_lost(const RowExpr *row)
{
	ListCell   *lc;

	if (row->row_typeid != RECORDOID)
		return false;
	foreach(lc, row->colnames)
	{
		char		fname[32];

		snprintf(fname, sizeof(fname), "f%d", foreach_current_index(lc) + 1);
		if (strcmp(strVal(lfirst(lc)), fname) != 0)
			return true;
	}
	return false;
}

/*
 * The schema of the object objid found in syscache cacheid, whose namespace
 * column is nspattr; InvalidOid when there is no such object (a reg*
 * constant may name none).  Built-in objects are never temporary.
 */
static Oid
object_namespace(int cacheid, Oid objid, AttrNumber nspattr)
{
	HeapTuple	tuple;
	bool		isnull;
	Oid			nsp = InvalidOid;

	if (objid < FirstNormalObjectId)
		return InvalidOid;
	tuple = SearchSysCache1(cacheid, ObjectIdGetDatum(objid));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	nsp = DatumGetObjectId(SysCacheGetAttr(cacheid, tuple, nspattr, &isnull));
	ReleaseSysCache(tuple);
	return isnull ? InvalidOid : nsp;
}

static bool
temporary_namespace(Oid nsp)
{
	return OidIsValid(nsp) && isAnyTempNamespace(nsp);
}

static bool
temporary_type(Oid typid)
{
	return temporary_namespace(object_namespace(TYPEOID, typid, Anum_pg_type_typnamespace));
}

static bool
temporary_function(Oid funcid, void *context)
{
	return funcid >= FirstNormalObjectId && temporary_namespace(get_func_namespace(funcid));
}

static bool
temporary_operator(Oid opno)
{
	return temporary_namespace(object_namespace(OPEROID, opno, Anum_pg_operator_oprnamespace));
}

/* Does a reg* constant name an object of a temporary schema? */
static bool
names_temporary_object(const Const *c)
{
	Oid			objid;

	if (c->constisnull)
		return false;
	objid = DatumGetObjectId(c->constvalue);
	switch (c->consttype)
	{
		case REGCLASSOID:
			return objid >= FirstNormalObjectId && temporary_namespace(get_rel_namespace(objid));
		case REGTYPEOID:
			return temporary_type(objid);
		case REGPROCOID:
		case REGPROCEDUREOID:
			return temporary_function(objid, NULL);
		case REGOPEROID:
		case REGOPERATOROID:
			return temporary_operator(objid);
		case REGNAMESPACEOID:
			return temporary_namespace(objid);
		case REGCOLLATIONOID:
			return temporary_namespace(object_namespace(COLLOID, objid,
														Anum_pg_collation_collnamespace));
		case REGCONFIGOID:
			return temporary_namespace(object_namespace(TSCONFIGOID, objid,
														Anum_pg_ts_config_cfgnamespace));
		case REGDICTIONARYOID:
			return temporary_namespace(object_namespace(TSDICTOID, objid,
														Anum_pg_ts_dict_dictnamespace));
		default:
			return false;
	}
}

/* Does this expression node name an object of a temporary schema? */
static bool
node_names_temporary_object(Node *node)
{
	Oid			opno = InvalidOid;

	if (IsA(node, Const) && names_temporary_object((Const *) node))
		return true;
	if (IsA(node, OpExpr) || IsA(node, DistinctExpr) || IsA(node, NullIfExpr))
		opno = ((OpExpr *) node)->opno;
	else if (IsA(node, ScalarArrayOpExpr))
		opno = ((ScalarArrayOpExpr *) node)->opno;
	if (OidIsValid(opno) && temporary_operator(opno))
		return true;
	if (check_functions_in_node(node, temporary_function, NULL))
		return true;
	/* the nodes the deparser writes with their type's name */
	switch (nodeTag(node))
	{
		case T_Const:
		case T_Param:
		case T_RelabelType:
		case T_CoerceViaIO:
		case T_ArrayCoerceExpr:
		case T_ConvertRowtypeExpr:
		case T_CoerceToDomain:
		case T_RowExpr:
		case T_ArrayExpr:
		case T_XmlExpr:
			return temporary_type(exprType(node));
		default:
			return false;
	}
}

/*
 * A sub-link comparing one column whose value is a ROW(...): the deparser
 * writes that row as the left side, and the parser takes its columns for
 * the comparison's columns.
 */
static bool
row_compared_with_sublink(const SubLink *sublink)
{
	OpExpr	   *op = (OpExpr *) sublink->testexpr;

	return op != NULL && IsA(op, OpExpr) && op->args != NIL &&
		IsA(linitial(op->args), RowExpr);
}

static const char *
query_limit_reason(const Query *query)
{
	if (has_search_or_cycle(query))
		return "a recursive WITH has a SEARCH or CYCLE clause (not deparsed exactly)";
	if (grouping_sets_over_equal_columns(query))
		return "grouping sets over columns with equal expressions (not deparsed exactly)";
	return NULL;
}

static bool
limit_walker(Node *node, LimitWalk *w)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		w->reason = query_limit_reason((Query *) node);
		if (w->reason != NULL)
			return true;
		return query_tree_walker((Query *) node, limit_walker, (void *) w, 0);
	}
	if (IsA(node, RowExpr) && row_names_lost((RowExpr *) node))
	{
		w->reason = "a row with named columns (JOIN ... USING alias.*): not deparsed exactly";
		return true;
	}
	if (IsA(node, SubLink) && row_compared_with_sublink((SubLink *) node))
	{
		w->reason = "a ROW(...) compared with a sub-query's column (not deparsed exactly)";
		return true;
	}
	if (node_names_temporary_object(node))
	{
		w->reason = "names a type, function or object of the temporary schema";
		return true;
	}
	return expression_tree_walker(node, limit_walker, (void *) w);
}

const char *
deparse_limit_reason(const Query *query)
{
	LimitWalk	w = {NULL};

	/* only the top level is written without prefixes (ruleutils.c) */
	if (query->setOperations == NULL && list_length(query->rtable) == 1 &&
		(sort_name_captured(query, query->sortClause) ||
		 (query->hasDistinctOn && sort_name_captured(query, query->distinctClause))))
		return "ORDER BY/DISTINCT ON a column named like an output column (not deparsed exactly)";
	(void) limit_walker((Node *) query, &w);
	return w.reason;
}

/* may c be part of an identifier or keyword (a literal's prefix)? */
static bool
identifier_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '$' || IS_HIGHBIT_SET(c);
}

/*
 * The deparser's output has two quoted forms: literals '...' (a quote
 * doubled inside; with standard_conforming_strings on a backslash is an
 * ordinary character) and identifiers "..." (a double quote doubled).  A
 * server encoding is ASCII-safe, so a byte equal to a quote or a backslash
 * is one.
 */
char *
deparse_portable_literals(char *sql)
{
	StringInfoData out;
	const char *p = sql;

	if (strchr(sql, '\\') == NULL)
		return sql;				/* nothing a setting reads differently */

	initStringInfo(&out);
	while (*p != '\0')
	{
		if (*p == '"')
		{
			const char *end = p + 1;

			for (;;)
			{
				if (*end == '\0')
					return NULL;
				if (*end == '"' && end[1] == '"')
					end += 2;
				else if (*end == '"')
					break;
				else
					end++;
			}
			appendBinaryStringInfo(&out, p, end - p + 1);
			p = end + 1;
		}
		else if (*p == '\'')
		{
			const char *end = p + 1;
			bool		backslash = false;

			for (;;)
			{
				if (*end == '\0')
					return NULL;
				if (*end == '\'' && end[1] == '\'')
					end += 2;
				else if (*end == '\'')
					break;
				else
				{
					if (*end == '\\')
						backslash = true;
					end++;
				}
			}
			if (!backslash)
				appendBinaryStringInfo(&out, p, end - p + 1);
			else
			{
				/* a prefix (E, B, X, U&) would change the literal */
				if (p > sql && (identifier_char(p[-1]) || p[-1] == '&'))
					return NULL;
				appendStringInfoString(&out, "E'");
				for (const char *q = p + 1; q < end; q++)
				{
					if (*q == '\\')
						appendStringInfoChar(&out, '\\');
					appendStringInfoChar(&out, *q);
				}
				appendStringInfoChar(&out, '\'');
			}
			p = end + 1;
		}
		else
			appendStringInfoChar(&out, *p++);
	}
	return out.data;
}
