/*-------------------------------------------------------------------------
 *
 * reason_text.h
 *	  Building a decision's reason in a fixed buffer without printf: the
 *	  text every routed read writes (policy.c, policy_predictive.c).
 *
 * glibc's printf formats a double through multi-precision arithmetic and
 * parses its format string on every call: about a microsecond for the
 * predictive policy's reason, the largest single item of a decision
 * (docs/benchmarks.md, "Where a routed read's CPU goes").  These append
 * pieces instead; the text is the same as "%s", "%d" and "%.Nf" give
 * (a value exactly halfway between two roundings aside, when scaling it
 * by 10^N is inexact), and is cut at the buffer's end as snprintf cuts.
 * No server headers: src/router/test/test_reason_text.c checks it against
 * snprintf on its own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_REASON_TEXT_H
#define FORESIGHT_REASON_TEXT_H

#include <stddef.h>

typedef struct ReasonText
{
	char	   *buf;
	size_t		size;			/* of buf, the terminating zero included */
	size_t		len;			/* written so far */
} ReasonText;

/* Start writing at buf's beginning (size > 0; buf is "" afterwards). */
extern void reason_text_init(ReasonText *rt, char *buf, size_t size);

/* Append a string. */
extern void reason_text_str(ReasonText *rt, const char *s);

/* Append an integer, as "%d". */
extern void reason_text_int(ReasonText *rt, long value);

/* Append a number with 0 to 3 decimals (others are taken as 0 or 3), as "%.Nf". */
extern void reason_text_fixed(ReasonText *rt, double value, int decimals);

#endif							/* FORESIGHT_REASON_TEXT_H */
