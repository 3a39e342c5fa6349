/*-------------------------------------------------------------------------
 *
 * pg_foresight.h
 *	  Declarations shared by every component of pg_foresight: the list of
 *	  components that _PG_init wires up, and a few helpers.
 *
 * Each component (nodes, monitor, router, remote, stats, ...) exposes up to
 * four entry points, called from pg_foresight.c in this order:
 *
 *	define_gucs()	 in _PG_init, every process that loads the library
 *	install_hooks()	 in _PG_init, only when preloaded by the postmaster
 *	shmem_request()  in shmem_request_hook: RequestAddinShmemSpace and
 *					 RequestNamedLWLockTranche for what the component needs
 *	shmem_init()	 in shmem_startup_hook, under AddinShmemInitLock
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_FORESIGHT_H
#define PG_FORESIGHT_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"

#define FORESIGHT_ADMIN_ROLE "foresight_admin"

typedef struct ForesightComponent
{
	const char *name;
	void		(*define_gucs) (void);
	void		(*install_hooks) (void);
	void		(*shmem_request) (void);
	void		(*shmem_init) (void);
} ForesightComponent;

/* true when the library was loaded through shared_preload_libraries */
extern bool foresight_preloaded;

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
 * Raise an error unless the SQL declaration of the running function returns
 * ncolumns columns: an installed script older than the library (the
 * extension not updated) must not have the library's rows read as another
 * layout.
 */
extern void foresight_check_result_columns(FunctionCallInfo fcinfo, TupleDesc desc, int ncolumns);

#endif							/* PG_FORESIGHT_H */
