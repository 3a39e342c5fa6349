/*-------------------------------------------------------------------------
 *
 * guc_sync.c
 *	  Carry this session's settings, session user and current role to the
 *	  node sessions that run its routed queries.
 *
 * The rule: a node session has, before each routed query, the value this
 * session has of every setting a session can change (context user or
 * superuser: the planner's, the locale's, custom and placeholder settings
 * such as app.tenant, extensions' ...), except those that belong to the
 * connection or the transaction rather than to the query (never_carried
 * below, and foresight.* of course).  Settings no session can change
 * (server-wide or fixed at connection start) are the node's own.
 *
 * What the node session has is known, per connection: when the connection
 * is made its settings are read (pg_settings, as its login sees them), and
 * from then on every value sent is remembered once the node took it.
 * Before a routed query, the settings whose value changed here since the
 * connection last heard are compared with what it has, and only those that
 * differ are sent, one SELECT pg_catalog.set_config(...) each, in the same
 * round trip as the query's other preliminaries.
 *
 * Cheap when nothing changed: a value can only change when something runs
 * here, so the router counts what may change one (guc_sync_touch: a
 * utility statement, a plan run here, a subtransaction's abort, the end of
 * a transaction that did one of those) and the table of this session's
 * values is read again only when the count, the number of settings or the
 * time the configuration file was last read has moved.  A routed query of
 * a session that changed nothing costs four comparisons.  Reading the
 * table again compares each setting's raw value (by value; strings by
 * content) and formats only the ones that changed.
 *
 * Identity.  The node login is the role this session authenticated as (the
 * session user, unless a superuser changed it with SET SESSION
 * AUTHORIZATION).  The session user and the current role are carried like
 * settings: session_authorization when the session user is another role,
 * then role (SET ROLE).  current_user, session_user, privileges and
 * row-level security are then the node's answer for the same identity.  A
 * superuser-only setting is set while the node session is the login, as it
 * was set here; one that the login may not set, set here by this session
 * under another role, cannot be carried: the session check says so and the
 * query runs here.
 *
 * What a node refuses (a setting its server does not know under a
 * reserved prefix, a value its check rejects, a role it does not have
 * yet) makes the query run elsewhere; a refused value is remembered, and
 * queries run here while the setting keeps it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "remote/guc_sync.h"

/*
 * Settings a session can change that a node session does not take from
 * this one: they belong to the connection (its encoding, its name on the
 * node, its sockets, how long it may stay idle) or to the remote
 * transaction (its BEGIN says what it is; a hot standby cannot run
 * SERIALIZABLE, so a session using it does not route, see eligibility.c),
 * or are the identity carried on its own, or are not settings at all
 * (SET seed calls setseed()).  default_transaction_read_only is forced on.
 */
static const char *const never_carried[] = {
	"role",
	"session_authorization",
	"is_superuser",
	"transaction_isolation",
	"transaction_read_only",
	"transaction_deferrable",
	"default_transaction_isolation",
	"default_transaction_deferrable",
	"default_transaction_read_only",
	"client_encoding",
	"application_name",
	"tcp_keepalives_idle",
	"tcp_keepalives_interval",
	"tcp_keepalives_count",
	"tcp_user_timeout",
	"client_connection_check_interval",
	"idle_in_transaction_session_timeout",
	"idle_session_timeout",
	"exit_on_error",
	"seed",
};

/* pg_foresight's own settings are never carried: a node session never routes */
#define OWN_PREFIX "foresight."

/*
 * One entry per setting of this server, in the order of the GUC machinery's
 * array (so that a change of the array is seen by comparing pointers).
 * Entries are read only while their pointer is the array's: a placeholder
 * replaced by an extension's definition is freed by the GUC machinery.
 */
typedef struct LocalSetting
{
	struct config_generic *gconf;
	char	   *name;			/* copies of what is used between reads */
	GucContext	context;
	enum config_type vartype;
	int			flags;
	bool		carried;		/* a setting nodes take (the rule above) */
	/* carried settings only: */
	union
	{
		bool		b;
		int			i;
		double		r;
	}			raw;			/* value when last read (not strings) */
	char	   *value;			/* ... as text, as set_config takes it */
	uint64		version;		/* local_version when it last changed */
	bool		session_level;	/* set by this session (client, SET, ...) */
} LocalSetting;

