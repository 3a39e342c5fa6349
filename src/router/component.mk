# src/router/component.mk
#	Unit tests of the router's plain-C helpers (included by the top
#	Makefile), run by scripts/test.sh.

# The reason builder against snprintf (TAP).
UNIT_TESTS += src/router/test/test_reason_text

src/router/test/test_reason_text: src/router/test/test_reason_text.c src/router/reason_text.c \
		src/router/reason_text.h src/core/test/tap.h
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Isrc -o $@ src/router/test/test_reason_text.c \
		src/router/reason_text.c -lm

EXTRA_CLEAN += src/router/test/test_reason_text
