/*-------------------------------------------------------------------------
 *
 * tap.h
 *	  The few lines of TAP output every C unit test of the project shares
 *	  (the test folders of src/): ok() prints one result (its name a printf format),
 *	  diag() a comment, tap_done() the plan and the exit status of main().
 *	  Plain C, no server headers: the unit tests build without the server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CORE_TEST_TAP_H
#define FORESIGHT_CORE_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int	tap_tests = 0;
static int	tap_failures = 0;

static inline void ok(int cond, const char *fmt,...) __attribute__((format(printf, 2, 3)));
static inline void diag(const char *fmt,...) __attribute__((format(printf, 1, 2)));

static inline void
ok(int cond, const char *fmt,...)
{
	va_list		ap;

	tap_tests++;
	if (!cond)
		tap_failures++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline void
diag(const char *fmt,...)
{
	va_list		ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* print the plan (and how many failed); the exit status of main() */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_tests);
	if (tap_failures)
		printf("# %d of %d tests failed\n", tap_failures, tap_tests);
	return tap_failures == 0 ? 0 : 1;
}

#endif							/* FORESIGHT_CORE_TEST_TAP_H */
