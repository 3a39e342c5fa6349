/*-------------------------------------------------------------------------
 *
 * route_inflight.h
 *	  The in-flight counts a route execution holds on the nodes (and on
 *	  this server) it runs on (see route_inflight.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUTE_INFLIGHT_H
#define FORESIGHT_ROUTE_INFLIGHT_H

#include "postgres.h"

/* Count a query in flight on slot, held in *held. */
extern void route_inflight_hold(int *held, int slot);

/*
 * Give back the count held in *held (-1: none), which is -1 afterwards; a
 * query waiting for capacity may go.
 */
extern void route_inflight_drop(int *held);

/* Transaction abort: give back the in-flight counts of interrupted scans. */
extern void route_inflight_abort_cleanup(void);

#endif							/* FORESIGHT_ROUTE_INFLIGHT_H */
