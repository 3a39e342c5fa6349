/*-------------------------------------------------------------------------
 *
 * wal_position.h
 *	  Positions of this server's WAL as the nodes see them, and flushing
 *	  a floor so that the walsenders send it (wal_position.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_WAL_POSITION_H
#define FORESIGHT_WAL_POSITION_H

#include "postgres.h"

#include "access/xlogdefs.h"

/*
 * On the primary, the end of the WAL inserted so far, as a standby that
 * replayed all of it reports its position (never just past a page header).
 */
extern XLogRecPtr wal_insert_end(void);

/*
 * How far this server's WAL goes: on the primary wal_insert_end(), on a
 * standby the end of what it has replayed.
 */
extern XLogRecPtr wal_position_here(void);

/*
 * On the primary, flush the WAL up to upto (a floor a node must have
 * replayed), or up to its end when upto lies beyond it.
 */
extern void wal_flush_for_nodes(XLogRecPtr upto);

#endif							/* FORESIGHT_WAL_POSITION_H */
