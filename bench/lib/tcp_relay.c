/*-------------------------------------------------------------------------
 *
 * tcp_relay.c
 *	  The least a proxy does, for the benchmarks (bench/routing_cpu.sh): a
 *	  TCP relay on loopback that copies bytes both ways between each
 *	  connection it accepts and one it opens to the target, in one epoll
 *	  loop, without reading the protocol.
 *
 *	  tcp_relay LISTEN_PORT TARGET_PORT
 *
 * Per message: one epoll_wait (a sleep when nothing is there yet), one
 * recv and one send, with TCP_NODELAY on both sides, as a proxy that
 * relays a query and its answer needs at the least.  Its CPU per query,
 * against the coordinator backend's for a routed query, is what a relay
 * costs before any of the protocol's or the routing's work.  Runs until
 * killed; prints "ready" once it listens.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 1024

static int	peer[MAX_FDS];

static void
fail(const char *what)
{
	perror(what);
	exit(1);
}

static void
no_delay(int fd)
{
	int			on = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
		fail("setsockopt");
}

static void
watch(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN,.data.fd = fd};

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		fail("epoll_ctl");
}

/* a connection accepted: its pair to the target, both watched */
static void
pair_up(int ep, int client, int target_port)
{
	struct sockaddr_in to = {.sin_family = AF_INET,.sin_port = htons(target_port)};
	int			server = socket(AF_INET, SOCK_STREAM, 0);

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (server < 0 || server >= MAX_FDS || client >= MAX_FDS)
		fail("socket");
	if (connect(server, (struct sockaddr *) &to, sizeof(to)) < 0)
	{
		perror("connect");
		close(server);
		close(client);
		return;
	}
	no_delay(client);
	no_delay(server);
	peer[client] = server;
	peer[server] = client;
	watch(ep, client);
	watch(ep, server);
}

static void
unpair(int fd)
{
	int			other = peer[fd];

	close(fd);					/* closing removes it from the epoll set */
	close(other);
	peer[fd] = peer[other] = -1;
}

/*
 * One read of fd, all of it written to its peer.  The read does not wait:
 * a readiness reported for a descriptor closed and reused within the same
 * epoll batch may find nothing.
 */
static void
relay(int fd)
{
	char		buf[65536];
	ssize_t		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n <= 0)
	{
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		unpair(fd);
		return;
	}
	for (ssize_t off = 0; off < n;)
	{
		ssize_t		w = send(peer[fd], buf + off, n - off, MSG_NOSIGNAL);

		if (w < 0)
		{
			if (errno == EINTR)
				continue;
			unpair(fd);
			return;
		}
		off += w;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in at = {.sin_family = AF_INET};
	int			listener;
	int			ep;
	int			on = 1;
	int			target_port;

	if (argc != 3)
	{
		fprintf(stderr, "usage: tcp_relay LISTEN_PORT TARGET_PORT\n");
		return 2;
	}
	target_port = atoi(argv[2]);
	at.sin_port = htons(atoi(argv[1]));
	at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(peer, -1, sizeof(peer));

	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 ||
		setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
		bind(listener, (struct sockaddr *) &at, sizeof(at)) < 0 ||
		listen(listener, 64) < 0)
		fail("listen");
	ep = epoll_create1(0);
	if (ep < 0)
		fail("epoll_create1");
	watch(ep, listener);
	printf("ready\n");
	fflush(stdout);

	for (;;)
	{
		struct epoll_event events[64];
		int			n = epoll_wait(ep, events, 64, -1);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			fail("epoll_wait");
		}
		for (int i = 0; i < n; i++)
		{
			int			fd = events[i].data.fd;

			if (fd == listener)
			{
				int			client = accept(listener, NULL, NULL);

				if (client >= 0)
					pair_up(ep, client, target_port);
			}
			else if (peer[fd] >= 0)
				relay(fd);
		}
	}
}
