/*-------------------------------------------------------------------------
 *
 * experiment_persist.c
 *	  Experiments on disk: the section "experiments" of the history file
 *	  (stats/history_persist.h), written by the monitor at clean shutdown
 *	  and read back when it starts, like the history rings and the models.
 *
 * The section is a header (magic, version, the sizes of the structures
 * it copies) and, per experiment, its definition, per arm the settings
 * and the statistics of each request class, as they are in memory, and
 * then the units each arm was assigned.  A section written by another layout (the sizes differ) or cut
 * short is ignored as a whole, with a LOG message: statistics start again
 * rather than being misread.  A running experiment goes on running.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"

#include "router/experiment.h"

#define EXPERIMENT_SECTION_MAGIC 0x46585031 /* "FXP1" */
/*
 * Version 2 (0.11) adds, after each experiment's arms, the units each arm
 * was assigned (int64 each); a version 1 section loads with none counted.
 * Version 3 (library of 2026-12-05, still 0.11) adds after them each arm's AbClusters, per request
 * class and over all (ARM_CLUSTER_SLOTS); an earlier section loads with
 * none, and its reads count as independent (design effect 1) until new
 * ones give the sums something to say.
 */
#define EXPERIMENT_SECTION_VERSION 3
#define CLUSTERS_SIZE (sizeof(AbClusters) * ARM_CLUSTER_SLOTS)

typedef struct SectionHeader
{
	uint32		magic;
	uint32		version;
	uint32		settings_size;
	uint32		stats_size;
	uint32		hist_buckets;
	uint32		request_classes;
	uint32		count;
} SectionHeader;

/* the fixed part of one experiment */
typedef struct SavedExperiment
{
	char		name[NAMEDATALEN];
	int32		status;
	int32		unit;
	double		traffic;
	int64		seed;
	int32		narms;
	int32		control;
	TimestampTz started_at;
	TimestampTz stopped_at;
	char		stop_reason[192];
} SavedExperiment;

typedef struct SavedArm
{
	char		name[NAMEDATALEN];
	ArmSettings settings;
	bool		stopped;
	char		stop_reason[192];
	ArmClassStats cls[REQUEST_CLASS_COUNT];
} SavedArm;

/* sums that can have been written: finite, counts not negative */
static bool
clusters_valid(const AbClusters *c)
{
	return isfinite(c->n) && isfinite(c->units) && isfinite(c->sum_y) &&
		isfinite(c->sum_y2) && isfinite(c->sum_n2) && isfinite(c->sum_s2_n) &&
		c->n >= 0.0 && c->units >= 0.0 && c->units <= c->n &&
		c->sum_y2 >= 0.0 && c->sum_n2 >= 0.0 && c->sum_s2_n >= 0.0;
}

void
experiment_persist_save(StringInfo buf)
{
	ExperimentCopy *all;
	int			n = experiment_copy_all(&all);
	SectionHeader h;

	memset(&h, 0, sizeof(h));
	h.magic = EXPERIMENT_SECTION_MAGIC;
	h.version = EXPERIMENT_SECTION_VERSION;
	h.settings_size = sizeof(ArmSettings);
	h.stats_size = sizeof(ArmClassStats);
	h.hist_buckets = AB_HIST_BUCKETS;
	h.request_classes = REQUEST_CLASS_COUNT;
	h.count = n;
	appendBinaryStringInfo(buf, (char *) &h, sizeof(h));
	for (int i = 0; i < n; i++)
	{
		ExperimentCopy *e = &all[i];
		SavedExperiment se;

		memset(&se, 0, sizeof(se));
		strlcpy(se.name, e->name, NAMEDATALEN);
		se.status = e->status;
		se.unit = e->unit;
		se.traffic = e->traffic;
		se.seed = e->seed;
		se.narms = e->narms;
		se.control = e->control;
		se.started_at = e->started_at;
		se.stopped_at = e->stopped_at;
		strlcpy(se.stop_reason, e->stop_reason, sizeof(se.stop_reason));
		appendBinaryStringInfo(buf, (char *) &se, sizeof(se));
		for (int a = 0; a < e->narms; a++)
		{
			SavedArm	sa;

			memset(&sa, 0, sizeof(sa));
			strlcpy(sa.name, e->arms[a].name, NAMEDATALEN);
			sa.settings = e->arms[a].settings;
			sa.stopped = e->arms[a].stopped;
			strlcpy(sa.stop_reason, e->arms[a].stop_reason, sizeof(sa.stop_reason));
			memcpy(sa.cls, e->arms[a].cls, sizeof(sa.cls));
			appendBinaryStringInfo(buf, (char *) &sa, sizeof(sa));
		}
		for (int a = 0; a < e->narms; a++)
			appendBinaryStringInfo(buf, (char *) &e->arms[a].units, sizeof(int64));
		for (int a = 0; a < e->narms; a++)
			appendBinaryStringInfo(buf, (char *) e->arms[a].clusters, CLUSTERS_SIZE);
	}
}

