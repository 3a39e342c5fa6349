/*-------------------------------------------------------------------------
 *
 * guc_sync.c
 *	  Mirror the settings that can change a query's result onto the node
 *	  session that runs it.
 *
 * Before each routed query, the mirrored settings are compared with the
 * values last sent on that connection: first cheaply, through the variables
 * the server exports (the integers and booleans by value, the time zone by
 * its cached pg_tz, the strings by content), then, only when something
 * differs, each setting as SHOW prints it; the changed ones go to the node
 * as one
 * SELECT pg_catalog.set_config(...), ... in the same round trip as the
 * query's other preliminaries.  set_config takes the value in the form
 * SHOW prints it, so list settings (search_path) keep their meaning.
 *
 * Besides mirrored settings, a new connection gets
 * default_transaction_read_only = on: writes never leave the primary, even
 * on a node that is not a standby.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/gin.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "parser/parser.h"
#include "pgtime.h"
#include "tsearch/ts_cache.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/bytea.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/pg_locale.h"
#include "utils/rls.h"
#include "utils/xml.h"

#include "remote/guc_sync.h"

const char *const guc_sync_names[] = {
	"TimeZone",
	"DateStyle",
	"IntervalStyle",
	"extra_float_digits",
	"bytea_output",
	"search_path",
	"lc_monetary",
	"lc_numeric",
	"lc_time",
	"standard_conforming_strings",
	"row_security",
	"default_text_search_config",
	"timezone_abbreviations",
	"xmloption",
	"xmlbinary",
	"array_nulls",
	"quote_all_identifiers",
	"gin_fuzzy_search_limit",
};
const int	guc_sync_count = lengthof(guc_sync_names);

StaticAssertDecl(lengthof(guc_sync_names) <= REMOTE_SETTING_COUNT,
				 "REMOTE_SETTING_COUNT too small");
StaticAssertDecl(lengthof(guc_sync_names) == 18,
				 "the quick check of guc_sync.c reads the settings by position");

/* positions in guc_sync_names of the settings the quick check reads */
#define SYNC_SEARCH_PATH 5
#define SYNC_LC_MONETARY 6
#define SYNC_LC_NUMERIC 7
#define SYNC_LC_TIME 8
#define SYNC_TS_CONFIG 11
#define SYNC_TZ_ABBREVIATIONS 12

static void
stamp_take(RemoteSettingsStamp *stamp)
{
	const int	ints[] = {DateStyle, DateOrder, IntervalStyle, extra_float_digits,
		bytea_output, xmloption, xmlbinary, GinFuzzySearchLimit};
	const bool	bools[] = {standard_conforming_strings, row_security, Array_nulls,
		quote_all_identifiers};

	StaticAssertStmt(sizeof(ints) == sizeof(stamp->ints) && sizeof(bools) == sizeof(stamp->bools),
					 "RemoteSettingsStamp does not match the settings read");
	/* zeroed first: stamps are compared with memcmp, padding included */
	memset(stamp, 0, sizeof(*stamp));
	stamp->valid = true;
	stamp->timezone = session_timezone;
	memcpy(stamp->ints, ints, sizeof(ints));
	memcpy(stamp->bools, bools, sizeof(bools));
}

static bool
same_text(const char *sent, const char *now)
{
	return sent != NULL && now != NULL && strcmp(sent, now) == 0;
}

/*
 * Nothing changed since the values were last sent on rc?  Only
 * timezone_abbreviations has no exported variable: it is asked for by name.
 */
static bool
unchanged_since_sent(RemoteConn *rc)
{
	RemoteSettingsStamp now;

	if (!rc->stamp.valid)
		return false;
	stamp_take(&now);
	return memcmp(&now, &rc->stamp, sizeof(now)) == 0 &&
		same_text(rc->settings[SYNC_SEARCH_PATH], namespace_search_path) &&
		same_text(rc->settings[SYNC_LC_MONETARY], locale_monetary) &&
		same_text(rc->settings[SYNC_LC_NUMERIC], locale_numeric) &&
		same_text(rc->settings[SYNC_LC_TIME], locale_time) &&
		same_text(rc->settings[SYNC_TS_CONFIG], TSCurrentConfig) &&
		same_text(rc->settings[SYNC_TZ_ABBREVIATIONS],
				  GetConfigOption("timezone_abbreviations", true, false));
}

bool
guc_sync_statement(RemoteConn *rc, StringInfo sql)
{
	bool		first_use = rc->settings[0] == NULL;
	int			n = 0;

	if (unchanged_since_sent(rc))
		return false;

	for (int i = 0; i < guc_sync_count; i++)
	{
		const char *value = GetConfigOption(guc_sync_names[i], true, false);

		if (value == NULL)
			continue;
		if (rc->settings[i] != NULL && strcmp(rc->settings[i], value) == 0)
			continue;

		appendStringInfoString(sql, n == 0 ? "SELECT " : ", ");
		appendStringInfo(sql, "pg_catalog.set_config(%s, %s, false)",
						 quote_literal_cstr(guc_sync_names[i]),
						 quote_literal_cstr(value));
		n++;

		if (rc->settings[i])
			pfree(rc->settings[i]);
		rc->settings[i] = MemoryContextStrdup(TopMemoryContext, value);
	}
	if (first_use)
	{
		appendStringInfoString(sql, n == 0 ? "SELECT " : ", ");
		appendStringInfoString(sql, "pg_catalog.set_config('default_transaction_read_only', 'on', false)");
		n++;
	}
	stamp_take(&rc->stamp);
	if (n > 0)
		appendStringInfoString(sql, "; ");
	return n > 0;
}
