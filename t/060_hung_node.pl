# A hung node (its postmaster and backends stopped with SIGSTOP) never
# hangs a query: a query with no row yet runs elsewhere after its response
# deadline, with no client error and the right result; a query that
# returned rows, or a read of a transaction block pinned to the node, ends
# with an error naming the node once the monitor marks it down or the
# deadline passes; nothing waits longer than that plus a sampling
# interval (bounds checked with a margin for a loaded machine; a new
# connection waits no longer than the deadline either); no
# "could not send cancel request" reaches the client; once the node runs
# again, none of the routed queries is left running on it.
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(gettimeofday tv_interval);
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => "foresight.sample_interval = 500ms\nforesight.poll_timeout = 400ms\nforesight.down_after = 2\n");
my $interval_s = 0.5;
my $margin_s = 4;    # a loaded machine's scheduling, process start-up

$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE TABLE t (id integer PRIMARY KEY);
INSERT INTO t SELECT generate_series(1, 100);
ANALYZE t;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);
# standby1 takes every routed query, the coordinator is the last resort
$primary->safe_psql('postgres', "SELECT foresight.alter_node('standby2', state => 'drained')");
my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";
my $status = "SELECT status FROM foresight.node_health WHERE node_name = 'standby1'";
ok($primary->poll_query_until('postgres', "SELECT ($status) = 'up'"), 'standby1 is up');
is($primary->safe_psql('postgres', "$route SELECT node_port()"), $standby1->port, 'reads go to standby1');

# the standby's postmaster and every process it started
sub standby_pids
{
	my $pm = $standby1->{_pid};
	my @pids = ($pm);
	for my $stat (glob '/proc/[0-9]*/stat')
	{
		open my $fh, '<', $stat or next;
		my $line = <$fh> // '';
		close $fh;
		push @pids, $1 if $line =~ /^(\d+) \(.*\) \S (\d+) / && $2 == $pm;
	}
	return @pids;
}
sub stop_standby { kill 'STOP', standby_pids(); }
sub cont_standby { kill 'CONT', standby_pids(); }

# 1. no row yet: after the deadline the query runs elsewhere, no error
my $deadline_ms = 1000;
my $point = "$route SET foresight.response_deadline = $deadline_ms; SELECT count(*), sum(id) FROM t WHERE id <= 50";
stop_standby();
my ($errors, $longest, $wrong) = (0, 0, 0);
for (1 .. 3)
{
	my $started = [gettimeofday];
	my ($r, $out, $err) = $primary->psql('postgres', $point);
	my $took = tv_interval($started);
	$longest = $took if $took > $longest;
	$errors++ if $r != 0;
	$wrong++ if $out ne '50|1275';
	unlike($err, qr/could not send cancel request/, "query $_: no cancel warning for the client");
}
is($errors, 0, 'no client error while standby1 is stopped');
is($wrong, 0, 'every result is right');
diag("point queries, standby1 stopped: longest wait $longest s");
cmp_ok($longest, '<', $deadline_ms / 1000 + $interval_s + $margin_s,
	"the longest wait ($longest s) is bounded by the deadline");
ok($primary->poll_query_until('postgres', "SELECT ($status) = 'down'"), 'the monitor marks standby1 down');
is($primary->safe_psql('postgres', "$route SELECT count(*) FROM t"), '100', 'a node marked down is no candidate');
cont_standby();
ok($primary->poll_query_until('postgres', "SELECT ($status) = 'up'"), 'standby1 is up again');

# 2. rows returned already: the monitor's verdict ends the wait, with an
# error naming the node
my $session = $primary->background_psql('postgres', on_error_stop => 0);
$session->query_safe("$route SET foresight.response_deadline = -1;");
my $streaming = "SELECT id, repeat('x', 10000) AS pad, pg_sleep(CASE WHEN id <= 5 THEN 0 ELSE 60 END) "
  . "FROM t WHERE id <= 10 ORDER BY id;";
my $sleeping = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_foresight' "
  . "AND state = 'active' AND wait_event = 'PgSleep'";
$session->query_until(qr/start/, "\\echo start\n$streaming\n");
ok($standby1->poll_query_until('postgres', "SELECT ($sleeping) = 1"), 'the query sent rows and sleeps on standby1');
stop_standby();
my $started = [gettimeofday];
$session->{stderr} = '';
$session->query('SELECT 1');
my $took = tv_interval($started);
like($session->{stderr}, qr/ERROR:  node "standby1" stopped answering: the monitor marked the node down/,
	'a query that returned rows ends with an error naming the node');
unlike($session->{stderr}, qr/could not send cancel request/, 'no cancel warning for the client');
# detection: down_after missed polls of poll_timeout, one interval apart
diag("streaming query, standby1 stopped: error after $took s");
cmp_ok($took, '<', 3 * $interval_s + $interval_s + $margin_s, "... once the node is marked down ($took s)");
cont_standby();
ok($primary->poll_query_until('postgres', "SELECT ($status) = 'up'"), 'standby1 is up again');

$session->quit;

# 3. a transaction block pinned to the node: an error naming it, no endless
# wait (a new session: the last one avoids the node for a while)
$session = $primary->background_psql('postgres', on_error_stop => 0);
$session->query_safe("$route SET foresight.response_deadline = $deadline_ms; BEGIN;");
is($session->query_safe('SELECT node_port()'), $standby1->port, 'the block reads on standby1');
stop_standby();
$started = [gettimeofday];
$session->query('SELECT count(*) FROM t');
$took = tv_interval($started);
like($session->{stderr}, qr/ERROR:  node "standby1" stopped answering/,
	'the next read of the pinned block ends with an error naming the node');
diag("pinned block, standby1 stopped: error after $took s");
cmp_ok($took, '<', $deadline_ms / 1000 + $interval_s + $margin_s, "... within the deadline ($took s)");
$session->query('ROLLBACK');
$session->{stderr} = '';
is($session->query_safe('SELECT count(*) FROM t'), '100', 'the session goes on');
unlike($session->{stderr}, qr/could not send cancel request/, 'no cancel warning for the client');
cont_standby();
$session->quit;

# the node runs again: the cancelled and abandoned queries are gone there
ok($standby1->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'pg_foresight' AND state = 'active' AND pid <> pg_backend_pid()"),
	'no routed query is left running on standby1');
ok($primary->poll_query_until('postgres', "SELECT ($status) = 'up'"), 'standby1 is up again');
is($primary->safe_psql('postgres', "$route SELECT node_port()"), $standby1->port, 'reads go to standby1 again');

done_testing();
