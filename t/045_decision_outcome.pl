# The decision log records the outcome of every routed or split read,
# however the statement ends (reference.md, View foresight.routing_decisions:
# latency_ms once the statement ends, failed when it ended in an error).
# Before, only the remote paths did: a read whose chosen node was the
# coordinator and that failed here, and any routed or split read cancelled
# (statement_timeout, pg_cancel_backend), kept failed and latency_ms NULL
# for ever, the executor's End functions not being called on error.  Here
# each such read must leave failed = true and a latency, and a read that
# ends well failed = false.
# light: waits for a few short reads and cancels, no shares of CPU, so
# scripts/test.sh runs it beside another light test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1) = ForesightCluster::create(
	standbys => 1,
	conf => qq{
foresight.routing_policy = round_robin
foresight.include_local = on
foresight.hedge_factor = 0
});
$primary->safe_psql('postgres', q{
	CREATE TABLE small AS SELECT g AS id, g AS v FROM generate_series(1, 1000) g;
	CREATE TABLE big AS SELECT g AS id, g % 100 AS v FROM generate_series(1, 300000) g;
	ALTER TABLE big ADD PRIMARY KEY (id);
	ANALYZE small, big;
});
ForesightCluster::catch_up($primary, $standby1);
ok(ForesightCluster::wait_standbys_seen_current($primary, $standby1),
	'the monitor has seen the standby replay the set-up');

sub last_decision_id
{
	return $primary->safe_psql('postgres',
		'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
}

# the entries after $since: "chosen failed latency-known" each, in order
sub outcomes
{
	my ($since, $where) = @_;
	$where //= 'true';
	return $primary->safe_psql('postgres', qq{
		SELECT string_agg(format('%s %s %s', chosen_node, coalesce(failed::text, 'NULL'),
								 CASE WHEN latency_ms IS NULL THEN 'no-latency' ELSE 'latency' END),
						  E'\n' ORDER BY decision_id)
		  FROM foresight.routing_decisions WHERE decision_id > $since AND $where});
}

# an error raised by the query on each node in turn: here and on standby1
my $since = last_decision_id();
my ($ret, $out, $err) = $primary->psql('postgres',
	join('', map { "SELECT 1 / (id - id) FROM small WHERE id = 1;\n" } 1 .. 4),
	on_error_stop => 0);
like($err, qr/division by zero.*division by zero.*division by zero.*division by zero/s,
	'the four reads failed');
my $got = outcomes($since, "reason LIKE 'policy round_robin%'");
is(scalar(() = $got =~ /^local true latency$/mg), 2,
	'the reads failed here are logged failed, with their time') or diag($got);
is(scalar(() = $got =~ /^standby1 true latency$/mg), 2,
	'the reads failed on the node too') or diag($got);

# statement_timeout cancels routed reads, here and on the node
$since = last_decision_id();
($ret, $out, $err) = $primary->psql('postgres',
	"SET statement_timeout = '200ms';\n"
	  . join('', map { "SELECT pg_sleep(5) FROM small WHERE id = 1;\n" } 1 .. 2),
	on_error_stop => 0);
is(scalar(() = $err =~ /canceling statement due to statement timeout/g), 2,
	'statement_timeout cancelled both reads');
$got = outcomes($since, "reason LIKE 'policy round_robin%'");
like($got, qr/\A(local true latency\nstandby1 true latency|standby1 true latency\nlocal true latency)\z/,
	'reads cancelled by statement_timeout are logged failed, with their time') or diag($got);

# pg_cancel_backend of a routed read (twice: one runs here, one on the node)
$since = last_decision_id();
for my $i (1 .. 2)
{
	my $bg = $primary->background_psql('postgres', on_error_stop => 0);
	$bg->query_safe("SET application_name = 'decision_victim'");
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->{stdin} .= "SELECT pg_sleep(30) FROM small WHERE id = 1;\n";
	$bg->{run}->pump_nb;
	ok($primary->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $pid AND query LIKE '%pg_sleep(30)%' AND state = 'active'"),
		"read $i is running");
	$primary->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	# (not a routed read: the next routed read goes to the other node)
	$bg->query('SELECT pg_backend_pid()');
	like($bg->{stderr}, qr/canceling statement due to user request/, "read $i was cancelled");
	$bg->quit;
}
$got = outcomes($since, "reason LIKE 'policy round_robin%'");
like($got, qr/\A(local true latency\nstandby1 true latency|standby1 true latency\nlocal true latency)\z/,
	'reads cancelled by pg_cancel_backend are logged failed, with their time') or diag($got);

# a split read cancelled by statement_timeout, and one that ends well
my $split = "SET foresight.split = on;\nSET foresight.split_min_cost = 0;\n";
$since = last_decision_id();
($ret, $out, $err) = $primary->psql('postgres',
	$split . "SET statement_timeout = '300ms';\nSELECT sum(length(repeat(v::text, 10000))) FROM big;\n",
	on_error_stop => 0);
like($err, qr/canceling statement due to statement timeout/, 'statement_timeout cancelled the split read');
$got = outcomes($since, "reason LIKE 'split:%'");
like($got, qr/\A\S+ true latency\z/, 'a split read cancelled is logged failed, with its time')
  or diag($got);
$since = last_decision_id();
$primary->safe_psql('postgres', $split . 'SELECT count(*), sum(v) FROM big');
$got = outcomes($since, "reason LIKE 'split:%'");
is($got, 'parts false latency', 'a split read that ends well is logged not failed');

# a read that ends well, here and on the node
$since = last_decision_id();
$primary->safe_psql('postgres', join('', map { "SELECT v FROM small WHERE id = $_;\n" } 1 .. 2));
$got = outcomes($since, "reason LIKE 'policy round_robin%'");
like($got, qr/\A(local false latency\nstandby1 false latency|standby1 false latency\nlocal false latency)\z/,
	'reads that end well are logged not failed') or diag($got);

done_testing();
