/*-------------------------------------------------------------------------
 *
 * workers.h
 *	  Registering pg_foresight's background workers ("foresight monitor",
 *	  "foresight trainer") with the postmaster, the same way for each: in
 *	  this library, started once the server is consistent (on a hot
 *	  standby, once it accepts read-only connections).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_WORKERS_H
#define FORESIGHT_WORKERS_H

#include "postgres.h"

/*
 * Register the worker named name (also its type, as pg_stat_activity
 * shows it) whose entry point is the exported function function_name;
 * restarted restart_s seconds after it exits with code 1 or fails.
 * Called from _PG_init, through the component table.
 */
extern void foresight_register_worker(const char *name, const char *function_name,
									  int restart_s);

#endif							/* FORESIGHT_WORKERS_H */
