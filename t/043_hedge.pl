# Hedged point lookups (src/router/hedge.h): a point lookup that the
# predictive policy sent to a node that does not start answering within
# foresight.hedge_min_delay is sent to the next candidate too, and the first
# answer is used.  Here lookup() sleeps 2 s on standby1, and standby2's
# weight is so low that standby1 is the first choice whenever it is a
# candidate (it is not while a query left there by a hedge of the same
# session still runs).  Each lookup sent there first must come back from standby2
# long before standby1's 2 s, with the right value, and the decision log
# and EXPLAIN ANALYZE must say so.  The queries left behind on standby1 run
# to their end there without holding anything up.  With hedging off, or in
# a transaction block, a lookup on standby1 waits its 2 s.
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => qq{
foresight.routing_policy = predictive
foresight.include_local = off
foresight.hedge_min_delay = 100ms
# the slow node is to be avoided softly here, not quarantined (t/062)
foresight.anomaly_detection = off
});
my @standbys = ($standby1, $standby2);

ForesightCluster::create_slow_lookup($primary, 2, @standbys);
$primary->safe_psql('postgres', q{
	SELECT foresight.set_weights(1, 0);
	SELECT foresight.alter_node('standby2', weight => 0.01);
});
# fast first: the lookups' answer time is known, which sets the delay
$primary->safe_psql('postgres', join('', map { "SELECT lookup($_);\n" } 1 .. 20));
ForesightCluster::set_slow_port($primary, $standby1->port, @standbys);
# a node not yet seen past the latest catalog change (the set-up's) is
# checked before use, and a hedge never goes to such a node: wait for both
ok(ForesightCluster::wait_standbys_seen_current($primary, @standbys),
	'the monitor has seen both standbys replay the set-up');

my $expected = join("\n", map { $primary->safe_psql('postgres', "SELECT md5('$_')") } 1 .. 20);

# The decisions logged after $since (a decision_id) whose first choice was
# standby1: [chosen_node, reason, latency_ms] each.
sub first_choice_standby1
{
	my ($since) = @_;
	return [ map { [ split /\|/ ] } split /\n/, $primary->safe_psql('postgres', qq{
		SELECT chosen_node, reason, latency_ms FROM foresight.routing_decisions
		WHERE decision_id > $since AND candidates->0->>'node' = 'standby1'
		ORDER BY decision_id}) ];
}

sub last_decision_id
{
	return $primary->safe_psql('postgres',
		'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
}

# 20 lookups in one session, hedged
my $since = last_decision_id();
my $start = time;
my $got = $primary->safe_psql('postgres', join('', map { "SELECT lookup($_);\n" } 1 .. 20));
my $took = time - $start;
is($got, $expected, 'every hedged lookup returned its value');
my $hedged = first_choice_standby1($since);
diag(sprintf('%d of 20 lookups went to standby1 first; 20 took %.2f s', scalar @$hedged, $took));
cmp_ok(scalar @$hedged, '>=', 1, 'some lookups went to standby1 first');
is(scalar(grep { $_->[0] eq 'standby2' } @$hedged), scalar @$hedged,
	'each of them ran on standby2 in the end');
is(scalar(grep { $_->[1] =~ /ran on standby2 \(hedged: no answer from standby1 within 100 ms\)/ } @$hedged),
	scalar @$hedged, 'the decision log says they were hedged')
  or diag(join("\n", map { $_->[1] } @$hedged));
is(scalar(grep { $_->[2] < 1500 } @$hedged), scalar @$hedged,
	'and none waited for standby1\'s 2 s')
  or diag(join(', ', map { $_->[2] } @$hedged));

# the queries left on standby1 finish there; nothing piles up
my $left;
my $wait_start = time;
do
{
	usleep(200_000);
	$left = $standby1->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%lookup%' AND state = 'active' AND pid <> pg_backend_pid()});
} while ($left > 0 && time - $wait_start < 15);
is($left, 0, 'the lookups left behind on standby1 ran to their end');

# a session's node is a candidate again once the query left there has
# finished: its connection is read clear and reused
$since = last_decision_id();
$got = $primary->safe_psql('postgres', "SELECT lookup(1);\n\\! sleep 2.5\nSELECT lookup(2);");
is($got, $primary->safe_psql('postgres', "SELECT md5('1'), md5('2')") =~ s/\|/\n/gr,
	'lookups before and after the left-behind query finished returned their values');
$hedged = first_choice_standby1($since);
is(scalar(grep { $_->[1] =~ /\(hedged: / } @$hedged), 2,
	'standby1 was the first choice again after its left-behind query finished, and hedged again')
  or diag(join("\n", map { join(' | ', @$_) } @$hedged));

# EXPLAIN ANALYZE names the hedge (repeated until a lookup goes to standby1 first)
my $explain = '';
for (1 .. 30)
{
	$explain = $primary->safe_psql('postgres',
		'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT lookup(7)');
	last if $explain =~ /Hedge:/;
}
like($explain, qr/Hedge: sent to standby2 after 100 ms without an answer from standby1; standby2 answered first/,
	'EXPLAIN ANALYZE shows the hedge');

# Run $sql in new sessions (at most $tries) until some lookup goes to
# standby1 first; check that such lookups ran there and waited its 2 s.
sub waits_on_standby1
{
	my ($sql, $tries, $what) = @_;
	my $since = last_decision_id();
	my $first = [];
	for (1 .. $tries)
	{
		$primary->safe_psql('postgres', $sql);
		$first = first_choice_standby1($since);
		last if @$first;
	}
	ok(@$first >= 1, "$what: some lookups went to standby1 first");
	ok(!grep({ $_->[0] ne 'standby1' || $_->[2] < 1900 } @$first),
		"$what: they ran on standby1 and waited for it, not hedged")
	  or diag(join("\n", map { join(' | ', @$_) } @$first));
}

# hedging off: a lookup that goes to standby1 waits there
waits_on_standby1(join('', "SET foresight.hedge_factor = 0;\n", map { "SELECT lookup($_);\n" } 1 .. 2),
	5, 'hedging off');

# a transaction block reads on one node: no hedge there either
waits_on_standby1("BEGIN; SELECT lookup(3); COMMIT;", 10, 'in a transaction block');

done_testing();
