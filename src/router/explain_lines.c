/*-------------------------------------------------------------------------
 *
 * explain_lines.c
 *	  An EXPLAIN property whose text spans several lines.
 *
 * ExplainPropertyText() prints a text property's value as it is, so in the
 * text format the second and later lines of a deparsed query (which
 * ruleutils lays out over several lines) would start in the first column,
 * outside the plan's indentation.  Here each such line is indented: under
 * the value's first character (under_value, for SQL: the deparser's own
 * layout, keywords aligned on the right, is kept as it is), or two spaces
 * under the property, as a node's lines are under the node (a list of
 * lines of their own).  The other formats (JSON, XML, YAML) keep the text
 * whole, newlines escaped.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "router/explain_lines.h"

void
explain_property_lines(const char *label, const char *text, bool under_value,
					   ExplainState *es)
{
	const char *nl = strchr(text, '\n');
	int			indent;

	if (es->format != EXPLAIN_FORMAT_TEXT || nl == NULL)
	{
		ExplainPropertyText(label, text, es);
		return;
	}
	ExplainPropertyText(label, pnstrdup(text, nl - text), es);
	/* ExplainPropertyText() wrote "label: value" after the indentation */
	indent = es->indent * 2 + (under_value ? strlen(label) + 2 : 2);
	while (nl != NULL)
	{
		const char *line = nl + 1;

		nl = strchr(line, '\n');
		if (nl == NULL && *line == '\0')
			break;				/* the text ended with its newline */
		appendStringInfoSpaces(es->str, indent);
		appendBinaryStringInfo(es->str, line, nl ? nl - line : strlen(line));
		appendStringInfoChar(es->str, '\n');
	}
}
