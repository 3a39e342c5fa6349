/*-------------------------------------------------------------------------
 *
 * route_scan.h
 *	  The "Foresight Route" custom scan's execution (see route_scan.c).
 *	  The plan node is in route_plan.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUTE_SCAN_H
#define FORESIGHT_ROUTE_SCAN_H

#include "postgres.h"

/* Register the custom scan's methods; once, at load. */
extern void route_scan_register(void);

#endif							/* FORESIGHT_ROUTE_SCAN_H */
