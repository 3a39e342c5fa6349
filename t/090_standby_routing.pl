# Every node can route (#18 item 3): a session connected to a standby
# that preloads pg_foresight (foresight.standby_routing on, in the
# postgresql.conf the standbys copy) has its eligible reads run there or, by the
# same policy, on another standby or on the primary (registered as a node
# of kind primary, a row that replicates).
# - the monitor runs on the standby and finds its own row is itself; the
#   primary's row is the node "local" on the primary;
# - a read-only session on a standby has its reads routed away when that
#   standby is loaded (by the scores; the cost rule keeps only reads that
#   cost it less here than routed), and back when it is not;
# - monotonic reads: with replay paused on another standby, a read that
#   this standby can answer with a row never goes to that standby;
# - a write on a standby fails with the usual error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => $ForesightCluster::FAST_MODELS . qq{
foresight.routing_policy = predictive
foresight.standby_routing = on
});
my %port_of = (
	primary => $primary->port,
	standby1 => $standby1->port,
	standby2 => $standby2->port);
my %name_of = reverse %port_of;

$primary->safe_psql('postgres',
	"SELECT foresight.add_node('primary', '" . ForesightCluster::node_conninfo($primary) . "', kind => 'primary')");
$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE TABLE t (id integer PRIMARY KEY);
INSERT INTO t SELECT generate_series(1, 10);
CREATE TABLE kv (k int PRIMARY KEY, v text);
INSERT INTO kv SELECT g, md5(g::text) FROM generate_series(1, 10000) g;
CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 200000) g;
ANALYZE;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);

# --- the registry and the monitor on a standby ---
is($primary->safe_psql('postgres', q{SELECT kind FROM foresight.nodes WHERE node_name = 'primary'}),
	'primary', 'the primary is registered as a node of kind primary');
like($primary->safe_psql('postgres',
		q{SELECT excluded FROM foresight.route_explain('SELECT count(*) FROM t')}),
	qr/primary: kind primary: this server, the node "local"/,
	'on the primary, its own row is the node "local", never a routing candidate');
ok($standby1->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'foresight monitor'}),
	'the monitor runs on the standby');
# the registry replicates; the standby's monitor publishes it (every second)
ok($standby1->poll_query_until('postgres', q{
	SELECT string_agg(node_name || ':' || coalesce(status, '?'), ' ' ORDER BY node_name)
	       = 'primary:up standby1:this standby itself standby2:up'
	FROM foresight.node_health WHERE node_name <> 'local'}),
	'on standby1: the primary and standby2 are up, its own row is itself')
  or diag($standby1->safe_psql('postgres',
		q{SELECT string_agg(node_name || ':' || coalesce(status, '?') || ' ' || coalesce(last_error, ''), ', ') FROM foresight.node_health}));

# --- a write on a standby fails as it does without pg_foresight ---
my ($ret, $stdout, $stderr) = $standby1->psql('postgres', 'INSERT INTO t VALUES (100)',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'a write on a standby fails');
like($stderr, qr/25006: cannot execute INSERT in a read-only transaction/, 'with the usual error');
($ret, $stdout, $stderr) = $standby1->psql('postgres', 'SELECT id FROM t WHERE id = 1 FOR UPDATE');
like($stderr, qr/cannot execute SELECT FOR UPDATE in a read-only transaction|during recovery/,
	'a locking read is not routed either: it fails here as usual');

