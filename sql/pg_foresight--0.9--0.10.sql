/* pg_foresight 0.9 -> 0.10 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.10'" to load this file. \quit

-- #17: the view of split pieces per node shows each node's measured pace,
-- the number split_assignment's shares follow (src/router/split_node_stats.c),
-- and when it was last measured: why a node took fewer pieces, and that a
-- split whose piece a LIMIT cut short taught none.
DROP VIEW foresight.split_nodes;
DROP FUNCTION foresight.split_nodes_list();
CREATE FUNCTION foresight.split_nodes_list(
	OUT node_name text,
	OUT splits bigint,
	OUT pieces bigint,
	OUT stolen bigint,
	OUT rows bigint,
	OUT total_ms float8,
	OUT pace float8,
	OUT pace_measured_at timestamptz)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_split_nodes_list'
	LANGUAGE C VOLATILE STRICT;
CREATE VIEW foresight.split_nodes AS
	SELECT * FROM foresight.split_nodes_list();
COMMENT ON VIEW foresight.split_nodes IS
	'Per node (the coordinator as local): the split reads it ran pieces of since the server started, the pieces (and how many of them it took from another node''s share), their rows and their time in milliseconds, and its measured pace (milliseconds per unit of plan cost relative to the nodes of the same splits, 1 = as fast as they were together) with when it was last measured';
GRANT SELECT ON foresight.split_nodes TO PUBLIC;
