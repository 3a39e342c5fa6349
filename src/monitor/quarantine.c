/*-------------------------------------------------------------------------
 *
 * quarantine.c
 *	  Degraded nodes found and isolated (see quarantine.h).
 *
 * After each sample the monitor scores every node (quarantine_judge), from
 * the past only, with the largest of:
 *
 *	- the online detector of src/forecast/anomaly.c (the one behind
 *	  foresight.anomaly_scores) over the node's load signal and over the
 *	  mean answer time the coordinator saw from it: one detector per node
 *	  and series, in the monitor's memory (about 3.7 kB each);
 *	- the node's answer time against the fleet's for the same class: its
 *	  mean over the interval less its network round trip (monitor/
 *	  round_trip.c: a node in another region is further away, not slower)
 *	  divided by the median of the other nodes' and the coordinator's, each
 *	  less its own round trip (at least 1 ms), divided by
 *	  foresight.anomaly_fleet_ratio, as u / (1 + u): 0.5 when the node is
 *	  anomaly_fleet_ratio times slower than the fleet;
 *	- its replication lag against the fleet's: the lag divided by
 *	  anomaly_fleet_ratio times the median of the others' (at least 5 s:
 *	  the lag is measured from the last replayed commit, so a long
 *	  transaction being replayed looks like seconds of lag).
 *
 * The detectors' scores count only when most of the fleet is not surprised
 * at the same sample: a change that all nodes see at once (a workload
 * starting) is the workload's, not one node's degradation.
 *
 * Answer times judge no node while this server's own control group was
 * throttled in at least OBSERVER_THROTTLED of its CPU periods over its
 * last sample: its backends read a node's answer late, once their quota
 * returns (up to most of a 100 ms period), so every node they route to
 * looks slow, and its own reads run here, timed from inside its quota,
 * do not.  A coordinator at 0.4 core serving 8 clients quarantined an
 * idle standby so ("class point answers in 45.3 ms (11.6 ms round trip),
 * the fleet in 1.8 ms").  Load and replication lag still judge then.
 *
 * A node whose score is at or over foresight.anomaly_threshold for
 * foresight.anomaly_samples samples in a row is quarantined: the router
 * gives it no new queries (those running finish), the monitor polls it as
 * before.  Once its score stayed under the threshold for
 * foresight.anomaly_clear_samples samples it is readmitted with a slow
 * start: the share of the routes it may take grows linearly from 0 to 1
 * over foresight.readmit_ramp; so is a node that comes back from down.
 * An administrator may quarantine or release a node by hand
 * (quarantine_sql.c); a manual quarantine lasts until released.  Each
 * quarantine and slow start is an event (foresight.anomalies) and a line
 * of the server log.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "forecast/anomaly.h"
#include "monitor/node_health.h"
#include "monitor/quarantine.h"
#include "monitor/round_trip.h"
#include "registry/registry.h"
#include "stats/history.h"
#include "stats/request_class.h"

bool		foresight_anomaly_detection = true;
double		foresight_anomaly_threshold = FC_ANOMALY_DEFAULT_THRESHOLD;
int			foresight_anomaly_samples = 2;
int			foresight_anomaly_clear_samples = 10;
int			foresight_readmit_ramp_ms = 30000;
double		foresight_anomaly_fleet_ratio = 4.0;

#define FLEET_LATENCY_FLOOR_US 1000.0
#define FLEET_LAG_FLOOR_MS 5000.0
#define OBSERVER_THROTTLED 0.5	/* share of CPU periods throttled: see above */

typedef struct QuarantineShared
{
	LWLock	   *lock;
	int			nevents;		/* events ever appended */
	QuarantineEvent events[QUARANTINE_EVENTS];
	NodeQuarantine nodes[FLEXIBLE_ARRAY_MEMBER];
} QuarantineShared;

static QuarantineShared *shared = NULL;

