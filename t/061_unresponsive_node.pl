# The monitor stays accurate when a node misbehaves:
# - a node that accepts connections and never answers does not slow the
#   sampling of the others (its rate compared with the rate before, on the
#   same machine, so a loaded machine does not matter);
# - a poll that misses its sample is cancelled, then closed: with a
#   snapshot function that sleeps on the node, the monitor's backends do
#   not pile up there;
# - a snapshot over the decoder's limit is not fetched: the node stays up,
#   sampled by plain SQL, and the monitor's memory stays small.
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
use strict;
use warnings;
use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ForesightCluster;

my ($primary, $standby) = ForesightCluster::create(
	standbys => 1,
	conf => "foresight.sample_interval = 500ms\nforesight.poll_timeout = 1s\nforesight.down_after = 2\n");
my $polls = "SELECT polls FROM foresight.node_health WHERE node_name = 'standby1'";
ok($primary->poll_query_until('postgres', "SELECT status = 'up' FROM foresight.node_health WHERE node_name = 'standby1'"),
	'standby1 is up');

# standby1's polls over $seconds
sub poll_rate
{
	my ($seconds) = @_;
	my $before = $primary->safe_psql('postgres', $polls);
	usleep($seconds * 1_000_000);
	return ($primary->safe_psql('postgres', $polls) - $before) / $seconds;
}

my $baseline = poll_rate(4);
my $silent = IO::Socket::INET->new(Listen => 128, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
  or die "listen: $!";
$primary->safe_psql('postgres', "SELECT foresight.add_node('silent', 'host=127.0.0.1 port=" . $silent->sockport . "')");
ok($primary->poll_query_until('postgres', "SELECT status = 'down' FROM foresight.node_health WHERE node_name = 'silent'"),
	'the silent node is marked down');
my $with_silent = poll_rate(4);
diag(sprintf('standby1 polls per second: %.2f alone, %.2f beside a silent node', $baseline, $with_silent));
cmp_ok($with_silent, '>=', 0.8 * $baseline, "a silent node does not slow standby1's sampling");
$primary->safe_psql('postgres', "SELECT foresight.remove_node('silent')");
$silent->close;

# a snapshot that sleeps: missed polls are cancelled on the node
my $monitor_backends = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'foresight monitor'";
$primary->safe_psql('postgres', q{
CREATE OR REPLACE FUNCTION foresight.node_snapshot() RETURNS bytea LANGUAGE sql VOLATILE
AS $$ SELECT pg_sleep(5); SELECT NULL::bytea $$;
});
ForesightCluster::catch_up($primary, $standby);
ok($primary->poll_query_until('postgres', "SELECT status = 'down' FROM foresight.node_health WHERE node_name = 'standby1'"),
	'a node whose snapshot never comes in time is marked down');
my $most = 0;
for (1 .. 12)
{
	my $n = $standby->safe_psql('postgres', $monitor_backends);
	$most = $n if $n > $most;
	usleep(500_000);
}
diag("most monitor backends on standby1 while its snapshot sleeps: $most");
cmp_ok($most, '<=', 3, 'missed polls are cancelled there, not left to pile up');

# a snapshot of 8 MB, 512 times the decoder's limit: not fetched, plain
# SQL instead, the node is up, and the monitor's peak memory grows by
# less than half the snapshot (a fetch would hold all of it at least
# once).  (60 MB took the node over the poll timeout to make, beside
# another test, seven polls in a row.)
sub monitor_peak_kb
{
	my $pid = $primary->safe_psql('postgres', 'SELECT pid FROM foresight.monitor');
	open my $fh, '<', "/proc/$pid/status" or die "monitor status: $!";
	my ($hwm) = map { /^VmHWM:\s+(\d+)/ ? $1 : () } <$fh>;
	close $fh;
	return $hwm;
}
my $peak_before = monitor_peak_kb();
my $log_offset = -s $primary->logfile;
$primary->safe_psql('postgres', q{
ALTER SYSTEM SET foresight.sample_interval = '4s';
ALTER SYSTEM SET foresight.poll_timeout = '3s';
SELECT pg_reload_conf();
CREATE OR REPLACE FUNCTION foresight.node_snapshot() RETURNS bytea LANGUAGE sql VOLATILE
AS $$ SELECT repeat('x', 8 * 1024 * 1024)::bytea $$;
});
ForesightCluster::catch_up($primary, $standby);
ok($primary->poll_query_until('postgres', "SELECT status = 'up' FROM foresight.node_health WHERE node_name = 'standby1'"),
	'a node whose snapshot is too large is up, sampled by plain SQL');
ok($primary->wait_for_log(qr/node "standby1": its snapshot cannot be read, using plain SQL\n.*DETAIL:  8388608 bytes, over the limit of 16384/,
		$log_offset),
	'the fallback is logged with the snapshot size');
my $peak_after = monitor_peak_kb();
diag("monitor peak RSS: $peak_before kB before, $peak_after kB after");
cmp_ok($peak_after - $peak_before, '<', 4 * 1024, 'the monitor never held the large snapshot');

done_testing();
