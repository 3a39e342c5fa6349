/*-------------------------------------------------------------------------
 *
 * decision_bench_sql.c
 *	  foresight.benchmark_routing_decision(iterations): the cost of one
 *	  routing decision (candidates, health, predictions, scores, choice),
 *	  measured in the server for bench/routing_quality.sh.
 *
 * Decisions are made as for EXPLAIN (dry run): nothing is executed, no
 * query waits in the admission queue, nothing is logged.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "portability/instr_time.h"

#include "core/guards.h"
#include "router/policy.h"

PG_FUNCTION_INFO_V1(foresight_benchmark_routing_decision);

Datum
foresight_benchmark_routing_decision(PG_FUNCTION_ARGS)
{
	int32		iterations = PG_GETARG_INT32(0);
	double		cost = PG_GETARG_FLOAT8(1);
	RouteDecision *d = palloc(sizeof(RouteDecision));
	instr_time	start,
				elapsed;

	foresight_require_admin("run the routing benchmark");
	foresight_require_shmem();
	if (iterations < 1 || iterations > 100000000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("iterations must be between 1 and 100000000")));

	INSTR_TIME_SET_CURRENT(start);
	for (int32 i = 0; i < iterations; i++)
	{
		policy_decide(d, cost, true);
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);

	/* microseconds per decision */
	PG_RETURN_FLOAT8(INSTR_TIME_GET_MICROSEC(elapsed) / (double) iterations);
}
