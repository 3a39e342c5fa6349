/*-------------------------------------------------------------------------
 *
 * history_persist.c
 *	  Writing the history rings to $PGDATA/pg_foresight/history.pb at clean
 *	  shutdown and reading them back at start (see history_persist.h).
 *
 * The file is a protobuf HistoryFile.  Samples are stored column-wise, one
 * Column per sample field keyed by its name, so a later version that adds
 * or drops fields still reads old files (missing columns load as absent,
 * unknown ones are skipped).  Like pg_stat_statements' file it is removed
 * once loaded: after a crash the history starts empty rather than from a
 * stale file.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_perm.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "stats/history.pb-c.h"
#include "registry/registry.h"
#include "stats/history.h"
#include "stats/history_persist.h"

#define MAX_SECTIONS 8

typedef struct PersistSection
{
	char		name[NAMEDATALEN];
	history_section_save_fn save;
	history_section_load_fn load;
} PersistSection;

static PersistSection sections[MAX_SECTIONS];
static int	nsections = 0;

void
history_persist_register_section(const char *name, history_section_save_fn save,
								 history_section_load_fn load)
{
	for (int i = 0; i < nsections; i++)
		if (strcmp(sections[i].name, name) == 0)
		{
			sections[i].save = save;
			sections[i].load = load;
			return;
		}
	if (nsections >= MAX_SECTIONS)
		elog(ERROR, "too many history file sections");
	strlcpy(sections[nsections].name, name, NAMEDATALEN);
	sections[nsections].save = save;
	sections[nsections].load = load;
	nsections++;
}

static int64
field_as_int(const MetricSample *s, const SampleField *f)
{
	const char *p = (const char *) s + f->offset;

	switch (f->kind)
	{
		case SF_INT32:
			return *(const int32 *) p;
		case SF_INT64:
			return *(const int64 *) p;
		case SF_LSN:
			return (int64) *(const XLogRecPtr *) p;
		case SF_TIME:
			return *(const TimestampTz *) p;
		case SF_BOOL:
		case SF_SOURCE:
			return *(const int8 *) p;
		case SF_FLOAT:
			break;
	}
	return 0;
}

static void
field_set_int(MetricSample *s, const SampleField *f, int64 v)
{
	char	   *p = (char *) s + f->offset;

	switch (f->kind)
	{
		case SF_INT32:
			*(int32 *) p = (v < PG_INT32_MIN || v > PG_INT32_MAX) ? -1 : (int32) v;
			break;
		case SF_INT64:
			*(int64 *) p = v;
			break;
		case SF_LSN:
			*(XLogRecPtr *) p = (XLogRecPtr) v;
			break;
		case SF_TIME:
			*(TimestampTz *) p = v;
			break;
		case SF_BOOL:
		case SF_SOURCE:
			*(int8 *) p = (v < -1 || v > 127) ? -1 : (int8) v;
			break;
		case SF_FLOAT:
			break;
	}
}

void
history_persist_save(void)
{
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "history save",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(ctx);
	int			nslots = registry_slot_count();
	ForesightNode *nodes = palloc(sizeof(ForesightNode) * nslots);
	MetricSample *buf = palloc(sizeof(MetricSample) * foresight_history_size);
	Foresight__HistoryFile file = FORESIGHT__HISTORY_FILE__INIT;
	Foresight__Section **sects;
	int			n;
	size_t		len;
	uint8	   *data;
	char		tmppath[MAXPGPATH];
	int			fd;
	int			total_samples = 0;

	n = registry_snapshot(nodes, nslots, NULL);
	file.has_version = true;
	file.version = HISTORY_FILE_VERSION;
	file.has_written_at_us = true;
	file.written_at_us = GetCurrentTimestamp();
	file.has_history_size = true;
	file.history_size = foresight_history_size;
	file.nodes = palloc(sizeof(Foresight__NodeHistory *) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		Foresight__NodeHistory *nh;
		int			ns = history_copy(nodes[i].slot, nodes[i].node_id, 0, buf);

		if (ns == 0)
			continue;
		total_samples += ns;
		nh = palloc(sizeof(Foresight__NodeHistory));
		foresight__node_history__init(nh);
		nh->has_node_id = true;
		nh->node_id = nodes[i].node_id;
		nh->node_name = pstrdup(nodes[i].name);
		nh->has_nsamples = true;
		nh->nsamples = ns;
		nh->n_columns = history_field_count;
		nh->columns = palloc(sizeof(Foresight__Column *) * history_field_count);
		for (int f = 0; f < history_field_count; f++)
		{
			const SampleField *field = &history_fields[f];
			Foresight__Column *col = palloc(sizeof(Foresight__Column));

			foresight__column__init(col);
			col->name = (char *) field->name;
			if (field->kind == SF_FLOAT)
			{
				col->n_values = ns;
				col->values = palloc(sizeof(double) * ns);
				for (int k = 0; k < ns; k++)
					col->values[k] = *(const float4 *) ((const char *) &buf[k] + field->offset);
			}
			else
			{
				col->n_ivalues = ns;
				col->ivalues = palloc(sizeof(int64_t) * ns);
				for (int k = 0; k < ns; k++)
					col->ivalues[k] = field_as_int(&buf[k], field);
			}
			nh->columns[f] = col;
		}
		file.nodes[file.n_nodes++] = nh;
	}

	/* other components' sections */
	sects = palloc(sizeof(Foresight__Section *) * Max(nsections, 1));
	for (int i = 0; i < nsections; i++)
	{
		StringInfoData sbuf;
		Foresight__Section *sec = palloc(sizeof(Foresight__Section));

		initStringInfo(&sbuf);
		sections[i].save(&sbuf);
		foresight__section__init(sec);
		sec->name = sections[i].name;
		sec->has_data = true;
		sec->data.len = sbuf.len;
		sec->data.data = (uint8_t *) sbuf.data;
		sects[file.n_sections++] = sec;
	}
	file.sections = sects;

	len = foresight__history_file__get_packed_size(&file);
	data = palloc(len);
	foresight__history_file__pack(&file, data);

	(void) MakePGDirectory(HISTORY_FILE_DIR);
	snprintf(tmppath, sizeof(tmppath), "%s.tmp", HISTORY_FILE);
	fd = OpenTransientFile(tmppath, O_CREAT | O_TRUNC | O_WRONLY | PG_BINARY);
	if (fd < 0)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", tmppath)));
		goto done;
	}
	errno = 0;
	if (write(fd, data, len) != (ssize_t) len)
	{
		if (errno == 0)
			errno = ENOSPC;
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmppath)));
		CloseTransientFile(fd);
		unlink(tmppath);
		goto done;
	}
	if (pg_fsync(fd) != 0)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not fsync file \"%s\": %m", tmppath)));
		CloseTransientFile(fd);
		unlink(tmppath);
		goto done;
	}
	CloseTransientFile(fd);
	/* rename and fsync the directory */
	if (durable_rename(tmppath, HISTORY_FILE, LOG) == 0)
		ereport(LOG,
				(errmsg("foresight monitor: saved the history of %d node%s (%d samples, %zu bytes) to \"%s\"",
						(int) file.n_nodes, file.n_nodes == 1 ? "" : "s", total_samples, len, HISTORY_FILE)));

