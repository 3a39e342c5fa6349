/*-------------------------------------------------------------------------
 *
 * hedge.c
 *	  The hedging settings and delay (see hedge.h).
 *
 * A node under a CPU-bound neighbour answers most queries at once but
 * some only after tens of milliseconds, when the scheduler gives its
 * backend the CPU; such stalls, a hundred times a point lookup's own time,
 * are the tail of a workload's latency.  Only the classes point and small
 * are hedged: running them twice costs little, and only when they are
 * late.  Larger queries are not: a second execution would cost real work,
 * and their time varies with their parameters more than with the node.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/guc.h"

#include "router/hedge.h"

double		foresight_hedge_factor = 8.0;
int			foresight_hedge_min_delay = 2;

void
hedge_define_gucs(void)
{
	DefineCustomRealVariable("foresight.hedge_factor",
							 "Hedge a short query after this many times the fastest node's recent answer time.",
							 "A query of class point or small routed by the predictive policy that has not started "
							 "to answer by then is sent to the next candidate too; the first answer is used.  "
							 "0 turns hedging off.",
							 &foresight_hedge_factor,
							 8.0, 0.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("foresight.hedge_min_delay",
							"Least time a query waits for its node before it is hedged.",
							NULL,
							&foresight_hedge_min_delay,
							2, 1, 60000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
}

int
hedge_delay_ms(RequestClass cls, double fastest_us)
{
	double		ms;

	if ((cls != REQUEST_CLASS_POINT && cls != REQUEST_CLASS_SMALL) ||
		foresight_hedge_factor <= 0.0 || fastest_us <= 0.0)
		return 0;
	ms = ceil(foresight_hedge_factor * fastest_us / 1000.0);
	return (int) Max((double) foresight_hedge_min_delay, Min(ms, 60000.0));
}
