/*-------------------------------------------------------------------------
 *
 * random_seed.h
 *	  Whether this session seeded random() (setseed(), SET seed): once it
 *	  has, random() runs here (see random_seed.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_RANDOM_SEED_H
#define FORESIGHT_RANDOM_SEED_H

#include "postgres.h"

#include "nodes/parsenodes.h"

/* Watch the seed setting (its assign hook); once, at load. */
extern void random_seed_install(void);

/*
 * A statement is about to be planned here: note a call of setseed() in
 * parse.  True when the tree must be looked at again once planned
 * (random_seed_note_planned): it calls a user-defined function, which the
 * planner may inline.
 */
extern bool random_seed_note_query(Query *parse);
extern void random_seed_note_planned(Query *planned);

/*
 * Has this session seeded random()?  Then random() is not safe to route
 * (and every plan and shape made before was marked to be made again).
 */
extern bool random_seed_is_set(void);

extern const char random_seed_reason[];

#endif							/* FORESIGHT_RANDOM_SEED_H */
