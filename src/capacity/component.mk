# src/capacity/component.mk
#	Unit tests of the split sizing library (included by the top Makefile).
#	The library is compiled into the extension like every src/*/*.c; here
#	it is built once more, without the server, for the test program.
#
#	make capacity-check		build and run the unit tests (TAP)

UNIT_TESTS += src/capacity/test/test_capacity

CAPACITY_LIB_SRCS = $(wildcard src/capacity/*.c)

src/capacity/test/test_%: src/capacity/test/test_%.c $(CAPACITY_LIB_SRCS) $(wildcard src/capacity/*.h) src/core/test/tap.h
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Isrc -o $@ $< $(CAPACITY_LIB_SRCS) -lm

.PHONY: capacity-check
capacity-check: src/capacity/test/test_capacity
	src/capacity/test/test_capacity

EXTRA_CLEAN += src/capacity/test/test_capacity
