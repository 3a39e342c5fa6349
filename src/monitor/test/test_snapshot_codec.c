/*-------------------------------------------------------------------------
 *
 * test_snapshot_codec.c
 *	  Unit tests (TAP output) of the snapshot codec, without the server:
 *	  round trip, presence, size limit, malformed input, every semantic
 *	  check, JSON output.
 *
 *	  make src/monitor/test/test_snapshot_codec && src/monitor/test/test_snapshot_codec
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/snapshot_codec.h"
#include "core/test/tap.h"


static NodeSnapshot
valid_snapshot(void)
{
	NodeSnapshot s;

	snapshot_init(&s);
	s.has_version = 1, s.version = SNAPSHOT_VERSION;
	s.has_collected_at_us = 1, s.collected_at_us = INT64_C(1795545050919061);
	s.has_server_start_us = 1, s.server_start_us = INT64_C(1795545049800384);
	s.has_cpu_user = 1, s.cpu_user = 300240;
	s.has_cpu_idle = 1, s.cpu_idle = 410466;
	s.has_cpu_count = 1, s.cpu_count = 2;
	s.has_cpu_limit_cores = 1, s.cpu_limit_cores = 0.6;
	s.has_cpu_periods = 1, s.cpu_periods = 1200;
	s.has_cpu_throttled_periods = 1, s.cpu_throttled_periods = 300;
	s.has_load1 = 1, s.load1 = 6.25;
	s.has_mem_total_kb = 1, s.mem_total_kb = 24684084;
	s.has_mem_available_kb = 1, s.mem_available_kb = 23982808;
	s.has_backends = 1, s.backends = 5;
	s.has_backends_active = 1, s.backends_active = 3;
	s.has_waiting = 1, s.waiting = 2;
	s.has_waiting_lock = 1, s.waiting_lock = 1;
	s.has_waiting_io = 1, s.waiting_io = 1;
	s.has_connections = 1, s.connections = 6;
	s.has_max_connections = 1, s.max_connections = 100;
	s.has_in_recovery = 1, s.in_recovery = 1;
	s.has_wal_lsn = 1, s.wal_lsn = UINT64_C(0xFFFFFFFF00000000);
	s.has_replay_lag_us = 1, s.replay_lag_us = -5;
	return s;
}

/* encode s, decode it; returns whether it was accepted, error in err */
static int
roundtrip(const NodeSnapshot *s, NodeSnapshot *out, char *err, size_t errlen)
{
	uint8_t		buf[SNAPSHOT_MAX_BYTES];
	size_t		len = snapshot_encoded_size(s);

	if (len > sizeof(buf))
		return 0;
	snapshot_encode(s, buf);
	return snapshot_decode(buf, len, out, err, errlen);
}

#define EXPECT_REFUSED(setup, needle, name) \
	do { \
		NodeSnapshot s_ = valid_snapshot(); \
		NodeSnapshot o_; \
		char		e_[256] = ""; \
		setup; \
		ok(!roundtrip(&s_, &o_, e_, sizeof(e_)) && strstr(e_, needle) != NULL, "%s", name); \
		if (strstr(e_, needle) == NULL) \
			printf("# got: %s\n", e_); \
	} while (0)

