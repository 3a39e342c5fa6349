/*-------------------------------------------------------------------------
 *
 * pgstats.h
 *	  The PostgreSQL part of a node snapshot: one SQL query over the
 *	  statistics views, run in-process through SPI (node_snapshot(), the
 *	  coordinator's own sample) or over libpq on a node that does not have
 *	  the extension.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_PGSTATS_H
#define FORESIGHT_PGSTATS_H

#include "monitor/snapshot_codec.h"

/* The query; one row, columns PGSTATS_COLUMN_* (plain SQL, any PostgreSQL >= 10). */
extern const char *const pgstats_query;

/*
 * The search_path the query runs under, in the monitor's sessions on the
 * nodes and in node_snapshot(): the catalog's names only (no spaces: it is
 * passed in a connection's "options" too).
 */
#define PGSTATS_SEARCH_PATH "pg_catalog,pg_temp"

typedef enum PgstatsColumn
{
	PGSTATS_BACKENDS,
	PGSTATS_ACTIVE,
	PGSTATS_IDLE_IN_TRANSACTION,
	PGSTATS_WAITING,
	PGSTATS_WAITING_LOCK,
	PGSTATS_WAITING_LWLOCK,
	PGSTATS_WAITING_IO,
	PGSTATS_WAITING_CLIENT,
	PGSTATS_WAITING_IPC,
	PGSTATS_WAITING_OTHER,
	PGSTATS_CONNECTIONS,
	PGSTATS_MAX_CONNECTIONS,
	PGSTATS_RESERVED_CONNECTIONS,
	PGSTATS_XACT_COMMIT,
	PGSTATS_XACT_ROLLBACK,
	PGSTATS_BLKS_READ,
	PGSTATS_BLKS_HIT,
	PGSTATS_TUP_RETURNED,
	PGSTATS_TUP_FETCHED,
	PGSTATS_ACTIVE_TIME_US,
	PGSTATS_IDLE_IN_TRANSACTION_TIME_US,
	PGSTATS_IN_RECOVERY,
	PGSTATS_WAL_LSN,
	PGSTATS_RECEIVE_LSN,
	PGSTATS_REPLAY_LAG_US,
	PGSTATS_SERVER_START_US,
	PGSTATS_SERVER_VERSION_NUM,
	PGSTATS_COLLECTED_AT_US,
	PGSTATS_NCOLUMNS
} PgstatsColumn;

/*
 * Fill the PostgreSQL fields of snap from one result row given as text
 * values (NULL = absent).  Returns false with errbuf set when a value does
 * not parse; snap is then partly filled.  No ereport: usable in the
 * monitor's result processing.
 */
extern bool pgstats_fill_from_text(NodeSnapshot *snap, const char *const *values,
								   int nvalues, char *errbuf, size_t errlen);

/* Run the query through SPI and fill snap (caller is in a transaction). */
extern void pgstats_collect_spi(NodeSnapshot *snap);

#endif							/* FORESIGHT_PGSTATS_H */