/* a value a node refused */
typedef struct Refusal
{
	char	   *name;
	char	   *value;
	char		node[NAMEDATALEN];
} Refusal;

#define MAX_REFUSALS 16

static MemoryContext local_cxt = NULL;
static LocalSetting *local = NULL;
static int	nlocal = 0;
static uint64 local_version = 0;

/* what may have changed a value: compared with the last read */
static uint64 touches = 1;
static uint64 read_at_touches = 0;
static TimestampTz read_at_reload = 0;
static bool touched_in_xact = false;

/* the session check's answer as of the last read: NULL or why not */
static char *verdict = NULL;

static Refusal refusals[MAX_REFUSALS];
static int	nrefusals = 0;
static int	next_refusal = 0;

/* --- what a node session has --- */

typedef struct NodeValue
{
	char	   *name;
	char	   *value;			/* as pg_settings.setting shows it, or as sent */
} NodeValue;

typedef enum PendingKind
{
	PENDING_SETTING,
	PENDING_IDENTITY			/* session_authorization or role */
} PendingKind;

typedef struct Pending
{
	PendingKind kind;
	char	   *name;
	char	   *value;
} Pending;

typedef struct RemoteSettings
{
	MemoryContext cxt;			/* everything below */
	NodeValue  *values;			/* sorted by name, case-insensitively */
	int			nvalues;
	int			maxvalues;
	uint64		synced;			/* local_version it has every value of */
	Oid			session_user;	/* its session user */
	Oid			role;			/* its role, InvalidOid for none */

	/* the statements sent, not confirmed yet */
	Pending    *pending;
	int			npending;
	int			first_statement;
	uint64		pending_synced;
	Oid			pending_session_user;
	Oid			pending_role;
} RemoteSettings;

static bool
never_carried_name(const char *name)
{
	if (pg_strncasecmp(name, OWN_PREFIX, strlen(OWN_PREFIX)) == 0)
		return true;
	for (int i = 0; i < lengthof(never_carried); i++)
		if (pg_strcasecmp(name, never_carried[i]) == 0)
			return true;
	return false;
}

/* Read the value of a carried setting into ls; a new version when it changed. */
static void
take_value(LocalSetting *ls)
{
	struct config_generic *g = ls->gconf;
	char		buf[64];
	const char *text = buf;

	switch (ls->vartype)
	{
		case PGC_BOOL:
			ls->raw.b = *((struct config_bool *) g)->variable;
			text = ls->raw.b ? "on" : "off";
			break;
		case PGC_INT:
			ls->raw.i = *((struct config_int *) g)->variable;
			snprintf(buf, sizeof(buf), "%d", ls->raw.i);
			break;
		case PGC_REAL:
			/* every digit: SHOW's %g would round */
			ls->raw.r = *((struct config_real *) g)->variable;
			snprintf(buf, sizeof(buf), "%.17g", ls->raw.r);
			break;
		case PGC_STRING:
			text = *((struct config_string *) g)->variable;
			if (text == NULL)
				text = "";
			break;
		case PGC_ENUM:
			ls->raw.i = *((struct config_enum *) g)->variable;
			text = config_enum_lookup_by_value((struct config_enum *) g, ls->raw.i);
			break;
	}
	if (ls->value)
		pfree(ls->value);
	ls->value = MemoryContextStrdup(local_cxt, text);
	ls->version = ++local_version;
}

/* Has the value of a carried setting changed since take_value()? */
static bool
value_changed(LocalSetting *ls)
{
	struct config_generic *g = ls->gconf;

	switch (ls->vartype)
	{
		case PGC_BOOL:
			return ls->raw.b != *((struct config_bool *) g)->variable;
		case PGC_INT:
			return ls->raw.i != *((struct config_int *) g)->variable;
		case PGC_REAL:
			return memcmp(&ls->raw.r, ((struct config_real *) g)->variable,
						  sizeof(double)) != 0;
		case PGC_STRING:
			{
				const char *s = *((struct config_string *) g)->variable;

				/* by content: a new string may reuse a freed one's address */
				return strcmp(ls->value, s ? s : "") != 0;
			}
		case PGC_ENUM:
			return ls->raw.i != *((struct config_enum *) g)->variable;
	}
	return true;
}

