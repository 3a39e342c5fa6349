/*-------------------------------------------------------------------------
 *
 * conninfo.c
 *	  Validate, mask and complete node connection strings.
 *
 * A node's conninfo says where the node is (host, port, TLS, timeouts);
 * who connects and to which database come from the session whose query is
 * routed, so those keywords are refused in the registry.
 *
 * Validation judges a conninfo the way libpq will when it connects: the
 * syntax with libpq's own parser (PQconninfoParse), then every value the
 * way libpq's fe-connect.c checks it (ports, host and address lists,
 * integers, the words of sslmode and the other enumerations), so that a
 * node that can never be reached is refused when it is registered instead
 * of showing as down.  Options that make the server use its own files or
 * services (a password file, client certificates and keys, the service
 * file, ...) are for superusers only, in the spirit of postgres_fdw, which
 * keeps non-superusers from borrowing the server's credentials.
 *
 * foresight.connection_options, libpq options appended to every node's
 * conninfo, is checked by the same rules (conninfo_check, from its GUC check
 * hook, which must not throw): the session's keywords refused, every value
 * as libpq will judge it, no URI (it follows keyword=value pairs) and no
 * address (host, hostaddr, port: it would replace every node's own).
 *
 * Secrets: libpq marks the options whose values are secret with the display
 * character "*" (PQconndefaults()).  Their values are never shown: not in
 * the views, not in messages (conninfo_mask.c masks them in text).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <sys/socket.h>

#include "lib/stringinfo.h"
#include "libpq-fe.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"

#include "registry/conninfo.h"

/* who may set an option */
typedef enum ConninfoUse
{
	USE_ADMIN,					/* anyone who may manage nodes */
	USE_SUPERUSER,				/* uses the server's files or services */
	USE_SESSION					/* the session decides it: always refused */
} ConninfoUse;

/* how a value is checked (as libpq's fe-connect.c checks it) */
typedef enum ConninfoCheck
{
	CHECK_NONE,					/* any text */
	CHECK_HOST,					/* host names or socket directories, comma-separated */
	CHECK_HOSTADDR,				/* numeric IPv4/IPv6 addresses, comma-separated */
	CHECK_PORT,					/* port numbers 1..65535, comma-separated */
	CHECK_INTEGER,				/* an integer, 0 or more */
	CHECK_WORD,					/* one of the words of "words" */
	CHECK_TLS_VERSION,			/* TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (any case) */
	CHECK_ENCODING				/* "auto" or a client encoding */
} ConninfoCheck;

typedef struct ConninfoRule
{
	const char *keyword;
	ConninfoUse use;
	ConninfoCheck check;
	const char *words;			/* CHECK_WORD: the valid values */
	const char *uses;			/* USE_SUPERUSER: what of the server's it uses */
} ConninfoRule;

/*
 * Every option of libpq 15.  An option a newer libpq knows and this list
 * does not is for superusers only: it may read or write server files (as
 * sslkeylogfile does) and is not checked here.
 */
