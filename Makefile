# pg_foresight — PGXS build.
#
#   make                 build pg_foresight.so
#   make install         install into the PostgreSQL that pg_config names
#   make tmp-install     private copy of PostgreSQL with the extension, in .build/
#   scripts/test.sh      the whole test suite (see README)

EXTENSION  = pg_foresight
MODULE_big = pg_foresight
DATA       = $(wildcard sql/pg_foresight--*.sql)
PGFILEDESC = "pg_foresight - load-predictive read routing"

# Protobuf messages (src/*/*.proto) are compiled with protoc-c at build time.
PROTOS     = $(wildcard src/*/*.proto)
PROTO_SRC  = $(PROTOS:.proto=.pb-c.c)
PROTO_HDR  = $(PROTOS:.proto=.pb-c.h)

# Every .c file one level below src/ is part of the module; deeper folders
# (unit tests, fuzzers, benchmarks) are built by their own rules.
SRCS = $(filter-out $(PROTO_SRC),$(wildcard src/*.c src/*/*.c))
OBJS = $(PROTO_SRC:.c=.o) $(SRCS:.c=.o)

PG_CPPFLAGS = -I$(libpq_srcdir) -Isrc -std=gnu11
PG_CFLAGS   = -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare -Werror
SHLIB_LINK  = $(libpq) -lprotobuf-c -lm

EXTRA_CLEAN = $(PROTO_SRC) $(PROTO_HDR)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

src/%.pb-c.c src/%.pb-c.h: src/%.proto
	protoc-c --proto_path=$(dir $<) --c_out=$(dir $<) $<

# No automatic header dependencies in PGXS here: rebuild every object when
# any header changes (a stale object against a changed struct is worse).
$(SRCS:.c=.o): $(PROTO_HDR) $(wildcard src/*.h src/*/*.h)

# Component makefiles (unit tests, fuzzers, benchmarks).  A component adds
# its C unit-test programs (TAP output) to UNIT_TESTS.
UNIT_TESTS =
-include $(wildcard src/*/component.mk)

.PHONY: unit-tests print-unit-tests
unit-tests: $(UNIT_TESTS)
print-unit-tests:
	@echo $(UNIT_TESTS)

.PHONY: tmp-install
tmp-install: all
	bash -c '. scripts/lib/common.sh && build_and_install'

