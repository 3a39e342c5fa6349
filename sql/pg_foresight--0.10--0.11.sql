/* pg_foresight 0.10 -> 0.11 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.11'" to load this file. \quit

-- #20: the report counts each arm's units (sessions, or transactions with
-- unit 'query'), and a session experiment gives no verdict until the arm
-- and the control have 30 sessions each (src/router/experiment_report.c).
DROP FUNCTION foresight.experiment_report(text, float8, float8);
CREATE FUNCTION foresight.experiment_report(
	name text,
	alpha float8 DEFAULT 0.05,
	min_effect float8 DEFAULT 0.2)
	RETURNS TABLE (
		arm text,
		request_class text,
		is_control boolean,
		queries bigint,
		units bigint,
		errors bigint,
		hedges bigint,
		queued bigint,
		mean_queue_wait_ms float8,
		throughput_qps float8,
		p50_ms float8,
		p50_low_ms float8,
		p50_high_ms float8,
		p95_ms float8,
		p95_low_ms float8,
		p95_high_ms float8,
		p99_ms float8,
		p99_low_ms float8,
		p99_high_ms float8,
		p95_ratio float8,
		p95_ratio_low float8,
		p95_ratio_high float8,
		p99_ratio float8,
		p99_ratio_low float8,
		p99_ratio_high float8,
		mann_whitney_p float8,
		needed_per_arm bigint,
		verdict text,
		test text)
	AS 'MODULE_PATHNAME', 'foresight_experiment_report'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION foresight.experiment_report(text, float8, float8) IS
	'Per arm and request class: latency quantiles with intervals, counts, units, and the comparison with the control';
GRANT EXECUTE ON FUNCTION foresight.experiment_report(text, float8, float8) TO PUBLIC;
