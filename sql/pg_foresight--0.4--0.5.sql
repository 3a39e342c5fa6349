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
-- BEGIN split (dynamic sharding, planning side: src/split/, docs/sharding.md)
--
-- Partial aggregation of any aggregate with a combine function, in SQL:
-- partial_agg(aggregate, arguments...) is the aggregate's transition state
-- over its rows, serialised (bytea); combine_agg(aggregate, state) combines
-- states into one; finalize_agg(aggregate, state, NULL::result type)
-- combines them and applies the aggregate's final function.  The parts of a
-- split query compute partial_agg on the nodes (these objects replicate to
-- the standbys with the rest of the extension) and the coordinator
-- finalize_agg.  Everyone may use them: they run an aggregate only if the
-- caller may execute it.
CREATE FUNCTION foresight.partial_agg_transfn(internal, regprocedure)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'foresight_partial_agg_transfn'
	LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION foresight.partial_agg_transfn(internal, regprocedure, VARIADIC "any")
	RETURNS internal
	AS 'MODULE_PATHNAME', 'foresight_partial_agg_transfn'
	LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION foresight.partial_agg_finalfn(internal)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'foresight_partial_agg_finalfn'
	LANGUAGE C PARALLEL SAFE;
CREATE AGGREGATE foresight.partial_agg(aggregate regprocedure) (
	SFUNC = foresight.partial_agg_transfn,
	STYPE = internal,
	FINALFUNC = foresight.partial_agg_finalfn,
	PARALLEL = SAFE);
