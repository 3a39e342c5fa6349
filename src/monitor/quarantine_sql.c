/*-------------------------------------------------------------------------
 *
 * quarantine_sql.c
 *	  SQL functions of quarantine.c: foresight.node_quarantine_list()
 *	  (the extra columns of foresight.nodes), foresight.anomaly_events()
 *	  (behind the view foresight.anomalies), foresight.quarantine_node()
 *	  and foresight.release_node().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "monitor/quarantine.h"
#include "registry/registry.h"

PG_FUNCTION_INFO_V1(foresight_node_quarantine_list);
PG_FUNCTION_INFO_V1(foresight_anomaly_events);
PG_FUNCTION_INFO_V1(foresight_quarantine_node);
PG_FUNCTION_INFO_V1(foresight_release_node);

Datum
foresight_node_quarantine_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForesightNode *nodes;
	int			n;

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 6);

	nodes = registry_snapshot_palloc(&n);
	for (int i = 0; i < n; i++)
	{
		NodeQuarantine q;
		Datum		values[6];
		bool		nulls[6] = {false};

		quarantine_get(nodes[i].slot, nodes[i].node_id, &q);
		values[0] = Int32GetDatum(nodes[i].node_id);
		values[1] = CStringGetTextDatum(quarantine_state_name(q.state));
		nulls[2] = q.state == QUARANTINE_NONE || q.reason[0] == '\0';
		values[2] = CStringGetTextDatum(q.reason);
		nulls[3] = q.since == 0 || q.state == QUARANTINE_NONE;
		values[3] = TimestampTzGetDatum(q.since);
		nulls[4] = q.metric[0] == '\0';
		values[4] = Float8GetDatum(q.score);
		nulls[5] = q.metric[0] == '\0';
		values[5] = CStringGetTextDatum(q.metric);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

Datum
foresight_anomaly_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	QuarantineEvent *events = palloc(sizeof(QuarantineEvent) * QUARANTINE_EVENTS);
	int			n;

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	foresight_check_result_columns(fcinfo, rsinfo->setDesc, 7);

	n = quarantine_events(events, QUARANTINE_EVENTS);
	for (int i = 0; i < n; i++)
	{
		QuarantineEvent *e = &events[i];
		Datum		values[7];
		bool		nulls[7] = {false};

		values[0] = Int32GetDatum(e->node_id);
		values[1] = CStringGetTextDatum(e->node_name);
		values[2] = CStringGetTextDatum(e->metric);
		values[3] = Float8GetDatum(e->score);
		values[4] = TimestampTzGetDatum(e->start);
		nulls[5] = e->end == 0;
		values[5] = TimestampTzGetDatum(e->end);
		values[6] = CStringGetTextDatum(e->action);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* the registry entry of a node named by an administrator */
static ForesightNode
named_node(const char *name, const char *action)
{
	ForesightNode node;

	foresight_require_shmem();
	foresight_require_admin(action);
	if (!registry_lookup(name, &node))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("node \"%s\" does not exist", name)));
	if (node.slot == FORESIGHT_LOCAL_SLOT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the coordinator \"%s\" cannot be quarantined", name),
				 errhint("Set foresight.include_local = off to route nothing here.")));
	return node;
}

/*
 * quarantine_node() and release_node() are CALLED ON NULL INPUT since 0.13,
 * so that a NULL argument raises 22004 as in the other management
 * functions; a database still at an older version declares them STRICT (a
 * NULL is then never passed, and the call does nothing).
 */
Datum
foresight_quarantine_node(PG_FUNCTION_ARGS)
{
	char	   *name = foresight_required_text_arg(fcinfo, 0, "node_name");
	char	   *reason = foresight_required_text_arg(fcinfo, 1, "reason");
	ForesightNode node = named_node(name, "quarantine a node");

	quarantine_set_manual(node.slot, node.node_id, node.name, true, reason);
	PG_RETURN_VOID();
}

Datum
foresight_release_node(PG_FUNCTION_ARGS)
{
	ForesightNode node = named_node(foresight_required_text_arg(fcinfo, 0, "node_name"),
									"release a node");

	quarantine_set_manual(node.slot, node.node_id, node.name, false, NULL);
	PG_RETURN_VOID();
}
