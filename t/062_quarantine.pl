# A degraded node is quarantined and readmitted with a slow start:
# standby1 answers a query shape 50 ms late (pg_sleep in its path) under a
# read load through the coordinator; the monitor scores it against the
# fleet, quarantines it within a few samples (no new routes, the reason in
# foresight.nodes, an event in foresight.anomalies), and once it is well
# again readmits it with a slow start that ends in its full share.  An
# administrator quarantines and releases a node by hand.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(gettimeofday tv_interval);
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	anomaly => 1,
	conf => "foresight.sample_interval = 200ms\nforesight.anomaly_samples = 3\n"
	  . "foresight.anomaly_clear_samples = 25\nforesight.readmit_ramp = 2s\n");
ForesightCluster::create_slow_lookup($primary, 0.05, $standby1, $standby2);
my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";
my $state = "SELECT quarantine FROM foresight.nodes WHERE node_name = 'standby1'";
ok($primary->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM foresight.node_health WHERE status = 'up' AND node_name LIKE 'standby%'"), 'both standbys are up');

my $load = $primary->background_psql('postgres');
$load->query_safe($route);
my $batch = join('', map { "SELECT lookup($_);\n" } 1 .. 10);
my ($wrong, $queries) = (0, 0);

# run read batches until $cond holds (or $limit_s passed); true if it held
sub load_until
{
	my ($cond, $limit_s) = @_;
	my $started = [gettimeofday];
	while (tv_interval($started) < $limit_s)
	{
		my $out = $load->query_safe($batch);
		$queries += 10;
		$wrong += grep { !/^[0-9a-f]{32}$/ } split /\n/, $out;
		return 1 if $primary->safe_psql('postgres', $cond) eq 't';
	}
	return 0;
}

is($primary->safe_psql('postgres', $state), 'normal', 'standby1 starts normal');
ok(load_until("SELECT count(*) > 0 FROM foresight.routing_stats WHERE node_name = 'standby1' AND routed > 0", 30),
	'standby1 takes routed reads');

# degraded: 50 ms late
ForesightCluster::set_slow_port($primary, $standby1->port, $standby1, $standby2);
my $started = [gettimeofday];
ok(load_until("SELECT ($state) = 'quarantined'", 60), 'the degraded standby1 is quarantined');
my $to_quarantine = tv_interval($started);
diag("standby1 quarantined $to_quarantine s after it became slow");
like($primary->safe_psql('postgres', "SELECT quarantine_reason FROM foresight.nodes WHERE node_name = 'standby1'"),
	qr/latency vs fleet: class \w+ answers in [\d.]+ ms \([\d.]+ ms round trip\), the fleet in [\d.]+ ms \(score 0\.\d+\)/,
	'foresight.nodes says why');
like($primary->safe_psql('postgres', "SELECT excluded FROM foresight.route_explain('SELECT lookup(1)')"),
	qr/standby1: quarantined: latency vs fleet/, 'route_explain shows it excluded');
my $routed = ForesightCluster::routed_counts($primary, "$route $batch");
ok(!$routed->{standby1}, 'a quarantined node gets no new routed query');
like($primary->safe_psql('postgres', "SELECT node_name, metric, action FROM foresight.anomalies"),
	qr/^standby1\|latency vs fleet\|quarantined$/m, 'foresight.anomalies has the event');
ok($primary->log_contains(qr/foresight monitor: node "standby1" quarantined: latency vs fleet/),
	'the server log has it');

# well again: readmitted with a slow start, then its full share
ForesightCluster::set_slow_port($primary, 0, $standby1, $standby2);
ok(load_until("SELECT ($state) = 'slow start'", 60), 'standby1 is readmitted with a slow start');
ok(load_until("SELECT ($state) = 'normal'", 60), '... which ends in its full share');
$routed = ForesightCluster::routed_counts($primary, "$route $batch $batch");
cmp_ok($routed->{standby1} // 0, '>=', 5, 'standby1 takes its share of reads again');
my $events = $primary->safe_psql('postgres',
	"SELECT action, end_time IS NOT NULL FROM foresight.anomalies WHERE node_name = 'standby1' ORDER BY start_time");
diag("standby1's events:\n$events");
like($events, qr/^quarantined\|t\n(?:.*\n)*readmitted, slow start\|t$/m,
	'the events: quarantine, then a slow start, both ended');
is($wrong, 0, "every one of $queries reads under load was right");

# by hand
$primary->safe_psql('postgres', "SELECT foresight.quarantine_node('standby2', 'maintenance')");
is($primary->safe_psql('postgres', "SELECT quarantine, quarantine_reason FROM foresight.nodes WHERE node_name = 'standby2'"),
	'quarantined|by hand: maintenance', 'an administrator quarantines a node');
$routed = ForesightCluster::routed_counts($primary, "$route $batch");
ok(!$routed->{standby2}, 'it gets no routed query');
$primary->safe_psql('postgres', "SELECT foresight.release_node('standby2')");
is($primary->safe_psql('postgres', "SELECT quarantine FROM foresight.nodes WHERE node_name = 'standby2'"),
	'slow start', 'released: a slow start');
# every node out: an administrator's quarantines hold (the reads run on
# the coordinator), the monitor's do not: both standbys released into a
# slow start of ten minutes (a share near 0 each) still take every read,
# since running them here would load the server include_local keeps out
$primary->safe_psql('postgres', "ALTER SYSTEM SET foresight.readmit_ramp = '10min'; SELECT pg_reload_conf()");
$primary->safe_psql('postgres', "SELECT foresight.quarantine_node('standby$_', 'maintenance')") for 1 .. 2;
$routed = ForesightCluster::routed_counts($primary, "$route $batch");
ok(!$routed->{standby1} && !$routed->{standby2}, 'both quarantined by hand: no routed query');
is($routed->{local} // 0, 10, '... the reads ran on the coordinator');
$primary->safe_psql('postgres', "SELECT foresight.release_node('standby$_')") for 1 .. 2;
my $since = $primary->safe_psql('postgres', 'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
$routed = ForesightCluster::routed_counts($primary, "$route $batch");
is(($routed->{standby1} // 0) + ($routed->{standby2} // 0), 10,
	'both slowly readmitted, none a candidate by its share: every read goes to them all the same');
like($primary->safe_psql('postgres', "SELECT string_agg(reason, E'\\n') FROM foresight.routing_decisions WHERE decision_id > $since"),
	qr/every node quarantined or slowly readmitted: routed among them/, 'the decision log says why');
$primary->safe_psql('postgres', "ALTER SYSTEM RESET foresight.readmit_ramp; SELECT pg_reload_conf()");

my ($ret, $stdout, $stderr) = $primary->psql('postgres', q{
	CREATE ROLE nobody_special LOGIN; SET ROLE nobody_special; SELECT foresight.quarantine_node('standby2')});
like($stderr, qr/permission denied for function quarantine_node/, 'not for everyone');
$load->quit;

done_testing();
