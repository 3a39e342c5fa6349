# t/053_split_capacity.pl: a split read cut into more pieces than nodes,
# a free node taking the next piece (its own first, else one stolen), on a
# coordinator with two standbys of which one is made slow: its reads sleep
# (a function of the query sleeps on that standby's port only).  The slow
# standby must take far fewer pieces than the fast one, every answer must
# equal the answer run here, and the pieces per node must show in EXPLAIN
# ANALYZE, the decision log and foresight.split_nodes.
#
# The margin: a piece sleeps about 0.3 s on the slow standby and runs in a
# few milliseconds on the fast one, so the fast one takes most of the 16
# pieces of each read; the test asks for at least three times as many.
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

use lib 't/lib';
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => "foresight.decision_log_size = 5000\nautovacuum = off\n");
my $slow_port = $standby2->port;
$primary->safe_psql('postgres', qq{
CREATE TABLE pieces (id integer PRIMARY KEY, v integer NOT NULL, g integer NOT NULL);
INSERT INTO pieces SELECT i, i % 97, i % 5 FROM generate_series(1, 40000) i;
ANALYZE pieces;
-- on the server listening on "port" only, sleeps "seconds" every "every"
-- rows: a slow node (5 ms every 40 rows), a node that naps (0.1 s every
-- 1000) or one that stops answering (an hour)
CREATE FUNCTION sleep_on(port integer, x integer, every integer, seconds float8)
RETURNS boolean IMMUTABLE LANGUAGE plpgsql AS \$\$
BEGIN
	IF x % every = 0 AND current_setting('port')::integer = port THEN
		PERFORM pg_sleep(seconds);
	END IF;
	RETURN true;
END \$\$;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);

my $count_q = "SELECT count(*), sum(v) FROM pieces WHERE sleep_on($slow_port, id, 40, 0.005)";
my $group_q = "SELECT g, count(*), sum(v), min(id), max(id) FROM pieces WHERE sleep_on($slow_port, id, 40, 0.005) GROUP BY g ORDER BY g";
my $rows_q = "SELECT id, v FROM pieces WHERE sleep_on($slow_port, id, 40, 0.005) AND id % 997 = 0";

# 16 pieces: with a piece's overhead a 200th of the read's cost, the
# pieces' overhead plus half a piece's wait at the end is least at
# 2 * sqrt(50) = 14 pieces for 2 nodes, and of the powers of two at 16
my $cost = $primary->safe_psql('postgres',
	"SET foresight.split = on; SET foresight.split_min_cost = 0; SELECT cost FROM foresight.split_explain(\$q\$$count_q\$q\$, 2)");
ok($cost > 0, "the read's plan cost: $cost");
my $piece_cost = $cost / 200;
# (split_max_wait: a standby a little behind still takes pieces)
my $split_on = "SET foresight.split = on; SET foresight.split_min_cost = 0; "
  . "SET foresight.include_local = off; SET foresight.split_piece_cost = $piece_cost; "
  . "SET foresight.split_max_wait = '5s';";
my $local = "SET foresight.routing_policy = local;";

sub last_split
{
	return $primary->safe_psql('postgres',
		"SELECT reason FROM foresight.routing_decisions WHERE reason LIKE 'split:%' ORDER BY decision_id DESC LIMIT 1");
}

sub node_pieces
{
	my %p = map { split /\|/ } split /\n/, $primary->safe_psql('postgres',
		"SELECT node_name, pieces FROM foresight.split_nodes");
	return %p;
}

sub sorted_rows { return join("\n", sort split /\n/, $_[0]); }

my %expected = (
	count => $primary->safe_psql('postgres', "$local $count_q"),
	group => $primary->safe_psql('postgres', "$local $group_q"),
	rows => sorted_rows($primary->safe_psql('postgres', "$local $rows_q")));

# the plan: 16 pieces; EXPLAIN names each piece's first node
my $explain = $primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) $count_q");
like($explain, qr/Custom Scan \(Foresight Split\).*Parts: 16/s, 'EXPLAIN: 16 pieces for 2 standbys');
like($explain, qr/Part 16: standby\d: /, 'EXPLAIN: each piece has a first node');

