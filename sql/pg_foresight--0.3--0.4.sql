/* pg_foresight 0.3 -> 0.4 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.4'" to load this file. \quit

-- The connection score weighs in the node's speed for the query's class
-- (docs/prediction.md): the function that computes it on given numbers
-- takes it too, 1 (as fast as the fastest node) when left out.
DROP FUNCTION foresight.connection_score(float8, float8, integer, integer, integer);
CREATE FUNCTION foresight.connection_score(weight float8, max_weight float8, connections integer,
										   max_connections integer, inflight integer,
										   speed float8 DEFAULT 1)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'foresight_connection_score'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION foresight.connection_score(float8, float8, integer, integer, integer, float8) IS
	'(weight / max_weight) * (free slots / max_connections) * speed / (1 + inflight)';
