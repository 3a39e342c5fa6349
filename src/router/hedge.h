/*-------------------------------------------------------------------------
 *
 * hedge.h
 *	  Hedged queries: a short query (class point or small) that the
 *	  predictive policy sent to a node, and that has not started to answer
 *	  well after the fastest node would have, is sent to the next candidate
 *	  as well; the first node to answer is used and the other's query is
 *	  left to finish.
 *
 *	  foresight.hedge_factor     how many times the class's recent answer
 *								 time on the fastest candidate to wait
 *								 (0: never hedge)
 *	  foresight.hedge_min_delay  never less than this (ms)
 *
 * The policy computes the delay (hedge_delay_ms); the custom scan has the
 * hedge sent and takes the first answer (hedge_if_late, hedge.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_HEDGE_H
#define FORESIGHT_HEDGE_H

#include "postgres.h"

#include "stats/latency.h"

/*
 * A hedge goes to a node predicted at most this much busier than the one
 * it replaces: noise between equal nodes, not a busier node.
 */
#define HEDGE_LOAD_MARGIN 0.1

extern double foresight_hedge_factor;
extern int	foresight_hedge_min_delay;

extern void hedge_define_gucs(void);

/*
 * Milliseconds after which a query of class cls is hedged, given the
 * class's recent answer time on the fastest candidate (fastest_us, 0 when
 * no candidate answered lately); 0 when it is not hedged.
 */
extern int	hedge_delay_ms(RequestClass cls, double fastest_us);

/* The same with a given factor and least delay (an experiment arm's). */
extern int	hedge_delay_ms_with(RequestClass cls, double fastest_us, double factor,
								int min_delay_ms);

#endif							/* FORESIGHT_HEDGE_H */
