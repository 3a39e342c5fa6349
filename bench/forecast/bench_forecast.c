/*-------------------------------------------------------------------------
 *
 * bench_forecast.c
 *	  Forecasting benchmark over the NAB traces: rolling-origin backtests
 *	  of every model and the blend, following the protocol of
 *	  shared/data/nab/baselines.md, written as a markdown report.
 *
 *	  usage: bench_forecast DATA_DIR OUT.md {point|mean|both} [SEASON ...]
 *
 * DATA_DIR holds the NAB CSV files (timestamp,value).  One table is made
 * for each season (default 288 and 12), chosen target (point, mean) and
 * horizon (1, 12).  Models that are not seasonal are run once per target
 * and horizon and repeated in every season's table.  The sections on
 * training time, memory and blend weights come with the point target.
 * bench/forecast.sh runs "point" and "mean" as two processes.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  bench/forecast/bench_forecast.c
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forecast/backtest.h"
#include "forecast/forecast.h"

#define MAX_SERIES	32
#define MAX_SEASONS 4
#define NMODELS		7

typedef struct series
{
	char		name[128];
	double	   *y;
	int			n;
} series;

typedef struct cell
{
	double		mase;
	double		mae;
	double		fit_seconds;
	double		total_seconds;
	int			done;
} cell;

static const fc_kind models[NMODELS] = {
	FC_NAIVE, FC_SNAIVE, FC_SES, FC_HOLT_DAMPED, FC_HW_ADD, FC_LSTM, FC_BLEND
};
static const int horizons[2] = {1, 12};

static series data[MAX_SERIES];
static int	nseries;

/* results[season][target][horizon][model][series] */
static cell results[MAX_SEASONS][2][2][NMODELS][MAX_SERIES];
/* blend weights at the end, for the report */
static fc_backtest_result blend_last[MAX_SEASONS][2][2][MAX_SERIES];

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(((const series *) a)->name, ((const series *) b)->name);
}

static int
load_csv(const char *path, series *s)
{
	FILE	   *f = fopen(path, "r");
	char		line[512];
	int			cap = 1024;

	if (!f)
		return -1;
	s->n = 0;
	s->y = malloc(sizeof(double) * cap);
	if (!fgets(line, sizeof(line), f))
	{
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f))
	{
		char	   *comma = strchr(line, ',');

		if (!comma)
			continue;
		if (s->n == cap)
		{
			cap *= 2;
			s->y = realloc(s->y, sizeof(double) * cap);
		}
		s->y[s->n++] = strtod(comma + 1, NULL);
	}
	fclose(f);
	return 0;
}

