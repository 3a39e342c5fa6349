/*-------------------------------------------------------------------------
 *
 * explain_lines.h
 *	  An EXPLAIN property whose text spans several lines (remote SQL, a
 *	  split's combine step), laid out under its label in the text format.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_EXPLAIN_LINES_H
#define FORESIGHT_EXPLAIN_LINES_H

#include "commands/explain.h"

extern void explain_property_lines(const char *label, const char *text,
								   bool under_value, ExplainState *es);

#endif							/* FORESIGHT_EXPLAIN_LINES_H */
