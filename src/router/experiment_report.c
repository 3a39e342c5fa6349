/*-------------------------------------------------------------------------
 *
 * experiment_report.c
 *	  foresight.experiment_report(name, alpha, min_effect): one row per
 *	  arm and request class (and "all" classes), with the arm's p50, p95
 *	  and p99 and their confidence intervals, its counts, and the
 *	  comparison with the control: bootstrap intervals of the p95 and p99
 *	  ratios, Mann-Whitney U, the observations needed, the verdict, each
 *	  counting a unit's reads by their design effect.  The
 *	  statistics are abtest/'s; this file turns shared-memory copies into
 *	  rows.  Also the arm promote_experiment() takes by default.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core/guards.h"
#include "router/experiment.h"

#define REPORT_COLS 29			/* 28 before 0.11: no units */
#define REPORT_RESAMPLES 2000
#define CLASS_ALL REQUEST_CLASS_COUNT

/*
 * The sessions an arm and its control each need before a session
 * experiment's comparison gives a verdict.  A session's reads are not
 * independent (one backend, one client, the same moments): the tests
 * count them by their design effect (abtest/clusters.c), which is itself
 * estimated from the sessions, and from a handful of sessions the
 * estimate is poor (docs/experiments.md).  30 is the usual floor for a
 * mean over units to be near normal.
 */
#define EXPERIMENT_MIN_SESSIONS 30

#define VERDICT_TOO_FEW_UNITS "not enough units yet"

extern int	experiment_best_arm(const ExperimentCopy *e, double alpha, double min_effect,
								char **why);

static void
check_levels(double alpha, double min_effect)
{
	if (!(alpha > 0.0 && alpha < 0.5))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("alpha %s is out of range", double_to_shortest_decimal(alpha)),
				 errdetail("alpha is the level of the tests, greater than 0 and less than 0.5.")));
	if (!(min_effect >= 0.01 && min_effect <= 10.0))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("min_effect %s is out of range", double_to_shortest_decimal(min_effect)),
				 errdetail("min_effect is the relative p95 difference to detect, between 0.01 and 10.")));
}

/* one arm's statistics of class cls, or of every class (CLASS_ALL) */
static ArmClassStats
arm_stats(const ExperimentCopy *e, int arm, int cls)
{
	ArmClassStats s;

	if (cls != CLASS_ALL)
		return e->arms[arm].cls[cls];
	memset(&s, 0, sizeof(s));
	for (int c = 0; c < REQUEST_CLASS_COUNT; c++)
	{
		const ArmClassStats *x = &e->arms[arm].cls[c];

		s.queries += x->queries;
		s.failed += x->failed;
		s.errors += x->errors;
		s.hedged += x->hedged;
		s.queued += x->queued;
		s.queue_wait_us += x->queue_wait_us;
		ab_hist_merge(&s.hist, &x->hist);
	}
	return s;
}

/* a session experiment whose arm or control has too few sessions for a verdict */
static bool
too_few_units(const ExperimentCopy *e, int arm)
{
	return e->unit == EXPERIMENT_UNIT_SESSION &&
		(e->arms[arm].units < EXPERIMENT_MIN_SESSIONS ||
		 e->arms[e->control].units < EXPERIMENT_MIN_SESSIONS);
}

StaticAssertDecl(CLASS_ALL == ARM_CLUSTER_ALL,
				 "the report's class \"all\" must index the sums over all classes");

/*
 * How an arm's reads of class cls cluster in its units (CLASS_ALL is
 * ARM_CLUSTER_ALL): the sums behind their design effect
 * (abtest/clusters.c).
 */
static const AbClusters *
clusters_of(const ExperimentCopy *e, int arm, int cls)
{
	return &e->arms[arm].clusters[cls];
}

