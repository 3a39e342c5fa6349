/* pg_foresight 0.12 -> 0.13 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.13'" to load this file. \quit

-- quarantine_node() and release_node() were STRICT, so a NULL argument made
-- them do nothing without a word; like every other management function they
-- now raise 22004 null_value_not_allowed (src/monitor/quarantine_sql.c).
ALTER FUNCTION foresight.quarantine_node(text, text) CALLED ON NULL INPUT;
ALTER FUNCTION foresight.release_node(text) CALLED ON NULL INPUT;