# a warm-up read (connections to the standbys), then the standbys caught up
# with whatever the coordinator wrote since (a standby behind the read's
# floor for longer than foresight.split_max_wait takes no piece)
is($primary->safe_psql('postgres', "$split_on $count_q"), $expected{count}, 'warm-up: the answer run here');
ForesightCluster::catch_up($primary, $standby1, $standby2);
my %before = node_pieces();
my $runs = 5;
for my $run (1 .. $runs)
{
	is($primary->safe_psql('postgres', "$split_on $count_q"), $expected{count},
		"count, run $run: the answer run here");
	like(last_split(), qr/^split: 16 parts of public\.pieces by id; (2 of 2 nodes by (predicted capacity|measured pace): \d+ vs \d+ whole on standby\d|all on standby\d: split \d+ vs \d+ whole, not 10% less); ran on parts by node: standby\d \d+p/,
		"count, run $run: split 16 ways, why over those nodes, the pieces per node in the decision log");
}
my %after = node_pieces();
my $fast = ($after{standby1} // 0) - ($before{standby1} // 0);
my $slow = ($after{standby2} // 0) - ($before{standby2} // 0);
diag("pieces over $runs reads of 16: fast standby1 $fast, slow standby2 $slow");
is($fast + $slow, 16 * $runs, 'every piece ran once, on a standby');
cmp_ok($slow * 3, '<=', $fast, 'the slow standby took at most a third as many pieces as the fast one');

# the other shapes, and the coordinator taking pieces as a candidate
is($primary->safe_psql('postgres', "$split_on $group_q"), $expected{group}, 'GROUP BY: the answer run here');
is(sorted_rows($primary->safe_psql('postgres', "$split_on $rows_q")), $expected{rows}, 'rows: the answer run here');
like(last_split(), qr/^split: \d+ parts of public\.pieces/, 'rows: split');
is($primary->safe_psql('postgres', "$split_on SET foresight.include_local = on; $count_q"), $expected{count},
	'with the coordinator a candidate: the answer run here');
is($primary->safe_psql('postgres', "$split_on SET foresight.include_local = on; $group_q"), $expected{group},
	'GROUP BY with the coordinator a candidate: the answer run here');

# EXPLAIN ANALYZE: the pieces each node took, their rows and time
my $analyze = $primary->safe_psql('postgres', "$split_on EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $count_q");
like($analyze, qr/Pieces By Node: standby\d: \d+ pieces \(\d+ stolen\) rows=\d+ time=[\d.]+ ms/,
	'EXPLAIN ANALYZE: pieces, rows and time per node');
like($analyze, qr/Part 1: standby\d: .*\(rows=\d+ time=[\d.]+ ms/, 'EXPLAIN ANALYZE: rows and time per piece');

# the view: cumulative per node
like($primary->safe_psql('postgres',
		"SELECT string_agg(node_name || ' ' || (splits > 0) || ' ' || (rows > 0) || ' ' || (total_ms > 0), ',' ORDER BY node_name) FROM foresight.split_nodes WHERE node_name LIKE 'standby%'"),
	qr/^standby1 true true true,standby2 true true true$/, 'foresight.split_nodes: splits, rows and time per node');

# cache locality: with the loads out of the shares (a policy that does not
# predict them), the same pieces have the same first nodes from query to
# query, and each standby owns some
my @owners = map {
	join(',', $primary->safe_psql('postgres',
		"$split_on SET foresight.routing_policy = round_robin; EXPLAIN (COSTS OFF) $count_q") =~ /Part \d+: (\w+):/g)
} 1 .. 2;
is($owners[0], $owners[1], 'the same pieces go first to the same nodes from query to query');
like($owners[0], qr/standby1.*standby2|standby2.*standby1/, 'both standbys own pieces');

# one piece per node when foresight.split_piece_cost is 0 (part 1)
like($primary->safe_psql('postgres', "$split_on SET foresight.split_piece_cost = 0; EXPLAIN (COSTS OFF) $count_q"),
	qr/Parts: 2\b/, 'foresight.split_piece_cost = 0: one piece per node');

# --- whether to split: the gain model, and the cheap read not split ---
# At foresight.split_min_cost = the read's cost, the break-even of a split
# over two idle nodes is the read itself: with the pieces' overhead on top,
# no split pays, and the fastest node runs every piece.
my $at_break_even = "$split_on SET foresight.split_min_cost = $cost;";
is($primary->safe_psql('postgres', "$at_break_even $count_q"), $expected{count},
	'at the break-even: the answer run here');
like(last_split(), qr/; all on (standby\d): split \d+ vs \d+ whole, not 10% less; ran on parts by node: \1 16p 0s/,
	'at the break-even: the decision log says no split pays, and one node ran every piece');
like($primary->safe_psql('postgres', "$at_break_even EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $count_q"),
	qr/Nodes Chosen: all on standby\d: split \d+ vs \d+ whole, not 10% less/, 'EXPLAIN ANALYZE: the nodes chosen and why');
# below foresight.split_min_cost the read is not split, and the log says why
my $cheap = $primary->safe_psql('postgres', qq{
	SET foresight.split = on; SET foresight.split_min_cost = @{[ $cost + 1 ]}; SET foresight.include_local = off;
	$count_q;
	SELECT reason FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 1});
like($cheap, qr/not split: its cost \d+ is below foresight\.split_min_cost \(\d+\)/,
	'a cheap read: not split, the reason in the decision log');

# --- a piece counts in flight on its node while it runs ---
# (round_robin: the nodes' measured paces and loads out of the shares)
my $port1 = $standby1->port;
my $blind = "$split_on SET foresight.routing_policy = round_robin; SET foresight.split_assignment = equal;";
my $nap_q = "SELECT count(*), sum(v) FROM pieces WHERE sleep_on($port1, id, 1000, 0.1)";
my ($bg_out, $bg_err) = ('', '');
my $bg = IPC::Run::start(
	[ 'psql', '-X', '-At', '-d', $primary->connstr('postgres'), '-c', $blind, '-c', $nap_q ],
	'>', \$bg_out, '2>', \$bg_err);
my $seen = 0;
for (my $until = time + 60; time < $until && !$seen;)
{
	$seen = $primary->safe_psql('postgres',
		"SELECT in_flight > 0 FROM foresight.routing_stats WHERE node_name = 'standby1'") eq 't';
	$bg->pump_nb;
	last unless $bg->pumpable;
	usleep(50_000);
}
$bg->finish;
ok($seen, "a split's piece counts in flight on its node, for other reads' routing")
  or diag("the split: $bg_out $bg_err; ", last_split());
like($bg_out, qr/^\d+\|\d+$/m, 'the split read ended');
is($primary->safe_psql('postgres', "SELECT in_flight FROM foresight.routing_stats WHERE node_name = 'standby1'"),
	'0', 'and its count was given back');

# --- a node that stops answering: its piece runs again elsewhere ---
# (standby1's pieces sleep an hour; past the response deadline the piece
# is given up, the node cancelled and left out, standby2 runs the rest)
my $hang_q = "SELECT count(*), sum(v) FROM pieces WHERE sleep_on($port1, id, 1000, 3600)";
my $hang_expected = $primary->safe_psql('postgres', "$local $hang_q");
my $t0 = time;
my $hang_plan = $primary->safe_psql('postgres',
	"$blind SET foresight.response_deadline = '1s'; EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) $hang_q");
my $took = time - $t0;
like($hang_plan, qr/Node standby1: no more parts: stopped answering/, 'a node that stops answering takes no more pieces');
like($hang_plan, qr/Part \d+: standby2: .*run again/, 'its piece ran again on the other node');
cmp_ok($took, '<', 120, "the split did not wait for the node ($took s)");
is($primary->safe_psql('postgres', "$blind SET foresight.response_deadline = '1s'; $hang_q"),
	$hang_expected, 'and the answer is the answer run here');

done_testing();
