/*-------------------------------------------------------------------------
 *
 * bench_forecast.c
 *	  Forecasting benchmark over the NAB traces: rolling-origin backtests
 *	  of every model and the blend, following the protocol of
 *	  shared/data/nab/baselines.md, written as a markdown report.
 *
 *	  usage: bench_forecast [--held-out FILE | --held-out-only]
 *						   DATA_DIR OUT.md {point|mean|both} [SEASON ...]
 *
 * DATA_DIR holds the NAB CSV files (timestamp,value).  One table is made
 * for each season (default 288 and 12), chosen target (point, mean) and
 * horizon (1, 12).  Models that are not seasonal are run once per target
 * and horizon and repeated in every season's table.  The sections on
 * training time, memory and blend weights come with the point target.
 * bench/forecast.sh runs "point" and "mean" as two processes.
 *
 * Held-out check (--held-out FILE): the blend's backtests also score a
 * small grid of weightings (blend_decay x blend_power, the defaults
 * included) on the same fitted members (spec.nvariants), and FILE receives
 * a leave-one-series-out cross-validation: for each series, the setting
 * with the best geometric-mean MASE on the other series is scored on it.
 * The best baselines come from DATA_DIR/baselines.md when it is there.
 * --held-out-only runs the blend alone and writes the check to OUT.md.
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
#define MAX_SETTINGS (1 + FC_BACKTEST_MAX_VARIANTS)

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

/*
 * Held-out check: the weighting grid.  Setting 0 is fc_config_default()'s
 * (the blend of the main tables), then every other grid point.
 */
static const double grid_decay[] = {0.9, 0.95, 0.98, 0.995};
static const double grid_power[] = {4.0, 16.0, 64.0};
static double set_decay[MAX_SETTINGS];
static double set_power[MAX_SETTINGS];
static int	nsettings;

/* MASE of each setting: grid_mase[season][target][horizon][setting][series] */
static double grid_mase[MAX_SEASONS][2][2][MAX_SETTINGS][MAX_SERIES];

/* Best statsmodels baseline per (season, target, horizon), from baselines.md */
typedef struct baseline
{
	int			season;
	int			target;
	double		best[2];
	char		model[2][64];
} baseline;

static baseline baselines[8];
static int	nbaselines;

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

/* Geometric mean of m[0..nseries-1] leaving out series skip (-1: none). */
static double
geomean_except(const double *m, int skip)
{
	double		s = 0.0;
	int			i,
				k = 0;

	for (i = 0; i < nseries; i++)
		if (i != skip && m[i] > 0.0)
		{
			s += log(m[i]);
			k++;
		}
	return k ? exp(s / k) : NAN;
}

/* Setting 0 = the defaults, then the rest of the grid. */
static void
build_grid(void)
{
	fc_config	cfg;
	size_t		i,
				j;

	fc_config_default(&cfg, FC_BLEND);
	set_decay[0] = cfg.blend_decay;
	set_power[0] = cfg.blend_power;
	nsettings = 1;
	for (i = 0; i < sizeof(grid_decay) / sizeof(grid_decay[0]); i++)
		for (j = 0; j < sizeof(grid_power) / sizeof(grid_power[0]); j++)
		{
			if (grid_decay[i] == set_decay[0] && grid_power[j] == set_power[0])
				continue;
			if (nsettings == MAX_SETTINGS)
				continue;
			set_decay[nsettings] = grid_decay[i];
			set_power[nsettings] = grid_power[j];
			nsettings++;
		}
}

/*
 * The geometric-mean tables of baselines.md: each follows a line naming
 * "target point|mean; season M".  Keep the best model per horizon.
 */