static const ConninfoRule conninfo_rules[] = {
	{"host", USE_ADMIN, CHECK_HOST},
	{"hostaddr", USE_ADMIN, CHECK_HOSTADDR},
	{"port", USE_ADMIN, CHECK_PORT},
	{"password", USE_ADMIN, CHECK_NONE},
	{"channel_binding", USE_ADMIN, CHECK_WORD, "disable, prefer, require"},
	{"connect_timeout", USE_ADMIN, CHECK_INTEGER},
	{"client_encoding", USE_ADMIN, CHECK_ENCODING},
	{"options", USE_ADMIN, CHECK_NONE},
	{"application_name", USE_ADMIN, CHECK_NONE},
	{"fallback_application_name", USE_ADMIN, CHECK_NONE},
	{"keepalives", USE_ADMIN, CHECK_INTEGER},
	{"keepalives_idle", USE_ADMIN, CHECK_INTEGER},
	{"keepalives_interval", USE_ADMIN, CHECK_INTEGER},
	{"keepalives_count", USE_ADMIN, CHECK_INTEGER},
	{"tcp_user_timeout", USE_ADMIN, CHECK_INTEGER},
	{"sslmode", USE_ADMIN, CHECK_WORD, "disable, allow, prefer, require, verify-ca, verify-full"},
	{"sslcompression", USE_ADMIN, CHECK_NONE},
	{"sslsni", USE_ADMIN, CHECK_NONE},
	{"requirepeer", USE_ADMIN, CHECK_NONE},
	{"ssl_min_protocol_version", USE_ADMIN, CHECK_TLS_VERSION},
	{"ssl_max_protocol_version", USE_ADMIN, CHECK_TLS_VERSION},
	{"gssencmode", USE_ADMIN, CHECK_WORD, "disable, prefer, require"},
	{"krbsrvname", USE_ADMIN, CHECK_NONE},
	{"gsslib", USE_ADMIN, CHECK_NONE},
	{"target_session_attrs", USE_ADMIN, CHECK_WORD,
	"any, read-write, read-only, primary, standby, prefer-standby"},
	{"service", USE_SUPERUSER, CHECK_NONE, NULL,
	"reads a section of the server's connection service file (which may hold passwords and any other option)"},
	{"passfile", USE_SUPERUSER, CHECK_NONE, NULL, "reads a password file of the server"},
	{"sslcert", USE_SUPERUSER, CHECK_NONE, NULL, "presents a client certificate of the server"},
	{"sslkey", USE_SUPERUSER, CHECK_NONE, NULL, "uses a client key of the server"},
	{"sslpassword", USE_SUPERUSER, CHECK_NONE, NULL,
	"unlocks a client key of the server"},
	{"sslrootcert", USE_SUPERUSER, CHECK_NONE, NULL, "reads a root certificate file of the server"},
	{"sslcrl", USE_SUPERUSER, CHECK_NONE, NULL, "reads a certificate revocation list file of the server"},
	{"sslcrldir", USE_SUPERUSER, CHECK_NONE, NULL,
	"reads a certificate revocation list directory of the server"},
	{"user", USE_SESSION, CHECK_NONE},
	{"dbname", USE_SESSION, CHECK_NONE},
	{"replication", USE_SESSION, CHECK_NONE},
};

static const ConninfoRule unknown_rule = {
	NULL, USE_SUPERUSER, CHECK_NONE, NULL,
	"is an option of a newer libpq that pg_foresight does not check"
};

static const ConninfoRule *
rule_of(const char *keyword)
{
	for (int i = 0; i < lengthof(conninfo_rules); i++)
		if (strcmp(conninfo_rules[i].keyword, keyword) == 0)
			return &conninfo_rules[i];
	return &unknown_rule;
}

/*
 * libpq's options as PQconndefaults() describes them, kept for the life of
 * the process (libpq's own malloc'd memory).  PQconndefaults() returns NULL
 * when the defaults cannot be read (PGSERVICE naming a missing service);
 * PQconninfoParse("") then gives the same descriptions without defaults.
 */
static PQconninfoOption *libpq_options = NULL;

static const PQconninfoOption *
libpq_option_list(void)
{
	if (libpq_options == NULL)
	{
		libpq_options = PQconndefaults();
		if (libpq_options == NULL)
		{
			char	   *error = NULL;

			libpq_options = PQconninfoParse("", &error);
			if (error)
				PQfreemem(error);
		}
		if (libpq_options == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("libpq could not describe its connection options.")));
	}
	return libpq_options;
}

bool
conninfo_keyword_is_secret(const char *keyword)
{
	for (const PQconninfoOption *opt = libpq_option_list(); opt->keyword != NULL; opt++)
		if (strcmp(opt->keyword, keyword) == 0)
			return opt->dispchar != NULL && strchr(opt->dispchar, '*') != NULL;
	return false;
}

/* ---------- checking values as libpq will ---------- */

/* the value as it may be shown in a message */
static const char *
shown_value(const char *keyword, const char *value)
{
	return conninfo_keyword_is_secret(keyword) ? MASKED_VALUE : value;
}

