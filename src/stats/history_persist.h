/*-------------------------------------------------------------------------
 *
 * history_persist.h
 *	  The history rings on disk: $PGDATA/pg_foresight/history.pb (protobuf
 *	  HistoryFile, src/monitor/snapshot.proto), written by the monitor at
 *	  clean shutdown and read back when it starts.
 *
 * Extension point: another component (the forecasting models) keeps its
 * own state in the same file as a named section.  It registers a pair of
 * callbacks before the monitor starts saving or loading (e.g. from its
 * define_gucs entry point, which runs in every process):
 *
 *	  history_persist_register_section("models", models_save, models_load);
 *
 * save appends the section's bytes to buf; load gets them back (only if the
 * file had that section).  Both run in the monitor.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_HISTORY_PERSIST_H
#define FORESIGHT_HISTORY_PERSIST_H

#include "postgres.h"

#include "lib/stringinfo.h"

#define HISTORY_FILE_DIR	"pg_foresight"
#define HISTORY_FILE		"pg_foresight/history.pb"
#define HISTORY_FILE_VERSION 1
/* a bigger file is refused (more than any history_size can produce) */
#define HISTORY_FILE_MAX_BYTES ((off_t) 1024 * 1024 * 1024)

typedef void (*history_section_save_fn) (StringInfo buf);
typedef void (*history_section_load_fn) (const char *data, size_t len);

extern void history_persist_register_section(const char *name,
											 history_section_save_fn save,
											 history_section_load_fn load);

/* The monitor at clean exit: write the rings (temp file, fsync, rename). */
extern void history_persist_save(void);

/*
 * The monitor at start, after the registry was loaded: read the file back
 * into the rings of the nodes that still exist (matched by node_id and
 * name), once per shared-memory lifetime, then remove it.  A corrupt or
 * truncated file is logged and ignored.
 */
extern void history_persist_load(void);

#endif							/* FORESIGHT_HISTORY_PERSIST_H */