# --- monotonic reads ---
# round robin over the other nodes, so that every read leaves standby1
my $rr = 'SET foresight.routing_policy = round_robin; SET foresight.include_local = off;';
sub ports_of_reads
{
	my ($node, $n, $settings) = @_;
	my $out = $node->safe_psql('postgres',
		($settings // $rr) . join('', map { "SELECT node_port() || ':' || count(*) FROM t;\n" } 1 .. $n));
	return split /\n/, $out;
}

# standby1's floor is what it has replayed when a read begins: its replay
# is paused too while standby2's is, or WAL the primary writes meanwhile
# (the checkpointer's running-transactions record) moves it past the
# paused standby2.  standby1's monitor must also have seen standby2 replay
# as far as standby1 has, or standby2 is checked before use and its reads
# ordered after the primary's.
$standby1->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
ok($standby1->poll_query_until('postgres', q{SELECT pg_get_wal_replay_pause_state() = 'paused'}),
	'replay is paused on standby1');
my $seen_lsn = $standby1->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()');
$standby2->poll_query_until('postgres', "SELECT pg_last_wal_replay_lsn() >= '$seen_lsn'")
  or diag("standby2 has not replayed $seen_lsn");
$standby1->poll_query_until('postgres',
	"SELECT replay_lsn >= '$seen_lsn' FROM foresight.node_health WHERE node_name = 'standby2'")
  or diag("standby1's monitor has not seen standby2 at $seen_lsn");
$standby2->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
ok($standby2->poll_query_until('postgres', q{SELECT pg_get_wal_replay_pause_state() = 'paused'}),
	'replay is paused on standby2');
my @before = ports_of_reads($standby1, 6);
my %seen = map { (split /:/)[0] => 1 } @before;
ok($seen{ $standby2->port } && $seen{ $primary->port },
	'nothing new yet: reads from standby1 go to standby2 and to the primary')
  or diag("reads: @before");
$standby1->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');

$primary->safe_psql('postgres', 'INSERT INTO t VALUES (11)');
ForesightCluster::catch_up($primary, $standby1);
is($standby1->safe_psql('postgres', 'SET foresight.routing_policy = local; SELECT count(*) FROM t'),
	'11', 'standby1 has replayed the new row');
my @after = ports_of_reads($standby1, 8);
is_deeply([ grep { $_ ne $primary->port . ':11' } @after ], [],
	'monotonic reads: every read sees the row, none goes to the paused standby2')
  or diag("reads: @after");

# with the primary drained, standby2 is the only other node: asked, it has
# not replayed the row, and the read runs on standby1 itself
$primary->safe_psql('postgres', "SELECT foresight.alter_node('primary', state => 'drained')");
ok($standby1->poll_query_until('postgres',
		q{SELECT state = 'drained' FROM foresight.nodes WHERE node_name = 'primary'}),
	"standby1's registry has the primary drained");
@after = ports_of_reads($standby1, 4);
is_deeply([ grep { $_ ne $standby1->port . ':11' } @after ], [],
	'primary drained: the reads run on standby1 itself, never on the paused standby2')
  or diag("reads: @after");
like($standby1->safe_psql('postgres', q{
	SELECT string_agg(chosen_node || ': ' || reason, E'\n' ORDER BY decision_id)
	FROM (SELECT * FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 4) d}),
	qr/replay position to be checked for monotonic reads/,
	'the decisions say why: monotonic reads');
like($standby1->safe_psql('postgres',
		"$rr SELECT reason FROM foresight.route_explain('SELECT count(*) FROM t')"),
	qr/monotonic reads/, 'route_explain says it too');
$primary->safe_psql('postgres', "SELECT foresight.alter_node('primary', state => 'enabled')");
ok($standby1->poll_query_until('postgres',
		q{SELECT state = 'enabled' FROM foresight.nodes WHERE node_name = 'primary'}),
	"standby1's registry has the primary enabled again");

$standby2->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
ForesightCluster::catch_up($primary, $standby2);
# once the monitor of standby1 sees standby2 current, it takes reads again
my $lsn = $standby1->safe_psql('postgres', 'SELECT pg_last_wal_replay_lsn()');
ok($standby1->poll_query_until('postgres',
		"SELECT replay_lsn >= '$lsn' FROM foresight.node_health WHERE node_name = 'standby2'"),
	"standby1's monitor sees standby2 caught up");
@after = ports_of_reads($standby1, 6);
%seen = map { $_ => 1 } @after;
ok($seen{ $standby2->port . ':11' } && !grep({ !/:11$/ } @after),
	'replay resumed: standby2 takes reads again, and they see the row')
  or diag("reads: @after");

# causal reads on a standby: a position it has not replayed itself
# (foresight.min_lsn) sends the reads to nodes that have it, even with the
# standby itself a candidate
$standby1->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
ok($standby1->poll_query_until('postgres', q{SELECT pg_get_wal_replay_pause_state() = 'paused'}),
	'replay is paused on standby1');
my $commit = $primary->safe_psql('postgres', 'INSERT INTO t VALUES (12); SELECT foresight.last_commit_lsn()');
$primary->wait_for_catchup($standby2, 'replay', $commit);
@after = ports_of_reads($standby1, 6,
	"SET foresight.routing_policy = round_robin; SET foresight.min_lsn = '$commit';");
my $here = $standby1->port;
ok(!grep({ !/:12$/ || /^$here:/ } @after),
	'foresight.min_lsn past what standby1 replayed: its reads see the write, elsewhere')
  or diag("reads: @after");
like($standby1->safe_psql('postgres',
		"SET foresight.min_lsn = '$commit'; SELECT excluded FROM foresight.route_explain('SELECT count(*) FROM t')"),
	qr/local: this standby has not replayed foresight.min_lsn/, 'route_explain says why it is left out');
$standby1->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
ForesightCluster::catch_up($primary, $standby1);

# --- load: reads leave a loaded standby, and come back ---
# n point reads in one session on standby1; the share each node served
# ($settings: SET commands run first in that session)
sub shares_from_standby1
{
	my ($n, $settings) = @_;
	my $from = $standby1->safe_psql('postgres',
		'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
	$standby1->safe_psql('postgres', ($settings // '')
		. join('', map { "SELECT v FROM kv WHERE k = " . (1 + $_ % 10000) . ";\n" } 1 .. $n));
	my %count = map { split /\|/ } split /\n/, $standby1->safe_psql('postgres', qq{
		SELECT chosen_node, count(*) FROM foresight.routing_decisions
		WHERE decision_id > $from AND request_class = 'point' AND policy = 'predictive'
		GROUP BY chosen_node});
	my $total = 0;
	$total += $_ for values %count;
	my %share = map { $_ => $count{$_} / ($total || 1) } keys %count;
	diag(sprintf("%d reads from standby1: %s", $total,
			join(', ', map { sprintf('%s %.2f', $_, $share{$_}) } sort keys %share)));
	return ($total, \%share, $from);
}

ok($standby1->poll_query_until('postgres', q{
	SELECT count(*) = 3 AND bool_and(fitted) FROM foresight.predictions
	WHERE request_class = 'all' AND node_name IN ('local', 'primary', 'standby2')}),
	"standby1's monitor has trained predictions of itself, the primary and standby2");

# a CPU-heavy load run on standby1 itself (not routed: policy local)
my $heavy = PostgreSQL::Test::Utils::tempdir() . '/heavy.sql';
PostgreSQL::Test::Utils::append_to_file($heavy,
	"SELECT count(*) FROM big a JOIN big b ON a.id % 500 = b.id % 500 WHERE a.id < 30000 AND b.id < 30000;\n");
my $load = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '3', '-j', '1', '-T', '300', '-f', $heavy, '-d', $standby1->connstr('postgres') ],
	'>', '/dev/null', '2>', '/dev/null',
	init => sub { $ENV{PGOPTIONS} = '-c foresight.routing_policy=local' });
ok($standby1->poll_query_until('postgres', q{
	SELECT (SELECT predicted_load FROM foresight.predictions WHERE node_name = 'local' AND request_class = 'all')
	     > (SELECT max(predicted_load) FROM foresight.predictions
	        WHERE node_name IN ('primary', 'standby2') AND request_class = 'all') + 0.2}),
	'standby1 is predicted busier than the other nodes');
# The predictive policy weighs each node's recent answer time of the class
# too, which follows the load with some delay: poll (90 s at most) until
# the reads leave, then until they come back.
sub poll_shares
{
	my ($what, $ok, $settings) = @_;
	my $deadline = time + 90;
	my ($total, $share);
	while (time < $deadline)
	{
		($total, $share) = shares_from_standby1(50, $settings);
		return 1 if $ok->($share->{local} // 0);
		sleep 1;
	}
	diag("$what: not within 90 s; predicted loads: " . $standby1->safe_psql('postgres', q{
		SELECT string_agg(node_name || ' ' || round(predicted_load::numeric, 2), ', ')
		FROM foresight.predictions WHERE request_class = 'all'}));
	return 0;
}
# The scores send the reads away from the loaded standby.  The cost rule
# (routing.md, "The coordinator's own cost") may keep cheap reads on it,
# as on a busy primary: routing a point read costs a node more CPU than
# running it, and this standby's CPU is the scarce one.  So the scores are
# checked with the rule off, and then the rule: a read it keeps here, it
# keeps because routing was measured the dearer.  (Until 2026-12-07 a
# backend's first statement was timed, on cold caches, and these sessions
# of 50 reads made running here look the dearer: the rule never applied.)
ok(poll_shares('loaded', sub { $_[0] < 0.2 }, 'SET foresight.coordinator_cost = off;'),
	'loaded: the scores route reads away from standby1 (it keeps less than 20%, the cost rule off)');
my (undef, $share, $rule_from) = shares_from_standby1(50);
my @kept_here = split /\n/, $standby1->safe_psql('postgres', qq{
	SELECT reason FROM foresight.routing_decisions
	WHERE decision_id > $rule_from AND request_class = 'point' AND policy = 'predictive'
	  AND chosen_node = 'local'});
# (the rule's reason: the two costs; or, while fewer than 8 reads were
# timed here, "point cost here measured n/8"; or, now and then when
# routing was measured the cheaper, "point re-measured here (68 > 55 us)":
# run here to be measured).
# The scores themselves may still choose here, as with the rule off: a
# near-tie within the forecasts' errors goes to the node with fewer reads
# in flight, which this standby can be.  Those are allowed as they were
# with the rule off (fewer than 20%); anything else kept here is not.
my (@by_scores, @by_neither);
for (@kept_here)
{
	next if /^coordinator cost: point CPU routed (\d+) us >= here (\d+) us, busier than \S+ \(/ && $1 >= $2;
	next if /^coordinator cost: busier than \S+ \(.*\), point cost here measured [0-7]\/8: here/;
	next if /^coordinator cost: busier than \S+ \(.*\), point re-measured here \((\d+) > (\d+) us\): here/ && $1 > $2;
	if (/^policy predictive: /) { push @by_scores, $_ } else { push @by_neither, $_ }
}
diag(scalar(@kept_here) . ' of 50 reads kept on the loaded standby1 with the cost rule on, '
	  . scalar(@by_scores) . ' of them by the scores');
diag(join("\n", @by_scores[0 .. ($#by_scores < 2 ? $#by_scores : 2)])) if @by_scores;
is(scalar @by_neither, 0,
	'loaded, the cost rule on: a read kept on standby1 is kept by the rule, routing measured the dearer (or the cost here measured now), or by the scores')
  or diag(join("\n", @by_neither[0 .. ($#by_neither < 4 ? $#by_neither : 4)]));
cmp_ok(scalar @by_scores, '<', 10,
	'loaded, the cost rule on: the scores keep fewer than 20% of the reads on standby1, as with the rule off');

$load->kill_kill;
ok($standby1->poll_query_until('postgres', q{
	SELECT (SELECT predicted_load FROM foresight.predictions WHERE node_name = 'local' AND request_class = 'all')
	     < (SELECT min(predicted_load) FROM foresight.predictions
	        WHERE node_name IN ('primary', 'standby2') AND request_class = 'all') + 0.1}),
	'the load gone, standby1 is predicted no busier than the others');
ok(poll_shares('idle', sub { $_[0] > 0.2 }),
	'idle again: reads come back to standby1 (more than 20%)');

# --- foresight.standby_routing off: the standby routes nothing ---
$standby1->safe_psql('postgres', 'ALTER SYSTEM SET foresight.standby_routing = off; SELECT pg_reload_conf()');
ok($standby1->poll_query_until('postgres', q{SELECT setting = 'off' FROM pg_settings WHERE name = 'foresight.standby_routing'}),
	'standby_routing turned off on standby1');
@after = ports_of_reads($standby1, 3);
is_deeply([ grep { $_ ne $standby1->port . ':12' } @after ], [],
	'off: reads run on standby1 itself')
  or diag("reads: @after");
like($standby1->safe_psql('postgres', q{
	SELECT reason FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 1}),
	qr/this server is in recovery and foresight.standby_routing is off/, 'the decision log says why');

done_testing();
