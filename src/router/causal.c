/*-------------------------------------------------------------------------
 *
 * causal.c
 *	  Causal reads across connections (see causal.h).
 *
 * A web request that writes on one connection and reads on another (a
 * pooler hands out any of them) cannot rely on this session's
 * read-your-writes: the write was another session's.  The writer takes
 * its commit position with foresight.last_commit_lsn(); the reader sets
 * foresight.min_lsn to it, and from then on only nodes that have replayed
 * that position are candidates of its routed reads: the ones the monitor
 * or an earlier query saw past it go first, the others are asked before
 * the query (the read-your-writes machinery of policy.c and route_scan.c),
 * and when none has replayed it the read runs on the coordinator, which
 * has it.  No read waits for a node to catch up.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "fmgr.h"
#include "utils/guc.h"
#include "utils/pg_lsn.h"

#include "router/causal.h"
#include "router/router.h"

PG_FUNCTION_INFO_V1(foresight_last_commit_lsn);

static char *min_lsn_text = NULL;
static XLogRecPtr min_lsn = InvalidXLogRecPtr;

static bool
check_min_lsn(char **newval, void **extra, GucSource source)
{
	bool		have_error = false;
	XLogRecPtr *lsn;

	/* a GUC's extra is malloc'd: the GUC machinery frees it */
	lsn = malloc(sizeof(XLogRecPtr));
	if (lsn == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		return false;
	}
	*lsn = InvalidXLogRecPtr;
	if (*newval != NULL && (*newval)[0] != '\0')
	{
		*lsn = pg_lsn_in_internal(*newval, &have_error);
		if (have_error)
		{
			free(lsn);
			GUC_check_errdetail("A WAL position reads like 0/16B3748, as foresight.last_commit_lsn() gives it.");
			return false;
		}
	}
	*extra = lsn;
	return true;
}

static void
assign_min_lsn(const char *newval, void *extra)
{
	min_lsn = *(XLogRecPtr *) extra;
}

void
causal_define_gucs(void)
{
	DefineCustomStringVariable("foresight.min_lsn",
							   "WAL position that this session's routed reads must see.",
							   "Only nodes that have replayed it are candidates; when none has, the read runs here.  "
							   "Take it from foresight.last_commit_lsn() in the session that wrote.  Empty: none.",
							   &min_lsn_text,
							   "",
							   PGC_USERSET, 0,
							   check_min_lsn, assign_min_lsn, NULL);
}

XLogRecPtr
causal_min_lsn(void)
{
	return min_lsn;
}

/* foresight.last_commit_lsn(): where this session's last commit ended */
Datum
foresight_last_commit_lsn(PG_FUNCTION_ARGS)
{
	XLogRecPtr	lsn = Max(router_last_commit_lsn, XactLastCommitEnd);

	if (lsn == InvalidXLogRecPtr)
		PG_RETURN_NULL();
	PG_RETURN_LSN(lsn);
}
