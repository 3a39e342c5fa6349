/*-------------------------------------------------------------------------
 *
 * route_types.c
 *	  What the values of a result type need to come back from a node
 *	  exactly.
 *
 * Rows come back in binary: the node's send functions, this server's
 * receive functions.  Binary forms carry the value itself, whatever
 * DateStyle, TimeZone, IntervalStyle, extra_float_digits or bytea_output
 * say, and within a major version they are the same on both servers.  A
 * result needs text transport when a type in it has no send or receive
 * function (aclitem, gtsvector, some extensions' types); its text form may
 * then depend on settings, which route_text_inexact() checks.
 *
 * Some types accept no value at all, in either form: their input and
 * receive functions raise "cannot accept a value of type ..." whatever
 * they are given.  Found systematically: every base type's receive
 * function called (binary COPY FROM) with an empty value; those that
 * answer with that error rather than "no data left in message" are these
 * six, all internal representations of the server (expression trees,
 * extended statistics, BRIN summaries).  A result holding one, even
 * inside a row or an array, is never routed: it could not come back.
 *
 * An anonymous record (record, record[]) is routable in binary only:
 * record_recv needs a row type, which the binary form gives (its columns'
 * type OIDs, the same on a physical standby), and record_in does not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/xml.h"

#include "router/route_types.h"

/* receive functions that refuse every value (see the file's comment) */
static bool
receive_refuses(Oid receive)
{
	switch (receive)
	{
		case F_PG_NODE_TREE_RECV:
		case F_PG_NDISTINCT_RECV:
		case F_PG_DEPENDENCIES_RECV:
		case F_PG_MCV_LIST_RECV:
		case F_BRIN_BLOOM_SUMMARY_RECV:
		case F_BRIN_MINMAX_MULTI_SUMMARY_RECV:
			return true;
		default:
			return false;
	}
}

/* the settings the text form of a base type itself depends on */
static int
base_text_settings(Oid typid)
{
	switch (typid)
	{
		case TIMESTAMPTZOID:
			return ROUTE_TEXT_DATESTYLE;
		case INTERVALOID:
			return ROUTE_TEXT_INTERVALSTYLE;
		case FLOAT4OID:
		case FLOAT8OID:
		case POINTOID:
		case LSEGOID:
		case PATHOID:
		case BOXOID:
		case POLYGONOID:
		case LINEOID:
		case CIRCLEOID:
			return ROUTE_TEXT_FLOAT_DIGITS;
		case XMLOID:
			return ROUTE_TEXT_XMLOPTION;
		default:
			return 0;
	}
}

void
route_type_needs(Oid typid, RouteTypeNeeds *needs)
{
	HeapTuple	tup;
	Form_pg_type typ;
	char		typtype;
	Oid			basetype;
	Oid			elemtype = InvalidOid;
	bool		is_array;

	check_stack_depth();
	if (typid == RECORDOID || typid == RECORDARRAYOID)
	{
		needs->anonymous_record = true;
		if (typid == RECORDARRAYOID)
			needs->text_settings |= ROUTE_TEXT_ARRAY_NULLS;
		return;
	}
	if (typid == VOIDOID || typid == CSTRINGOID)
		return;					/* pseudo-types with send and receive */

	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", typid);
	typ = (Form_pg_type) GETSTRUCT(tup);
	typtype = typ->typtype;
	basetype = typ->typbasetype;
	is_array = IsTrueArrayType(typ);
	if (is_array)
		elemtype = typ->typelem;
	if (typtype != TYPTYPE_PSEUDO &&
		(!OidIsValid(typ->typsend) || !OidIsValid(typ->typreceive)) &&
		!OidIsValid(needs->no_binary))
		needs->no_binary = typid;
	if (receive_refuses(typ->typreceive))
		needs->unreceivable = typid;
	ReleaseSysCache(tup);

	needs->text_settings |= base_text_settings(typid);
	switch (typtype)
	{
		case TYPTYPE_PSEUDO:
			if (!OidIsValid(needs->pseudo))
				needs->pseudo = typid;
			break;
		case TYPTYPE_DOMAIN:
			route_type_needs(basetype, needs);
			break;
		case TYPTYPE_COMPOSITE:
			{
				TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);

				for (int i = 0; i < desc->natts; i++)
				{
					Form_pg_attribute att = TupleDescAttr(desc, i);

					if (!att->attisdropped)
						route_type_needs(att->atttypid, needs);
				}
				ReleaseTupleDesc(desc);
			}
			break;
		case TYPTYPE_RANGE:
			route_type_needs(get_range_subtype(typid), needs);
			break;
		case TYPTYPE_MULTIRANGE:
			route_type_needs(get_multirange_range(typid), needs);
			break;
		default:
			if (is_array)
			{
				needs->text_settings |= ROUTE_TEXT_ARRAY_NULLS;
				route_type_needs(elemtype, needs);
			}
			break;
	}
}