static void
load_dir(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;

	if (!d)
	{
		fprintf(stderr, "cannot open %s\n", dir);
		exit(1);
	}
	while ((e = readdir(d)) != NULL && nseries < MAX_SERIES)
	{
		size_t		len = strlen(e->d_name);
		char		path[1024];

		if (len < 5 || strcmp(e->d_name + len - 4, ".csv") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(data[nseries].name, sizeof(data[nseries].name), "%.*s",
				 (int) (len - 4), e->d_name);
		if (load_csv(path, &data[nseries]) == 0)
			nseries++;
	}
	closedir(d);
	qsort(data, nseries, sizeof(series), cmp_names);
}

static double
cpu_now(void)
{
	return (double) clock() / CLOCKS_PER_SEC;
}

static double
geomean(cell *row)
{
	double		s = 0.0;
	int			i,
				k = 0;

	for (i = 0; i < nseries; i++)
		if (row[i].done && row[i].mase > 0.0)
		{
			s += log(row[i].mase);
			k++;
		}
	return k ? exp(s / k) : NAN;
}

int
main(int argc, char **argv)
{
	static fc_model work;
	int			seasons[MAX_SEASONS] = {288, 12};
	int			nseasons = 2;
	bool		do_target[2];
	FILE	   *out;
	double		t_all = cpu_now();
	int			si,
				ti,
				hi,
				mi,
				s;

	if (argc < 4 || (strcmp(argv[3], "point") != 0 && strcmp(argv[3], "mean") != 0 &&
					 strcmp(argv[3], "both") != 0))
	{
		fprintf(stderr, "usage: %s DATA_DIR OUT.md {point|mean|both} [SEASON ...]\n", argv[0]);
		return 2;
	}
	do_target[0] = strcmp(argv[3], "mean") != 0;
	do_target[1] = strcmp(argv[3], "point") != 0;
	if (argc > 4)
	{
		nseasons = 0;
		for (s = 4; s < argc && nseasons < MAX_SEASONS; s++)
			seasons[nseasons++] = atoi(argv[s]);
	}
	load_dir(argv[1]);
	if (nseries == 0)
	{
		fprintf(stderr, "no CSV files in %s\n", argv[1]);
		return 1;
	}

	for (si = 0; si < nseasons; si++)
		for (ti = 0; ti < 2; ti++)
			for (hi = 0; hi < 2 && do_target[ti]; hi++)
				for (mi = 0; mi < NMODELS; mi++)
				{
					fc_kind		kind = models[mi];
					bool		seasonal = fc_kind_is_seasonal(kind) || kind == FC_BLEND;

					for (s = 0; s < nseries; s++)
					{
						fc_config	cfg;
						fc_backtest_spec spec;
						fc_backtest_result res;
						fc_status	st;
						cell	   *c = &results[si][ti][hi][mi][s];

						if (!seasonal && si > 0)
						{
							*c = results[0][ti][hi][mi][s];
							continue;
						}
						fc_config_default(&cfg, kind);
						cfg.season = seasonal ? seasons[si] : 0;
						fc_backtest_spec_default(&spec);
						spec.horizon = horizons[hi];
						spec.target = ti;
						st = fc_backtest(&work, &cfg, data[s].y, data[s].n, &spec,
										 &res, NULL, NULL);
						if (st != FC_OK)
						{
							fprintf(stderr, "%s %s: %s\n", data[s].name,
									fc_kind_name(kind), fc_status_message(st));
							continue;
						}
						c->mase = res.model.mase;
						c->mae = res.model.mae;
						c->fit_seconds = res.fit_seconds;
						c->total_seconds = res.total_seconds;
						c->done = 1;
						if (kind == FC_BLEND)
							blend_last[si][ti][hi][s] = res;
					}
					fprintf(stderr, "season %d target %s h=%d %-12s geomean MASE %.3f\n",
							seasons[si], ti ? "mean" : "point", horizons[hi],
							fc_kind_name(kind), geomean(results[si][ti][hi][mi]));
				}

	out = fopen(argv[2], "w");
	if (!out)
	{
		perror(argv[2]);
		return 1;
	}
	fprintf(out, "<!-- %s target(s): %d series; train fraction 0.70; rolling origin; "
			"parameters fitted on at most 4032 trailing points and refitted every "
			"288 origins; MASE scale = mean |y[t]-y[t-1]| over the training part; "
			"summary = geometric mean over series; CPU time %.1f s -->\n\n",
			argv[3], nseries, cpu_now() - t_all);

	for (ti = 0; ti < 2; ti++)
		for (si = 0; si < nseasons && do_target[ti]; si++)
		{
			fprintf(out, "## Season %d, target %s\n\n", seasons[si],
					ti ? "mean of the next h values" : "point (value at t+h)");
			fprintf(out, "Geometric mean of MASE over series:\n\n");
			fprintf(out, "| model | h=1 | h=12 |\n|---|---:|---:|\n");
			for (mi = 0; mi < NMODELS; mi++)
				fprintf(out, "| %s | %.3f | %.3f |\n", fc_kind_name(models[mi]),
						geomean(results[si][ti][0][mi]),
						geomean(results[si][ti][1][mi]));
			fprintf(out, "\n");
			for (hi = 0; hi < 2; hi++)
			{
				fprintf(out, "Per-series MASE, h=%d:\n\n| series | n |", horizons[hi]);
				for (mi = 0; mi < NMODELS; mi++)
					fprintf(out, " %s |", fc_kind_name(models[mi]));
				fprintf(out, "\n|---|---:|");
				for (mi = 0; mi < NMODELS; mi++)
					fprintf(out, "---:|");
				fprintf(out, "\n");
				for (s = 0; s < nseries; s++)
				{
					fprintf(out, "| %s | %d |", data[s].name, data[s].n);
					for (mi = 0; mi < NMODELS; mi++)
						fprintf(out, " %.3f |", results[si][ti][hi][mi][s].mase);
					fprintf(out, "\n");
				}
				fprintf(out, "\n");
			}
		}

	if (!do_target[0])
	{
		fclose(out);
		return 0;
	}

	/* training time and memory */
	fprintf(out, "## Training time and memory\n\n");
	fprintf(out, "CPU seconds spent in fit + refits (all series, season %d, point, h=1) "
			"and in the whole backtest:\n\n| model | fit s | total s |\n|---|---:|---:|\n",
			seasons[0]);
	for (mi = 0; mi < NMODELS; mi++)
	{
		double		f = 0.0,
					t = 0.0;

		for (s = 0; s < nseries; s++)
		{
			f += results[0][0][0][mi][s].fit_seconds;
			t += results[0][0][0][mi][s].total_seconds;
		}
		fprintf(out, "| %s | %.2f | %.2f |\n", fc_kind_name(models[mi]), f, t);
	}
	fprintf(out, "\nState size: every model is one `fc_model` of %zu bytes "
			"(`forecast_model_state_size()`); the parts actually used: smoothing "
			"models %zu bytes (`fc_ets`), LSTM %zu bytes (`fc_lstm`), blend %zu bytes "
			"(`fc_blend`, members included).\n\n",
			forecast_model_state_size(), sizeof(fc_ets), sizeof(fc_lstm),
			sizeof(fc_blend));

	/* LSTM retrain on 17,280 samples */
	for (s = 0; s < nseries; s++)
	{
		if (data[s].n >= 17280)
		{
			fc_config	cfg;
			double		t0;
			int			rep,
						nrep = 5;
			double		best = INFINITY;

			fc_config_default(&cfg, FC_LSTM);
			cfg.horizon = 12;
			for (rep = 0; rep < nrep; rep++)
			{
				fc_model_init(&work, &cfg);
				t0 = cpu_now();
				fc_model_fit(&work, data[s].y, 17280, NULL, NULL);
				t0 = cpu_now() - t0;
				if (t0 < best)
					best = t0;
			}
			fprintf(out, "LSTM-lite full retrain on 17,280 samples of `%s` "
					"(hidden %d, window %d, %d Adam steps of %d windows, 12 outputs): "
					"%.3f CPU s (best of %d).\n\n",
					data[s].name, cfg.lstm_hidden, cfg.lstm_window, cfg.lstm_steps,
					cfg.lstm_batch, best, nrep);
			break;
		}
	}

	/* blend weights at the end of each series */
	fprintf(out, "## Blend weights at the end of the test part (season %d, point, h=1)\n\n",
			seasons[0]);
	for (s = 0; s < nseries; s++)
	{
		fc_backtest_result *r = &blend_last[0][0][0][s];
		int			i;

		fprintf(out, "- %s:", data[s].name);
		for (i = 0; i < r->nmembers; i++)
		{
			fprintf(out, " %s", fc_kind_name(r->member_info[i].kind));
			if (r->member_info[i].season)
				fprintf(out, "/%d", r->member_info[i].season);
			fprintf(out, "=%.2f", r->member_info[i].weight);
		}
		fprintf(out, "\n");
	}
	fprintf(out, "\n");
	fclose(out);
	return 0;
}
