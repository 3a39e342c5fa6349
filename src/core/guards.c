/*-------------------------------------------------------------------------
 *
 * guards.c
 *	  Checks every SQL-callable function may need (see guards.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/regproc.h"

#include "core/guards.h"

static bool shmem_ready = false;

void
guards_mark_shmem_ready(void)
{
	shmem_ready = true;
}

void
foresight_require_shmem(void)
{
	if (!shmem_ready)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_foresight must be loaded via shared_preload_libraries"),
				 errhint("Add pg_foresight to shared_preload_libraries in postgresql.conf and restart the server.")));
}

void
foresight_check_result_columns(FunctionCallInfo fcinfo, TupleDesc desc, int ncolumns)
{
	if (desc->natts != ncolumns)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("function %s is declared with %d result columns, but the pg_foresight library returns %d",
						format_procedure(fcinfo->flinfo->fn_oid), desc->natts, ncolumns),
				 errdetail("The extension's SQL objects are older or newer than the installed library."),
				 errhint("Run ALTER EXTENSION pg_foresight UPDATE.")));
}

int
foresight_result_columns(FunctionCallInfo fcinfo, TupleDesc desc,
						 int older_ncolumns, int ncolumns)
{
	if (desc->natts == older_ncolumns)
		return older_ncolumns;
	foresight_check_result_columns(fcinfo, desc, ncolumns);
	return ncolumns;
}

void
foresight_require_admin(const char *action)
{
	Oid			admin = get_role_oid(FORESIGHT_ADMIN_ROLE, true);

	if (superuser())
		return;
	if (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s", action),
			 errdetail("Only superusers and members of role \"%s\" may do this.", FORESIGHT_ADMIN_ROLE)));
}

void
foresight_require_writable(const char *cmdname, const char *standby_hint)
{
	/*
	 * PreventCommandDuringRecovery's message, written here to add the hint;
	 * checked first, since a standby's transactions are read-only too.
	 */
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot execute %s during recovery", cmdname),
				 errhint("%s", standby_hint)));
	PreventCommandIfReadOnly(cmdname);
}

char *
foresight_required_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}
