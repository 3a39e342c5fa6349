/*-------------------------------------------------------------------------
 *
 * self_address.c
 *	  Refuse a node connection string that names this server itself (see
 *	  self_address.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>

#include "libpq-fe.h"
#include "postmaster/postmaster.h"
#include "utils/varlena.h"

#include "registry/conninfo.h"
#include "registry/self_address.h"

/* the port libpq would use when the conninfo gives none */
static int
default_port(void)
{
	const char *env = getenv("PGPORT");

	return (env && env[0]) ? atoi(env) : DEF_PGPORT;
}

/* an IPv4 address in 127.0.0.0/8, ::1, or a wildcard address */
static bool
loopback_address(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127 || a4.s_addr == htonl(INADDR_ANY);
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6) ||
			(IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/* is name one of the entries of a comma-separated GUC list? */
static bool
in_guc_list(const char *name, const char *list)
{
	char	   *copy;
	List	   *items;
	ListCell   *lc;
	bool		found = false;

	if (list == NULL)
		return false;
	copy = pstrdup(list);
	if (!SplitDirectoriesString(copy, ',', &items))
		return false;
	foreach(lc, items)
	{
		if (strcmp((char *) lfirst(lc), name) == 0)
			found = true;
	}
	return found;
}

/* is the host (a name, an address or a socket directory) this server? */
static bool
host_is_here(const char *host)
{
	if (host[0] == '/' || host[0] == '@')
		return in_guc_list(host, Unix_socket_directories);
	if (pg_strcasecmp(host, "localhost") == 0 || loopback_address(host))
		return true;
	return in_guc_list(host, ListenAddresses) && strcmp(host, "*") != 0;
}

static List *
split_commas(const char *value)
{
	List	   *items = NIL;
	char	   *copy = pstrdup(value ? value : "");
	char	   *start = copy;

	for (char *p = copy;; p++)
	{
		if (*p == ',' || *p == '\0')
		{
			bool		end = (*p == '\0');

			*p = '\0';
			items = lappend(items, start);
			if (end)
				break;
			start = p + 1;
		}
	}
	return items;
}

void
conninfo_refuse_self(const char *conninfo)
{
	PQconninfoOption *options = PQconninfoParse(conninfo, NULL);
	const char *host = NULL;
	const char *hostaddr = NULL;
	const char *port = NULL;
	List	   *hosts;
	List	   *addrs;
	List	   *ports;
	int			n;

	if (options == NULL)
		return;					/* conninfo_validate has said why */
	for (PQconninfoOption *opt = options; opt->keyword != NULL; opt++)
	{
		if (opt->val == NULL)
			continue;
		if (strcmp(opt->keyword, "host") == 0)
			host = pstrdup(opt->val);
		else if (strcmp(opt->keyword, "hostaddr") == 0)
			hostaddr = pstrdup(opt->val);
		else if (strcmp(opt->keyword, "port") == 0)
			port = pstrdup(opt->val);
	}
	PQconninfoFree(options);

	hosts = (host && host[0]) ? split_commas(host) : NIL;
	addrs = (hostaddr && hostaddr[0]) ? split_commas(hostaddr) : NIL;
	ports = (port && port[0]) ? split_commas(port) : NIL;
	n = Max(list_length(hosts), list_length(addrs));

	for (int i = 0; i < n; i++)
	{
		const char *h = i < list_length(hosts) ? list_nth(hosts, i) : "";
		const char *a = i < list_length(addrs) ? list_nth(addrs, i) : "";
		const char *p = ports == NIL ? "" :
			list_nth(ports, list_length(ports) == 1 ? 0 : Min(i, list_length(ports) - 1));
		int			portnum = p[0] ? atoi(p) : default_port();
		bool		here = a[0] ? loopback_address(a) || in_guc_list(a, ListenAddresses) :
			host_is_here(h);

		if (here && portnum == PostPortNumber)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("node connection string names this server itself"),
					 errdetail("Host \"%s\" at port %d is this coordinator.",
							   a[0] ? a : h, portnum),
					 errhint("Register the standbys; the coordinator is a routing candidate already (foresight.include_local).")));
	}
}
