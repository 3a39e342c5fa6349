# ForesightCluster.pm: a coordinator and streaming standbys for TAP tests.
#
#   use ForesightCluster;
#   my ($primary, @standbys) = ForesightCluster::create(standbys => 2);
#
# The primary preloads pg_foresight (foresight.database = postgres), has the
# extension created in "postgres", and every standby is registered as a
# node named standby1, standby2, ... with conninfo host/port on loopback.
package ForesightCluster;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Fcntl qw(:flock);
use Time::HiRes ();

# Settings that make the models train and predict within seconds (samples
# every 200 ms, a 1 s horizon, short retraining): for tests of predictions
# and routing on them.
our $FAST_MODELS = qq{
foresight.sample_interval = 200ms
foresight.prediction_horizons = 1s
foresight.retrain_budget = 500ms
};

sub create
{
	my (%opts) = @_;
	my $nstandbys = $opts{standbys} // 2;
	my $extra_conf = $opts{conf} // '';
	# Quarantine and slow start (monitoring.md) change where queries go
	# when a standby is slow, paused or stopped on purpose: off unless the
	# test is about them (anomaly => 1); a conf line may still set it.
	my $anomaly = $opts{anomaly} ? "" :
	  "foresight.anomaly_detection = off\nforesight.readmit_ramp = 0";

	my $primary = PostgreSQL::Test::Cluster->new('coordinator');
	init_from_template($primary);
	$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_foresight'
foresight.database = 'postgres'
max_connections = 50
$anomaly
$extra_conf
});
	$primary->start;
	$primary->safe_psql('postgres', 'CREATE EXTENSION pg_foresight');
	$primary->backup('base');

	my @standbys;
	for my $i (1 .. $nstandbys)
	{
		my $standby = PostgreSQL::Test::Cluster->new("standby$i");
		$standby->init_from_backup($primary, 'base', has_streaming => 1);
		$standby->start;
		push @standbys, $standby;
	}
	catch_up($primary, @standbys);
	# All in one transaction: a node is polled as soon as it is registered,
	# and registered one at a time the first ones' first polls would come
	# before the later registrations, whose catalog floor they would not be
	# seen past until their next sample (ordered last until then).
	$primary->safe_psql('postgres', join("\n", 'BEGIN;',
		(map { add_node_sql("standby$_", $standbys[ $_ - 1 ]) } 1 .. $nstandbys), 'COMMIT;'))
	  unless $opts{no_register} || $nstandbys == 0;
	# A node is a candidate from its first good poll on (routing.md): wait
	# for it, so that the test's first reads may go to the standbys.
	wait_polled($primary, map { "standby$_" } 1 .. $nstandbys)
	  unless $opts{no_register} || $nstandbys == 0;
	return ($primary, @standbys);
}

# $node->init(allows_streaming => 1), with initdb's work done once per test
# run: the first call runs initdb into a template under $TESTDIR/tmp_check
# and every later one copies it (PostgreSQL 16's Cluster.pm does the same
# with INITDB_TEMPLATE).  Every coordinator of a run then has the same
# system identifier; its standbys share it anyway, and a test that needs a
# server of another cluster (t/012) makes it with a plain init().
sub init_from_template
{
	my ($node) = @_;
	my $template = "$PostgreSQL::Test::Utils::tmp_check/initdb-template";
	no warnings 'redefine';
	my $run = \&PostgreSQL::Test::Utils::system_or_bail;
	# init() runs initdb -D <its pgdata> -A trust -N, then pg_regress
	local *PostgreSQL::Test::Utils::system_or_bail = sub {
		my ($prog, $opt_d, $pgdata, @rest) = @_;
		return $run->(@_) unless $prog eq 'initdb';
		# two tests running side by side: one makes it, the other waits
		open(my $lock, '>', "$template.lock") or die "$template.lock: $!";
		flock($lock, LOCK_EX) or die "flock $template.lock: $!";
		if (!-d $template)
		{
			$run->($prog, $opt_d, "$template.new", @rest);
			rename("$template.new", $template) or die "rename: $!";
		}
		close($lock);
		$run->('cp', '-RPp', $template, $pgdata);
	};
	$node->init(allows_streaming => 1);
}

