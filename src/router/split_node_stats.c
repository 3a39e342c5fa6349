/*-------------------------------------------------------------------------
 *
 * split_node_stats.c
 *	  Per node, the pieces of split reads it ran since the server started:
 *	  splits it took part in, pieces (and how many it stole), rows, time.
 *	  The foresight.split_nodes view (docs/sharding.md).
 *
 * Shared memory: a fixed array of FORESIGHT_MAX_NODES_LIMIT + 1 entries
 * (the standbys, and the coordinator as "local"), keyed by node name,
 * under a spinlock; SPLIT_NODE_STATS_BYTES (below) is its size.  A node
 * whose entry cannot be found when the array is full is not counted.
 * The counters are added when a split's scan ends, one lock per split.
 *
 * Each entry also keeps the node's pace: its milliseconds per plan cost
 * unit on its pieces of a split (a piece's cost is the read's over its
 * pieces) over those of every node of that split, so that splits of light
 * and heavy reads compare (1: as fast as the split's nodes together;
 * measured when at least two nodes ran pieces), smoothed over the splits
 * (half the last split's, half before), for the shares of the next
 * splits (split_scan_pieces.c); a pace older than SPLIT_PACE_FRESH_MS is
 * not used.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "registry/registry.h"
#include "router/split_scan_internal.h"

#define SPLIT_NODE_ENTRIES	(FORESIGHT_MAX_NODES_LIMIT + 1)
#define SPLIT_PACE_FRESH_MS	30000	/* a pace older than this is not used */

typedef struct SplitNodeCounters
{
	char		name[NAMEDATALEN];	/* "" when unused */
	int64		splits;
	int64		pieces;
	int64		stolen;
	int64		rows;
	double		ms;
	double		pace;			/* relative ms per plan cost unit, smoothed; 0: none */
	TimestampTz pace_at;		/* when it was last measured */
} SplitNodeCounters;

typedef struct SplitNodeStatsShared
{
	slock_t		mutex;
	SplitNodeCounters nodes[SPLIT_NODE_ENTRIES];
} SplitNodeStatsShared;

/* 65 entries of 120 bytes and the lock: 7,808 bytes on x86-64 */
#define SPLIT_NODE_STATS_BYTES	sizeof(SplitNodeStatsShared)

static SplitNodeStatsShared *stats = NULL;

PG_FUNCTION_INFO_V1(foresight_split_nodes_list);

void
split_node_stats_shmem_request(void)
{
	RequestAddinShmemSpace(SPLIT_NODE_STATS_BYTES);
}

void
split_node_stats_shmem_init(void)
{
	bool		found;

	stats = ShmemInitStruct("pg_foresight split nodes", SPLIT_NODE_STATS_BYTES, &found);
	if (!found)
	{
		memset(stats, 0, SPLIT_NODE_STATS_BYTES);
		SpinLockInit(&stats->mutex);
	}
}

