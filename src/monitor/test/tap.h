/*-------------------------------------------------------------------------
 *
 * tap.h
 *	  The few lines of TAP output the monitor's C unit tests share: ok()
 *	  prints one result, tap_done() the plan and the exit status.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_MONITOR_TEST_TAP_H
#define FORESIGHT_MONITOR_TEST_TAP_H

#include <stdio.h>

static int	tap_tests = 0;
static int	tap_failures = 0;

static inline void
ok(int cond, const char *name)
{
	tap_tests++;
	if (!cond)
		tap_failures++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", tap_tests, name);
}

/* print the plan; the exit status of main() */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_tests);
	return tap_failures == 0 ? 0 : 1;
}

#endif							/* FORESIGHT_MONITOR_TEST_TAP_H */