static int
compare_by_gconf(const void *a, const void *b)
{
	uintptr_t	x = (uintptr_t) ((const LocalSetting *) a)->gconf;
	uintptr_t	y = (uintptr_t) ((const LocalSetting *) b)->gconf;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * The GUC machinery's array changed (a setting was defined, a placeholder
 * made or replaced): one entry per variable again, keeping what is known
 * of the variables that were there.
 */
static void
rebuild_local(struct config_generic **vars, int nvars)
{
	LocalSetting *fresh = MemoryContextAllocZero(local_cxt,
												 sizeof(LocalSetting) * Max(nvars, 1));

	if (local != NULL)
		qsort(local, nlocal, sizeof(LocalSetting), compare_by_gconf);
	for (int i = 0; i < nvars; i++)
	{
		LocalSetting key;
		LocalSetting *old = NULL;
		LocalSetting *ls = &fresh[i];

		key.gconf = vars[i];
		if (local != NULL)
			old = bsearch(&key, local, nlocal, sizeof(LocalSetting), compare_by_gconf);
		if (old != NULL)
		{
			*ls = *old;
			old->gconf = NULL;	/* moved */
			continue;
		}
		ls->gconf = vars[i];
		ls->name = MemoryContextStrdup(local_cxt, vars[i]->name);
		ls->context = vars[i]->context;
		ls->vartype = vars[i]->vartype;
		ls->flags = vars[i]->flags;
		ls->carried = (ls->context == PGC_USERSET || ls->context == PGC_SUSET) &&
			!never_carried_name(ls->name);
		if (ls->carried)
			take_value(ls);
	}
	for (int i = 0; i < nlocal; i++)
	{
		if (local[i].gconf == NULL)
			continue;
		pfree(local[i].name);
		if (local[i].value)
			pfree(local[i].value);
	}
	if (local != NULL)
		pfree(local);
	local = fresh;
	nlocal = nvars;
}

/* May the node login set superuser-only setting ls? */
static bool
login_may_set(LocalSetting *ls)
{
	Oid			login = GetAuthenticatedUserId();

	return superuser_arg(login) ||
		pg_parameter_aclcheck(ls->name, login, ACL_SET) == ACLCHECK_OK;
}

static LocalSetting *
find_local(const char *name)
{
	for (int i = 0; i < nlocal; i++)
		if (pg_strcasecmp(local[i].name, name) == 0)
			return &local[i];
	return NULL;
}

static bool
refused_before(LocalSetting *ls, const char **node)
{
	for (int i = 0; i < nrefusals; i++)
		if (pg_strcasecmp(refusals[i].name, ls->name) == 0 &&
			strcmp(refusals[i].value, ls->value) == 0)
		{
			*node = refusals[i].node;
			return true;
		}
	return false;
}

/* The session check's answer for the values just read. */
static void
judge(void)
{
	char	   *why = NULL;

	for (int i = 0; i < nlocal && why == NULL; i++)
	{
		LocalSetting *ls = &local[i];
		const char *node;

		if (!ls->carried)
			continue;
		if (ls->session_level && ls->context == PGC_SUSET && !login_may_set(ls))
			why = psprintf("superuser-only setting \"%s\" cannot be set by the node login",
						   ls->name);
		else if (nrefusals > 0 && refused_before(ls, &node))
			why = psprintf("node \"%s\" refused setting \"%s\"", node, ls->name);
	}
	if (verdict)
		pfree(verdict);
	verdict = why ? MemoryContextStrdup(local_cxt, why) : NULL;
}

/*
 * Bring the table of this session's values up to date, unless nothing
 * that may change one happened since the last read.
 */
