/*-------------------------------------------------------------------------
 *
 * smoothing.c
 *	  The exponential smoothing family in error-correction form.
 *
 * With one-step forecast f = l + phi b + s[t-m] and error e = y - f:
 *
 *		l_t = l + phi b + alpha e
 *		b_t = phi b + alpha beta* e				(beta = alpha beta*)
 *		s_t = s[t-m] + gamma e					(gamma = (1 - alpha) gamma*)
 *		y[t+h] = l_t + (phi + ... + phi^h) b_t + s[t+h-m(k+1)]
 *
 * naive is l_t = y (alpha 1, no trend, no season), snaive keeps the last m
 * values, SES has no trend and no season, holt_damped no season.  The
 * parameters (alpha, beta*, gamma* in (0,1), phi in [0.8, 0.995]) are
 * fitted by Nelder-Mead on their logits, started from the best point of a
 * coarse grid over alpha.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/smoothing.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "forecast/optim.h"
#include "forecast/smoothing.h"

#define P_LO		1e-4
#define P_HI		(1.0 - 1e-4)
#define PHI_LO		0.8
#define PHI_HI		0.995
#define FIT_EVALS	250
#define FIT_TOL		1e-9

static bool
has_trend(const fc_ets *e)
{
	return e->kind == FC_HOLT_DAMPED || e->kind == FC_HW_ADD;
}

static int
nfree(const fc_ets *e)
{
	switch (e->kind)
	{
		case FC_SES:
			return 1;
		case FC_HOLT_DAMPED:
			return 3;
		case FC_HW_ADD:
			return 4;
		default:
			return 0;
	}
}

void
fc_ets_init(fc_ets *e, fc_kind kind, int season)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->season = (kind == FC_SNAIVE || kind == FC_HW_ADD) ? season : 0;
	e->alpha = kind == FC_NAIVE ? 1.0 : 0.5;
	e->beta = 0.0;
	e->gamma = 0.0;
	e->phi = has_trend(e) ? 0.98 : 0.0;
}

int
fc_ets_min_length(fc_kind kind, int season)
{
	switch (kind)
	{
		case FC_NAIVE:
			return 1;
		case FC_SNAIVE:
			return season;
		case FC_SES:
			return 3;
		case FC_HOLT_DAMPED:
			return 4;
		case FC_HW_ADD:
			return 2 * season + 2;
		default:
			return 1;
	}
}

/*
 * Initial state of Holt-Winters, like statsmodels' "heuristic": on the
 * first K = min(5, n / m) cycles take the centred moving average (2 x m MA
 * for even m) as trend-cycle; the seasonal states are the mean detrended
 * value of each phase, centred to sum zero; level and trend are intercept
 * and slope of the least-squares line through the first 10 trend-cycle
 * values at x = 1..10.  Nothing is consumed: the filter starts at y[0].
 */
static int
hw_initial_state(fc_ets *e, const double *y, int n)
{
	int			m = e->season;
	int			k = n / m < 5 ? n / m : 5;
	int			len = k * m;
	int			half = m / 2;
	double		sum_s[FC_MAX_SEASON];
	int			cnt_s[FC_MAX_SEASON];
	double		win = 0.0;
	double		tc[10];
	double		mean_s = 0.0;
	int			npts = 0;
	int			t,
				i;

	memset(sum_s, 0, sizeof(double) * m);
	memset(cnt_s, 0, sizeof(int) * m);
	/* window sum of y[t - half .. t - half + m - 1], slid along t */
	for (i = 0; i < m; i++)
		win += y[i];
	for (t = half; t + (m - half) <= len - (m % 2 == 0 ? 1 : 0); t++)
	{
		double		trend_cycle;

		if (t > half)
			win += y[t - half + m - 1] - y[t - half - 1];
		if (m % 2 == 0)
			trend_cycle = (win - 0.5 * y[t - half] + 0.5 * y[t + half]) / m;
		else
			trend_cycle = win / m;
		sum_s[t % m] += y[t] - trend_cycle;
		cnt_s[t % m]++;
		if (npts < 10)
			tc[npts++] = trend_cycle;
	}
	for (i = 0; i < m; i++)
	{
		e->seas[i] = cnt_s[i] ? sum_s[i] / cnt_s[i] : 0.0;
		mean_s += e->seas[i];
	}
	mean_s /= m;
	for (i = 0; i < m; i++)
		e->seas[i] -= mean_s;
	if (npts >= 2)
	{
		/* least squares through (k, tc[k - 1]), k = 1..npts */
		double		sx = 0.0,
					sxx = 0.0,
					sv = 0.0,
					sxv = 0.0;
		double		b;

		for (i = 0; i < npts; i++)
		{
			sx += i + 1;
			sxx += (double) (i + 1) * (i + 1);
			sv += tc[i];
			sxv += (i + 1) * tc[i];
		}
		b = (npts * sxv - sx * sv) / (npts * sxx - sx * sx);
		e->trend = b;
		e->level = (sv - b * sx) / npts;
	}
	else
	{
		e->trend = 0.0;
		e->level = y[0] - e->seas[0];
	}
	e->pos = 0;
	e->nobs = 0;
	return 0;
}

