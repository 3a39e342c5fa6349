/*-------------------------------------------------------------------------
 *
 * reason_text.c
 *	  A decision's reason appended piece by piece (see reason_text.h).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "router/reason_text.h"

void
reason_text_init(ReasonText *rt, char *buf, size_t size)
{
	rt->buf = buf;
	rt->size = size;
	rt->len = 0;
	buf[0] = '\0';
}

static void
append_bytes(ReasonText *rt, const char *s, size_t n)
{
	size_t		room = rt->size - 1 - rt->len;

	if (n > room)
		n = room;
	memcpy(rt->buf + rt->len, s, n);
	rt->len += n;
	rt->buf[rt->len] = '\0';
}

void
reason_text_str(ReasonText *rt, const char *s)
{
	append_bytes(rt, s, strlen(s));
}

/* write u's decimal digits to end just before end; returns the first */
static char *
digits_backwards(char *end, uint64_t u)
{
	do
	{
		*--end = (char) ('0' + u % 10);
		u /= 10;
	} while (u != 0);
	return end;
}

void
reason_text_int(ReasonText *rt, long value)
{
	char		tmp[32];
	char	   *start;
	uint64_t	u = value < 0 ? (uint64_t) 0 - (uint64_t) value : (uint64_t) value;

	start = digits_backwards(tmp + sizeof(tmp), u);
	if (value < 0)
		*--start = '-';
	append_bytes(rt, start, tmp + sizeof(tmp) - start);
}

void
reason_text_fixed(ReasonText *rt, double value, int decimals)
{
	static const double scale[] = {1.0, 10.0, 100.0, 1000.0};
	char		tmp[48];
	char	   *start;
	double		scaled;
	uint64_t	u;

	if (decimals < 0)
		decimals = 0;
	else if (decimals > 3)
		decimals = 3;
	scaled = rint(fabs(value) * scale[decimals]);
	if (!(scaled < 1e15))
	{
		/* NaN, infinities and huge values: printf's text (up to 313 bytes) */
		char		big[320];

		snprintf(big, sizeof(big), "%.*f", decimals, value);
		reason_text_str(rt, big);
		return;
	}
	u = (uint64_t) scaled;
	start = tmp + sizeof(tmp);
	if (decimals > 0)
	{
		for (int i = 0; i < decimals; i++)
		{
			*--start = (char) ('0' + u % 10);
			u /= 10;
		}
		*--start = '.';
	}
	start = digits_backwards(start, u);
	/* printf keeps the sign of a negative value rounded to zero: "-0.00" */
	if (signbit(value))
		*--start = '-';
	append_bytes(rt, start, tmp + sizeof(tmp) - start);
}
