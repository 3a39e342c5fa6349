# t/054_split_distance.pl: a split read weighs distance.  Two standbys,
# standby1 near the coordinator and standby2 behind a delaying relay (15 ms
# each way, a 30 ms round trip a piece).  A split read of 16 small pieces,
# each a few milliseconds of work, is not worth a piece's round trip far
# away: after the first read has measured the nodes' paces (a piece's time
# includes its round trip), the far standby takes no piece, or few, and the
# decision log says the split was decided by the measured pace; the answer
# stays the one run here.
#
# parallel-safe: the relay's 30 ms a piece dominates a piece's work, whatever else runs
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	no_register => 1,
	conf => qq{
foresight.routing_policy = predictive
foresight.include_local = off
foresight.hedge_factor = 0
foresight.decision_log_size = 5000
autovacuum = off
});
my ($far, $far_relay) = ForesightCluster::start_relay($standby2, 15);
$primary->safe_psql('postgres', sprintf(q{
	CREATE TABLE pieces (id integer PRIMARY KEY, v integer NOT NULL);
	INSERT INTO pieces SELECT i, i %% 97 FROM generate_series(1, 40000) i;
	ANALYZE pieces;
	SELECT foresight.add_node('standby1', '%s');
	SELECT foresight.add_node('standby2', '%s');},
	ForesightCluster::node_conninfo($standby1), $far));
ForesightCluster::catch_up($primary, $standby1, $standby2);
ok($primary->poll_query_until('postgres', q{
	SELECT count(*) = 2 FROM foresight.nodes
	WHERE node_name LIKE 'standby%' AND status = 'up' AND round_trip_ms IS NOT NULL}),
	'both standbys are up with a measured round trip');
diag($primary->safe_psql('postgres',
	"SELECT string_agg(node_name || ' ' || round(round_trip_ms::numeric, 1) || ' ms', ', ') FROM foresight.nodes WHERE node_name LIKE 'standby%'"));

my $count_q = 'SELECT count(*), sum(v) FROM pieces';
my $cost = $primary->safe_psql('postgres',
	"SET foresight.split = on; SET foresight.split_min_cost = 0; SELECT cost FROM foresight.split_explain(\$q\$$count_q\$q\$, 2)");
# 16 pieces (as t/053: a piece's overhead a 200th of the read's cost)
my $split_on = "SET foresight.split = on; SET foresight.split_min_cost = 0; "
  . "SET foresight.split_piece_cost = @{[ $cost / 200 ]}; SET foresight.split_max_wait = '5s';";
my $expected = $primary->safe_psql('postgres', "SET foresight.routing_policy = local; $count_q");

sub node_pieces
{
	my %p = map { split /\|/ } split /\n/, $primary->safe_psql('postgres',
		"SELECT node_name, pieces FROM foresight.split_nodes");
	return %p;
}

sub last_split
{
	return $primary->safe_psql('postgres',
		"SELECT reason FROM foresight.routing_decisions WHERE reason LIKE 'split:%' ORDER BY decision_id DESC LIMIT 1");
}

# the first read measures the paces (both standbys run pieces of it)
is($primary->safe_psql('postgres', "$split_on $count_q"), $expected, 'first read: the answer run here');
diag('first read: ' . last_split());
my %before = node_pieces();
my $runs = 5;
my $paced = 0;
for my $run (1 .. $runs)
{
	is($primary->safe_psql('postgres', "$split_on $count_q"), $expected, "read $run: the answer run here");
	my $why = last_split();
	$paced++ if $why =~ /; (\d of \d nodes by measured pace|all on standby1: split)/;
	diag("read $run: $why");
}
my %after = node_pieces();
my $near = ($after{standby1} // 0) - ($before{standby1} // 0);
my $farp = ($after{standby2} // 0) - ($before{standby2} // 0);
diag("pieces over $runs reads of 16: near standby1 $near, far standby2 $farp");
is($near + $farp, 16 * $runs, 'every piece ran once, on a standby');
cmp_ok($farp * 4, '<=', $near, 'the far standby took at most a quarter as many pieces as the near one');
cmp_ok($paced, '>=', $runs - 1, 'the split was decided by the measured paces (decision log)');

$far_relay->kill_kill;
done_testing();
