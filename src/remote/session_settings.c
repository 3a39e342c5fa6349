/*-------------------------------------------------------------------------
 *
 * session_settings.c
 *	  This session's side of carrying its context to node sessions (see
 *	  guc_sync.c for the rule and the node side): the table of this
 *	  session's values of every setting, which of them nodes take, what
 *	  may have changed one since it was last read, and the session check
 *	  (can everything be carried?).
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


MemoryContext local_cxt = NULL;
LocalSetting *local = NULL;
int			nlocal = 0;
uint64		local_version = 0;

/* what may have changed a value: compared with the last read */
static uint64 touches = 1;
static uint64 read_at_touches = 0;
static TimestampTz read_at_reload = 0;
static bool touched_in_xact = false;

/* the session check's answer as of the last read: NULL or why not */
static char *verdict = NULL;

static Refusal refusals[MAX_REFUSALS];
int			nrefusals = 0;
static int	next_refusal = 0;


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
bool
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

bool
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
void
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

/* Remember that node refused name = value (the oldest is forgotten first). */
void
note_refusal(const char *name, const char *value, const char *node)
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
	r->name = MemoryContextStrdup(local_cxt, name);
	r->value = MemoryContextStrdup(local_cxt, value);
	strlcpy(r->node, node, NAMEDATALEN);
}
