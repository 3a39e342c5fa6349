/*-------------------------------------------------------------------------
 *
 * catalog_floor.c
 *	  The catalog floor: the end of the latest commit on this server that
 *	  changed the catalogs in a way that can change how a query reads.
 *
 * A routed query is planned and deparsed here with the catalogs as they
 * are here.  A node that has not replayed a recent catalog change reads the
 * deparsed text with its older catalogs: a table another session just
 * created does not exist there, a column just added is missing, two columns
 * swapped by renames are read swapped without any error, a function or view
 * just redefined answers the old way.  Read-your-writes (the session's own
 * last commit) does not cover other sessions' changes, so every backend
 * keeps the floor up to date in shared memory and the policy requires every
 * node to have replayed max(the session's last commit, the floor): the
 * read-your-writes machinery (the monitor's last-seen replay position,
 * else a check on the node before the query is sent) does the rest.
 *
 * Which commits raise it: those whose transaction queued catalog
 * invalidation messages (xactGetCommittedInvalidationMessages() at
 * PRE_COMMIT, the messages the commit record carries to the standbys),
 * except statistics-only transactions: autovacuum workers, and
 * transactions that ran nothing at top level but VACUUM or ANALYZE.  Those
 * change pg_class.relpages/reltuples/relfrozenxid, pg_statistic and the
 * like, which change plans but never answers, and autovacuum would
 * otherwise raise the floor every few seconds on a busy server.
 *
 * The floor is raised at XACT_EVENT_COMMIT to the commit's end LSN (a CAS
 * loop: only ever up).  The commit is visible to others a little earlier
 * (ProcArrayEndTransaction comes before the callback), so from PRE_COMMIT
 * to the raise the transaction is counted in "in_flight", and a decision
 * made meanwhile requires this server's current WAL insert position, which
 * is past any commit record already visible.  COMMIT PREPARED raises it the
 * same way (whether the prepared transaction changed catalogs is not known
 * here).
 *
 * The floor is one for the whole server (a change in one database raises it
 * for all: shared catalogs are shared) and starts at 0 in new shared
 * memory: the first decision after a start sets it to the insert position
 * then, since the changes made before the start are not known.
 *
 * Cost: while the floor does not move, nothing (two atomic reads per
 * decision).  When it moves, each backend's next routed query to each node
 * asks the node its replay position (one round trip) until one backend has
 * learned it for all (node_health_note_replayed) or the monitor's next
 * sample shows it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "nodes/parsenodes.h"
#include "port/atomics.h"
#include "postmaster/autovacuum.h"
#include "storage/shmem.h"
#include "storage/sinval.h"

#include "router/catalog_floor.h"
#include "router/wal_position.h"

typedef struct CatalogFloorShared
{
	pg_atomic_uint64 floor;		/* end LSN of the latest catalog commit; 0:
								 * not set since the start */
	pg_atomic_uint32 in_flight; /* catalog commits between PRE_COMMIT and
								 * their raise of the floor */
} CatalogFloorShared;

static CatalogFloorShared *floor_shared = NULL;

/* this backend */
static bool counted_in_flight = false;	/* this commit is in in_flight */
static bool commit_has_xid = false; /* ... and has a commit record */
static bool commit_prepared_in_flight = false;
static int	maintenance_depth = 0;	/* inside a top-level VACUUM/ANALYZE */
static bool xact_ran_maintenance = false;	/* ran VACUUM/ANALYZE at top level */
static bool xact_ran_other = false; /* ran any other top-level statement */

Size
catalog_floor_shmem_size(void)
{
	return sizeof(CatalogFloorShared);
}

void
catalog_floor_shmem_init(void)
{
	bool		found;

	floor_shared = ShmemInitStruct("pg_foresight catalog floor",
								   sizeof(CatalogFloorShared), &found);
	if (!found)
	{
		pg_atomic_init_u64(&floor_shared->floor, InvalidXLogRecPtr);
		pg_atomic_init_u32(&floor_shared->in_flight, 0);
	}
}

/* raise the floor to lsn (never lowers it); returns the floor */
static XLogRecPtr
floor_raise(XLogRecPtr lsn)
{
	uint64		cur = pg_atomic_read_u64(&floor_shared->floor);

	while (cur < lsn)
	{
		/* on failure cur is the value found */
		if (pg_atomic_compare_exchange_u64(&floor_shared->floor, &cur, lsn))
			return lsn;
	}
	return cur;
}

