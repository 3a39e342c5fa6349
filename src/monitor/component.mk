# src/monitor/component.mk
#	The libFuzzer harness of the snapshot decoder (included by the top
#	Makefile).  The decoder (snapshot_codec.c) and the generated protobuf
#	code need no server headers, so they are built here once more with
#	clang's fuzzer and address sanitizer.
#
#	make fuzz-snapshot			build src/monitor/fuzz/fuzz_snapshot
#	make fuzz-snapshot-run		run it for FUZZ_SECONDS (default 300)

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 300
MONITOR_FUZZ_SRCS = src/monitor/fuzz/fuzz_snapshot.c src/monitor/snapshot_codec.c \
	src/monitor/snapshot.pb-c.c

src/monitor/fuzz/fuzz_snapshot: $(MONITOR_FUZZ_SRCS) src/monitor/snapshot_codec.h src/monitor/snapshot.pb-c.h
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -Wall -Werror -Isrc \
		-o $@ $(MONITOR_FUZZ_SRCS) -lprotobuf-c

.PHONY: fuzz-snapshot fuzz-snapshot-run
fuzz-snapshot: src/monitor/fuzz/fuzz_snapshot

# crashes, leaks, timeouts and slow units are written into the build tree
FUZZ_ARTIFACTS = .build/fuzz-artifacts/

fuzz-snapshot-run: src/monitor/fuzz/fuzz_snapshot
	mkdir -p src/monitor/fuzz/corpus.run $(FUZZ_ARTIFACTS)
	src/monitor/fuzz/fuzz_snapshot -max_total_time=$(FUZZ_SECONDS) -max_len=20000 \
		-artifact_prefix=$(FUZZ_ARTIFACTS) \
		src/monitor/fuzz/corpus.run src/monitor/fuzz/corpus

EXTRA_CLEAN += src/monitor/fuzz/fuzz_snapshot

# Unit tests of the codec (TAP), run by scripts/test.sh.
UNIT_TESTS += src/monitor/test/test_snapshot_codec

src/monitor/test/test_snapshot_codec: src/monitor/test/test_snapshot_codec.c src/monitor/snapshot_codec.c \
		src/monitor/snapshot.pb-c.c src/monitor/snapshot_codec.h src/monitor/snapshot.pb-c.h src/core/test/tap.h
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Isrc -o $@ src/monitor/test/test_snapshot_codec.c \
		src/monitor/snapshot_codec.c src/monitor/snapshot.pb-c.c -lprotobuf-c -lm

EXTRA_CLEAN += src/monitor/test/test_snapshot_codec

# Unit tests of the control-group parsers (TAP), run by scripts/test.sh.
UNIT_TESTS += src/monitor/test/test_cgroup

src/monitor/test/test_cgroup: src/monitor/test/test_cgroup.c src/monitor/cgroup.c src/monitor/cgroup.h src/core/test/tap.h
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Isrc -o $@ src/monitor/test/test_cgroup.c \
		src/monitor/cgroup.c -lm

EXTRA_CLEAN += src/monitor/test/test_cgroup
