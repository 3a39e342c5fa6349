/*-------------------------------------------------------------------------
 *
 * guards.h
 *	  Checks every SQL-callable function of pg_foresight may need before it
 *	  starts: shared memory present, the caller an administrator, a
 *	  required argument given, the SQL declaration matching the library.
 *	  The lowest floor of src/: it includes nothing of pg_foresight's own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_GUARDS_H
#define FORESIGHT_GUARDS_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"

#define FORESIGHT_ADMIN_ROLE "foresight_admin"

/* Called once the shared memory of every component is set up. */
extern void guards_mark_shmem_ready(void);

/*
 * Raise an error unless shared memory was set up, i.e. unless the library
 * was loaded through shared_preload_libraries.
 */
extern void foresight_require_shmem(void);

/*
 * Raise an error unless the current user is a superuser or a member of
 * foresight_admin; action completes "permission denied to ...".
 */
extern void foresight_require_admin(const char *action);

/*
 * Raise PostgreSQL's own errors for a command that writes: during recovery
 * (a hot standby) "cannot execute CMDNAME during recovery", as
 * PreventCommandDuringRecovery says it, with standby_hint as the HINT;
 * in a read-only transaction "cannot execute CMDNAME in a read-only
 * transaction" (PreventCommandIfReadOnly).  Both SQLSTATE 25006.  Called
 * first by the functions that write the extension's tables, so that these
 * errors come before any statement of their own runs.
 */
extern void foresight_require_writable(const char *cmdname, const char *standby_hint);

/*
 * Text argument argno of a management function, as a C string; 22004
 * "ARGNAME must not be null" for a NULL (the functions are CALLED ON NULL
 * INPUT, so that a missing argument is an error, not a silent no-op).
 */
extern char *foresight_required_text_arg(FunctionCallInfo fcinfo, int argno,
										 const char *argname);

/*
 * Raise an error unless the SQL declaration of the running function returns
 * ncolumns columns: an installed script older than the library (the
 * extension not updated) must not have the library's rows read as another
 * layout.
 */
extern void foresight_check_result_columns(FunctionCallInfo fcinfo, TupleDesc desc, int ncolumns);

/*
 * The same for a function whose result gained columns in a later version,
 * and which the library still answers in the previous version's form: the
 * number of columns to return, ncolumns, or older_ncolumns when the
 * declaration is the previous version's; any other count raises the error
 * above.
 */
extern int	foresight_result_columns(FunctionCallInfo fcinfo, TupleDesc desc,
									 int older_ncolumns, int ncolumns);

#endif							/* FORESIGHT_GUARDS_H */
