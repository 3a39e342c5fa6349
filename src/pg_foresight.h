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

#endif							/* PG_FORESIGHT_H */
