/* pg_foresight 0.4 -> 0.5 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.5'" to load this file. \quit

-- A function behind a view is executed with the privileges of the role
-- that reads the view, so it must be granted exactly as the view is: the
-- decision log (other sessions' query ids and timings) was readable through
-- decision_list() by everyone.  The only restricted view is
-- routing_decisions; the functions behind the other views are as public as
-- their views (docs/reference.md, "Privileges").
REVOKE ALL ON FUNCTION foresight.decision_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.decision_list() TO pg_read_all_stats, foresight_admin;

-- reset_routing_stats() is for superusers and foresight_admin, as its
-- documentation always said; the grant was missing.
GRANT EXECUTE ON FUNCTION foresight.reset_routing_stats() TO foresight_admin;

-- Plain INSERT and UPDATE of foresight.node get the checks of add_node and
-- alter_node: the conninfo as libpq will judge it, no session keywords,
-- superuser-only options, a free name, a positive node_id (0 is the
-- built-in node "local").
CREATE FUNCTION foresight.node_check()
	RETURNS trigger
	AS 'MODULE_PATHNAME', 'foresight_node_check'
	LANGUAGE C;
COMMENT ON FUNCTION foresight.node_check() IS
	'Row trigger of foresight.node: the checks of add_node and alter_node for plain INSERT and UPDATE';

CREATE TRIGGER node_check
	BEFORE INSERT OR UPDATE ON foresight.node
	FOR EACH ROW EXECUTE FUNCTION foresight.node_check();

-- node_id 0 is "local"; nothing else may be 0 or negative, even with the
-- trigger disabled (session_replication_role = replica).
DO $do$
DECLARE
	bad text;
BEGIN
	SELECT string_agg(pg_catalog.format('%s (node_id %s)', node_name, node_id), ', ' ORDER BY node_id)
	  INTO bad
	  FROM foresight.node WHERE node_id <= 0;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'foresight.node has nodes with a node_id that is not positive: %', bad
			USING ERRCODE = 'check_violation',
				  DETAIL = 'node_id 0 is the built-in node "local"; registered nodes have positive ids.',
				  HINT = 'Remove these rows (foresight.remove_node) and add the nodes again, then update the extension.';
	END IF;
END
$do$;
ALTER TABLE foresight.node ADD CONSTRAINT node_id_positive CHECK (node_id > 0);

-- Anomaly detection over any series (oldest value first): the online
-- detector of src/forecast/anomaly.c, run with its shipped defaults, one
-- value at a time and from the past only (docs/forecasting.md).  Not
-- STRICT: a NULL argument is reported by name.  Deterministic, hence
-- IMMUTABLE.
CREATE FUNCTION foresight.anomaly_scores(series float8[])
	RETURNS float8[]
	AS 'MODULE_PATHNAME', 'foresight_anomaly_scores'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION foresight.anomaly_scores(float8[]) IS
	'Anomaly score in [0,1] of every value of a series, each judged from the values before it (0 during the warm-up)';

CREATE FUNCTION foresight.detect_anomalies(
	series float8[],
	threshold float8 DEFAULT 0.5)
	RETURNS bool[]
	AS 'MODULE_PATHNAME', 'foresight_detect_anomalies'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION foresight.detect_anomalies(float8[], float8) IS
	'Alerts of the online anomaly detector on a series: score >= threshold, at most one per suppression period, as the live detector would raise them';

-- node_health's status also says why an answering node takes no routed
-- queries (this coordinator itself, a promoted standby, another cluster)
COMMENT ON VIEW foresight.node_health IS
	'The monitor''s view of every node: status (unknown, up, down, disabled, or why an answering node takes no routed queries), last poll and success, consecutive failures, last error, replay LSN';
