/* pg_foresight 0.2 -> 0.3 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.3'" to load this file. \quit

-- Samples gain the CPU limit of the node's control group and the share of
-- its enforcement periods in which it was throttled (docs/monitoring.md).
-- The row type's columns are matched by name, so they go at the end.
ALTER TYPE foresight.metric_sample
	ADD ATTRIBUTE cpu_limit float8,
	ADD ATTRIBUTE cpu_throttled float8;

-- the view's columns were fixed when it was made: add the new ones
CREATE OR REPLACE VIEW foresight.node_metrics AS
	SELECT * FROM foresight.node_metrics_latest();