static void
params_for(const ExperimentCopy *e, int arm, int cls, double alpha, double min_effect,
		   AbCompareParams *p)
{
	ab_default_params(p);
	p->alpha = alpha;
	p->min_effect = min_effect;
	p->resamples = REPORT_RESAMPLES;
	p->seed = ab_mix64((uint64) e->seed ^ ((uint64) arm << 8) ^ (uint64) cls);
	p->clusters_control = clusters_of(e, e->control, cls);
	p->clusters_arm = clusters_of(e, arm, cls);
}

int
experiment_best_arm(const ExperimentCopy *e, double alpha, double min_effect, char **why)
{
	ArmClassStats control = arm_stats(e, e->control, CLASS_ALL);
	int			best = -1;
	double		best_ratio = 0.0;
	StringInfoData buf;

	check_levels(alpha, min_effect);
	initStringInfo(&buf);
	for (int a = 0; a < e->narms; a++)
	{
		ArmClassStats s;
		AbCompareParams p;
		AbComparison cmp;

		if (a == e->control)
			continue;
		s = arm_stats(e, a, CLASS_ALL);
		params_for(e, a, CLASS_ALL, alpha, min_effect, &p);
		ab_compare(&control.hist, &s.hist, &p, &cmp);
		appendStringInfo(&buf, "%sarm \"%s\": %s", buf.len ? "; " : "", e->arms[a].name,
						 too_few_units(e, a) ? VERDICT_TOO_FEW_UNITS : ab_verdict_name(cmp.verdict));
		if (cmp.verdict == AB_BETTER && !e->arms[a].stopped && !too_few_units(e, a) &&
			(best < 0 || cmp.p95_ratio < best_ratio))
		{
			best = a;
			best_ratio = cmp.p95_ratio;
		}
	}
	*why = buf.data;
	return best;
}

static const char *
class_name(int cls)
{
	return cls == CLASS_ALL ? "all" : request_class_name((RequestClass) cls);
}

PG_FUNCTION_INFO_V1(foresight_experiment_report);

