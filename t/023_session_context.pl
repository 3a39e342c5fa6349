# Session context: a routed query sees what a local one sees of its
# session.  Custom and placeholder settings (row-level security policies
# reading app.tenant through STABLE SQL and PL/pgSQL wrappers), extension
# and planner settings, the session user and the current role (SET ROLE,
# SET SESSION AUTHORIZATION, SECURITY DEFINER), the transaction's and the
# statement's timestamps, random() once seeded.  A node session never
# routes onward.  What cannot be carried to a node keeps the query here,
# and says why.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(standbys => 2,
	# a standby paused on purpose here is not to be quarantined as an
	# outlier of the fleet's replication lag (t/062)
	conf => "foresight.anomaly_detection = off\n");
my $pport = $primary->port;
my %on_standby = ($standby1->port => 1, $standby2->port => 1);
my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";
my $local = "SET foresight.routing_policy = local;";
my $super = $primary->safe_psql('postgres', 'SELECT current_user');

$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE FUNCTION setting_here(name text) RETURNS text LANGUAGE sql STABLE
	AS $$ SELECT current_setting(name, true) $$;
CREATE FUNCTION tenant_sql() RETURNS text LANGUAGE sql STABLE
	AS $$ SELECT current_setting('app.tenant') $$;
CREATE FUNCTION tenant_plpgsql() RETURNS text LANGUAGE plpgsql STABLE
	AS $$ BEGIN RETURN current_setting('app.tenant'); END $$;
CREATE TABLE docs_sql (id integer PRIMARY KEY, tenant text, body text);
INSERT INTO docs_sql SELECT g, (ARRAY['acme', 'globex', 'initech'])[1 + g % 3], 'doc ' || g
	FROM generate_series(1, 30) g;
CREATE TABLE docs_plpgsql AS SELECT * FROM docs_sql;
ALTER TABLE docs_sql ENABLE ROW LEVEL SECURITY;
ALTER TABLE docs_plpgsql ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON docs_sql USING (tenant = tenant_sql());
CREATE POLICY tenant_rows ON docs_plpgsql USING (tenant = tenant_plpgsql());
CREATE ROLE app_user LOGIN;
GRANT SELECT ON docs_sql, docs_plpgsql TO app_user;

-- NOINHERIT: alice has bob's privileges only after SET ROLE bob
CREATE ROLE alice LOGIN NOINHERIT;
CREATE ROLE bob NOLOGIN;
GRANT bob TO alice;
CREATE TABLE for_alice (x integer);
INSERT INTO for_alice VALUES (1);
GRANT SELECT ON for_alice TO alice;
CREATE TABLE for_bob (x integer);
INSERT INTO for_bob VALUES (2);
GRANT SELECT ON for_bob TO bob;
CREATE TABLE mine (id integer, owner text);
INSERT INTO mine VALUES (1, 'alice'), (2, 'bob'), (3, 'bob'), (4, 'carol');
ALTER TABLE mine ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON mine USING (owner = current_user);
GRANT SELECT ON mine TO alice, bob;
-- execute privileges are checked where the query runs: on the node
CREATE FUNCTION only_alice() RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'alice may' $$;
CREATE FUNCTION only_bob() RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'bob may' $$;
REVOKE EXECUTE ON FUNCTION only_alice(), only_bob() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION only_alice() TO alice;
GRANT EXECUTE ON FUNCTION only_bob() TO bob;
CREATE TABLE owner_only (x integer);
INSERT INTO owner_only VALUES (3), (4);
CREATE FUNCTION definer_view() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
	AS $$ SELECT current_user || ' ' || session_user || ' ' || (SELECT count(*) FROM owner_only) $$;
CREATE ROLE admin_r SUPERUSER NOLOGIN;
GRANT admin_r TO alice;
ANALYZE;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);

# the statements' output lines, in one session (as $user when given); an
# error ends the session and comes as the last line, so that the tests
# comparing its lines fail and the others go on
sub session
{
	my ($sql, $user) = @_;
	my @connstr = $user ? (connstr => $primary->connstr('postgres') . " user=$user") : ();
	my ($ret, $out, $err) = $primary->psql('postgres', $sql, @connstr, on_error_stop => 1);
	my @lines = split /\n/, $out;
	push @lines, "psql failed: $err" if $ret != 0;
	return @lines;
}

