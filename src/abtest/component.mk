# src/abtest/component.mk
#	Unit tests of the experiments' statistics (included by the top
#	Makefile).  The library is compiled into the extension like every
#	src/*/*.c; here it is built once more, without the server, for the test
#	program.
#
#	make abtest-check		build and run the unit tests (TAP): the
#							statistics of experiments, and the bandit

UNIT_TESTS += src/abtest/test/test_abtest src/abtest/test/test_bandit

ABTEST_LIB_SRCS = $(wildcard src/abtest/*.c)

src/abtest/test/test_%: src/abtest/test/test_%.c $(ABTEST_LIB_SRCS) $(wildcard src/abtest/*.h) src/core/test/tap.h
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Isrc -o $@ $< $(ABTEST_LIB_SRCS) -lm

.PHONY: abtest-check
abtest-check: src/abtest/test/test_abtest src/abtest/test/test_bandit
	src/abtest/test/test_abtest
	src/abtest/test/test_bandit

EXTRA_CLEAN += src/abtest/test/test_abtest src/abtest/test/test_bandit
