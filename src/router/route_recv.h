/*-------------------------------------------------------------------------
 *
 * route_recv.h
 *	  Reading values a node sent in binary (see route_recv.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_ROUTE_RECV_H
#define FORESIGHT_ROUTE_RECV_H

#include "postgres.h"

#include "lib/stringinfo.h"

struct RouteScanState;
typedef struct RecvNode RecvNode;

/* How a value of type typid is read (cached for the scan). */
extern RecvNode *route_recv_node(struct RouteScanState *st, Oid typid);

/* Read one value of buf as rn says, with the column's type modifier. */
extern Datum route_recv_value(struct RouteScanState *st, RecvNode *rn, StringInfo buf,
							  int32 typmod);

#endif							/* FORESIGHT_ROUTE_RECV_H */
