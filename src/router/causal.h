/*-------------------------------------------------------------------------
 *
 * causal.h
 *	  Causal reads across connections: a session's last commit position
 *	  (foresight.last_commit_lsn()) and the position another session asks
 *	  its reads to see (foresight.min_lsn).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CAUSAL_H
#define FORESIGHT_CAUSAL_H

#include "postgres.h"

#include "access/xlogdefs.h"

extern void causal_define_gucs(void);

/* foresight.min_lsn, InvalidXLogRecPtr when unset */
extern XLogRecPtr causal_min_lsn(void);

#endif							/* FORESIGHT_CAUSAL_H */
