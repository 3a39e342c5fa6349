/*-------------------------------------------------------------------------
 *
 * snapshot_sql.c
 *	  foresight.node_snapshot(): this server's metrics as one protobuf
 *	  NodeSnapshot (bytea), and foresight.node_snapshot_json(bytea): the
 *	  same message decoded for people.
 *
 * node_snapshot() needs no shared memory of pg_foresight and writes
 * nothing, so it runs on any node, a standby in recovery included.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/time.h>

#include "access/xlog.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "monitor/pgstats.h"
#include "monitor/procfs.h"
#include "monitor/snapshot.h"

PG_FUNCTION_INFO_V1(foresight_node_snapshot);
PG_FUNCTION_INFO_V1(foresight_node_snapshot_json);

void
snapshot_collect(NodeSnapshot *snap)
{
	struct timeval tv;

	snapshot_init(snap);
	snap->has_version = true;
	snap->version = SNAPSHOT_VERSION;
	procfs_collect(snap);
	pgstats_collect_spi(snap);
	snap->has_system_identifier = true;
	snap->system_identifier = GetSystemIdentifier();
	/* the node's clock when the OS part was read */
	gettimeofday(&tv, NULL);
	snap->has_collected_at_us = true;
	snap->collected_at_us = (int64) tv.tv_sec * 1000000 + tv.tv_usec;
}

Datum
foresight_node_snapshot(PG_FUNCTION_ARGS)
{
	NodeSnapshot snap;
	size_t		len;
	bytea	   *result;

	snapshot_collect(&snap);
	len = snapshot_encoded_size(&snap);
	if (len > SNAPSHOT_MAX_BYTES)
		elog(ERROR, "node snapshot of %zu bytes exceeds the limit of %d bytes",
			 len, SNAPSHOT_MAX_BYTES);
	result = (bytea *) palloc(VARHDRSZ + len);
	SET_VARSIZE(result, VARHDRSZ + len);
	snapshot_encode(&snap, (uint8_t *) VARDATA(result));
	PG_RETURN_BYTEA_P(result);
}

Datum
foresight_node_snapshot_json(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	NodeSnapshot snap;
	char		errbuf[256];
	size_t		len;
	char	   *json;

	if (!snapshot_decode((const uint8_t *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data),
						 &snap, errbuf, sizeof(errbuf)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid node snapshot"),
				 errdetail("%s", errbuf),
				 errhint("Pass the result of foresight.node_snapshot().")));

	len = snapshot_to_json(&snap, NULL, 0);
	json = palloc(len + 1);
	snapshot_to_json(&snap, json, len + 1);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}
