# The CPU limit of a node's control group: a standby moved into a cgroup
# v1 cpu group with a quota of half a core reports that limit in its
# protobuf snapshot, the coordinator shows it in foresight.node_metrics
# (cpu_limit), and a CPU-bound load on the standby shows as throttling
# (cpu_throttled) that stops with the load, while short bursts (a few
# periods' quota a few times a second, as the trainer's slices are) count
# as the share of the interval's periods they throttle, not of the few
# periods the group ran in.  The coordinator, outside the group, reports no
# limit.
#
# Needs a cgroup v1 cpu group this user may write: scripts/test.sh makes
# one as root and passes its name in CGROUP_NAME.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use IPC::Run;
use ForesightCluster;

my $base = '/sys/fs/cgroup/cpu/' . ($ENV{CGROUP_NAME} // '');
plan skip_all => "no writable cgroup v1 cpu group (CGROUP_NAME=" . ($ENV{CGROUP_NAME} // '') . ')'
  unless $ENV{CGROUP_NAME} && -d $base && -w $base;

my $group = "$base/t011_$$";
mkdir $group or die "mkdir $group: $!";
sub write_file { my ($f, $v) = @_; open(my $fh, '>', $f) or die "$f: $!"; print $fh "$v\n"; close($fh) or die "$f: $!"; }
write_file("$group/cpu.cfs_period_us", 10000);
write_file("$group/cpu.cfs_quota_us", 5000);

my ($primary, $standby1) = ForesightCluster::create(standbys => 1);

sub wait_for
{
	my ($query, $limit) = @_;
	my $start = time;
	while (time - $start < $limit)
	{
		return 1 if $primary->safe_psql('postgres', $query) eq 't';
		usleep(200_000);
	}
	return 0;
}

# the standby's postmaster and every process it has: later children follow
ForesightCluster::move_to_group($group, $standby1);

ok(wait_for("SELECT cpu_limit = 0.5 FROM foresight.node_metrics WHERE node_name = 'standby1'", 10),
	'standby1 reports a CPU limit of 0.5 core');
is($standby1->safe_psql('postgres',
	"SELECT (j->>'cpu_limit_cores')::float8 = 0.5 AND (j->>'cpu_periods')::numeric >= (j->>'cpu_throttled_periods')::numeric
	 FROM foresight.node_snapshot_json() j"),
	't', 'its protobuf snapshot carries the limit and the period counters');
is($standby1->safe_psql('postgres',
	"SELECT (j->>'cpu_period_us')::int FROM foresight.node_snapshot_json() j"),
	'10000', 'and the enforcement period, 10 ms');
is($primary->safe_psql('postgres',
	"SELECT cpu_limit IS NULL FROM foresight.node_metrics WHERE node_name = 'local'"),
	't', 'the coordinator, outside the group, reports no limit');

# two CPU-bound queries on the standby: more than the half core it may use
# (generate_series in the select list, a row at a time: in FROM it would
# first store its rows in a temporary file)
my @burners = map {
	IPC::Run::start([ 'psql', '-XAtq', '-d', $standby1->connstr('postgres'),
		'-c', 'SELECT count(*) FROM (SELECT generate_series(1, 2000000000)) s' ], '>', \my $out, '2>', \my $err)
} 1 .. 2;
ok(wait_for("SELECT cpu_throttled > 0.5 FROM foresight.node_metrics WHERE node_name = 'standby1'", 15),
	'under a CPU-bound load standby1 is throttled in more than half of its periods');
my $cpu = $primary->safe_psql('postgres',
	"SELECT instance_cpu * cpu_count FROM foresight.node_metrics WHERE node_name = 'standby1'");
diag("standby1 uses $cpu cores");
ok($cpu <= 0.5 * 1.25, "and uses no more than its limit ($cpu cores)");

$standby1->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM (SELECT generate_series%' AND pid <> pg_backend_pid()");
$_->finish for @burners;
ok(wait_for("SELECT cpu_throttled < 0.2 FROM foresight.node_metrics WHERE node_name = 'standby1'", 15),
	'the throttling stops with the load');

# Bursts: about 20 ms of CPU every half second, each over the 5 ms quota of
# several periods.  The kernel's nr_periods counts only the periods the
# group ran in, most of them throttled; over the interval's periods, the
# share is small.
my $bursts = IPC::Run::start([ 'psql', '-XAtq', '-d', $standby1->connstr('postgres'),
	'-c', 'DO $$BEGIN FOR i IN 1 .. 30 LOOP PERFORM count(*) FROM generate_series(1, 700000); PERFORM pg_sleep(0.5); END LOOP; END$$' ],
	'>', \my $bout, '2>', \my $berr);
sleep(3);
my $snap_sql = "SELECT (j->>'cpu_periods') || ' ' || (j->>'cpu_throttled_periods') FROM foresight.node_snapshot_json() j";
my ($p0, $t0) = split / /, $standby1->safe_psql('postgres', $snap_sql);
my ($max, $seen) = (0, 0);
for (1 .. 12)
{
	my $v = $primary->safe_psql('postgres',
		"SELECT coalesce(cpu_throttled, -1) FROM foresight.node_metrics WHERE node_name = 'standby1'");
	$max = $v if $v > $max;
	$seen++ if $v > 0;
	usleep(500_000);
}
my ($p1, $t1) = split / /, $standby1->safe_psql('postgres', $snap_sql);
my $active_share = $p1 > $p0 ? ($t1 - $t0) / ($p1 - $p0) : 0;
diag(sprintf("bursts: throttled in %.2f of the periods the group ran in (%d of %d), "
	  . "at most %.2f of the interval's periods (%d samples above 0)",
	  $active_share, $t1 - $t0, $p1 - $p0, $max, $seen));
# (how long a burst runs depends on the machine: 0.28 at most on
# 2026-12-07 morning, 0.45 in a CI run at noon, against the kernel's 0.75
# and 0.77; what must hold is that the share is the interval's, below the
# share of the periods the group ran in)
ok($max < $active_share - 0.1,
	"short bursts read as the share of the interval's periods they throttle (at most $max, below the kernel's $active_share)");
$standby1->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'DO %' AND pid <> pg_backend_pid()");
$bursts->finish;

$standby1->stop;
$primary->stop;
rmdir $group or diag("could not remove $group: $!");
done_testing();
