# The node registry with a primary and two streaming standbys: registration,
# the monitor picking up changes without a restart, standbys loading the
# extension quietly (with a monitor of their own, reading the replicated
# registry), and the registry surviving a restart.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(standbys => 2);

# both standbys registered, visible in the view with their ports
my $nodes = $primary->safe_psql('postgres',
	"SELECT string_agg(node_name || ':' || kind || ':' || state, ',' ORDER BY node_id) FROM foresight.nodes");
is($nodes, 'local:coordinator:enabled,standby1:standby:enabled,standby2:standby:enabled',
	'registry lists the coordinator and both standbys');
like($primary->safe_psql('postgres', "SELECT conninfo FROM foresight.nodes WHERE node_name = 'standby2'"),
	qr/port='${\ $standby2->port }'/, 'conninfo of standby2 names its port');

# the monitor runs on the primary and has seen the current generation
ok($primary->poll_query_until('postgres',
	"SELECT pid IS NOT NULL AND generation_seen = registry_generation AND nodes_seen = 2 FROM foresight.monitor"),
	'monitor sees both nodes');

# a registry change is noticed without a restart
my $pid_before = $primary->safe_psql('postgres', 'SELECT pid FROM foresight.monitor');
$primary->safe_psql('postgres', "SELECT foresight.alter_node('standby1', state => 'drained')");
$primary->safe_psql('postgres', "SELECT foresight.remove_node('standby2')");
ok($primary->poll_query_until('postgres',
	"SELECT generation_seen = registry_generation AND nodes_seen = 1 FROM foresight.monitor"),
	'monitor notices a removed node');
is($primary->safe_psql('postgres', 'SELECT pid FROM foresight.monitor'), $pid_before,
	'without restarting');
is($primary->safe_psql('postgres', "SELECT state FROM foresight.nodes WHERE node_name = 'standby1'"),
	'drained', 'drained state is published');
ok($primary->log_contains(qr/foresight monitor: node registry generation \d+, 1 node\b/),
	'monitor logs the new registry');

# a change made by plain DML (not through the functions) reaches shared memory too
$primary->safe_psql('postgres',
	"INSERT INTO foresight.node (node_name, conninfo) VALUES ('standby2', '"
	  . ForesightCluster::node_conninfo($standby2) . "')");
is($primary->safe_psql('postgres', 'SELECT count(*) FROM foresight.nodes'), '3', 'DML is published');

# a change rolled back to a savepoint is repaired by the monitor's reload
$primary->safe_psql('postgres', q{
BEGIN;
SELECT foresight.add_node('ghost', 'host=127.0.0.1 port=1');
SAVEPOINT s;
SELECT foresight.remove_node('standby2');
ROLLBACK TO SAVEPOINT s;
COMMIT;
});
ok($primary->poll_query_until('postgres',
	"SELECT string_agg(node_name, ',' ORDER BY node_id) = 'local,standby1,standby2,ghost' FROM foresight.nodes"),
	'savepoint rollback: the shared copy equals the table');
$primary->safe_psql('postgres', "SELECT foresight.remove_node('ghost')");

# the other databases see the same registry
$primary->safe_psql('postgres', 'CREATE DATABASE app');
$primary->safe_psql('app', 'CREATE EXTENSION pg_foresight');
is($primary->safe_psql('app', 'SELECT count(*) FROM foresight.nodes'), '3',
	'a second database reads the same registry');

# standbys preload the extension (postgresql.conf was copied); their
# monitor idles while foresight.standby_routing is off (the default):
# nothing is polled from a standby (t/090_standby_routing.pl turns it on)
ForesightCluster::catch_up($primary, $standby1, $standby2);
for my $standby ($standby1, $standby2)
{
	ok($standby->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'foresight monitor'"),
		$standby->name . ': a monitor on the standby');
	ok($standby->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		WHERE application_name = 'foresight monitor' AND backend_type = 'client backend'}),
		$standby->name . ': polled by the coordinator only, not by the other standby');
	is($standby->safe_psql('postgres', "SHOW shared_preload_libraries"), 'pg_foresight',
		$standby->name . ': extension preloaded');
	ok(!$standby->log_contains(qr/ERROR|FATAL/), $standby->name . ': log has no error');
}

# the registry survives a restart (the monitor reloads it from the table);
# from then on, samples an hour apart
$primary->append_conf('postgresql.conf', "foresight.sample_interval = '1h'");
$primary->restart;
ok($primary->poll_query_until('postgres',
	"SELECT string_agg(node_name || ':' || state, ',' ORDER BY node_id) = 'local:enabled,standby1:drained,standby2:enabled' FROM foresight.nodes"),
	'registry restored after restart');

# A node added is polled at once, not at the next sample: with samples an
# hour apart, it is up, a routing candidate, long before the next one
# (poll_query_until gives up after 180 s).  The monitor's first sample, at
# its start, comes first.
ok($primary->poll_query_until('postgres',
	"SELECT loops >= 1 FROM foresight.monitor"), 'the monitor took its first sample');
$primary->safe_psql('postgres', "SELECT foresight.remove_node('standby2')");
$primary->safe_psql('postgres', "SELECT foresight.add_node('standby2', '"
	  . ForesightCluster::node_conninfo($standby2) . "')");
ok($primary->poll_query_until('postgres',
	"SELECT status = 'up' FROM foresight.node_health WHERE node_name = 'standby2'"),
	'a node added is polled at once, not at the next sample an hour later');
is($primary->safe_psql('postgres', 'SELECT loops FROM foresight.monitor'), '1',
	'... outside the cadence: no sample of every node was taken for it');

# the monitor exits cleanly at shutdown
$primary->stop('fast');
ok($primary->log_contains(qr/foresight monitor shutting down/), 'monitor shut down cleanly');

# without shared_preload_libraries: the extension can be created, the
# functions that need shared memory say why they cannot run, the others work
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION pg_foresight');
my ($ret, $stdout, $stderr) = $plain->psql('postgres', "SELECT foresight.add_node('n1', 'host=127.0.0.1')");
like($stderr, qr/pg_foresight must be loaded via shared_preload_libraries/, 'not preloaded: node functions refuse');
like($stderr, qr/HINT:  Add pg_foresight to shared_preload_libraries/, 'with a hint');
($ret, $stdout, $stderr) = $plain->psql('postgres', 'SELECT * FROM foresight.nodes');
like($stderr, qr/must be loaded via shared_preload_libraries/, 'not preloaded: the views refuse too');
is($plain->safe_psql('postgres', "SELECT foresight.forecast(ARRAY[1,2,3,4,5,6,7,8,9,10]::float8[], 1, 'naive')"),
	'{10}', 'not preloaded: forecasting works');
$plain->stop;

done_testing();
