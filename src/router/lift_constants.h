/*-------------------------------------------------------------------------
 *
 * lift_constants.h
 *	  Constants of a parameterless query's conditions sent as parameters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_LIFT_CONSTANTS_H
#define FORESIGHT_LIFT_CONSTANTS_H

#include "postgres.h"

#include "nodes/parsenodes.h"

/*
 * Replace the liftable constants of query's WHERE and JOIN conditions by
 * parameters $1..$n (query is modified); *param_types gets their types
 * (OIDs) and *param_values their values as text (String nodes), in order.
 * The caller deparses query afterwards, with the same settings it used
 * here (output functions depend on extra_float_digits and DateStyle).
 */
extern void lift_constants(Query *query, List **param_types, List **param_values);

/* Does query (sub-queries included) use parameters ($n) of its own? */
extern bool query_has_external_params(Query *query);

#endif							/* FORESIGHT_LIFT_CONSTANTS_H */