CREATE AGGREGATE foresight.partial_agg(aggregate regprocedure, VARIADIC arguments "any") (
	SFUNC = foresight.partial_agg_transfn,
	STYPE = internal,
	FINALFUNC = foresight.partial_agg_finalfn,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE foresight.partial_agg(regprocedure) IS
	'The serialized transition state of an aggregate without arguments (count(*)) over its rows';
COMMENT ON AGGREGATE foresight.partial_agg(regprocedure, "any") IS
	'The serialized transition state of an aggregate over its rows';

CREATE FUNCTION foresight.combine_agg_transfn(internal, regprocedure, bytea)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'foresight_combine_agg_transfn'
	LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION foresight.combine_agg_finalfn(internal)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'foresight_combine_agg_finalfn'
	LANGUAGE C PARALLEL SAFE;
CREATE AGGREGATE foresight.combine_agg(aggregate regprocedure, state bytea) (
	SFUNC = foresight.combine_agg_transfn,
	STYPE = internal,
	FINALFUNC = foresight.combine_agg_finalfn,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE foresight.combine_agg(regprocedure, bytea) IS
	'Partial states of an aggregate (from partial_agg or combine_agg) combined into one';

CREATE FUNCTION foresight.finalize_agg_transfn(internal, regprocedure, bytea, anyelement)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'foresight_combine_agg_transfn'
	LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION foresight.finalize_agg_finalfn(internal, regprocedure, bytea, anyelement)
	RETURNS anyelement
	AS 'MODULE_PATHNAME', 'foresight_finalize_agg_finalfn'
	LANGUAGE C PARALLEL SAFE;
-- FINALFUNC_MODIFY = READ_WRITE: the aggregate's final function may change
-- the combined state, which must then not be shared with another call.
CREATE AGGREGATE foresight.finalize_agg(aggregate regprocedure, state bytea, result anyelement) (
	SFUNC = foresight.finalize_agg_transfn,
	STYPE = internal,
	FINALFUNC = foresight.finalize_agg_finalfn,
	FINALFUNC_EXTRA,
	FINALFUNC_MODIFY = READ_WRITE,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE foresight.finalize_agg(regprocedure, bytea, anyelement) IS
	'The result of an aggregate from its partial states; result is NULL::<the aggregate''s result type>';

-- Declared split keys (otherwise: the first column of the primary key, or
-- of a unique index on non-null columns).  A table, so that it replicates to
-- the standbys and pg_dump dumps it; changed through set_split_key.
CREATE TABLE foresight.split_key (
	relid		regclass PRIMARY KEY,
	column_name	name NOT NULL
);
COMMENT ON TABLE foresight.split_key IS
	'Split keys declared with foresight.set_split_key: the column a table''s reads are split on';
SELECT pg_catalog.pg_extension_config_dump('foresight.split_key', '');
REVOKE ALL ON foresight.split_key FROM PUBLIC;
GRANT SELECT ON foresight.split_key TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON foresight.split_key TO foresight_admin;

CREATE FUNCTION foresight.set_split_key(relation regclass, column_name name)
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_set_split_key'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION foresight.set_split_key(regclass, name) IS
	'Declare the column a table''s reads are split on; NULL removes the declaration';
REVOKE ALL ON FUNCTION foresight.set_split_key(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.set_split_key(regclass, name) TO foresight_admin;

-- A dropped table or column takes its declaration with it (a dangling
-- regclass would also break the restore of a dump).
CREATE FUNCTION foresight.split_key_dropped()
	RETURNS event_trigger
	LANGUAGE plpgsql
	SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	DELETE FROM foresight.split_key k
	 USING pg_event_trigger_dropped_objects() d
	 WHERE d.classid = 'pg_catalog.pg_class'::regclass
	   AND d.objid = k.relid::oid
	   AND (d.objsubid = 0 OR d.address_names[3] = k.column_name::text);
END
$$;
REVOKE ALL ON FUNCTION foresight.split_key_dropped() FROM PUBLIC;
CREATE EVENT TRIGGER foresight_split_key_dropped ON sql_drop
	EXECUTE FUNCTION foresight.split_key_dropped();

CREATE FUNCTION foresight.split_explain(
	sql text,
	parts integer DEFAULT 2,
	OUT splittable boolean,
	OUT reason text,
	OUT relation regclass,
	OUT split_key name,
	OUT key_source text,
	OUT key_type regtype,
	OUT key_collation regcollation,
	OUT strategy text,
	OUT cost float8,
	OUT nparts integer,
	OUT cut_points text[],
	OUT part_conditions text[],
	OUT part_sql text[],
	OUT combine text,
	OUT combine_sql text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_split_explain'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION foresight.split_explain(text, integer) IS
	'How a read would be split into parts under the session''s settings, without running it';
GRANT EXECUTE ON FUNCTION foresight.split_explain(text, integer) TO PUBLIC;
-- END split

-- BEGIN experiments: A/B experiments between routing configurations
-- (docs/experiments.md, src/router/experiment*.c, src/abtest/)

CREATE FUNCTION foresight.start_experiment(
	name text,
	arms jsonb,
	traffic float8 DEFAULT 1.0,
	unit text DEFAULT 'session',
	control text DEFAULT NULL,
	seed bigint DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_start_experiment'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION foresight.start_experiment(text, jsonb, float8, text, text, bigint) IS
	'Start an A/B experiment: a share traffic of the eligible reads, by session or query, spread over arms of routing settings';
REVOKE ALL ON FUNCTION foresight.start_experiment(text, jsonb, float8, text, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.start_experiment(text, jsonb, float8, text, text, bigint) TO foresight_admin;

CREATE FUNCTION foresight.stop_experiment(name text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_stop_experiment'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION foresight.stop_experiment(text) IS
	'Stop a running experiment; its statistics are kept for experiment_report';
REVOKE ALL ON FUNCTION foresight.stop_experiment(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.stop_experiment(text) TO foresight_admin;

CREATE FUNCTION foresight.drop_experiment(name text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_drop_experiment'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION foresight.drop_experiment(text) IS
	'Forget an experiment and its statistics';
REVOKE ALL ON FUNCTION foresight.drop_experiment(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.drop_experiment(text) TO foresight_admin;

CREATE FUNCTION foresight.promote_experiment(
	name text,
	arm text DEFAULT NULL,
	alpha float8 DEFAULT 0.05,
	min_effect float8 DEFAULT 0.2)
	RETURNS text
	AS 'MODULE_PATHNAME', 'foresight_promote_experiment'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION foresight.promote_experiment(text, text, float8, float8) IS
	'Make an arm''s settings (by default the arm found better than the control) the configured ones, and stop the experiment';
REVOKE ALL ON FUNCTION foresight.promote_experiment(text, text, float8, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.promote_experiment(text, text, float8, float8) TO foresight_admin;

CREATE FUNCTION foresight.experiment_list(
	OUT name text,
	OUT status text,
	OUT unit text,
	OUT traffic float8,
	OUT seed bigint,
	OUT control text,
	OUT arms jsonb,
	OUT stopped_arms jsonb,
	OUT started_at timestamptz,
	OUT stopped_at timestamptz,
	OUT stop_reason text,
	OUT queries jsonb)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_experiment_list'
	LANGUAGE C VOLATILE;
CREATE VIEW foresight.experiments AS
	SELECT * FROM foresight.experiment_list();
COMMENT ON VIEW foresight.experiments IS
	'A/B experiments between routing configurations, running or stopped';
GRANT SELECT ON foresight.experiments TO PUBLIC;

CREATE FUNCTION foresight.experiment_report(
	name text,
	alpha float8 DEFAULT 0.05,
	min_effect float8 DEFAULT 0.2)
	RETURNS TABLE (
		arm text,
		request_class text,
		is_control boolean,
		queries bigint,
		errors bigint,
		hedges bigint,
		queued bigint,
		mean_queue_wait_ms float8,
		throughput_qps float8,
		p50_ms float8,
		p50_low_ms float8,
		p50_high_ms float8,
		p95_ms float8,
		p95_low_ms float8,
		p95_high_ms float8,
		p99_ms float8,
		p99_low_ms float8,
		p99_high_ms float8,
		p95_ratio float8,
		p95_ratio_low float8,
		p95_ratio_high float8,
		p99_ratio float8,
		p99_ratio_low float8,
		p99_ratio_high float8,
		mann_whitney_p float8,
		needed_per_arm bigint,
		verdict text,
		test text)
	AS 'MODULE_PATHNAME', 'foresight_experiment_report'
	LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION foresight.experiment_report(text, float8, float8) IS
	'Per arm and request class: latency quantiles with intervals, counts, and the comparison with the control';
GRANT EXECUTE ON FUNCTION foresight.experiment_report(text, float8, float8) TO PUBLIC;
-- END experiments

-- BEGIN auto_tune: self-tuning weights of the predictive policy
-- (docs/experiments.md#self-tuning-weights, src/router/auto_tune.c, src/abtest/bandit.c)

CREATE FUNCTION foresight.auto_tune_list(
	OUT bucket text,
	OUT arm integer,
	OUT weight_connection float8,
	OUT weight_load float8,
	OUT configured boolean,
	OUT pulls bigint,
	OUT mean_reward float8,
	OUT reward_se float8,
	OUT tail_share float8,
	OUT chosen boolean,
	OUT reason text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_auto_tune_list'
	LANGUAGE C VOLATILE;
CREATE VIEW foresight.auto_tune AS
	SELECT * FROM foresight.auto_tune_list();
COMMENT ON VIEW foresight.auto_tune IS
	'The self-tuning weights'' bandit: per time bucket and arm, its weights, pulls, estimated reward, and the current choice';
GRANT SELECT ON foresight.auto_tune TO PUBLIC;
-- END auto_tune
