# The background worker "foresight trainer": it retrains the live models in
# a process of its own, on the primary and on a standby, at the server's
# nice value plus foresight.trainer_nice (lowering the setting restarts
# it), within foresight.trainer_cpu_limit of a core while it trains, and
# without holding up the monitor's samples.
#
# Not parallel-safe: it measures the trainer's share of a core.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use List::Util ();
use POSIX ();
use Time::HiRes ();
use ForesightCluster;

# samples every 100 ms into windows of 128, full within 13 s (so that a
# retraining costs the same from one to the next); one horizon; a pass may
# train every model
my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => qq{
foresight.sample_interval = 100ms
foresight.model_window = 128
foresight.prediction_horizons = 1s
foresight.retrain_budget = 10s
foresight.trainer_cpu_limit = 1
});

# field N (1-based, as proc(5) numbers them) of /proc/<pid>/stat
sub proc_stat
{
	my ($pid, $field) = @_;
	my $stat = slurp_file("/proc/$pid/stat");
	$stat =~ s/^.*\) //s;    # from field 3 on
	return (split ' ', $stat)[ $field - 3 ];
}
sub nice_of { return proc_stat($_[0], 19); }
sub cpu_seconds
{
	my ($pid) = @_;
	return (proc_stat($pid, 14) + proc_stat($pid, 15)) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}
sub trainer_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'foresight trainer'");
}
sub set_conf
{
	my ($line) = @_;
	$primary->append_conf('postgresql.conf', $line);
	$primary->reload;
}

sub standby1_polls
{
	return $primary->safe_psql('postgres',
		"SELECT polls FROM foresight.node_health WHERE node_name = 'standby1'");
}

# Ask the trainer to retrain every model; returns what the measure below
# starts from.
sub start_retrain
{
	my %start = (pid => trainer_pid($primary));
	$start{asked} = $primary->safe_psql('postgres', 'SELECT now()');
	$start{polls} = standby1_polls();
	$start{cpu} = cpu_seconds($start{pid});
	$start{t0} = Time::HiRes::time();
	$primary->safe_psql('postgres', 'SELECT foresight.retrain()');
	return \%start;
}

# (trainer CPU s, wall s, polls of standby1) since start_retrain()
sub since_start
{
	my ($start) = @_;
	return (cpu_seconds($start->{pid}) - $start->{cpu}, Time::HiRes::time() - $start->{t0},
		standby1_polls() - $start->{polls});
}

# Retrain every model; returns since_start() at the moment the last model
# is trained again.
sub retrain_all
{
	my $start = start_retrain();
	$primary->poll_query_until('postgres',
		"SELECT min(last_trained) > '$start->{asked}' FROM foresight.models WHERE model = 'blend'")
	  or die 'the models were not retrained';
	return since_start($start);
}

# a process of its own, below the server's priority, on every server
my ($postmaster) = split /\n/, slurp_file($primary->data_dir . '/postmaster.pid');
my $server_nice = nice_of($postmaster);
my $trainer = trainer_pid($primary);
like($trainer, qr/^\d+$/, 'one foresight trainer, in pg_stat_activity');
is(nice_of($trainer), List::Util::min($server_nice + 10, 19),
	'it runs at the server\'s nice value + 10');
is(nice_of(trainer_pid($standby1)), List::Util::min($server_nice + 10, 19),
	'a standby has its trainer too');
ok($primary->poll_query_until('postgres',
	"SELECT count(*) >= 3 AND bool_and(last_trained IS NOT NULL) FROM foresight.models WHERE model = 'blend'"),
	'it trains the models the monitor feeds');
ok($primary->poll_query_until('postgres',
	"SELECT min(polls) > 140 FROM foresight.node_health WHERE node_name <> 'local'"),
	'the windows are full');

# foresight.trainer_nice: raising it applies at once, lowering it restarts
# the trainer
set_conf('foresight.trainer_nice = 15');
my $until = Time::HiRes::time() + 30;
Time::HiRes::sleep(0.1)
  while nice_of($trainer) != List::Util::min($server_nice + 15, 19) && Time::HiRes::time() < $until;
