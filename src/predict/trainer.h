/*-------------------------------------------------------------------------
 *
 * trainer.h
 *	  The background worker "foresight trainer": retrains the live models
 *	  (live_models.h) in a process of its own, at a lower scheduling
 *	  priority than the server's (foresight.trainer_nice) and within a share
 *	  of one core (foresight.trainer_cpu_limit), so that training neither
 *	  delays the monitor's samples nor takes CPU from the queries when the
 *	  server's CPU is what they wait for.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_TRAINER_H
#define FORESIGHT_TRAINER_H

#include "postgres.h"

/* GUCs */
extern int	foresight_trainer_nice;
extern double foresight_trainer_cpu_limit;

extern void trainer_define_gucs(void);
extern void trainer_install_hooks(void);

extern PGDLLEXPORT void foresight_trainer_main(Datum main_arg);

#endif							/* FORESIGHT_TRAINER_H */
