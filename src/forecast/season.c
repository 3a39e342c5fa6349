/*-------------------------------------------------------------------------
 *
 * season.c
 *	  The season of a series, found in its autocorrelation.
 *
 * A load that repeats every m samples (a batch job every 20 s, a neighbour
 * that alternates between two servers) has an autocorrelation that falls
 * from 1 at lag 0, dips, and rises again to a peak at lag m.  A series
 * that only persists (a level that drifts, a random walk) has an
 * autocorrelation that falls and never rises: no peak, no season.  So the
 * season is the lag of the highest local peak of the sample
 * autocorrelation that stands FC_SEASON_MIN_RISE above the lowest value
 * before it and reaches FC_SEASON_MIN_ACF, or 4 / sqrt(n) on a short
 * series (the sample autocorrelation of noise spreads as 1 / sqrt(n): at
 * 0.3 alone, white noise of 50 samples showed a season one time in 17),
 * with at least FC_SEASON_MIN_SAMPLES samples; of peaks nearly as high (within
 * FC_SEASON_MULTIPLE_SHARE of it), the shortest, since the multiples of a
 * season peak too.  The last FC_SEASON_SCAN samples are scanned (a season
 * of the last minutes, not of an hour ago), lags 2 to a third of them.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/season.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "forecast/forecast.h"

#define FC_SEASON_SCAN				1024
#define FC_SEASON_MIN_ACF			0.3
#define FC_SEASON_MIN_SAMPLES		64
#define FC_SEASON_MIN_RISE			0.3
#define FC_SEASON_MULTIPLE_SHARE	0.9

int
fc_detect_season(const double *y, int n, int max_season)
{
	double		acf[FC_MAX_SEASON + 2];
	bool		rises[FC_MAX_SEASON + 1];	/* a peak that rises far enough */
	double		mean = 0.0;
	double		var = 0.0;
	double		lowest;
	double		min_acf;
	double		best = -1.0;
	int			maxlag;
	int			m;

	if (y == NULL || n <= 0)
		return 0;
	if (n > FC_SEASON_SCAN)
	{
		y += n - FC_SEASON_SCAN;
		n = FC_SEASON_SCAN;
	}
	if (n < FC_SEASON_MIN_SAMPLES)
		return 0;
	min_acf = fmax(FC_SEASON_MIN_ACF, 4.0 / sqrt((double) n));
	maxlag = n / 3;
	if (max_season > 0 && maxlag > max_season)
		maxlag = max_season;
	if (maxlag > FC_MAX_SEASON)
		maxlag = FC_MAX_SEASON;
	if (maxlag < 3)
		return 0;

	for (int i = 0; i < n; i++)
	{
		if (!isfinite(y[i]))
			return 0;
		mean += y[i];
	}
	mean /= n;
	for (int i = 0; i < n; i++)
		var += (y[i] - mean) * (y[i] - mean);
	if (!(var > 1e-12 * n))
		return 0;				/* flat: nothing repeats */
	/* one lag past maxlag, to tell whether maxlag itself is a peak */
	for (int lag = 0; lag <= maxlag + 1 && lag < n; lag++)
	{
		double		s = 0.0;

		for (int i = lag; i < n; i++)
			s += (y[i] - mean) * (y[i - lag] - mean);
		acf[lag] = s / var;
	}

	/*
	 * The local peaks that rise far enough above the lowest value before
	 * them; the highest that reaches min_acf, then the shortest nearly as
	 * high (a multiple of the season peaks too).
	 */
	lowest = acf[1];
	for (m = 2; m <= maxlag; m++)
	{
		if (acf[m - 1] < lowest)
			lowest = acf[m - 1];
		rises[m] = acf[m] > acf[m - 1] && (m + 1 >= n || acf[m] >= acf[m + 1]) &&
			acf[m] - lowest >= FC_SEASON_MIN_RISE;
		if (rises[m] && acf[m] >= min_acf && acf[m] > best)
			best = acf[m];
	}
	if (best < 0.0)
		return 0;
	for (m = 2; m <= maxlag; m++)
		if (rises[m] && acf[m] >= FC_SEASON_MULTIPLE_SHARE * best)
			return m;
	return 0;
}