static void
read_local(void)
{
	struct config_generic **vars;
	int			nvars = GetNumConfigOptions();
	bool		reloaded;

	if (touches == read_at_touches && nvars == nlocal && PgReloadTime == read_at_reload)
		return;

	if (local_cxt == NULL)
		local_cxt = AllocSetContextCreate(TopMemoryContext, "foresight session settings",
										  ALLOCSET_DEFAULT_SIZES);
	vars = get_guc_variables();
	for (int i = 0; i < nvars; i++)
	{
		if (i >= nlocal || local[i].gconf != vars[i])
		{
			rebuild_local(vars, nvars);
			break;
		}
	}
	reloaded = PgReloadTime != read_at_reload;
	for (int i = 0; i < nlocal; i++)
	{
		LocalSetting *ls = &local[i];
		bool		session_level;

		if (!ls->carried)
			continue;

		/*
		 * A value this session did not set changes only when the
		 * configuration file is read again (the values from the catalogs and
		 * the connection request are set once, at login).
		 */
		session_level = ls->gconf->source >= PGC_S_CLIENT || ls->gconf->stack != NULL;
		if ((session_level || ls->session_level || reloaded) && value_changed(ls))
			take_value(ls);
		ls->session_level = session_level;
	}
	judge();
	read_at_touches = touches;
	read_at_reload = PgReloadTime;
}

void
guc_sync_touch(void)
{
	touches++;
	touched_in_xact = true;
}

void
guc_sync_xact_end(bool aborted)
{
	if (aborted || touched_in_xact)
		touches++;
	touched_in_xact = false;
}

const char *
guc_sync_check_session(void)
{
	Oid			userid;
	int			sec_context;

	/*
	 * Under a SECURITY DEFINER function or in a security-restricted
	 * operation (CREATE MATERIALIZED VIEW), the current user is not one SET
	 * ROLE gives, and the restrictions would not hold on the node.
	 */
	GetUserIdAndSecContext(&userid, &sec_context);
	if (sec_context != 0 || userid != GetOuterUserId())
		return "runs as a role SET ROLE does not give (security definer or restricted operation)";

	read_local();
	return verdict ? pstrdup(verdict) : NULL;
}

bool
guc_sync_setting_is_carried(const char *name)
{
	LocalSetting *ls;

	read_local();
	ls = find_local(name);
	return ls != NULL && ls->carried && ls->context == PGC_USERSET &&
		(ls->flags & GUC_SUPERUSER_ONLY) == 0;
}

/* --- node sessions --- */

const char *
guc_sync_setup_sql(void)
{
	return "SELECT pg_catalog.set_config('foresight.routing_policy', 'local', false), "
		"pg_catalog.set_config('default_transaction_read_only', 'on', false); "
		"SELECT name, setting FROM pg_catalog.pg_settings "
		"WHERE context IN ('user', 'superuser') ORDER BY name";
}

static int
compare_node_values(const void *a, const void *b)
{
	return pg_strcasecmp(((const NodeValue *) a)->name, ((const NodeValue *) b)->name);
}

bool
guc_sync_baseline(RemoteConn *rc, PGresult *res, char **error)
{
	RemoteSettings *rs;
	MemoryContext cxt;
	int			n = PQntuples(res);

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 2)
	{
		*error = pstrdup("unexpected answer to the settings query");
		return false;
	}
	guc_sync_forget(rc);
	cxt = AllocSetContextCreate(TopMemoryContext, "foresight node settings",
								ALLOCSET_SMALL_SIZES);
	rs = MemoryContextAllocZero(cxt, sizeof(RemoteSettings));
	rs->cxt = cxt;
	rs->maxvalues = n + 16;
	rs->values = MemoryContextAlloc(cxt, sizeof(NodeValue) * rs->maxvalues);
	for (int i = 0; i < n; i++)
	{
		rs->values[i].name = MemoryContextStrdup(cxt, PQgetvalue(res, i, 0));
		rs->values[i].value = PQgetisnull(res, i, 1) ? NULL :
			MemoryContextStrdup(cxt, PQgetvalue(res, i, 1));
	}
	rs->nvalues = n;
	/* the node's collation may order names otherwise */
	qsort(rs->values, n, sizeof(NodeValue), compare_node_values);
	rs->session_user = GetAuthenticatedUserId();
	rs->role = InvalidOid;
	rs->synced = 0;
	rc->settings = rs;
	return true;
}

static NodeValue *
node_value(RemoteSettings *rs, const char *name)
{
	NodeValue	key;

	key.name = (char *) name;
	return bsearch(&key, rs->values, rs->nvalues, sizeof(NodeValue), compare_node_values);
}

