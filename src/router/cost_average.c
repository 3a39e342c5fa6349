/*-------------------------------------------------------------------------
 *
 * cost_average.c
 *	  A moving average of a cost that one-off samples cannot carry away
 *	  (see cost_average.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>

#include "router/cost_average.h"

/* the median of the warm-up's samples (the mean of the middle two) */
static double
median_of_first(const CostAverage *avg)
{
	double		v[COST_AVERAGE_WARM];

	/* insertion sort: eight numbers, under the caller's spinlock */
	for (int i = 0; i < COST_AVERAGE_WARM; i++)
	{
		int			j = i;

		while (j > 0 && v[j - 1] > avg->first[i])
		{
			v[j] = v[j - 1];
			j--;
		}
		v[j] = avg->first[i];
	}
	return (v[(COST_AVERAGE_WARM - 1) / 2] + v[COST_AVERAGE_WARM / 2]) / 2.0;
}

void
cost_average_add(CostAverage *avg, double us)
{
	double		weight;

	if (avg->samples < COST_AVERAGE_WARM)
	{
		avg->first[avg->samples++] = us;
		avg->us += (us - avg->us) / (double) avg->samples;
		if (avg->samples == COST_AVERAGE_WARM)
			avg->us = median_of_first(avg);
		return;
	}
	if (us > COST_AVERAGE_OUTLIER * avg->us)
		us = COST_AVERAGE_OUTLIER * avg->us;
	avg->samples++;
	weight = 1.0 / (double) avg->samples;
	if (weight < COST_AVERAGE_SMOOTHING)
		weight = COST_AVERAGE_SMOOTHING;
	avg->us += weight * (us - avg->us);
}
