# The predictive policy end to end: a CPU-heavy load on one standby gets it
# a clearly smaller share of the routed queries, and the share comes back
# when the load stops; admission control queues and then fails with 53000;
# set_weights and peak_hours change the scores as documented; the decision
# log has every field.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep time);
use IPC::Run;
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => $ForesightCluster::FAST_MODELS . qq{
foresight.routing_policy = predictive
foresight.include_local = off
compute_query_id = on
});

$primary->safe_psql('postgres', q{
CREATE TABLE kv (k int PRIMARY KEY, v text);
INSERT INTO kv SELECT g, md5(g::text) FROM generate_series(1, 10000) g;
CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 200000) g;
ANALYZE;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);
# a standby not yet seen past the latest catalog change is ordered last
ok(ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2),
	'the monitor has seen both standbys replay the tables');

ok($primary->poll_query_until('postgres',
	"SELECT count(*) = 2 AND bool_and(fitted) FROM foresight.predictions WHERE request_class = 'all' AND node_name LIKE 'standby%'"),
	'both standbys have trained predictions');

# Route n point queries through the coordinator, in rounds sessions
# (default 1) a quarter of a second apart; returns each standby's share and
# how many were routed to a standby.
sub shares
{
	my ($n, $rounds) = @_;
	my ($n1, $n2) = (0, 0);
	for my $round (1 .. ($rounds // 1))
	{
		usleep(250_000) if $round > 1;
		my $routed = ForesightCluster::routed_counts($primary,
			join('', map { "SELECT v FROM kv WHERE k = " . (1 + $_ % 10000) . ";\n" } 1 .. $n));
		$n1 += $routed->{standby1} // 0;
		$n2 += $routed->{standby2} // 0;
	}
	my $total = $n1 + $n2;
	return ($n1 / ($total || 1), $n2 / ($total || 1), $total);
}

# "idle" once the bulk load above has been replayed and forgotten: both
# standbys predicted alike (replaying it shows as load for a while).  Idle
# loads still differ by a few hundredths from one sample to the next (a
# checkpoint, the monitor's own polls), and a node that answered a few
# reads slowly counts as slower for half a second (routing.md): within
# one burst the reads may favour either standby, so the share is taken
# over eight bursts two seconds long in all, as it is over time.
ok($primary->poll_query_until('postgres', q{
	SELECT max(predicted_load) - min(predicted_load) < 0.1
	FROM foresight.predictions WHERE request_class = 'all' AND node_name LIKE 'standby%'}),
	'both standbys predicted alike when idle');
my $idle_from = $primary->safe_psql('postgres', 'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
my ($s1, $s2, $total) = shares(50, 8);
is($total, 400, 'every query was routed to a standby');
# two idle standbys are near-tied: a read that went to the one with the
# lower score says so (prediction.md, "Near-ties")
my $near_ties = $primary->safe_psql('postgres', qq{
	SELECT count(*) FROM foresight.routing_decisions
	WHERE decision_id > $idle_from AND reason ~ '; near-tie within [0-9.]+: fewer in flight\$'});
diag("idle: $near_ties of 400 reads went to a near-tie");
cmp_ok($near_ties, '>', 0, 'idle: reads that went to a near-tie say so');
diag(sprintf('idle: standby1 %.2f, standby2 %.2f', $s1, $s2));
cmp_ok($s1, '>', 0.2, 'idle: standby1 gets a fair share')
  or diag($primary->safe_psql('postgres', q{
	SELECT chosen_node || ': ' || reason || ' ' || candidates::text
	FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 3}), "\n",
	$primary->safe_psql('postgres', q{
	SELECT node_name || ' ' || status || '/' || quarantine FROM foresight.nodes}), "\n",
	$primary->safe_psql('postgres', q{SELECT r::text FROM foresight.routing_stats r}));

# A CPU-heavy load run directly on a standby, for up to 5 minutes.  On
# standby1 it runs within half a core (ForesightCluster::confine_to_half_core):
# three CPU-bound backends free to take both of this host's cores would
# slow standby2's answers too and raise the host's CPU pressure, which
# every server here reads as its own load, so that both standbys could
# look loaded (one run in six saw them near-tied, 0.78 and 0.76, and
# the reads split evenly).
my $heavy = PostgreSQL::Test::Utils::tempdir() . '/heavy.sql';
PostgreSQL::Test::Utils::append_to_file($heavy,
	"SELECT count(*) FROM big a JOIN big b ON a.id % 500 = b.id % 500 WHERE a.id < 30000 AND b.id < 30000;\n");
sub start_load
{
	my ($standby) = @_;
	return IPC::Run::start(
		[ 'pgbench', '-n', '-c', '3', '-j', '1', '-T', '300', '-f', $heavy, '-d', $standby->connstr('postgres') ],
		'>', '/dev/null', '2>', '/dev/null');
}
my $group = ForesightCluster::confine_to_half_core($standby1);
my @load = (start_load($standby1));
my $standby1_busier = q{
	SELECT (SELECT predicted_load FROM foresight.predictions WHERE node_name = 'standby1' AND request_class = 'all')
	     > (SELECT predicted_load FROM foresight.predictions WHERE node_name = 'standby2' AND request_class = 'all') + 0.2};
ok($primary->poll_query_until('postgres', $standby1_busier), 'standby1 is predicted busier');
# The policy takes forecasts that differ by less than their recent errors
# for a near-tie (prediction.md); right after the step those errors are
# the step itself.  The reads are counted once the forecasts have had two
# seconds (twice the horizon) to learn it, and still say so.
usleep(2_000_000);
ok($primary->poll_query_until('postgres', $standby1_busier), 'standby1 is still predicted busier two seconds on');
($s1, $s2, $total) = shares(200);
diag(sprintf('standby1 loaded: standby1 %.2f, standby2 %.2f', $s1, $s2));
cmp_ok($s1, '<', 0.2, 'loaded standby1 gets less than 20% of the queries')
  or diag($primary->safe_psql('postgres', q{
	SELECT node_name || ' ' || request_class || ' ' || horizon || ' ' || round(predicted_load::numeric, 3)
	       || ' ' || samples || ' ' || forecasts::text || ' ' || weights::text
	FROM foresight.predictions WHERE node_name LIKE 'standby%' AND request_class IN ('all', 'point') ORDER BY 1}), "\n",
	$primary->safe_psql('postgres', q{
	SELECT chosen_node || ': ' || reason || ' ' || candidates::text
	FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 3}));

# every field of the decision log, and the score is the documented formula
my $row = $primary->safe_psql('postgres', q{
	SELECT decision_id > 0, decided_at IS NOT NULL, pid > 0, query_id IS NOT NULL,
	       request_class, request_shape, cost > 0, candidate_count, jsonb_array_length(candidates),
	       chosen_node LIKE 'standby%', policy, reason <> '', queue_wait_ms >= 0,
	       latency_ms > 0, failed
	FROM foresight.routing_decisions WHERE policy = 'predictive' ORDER BY decision_id DESC LIMIT 1});
is($row, 't|t|t|t|point|point lookup|t|2|2|t|predictive|t|t|t|f', 'the decision log has every field');
# statements that cannot be routed are logged too, with why and their latency;
# reading the log itself is not logged
$primary->safe_psql('postgres', 'UPDATE kv SET v = v WHERE k = 2');
$primary->safe_psql('postgres', 'SELECT v FROM kv WHERE k = 2 FOR UPDATE');
is($primary->safe_psql('postgres', q{
	SELECT string_agg(chosen_node || ' / ' || reason || ' / ' || (latency_ms >= 0) || ' / ' || candidate_count, E'\n'
	                  ORDER BY decision_id)
	FROM (SELECT * FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 2) d}),
	"local / ineligible: not a SELECT / true / 0\nlocal / ineligible: has FOR UPDATE/SHARE / true / 0",
	'the decision log shows unroutable statements with the reason and their latency');
is($primary->safe_psql('postgres', q{
	SELECT count(*) FROM foresight.routing_decisions WHERE reason LIKE '%pg_foresight function%'}),
	'0', 'reading the decision log does not fill it');

is($primary->safe_psql('postgres', q{
	SELECT bool_and(abs((c->>'score')::float8
	                    - foresight.score((c->>'connection_score')::float8, (c->>'predicted_load')::float8,
	                                      w.connection, w.load)) < 1e-3)
	FROM (SELECT candidates FROM foresight.routing_decisions WHERE policy = 'predictive'
	      ORDER BY decision_id DESC LIMIT 20) d,
	     jsonb_array_elements(d.candidates) c, foresight.current_weights() w}),
	't', 'logged scores follow w_conn * connection_score + w_load * (1 - predicted_load)');

# weights: with (1, 0) the choice follows the connection score alone, with
# (0, 1) the predicted load alone (an overloaded node stays excluded
# whatever the weights: lift the threshold for this part)
$primary->safe_psql('postgres', 'ALTER SYSTEM SET foresight.overload_threshold = 1.0');
$primary->reload;
ok($primary->poll_query_until('postgres', "SELECT setting = '1' FROM pg_settings WHERE name = 'foresight.overload_threshold'"),
	'threshold lifted');
for my $w ([ 1, 0, 'connection_score', 'max', 'connection score' ], [ 0, 1, 'predicted_load', 'min', 'predicted load' ])
{
	my ($wc, $wl, $field, $best, $what) = @$w;
	$primary->safe_psql('postgres', "SELECT foresight.set_weights($wc, $wl)");
	my $from = $primary->safe_psql('postgres', 'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
	shares(50);
	# the best, or a near-tie of it within the band its reason gives: 0.05,
	# or the forecasts' recent errors combined (with a load weight only;
	# those errors can be wide for seconds after standby1's step), the
	# band printed to two decimals
	# (chosen_node is the node that answered: for a read hedged after its
	# node was slow, the policy's choice is the node the reason says gave
	# no answer in time; hedging is on, as by default, and a stall of the
	# loaded machine can set it off)
	my $judged = qq{
		SELECT d.*, chosen.v >= all_c.best - band.b - 0.005 AND '$best' = 'max'
		            OR chosen.v <= all_c.best + band.b + 0.005 AND '$best' = 'min' AS good,
		       band.b > 0.05 AS wide, picked.hedged
		FROM foresight.routing_decisions d,
		     LATERAL (SELECT coalesce((regexp_match(d.reason, '; ran on \\S+ \\(hedged: no answer from (\\S+) within'))[1],
		                              d.chosen_node) AS node,
		                     d.reason ~ '; ran on \\S+ \\(hedged: ' AS hedged) picked,
		     LATERAL (SELECT (c->>'$field')::float8 AS v FROM jsonb_array_elements(d.candidates) c
		              WHERE c->>'node' = picked.node) chosen,
		     LATERAL (SELECT $best((c->>'$field')::float8) AS best FROM jsonb_array_elements(d.candidates) c) all_c,
		     LATERAL (SELECT coalesce((regexp_match(d.reason, '; near-tie within ([0-9.]+):'))[1]::float8, 0.05) AS b) band
		WHERE d.decision_id > $from AND d.policy = 'predictive'};
	# (a choice not yet seen past what the read needs goes after a node that
	# is, and the reason says so: the policy did not choose that node)
	my ($good, $wide, $moved, $hedged) = split /\|/, $primary->safe_psql('postgres', qq{
		SELECT count(*) FILTER (WHERE good OR moved) || '/' || count(*), count(*) FILTER (WHERE wide),
		       count(*) FILTER (WHERE moved), count(*) FILTER (WHERE hedged)
		FROM (SELECT *, reason ~ '; \\S+ first: \\S+ is not yet seen past ' AS moved FROM ($judged) j0) j});
	diag("set_weights($wc, $wl): $wide of 50 went to a near-tie wider than 0.05") if $wide;
	diag("set_weights($wc, $wl): $moved of 50 went first to a node known to have replayed what they need") if $moved;
	diag("set_weights($wc, $wl): $hedged of 50 were hedged (judged by the node chosen first)") if $hedged;
	is($good, '50/50', "set_weights($wc, $wl): every choice has the best $what, or one within the near-tie band its reason gives")
	  or diag($primary->safe_psql('postgres', qq{
		SELECT chosen_node || ': ' || reason || ' ' || candidates::text || ' latency ' || latency_ms || ' failed ' || failed
		FROM ($judged) j WHERE NOT good}));
}
$primary->safe_psql('postgres', 'SELECT foresight.set_weights(0.3, 0.7)');
$primary->safe_psql('postgres', 'ALTER SYSTEM RESET foresight.overload_threshold');
$primary->reload;

# peak hours: all week long, so the peak weights (0.1, 0.9) apply
$primary->safe_psql('postgres', "ALTER SYSTEM SET foresight.peak_hours = 'Mon-Sun 00:00-24:00'");
$primary->reload;
ok($primary->poll_query_until('postgres', 'SELECT peak FROM foresight.current_weights()'),
	'peak hours switch to the peak weights');
is($primary->safe_psql('postgres', q{SELECT connection || ',' || load FROM foresight.current_weights()}),
	'0.1,0.9', 'peak weights are 0.1 / 0.9');
$primary->safe_psql('postgres', "ALTER SYSTEM RESET foresight.peak_hours");
$primary->reload;

# admission: with both standbys loaded and a low threshold, queries queue then time out
push @load, start_load($standby2);
$primary->safe_psql('postgres', q{
	ALTER SYSTEM SET foresight.overload_threshold = 0.05;
	ALTER SYSTEM SET foresight.queue_timeout = '700ms';
});
$primary->reload;
ok($primary->poll_query_until('postgres',
	"SELECT bool_and(predicted_load > 0.05) FROM foresight.predictions WHERE request_class = 'all' AND node_name LIKE 'standby%'"),
	'both standbys predicted above the threshold');
my ($ret, $stdout, $stderr);
my $start = time;
($ret, $stdout, $stderr) = $primary->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT v FROM kv WHERE k = 1");
my $waited = time - $start;
like($stderr, qr/53000: timed out after 700 ms waiting for a node with spare capacity/,
	'the query waits in the queue, then fails with 53000');
like($stderr, qr/HINT:  Retry the query later/, 'with a hint to retry');
cmp_ok($waited, '>=', 0.7, sprintf('it waited the queue timeout (%.2f s)', $waited));
is($primary->safe_psql('postgres', q{
	SELECT queue_wait_ms >= 700 AND failed AND chosen_node = 'none'
	FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 1}),
	't', 'the decision log shows the refused query and its queue wait');

$primary->safe_psql('postgres', "ALTER SYSTEM SET foresight.overload_action = 'error'");
$primary->reload;
usleep(300_000);
($ret, $stdout, $stderr) = $primary->psql('postgres', "\\set VERBOSITY verbose\nSELECT v FROM kv WHERE k = 1");
like($stderr, qr/53000: all candidate nodes are predicted to be overloaded/, "overload_action 'error' fails at once");

$primary->safe_psql('postgres', "ALTER SYSTEM SET foresight.overload_action = 'local'");
$primary->reload;
usleep(300_000);
is($primary->safe_psql('postgres', 'SELECT v FROM kv WHERE k = 1'), md5_of(1), "overload_action 'local' answers");
is($primary->safe_psql('postgres', q{
	SELECT chosen_node || ': ' || reason FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 1}),
	'local: every candidate is predicted above foresight.overload_threshold: runs locally',
	"overload_action 'local' runs on the coordinator");

# load gone: the share of standby1 comes back
$_->kill_kill for @load;
$primary->safe_psql('postgres', q{
	ALTER SYSTEM RESET foresight.overload_threshold;
	ALTER SYSTEM RESET foresight.overload_action;
	ALTER SYSTEM RESET foresight.queue_timeout;
});
$primary->reload;
ok($primary->poll_query_until('postgres', q{
	SELECT abs((SELECT predicted_load FROM foresight.predictions WHERE node_name = 'standby1' AND request_class = 'all')
	         - (SELECT predicted_load FROM foresight.predictions WHERE node_name = 'standby2' AND request_class = 'all')) < 0.1}),
	'predictions of the two standbys converge after the load stops');
# the share comes back as the predictions settle (sampled for up to 30 s)
my $start_back = time;
do
{
	($s1, $s2) = shares(100);
	usleep(500_000) if $s1 <= 0.2;
} while ($s1 <= 0.2 && time - $start_back < 30);
diag(sprintf('load stopped: standby1 %.2f, standby2 %.2f after %.1f s', $s1, $s2, time - $start_back));
cmp_ok($s1, '>', 0.2, 'standby1 gets its share back');

# foresight.max_replication_lag: a standby whose replay is paused while the
# primary writes falls behind and leaves the candidates
$standby2->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
for my $i (1 .. 15)
{
	$primary->safe_psql('postgres', "INSERT INTO kv VALUES (20000 + $i, 'w')");
	usleep(100_000);
}
ok($primary->poll_query_until('postgres', q{
	SELECT replay_lag_ms > 1000 FROM foresight.node_metrics WHERE node_name = 'standby2'}),
	'the paused standby shows a replication lag');
like($primary->safe_psql('postgres', q{
	SET foresight.max_replication_lag = '500ms';
	SELECT excluded FROM foresight.route_explain('SELECT v FROM kv WHERE k = 2')}),
	qr/standby2: replication lag \d+ ms over foresight.max_replication_lag/,
	'max_replication_lag excludes it');
is($primary->safe_psql('postgres', q{
	SET foresight.max_replication_lag = '500ms';
	SELECT node FROM foresight.route_explain('SELECT v FROM kv WHERE k = 2')}),
	'standby1', 'the query goes to the other standby');
$standby2->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
ok($primary->poll_query_until('postgres', q{
	SELECT replay_lag_ms = 0 FROM foresight.node_metrics WHERE node_name = 'standby2'}),
	'caught up: no lag while nothing waits to be replayed');

sub md5_of
{
	my ($k) = @_;
	return $primary->safe_psql('postgres', "SELECT md5('$k')");
}

$standby1->stop;
ForesightCluster::release_group($group);
done_testing();
