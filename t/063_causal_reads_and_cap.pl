# What users of replicas ask for:
# - causal reads across connections: a session that wrote takes its
#   commit position (foresight.last_commit_lsn()), another sets
#   foresight.min_lsn to it, and its reads see the write: on the
#   coordinator while the standby has not replayed it, on the standby once
#   it has;
# - a shared cap on each node's connections from all backends
#   (foresight.max_node_connections): at the cap a query runs elsewhere,
#   never fails, and the node never has more connections than the cap.
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby) = ForesightCluster::create(standbys => 1);
$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE TABLE t (id integer PRIMARY KEY);
INSERT INTO t SELECT generate_series(1, 10);
});
ForesightCluster::catch_up($primary, $standby);
my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";
ok($primary->poll_query_until('postgres',
		"SELECT status = 'up' FROM foresight.node_health WHERE node_name = 'standby1'"), 'standby1 is up');

# causal reads
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
my $lsn = $primary->safe_psql('postgres', 'INSERT INTO t VALUES (11); SELECT foresight.last_commit_lsn()');
like($lsn, qr{^[0-9A-F]+/[0-9A-F]+$}, "the writer's commit position: $lsn");
is($primary->safe_psql('postgres', "$route SELECT node_port(), count(*) FROM t"),
	$standby->port . '|10', 'another session without min_lsn reads the paused standby');
is($primary->safe_psql('postgres', "$route SET foresight.min_lsn = '$lsn'; SELECT node_port(), count(*) FROM t"),
	$primary->port . '|11', 'with foresight.min_lsn it reads the write, on the coordinator');
like($primary->safe_psql('postgres', "$route SET foresight.min_lsn = '$lsn'; SELECT excluded || ' ' || reason FROM foresight.route_explain('SELECT count(*) FROM t')"),
	qr/replay position to be checked/, 'route_explain: the node is asked first');
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
ForesightCluster::catch_up($primary, $standby);
is($primary->safe_psql('postgres', "$route SET foresight.min_lsn = '$lsn'; SELECT node_port(), count(*) FROM t"),
	$standby->port . '|11', 'once the standby replayed it, the read goes there');
my ($ret, $stdout, $stderr) = $primary->psql('postgres', "SET foresight.min_lsn = 'yesterday'");
like($stderr, qr/invalid value for parameter "foresight.min_lsn": "yesterday"/, 'a position that is none is refused');
is($primary->safe_psql('postgres', 'SELECT foresight.last_commit_lsn() IS NULL'), 't',
	'a session that committed nothing has no position');

# A position beyond the end of this server's WAL (another server's, or
# mistyped): no node has replayed it, so the reads run here.  A split
# read flushes its floor for the walsenders; it must flush only what was
# written ("xlog flush request FFFF/0 is not satisfied" before).
my $future = "SET foresight.min_lsn = 'FFFF/0';";
is($primary->safe_psql('postgres', "$route $future SELECT node_port(), count(*) FROM t"),
	$primary->port . '|11', 'a position past the end of the WAL: the read runs here');
my $split = 'SET foresight.routing_policy = round_robin; SET foresight.split = on;'
  . ' SET foresight.split_min_cost = 0; SET foresight.split_piece_cost = 0;';
($ret, $stdout, $stderr) = $primary->psql('postgres',
	"$split $future SELECT count(*), sum(id) FROM t;"
	  . " SELECT count(*) FROM foresight.routing_decisions WHERE pid = pg_backend_pid() AND reason LIKE 'split%'");
is($stderr, '', 'a split read with it does not fail');
is($stdout, "11|66\n1", 'and it answers, as a split read');

# the shared cap
$primary->safe_psql('postgres', 'ALTER SYSTEM SET foresight.max_node_connections = 2; SELECT pg_reload_conf()');
my $routed_here = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_foresight'";
my @sessions;
my @ports;
for my $i (1 .. 3)
{
	my $s = $primary->background_psql('postgres', on_error_stop => 0);
	$s->query_safe($route);
	push @ports, $s->query_safe('SELECT node_port()');
	is($s->{stderr}, '', "session $i: no error");
	push @sessions, $s;
}
is_deeply(\@ports, [ $standby->port, $standby->port, $primary->port ],
	'two sessions read on standby1, the third, at the cap, here');
is($standby->safe_psql('postgres', $routed_here), '2', 'standby1 has the cap of connections');
$sessions[0]->quit;
ok($standby->poll_query_until('postgres', "SELECT ($routed_here) = 1"), "the first session's connection is closed");
is($sessions[2]->query_safe('SELECT node_port()'), $standby->port, 'the third session reads there now');
$_->quit for @sessions[ 1, 2 ];

done_testing();
