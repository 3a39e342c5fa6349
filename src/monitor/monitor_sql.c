/*-------------------------------------------------------------------------
 *
 * monitor_sql.c
 *	  SQL functions that show the monitor's state.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "monitor/worker.h"
#include "registry/registry.h"

PG_FUNCTION_INFO_V1(foresight_monitor_status);

Datum
foresight_monitor_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	MonitorStatus status;
	Datum		values[7];
	bool		nulls[7] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	foresight_check_result_columns(fcinfo, tupdesc, 7);

	monitor_get_status(&status);

	nulls[0] = status.pid == 0;
	values[0] = Int32GetDatum(status.pid);
	nulls[1] = status.started_at == 0;
	values[1] = TimestampTzGetDatum(status.started_at);
	nulls[2] = status.last_wakeup == 0;
	values[2] = TimestampTzGetDatum(status.last_wakeup);
	values[3] = Int64GetDatum((int64) registry_generation());
	values[4] = Int64GetDatum((int64) status.registry_generation_seen);
	values[5] = Int32GetDatum(status.nodes_seen);
	values[6] = Int64GetDatum(status.loops);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
