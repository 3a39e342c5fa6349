/*-------------------------------------------------------------------------
 *
 * test_reason_text.c
 *	  Unit tests (TAP output) of the reason builder (reason_text.c): the
 *	  text it appends is snprintf's for "%s", "%d" and "%.Nf", cut where
 *	  snprintf would cut it.
 *
 *	  make src/router/test/test_reason_text && src/router/test/test_reason_text
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/reason_text.h"
#include "core/test/tap.h"

/* one number as the builder and as snprintf write it */
static int
same_fixed(double v, int decimals)
{
	char		want[64];
	char		got[64];
	ReasonText	rt;

	snprintf(want, sizeof(want), "%.*f", decimals, v);
	reason_text_init(&rt, got, sizeof(got));
	reason_text_fixed(&rt, v, decimals);
	if (strcmp(want, got) != 0)
	{
		diag("%.17g with %d decimals: \"%s\", snprintf \"%s\"", v, decimals, got, want);
		return 0;
	}
	return 1;
}

static void
test_fixed(void)
{
	static const double edges[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, 0.001, -0.001,
		0.9995, 0.99951, 123456.789, -98765.4321, 1e14, 9.99e14, 1e15, 1e300, -1e300,
	0.07734, 0.9399, 42.0};
	int			bad = 0;
	int			halfway = 0;
	uint64_t	state = 88172645463325252ULL;

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		for (int d = 0; d <= 3; d++)
			bad += !same_fixed(edges[i], d);
	ok(bad == 0, "edge values are written as snprintf writes them (%d differ)", bad);

	ok(same_fixed(NAN, 2) && same_fixed(INFINITY, 0) && same_fixed(-INFINITY, 3),
	   "NaN and infinities as snprintf");

	/*
	 * Random loads, scores and times: a value exactly halfway between two
	 * roundings once scaled may differ (reason_text.h); none other.
	 */
	bad = 0;
	for (int i = 0; i < 200000; i++)
	{
		double		v;
		int			d = i % 4;
		double		scaled;

		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		v = (double) (state >> 11) / 9007199254740992.0;
		if (i % 3 == 1)
			v = v * 2000.0 - 1000.0;
		else if (i % 3 == 2)
			v = floor(v * 100000.0) / 1000.0;	/* decimals that look exact */
		scaled = v * pow(10.0, d);
		if (fabs(scaled - floor(scaled) - 0.5) < 1e-9)
		{
			halfway++;
			continue;
		}
		bad += !same_fixed(v, d);
	}
	ok(bad == 0, "200,000 random values as snprintf (%d differ, %d halfway skipped)", bad, halfway);
}

static void
test_int_and_str(void)
{
	char		buf[64];
	char		want[64];
	ReasonText	rt;

	reason_text_init(&rt, buf, sizeof(buf));
	reason_text_str(&rt, "over ");
	reason_text_int(&rt, 0);
	reason_text_str(&rt, "/");
	reason_text_int(&rt, -42);
	reason_text_str(&rt, "/");
	reason_text_int(&rt, 2147483647L);
	snprintf(want, sizeof(want), "over %d/%d/%d", 0, -42, 2147483647);
	ok(strcmp(buf, want) == 0 && rt.len == strlen(want), "strings and integers: \"%s\"", buf);

	/* cut where snprintf cuts: at size - 1, and no further writes */
	reason_text_init(&rt, buf, 8);
	reason_text_str(&rt, "policy ");
	reason_text_fixed(&rt, 0.123, 3);
	reason_text_str(&rt, " more");
	ok(strcmp(buf, "policy ") == 0 && rt.len == 7, "cut at the buffer's end: \"%s\"", buf);
	reason_text_init(&rt, buf, 10);
	reason_text_str(&rt, "score ");
	reason_text_fixed(&rt, 0.123, 3);
	ok(strcmp(buf, "score 0.1") == 0 && rt.len == 9, "a number cut in its middle, as snprintf: \"%s\"", buf);

	reason_text_init(&rt, buf, 1);
	reason_text_str(&rt, "x");
	reason_text_int(&rt, 7);
	ok(buf[0] == '\0' && rt.len == 0, "a buffer of one byte stays empty");
}

int
main(void)
{
	test_fixed();
	test_int_and_str();
	return tap_done();
}