/* Split a comma-separated list as libpq does (empty elements kept). */
static List *
split_list(const char *value)
{
	List	   *elems = NIL;
	const char *p = value;

	for (;;)
	{
		const char *comma = strchr(p, ',');

		if (comma == NULL)
		{
			elems = lappend(elems, pstrdup(p));
			break;
		}
		elems = lappend(elems, pnstrdup(p, comma - p));
		p = comma + 1;
	}
	return elems;
}

/* libpq's parse_int_param: an int, white space around it allowed */
static bool
parse_libpq_int(const char *value, int *result)
{
	char	   *end;
	long		n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (end == value || errno != 0 || n != (long) (int) n)
		return false;
	while (*end != '\0' && isspace((unsigned char) *end))
		end++;
	if (*end != '\0')
		return false;
	*result = (int) n;
	return true;
}

static bool
word_in_list(const char *value, const char *words)
{
	List	   *list = split_list(words);
	ListCell   *lc;

	foreach(lc, list)
	{
		char	   *w = (char *) lfirst(lc);

		while (*w == ' ')
			w++;
		if (strcmp(w, value) == 0)
			return true;
	}
	return false;
}

static bool
numeric_address(const char *addr)
{
	struct addrinfo hints;
	struct addrinfo *result = NULL;
	int			rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;	/* never a name lookup */
	rc = getaddrinfo(addr, NULL, &hints, &result);
	if (result)
		freeaddrinfo(result);
	return rc == 0;
}

/* libpq's sslVerifyProtocolVersion: 0 for invalid, else an order */
static int
tls_version_rank(const char *value)
{
	static const char *const versions[] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

	for (int i = 0; i < lengthof(versions); i++)
		if (pg_strcasecmp(value, versions[i]) == 0)
			return i + 1;
	return 0;
}

/*
 * What is being checked: a node's conninfo (the registry), or
 * foresight.connection_options, the options appended to every node's.
 */
typedef struct ConninfoSubject
{
	const char *invalid;		/* the message of a string libpq refuses */
	const char *name;			/* in "%s must not contain ..." */
	const char *in;				/* after "invalid value ... for connection option ..." */
} ConninfoSubject;

static const ConninfoSubject subjects[] = {
	[CONNINFO_NODE] = {"invalid node connection string", "node connection string", ""},
	[CONNINFO_OPTIONS] = {"invalid value for parameter \"foresight.connection_options\"",
	"foresight.connection_options", " in foresight.connection_options"},
};

/* fill in *problem; returns false, for "return set_problem(...)" */
static bool
set_problem(ConninfoProblem *problem, int sqlerrcode, char *message, char *detail,
			char *hint)
{
	problem->sqlerrcode = sqlerrcode;
	problem->message = message;
	problem->detail = detail;
	problem->hint = hint;
	return false;
}

static bool
invalid_value(ConninfoProblem *problem, const ConninfoSubject *subject,
			  const char *keyword, const char *value, char *detail, char *hint)
{
	return set_problem(problem, ERRCODE_INVALID_PARAMETER_VALUE,
					   psprintf("invalid value \"%s\" for connection option \"%s\"%s",
								shown_value(keyword, value), keyword, subject->in),
					   detail, hint);
}

