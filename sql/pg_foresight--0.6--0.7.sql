/* pg_foresight 0.6 -> 0.7 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.7'" to load this file. \quit

-- #18: what a read costs the coordinator's own CPU, routed or run here,
-- per request class (src/router/coordinator_cost.c).
CREATE FUNCTION foresight.coordinator_cost_list(
	OUT request_class text,
	OUT routed_cpu_us float8,
	OUT routed_samples bigint,
	OUT local_cpu_us float8,
	OUT local_samples bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_coordinator_cost_list'
	LANGUAGE C VOLATILE STRICT;
CREATE VIEW foresight.coordinator_cost AS
	SELECT * FROM foresight.coordinator_cost_list();
COMMENT ON VIEW foresight.coordinator_cost IS
	'Per request class: the coordinator''s CPU per routed read and per read run here (microseconds, smoothed), and the timed executions behind each';
GRANT SELECT ON foresight.coordinator_cost TO PUBLIC;