static void
set_node_value(RemoteSettings *rs, const char *name, const char *value)
{
	NodeValue  *nv = node_value(rs, name);
	int			at;

	if (nv != NULL)
	{
		if (nv->value)
			pfree(nv->value);
		nv->value = MemoryContextStrdup(rs->cxt, value);
		return;
	}
	if (rs->nvalues == rs->maxvalues)
	{
		rs->maxvalues *= 2;
		rs->values = repalloc(rs->values, sizeof(NodeValue) * rs->maxvalues);
	}
	for (at = rs->nvalues; at > 0 && pg_strcasecmp(rs->values[at - 1].name, name) > 0; at--)
		rs->values[at] = rs->values[at - 1];
	rs->values[at].name = MemoryContextStrdup(rs->cxt, name);
	rs->values[at].value = MemoryContextStrdup(rs->cxt, value);
	rs->nvalues++;
}

/* Does the node's value (NULL: unknown) equal ours? */
static bool
same_value(LocalSetting *ls, const char *node)
{
	if (node == NULL)
		return false;
	if (ls->vartype == PGC_REAL)
	{
		/* pg_settings shows a real with 6 digits; what was sent has them all */
		char	   *end;
		double		d = strtod(node, &end);

		return *end == '\0' && d == ls->raw.r;
	}
	return strcmp(ls->value, node) == 0;
}

static void
add_pending(RemoteSettings *rs, StringInfo sql, PendingKind kind,
			const char *name, const char *value)
{
	Pending    *p = &rs->pending[rs->npending++];

	p->kind = kind;
	p->name = MemoryContextStrdup(rs->cxt, name);
	p->value = MemoryContextStrdup(rs->cxt, value);
	appendStringInfo(sql, "SELECT pg_catalog.set_config(%s, %s, false); ",
					 quote_literal_cstr(name), quote_literal_cstr(value));
}

static void
discard_pending(RemoteSettings *rs)
{
	if (rs->pending == NULL)
		return;
	for (int i = 0; i < rs->npending; i++)
	{
		pfree(rs->pending[i].name);
		pfree(rs->pending[i].value);
	}
	pfree(rs->pending);
	rs->pending = NULL;
	rs->npending = 0;
}

/* a role's name for session_authorization or role; NULL when it is gone */
static char *
role_name(Oid roleid)
{
	return OidIsValid(roleid) ? GetUserNameFromId(roleid, true) : pstrdup("none");
}

