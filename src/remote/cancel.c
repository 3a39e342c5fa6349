/*-------------------------------------------------------------------------
 *
 * cancel.c
 *	  A cancel request that never blocks (see cancel.h).
 *
 * libpq 15's PQcancel connects, sends the request and then waits for the
 * postmaster to close the socket: on a stopped node (SIGSTOP, a host that
 * froze, a listener that accepts and never answers) that wait has no end,
 * and it cannot be interrupted.  Here the request is the same packet
 * (protocol code 1234.5678, the backend's PID and cancel key) sent on a
 * non-blocking socket whose connect is waited for on the latch machinery
 * for a bounded time; the socket is closed at once after the send: the
 * postmaster reads what was sent before the close.
 *
 * The address and the key are those of PQgetCancel's object, whose first
 * fields are the same in libpq 15 to 17 (raddr, be_pid, be_key); the
 * library in use is checked at run time, and with any other version the
 * request is not sent (the caller closes the connection, which ends the
 * query on the node at its next write).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libpq/pqcomm.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_bswap.h"
#include "storage/fd.h"
#include "storage/latch.h"

#include "remote/cancel.h"

/* the leading fields of libpq's struct pg_cancel (libpq-int.h, 15 to 17) */
typedef struct LibpqCancelHead
{
	SockAddr	raddr;
	int			be_pid;
	int			be_key;
} LibpqCancelHead;

static bool
layout_known(void)
{
	int			v = PQlibVersion();

	return v >= 150000 && v < 180000;
}

/* connect sock to addr, waiting at most timeout_ms; true when connected */
static bool
connect_bounded(pgsocket sock, const SockAddr *addr, long timeout_ms)
{
	int			rc;
	int			err = 0;
	socklen_t	errlen = sizeof(err);

	do
		rc = connect(sock, (const struct sockaddr *) &addr->addr, addr->salen);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return true;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return false;
	/* the wait's own epoll descriptor: CreateWaitEventSet raises without it */
	if (!AcquireExternalFD())
		return false;
	ReleaseExternalFD();
	/* no latch: a bounded wait that nothing but the socket ends early */
	rc = WaitLatchOrSocket(NULL, WL_SOCKET_WRITEABLE | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						   sock, timeout_ms, PG_WAIT_EXTENSION);
	if (!(rc & WL_SOCKET_WRITEABLE))
		return false;
	if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0 || err != 0)
		return false;
	return true;
}

bool
remote_cancel_nowait(PGconn *conn, long timeout_ms, const char **error)
{
	PGcancel   *cancel;
	LibpqCancelHead head;
	pgsocket	sock;
	uint32		packet[4];
	ssize_t		sent;
	bool		ok;

	*error = NULL;
	if (!layout_known())
	{
		*error = "this libpq's cancel object is not known";
		return false;
	}
	if (conn == NULL || (cancel = PQgetCancel(conn)) == NULL)
	{
		*error = "the connection has no cancel key";
		return false;
	}
	memcpy(&head, cancel, sizeof(head));
	PQfreeCancel(cancel);

	/* one more file descriptor, for the moment of the request */
	if (!AcquireExternalFD())
	{
		*error = "out of file descriptors";
		return false;
	}
	sock = socket(head.raddr.addr.ss_family, SOCK_STREAM, 0);
	if (sock == PGINVALID_SOCKET)
	{
		ReleaseExternalFD();
		*error = "could not create a socket";
		return false;
	}
	if (fcntl(sock, F_SETFL, O_NONBLOCK) < 0 ||
		!connect_bounded(sock, &head.raddr, timeout_ms))
	{
		closesocket(sock);
		ReleaseExternalFD();
		*error = "could not connect to the node in time";
		return false;
	}

	packet[0] = pg_hton32((uint32) sizeof(packet));
	packet[1] = pg_hton32(CANCEL_REQUEST_CODE);
	packet[2] = pg_hton32((uint32) head.be_pid);
	packet[3] = pg_hton32((uint32) head.be_key);
	do
		sent = send(sock, packet, sizeof(packet), 0);
	while (sent < 0 && errno == EINTR);
	ok = sent == (ssize_t) sizeof(packet);
	closesocket(sock);
	ReleaseExternalFD();
	if (!ok)
		*error = "could not send the request";
	return ok;
}
