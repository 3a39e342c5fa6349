/*-------------------------------------------------------------------------
 *
 * wal_position.c
 *	  Positions of this server's WAL as the nodes see them, and flushing
 *	  a floor so that the walsenders send it.
 *
 * Every floor a node must have replayed (the session's last commit, the
 * catalog floor, the start of a REPEATABLE READ block, a split read's
 * position, foresight.min_lsn) is compared with the replay positions the
 * nodes report, which end where a record ends.  The insert position of
 * GetXLogInsertRecPtr() is where the next record goes: when the last
 * record ended at a page boundary, that is just past the next page's
 * header, a position no standby reports until another record is written.
 * Floors taken here are therefore taken with wal_insert_end().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xlogrecovery.h"

#include "router/wal_position.h"

XLogRecPtr
wal_insert_end(void)
{
	XLogRecPtr	ptr = GetXLogInsertRecPtr();

	if (XLogSegmentOffset(ptr, wal_segment_size) == SizeOfXLogLongPHD)
		ptr -= SizeOfXLogLongPHD;
	else if (ptr % XLOG_BLCKSZ == SizeOfXLogShortPHD)
		ptr -= SizeOfXLogShortPHD;
	return ptr;
}

/*
 * A node that has replayed this position sees everything a query here
 * would see now.
 */
XLogRecPtr
wal_position_here(void)
{
	if (RecoveryInProgress())
		return GetXLogReplayRecPtr(NULL);
	return wal_insert_end();
}

/*
 * For a floor a node must have replayed: a split read's, the start of a
 * REPEATABLE READ block's, a READ COMMITTED block's that ran a statement
 * here.  A node can replay only what the walsenders have sent it, and
 * they send only WAL that is flushed.  The insert position may end in
 * records nobody has flushed: a page a read pruned, a logical message,
 * none of which the WAL writer flushes on its own until a page fills or
 * something commits; a running-transactions record or an asynchronous
 * commit, which it flushes within wal_writer_delay (200 ms by default: as
 * long as a split waits for its nodes).  A read would then run here though
 * every node could have taken it.  XLogFlush() writes and syncs what is
 * missing, as a synchronous commit does, and wakes the walsenders; it
 * returns at once when the WAL is flushed that far already.
 *
 * A floor beyond the end of the WAL (a foresight.min_lsn from the future,
 * or taken by another server) is flushed only to that end: XLogFlush()
 * fails on a request past it, and no node can have replayed more than was
 * written here, so the read runs here anyway.  On a standby there is
 * nothing to flush: its floors are positions it has replayed.
 */
void
wal_flush_for_nodes(XLogRecPtr upto)
{
	if (upto == InvalidXLogRecPtr || RecoveryInProgress())
		return;
	XLogFlush(Min(upto, wal_insert_end()));
}
