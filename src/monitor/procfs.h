/*-------------------------------------------------------------------------
 *
 * procfs.h
 *	  The OS part of a node snapshot, read from /proc (Linux).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_PROCFS_H
#define FORESIGHT_PROCFS_H

#include "monitor/snapshot_codec.h"

/*
 * Fill the OS fields of snap: /proc/stat, /proc/loadavg, /proc/meminfo,
 * /proc/diskstats, /proc/pressure/{cpu,io,memory}, the CPU time of this
 * PostgreSQL instance and the CPU limit of its control group (cgroup.h).  A file that cannot be read leaves its fields
 * absent; nothing here raises an error.
 */
extern void procfs_collect(NodeSnapshot *snap);

#endif							/* FORESIGHT_PROCFS_H */
