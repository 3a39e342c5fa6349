/*-------------------------------------------------------------------------
 *
 * route_inflight.c
 *	  The in-flight counts of route executions: a query counts on the
 *	  node it runs on (latency.c's in-flight counters, which the policies
 *	  read) from when it is sent until it ends there.
 *
 * A scan gives its counts back when it ends, or when it moves on to
 * another node; one that an error interrupted cannot, so this backend
 * keeps a list of the counts it holds, which the transaction's end
 * empties (router.c).  Past MAX_HELD counts held at once (that many
 * route scans open in one backend), a count is not listed: its scan still
 * gives it back, only an error before then would leave it counted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "router/admission.h"
#include "router/route_inflight.h"
#include "stats/latency.h"

/* in-flight counts this backend holds, released at abort if the scan could not */
#define MAX_HELD 64
static int	held_slots[MAX_HELD];
static int	held_count = 0;

void
route_inflight_hold(int *held, int slot)
{
	latency_inflight_begin(slot);
	*held = slot;
	if (held_count < MAX_HELD)
		held_slots[held_count++] = slot;
}

void
route_inflight_drop(int *held)
{
	int			slot = *held;

	if (slot < 0)
		return;
	*held = -1;
	for (int i = held_count - 1; i >= 0; i--)
	{
		if (held_slots[i] == slot)
		{
			held_slots[i] = held_slots[--held_count];
			break;
		}
	}
	/* not listed: held while MAX_HELD others were; given back all the same */
	latency_inflight_end(slot);
	/* a query waiting for capacity may go now */
	admission_wakeup();
}

void
route_inflight_abort_cleanup(void)
{
	while (held_count > 0)
		latency_inflight_end(held_slots[--held_count]);
}
