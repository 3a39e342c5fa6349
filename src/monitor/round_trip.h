/*-------------------------------------------------------------------------
 *
 * round_trip.h
 *	  Each node's network round trip as the monitor measures it: before
 *	  every sample it sends the node an empty query, whose answer takes one
 *	  round trip and no work, and times it (poller.c).  Kept apart from the
 *	  node's service time, which the latency histograms hold: a query to a
 *	  far node costs its round trips plus its service time.
 *
 * Per registry slot: a smoothed value and the last RT_WINDOW measurements
 * for their median and 95th percentile.  Written by the monitor, read by
 * the views and the router; a spinlock per slot.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUND_TRIP_H
#define FORESIGHT_ROUND_TRIP_H

#include "postgres.h"

#define RT_WINDOW 32

typedef struct RoundTrip
{
	double		smoothed_ms;	/* exponentially smoothed */
	double		p50_ms;			/* over the last RT_WINDOW measurements */
	double		p95_ms;
	int64		samples;		/* measured since the node took the slot */
} RoundTrip;

extern void round_trip_shmem_request(void);
extern void round_trip_shmem_init(void);

/* the monitor: one round trip of a node, in milliseconds */
extern void round_trip_record(int slot, int32 node_id, double ms);

/* false while the node has no measurement */
extern bool round_trip_get(int slot, int32 node_id, RoundTrip *out);

#endif							/* FORESIGHT_ROUND_TRIP_H */
