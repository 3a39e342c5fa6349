# The monitor with a primary and two streaming standbys: metrics of every
# node, a pgbench load seen on the right node, a stopped standby marked
# down and back up, history kept across a restart, a corrupt history file
# and bad snapshots from a node handled without harm.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use IPC::Run;
use IO::Socket::INET;
use ForesightCluster;

my $interval = 1.0;     # foresight.sample_interval (default)
my $down_after = 2;     # foresight.down_after (default)
# what a check costs itself: starting psql, a query, and the poll step
my $slack = 0.6;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	no_register => 1,
	conf => "foresight.poll_timeout = 800ms\n");

# Poll a boolean query every 100 ms until it is true or $limit seconds
# passed; returns the elapsed seconds, or undef on timeout.
sub wait_for
{
	my ($node, $query, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		my $r = $node->safe_psql('postgres', $query);
		return time - $start if $r eq 't';
		usleep(100_000);
	}
	return undef;
}

sub metric
{
	my ($node_name, $expr) = @_;
	return $primary->safe_psql('postgres',
		"SELECT $expr FROM foresight.node_metrics WHERE node_name = '$node_name'");
}

# ---- metrics for all nodes within two intervals of registration
my $t0 = time;
ForesightCluster::register($primary, 'standby1', $standby1);
ForesightCluster::register($primary, 'standby2', $standby2);
my $elapsed = wait_for($primary,
	"SELECT count(*) = 3 FROM foresight.node_metrics WHERE sampled_at IS NOT NULL", 10);
