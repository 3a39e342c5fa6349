/*-------------------------------------------------------------------------
 *
 * coordinator_cost.c
 *	  The coordinator's own CPU per read, routed or run here, and the rule
 *	  that weighs it (see coordinator_cost.h).
 *
 * Why: a routed point read costs the coordinator a round trip to a node
 * (a send, a wait, a receive, the rows converted) on top of what the
 * client's query costs it anyway; on a small query that is more than
 * running the query here (bench/results/routing_cpu.md).  While the
 * coordinator has room that is a price worth paying; when it is busy, and
 * busier than the node the scores chose, it is not: routing such a read
 * takes more of the scarcer CPU than running it, and loads the node as
 * well.  Only that node is compared: how busy a third node is has no
 * bearing on where this read costs less.
 *
 * What is timed, planning included, is in coordinator_cost.h.
 *
 * The rule, for a read the scores send to a node (policy_predictive.c):
 * it runs here instead when foresight.coordinator_cost is on, the
 * coordinator is a candidate, it is busy (its predicted load at least
 * COST_BUSY_LOAD, or its control group throttled in at least
 * COST_BUSY_THROTTLED of its CPU periods over the last sample), its CPU
 * is the scarcer of the two (below), and, for the read's class, the
 * measured CPU of running here is at most that of routing.  The second
 * test of "busy" is there because the load signal measures CPU as a share
 * of the host (docs/monitoring.md, "CPU limits"): a coordinator held to a
 * fraction of the host's cores by a quota, and throttled in every period,
 * reads a load well below 0.5.  Being throttled is the direct measure of
 * a CPU that is the limit; it is used here only, not by the scores or by
 * admission control.
 *
 * The scarcer CPU: a server throttled in at least COST_BUSY_THROTTLED of
 * its periods is out of CPU, and one that is not has some to spare,
 * whatever the loads say (an idle node under a quota reads the host's
 * pressure as its load: 0.4-0.5 beside a throttled coordinator's 0.3 in
 * bench/routing_capacity.sh, 2026-12-07); between two throttled or two
 * unthrottled servers, the higher predicted load.
 *
 * While fewer than COST_MIN_SAMPLES reads of the class were timed here,
 * such a read runs here so that the cost gets measured (only while the
 * coordinator's CPU is the scarcer, where running here is the likely
 * answer).  While it is, one decision in 16 goes the other way than the
 * costs say, so that both stay measured under the load of the moment: a
 * cost measured on a cold cache or under another load does not stay.
 * The averages start from the median of the first COST_MIN_SAMPLES
 * timings and count a later timing for at most twice the average
 * (cost_average.h), and a backend's first COST_COLD_STATEMENTS statements
 * are not timed: planned and run on cold caches, they cost a millisecond
 * or more, and when the first statement of every backend was timed,
 * twenty one-read sessions lifted the cost of a read here from 12.7 to
 * 556.5 us with plain smoothing (20.3 to 48.9 with the cap alone), which
 * the rule took for routing being the cheaper.  A routed read's first
 * reads on a new node connection are left out the same way
 * (REMOTE_COLD_SENDS, route_scan.c), so both costs are those of warm
 * backends.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "common/pg_prng.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"

#include "router/coordinator_cost.h"
#include "router/cost_average.h"
#include "router/reason_text.h"

#define COST_SAMPLE_EVERY	4	/* time one execution in this many per backend */
#define COST_COLD_STATEMENTS 4	/* a backend's first statements, on cold
								 * caches, are not timed, as a node
								 * connection's first REMOTE_COLD_SENDS
								 * reads are not */
#define COST_MIN_SAMPLES	COST_AVERAGE_WARM	/* timed executions before an
												 * average counts */
#define COST_BUSY_LOAD		0.5 /* a coordinator below this is not a bottleneck */
#define COST_BUSY_THROTTLED 0.5 /* ... unless throttled in this share of its
								 * CPU periods */
#define COST_EXPLORE		0.0625	/* share of busy decisions that go the other way */

typedef struct CoordinatorCostShared
{
	slock_t		mutex;
	CostAverage routed[REQUEST_CLASS_COUNT];
	CostAverage here[REQUEST_CLASS_COUNT];
} CoordinatorCostShared;

bool		foresight_coordinator_cost = true;

static CoordinatorCostShared *cost = NULL;
static uint32 executions = 0;

/*
 * The latest planning: its start while it runs (-1: not sampled), then the
 * statement it made and the CPU it took (-1: not sampled), until that
 * statement's first execution takes them (or another planning replaces
 * them).  Whether a statement is timed is decided once, at its planning
 * when it has one, so its execution does not draw again.
 */
