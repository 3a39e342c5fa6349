/*-------------------------------------------------------------------------
 *
 * snapshot_codec.h
 *	  Encoding, decoding and validation of the NodeSnapshot message
 *	  (snapshot.proto).  Plain C and protobuf-c, no server headers: the
 *	  server (node_snapshot, the monitor, node_snapshot_json) and the fuzz
 *	  harness (fuzz/fuzz_snapshot.c) use the same code.
 *
 * A decoded snapshot is a flat copy of the generated struct: every field is
 * a scalar with its has_ flag, nothing to free.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SNAPSHOT_CODEC_H
#define FORESIGHT_SNAPSHOT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/snapshot.pb-c.h"

typedef Foresight__NodeSnapshot NodeSnapshot;

/* the only version this code writes and accepts */
#define SNAPSHOT_VERSION		1

/* a snapshot is a few hundred bytes; anything above this is refused */
#define SNAPSHOT_MAX_BYTES		16384

/* bytes the decoder may allocate for one message (unknown fields included) */
#define SNAPSHOT_DECODE_ARENA	(256 * 1024)

/* An empty snapshot: every field absent. */
extern void snapshot_init(NodeSnapshot *snap);

/*
 * Decode and validate data[0..len).  On success *out is a flat copy and the
 * result is true; else false with a message in errbuf (never NULL-
 * terminated beyond errlen).  Never aborts, whatever the input.
 */
extern bool snapshot_decode(const uint8_t *data, size_t len, NodeSnapshot *out,
							char *errbuf, size_t errlen);

/* The semantic checks snapshot_decode applies (version, ranges...). */
extern bool snapshot_validate(const NodeSnapshot *snap, char *errbuf, size_t errlen);

/* Encoded size of a snapshot. */
extern size_t snapshot_encoded_size(const NodeSnapshot *snap);

/* Encode into buf (at least snapshot_encoded_size bytes); returns the size. */
extern size_t snapshot_encode(const NodeSnapshot *snap, uint8_t *buf);

/*
 * The present fields as a JSON object {"name": value, ...} in field-number
 * order; absent fields are left out.  Returns the length written (without
 * the terminating NUL), or the length needed if it was larger than buflen.
 */
extern size_t snapshot_to_json(const NodeSnapshot *snap, char *buf, size_t buflen);

#endif							/* FORESIGHT_SNAPSHOT_CODEC_H */
