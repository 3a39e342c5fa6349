/*-------------------------------------------------------------------------
 *
 * fuzz_snapshot.c
 *	  libFuzzer harness of the snapshot decoder path: whatever bytes a node
 *	  sends go through snapshot_decode() (size limit, bounded unpack,
 *	  validation) and, when accepted, snapshot_to_json() and a re-encode
 *	  that must decode to the same message.
 *
 *	  make fuzz-snapshot
 *	  src/monitor/fuzz/fuzz_snapshot -max_total_time=300 src/monitor/fuzz/corpus
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/snapshot_codec.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	NodeSnapshot snap;
	NodeSnapshot again;
	char		err[256];
	char		json[8192];
	uint8_t	   *buf;
	size_t		len;

	if (!snapshot_decode(data, size, &snap, err, sizeof(err)))
	{
		/* a refusal always explains itself */
		if (err[0] == '\0')
			abort();
		return 0;
	}
	len = snapshot_to_json(&snap, json, sizeof(json));
	if (len >= sizeof(json) || json[0] != '{')
		abort();

	/* what was accepted re-encodes within the limit and decodes the same */
	len = snapshot_encoded_size(&snap);
	if (len > SNAPSHOT_MAX_BYTES)
		abort();
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		return 0;
	snapshot_encode(&snap, buf);
	if (!snapshot_decode(buf, len, &again, err, sizeof(err)))
		abort();
	snap.base = again.base;
	if (memcmp(&snap, &again, sizeof(snap)) != 0)
		abort();
	free(buf);
	return 0;
}
