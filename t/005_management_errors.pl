# The management functions where they cannot write: on a hot standby and
# in a READ ONLY transaction of the primary, add_node, alter_node,
# remove_node and set_split_key fail up front with PostgreSQL's own
# messages (25006 "cannot execute add_node() during recovery" with a hint,
# "... in a read-only transaction"), not with the error of a statement
# they would run (LOCK TABLE, INSERT) and its context.
# release_node of a node in its slow start (released already) changes
# nothing: its ramp goes on, no event is added.  While it ramps up beside
# another candidate (the coordinator), a routing decision's reason does not
# claim that every node was quarantined or slowly readmitted; with no other
# candidate (foresight.include_local off) it does, and routes among them.
# Last, the standby stops at once: the warning it sends the monitor's
# connection is a line of the coordinator's log, with the log prefix and
# the node's name, not a bare line libpq printed on stderr.
# One coordinator, one standby; slow starts of an hour, so that the share a
# released node takes stays near 0 through the test.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes ();
use ForesightCluster;

my ($primary, $standby) = ForesightCluster::create(standbys => 1,
	conf => "foresight.readmit_ramp = 1h\n");
$primary->safe_psql('postgres', 'CREATE TABLE keyed (id integer PRIMARY KEY, a integer)');
ForesightCluster::catch_up($primary, $standby);

my %calls = (
	'add_node()' => q{SELECT foresight.add_node('n9', 'host=127.0.0.1 port=1')},
	'alter_node()' => q{SELECT foresight.alter_node('standby1', weight => 2)},
	'remove_node()' => q{SELECT foresight.remove_node('standby1')},
	'set_split_key()' => q{SELECT foresight.set_split_key('keyed', 'a')});

# stderr of a statement run with SQLSTATEs shown
sub error_of
{
	my ($node, $sql) = @_;
	my ($ret, $stdout, $stderr) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return $ret == 0 ? "(no error)" : $stderr;
}

for my $cmd (sort keys %calls)
{
	my $err = error_of($standby, $calls{$cmd});
	like($err, qr/ERROR:  25006: cannot execute \Q$cmd\E during recovery/,
		"$cmd on a standby: PostgreSQL's message for recovery");
	like($err, $cmd eq 'set_split_key()' ?
		  qr/HINT:  Split keys are declared on the primary; the table foresight\.split_key replicates to the standbys\./ :
		  qr/HINT:  Nodes are managed on the primary; its registry replicates to the standbys\./,
		"$cmd on a standby: the hint says where");
	unlike($err, qr/CONTEXT|LOCK TABLE|INSERT/, "$cmd on a standby: no internal statement");

	$err = error_of($primary, "BEGIN READ ONLY;\n$calls{$cmd};\nROLLBACK;");
	like($err, qr/ERROR:  25006: cannot execute \Q$cmd\E in a read-only transaction/,
		"$cmd in a READ ONLY transaction: PostgreSQL's message");
	unlike($err, qr/CONTEXT|LOCK TABLE|INSERT/, "$cmd in a READ ONLY transaction: no internal statement");
}
is($primary->safe_psql('postgres',
		q{SELECT string_agg(node_name || ':' || weight, ',') FROM foresight.node}),
	'standby1:1', 'nothing changed');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM foresight.split_key'), '0',
	'no split key declared');

# a second release_node: "Nothing for a node not in quarantine"
my $state = q{SELECT quarantine || ' since ' || quarantine_since FROM foresight.nodes
	WHERE node_name = 'standby1'};
my $released = q{SELECT count(*) FROM foresight.anomalies WHERE action = 'released, slow start'};
$primary->safe_psql('postgres', q{SELECT foresight.quarantine_node('standby1', 't')});
$primary->safe_psql('postgres', q{SELECT foresight.release_node('standby1')});
my $ramp = $primary->safe_psql('postgres', $state);
like($ramp, qr/^slow start since /, 'released: standby1 is in its slow start');
is($primary->safe_psql('postgres', $released), '1', 'one event "released, slow start"');
$primary->safe_psql('postgres', q{SELECT pg_sleep(0.1); SELECT foresight.release_node('standby1')});
is($primary->safe_psql('postgres', $state), $ramp, 'released again: the slow start goes on from where it was');
is($primary->safe_psql('postgres', $released), '1', 'and no second event');

# the reason "every node quarantined or slowly readmitted" only when the
# slow starts left no other candidate; a node in its first minutes of an
# hour's ramp is left out of nearly every decision
my $explain = q{SELECT node || ': ' || reason || ' / excluded: ' || coalesce(excluded, '')
	FROM foresight.route_explain('select 1');};
my @with_local = map { $primary->safe_psql('postgres', $explain) } 1 .. 20;
is(scalar(grep { /every node quarantined/ } @with_local), 0,
	'beside the coordinator, a node in its slow start is not "every node"')
  or diag(join("\n", @with_local));
ok(scalar(grep { /slow start/ } @with_local) > 0, 'and it is left out for its slow start')
  or diag(join("\n", @with_local));
my @alone = map { $primary->safe_psql('postgres', "SET foresight.include_local = off; $explain") } 1 .. 3;
like(join("\n", @alone), qr/^standby1: .*; every node quarantined or slowly readmitted: routed among them/m,
	'with no other candidate it is taken back, and the reason says so');

# a node's notices on the monitor's connection go to the server log
my $log_offset = -s $primary->logfile;
$standby->stop('immediate');
my $said = qr/foresight monitor: node "standby1" sent WARNING: terminating connection due to immediate shutdown command/;
my $log = '';
for (my $waited = 0; $waited < 30 * 10; $waited++)
{
	$log = slurp_file($primary->logfile, $log_offset);
	last if $log =~ $said;
	Time::HiRes::usleep(100_000);
}
like($log, qr/^\S.* \[\d+\] LOG:  $said$/m, 'the standby\'s warning is a line of the log, prefixed, naming the node');
unlike($log, qr/^WARNING:  /m, 'and no bare line of libpq');

done_testing();