int
guc_sync_statement(RemoteConn *rc, StringInfo sql, int first_statement, char **refusal)
{
	RemoteSettings *rs = rc->settings;
	Oid			login = GetAuthenticatedUserId();
	Oid			want_session = GetSessionUserId();
	Oid			want_role = GetCurrentRoleId();
	Oid			session_user;
	Oid			role;
	bool		as_login = false;
	LocalSetting **send;
	int			nsend = 0;
	char	   *session_name = NULL;
	char	   *role_to = NULL;

	Assert(rs != NULL);
	read_local();
	discard_pending(rs);
	if (rs->synced == local_version && rs->session_user == want_session &&
		rs->role == want_role)
		return 0;

	/* the settings that changed here since the node last heard, and differ */
	send = palloc(sizeof(LocalSetting *) * Max(nlocal, 1));
	for (int i = 0; i < nlocal; i++)
	{
		LocalSetting *ls = &local[i];
		NodeValue  *nv;
		const char *node;

		if (!ls->carried || ls->version <= rs->synced)
			continue;
		nv = node_value(rs, ls->name);
		if (same_value(ls, nv ? nv->value : NULL))
			continue;
		if (ls->context == PGC_SUSET)
		{
			if (!login_may_set(ls))
			{
				/* a server's own configuration is its own */
				if (!ls->session_level)
					continue;
				*refusal = psprintf("superuser-only setting \"%s\" cannot be set by the node login",
									ls->name);
				return -1;
			}
			as_login = true;
		}
		if (nrefusals > 0 && refused_before(ls, &node))
		{
			*refusal = psprintf("node \"%s\" refused setting \"%s\" = %s before",
								node, ls->name, quote_literal_cstr(ls->value));
			return -1;
		}
		send[nsend++] = ls;
	}

	/*
	 * Superuser-only settings are set as the login, as they were set here;
	 * then the session user and the role (setting session_authorization
	 * ends SET ROLE, as here).
	 */
	session_user = rs->session_user;
	role = rs->role;
	if (as_login && (session_user != login || OidIsValid(role)))
		session_user = role = InvalidOid;	/* reset first, below */
	if (session_user != want_session && (session_name = role_name(want_session)) == NULL)
	{
		*refusal = pstrdup("the session user no longer exists");
		return -1;
	}
	if ((session_user != want_session || role != want_role) &&
		(role_to = role_name(want_role)) == NULL)
	{
		*refusal = pstrdup("the current role no longer exists");
		return -1;
	}

	rs->pending = MemoryContextAlloc(rs->cxt, sizeof(Pending) * (nsend + 3));
	rs->npending = 0;
	if (!OidIsValid(session_user))
	{
		add_pending(rs, sql, PENDING_IDENTITY, "session_authorization",
					GetUserNameFromId(login, false));
		session_user = login;
		role = InvalidOid;
	}
	for (int i = 0; i < nsend; i++)
		add_pending(rs, sql, PENDING_SETTING, send[i]->name, send[i]->value);
	if (session_user != want_session)
	{
		add_pending(rs, sql, PENDING_IDENTITY, "session_authorization", session_name);
		session_user = want_session;
		role = InvalidOid;
	}
	if (role != want_role)
	{
		add_pending(rs, sql, PENDING_IDENTITY, "role", role_to);
		role = want_role;
	}
	pfree(send);

	rs->first_statement = first_statement;
	rs->pending_synced = local_version;
	rs->pending_session_user = session_user;
	rs->pending_role = role;
	if (rs->npending == 0)
	{
		/* changed and changed back: nothing to send */
		guc_sync_confirm(rc);
		return 0;
	}
	return rs->npending;
}

void
guc_sync_confirm(RemoteConn *rc)
{
	RemoteSettings *rs = rc->settings;

	if (rs == NULL || rs->pending == NULL)
		return;
	for (int i = 0; i < rs->npending; i++)
		if (rs->pending[i].kind == PENDING_SETTING)
			set_node_value(rs, rs->pending[i].name, rs->pending[i].value);
	rs->synced = rs->pending_synced;
	rs->session_user = rs->pending_session_user;
	rs->role = rs->pending_role;
	discard_pending(rs);
}

bool
guc_sync_refused(RemoteConn *rc, int statement, const char *message)
{
	RemoteSettings *rs = rc->settings;
	Pending    *p;
	int			k;

	if (rs == NULL || rs->pending == NULL)
		return false;
	k = statement - rs->first_statement;
	if (k < 0 || k >= rs->npending)
	{
		discard_pending(rs);
		return false;
	}
	p = &rs->pending[k];

	/*
	 * A setting's value is remembered, so that the session check keeps
	 * queries here while the setting has it.  The identity is not: a role
	 * a node does not have yet (replay lag) is its passing state.
	 */
	if (p->kind == PENDING_SETTING)
	{
		Refusal    *r = &refusals[next_refusal];

		if (nrefusals == MAX_REFUSALS)
		{
			pfree(r->name);
			pfree(r->value);
		}
		else
			nrefusals++;
		next_refusal = (next_refusal + 1) % MAX_REFUSALS;
		r->name = MemoryContextStrdup(local_cxt, p->name);
		r->value = MemoryContextStrdup(local_cxt, p->value);
		strlcpy(r->node, rc->node_name, NAMEDATALEN);
		ereport(LOG,
				(errmsg("pg_foresight: node \"%s\" refused setting \"%s\" = %s: %s",
						rc->node_name, p->name, quote_literal_cstr(p->value), message),
				 errdetail("Queries of this session run on this server while the setting keeps this value.")));
		guc_sync_touch();
	}
	discard_pending(rs);
	return true;
}

void
guc_sync_forget(RemoteConn *rc)
{
	if (rc->settings == NULL)
		return;
	MemoryContextDelete(rc->settings->cxt);
	rc->settings = NULL;
}
