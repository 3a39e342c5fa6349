/*-------------------------------------------------------------------------
 *
 * catalog_floor.h
 *	  The catalog floor: the end LSN of the latest commit on this server
 *	  that changed the catalogs (other than statistics).  A node takes a
 *	  routed query only once it has replayed it, so that the query finds
 *	  there the tables, columns, functions, views and privileges it was
 *	  planned for here, whoever changed them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CATALOG_FLOOR_H
#define FORESIGHT_CATALOG_FLOOR_H

#include "postgres.h"

#include "access/xact.h"
#include "access/xlogdefs.h"
#include "nodes/nodes.h"

/* shared memory (requested and initialised by the router component) */
extern Size catalog_floor_shmem_size(void);
extern void catalog_floor_shmem_init(void);

/*
 * The position a node must have replayed for the catalogs a query was
 * planned with: the floor, or this server's current WAL insert position
 * while a catalog change is committing (visible here, floor not yet
 * raised).  On first use after a start it is the insert position then: the
 * catalog changes made before the start are not known.  On a standby,
 * InvalidXLogRecPtr: its reads require what it has replayed instead.
 */
extern XLogRecPtr catalog_floor_required(void);

/* The floor itself (0 before first use), for views and tests. */
extern XLogRecPtr catalog_floor_current(void);

/* From the router's hooks: transaction events, statements. */
extern void catalog_floor_xact_callback(XactEvent event);
extern void catalog_floor_utility_begin(Node *stmt, bool top_level);
extern void catalog_floor_utility_end(Node *stmt, bool top_level);
extern void catalog_floor_executor_start(bool top_level);

#endif							/* FORESIGHT_CATALOG_FLOOR_H */