static bool
check_value(const ConninfoRule *rule, const char *keyword, const char *value,
			const ConninfoSubject *subject, ConninfoProblem *problem)
{
	switch (rule->check)
	{
		case CHECK_NONE:
		case CHECK_HOST:		/* checked with hostaddr and port below */
			break;

		case CHECK_HOSTADDR:
			{
				ListCell   *lc;

				foreach(lc, split_list(value))
				{
					const char *addr = (const char *) lfirst(lc);

					if (addr[0] != '\0' && !numeric_address(addr))
						return invalid_value(problem, subject, keyword, value,
											 psprintf("\"%s\" is not a numeric IPv4 or IPv6 address.", addr),
											 pstrdup("Give addresses such as 10.0.0.2 or ::1 in \"hostaddr\", and host names in \"host\"."));
				}
				break;
			}

		case CHECK_PORT:
			{
				ListCell   *lc;

				/* an empty port list, or element, is libpq's default port */
				if (value[0] == '\0')
					break;
				foreach(lc, split_list(value))
				{
					const char *port = (const char *) lfirst(lc);
					int			n;

					if (port[0] != '\0' && (!parse_libpq_int(port, &n) || n < 1 || n > 65535))
						return invalid_value(problem, subject, keyword, value,
											 psprintf("\"%s\" is not a port number: ports are integers from 1 to 65535.", port),
											 pstrdup("Give one port, or one port per host separated by commas."));
				}
				break;
			}

		case CHECK_INTEGER:
			{
				int			n;

				if (!parse_libpq_int(value, &n) || n < 0)
					return invalid_value(problem, subject, keyword, value,
										 psprintf("\"%s\" must be an integer, 0 or more.", keyword),
										 psprintf("Leave \"%s\" out to use libpq's default.", keyword));
				break;
			}

		case CHECK_WORD:
			if (!word_in_list(value, rule->words))
				return invalid_value(problem, subject, keyword, value,
									 psprintf("\"%s\" takes one of a fixed set of values.", keyword),
									 psprintf("Valid values are: %s.", rule->words));
			break;

		case CHECK_TLS_VERSION:
			if (value[0] != '\0' && tls_version_rank(value) == 0)
				return invalid_value(problem, subject, keyword, value,
									 psprintf("\"%s\" takes a TLS protocol version.", keyword),
									 pstrdup("Valid values are: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3."));
			break;

		case CHECK_ENCODING:
			if (strcmp(value, "auto") != 0 && pg_valid_client_encoding(value) < 0)
				return invalid_value(problem, subject, keyword, value,
									 psprintf("\"%s\" is not a client encoding.", value),
									 pstrdup("Give an encoding such as UTF8, or auto."));
			break;
	}
	return true;
}

/* the value of keyword in a parsed conninfo, or NULL */
static const char *
option_value(const PQconninfoOption *options, const char *keyword)
{
	for (const PQconninfoOption *opt = options; opt->keyword != NULL; opt++)
		if (strcmp(opt->keyword, keyword) == 0)
			return opt->val;
	return NULL;
}

static bool
invalid_conninfo(ConninfoProblem *problem, char *detail, char *hint)
{
	return set_problem(problem, ERRCODE_INVALID_PARAMETER_VALUE,
					   pstrdup(subjects[CONNINFO_NODE].invalid), detail, hint);
}

/*
 * What libpq's pqConnectOptions2 checks across options: as many host
 * names as addresses, one port or one per host; and ours: every host of
 * the list named, since without one libpq would connect to the default
 * Unix-domain socket of this very machine.  A service (superusers only)
 * may name the host itself.
 */
static bool
check_hosts(const PQconninfoOption *options, ConninfoProblem *problem)
{
	const char *host = option_value(options, "host");
	const char *hostaddr = option_value(options, "hostaddr");
	const char *port = option_value(options, "port");
	const char *service = option_value(options, "service");
	List	   *hosts = (host && host[0]) ? split_list(host) : NIL;
	List	   *addrs = (hostaddr && hostaddr[0]) ? split_list(hostaddr) : NIL;
	int			nhosts = addrs != NIL ? list_length(addrs) : list_length(hosts);

	if (hosts == NIL && addrs == NIL)
	{
		if (service && service[0])
			return true;
		return set_problem(problem, ERRCODE_INVALID_PARAMETER_VALUE,
						   pstrdup("node connection string must name a host"),
						   pstrdup("Without \"host\" or \"hostaddr\", libpq would connect to a default Unix-domain socket of this server's machine."),
						   pstrdup("Give host=name (or host=/socket/directory), hostaddr=address, or a postgresql://host URI."));
	}
	if (hosts != NIL && addrs != NIL && list_length(hosts) != list_length(addrs))
		return invalid_conninfo(problem,
								psprintf("It has %d host names and %d host addresses.",
										 list_length(hosts), list_length(addrs)),
								pstrdup("Give one address in \"hostaddr\" for every name in \"host\"."));
	for (int i = 0; i < nhosts; i++)
	{
		const char *h = hosts != NIL ? (const char *) list_nth(hosts, i) : "";
		const char *a = addrs != NIL ? (const char *) list_nth(addrs, i) : "";

		if (h[0] == '\0' && a[0] == '\0')
			return set_problem(problem, ERRCODE_INVALID_PARAMETER_VALUE,
							   pstrdup("node connection string must name a host"),
							   psprintf("Host %d of the list of %d is empty.", i + 1, nhosts),
							   pstrdup("Remove the empty entry from the comma-separated list."));
	}
	if (port && port[0])
	{
		int			nports = list_length(split_list(port));

		if (nports != 1 && nports != nhosts)
			return invalid_conninfo(problem,
									psprintf("It has %d ports for %d hosts.", nports, nhosts),
									pstrdup("Give one port for all hosts, or one port per host."));
	}
	return true;
}