static bool planning_sampled = false;
static int64 planning_start_ns = -1;
static struct PlannedStmt *planned_stmt = NULL;
static int64 planning_ns = -1;

void
coordinator_cost_define_gucs(void)
{
	DefineCustomBoolVariable("foresight.coordinator_cost",
							 "Runs a read here instead of routing it when the coordinator is busier than the chosen node and routing would cost it more CPU.",
							 "The CPU a routed read and a read run here cost the coordinator is measured per request class (foresight.coordinator_cost view).",
							 &foresight_coordinator_cost,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

void
coordinator_cost_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(CoordinatorCostShared));
}

void
coordinator_cost_shmem_init(void)
{
	bool		found;

	cost = ShmemInitStruct("pg_foresight coordinator cost",
						   sizeof(CoordinatorCostShared), &found);
	if (!found)
	{
		memset(cost, 0, sizeof(CoordinatorCostShared));
		SpinLockInit(&cost->mutex);
	}
}

static int64
thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return -1;
	return (int64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * whether this backend times the next statement: none of its first
 * COST_COLD_STATEMENTS, then one in COST_SAMPLE_EVERY
 */
static bool
sample_next(void)
{
	if (cost == NULL)
		return false;
	if (executions < COST_COLD_STATEMENTS)
	{
		executions++;
		return false;
	}
	return (executions++ - COST_COLD_STATEMENTS) % COST_SAMPLE_EVERY == 0;
}

void
coordinator_cost_planning_start(void)
{
	planned_stmt = NULL;
	planning_sampled = sample_next();
	planning_start_ns = planning_sampled ? thread_cpu_ns() : -1;
}

void
coordinator_cost_planning_untimed(void)
{
	planned_stmt = NULL;
	planning_sampled = false;
	planning_start_ns = -1;
}

void
coordinator_cost_planning_done(struct PlannedStmt *stmt)
{
	int64		now = planning_sampled ? thread_cpu_ns() : -1;

	planned_stmt = stmt;
	planning_ns = (planning_start_ns >= 0 && now >= planning_start_ns) ?
		now - planning_start_ns : -1;
	planning_start_ns = -1;
}

void
coordinator_cost_start(CostClock *clock, struct PlannedStmt *stmt)
{
	bool		planned_now = stmt != NULL && stmt == planned_stmt;

	/* a planning counts once: for its statement's first execution */
	planned_stmt = NULL;
	clock->running = false;
	if (planned_now)
	{
		/* drawn when it was planned: timed with its planning, or not at all */
		if (planning_ns < 0)
			return;
		clock->start_ns = thread_cpu_ns() - planning_ns;
		clock->running = clock->start_ns >= 0;
		return;
	}
	if (!sample_next())
		return;
	clock->start_ns = thread_cpu_ns();
	clock->running = clock->start_ns >= 0;
}

void
coordinator_cost_stop(CostClock *clock, RequestClass cls, bool ran_here)
{
	int64		end_ns;
	double		us;
	CostAverage *avg;

	if (!clock->running)
		return;
	clock->running = false;
	end_ns = thread_cpu_ns();
	if (end_ns < clock->start_ns)
		return;
	us = (end_ns - clock->start_ns) / 1000.0;

	SpinLockAcquire(&cost->mutex);
	avg = ran_here ? &cost->here[cls] : &cost->routed[cls];
	cost_average_add(avg, us);
	SpinLockRelease(&cost->mutex);
}

void
coordinator_cost_get(RequestClass cls, CoordinatorCost *out)
{
	memset(out, 0, sizeof(CoordinatorCost));
	if (cost == NULL)
		return;
	SpinLockAcquire(&cost->mutex);
	out->route_us = cost->routed[cls].us;
	out->route_samples = cost->routed[cls].samples;
	out->local_us = cost->here[cls].us;
	out->local_samples = cost->here[cls].samples;
	SpinLockRelease(&cost->mutex);
}

bool
coordinator_cost_busy(double here_load, double here_throttled)
{
	return here_load >= COST_BUSY_LOAD || here_throttled >= COST_BUSY_THROTTLED;
}

/* throttled in enough of its periods to be out of CPU (unknown: -1, not) */
static bool
cpu_limited(double throttled)
{
	return throttled >= COST_BUSY_THROTTLED;
}

bool
coordinator_cost_scarcer(double here_load, double here_throttled,
						 double node_load, double node_throttled)
{
	if (cpu_limited(here_throttled) != cpu_limited(node_throttled))
		return cpu_limited(here_throttled);
	return here_load > node_load;
}

/*
 * "busier than standby1 (load 0.93 > 0.31)", and ", throttled 97%" inside
 * the brackets when the CPU limit, not the load, made the coordinator
 * busy; "busier than standby1 (throttled 97% > 3%, load 0.31 <= 0.48)"
 * when the throttling alone made its CPU the scarcer ("> none" for a node
 * that reports no limit).
 */
static void
append_busier(ReasonText *rt, double here_load, double here_throttled,
			  const char *node_name, double node_load, double node_throttled)
{
	reason_text_str(rt, "busier than ");
	reason_text_str(rt, node_name);
	if (here_load <= node_load)
	{
		reason_text_str(rt, " (throttled ");
		reason_text_fixed(rt, 100.0 * here_throttled, 0);
		reason_text_str(rt, "% > ");
		if (node_throttled >= 0.0)
		{
			reason_text_fixed(rt, 100.0 * node_throttled, 0);
			reason_text_str(rt, "%");
		}
		else
			reason_text_str(rt, "none");
		reason_text_str(rt, ", load ");
		reason_text_fixed(rt, here_load, 2);
		reason_text_str(rt, " <= ");
		reason_text_fixed(rt, node_load, 2);
		reason_text_str(rt, ")");
		return;
	}
	reason_text_str(rt, " (load ");
	reason_text_fixed(rt, here_load, 2);
	reason_text_str(rt, " > ");
	reason_text_fixed(rt, node_load, 2);
	if (here_load < COST_BUSY_LOAD)
	{
		reason_text_str(rt, ", throttled ");
		reason_text_fixed(rt, 100.0 * here_throttled, 0);
		reason_text_str(rt, "%");
	}
	reason_text_str(rt, ")");
}

bool
coordinator_cost_runs_here(RequestClass cls, double here_load, double here_throttled,
						   const char *node_name, double node_load, double node_throttled,
						   char *reason, size_t reason_len, bool *cheaper)
{
	CoordinatorCost c;
	const char *name = request_class_name(cls);
	ReasonText	rt;

	*cheaper = false;
	if (!foresight_coordinator_cost || cost == NULL)
		return false;
	if (!coordinator_cost_busy(here_load, here_throttled))
		return false;			/* the coordinator is not a bottleneck */
	if (!coordinator_cost_scarcer(here_load, here_throttled, node_load, node_throttled))
		return false;			/* nor the scarcer CPU of the two */

	coordinator_cost_get(cls, &c);
	if (c.route_samples < COST_MIN_SAMPLES)
		return false;			/* what routing costs is not known yet */

	/* routing takes less of the coordinator: now and then measure here again */
	if (c.local_samples >= COST_MIN_SAMPLES && c.local_us > c.route_us &&
		pg_prng_double(&pg_global_prng_state) >= COST_EXPLORE)
		return false;
	/* running here takes less: now and then routed all the same, to measure */
	if (c.local_samples >= COST_MIN_SAMPLES && c.local_us <= c.route_us &&
		pg_prng_double(&pg_global_prng_state) < COST_EXPLORE)
		return false;

	/*
	 * It runs here: say why.  Without printf (reason_text.h): under a
	 * saturated coordinator a read in ten or so takes this way.
	 */
	reason_text_init(&rt, reason, reason_len);
	reason_text_str(&rt, "coordinator cost: ");
	if (c.local_samples >= COST_MIN_SAMPLES && c.local_us <= c.route_us)
	{
		/* "point CPU routed 57 us >= here 15 us, busier than ...: here" */
		*cheaper = true;
		reason_text_str(&rt, name);
		reason_text_str(&rt, " CPU routed ");
		reason_text_fixed(&rt, c.route_us, 0);
		reason_text_str(&rt, " us >= here ");
		reason_text_fixed(&rt, c.local_us, 0);
		reason_text_str(&rt, " us, ");
		append_busier(&rt, here_load, here_throttled, node_name, node_load, node_throttled);
	}
	else
	{
		append_busier(&rt, here_load, here_throttled, node_name, node_load, node_throttled);
		reason_text_str(&rt, ", ");
		reason_text_str(&rt, name);
		if (c.local_samples < COST_MIN_SAMPLES)
		{
			/* "..., point cost here measured 3/8: here" */
			reason_text_str(&rt, " cost here measured ");
			reason_text_int(&rt, (long) c.local_samples);
			reason_text_str(&rt, "/");
			reason_text_int(&rt, COST_MIN_SAMPLES);
		}
		else
		{
			/* "..., point re-measured here (61 > 57 us): here" */
			reason_text_str(&rt, " re-measured here (");
			reason_text_fixed(&rt, c.local_us, 0);
			reason_text_str(&rt, " > ");
			reason_text_fixed(&rt, c.route_us, 0);
			reason_text_str(&rt, " us)");
		}
	}
	reason_text_str(&rt, ": here");
	return true;
}