static void
load_baselines(const char *dir)
{
	char		path[1024];
	char		line[1024];
	FILE	   *f;
	baseline   *cur = NULL;
	bool		in_table = false;

	snprintf(path, sizeof(path), "%s/baselines.md", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
	{
		char	   *t = strstr(line, "; target ");
		char	   *m = strstr(line, "; season ");
		char		name[64];
		double		v[2];
		int			h;

		if (t && m && nbaselines < (int) (sizeof(baselines) / sizeof(baselines[0])))
		{
			cur = &baselines[nbaselines++];
			cur->target = strncmp(t + 9, "mean", 4) == 0 ? 1 : 0;
			cur->season = atoi(m + 9);
			cur->best[0] = cur->best[1] = INFINITY;
			in_table = false;
			continue;
		}
		if (!cur)
			continue;
		if (line[0] != '|')
		{
			if (in_table)
				cur = NULL;		/* only the first table after the line */
			continue;
		}
		in_table = true;
		if (sscanf(line, "| %63[^ |] | %lf | %lf |", name, &v[0], &v[1]) != 3)
			continue;
		for (h = 0; h < 2; h++)
			if (v[h] < cur->best[h])
			{
				cur->best[h] = v[h];
				snprintf(cur->model[h], sizeof(cur->model[h]), "%s", name);
			}
	}
	fclose(f);
}

static const baseline *
find_baseline(int season, int target)
{
	int			i;

	for (i = 0; i < nbaselines; i++)
		if (baselines[i].season == season && baselines[i].target == target &&
			isfinite(baselines[i].best[0]))
			return &baselines[i];
	return NULL;
}

/*
 * Leave one series out: for series j, the setting with the best geometric
 * mean on the other series (ties: the lower setting, so the defaults), and
 * its MASE on j.  Returns the geometric mean of the held-out MASEs.
 */
static double
cross_validate(double (*mase)[MAX_SERIES], int *chosen, double *held)
{
	int			j,
				g;

	for (j = 0; j < nseries; j++)
	{
		double		best = INFINITY;

		chosen[j] = 0;
		for (g = 0; g < nsettings; g++)
		{
			double		gm = geomean_except(mase[g], j);

			if (gm < best)
			{
				best = gm;
				chosen[j] = g;
			}
		}
		held[j] = mase[chosen[j]][j];
	}
	return geomean_except(held, -1);
}

static void
write_held_out(FILE *out, const int *seasons, int nseasons, const bool *do_target)
{
	int			si,
				ti,
				hi,
				g,
				s;

	for (ti = 0; ti < 2; ti++)
		for (si = 0; si < nseasons && do_target[ti]; si++)
		{
			const baseline *b = find_baseline(seasons[si], ti);
			int			chosen[2][MAX_SERIES];
			double		held[2][MAX_SERIES];
			double		cv[2];
			int			times[2][MAX_SETTINGS];

			for (hi = 0; hi < 2; hi++)
			{
				cv[hi] = cross_validate(grid_mase[si][ti][hi], chosen[hi], held[hi]);
				for (g = 0; g < nsettings; g++)
					times[hi][g] = 0;
				for (s = 0; s < nseries; s++)
					times[hi][chosen[hi][s]]++;
			}

			fprintf(out, "### Season %d, %s\n\n", seasons[si],
					ti ? "mean of the next h values" : "point target (value at t+h)");
			fprintf(out, "| h | held-out blend | defaults (in-sample) | defaults chosen | "
					"best statsmodels baseline | held-out vs baseline | "
					"at least 10%% below? (held-out vs 0.9 × baseline) |\n"
					"|---|---:|---:|---:|---:|---:|---|\n");
			for (hi = 0; hi < 2; hi++)
			{
				fprintf(out, "| %d | %.3f | %.3f | %d of %d |", horizons[hi], cv[hi],
						geomean_except(grid_mase[si][ti][hi][0], -1),
						times[hi][0], nseries);
				if (b)
					fprintf(out, " %.3f (%s) | %+.1f%% | %s: %.4f %s %.4f |\n",
							b->best[hi], b->model[hi],
							100.0 * (cv[hi] / b->best[hi] - 1.0),
							cv[hi] <= 0.9 * b->best[hi] ? "yes" : "**no**", cv[hi],
							cv[hi] <= 0.9 * b->best[hi] ? "≤" : ">", 0.9 * b->best[hi]);
				else
					fprintf(out, " — | — | — |\n");
			}

			fprintf(out, "\nEvery setting on all %d series (in-sample geometric mean of "
					"MASE) and how often leave-one-out chose it:\n\n"
					"| blend_decay | blend_power | h=1 | chosen | h=12 | chosen |\n"
					"|---:|---:|---:|---:|---:|---:|\n", nseries);
			for (g = 0; g < nsettings; g++)
				fprintf(out, "| %g | %g%s | %.3f | %d | %.3f | %d |\n",
						set_decay[g], set_power[g], g == 0 ? " (defaults)" : "",
						geomean_except(grid_mase[si][ti][0][g], -1), times[0][g],
						geomean_except(grid_mase[si][ti][1][g], -1), times[1][g]);

			fprintf(out, "\nPer series: the setting chosen on the other series "
					"(decay/power), its MASE, and the defaults' MASE:\n\n"
					"| series | h=1 chosen | h=1 held-out | h=1 defaults | "
					"h=12 chosen | h=12 held-out | h=12 defaults |\n"
					"|---|---|---:|---:|---|---:|---:|\n");
			for (s = 0; s < nseries; s++)
			{
				fprintf(out, "| %s |", data[s].name);
				for (hi = 0; hi < 2; hi++)
					fprintf(out, " %g/%g | %.3f | %.3f |",
							set_decay[chosen[hi][s]], set_power[chosen[hi][s]],
							held[hi][s], grid_mase[si][ti][hi][0][s]);
				fprintf(out, "\n");
			}
			fprintf(out, "\n");
		}
}

int
main(int argc, char **argv)
{
	static fc_model work[MAX_SETTINGS];
	int			seasons[MAX_SEASONS] = {288, 12};
	int			nseasons = 2;
	bool		do_target[2];
	const char *held_out_file = NULL;
	bool		held_out_only = false;
	bool		held_out;
	FILE	   *out;
	double		t_all = cpu_now();
	int			si,
				ti,
				hi,
				mi,
				s;

	while (argc > 1 && strncmp(argv[1], "--", 2) == 0)
	{
		if (strcmp(argv[1], "--held-out") == 0 && argc > 2)
		{
			held_out_file = argv[2];
			argc -= 2;
			argv += 2;
		}
		else if (strcmp(argv[1], "--held-out-only") == 0)
		{
			held_out_only = true;
			argc--;
			argv++;
		}
		else
			break;
	}
	held_out = held_out_only || held_out_file != NULL;
	if (argc < 4 || (strcmp(argv[3], "point") != 0 && strcmp(argv[3], "mean") != 0 &&
					 strcmp(argv[3], "both") != 0) ||
		(held_out_only && held_out_file != NULL))
	{
		fprintf(stderr, "usage: bench_forecast [--held-out FILE | --held-out-only] "
				"DATA_DIR OUT.md {point|mean|both} [SEASON ...]\n");
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
	if (held_out)
	{
		build_grid();
		load_baselines(argv[1]);
	}

	for (si = 0; si < nseasons; si++)
		for (ti = 0; ti < 2; ti++)
			for (hi = 0; hi < 2 && do_target[ti]; hi++)
				for (mi = 0; mi < NMODELS; mi++)
				{
					fc_kind		kind = models[mi];
					bool		seasonal = fc_kind_is_seasonal(kind) || kind == FC_BLEND;

					if (held_out_only && kind != FC_BLEND)
						continue;
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
						if (kind == FC_BLEND && held_out)
						{
							int			g;

							/* setting 0 is cfg itself: the defaults */
							spec.nvariants = nsettings - 1;
							for (g = 1; g < nsettings; g++)
							{
								spec.variant_decay[g - 1] = set_decay[g];
								spec.variant_power[g - 1] = set_power[g];
							}
						}
						st = fc_backtest(work, &cfg, data[s].y, data[s].n, &spec,
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
						{
							int			g;

							blend_last[si][ti][hi][s] = res;
							grid_mase[si][ti][hi][0][s] = res.model.mase;
							for (g = 1; g < nsettings; g++)
								grid_mase[si][ti][hi][g][s] = res.variant[g - 1].mase;
						}
					}
					fprintf(stderr, "season %d target %s h=%d %-12s geomean MASE %.3f\n",
							seasons[si], ti ? "mean" : "point", horizons[hi],
							fc_kind_name(kind), geomean(results[si][ti][hi][mi]));
				}

	if (held_out)
	{
		out = fopen(held_out_only ? argv[2] : held_out_file, "w");
		if (!out)
		{
			perror(held_out_only ? argv[2] : held_out_file);
			return 1;
		}
		fprintf(out, "<!-- held-out check, %s target(s): %d series, %d blend settings; "
				"CPU time %.1f s -->\n\n", argv[3], nseries, nsettings,
				cpu_now() - t_all);
		write_held_out(out, seasons, nseasons, do_target);
		fclose(out);
		if (held_out_only)
			return 0;
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
				fc_model_init(work, &cfg);
				t0 = cpu_now();
				fc_model_fit(work, data[s].y, 17280, NULL, NULL);
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