/* ssl_min_protocol_version no higher than ssl_max_protocol_version */
static bool
check_tls_range(const PQconninfoOption *options, const ConninfoSubject *subject,
				ConninfoProblem *problem)
{
	const char *min_tls = option_value(options, "ssl_min_protocol_version");
	const char *max_tls = option_value(options, "ssl_max_protocol_version");

	if (min_tls && min_tls[0] && max_tls && max_tls[0] &&
		tls_version_rank(min_tls) > tls_version_rank(max_tls))
		return set_problem(problem, ERRCODE_INVALID_PARAMETER_VALUE, pstrdup(subject->invalid),
						   psprintf("ssl_min_protocol_version \"%s\" is above ssl_max_protocol_version \"%s\".",
									min_tls, max_tls),
						   pstrdup("Swap the two values, or leave one out."));
	return true;
}

static bool
is_uri(const char *conninfo)
{
	return strncmp(conninfo, "postgresql://", 13) == 0 ||
		strncmp(conninfo, "postgres://", 11) == 0;
}

static bool check_conninfo(const char *conninfo, ConninfoKind kind, ConninfoProblem *problem);

bool
conninfo_check(const char *conninfo, ConninfoKind kind, ConninfoProblem *problem)
{
	if (check_conninfo(conninfo, kind, problem))
		return true;
	/* a secret's text, wherever a message quotes it (another option's value) */
	problem->message = conninfo_mask_text(problem->message, conninfo);
	if (problem->detail)
		problem->detail = conninfo_mask_text(problem->detail, conninfo);
	if (problem->hint)
		problem->hint = conninfo_mask_text(problem->hint, conninfo);
	return false;
}