XLogRecPtr
catalog_floor_required(void)
{
	uint32		in_flight;
	XLogRecPtr	floor;

	/*
	 * A standby changes no catalogs: they change by replay, and a standby's
	 * routed reads already require what it had replayed (policy.c).
	 */
	if (floor_shared == NULL || RecoveryInProgress())
		return InvalidXLogRecPtr;

	/*
	 * in_flight first, then the floor: a committer raises the floor before
	 * it leaves in_flight, so one of the two reads sees its commit.
	 */
	in_flight = pg_atomic_read_u32(&floor_shared->in_flight);
	pg_read_barrier();
	floor = pg_atomic_read_u64(&floor_shared->floor);

	if (floor == InvalidXLogRecPtr || in_flight > 0)
	{
		XLogRecPtr	insert = wal_insert_end();

		if (floor == InvalidXLogRecPtr)
			floor = floor_raise(insert);
		else
			floor = Max(floor, insert);
	}
	return floor;
}

XLogRecPtr
catalog_floor_current(void)
{
	return floor_shared ? pg_atomic_read_u64(&floor_shared->floor) : InvalidXLogRecPtr;
}

static void
leave_in_flight(void)
{
	if (counted_in_flight)
	{
		pg_atomic_fetch_sub_u32(&floor_shared->in_flight, 1);
		counted_in_flight = false;
	}
}

/* Statistics only: a VACUUM or ANALYZE, by autovacuum or at top level alone. */
static bool
xact_is_maintenance_only(void)
{
	return IsAutoVacuumWorkerProcess() || maintenance_depth > 0 ||
		(xact_ran_maintenance && !xact_ran_other);
}

/* Does the committing transaction change the catalogs for readers? */
static bool
xact_changes_catalogs(void)
{
	SharedInvalidationMessage *msgs;
	bool		init_file;

	if (xact_is_maintenance_only())
		return false;
	return xactGetCommittedInvalidationMessages(&msgs, &init_file) > 0;
}

void
catalog_floor_xact_callback(XactEvent event)
{
	if (floor_shared == NULL)
		return;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (xact_changes_catalogs())
			{
				/* a full barrier: counted before the commit is visible */
				pg_atomic_fetch_add_u32(&floor_shared->in_flight, 1);
				counted_in_flight = true;
				commit_has_xid = TransactionIdIsValid(GetTopTransactionIdIfAny());
			}
			break;
		case XACT_EVENT_COMMIT:
			if (counted_in_flight)
			{
				/*
				 * Without an xid there is no commit record: the messages went
				 * in a record of their own, before the insert position now.
				 */
				floor_raise(commit_has_xid ? XactLastCommitEnd : wal_insert_end());
				leave_in_flight();
			}
			xact_ran_maintenance = xact_ran_other = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			leave_in_flight();
			xact_ran_maintenance = xact_ran_other = false;
			break;
		default:
			break;
	}
}

void
catalog_floor_utility_begin(Node *stmt, bool top_level)
{
	if (floor_shared == NULL)
		return;

	if (IsA(stmt, TransactionStmt))
	{
		/* the prepared transaction becomes visible inside the statement */
		if (((TransactionStmt *) stmt)->kind == TRANS_STMT_COMMIT_PREPARED &&
			!commit_prepared_in_flight)
		{
			pg_atomic_fetch_add_u32(&floor_shared->in_flight, 1);
			commit_prepared_in_flight = true;
		}
		return;
	}
	if (!top_level)
		return;
	if (IsA(stmt, VacuumStmt))
	{
		maintenance_depth++;
		xact_ran_maintenance = true;
	}
	else
		xact_ran_other = true;
}

void
catalog_floor_utility_end(Node *stmt, bool top_level)
{
	if (floor_shared == NULL)
		return;

	if (IsA(stmt, TransactionStmt))
	{
		if (commit_prepared_in_flight)
		{
			/* error or not: raising the floor is never wrong, only costly */
			floor_raise(wal_insert_end());
			pg_atomic_fetch_sub_u32(&floor_shared->in_flight, 1);
			commit_prepared_in_flight = false;
		}
		return;
	}
	if (top_level && IsA(stmt, VacuumStmt))
	{
		maintenance_depth--;
		/* VACUUM committed its own transactions: this is its last one */
		xact_ran_maintenance = true;
	}
}

void
catalog_floor_executor_start(bool top_level)
{
	if (top_level)
		xact_ran_other = true;
}
