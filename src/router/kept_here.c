/*-------------------------------------------------------------------------
 *
 * kept_here.c
 *	  Reads the coordinator's own cost keeps here, decided once and reused
 *	  (see kept_here.h).
 *
 * Backend-local: what one backend remembers is what its own last full
 * decision of the class said, under its own settings.  Nothing here takes
 * a lock: a read that runs on what is remembered costs a clock reading, an
 * atomic read (is an experiment running?) and a few comparisons.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "utils/timestamp.h"

#include "router/causal.h"
#include "router/coordinator_cost.h"
#include "router/experiment.h"
#include "router/kept_here.h"
#include "router/predictive_score.h"
#include "router/reason_text.h"
#include "router/router.h"
#include "stats/decision_log.h"
#include "stats/history.h"

typedef struct KeptClass
{
	bool		kept;
	TimestampTz decided_at;
	int			prediction_model;	/* the setting it was decided under */
	char		reason[DECISION_TEXT_MAX];
} KeptClass;

static KeptClass kept[REQUEST_CLASS_COUNT];
static uint32 reads_since_full = 0;
static bool full_decision_due = false;	/* until the next full decision */

void
kept_here_note(RequestClass cls, bool keep, const char *reason)
{
	KeptClass  *k = &kept[cls];

	full_decision_due = false;
	k->kept = keep;
	if (!keep)
		return;
	k->decided_at = GetCurrentTimestamp();
	k->prediction_model = foresight_prediction_model;
	strlcpy(k->reason, reason, sizeof(k->reason));
}

/* the settings and session state under which nothing is reused */
static bool
session_allows(void)
{
	if (foresight_routing_policy != ROUTING_POLICY_PREDICTIVE ||
		!foresight_coordinator_cost || !foresight_include_local)
		return false;
	if (IsTransactionBlock())
		return false;			/* a block's reads keep one route: policy.c */
	if (experiment_is_running())
		return false;			/* its arms have settings of their own */
	if (RecoveryInProgress() && causal_min_lsn() != InvalidXLogRecPtr)
		return false;			/* this standby may not be a candidate */
	return true;
}

/* is what was remembered for k still the answer at now? */
static bool
still_valid(const KeptClass *k, TimestampTz now)
{
	return k->kept && k->prediction_model == foresight_prediction_model &&
		now >= k->decided_at &&
		now - k->decided_at < (int64) foresight_sample_interval_ms * 1000;
}

bool
kept_here_pending(void)
{
	bool		any = false;

	if (full_decision_due)
		return false;
	for (int c = 0; c < REQUEST_CLASS_COUNT; c++)
		any |= kept[c].kept;
	if (!any || !session_allows())
		return false;

	/*
	 * Now and then the full decision, which renews or forgets what is
	 * remembered and measures the costs: due until it was made.
	 */
	if (++reads_since_full >= KEPT_HERE_RECHECK)
	{
		reads_since_full = 0;
		full_decision_due = true;
		return false;
	}
	return true;
}

bool
kept_here_applies(RequestClass cls, char *reason, size_t reason_len)
{
	KeptClass  *k = &kept[cls];
	TimestampTz now;
	ReasonText	rt;

	if (!k->kept || full_decision_due)
		return false;
	now = GetCurrentTimestamp();
	if (!still_valid(k, now))
	{
		k->kept = false;
		return false;
	}

	/* "<the decision's reason>; decided 12 ms ago" */
	reason_text_init(&rt, reason, reason_len);
	reason_text_str(&rt, k->reason);
	reason_text_str(&rt, "; decided ");
	reason_text_int(&rt, (long) ((now - k->decided_at) / 1000));
	reason_text_str(&rt, " ms ago");
	return true;
}
