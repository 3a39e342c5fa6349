# Extension versions: a database created at 0.1 fails clearly (not a crash,
# not misread rows) where a function's columns changed in 0.2, and ALTER
# EXTENSION UPDATE brings the objects, columns and grants of 0.2, then 0.3,
# then 0.4, then 0.5, then 0.6, then 0.7, then 0.8, then 0.9, then 0.10,
# then 0.11, then 0.12, then 0.13.
# META.json names the default version.
# (A fresh install runs the same path: the 0.1 script, then the update
# scripts.)
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_foresight'
foresight.database = 'postgres'
});
$node->start;

$node->safe_psql('postgres', "CREATE EXTENSION pg_foresight VERSION '0.1'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.1', 'created at 0.1');

# the 0.1 declaration of decision_list() has one column fewer than the library
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT count(*) FROM foresight.routing_decisions');
isnt($ret, 0, 'reading the decision log before the update fails');
like($stderr, qr/function foresight\.decision_list\(\) is declared with 14 result columns, but the pg_foresight library returns 15/,
	'with the declared and returned column counts');
like($stderr, qr/HINT:  Run ALTER EXTENSION pg_foresight UPDATE\./, 'and the hint to update');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server did not crash');

$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.2'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.2', 'updated to 0.2');

# what 0.2 changed, as a fresh install (0.1 then the same script) has it
is($node->safe_psql('postgres', q{SELECT pg_get_function_result('foresight.decision_list()'::regprocedure)}),
	'SETOF record', 'decision_list() is a set-returning function');
is($node->safe_psql('postgres', q{
	SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
	WHERE attrelid = 'foresight.routing_decisions'::regclass AND attnum > 0}),
	'decision_id,decided_at,pid,query_id,request_class,request_shape,cost,candidates,chosen_node,policy,reason,'
	  . 'queue_wait_ms,latency_ms,failed,candidate_count',
	'routing_decisions has request_shape after request_class');
is($node->safe_psql('postgres', q{
	SELECT has_table_privilege('pg_read_all_stats', 'foresight.routing_decisions', 'SELECT'),
	       has_table_privilege('public', 'foresight.routing_decisions', 'SELECT'),
	       has_function_privilege('public', 'foresight.route_explain(text)', 'EXECUTE'),
	       has_table_privilege('public', 'foresight.query_shapes', 'SELECT')}),
	't|f|t|t', 'the grants are those of the install script');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
	WHERE e.extname = 'pg_foresight' AND d.deptype = 'e'
	  AND d.objid IN ('foresight.query_shapes'::regclass, 'foresight.query_shapes()'::regprocedure,
	                  'foresight.route_explain(text)'::regprocedure, 'foresight.decision_list()'::regprocedure,
	                  'foresight.routing_decisions'::regclass)}),
	'5', 'the new and recreated objects belong to the extension');
like($node->safe_psql('postgres', q{SELECT pg_get_function_arguments('foresight.route_explain(text)'::regprocedure)}),
	qr/remote_parameters text\[\], OUT request_class text, OUT request_shape text, OUT cost double precision/,
	'route_explain() returns the request class, shape and cost');

like($node->safe_psql('postgres', 'SELECT count(*) >= 0 FROM foresight.routing_decisions'), qr/^t$/,
	'after the update the decision log reads');

# 0.3: samples gain the control group's CPU limit and throttling
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_attribute WHERE attrelid = 'foresight.node_metrics'::regclass
	  AND attname IN ('cpu_limit', 'cpu_throttled')}), '0', 'at 0.2 node_metrics has no cpu_limit');
$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.3'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.3', 'updated to 0.3');
for my $rel ('foresight.metric_sample', 'foresight.node_metrics')
{
	is($node->safe_psql('postgres', qq{
		SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
		FROM pg_attribute WHERE attrelid = '$rel'::regclass AND attname IN ('cpu_limit', 'cpu_throttled')}),
		'cpu_limit double precision,cpu_throttled double precision', "$rel has cpu_limit and cpu_throttled");
}
is($node->safe_psql('postgres',
	"SELECT has_table_privilege('public', 'foresight.node_metrics', 'SELECT')"), 't',
	'node_metrics is still readable by everyone');
