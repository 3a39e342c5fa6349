/*-------------------------------------------------------------------------
 *
 * request_class.c
 *	  Request classes: buckets of a plan's total cost (see request_class.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "stats/request_class.h"

RequestClass
request_class_from_cost(double total_cost)
{
	if (total_cost < 100.0)
		return REQUEST_CLASS_POINT;
	if (total_cost < 10000.0)
		return REQUEST_CLASS_SMALL;
	if (total_cost < 1000000.0)
		return REQUEST_CLASS_MEDIUM;
	return REQUEST_CLASS_LARGE;
}

const char *
request_class_name(RequestClass cls)
{
	switch (cls)
	{
		case REQUEST_CLASS_POINT:
			return "point";
		case REQUEST_CLASS_SMALL:
			return "small";
		case REQUEST_CLASS_MEDIUM:
			return "medium";
		case REQUEST_CLASS_LARGE:
			return "large";
	}
	return "?";
}