# "value|port" from a standby: the value, and a test that it ran on one
sub from_standby
{
	my ($line, $name) = @_;
	my ($value, $port) = $line =~ /^(.*)\|(\d+)$/ ? ($1, $2) : ($line, '');
	ok($on_standby{$port}, "$name: ran on a standby") or diag("got: $line");
	return $value;
}

# the reason the decision log gives for the last decision of backend $pid
sub last_reason
{
	my ($pid) = @_;
	return $primary->safe_psql('postgres',
		"SELECT reason FROM foresight.routing_decisions WHERE pid = $pid ORDER BY decision_id DESC LIMIT 1");
}

# --- row-level security through settings: every tenant sees its rows
my $agg = q{string_agg(id::text, ',' ORDER BY id)};
my %expected;
for my $table ('docs_sql', 'docs_plpgsql')
{
	for my $tenant ('acme', 'globex', 'initech')
	{
		my ($rows) = session("$local SET app.tenant = '$tenant'; SELECT $agg FROM $table", 'app_user');
		isnt($rows // '', '', "$table, $tenant: the tenant has rows locally");
		$expected{$tenant} = $rows;
		for my $how (['login app_user', 'app_user', ''], ['SET ROLE app_user', undef, 'SET ROLE app_user;'])
		{
			my ($label, $user, $set) = @$how;
			my ($line) = session("$route $set SET app.tenant = '$tenant'; SELECT $agg || '|' || node_port() FROM $table",
				$user);
			is(from_standby($line, "$table, $tenant, $label"), $rows,
				"$table, $tenant, $label: routed rows are the local rows");
		}
	}
}

# one session changing its tenant in every way a setting changes: the
# connection to the node follows each change
my $q = "SELECT $agg || '|' || node_port() FROM docs_plpgsql;";
my @seq = session(qq{$route
SET app.tenant = 'acme';
$q
SET app.tenant = 'globex';
$q
SELECT set_config('app.tenant', 'initech', false);
$q
BEGIN;
SET LOCAL app.tenant = 'acme';
$q
COMMIT;
$q
BEGIN;
SET app.tenant = 'globex';
ROLLBACK;
$q
BEGIN;
SAVEPOINT s;
SET app.tenant = 'acme';
ROLLBACK TO SAVEPOINT s;
COMMIT;
$q
}, 'app_user');
my @want = ('acme', 'globex', undef, 'initech', 'acme', 'initech', 'initech', 'initech');
my @labels = ('SET', 'SET again', 'set_config()', 'after set_config()', 'SET LOCAL in a block',
	'after the block (SET LOCAL undone)', 'after a rolled back SET', 'after a rolled back savepoint');
for my $i (0 .. $#want)
{
	next unless defined $want[$i];
	is(from_standby($seq[$i], "tenant sequence: $labels[$i]"), $expected{ $want[$i] },
		"tenant sequence: $labels[$i]: the rows of $want[$i]");
}

# --- other custom settings, an extension's, the planner's
my @custom = session(qq{$route
SET myapp.page_size = '25';
SELECT current_setting('myapp.page_size') || '|' || node_port();
SELECT setting_here('myapp.page_size') || '|' || node_port();
SET someext.mode = 'strict';
SELECT setting_here('someext.mode') || '|' || node_port();
LOAD 'auto_explain';
SET auto_explain.log_format = 'yaml';
SELECT setting_here('auto_explain.log_format') || '|' || node_port();
SET enable_seqscan = off;
SET work_mem = '64MB';
SET random_page_cost = 1.25;
SET plan_cache_mode = force_generic_plan;
SELECT concat_ws(' ', current_setting('enable_seqscan'), current_setting('work_mem'),
	current_setting('random_page_cost'), current_setting('plan_cache_mode')) || '|' || node_port();
RESET enable_seqscan;
SELECT current_setting('enable_seqscan') || '|' || node_port();
SELECT current_setting('port') || '|' || node_port();
SELECT current_setting('foresight.routing_policy') || '|' || node_port();
});
is(from_standby($custom[0], 'current_setting of a custom setting'), '25', 'current_setting of a custom setting, routed');
is(from_standby($custom[1], 'custom setting in a function'), '25', 'custom setting read by a function on the node');
is(from_standby($custom[2], 'placeholder'), 'strict', 'an extension-style placeholder reaches the node');
is(from_standby($custom[3], 'extension setting'), 'yaml', 'a loaded extension\'s setting reaches the node');
is(from_standby($custom[4], 'planner settings'), 'off 64MB 1.25 force_generic_plan',
	'planner settings reach the node');
is(from_standby($custom[5], 'planner setting reset'), 'on', 'RESET reaches the node');
is($custom[6], "$pport|$pport", 'current_setting of a server setting is not routed');
is($custom[7], "round_robin|$pport", 'current_setting of a foresight setting is not routed');

# --- a node session never routes onward, and is read-only: on both standbys
# (round robin alternates between them once the monitor has seen both past
# the latest catalog change: a node still to be checked goes last)
ok(ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2),
	'the monitor has seen both standbys replay the set-up');
my @node_session = session("$route "
	  . "SELECT setting_here('foresight.routing_policy') || ' ' || setting_here('default_transaction_read_only') || '|' || node_port();"
	  x 2);
my %node_ports;
for my $line (@node_session)
{
	is(from_standby($line, 'node session set-up'), 'local on',
		'the node session has foresight.routing_policy = local and default_transaction_read_only = on');
	$node_ports{ ($line =~ /\|(\d+)$/)[0] // '' } = 1;
}
is(scalar(keys %node_ports), 2, '... on both standbys');

# the coordinator cannot be registered as a node of itself (which would be
# one hop, never a loop, by the setting above): add_node refuses it, and the
# monitor refuses a node that turns out to be this server (t/012)
my ($self_ret, $self_out, $self_err) = $primary->psql('postgres',
	"SELECT foresight.add_node('self', '" . ForesightCluster::node_conninfo($primary) . "')");
like($self_err, qr/node connection string names this server itself/,
	'the coordinator is not registered as its own node');

# --- the session user and the current role
my $who = q{session_user || ' ' || current_user};
for my $case (['alice', 'alice', ''], ['alice', 'alice', 'SET ROLE bob;'], [undef, 'superuser', 'SET ROLE alice;'])
{
	my ($user, $label, $set) = @$case;
	my ($l) = session("$local $set SELECT $who", $user);
	my ($r) = session("$route $set SELECT $who || '|' || node_port()", $user);
	is(from_standby($r, "$label $set session_user/current_user"), $l,
		"$label $set: session_user and current_user routed = local ($l)");
	($l) = session("$local $set SELECT string_agg(id::text, ',' ORDER BY id) FROM mine", $user);
	($r) = session("$route $set SELECT string_agg(id::text, ',' ORDER BY id) || '|' || node_port() FROM mine", $user);
	is(from_standby($r, "$label $set RLS on current_user"), $l // '', "$label $set: RLS on current_user, routed = local");
}

# privileges: alice's and bob's, each lacking the other's; execute
# privileges are checked on the node, table privileges here: the errors are
# the same either way
for my $case (['', 'for_alice', 'only_alice', 'for_bob', 'only_bob'],
	['SET ROLE bob;', 'for_bob', 'only_bob', 'for_alice', 'only_alice'])
{
	my ($set, $table_ok, $fn_ok, $table_no, $fn_no) = @$case;
	my $label = $set || 'alice';
	my ($line) = session("$route $set SELECT x || '|' || node_port() FROM $table_ok", 'alice');
	from_standby($line, "$label reads $table_ok");
	($line) = session("$route $set SELECT $fn_ok() || '|' || node_port()", 'alice');
	from_standby($line, "$label runs $fn_ok()");
	for my $sql ("SELECT x FROM $table_no", "SELECT $fn_no()")
	{
		my ($lret, $lout, $lerr) = $primary->psql('postgres', "$local $set $sql",
			connstr => $primary->connstr('postgres') . ' user=alice');
		my ($rret, $rout, $rerr) = $primary->psql('postgres', "$route $set $sql",
			connstr => $primary->connstr('postgres') . ' user=alice');
		my ($lfirst) = split /\n/, $lerr;
		my ($rfirst) = split /\n/, $rerr;
		like($lfirst, qr/ERROR:  permission denied for (table|function) /, "$label: $sql is refused locally");
		is($rfirst, $lfirst, "$label: $sql: the same error routed");
	}
}
my ($refused_remotely) = ($primary->psql('postgres', "$route SET ROLE bob; SELECT only_alice()",
	connstr => $primary->connstr('postgres') . ' user=alice'))[2];
like($refused_remotely, qr/CONTEXT:  remote SQL command on node "standby[12]"/,
	'the execute privilege was refused by the node, to bob');

# SET SESSION AUTHORIZATION: the node login stays the session's, the node
# session takes the session user and then the role
my @sa_local = session(qq{$local
SET SESSION AUTHORIZATION alice;
SELECT $who || ' ' || setting_here('is_superuser');
SET ROLE bob;
SELECT $who;
SELECT definer_view();
RESET SESSION AUTHORIZATION;
SELECT $who;
});
my @sa = session(qq{$route
SET SESSION AUTHORIZATION alice;
SELECT $who || ' ' || setting_here('is_superuser') || '|' || node_port();
SET ROLE bob;
SELECT $who || '|' || node_port();
SELECT definer_view() || '|' || node_port();
RESET SESSION AUTHORIZATION;
SELECT $who || '|' || node_port();
});
is($sa_local[0], 'alice alice off', 'SET SESSION AUTHORIZATION locally');
is(from_standby($sa[0], 'SET SESSION AUTHORIZATION'), $sa_local[0], 'SET SESSION AUTHORIZATION: routed = local');
is(from_standby($sa[1], 'then SET ROLE'), 'alice bob', '... then SET ROLE bob: routed = local');
is(from_standby($sa[2], 'SECURITY DEFINER'), $sa_local[2], '... a SECURITY DEFINER function: routed = local');
is($sa_local[2], "$super alice 2", '... (which runs as its owner)');
is(from_standby($sa[3], 'RESET SESSION AUTHORIZATION'), "$super $super", 'RESET SESSION AUTHORIZATION: routed = local');

# a security-restricted operation (the query of CREATE MATERIALIZED VIEW)
# runs here
$primary->safe_psql('postgres', "$route CREATE MATERIALIZED VIEW where_mv AS SELECT node_port() AS port");
is($primary->safe_psql('postgres', 'SELECT port FROM where_mv'), $pport,
	'CREATE MATERIALIZED VIEW: its query is not routed (security-restricted operation)');

# --- what cannot be carried: a superuser-only setting set under a
# superuser role that the login (alice) may not set keeps the query here
my @su = session(qq{$route
SELECT pg_backend_pid();
SET ROLE admin_r;
SET session_replication_role = replica;
RESET ROLE;
SELECT setting_here('session_replication_role') || '|' || node_port();
}, 'alice');
is($su[1], "replica|$pport", 'a superuser-only setting the node login may not set: the query runs here');
like(last_reason($su[0]), qr/^not routed: superuser-only setting "session_replication_role" cannot be set by the node login/,
	'... and the decision log says why');
# granted to alice, it is carried
$primary->safe_psql('postgres', 'GRANT SET ON PARAMETER session_replication_role TO alice');
ForesightCluster::catch_up($primary, $standby1, $standby2);
@su = session("$route SET session_replication_role = replica; SELECT setting_here('session_replication_role') || '|' || node_port();",
	'alice');
is(from_standby($su[0], 'granted superuser-only setting'), 'replica', 'a superuser-only setting the login may set is carried');
# a superuser login sets one as itself, under any role
@su = session("$route SET session_replication_role = replica; SET ROLE bob; SELECT setting_here('session_replication_role') || ' ' || current_user || '|' || node_port();");
is(from_standby($su[0], 'superuser login'), 'replica bob', 'a superuser login carries superuser-only settings under SET ROLE');

# a value the nodes refuse: auto_explain loaded in the standbys' sessions
# checks its settings, this server knows them as placeholders only
for my $s ($standby1, $standby2)
{
	$s->append_conf('postgresql.conf', "session_preload_libraries = 'auto_explain'");
	$s->reload;
}
my @refused = session(qq{$route
SELECT pg_backend_pid();
SET auto_explain.log_format = 'bogus';
SELECT setting_here('auto_explain.log_format') || '|' || node_port();
SELECT pg_backend_pid();
SELECT setting_here('auto_explain.log_format') || '|' || node_port();
});
is($refused[1], "bogus|$pport", 'a value the nodes refuse: the query runs here, no error');
is($refused[3], "bogus|$pport", '... and so do the next ones');
like(last_reason($refused[2]), qr/^not routed: node "standby[12]" refused setting "auto_explain\.log_format"/,
	'... the decision log says why');
@refused = session(qq{$route
SET auto_explain.log_format = 'bogus';
SELECT setting_here('auto_explain.log_format') || '|' || node_port();
SET auto_explain.log_format = 'json';
SELECT setting_here('auto_explain.log_format') || '|' || node_port();
});
is($refused[0], "bogus|$pport", 'refused again in another session');
is(from_standby($refused[1], 'accepted value'), 'json', 'a value the nodes take: routed again');
like(slurp_file($primary->logfile), qr/LOG:  pg_foresight: node "standby[12]" refused setting "auto_explain\.log_format" = 'bogus'/,
	'the refusal is logged');
for my $s ($standby1, $standby2)
{
	$s->append_conf('postgresql.conf', "session_preload_libraries = ''");
	$s->reload;
}

# a role the nodes do not have yet (replay paused): the query runs here
$_->safe_psql('postgres', 'SELECT pg_wal_replay_pause()') for ($standby1, $standby2);
$primary->safe_psql('postgres', 'CREATE ROLE newcomer NOLOGIN; GRANT SELECT ON for_alice TO newcomer');
my @newcomer = session("$route SET ROLE newcomer; SELECT current_user || '|' || node_port(); SELECT x || '|' || node_port() FROM for_alice;");
is($newcomer[0], "newcomer|$pport", 'a role a node does not know yet: the query runs here');
is($newcomer[1], "1|$pport", '... without error');
$_->safe_psql('postgres', 'SELECT pg_wal_replay_resume()') for ($standby1, $standby2);
ForesightCluster::catch_up($primary, $standby1, $standby2);
@newcomer = session("$route SET ROLE newcomer; SELECT current_user || '|' || node_port();");
is(from_standby($newcomer[0], 'replayed role'), 'newcomer', 'once replayed, the role is carried');

# --- the transaction's timestamps: constant in a transaction, the same
# routed and local, in any DateStyle and TimeZone
my $clock = q{concat_ws(' ', now(), CURRENT_TIMESTAMP, transaction_timestamp(), CURRENT_DATE,
	CURRENT_TIME, LOCALTIMESTAMP, LOCALTIME, CURRENT_TIMESTAMP(2), LOCALTIME(0), CURRENT_TIME(3),
	LOCALTIMESTAMP(1), date_trunc('day', now()), now() - CURRENT_TIMESTAMP(0))};
my @ts = session(qq{$route
SET TimeZone = 'Asia/Kathmandu';
SET DateStyle = 'SQL, DMY';
BEGIN;
SELECT now() || '|' || pg_backend_pid();
SELECT 1 FROM pg_sleep(1.2);
SELECT now() || '|' || node_port();
SELECT $clock || '|' || node_port();
SELECT $clock || '|' || pg_backend_pid();
SELECT count(*) || '|' || node_port() FROM docs_sql WHERE now() > CURRENT_DATE - 1 AND LOCALTIMESTAMP > '2000-01-01';
COMMIT;
});
my ($now_local) = split /\|/, $ts[0];
is(from_standby($ts[2], 'now() in a block'), $now_local, 'now() in a transaction block: routed = local');
my ($clock_local) = split /\|/, $ts[4];
is(from_standby($ts[3], 'CURRENT_* in a block'), $clock_local,
	'now(), CURRENT_*, LOCAL* (with precisions) in a block: routed = local');
is(from_standby($ts[5], 'clock in conditions'), '30', 'clock readings in conditions, routed');

# a cached plan takes each execution's transaction time
my @cached = session(qq{$route
PREPARE stamp AS SELECT now() || '|' || node_port();
BEGIN;
SELECT now() || '|' || pg_backend_pid();
EXECUTE stamp;
COMMIT;
SELECT 1 FROM pg_sleep(0.05);
BEGIN;
SELECT now() || '|' || pg_backend_pid();
EXECUTE stamp;
SELECT now() || '|' || node_port() FROM docs_sql WHERE id = 4;
SELECT now() || '|' || node_port() FROM docs_sql WHERE id = 5;
COMMIT;
});
my ($first_local) = split /\|/, $cached[0];
my ($second_local) = split /\|/, $cached[3];
is(from_standby($cached[1], 'prepared, first block'), $first_local, 'a prepared statement: the first transaction\'s now()');
is(from_standby($cached[4], 'prepared, second block'), $second_local, '... then the second\'s');
isnt($first_local, $second_local, '... which differ');
is(from_standby($cached[5], 'shape, first'), $second_local, 'a simple query: its transaction\'s now()');
is(from_standby($cached[6], 'shape seen before'), $second_local, '... and a query of a shape seen before');

# statement_timestamp(): this statement's start here, taken before the
# route was decided (the node's own would be later)
my @st = session(qq{$route
SET DateStyle = ISO;
BEGIN;
SELECT pg_backend_pid();
SELECT statement_timestamp() || '|' || node_port();
SELECT 1 FROM pg_sleep(0.05);
SELECT statement_timestamp() || '|' || node_port();
SELECT now();
COMMIT;
});
my $st1 = from_standby($st[1], 'statement_timestamp()');
my $st2 = from_standby($st[3], 'statement_timestamp() again');
is($primary->safe_psql('postgres', "SELECT '$st1'::timestamptz < '$st2'::timestamptz AND '$st1'::timestamptz > '$st[4]'::timestamptz"),
	't', 'statement_timestamp() is per statement');
is($primary->safe_psql('postgres', qq{
SELECT '$st2'::timestamptz <= decided_at FROM foresight.routing_decisions
WHERE pid = $st[0] ORDER BY decision_id DESC LIMIT 1}),
	't', 'statement_timestamp() routed is the coordinator\'s statement start');

# EXPLAIN VERBOSE names them
like($primary->safe_psql('postgres', "$route EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM docs_sql WHERE id < 5 AND now() > CURRENT_DATE - 1"),
	qr/Remote SQL: .*\(id < \$1\) AND \(\(\$3 \+ 'PT0S'::interval\) > \(\(\$4\)::date - \$2\)\).*\n\s+Remote Parameters: \$1 = '5', \$2 = '1', \$3 = now\(\), \$4 = CURRENT_DATE\n/s,
	'EXPLAIN VERBOSE shows the parameters that carry the transaction\'s time');

# --- random() once the session seeded it (setseed(), SET seed): the seeded
# sequence, which only this server's generator gives.  Unseeded, random()
# routes (its values differ between runs anyway).
$primary->safe_psql('postgres', q{
CREATE FUNCTION seed_sql() RETURNS void LANGUAGE sql VOLATILE AS $$ SELECT setseed(0.42) $$;
CREATE FUNCTION one_seeded() RETURNS integer LANGUAGE sql SET seed = 0.42 AS $$ SELECT 1 $$;
});
ok(ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2),
	'the monitor has seen both standbys replay the functions that seed');
is(from_standby($primary->safe_psql('postgres', "$route SELECT (random() < 1) || '|' || node_port()"),
		'unseeded random()'), 'true', 'random() of an unseeded session is routed');
my $draws = q{string_agg(random()::text, ',')};
my ($seeded_local) = reverse session("$local SELECT setseed(0.42); SELECT $draws FROM generate_series(1, 3)");
like($seeded_local, qr/^0\.\d+,0\.\d+,0\.\d+$/, 'seeded random() here: three draws');
for my $seed ('SELECT setseed(0.42);', 'SET seed = 0.42;', q{SELECT set_config('seed', '0.42', false);},
	'DO $$ BEGIN PERFORM setseed(0.42); END $$;', 'SELECT seed_sql();', 'SELECT one_seeded();',
	'BEGIN; SELECT setseed(0.42); ROLLBACK;')
{
	my ($line) = reverse session("$route $seed SELECT $draws || '|' || node_port() FROM generate_series(1, 3)");
	is($line, "$seeded_local|$pport", "seeded by \"$seed\": random() runs here, the seeded sequence");
}
# plans made before the seed: a prepared statement and a shape seen before
my @before = session(qq{$route
PREPARE draw AS SELECT random()::text || '|' || node_port();
EXECUTE draw;
SELECT random()::text || '|' || node_port() FROM docs_sql WHERE id = 1;
SELECT setseed(0.42);
SELECT random()::text || '|' || node_port() FROM docs_sql WHERE id = 2;
EXECUTE draw;
SELECT random()::text || '|' || node_port() FROM docs_sql WHERE id = 3;
EXECUTE draw;
});
from_standby($before[0], 'prepared random() before the seed');
from_standby($before[1], 'a shape with random() before the seed');
my @after_local = session("$local SELECT setseed(0.42);" . (' SELECT random();' x 4));
is(join(' ', @before[3 .. 6]), join(' ', map { "$_|$pport" } @after_local[1 .. 4]),
	'plans made before the seed: their executions after it run here, the seeded sequence');
like($primary->safe_psql('postgres', "$route SELECT setseed(0.42); SELECT reason FROM foresight.route_explain('SELECT random()')"),
	qr/calls random\(\) after this session seeded it/, 'route_explain() says why');

# --- the values sent with a statement are read under the node's input
# settings: with array_nulls off a NULL element reads as the string NULL,
# with xmloption document content is refused.  Constants made before the
# setting changed (a view's, a prepared statement's) and values computed
# here keep such a statement here; with the settings back, it is routed.
$primary->safe_psql('postgres', q{
CREATE TABLE arrs (id integer PRIMARY KEY, ta text[], ia integer[]);
INSERT INTO arrs VALUES (3, ARRAY['NULL', NULL], '{3,NULL,4}'), (4, '{x}', '{1}');
CREATE VIEW arrs_null AS SELECT id FROM arrs WHERE ta @> '{NULL}'::text[];
CREATE VIEW arrs_const AS SELECT id, '{1,NULL}'::integer[] AS c FROM arrs;
CREATE VIEW xml_const AS SELECT id, '<a/><b/>'::xml AS x FROM arrs;
});
ok(ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2),
	'the monitor has seen both standbys replay the arrays');
my $value_reads = q{
PREPARE by_array AS SELECT id FROM arrs WHERE ia = '{3,NULL,4}'::integer[];
PREPARE has_null AS SELECT id FROM arrs WHERE ta @> '{NULL}'::text[];
PREPARE as_text(xml) AS SELECT $1::text FROM arrs WHERE id = 3;
SET array_nulls = off;
SELECT 'view: ' || coalesce(string_agg(id::text, ','), 'none') FROM arrs_null;
SELECT string_agg(id || ':' || c::text, ' ' ORDER BY id) FROM arrs_const;
EXECUTE by_array;
SELECT 'prepared: ' || coalesce(string_agg(id::text, ','), 'none') FROM arrs_null;
EXECUTE has_null;
RESET array_nulls;
SET xmloption = document;
SELECT string_agg(id || ':' || x::text, ' ' ORDER BY id) FROM xml_const;
EXECUTE as_text(xmlconcat('<a/>'::xml, '<b/>'::xml));
};
my @value_local = session("$local $value_reads");
my @value_routed = session("$route $value_reads");
is(join("\n", @value_routed), join("\n", @value_local),
	'array_nulls off, xmloption document: the same rows as here');
is(scalar(@value_local), 6, 'array_nulls off, xmloption document: every statement answered');
my ($value_reasons) = reverse session("$route $value_reads
SELECT string_agg(reason, ' / ' ORDER BY decision_id) FROM (SELECT decision_id, reason
	FROM foresight.routing_decisions WHERE pid = pg_backend_pid() AND reason NOT LIKE 'ineligible:%'
	ORDER BY decision_id DESC LIMIT 7) d;");
like($value_reasons, qr/^(not routed: array_nulls is off: a NULL element of an array sent to a node reads there as the string NULL \/ ){5}not routed: xmloption is document: an xml value sent to a node that is content would be refused there \/ not routed: xmloption is document/,
	'the decision log says why they ran here');
my ($routed_back) = reverse session("$route SELECT count(*) FROM arrs_null; SELECT count(*) FROM xml_const;
SELECT string_agg(chosen_node, ',' ORDER BY decision_id) FROM (SELECT decision_id, chosen_node
	FROM foresight.routing_decisions WHERE pid = pg_backend_pid() AND reason NOT LIKE 'ineligible:%'
	ORDER BY decision_id DESC LIMIT 2) d;");
like($routed_back, qr/^standby[12],standby[12]$/, 'under the default settings the same reads are routed');

done_testing();
