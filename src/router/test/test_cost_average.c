/*-------------------------------------------------------------------------
 *
 * test_cost_average.c
 *	  Unit tests (TAP output) of the coordinator cost's moving average
 *	  (cost_average.c): it starts from the warm-up's median, one-off
 *	  samples move it by a few percent, lasting changes move it all the way.
 *
 *	  make src/router/test/test_cost_average && src/router/test/test_cost_average
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "router/cost_average.h"
#include "core/test/tap.h"

static void
add_n(CostAverage *avg, int n, double us)
{
	for (int i = 0; i < n; i++)
		cost_average_add(avg, us);
}

/* an average settled at 20 us */
static void
settled(CostAverage *avg)
{
	memset(avg, 0, sizeof(*avg));
	add_n(avg, 200, 20.0);
}

/* samples until the average is within 10% of target, at most limit */
static int
samples_to_reach(CostAverage *avg, double target, int limit)
{
	for (int i = 1; i <= limit; i++)
	{
		cost_average_add(avg, target);
		if (fabs(avg->us - target) <= 0.1 * target)
			return i;
	}
	return -1;
}

static void
test_warm_up(void)
{
	CostAverage avg;
	const double first[] = {2500.0, 21.0, 19.0, 20.0, 22.0, 18.0, 20.0, 21.0};

	memset(&avg, 0, sizeof(avg));
	for (int i = 0; i < 7; i++)
		cost_average_add(&avg, first[i]);
	ok(!cost_average_warm(&avg), "not warm after 7 samples");
	ok(fabs(avg.us - (2500.0 + 21 + 19 + 20 + 22 + 18 + 20) / 7.0) < 1e-9,
	   "warming up, the plain mean (%.1f)", avg.us);
	cost_average_add(&avg, first[7]);
	ok(cost_average_warm(&avg), "warm after 8 samples");
	ok(fabs(avg.us - 20.5) < 1e-9,
	   "a cold first sample of 2500 us among seven of about 20: the median, 20.5 (%.2f)", avg.us);
}

static void
test_one_off(void)
{
	CostAverage avg;
	double		before;

	settled(&avg);
	before = avg.us;
	cost_average_add(&avg, 2000.0);
	ok(avg.us <= before * 1.05 + 1e-9,
	   "one sample a hundred times the average moves it by at most 5%% (%.2f -> %.2f)",
	   before, avg.us);
	add_n(&avg, 9, 2000.0);
	ok(avg.us <= before * pow(1.05, 10) + 1e-9,
	   "ten such in a row: at most 1.05^10 (%.2f -> %.2f)", before, avg.us);
	ok(samples_to_reach(&avg, 20.0, 60) > 0, "and back to 20 within 60 samples (%.2f)", avg.us);
}

static void
test_lasting_change(void)
{
	CostAverage avg;
	int			n;

	settled(&avg);
	n = samples_to_reach(&avg, 80.0, 100);
	ok(n > 0 && n <= 50, "a lasting change to four times the cost is reached in %d samples (<= 50)", n);
	n = samples_to_reach(&avg, 15.0, 100);
	ok(n > 0 && n <= 80, "and a lasting fall to 15 us in %d samples (<= 80, as plain smoothing)", n);
	memset(&avg, 0, sizeof(avg));
	add_n(&avg, 8, 20.0);
	add_n(&avg, 12, 40.0);
	ok(avg.us > 20.0 && avg.us < 40.0, "between warm-up and smoothing, a mean of the two (%.2f)",
	   avg.us);
}

static void
test_pattern(void)
{
	CostAverage avg;

	/* sessions of four reads, the first of each cold and always timed */
	memset(&avg, 0, sizeof(avg));
	for (int i = 0; i < 500; i++)
	{
		cost_average_add(&avg, 1500.0);
		add_n(&avg, 3, 20.0);
	}
	ok(avg.us < 80.0,
	   "one cold read in four: the average stays within four times a warm read's (%.2f)", avg.us);
	ok(avg.us > 20.0, "but above a warm read's: the cold reads count (%.2f)", avg.us);
}

int
main(void)
{
	test_warm_up();
	test_one_off();
	test_lasting_change();
	test_pattern();
	return tap_done();
}
