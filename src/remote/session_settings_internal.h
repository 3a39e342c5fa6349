/*-------------------------------------------------------------------------
 *
 * session_settings_internal.h
 *	  What src/remote/session_settings.c (this session's side: the table of
 *	  its values, what is carried, the session check) shares with
 *	  guc_sync.c (the node sessions' side: what each has, what to send).
 *	  src/remote/ only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SESSION_SETTINGS_INTERNAL_H
#define FORESIGHT_SESSION_SETTINGS_INTERNAL_H

#include "postgres.h"

#include "utils/guc_tables.h"

/*
 * One entry per setting of this server, in the order of the GUC machinery's
 * array (so that a change of the array is seen by comparing pointers).
 * Entries are read only while their pointer is the array's: a placeholder
 * replaced by an extension's definition is freed by the GUC machinery.
 */
typedef struct LocalSetting
{
	struct config_generic *gconf;
	char	   *name;			/* copies of what is used between reads */
	GucContext	context;
	enum config_type vartype;
	int			flags;
	bool		carried;		/* a setting nodes take (the rule above) */
	/* carried settings only: */
	union
	{
		bool		b;
		int			i;
		double		r;
	}			raw;			/* value when last read (not strings) */
	char	   *value;			/* ... as text, as set_config takes it */
	uint64		version;		/* local_version when it last changed */
	bool		session_level;	/* set by this session (client, SET, ...) */
} LocalSetting;

/* a value a node refused */
typedef struct Refusal
{
	char	   *name;
	char	   *value;
	char		node[NAMEDATALEN];
} Refusal;

#define MAX_REFUSALS 16

/* this session's settings, read by read_local() */
extern MemoryContext local_cxt;
extern LocalSetting *local;
extern int	nlocal;
extern uint64 local_version;	/* moves when a carried value changes */
extern int	nrefusals;

/* Bring the table of this session's values up to date (cheap if nothing ran). */
extern void read_local(void);

/* May the node login set superuser-only setting ls? */
extern bool login_may_set(LocalSetting *ls);

/* Did a node refuse ls's current value?  *node: which. */
extern bool refused_before(LocalSetting *ls, const char **node);

/* Remember that node refused name = value. */
extern void note_refusal(const char *name, const char *value, const char *node);

#endif							/* FORESIGHT_SESSION_SETTINGS_INTERNAL_H */