/* the entry of node "name", made when missing; NULL when full (lock held) */
static SplitNodeCounters *
entry_for(const char *name)
{
	for (int i = 0; i < SPLIT_NODE_ENTRIES; i++)
	{
		SplitNodeCounters *e = &stats->nodes[i];

		if (e->name[0] == '\0')
		{
			strlcpy(e->name, name, NAMEDATALEN);
			return e;
		}
		if (strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

static bool
pace_stale(TimestampTz at, TimestampTz now)
{
	return TimestampDifferenceExceeds(at, now, SPLIT_PACE_FRESH_MS);
}

double
split_node_pace(const char *name)
{
	TimestampTz now = GetCurrentTimestamp();
	double		pace = 0.0;

	if (stats == NULL)
		return 0.0;
	SpinLockAcquire(&stats->mutex);
	for (int i = 0; i < SPLIT_NODE_ENTRIES && stats->nodes[i].name[0] != '\0'; i++)
		if (strcmp(stats->nodes[i].name, name) == 0)
		{
			if (!pace_stale(stats->nodes[i].pace_at, now))
				pace = stats->nodes[i].pace;
			break;
		}
	SpinLockRelease(&stats->mutex);
	return pace;
}

void
split_node_stats_add(SplitScanState *st)
{
	SplitNodeCounters sum[CAP_MAX_NODES + 1];
	int			n = 0;
	TimestampTz now = GetCurrentTimestamp();
	double		all_ms = 0.0;
	double		all_cost = 0.0;
	bool		cut_short = false;

	if (stats == NULL || !st->started)
		return;
	memset(sum, 0, sizeof(sum));
	for (int i = 0; i < st->nparts; i++)
	{
		SplitPart  *p = &st->parts[i];
		int			at;

		if (p->status != PART_DONE || p->ran_on == NULL)
			continue;
		for (at = 0; at < n; at++)
			if (strcmp(sum[at].name, p->ran_on) == 0)
				break;
		if (at == n)
		{
			if (n == lengthof(sum))
				continue;
			strlcpy(sum[n++].name, p->ran_on, NAMEDATALEN);
		}
		cut_short |= p->cut_short;
		sum[at].pieces++;
		sum[at].stolen += p->stolen;
		sum[at].rows += p->rows;
		sum[at].ms += p->ms;
	}
	for (int i = 0; i < n; i++)
	{
		all_ms += sum[i].ms;
		all_cost += sum[i].pieces * (st->info.cost / Max(st->nparts, 1));
	}
	SpinLockAcquire(&stats->mutex);
	for (int i = 0; i < n; i++)
	{
		SplitNodeCounters *e = entry_for(sum[i].name);
		double		cost = sum[i].pieces * (st->info.cost / Max(st->nparts, 1));

		if (e == NULL)
			continue;
		/*
		 * A piece not read to the end (a LIMIT above) did part of its work:
		 * such a split's times give no pace.
		 */
		if (!cut_short && n >= 2 && cost > 0.0 && sum[i].ms > 0.0 && all_ms > 0.0)
		{
			/* relative to the split's, so reads of any weight compare */
			double		pace = (sum[i].ms / cost) / (all_ms / all_cost);

			e->pace = e->pace > 0.0 && !pace_stale(e->pace_at, now) ?
				(e->pace + pace) / 2.0 : pace;
			e->pace_at = now;
		}
		e->splits++;
		e->pieces += sum[i].pieces;
		e->stolen += sum[i].stolen;
		e->rows += sum[i].rows;
		e->ms += sum[i].ms;
	}
	SpinLockRelease(&stats->mutex);
}

/*
 * One row per node that ran pieces of split reads since the start.  The
 * SQL of 0.9 declares the first six columns; 0.10 adds the pace and when
 * it was measured.
 */
Datum
foresight_split_nodes_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SplitNodeCounters copy[SPLIT_NODE_ENTRIES];

	foresight_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	/* 0.9's six: the tuplestore takes as many of the values as declared */
	(void) foresight_result_columns(fcinfo, rsinfo->setDesc, 6, 8);

	SpinLockAcquire(&stats->mutex);
	memcpy(copy, stats->nodes, sizeof(copy));
	SpinLockRelease(&stats->mutex);

	for (int i = 0; i < SPLIT_NODE_ENTRIES && copy[i].name[0] != '\0'; i++)
	{
		Datum		values[8];
		bool		nulls[8] = {false};

		values[0] = CStringGetTextDatum(copy[i].name);
		values[1] = Int64GetDatum(copy[i].splits);
		values[2] = Int64GetDatum(copy[i].pieces);
		values[3] = Int64GetDatum(copy[i].stolen);
		values[4] = Int64GetDatum(copy[i].rows);
		values[5] = Float8GetDatum(copy[i].ms);
		/* never measured: both NULL (a stale pace is shown, but not used) */
		values[6] = Float8GetDatum(copy[i].pace);
		values[7] = TimestampTzGetDatum(copy[i].pace_at);
		nulls[6] = nulls[7] = !(copy[i].pace > 0.0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
