/*-------------------------------------------------------------------------
 *
 * lstm.h
 *	  LSTM-lite: one small LSTM layer with a linear head, trained by
 *	  truncated backpropagation through time and Adam.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  src/forecast/lstm.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORECAST_LSTM_H
#define FORECAST_LSTM_H

#include "forecast/forecast.h"

/* Set up an untrained network from the configuration. */
extern void fc_lstm_init(fc_lstm *l, const fc_config *cfg);

/* Fewest points fc_lstm_fit() accepts for this configuration. */
extern int	fc_lstm_min_length(const fc_config *cfg);

/*
 * Full (re)training on y[0..n-1]: normalisation statistics from the window,
 * weights drawn from the seed, then lstm_steps Adam steps on minibatches of
 * windows sampled (seeded) from the whole series.  Afterwards the input
 * ring holds the tail of y.
 */
extern fc_status fc_lstm_fit(fc_lstm *l, const double *y, int n,
							 fc_interrupt_fn cb, void *cb_arg);

/* Absorb one sample; with learn, take one online Adam step as well. */
extern void fc_lstm_update(fc_lstm *l, double y, bool learn);

/* The next h values (outputs beyond nout are held at the last output). */
extern void fc_lstm_forecast(const fc_lstm *l, int h, double *out);

/*
 * Loss 0.5/nout * sum (out - target)^2 of one window with parameters p:
 * x holds window * FC_LSTM_INPUTS normalised inputs (oldest first) and
 * target nout values.  If grad is not NULL the analytic gradient (BPTT) is
 * added to it.  Exposed for the finite-difference gradient check.
 */
extern double fc_lstm_loss_grad(const fc_lstm *l, const double *p,
								const double *x, const double *target,
								double *grad);

#endif							/* FORECAST_LSTM_H */