/* the monitor's own: detectors and what it saw last, per slot */
typedef struct NodeDetector
{
	int32		node_id;
	TimestampTz last_sampled;
	NodeHealthStatus last_status;
	bool		was_up;			/* it has been up since it was registered */
	fc_anomaly	load;
	fc_anomaly	latency;
} NodeDetector;

static NodeDetector *detectors = NULL;

void
quarantine_define_gucs(void)
{
	DefineCustomBoolVariable("foresight.anomaly_detection",
							 "Score the nodes for anomalies after each sample and quarantine degraded ones.",
							 NULL, &foresight_anomaly_detection, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("foresight.anomaly_threshold",
							 "Score (0 to 1) at or over which a node's sample counts as anomalous.",
							 "The default is the threshold of foresight.detect_anomalies.",
							 &foresight_anomaly_threshold, FC_ANOMALY_DEFAULT_THRESHOLD, 0.01, 1.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.anomaly_samples",
							"Anomalous samples in a row that quarantine a node.",
							NULL, &foresight_anomaly_samples, 2, 1, 1000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.anomaly_clear_samples",
							"Normal samples in a row after which a quarantined node is readmitted.",
							NULL, &foresight_anomaly_clear_samples, 10, 1, 100000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.readmit_ramp",
							"Time over which a readmitted node's share of routes grows from 0 to all.",
							"Applies to a node leaving quarantine and to one coming back from down; 0: at once.",
							&foresight_readmit_ramp_ms, 30000, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomRealVariable("foresight.anomaly_fleet_ratio",
							 "How many times slower (or further behind) than the fleet a node scores 0.5.",
							 NULL, &foresight_anomaly_fleet_ratio, 4.0, 1.1, 1000.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
}

static Size
quarantine_shmem_size(void)
{
	return add_size(offsetof(QuarantineShared, nodes),
					mul_size(registry_slot_count(), sizeof(NodeQuarantine)));
}

void
quarantine_shmem_request(void)
{
	RequestAddinShmemSpace(quarantine_shmem_size());
	RequestNamedLWLockTranche("pg_foresight quarantine", 1);
}

void
quarantine_shmem_init(void)
{
	bool		found;

	shared = ShmemInitStruct("pg_foresight quarantine", quarantine_shmem_size(), &found);
	if (!found)
	{
		memset(shared, 0, quarantine_shmem_size());
		shared->lock = &(GetNamedLWLockTranche("pg_foresight quarantine"))->lock;
		for (int i = 0; i < registry_slot_count(); i++)
			shared->nodes[i].node_id = -1;
	}
}

const char *
quarantine_state_name(QuarantineState state)
{
	switch (state)
	{
		case QUARANTINE_ISOLATED:
			return "quarantined";
		case QUARANTINE_RAMPING:
			return "slow start";
		default:
			return "normal";
	}
}

/* the entry of a slot for node_id, reset when it was another node's; locked */
static NodeQuarantine *
entry_for(int slot, int32 node_id)
{
	NodeQuarantine *q = &shared->nodes[slot];

	if (q->node_id != node_id)
	{
		memset(q, 0, sizeof(*q));
		q->node_id = node_id;
	}
	return q;
}

/* append an event, or end the node's open one; locked exclusively */
static void
event_open(int32 node_id, const char *name, const char *metric, double score,
		   TimestampTz now, const char *action)
{
	QuarantineEvent *e = &shared->events[shared->nevents % QUARANTINE_EVENTS];

	memset(e, 0, sizeof(*e));
	e->node_id = node_id;
	strlcpy(e->node_name, name, NAMEDATALEN);
	strlcpy(e->metric, metric, sizeof(e->metric));
	e->score = score;
	e->start = now;
	strlcpy(e->action, action, sizeof(e->action));
	shared->nevents++;
}

static void
event_close(int32 node_id, TimestampTz now, double score)
{
	for (int k = 1; k <= Min(shared->nevents, QUARANTINE_EVENTS); k++)
	{
		QuarantineEvent *e = &shared->events[(shared->nevents - k) % QUARANTINE_EVENTS];

		if (e->node_id == node_id && e->end == 0)
		{
			e->end = now;
			e->score = Max(e->score, score);
			return;
		}
	}
}

/* a detector's score for y, 0 when it cannot judge it; absorbs y */
static double
detector_score(fc_anomaly *a, double y)
{
	fc_anomaly_point p;

	if (!isfinite(y) || fc_anomaly_update(a, y, &p) != FC_OK)
		return 0.0;
	return p.score;
}

static double
median(double *v, int n)
{
	/* n is small (nodes): insertion sort */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--)
		{
			double		t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static double
u_score(double u)
{
	return u > 0 ? u / (1.0 + u) : 0.0;
}

/* One node's sample judged: what the monitor found, before the state machine. */
typedef struct Judged
{
	int			slot;
	int32		node_id;
	char		name[NAMEDATALEN];
	bool		fresh;			/* a new sample this cycle */
	MetricSample sample;
	double		detector;		/* the larger detector score */
	const char *detector_metric;
	NodeHealthStatus status;
} Judged;

/* the fleet's score of node j: answer time per class, replication lag */
static double
fleet_score(Judged *all, int n, int j, const MetricSample *local, bool judge_latency,
			char *reason, size_t len, const char **metric, bool *latency_evidence)
{
	const MetricSample *s = &all[j].sample;
	const int32 *counts[REQUEST_CLASS_COUNT];
	const float4 *means[REQUEST_CLASS_COUNT];
	double		best = 0.0;
	double	   *others = palloc(sizeof(double) * (n + 1));
	double	   *rt_us = palloc0(sizeof(double) * (n + 1));	/* the local one: 0 */

	for (int i = 0; i < n; i++)
	{
		RoundTrip	rt;

		if (round_trip_get(all[i].slot, all[i].node_id, &rt))
			rt_us[i] = rt.smoothed_ms * 1000.0;
	}

#define CLASS_FIELDS(ptrs, field, smp) \
	ptrs[0] = &(smp)->field##_point; ptrs[1] = &(smp)->field##_small; \
	ptrs[2] = &(smp)->field##_medium; ptrs[3] = &(smp)->field##_large

	for (int c = 0; c < REQUEST_CLASS_COUNT && judge_latency; c++)
	{
		int			k = 0;
		double		ref;
		double		service;
		double		score;

		CLASS_FIELDS(counts, lat_count, s);
		CLASS_FIELDS(means, lat_mean_us, s);
		if (*counts[c] < 2 || !isfinite(*means[c]))
			continue;
		for (int i = 0; i <= n; i++)
		{
			const MetricSample *o = i < n ? &all[i].sample : local;

			if (i == j || o == NULL || (i < n && !all[i].fresh))
				continue;
			CLASS_FIELDS(counts, lat_count, o);
			CLASS_FIELDS(means, lat_mean_us, o);
			if (*counts[c] >= 1 && isfinite(*means[c]))
				others[k++] = Max(*means[c] - rt_us[i], 0.0);
		}
		if (k == 0)
			continue;
		*latency_evidence = true;
		CLASS_FIELDS(means, lat_mean_us, s);
		service = Max(*means[c] - rt_us[j], 0.0);
		ref = Max(median(others, k), FLEET_LATENCY_FLOOR_US);
		score = u_score(service / ref / foresight_anomaly_fleet_ratio);
		if (score > best)
		{
			best = score;
			*metric = "latency vs fleet";
			snprintf(reason, len, "class %s answers in %.1f ms (%.1f ms round trip), the fleet in %.1f ms",
					 request_class_name((RequestClass) c), *means[c] / 1000.0,
					 rt_us[j] / 1000.0, ref / 1000.0);
		}
	}

	if (isfinite(s->replay_lag_ms))
	{
		int			k = 0;

		for (int i = 0; i < n; i++)
			if (i != j && all[i].fresh && isfinite(all[i].sample.replay_lag_ms))
				others[k++] = all[i].sample.replay_lag_ms;
		if (k > 0)
		{
			double		ref = Max(median(others, k), FLEET_LAG_FLOOR_MS);
			double		score = u_score(s->replay_lag_ms / ref / foresight_anomaly_fleet_ratio);

			if (score > best)
			{
				best = score;
				*metric = "replication lag vs fleet";
				snprintf(reason, len, "replication lag %.0f ms, the fleet's %.0f ms",
						 s->replay_lag_ms, ref);
			}
		}
	}
	pfree(others);
	pfree(rt_us);
	return best;
}

/* the state machine of one node, given its score; locked exclusively */
static void
advance_state(Judged *jd, double score, const char *metric, const char *reason,
			  bool latency_evidence, TimestampTz now)
{
	NodeQuarantine *q = entry_for(jd->slot, jd->node_id);
	bool		anomalous = score >= foresight_anomaly_threshold;

	q->score = score;
	strlcpy(q->metric, metric, sizeof(q->metric));

	/*
	 * Back from down: a slow start, whatever it was doing.  Not a node
	 * that was never up (a new node whose first polls failed): it has no
	 * share to come back to.
	 */
	if (detectors[jd->slot].last_status == NODE_HEALTH_DOWN && jd->status == NODE_HEALTH_UP &&
		detectors[jd->slot].was_up &&
		q->state != QUARANTINE_ISOLATED && foresight_readmit_ramp_ms > 0)
	{
		q->state = QUARANTINE_RAMPING;
		q->since = now;
		q->over = 0;
		strlcpy(q->reason, "back from down", sizeof(q->reason));
		event_open(jd->node_id, jd->name, "down", 0.0, now, "slow start after down");
		ereport(LOG, (errmsg("foresight monitor: node \"%s\" is back from down: slow start over %d ms",
							 jd->name, foresight_readmit_ramp_ms)));
	}
	if (q->manual || !jd->fresh)
		return;

	switch (q->state)
	{
		case QUARANTINE_RAMPING:
			if (TimestampDifferenceExceeds(q->since, now, foresight_readmit_ramp_ms))
			{
				q->state = QUARANTINE_NONE;
				q->reason[0] = '\0';
				event_close(jd->node_id, now, 0.0);
				ereport(LOG, (errmsg("foresight monitor: node \"%s\" takes its full share again",
									 jd->name)));
			}
			/* FALLTHROUGH */
		case QUARANTINE_NONE:
			/*
			 * A sample without answers to compare (few queries in the
			 * interval) neither confirms nor clears a suspicion.
			 */
			if (anomalous)
				q->over++;
			else if (latency_evidence || q->over == 0)
				q->over = 0;
			if (q->over >= foresight_anomaly_samples)
			{
				if (q->state == QUARANTINE_RAMPING)
					event_close(jd->node_id, now, 0.0);
				q->state = QUARANTINE_ISOLATED;
				q->since = now;
				q->under = 0;
				snprintf(q->reason, sizeof(q->reason), "%s: %s (score %.2f)", metric, reason, score);
				event_open(jd->node_id, jd->name, metric, score, now, "quarantined");
				ereport(LOG, (errmsg("foresight monitor: node \"%s\" quarantined: %s",
									 jd->name, q->reason)));
			}
			break;
		case QUARANTINE_ISOLATED:
			q->under = anomalous ? 0 : q->under + 1;
			if (anomalous)
				event_close(jd->node_id, 0, score); /* raises its score only */
			if (q->under >= foresight_anomaly_clear_samples)
			{
				event_close(jd->node_id, now, 0.0);
				q->over = 0;
				q->since = now;
				q->state = foresight_readmit_ramp_ms > 0 ? QUARANTINE_RAMPING : QUARANTINE_NONE;
				strlcpy(q->reason, "readmitted after quarantine", sizeof(q->reason));
				if (q->state == QUARANTINE_RAMPING)
					event_open(jd->node_id, jd->name, metric, score, now, "readmitted, slow start");
				ereport(LOG, (errmsg("foresight monitor: node \"%s\" readmitted: slow start over %d ms",
									 jd->name, foresight_readmit_ramp_ms)));
			}
			break;
	}
}

void
quarantine_judge(TimestampTz now)
{
	int			count;
	ForesightNode *nodes = registry_snapshot_palloc(&count);
	Judged	   *all = palloc0(sizeof(Judged) * Max(count, 1));
	MetricSample local;
	bool		have_local;
	bool		judge_latency;
	int			n = 0;
	int			surprised = 0;

	if (detectors == NULL)
	{
		detectors = MemoryContextAllocZero(TopMemoryContext,
										   sizeof(NodeDetector) * registry_slot_count());
		for (int i = 0; i < registry_slot_count(); i++)
			detectors[i].node_id = -1;
	}
	have_local = history_latest(FORESIGHT_LOCAL_SLOT, 0, &local);
	/* a starved observer times no one (above) */
	judge_latency = !(have_local && !isnan(local.cpu_throttled) &&
					  local.cpu_throttled >= OBSERVER_THROTTLED);

	for (int i = 0; i < count; i++)
	{
		ForesightNode *node = &nodes[i];
		NodeDetector *d = &detectors[node->slot];
		Judged	   *jd = &all[n];
		NodeHealth	health;

		if (node->slot == FORESIGHT_LOCAL_SLOT || node->state == NODE_STATE_DISABLED)
			continue;
		if (d->node_id != node->node_id)
		{
			fc_anomaly_config cfg;

			fc_anomaly_config_default(&cfg);
			memset(d, 0, sizeof(*d));
			d->node_id = node->node_id;
			(void) fc_anomaly_init(&d->load, &cfg);
			(void) fc_anomaly_init(&d->latency, &cfg);
		}
		node_health_get(node->slot, node->node_id, &health);
		jd->slot = node->slot;
		jd->node_id = node->node_id;
		strlcpy(jd->name, node->name, NAMEDATALEN);
		jd->status = health.status;
		jd->detector_metric = "load";
		if (health.status == NODE_HEALTH_UP &&
			history_latest(node->slot, node->node_id, &jd->sample) &&
			jd->sample.sampled_at > d->last_sampled)
		{
			double		sl = detector_score(&d->load, jd->sample.load);
			double		st = judge_latency && jd->sample.lat_count > 0 ?
				detector_score(&d->latency, jd->sample.lat_mean_us) : 0.0;

			d->last_sampled = jd->sample.sampled_at;
			jd->fresh = true;
			jd->detector = Max(sl, st);
			jd->detector_metric = st > sl ? "latency" : "load";
			if (jd->detector >= foresight_anomaly_threshold)
				surprised++;
		}
		n++;
	}

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int j = 0; j < n; j++)
	{
		Judged	   *jd = &all[j];
		char		reason[QUARANTINE_REASON_MAX] = "";
		const char *metric = "";
		double		score = 0.0;
		bool		latency_evidence = false;

		if (foresight_anomaly_detection && jd->fresh)
		{
			score = fleet_score(all, n, j, have_local ? &local : NULL, judge_latency,
								reason, sizeof(reason), &metric, &latency_evidence);
			/* a surprise most of the fleet shares is the workload's */
			if (jd->detector > score && surprised * 2 <= n)
			{
				score = jd->detector;
				metric = jd->detector_metric;
				snprintf(reason, sizeof(reason), "unusual %s", metric);
			}
		}
		else if (!foresight_anomaly_detection)
		{
			NodeQuarantine *q = entry_for(jd->slot, jd->node_id);

			if (q->state == QUARANTINE_ISOLATED && !q->manual)
				q->under = foresight_anomaly_clear_samples;		/* released below */
		}
		advance_state(jd, score, metric, reason, latency_evidence, now);
		detectors[jd->slot].was_up |= detectors[jd->slot].last_status == NODE_HEALTH_UP;
		detectors[jd->slot].last_status = jd->status;
	}
	LWLockRelease(shared->lock);
	pfree(all);
	pfree(nodes);
}

double
quarantine_route_share(int slot, int32 node_id, TimestampTz *now, const char **why,
					   bool *by_hand)
{
	NodeQuarantine *q;
	QuarantineState state = QUARANTINE_NONE;
	bool		manual = false;
	TimestampTz since = 0;
	char		reason[QUARANTINE_REASON_MAX];
	double		share;
	long		secs;
	int			usecs;

	foresight_require_shmem();
	LWLockAcquire(shared->lock, LW_SHARED);
	q = &shared->nodes[slot];
	if (q->node_id == node_id)
	{
		state = q->state;
		manual = q->manual;
		since = q->since;
		strlcpy(reason, q->reason, sizeof(reason));
	}
	LWLockRelease(shared->lock);

	*by_hand = manual;
	/* the messages and the clock only for a node that is not plainly in */
	if (state == QUARANTINE_ISOLATED)
	{
		*why = psprintf("quarantined: %s", reason);
		return 0.0;
	}
	if (state != QUARANTINE_RAMPING || foresight_readmit_ramp_ms <= 0)
		return 1.0;
	if (*now == 0)
		*now = GetCurrentTimestamp();
	TimestampDifference(since, *now, &secs, &usecs);
	share = Min(1.0, (secs * 1000.0 + usecs / 1000.0) / foresight_readmit_ramp_ms);
	*why = psprintf("slow start: %.0f%% of its share", share * 100.0);
	return share;
}

void
quarantine_get(int slot, int32 node_id, NodeQuarantine *out)
{
	foresight_require_shmem();
	LWLockAcquire(shared->lock, LW_SHARED);
	*out = shared->nodes[slot];
	LWLockRelease(shared->lock);
	if (out->node_id != node_id)
	{
		memset(out, 0, sizeof(*out));
		out->node_id = node_id;
	}
}

void
quarantine_set_manual(int slot, int32 node_id, const char *node_name, bool isolate,
					  const char *reason)
{
	TimestampTz now = GetCurrentTimestamp();
	NodeQuarantine *q;
	bool		changed = true;

	foresight_require_shmem();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	q = entry_for(slot, node_id);
	if (isolate)
	{
		if (q->state != QUARANTINE_NONE)
			event_close(node_id, now, 0.0);
		q->state = QUARANTINE_ISOLATED;
		q->manual = true;
		q->since = now;
		snprintf(q->reason, sizeof(q->reason), "by hand: %s", reason);
		event_open(node_id, node_name, "manual", 0.0, now, "quarantined by hand");
	}
	else if (q->state == QUARANTINE_ISOLATED)
	{
		/*
		 * Only a quarantine ends: a node in its slow start already was
		 * released (or readmitted), and releasing it again must not start
		 * its ramp over.
		 */
		event_close(node_id, now, 0.0);
		q->manual = false;
		q->over = 0;
		q->since = now;
		q->state = foresight_readmit_ramp_ms > 0 ? QUARANTINE_RAMPING : QUARANTINE_NONE;
		strlcpy(q->reason, "released by hand", sizeof(q->reason));
		if (q->state == QUARANTINE_RAMPING)
			event_open(node_id, node_name, "manual", 0.0, now, "released, slow start");
	}
	else
		changed = false;		/* a release of a node not in quarantine */
	LWLockRelease(shared->lock);
	if (changed)
		ereport(LOG, (errmsg("node \"%s\" %s by hand%s%s", node_name,
							 isolate ? "quarantined" : "released",
							 isolate ? ": " : "", isolate ? reason : "")));
}

int
quarantine_events(QuarantineEvent *out, int max)
{
	int			n = 0;

	foresight_require_shmem();
	LWLockAcquire(shared->lock, LW_SHARED);
	for (int k = Max(0, shared->nevents - QUARANTINE_EVENTS); k < shared->nevents && n < max; k++)
		out[n++] = shared->events[k % QUARANTINE_EVENTS];
	LWLockRelease(shared->lock);
	return n;
}
