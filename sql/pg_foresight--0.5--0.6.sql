/* pg_foresight 0.5 -> 0.6 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.6'" to load this file. \quit

-- Degraded nodes: quarantine and slow start (src/monitor/quarantine.c).
CREATE FUNCTION foresight.node_quarantine_list(
	OUT node_id integer,
	OUT quarantine text,
	OUT quarantine_reason text,
	OUT quarantine_since timestamptz,
	OUT anomaly_score float8,
	OUT anomaly_metric text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_node_quarantine_list'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION foresight.node_quarantine_list() IS
	'Each node''s quarantine state (normal, quarantined, slow start), why and since when, and its last anomaly score';

CREATE OR REPLACE VIEW foresight.nodes AS
	SELECT n.node_id, n.node_name, n.conninfo, n.region, n.kind, n.weight, n.state,
		   h.status, h.last_poll, h.last_error,
		   q.quarantine, q.quarantine_reason, q.quarantine_since, q.anomaly_score
	  FROM foresight.node_list() WITH ORDINALITY n
	  LEFT JOIN foresight.node_health_list() h ON h.node_id = n.node_id
	  LEFT JOIN foresight.node_quarantine_list() q ON q.node_id = n.node_id AND n.node_id <> 0
	 ORDER BY n.ordinality;
COMMENT ON VIEW foresight.nodes IS
	'Every node routing knows about, the coordinator ("local") first; passwords are masked; status, last poll and last error from the monitor; quarantine state, reason, start and the last anomaly score';

CREATE FUNCTION foresight.anomaly_events(
	OUT node_id integer,
	OUT node_name text,
	OUT metric text,
	OUT score float8,
	OUT start_time timestamptz,
	OUT end_time timestamptz,
	OUT action text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_anomaly_events'
	LANGUAGE C VOLATILE STRICT;
CREATE VIEW foresight.anomalies AS
	SELECT * FROM foresight.anomaly_events();
COMMENT ON VIEW foresight.anomalies IS
	'The last 64 quarantines and slow starts of nodes: node, metric, score, start, end (NULL while it lasts), action';
GRANT SELECT ON foresight.anomalies TO PUBLIC;

CREATE FUNCTION foresight.quarantine_node(node_name text, reason text DEFAULT 'by hand')
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_quarantine_node'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION foresight.quarantine_node(text, text) IS
	'Quarantine a node by hand: no new routed queries until foresight.release_node()';
REVOKE ALL ON FUNCTION foresight.quarantine_node(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.quarantine_node(text, text) TO foresight_admin;

CREATE FUNCTION foresight.release_node(node_name text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_release_node'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION foresight.release_node(text) IS
	'End a node''s quarantine: it is readmitted with a slow start (foresight.readmit_ramp)';
REVOKE ALL ON FUNCTION foresight.release_node(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.release_node(text) TO foresight_admin;

-- Causal reads across connections (src/router/causal.c): the writer's
-- position, for the reader's SET foresight.min_lsn.
CREATE FUNCTION foresight.last_commit_lsn()
	RETURNS pg_lsn
	AS 'MODULE_PATHNAME', 'foresight_last_commit_lsn'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION foresight.last_commit_lsn() IS
	'Where this session''s last commit ended in the WAL (NULL before any): for SET foresight.min_lsn in another session';