done:
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
}

/* Restore one node's ring from the file; false if the entry is inconsistent. */
static bool
restore_node(const Foresight__NodeHistory *nh, const ForesightNode *nodes, int n,
			 int *restored_samples)
{
	const ForesightNode *node = NULL;
	MetricSample *buf;
	uint32		ns;

	if (!nh->has_node_id || nh->node_name == NULL || !nh->has_nsamples)
		return false;
	for (int i = 0; i < n; i++)
		if (nodes[i].node_id == nh->node_id && strcmp(nodes[i].name, nh->node_name) == 0)
			node = &nodes[i];
	if (node == NULL)
		return true;			/* removed since: nothing to restore */
	ns = nh->nsamples;
	if (ns == 0)
		return true;
	if (ns > 10 * 1000 * 1000)
		return false;

	buf = palloc(sizeof(MetricSample) * ns);
	for (uint32 k = 0; k < ns; k++)
		history_sample_init(&buf[k]);
	for (size_t c = 0; c < nh->n_columns; c++)
	{
		const Foresight__Column *col = nh->columns[c];
		const SampleField *field = NULL;

		if (col->name == NULL)
			return false;
		for (int f = 0; f < history_field_count; f++)
			if (strcmp(history_fields[f].name, col->name) == 0)
				field = &history_fields[f];
		if (field == NULL)
			continue;			/* a field this version does not know */
		if (field->kind == SF_FLOAT)
		{
			if (col->n_values != ns)
				return false;
			for (uint32 k = 0; k < ns; k++)
				*(float4 *) ((char *) &buf[k] + field->offset) = (float4) col->values[k];
		}
		else
		{
			if (col->n_ivalues != ns)
				return false;
			for (uint32 k = 0; k < ns; k++)
				field_set_int(&buf[k], field, col->ivalues[k]);
		}
	}
	history_restore(node->slot, node->node_id, buf, (int) ns);
	*restored_samples += Min((int) ns, foresight_history_size);
	pfree(buf);
	return true;
}

