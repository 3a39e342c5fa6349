# The cheap scenarios of the fault suite (issue #19; the heavy ones are in
# bench/faults.sh), each under a read load through the coordinator whose
# every result is checked:
#   1. a hot-standby conflict cancels a query on a standby before its first
#      row (SQLSTATE 40001): the query runs elsewhere, no client error;
#   2. a node removed from the registry mid-load: no client error, no
#      query goes to it afterwards;
#   3. a standby promoted mid-load, while a writer reads its own writes:
#      no wrong result, and the promoted node is no candidate from the
#      monitor's next sample on;
#   4. a coordinator restart: the standbys are unknown until their first
#      good poll (no query pays a connection attempt to them), then take
#      reads again within two samples.
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(gettimeofday tv_interval usleep);
use ForesightCluster;

my $interval_s = 0.5;
my $margin_s = 4;    # a loaded machine's scheduling, process start-up
my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => "foresight.sample_interval = 500ms\nforesight.poll_timeout = 400ms\n");
# standby1 cancels a query that holds back replay at once
$standby1->append_conf('postgresql.conf', "max_standby_streaming_delay = 0\nhot_standby_feedback = off\n");
$standby1->reload;

$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE TABLE t (id integer PRIMARY KEY);
INSERT INTO t SELECT generate_series(1, 1000);
CREATE TABLE c (id integer);
INSERT INTO c SELECT generate_series(1, 100);
CREATE TABLE w (id integer PRIMARY KEY, v integer NOT NULL);
INSERT INTO w SELECT g, 0 FROM generate_series(1, 10) g;
ANALYZE;
});
ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2);
my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";
my $health = "SELECT status FROM foresight.node_health WHERE node_name =";

# pgbench through the coordinator for $seconds with the given scripts;
# returns its harness and a reference to its output
my $dir = PostgreSQL::Test::Utils::tempdir;
sub script
{
	my ($name, $text) = @_;
	PostgreSQL::Test::Utils::append_to_file("$dir/$name.sql", $text);
	return "$dir/$name.sql";
}
# ten rows by key, then a slower scan of ten rows (20 ms: queries in
# flight at any moment), both checked
my $point = script('point', q{
\set k random(1, 990)
SELECT count(*) AS c, sum(id) AS s FROM t WHERE id BETWEEN :k AND :k + 9 \gset
\if :c != 10 or :s != 10 * :k + 45
SELECT 'wrong result' :: int;
\endif
SELECT count(pg_sleep(0.002)) AS c, sum(id) AS s FROM t WHERE id BETWEEN :k AND :k + 9 \gset
\if :c != 10 or :s != 10 * :k + 45
SELECT 'wrong result' :: int;
\endif
});
# a write, then a read of it in the same session (read-your-writes)
my $ryw = script('ryw', q{
\set wid :client_id % 10 + 1
UPDATE w SET v = v + 1 WHERE id = :wid RETURNING v AS written \gset
SELECT v AS seen FROM w WHERE id = :wid \gset
\if :seen != :written
SELECT 'wrong result' :: int;
\endif
});

