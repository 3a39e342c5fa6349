/*-------------------------------------------------------------------------
 *
 * kept_here.h
 *	  Reads a busy coordinator keeps here, decided once and reused for a
 *	  while without scoring them again.
 *
 * When the coordinator is the bottleneck (busy, and its CPU scarcer than
 * every candidate node's: coordinator_cost.c) and running a class of reads
 * here costs it less CPU than routing them, the predictive policy keeps
 * every such read here whichever node its scores prefer; and reads its
 * scores themselves clearly send here (by more than a near-tie) would be
 * scored again only to reach the same answer.  Scoring each of them (and,
 * for a statement of the simple protocol, lifting its constants, finding
 * its shape and wrapping it in a route node) is then work that only slows
 * the bottleneck down.  So a full decision that kept a read here for
 * either reason (policy_predictive.c, verdict_holds()) is remembered for
 * its request class, per
 * backend, for one monitor sample interval (the predictions it read change
 * only once per sample); the reads of that class meanwhile run here
 * without a decision of their own.  One read in KEPT_HERE_RECHECK still
 * takes the full decision, which renews or forgets what is remembered, so
 * that the verdict follows the load at the rate of the reads.
 *
 * Only outside transaction blocks, without a running experiment, with the
 * predictive policy, foresight.coordinator_cost and foresight.include_local
 * on, the same foresight.prediction_model as when it was decided, and on a
 * standby only without foresight.min_lsn (which may exclude it).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_KEPT_HERE_H
#define FORESIGHT_KEPT_HERE_H

#include "postgres.h"

#include "stats/request_class.h"

#define KEPT_HERE_RECHECK 16	/* one read in this many decides in full */

/*
 * After a full decision of the predictive policy for class cls (not a dry
 * run, no experiment arm): keep is true when the verdict, here, holds for
 * the next reads (policy_predictive.c, verdict_holds()), reason then what
 * the log says of them (else NULL).  Otherwise what was remembered for cls
 * is forgotten.
 */
extern void kept_here_note(RequestClass cls, bool keep, const char *reason);

/*
 * May this read run on what is remembered, if its class is kept?  False
 * when nothing is, in a session or under settings where nothing is reused
 * (above), and for one read in KEPT_HERE_RECHECK, which must be decided in
 * full.  Asked once per read, before its class is known (before planning).
 */
extern bool kept_here_pending(void);

/*
 * After kept_here_pending(): does a read of class cls run here on what was
 * remembered?  If so, the reason for the decision log is written to reason.
 */
extern bool kept_here_applies(RequestClass cls, char *reason, size_t reason_len);

#endif							/* FORESIGHT_KEPT_HERE_H */
