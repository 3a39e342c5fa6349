/*-------------------------------------------------------------------------
 *
 * test_anomaly.c
 *	  Unit tests of the anomaly detector (anomaly.h), output as TAP (run
 *	  with `make forecast-check`).  Moved out of test_forecast.c.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/test/test_anomaly.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast/anomaly.h"
#include "core/test/tap.h"
#include "test_util.h"

/*
 * The anomaly detector (anomaly.h).  Series of uniform noise in [-1, 1)
 * around 10; anomalies are added on top.
 */
#define AN_N 6000
static double an_y[AN_N],
			an_z[AN_N],
			an_s1[AN_N],
			an_s2[AN_N];
static bool an_a1[AN_N],
			an_a2[AN_N];

static void
an_noise(double *y, int n, unsigned seed)
{
	int			i;

	for (i = 0; i < n; i++)
		y[i] = 10.0 + noise(&seed);
}

/* First alert at or after index from, or -1. */
static int
an_first_alert(const bool *a, int n, int from)
{
	int			i;

	for (i = from; i < n; i++)
		if (a[i])
			return i;
	return -1;
}

static int
an_count(const bool *a, int from, int to)
{
	int			i,
				c = 0;

	for (i = from; i < to; i++)
		c += a[i];
	return c;
}

static void
test_anomaly(void)
{
	fc_anomaly_config cfg,
				bad;
	fc_anomaly	a,
				b,
				before;
	fc_anomaly_point pa,
				pb;
	int			i,
				k,
				same,
				first,
				alerts;
	double		worst;

	fc_anomaly_config_default(&cfg);
	ok(fc_anomaly_config_check(&cfg) == FC_OK && cfg.threshold == 0.5,
	   "anomaly: the default configuration is valid, threshold 0.5");
	bad = cfg;
	bad.window = 1;
	k = fc_anomaly_config_check(&bad) == FC_ERR_PARAMETER;
	bad = cfg;
	bad.window = FC_ANOMALY_MAX_WINDOW + 1;
	k &= fc_anomaly_config_check(&bad) == FC_ERR_PARAMETER;
	bad = cfg;
	bad.quantile = 1.0;
	k &= fc_anomaly_config_check(&bad) == FC_ERR_PARAMETER;
	bad = cfg;
	bad.threshold = 0.0;
	k &= fc_anomaly_config_check(&bad) == FC_ERR_PARAMETER;
	bad = cfg;
	bad.threshold = NAN;
	k &= fc_anomaly_config_check(&bad) == FC_ERR_PARAMETER;
	bad = cfg;
	bad.memory = NAN;
	k &= fc_anomaly_config_check(&bad) == FC_ERR_PARAMETER;
	ok(k && fc_anomaly_init(&a, &bad) == FC_ERR_PARAMETER,
	   "anomaly: window, quantile, threshold and memory out of range are refused");

	/* bounded, pointer-free state */
	ok(fc_anomaly_state_size() == sizeof(fc_anomaly) && sizeof(fc_anomaly) <= 4096,
	   "anomaly: the state is a fixed %zu bytes (at most 4 KiB), whatever the series length",
	   sizeof(fc_anomaly));

	/* stationary noise: few alerts, none during the warm-up */
	an_noise(an_y, AN_N, 7);
	ok(fc_anomaly_run(&cfg, an_y, AN_N, an_s1, an_a1, NULL, NULL) == FC_OK,
	   "anomaly: runs over %d values", AN_N);
	for (i = 0, k = 1; i < cfg.warmup; i++)
		k &= an_s1[i] == 0.0 && !an_a1[i];
	for (i = 0; i < AN_N; i++)
		k &= an_s1[i] >= 0.0 && an_s1[i] <= 1.0;
	ok(k, "anomaly: scores lie in [0, 1] and are 0 without alerts during the warm-up (%d values)",
	   cfg.warmup);
	alerts = an_count(an_a1, 0, AN_N);
	ok(alerts <= AN_N / 1000, "anomaly: stationary noise raises few alerts (%d in %d values)",
	   alerts, AN_N);

	/* determinism, and update() one value at a time equals run() */
	ok(fc_anomaly_run(&cfg, an_y, AN_N, an_s2, an_a2, NULL, NULL) == FC_OK &&
	   memcmp(an_s1, an_s2, sizeof(an_s1)) == 0 && memcmp(an_a1, an_a2, sizeof(an_a1)) == 0,
	   "anomaly: two runs give bit-identical scores and alerts");
	fc_anomaly_init(&a, &cfg);
	for (i = 0, same = 1; i < AN_N; i++)
	{
		same &= fc_anomaly_update(&a, an_y[i], &pa) == FC_OK;
		same &= pa.score == an_s1[i] && pa.alert == an_a1[i];
	}
	ok(same, "anomaly: fc_anomaly_update() value by value gives what fc_anomaly_run() gives");

	/* a spike: alerted at once */
	an_noise(an_y, AN_N, 11);
	an_y[4000] += 12.0;
	fc_anomaly_run(&cfg, an_y, AN_N, an_s1, an_a1, NULL, NULL);
	first = an_first_alert(an_a1, AN_N, 3990);
	ok(first == 4000, "anomaly: a spike of 12 on noise of +-1 is alerted at once (at %d)", first);

	/* causality: appending values never changes earlier scores */
	memcpy(an_z, an_y, sizeof(an_y));
	for (i = 4500; i < AN_N; i++)
		an_z[i] = 50.0 + 20.0 * noise(&(unsigned) {i});
	fc_anomaly_run(&cfg, an_z, AN_N, an_s2, an_a2, NULL, NULL);
	ok(memcmp(an_s1, an_s2, sizeof(double) * 4500) == 0 &&
	   memcmp(an_a1, an_a2, sizeof(bool) * 4500) == 0,
	   "anomaly: causal: other values after index 4500 leave scores and alerts before it unchanged");
	fc_anomaly_run(&cfg, an_y, 3000, an_s2, an_a2, NULL, NULL);
	ok(memcmp(an_s1, an_s2, sizeof(double) * 3000) == 0 &&
	   memcmp(an_a1, an_a2, sizeof(bool) * 3000) == 0,
	   "anomaly: causal: a prefix of the series gets the same scores and alerts");

	/* a level shift of 2 (the noise's full range): alerted within 24 values */
	an_noise(an_y, AN_N, 13);
	for (i = 3000; i < AN_N; i++)
		an_y[i] += 2.0;
	fc_anomaly_run(&cfg, an_y, AN_N, an_s1, an_a1, NULL, NULL);
	first = an_first_alert(an_a1, AN_N, 2990);
	ok(first >= 3000 && first < 3000 + cfg.window,
	   "anomaly: a step of 2 on noise of +-1 is alerted within %d values (after %d)",
	   cfg.window, first - 3000);

	/* suppression: one alert per event, a later event alerts again */
	an_noise(an_y, AN_N, 17);
	an_y[3000] += 12.0;
	an_y[3000 + cfg.suppress / 2] += 12.0;
	an_y[3000 + 3 * cfg.suppress] += 30.0;
	fc_anomaly_run(&cfg, an_y, AN_N, an_s1, an_a1, NULL, NULL);
	ok(an_a1[3000] && !an_a1[3000 + cfg.suppress / 2] && an_s1[3000 + cfg.suppress / 2] >= 0.5 &&
	   an_a1[3000 + 3 * cfg.suppress],
	   "anomaly: a second spike within %d values scores high but is not alerted; a later one is",
	   cfg.suppress);

	/* scale invariance: times 2^40 and 2^-40, the same scores */
	an_noise(an_y, AN_N, 19);
	an_y[2500] -= 9.0;
	fc_anomaly_run(&cfg, an_y, AN_N, an_s1, NULL, NULL, NULL);
	for (k = -40, same = 1; k <= 40; k += 80)
	{
		for (i = 0; i < AN_N; i++)
			an_z[i] = ldexp(an_y[i], k);
		fc_anomaly_run(&cfg, an_z, AN_N, an_s2, NULL, NULL, NULL);
		same &= memcmp(an_s1, an_s2, sizeof(an_s1)) == 0;
	}
	ok(same, "anomaly: scaling the series by 2^40 or 2^-40 leaves every score bit-identical");
	for (i = 0, worst = 0.0; i < AN_N; i++)
		an_z[i] = an_y[i] + 1000.0;
	fc_anomaly_run(&cfg, an_z, AN_N, an_s2, NULL, NULL, NULL);
	for (i = 0; i < AN_N; i++)
		worst = fmax(worst, fabs(an_s1[i] - an_s2[i]));
	ok(worst < 1e-6, "anomaly: adding 1000 changes scores by rounding only (%.1e)", worst);

	/* a constant series: no alerts; then any change is maximally surprising */
	for (i = 0; i < 1000; i++)
		an_z[i] = 3.0;
	an_z[999] = 3.5;
	fc_anomaly_run(&cfg, an_z, 1000, an_s2, an_a2, NULL, NULL);
	ok(an_count(an_a2, 0, 999) == 0 && an_s2[998] == 0.0 && an_a2[999] && an_s2[999] == 1.0,
	   "anomaly: a constant series raises no alert, a change after it scores 1");

	/* NaN, infinity, out of range: refused, state untouched */
	fc_anomaly_init(&a, &cfg);
	for (i = 0; i < 500; i++)
		fc_anomaly_update(&a, an_y[i], NULL);
	before = a;
	k = fc_anomaly_update(&a, NAN, &pa) == FC_ERR_NONFINITE;
	k &= fc_anomaly_update(&a, INFINITY, &pa) == FC_ERR_NONFINITE;
	k &= fc_anomaly_update(&a, -INFINITY, &pa) == FC_ERR_NONFINITE;
	k &= fc_anomaly_update(&a, 2.0 * FC_MAX_ABS_VALUE, &pa) == FC_ERR_RANGE;
	ok(k && memcmp(&a, &before, sizeof(a)) == 0,
	   "anomaly: NaN, +-Infinity and values beyond the range are refused and leave the state as it was");
	an_z[0] = 1.0;
	an_z[1] = NAN;
	an_s2[0] = -1.0;
	ok(fc_anomaly_run(&cfg, an_z, 2, an_s2, NULL, NULL, NULL) == FC_ERR_NONFINITE && an_s2[0] == -1.0,
	   "anomaly: fc_anomaly_run() refuses a series with NaN before writing anything");
	memset(&b, 0, sizeof(b));
	ok(fc_anomaly_update(&b, 1.0, NULL) == FC_ERR_STATE,
	   "anomaly: an uninitialised state is refused");

	/* the state is plain data: a memcpy'd copy carries on identically */
	memcpy(&b, &a, sizeof(a));
	for (i = 500, same = 1; i < AN_N; i++)
	{
		fc_anomaly_update(&a, an_y[i], &pa);
		fc_anomaly_update(&b, an_y[i], &pb);
		same &= pa.score == pb.score && pa.alert == pb.alert;
	}
	ok(same && memcmp(&a, &b, sizeof(a)) == 0,
	   "anomaly: a byte copy of the state continues exactly as the original");
}

int
main(void)
{
	test_anomaly();
	return tap_done();
}