static bool
check_conninfo(const char *conninfo, ConninfoKind kind, ConninfoProblem *problem)
{
	const ConninfoSubject *subject = &subjects[kind];
	char	   *parse_error = NULL;
	PQconninfoOption *parsed;
	PQconninfoOption *options;
	int			noptions = 0;
	bool		is_superuser;

	/* the options follow the node's keyword=value pairs (conninfo_for_session) */
	if (kind == CONNINFO_OPTIONS && is_uri(conninfo))
		return set_problem(problem, ERRCODE_INVALID_PARAMETER_VALUE, pstrdup(subject->invalid),
						   pstrdup("It is a URI, which cannot follow the keyword=value pairs of a node's connection string."),
						   pstrdup("Give libpq keyword/value pairs such as 'sslmode=require keepalives_idle=30'."));

	parsed = PQconninfoParse(conninfo, &parse_error);
	if (parsed == NULL)
	{
		char	   *detail = parse_error ? pstrdup(parse_error) : pstrdup("out of memory");

		if (parse_error)
			PQfreemem(parse_error);
		/* libpq's messages end in a newline, and may quote a secret */
		detail[strcspn(detail, "\n")] = '\0';
		return set_problem(problem, ERRCODE_INVALID_PARAMETER_VALUE, pstrdup(subject->invalid),
						   conninfo_mask_text(detail, conninfo),
						   pstrdup(kind == CONNINFO_NODE ?
								   "Give libpq keyword/value pairs such as 'host=10.0.0.2 port=5432' or a postgresql:// URI." :
								   "Give libpq keyword/value pairs such as 'sslmode=require keepalives_idle=30'."));
	}

	/* a palloc'd copy, so that errors leak nothing of libpq's */
	for (PQconninfoOption *opt = parsed; opt->keyword != NULL; opt++)
		noptions++;
	options = palloc0(sizeof(PQconninfoOption) * (noptions + 1));
	for (int i = 0; i < noptions; i++)
	{
		options[i].keyword = pstrdup(parsed[i].keyword);
		options[i].val = parsed[i].val ? pstrdup(parsed[i].val) : NULL;
	}
	PQconninfoFree(parsed);

	/*
	 * foresight.connection_options is set by superusers only (PGC_SUSET),
	 * but its check runs for whoever a role's or database's setting applies
	 * to: the options reserved to superusers are its to give.
	 */
	is_superuser = kind == CONNINFO_OPTIONS || superuser();
	for (PQconninfoOption *opt = options; opt->keyword != NULL; opt++)
	{
		const ConninfoRule *rule;

		if (opt->val == NULL)
			continue;
		rule = rule_of(opt->keyword);
		if (rule->use == USE_SESSION && opt->val[0] != '\0')
			return set_problem(problem, ERRCODE_INVALID_PARAMETER_VALUE,
							   psprintf("%s must not contain \"%s\"", subject->name, opt->keyword),
							   pstrdup("Routed queries connect as the role that runs them, to the database they run in."),
							   psprintf("Remove \"%s\" from %s.", opt->keyword,
										kind == CONNINFO_NODE ? "the connection string" : "the setting"));
		/* the options follow each node's pairs: an address would replace its own */
		if (kind == CONNINFO_OPTIONS && opt->val[0] != '\0' &&
			(strcmp(opt->keyword, "host") == 0 || strcmp(opt->keyword, "hostaddr") == 0 ||
			 strcmp(opt->keyword, "port") == 0))
			return set_problem(problem, ERRCODE_INVALID_PARAMETER_VALUE,
							   psprintf("%s must not contain \"%s\"", subject->name, opt->keyword),
							   pstrdup("It would replace every node's own address: a node's conninfo says where the node is."),
							   psprintf("Remove \"%s\" from the setting; a node's address is changed with foresight.alter_node().",
										opt->keyword));
		/* an empty value is libpq's default, which is no file of our choosing */
		if (rule->use == USE_SUPERUSER && opt->val[0] != '\0' && !is_superuser)
			return set_problem(problem, ERRCODE_INSUFFICIENT_PRIVILEGE,
							   psprintf("permission denied to set connection option \"%s\"", opt->keyword),
							   psprintf("Only superusers may set \"%s\", which %s.",
										opt->keyword, rule->uses),
							   psprintf("Ask a superuser to set it, or leave \"%s\" out.", opt->keyword));
		if (!check_value(rule, opt->keyword, opt->val, subject, problem))
			return false;
	}
	/* the options' hosts, if any, replace each node's: not checked as a list */
	if (kind == CONNINFO_NODE && !check_hosts(options, problem))
		return false;
	return check_tls_range(options, subject, problem);
}

void
conninfo_validate(const char *conninfo)
{
	ConninfoProblem problem;

	if (!conninfo_check(conninfo, CONNINFO_NODE, &problem))
		ereport(ERROR,
				(errcode(problem.sqlerrcode),
				 errmsg_internal("%s", problem.message),
				 problem.detail ? errdetail_internal("%s", problem.detail) : 0,
				 problem.hint ? errhint("%s", problem.hint) : 0));
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
 * Rebuild a parsed conninfo as keyword='value' pairs, replacing every secret
 * value when mask is set.  A string libpq cannot parse (it was checked when
 * it was stored, so this is not expected) is shown as "(invalid)".
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
		if (mask && conninfo_keyword_is_secret(opt->keyword))
			conninfo_append_param(&buf, opt->keyword, MASKED_VALUE);
		else
			conninfo_append_param(&buf, opt->keyword, opt->val);
	}
	PQconninfoFree(options);
	return buf.data;
}

char *
conninfo_mask_secrets(const char *conninfo)
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
