/*-------------------------------------------------------------------------
 *
 * forecast_sql.h
 *	  What the SQL functions of src/forecast/ share (server side only).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_FORECAST_SQL_H
#define FORESIGHT_FORECAST_SQL_H

#include "postgres.h"

#include "fmgr.h"

/*
 * Argument argno, named "series", as a palloc'd array of doubles: not NULL,
 * one-dimensional, of double precision, no NULL, NaN or infinite elements
 * (each refusal a clear error naming the element).
 */
extern double *forecast_series_arg(FunctionCallInfo fcinfo, int argno, int *n);

#endif							/* FORESIGHT_FORECAST_SQL_H */
