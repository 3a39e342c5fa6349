# Regions, part 3: what a read costs is its round trip plus the node's
# service time for its class, so distance weighs heavily on a point lookup
# and hardly at all on a long aggregate.  With the local region (standby1)
# and the near one (standby2, 7.5 ms each way) loaded by CPU-bound
# neighbours, a long aggregate goes to the far region (standby3, 30 ms each
# way) and the decision log says why (its service time outweighs the
# distance), while point lookups under the same load go to the near region,
# not the far one.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes ();
use ForesightCluster;

# a threshold low enough that standby1, sharing two CPUs with a loaded
# standby2, stays above it; and a response deadline that no aggregate
# slowed down by the neighbours reaches (giving up on a node marks it
# unusable)
my %regions = ForesightCluster::three_regions(q{
foresight.spill_threshold = 0.3
foresight.response_deadline_min = 60s
});
my ($primary, $standby1, $standby2, $standby3) = ($regions{primary}, @{ $regions{standbys} });
my $dir = $regions{dir};

# the long aggregate: a CPU-bound join and sum of a few hundred ms at rest
my $aggregate = 'SELECT sum(a.id::bigint) FROM big a JOIN big b ON a.id % 1000 = b.id % 1000 '
  . 'WHERE a.id <= 40000 AND b.id <= 40000';