# A position of the primary's WAL at or past everything inserted so far,
# flushed now: the end of a transactional logical message, whose commit
# flushes the WAL up to the commit record (a transaction that wrote
# nothing else would commit asynchronously).  So the walsenders send it
# all at once, not at the WAL writer's next round (wal_writer_delay: 10 s
# in t/065).  The flush position itself is no such target: the WAL writer
# flushes whole pages, so it may end inside a record, which a standby
# cannot replay until the rest is flushed.
sub flushed_insert_lsn
{
	my ($primary) = @_;
	return $primary->safe_psql('postgres',
		q{SELECT pg_logical_emit_message(true, 'foresight_test', 'flush')});
}

# Wait until every standby given has replayed the WAL up to $lsn, asking
# each standby itself: the primary's pg_stat_replication (wait_for_catchup)
# learns a standby's replay position from its walreceiver's next status
# message, which, with no more WAL coming, is wal_receiver_status_interval
# (10 s) away.
sub wait_replayed
{
	my ($lsn, @standbys) = @_;
	for my $standby (@standbys)
	{
		$standby->poll_query_until('postgres',
			"SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")
		  or die $standby->name . " has not replayed the WAL up to $lsn";
	}
}

# Wait until every standby given has replayed everything the primary
# wrote so far: PostgreSQL::Test::Cluster's wait_for_catchup($standby,
# 'replay', $primary->lsn('insert')) without its two waits of up to 10 s
# (flushed_insert_lsn, wait_replayed).
sub catch_up
{
	my ($primary, @standbys) = @_;
	wait_replayed(flushed_insert_lsn($primary), @standbys);
}

