/*-------------------------------------------------------------------------
 *
 * query_timer.c
 *	  Times one query run several times on one connection, for the
 *	  benchmarks (bench/split.sh): wall time, time to the first row, the
 *	  server backend's peak private memory and its CPU.
 *
 *	  query_timer CONNINFO RUNS OUTFILE SETTINGS QUERY
 *
 * SETTINGS (any statements, run once) and then QUERY, RUNS + 1 times: the
 * first run warms up and its rows go to OUTFILE (tab-separated, one row a
 * line) for the caller to compare; each further run prints one line:
 *
 *	  total_ms first_row_ms peak_anon_kb cpu_ms
 *
 * The rows come in single-row mode, so the first row is timed when it
 * reaches the client.  peak_anon_kb is the highest RssAnon of the server
 * backend (its private memory: shared buffers do not count) sampled every
 * 2 ms while the query runs, minus the backend's RssAnon before it;
 * cpu_ms is the backend's user and system time during the run (the
 * backend alone: parallel workers are other processes).  The backend is
 * read from /proc, so the server must run on this machine as this user.
 *
 *-------------------------------------------------------------------------
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* the backend's RssAnon in kB, or -1 */
static long
rss_anon_kb(int pid)
{
	char		path[64];
	char		line[256];
	long		kb = -1;
	FILE	   *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* the backend's user + system CPU in ms, or -1 */
static double
cpu_ms(int pid)
{
	char		path[64];
	char		buf[1024];
	char	   *p;
	unsigned long utime,
				stime;
	FILE	   *f;
	size_t		n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the command's name: state is field 3, utime 14, stime 15 */
	if ((p = strrchr(buf, ')')) == NULL ||
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			   &utime, &stime) != 2)
		return -1;
	return (utime + stime) * 1000.0 / sysconf(_SC_CLK_TCK);
}

static void
die(PGconn *conn, const char *what)
{
	fprintf(stderr, "query_timer: %s: %s", what, conn ? PQerrorMessage(conn) : "\n");
	exit(1);
}

/* one run; rows to out when not NULL */
static void
run(PGconn *conn, int pid, const char *query, FILE *out)
{
	double		t0,
				first = -1,
				cpu0;
	long		anon0,
				peak;
	PGresult   *res;
	int			failed = 0;

	anon0 = rss_anon_kb(pid);
	peak = anon0;
	cpu0 = cpu_ms(pid);
	t0 = now_ms();
	if (!PQsendQuery(conn, query) || !PQsetSingleRowMode(conn))
		die(conn, "sending the query");
	for (;;)
	{
		/* sample the backend's memory while waiting for its answer */
		while (PQisBusy(conn))
		{
			struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
			long		kb;

			if (poll(&pfd, 1, 2) < 0)
				die(NULL, "poll");
			if ((kb = rss_anon_kb(pid)) > peak)
				peak = kb;
			if (pfd.revents && !PQconsumeInput(conn))
				die(conn, "reading the answer");
		}
		if ((res = PQgetResult(conn)) == NULL)
			break;
		switch (PQresultStatus(res))
		{
			case PGRES_SINGLE_TUPLE:
				if (first < 0)
					first = now_ms() - t0;
				if (out)
					for (int c = 0; c < PQnfields(res); c++)
						fprintf(out, "%s%s", c ? "\t" : "",
								PQgetisnull(res, 0, c) ? "\\N" : PQgetvalue(res, 0, c));
				if (out)
					fputc('\n', out);
				break;
			case PGRES_TUPLES_OK:
			case PGRES_COMMAND_OK:
				break;
			default:
				fprintf(stderr, "query_timer: %s", PQresultErrorMessage(res));
				failed = 1;
		}
		PQclear(res);
	}
	if (failed)
		exit(1);
	if (out == NULL)
	{
		long		kb = rss_anon_kb(pid);

		if (kb > peak)
			peak = kb;
		printf("%.1f %.1f %ld %.0f\n", now_ms() - t0, first < 0 ? now_ms() - t0 : first,
			   peak - anon0, cpu_ms(pid) - cpu0);
		fflush(stdout);
	}
}

int
main(int argc, char **argv)
{
	PGconn	   *conn;
	PGresult   *res;
	FILE	   *out;
	int			runs,
				pid;

	if (argc != 6)
	{
		fprintf(stderr, "usage: query_timer CONNINFO RUNS OUTFILE SETTINGS QUERY\n");
		return 2;
	}
	runs = atoi(argv[2]);
	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK)
		die(conn, "connecting");
	pid = PQbackendPID(conn);
	res = PQexec(conn, argv[4]);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		die(conn, "the settings");
	PQclear(res);
	if ((out = fopen(argv[3], "w")) == NULL)
		die(NULL, "opening the output file");
	run(conn, pid, argv[5], out);
	fclose(out);
	for (int r = 0; r < runs; r++)
		run(conn, pid, argv[5], NULL);
	PQfinish(conn);
	return 0;
}
