/*-------------------------------------------------------------------------
 *
 * remote_gucs.h
 *	  Settings of the connections to nodes: how long to wait for one,
 *	  extra libpq options, the application_name they show on the node.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_REMOTE_GUCS_H
#define FORESIGHT_REMOTE_GUCS_H

#include "postgres.h"

extern char *foresight_connection_options;
extern char *foresight_application_name;
extern int	foresight_connect_timeout;	/* s */

/* component entry point (see pg_foresight.h) */
extern void remote_define_gucs(void);

#endif							/* FORESIGHT_REMOTE_GUCS_H */
