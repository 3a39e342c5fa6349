/*-------------------------------------------------------------------------
 *
 * poll_outcome.h
 *	  Recording the outcome of one poll of a node (see poll_outcome.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_POLL_OUTCOME_H
#define FORESIGHT_POLL_OUTCOME_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "libpq-fe.h"

#include "monitor/sample.h"
#include "monitor/snapshot.h"
#include "registry/registry.h"

/*
 * A good answer: the sample goes to the history ring and the live models,
 * the node is up, and its verdict is judged (this coordinator itself, a
 * promoted standby, a standby of another cluster take no routed queries).
 * in_incident is the caller's "failures were logged" flag, reset here.
 */
/*
 * The snapshot in the poller's answer (the value, or NULL over the size
 * limit, and its size: SNAPSHOT_QUERY), decoded into *snap; false with
 * error set when it cannot be read.
 */
extern bool poll_read_snapshot(const PGresult *res, NodeSnapshot *snap, char *error, size_t len);

extern void poll_record_success(int slot, int32 node_id, const char *name, ForesightNodeKind kind,
								bool *in_incident, const NodeSnapshot *snap, SampleState *state,
								SampleSource source, TimestampTz now);

/* A missed sample: what failed and libpq's error (may be NULL). */
extern void poll_record_failure(int slot, int32 node_id, const char *name, bool *in_incident,
								const char *what, const char *error);

#endif							/* FORESIGHT_POLL_OUTCOME_H */
