/*-------------------------------------------------------------------------
 *
 * nab_detect.c
 *	  Runs the anomaly detector of src/forecast/anomaly.c over the NAB
 *	  traces, writes a detections CSV for nab_score.py, and checks the
 *	  robustness of the defaults (bench/anomaly.sh drives it).
 *
 *	  nab_detect --data DIR --labels FILE [--out DET.csv] [--set key=value]
 *				 [--sensitivity] [--loo]
 *
 * The detector runs through fc_anomaly_run(), the very function behind
 * foresight.anomaly_scores() and foresight.detect_anomalies().  --set
 * changes one field of the configuration (window, warmup, suppress,
 * memory, level_memory, quantile, threshold).
 *
 * To judge variations quickly, this program also scores alerts itself
 * with NAB's rules as nab_score.py documents them (probationary period,
 * scaled sigmoid, the three profiles, corpus normalisation); the script
 * checks that its totals agree with nab_score.py for the default run.
 *
 *	--sensitivity	the standard/low-FP/low-FN scores with each parameter
 *					at 80% and 120% of its default;
 *	--loo			leave one file out: for each file, the threshold (on a
 *					grid) that scores best on the other files, and the
 *					held-out file scored with it; corpus totals.
 *
 * Output: Markdown on stdout.
 *
 * Portions Copyright (c) 2026, pg_foresight authors
 *
 * IDENTIFICATION
 *	  bench/anomaly/nab_detect.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forecast/anomaly.h"

#define MAX_FILES	64
#define MAX_WINDOWS 16
#define TS_LEN		20			/* "YYYY-MM-DD HH:MM:SS" + NUL */
#define NPROFILES	3

typedef struct data_file
{
	char		name[256];
	int			n;
	double	   *y;
	char	  (*ts)[TS_LEN];
	int			nwin;
	char		wts[MAX_WINDOWS][2][TS_LEN];	/* window bounds as labelled */
	int			wstart[MAX_WINDOWS];
	int			wend[MAX_WINDOWS];
	int		   *win;			/* window of each row, -1 outside */
	double	   *unweighted;		/* NAB's per-row sigmoid value */
	int			probation;
	double	   *score;
	bool	   *alert;
} data_file;

typedef struct profile
{
	const char *name;
	double		tp,
				fn,
				fp;
} profile;

static const profile profiles[NPROFILES] = {
	{"standard", 1.0, 1.0, 0.11},
	{"reward_low_FP_rate", 1.0, 1.0, 0.22},
	{"reward_low_FN_rate", 1.0, 2.0, 0.11},
};

typedef struct file_score
{
	double		raw,
				null,
				perfect;
	int			tp,
				fn,
				fp;
} file_score;

static data_file files[MAX_FILES];
static int	nfiles;

