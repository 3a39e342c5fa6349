/*-------------------------------------------------------------------------
 *
 * conninfo_mask.c
 *	  Mask the secret values of a conninfo wherever they appear in a text.
 *
 * A message about a conninfo (libpq's parse error, a check's complaint)
 * may quote any part of it.  conninfo_mask_text() finds the values of the
 * secret options (conninfo_keyword_is_secret(): libpq's display character
 * "*") in the conninfo as written, keyword=value pairs or a URI, even when
 * libpq cannot parse it, and replaces them, and any quoted piece of one,
 * by ********.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "registry/conninfo.h"

static bool
is_keyword_char(char c)
{
	return isalnum((unsigned char) c) || c == '_';
}

/* does p start "keyword =" (spaces allowed around =)? */
static bool
starts_with_assignment(const char *p)
{
	const char *q = p;

	while (is_keyword_char(*q))
		q++;
	if (q == p)
		return false;
	while (isspace((unsigned char) *q))
		q++;
	return *q == '=';
}

/* a URI query key with its %XX escapes decoded */
static char *
uri_decode(const char *s, int len)
{
	char	   *out = palloc(len + 1);
	int			n = 0;

	for (int i = 0; i < len; i++)
	{
		if (s[i] == '%' && i + 2 < len &&
			isxdigit((unsigned char) s[i + 1]) && isxdigit((unsigned char) s[i + 2]))
		{
			char		hex[3] = {s[i + 1], s[i + 2], '\0'};

			out[n++] = (char) strtol(hex, NULL, 16);
			i += 2;
		}
		else
			out[n++] = s[i];
	}
	out[n] = '\0';
	return out;
}

/*
 * The text of every secret value in conninfo, as written there, read
 * leniently enough to work on strings libpq refuses to parse: a value runs
 * to the next "keyword=" (so "password=two words" counts as one value), a
 * quoted value to its closing quote.  URIs: the password of the user
 * information and the values of secret query parameters.
 */
static List *
secret_fragments(const char *conninfo)
{
	List	   *fragments = NIL;
	const char *p = conninfo;

	if (strncmp(conninfo, "postgresql://", 13) == 0 || strncmp(conninfo, "postgres://", 11) == 0)
	{
		const char *start = strstr(conninfo, "://") + 3;
		const char *end = start;
		const char *query;

		while (*end && *end != '@' && *end != '/')
			end++;
		if (*end == '@')
		{
			const char *colon = memchr(start, ':', end - start);

			if (colon && end > colon + 1)
				fragments = lappend(fragments, pnstrdup(colon + 1, end - colon - 1));
		}
		query = strchr(conninfo, '?');
		while (query != NULL)
		{
			const char *key = query + 1;
			const char *next = strchr(key, '&');
			const char *stop = next ? next : key + strlen(key);
			const char *eq = memchr(key, '=', stop - key);

			if (eq != NULL && conninfo_keyword_is_secret(uri_decode(key, eq - key)) && stop > eq + 1)
				fragments = lappend(fragments, pnstrdup(eq + 1, stop - eq - 1));
			query = next;
		}
		return fragments;
	}

	while (*p)
	{
		const char *key;
		const char *value;
		const char *end;

		while (isspace((unsigned char) *p))
			p++;
		key = p;
		while (is_keyword_char(*p))
			p++;
		if (p == key)
		{
			p++;
			continue;
		}
		{
			char	   *keyword = pnstrdup(key, p - key);
			const char *q = p;

			while (isspace((unsigned char) *q))
				q++;
			if (*q != '=' || !conninfo_keyword_is_secret(keyword))
				continue;
			q++;
			while (isspace((unsigned char) *q))
				q++;
			value = q;
		}
		if (*value == '\'')
		{
			end = value + 1;
			while (*end && *end != '\'')
				end += (*end == '\\' && end[1]) ? 2 : 1;
			if (end > value + 1)
				fragments = lappend(fragments, pnstrdup(value + 1, end - value - 1));
			p = *end ? end + 1 : end;
			continue;
		}
		/* unquoted: up to the next "keyword =" after white space */
		end = value;
		while (*end && !(isspace((unsigned char) *end) && end[1] &&
						 !isspace((unsigned char) end[1]) && starts_with_assignment(end + 1)))
			end++;
		{
			const char *last = end;

			while (last > value && isspace((unsigned char) last[-1]))
				last--;
			if (last > value)
				fragments = lappend(fragments, pnstrdup(value, last - value));
		}
		p = end;
	}
	return fragments;
}

/* text with every occurrence of fragment replaced by the mask */
static char *
replace_all(const char *text, const char *fragment)
{
	StringInfoData buf;
	size_t		flen = strlen(fragment);
	const char *p = text;
	const char *hit;

	if (flen == 0)
		return pstrdup(text);
	initStringInfo(&buf);
	while ((hit = strstr(p, fragment)) != NULL)
	{
		appendBinaryStringInfo(&buf, p, hit - p);
		appendStringInfoString(&buf, MASKED_VALUE);
		p = hit + flen;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}

char *
conninfo_mask_text(const char *text, const char *conninfo)
{
	List	   *fragments = secret_fragments(conninfo);
	char	   *masked = pstrdup(text);
	StringInfoData buf;
	const char *p;
	ListCell   *lc;

	if (fragments == NIL)
		return masked;

	/* the secrets themselves, wherever they appear */
	foreach(lc, fragments)
		masked = replace_all(masked, (const char *) lfirst(lc));

	/* and any quoted piece of one (libpq quotes the token it choked on) */
	initStringInfo(&buf);
	p = masked;
	while (*p)
	{
		const char *close;

		if (*p != '"' || (close = strchr(p + 1, '"')) == NULL)
		{
			appendStringInfoChar(&buf, *p++);
			continue;
		}
		{
			char	   *quoted = pnstrdup(p + 1, close - p - 1);
			bool		secret = false;

			foreach(lc, fragments)
				if (quoted[0] != '\0' && strstr((const char *) lfirst(lc), quoted) != NULL)
					secret = true;
			appendStringInfoChar(&buf, '"');
			appendStringInfoString(&buf, secret ? MASKED_VALUE : quoted);
			appendStringInfoChar(&buf, '"');
			p = close + 1;
		}
	}
	return buf.data;
}
