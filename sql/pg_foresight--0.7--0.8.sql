/* pg_foresight 0.7 -> 0.8 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.8'" to load this file. \quit

-- #18 item 3: every node can route.  The registry describes the primary
-- too (kind 'primary'), so that a standby that preloads the extension can
-- route its sessions' reads to it; on the primary itself that row is the
-- node "local".  At most one such row.
ALTER TABLE foresight.node DROP CONSTRAINT node_kind_check;
ALTER TABLE foresight.node ADD CONSTRAINT node_kind_check
	CHECK (kind IN ('standby', 'replica', 'primary'));
CREATE UNIQUE INDEX node_one_primary ON foresight.node (kind) WHERE kind = 'primary';
COMMENT ON INDEX foresight.node_one_primary IS
	'At most one node of kind primary: the coordinator as its standbys reach it';