ok(defined $elapsed, 'metrics appear for local, standby1 and standby2');
$elapsed = time - $t0 if defined $elapsed;
diag(sprintf('metrics of all nodes after %.2f s', $elapsed // -1));
ok(defined $elapsed && $elapsed <= 2 * $interval + $slack,
	sprintf('within two intervals (%.2f s)', $elapsed // -1));

is($primary->safe_psql('postgres',
	"SELECT string_agg(node_name || ':' || source, ',' ORDER BY node_id) FROM foresight.node_metrics"),
	'local:local,standby1:extension,standby2:extension',
	'the coordinator is sampled in-process, the standbys with node_snapshot()');

# after a second sample there are rates and a load signal
ok(defined wait_for($primary,
	"SELECT bool_and(cpu_util IS NOT NULL AND instance_cpu IS NOT NULL AND commits_per_s IS NOT NULL
	                 AND load BETWEEN 0 AND 1 AND load_cpu IS NOT NULL AND load_queue IS NOT NULL)
	   FROM foresight.node_metrics", 5), 'rates and load signal for every node');
is($primary->safe_psql('postgres',
	"SELECT string_agg(node_name || ':' || in_recovery || ':' || (wal_lsn IS NOT NULL)
	                   || ':' || (max_connections = 50) || ':' || (mem_total_kb > mem_available_kb),
	                   ',' ORDER BY node_id) FROM foresight.node_metrics"),
	'local:false:true:true:true,standby1:true:true:true:true,standby2:true:true:true:true',
	'recovery state, WAL position, settings and memory of each node');
is($primary->safe_psql('postgres',
	"SELECT string_agg(node_name || ':' || status, ',' ORDER BY node_id) FROM foresight.nodes"),
	'local:up,standby1:up,standby2:up', 'foresight.nodes shows every node up');
is($primary->safe_psql('postgres',
	"SELECT count(*) FROM foresight.node_health WHERE replay_lsn IS NOT NULL AND last_success IS NOT NULL"),
	'3', 'node health has replay positions');

# ---- a pgbench load on standby1 shows on standby1 only
$primary->command_ok([ 'pgbench', '-i', '-s', '2', '-q', '-p', $primary->port, '-h', $primary->host, 'postgres' ],
	'pgbench tables on the primary');
ForesightCluster::catch_up($primary, $standby1);
ForesightCluster::catch_up($primary, $standby2);
sleep 2;    # let the initialisation's own load leave the newest samples

my ($out, $err) = ('', '');
my $load_start = time;
my $pgbench = IPC::Run::start(
	[ 'pgbench', '-S', '-c', '4', '-j', '2', '-T', '8', '-n',
	  '-h', $standby1->host, '-p', $standby1->port, 'postgres' ],
	'>', \$out, '2>', \$err);
my $seen = wait_for($primary, q{
	SELECT s1.instance_cpu > s2.instance_cpu + 0.05
	   AND s1.backends >= 4 AND s1.load > s2.load
	  FROM foresight.node_metrics s1, foresight.node_metrics s2
	 WHERE s1.node_name = 'standby1' AND s2.node_name = 'standby2'
	   AND s1.sampled_at > now() - interval '1 s' - } . "interval '" . (time - $load_start) . " s'", 6);
$seen = time - $load_start if defined $seen;
diag(sprintf('load seen on standby1 after %.2f s', $seen // -1));
ok(defined $seen && $seen <= 3.0 + 0.3, sprintf('load on standby1 is seen within 3 s (%.2f s)', $seen // -1));
diag('standby1: ' . metric('standby1', "instance_cpu || ' cpu, ' || backends_active || ' active now, ' || backends_active_avg || ' on average, load ' || load"));
diag('standby2: ' . metric('standby2', "instance_cpu || ' cpu, ' || backends_active || ' active now, ' || backends_active_avg || ' on average, load ' || load"));
# over the load so far: standby1 higher on CPU, active backends and load
sleep 3;
my $cmp = $primary->safe_psql('postgres', q{
	WITH a AS (SELECT max(instance_cpu) cpu, max(backends_active_avg) act, avg(load) load
	             FROM foresight.metrics_history('standby1', '4 s')),
	     b AS (SELECT max(instance_cpu) cpu, max(backends_active_avg) act, avg(load) load
	             FROM foresight.metrics_history('standby2', '4 s'))
	SELECT a.cpu || ' ' || b.cpu || ' ' || a.act || ' ' || b.act || ' ' || a.load || ' ' || b.load FROM a, b});
diag("standby1 vs standby2 over 4 s (cpu, active, load): $cmp");
my ($c1, $c2, $a1, $a2, $l1, $l2) = split / /, $cmp;
ok($c1 > $c2 + 0.05, 'standby1 uses more CPU than standby2');
ok($a1 > $a2 + 0.3, 'standby1 has more active backends (average over each interval)');
ok($l1 > $l2 + 0.05, 'standby1 has the higher load signal');
$pgbench->finish;
like($out, qr/number of transactions actually processed/, 'pgbench ran on standby1');

# ---- a stopped standby is marked down within down_after intervals, then up again
my $before_incidents = () = slurp_file($primary->logfile) =~ /node "standby2": /g;
my $stop_at = time;
$standby2->stop('immediate');
my $down = wait_for($primary,
	"SELECT status = 'down' FROM foresight.node_health WHERE node_name = 'standby2'",
	$down_after * $interval + 5);
$down = time - $stop_at if defined $down;
diag(sprintf('standby2 down after %.2f s', $down // -1));
ok(defined $down && $down <= $down_after * $interval + $slack,
	sprintf('standby2 marked down within down_after intervals (%.2f s)', $down // -1));
like($primary->safe_psql('postgres', "SELECT last_error FROM foresight.nodes WHERE node_name = 'standby2'"),
	qr/.+/, 'foresight.nodes shows its last error');
is($primary->safe_psql('postgres', "SELECT status FROM foresight.nodes WHERE node_name = 'standby1'"),
	'up', 'standby1 stays up');
ok($primary->safe_psql('postgres',
	"SELECT age < interval '2 s' FROM foresight.node_metrics WHERE node_name = 'standby1'") eq 't',
	'standby1 is still sampled on time');
$standby2->start;
ok(defined wait_for($primary,
	"SELECT status = 'up' FROM foresight.node_health WHERE node_name = 'standby2'", 10),
	'standby2 comes back up by itself');
my $log = slurp_file($primary->logfile);
ok($log =~ /node "standby2" is down after \d+ missed samples/, 'down is logged');
ok($log =~ /node "standby2" is up again/, 'up again is logged');
my $incidents = () = $log =~ /node "standby2": /g;
is($incidents - $before_incidents, 1, 'the failures of one incident are logged once');

# ---- a node that accepts connections but never answers delays nobody
my $blackhole = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
  or die "listen: $!";
$primary->safe_psql('postgres',
	"SELECT foresight.add_node('blackhole', 'host=127.0.0.1 port=" . $blackhole->sockport . "')");
ok(defined wait_for($primary,
	"SELECT status = 'down' AND last_error LIKE 'no answer within 800 ms%' FROM foresight.node_health WHERE node_name = 'blackhole'",
	$down_after * $interval + 5), 'a silent node misses its samples and goes down');
is($primary->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE interval_s > 1.5) || '/' || count(*)
	  FROM foresight.metrics_history('standby1', '4 s') WHERE interval_s IS NOT NULL}) =~ m{^0/[3-9]$} ? 1 : 0,
	1, 'meanwhile standby1 is sampled every interval');
$primary->safe_psql('postgres', "SELECT foresight.remove_node('blackhole')");
$blackhole->close;

# ---- a node without the extension gives its PostgreSQL part through plain SQL
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
ForesightCluster::register($primary, 'plain', $plain);
ok(defined wait_for($primary, q{
	SELECT source = 'sql' AND cpu_util IS NULL AND mem_total_kb IS NULL
	   AND backends IS NOT NULL AND max_connections IS NOT NULL AND NOT in_recovery
	   AND commits_per_s IS NOT NULL AND load_queue IS NOT NULL AND load IS NOT NULL
	  FROM foresight.node_metrics WHERE node_name = 'plain'}, 6),
	'a plain server: PostgreSQL part only, OS part absent');
$primary->safe_psql('postgres', "SELECT foresight.remove_node('plain')");
$plain->stop;

# ---- the history survives a restart
my $count_before = $primary->safe_psql('postgres',
	"SELECT count(*) FROM foresight.metrics_history('standby1')");
my $oldest_before = $primary->safe_psql('postgres',
	"SELECT min(sampled_at) FROM foresight.metrics_history('standby1')");
$primary->restart;
ok($primary->log_contains(qr/saved the history of 3 nodes/), 'history saved at shutdown');
my $restored = 0;
for (1 .. 50)
{
	last if $restored = $primary->log_contains(qr/restored \d+ samples of 3 nodes/);
	usleep(100_000);
}
ok($restored, 'history restored at start');
is($primary->safe_psql('postgres',
	"SELECT min(sampled_at) = '$oldest_before' AND count(*) >= $count_before
	   FROM foresight.metrics_history('standby1')"), 't', 'the same samples are back');
ok(!-e $primary->data_dir . '/pg_foresight/history.pb', 'the file is removed once loaded');

# a corrupt file is reported and ignored
$primary->stop;
my $file = $primary->data_dir . '/pg_foresight/history.pb';
my $content = slurp_file($file);
open(my $fh, '>', $file) or die;
binmode $fh;
print $fh substr($content, 0, int(length($content) / 2));    # truncated
close $fh;
$primary->start;
ok(defined wait_for($primary,
	"SELECT count(*) = 3 FROM foresight.node_metrics WHERE age < interval '3 s'", 10),
	'after a truncated history file the monitor samples as usual');
ok($primary->log_contains(qr/ignoring history file "pg_foresight\/history.pb": corrupt, truncated/),
	'the truncated file is logged');

# ---- a node that sends garbage: plain SQL instead, logged once, nothing stalls
# (the primary registered as a node answers, but is known for what it is:
# its status, once up, says so; t/012_node_identity.pl)
ForesightCluster::register($primary, 'selfnode', $primary, alias => 1);
ok(defined wait_for($primary,
	"SELECT status = 'this coordinator itself' FROM foresight.node_health WHERE node_name = 'selfnode'", 10),
	'the primary polled as a node');
$primary->safe_psql('postgres', q{
	ALTER EXTENSION pg_foresight DROP FUNCTION foresight.node_snapshot();
	ALTER FUNCTION foresight.node_snapshot() RENAME TO node_snapshot_real;
	CREATE FUNCTION foresight.node_snapshot() RETURNS bytea LANGUAGE sql
		AS $$SELECT '\x0801a90100000000000000c0'::bytea$$;
});
ok(defined wait_for($primary,
	"SELECT status = 'not in recovery (promoted?)' AND polls > 0 FROM foresight.node_health WHERE node_name = 'selfnode'",
	$down_after * $interval + 5),
	'a snapshot that cannot be read: the node is sampled by plain SQL (which cannot tell it is the coordinator), not marked down');
ok($primary->safe_psql('postgres',
	"SELECT age < interval '2 s' FROM foresight.node_metrics WHERE node_name = 'local'") eq 't',
	'the other nodes are sampled on time');
my $bad = () = slurp_file($primary->logfile) =~
  /node "selfnode": its snapshot cannot be read, using plain SQL\n.*DETAIL:  field load1 out of range/g;
is($bad, 1, 'logged once with the node name and why');
# a node whose snapshot could not be read is tried again every 10 samples:
# sampled every 250 ms from here on, within 2.5 s rather than 10
$primary->safe_psql('postgres', "ALTER SYSTEM SET foresight.sample_interval = '250ms'");
$primary->reload;
$primary->safe_psql('postgres', q{
	DROP FUNCTION foresight.node_snapshot();
	ALTER FUNCTION foresight.node_snapshot_real() RENAME TO node_snapshot;
	ALTER EXTENSION pg_foresight ADD FUNCTION foresight.node_snapshot();
});
ok(defined wait_for($primary,
	"SELECT status = 'this coordinator itself' FROM foresight.node_health WHERE node_name = 'selfnode'", 20),
	'and read again once it sends good ones (tried again every 10 samples)');

# ---- GUC check hooks
my ($ret, $stdout, $stderr) = $primary->psql('postgres', "ALTER SYSTEM SET foresight.down_after = 0");
like($stderr, qr/invalid value for parameter "foresight.down_after": 0/, 'down_after 0 is refused');
($ret, $stdout, $stderr) = $primary->psql('postgres', "ALTER SYSTEM SET foresight.poll_timeout = '5ms'");
like($stderr, qr/must be at least 10 ms/, 'poll_timeout below 10 ms is refused');
($ret, $stdout, $stderr) = $primary->psql('postgres', "ALTER SYSTEM SET foresight.history_size = 100000000");
like($stderr, qr/100000000 is outside the valid range|shared memory/, 'a huge history_size is refused');

ok(!$primary->log_contains(qr/TRAP|server process .* was terminated/), 'no crash');
$primary->stop;
done_testing();
