/*-------------------------------------------------------------------------
 *
 * cgroup.c
 *	  Parsers of the control-group files behind an instance's CPU limit
 *	  (see cgroup.h).  No server headers: the unit tests build this file
 *	  on its own.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/cgroup.h"

/* Does the comma-separated list [list, end) hold the word "cpu"? */
static bool
names_cpu_controller(const char *list, const char *end)
{
	const char *p = list;

	while (p < end)
	{
		const char *comma = memchr(p, ',', end - p);
		const char *stop = comma ? comma : end;

		if (stop - p == 3 && strncmp(p, "cpu", 3) == 0)
			return true;
		p = stop + 1;
	}
	return false;
}

static bool
copy_path(const char *start, const char *end, char *path, size_t size)
{
	size_t		len = end - start;

	if (len == 0 || len >= size || start[0] != '/')
		return false;
	memcpy(path, start, len);
	path[len] = '\0';
	return true;
}

bool
cgroup_cpu_path(const char *proc_cgroup, char *path, size_t size, bool *v2)
{
	const char *line = proc_cgroup;
	const char *v2_start = NULL;
	const char *v2_end = NULL;

	/* lines "hierarchy-id:controller-list:path" */
	while (line != NULL && *line != '\0')
	{
		const char *eol = strchr(line, '\n');
		const char *end = eol ? eol : line + strlen(line);
		const char *c1 = memchr(line, ':', end - line);
		const char *c2 = c1 ? memchr(c1 + 1, ':', end - c1 - 1) : NULL;

		if (c2 != NULL)
		{
			if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1)
			{
				v2_start = c2 + 1;
				v2_end = end;
			}
			else if (names_cpu_controller(c1 + 1, c2))
			{
				*v2 = false;
				return copy_path(c2 + 1, end, path, size);
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	if (v2_start == NULL)
		return false;
	*v2 = true;
	return copy_path(v2_start, v2_end, path, size);
}

/* A non-negative decimal integer at *p, advancing *p; false if none. */
static bool
parse_count(const char **p, uint64_t *value)
{
	char	   *end;
	unsigned long long v;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	if (**p < '0' || **p > '9')
		return false;
	errno = 0;
	v = strtoull(*p, &end, 10);
	if (errno != 0)
		return false;
	*p = end;
	*value = (uint64_t) v;
	return true;
}

static bool
at_line_end(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0' || *p == '\n';
}

bool
cgroup_parse_cpu_max(const char *text, double *cores, uint64_t *period_us)
{
	const char *p = text;
	uint64_t	quota;
	uint64_t	period;

	if (!parse_count(&p, &quota))
		return false;			/* "max": no limit */
	if (!parse_count(&p, &period) || !at_line_end(p) || quota == 0 || period == 0)
		return false;
	*cores = (double) quota / (double) period;
	*period_us = period;
	return true;
}

bool
cgroup_parse_cfs_quota(const char *quota_text, const char *period_text, double *cores,
					   uint64_t *period_us)
{
	const char *q = quota_text;
	const char *p = period_text;
	uint64_t	quota;
	uint64_t	period;

	/* "-1" (no quota) fails here, as it should */
	if (!parse_count(&q, &quota) || !at_line_end(q) || quota == 0)
		return false;
	if (!parse_count(&p, &period) || !at_line_end(p) || period == 0)
		return false;
	*cores = (double) quota / (double) period;
	*period_us = period;
	return true;
}

bool
cgroup_parse_cpu_stat(const char *text, uint64_t *periods, uint64_t *throttled)
{
	const char *line = text;
	bool		have_periods = false;
	bool		have_throttled = false;

	while (line != NULL && *line != '\0')
	{
		const char *space = strchr(line, ' ');
		const char *eol = strchr(line, '\n');

		if (space != NULL && (eol == NULL || space < eol))
		{
			const char *value = space;
			size_t		keylen = space - line;

			if (keylen == strlen("nr_periods") && strncmp(line, "nr_periods", keylen) == 0)
				have_periods = parse_count(&value, periods);
			else if (keylen == strlen("nr_throttled") && strncmp(line, "nr_throttled", keylen) == 0)
				have_throttled = parse_count(&value, throttled);
		}
		line = eol ? eol + 1 : NULL;
	}
	return have_periods && have_throttled && *throttled <= *periods;
}
