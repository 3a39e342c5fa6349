# Regions, part 1: the monitor measures each node's network round trip
# apart from its service time (foresight.nodes.round_trip_ms), and
# foresight.regions groups the nodes by region, this coordinator's
# (foresight.local_region) first.  Far nodes are real delays on the wire:
# standby2 behind a relay adding 7.5 ms each way (a 15 ms round trip),
# standby3 behind one adding 30 ms (60 ms).
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1, $standby2, $standby3) = ForesightCluster::create(
	standbys => 3,
	no_register => 1,
	conf => qq{
foresight.local_region = 'eu-west'
# the slow lookups below are to be waited for, not quarantined (t/062)
foresight.anomaly_detection = off
});

my ($near, $near_relay) = ForesightCluster::start_relay($standby2, 7.5);
my ($far, $far_relay) = ForesightCluster::start_relay($standby3, 30);
$primary->safe_psql('postgres', sprintf(q{
	SELECT foresight.add_node('standby1', '%s', region => 'eu-west');
	SELECT foresight.add_node('standby2', '%s', region => 'eu-central');
	SELECT foresight.add_node('standby3', '%s', region => 'us-east');},
	ForesightCluster::node_conninfo($standby1), $near, $far));

ok($primary->poll_query_until('postgres', q{
	SELECT count(*) = 3 FROM foresight.node_round_trip_list() r
	JOIN foresight.nodes n USING (node_id)
	WHERE n.node_name LIKE 'standby%' AND r.round_trip_samples >= 10}),
	'every standby has ten round trips measured');

my %rt = map { split /\|/ } split /\n/, $primary->safe_psql('postgres', q{
	SELECT node_name, round(round_trip_ms::numeric, 1) FROM foresight.nodes ORDER BY node_id});
diag(join(', ', map { "$_ $rt{$_} ms" } sort keys %rt));
is($rt{local}, '0.0', 'the coordinator is 0 ms from itself');
cmp_ok($rt{standby1}, '<', 10, 'standby1, on loopback: under 10 ms');
cmp_ok($rt{standby2}, '>=', 14, 'standby2, 7.5 ms each way: at least 14 ms');
cmp_ok($rt{standby2}, '<', 40, 'and under 40');
cmp_ok($rt{standby3}, '>=', 58, 'standby3, 30 ms each way: at least 58 ms');
cmp_ok($rt{standby3}, '<', 120, 'and under 120');

my ($p50, $p95) = split /\|/, $primary->safe_psql('postgres', q{
	SELECT round_trip_p50_ms, round_trip_p95_ms FROM foresight.node_round_trip_list() r
	JOIN foresight.nodes n USING (node_id) WHERE node_name = 'standby3'});
cmp_ok($p50, '>=', 58, "standby3's median round trip ($p50 ms) is the wire's");
cmp_ok($p95, '>=', $p50, 'its 95th percentile is at least its median');

is($primary->safe_psql('postgres', q{
	SELECT string_agg(format('%s %s %s/%s', region, local, nodes_up, nodes), ', ' ORDER BY local DESC, round_trip_ms)
	FROM foresight.regions}),
	'eu-west t 2/2, eu-central f 1/1, us-east f 1/1',
	'foresight.regions: the local region first (with the coordinator), then by round trip');
# Hedging knows distance: a point lookup late on standby1 is not hedged to
# standby3, whose round trip alone (60 ms) is longer than the wait that
# made it late, even though standby3 has no answer time on record (which
# would let a near node be tried).  lookup() sleeps 2 s on standby1.
ForesightCluster::create_slow_lookup($primary, 2, $standby1, $standby2, $standby3);
$primary->safe_psql('postgres', q{
	SELECT foresight.set_weights(1, 0);
	SELECT foresight.alter_node('standby2', state => 'drained');
	SELECT foresight.alter_node('standby3', weight => 0.01);});
my $hedge_session = "SET foresight.routing_policy = predictive;\n"
  . "SET foresight.include_local = off;\n";
$primary->safe_psql('postgres', $hedge_session . join('', map { "SELECT lookup($_);\n" } 1 .. 20));
ForesightCluster::set_slow_port($primary, $standby1->port, $standby1, $standby2, $standby3);
my $since = $primary->safe_psql('postgres',
	'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
is($primary->safe_psql('postgres', $hedge_session . "SELECT lookup(7);\nSELECT lookup(8);"),
	join("\n", map { $primary->safe_psql('postgres', "SELECT md5('$_')") } 7, 8),
	'the late lookups return their values');
my $late = $primary->safe_psql('postgres', qq{
	SELECT string_agg(format('%s %s', chosen_node, reason), E'\n' ORDER BY decision_id)
	FROM foresight.routing_decisions
	WHERE decision_id > $since AND candidates->0->>'node' = 'standby1'});
unlike($late, qr/hedged/, 'a lookup late on standby1 is not hedged to a node 60 ms away');
like($late, qr/^standby1 /, '... it waits for standby1') or diag($late);
ForesightCluster::set_slow_port($primary, 0, $standby1, $standby2, $standby3);
$primary->safe_psql('postgres', q{
	SELECT foresight.set_weights(0.3, 0.7);
	SELECT foresight.alter_node('standby2', state => 'enabled');
	SELECT foresight.alter_node('standby3', weight => 1);});
ok($primary->poll_query_until('postgres', q{
	SELECT status = 'up' FROM foresight.node_health WHERE node_name = 'standby2'}),
	'standby2 is up again');

# reads spread over every node: each region has a share, the shares add up
$primary->safe_psql('postgres', q{CREATE TABLE t AS SELECT 1 AS x});
ForesightCluster::catch_up($primary, $standby1, $standby2, $standby3);
$primary->safe_psql('postgres', "SET foresight.routing_policy = round_robin;\n"
	  . join('', map { "SELECT x FROM t;\n" } 1 .. 60));
my ($shares, $states, $loads) = split /\|/, $primary->safe_psql('postgres', q{
	SELECT round(sum(share_of_reads)::numeric, 6), string_agg(state, ',' ORDER BY region),
	       bool_and(predicted_load BETWEEN 0 AND 1)
	FROM foresight.regions});
is($shares, '1.000000', 'the shares of the reads of the regions add up to 1');
is($states, 'up,up,up', 'every region is up');
is($loads, 't', 'each region has a predicted load in [0, 1]');

is($primary->safe_psql('postgres', q{SELECT region FROM foresight.nodes WHERE node_name = 'local'}),
	'eu-west', 'the coordinator is in foresight.local_region');

# a bad region name is refused with the add_node rule
my ($ret, $stdout, $stderr) = $primary->psql('postgres', q{ALTER SYSTEM SET foresight.local_region = 'EU West'});
like($stderr, qr/invalid value for parameter "foresight.local_region": "EU West"/,
	'foresight.local_region refuses an invalid name');
like($stderr, qr/A region starts with a lowercase letter/, 'and says what a region name is');

is($primary->safe_psql('postgres', q{
	SELECT size FROM pg_shmem_allocations WHERE name = 'pg_foresight round trips'}),
	160 * 17, 'round trips take the 160 bytes a slot docs/reference.md gives');

$near_relay->kill_kill;
$far_relay->kill_kill;
done_testing();
