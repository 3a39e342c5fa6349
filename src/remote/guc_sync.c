/*-------------------------------------------------------------------------
 *
 * guc_sync.c
 *	  Mirror the settings that can change a query's result onto the node
 *	  session that runs it.
 *
 * Before each routed query, the current value of every mirrored setting is
 * compared with the value last sent on that connection (a string compare
 * each); the changed ones go to the node as one
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

#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

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

bool
guc_sync_statement(RemoteConn *rc, StringInfo sql)
{
	bool		first_use = rc->settings[0] == NULL;
	int			n = 0;

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
	if (n > 0)
		appendStringInfoString(sql, "; ");
	return n > 0;
}