int
fc_ets_reset(fc_ets *e, const double *y, int n)
{
	int			m = e->season;

	e->level = y[0];
	e->trend = 0.0;
	e->pos = 0;
	e->nobs = 0;
	memset(e->seas, 0, sizeof(e->seas));

	if (e->kind == FC_SNAIVE)
	{
		memcpy(e->seas, y, sizeof(double) * m);
		e->level = y[m - 1];
		e->nobs = m;
		return m;
	}
	if (e->kind == FC_HW_ADD)
		return hw_initial_state(e, y, n);
	if (e->kind == FC_HOLT_DAMPED && n >= 2)
		e->trend = y[1] - y[0];
	e->nobs = 1;
	return 1;
}

double
fc_ets_step(fc_ets *e, double y)
{
	double		s = e->season > 0 ? e->seas[e->pos] : 0.0;
	double		f,
				err;

	e->nobs++;
	if (e->kind == FC_SNAIVE)
	{
		err = y - s;
		e->seas[e->pos] = y;
		e->pos = (e->pos + 1) % e->season;
		e->level = y;
		return err;
	}
	if (e->kind == FC_NAIVE)
	{
		err = y - e->level;
		e->level = y;
		return err;
	}

	f = e->level + e->phi * e->trend + s;
	err = y - f;
	e->level = e->level + e->phi * e->trend + e->alpha * err;
	if (has_trend(e))
		e->trend = e->phi * e->trend + e->alpha * e->beta * err;
	if (e->kind == FC_HW_ADD)
	{
		e->seas[e->pos] = s + e->gamma * err;
		e->pos = (e->pos + 1) % e->season;
	}
	return err;
}

double
fc_ets_forecast_at(const fc_ets *e, int h)
{
	double		v = e->level;

	if (e->kind == FC_SNAIVE)
		return e->seas[(e->pos + h - 1) % e->season];
	if (has_trend(e))
	{
		double		d = 0.0,
					p = 1.0;
		int			k;

		for (k = 0; k < h; k++)
		{
			p *= e->phi;
			d += p;
		}
		v += d * e->trend;
	}
	if (e->kind == FC_HW_ADD)
		v += e->seas[(e->pos + h - 1) % e->season];
	return v;
}

void
fc_ets_forecast(const fc_ets *e, int h, double *out)
{
	double		d = 0.0,
				p = 1.0;
	int			k;

	for (k = 0; k < h; k++)
	{
		double		v = e->level;

		if (e->kind == FC_SNAIVE)
		{
			out[k] = e->seas[(e->pos + k) % e->season];
			continue;
		}
		if (has_trend(e))
		{
			p *= e->phi;
			d += p;
			v += d * e->trend;
		}
		if (e->kind == FC_HW_ADD)
			v += e->seas[(e->pos + k) % e->season];
		out[k] = v;
	}
}

/* Fitting: parameters <-> unconstrained vector, and the SSE objective. */

typedef struct sse_arg
{
	fc_ets	   *work;			/* scratch model, parameters overwritten */
	const double *y;
	int			n;
	fc_interrupt_fn cb;
	void	   *cb_arg;
	int			calls;
	bool		interrupted;
} sse_arg;