Datum
foresight_experiment_report(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name;
	double		alpha = PG_ARGISNULL(1) ? 0.05 : PG_GETARG_FLOAT8(1);
	double		min_effect = PG_ARGISNULL(2) ? 0.2 : PG_GETARG_FLOAT8(2);
	ExperimentCopy e;
	TimestampTz end;
	double		seconds;
	int			ncols;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("experiment name must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	check_levels(alpha, min_effect);
	InitMaterializedSRF(fcinfo, 0);
	/* the declaration of 0.5-0.10 has no column units */
	ncols = foresight_result_columns(fcinfo, rsinfo->setDesc, REPORT_COLS - 1, REPORT_COLS);
	if (!experiment_copy(name, &e))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("experiment \"%s\" does not exist", name),
				 errhint("foresight.experiments lists the experiments.")));
	end = e.stopped_at != 0 ? e.stopped_at : GetCurrentTimestamp();
	seconds = Max(1e-3, (double) (end - e.started_at) / 1e6);

	for (int cls = CLASS_ALL; cls >= 0; cls--)
	{
		ArmClassStats control = arm_stats(&e, e.control, cls);
		bool		any = false;

		for (int a = 0; a < e.narms && !any; a++)
		{
			ArmClassStats s = arm_stats(&e, a, cls);

			any = s.queries + s.failed > 0;
		}
		if (!any && cls != CLASS_ALL)
			continue;
		for (int a = 0; a < e.narms; a++)
		{
			ArmClassStats s = arm_stats(&e, a, cls);
			Datum		v[REPORT_COLS];
			bool		nulls[REPORT_COLS] = {false};
			double		q[3] = {0.5, 0.95, 0.99};
			bool		empty = s.queries == 0;
			int			k = 0;

			v[k++] = CStringGetTextDatum(e.arms[a].name);
			v[k++] = CStringGetTextDatum(class_name(cls));
			v[k++] = BoolGetDatum(a == e.control);
			v[k++] = Int64GetDatum(s.queries);
			if (ncols == REPORT_COLS)
				v[k++] = Int64GetDatum(e.arms[a].units);
			v[k++] = Int64GetDatum(s.errors);
			v[k++] = Int64GetDatum(s.hedged);
			v[k++] = Int64GetDatum(s.queued);
			v[k] = Float8GetDatum(s.queued > 0 ? s.queue_wait_us / s.queued / 1000.0 : 0.0);
			k++;
			v[k++] = Float8GetDatum((double) s.queries / seconds);
			for (int i = 0; i < 3; i++)
			{
				double		lo,
							hi;

				ab_hist_quantile_ci(&s.hist, q[i], alpha,
									ab_quantile_design_effect(clusters_of(&e, a, cls), q[i]),
									&lo, &hi);
				nulls[k] = nulls[k + 1] = nulls[k + 2] = empty;
				v[k++] = Float8GetDatum(ab_hist_quantile(&s.hist, q[i]) / 1000.0);
				v[k++] = Float8GetDatum(lo / 1000.0);
				v[k++] = Float8GetDatum(hi / 1000.0);
			}
			if (a == e.control)
			{
				for (int i = k; i < ncols - 2; i++)
					nulls[i] = true;
				k = ncols - 2;
				v[k++] = CStringGetTextDatum("control");
				nulls[k++] = true;
			}
			else
			{
				AbCompareParams p;
				AbComparison cmp;
				const char *verdict;

				params_for(&e, a, cls, alpha, min_effect, &p);
				ab_compare(&control.hist, &s.hist, &p, &cmp);
				v[k] = Float8GetDatum(cmp.p95_ratio);
				nulls[k++] = isnan(cmp.p95_ratio);
				v[k] = Float8GetDatum(cmp.p95_ratio_lo);
				nulls[k++] = isnan(cmp.p95_ratio_lo);
				v[k] = Float8GetDatum(cmp.p95_ratio_hi);
				nulls[k++] = isnan(cmp.p95_ratio_hi);
				v[k] = Float8GetDatum(cmp.p99_ratio);
				nulls[k++] = isnan(cmp.p99_ratio);
				v[k] = Float8GetDatum(cmp.p99_ratio_lo);
				nulls[k++] = isnan(cmp.p99_ratio_lo);
				v[k] = Float8GetDatum(cmp.p99_ratio_hi);
				nulls[k++] = isnan(cmp.p99_ratio_hi);
				v[k++] = Float8GetDatum(cmp.mw_p);
				v[k++] = Int64GetDatum((int64) cmp.needed_per_arm);
				verdict = too_few_units(&e, a) ? VERDICT_TOO_FEW_UNITS : ab_verdict_name(cmp.verdict);
				if (e.arms[a].stopped)
					verdict = psprintf("%s (arm %s)", verdict, e.arms[a].stop_reason);
				v[k++] = CStringGetTextDatum(verdict);
				v[k++] = CStringGetTextDatum(psprintf("p95 ratio: bootstrap %g%% percentile interval, %d resamples; "
													  "needed per arm: %g%% p95 difference at power 0.95; "
													  "Mann-Whitney U z = %.2f (reported, not part of the verdict); "
													  "design effect of the %s (the reads count as reads / design effect "
													  "independent ones): at the p95 arm %.2f, control %.2f; "
													  "of the ranks arm %.2f, control %.2f%s",
													  100.0 * (1.0 - 0.8 * alpha), REPORT_RESAMPLES,
													  100.0 * min_effect, cmp.mw_z,
													  e.unit == EXPERIMENT_UNIT_SESSION ? "sessions" : "transactions",
													  cmp.deff_p95_arm, cmp.deff_p95_control,
													  cmp.deff_ranks_arm, cmp.deff_ranks_control,
													  e.unit == EXPERIMENT_UNIT_SESSION ?
													  psprintf("; unit session: a verdict once this arm and the control have %d sessions each",
															   EXPERIMENT_MIN_SESSIONS) : ""));
			}
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
		}
	}
	return (Datum) 0;
}
