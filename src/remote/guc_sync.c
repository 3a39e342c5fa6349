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
#include "remote/session_settings_internal.h"

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

/* --- node sessions --- */

const char *
guc_sync_setup_sql(void)
{
	return "SELECT pg_catalog.set_config('foresight.routing_policy', 'local', false), "
		"pg_catalog.set_config('default_transaction_read_only', 'on', false); "
		"SELECT name, setting FROM pg_catalog.pg_settings "
		"WHERE context OPERATOR(pg_catalog.=) ANY ('{user,superuser}') ORDER BY name";
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
		note_refusal(p->name, p->value, rc->node_name);
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
