/* pg_foresight 0.11 -> 0.12 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.12'" to load this file. \quit

-- #17: a split read's parts may be cut by block ranges of the table when
-- every node's snapshot is at one WAL position; a standby tells where its
-- snapshot stands (src/split/split_blocks.c).
CREATE FUNCTION foresight.snapshot_position()
	RETURNS pg_lsn
	AS 'MODULE_PATHNAME', 'foresight_snapshot_position'
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION foresight.snapshot_position() IS
	'on a hot standby, in a REPEATABLE READ transaction whose snapshot is taken: the WAL position replayed when no record is being replayed, else NULL';
