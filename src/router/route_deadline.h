/*-------------------------------------------------------------------------
 *
 * route_deadline.h
 *	  The response deadline of a routed query, and the monitor's verdict
 *	  that a node is down, given to the remote layer's watch (watch.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUTE_DEADLINE_H
#define FORESIGHT_ROUTE_DEADLINE_H

#include "postgres.h"

#include "stats/request_class.h"

extern int	foresight_response_deadline;	/* ms; 0: derived; -1: none */
extern double foresight_response_deadline_factor;
extern int	foresight_response_deadline_min;	/* ms */

/* GUCs, and the node-down check handed to the remote layer */
extern void route_deadline_define_gucs(void);

/*
 * The time a query of class cls sent to the node in slot may wait for its
 * first answer, in milliseconds; 0 for no deadline.
 */
extern int	route_deadline_ms(int slot, int32 node_id, RequestClass cls);

#endif							/* FORESIGHT_ROUTE_DEADLINE_H */