void
history_persist_load(void)
{
	MemoryContext ctx;
	MemoryContext old;
	struct stat st;
	int			fd;
	uint8	   *data;
	Foresight__HistoryFile *file;
	ForesightNode *nodes;
	int			n;
	int			restored_nodes = 0;
	int			restored_samples = 0;

	if (!history_claim_restore())
		return;
	if (stat(HISTORY_FILE, &st) != 0)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", HISTORY_FILE)));
		return;
	}
	if (st.st_size > HISTORY_FILE_MAX_BYTES)
	{
		ereport(LOG,
				(errmsg("foresight monitor: ignoring history file \"%s\": %lld bytes is too large",
						HISTORY_FILE, (long long) st.st_size)));
		unlink(HISTORY_FILE);
		return;
	}

	ctx = AllocSetContextCreate(CurrentMemoryContext, "history load", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);
	data = palloc(Max(st.st_size, 1));
	fd = OpenTransientFile(HISTORY_FILE, O_RDONLY | PG_BINARY);
	if (fd < 0 || read(fd, data, st.st_size) != st.st_size)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", HISTORY_FILE)));
		if (fd >= 0)
			CloseTransientFile(fd);
		goto done;
	}
	CloseTransientFile(fd);

	file = foresight__history_file__unpack(NULL, st.st_size, data);
	if (file == NULL || !file->has_version || file->version != HISTORY_FILE_VERSION)
	{
		ereport(LOG,
				(errmsg("foresight monitor: ignoring history file \"%s\": corrupt, truncated or of another version (%lld bytes)",
						HISTORY_FILE, (long long) st.st_size)));
		if (file)
			foresight__history_file__free_unpacked(file, NULL);
		goto done;
	}

	nodes = registry_snapshot_palloc(&n);
	for (size_t i = 0; i < file->n_nodes; i++)
	{
		if (!restore_node(file->nodes[i], nodes, n, &restored_samples))
		{
			ereport(LOG,
					(errmsg("foresight monitor: history file \"%s\": inconsistent entry for node %d skipped",
							HISTORY_FILE, file->nodes[i]->node_id)));
			continue;
		}
		restored_nodes++;
	}
	for (size_t i = 0; i < file->n_sections; i++)
	{
		const Foresight__Section *sec = file->sections[i];

		if (sec->name == NULL)
			continue;
		for (int j = 0; j < nsections; j++)
			if (strcmp(sections[j].name, sec->name) == 0 && sections[j].load)
				sections[j].load((const char *) sec->data.data, sec->data.len);
	}
	foresight__history_file__free_unpacked(file, NULL);
	ereport(LOG,
			(errmsg("foresight monitor: restored %d samples of %d node%s from \"%s\"",
					restored_samples, restored_nodes, restored_nodes == 1 ? "" : "s",
					HISTORY_FILE)));

done:
	unlink(HISTORY_FILE);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
}
