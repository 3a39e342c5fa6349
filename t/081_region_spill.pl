# Regions, part 2: the predictive policy keeps reads in this coordinator's
# region (foresight.local_region) while a node there has room, spills them
# to the nearest region by measured round trip when it has none, brings
# them back when it has room again, and fails over to the nearest region
# when the local one has no node left.  standby1 is local; standby2 is
# behind a relay adding 7.5 ms each way (near), standby3 30 ms (far).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use ForesightCluster;

my %regions = ForesightCluster::three_regions(q{
# the neighbour below loads standby1 to about this on a 2-CPU machine
foresight.spill_threshold = 0.5
});
my ($primary, $standby1, $standby2, $standby3) = ($regions{primary}, @{ $regions{standbys} });
my $dir = $regions{dir};

# 1. the local region idle: reads stay there
my ($all, $n) = ForesightCluster::region_lookups(\%regions, 3);
cmp_ok($all, '>', 100, 'lookups were decided');
cmp_ok($n->{standby1}, '>=', 0.95 * $all, 'local region idle: at least 95% stay local');

# 2. a CPU-bound neighbour on standby1: reads spill, to the near region first
my $load = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '3', '-j', '1', '-T', '300', '-f', "$dir/heavy.sql", '-d', $standby1->connstr('postgres') ],
	'>', '/dev/null', '2>', '/dev/null');
ok($primary->poll_query_until('postgres', q{
	SELECT predicted_load > current_setting('foresight.spill_threshold')::float8
	FROM foresight.predictions WHERE node_name = 'standby1' AND request_class = 'all'}),
	'standby1 is predicted above the spill-over threshold');
($all, $n) = ForesightCluster::region_lookups(\%regions, 3);
my $spilled = $n->{standby2} + $n->{standby3};
cmp_ok($spilled, '>=', 0.5 * $all, 'local region full: most reads spill');
cmp_ok($n->{standby2}, '>', 2 * $n->{standby3}, 'to the near region before the far one');
like($primary->safe_psql('postgres', q{
	SELECT reason FROM foresight.routing_decisions WHERE reason LIKE 'spill-over:%'
	ORDER BY decision_id DESC LIMIT 1}),
	qr/^spill-over: eu-west at load [01]\.\d\d > 0\.50; standby2 expected in [\d.]+ ms \(round trip [\d.]+\)/,
	'the decision log says why, with the round trip');

# 3. the neighbour stops: reads come back
$load->kill_kill;
$standby1->safe_psql('postgres', q{
	SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM big%'});
ok($primary->poll_query_until('postgres', q{
	SELECT predicted_load < 0.3 FROM foresight.predictions
	WHERE node_name = 'standby1' AND request_class = 'all'}),
	'standby1 has room again');
($all, $n) = ForesightCluster::region_lookups(\%regions, 3);
cmp_ok($n->{standby1}, '>=', 0.9 * $all, 'reads come back to the local region');

# 4. the local region's node stops: reads continue on the near region
$standby1->stop('immediate');
my $failed;
($all, $n, $failed) = ForesightCluster::region_lookups(\%regions, 4);
is($failed, 0, 'no client error with the local region stopped');
cmp_ok($n->{standby2}, '>=', 0.8 * $all, 'the reads go to the near region')
  or diag($primary->safe_psql('postgres', q{
	SELECT chosen_node || ': ' || reason FROM foresight.routing_decisions
	ORDER BY decision_id DESC LIMIT 3}), "\n",
	$primary->safe_psql('postgres', q{
	SELECT node_name, round_trip_ms, status FROM foresight.nodes}));

# 5. read-your-writes across regions: the near region's replay paused, a
# session that wrote reads its write every time, never from the near node
# (it has not replayed it) but from the far one (it has) or here
$standby2->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
my $from = $primary->safe_psql('postgres',
	'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
my $ryw = $primary->safe_psql('postgres', join('', map {
	"INSERT INTO kv VALUES (" . (20000 + $_) . ", 'w$_');\nSELECT v FROM kv WHERE k = " . (20000 + $_) . ";\n" } 1 .. 10));
is($ryw, join("\n", map { "w$_" } 1 .. 10), 'with the near region behind, each read sees its own write');
my %ryw_nodes = map { split /\|/ } split /\n/, $primary->safe_psql('postgres', qq{
	SELECT chosen_node, count(*) FROM foresight.routing_decisions
	WHERE decision_id > $from GROUP BY 1});
diag(join(', ', map { "$_ $ryw_nodes{$_}" } sort keys %ryw_nodes));
diag($primary->safe_psql('postgres', qq{
	SELECT chosen_node || ': ' || reason || ' ' || latency_ms FROM foresight.routing_decisions
	WHERE decision_id > $from ORDER BY decision_id DESC LIMIT 2}));
ok(!exists $ryw_nodes{standby2}, 'no read went to the near node, which had not replayed it');
$standby2->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');

$_->kill_kill for @{ $regions{relays} };
done_testing();
