/*-------------------------------------------------------------------------
 *
 * single_row.h
 *	  Whether a plan returns at most one row whatever its parameters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SINGLE_ROW_H
#define FORESIGHT_SINGLE_ROW_H

#include "postgres.h"

#include "nodes/plannodes.h"

/*
 * True when plan is a scan of a unique index with every key column
 * compared for equality (a point lookup), under nothing but Limit and
 * Result nodes: then every plan of the same query, generic or custom,
 * returns the same row or none.
 */
extern bool plan_returns_single_row(Plan *plan);

#endif							/* FORESIGHT_SINGLE_ROW_H */
