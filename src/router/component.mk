# src/router/component.mk
#	Unit tests of the router's plain-C helpers (included by the top
#	Makefile), run by scripts/test.sh: each test_X.c tests X.c, built
#	without the server.

# The reason builder against snprintf, and the coordinator cost's moving
# average (TAP).
UNIT_TESTS += src/router/test/test_reason_text src/router/test/test_cost_average

src/router/test/test_%: src/router/test/test_%.c src/router/%.c src/router/%.h src/core/test/tap.h
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Isrc -o $@ $< src/router/$*.c -lm

EXTRA_CLEAN += src/router/test/test_reason_text src/router/test/test_cost_average
