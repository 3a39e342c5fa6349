/*-------------------------------------------------------------------------
 *
 * optim.c
 *	  Nelder-Mead simplex minimiser (standard reflection, expansion,
 *	  contraction and shrink coefficients 1, 2, 0.5, 0.5) for the few
 *	  smoothing parameters of the exponential smoothing models.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/optim.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "forecast/optim.h"

double
fc_to_bounded(double u, double lo, double hi)
{
	return lo + (hi - lo) / (1.0 + exp(-u));
}

double
fc_from_bounded(double p, double lo, double hi)
{
	double		q = (p - lo) / (hi - lo);

	if (q < 1e-9)
		q = 1e-9;
	if (q > 1.0 - 1e-9)
		q = 1.0 - 1e-9;
	return log(q / (1.0 - q));
}

/* Evaluate f, mapping NaN to +infinity so that bad points lose. */
static double
eval(fc_objective_fn f, void *arg, const double *x, int *nevals)
{
	double		v = f(x, arg);

	(*nevals)++;
	return isnan(v) ? INFINITY : v;
}

double
fc_nelder_mead(fc_objective_fn f, void *arg, double *x, int dim,
			   double step, int max_evals, double tol)
{
	double		s[FC_OPTIM_MAX_DIM + 1][FC_OPTIM_MAX_DIM];
	double		fs[FC_OPTIM_MAX_DIM + 1];
	double		c[FC_OPTIM_MAX_DIM];
	double		xr[FC_OPTIM_MAX_DIM];
	double		xe[FC_OPTIM_MAX_DIM];
	int			nevals = 0;
	int			i,
				j;

	for (i = 0; i <= dim; i++)
	{
		memcpy(s[i], x, sizeof(double) * dim);
		if (i > 0)
			s[i][i - 1] += step;
		fs[i] = eval(f, arg, s[i], &nevals);
	}

	while (nevals < max_evals)
	{
		int			best = 0,
					worst = 0,
					second = 0;
		double		fr;

		for (i = 1; i <= dim; i++)
		{
			if (fs[i] < fs[best])
				best = i;
			if (fs[i] > fs[worst])
				worst = i;
		}
		second = best;
		for (i = 0; i <= dim; i++)
			if (i != worst && fs[i] > fs[second])
				second = i;

		if (fabs(fs[worst] - fs[best]) <= tol * (fabs(fs[best]) + 1e-300))
			break;

		/* centroid of all but the worst */
		for (j = 0; j < dim; j++)
		{
			c[j] = 0.0;
			for (i = 0; i <= dim; i++)
				if (i != worst)
					c[j] += s[i][j];
			c[j] /= dim;
		}

		for (j = 0; j < dim; j++)
			xr[j] = c[j] + (c[j] - s[worst][j]);
		fr = eval(f, arg, xr, &nevals);

		if (fr < fs[best])
		{
			double		fe;

			for (j = 0; j < dim; j++)
				xe[j] = c[j] + 2.0 * (c[j] - s[worst][j]);
			fe = eval(f, arg, xe, &nevals);
			if (fe < fr)
			{
				memcpy(s[worst], xe, sizeof(double) * dim);
				fs[worst] = fe;
			}
			else
			{
				memcpy(s[worst], xr, sizeof(double) * dim);
				fs[worst] = fr;
			}
		}
		else if (fr < fs[second])
		{
			memcpy(s[worst], xr, sizeof(double) * dim);
			fs[worst] = fr;
		}
		else
		{
			/* contraction towards the better of worst and reflected */
			double		fcn;
			bool		outside = fr < fs[worst];

			for (j = 0; j < dim; j++)
				xe[j] = outside ? c[j] + 0.5 * (xr[j] - c[j])
					: c[j] + 0.5 * (s[worst][j] - c[j]);
			fcn = eval(f, arg, xe, &nevals);
			if (fcn < (outside ? fr : fs[worst]))
			{
				memcpy(s[worst], xe, sizeof(double) * dim);
				fs[worst] = fcn;
			}
			else
			{
				/* shrink towards the best */
				for (i = 0; i <= dim; i++)
				{
					if (i == best)
						continue;
					for (j = 0; j < dim; j++)
						s[i][j] = s[best][j] + 0.5 * (s[i][j] - s[best][j]);
					fs[i] = eval(f, arg, s[i], &nevals);
				}
			}
		}
	}

	{
		int			best = 0;

		for (i = 1; i <= dim; i++)
			if (fs[i] < fs[best])
				best = i;
		memcpy(x, s[best], sizeof(double) * dim);
		return fs[best];
	}
}