const char *
route_type_unroutable(Oid typid)
{
	RouteTypeNeeds needs;

	memset(&needs, 0, sizeof(needs));
	route_type_needs(typid, &needs);
	if (OidIsValid(needs.unreceivable))
		return "returns a type whose values cannot be read back (pg_node_tree, pg_ndistinct, "
			"pg_dependencies, pg_mcv_list, BRIN summaries)";
	if (OidIsValid(needs.pseudo))
		return "returns a pseudo-type (other than record, void and cstring)";
	if (needs.anonymous_record && OidIsValid(needs.no_binary))
		return "returns an anonymous record, which only binary transport brings back, "
			"with a type that has no binary form";
	return NULL;
}

const char *
route_text_inexact(int text_settings)
{
	if ((text_settings & ROUTE_TEXT_DATESTYLE) && DateStyle != USE_ISO_DATES)
		return "DateStyle is not ISO: a timestamptz as text names its zone by an abbreviation";
	if ((text_settings & ROUTE_TEXT_INTERVALSTYLE) && IntervalStyle != INTSTYLE_ISO_8601)
		return "IntervalStyle is not iso_8601: the smallest intervals as text do not read back";
	if ((text_settings & ROUTE_TEXT_FLOAT_DIGITS) && extra_float_digits < 1)
		return "extra_float_digits < 1: floats as text are rounded";
	if ((text_settings & ROUTE_TEXT_ARRAY_NULLS) && !Array_nulls)
		return "array_nulls is off: a NULL element as text reads back as the string NULL";
	return NULL;
}

/*
 * The values sent with a statement are read on the node by its input (or
 * receive) functions, under the settings mirrored from this session.  The
 * deparser writes them in forms that every output setting reads back
 * (planner_hook.c), but two input settings change what a text means: with
 * array_nulls off, array_in reads an element NULL as the string "NULL",
 * and no text then makes a NULL element; with xmloption document,
 * xml_in and xml_recv refuse a value that is content ('<a/><b/>').  A
 * constant made before the session changed either setting (a view's, a
 * prepared statement's), or a value computed here (EXECUTE q(xmlconcat(...)))
 * would read otherwise on the node.  Anything that holds an array or an
 * xml value counts, at any depth, in a constant (the tree is the query
 * before its constants are lifted to parameters, whose values go as text);
 * the client's parameters go in binary when they hold arrays or rows
 * (route_tuples.c), so only xml counts in them.
 */
static bool
values_settings_walker(Node *node, int *settings)
{
	Oid			type = InvalidOid;
	int			mask = 0;

	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, values_settings_walker, settings, 0);
	if (IsA(node, Const) && !((Const *) node)->constisnull)
	{
		type = ((Const *) node)->consttype;
		mask = ROUTE_TEXT_ARRAY_NULLS | ROUTE_TEXT_XMLOPTION;
	}
	else if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN)
	{
		/* the client's: arrays and rows go in binary, xml is parsed anyway */
		type = ((Param *) node)->paramtype;
		mask = ROUTE_TEXT_XMLOPTION;
	}
	if (OidIsValid(type))
	{
		RouteTypeNeeds needs;

		memset(&needs, 0, sizeof(needs));
		route_type_needs(type, &needs);
		*settings |= needs.text_settings & mask;
	}
	return expression_tree_walker(node, values_settings_walker, settings);
}

int
route_values_settings(Node *tree)
{
	int			settings = 0;

	(void) values_settings_walker(tree, &settings);
	return settings;
}

const char *
route_values_inexact(int value_settings)
{
	if ((value_settings & ROUTE_TEXT_ARRAY_NULLS) && !Array_nulls)
		return "array_nulls is off: a NULL element of an array sent to a node reads there as the string NULL";
	if ((value_settings & ROUTE_TEXT_XMLOPTION) && xmloption == XMLOPTION_DOCUMENT)
		return "xmloption is document: an xml value sent to a node that is content would be refused there";
	return NULL;
}
