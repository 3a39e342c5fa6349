/*-------------------------------------------------------------------------
 *
 * lstm.c
 *	  LSTM-lite forecaster.
 *
 * Inputs at each of the W steps of a window ending at time t are the
 * normalised value (y - mu) / sigma and the normalised first difference
 * (y[j] - y[j-1]) / sigma, mu and sigma being the mean and standard
 * deviation of the training window (both inputs clipped to +-8).  One LSTM
 * layer of H units (gates i, f, g, o) runs from a zero state over the window
 *
 *		z = Wx x_j + Wh h_{j-1} + b
 *		i = sigm(z_i)  f = sigm(z_f)  g = tanh(z_g)  o = sigm(z_o)
 *		c_j = f c_{j-1} + i g		h_j = o tanh(c_j)
 *
 * and a linear head out = Wy h_W + by predicts the normalised changes
 * (y[t+k] - y[t]) / sigma, k = 1..K: the network learns the residual over
 * the naive forecast, and with its head initialised to zero it starts out
 * as the naive forecast.  Both the point value at t+h and the mean over
 * t+1..t+h come from the same K outputs.
 *
 * Training minimises 0.5/K sum_k (out_k - target_k)^2 with Adam; gradients
 * are exact backpropagation through the W steps of the window (truncated
 * BPTT: the state before the window is zero).  Random numbers come from
 * splitmix64 seeded by the configuration, so training is reproducible.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/lstm.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "forecast/lstm.h"
#include "forecast/series.h"

#define D			FC_LSTM_INPUTS
#define MAXH		FC_LSTM_MAX_HIDDEN
#define MAXW		FC_LSTM_MAX_WINDOW
#define CLIP_IN		8.0
#define CLIP_GRAD	5.0
#define ADAM_B1		0.9
#define ADAM_B2		0.999
#define ADAM_EPS	1e-8

/* Offsets of the parameter blocks in p[]. */
#define OFF_WX(l)	0
#define OFF_WH(l)	(4 * (l)->hidden * D)
#define OFF_B(l)	(4 * (l)->hidden * (D + (l)->hidden))
#define OFF_WY(l)	(4 * (l)->hidden * (D + (l)->hidden + 1))
#define OFF_BY(l)	(OFF_WY(l) + (l)->nout * (l)->hidden)