sub start_load
{
	my ($seconds, @scripts) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', $seconds,
		  (map { ('-f', $_) } @scripts),
		  '-h', $primary->host, '-p', $primary->port, 'postgres' ],
		'>', \$out, '2>', \$err);
	return ($h, \$out, \$err);
}
# queries run, client errors, wrong results of a finished load
sub load_result
{
	my ($h, $out, $err) = @_;
	$h->finish;
	my ($txns) = $$out =~ /number of transactions actually processed: (\d+)/;
	my $aborted = () = $$err =~ /aborted in command/g;
	my $wrong = () = $$err =~ /wrong result/g;
	diag($1) while $$err =~ /(aborted in command.*)/g;
	return ($txns // 0, $aborted, $wrong);
}
# seconds until the SQL returns t on the coordinator
sub seconds_until
{
	my ($sql) = @_;
	my $started = [gettimeofday];
	$primary->poll_query_until('postgres', $sql) or return -1;
	return tv_interval($started);
}

# ---- 1. a hot-standby conflict before the first row ----
# The coordinator's session holds its own snapshot while the query runs on
# the node, so a VACUUM on the primary cannot remove what that query may
# see; a conflict comes from a standby behind the primary: rows deleted
# before the query began, which the standby had not replayed yet, removed
# by a VACUUM the standby replays while the query runs.
$primary->safe_psql('postgres', "SELECT foresight.alter_node('standby2', state => 'drained')");
$standby1->safe_psql('postgres', "SELECT pg_wal_replay_pause()");
$primary->safe_psql('postgres', "DELETE FROM c WHERE id > 50");
my $session = $primary->background_psql('postgres', on_error_stop => 0);
$session->query_safe("$route SET foresight.response_deadline = -1;");
# 100 rows on standby1 (50 on the primary), 30 ms each, before the
# aggregate's one row
$session->query_until(qr/start/, "\\echo start\nSELECT count(pg_sleep(0.03)) AS n, sum(id) FROM c;\n");
ok($standby1->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'pg_foresight' AND wait_event = 'PgSleep'"),
	'the aggregate runs on standby1, whose replay is paused');
my $log_offset = -s $standby1->logfile;
$primary->safe_psql('postgres', "VACUUM c");
# (this statement may be cancelled too: replay goes on once resumed)
$standby1->psql('postgres', "SELECT pg_wal_replay_resume()");
$session->{stderr} = '';
my $answer = $session->query('SELECT 1');
like($answer, qr/^50\|1275$/m, 'the conflicted query answered, from the coordinator, with the right result')
  or diag("answer: $answer");
unlike($session->{stderr}, qr/ERROR/, 'no client error') or diag($session->{stderr});
ok($standby1->log_contains(qr/canceling statement due to conflict with recovery(.|\n)*STATEMENT:\s+SELECT count\(pg_sleep/, $log_offset),
	'standby1 cancelled it for a recovery conflict');
cmp_ok($primary->safe_psql('postgres', "SELECT retries FROM foresight.routing_stats WHERE node_name = 'standby1'"),
	'>=', 1, 'and it ran again elsewhere (a retry counted on standby1)');
$session->quit;

# ---- 1b. a REPEATABLE READ block whose reads ran on the node cannot move ----
# Its reads share one snapshot, taken on the node: a later read run
# elsewhere would see another.  When the node's session ends before the
# block's next read has a row, the client gets the error, and retries the
# transaction as it would a serialization failure.
ForesightCluster::catch_up($primary, $standby1);
$session = $primary->background_psql('postgres', on_error_stop => 0);
$session->query_safe("$route BEGIN ISOLATION LEVEL REPEATABLE READ;");
is($session->query_safe('SELECT node_port()'), $standby1->port, 'a repeatable read block reads on standby1');
$standby1->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pg_foresight'");
$session->{stderr} = '';
my $moved = $session->query('SELECT node_port()');
like($session->{stderr}, qr/ERROR:/, "the block's next read ends with an error")
  or diag("it answered $moved");
unlike($moved, qr/^\d+$/, '... instead of running elsewhere with another snapshot');
$session->query('ROLLBACK');
$session->quit;
$primary->safe_psql('postgres', "SELECT foresight.alter_node('standby2', state => 'enabled')");

# ---- 2. a node removed from the registry mid-load ----
my @load = start_load(6, $point);
usleep(2_000_000);
$primary->safe_psql('postgres', "SELECT foresight.remove_node('standby2')");
my ($txns, $aborted, $wrong) = load_result(@load);
diag("node removed mid-load: $txns transactions, $aborted client errors, $wrong wrong");
cmp_ok($txns, '>', 0, 'the load ran');
is($aborted, 0, 'no client error when a node is removed mid-load');
is($wrong, 0, 'no wrong result');
ok($standby2->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'pg_foresight' AND state = 'active'"),
	'no routed query runs on the removed node afterwards');
ForesightCluster::register($primary, 'standby2', $standby2);
ForesightCluster::wait_polled($primary, 'standby2');

# ---- 3. a standby promoted mid-load (readers, and writers reading their writes) ----
@load = start_load(8, $point, $ryw);
usleep(2_000_000);
$standby2->promote;
my $detect = seconds_until("SELECT ($health 'standby2') = 'not in recovery (promoted?)'");
($txns, $aborted, $wrong) = load_result(@load);
diag("standby promoted mid-load: $txns transactions, $aborted client errors, $wrong wrong, "
	  . "no candidate after ${detect} s");
cmp_ok($txns, '>', 0, 'the load ran');
is($aborted, 0, 'no client error when a standby is promoted');
is($wrong, 0, 'no wrong result: every write was read back');
cmp_ok($detect, '>=', 0, 'the monitor finds the promoted standby out of recovery');
cmp_ok($detect, '<', 2 * $interval_s + $margin_s, "... within two samples ($detect s)");
like($primary->safe_psql('postgres', "$route SELECT excluded FROM foresight.route_explain('SELECT * FROM t')"),
	qr/standby2: not in recovery \(promoted\?\)/, 'the promoted standby is no candidate, with its reason');
$primary->safe_psql('postgres', "UPDATE w SET v = -1 WHERE id = 1");
is($primary->safe_psql('postgres', "$route SELECT v FROM w WHERE id = 1"), '-1',
	'a write made after the promotion is read back');
$primary->safe_psql('postgres', "SELECT foresight.remove_node('standby2')");

# ---- 4. a coordinator restart ----
$primary->restart;
my $restarted = [gettimeofday];
my ($first_routed, $longest, $errors, $wrong4, $n) = (undef, 0, 0, 0, 0);
while (tv_interval($restarted) < 2 * $interval_s + $margin_s)
{
	my $started = [gettimeofday];
	my ($r, $out, $err) = $primary->psql('postgres', "$route SELECT node_port(), count(*), sum(id) FROM t");
	my $took = tv_interval($started);
	$n++;
	$longest = $took if $took > $longest;
	$errors++ if $r != 0;
	$wrong4++ unless $out =~ /^\d+\|1000\|500500$/;
	if (!defined $first_routed && $out =~ /^${\ $standby1->port }\|/)
	{
		$first_routed = tv_interval($restarted);
		last;
	}
}
diag(sprintf("coordinator restart: %d queries, %d errors, %d wrong, longest %.2f s, routed again after %s s",
		$n, $errors, $wrong4, $longest, $first_routed // 'never'));
is($errors, 0, 'no client error after the restart');
is($wrong4, 0, 'no wrong result after the restart');
ok(defined $first_routed, 'reads go to standby1 again after the restart');
cmp_ok($longest, '<', 1 + $margin_s, "no query waits for a node not polled yet ($longest s)");

done_testing();