int
main(void)
{
	NodeSnapshot s = valid_snapshot();
	NodeSnapshot out;
	char		err[256];
	char		json[4096];
	uint8_t		big[SNAPSHOT_MAX_BYTES + 1];

	/* round trip keeps values and presence */
	ok(roundtrip(&s, &out, err, sizeof(err)), "a valid snapshot round-trips");
	ok(out.has_cpu_user && out.cpu_user == 300240 && out.load1 == 6.25 &&
	   out.wal_lsn == UINT64_C(0xFFFFFFFF00000000) && out.in_recovery && out.replay_lag_us == -5,
	   "values survive");
	ok(out.has_cpu_limit_cores && out.cpu_limit_cores == 0.6 && out.cpu_periods == 1200 &&
	   out.cpu_throttled_periods == 300, "the CPU limit and period counters survive");
	ok(!out.has_psi_cpu_some_avg10 && !out.has_cpu_steal && !out.has_receive_lsn,
	   "absent fields stay absent");
	ok(out.has_waiting_lock && out.waiting_lock == 1 && !out.has_waiting_client,
	   "a zero is not an absence and an absence is not a zero");

	/* JSON */
	snapshot_to_json(&out, json, sizeof(json));
	ok(strstr(json, "\"load1\": 6.25") != NULL && strstr(json, "\"in_recovery\": true") != NULL,
	   "JSON has the values");
	ok(strstr(json, "psi_") == NULL && json[0] == '{' && json[strlen(json) - 1] == '}',
	   "JSON leaves absent fields out");
	ok(snapshot_to_json(&out, json, 8) > 8 && strlen(json) == 7, "JSON truncates safely and says the size needed");

	/* the minimal message */
	ok(snapshot_decode((const uint8_t *) "\x08\x01", 2, &out, err, sizeof(err)), "version alone is valid");

	/* malformed, empty, oversized */
	ok(!snapshot_decode(NULL, 0, &out, err, sizeof(err)) && strstr(err, "empty"), "empty input");
	ok(!snapshot_decode((const uint8_t *) "\xde\xad\xbe\xef", 4, &out, err, sizeof(err)) &&
	   strstr(err, "malformed"), "garbage");
	ok(!snapshot_decode((const uint8_t *) "\x08\x01\x10", 3, &out, err, sizeof(err)) &&
	   strstr(err, "malformed"), "truncated after a tag");
	memset(big, 0, sizeof(big));
	ok(!snapshot_decode(big, sizeof(big), &out, err, sizeof(err)) && strstr(err, "exceeds the limit"),
	   "oversized input");
	/* many unknown fields: the arena bounds them, the decoder stays sane */
	{
		size_t		n = 0;

		while (n + 3 <= SNAPSHOT_MAX_BYTES)
		{
			/* field 999, varint 0: not in the message */
			big[n++] = 0xb8;
			big[n++] = 0x3e;
			if (n + 1 > SNAPSHOT_MAX_BYTES)
				break;
			big[n++] = 0x00;
		}
		(void) snapshot_decode(big, n, &out, err, sizeof(err));
		ok(1, "thousands of unknown fields do not crash");
	}

	/* semantic checks */
	EXPECT_REFUSED(s_.has_version = 0, "no version", "missing version");
	EXPECT_REFUSED(s_.version = 2, "unsupported snapshot version 2", "other version");
	EXPECT_REFUSED(s_.load1 = -1, "load1 out of range", "negative load");
	EXPECT_REFUSED(s_.load1 = NAN, "load1 out of range", "NaN load");
	EXPECT_REFUSED((s_.has_psi_io_some_avg10 = 1, s_.psi_io_some_avg10 = 101), "psi_io_some_avg10", "pressure above 100 %");
	EXPECT_REFUSED((s_.has_psi_io_some_avg10 = 1, s_.psi_io_some_avg10 = 100.0000001),
				   "psi_io_some_avg10 out of range: 100.0000001 (expected 0 to 100)",
				   "a value just out of range is shown with every digit it needs");
	EXPECT_REFUSED(s_.mem_available_kb = s_.mem_total_kb + 1, "mem_available_kb", "available above total");
	EXPECT_REFUSED(s_.backends_active = 6, "backends_active", "more active than backends");
	EXPECT_REFUSED(s_.connections = 101, "connections", "more connections than max_connections");
	EXPECT_REFUSED(s_.waiting_lock = 2, "add up", "waiting by type above waiting");
	EXPECT_REFUSED(s_.cpu_count = 0, "cpu_count", "zero CPUs");
	EXPECT_REFUSED((s_.has_cpu_limit_cores = 1, s_.cpu_limit_cores = 0), "cpu_limit_cores", "a CPU limit of zero");
	EXPECT_REFUSED((s_.has_cpu_limit_cores = 1, s_.cpu_limit_cores = NAN), "cpu_limit_cores", "a NaN CPU limit");
	EXPECT_REFUSED((s_.has_cpu_periods = 1, s_.cpu_periods = 10, s_.has_cpu_throttled_periods = 1,
					s_.cpu_throttled_periods = 11), "cpu_throttled_periods", "more throttled periods than periods");
	EXPECT_REFUSED(s_.collected_at_us = 5, "collected_at_us", "a time before 2000");
	EXPECT_REFUSED(s_.server_start_us = s_.collected_at_us + INT64_C(3600000000), "started after",
				   "server started after the snapshot");
	EXPECT_REFUSED(s_.replay_lag_us = INT64_C(-7200000000), "replay_lag_us", "replay lag far below zero");

	return tap_done();
}
