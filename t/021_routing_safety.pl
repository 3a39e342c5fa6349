# Routing safety: what never leaves the primary, read-your-writes, cancel
# and timeouts reaching the node, remote errors, a stopped standby, and
# permissions and row-level security identical routed or not.
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
# runs long: scripts/test.sh starts it first among those
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(gettimeofday tv_interval);
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(standbys => 2,
	# a standby paused on purpose here is not to be quarantined as an
	# outlier of the fleet's replication lag (t/062)
	conf => "foresight.anomaly_detection = off\n");
my $pport = $primary->port;
my %name_of = ($standby1->port => 'standby1', $standby2->port => 'standby2', $pport => 'primary');

$primary->safe_psql('postgres', q{
-- where a statement ran: current_setting('port') itself is never routed
-- (the server's own setting), a SQL function calling it is, and runs it on
-- the node
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE FUNCTION xact_info() RETURNS text LANGUAGE sql STABLE
	AS $$ SELECT current_setting('transaction_isolation') || ' ' || current_setting('transaction_read_only') $$;
GRANT EXECUTE ON FUNCTION node_port(), xact_info() TO PUBLIC;
CREATE TABLE t (id integer PRIMARY KEY, v text);
INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g;
CREATE UNLOGGED TABLE ul (id integer);
INSERT INTO ul VALUES (1);
CREATE SEQUENCE s;
CREATE FUNCTION vol() RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT 1';
-- mislabelled STABLE: they work on the primary, not on a standby
CREATE FUNCTION stable_nextval() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT nextval('s') $$;
CREATE FUNCTION stable_unlogged() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM ul $$;
CREATE TABLE secret (id integer, owner text);
INSERT INTO secret VALUES (1, 'alice'), (2, 'bob'), (3, 'alice');
ALTER TABLE secret ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON secret USING (owner = current_user);
CREATE TABLE hidden (x integer);
CREATE ROLE alice LOGIN;
GRANT SELECT ON secret, t TO alice;
CREATE VIEW hidden_v AS SELECT x FROM hidden;
GRANT SELECT ON hidden_v TO alice;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);

my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";

# where did a statement run: the port of the server that evaluated it
sub where
{
	my ($sql, $prefix) = @_;
	$prefix //= '';
	my $out = $primary->safe_psql('postgres', "$route $prefix $sql");
	my @lines = split /\n/, $out;
	my ($port) = split /\|/, $lines[-1];
	return $name_of{$port} // "?($lines[-1])";
}

# --- eligible statements go to a standby, the others stay here
like(where("SELECT node_port() FROM t WHERE id = 1"), qr/^standby/, 'plain SELECT is routed');
is(where("SELECT node_port() FROM t WHERE id = 1 FOR UPDATE"), 'primary', 'FOR UPDATE stays local');
is(where("SELECT node_port() FROM t WHERE id = 1 FOR SHARE"), 'primary', 'FOR SHARE stays local');
is(where("SELECT node_port(), nextval('s')"), 'primary', 'nextval stays local');
is(where("SELECT node_port(), vol()"), 'primary', 'volatile function stays local');
is(where("SELECT node_port(), txid_current()"), 'primary', 'txid_current stays local');
like(where("SELECT node_port(), random() < 2"), qr/^standby/, 'random() is on the safe list');
is(where("SELECT node_port() FROM ul"), 'primary', 'unlogged table stays local');
# --- errors that mean "not on a standby" before the first row: run here instead
is(where("SELECT node_port(), stable_nextval() > 0 FROM t WHERE id = 1"), 'primary',
	'a STABLE function calling nextval runs here after the standby refused it');
is(where("SELECT node_port(), stable_unlogged() FROM t WHERE id = 1"), 'primary',
	'a STABLE function reading an unlogged table runs here after the standby refused it');
like($primary->safe_psql('postgres', "$route EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT stable_unlogged() FROM t WHERE id = 1"),
	qr/Last Failure: standby\d: cannot run on a standby: cannot access temporary or unlogged relations during recovery/,
	'EXPLAIN ANALYZE says why it ran here');
is($primary->safe_psql('postgres', "$route BEGIN; SELECT count(*) FROM t; SELECT stable_unlogged() FROM t WHERE id = 1; SELECT count(*) FROM t; COMMIT;"),
	"100\n1\n100", 'in a transaction block, the statements after one that ran here still answer');
# --- a replica that is not a physical standby cannot show it has replayed a
# session's writes: no candidate for that session's reads
$primary->safe_psql('postgres',
	"SELECT foresight.add_node('other1', 'host=127.0.0.1 port=" . $standby1->port . "', kind => 'replica')");
like($primary->safe_psql('postgres',
	"$route INSERT INTO t VALUES (1003, 'w'); SELECT excluded FROM foresight.route_explain('SELECT * FROM t WHERE id = 1')"),
	qr/other1: kind replica \(its replay position cannot be compared with this coordinator's WAL\)/,
	'a replica of another kind is not a candidate (its positions are not this WAL\'s)');
$primary->safe_psql('postgres', "DELETE FROM t WHERE id = 1003; SELECT foresight.remove_node('other1')");
is(where("SELECT node_port() FROM tmp", "CREATE TEMP TABLE tmp AS SELECT 1 AS a;"),
	'primary', 'temporary table stays local');
is(where("WITH w AS (INSERT INTO t VALUES (1000, 'x') RETURNING id) SELECT node_port() FROM w"),
	'primary', 'data-modifying CTE stays local');
is(where("SELECT node_port()", "BEGIN; INSERT INTO t VALUES (1001, 'y');"),
	'primary', 'read after a write in the same transaction stays local');
is($primary->safe_psql('postgres', "$route INSERT INTO t VALUES (1002, 'z') RETURNING node_port()"),
	$pport, 'INSERT ... RETURNING runs on the primary');
is($primary->safe_psql('postgres', "$route UPDATE t SET v = v WHERE id = 1002 RETURNING node_port()"),
	$pport, 'UPDATE runs on the primary');
is(where("SELECT node_port()", "SET foresight.routing_policy = local;"), 'primary', 'policy local');
like($primary->safe_psql('postgres',
	"$route SELECT reason FROM foresight.route_explain('SELECT * FROM t FOR UPDATE')"),
	qr{FOR UPDATE}, 'route_explain says why FOR UPDATE stays local');
like($primary->safe_psql('postgres',
	"$route SELECT node FROM foresight.route_explain('SELECT * FROM t')"),
	qr{^standby[12]$}, 'route_explain names a standby for a plain SELECT');

# EXPLAIN: the route node over the local plan; plain EXPLAIN runs nothing remotely
my $before = $primary->safe_psql('postgres', "SELECT sum(routed) FROM foresight.routing_stats WHERE node_name <> 'local'");
my $plan = $primary->safe_psql('postgres', "$route EXPLAIN (VERBOSE, COSTS OFF) SELECT v FROM t WHERE id < 5 ORDER BY id");
like($plan, qr/^Custom Scan \(Foresight Route\)\n  Output: v, id\n  Route: standby[12] \(policy round_robin\)/, 'EXPLAIN shows the route');
like($plan, qr/Remote SQL:  SELECT v\s+FROM t\s+WHERE \(id < \$1\)\s+ORDER BY id\n\s+Remote Parameters: \$1 = '5'\n/,
	'EXPLAIN VERBOSE shows the remote SQL and the values of its lifted constants');
$plan = $primary->safe_psql('postgres', "$route SET foresight.lift_constants = off; EXPLAIN (VERBOSE, COSTS OFF) SELECT v FROM t WHERE id < 5 ORDER BY id");
like($plan, qr/Remote SQL:  SELECT v\s+FROM t\s+WHERE \(id < 5\)\s+ORDER BY id\n\s+Remote Transport: binary\n\s+->/,
	'with foresight.lift_constants off the constants stay in the remote SQL');
like($plan, qr/->  (Sort|Index Scan).*\n.*Output: v, id/, 'the local plan is the child');
is($primary->safe_psql('postgres', "SELECT sum(routed) FROM foresight.routing_stats WHERE node_name <> 'local'"),
	$before, 'plain EXPLAIN ran nothing on a node');
# under plan_cache_mode = force_generic_plan the node would plan a lifted
# statement without its values; here the query is planned with them
$plan = $primary->safe_psql('postgres', "$route SET plan_cache_mode = force_generic_plan; EXPLAIN (VERBOSE, COSTS OFF) SELECT v FROM t WHERE id < 5 ORDER BY id");
like($plan, qr/Remote SQL:  SELECT v\s+FROM t\s+WHERE \(id < 5\)\s+ORDER BY id\n\s+Remote Transport: binary\n/,
	'under plan_cache_mode = force_generic_plan the constants stay in the remote SQL');
like(where("SELECT node_port() FROM t WHERE id < 5 LIMIT 1", 'SET plan_cache_mode = force_generic_plan;'), qr/^standby/,
	'... and the read still runs on a standby');
$plan = $primary->safe_psql('postgres', "$route EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT v FROM t WHERE id < 5");
# (a Route Reason line when the node's replay position is checked first)
like($plan, qr/Route: standby[12] \(policy round_robin\)\n(?:\s+Route Reason: .*\n)?\s+Remote Rows: 4\n\s+Remote Time: [0-9.]+ ms/, 'EXPLAIN ANALYZE shows remote rows and time');
like($plan, qr/\(never executed\)/, 'the local child did not run');
# force_parallel_mode = regress: the Gather it adds, which EXPLAIN hides at
# the top of a plan, is not shown under the route node either; "on" shows it
# as it does without routing
$plan = $primary->safe_psql('postgres', "$route SET force_parallel_mode = regress; EXPLAIN (COSTS OFF) SELECT count(*) FROM t WHERE id < 5");
like($plan, qr/^Custom Scan \(Foresight Route\)\n\s+Route: standby[12] [^\n]*\n\s+->  Aggregate\n/,
	'under force_parallel_mode = regress the route node wraps the plan EXPLAIN shows without routing');
unlike($plan, qr/Gather|Single Copy/, '... without its invisible Gather');
is($primary->safe_psql('postgres', "$route SET force_parallel_mode = regress; SELECT count(*) FROM t WHERE id < 5"),
	'4', '... and the read answers the same');
like($primary->safe_psql('postgres', "$route SET force_parallel_mode = on; EXPLAIN (COSTS OFF) SELECT count(*) FROM t WHERE id < 5"),
	qr/Route: standby[12] [^\n]*\n\s+->  Gather\n\s+Workers Planned: 1\n\s+Single Copy: true/,
	'under force_parallel_mode = on the Gather shows, as without routing');

# a write in a session, then reads: the write is always visible
$primary->safe_psql('postgres', 'CREATE TABLE ryw (id integer)');
my $ryw_lsn = $primary->lsn('insert');
$primary->wait_for_catchup($_, 'replay', $ryw_lsn) for ($standby1, $standby2);
$standby1->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
# A node not known to have replayed the catalog floor (CREATE TABLE ryw)
# is checked before use and placed after those known to have: wait until
# the monitor has seen both past it, so that round_robin chooses between
# them below (docs/routing.md, "Read-your-writes").
ok($primary->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM foresight.node_health WHERE node_name IN ('standby1', 'standby2') AND replay_lsn >= '$ryw_lsn'"),
	'the monitor has seen both standbys replay the new table');
my $out = $primary->safe_psql('postgres', qq{$route
INSERT INTO ryw VALUES (1);
SELECT count(*) || ':' || node_port() FROM ryw;
SELECT count(*) || ':' || node_port() FROM ryw;
SELECT count(*) || ':' || node_port() FROM ryw;
SELECT count(*) || ':' || node_port() FROM ryw;
INSERT INTO ryw VALUES (2);
SELECT count(*) || ':' || node_port() FROM ryw;
SELECT count(*) || ':' || node_port() FROM ryw;
SELECT count(*) || ':' || node_port() FROM ryw;
});
my @reads = split /\n/, $out;
is(scalar(grep { /^1:/ } @reads[0..3]), 4, 'read-your-writes: the first write is seen by every read');
is(scalar(grep { /^2:/ } @reads[4..6]), 3, 'read-your-writes: the second write too');
ok(!grep({ $_ =~ /:${\ $standby1->port }$/ } @reads), 'the paused standby served none of them');
ok(scalar(grep { $_ =~ /:${\ $standby2->port }$/ } @reads) > 0, 'the other standby did');
# an unrelated session without writes still uses the paused standby
my $ports = $primary->safe_psql('postgres', "$route SELECT node_port(); SELECT node_port();");
like($ports, qr/${\ $standby1->port }/, 'a session that wrote nothing may read the paused standby');
$standby1->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');

# transaction blocks: one node, one remote transaction of the same isolation.
# A REPEATABLE READ block's reads need a node that has replayed everything
# written here when it begins, else they run here (routing.md): WAL written
# in the background (a running-transactions record, a page pruned by a
# read) can put both standbys a few bytes behind at that moment, so a block
# that ran here is tried again, at most three times.
my ($blk, @b);
for my $try (1 .. 3)
{
	ForesightCluster::catch_up($primary, $standby1, $standby2);
	$blk = $primary->safe_psql('postgres', qq{$route
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT node_port() || ' ' || xact_info() || ' ' || count(*) FROM t;
SELECT node_port() || ' ' || count(*) FROM t;
SELECT node_port() || ' ' || count(*) FROM t;
COMMIT;
});
	@b = split /\n/, $blk;
	last if $b[0] !~ /^$pport /;
	diag("REPEATABLE READ block try $try ran here: no standby had replayed its start yet");
}
like($b[0], qr/^(\d+) repeatable read on \d+$/, 'REPEATABLE READ block: routed into a read-only REPEATABLE READ remote transaction');
my ($p0) = split / /, $b[0];
ok($p0 ne $pport && !grep({ (split / /)[0] ne $p0 } @b), 'every read of the block went to the same standby');
$blk = $primary->safe_psql('postgres', qq{$route
BEGIN;
SELECT node_port() || ' ' || xact_info() FROM t LIMIT 1;
SELECT node_port() FROM t LIMIT 1;
SELECT node_port() FROM t LIMIT 1;
ROLLBACK;
});
@b = split /\n/, $blk;
like($b[0], qr/^\d+ read committed on$/, 'READ COMMITTED block: read-only READ COMMITTED remote transaction');
($p0) = split / /, $b[0];
is(scalar(grep { $_ eq $p0 } @b[1..2]), 2, 'READ COMMITTED block pinned to one standby');

# a REPEATABLE READ block begins on a node only if the node has replayed
# everything written here before the block began: others' commits too
ForesightCluster::catch_up($primary, $standby1, $standby2);
$standby1->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
$primary->safe_psql('postgres', "INSERT INTO t VALUES (3000, 'another session')");
ForesightCluster::catch_up($primary, $standby2);
my @seen;
for (1 .. 4)
{
	push @seen, $primary->safe_psql('postgres', qq{$route
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FILTER (WHERE id = 3000) || ':' || node_port() FROM t;
COMMIT;
});
}
is(scalar(grep { /^1:/ } @seen), 4, 'REPEATABLE READ blocks see what another session committed before they began');
ok(!grep({ /:${\ $standby1->port }$/ } @seen), 'the paused standby began none of them');
# outside a block the paused standby still serves a session that wrote nothing
like($primary->safe_psql('postgres', "$route SELECT node_port(); SELECT node_port();"),
	qr/${\ $standby1->port }/, 'plain reads may still use the paused standby');
$standby1->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id = 3000');
ForesightCluster::catch_up($primary, $standby1, $standby2);

# a REPEATABLE READ block keeps its remote snapshot while others commit
my $rr = $primary->background_psql('postgres', on_error_stop => 0);
$rr->query_safe($route);
$rr->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
my $n1 = $rr->query_safe('SELECT count(*) FROM t');
$primary->safe_psql('postgres', "INSERT INTO t VALUES (2000, 'new')");
ForesightCluster::catch_up($primary, $standby1, $standby2);
is($rr->query_safe('SELECT count(*) FROM t'), $n1, 'REPEATABLE READ: the routed reads keep one snapshot');
$rr->query_safe('COMMIT');
is($rr->query_safe('SELECT count(*) FROM t'), $n1 + 1, 'after COMMIT the new row is seen');
is($standby1->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_foresight' AND state LIKE 'idle in transaction%'")
	+ $standby2->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_foresight' AND state LIKE 'idle in transaction%'"),
	0, 'no remote transaction is left open after COMMIT');
# an error inside a savepoint: the block goes on, locally
$rr->query_safe('BEGIN');
$rr->query_safe('SELECT count(*) FROM t');
$rr->query_safe('SAVEPOINT s');
$rr->query('SELECT 1 / (id - id) FROM t WHERE id = 1');
$rr->{stderr} = '';
$rr->query_safe('ROLLBACK TO SAVEPOINT s');
is($rr->query_safe("SELECT node_port() FROM t LIMIT 1"), $pport, 'after a failed remote read in a savepoint the block reads locally');
$rr->query_safe('COMMIT');
$rr->quit;
$primary->safe_psql('postgres', "DELETE FROM t WHERE id = 2000");
ForesightCluster::catch_up($primary, $standby1, $standby2);

# a REPEATABLE READ block whose snapshot a statement other than a read
# took (an imported snapshot, PREPARE, EXPLAIN, a DO block's query) reads
# here to its end: its reads see that snapshot, not a node's newer one
# (rows committed after it, on every standby, must not show)
my $exporter = $primary->background_psql('postgres', on_error_stop => 0);
$exporter->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
my $snapshot = $exporter->query_safe('SELECT pg_export_snapshot()');
my $exported_count = $exporter->query_safe('SELECT count(*) FROM t');
my $new_id = 2100;
for my $first ("SET TRANSACTION SNAPSHOT '$snapshot'", 'PREPARE first_stmt AS SELECT 1',
	'EXPLAIN SELECT count(*) FROM t', 'DO $$ BEGIN PERFORM count(*) FROM t; END $$')
{
	my $block = $primary->background_psql('postgres', on_error_stop => 0);
	$block->query_safe($route);
	$block->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	$block->query_safe($first);
	my $count_then = $first =~ /SNAPSHOT/ ? $exported_count : $primary->safe_psql('postgres', 'SELECT count(*) FROM t');
	$primary->safe_psql('postgres', "INSERT INTO t VALUES ($new_id, 'after the block began')");
	$new_id++;
	ok(ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2),
		"\"$first\": the standbys have the row committed after it");
	is($block->query_safe("SELECT count(*) || '|' || node_port() FROM t"), "$count_then|$pport",
		"REPEATABLE READ block begun by \"$first\": read here, in its own snapshot");
	$block->query_safe('COMMIT');
	$block->quit;
}
$exporter->query_safe('COMMIT');
$exporter->quit;
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id >= 2100');
ForesightCluster::catch_up($primary, $standby1, $standby2);

# a READ COMMITTED block pinned to a standby whose replay then stops: a
# statement of the block that runs here sees another session's new row,
# and the block's later reads must not see less (they run here, or on the
# standby once it has replayed as far)
my %node_of = ($standby1->port => $standby1, $standby2->port => $standby2);
my $rc = $primary->background_psql('postgres', on_error_stop => 0);
$rc->query_safe($route);
$rc->query_safe('BEGIN');
my $pinned_port = $rc->query_safe('SELECT node_port() FROM t LIMIT 1');
ok($node_of{$pinned_port}, 'READ COMMITTED block: pinned to a standby');
$node_of{$pinned_port}->safe_psql('postgres', 'SELECT pg_wal_replay_pause()')
	if $node_of{$pinned_port};
my $before_row = $primary->safe_psql('postgres', 'SELECT count(*) FROM t');
$primary->safe_psql('postgres', "INSERT INTO t VALUES (2200, 'while the pinned standby is paused')");
is($rc->query_safe("SELECT count(*) || '|' || pg_backend_pid() FROM t") =~ s/\|.*//r, $before_row + 1,
	'a statement of the block that runs here sees the new row');
is($rc->query_safe('SELECT count(*) FROM t'), $before_row + 1,
	'the block\'s next read does not see less than that statement saw');
$rc->query_safe('COMMIT');
$rc->quit;
$node_of{$pinned_port}->safe_psql('postgres', 'SELECT pg_wal_replay_resume()')
	if $node_of{$pinned_port};
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id = 2200');
ForesightCluster::catch_up($primary, $standby1, $standby2);

# a node's error keeps its SQLSTATE, message and gets a context line
my ($ret, $stdout, $stderr) = $primary->psql('postgres',
	"$route \\set VERBOSITY verbose\nSELECT 1 / (id - id) FROM t WHERE id = 5");
like($stderr, qr/ERROR:  22012: division by zero/, 'division by zero keeps SQLSTATE 22012');
like($stderr, qr/\nCONTEXT:  remote SQL command on node "standby[12]": SELECT \(1 \/ \(id - id\)\) AS "\?column\?"\s+FROM t\s+WHERE \(id = \$1\)\n/,
	'context names the node and the remote SQL');
($ret, $stdout, $stderr) = $primary->psql('postgres',
	"$route \\set VERBOSITY verbose\nSELECT (v || 'x')::integer FROM t WHERE id = 5");
like($stderr, qr/ERROR:  22P02: invalid input syntax for type integer: "v5x"/, 'cast error keeps SQLSTATE 22P02');

# ... and every field a local run gives: the internal query with its
# position, the names of the objects, the node's source location; the
# only difference is the context line that names the node
$primary->safe_psql('postgres', q{
	CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
	CREATE FUNCTION run_sql(text) RETURNS integer LANGUAGE plpgsql STABLE
		AS $$DECLARE r integer; BEGIN EXECUTE $1 INTO r; RETURN r; END$$;
	CREATE FUNCTION named_error() RETURNS integer LANGUAGE plpgsql STABLE
		AS $$BEGIN RAISE EXCEPTION 'named' USING SCHEMA = 's1', TABLE = 't1',
			COLUMN = 'c1', CONSTRAINT = 'k1', DATATYPE = 'd1'; END$$;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);
for my $q ("SELECT run_sql('SELECT 1 +') FROM t WHERE id = 5",
	"SELECT (id - 10)::posint FROM t WHERE id = 5",
	"SELECT named_error() FROM t WHERE id = 5")
{
	my (undef, undef, $lerr) = $primary->psql('postgres',
		"SET foresight.routing_policy = local; \\set VERBOSITY verbose\n$q");
	my (undef, undef, $rerr) = $primary->psql('postgres', "$route \\set VERBOSITY verbose\n$q");
	my $node_line = qr/remote SQL command on node "standby[12]": .*?\n(?=[A-Z][A-Z ]+:  )/s;
	ok($rerr =~ s/\n$node_line/\n/ || $rerr =~ s/CONTEXT:  $node_line//, "$q: routed");
	is($rerr, $lerr, "$q: the same error fields as locally");
}

# statement_timeout stops the query on the node too
sub sleeping_on_standbys
{
	my $n = 0;
	for my $s ($standby1, $standby2)
	{
		$n += $s->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(%' AND application_name = 'pg_foresight' AND state = 'active'");
	}
	return $n;
}
my $to = $primary->background_psql('postgres', on_error_stop => 0);
$to->query_safe("$route SET statement_timeout = '3s'");
$to->query_until(qr/start/, "\\echo start\nSELECT pg_sleep(30) FROM t WHERE id = 1;\n");
my $running = 0;
for (1 .. 50)
{
	if (sleeping_on_standbys() > 0) { $running = 1; last; }
	select(undef, undef, undef, 0.05);
}
ok($running, 'the routed pg_sleep runs on a standby before the timeout');
$to->{stderr} = '';
$to->query("SELECT 1");    # waits for the sleeping statement to end first
like($to->{stderr}, qr/canceling statement due to statement timeout/, 'statement_timeout ends the routed query');
ok(poll_standbys_idle(), 'the node query is gone after the timeout');
$to->quit;

sub poll_standbys_idle
{
	for (1 .. 100)
	{
		return 1 if sleeping_on_standbys() == 0;
		select(undef, undef, undef, 0.1);
	}
	return 0;
}

# pg_cancel_backend on the coordinator session cancels the node query
my $bg = $primary->background_psql('postgres', on_error_stop => 0);
$bg->query_safe($route);
my $coord_pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/start/, "\\echo start\nSELECT pg_sleep(60) FROM t WHERE id = 2;\n");
my $seen = 0;
for (1 .. 100)
{
	if (sleeping_on_standbys() > 0) { $seen = 1; last; }
	select(undef, undef, undef, 0.1);
}
ok($seen, 'the routed pg_sleep runs on a standby')
  or diag($primary->safe_psql('postgres', "SELECT pid, state, query FROM pg_stat_activity WHERE pid = $coord_pid"),
	$standby1->safe_psql('postgres', 'SELECT application_name, state, query FROM pg_stat_activity'));
$primary->safe_psql('postgres', "SELECT pg_cancel_backend($coord_pid)");
ok(poll_standbys_idle(), 'pg_cancel_backend stops the node query');
$bg->quit;

# the session works after a cancel
like(where("SELECT node_port() FROM t WHERE id = 3"), qr/^standby/, 'routing works after cancels');

# permissions: identical error routed or not
$primary->safe_psql('postgres', 'REVOKE ALL ON hidden FROM alice');
my ($lret, $lout, $lerr) = $primary->psql('postgres', "SET ROLE alice; SELECT * FROM hidden");
my ($rret, $rout, $rerr) = $primary->psql('postgres', "$route SET ROLE alice; SELECT * FROM hidden");
like($lerr, qr/permission denied for table hidden/, 'local: permission denied');
like($rerr, qr/permission denied for table hidden/, 'routed: the same permission error');
($lret, $lout, $lerr) = $primary->psql('postgres', "SET SESSION AUTHORIZATION alice; SELECT * FROM hidden", connstr => $primary->connstr('postgres') . ' user=alice');
($rret, $rout, $rerr) = $primary->psql('postgres', "$route SELECT * FROM hidden", connstr => $primary->connstr('postgres') . ' user=alice');
like($rerr, qr/permission denied for table hidden/, 'routed as a login role: the same permission error');
# a view owned by another role stays local (its owner's rights apply)
is($primary->safe_psql('postgres', "$route SELECT count(*) FROM hidden_v", connstr => $primary->connstr('postgres') . ' user=alice'),
	'0', 'view owned by another role: readable as locally');

# RLS: the same rows routed or not, and routed it ran on a standby
my $local_rows = $primary->safe_psql('postgres', "SELECT string_agg(id::text, ',' ORDER BY id) FROM secret",
	connstr => $primary->connstr('postgres') . ' user=alice');
my $routed_rows = $primary->safe_psql('postgres',
	"$route SELECT string_agg(id::text, ',' ORDER BY id) || ':' || node_port() FROM secret",
	connstr => $primary->connstr('postgres') . ' user=alice');
is($local_rows, '1,3', 'RLS locally: alice sees her rows');
like($routed_rows, qr/^1,3:(${\ $standby1->port }|${\ $standby2->port })$/, 'RLS routed: the same rows, from a standby');
my $su_rows = $primary->safe_psql('postgres', "$route SELECT count(*) FROM secret");
is($su_rows, '3', 'the superuser sees all rows routed');

# SET ROLE to a role that may not log in: the node login is the session's
# own (the role it authenticated as), and the node session takes the role
# as this one did, so the query is routed and sees what the role sees
$primary->safe_psql('postgres', 'CREATE ROLE nologin_reader NOLOGIN; GRANT SELECT ON t TO nologin_reader');
ForesightCluster::catch_up($primary, $standby1, $standby2);
my $count_t = $primary->safe_psql('postgres', 'SELECT count(*) FROM t');
my $nl = $primary->safe_psql('postgres', "$route SET ROLE nologin_reader; SELECT node_port() || ' ' || count(*) || ' ' || current_user FROM t; RESET ROLE; SELECT node_port() FROM t LIMIT 1;");
my @nl = split /\n/, $nl;
my ($nl_port, $nl_rest) = split / /, $nl[0], 2;
like($name_of{$nl_port} // '', qr/^standby/, 'SET ROLE to a NOLOGIN role: routed to a standby');
is($nl_rest, "$count_t nologin_reader", '... same rows, as that role');
like($name_of{ $nl[1] } // '', qr/^standby/, 'after RESET ROLE the session routes to a standby too');

# a login the nodes refuse (pg_hba.conf rejects it; a wrong password)
# reads locally: the refusal is known by its SQLSTATE (class 28), whatever
# the language of its message, and is the role's, not the node's (the node
# is not avoided); the message shown is libpq's, without the SQLSTATE
$primary->safe_psql('postgres', q{
CREATE ROLE hba_rejected LOGIN;
CREATE ROLE pw_reader LOGIN PASSWORD 'right';
GRANT SELECT ON t TO hba_rejected, pw_reader;
ALTER ROLE pw_reader SET foresight.connection_options = 'password=wrong';
});
ForesightCluster::catch_up($primary, $standby1, $standby2);
for my $s ($standby1, $standby2)
{
	# the first matching line wins: these go before the test's trust lines
	my $hba = $s->data_dir . '/pg_hba.conf';
	my $old = slurp_file($hba);
	open my $fh, '>', $hba or die "$hba: $!";
	print $fh "local all hba_rejected reject\nhost all hba_rejected all reject\n"
	  . "local all pw_reader scram-sha-256\nhost all pw_reader all scram-sha-256\n" . $old;
	close $fh;
	$s->reload;
}
my $explain_as = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT v FROM t WHERE id = 1";
for my $case (['hba_rejected', qr/FATAL:  pg_hba\.conf rejects connection for host "[^"]*", user "hba_rejected"/],
	['pw_reader', qr/FATAL:  password authentication failed for user "pw_reader"/])
{
	my ($role, $message) = @$case;
	my $out = $primary->safe_psql('postgres', qq{$route
SELECT node_port() || ' ' || count(*) FROM t;
$explain_as;
SELECT 'excluded: ' || excluded FROM foresight.route_explain('SELECT 1 FROM t');
}, connstr => $primary->connstr('postgres') . " user=$role");
	my @lines = split /\n/, $out;
	is($lines[0], "$pport $count_t", "$role: refused by both standbys, reads locally, same rows");
	like($out, qr/Last Failure: standby[12]: connection to server .* failed: $message[^\n]*\n/,
		"$role: the refusal is the failure, as libpq words it");
	unlike($out, qr/28000|28P01/, "$role: no SQLSTATE in the message shown");
	is($lines[-1], 'excluded: ', "$role: a login refusal is the role's: the standbys are not avoided");
}

# a standby not yet seen current after the catalog changes above is ordered
# after the coordinator (ForesightCluster::wait_standbys_seen_current)
sub standbys_seen_current
{
	ok(ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2),
		'the monitor has seen both standbys replay the latest change');
}

# include_local on: the coordinator takes its turn too
standbys_seen_current();
my $mix = $primary->safe_psql('postgres', "SET foresight.routing_policy = round_robin; SET foresight.include_local = on; "
	  . join(' ', map { "SELECT node_port();" } 1 .. 6));
my %mixed = map { ($name_of{$_} // '?') => 1 } split /\n/, $mix;
is(join(',', sort keys %mixed), 'primary,standby1,standby2', 'include_local on: round robin over the coordinator and both standbys');

# a drained node takes no new routed query
$primary->safe_psql('postgres', "SELECT foresight.alter_node('standby1', state => 'drained')");
my $drained = $primary->safe_psql('postgres', "$route " . join(' ', map { "SELECT node_port();" } 1 .. 6));
ok(!grep({ $_ eq $standby1->port } split /\n/, $drained), 'a drained node gets no routed query');
$primary->safe_psql('postgres', "SELECT foresight.alter_node('standby1', state => 'enabled')");

# a disabled node: the session's idle connection to it is closed
standbys_seen_current();
my $pr = $primary->background_psql('postgres');
$pr->query_safe($route);
$pr->query_safe("SELECT 1 FROM t LIMIT 1") for 1 .. 4;
my $conns_s1 = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_foresight'";
is($standby1->safe_psql('postgres', $conns_s1), '1', 'the session has a connection to standby1');
$primary->safe_psql('postgres', "SELECT foresight.alter_node('standby1', state => 'disabled')");
$pr->query_safe("SELECT 1 FROM t LIMIT 1");
ok($standby1->poll_query_until('postgres', "SELECT ($conns_s1) = 0"), 'disabling the node closes the connection');
$primary->safe_psql('postgres', "SELECT foresight.alter_node('standby1', state => 'enabled')");
$pr->quit;

# a node that accepts connections and never answers: the connection attempt
# waits on the latch, so statement_timeout ends it (not connect_timeout),
# and connect_timeout, counted by pg_foresight, sends the query elsewhere
my $silent = IO::Socket::INET->new(Listen => 128, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
  or die "listen: $!";
$primary->safe_psql('postgres', q{ALTER SYSTEM SET foresight.down_after = 1000; SELECT pg_reload_conf()});
# (a node is a candidate once it answered a poll: 'silent' answers at
# standby1's address first, then its address is one that never answers)
ForesightCluster::register($primary, 'silent', $standby1);
ForesightCluster::wait_polled($primary, 'silent');
$primary->safe_psql('postgres', "SELECT foresight.alter_node('silent', conninfo => 'host=127.0.0.1 port=" . $silent->sockport . "')");
$primary->safe_psql('postgres', "SELECT foresight.alter_node('standby$_', state => 'drained')") for 1 .. 2;
my $started = [gettimeofday];
($ret, $stdout, $stderr) = $primary->psql('postgres',
	"$route SET foresight.response_deadline = -1; SET foresight.connect_timeout = 60; SET statement_timeout = '1s'; SELECT node_port() FROM t LIMIT 1");
like($stderr, qr/canceling statement due to statement timeout/, 'statement_timeout interrupts a connection attempt');
cmp_ok(tv_interval($started), '<', 20, '... at once, not after connect_timeout');
# (a new session: this one would avoid the node for a while)
$started = [gettimeofday];
like($primary->safe_psql('postgres', "$route SET foresight.response_deadline = -1; SET foresight.connect_timeout = 2; $explain_as"),
	qr/Retries: 1\n\s*Last Failure: silent: connection to server at "127\.0\.0\.1", port \d+ failed: timeout expired\n/,
	'after connect_timeout the query runs elsewhere');
cmp_ok(tv_interval($started), '>=', 1.9, '... connect_timeout counted');
$primary->safe_psql('postgres', "SELECT foresight.remove_node('silent')");
$primary->safe_psql('postgres', "SELECT foresight.alter_node('standby$_', state => 'enabled')") for 1 .. 2;
$primary->safe_psql('postgres', q{ALTER SYSTEM RESET foresight.down_after; SELECT pg_reload_conf()});
$silent->close;

# a stopped standby: no client error, the next queries go elsewhere
$standby2->stop('fast');
my @after;
for (1 .. 6)
{
	my ($r, $o, $e) = $primary->psql('postgres', "$route SELECT node_port(), count(*) FROM t");
	is($r, 0, "query $_ with standby2 stopped: no error") or diag($e);
	push @after, $o;
}
ok(!grep({ /^${\ $standby2->port }\|/ } @after), 'no answer came from the stopped standby');
is(scalar(grep { /\|10[0-9]$/ } @after), 6, 'every answer is complete');
cmp_ok($primary->safe_psql('postgres', "SELECT retries FROM foresight.routing_stats WHERE node_name = 'standby2'"),
	'>=', 1, 'routing_stats counts the retries away from standby2');
# the decision log says where such a read ran in the end, and how; a read
# that ran where it was sent says nothing more
like($primary->safe_psql('postgres', q{SELECT string_agg(reason, E'\n') FROM foresight.routing_decisions
	WHERE chosen_node <> 'standby2' AND reason LIKE '%; ran on %'}),
	qr/; ran on (standby1|local) after 1 retry$/m, 'the decision log: a read retried away from standby2 ran on another node after 1 retry');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM foresight.routing_decisions
	WHERE reason LIKE '%; ran on %' AND reason NOT LIKE '%after % retr%' AND reason NOT LIKE '%(hedged: %'}),
	'0', 'the decision log: every "ran on" note says how');

# node connections count against the backend's budget of external file
# descriptors (fd.c, max_files_per_process / 3): each holds its socket and
# its wait event set's.  With a small budget, a query whose connection would
# exceed it runs elsewhere instead of failing ("epoll_create1 failed: Too
# many open files" when a wait event set could no longer be made); closing
# connections gives their descriptors back.  A session has one connection
# per node: twelve more names for the two standbys make fourteen.  The
# budget, about (max_files_per_process - 17) / 3, must still let the monitor
# poll all fourteen (a socket each, its latch's and its cycle's wait event
# sets, one spare: 17), while a session needs two per connection and one
# spare: with 85, about 22, the monitor's 17 fit and a session's 29 do not
# (70 left the monitor one short on some machines: a name never polled).
$standby2->start;
$primary->append_conf('postgresql.conf', 'max_files_per_process = 85');
$primary->restart;
ForesightCluster::register($primary, "fd$_", $_ % 2 ? $standby1 : $standby2) for 1 .. 12;
# every name a candidate first (replayed the registry change, seen healthy)
# and seen past the catalog floor of the last registration: a node is
# polled as soon as it is registered (monitoring.md), so the first names'
# first polls came before the later registrations, and until their next
# sample they are ordered after standby2, which would take every query
ok(ForesightCluster::wait_nodes_seen_current($primary, [ $standby1, $standby2 ],
		'standby1', 'standby2', map { "fd$_" } 1 .. 12),
	'the fourteen node names are seen past the last registration');
my $ncand = 0;
for (1 .. 600)
{
	$ncand = $primary->safe_psql('postgres',
		"$route SELECT cardinality(candidates) FROM foresight.route_explain('SELECT 1 FROM t')");
	last if $ncand eq '14';
	Time::HiRes::usleep(100_000);
}
is($ncand, '14', 'the fourteen node names are candidates')
  or diag($primary->safe_psql('postgres',
	"SELECT string_agg(node_name || ': ' || status || ' ' || coalesce(last_error, ''), E'\\n') FROM foresight.nodes"));
my $fd_session = $primary->background_psql('postgres', on_error_stop => 0);
$fd_session->query_safe($route);
my (@fd_ports, $fd_errors, $fd_explains);
for (1 .. 28)
{
	$fd_session->{stderr} = '';
	push @fd_ports, scalar($fd_session->query("SELECT node_port() FROM t LIMIT 1"));
	$fd_errors .= $fd_session->{stderr};
}
is($fd_errors, '', 'many node connections: no query failed');
is(scalar(grep { /^\d+$/ } @fd_ports), 28, 'every query answered');
my $fd_routed = grep { $_ ne $pport } @fd_ports;
cmp_ok($fd_routed, '>', 0, 'the first connections were made');
my $fd_conns = 0;
$fd_conns += $_->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_foresight'")
  for ($standby1, $standby2);
cmp_ok($fd_conns, '<', 14, "the budget allowed fewer connections than nodes ($fd_conns): the others' queries ran elsewhere");
$fd_explains .= $fd_session->query_safe($explain_as) . "\n" for 1 .. 14;
like($fd_explains,
	qr/Last Failure: (standby|fd)\d+: could not connect to node "(standby|fd)\d+": out of file descriptors\n/,
	'the failure is the shortage of file descriptors');
like(slurp_file($primary->logfile), qr/LOG:  could not connect to node "(standby|fd)\d+": out of file descriptors/,
	'the shortage is logged');
# disabling the nodes on standby1 and most of the others closes this
# session's connections to them: new ones to the three left then fit
$primary->safe_psql('postgres',
	"SELECT foresight.alter_node(n, state => 'disabled') FROM unnest(ARRAY['standby1', "
	  . join(', ', map { "'fd$_'" } grep { $_ % 2 || $_ > 4 } 1 .. 12) . "]) n");
$fd_session->query_safe("SELECT 1 FROM t LIMIT 1");
my @after_close = map { scalar($fd_session->query_safe("SELECT node_port() FROM t LIMIT 1")) } 1 .. 14;
is(join(',', grep { $_ ne $standby2->port } @after_close), '',
	'closed connections gave their file descriptors back: every query ran on standby2');
$fd_session->quit;

done_testing();