like($node->safe_psql('postgres', "SELECT count(*) >= 0 FROM foresight.metrics_history('local')"), qr/^t$/,
	'metrics_history reads');

# 0.4: the connection score takes the node's speed; the library reads the
# 0.3 declaration (no speed) as a fast node
is($node->safe_psql('postgres', 'SELECT foresight.connection_score(1, 2, 0, 100, 1)'), '0.25',
	'at 0.3 connection_score has five arguments and reads');
$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.4'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.4', 'updated to 0.4');
is($node->safe_psql('postgres', q{
	SELECT string_agg(pg_get_function_arguments(p.oid), ';') FROM pg_proc p
	WHERE proname = 'connection_score' AND pronamespace = 'foresight'::regnamespace}),
	'weight double precision, max_weight double precision, connections integer, max_connections integer, inflight integer, speed double precision DEFAULT 1',
	'one connection_score, with the speed defaulting to 1');
is($node->safe_psql('postgres',
	'SELECT foresight.connection_score(1, 2, 0, 100, 1), foresight.connection_score(1, 2, 0, 100, 1, 0.5)'),
	'0.25|0.125', 'and it reads with and without the speed');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_depend d JOIN pg_proc p ON d.objid = p.oid
	WHERE p.proname = 'connection_score' AND d.deptype = 'e'}), '1', 'the new function belongs to the extension');

# 0.5: the functions behind restricted views are restricted too, the node
# table checks plain DML like add_node does, and node_id 0 is "local" only
is($node->safe_psql('postgres', q{
	SELECT has_function_privilege('public', 'foresight.decision_list()', 'EXECUTE'),
	       has_function_privilege('foresight_admin', 'foresight.reset_routing_stats()', 'EXECUTE')}),
	't|f', 'at 0.4 everyone may run decision_list() and foresight_admin may not reset the statistics');
$node->safe_psql('postgres', q{
	INSERT INTO foresight.node (node_id, node_name, conninfo) OVERRIDING SYSTEM VALUE
	VALUES (0, 'zero', 'host=127.0.0.1 port=notaport')});
($ret, $stdout, $stderr) = $node->psql('postgres', 'ALTER EXTENSION pg_foresight UPDATE');
isnt($ret, 0, 'the update refuses a table with a node_id 0');
like($stderr, qr/foresight\.node has nodes with a node_id that is not positive: zero \(node_id 0\)/,
	'naming the node');
like($stderr, qr/HINT:  Remove these rows/, 'with a hint');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.4', 'and leaves the extension at 0.4');
$node->safe_psql('postgres', 'DELETE FROM foresight.node WHERE node_id = 0');
$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.5'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.5', 'updated to 0.5');
is($node->safe_psql('postgres', q{
	SELECT has_function_privilege('public', 'foresight.decision_list()', 'EXECUTE'),
	       has_function_privilege('pg_read_all_stats', 'foresight.decision_list()', 'EXECUTE'),
	       has_function_privilege('foresight_admin', 'foresight.decision_list()', 'EXECUTE'),
	       has_function_privilege('public', 'foresight.reset_routing_stats()', 'EXECUTE'),
	       has_function_privilege('foresight_admin', 'foresight.reset_routing_stats()', 'EXECUTE')}),
	'f|t|t|f|t', 'decision_list() is granted as routing_decisions is; reset_routing_stats() to foresight_admin');
is($node->safe_psql('postgres', q{
	SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger
	WHERE tgrelid = 'foresight.node'::regclass AND NOT tgisinternal}),
	'node_check,node_registry_changed', 'foresight.node has the row trigger node_check');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
	WHERE e.extname = 'pg_foresight' AND d.deptype = 'e'
	  AND d.objid = 'foresight.node_check()'::regprocedure}),
	'1', 'the trigger function belongs to the extension');
