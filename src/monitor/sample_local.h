/*-------------------------------------------------------------------------
 *
 * sample_local.h
 *	  The coordinator's own sample, taken in the monitor's process (the
 *	  nodes are polled over libpq by poller.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SAMPLE_LOCAL_H
#define FORESIGHT_SAMPLE_LOCAL_H

#include "datatype/timestamp.h"

extern void sample_local_reset(void);
extern void sample_local(TimestampTz now);

#endif							/* FORESIGHT_SAMPLE_LOCAL_H */
