/*-------------------------------------------------------------------------
 *
 * clock_params.h
 *	  The transaction's and the statement's timestamps of a routed query
 *	  (now(), CURRENT_TIMESTAMP, CURRENT_DATE, ...) sent as parameters
 *	  whose values are this server's, taken at execution (see
 *	  clock_params.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CLOCK_PARAMS_H
#define FORESIGHT_CLOCK_PARAMS_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"

/*
 * Replace every reading of the transaction's or the statement's time in
 * query (sub-queries, CTEs and views' bodies included; query is modified)
 * by a parameter numbered from first_paramid, one per kind of reading.
 * *param_types gets their types appended, *kinds what each stands for
 * (Integer nodes, for clock_params_values), in order.
 */
extern void clock_params_replace(Query *query, int first_paramid,
								 List **param_types, List **kinds);

/*
 * The values of parameters of kinds, as text, into values[0..]: the
 * current transaction's and statement's times, as this session sees them
 * now, written so that any DateStyle and TimeZone read them back the same.
 */
extern void clock_params_values(List *kinds, char **values);

/* "$3 = now(), $4 = CURRENT_DATE": for EXPLAIN, parameters from first_paramid */
extern void clock_params_describe(StringInfo buf, List *kinds, int first_paramid);

/* Does node (sub-queries included) read the transaction's or statement's time? */
extern bool clock_params_found(Node *node);

#endif							/* FORESIGHT_CLOCK_PARAMS_H */