static void
set_params(fc_ets *e, const double *u)
{
	e->alpha = fc_to_bounded(u[0], P_LO, P_HI);
	if (e->kind == FC_HOLT_DAMPED || e->kind == FC_HW_ADD)
	{
		e->beta = fc_to_bounded(u[1], P_LO, P_HI);
		e->phi = fc_to_bounded(u[2], PHI_LO, PHI_HI);
	}
	if (e->kind == FC_HW_ADD)
		e->gamma = (1.0 - e->alpha) * fc_to_bounded(u[3], P_LO, P_HI);
}

static void
get_params(const fc_ets *e, double *u)
{
	u[0] = fc_from_bounded(e->alpha, P_LO, P_HI);
	if (e->kind == FC_HOLT_DAMPED || e->kind == FC_HW_ADD)
	{
		u[1] = fc_from_bounded(e->beta, P_LO, P_HI);
		u[2] = fc_from_bounded(e->phi, PHI_LO, PHI_HI);
	}
	if (e->kind == FC_HW_ADD)
		u[3] = fc_from_bounded(e->gamma / (1.0 - e->alpha), P_LO, P_HI);
}

/* Reset, then filter y[t0..n-1]; returns the sum of squared errors. */
static double
filter(fc_ets *e, const double *y, int n)
{
	int			t = fc_ets_reset(e, y, n);
	double		sse = 0.0;

	for (; t < n; t++)
	{
		double		err = fc_ets_step(e, y[t]);

		sse += err * err;
	}
	return sse;
}

static double
sse_objective(const double *u, void *argp)
{
	sse_arg    *arg = (sse_arg *) argp;

	if (arg->interrupted)
		return INFINITY;
	if (arg->cb && (++arg->calls % 16) == 0 && arg->cb(arg->cb_arg))
	{
		arg->interrupted = true;
		return INFINITY;
	}
	set_params(arg->work, u);
	return filter(arg->work, arg->y, arg->n);
}

fc_status
fc_ets_fit(fc_ets *e, const double *y, int n, fc_interrupt_fn cb, void *cb_arg)
{
	static const double grid[] = {0.05, 0.2, 0.5, 0.8, 0.99};
	int			dim = nfree(e);
	fc_ets		work;
	sse_arg		arg;
	double		u[FC_OPTIM_MAX_DIM];
	double		best_u[FC_OPTIM_MAX_DIM];
	double		best = INFINITY;
	int			g;

	if (n < fc_ets_min_length(e->kind, e->season))
		return FC_ERR_TOO_SHORT;

	if (dim > 0)
	{
		work = *e;
		arg.work = &work;
		arg.y = y;
		arg.n = n;
		arg.cb = cb;
		arg.cb_arg = cb_arg;
		arg.calls = 0;
		arg.interrupted = false;

		/*
		 * Coarse grid over alpha (and, where present, the trend and season
		 * gains and the damping), then Nelder-Mead from the best point and
		 * once more from where it stopped.
		 */
		for (g = 0; g < (int) (sizeof(grid) / sizeof(grid[0])); g++)
		{
			int			gb,
						gg,
						gp;

			for (gb = 0; gb < (dim >= 3 ? 2 : 1); gb++)
				for (gg = 0; gg < (dim >= 4 ? 3 : 1); gg++)
					for (gp = 0; gp < (dim >= 3 ? 2 : 1); gp++)
					{
						double		v;

						work.alpha = grid[g];
						work.beta = gb == 0 ? 0.01 : 0.1;
						work.gamma = (gg == 0 ? 0.01 : gg == 1 ? 0.1 : 0.5) * (1.0 - grid[g]);
						work.phi = gp == 0 ? 0.98 : 0.85;
						get_params(&work, u);
						v = sse_objective(u, &arg);
						if (v < best)
						{
							best = v;
							memcpy(best_u, u, sizeof(u));
						}
					}
		}
		fc_nelder_mead(sse_objective, &arg, best_u, dim, 1.0, FIT_EVALS, FIT_TOL);
		fc_nelder_mead(sse_objective, &arg, best_u, dim, 0.5, FIT_EVALS, FIT_TOL);
		if (arg.interrupted)
			return FC_ERR_INTERRUPTED;
		set_params(e, best_u);
	}
	filter(e, y, n);
	return FC_OK;
}
