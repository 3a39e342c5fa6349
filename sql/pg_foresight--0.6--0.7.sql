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

-- #20 section 4: more than one prediction window.  The live models predict
-- over each horizon of foresight.prediction_horizons: predictions and
-- models have one row per node, series and horizon; predictions gains
-- horizon_steps (samples ahead the model covers), models gains horizon.
-- The columns of 0.6 keep their names, types and order.
DROP VIEW foresight.predictions;
DROP FUNCTION foresight.prediction_list();
CREATE FUNCTION foresight.prediction_list(
	OUT node_name text,
	OUT request_class text,
	OUT horizon interval,
	OUT predicted_load float8,
	OUT fitted boolean,
	OUT models text[],
	OUT forecasts float8[],
	OUT weights float8[],
	OUT rolling_mae float8[],
	OUT samples bigint,
	OUT age interval,
	OUT horizon_steps integer)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_prediction_list'
	LANGUAGE C VOLATILE STRICT;

CREATE VIEW foresight.predictions AS
	SELECT * FROM foresight.prediction_list();
COMMENT ON VIEW foresight.predictions IS
	'Predicted mean load in [0,1] per node, request class and horizon of foresight.prediction_horizons, with each model''s forecast and blend weight';
GRANT SELECT ON foresight.predictions TO PUBLIC;

DROP VIEW foresight.models;
DROP FUNCTION foresight.model_list();
CREATE FUNCTION foresight.model_list(
	OUT node_name text,
	OUT request_class text,
	OUT model text,
	OUT parameters jsonb,
	OUT weight float8,
	OUT training_samples bigint,
	OUT last_trained timestamptz,
	OUT training_ms float8,
	OUT rolling_mae float8,
	OUT rolling_mase float8,
	OUT skipped_samples bigint,
	OUT horizon interval)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_model_list'
	LANGUAGE C VOLATILE STRICT;

CREATE VIEW foresight.models AS
	SELECT * FROM foresight.model_list();
COMMENT ON VIEW foresight.models IS
	'Every live model per node, request class and horizon: parameters, training, rolling errors';
GRANT SELECT ON foresight.models TO PUBLIC;

-- The rule the predictive policy applies (docs/prediction.md): the horizon
-- read for a query expected to run expected_duration after waiting
-- expected_wait in the admission queue.
CREATE FUNCTION foresight.prediction_horizon_for(
	expected_duration interval,
	expected_wait interval DEFAULT '0')
	RETURNS interval
	AS 'MODULE_PATHNAME', 'foresight_prediction_horizon_for'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION foresight.prediction_horizon_for(interval, interval) IS
	'The horizon of foresight.prediction_horizons the predictive policy reads for a query expected to run expected_duration after waiting expected_wait: the smallest at least as long as both together, else the largest';

-- #21: each node's network round trip as the monitor measures it
-- (src/monitor/round_trip.c), and the regions (foresight.local_region).
CREATE FUNCTION foresight.node_round_trip_list(
	OUT node_id integer,
	OUT round_trip_ms float8,
	OUT round_trip_p50_ms float8,
	OUT round_trip_p95_ms float8,
	OUT round_trip_samples bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_node_round_trip_list'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION foresight.node_round_trip_list() IS
	'Each node''s network round trip as the monitor measures it (an empty query after every sample): smoothed, median and 95th percentile of the last 32, in milliseconds';

CREATE OR REPLACE VIEW foresight.nodes AS
	SELECT n.node_id, n.node_name, n.conninfo, n.region, n.kind, n.weight, n.state,
		   h.status, h.last_poll, h.last_error,
		   q.quarantine, q.quarantine_reason, q.quarantine_since, q.anomaly_score,
		   r.round_trip_ms
	  FROM foresight.node_list() WITH ORDINALITY n
	  LEFT JOIN foresight.node_health_list() h ON h.node_id = n.node_id
	  LEFT JOIN foresight.node_quarantine_list() q ON q.node_id = n.node_id AND n.node_id <> 0
	  LEFT JOIN foresight.node_round_trip_list() r ON r.node_id = n.node_id
	 ORDER BY n.ordinality;
COMMENT ON VIEW foresight.nodes IS
	'Every node routing knows about, the coordinator ("local") first; passwords are masked; status, last poll and last error from the monitor; quarantine state, reason, start and the last anomaly score; the measured network round trip';

CREATE VIEW foresight.regions AS
	WITH load AS (
		-- each node's predicted load over the shortest window
		SELECT DISTINCT ON (node_name) node_name, predicted_load
		  FROM foresight.prediction_list()
		 WHERE request_class = 'all'
		 ORDER BY node_name, horizon),
	node AS (
		SELECT n.region, h.status, r.round_trip_ms, r.round_trip_p95_ms,
			   l.predicted_load, s.routed
		  FROM foresight.node_list() n
		  LEFT JOIN foresight.node_health_list() h ON h.node_id = n.node_id
		  LEFT JOIN foresight.node_round_trip_list() r ON r.node_id = n.node_id
		  LEFT JOIN load l ON l.node_name = n.node_name
		  LEFT JOIN foresight.routing_stats_list() s ON s.node_id = n.node_id)
	SELECT region,
		   region = pg_catalog.current_setting('foresight.local_region') AS local,
		   count(*)::integer AS nodes,
		   (count(*) FILTER (WHERE status = 'up'))::integer AS nodes_up,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY round_trip_ms) AS round_trip_ms,
		   max(round_trip_p95_ms) AS round_trip_p95_ms,
		   avg(predicted_load) AS predicted_load,
		   coalesce(sum(routed), 0)::float8 /
			 nullif(sum(sum(routed)) OVER (), 0) AS share_of_reads,
		   CASE WHEN count(*) FILTER (WHERE status = 'up') = count(*) THEN 'up'
				WHEN count(*) FILTER (WHERE status = 'up') > 0 THEN 'degraded'
				ELSE 'down' END AS state
	  FROM node
	 GROUP BY region
	 ORDER BY local DESC, round_trip_ms NULLS LAST, region;
COMMENT ON VIEW foresight.regions IS
	'One row per region: whether it is this coordinator''s (foresight.local_region), its nodes and how many are up, the median of their round trips and the largest 95th percentile, their mean predicted load over the shortest window, its share of the reads decided here since the statistics were reset, and up, degraded or down';
GRANT SELECT ON foresight.regions TO PUBLIC;

-- #17: per node, the pieces of split reads it ran since the server started
-- (src/router/split_node_stats.c).
CREATE FUNCTION foresight.split_nodes_list(
	OUT node_name text,
	OUT splits bigint,
	OUT pieces bigint,
	OUT stolen bigint,
	OUT rows bigint,
	OUT total_ms float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_split_nodes_list'
	LANGUAGE C VOLATILE STRICT;
CREATE VIEW foresight.split_nodes AS
	SELECT * FROM foresight.split_nodes_list();
COMMENT ON VIEW foresight.split_nodes IS
	'Per node (the coordinator as local): the split reads it ran pieces of since the server started, the pieces (and how many of them it took from another node''s share), their rows and their time in milliseconds';
GRANT SELECT ON foresight.split_nodes TO PUBLIC;
