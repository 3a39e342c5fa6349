/* pg_foresight--0.1--0.2.sql: update pg_foresight from 0.1 to 0.2 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.2'" to load this file. \quit

-- the decision log gains request_shape (after request_class)
DROP VIEW foresight.routing_decisions;
DROP FUNCTION foresight.decision_list();
CREATE FUNCTION foresight.decision_list(
	OUT decision_id bigint,
	OUT decided_at timestamptz,
	OUT pid integer,
	OUT query_id bigint,
	OUT request_class text,
	OUT request_shape text,
	OUT cost float8,
	OUT candidates jsonb,
	OUT chosen_node text,
	OUT policy text,
	OUT reason text,
	OUT queue_wait_ms float8,
	OUT latency_ms float8,
	OUT failed boolean,
	OUT candidate_count integer)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_decision_list'
	LANGUAGE C VOLATILE STRICT;

CREATE VIEW foresight.routing_decisions AS
	SELECT * FROM foresight.decision_list();
COMMENT ON VIEW foresight.routing_decisions IS
	'The last foresight.decision_log_size routing decisions: candidates with their scores, the choice, why, queue wait and observed latency';
-- decisions show query ids and timings of other sessions: monitoring roles only
REVOKE ALL ON foresight.routing_decisions FROM PUBLIC;
GRANT SELECT ON foresight.routing_decisions TO pg_read_all_stats, foresight_admin;

-- route_explain() gains request_class, request_shape and cost
DROP FUNCTION foresight.route_explain(text);
CREATE FUNCTION foresight.route_explain(sql text,
	OUT node text,
	OUT policy text,
	OUT reason text,
	OUT candidates text[],
	OUT excluded text,
	OUT remote_sql text,
	OUT remote_parameters text[],
	OUT request_class text,
	OUT request_shape text,
	OUT cost float8)
	RETURNS record
	AS 'MODULE_PATHNAME', 'foresight_route_explain'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION foresight.route_explain(text) IS
	'The route the current policy would give a statement now, and why, without running it';
GRANT EXECUTE ON FUNCTION foresight.route_explain(text) TO PUBLIC;

-- new: this session's query shapes routed without local planning
CREATE FUNCTION foresight.query_shapes(
	OUT remote_sql text,
	OUT role regrole,
	OUT cost float8,
	OUT hits bigint,
	OUT created timestamptz)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_query_shapes'
	LANGUAGE C VOLATILE STRICT;
CREATE VIEW foresight.query_shapes AS SELECT * FROM foresight.query_shapes();
COMMENT ON VIEW foresight.query_shapes IS
	'This session''s query shapes routed without local planning (foresight.defer_local_planning)';
GRANT EXECUTE ON FUNCTION foresight.query_shapes() TO PUBLIC;
GRANT SELECT ON foresight.query_shapes TO PUBLIC;
