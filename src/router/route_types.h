/*-------------------------------------------------------------------------
 *
 * route_types.h
 *	  What the values of a result type need to come back from a node
 *	  exactly: binary transport (its send and receive functions), text
 *	  transport (and the settings its text form depends on), or nothing
 *	  that works (see route_types.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUTE_TYPES_H
#define FORESIGHT_ROUTE_TYPES_H

#include "postgres.h"

/* settings a text form depends on (RouteTypeNeeds.text_settings) */
#define ROUTE_TEXT_DATESTYLE	0x01	/* timestamptz: a zone abbreviation */
#define ROUTE_TEXT_FLOAT_DIGITS	0x02	/* float4, float8, geometric types */
#define ROUTE_TEXT_ARRAY_NULLS	0x04	/* arrays: NULL elements */
#define ROUTE_TEXT_INTERVALSTYLE 0x08	/* interval: the smallest ones */
#define ROUTE_TEXT_XMLOPTION	0x10	/* xml: read as a document or as content */

/*
 * What a type and the types inside it (a domain's base type, an array's
 * element type, a composite's columns, a range's subtype, a multirange's
 * range) need.  route_type_needs() adds to what the struct already says,
 * so one struct can describe every column of a result.
 */
typedef struct RouteTypeNeeds
{
	Oid			unreceivable;	/* a type whose values no input or receive
								 * function accepts (pg_node_tree, ...) */
	Oid			pseudo;			/* a pseudo-type other than record, void,
								 * cstring */
	Oid			no_binary;		/* a type without send or receive function */
	bool		anonymous_record;	/* record or record[]: binary only */
	int			text_settings;	/* ROUTE_TEXT_* */
} RouteTypeNeeds;

/* Add what values of type typid need to *needs (zeroed by the caller first). */
extern void route_type_needs(Oid typid, RouteTypeNeeds *needs);

/*
 * Plan time: NULL when a result column of type typid can be brought back
 * from a node by one transport or the other, else why not (a static
 * string).
 */
extern const char *route_type_unroutable(Oid typid);

/*
 * Why text transport of values needing text_settings would not be exact
 * under this session's settings (a static string), or NULL when it is.
 */
extern const char *route_text_inexact(int text_settings);

/*
 * Plan time: the settings (ROUTE_TEXT_ARRAY_NULLS, ROUTE_TEXT_XMLOPTION)
 * under which the node's input functions would read the values sent with
 * a statement otherwise than this server holds them: its constants (in
 * its text, or lifted to parameters: the tree is the query before lifting)
 * and the client's parameters, anywhere in the tree (a Query, a List of
 * them, an expression).
 */
extern int	route_values_settings(Node *tree);

/*
 * Execution time: why the values of a statement whose
 * route_values_settings() are value_settings would not read back on a
 * node exactly under this session's settings (a static string), or NULL.
 */
extern const char *route_values_inexact(int value_settings);

#endif							/* FORESIGHT_ROUTE_TYPES_H */
