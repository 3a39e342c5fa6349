/*-------------------------------------------------------------------------
 *
 * request_class.h
 *	  Request classes: buckets of a plan's total cost, the planner's own
 *	  estimate of a query's work.  Latencies, predictions and the policies
 *	  are kept per class.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_REQUEST_CLASS_H
#define FORESIGHT_REQUEST_CLASS_H

#include "postgres.h"

typedef enum RequestClass
{
	REQUEST_CLASS_POINT,		/* total cost < 100 */
	REQUEST_CLASS_SMALL,		/* < 10 000 */
	REQUEST_CLASS_MEDIUM,		/* < 1 000 000 */
	REQUEST_CLASS_LARGE			/* everything else */
} RequestClass;

#define REQUEST_CLASS_COUNT 4

extern RequestClass request_class_from_cost(double total_cost);
extern const char *request_class_name(RequestClass cls);

#endif							/* FORESIGHT_REQUEST_CLASS_H */