($ret, $stdout, $stderr) = $node->psql('postgres', q{
	INSERT INTO foresight.node (node_name, conninfo) VALUES ('n1', 'host=127.0.0.1 port=notaport')});
like($stderr, qr/invalid value "notaport" for connection option "port"/, 'plain INSERT is validated');
($ret, $stdout, $stderr) = $node->psql('postgres', q{
	SET session_replication_role = replica;
	INSERT INTO foresight.node (node_id, node_name, conninfo) OVERRIDING SYSTEM VALUE
	VALUES (0, 'zero', 'host=127.0.0.1')});
like($stderr, qr/violates check constraint "node_id_positive"/,
	'without the trigger, the constraint refuses node_id 0');

# 0.6: quarantine (the columns of foresight.nodes, foresight.anomalies, the
# administrator's functions)
$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.6'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.6', 'updated to 0.6');
$node->safe_psql('postgres', q{SELECT foresight.add_node('q1', 'host=127.0.0.1 port=1')});
is($node->safe_psql('postgres', q{SELECT quarantine FROM foresight.nodes WHERE node_name = 'q1'}),
	'normal', 'foresight.nodes shows the quarantine state');
is($node->safe_psql('postgres', q{SELECT count(*) FROM foresight.anomalies}), '0', 'foresight.anomalies is empty');
is($node->safe_psql('postgres', q{
	SELECT has_function_privilege('public', 'foresight.quarantine_node(text, text)', 'EXECUTE'),
	       has_function_privilege('foresight_admin', 'foresight.release_node(text)', 'EXECUTE')}),
	'f|t', 'quarantine_node() and release_node() are for administrators');

# 0.7: more than one prediction window (#20): predictions gain
# horizon_steps, models gain horizon, and prediction_horizon_for()
($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT count(*) FROM foresight.predictions');
like($stderr, qr/function foresight\.prediction_list\(\) is declared with 11 result columns, but the pg_foresight library returns 12/,
	'at 0.6 the predictions view fails clearly with the 0.7 library');
$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.7'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.7', 'updated to 0.7');
is($node->safe_psql('postgres', q{
	SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
	WHERE attrelid = 'foresight.predictions'::regclass AND attnum > 0}),
	'node_name,request_class,horizon,predicted_load,fitted,models,forecasts,weights,rolling_mae,samples,age,horizon_steps',
	'predictions keeps the columns of 0.6 and adds horizon_steps');
is($node->safe_psql('postgres', q{
	SELECT attname FROM pg_attribute WHERE attrelid = 'foresight.models'::regclass AND attnum = 12}),
	'horizon', 'models ends with horizon');
is($node->safe_psql('postgres', q{
	SELECT count(*) >= 0 FROM foresight.predictions, foresight.models LIMIT 1}), 't',
	'both views read');
is($node->safe_psql('postgres', q{
	SELECT has_table_privilege('public', 'foresight.predictions', 'SELECT'),
	       has_table_privilege('public', 'foresight.models', 'SELECT'),
	       foresight.prediction_horizon_for('6s')}),
	't|t|00:01:00', 'the grants are kept; prediction_horizon_for() answers');
is($node->safe_psql('postgres', q{SELECT string_agg(request_class, ',' ORDER BY request_class) FROM foresight.coordinator_cost}),
	'large,medium,point,small', 'foresight.coordinator_cost has a row per request class (#18)');
is($node->safe_psql('postgres', q{
	SELECT (SELECT attname FROM pg_attribute WHERE attrelid = 'foresight.nodes'::regclass
	        ORDER BY attnum DESC LIMIT 1),
	       (SELECT region || ' ' || local FROM foresight.regions WHERE local)}),
	'round_trip_ms|local true', 'foresight.nodes ends with round_trip_ms; foresight.regions has the local region (#21)');

# 0.8: every node can route (#18 item 3): the registry takes one node of
# kind primary, which names this server on purpose
($ret, $stdout, $stderr) = $node->psql('postgres',
	"INSERT INTO foresight.node (node_name, conninfo, kind) VALUES ('p0', 'host=127.0.0.1 port=1', 'primary')");
