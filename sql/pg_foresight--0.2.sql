/* pg_foresight--0.2.sql: install script of pg_foresight 0.2 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_foresight" to load this file. \quit

-- BEGIN nodes
--
-- The role that may manage nodes besides superusers.  Roles are global:
-- create it only once for the whole cluster.
DO $do$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'foresight_admin') THEN
		CREATE ROLE foresight_admin NOLOGIN;
	END IF;
END
$do$;

CREATE TABLE foresight.node (
	node_id		integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	node_name	text NOT NULL UNIQUE
		CHECK (node_name ~ '^[a-z_][a-z0-9_]*$' AND length(node_name) < 64 AND node_name <> 'local'),
	conninfo	text NOT NULL CHECK (length(conninfo) < 1024),
	region		text NOT NULL DEFAULT 'local'
		CHECK (region ~ '^[a-z_][a-z0-9_-]*$' AND length(region) < 64),
	kind		text NOT NULL DEFAULT 'standby' CHECK (kind IN ('standby', 'replica')),
	weight		float8 NOT NULL DEFAULT 1.0 CHECK (weight > 0 AND weight <= 100),
	state		text NOT NULL DEFAULT 'enabled' CHECK (state IN ('enabled', 'drained', 'disabled')),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE foresight.node IS
	'Registered nodes (source of truth); change it with foresight.add_node, alter_node and remove_node';

-- Rows are user data: pg_dump dumps them.
SELECT pg_catalog.pg_extension_config_dump('foresight.node', '');

-- The table holds conninfo strings, which may hold passwords.
REVOKE ALL ON foresight.node FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON foresight.node TO foresight_admin;
GRANT USAGE ON SCHEMA foresight TO PUBLIC;

-- Every change of the table, whoever makes it, is copied to shared memory
-- when its transaction commits.
CREATE FUNCTION foresight.node_registry_changed()
	RETURNS trigger
	AS 'MODULE_PATHNAME', 'foresight_node_registry_changed'
	LANGUAGE C;

CREATE TRIGGER node_registry_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON foresight.node
	FOR EACH STATEMENT EXECUTE FUNCTION foresight.node_registry_changed();

CREATE FUNCTION foresight.add_node(
	node_name text,
	conninfo text,
	region text DEFAULT 'local',
	kind text DEFAULT 'standby',
	weight float8 DEFAULT 1.0)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'foresight_add_node'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION foresight.add_node(text, text, text, text, float8) IS
	'Register a node; returns its node_id';

CREATE FUNCTION foresight.remove_node(node_name text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_remove_node'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION foresight.remove_node(text) IS 'Unregister a node';

CREATE FUNCTION foresight.alter_node(
	node_name text,
	state text DEFAULT NULL,
	weight float8 DEFAULT NULL,
	region text DEFAULT NULL,
	conninfo text DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_alter_node'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION foresight.alter_node(text, text, float8, text, text) IS
	'Change a node: state (enabled, drained, disabled), weight, region or conninfo; NULL keeps a value';

REVOKE ALL ON FUNCTION foresight.add_node(text, text, text, text, float8) FROM PUBLIC;
REVOKE ALL ON FUNCTION foresight.remove_node(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION foresight.alter_node(text, text, float8, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.add_node(text, text, text, text, float8) TO foresight_admin;
GRANT EXECUTE ON FUNCTION foresight.remove_node(text) TO foresight_admin;
GRANT EXECUTE ON FUNCTION foresight.alter_node(text, text, float8, text, text) TO foresight_admin;

-- The shared-memory copy of the registry, as every backend sees it.
CREATE FUNCTION foresight.node_list(
	OUT node_id integer,
	OUT node_name text,
	OUT conninfo text,
	OUT region text,
	OUT kind text,
	OUT weight float8,
	OUT state text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_node_list'
	LANGUAGE C STABLE STRICT;

CREATE VIEW foresight.nodes AS
	SELECT * FROM foresight.node_list();
COMMENT ON VIEW foresight.nodes IS
	'Every node routing knows about, the coordinator ("local") first; passwords are masked';
GRANT SELECT ON foresight.nodes TO PUBLIC;

CREATE FUNCTION foresight.monitor_status(
	OUT pid integer,
	OUT started_at timestamptz,
	OUT last_wakeup timestamptz,
	OUT registry_generation bigint,
	OUT generation_seen bigint,
	OUT nodes_seen integer,
	OUT loops bigint)
	RETURNS record
	AS 'MODULE_PATHNAME', 'foresight_monitor_status'
	LANGUAGE C STABLE STRICT;

CREATE VIEW foresight.monitor AS
	SELECT * FROM foresight.monitor_status();
COMMENT ON VIEW foresight.monitor IS
	'The background worker "foresight monitor": process, start, last wake-up, registry generation it has seen';
GRANT SELECT ON foresight.monitor TO PUBLIC;
-- END nodes

-- BEGIN scoring
CREATE FUNCTION foresight.set_weights(connection float8, load float8, peak boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_set_weights'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION foresight.set_weights(float8, float8, boolean) IS
	'Set the weights of the predictive score (off-peak, or peak hours with peak => true) for every backend';
REVOKE ALL ON FUNCTION foresight.set_weights(float8, float8, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.set_weights(float8, float8, boolean) TO foresight_admin;

CREATE FUNCTION foresight.current_weights(OUT connection float8, OUT load float8, OUT peak boolean)
	RETURNS record
	AS 'MODULE_PATHNAME', 'foresight_current_weights'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION foresight.current_weights() IS
	'The weights in force now, and whether they are the peak-hours weights';

CREATE FUNCTION foresight.score(connection_score float8, predicted_load float8,
								w_conn float8, w_load float8)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'foresight_score'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION foresight.score(float8, float8, float8, float8) IS
	'w_conn * connection_score + w_load * (1 - predicted_load): the predictive policy''s score';

CREATE FUNCTION foresight.connection_score(weight float8, max_weight float8, connections integer,
										   max_connections integer, inflight integer)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'foresight_connection_score'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION foresight.connection_score(float8, float8, integer, integer, integer) IS
	'(weight / max_weight) * (free slots / max_connections) / (1 + inflight)';

CREATE FUNCTION foresight.in_peak_hours(spec text, at timestamptz)
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'foresight_in_peak_hours'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION foresight.in_peak_hours(text, timestamptz) IS
	'Whether time "at" (server time zone) falls in the peak-hours spec';
-- END scoring

-- BEGIN forecast
--
-- Forecasting functions over any series (oldest value first).  Not STRICT:
-- a NULL argument is reported by name.  Deterministic (fixed seeds), hence
-- IMMUTABLE.
CREATE FUNCTION foresight.forecast(
	series float8[],
	horizon integer,
	model text DEFAULT 'blend',
	season integer DEFAULT NULL)
	RETURNS float8[]
	AS 'MODULE_PATHNAME', 'foresight_forecast'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION foresight.forecast(float8[], integer, text, integer) IS
	'Fit a forecasting model (naive, snaive, ses, holt_damped, hw_add, lstm, blend) on a series and return its next horizon values';

CREATE FUNCTION foresight.backtest(
	series float8[],
	horizon integer,
	model text,
	season integer DEFAULT NULL,
	train_fraction float8 DEFAULT 0.7,
	target text DEFAULT 'point')
	RETURNS TABLE(mae float8, rmse float8, mase float8, forecasts bigint)
	AS 'MODULE_PATHNAME', 'foresight_backtest'
	LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION foresight.backtest(float8[], integer, text, integer, float8, text) IS
	'Rolling-origin backtest of a forecasting model on a series: MAE, RMSE, MASE and number of forecasts';
-- END forecast

-- BEGIN predict
CREATE FUNCTION foresight.prediction_list(
	OUT node_name text,
	OUT request_class text,
	OUT horizon interval,
	OUT predicted_load float8,
	OUT fitted boolean,
	OUT models text[],
	OUT forecasts float8[],
	OUT weights float8[],
	OUT rolling_mae float8[],
	OUT samples bigint,
	OUT age interval)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_prediction_list'
	LANGUAGE C VOLATILE STRICT;

CREATE VIEW foresight.predictions AS
	SELECT * FROM foresight.prediction_list();
COMMENT ON VIEW foresight.predictions IS
	'Predicted load in [0,1] over foresight.prediction_horizon per node and request class, with each model''s forecast and blend weight';
GRANT SELECT ON foresight.predictions TO PUBLIC;

CREATE FUNCTION foresight.model_list(
	OUT node_name text,
	OUT request_class text,
	OUT model text,
	OUT parameters jsonb,
	OUT weight float8,
	OUT training_samples bigint,
	OUT last_trained timestamptz,
	OUT training_ms float8,
	OUT rolling_mae float8,
	OUT rolling_mase float8,
	OUT skipped_samples bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_model_list'
	LANGUAGE C VOLATILE STRICT;

CREATE VIEW foresight.models AS
	SELECT * FROM foresight.model_list();
COMMENT ON VIEW foresight.models IS
	'Every live model per node and request class: parameters, training, rolling errors';
GRANT SELECT ON foresight.models TO PUBLIC;

CREATE FUNCTION foresight.retrain()
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_retrain'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION foresight.retrain() IS
	'Ask the monitor to retrain every live model now (asynchronous)';
REVOKE ALL ON FUNCTION foresight.retrain() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.retrain() TO foresight_admin;
-- END predict

-- BEGIN decisions
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
-- END decisions

-- BEGIN monitor
--
-- Metrics of a node (src/monitor/snapshot.proto).  node_snapshot() runs on
-- the node (a standby in recovery too) and needs nothing preloaded; it
-- reads /proc and the statistics views, so only superusers and pg_monitor
-- may run it: the monitor connects as foresight.monitor_user.
CREATE FUNCTION foresight.node_snapshot()
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'foresight_node_snapshot'
	LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION foresight.node_snapshot() IS
	'This server''s OS and PostgreSQL metrics as one protobuf NodeSnapshot message';
REVOKE ALL ON FUNCTION foresight.node_snapshot() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.node_snapshot() TO pg_monitor;

-- Without an argument: this server's snapshot, decoded.
CREATE FUNCTION foresight.node_snapshot_json(snapshot bytea DEFAULT foresight.node_snapshot())
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'foresight_node_snapshot_json'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION foresight.node_snapshot_json(bytea) IS
	'Decode and validate a NodeSnapshot message; absent fields are absent from the result';
-- The history rings (src/stats/history.h): one column per sample field.
CREATE TYPE foresight.metric_sample AS (
	node_id integer,
	node_name text,
	age interval,
	sampled_at timestamptz,
	node_time timestamptz,
	source text,
	counters_reset boolean,
	interval_s float8,
	cpu_util float8,
	cpu_user float8,
	cpu_system float8,
	cpu_iowait float8,
	cpu_steal float8,
	cpu_count integer,
	instance_cpu float8,
	load1 float8,
	load5 float8,
	load15 float8,
	mem_total_kb bigint,
	mem_available_kb bigint,
	mem_dirty_kb bigint,
	disk_reads_per_s float8,
	disk_writes_per_s float8,
	disk_read_kb_per_s float8,
	disk_write_kb_per_s float8,
	disk_busy float8,
	psi_cpu float8,
	psi_io float8,
	psi_memory float8,
	backends integer,
	backends_active integer,
	backends_active_avg float8,
	backends_idle_in_transaction_avg float8,
	backends_idle_in_transaction integer,
	waiting integer,
	waiting_lock integer,
	waiting_lwlock integer,
	waiting_io integer,
	waiting_client integer,
	waiting_ipc integer,
	waiting_other integer,
	connections integer,
	max_connections integer,
	commits_per_s float8,
	rollbacks_per_s float8,
	blks_read_per_s float8,
	blks_hit_per_s float8,
	tup_returned_per_s float8,
	tup_fetched_per_s float8,
	in_recovery boolean,
	wal_lsn pg_lsn,
	replay_lag_ms float8,
	server_start timestamptz,
	lat_count integer,
	lat_errors integer,
	lat_mean_us float8,
	lat_p95_us float8,
	lat_baseline_us float8,
	lat_count_point integer,
	lat_mean_us_point float8,
	lat_p95_us_point float8,
	lat_count_small integer,
	lat_mean_us_small float8,
	lat_p95_us_small float8,
	lat_count_medium integer,
	lat_mean_us_medium float8,
	lat_p95_us_medium float8,
	lat_count_large integer,
	lat_mean_us_large float8,
	lat_p95_us_large float8,
	load float8,
	load_cpu float8,
	load_queue float8,
	load_pressure float8,
	load_latency float8);
COMMENT ON TYPE foresight.metric_sample IS
	'One sample of a node''s history ring (columns: src/stats/history.h)';

CREATE FUNCTION foresight.node_metrics_latest()
	RETURNS SETOF foresight.metric_sample
	AS 'MODULE_PATHNAME', 'foresight_node_metrics_latest'
	LANGUAGE C VOLATILE STRICT;

CREATE VIEW foresight.node_metrics AS
	SELECT * FROM foresight.node_metrics_latest();
COMMENT ON VIEW foresight.node_metrics IS
	'Newest sample of every node: OS and PostgreSQL metrics, rates, coordinator-side latencies, the load signal and its components; age = time since it was taken';
GRANT SELECT ON foresight.node_metrics TO PUBLIC;

CREATE FUNCTION foresight.metrics_history(
	node name,
	since interval DEFAULT NULL)
	RETURNS SETOF foresight.metric_sample
	AS 'MODULE_PATHNAME', 'foresight_metrics_history'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION foresight.metrics_history(name, interval) IS
	'The history ring of a node as rows, oldest first: samples taken within the last "since" (all when NULL)';

-- The monitor's view of every node.
CREATE FUNCTION foresight.node_health_list(
	OUT node_id integer,
	OUT node_name text,
	OUT status text,
	OUT last_poll timestamptz,
	OUT last_success timestamptz,
	OUT consecutive_failures integer,
	OUT polls bigint,
	OUT poll_errors bigint,
	OUT last_error text,
	OUT replay_lsn pg_lsn,
	OUT replay_lsn_at timestamptz)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_node_health_list'
	LANGUAGE C VOLATILE STRICT;

CREATE VIEW foresight.node_health AS
	SELECT * FROM foresight.node_health_list();
COMMENT ON VIEW foresight.node_health IS
	'The monitor''s view of every node: status (unknown, up, down, disabled), last poll and success, consecutive failures, last error, replay LSN';
GRANT SELECT ON foresight.node_health TO PUBLIC;

-- foresight.nodes (section nodes) with the monitor's columns at the end.
CREATE OR REPLACE VIEW foresight.nodes AS
	SELECT n.node_id, n.node_name, n.conninfo, n.region, n.kind, n.weight, n.state,
		   h.status, h.last_poll, h.last_error
	  FROM foresight.node_list() WITH ORDINALITY n
	  LEFT JOIN foresight.node_health_list() h ON h.node_id = n.node_id
	 ORDER BY n.ordinality;
COMMENT ON VIEW foresight.nodes IS
	'Every node routing knows about, the coordinator ("local") first; passwords are masked; status, last poll and last error from the monitor';
-- END monitor

-- BEGIN router
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

CREATE FUNCTION foresight.routing_stats_list(
	OUT node_id integer,
	OUT node_name text,
	OUT routed bigint,
	OUT errors bigint,
	OUT retries bigint,
	OUT mean_ms float8,
	OUT p95_ms float8,
	OUT in_flight bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'foresight_routing_stats'
	LANGUAGE C VOLATILE;

CREATE VIEW foresight.routing_stats AS
	SELECT * FROM foresight.routing_stats_list();
COMMENT ON VIEW foresight.routing_stats IS
	'Per node: queries routed there, errors, retries elsewhere, mean and p95 latency (ms), in flight now';
GRANT SELECT ON foresight.routing_stats TO PUBLIC;

CREATE FUNCTION foresight.reset_routing_stats()
	RETURNS void
	AS 'MODULE_PATHNAME', 'foresight_reset_routing_stats'
	LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION foresight.reset_routing_stats() FROM PUBLIC;
-- END router

-- BEGIN decision benchmark
CREATE FUNCTION foresight.benchmark_routing_decision(iterations integer DEFAULT 100000,
													 cost float8 DEFAULT 10)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'foresight_benchmark_routing_decision'
	LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION foresight.benchmark_routing_decision(integer, float8) IS
	'Microseconds per routing decision under the current policy and registry (dry run; for benchmarks)';
REVOKE ALL ON FUNCTION foresight.benchmark_routing_decision(integer, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION foresight.benchmark_routing_decision(integer, float8) TO foresight_admin;
-- END decision benchmark