is(nice_of($trainer), List::Util::min($server_nice + 15, 19),
	'a higher foresight.trainer_nice applies to the running trainer');
set_conf('foresight.trainer_nice = 0');
ok($primary->poll_query_until('postgres',
	"SELECT pid <> $trainer FROM pg_stat_activity WHERE backend_type = 'foresight trainer'"),
	'a lower one restarts the trainer');
is(nice_of(trainer_pid($primary)), $server_nice, 'which then runs at the server\'s nice value');
ok($primary->log_contains(qr/foresight trainer restarting to lower its nice value from \d+ to \d+/),
	'and says so in the log');

# foresight.trainer_cpu_limit: a retraining without a limit (as set
# above), then the same at 0.1 core.  More series may have appeared
# meanwhile: retrain until one without a limit costs 0.3 s of CPU.
my ($cpu, $wall, $polls);
my $deadline = Time::HiRes::time() + 150;
while (1)
{
	($cpu, $wall, $polls) = retrain_all();
	last if $cpu >= 0.3 || Time::HiRes::time() > $deadline;
	sleep 5;
}
note(sprintf('without a limit: %.2f s of CPU over %.2f s', $cpu, $wall));
cmp_ok($cpu, '>=', 0.3, 'a retraining without a limit takes 0.3 s of CPU or more');

# At 0.1 core the same retraining takes about ten times its CPU: measured
# over its first 6 s (it takes longer), then the limit is lifted again.
set_conf('foresight.trainer_cpu_limit = 0.1');
my $start = start_retrain();
my $asked = $start->{asked};
Time::HiRes::sleep(6);
my ($cpu_limited, $wall_limited, $polls_limited) = since_start($start);
my $left = $primary->safe_psql('postgres',
	"SELECT count(*) FROM foresight.models WHERE model = 'blend' AND last_trained <= '$asked'");
note(sprintf('at 0.1 core: %.2f s of CPU over %.2f s, %d polls of standby1, %d models left to train',
	$cpu_limited, $wall_limited, $polls_limited, $left));
cmp_ok($cpu_limited / $wall_limited, '<=', 0.15,
	'at foresight.trainer_cpu_limit = 0.1 it keeps to about that share of a core');
# (a retraining of 0.3 s of CPU or more takes 3 s or more at 0.1 core, so
# the trainer was busy for at least half of the 6 s)
cmp_ok($cpu_limited / $wall_limited, '>=', 0.03, 'and trains meanwhile');
# the monitor samples every 100 ms meanwhile, as when nothing trains
cmp_ok($polls_limited, '>=', 0.8 * $wall_limited / 0.1,
	'the monitor kept sampling every 100 ms while the trainer trained');
set_conf('foresight.trainer_cpu_limit = 1');
ok($primary->poll_query_until('postgres',
	"SELECT min(last_trained) > '$asked' FROM foresight.models WHERE model = 'blend'"),
	'without the limit the retraining finishes');

# A fast shutdown in the middle of a retraining at 0.01 core (each fit of
# about 0.1 s of CPU then takes some 10 s, in pauses of about a second
# after every 10 ms of CPU; fifteen models: minutes): the trainer is
# inside a fit 2 s after the request, and the shutdown does not wait for
# the retraining at that pace (with neither the pause nor the fit ending
# on shutdown, pg_ctl gives up after a minute), nor counts the stopped fit
# as a training error.  (The bound is loose: one pause waited out, about
# a second, would pass.)
set_conf('foresight.trainer_cpu_limit = 0.01');
Time::HiRes::sleep(1);
$primary->safe_psql('postgres', 'SELECT foresight.retrain()');
Time::HiRes::sleep(2);
my $stop_started = Time::HiRes::time();
$primary->stop('fast');
my $stop_took = Time::HiRes::time() - $stop_started;
note(sprintf('fast shutdown mid-retraining took %.2f s', $stop_took));
cmp_ok($stop_took, '<', 5, 'a fast shutdown does not wait for the retraining');
ok(!$primary->log_contains(qr/could not train/), 'a shutdown mid-training is no training error');
$primary->start;
like(trainer_pid($primary), qr/^\d+$/, 'the trainer is back after a restart');

done_testing();
