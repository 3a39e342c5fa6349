/*-------------------------------------------------------------------------
 *
 * split_key.h
 *	  The split key of a table: the column declared with
 *	  foresight.set_split_key, else the first column of its primary key,
 *	  else of a unique index on non-null columns; and whether a column can
 *	  be one (a type whose default btree operator class orders it totally
 *	  and whose literals read back exactly).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_SPLIT_KEY_H
#define FORESIGHT_SPLIT_KEY_H

#include "postgres.h"

#include "split/split.h"

/* the table holding declared split keys, in schema foresight */
#define SPLIT_KEY_TABLE "split_key"

/*
 * Describe column attnum of relid as a split key.  False, with *why set,
 * when it cannot be one (dropped, generated, system column, type).
 */
extern bool split_key_describe(Oid relid, AttrNumber attnum, SplitKey *key, const char **why);

/*
 * Choose the split key of relid.  False, with *why set, when it has none:
 * its declared key is not usable, or it has no primary key or unique
 * index whose first column can be one.
 */
extern bool split_key_choose(Oid relid, SplitKey *key, const char **why);

/* the column declared for relid (palloc'd), or NULL */
extern char *split_key_declared(Oid relid);

/* a Var of the key at range table index rti, in the type the comparisons take */
extern Expr *split_key_expr(const SplitKey *key, Index rti);

#endif							/* FORESIGHT_SPLIT_KEY_H */
