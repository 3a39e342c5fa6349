/*-------------------------------------------------------------------------
 *
 * request_shape.h
 *	  What a query is, from its plan: total cost, request class (a cost
 *	  bucket, see stats/latency.h) and shape.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_REQUEST_SHAPE_H
#define FORESIGHT_REQUEST_SHAPE_H

#include "postgres.h"

#include "nodes/plannodes.h"
#include "stats/latency.h"

/* shape flags; a plan may have several */
#define SHAPE_POINT_LOOKUP	0x01	/* index scan expected to return <= 1 row */
#define SHAPE_RANGE_SCAN	0x02	/* index or bitmap scan of more rows */
#define SHAPE_SEQ_SCAN		0x04
#define SHAPE_AGGREGATE		0x08	/* Agg or WindowAgg */
#define SHAPE_JOIN			0x10
#define SHAPE_SORT			0x20

typedef struct RequestShape
{
	double		total_cost;
	RequestClass request_class;
	int			flags;
} RequestShape;

extern void request_shape_of_plan(const PlannedStmt *stmt, RequestShape *shape);

/* "point lookup", "join, aggregate, sort", ... (palloc'd) */
extern char *request_shape_describe(int flags);

#endif							/* FORESIGHT_REQUEST_SHAPE_H */