# Confine the processes $node forks from now on (its backends) to half a
# core, as a container would: a cgroup v1 cpu group under CGROUP_NAME
# (scripts/test.sh makes one this user may write), where a neighbour that
# spent the quota waits for the next 100 ms period; where none can be
# made, one CPU (taskset).  A CPU-bound neighbour run there then slows
# that node and not the whole host, whose CPU pressure and slower answers
# every server on it would read as its own load.  Returns the group's
# directory, to remove with release_group once the node is stopped, or
# undef.
sub confine_to_half_core
{
	my ($node) = @_;
	my $base = '/sys/fs/cgroup/cpu/' . ($ENV{CGROUP_NAME} // '');
	if ($ENV{CGROUP_NAME} && -d $base && -w $base)
	{
		my $group = "$base/" . $node->name . "_$$";
		mkdir $group or die "mkdir $group: $!";
		PostgreSQL::Test::Utils::append_to_file("$group/cpu.cfs_period_us", "100000\n");
		PostgreSQL::Test::Utils::append_to_file("$group/cpu.cfs_quota_us", "50000\n");
		PostgreSQL::Test::Utils::append_to_file("$group/cgroup.procs", $node->{_pid} . "\n");
		diag($node->name . "'s new processes share half a core ($group)");
		return $group;
	}
	if (system('taskset', '-a', '-p', '-c', '1', $node->{_pid}) == 0)
	{
		diag($node->name . "'s new processes run on CPU 1 (no writable cgroup)");
		return undef;
	}
	diag($node->name . ' is neither in a cgroup nor pinned: its neighbour loads the whole host');
	return undef;
}

# Move a node's postmaster and every process it has now into the cgroup v1
# directory $group (those it forks later follow).  A child listed may exit
# before it is moved (a backend of a session just ended): the kernel then
# answers "No such process", and there is nothing to move.
sub move_to_group
{
	my ($group, $node) = @_;
	my ($pm) = split /\n/, PostgreSQL::Test::Utils::slurp_file($node->data_dir . '/postmaster.pid');
	for my $pid (grep { /^\d+$/ } ($pm, split(/\s+/, `pgrep -P $pm`)))
	{
		open(my $fh, '>', "$group/cgroup.procs") or die "$group/cgroup.procs: $!";
		print $fh "$pid\n";
		close($fh) or $!{ESRCH} or die "$group/cgroup.procs: $pid: $!";
	}
}

# Remove confine_to_half_core's group (its node stopped: a group with
# processes cannot be removed).
sub release_group
{
	my ($group) = @_;
	rmdir $group or diag("could not remove $group: $!") if $group;
}

# A delaying TCP relay (scripts/delay-relay) in front of a node: a node
# $delay_ms away one way, each direction.  Returns the conninfo to register
# (loopback TCP to the relay) and the relay's IPC::Run handle.
sub start_relay
{
	my ($node, $delay_ms) = @_;
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $target = $node->host =~ m{^/} ? $node->host . '/.s.PGSQL.' . $node->port
	  : $node->host . ':' . $node->port;
	my $out = '';
	my $relay = IPC::Run::start(
		[ "$ENV{PG_FORESIGHT_ROOT}/scripts/delay-relay", '--listen', "127.0.0.1:$port",
		  '--connect', $target, '--delay-ms', $delay_ms ],
		'>', \$out, '2>', \$out);
	my $until = time + 10;
	$relay->pump_nb while $out !~ /listening on/ && time < $until;
	die "delay-relay did not start: $out" unless $out =~ /listening on/;
	return ("host=127.0.0.1 port=$port", $relay);
}

# Three regions for the regions tests (t/081, t/082): the coordinator in
# eu-west with standby1, standby2 behind a relay adding 7.5 ms each way
# (eu-central, near) and standby3 30 ms (us-east, far); a table "kv" of
# 10,000 rows for point lookups and "big" of 100,000 for heavy reads;
# pgbench scripts lookup.sql and heavy.sql in a temporary directory.  The
# predictive policy with 500 ms samples: a far node's connection must open
# within one poll deadline (80% of the interval).  $conf is added to the
# coordinator's configuration.  Returns the hash of primary, standbys (a
# list), relays (a list of IPC::Run handles: kill them at the end) and dir.
sub three_regions
{
	my ($conf) = @_;
	my ($primary, @standbys) = create(
		standbys => 3,
		no_register => 1,
		conf => qq{
foresight.local_region = 'eu-west'
foresight.routing_policy = predictive
foresight.include_local = off
foresight.hedge_factor = 0
foresight.sample_interval = 500ms
foresight.prediction_horizons = 1s
foresight.retrain_budget = 300ms
$conf
});
	my ($near, $near_relay) = start_relay($standbys[1], 7.5);
	my ($far, $far_relay) = start_relay($standbys[2], 30);
	$primary->safe_psql('postgres', sprintf(q{
	CREATE TABLE kv (k int PRIMARY KEY, v text);
	INSERT INTO kv SELECT g, md5(g::text) FROM generate_series(1, 10000) g;
	CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 100000) g;
	ANALYZE;
	SELECT foresight.add_node('standby1', '%s', region => 'eu-west');
	SELECT foresight.add_node('standby2', '%s', region => 'eu-central');
	SELECT foresight.add_node('standby3', '%s', region => 'us-east');},
		node_conninfo($standbys[0]), $near, $far));
	catch_up($primary, @standbys);
	ok($primary->poll_query_until('postgres', q{
	SELECT count(*) = 3 FROM foresight.nodes
	WHERE node_name LIKE 'standby%' AND status = 'up' AND round_trip_ms IS NOT NULL}),
		'every standby is up with a measured round trip');
	ok(wait_standbys_seen_current($primary, @standbys),
		'the monitor has seen every standby replay the tables');

	my $dir = PostgreSQL::Test::Utils::tempdir();
	PostgreSQL::Test::Utils::append_to_file("$dir/lookup.sql",
		"\\set k random(1, 10000)\nSELECT v FROM kv WHERE k = :k;\n");
	PostgreSQL::Test::Utils::append_to_file("$dir/heavy.sql",
		"SELECT count(*) FROM big a JOIN big b ON a.id % 500 = b.id % 500 WHERE a.id < 30000 AND b.id < 30000;\n");
	return (primary => $primary, standbys => \@standbys,
		relays => [ $near_relay, $far_relay ], dir => $dir);
}

