/*-------------------------------------------------------------------------
 *
 * peak_hours.c
 *	  The peak-hours language of foresight.peak_hours.
 *
 *	  spec     := '' | window { ',' window }
 *	  window   := days ' ' HH:MM '-' HH:MM
 *	  days     := day | day '-' day          (a range may wrap: Fri-Mon)
 *	  day      := Mon | Tue | Wed | Thu | Fri | Sat | Sun   (any case)
 *
 * A window whose end is not after its start runs past midnight into the
 * next day (22:00-06:00); 24:00 is allowed as an end.  Days and times are
 * read in the server's time zone (log_timezone).
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "router/peak_hours.h"

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static void
skip_spaces(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static int
parse_day(const char **p)
{
	for (int d = 0; d < 7; d++)
	{
		if (strncasecmp(*p, day_names[d], 3) == 0 && !isalpha((unsigned char) (*p)[3]))
		{
			*p += 3;
			return d;
		}
	}
	return -1;
}

/* HH:MM, 00:00 .. 24:00; returns minutes or -1 */
static int
parse_time(const char **p)
{
	const char *s = *p;
	int			h,
				m;

	if (!isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]) || s[2] != ':' ||
		!isdigit((unsigned char) s[3]) || !isdigit((unsigned char) s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*p += 5;
	return h * 60 + m;
}

static void
set_minute(PeakHours *ph, int minute)
{
	minute %= PEAK_MINUTES_PER_WEEK;
	ph->minutes[minute / 8] |= (uint8_t) (1u << (minute % 8));
}

bool
peak_hours_contains(const PeakHours *ph, int minute_of_week)
{
	if (!ph->any || minute_of_week < 0 || minute_of_week >= PEAK_MINUTES_PER_WEEK)
		return false;
	return (ph->minutes[minute_of_week / 8] >> (minute_of_week % 8)) & 1;
}

bool
peak_hours_parse(const char *spec, PeakHours *out, char *error, size_t errorlen)
{
	const char *p = spec;
	int			nwindows = 0;

	memset(out, 0, sizeof(PeakHours));
	skip_spaces(&p);
	if (*p == '\0')
		return true;

	for (;;)
	{
		int			first,
					last,
					start,
					end,
					ndays;
		const char *window = p;

		first = parse_day(&p);
		if (first < 0)
		{
			snprintf(error, errorlen, "Expected a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun) at \"%.20s\"", window);
			return false;
		}
		last = first;
		if (*p == '-')
		{
			p++;
			last = parse_day(&p);
			if (last < 0)
			{
				snprintf(error, errorlen, "Expected a day after \"-\" at \"%.20s\"", window);
				return false;
			}
		}
		if (*p != ' ' && *p != '\t')
		{
			snprintf(error, errorlen, "Expected a space and a time range after the days in \"%.20s\"", window);
			return false;
		}
		skip_spaces(&p);
		start = parse_time(&p);
		if (start < 0 || *p != '-')
		{
			snprintf(error, errorlen, "Expected a time range such as 08:00-18:00 in \"%.20s\"", window);
			return false;
		}
		p++;
		end = parse_time(&p);
		if (end < 0 || start == 24 * 60)
		{
			snprintf(error, errorlen, "Expected a time range such as 08:00-18:00 in \"%.20s\"", window);
			return false;
		}
		if (end == start)
		{
			snprintf(error, errorlen, "The time range in \"%.20s\" is empty: its start equals its end", window);
			return false;
		}

		ndays = ((last - first + 7) % 7) + 1;
		for (int i = 0; i < ndays; i++)
		{
			int			day = (first + i) % 7;
			int			length = end > start ? end - start : end + 24 * 60 - start;

			for (int m = 0; m < length; m++)
				set_minute(out, day * 24 * 60 + start + m);
		}
		nwindows++;

		skip_spaces(&p);
		if (*p == '\0')
			break;
		if (*p != ',')
		{
			snprintf(error, errorlen, "Expected \",\" or the end after a window, found \"%.20s\"", p);
			return false;
		}
		p++;
		skip_spaces(&p);
	}
	out->any = nwindows > 0;
	return true;
}
