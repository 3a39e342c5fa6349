/*-------------------------------------------------------------------------
 *
 * peak_hours.h
 *	  Parse and evaluate foresight.peak_hours, e.g.
 *	  'Mon-Fri 08:00-18:00, Sat 10:00-13:00'.
 *
 * Pure C (no server headers) so it is checked by a GUC check hook, by a
 * SQL test function and by unit tests alike.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_PEAK_HOURS_H
#define FORESIGHT_PEAK_HOURS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define PEAK_MINUTES_PER_WEEK (7 * 24 * 60)

/* one bit per minute of the week; minute 0 = Monday 00:00 */
typedef struct PeakHours
{
	bool		any;			/* false for '' (no peak hours) */
	uint8_t		minutes[PEAK_MINUTES_PER_WEEK / 8];
} PeakHours;

/*
 * Parse spec into out.  Returns true on success; on failure returns false
 * and writes a one-line reason (no trailing period) into error.
 */
extern bool peak_hours_parse(const char *spec, PeakHours *out,
							 char *error, size_t errorlen);

/* Is minute-of-week (0 = Monday 00:00) in the peak? */
extern bool peak_hours_contains(const PeakHours *ph, int minute_of_week);

#endif							/* FORESIGHT_PEAK_HOURS_H */
