/*-------------------------------------------------------------------------
 *
 * conninfo.c
 *	  Validate, mask and complete node connection strings.
 *
 * A node's conninfo says where the node is (host, port, TLS, timeouts);
 * who connects and to which database come from the session whose query is
 * routed, so those keywords are refused in the registry.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "libpq-fe.h"

#include "registry/conninfo.h"

/* keywords that the session, not the registry, decides */
static const char *const session_keywords[] = {"user", "dbname", "replication"};

void
conninfo_validate(const char *conninfo)
{
	char	   *parse_error = NULL;
	PQconninfoOption *options;

	options = PQconninfoParse(conninfo, &parse_error);
	if (options == NULL)
	{
		char	   *detail = parse_error ? pstrdup(parse_error) : pstrdup("out of memory");

		if (parse_error)
			PQfreemem(parse_error);
		/* libpq's messages end in a newline */
		detail[strcspn(detail, "\n")] = '\0';
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid node connection string"),
				 errdetail("%s", detail),
				 errhint("Give libpq keyword/value pairs such as 'host=10.0.0.2 port=5432' or a postgresql:// URI.")));
	}

	for (PQconninfoOption *opt = options; opt->keyword != NULL; opt++)
	{
		if (opt->val == NULL || opt->val[0] == '\0')
			continue;
		for (int i = 0; i < lengthof(session_keywords); i++)
		{
			if (strcmp(opt->keyword, session_keywords[i]) == 0)
			{
				char	   *keyword = pstrdup(opt->keyword);

				PQconninfoFree(options);
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("node connection string must not contain \"%s\"", keyword),
						 errdetail("Routed queries connect as the role that runs them, to the database they run in."),
						 errhint("Remove \"%s\" from the connection string.", keyword)));
			}
		}
	}
	PQconninfoFree(options);
}

void
conninfo_append_param(StringInfo buf, const char *keyword, const char *value)
{
	if (buf->len > 0)
		appendStringInfoChar(buf, ' ');
	appendStringInfo(buf, "%s='", keyword);
	for (const char *p = value; *p; p++)
	{
		if (*p == '\\' || *p == '\'')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '\'');
}

/*
 * Rebuild a parsed conninfo as keyword='value' pairs, replacing the
 * password when mask is set.  A string libpq cannot parse (it was checked
 * when it was stored, so this is not expected) is shown as "(invalid)".
 */
static char *
conninfo_rebuild(const char *conninfo, bool mask)
{
	StringInfoData buf;
	char	   *parse_error = NULL;
	PQconninfoOption *options;

	options = PQconninfoParse(conninfo, &parse_error);
	if (options == NULL)
	{
		if (parse_error)
			PQfreemem(parse_error);
		return pstrdup("(invalid)");
	}

	initStringInfo(&buf);
	for (PQconninfoOption *opt = options; opt->keyword != NULL; opt++)
	{
		if (opt->val == NULL)
			continue;
		if (mask && strcmp(opt->keyword, "password") == 0)
			conninfo_append_param(&buf, opt->keyword, "********");
		else
			conninfo_append_param(&buf, opt->keyword, opt->val);
	}
	PQconninfoFree(options);
	return buf.data;
}

char *
conninfo_mask_password(const char *conninfo)
{
	return conninfo_rebuild(conninfo, true);
}

char *
conninfo_for_session(const char *conninfo, const char *extra_options,
					 const char *user, const char *dbname,
					 const char *application_name)
{
	StringInfoData buf;

	/* a URI cannot be followed by keyword=value pairs: rebuild it first */
	initStringInfo(&buf);
	appendStringInfoString(&buf, conninfo_rebuild(conninfo, false));
	if (extra_options && extra_options[0] != '\0')
	{
		if (buf.len > 0)
			appendStringInfoChar(&buf, ' ');
		appendStringInfoString(&buf, extra_options);
	}
	/* later keywords win in libpq, so the session's own come last */
	conninfo_append_param(&buf, "user", user);
	conninfo_append_param(&buf, "dbname", dbname);
	if (application_name)
		conninfo_append_param(&buf, "application_name", application_name);
	return buf.data;
}
