/*-------------------------------------------------------------------------
 *
 * backtest_horizons.c
 *	  Backtest of the live models over several horizons on load traces the
 *	  monitor recorded (bench/forecast_horizons.sh): for each trace and
 *	  horizon, the blend exactly as src/predict/live_models.c configures it
 *	  (fc_config_default(FC_BLEND), horizon h samples, mean target) is
 *	  fitted on the first part of the trace and then absorbs one sample at
 *	  a time, forecasting the mean of the next h samples at every origin
 *	  (fc_backtest: the same library code as the server).  Prints a
 *	  markdown table of MASE per model and horizon, and each one's MAE
 *	  relative to naive (the last value) at the same horizon.
 *
 *	  backtest_horizons OUT.md TRAIN_FRACTION REFIT_EVERY H1,H2,... TRACE.csv...
 *
 * A trace file has one load per line (a header line and a first column
 * of timestamps are skipped: the last field of each line is the value).
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  bench/horizons/backtest_horizons.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast/backtest.h"
#include "forecast/forecast.h"

#define MAX_TRACES 16
#define MAX_HORIZONS 8
#define MAX_N 100000
#define NCOL (FC_BLEND_MAX_MEMBERS + 1)

static double y[MAX_N];
static fc_model work;
static fc_backtest_result res;

/* per horizon, model column (members in blend order, then the blend), trace */
static double mase[MAX_HORIZONS][NCOL][MAX_TRACES];
static double rel[MAX_HORIZONS][NCOL][MAX_TRACES];
static char names[NCOL][32];
static int	ncols;

static int
load(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[512];
	int			n = 0;

	if (f == NULL)
	{
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f) && n < MAX_N)
	{
		char	   *last = strrchr(line, ',');
		char	   *end;
		double		v = strtod(last ? last + 1 : line, &end);

		if (end == (last ? last + 1 : line))
			continue;			/* header or empty */
		y[n++] = v;
	}
	fclose(f);
	return n;
}

static double
geomean(const double *v, int n)
{
	double		s = 0.0;
	int			k = 0;

	for (int i = 0; i < n; i++)
		if (isfinite(v[i]) && v[i] > 0)
		{
			s += log(v[i]);
			k++;
		}
	return k ? exp(s / k) : NAN;
}

int
main(int argc, char **argv)
{
	int			hs[MAX_HORIZONS];
	int			nh = 0;
	int			ntraces = argc - 5;
	double		train_fraction;
	int			refit_every;
	FILE	   *out;
	char	   *list,
			   *tok;
	int			lens[MAX_TRACES];

	if (argc < 6 || ntraces > MAX_TRACES)
	{
		fprintf(stderr, "usage: %s OUT.md TRAIN_FRACTION REFIT_EVERY H1,H2,... TRACE.csv...\n", argv[0]);
		return 2;
	}
	train_fraction = atof(argv[2]);
	refit_every = atoi(argv[3]);
	list = strdup(argv[4]);
	for (tok = strtok(list, ","); tok && nh < MAX_HORIZONS; tok = strtok(NULL, ","))
		hs[nh++] = atoi(tok);

	for (int t = 0; t < ntraces; t++)
	{
		int			n = load(argv[5 + t]);

		lens[t] = n;
		for (int j = 0; j < nh; j++)
		{
			fc_config	cfg;
			fc_backtest_spec spec;
			fc_status	st;
			double		naive_mae;

			/* as live_models.c's model_config() */
			fc_config_default(&cfg, FC_BLEND);
			fc_backtest_spec_default(&spec);
			spec.horizon = hs[j];
			spec.target = FC_TARGET_MEAN;
			spec.train_fraction = train_fraction;
			spec.fit_window = 3600; /* foresight.model_window */
			spec.refit_every = refit_every;
			st = fc_backtest(&work, &cfg, y, n, &spec, &res, NULL, NULL);
			if (st != FC_OK)
			{
				fprintf(stderr, "%s, h=%d: %s\n", argv[5 + t], hs[j], fc_status_message(st));
				for (int c = 0; c < NCOL; c++)
					mase[j][c][t] = rel[j][c][t] = NAN;
				continue;
			}
			ncols = res.nmembers + 1;
			naive_mae = res.member[0].mae;	/* member 0 is naive */
			for (int c = 0; c < res.nmembers; c++)
			{
				fc_member_info *mi = &res.member_info[c];

				if (mi->season > 0)
					snprintf(names[c], sizeof(names[c]), "%s/%d", fc_kind_name(mi->kind), mi->season);
				else
					snprintf(names[c], sizeof(names[c]), "%s", fc_kind_name(mi->kind));
				mase[j][c][t] = res.member[c].count > 0 ? res.member[c].mase : NAN;
				rel[j][c][t] = res.member[c].count > 0 ? res.member[c].mae / naive_mae : NAN;
			}
			snprintf(names[res.nmembers], sizeof(names[0]), "**blend**");
			mase[j][res.nmembers][t] = res.model.mase;
			rel[j][res.nmembers][t] = res.model.mae / naive_mae;
			fprintf(stderr, "%s h=%d: n=%d train=%d origins=%lld blend MASE %.3f naive %.3f\n",
					argv[5 + t], hs[j], n, res.n_train, (long long) res.model.count,
					res.model.mase, res.member[0].mase);
		}
	}

	out = fopen(argv[1], "w");
	if (out == NULL)
	{
		perror(argv[1]);
		return 1;
	}
	fprintf(out, "MASE (mean absolute error over the mean absolute one-step change of the training part)"
			" of the forecast of the mean load over the next h samples, geometric mean over the %d traces;"
			" in parentheses, the MAE relative to naive (the last value) at the same horizon, geometric mean:"
			" below 1 beats naive.\n\n", ntraces);
	fprintf(out, "| model |");
	for (int j = 0; j < nh; j++)
		fprintf(out, " h = %d |", hs[j]);
	fprintf(out, "\n|---|");
	for (int j = 0; j < nh; j++)
		fprintf(out, "---:|");
	fprintf(out, "\n");
	for (int c = 0; c < ncols; c++)
	{
		fprintf(out, "| %s |", names[c]);
		for (int j = 0; j < nh; j++)
		{
			double		m = geomean(mase[j][c], ntraces);
			double		r = geomean(rel[j][c], ntraces);

			if (isfinite(m))
				fprintf(out, " %.3f (%.2f) |", m, r);
			else
				fprintf(out, " — |");
		}
		fprintf(out, "\n");
	}
	fprintf(out, "\nPer trace, the blend's MASE and (naive's MASE):\n\n| trace | samples |");
	for (int j = 0; j < nh; j++)
		fprintf(out, " h = %d |", hs[j]);
	fprintf(out, "\n|---|---:|");
	for (int j = 0; j < nh; j++)
		fprintf(out, "---:|");
	fprintf(out, "\n");
	for (int t = 0; t < ntraces; t++)
	{
		const char *base = strrchr(argv[5 + t], '/');

		fprintf(out, "| %s | %d |", base ? base + 1 : argv[5 + t], lens[t]);
		for (int j = 0; j < nh; j++)
		{
			if (isfinite(mase[j][ncols - 1][t]))
				fprintf(out, " %.3f (%.3f) |", mase[j][ncols - 1][t], mase[j][0][t]);
			else
				fprintf(out, " — |");
		}
		fprintf(out, "\n");
	}
	fclose(out);
	return 0;
}
