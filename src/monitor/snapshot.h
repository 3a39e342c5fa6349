/*-------------------------------------------------------------------------
 *
 * snapshot.h
 *	  Taking a snapshot of this server (OS and PostgreSQL metrics) and the
 *	  SQL functions foresight.node_snapshot() and node_snapshot_json().
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SNAPSHOT_H
#define FORESIGHT_SNAPSHOT_H

#include "monitor/snapshot_codec.h"

/*
 * Snapshot of this server: version, time, /proc and the statistics views.
 * Must run inside a transaction (SPI).
 */
extern void snapshot_collect(NodeSnapshot *snap);

#endif							/* FORESIGHT_SNAPSHOT_H */