static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t	z = (*state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static double
uniform(uint64_t *state)
{
	return (splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

static double
sigm(double z)
{
	return 1.0 / (1.0 + exp(-z));
}

static double
clip(double v, double lim)
{
	return v > lim ? lim : (v < -lim ? -lim : v);
}

void
fc_lstm_init(fc_lstm *l, const fc_config *cfg)
{
	memset(l, 0, sizeof(*l));
	l->hidden = cfg->lstm_hidden;
	l->window = cfg->lstm_window;
	l->nout = cfg->horizon < FC_LSTM_MAX_OUT ? cfg->horizon : FC_LSTM_MAX_OUT;
	l->nparams = 4 * l->hidden * (D + l->hidden + 1) + l->nout * (l->hidden + 1);
	l->steps = cfg->lstm_steps;
	l->batch = cfg->lstm_batch;
	l->lr = cfg->lstm_lr;
	l->online_lr = cfg->lstm_online_lr;
	l->seed = cfg->seed;
	l->mu = 0.0;
	l->sigma = 1.0;
}

int
fc_lstm_min_length(const fc_config *cfg)
{
	int			nout = cfg->horizon < FC_LSTM_MAX_OUT ? cfg->horizon : FC_LSTM_MAX_OUT;

	return cfg->lstm_window + nout + 16;
}

/*
 * Forward pass over one window and, if grad is not NULL, backward pass.
 * out (may be NULL) receives the nout outputs.
 */
static double
run(const fc_lstm *l, const double *p, const double *x, const double *target,
	double *out, double *grad)
{
	int			H = l->hidden;
	int			W = l->window;
	int			K = l->nout;
	const double *wx = p + OFF_WX(l);
	const double *wh = p + OFF_WH(l);
	const double *b = p + OFF_B(l);
	const double *wy = p + OFF_WY(l);
	const double *by = p + OFF_BY(l);
	double		gi[MAXW][MAXH],
				gf[MAXW][MAXH],
				gg[MAXW][MAXH],
				go[MAXW][MAXH],
				cc[MAXW + 1][MAXH],
				hh[MAXW + 1][MAXH];
	double		y[FC_LSTM_MAX_OUT];
	double		dy[FC_LSTM_MAX_OUT];
	double		dh[MAXH],
				dc[MAXH],
				dz[4 * MAXH];
	double		loss = 0.0;
	int			t,
				j,
				k,
				r;

	memset(cc[0], 0, sizeof(cc[0]));
	memset(hh[0], 0, sizeof(hh[0]));
	for (t = 0; t < W; t++)
	{
		const double *xt = x + t * D;

		for (j = 0; j < H; j++)
		{
			double		z[4];
			int			q;

			for (q = 0; q < 4; q++)
			{
				int			row = q * H + j;
				const double *whr = wh + row * H;
				double		s = b[row];

				for (k = 0; k < D; k++)
					s += wx[row * D + k] * xt[k];
				for (k = 0; k < H; k++)
					s += whr[k] * hh[t][k];
				z[q] = s;
			}
			gi[t][j] = sigm(z[0]);
			gf[t][j] = sigm(z[1]);
			gg[t][j] = tanh(z[2]);
			go[t][j] = sigm(z[3]);
			cc[t + 1][j] = gf[t][j] * cc[t][j] + gi[t][j] * gg[t][j];
			hh[t + 1][j] = go[t][j] * tanh(cc[t + 1][j]);
		}
	}

	for (r = 0; r < K; r++)
	{
		double		s = by[r];

		for (j = 0; j < H; j++)
			s += wy[r * H + j] * hh[W][j];
		y[r] = s;
		if (out)
			out[r] = s;
		if (target)
		{
			dy[r] = (s - target[r]) / K;
			loss += 0.5 * (s - target[r]) * (s - target[r]) / K;
		}
	}
	if (grad == NULL || target == NULL)
		return loss;

	/* head */
	for (j = 0; j < H; j++)
	{
		dh[j] = 0.0;
		dc[j] = 0.0;
	}
	for (r = 0; r < K; r++)
	{
		grad[OFF_BY(l) + r] += dy[r];
		for (j = 0; j < H; j++)
		{
			grad[OFF_WY(l) + r * H + j] += dy[r] * hh[W][j];
			dh[j] += dy[r] * wy[r * H + j];
		}
	}

	/* backpropagation through time */
	for (t = W - 1; t >= 0; t--)
	{
		const double *xt = x + t * D;
		double		dhp[MAXH];

		for (j = 0; j < H; j++)
		{
			double		tc = tanh(cc[t + 1][j]);
			double		dct = dc[j] + dh[j] * go[t][j] * (1.0 - tc * tc);

			dz[0 * H + j] = dct * gg[t][j] * gi[t][j] * (1.0 - gi[t][j]);
			dz[1 * H + j] = dct * cc[t][j] * gf[t][j] * (1.0 - gf[t][j]);
			dz[2 * H + j] = dct * gi[t][j] * (1.0 - gg[t][j] * gg[t][j]);
			dz[3 * H + j] = dh[j] * tc * go[t][j] * (1.0 - go[t][j]);
			dc[j] = dct * gf[t][j];
		}
		for (k = 0; k < H; k++)
			dhp[k] = 0.0;
		for (r = 0; r < 4 * H; r++)
		{
			double		g = dz[r];
			const double *whr = wh + r * H;
			double	   *gwh = grad + OFF_WH(l) + r * H;

			grad[OFF_B(l) + r] += g;
			for (k = 0; k < D; k++)
				grad[OFF_WX(l) + r * D + k] += g * xt[k];
			for (k = 0; k < H; k++)
			{
				gwh[k] += g * hh[t][k];
				dhp[k] += g * whr[k];
			}
		}
		memcpy(dh, dhp, sizeof(double) * H);
	}
	(void) y;
	return loss;
}

double
fc_lstm_loss_grad(const fc_lstm *l, const double *p, const double *x,
				  const double *target, double *grad)
{
	return run(l, p, x, target, NULL, grad);
}

/*
 * Inputs and targets of the window whose last input is v[t] (needs
 * v[t - W] .. v[t + K] when target is not NULL).
 */
static void
make_example(const fc_lstm *l, const double *v, int t, double *x, double *target)
{
	int			W = l->window;
	int			j;

	for (j = 0; j < W; j++)
	{
		int			s = t - W + 1 + j;

		x[j * D + 0] = clip((v[s] - l->mu) / l->sigma, CLIP_IN);
		x[j * D + 1] = clip((v[s] - v[s - 1]) / l->sigma, CLIP_IN);
	}
	if (target)
		for (j = 0; j < l->nout; j++)
			target[j] = clip((v[t + 1 + j] - v[t]) / l->sigma, CLIP_IN);
}

/* One Adam step with gradient g (clipped by global norm). */
static void
adam_step(fc_lstm *l, double *g, double lr)
{
	double		norm = 0.0;
	double		c1,
				c2;
	int			i;

	for (i = 0; i < l->nparams; i++)
		norm += g[i] * g[i];
	norm = sqrt(norm);
	if (norm > CLIP_GRAD)
		for (i = 0; i < l->nparams; i++)
			g[i] *= CLIP_GRAD / norm;

	l->adam_t++;
	c1 = 1.0 - pow(ADAM_B1, (double) l->adam_t);
	c2 = 1.0 - pow(ADAM_B2, (double) l->adam_t);
	for (i = 0; i < l->nparams; i++)
	{
		l->m[i] = ADAM_B1 * l->m[i] + (1.0 - ADAM_B1) * g[i];
		l->v[i] = ADAM_B2 * l->v[i] + (1.0 - ADAM_B2) * g[i] * g[i];
		l->p[i] -= lr * (l->m[i] / c1) / (sqrt(l->v[i] / c2) + ADAM_EPS);
	}
}

static void
init_weights(fc_lstm *l)
{
	int			H = l->hidden;
	double		a = 1.0 / sqrt((double) H);
	int			i;

	memset(l->p, 0, sizeof(l->p));
	memset(l->m, 0, sizeof(l->m));
	memset(l->v, 0, sizeof(l->v));
	l->adam_t = 0;
	l->rng = l->seed;
	for (i = 0; i < OFF_B(l); i++)
		l->p[i] = (2.0 * uniform(&l->rng) - 1.0) * a;
	for (i = 0; i < H; i++)
		l->p[OFF_B(l) + H + i] = 1.0;	/* forget gate bias */
	/* the head starts at zero: the untrained network is the naive forecast */
}

static void
ring_push(fc_lstm *l, double y)
{
	l->ring[l->ring_pos] = y;
	l->ring_pos = (l->ring_pos + 1) % FC_LSTM_RING;
	if (l->ring_len < FC_LSTM_RING)
		l->ring_len++;
}

/* Copy the newest n ring values into v[0..n-1], oldest first. */
static void
ring_tail(const fc_lstm *l, double *v, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		v[i] = l->ring[(l->ring_pos - n + i + 2 * FC_LSTM_RING) % FC_LSTM_RING];
}

fc_status
fc_lstm_fit(fc_lstm *l, const double *y, int n, fc_interrupt_fn cb, void *cb_arg)
{
	int			W = l->window;
	int			K = l->nout;
	int			first = W;
	int			last = n - 1 - K;
	double		g[FC_LSTM_MAX_PARAMS];
	double		x[MAXW * D];
	double		target[FC_LSTM_MAX_OUT];
	int			s,
				i;

	if (n < W + K + 16)
		return FC_ERR_TOO_SHORT;

	fc_series_moments(y, n, &l->mu, &l->sigma);
	if (!(l->sigma > 0.0))
		l->sigma = 1.0;
	init_weights(l);

	for (s = 0; s < l->steps; s++)
	{
		if (cb && (s % 16) == 0 && cb(cb_arg))
			return FC_ERR_INTERRUPTED;
		memset(g, 0, sizeof(double) * l->nparams);
		for (i = 0; i < l->batch; i++)
		{
			int			t = first + (int) (uniform(&l->rng) * (last - first + 1));

			make_example(l, y, t, x, target);
			run(l, l->p, x, target, NULL, g);
		}
		for (i = 0; i < l->nparams; i++)
			g[i] /= l->batch;
		adam_step(l, g, l->lr);
	}

	l->ring_len = 0;
	l->ring_pos = 0;
	for (i = n - (n < FC_LSTM_RING ? n : FC_LSTM_RING); i < n; i++)
		ring_push(l, y[i]);
	l->nobs = n;
	return FC_OK;
}

void
fc_lstm_update(fc_lstm *l, double y, bool learn)
{
	int			W = l->window;
	int			K = l->nout;
	int			need = W + K + 1;

	ring_push(l, y);
	l->nobs++;
	if (learn && l->ring_len >= need)
	{
		double		v[FC_LSTM_RING];
		double		x[MAXW * D];
		double		target[FC_LSTM_MAX_OUT];
		double		g[FC_LSTM_MAX_PARAMS];

		/* the window whose K targets just became known */
		ring_tail(l, v, need);
		make_example(l, v, W, x, target);
		memset(g, 0, sizeof(double) * l->nparams);
		run(l, l->p, x, target, NULL, g);
		adam_step(l, g, l->online_lr);
	}
}

void
fc_lstm_forecast(const fc_lstm *l, int h, double *out)
{
	int			W = l->window;
	double		v[MAXW + 1];
	double		x[MAXW * D];
	double		o[FC_LSTM_MAX_OUT];
	double		last;
	int			k;

	if (l->ring_len == 0)
	{
		for (k = 0; k < h; k++)
			out[k] = l->mu;
		return;
	}
	ring_tail(l, v, l->ring_len < W + 1 ? 1 : W + 1);
	if (l->ring_len < W + 1)
	{
		/* not enough history yet: naive */
		for (k = 0; k < h; k++)
			out[k] = v[0];
		return;
	}
	last = v[W];
	make_example(l, v, W, x, NULL);
	run(l, l->p, x, NULL, o, NULL);
	for (k = 0; k < h; k++)
		out[k] = last + l->sigma * o[k < l->nout ? k : l->nout - 1];
}
