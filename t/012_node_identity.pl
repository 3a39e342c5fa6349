# Nodes that must not take routed queries although they answer: a node
# registered with the coordinator's own conninfo, a server of another
# cluster registered as a standby, a node of kind replica, and a standby
# promoted under a read load.  None is ever chosen once the monitor has
# seen it (and a query checking its replay position never uses it before);
# foresight.nodes says why.
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(standbys => 2);
my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";

$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE TABLE prom (id integer);
INSERT INTO prom SELECT generate_series(1, 10);
});
ForesightCluster::catch_up($primary, $standby1, $standby2);

# queries each node answered (routed, not counting skipped attempts)
sub served
{
	my ($sql) = @_;
	$primary->safe_psql('postgres', 'SELECT foresight.reset_routing_stats()');
	my $out = $primary->safe_psql('postgres', "$route $sql");
	my %served = map { split /\|/ } split /\n/, $primary->safe_psql('postgres',
		"SELECT node_name, routed - errors FROM foresight.routing_stats");
	return ($out, \%served);
}

sub status_of
{
	my ($name) = @_;
	return $primary->safe_psql('postgres',
		"SELECT status FROM foresight.nodes WHERE node_name = '$name'");
}

sub wait_status
{
	my ($name, $status) = @_;
	return $primary->poll_query_until('postgres',
		"SELECT status FROM foresight.nodes WHERE node_name = '$name'", $status);
}

# ---- the coordinator registered as a node
ForesightCluster::register($primary, 'itself', $primary, alias => 1);
# at once, before the monitor has sampled it: its replay position is
# checked (NULL: it is not in recovery) and it is skipped
my ($out, $s) = served("SELECT count(*) FROM prom;\n" x 6);
is($s->{itself} // 0, 0, 'the coordinator registered as a node is never chosen, even before a sample');
ok(wait_status('itself', 'this coordinator itself'), 'its status says it is this coordinator');
($out, $s) = served("SELECT count(*) FROM prom;\n" x 6);
is($s->{itself} // 0, 0, 'nor after');
like($primary->safe_psql('postgres',
	"$route SELECT excluded FROM foresight.route_explain('SELECT * FROM prom')"),
	qr/itself: this coordinator itself/, 'route_explain says why it is left out');
is($primary->safe_psql('postgres', "SELECT status FROM foresight.node_health WHERE node_name = 'itself'"),
	'this coordinator itself', 'node_health says it too');
ok($primary->log_contains(qr/node "itself" takes no routed queries: this coordinator itself/),
	'the monitor logged it once');
$primary->safe_psql('postgres', "SELECT foresight.remove_node('itself')");

# ---- a server of another cluster registered as a standby
my $stranger = PostgreSQL::Test::Cluster->new('stranger');
$stranger->init;
$stranger->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_foresight'\n");
$stranger->start;
$stranger->safe_psql('postgres', 'CREATE EXTENSION pg_foresight');
$stranger->safe_psql('postgres', 'CREATE TABLE prom (id integer)');
ForesightCluster::register($primary, 'stranger', $stranger);
ok(wait_status('stranger', 'not a standby of this coordinator (other system identifier)'),
	'a server of another cluster registered as a standby: its status says so');
($out, $s) = served("SELECT count(*) FROM prom;\n" x 6);
is($s->{stranger} // 0, 0, 'it is never chosen');
is($out, join("\n", (10) x 6), 'reads answer as locally');
$primary->safe_psql('postgres', "SELECT foresight.remove_node('stranger')");
$stranger->stop;

# ---- a node of kind replica: its positions are not this coordinator's WAL
$primary->safe_psql('postgres',
	"SELECT foresight.add_node('rep', '" . ForesightCluster::node_conninfo($standby2) . "', kind => 'replica')");
($out, $s) = served("SELECT count(*) FROM prom;\n" x 6);
is($s->{rep} // 0, 0, 'a node of kind replica is never chosen');
like($primary->safe_psql('postgres',
	"$route SELECT excluded FROM foresight.route_explain('SELECT * FROM prom')"),
	qr/rep: kind replica/, 'route_explain says why');
$primary->safe_psql('postgres', "SELECT foresight.remove_node('rep')");

# ---- a standby promoted under a read load
my $load_sql = $primary->basedir . '/load.sql';
PostgreSQL::Test::Utils::append_to_file($load_sql,
	"$route\n" . ("SELECT count(*) FROM prom;\n" x 3000));
my ($load_out, $load_err) = ('', '');
my $load = IPC::Run::start(
	[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $primary->connstr('postgres'), '-f', $load_sql ],
	'>', \$load_out, '2>', \$load_err);
# let the load run a moment, then promote standby1
sleep 1;
$standby1->promote;
# the promoted server goes its own way: a row only it has
$standby1->safe_psql('postgres', 'INSERT INTO prom VALUES (-1)');

# a session inserts here and reads: every read sees its insert, none runs
# on the promoted standby, whether the monitor has seen it yet or not
my @bad;
for my $i (1 .. 5)
{
	my $r = $primary->safe_psql('postgres', "$route INSERT INTO prom VALUES (100 + $i);\n"
		  . ("SELECT count(*) || ':' || node_port() FROM prom;\n" x 4));
	for my $line (split /\n/, $r)
	{
		my ($count, $port) = split /:/, $line;
		push @bad, $line if $count != 10 + $i || $port == $standby1->port;
	}
}
is(scalar(@bad), 0, 'after the promotion no read misses the insert nor runs on the promoted standby')
  or diag(join("\n", @bad));

ok(wait_status('standby1', 'not in recovery (promoted?)'), 'the promoted standby says why it is left out');
ok($primary->log_contains(qr/node "standby1" takes no routed queries: not in recovery \(promoted\?\)/),
	'the monitor logged it');
($out, $s) = served("SELECT count(*) || ':' || node_port() FROM prom;\n" x 8);
is($s->{standby1} // 0, 0, 'a session that wrote nothing does not use it either');
unlike($out, qr/:${\ $standby1->port }$/m, '... (node_port)');
like($out, qr/^15:/, '... and reads what was committed here');
like($primary->safe_psql('postgres',
	"$route SELECT excluded FROM foresight.route_explain('SELECT * FROM prom')"),
	qr/standby1: not in recovery \(promoted\?\)/, 'route_explain says why');

$load->finish;
is($load->result(0), 0, 'the read load ran through the promotion without an error')
  or diag($load_err);

done_testing();