like($stderr, qr/node_kind_check/, 'at 0.7 the table refuses kind primary');
$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.8'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.8', 'updated to 0.8');
my $self = 'host=' . $node->host . ' port=' . $node->port;
$node->safe_psql('postgres', "SELECT foresight.add_node('p1', '$self', kind => 'primary')");
is($node->safe_psql('postgres', q{SELECT kind FROM foresight.nodes WHERE node_name = 'p1'}),
	'primary', 'a node of kind primary may name this server');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"SELECT foresight.add_node('p2', 'host=127.0.0.1 port=2', kind => 'primary')");
like($stderr, qr/node_one_primary/, 'a second node of kind primary is refused');
$node->safe_psql('postgres', "SELECT foresight.remove_node('p1')");

# 0.9: combine_results (#17), the combine step of parts that run an
# aggregate whose result is its state; at 0.8 a split computes every
# aggregate through partial_agg, and so says its part SQL
$node->safe_psql('postgres', q{
	CREATE TABLE up_t (id integer PRIMARY KEY, v integer);
	INSERT INTO up_t SELECT i, i % 7 FROM generate_series(1, 1000) i;
	ANALYZE up_t});
my $parts_sql = q{SET foresight.split = on; SET foresight.split_min_cost = 0;
	SELECT coalesce(array_to_string(part_sql, ' '), reason) FROM foresight.split_explain(
	'SELECT count(*), max(v), avg(v), stddev(v) FROM up_t', 2)};
like($node->safe_psql('postgres', $parts_sql), qr/partial_agg\('count\(\)'::regprocedure\)/,
	'at 0.8 a part computes count(*) through partial_agg');
$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.9'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.9', 'updated to 0.9');
my $parts = $node->safe_psql('postgres', $parts_sql);
like($parts, qr/SELECT count\(\*\) AS c1,\s+max\(v\) AS c2,\s+ARRAY\[count\(v\), COALESCE\(sum\(v\), '0'::bigint\)\] AS c3,\s+foresight\.partial_agg\('stddev\(integer\)'::regprocedure, v\) AS c4/,
	'at 0.9 count(*) and max(v) run as they are, avg(v) from count and sum; stddev keeps its partial state');
is($node->safe_psql('postgres', q{SELECT foresight.combine_results('count()'::regprocedure, c)
	FROM (VALUES (3::bigint), (4), (NULL)) v(c)}), '7', 'combine_results adds counts');

# 0.10: foresight.split_nodes shows each node's pace (#17); the 0.10
# library answers the view of 0.9 with its six columns
my $split_cols = q{SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
	WHERE attrelid = 'foresight.split_nodes'::regclass AND attnum > 0};
is($node->safe_psql('postgres', $split_cols), 'node_name,splits,pieces,stolen,rows,total_ms',
	'at 0.9 split_nodes has six columns');
($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT count(*) FROM foresight.split_nodes');
is($ret, 0, 'at 0.9 the 0.10 library answers split_nodes') or diag($stderr);
$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.10'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.10', 'updated to 0.10');
is($node->safe_psql('postgres', $split_cols), 'node_name,splits,pieces,stolen,rows,total_ms,pace,pace_measured_at',
	'at 0.10 split_nodes ends with the pace and when it was measured');
is($node->safe_psql('postgres', q{SELECT has_table_privilege('public', 'foresight.split_nodes', 'SELECT')}),
	't', 'split_nodes is still readable by everyone');

# 0.11: experiment_report counts each arm's units (#20); the 0.11 library
# answers the report of 0.10 with its 28 columns
$node->safe_psql('postgres', q{SELECT foresight.start_experiment('up', '{"a": {}, "b": {}}')});
my $report_cols = q{SELECT string_agg(a, ',' ORDER BY o) FROM
	unnest((SELECT proargnames FROM pg_proc WHERE oid = 'foresight.experiment_report(text,float8,float8)'::regprocedure))
	WITH ORDINALITY u(a, o) WHERE o BETWEEN 4 AND 8};
is($node->safe_psql('postgres', $report_cols), 'arm,request_class,is_control,queries,errors',
	'at 0.10 the report has no units');
