# The load a request class sees is judged against the fastest node in use,
# not only against the node's own history: a standby on which one query
# shape is slow from the very start (so its own baseline is slow too) gets a
# class prediction well above its node-level prediction and above the
# other standby's, and the predictive policy sends it a small share of that
# class; when the slowness goes, the class prediction falls back and the
# share returns (a node avoided for a slow class is tried again).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => $ForesightCluster::FAST_MODELS . qq{
foresight.routing_policy = predictive
foresight.include_local = off
# this mechanism alone: hedging (t/043) would answer the slow lookups elsewhere
foresight.hedge_factor = 0
# the slow node is to be avoided softly here, not quarantined (t/062)
foresight.anomaly_detection = off
});

# lookup() sleeps 40 ms on standby1 only: standby1 serves this query shape
# slowly, standby2 does not
ForesightCluster::create_slow_lookup($primary, 0.04, $standby1, $standby2);
ForesightCluster::set_slow_port($primary, $standby1->port, $standby1, $standby2);

# standby1's share of n lookups in one session
sub standby1_share { return ForesightCluster::lookup_share_of_standby1($primary, @_); }

my $class = $primary->safe_psql('postgres', 'SELECT request_class FROM foresight.route_explain($$SELECT lookup(1)$$)');
like($class, qr/^(point|small)$/, "the shape has a request class ($class)");

sub prediction
{
	my ($node, $cls) = @_;
	return $primary->safe_psql('postgres',
		"SELECT coalesce(predicted_load, -1) FROM foresight.predictions WHERE node_name = '$node' AND request_class = '$cls'");
}

# Traffic until both standbys' class models are trained on it, spread
# evenly (round_robin): under the predictive policy standby1, once avoided,
# answers too few lookups to keep its slowness in evidence: the
# predictions below then took 6 to 67 s to be apart (CI runs of
# 2026-12-05), and 7 to 12 s with the traffic spread.
# The three predictions are read together each round (they move with every
# sample) and judged as read.
my $ok = 0;
my ($p1, $p1_all, $p2);
my $deadline = time + 90;
while (time < $deadline)
{
	$primary->safe_psql('postgres', "SET foresight.routing_policy = round_robin;\n"
		  . join('', map { "SELECT lookup($_);\n" } 1 .. 40));
	$ok = $primary->safe_psql('postgres', qq{
		SELECT count(*) = 2 AND bool_and(fitted AND samples >= 30) FROM foresight.predictions
		WHERE request_class = '$class' AND node_name LIKE 'standby%'}) eq 't';
	($p1, $p1_all, $p2) = split /\|/, $primary->safe_psql('postgres', qq{
		SELECT concat_ws('|',
			coalesce((SELECT predicted_load FROM foresight.predictions WHERE node_name = 'standby1' AND request_class = '$class'), -1),
			coalesce((SELECT predicted_load FROM foresight.predictions WHERE node_name = 'standby1' AND request_class = 'all'), -1),
			coalesce((SELECT predicted_load FROM foresight.predictions WHERE node_name = 'standby2' AND request_class = '$class'), -1))});
	last if $ok && $p1 > $p1_all + 0.2 && $p1 > $p2 + 0.2;
}
ok($ok, 'both standbys have trained class predictions');
diag("class $class: standby1 $p1 (node-level $p1_all), standby2 $p2");
cmp_ok($p1, '>', $p1_all + 0.2, 'standby1 slow for the class: its class prediction is above its node-level one');
cmp_ok($p1, '>', $p2 + 0.2, 'and above the class prediction of standby2');

my $share = standby1_share(200);
diag(sprintf('standby1 share while slow: %.2f', $share));
cmp_ok($share, '<', 0.2, 'standby1 gets less than 20% of the slow class');

# the slowness goes: the class prediction falls back, the share returns
ForesightCluster::set_slow_port($primary, 0, $standby1, $standby2);
my $back = 0;
$deadline = time + 90;
while (time < $deadline)
{
	$primary->safe_psql('postgres', join('', map { "SELECT lookup($_);\n" } 1 .. 40));
	$back = prediction('standby1', $class) < prediction('standby2', $class) + 0.1;
	last if $back;
}
ok($back, 'without the slowness the class prediction of standby1 comes back to that of standby2');
# the share comes back as the predictions settle (sampled for up to 30 s:
# each sample is a new session, whose first query on each node connects
# and so is slow)
my $start_back = time;
do
{
	$share = standby1_share(200);
	usleep(500_000) if $share <= 0.2;
} while ($share <= 0.2 && time - $start_back < 30);
diag(sprintf('standby1 share afterwards: %.2f after %.1f s', $share, time - $start_back));
cmp_ok($share, '>', 0.2, 'standby1 gets its share of the class back');

done_testing();