static void
die(const char *msg, const char *arg)
{
	fprintf(stderr, "nab_detect: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(1);
}

static char *
read_all(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	long		len;
	char	   *buf;

	if (f == NULL)
		die("cannot open", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(len + 1);
	if (buf == NULL || fread(buf, 1, len, f) != (size_t) len)
		die("cannot read", path);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/*
 * labels.json: {"file.csv": [["start", "end"], ...], ...}.  A string
 * followed by ':' is a file name; the strings after it, in pairs, are its
 * windows.
 */
static void
read_labels(const char *path)
{
	char	   *buf = read_all(path);
	char	   *p = buf;
	data_file  *cur = NULL;
	int			half = 0;

	while (*p)
	{
		char	   *end;
		size_t		len;

		if (*p != '"')
		{
			p++;
			continue;
		}
		end = strchr(p + 1, '"');
		if (end == NULL)
			die("unterminated string in", path);
		len = end - p - 1;
		p = end + 1;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == ':')
		{
			if (nfiles == MAX_FILES || len >= sizeof(cur->name))
				die("too many files or too long a name in", path);
			cur = &files[nfiles++];
			memcpy(cur->name, end - len, len);
			cur->name[len] = '\0';
			half = 0;
		}
		else
		{
			if (cur == NULL || cur->nwin == MAX_WINDOWS || len < TS_LEN - 1)
				die("unexpected window in", path);
			memcpy(cur->wts[cur->nwin][half], end - len, TS_LEN - 1);
			cur->wts[cur->nwin][half][TS_LEN - 1] = '\0';
			if (++half == 2)
			{
				cur->nwin++;
				half = 0;
			}
		}
	}
	free(buf);
}

/* NAB's scaled sigmoid. */
static double
scaled_sigmoid(double x)
{
	if (x > 3.0)
		return -1.0;
	return 2.0 / (1.0 + exp(5.0 * x)) - 1.0;
}

/* Read one data CSV (timestamp,value) and lay out its windows as NAB does. */
static void
read_data(data_file *d, const char *dir)
{
	char		path[1024];
	char	   *buf,
			   *line;
	int			cap = 1024;
	int			r,
				w,
				cur = -1,
				next = 0,
				right = 0,
				prev_right = -1;
	double		width = 0,
				prev_width = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, d->name);
	buf = read_all(path);
	d->y = malloc(sizeof(double) * cap);
	d->ts = malloc(TS_LEN * cap);
	line = strchr(buf, '\n');	/* skip the header */
	while (line && *++line)
	{
		char	   *comma = strchr(line, ',');

		if (comma == NULL)
			break;
		if (d->n == cap)
		{
			cap *= 2;
			d->y = realloc(d->y, sizeof(double) * cap);
			d->ts = realloc(d->ts, TS_LEN * cap);
		}
		memcpy(d->ts[d->n], line, TS_LEN - 1);
		d->ts[d->n][TS_LEN - 1] = '\0';
		d->y[d->n++] = strtod(comma + 1, NULL);
		line = strchr(comma, '\n');
	}
	free(buf);

	for (w = 0; w < d->nwin; w++)
	{
		d->wstart[w] = d->wend[w] = -1;
		for (r = 0; r < d->n; r++)
		{
			if (d->wstart[w] < 0 && strcmp(d->ts[r], d->wts[w][0]) == 0)
				d->wstart[w] = r;
			if (d->wend[w] < 0 && strcmp(d->ts[r], d->wts[w][1]) == 0)
				d->wend[w] = r;
		}
		if (d->wstart[w] < 0 || d->wend[w] < 0)
			die("window bound not in the data of", d->name);
	}
	d->win = malloc(sizeof(int) * d->n);
	d->unweighted = malloc(sizeof(double) * d->n);
	d->score = malloc(sizeof(double) * d->n);
	d->alert = malloc(sizeof(bool) * d->n);
	d->probation = (int) fmin(floor(0.15 * d->n), 750.0);
	for (r = 0; r < d->n; r++)
	{
		if (next < d->nwin && r == d->wstart[next])
		{
			cur = next++;
			right = d->wend[cur];
			width = right - d->wstart[cur] + 1;
		}
		d->win[r] = cur;
		if (cur >= 0)
			d->unweighted[r] = scaled_sigmoid(-(right - r + 1) / width);
		else if (prev_right < 0)
			d->unweighted[r] = -1.0;
		else
			d->unweighted[r] = scaled_sigmoid(fabs((double) (prev_right - r)) /
											  fmax(prev_width - 1.0, 1.0));
		if (cur >= 0 && r == right)
		{
			prev_right = r;
			prev_width = width;
			cur = -1;
		}
	}
}

static file_score
score_file(const data_file *d, const profile *p)
{
	double		best[MAX_WINDOWS];
	bool		hit[MAX_WINDOWS] = {false};
	double		max_tp = scaled_sigmoid(-1.0);
	file_score	s = {0};
	int			r,
				w;

	for (w = 0; w < d->nwin; w++)
		best[w] = -p->fn;
	for (r = d->probation; r < d->n; r++)
	{
		if (!d->alert[r])
			continue;
		w = d->win[r];
		if (w < 0)
		{
			s.fp++;
			s.raw += d->unweighted[r] * p->fp;
		}
		else
		{
			hit[w] = true;
			best[w] = fmax(best[w], d->unweighted[r] * p->tp / max_tp);
		}
	}
	for (w = 0; w < d->nwin; w++)
	{
		s.raw += best[w];
		s.tp += hit[w];
	}
	s.fn = d->nwin - s.tp;
	s.null = -p->fn * d->nwin;
	s.perfect = p->tp * d->nwin;
	return s;
}

static double
normalised(double raw, double null, double perfect)
{
	return 100.0 * (raw - null) / (perfect - null);
}

/* Corpus-normalised score of profile p over every file but skip (-1: none). */
static double
corpus_score(const profile *p, int skip)
{
	double		raw = 0,
				null = 0,
				perfect = 0;
	int			i;

	for (i = 0; i < nfiles; i++)
	{
		file_score	s;

		if (i == skip)
			continue;
		s = score_file(&files[i], p);
		raw += s.raw;
		null += s.null;
		perfect += s.perfect;
	}
	return normalised(raw, null, perfect);
}

static void
run_all(const fc_anomaly_config *cfg)
{
	int			i;

	for (i = 0; i < nfiles; i++)
	{
		fc_status	st = fc_anomaly_run(cfg, files[i].y, files[i].n,
										files[i].score, files[i].alert,
										NULL, NULL);

		if (st != FC_OK)
			die(fc_status_message(st), files[i].name);
	}
}

static void
set_param(fc_anomaly_config *cfg, const char *assignment)
{
	char		key[64];
	const char *eq = strchr(assignment, '=');
	double		v;

	if (eq == NULL || eq - assignment >= (long) sizeof(key))
		die("--set needs key=value", assignment);
	memcpy(key, assignment, eq - assignment);
	key[eq - assignment] = '\0';
	v = strtod(eq + 1, NULL);
	if (strcmp(key, "window") == 0)
		cfg->window = (int) v;
	else if (strcmp(key, "warmup") == 0)
		cfg->warmup = (int) v;
	else if (strcmp(key, "suppress") == 0)
		cfg->suppress = (int) v;
	else if (strcmp(key, "memory") == 0)
		cfg->memory = v;
	else if (strcmp(key, "level_memory") == 0)
		cfg->level_memory = v;
	else if (strcmp(key, "quantile") == 0)
		cfg->quantile = v;
	else if (strcmp(key, "threshold") == 0)
		cfg->threshold = v;
	else
		die("unknown parameter", key);
	if (fc_anomaly_config_check(cfg) != FC_OK)
		die("parameter out of range", assignment);
}

static void
print_config(const fc_anomaly_config *c)
{
	printf("window %d, level_memory %g, memory %g, quantile %g, threshold %g, warmup %d, suppress %d",
		   c->window, c->level_memory, c->memory, c->quantile, c->threshold,
		   c->warmup, c->suppress);
}

static void
write_detections(const char *path)
{
	FILE	   *f = fopen(path, "w");
	int			i,
				r;

	if (f == NULL)
		die("cannot write", path);
	fprintf(f, "file,timestamp,row,alert,score\n");
	for (i = 0; i < nfiles; i++)
		for (r = 0; r < files[i].n; r++)
			fprintf(f, "%s,%s,%d,%d,%.6f\n", files[i].name, files[i].ts[r], r,
					files[i].alert[r] ? 1 : 0, files[i].score[r]);
	if (fclose(f) != 0)
		die("cannot write", path);
}

static void
print_scores(void)
{
	int			p,
				i;

	printf("| file | rows | windows | TP | FN | FP | standard | low FP | low FN |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < nfiles; i++)
	{
		file_score	s[NPROFILES];

		for (p = 0; p < NPROFILES; p++)
			s[p] = score_file(&files[i], &profiles[p]);
		printf("| %s | %d | %d | %d | %d | %d | %.1f | %.1f | %.1f |\n",
			   files[i].name, files[i].n, files[i].nwin, s[0].tp, s[0].fn, s[0].fp,
			   normalised(s[0].raw, s[0].null, s[0].perfect),
			   normalised(s[1].raw, s[1].null, s[1].perfect),
			   normalised(s[2].raw, s[2].null, s[2].perfect));
	}
	printf("| **corpus** | | | | | | **%.2f** | **%.2f** | **%.2f** |\n",
		   corpus_score(&profiles[0], -1), corpus_score(&profiles[1], -1),
		   corpus_score(&profiles[2], -1));
}

/* Each parameter at 80% and 120% of its default. */
static void
sensitivity(const fc_anomaly_config *base)
{
	static const char *names[] = {
		"window", "level_memory", "memory", "quantile (tail 1-q)",
		"threshold (ratio u)", "warmup", "suppress"
	};
	int			k,
				f,
				p;

	printf("| parameter | default | at 80%% | std | low FP | low FN | at 120%% | std | low FP | low FN |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (k = 0; k < 7; k++)
	{
		char		dflt[32];

		for (f = 0; f < 2; f++)
		{
			double		m = f == 0 ? 0.8 : 1.2;
			fc_anomaly_config c = *base;
			char		val[32];
			double		u;

			switch (k)
			{
				case 0:
					c.window = (int) lround(base->window * m);
					snprintf(dflt, sizeof(dflt), "%d", base->window);
					snprintf(val, sizeof(val), "%d", c.window);
					break;
				case 1:
					c.level_memory = base->level_memory * m;
					snprintf(dflt, sizeof(dflt), "%g", base->level_memory);
					snprintf(val, sizeof(val), "%g", c.level_memory);
					break;
				case 2:
					c.memory = base->memory * m;
					snprintf(dflt, sizeof(dflt), "%g", base->memory);
					snprintf(val, sizeof(val), "%g", c.memory);
					break;
				case 3:
					c.quantile = 1.0 - (1.0 - base->quantile) * m;
					snprintf(dflt, sizeof(dflt), "%g", base->quantile);
					snprintf(val, sizeof(val), "%g", c.quantile);
					break;
				case 4:
					/* score s = u / (1 + u): scale u */
					u = base->threshold / (1.0 - base->threshold) * m;
					c.threshold = u / (1.0 + u);
					snprintf(dflt, sizeof(dflt), "%g", base->threshold);
					snprintf(val, sizeof(val), "%.4f", c.threshold);
					break;
				case 5:
					c.warmup = (int) lround(base->warmup * m);
					snprintf(dflt, sizeof(dflt), "%d", base->warmup);
					snprintf(val, sizeof(val), "%d", c.warmup);
					break;
				default:
					c.suppress = (int) lround(base->suppress * m);
					snprintf(dflt, sizeof(dflt), "%d", base->suppress);
					snprintf(val, sizeof(val), "%d", c.suppress);
					break;
			}
			run_all(&c);
			if (f == 0)
				printf("| %s | %s ", names[k], dflt);
			printf("| %s ", val);
			for (p = 0; p < NPROFILES; p++)
				printf("| %.1f ", corpus_score(&profiles[p], -1));
		}
		printf("|\n");
	}
}

/*
 * Leave one file out: thresholds on a grid of the ratio u (score
 * u / (1 + u)); for each file and profile, the grid point that scores best
 * on the other files (ties: the one nearest the default), applied to the
 * held-out file.  Held-out raw scores are summed over files (corpus
 * normalisation).
 */
static void
leave_one_out(const fc_anomaly_config *base)
{
#define NGRID 13
	static const double grid_u[NGRID] = {
		0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.3, 1.4, 1.5, 1.7
	};
	static file_score fs[NGRID][MAX_FILES][NPROFILES];
	int			g,
				i,
				p;
	int			chosen[MAX_FILES][NPROFILES];
	double		held[NPROFILES][3] = {{0}};
	double		base_u = base->threshold / (1.0 - base->threshold);

	for (g = 0; g < NGRID; g++)
	{
		fc_anomaly_config c = *base;

		c.threshold = grid_u[g] / (1.0 + grid_u[g]);
		run_all(&c);
		for (i = 0; i < nfiles; i++)
			for (p = 0; p < NPROFILES; p++)
				fs[g][i][p] = score_file(&files[i], &profiles[p]);
	}
	for (i = 0; i < nfiles; i++)
	{
		for (p = 0; p < NPROFILES; p++)
		{
			int			best = -1;
			double		best_score = -INFINITY;

			for (g = 0; g < NGRID; g++)
			{
				double		raw = 0,
							null = 0,
							perfect = 0,
							s;
				int			j;

				for (j = 0; j < nfiles; j++)
				{
					if (j == i)
						continue;
					raw += fs[g][j][p].raw;
					null += fs[g][j][p].null;
					perfect += fs[g][j][p].perfect;
				}
				s = normalised(raw, null, perfect);
				if (s > best_score + 1e-9 ||
					(fabs(s - best_score) <= 1e-9 &&
					 fabs(grid_u[g] - base_u) < fabs(grid_u[best] - base_u)))
				{
					best = g;
					best_score = s;
				}
			}
			chosen[i][p] = best;
			held[p][0] += fs[best][i][p].raw;
			held[p][1] += fs[best][i][p].null;
			held[p][2] += fs[best][i][p].perfect;
		}
	}
	printf("| held-out file | threshold chosen on the other files (std / low FP / low FN) | held-out std | low FP | low FN |\n");
	printf("|---|---|---:|---:|---:|\n");
	for (i = 0; i < nfiles; i++)
	{
		printf("| %s | %.3f / %.3f / %.3f ", files[i].name,
			   grid_u[chosen[i][0]] / (1.0 + grid_u[chosen[i][0]]),
			   grid_u[chosen[i][1]] / (1.0 + grid_u[chosen[i][1]]),
			   grid_u[chosen[i][2]] / (1.0 + grid_u[chosen[i][2]]));
		for (p = 0; p < NPROFILES; p++)
		{
			file_score	s = fs[chosen[i][p]][i][p];

			printf("| %.1f ", normalised(s.raw, s.null, s.perfect));
		}
		printf("|\n");
	}
	printf("| **corpus (held-out scores summed)** | | **%.2f** | **%.2f** | **%.2f** |\n",
		   normalised(held[0][0], held[0][1], held[0][2]),
		   normalised(held[1][0], held[1][1], held[1][2]),
		   normalised(held[2][0], held[2][1], held[2][2]));
	printf("\nThreshold grid (score u/(1+u)) for ratio u in {");
	for (g = 0; g < NGRID; g++)
		printf("%s%g", g ? ", " : "", grid_u[g]);
	printf("}; corpus score of each grid point on all ten files (std / low FP / low FN):\n\n");
	printf("| ratio u | threshold | standard | low FP | low FN |\n|---:|---:|---:|---:|---:|\n");
	for (g = 0; g < NGRID; g++)
	{
		double		t[NPROFILES];

		for (p = 0; p < NPROFILES; p++)
		{
			double		raw = 0,
						null = 0,
						perfect = 0;

			for (i = 0; i < nfiles; i++)
			{
				raw += fs[g][i][p].raw;
				null += fs[g][i][p].null;
				perfect += fs[g][i][p].perfect;
			}
			t[p] = normalised(raw, null, perfect);
		}
		printf("| %g | %.4f | %.2f | %.2f | %.2f |\n", grid_u[g],
			   grid_u[g] / (1.0 + grid_u[g]), t[0], t[1], t[2]);
	}
}

int
main(int argc, char **argv)
{
	const char *data = NULL,
			   *labels = NULL,
			   *out = NULL;
	bool		do_sensitivity = false,
				do_loo = false;
	fc_anomaly_config cfg;
	struct timespec t0,
				t1;
	long		points = 0;
	int			i;

	fc_anomaly_config_default(&cfg);
	for (i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data = argv[++i];
		else if (strcmp(argv[i], "--labels") == 0 && i + 1 < argc)
			labels = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc)
			set_param(&cfg, argv[++i]);
		else if (strcmp(argv[i], "--sensitivity") == 0)
			do_sensitivity = true;
		else if (strcmp(argv[i], "--loo") == 0)
			do_loo = true;
		else
			die("usage: nab_detect --data DIR --labels FILE [--out DET.csv] [--set key=value] [--sensitivity] [--loo]", NULL);
	}
	if (data == NULL || labels == NULL)
		die("--data and --labels are required", NULL);
	read_labels(labels);
	for (i = 0; i < nfiles; i++)
	{
		read_data(&files[i], data);
		points += files[i].n;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_all(&cfg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("Detector: ");
	print_config(&cfg);
	printf(".\n%d files, %ld values; detector time %.1f ms (%.0f ns per value), state %zu bytes.\n\n",
		   nfiles, points,
		   (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
		   ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (double) points,
		   fc_anomaly_state_size());
	print_scores();
	if (out)
		write_detections(out);
	if (do_sensitivity)
	{
		printf("\n");
		sensitivity(&cfg);
	}
	if (do_loo)
	{
		printf("\n");
		leave_one_out(&cfg);
	}
	return 0;
}