sub last_decision_id
{
	return $primary->safe_psql('postgres',
		'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
}

# what the router saw lately, for a failure's diagnostics
sub show_state
{
	my ($since) = @_;
	diag($primary->safe_psql('postgres', qq{
		SELECT format('%s %s %s ms: %s', decision_id, chosen_node, round(latency_ms::numeric, 1), reason)
		FROM foresight.routing_decisions WHERE decision_id > $since
		ORDER BY decision_id DESC LIMIT 8}));
	diag($primary->safe_psql('postgres', q{
		SELECT format('%s: load %s, round trip %s ms', p.node_name, round(p.predicted_load::numeric, 2),
		              round(n.round_trip_ms::numeric, 1))
		FROM foresight.predictions p JOIN foresight.nodes n USING (node_name)
		WHERE p.request_class = 'all' ORDER BY 1}));
}

# n aggregates in one session (its connections to the nodes kept): the
# decisions they made, as [decision_id, chosen_node, reason, latency_ms]
sub run_aggregates
{
	my ($n) = @_;
	my $from = last_decision_id();
	$primary->safe_psql('postgres', join('', map { "$aggregate;\n" } 1 .. $n));
	return [ map { [ split /\|/, $_, 4 ] } split /\n/, $primary->safe_psql('postgres', qq{
		SELECT decision_id, chosen_node, round(latency_ms::numeric, 1), reason
		FROM foresight.routing_decisions
		WHERE decision_id > $from AND reason NOT LIKE 'not routed:%'
		  AND request_class IN ('medium', 'large')
		ORDER BY decision_id}) ];
}

# 1. idle: the aggregate runs in the local region (or near), and its class
# gets an answer time (the service time the spill weighs)
my $start = last_decision_id();
my $idle = run_aggregates(5);
diag(join("\n", map { "$_->[1] $_->[2] ms: $_->[3]" } @$idle));
is(scalar(@$idle), 5, 'the aggregate is routed, as a medium or large read')
  or show_state($start);
is($idle->[0][1], 'standby1', 'idle: the first runs in the local region');
# (the aggregates themselves may load standby1 past the low threshold:
# then the near region, idle, is the soonest)
is(scalar(grep { $_->[1] eq 'standby3' } @$idle), 0, 'idle: none goes to the far region');

# 2. CPU-bound neighbours on standby1 and standby2: both regions loaded
my @load = map {
	IPC::Run::start(
		[ 'pgbench', '-n', '-c', $_->[1], '-j', '1', '-T', '300', '-f', "$dir/heavy.sql",
		  '-d', $_->[0]->connstr('postgres') ],
		'>', '/dev/null', '2>', '/dev/null')
} ([ $standby1, 3 ], [ $standby2, 4 ]);
ok($primary->poll_query_until('postgres', q{
	SELECT bool_and(CASE node_name
			WHEN 'standby1' THEN predicted_load > current_setting('foresight.spill_threshold')::float8
			WHEN 'standby2' THEN predicted_load > 0.4 END)
	FROM foresight.predictions
	WHERE node_name IN ('standby1', 'standby2') AND request_class = 'all'}),
	'standby1 is predicted above the spill-over threshold, standby2 above 0.4')
  or show_state($start);

# the aggregate, eight to a session, until some went far (or a deadline).
# A node connection's first 4 answers are cold (REMOTE_COLD_SENDS,
# prediction.md), and the spill's service time reads warm answers only
# (routing.md, "Regions"): in sessions of 4 no warm answer of the loaded
# nodes was measured, the spill saw a service time of 0, and
# distance alone decided (the near region every time: 2 CI runs of 4 on
# 2026-12-07).  A session of 8 measures its last 4.
my @far;
my @all;
my $deadline = Time::HiRes::time() + 120;
while (@far < 3 && Time::HiRes::time() < $deadline)
{
	my $batch = run_aggregates(8);
	push @all, @$batch;
	push @far, grep { $_->[1] eq 'standby3' } @$batch;
}
my %where;
$where{ $_->[1] }++ for @all;
diag(sprintf('%d aggregates under load: %s', scalar @all,
	join(', ', map { "$_ $where{$_}" } sort keys %where)));
cmp_ok(scalar @far, '>=', 3, 'with the local and near regions loaded, long aggregates go far')
  or show_state($start);
my $reason = @far ? $far[-1][3] : '';
diag("a far aggregate's reason: $reason");
like($reason,
	qr/^spill-over: eu-west at load [01]\.\d\d > 0\.30; standby3 expected in [\d.]+ ms \(round trip [\d.]+\); service [\d.]+ ms outweighs the distance: nearer standby2 expected in [\d.]+ ms/,
	'the decision log says why: the service time outweighs the distance');
if ($reason =~ /standby3 expected in ([\d.]+) ms \(round trip ([\d.]+)\); service ([\d.]+) ms .* nearer standby2 expected in ([\d.]+) ms/)
{
	my ($far_ms, $rt_ms, $service_ms, $near_ms) = ($1, $2, $3, $4);
	cmp_ok($far_ms, '<=', $near_ms, 'far is expected no later than near');
	cmp_ok($service_ms, '>', $rt_ms, 'the service time is longer than the round trip');
}
else
{
	fail('the reason has the numbers');
}

# 3. point lookups under the same load: spilled to the near region, not far
my ($all, $n, undef, $from) = ForesightCluster::region_lookups(\%regions, 3);
cmp_ok($all, '>', 100, 'lookups were decided');
my $spilled = $n->{standby2} + $n->{standby3};
cmp_ok($spilled, '>', 0, 'lookups spill out of the loaded local region') or show_state($from);
cmp_ok($n->{standby3}, '<=', 0.05 * $all, 'but hardly any go far')
  or show_state($from);
cmp_ok($n->{standby2}, '>=', 0.9 * $spilled, 'they go to the near region') or show_state($from);
my $point_reason = $primary->safe_psql('postgres', qq{
	SELECT reason FROM foresight.routing_decisions
	WHERE decision_id > $from AND request_class = 'point' AND reason LIKE 'spill-over:%'
	ORDER BY decision_id DESC LIMIT 1});
diag("a spilled lookup's reason: $point_reason");
like($point_reason, qr/^spill-over: eu-west at load [01]\.\d\d > 0\.30; standby2 expected in [\d.]+ ms \(round trip [\d.]+\); service [\d.]+ ms/,
	'a lookup goes to the nearest region, with its service time');
unlike($point_reason, qr/outweighs/, '... which does not outweigh the distance');

$_->kill_kill for @load;
$_->safe_psql('postgres', q{
	SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM big%'})
  for ($standby1, $standby2);
$_->kill_kill for @{ $regions{relays} };
done_testing();
