/*-------------------------------------------------------------------------
 *
 * test_util.h
 *	  What the unit-test programs of the forecasting library share.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/test/test_util.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORECAST_TEST_UTIL_H
#define FORECAST_TEST_UTIL_H

#define PI 3.14159265358979323846

/* Deterministic noise in [-1, 1). */
static inline double
noise(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return ((*state >> 8) & 0xffff) / 32768.0 - 1.0;
}

#endif							/* FORECAST_TEST_UTIL_H */
