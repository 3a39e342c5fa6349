# A node that fails once rows of a routed query have reached the client:
# the query cannot move elsewhere, and the client sees the node's own
# error, with a context line naming the node, never a generic "connection
# lost".  Both ways a node's connection ends mid-query: with a word (its
# backend terminated: a FATAL error, then the connection closes) and
# without one (its backend killed: only libpq knows the connection
# closed).  The session goes on routing afterwards.
#
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby) = ForesightCluster::create(standbys => 1);
# the standby comes back by itself after one of its backends was killed
$standby->append_conf('postgresql.conf', 'restart_after_crash = on');
$standby->reload;

$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE TABLE t (id integer PRIMARY KEY);
INSERT INTO t SELECT generate_series(1, 10);
});
ForesightCluster::catch_up($primary, $standby);

my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";
# Rows 1 to 5 come at once, large enough to leave the node's send buffer;
# row 6 waits a minute, during which the node's backend is ended.
my $query = "SELECT id, repeat('x', 10000) AS pad, pg_sleep(CASE WHEN id <= 5 THEN 0 ELSE 60 END) "
  . "FROM t ORDER BY id;";
my $sleeping = "SELECT pid FROM pg_stat_activity WHERE application_name = 'pg_foresight' "
  . "AND state = 'active' AND wait_event = 'PgSleep'";

# Run $query in a session of the primary, end its node backend with
# $end_backend (given its pid) while it sleeps, and return what the
# client saw on stderr and the session, still open.
sub fail_mid_query
{
	my ($end_backend) = @_;
	my $session = $primary->background_psql('postgres', on_error_stop => 0);
	$session->query_safe("$route \\set VERBOSITY verbose");
	$session->query_until(qr/start/, "\\echo start\n$query\n");
	ok($standby->poll_query_until('postgres', "SELECT count(*) = 1 FROM ($sleeping) s"),
		'the routed query has sent its first rows and sleeps on the node');
	$end_backend->($standby->safe_psql('postgres', $sleeping));
	$session->{stderr} = '';
	$session->query('SELECT 1');    # waits for the routed query's end
	my $stderr = $session->{stderr};
	$session->{stderr} = '';
	return ($stderr, $session);
}

# terminated: the node says why, then closes the connection
my ($stderr, $session) = fail_mid_query(sub {
	$standby->safe_psql('postgres', "SELECT pg_terminate_backend($_[0])");
});
like($stderr, qr/ERROR:  57P01: terminating connection due to administrator command/,
	"a terminated node backend: the client sees the node's message and SQLSTATE");
like($stderr, qr/CONTEXT:  remote SQL command on node "standby1": SELECT id,/, 'the context names the node');
unlike($stderr, qr/connection lost/, 'not a generic "connection lost"');
is($session->query_safe('SELECT node_port()'), $standby->port,
	'the session routes to the node again, on a new connection');
$session->quit;

# killed: the connection closes without a word from the node
($stderr, $session) = fail_mid_query(sub { kill 'KILL', $_[0]; });
like($stderr, qr/ERROR:  08006: server closed the connection unexpectedly/,
	'a killed node backend: the client sees what libpq says of the connection');
like($stderr, qr/CONTEXT:  remote SQL command on node "standby1": SELECT id,/, 'the context names the node');
unlike($stderr, qr/connection lost/, 'not a generic "connection lost"');
ok($standby->poll_query_until('postgres', 'SELECT pg_is_in_recovery()'),
	'the standby is back after the crash of its backend');
is($session->query_safe('SELECT count(*) FROM t'), '10', 'the session goes on');
$session->quit;

done_testing();
