/*-------------------------------------------------------------------------
 *
 * optim.h
 *	  Small bounded-free Nelder-Mead minimiser used to fit smoothing
 *	  parameters (callers map bounded parameters through a logistic).
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/optim.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORECAST_OPTIM_H
#define FORECAST_OPTIM_H

#define FC_OPTIM_MAX_DIM 4

typedef double (*fc_objective_fn) (const double *x, void *arg);

/*
 * Minimise f over R^dim starting at x (updated in place with the best point
 * found), with initial simplex steps of size step, stopping after max_evals
 * evaluations or when the simplex's values agree to a relative tolerance.
 * Returns the best value.
 */
extern double fc_nelder_mead(fc_objective_fn f, void *arg, double *x, int dim,
							 double step, int max_evals, double tol);

/* Logistic map of an unconstrained u onto (lo, hi), and its inverse. */
extern double fc_to_bounded(double u, double lo, double hi);
extern double fc_from_bounded(double p, double lo, double hi);

#endif							/* FORECAST_OPTIM_H */
