/*-------------------------------------------------------------------------
 *
 * sample_local.c
 *	  The coordinator's own sample (see sample_local.h): the same snapshot
 *	  a node's foresight.node_snapshot() returns, collected in-process in
 *	  a transaction of the monitor's, recorded as a poll of the "local"
 *	  node.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "monitor/node_health.h"
#include "monitor/poll_outcome.h"
#include "monitor/sample.h"
#include "monitor/sample_local.h"
#include "monitor/snapshot.h"
#include "registry/registry.h"

static SampleState local_state;
static bool local_in_incident = false;

void
sample_local_reset(void)
{
	sample_state_reset(&local_state, 0);
	local_in_incident = false;
}

void
sample_local(TimestampTz now)
{
	MemoryContext cycle = CurrentMemoryContext;
	NodeSnapshot snap;
	volatile bool ok = false;
	char		error[NODE_HEALTH_ERROR_MAX] = "";

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "sampling the coordinator");
	PG_TRY();
	{
		snapshot_collect(&snap);
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cycle);
		edata = CopyErrorData();
		FlushErrorState();
		strlcpy(error, edata->message, sizeof(error));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	if (ok)
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	else
		AbortCurrentTransaction();
	MemoryContextSwitchTo(cycle);
	pgstat_report_activity(STATE_IDLE, NULL);

	if (ok)
		poll_record_success(FORESIGHT_LOCAL_SLOT, 0, FORESIGHT_LOCAL_NODE_NAME, NODE_KIND_COORDINATOR,
					   &local_in_incident, &snap, &local_state, SAMPLE_SOURCE_LOCAL, now);
	else
		poll_record_failure(FORESIGHT_LOCAL_SLOT, 0, FORESIGHT_LOCAL_NODE_NAME, &local_in_incident,
					   "local sample failed", error);
}
