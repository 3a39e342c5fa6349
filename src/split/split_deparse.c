/*-------------------------------------------------------------------------
 *
 * split_deparse.c
 *	  The SQL text of a split query's parts, combine step and range
 *	  conditions, written so that it means the same on every server and in
 *	  every session that reads it.
 *
 * As the router's deparse (planner_hook.c): every digit of a float
 * (extra_float_digits = 3), ISO dates (DateStyle, read back in any
 * DateStyle), IntervalStyle postgres.  In addition the search path is only
 * pg_catalog while deparsing, so every table, function, operator, type and
 * collation outside pg_catalog is written with its schema: a part may run
 * later, on a node, in a session whose search_path has changed since.
 * The settings are set directly rather than through the GUC machinery,
 * which would cost a pass over every setting per plan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "miscadmin.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"

#include "split/split_build.h"
#include "split/split_ranges.h"

typedef enum DeparseKind
{
	DEPARSE_QUERY,
	DEPARSE_CONDITION,
	DEPARSE_VALUE
} DeparseKind;

static char *
deparse_fixed(DeparseKind kind, Node *node, Oid relid)
{
	int			saved_digits = extra_float_digits;
	int			saved_datestyle = DateStyle;
	int			saved_dateorder = DateOrder;
	int			saved_intervalstyle = IntervalStyle;
	OverrideSearchPath *path = palloc0(sizeof(OverrideSearchPath));
	char	   *volatile sql = NULL;

	path->schemas = NIL;
	path->addCatalog = true;
	path->addTemp = false;

	extra_float_digits = 3;
	DateStyle = USE_ISO_DATES;
	DateOrder = DATEORDER_YMD;
	IntervalStyle = INTSTYLE_ISO_8601;	/* the only style that reads back */
	PushOverrideSearchPath(path);
	PG_TRY();
	{
		switch (kind)
		{
			case DEPARSE_QUERY:
				sql = pg_get_querydef((Query *) node, false);
				break;
			case DEPARSE_CONDITION:
				sql = deparse_expression(node,
										 deparse_context_for(get_rel_name(relid), relid),
										 false, false);
				break;
			case DEPARSE_VALUE:
				sql = deparse_expression(node, NIL, false, false);
				break;
		}
	}
	PG_FINALLY();
	{
		PopOverrideSearchPath();
		extra_float_digits = saved_digits;
		DateStyle = saved_datestyle;
		DateOrder = saved_dateorder;
		IntervalStyle = saved_intervalstyle;
	}
	PG_END_TRY();
	return sql;
}

char *
split_deparse_query(Query *query)
{
	return deparse_fixed(DEPARSE_QUERY, (Node *) query, InvalidOid);
}

/* the condition of a part, on the table alone (range table index 1) */
char *
split_deparse_condition(const SplitKey *key, List *cut_points, int part)
{
	Expr	   *cond = split_ranges_condition(key, 1, cut_points, part);

	if (cond == NULL)
		return pstrdup("true");
	return deparse_fixed(DEPARSE_CONDITION, (Node *) cond, key->relid);
}

char *
split_deparse_table_condition(Node *cond, Oid relid)
{
	return deparse_fixed(DEPARSE_CONDITION, cond, relid);
}

char *
split_deparse_value(Const *value)
{
	return deparse_fixed(DEPARSE_VALUE, (Node *) value, InvalidOid);
}
