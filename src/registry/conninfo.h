/*-------------------------------------------------------------------------
 *
 * conninfo.h
 *	  A node's connection string: validation as libpq will judge it,
 *	  masking of its secrets for display, and building the string a session
 *	  connects with.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_CONNINFO_H
#define FORESIGHT_CONNINFO_H

#include "postgres.h"

/* what a secret value is shown as */
#define MASKED_VALUE "********"

/*
 * Check a node conninfo for the current user; ereport(ERROR) naming the
 * problem when libpq cannot parse it, when it holds a keyword that belongs
 * to the session (user, dbname, replication), an option reserved to
 * superusers (one that makes the server use its own files or services:
 * service, passfile, sslcert, sslkey, sslpassword, sslrootcert, sslcrl,
 * sslcrldir, or any option this code does not know) while the current user
 * is not one, a value libpq would refuse when connecting (ports, host
 * addresses, integers, enumerations), or no host.
 */
extern void conninfo_validate(const char *conninfo);

/* what conninfo_check checks */
typedef enum ConninfoKind
{
	CONNINFO_NODE,				/* a node's conninfo (conninfo_validate) */
	CONNINFO_OPTIONS			/* foresight.connection_options: options
								 * appended to each node's; no host needed,
								 * no URI, every option (the setting is a
								 * superuser's) */
} ConninfoKind;

/* why conninfo_check refused a string: an ereport's parts, palloc'd */
typedef struct ConninfoProblem
{
	int			sqlerrcode;
	char	   *message;
	char	   *detail;			/* or NULL */
	char	   *hint;			/* or NULL */
} ConninfoProblem;

/*
 * conninfo_validate's checks without throwing (for a GUC check hook): true
 * when the string passes, else false with *problem filled in; secrets are
 * masked in it as in conninfo_validate's errors.
 */
extern bool conninfo_check(const char *conninfo, ConninfoKind kind, ConninfoProblem *problem);

/*
 * Is keyword an option whose value libpq treats as secret (display
 * character "*" in PQconndefaults(): password, sslpassword, ...)?
 */
extern bool conninfo_keyword_is_secret(const char *keyword);

/*
 * The conninfo as keyword='value' pairs with the value of every secret
 * option replaced by ********, palloc'd.
 */
extern char *conninfo_mask_secrets(const char *conninfo);

/*
 * text (a message about conninfo, e.g. libpq's parse error) with every
 * secret value of conninfo replaced by ********; works on conninfo strings
 * libpq cannot parse (conninfo_mask.c).  palloc'd.
 */
extern char *conninfo_mask_text(const char *text, const char *conninfo);

/*
 * The full connection string for a node: its conninfo, then extra_options
 * (may be NULL or empty), then user, dbname and application_name, each
 * value quoted for libpq.  palloc'd.
 */
extern char *conninfo_for_session(const char *conninfo, const char *extra_options,
								  const char *user, const char *dbname,
								  const char *application_name);

/* Append keyword='value' with libpq quoting to buf. */
struct StringInfoData;
extern void conninfo_append_param(struct StringInfoData *buf,
								  const char *keyword, const char *value);

#endif							/* FORESIGHT_CONNINFO_H */
