/*-------------------------------------------------------------------------
 *
 * poll_outcome.c
 *	  What one poll of a node leaves behind: on a good answer, the sample
 *	  (history ring, live models), the node's health and its verdict (may it
 *	  take routed queries?); on a failure, the missed sample and, after
 *	  foresight.down_after of them in a row, the node down.  Each change of
 *	  state is logged once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/timestamp.h"

#include "monitor/node_health.h"
#include "monitor/poll_outcome.h"
#include "monitor/poller.h"
#include "predict/live_models.h"
#include "stats/history.h"
#include "stats/latency.h"


/* this server's postmaster start, as node snapshots give it (Unix epoch, us) */
static int64
coordinator_start_us(void)
{
	return (int64) PgStartTime +
		(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

/*
 * What a good answer says about the node, beside being up.
 *
 * This server itself: same system identifier, same recovery state as this
 * server, and the same postmaster start time to the microsecond.  The
 * system identifier alone would not do (a physical standby has its
 * primary's, and keeps it when promoted); a start time alone could in
 * theory match another server's.  Any kind of node is judged so: on a
 * standby (which routes its own sessions' reads), its own registry row is
 * found so.
 *
 * A "primary" (the coordinator as the standbys reach it) must have this
 * server's system identifier when it tells it; out of recovery is normal
 * for it.  On the primary itself the poller does not poll it (it is the
 * node "local").
 *
 * A "standby" (a physical standby of this coordinator) must be in recovery:
 * one that is not has been promoted, its WAL positions are no longer
 * positions in this coordinator's WAL, and it will not receive what is
 * written here from now on.  It must also have this coordinator's system
 * identifier when it tells it (node_snapshot(); the plain SQL path does
 * not), or it replays another primary's WAL.  A "replica" is any other
 * replica: being out of recovery is normal for it (the router does not
 * route to it, see policy.c).
 */
static NodeHealthVerdict
judge_node(const NodeSnapshot *snap, ForesightNodeKind kind)
{
	bool		not_in_recovery = snap->has_in_recovery && !snap->in_recovery;

	if (kind == NODE_KIND_COORDINATOR)
		return NODE_VERDICT_USABLE;
	if (snap->has_in_recovery && snap->in_recovery == RecoveryInProgress() &&
		snap->has_system_identifier && snap->has_server_start_us &&
		snap->system_identifier == GetSystemIdentifier() &&
		snap->server_start_us == coordinator_start_us())
		return NODE_VERDICT_COORDINATOR;
	if (kind == NODE_KIND_REPLICA)
		return NODE_VERDICT_USABLE;
	if (snap->has_system_identifier && snap->system_identifier != GetSystemIdentifier())
		return NODE_VERDICT_OTHER_SYSTEM;
	if (kind == NODE_KIND_PRIMARY)
		return NODE_VERDICT_USABLE;
	if (not_in_recovery)
		return NODE_VERDICT_NOT_IN_RECOVERY;
	return NODE_VERDICT_USABLE;
}

bool
poll_read_snapshot(const PGresult *res, NodeSnapshot *snap, char *error, size_t len)
{
	if (PQntuples(res) != 1 || PQnfields(res) != 2 || PQgetisnull(res, 0, 1) ||
		PQfformat(res, 0) != 1 || PQgetlength(res, 0, 1) != 4)
	{
		snprintf(error, len, "unexpected result shape");
		return false;
	}
	if (PQgetisnull(res, 0, 0))
	{
		snprintf(error, len, "%u bytes, over the limit of %d",
				 pg_ntoh32(*(const uint32 *) PQgetvalue(res, 0, 1)), SNAPSHOT_MAX_BYTES);
		return false;
	}
	return snapshot_decode((const uint8_t *) PQgetvalue(res, 0, 0),
						   (size_t) PQgetlength(res, 0, 0), snap, error, len);
}

void
poll_record_success(int slot, int32 node_id, const char *name, ForesightNodeKind kind,
					bool *in_incident, const NodeSnapshot *snap, SampleState *state,
			   SampleSource source, TimestampTz now)
{
	NodeHealth	health;
	MetricSample sample;
	LatencyInterval lat;
	LatencyInterval *latp = &lat;
	NodeHealthVerdict verdict = judge_node(snap, kind);

	/* the routed queries' latencies of this interval (router, stats/latency.c) */
	latency_take_interval(slot, node_id, &lat);
	sample_build(state, snap, source, now, latp, &sample);
	history_append(slot, node_id, &sample);
	live_models_feed(slot, node_id, &sample, latp);

	node_health_get(slot, node_id, &health);
	if (health.status == NODE_HEALTH_DOWN)
		ereport(LOG,
				(errmsg("foresight monitor: node \"%s\" is up again", name)));
	else if (*in_incident)
		ereport(LOG,
				(errmsg("foresight monitor: node \"%s\" answers again", name)));
	*in_incident = false;
	if (verdict != health.verdict)
	{
		if (verdict != NODE_VERDICT_USABLE)
			ereport(LOG,
					(errmsg("foresight monitor: node \"%s\" takes no routed queries: %s",
							name, node_health_verdict_text(verdict)),
					 verdict == NODE_VERDICT_OTHER_SYSTEM ?
					 errdetail("Its system identifier is %llu, this coordinator's is %llu.",
							   (unsigned long long) snap->system_identifier,
							   (unsigned long long) GetSystemIdentifier()) : 0));
		else
			ereport(LOG,
					(errmsg("foresight monitor: node \"%s\" may take routed queries again",
							name)));
	}
	health.node_id = node_id;
	health.status = NODE_HEALTH_UP;
	health.verdict = verdict;
	health.in_recovery = snap->has_in_recovery && snap->in_recovery;
	if (snap->has_wal_lsn)
	{
		health.replay_lsn = (XLogRecPtr) snap->wal_lsn;
		health.replay_lsn_at = now;
	}
	health.last_poll = GetCurrentTimestamp();
	health.last_success = health.last_poll;
	health.consecutive_failures = 0;
	health.polls++;
	node_health_set(slot, &health);
}

void
poll_record_failure(int slot, int32 node_id, const char *name, bool *in_incident,
					const char *what, const char *error)
{
	NodeHealth	health;
	char		message[NODE_HEALTH_ERROR_MAX];
	int			len;
	LatencyInterval lat;

	/* start the next interval afresh: a sample's latencies cover one interval */
	latency_take_interval(slot, node_id, &lat);

	snprintf(message, sizeof(message), "%s%s%s", what, error && error[0] ? ": " : "",
			 error ? error : "");
	/* libpq messages end with a newline */
	len = strlen(message);
	while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == ' '))
		message[--len] = '\0';

	if (!*in_incident)
		ereport(LOG,
				(errmsg("foresight monitor: node \"%s\": %s", name, message)));
	*in_incident = true;

	node_health_get(slot, node_id, &health);
	health.node_id = node_id;
	health.last_poll = GetCurrentTimestamp();
	health.consecutive_failures++;
	health.polls++;
	health.poll_errors++;
	strlcpy(health.last_error, message, sizeof(health.last_error));
	if (health.consecutive_failures >= foresight_down_after &&
		health.status != NODE_HEALTH_DOWN)
	{
		health.status = NODE_HEALTH_DOWN;
		ereport(LOG,
				(errmsg("foresight monitor: node \"%s\" is down after %d missed samples",
						name, health.consecutive_failures)));
	}
	node_health_set(slot, &health);
}