# Point lookups (lookup.sql) through the coordinator of three_regions()'s
# set-up, $secs seconds, two clients: returns how many the decision log
# counts, a hash of them per standby, how many clients saw an error, and
# the decision_id they start after.
sub region_lookups
{
	my ($regions, $secs) = @_;
	my $primary = $regions->{primary};
	my $from = $primary->safe_psql('postgres',
		'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
	my $out = '';
	IPC::Run::run(
		[ 'pgbench', '-n', '-M', 'simple', '-c', '2', '-j', '1', '-T', $secs,
		  '-f', "$regions->{dir}/lookup.sql", '-d', $primary->connstr('postgres') ],
		'>', \$out, '2>', \$out);
	my ($failed) = $out =~ /number of failed transactions: (\d+)/;
	$failed //= ($out =~ /aborted|error/i ? 'some' : 0);
	my %n = map { split /\|/ } split /\n/, $primary->safe_psql('postgres', qq{
		SELECT chosen_node, count(*) FROM foresight.routing_decisions
		WHERE decision_id > $from AND request_class = 'point' GROUP BY 1});
	my $all = 0;
	$all += $_ for values %n;
	$n{$_} //= 0 for qw(standby1 standby2 standby3);
	diag(sprintf('%d lookups: standby1 %d, standby2 %d, standby3 %d; errors %s',
		$all, $n{standby1}, $n{standby2}, $n{standby3}, $failed));
	return ($all, \%n, $failed, $from);
}

# Split parts running a query like %$pattern% on the given standbys, from
# their pg_stat_activity (t/052, t/055).
sub split_parts_running
{
	my ($pattern, @standbys) = @_;
	my $n = 0;
	$n += $_->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%$pattern%' AND application_name = 'pg_foresight' AND state = 'active'")
	  for @standbys;
	return $n;
}

# Wait (10 s at most) until at least $want such parts run, or none when
# $want is 0; true if it happened.
sub wait_split_parts
{
	my ($want, $pattern, @standbys) = @_;
	for (1 .. 100)
	{
		my $n = split_parts_running($pattern, @standbys);
		return 1 if $want ? $n >= $want : $n == 0;
		Time::HiRes::usleep(100_000);
	}
	return 0;
}

# conninfo of a node on loopback TCP (never a Unix socket: like a real node)
sub node_conninfo
{
	my ($node) = @_;
	return 'host=' . $node->host . ' port=' . $node->port
	  if $node->host =~ m{^/};    # unix socket dir: still fine for tests
	return 'host=' . $node->host . ' port=' . $node->port;
}

# Register $node as node $name of $primary.  With alias => 1, under another
# spelling of its address (the socket directory as "DIR/."), which add_node
# cannot tell is $primary itself, for tests of what the monitor finds out
# by polling (add_node refuses the plain spelling of the coordinator's own
# address).
sub register
{
	my ($primary, $name, $node, %opts) = @_;
	$primary->safe_psql('postgres', add_node_sql($name, $node, %opts));
}

# The statement register() runs
sub add_node_sql
{
	my ($name, $node, %opts) = @_;
	my $conninfo = node_conninfo($node);
	$conninfo =~ s{^host=(/\S+)}{host=$1/.} if $opts{alias};
	return "SELECT foresight.add_node('$name', '$conninfo');";
}

# Wait until the monitor has had a good poll of each named node: until
# then a node's status is "unknown" and it is no routing candidate.
sub wait_polled
{
	my ($primary, @names) = @_;
	my $list = join(', ', map { "'$_'" } @names);
	$primary->poll_query_until('postgres',
		"SELECT count(*) = ${\ scalar @names} FROM foresight.node_health "
		  . "WHERE node_name IN ($list) AND last_success IS NOT NULL")
	  or die "the monitor has not polled $list";
}

# A query shape that is slow on one server only: table kv (1000 rows) and
# lookup(key), which sleeps $sleep_s seconds first on the server whose port
# is in table slow_port (set it with set_slow_port; 0 = none), on the
# primary, replayed on every standby given.
sub create_slow_lookup
{
	my ($primary, $sleep_s, @standbys) = @_;
	$primary->safe_psql('postgres', qq{
CREATE TABLE kv (k int PRIMARY KEY, v text);
INSERT INTO kv SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
CREATE TABLE slow_port (port int);
INSERT INTO slow_port VALUES (0);
CREATE FUNCTION lookup(key int) RETURNS text STABLE LANGUAGE plpgsql AS \$\$
BEGIN
	IF current_setting('port')::int = (SELECT port FROM slow_port) THEN
		PERFORM pg_sleep($sleep_s);
	END IF;
	RETURN (SELECT v FROM kv WHERE k = key);
END \$\$;
ANALYZE;
});
	catch_up($primary, @standbys);
}

# Make lookup() slow on the server listening on $port (0: on none), once
# every standby given has replayed the change.
sub set_slow_port
{
	my ($primary, $port, @standbys) = @_;
	$primary->safe_psql('postgres', "UPDATE slow_port SET port = $port");
	catch_up($primary, @standbys);
}

# Run n calls of lookup() in one session of the primary (so never more
# than one in flight), check that the standbys served them all, and return
# standby1's share of them.
sub lookup_share_of_standby1
{
	my ($primary, $n) = @_;
	# the standbys seen current after the latest catalog change (the
	# function set-ups above it), or one of them is ordered last
	my $lsn = $primary->lsn('insert');
	$primary->poll_query_until('postgres',
		"SELECT bool_and(replay_lsn >= '$lsn') FROM foresight.node_health WHERE node_name LIKE 'standby%'");
	my $routed = routed_counts($primary, join('', map { "SELECT lookup($_);\n" } 1 .. $n));
	my $total = ($routed->{standby1} // 0) + ($routed->{standby2} // 0);
	Test::More::is($total, $n, "all $n lookups were routed to a standby");
	return ($routed->{standby1} // 0) / ($total || 1);
}

# Reset the routing statistics, run the statements in one session of the
# primary, and return how many queries each node served: a hash reference
# node name => routed.
sub routed_counts
{
	my ($primary, $sql) = @_;
	$primary->safe_psql('postgres', 'SELECT foresight.reset_routing_stats()');
	$primary->safe_psql('postgres', $sql);
	my %routed = map { split /\|/ } split /\n/, $primary->safe_psql('postgres',
		'SELECT node_name, routed FROM foresight.routing_stats');
	return \%routed;
}

# Run $sql in a new session of $primary and, in the same session, read how
# many queries the nodes have served in all (foresight.routing_stats, the
# coordinator's own not counted): one connection where a separate count
# took a second (a catalogue test runs hundreds).  Returns psql's exit code,
# the statements' output without that count, their stderr, and the count
# (undef when a statement failed: psql stops there).
sub psql_and_routed
{
	my ($primary, $sql) = @_;
	my ($ret, $out, $err) = $primary->psql('postgres', "$sql\n;\n"
		  . "SELECT 'routed in all: ' || coalesce(sum(routed), 0) "
		  . "FROM foresight.routing_stats WHERE node_name <> 'local'");
	my $routed;
	$routed = $1 if $out =~ s/(?:^|\n)routed in all: (\d+)\z//;
	return ($ret, $out, $err, $routed);
}

# Wait until the monitor has seen every given standby replay the primary's
# current insert position.  Until then, after a catalog change (the catalog
# floor, docs/routing.md), a standby is checked before use and ordered after
# the candidates known to be current, which the coordinator always is: a
# test of how reads spread over the nodes waits for this first.  The
# standbys are named standby1, standby2... in the registry.
sub wait_standbys_seen_current
{
	my ($primary, @standbys) = @_;
	return wait_nodes_seen_current($primary, \@standbys, map { "standby$_" } 1 .. scalar @standbys);
}

# The same for the nodes registered under @names, each one of the
# standbys in @$standbys (a standby may be registered under several names).
sub wait_nodes_seen_current
{
	my ($primary, $standbys, @names) = @_;
	my $lsn = flushed_insert_lsn($primary);
	wait_replayed($lsn, @$standbys);
	my $list = join(', ', map { "'$_'" } @names);
	return $primary->poll_query_until('postgres',
		"SELECT count(*) = ${\ scalar @names} FROM foresight.node_health WHERE node_name IN ($list) AND replay_lsn >= '$lsn'");
}

1;
