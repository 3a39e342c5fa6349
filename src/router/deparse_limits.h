/*-------------------------------------------------------------------------
 *
 * deparse_limits.h
 *	  What the remote SQL cannot carry: query shapes whose deparsed text
 *	  (pg_get_querydef) would mean something else on a node, and string
 *	  literals written so that every standard_conforming_strings reads
 *	  them alike (see deparse_limits.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_DEPARSE_LIMITS_H
#define FORESIGHT_DEPARSE_LIMITS_H

#include "postgres.h"

#include "nodes/parsenodes.h"

/*
 * The reason the analysed query (a top-level statement, sub-queries
 * included, its constants lifted if they are to be) cannot be sent as the
 * deparser writes it, a static string, or NULL when it can.
 */
extern const char *deparse_limit_reason(const Query *query);

/*
 * sql, deparsed with standard_conforming_strings on, with every string
 * literal that holds a backslash rewritten in the escape syntax (E'...'),
 * which reads the same whatever standard_conforming_strings says.  Returns
 * sql itself when nothing needed rewriting, NULL when the text is not what
 * the deparser writes (it is then not sent).
 */
extern char *deparse_portable_literals(char *sql);

#endif							/* FORESIGHT_DEPARSE_LIMITS_H */
