/*-------------------------------------------------------------------------
 *
 * random_seed.c
 *	  Whether this session seeded random(), after which a query calling
 *	  random() runs here (see random_seed.h).
 *
 * random() draws from a generator of the backend's own (float.c).  Left
 * unseeded, its values differ from run to run anyway, and a node's serve as
 * well as this server's: random() is on the safe list of volatile functions
 * (eligibility.c).  Once the session seeds it, with setseed() or SET seed,
 * its sequence is determined: the same statements give the same numbers
 * again, and a node's generator cannot give them.  So from then on, for the
 * rest of the session (the seed is not transactional, and nothing unseeds
 * the generator), random() is not safe.
 *
 * Seeding is seen two ways:
 *
 * - setseed() in a statement planned here, at any depth: a function's
 *	 statements and a prepared statement are planned through the planner
 *	 hook too.  The tree is looked at before planning (sub-links are still
 *	 queries there) and, when it calls a user-defined function, after (a
 *	 SQL function inlined by the planner brings its body in).  setseed()
 *	 called from C is not seen.
 * - the setting seed, which seeds when a SET, set_config() or a function's
 *	 SET clause sets it (check_random_seed() in PostgreSQL's variable.c
 *	 arms its assign hook only then): that assign hook is wrapped.  Should
 *	 the setting not be found as expected, random() is never routed.
 *
 * Plans made before the seed (the plan cache, route_cache.c's shapes) may
 * route random(): when the session seeds it, every one of them is made
 * again before its next execution, as after a catalog change
 * (ResetPlanCache() only marks plans and fails on nothing, so it may run in
 * an assign hook).  A portal bound before the seed and run after it runs
 * as decided at its Bind.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "commands/variable.h"
#include "nodes/nodeFuncs.h"
#include "utils/fmgroids.h"
#include "utils/guc_tables.h"
#include "utils/plancache.h"

#include "router/random_seed.h"
#include "router/route_cache.h"

const char	random_seed_reason[] =
"calls random() after this session seeded it (setseed(), SET seed): a node's generator would not give the seeded sequence";

/* the session seeded random(); set while the seed setting is not watched */
static bool seeded = false;

static GucRealAssignHook seed_assign_next = NULL;

/* The session seeds random() now: plans made before may route it. */
static void
note_seeded(void)
{
	if (seeded)
		return;
	seeded = true;
	ResetPlanCache();
	route_cache_forget_all();
}

/* the seed setting's assign hook: PostgreSQL's, noting when it seeds */
static void
seed_assign(double newval, void *extra)
{
	/* check_random_seed() armed it: an interactive SET is seeding */
	if (extra != NULL && *(int *) extra != 0)
		note_seeded();
	seed_assign_next(newval, extra);
}

void
random_seed_install(void)
{
	struct config_generic **gucs = get_guc_variables();
	int			n = GetNumConfigOptions();

	for (int i = 0; i < n; i++)
	{
		struct config_real *seed;

		if (strcmp(gucs[i]->name, "seed") != 0 || gucs[i]->vartype != PGC_REAL)
			continue;
		seed = (struct config_real *) gucs[i];
		if (seed->assign_hook == assign_random_seed)
		{
			seed_assign_next = seed->assign_hook;
			seed->assign_hook = seed_assign;
			return;
		}
		break;
	}
	/* not the setting this file knows: never route random() */
	seeded = true;
	ereport(LOG,
			(errmsg("pg_foresight: the setting \"seed\" is not the one expected; random() will not be routed")));
}

typedef struct SeedWalk
{
	bool		seeds;			/* calls setseed() */
	bool		user_function;	/* calls a user-defined function or operator */
} SeedWalk;

static bool
seed_walker(Node *node, SeedWalk *w)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncExpr))
	{
		Oid			funcid = ((FuncExpr *) node)->funcid;

		if (funcid == F_SETSEED)
		{
			w->seeds = true;
			return true;
		}
		if (funcid >= FirstNormalObjectId)
			w->user_function = true;
	}
	else if (IsA(node, OpExpr) || IsA(node, DistinctExpr) || IsA(node, NullIfExpr))
	{
		if (((OpExpr *) node)->opno >= FirstNormalObjectId)
			w->user_function = true;
	}
	else if (IsA(node, Query))
		return query_tree_walker((Query *) node, seed_walker, (void *) w, 0);
	return expression_tree_walker(node, seed_walker, (void *) w);
}

static SeedWalk
walk(Query *query)
{
	SeedWalk	w = {false, false};

	(void) seed_walker((Node *) query, &w);
	if (w.seeds)
		note_seeded();
	return w;
}

bool
random_seed_note_query(Query *parse)
{
	if (seeded || parse == NULL)
		return false;
	return walk(parse).user_function;
}

void
random_seed_note_planned(Query *planned)
{
	if (!seeded && planned != NULL)
		(void) walk(planned);
}

bool
random_seed_is_set(void)
{
	return seeded;
}
