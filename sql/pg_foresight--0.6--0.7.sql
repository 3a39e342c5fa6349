/* pg_foresight 0.6 -> 0.7 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.7'" to load this file. \quit

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
	'Each node''s network round trip as the monitor measures it (an empty query before every sample): smoothed, median and 95th percentile of the last 32, in milliseconds';

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
	SELECT n.region,
		   n.region = pg_catalog.current_setting('foresight.local_region') AS local,
		   count(*)::integer AS nodes,
		   (count(*) FILTER (WHERE h.status = 'up'))::integer AS nodes_up,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY r.round_trip_ms) AS round_trip_ms,
		   max(r.round_trip_p95_ms) AS round_trip_p95_ms
	  FROM foresight.node_list() n
	  LEFT JOIN foresight.node_health_list() h ON h.node_id = n.node_id
	  LEFT JOIN foresight.node_round_trip_list() r ON r.node_id = n.node_id
	 GROUP BY n.region
	 ORDER BY local DESC, round_trip_ms NULLS LAST, n.region;
COMMENT ON VIEW foresight.regions IS
	'One row per region: whether it is this coordinator''s (foresight.local_region), its nodes and how many are up, the median of their round trips and the largest 95th percentile';
GRANT SELECT ON foresight.regions TO PUBLIC;