($ret, $stdout, $stderr) = $node->psql('postgres', q{SELECT count(*) FROM foresight.experiment_report('up')});
is($ret, 0, 'at 0.10 the 0.11 library answers experiment_report') or diag($stderr);
$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.11'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.11', 'updated to 0.11');
is($node->safe_psql('postgres', $report_cols), 'arm,request_class,is_control,queries,units',
	'at 0.11 the report has units after queries');
is($node->safe_psql('postgres', q{SELECT count(*) FILTER (WHERE units >= 0)
	FROM foresight.experiment_report('up') WHERE request_class = 'all'}),
	'2', 'a count of units for each arm');
is($node->safe_psql('postgres', q{SELECT has_function_privilege('public', 'foresight.experiment_report(text,float8,float8)', 'EXECUTE')}),
	't', 'experiment_report is still for everyone');
$node->safe_psql('postgres', q{SELECT foresight.stop_experiment('up')});

# 0.12: foresight.snapshot_position(), for split reads cut by block ranges
# (#17); a primary has no replay position to give
is($node->safe_psql('postgres', q{SELECT to_regprocedure('foresight.snapshot_position()') IS NULL}),
	't', 'at 0.11 there is no snapshot_position');
$node->safe_psql('postgres', "ALTER EXTENSION pg_foresight UPDATE TO '0.12'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.12', 'updated to 0.12');
is($node->safe_psql('postgres', q{BEGIN ISOLATION LEVEL REPEATABLE READ;
	SELECT foresight.snapshot_position() IS NULL; COMMIT}),
	't', 'on a primary snapshot_position is NULL');
is($node->safe_psql('postgres', q{SELECT has_function_privilege('public', 'foresight.snapshot_position()', 'EXECUTE')}),
	't', 'snapshot_position is for everyone');

# 0.13: quarantine_node() and release_node() are no longer STRICT: a NULL
# argument raises 22004 as for the other management functions (at 0.12 the
# call did nothing)
my $strict = q{SELECT string_agg(proname || ':' || proisstrict, ',' ORDER BY proname)
	FROM pg_proc WHERE oid IN ('foresight.quarantine_node(text,text)'::regprocedure,
		'foresight.release_node(text)'::regprocedure)};
is($node->safe_psql('postgres', $strict), 'quarantine_node:true,release_node:true',
	'at 0.12 quarantine_node and release_node are STRICT');
is($node->safe_psql('postgres', q{SELECT foresight.quarantine_node('nosuch', NULL) IS NULL}),
	't', 'at 0.12 a NULL reason is not even looked at');
$node->safe_psql('postgres', 'ALTER EXTENSION pg_foresight UPDATE');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.13', 'updated to 0.13, the default version');
is($node->safe_psql('postgres', $strict), 'quarantine_node:false,release_node:false',
	'at 0.13 they are called on NULL input');
for my $call (q{foresight.quarantine_node('nosuch', NULL)}, q{foresight.quarantine_node(NULL)},
	q{foresight.release_node(NULL)})
{
	($ret, $stdout, $stderr) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT $call");
	like($stderr, qr/ERROR:  22004: (node_name|reason) must not be null/, "$call: 22004, must not be null");
}
is($node->safe_psql('postgres', q{SELECT has_function_privilege('public', 'foresight.quarantine_node(text,text)', 'EXECUTE')}),
	'f', 'quarantine_node is still for foresight_admin only');

# META.json (PGXN) gives the version the control file installs
my ($default_version) = slurp_file('pg_foresight.control') =~ /^default_version = '([^']+)'/m;
my $meta = slurp_file('META.json');
my ($meta_version) = $meta =~ /^   "version": "([^"]+)"/m;
my ($provided) = $meta =~ /"provides":\s*\{\s*"pg_foresight":\s*\{[^}]*"version":\s*"([^"]+)"/s;
is(($meta_version // '') . ' ' . ($provided // ''), "$default_version.0 $default_version.0",
	'META.json names the default version');

done_testing();