void
experiment_persist_load(const char *data, size_t len)
{
	SectionHeader h;
	size_t		off = sizeof(h);
	ExperimentCopy c;
	int			restored = 0;
	size_t		arm_size;		/* a saved arm, and from version 2 its units
								 * and from 3 its sums */

	if (len < sizeof(h))
		goto corrupt;
	memcpy(&h, data, sizeof(h));
	if (h.magic != EXPERIMENT_SECTION_MAGIC ||
		h.version < 1 || h.version > EXPERIMENT_SECTION_VERSION ||
		h.settings_size != sizeof(ArmSettings) || h.stats_size != sizeof(ArmClassStats) ||
		h.hist_buckets != AB_HIST_BUCKETS || h.request_classes != REQUEST_CLASS_COUNT)
	{
		ereport(LOG,
				(errmsg("pg_foresight: the saved experiments have another layout, ignoring them")));
		return;
	}
	arm_size = sizeof(SavedArm) + (h.version >= 2 ? sizeof(int64) : 0) +
		(h.version >= 3 ? CLUSTERS_SIZE : 0);
	c.arms = palloc0(sizeof(*c.arms) * foresight_experiment_max_arms);
	for (uint32 i = 0; i < h.count; i++)
	{
		SavedExperiment se;

		if (len - off < sizeof(se))
			goto corrupt;
		memcpy(&se, data + off, sizeof(se));
		off += sizeof(se);
		se.name[NAMEDATALEN - 1] = '\0';
		se.stop_reason[sizeof(se.stop_reason) - 1] = '\0';
		if (se.narms < 2 || se.narms > 16 || se.control < 0 || se.control >= se.narms ||
			se.status < EXPERIMENT_RUNNING || se.status > EXPERIMENT_PROMOTED ||
			(size_t) se.narms * arm_size > len - off)
			goto corrupt;
		if (se.narms > foresight_experiment_max_arms)
		{
			/* more arms than this server keeps: skipped */
			off += se.narms * arm_size;
			ereport(LOG,
					(errmsg("pg_foresight: saved experiment \"%s\" has %d arms, more than foresight.experiment_max_arms; skipped",
							se.name, se.narms)));
			continue;
		}
		strlcpy(c.name, se.name, NAMEDATALEN);
		c.status = se.status;
		c.unit = se.unit == EXPERIMENT_UNIT_QUERY ? EXPERIMENT_UNIT_QUERY : EXPERIMENT_UNIT_SESSION;
		c.traffic = se.traffic;
		c.seed = se.seed;
		c.narms = se.narms;
		c.control = se.control;
		c.started_at = se.started_at;
		c.stopped_at = se.stopped_at;
		strlcpy(c.stop_reason, se.stop_reason, sizeof(c.stop_reason));
		for (int a = 0; a < se.narms; a++)
		{
			SavedArm	sa;

			memcpy(&sa, data + off, sizeof(sa));
			off += sizeof(sa);
			sa.name[NAMEDATALEN - 1] = '\0';
			sa.stop_reason[sizeof(sa.stop_reason) - 1] = '\0';
			strlcpy(c.arms[a].name, sa.name, NAMEDATALEN);
			c.arms[a].settings = sa.settings;
			c.arms[a].stopped = sa.stopped;
			strlcpy(c.arms[a].stop_reason, sa.stop_reason, sizeof(c.arms[a].stop_reason));
			memcpy(c.arms[a].cls, sa.cls, sizeof(sa.cls));
			c.arms[a].units = 0;
			memset(c.arms[a].clusters, 0, CLUSTERS_SIZE);
		}
		if (h.version >= 2)
			for (int a = 0; a < se.narms; a++)
			{
				memcpy(&c.arms[a].units, data + off, sizeof(int64));
				off += sizeof(int64);
				if (c.arms[a].units < 0)
					goto corrupt;
			}
		if (h.version >= 3)
			for (int a = 0; a < se.narms; a++)
			{
				memcpy(c.arms[a].clusters, data + off, CLUSTERS_SIZE);
				off += CLUSTERS_SIZE;
				for (int k = 0; k < ARM_CLUSTER_SLOTS; k++)
					if (!clusters_valid(&c.arms[a].clusters[k]))
						goto corrupt;
			}
		if (experiment_restore(&c))
			restored++;
	}
	if (off != len)
		goto corrupt;
	ereport(DEBUG1, (errmsg_internal("pg_foresight: %d experiments restored", restored)));
	return;

corrupt:
	ereport(LOG,
			(errmsg("pg_foresight: the saved experiments are corrupt, ignoring the rest of them")));
}
