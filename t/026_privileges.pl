# Privileges around routing, with a real standby: route_explain shows the
# route of a statement only to a role that may run it (otherwise the
# permission error the statement itself raises), the statement, once
# allowed, is routed; the decision log is for monitoring roles; a node's
# password is never shown but still used; the monitor's statistics query
# resolves no name outside pg_catalog.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1) = ForesightCluster::create(standbys => 1);
$primary->safe_psql('postgres', q{
CREATE TABLE payroll (id integer PRIMARY KEY, salary numeric);
INSERT INTO payroll SELECT g, g * 1000 FROM generate_series(1, 100) g;
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
GRANT EXECUTE ON FUNCTION node_port() TO PUBLIC;
CREATE ROLE bob LOGIN;
});
ForesightCluster::catch_up($primary, $standby1);

my $route = 'SET foresight.routing_policy = round_robin; SET foresight.include_local = off;';

sub as_bob
{
	my ($sql) = @_;
	my ($ret, $stdout, $stderr) =
	  $primary->psql('postgres', "$route $sql", extra_params => [ '-U', 'bob' ]);
	return ($ret, $stdout, $stderr);
}

# a table bob may not read: route_explain raises the query's own error and
# shows nothing of the plan
my ($ret, $out, $err) = as_bob(
	"SELECT * FROM foresight.route_explain('SELECT salary FROM payroll WHERE id = 42')");
isnt($ret, 0, 'route_explain of a table the role may not read fails');
like($err, qr/ERROR:  permission denied for table payroll/, 'with the permission error naming the table');
unlike($out, qr/standby1|42/, 'and shows no route, cost or constant');
my ($ret2, $out2, $err2) = as_bob('SELECT salary FROM payroll WHERE id = 42');
my ($e1) = $err =~ /(ERROR:.*)/;
my ($e2) = $err2 =~ /(ERROR:.*)/;
is($e1, $e2, 'the same error as the statement itself');

# a column bob may not read
$primary->safe_psql('postgres', 'GRANT SELECT (id) ON payroll TO bob');
($ret, $out, $err) = as_bob(
	"SELECT node FROM foresight.route_explain('SELECT salary FROM payroll WHERE id = 42')");
like($err, qr/ERROR:  permission denied for table payroll/, 'a column the role may not read counts too');
($ret, $out, $err) = as_bob(
	"SELECT node FROM foresight.route_explain('SELECT id FROM payroll WHERE id = 42')");
is($out, 'standby1', 'the columns it may read are explained');

# once allowed, route_explain names the standby and the query runs there
$primary->safe_psql('postgres', 'GRANT SELECT ON payroll TO bob');
($ret, $out, $err) = as_bob(
	"SELECT node, remote_parameters FROM foresight.route_explain('SELECT salary FROM payroll WHERE id = 42')");
is($out, 'standby1|{42}', 'route_explain shows the route once the role may read the table');
($ret, $out, $err) = as_bob('SELECT node_port(), salary FROM payroll WHERE id = 42');
is($out, $standby1->port . '|42000', 'and the query is routed to the standby');

# the decision log: not for bob, and not through its function either
($ret, $out, $err) = as_bob('SELECT count(*) FROM foresight.routing_decisions');
like($err, qr/permission denied for view routing_decisions/, 'bob may not read the decision log');
($ret, $out, $err) = as_bob('SELECT count(*) FROM foresight.decision_list()');
like($err, qr/permission denied for function decision_list/, 'nor call the function behind it');
$primary->safe_psql('postgres', 'GRANT pg_read_all_stats TO bob');
($ret, $out, $err) = as_bob(
	"SELECT chosen_node FROM foresight.decision_list() WHERE chosen_node = 'standby1' LIMIT 1");
is($out, 'standby1', 'a member of pg_read_all_stats reads it, with the routed query');

# a password in a node's conninfo is masked in the view, and used
$primary->safe_psql('postgres',
	"SELECT foresight.alter_node('standby1', conninfo => '"
	  . ForesightCluster::node_conninfo($standby1) . " password=hunter2')");
my $shown = $primary->safe_psql('postgres', "SELECT conninfo FROM foresight.nodes WHERE node_name = 'standby1'");
like($shown, qr/password='\*{8}'/, 'the view masks the password');
unlike($shown, qr/hunter2/, 'and never shows it');
($ret, $out, $err) = as_bob('SELECT node_port(), salary FROM payroll WHERE id = 7');
is($out, $standby1->port . '|7000', 'the node is still used with its password');

# foresight.connection_options is for superusers only, even to read
($ret, $out, $err) = as_bob('SHOW foresight.connection_options');
like($err, qr/must be superuser or have privileges of pg_read_all_settings/,
	'connection_options cannot be read by a plain role');

# The monitor's statistics query resolves its names in pg_catalog alone.  A
# database setting that puts a role's schema first makes that role's
# current_setting() the one an unqualified call finds; the monitor's
# privileged sessions, and node_snapshot() in any session, must not run it.
my $max_connections = $standby1->safe_psql('postgres', 'SHOW max_connections');
$primary->safe_psql('postgres', q{
CREATE SCHEMA shadow AUTHORIZATION bob;
SET ROLE bob;
CREATE FUNCTION shadow.current_setting(text) RETURNS text LANGUAGE sql AS
  $$ SELECT CASE WHEN $1 = 'max_connections' THEN '7' ELSE pg_catalog.current_setting($1) END $$;
RESET ROLE;
ALTER DATABASE postgres SET search_path = shadow, pg_catalog;
});
ForesightCluster::catch_up($primary, $standby1);
is($standby1->safe_psql('postgres', "SELECT current_setting('max_connections')"), '7',
	'the shadowing function is what an unqualified call finds');
is($standby1->safe_psql('postgres',
		"SELECT foresight.node_snapshot_json() ->> 'max_connections'"),
	$max_connections, 'node_snapshot() reads the catalog function all the same');
# a changed conninfo makes the monitor connect again, under the new
# setting; a sample taken once that session is there is that session's
# (the old one, opened before the setting, would read the catalog's
# function whatever the code)
my $t0 = $standby1->safe_psql('postgres', 'SELECT now()');
$primary->safe_psql('postgres',
	"SELECT foresight.alter_node('standby1', conninfo => '"
	  . ForesightCluster::node_conninfo($standby1) . " connect_timeout=10')");
$standby1->poll_query_until('postgres', qq{
	SELECT count(*) > 0 FROM pg_stat_activity
	WHERE application_name = 'foresight monitor' AND backend_start > '$t0'})
  or die 'the monitor has not connected to standby1 again';
my $t1 = $primary->safe_psql('postgres', 'SELECT now()');
$primary->poll_query_until('postgres',
	"SELECT sampled_at > '$t1' FROM foresight.node_metrics WHERE node_name = 'standby1'")
  or die 'no sample of standby1 from its new session';
is($primary->safe_psql('postgres',
		"SELECT max_connections FROM foresight.node_metrics WHERE node_name = 'standby1'"),
	$max_connections, 'and so does the monitor\'s new session on the standby');

# nor do the administrators' functions run another schema's operators
$primary->safe_psql('postgres', q{
SET ROLE bob;
CREATE FUNCTION shadow.text_equal(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN RAISE WARNING 'shadow operator ran as %', current_user; RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR shadow.= (LEFTARG = text, RIGHTARG = text, FUNCTION = shadow.text_equal);
RESET ROLE;
});
my ($stdout, $stderr);
$primary->psql('postgres', q{SELECT 'a'::text = 'a'::text},
	stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/shadow operator ran as/, 'the shadowing operator is what an unqualified = finds');
$primary->psql('postgres', q{
SELECT foresight.alter_node('standby1', weight => 1);
SELECT foresight.add_node('standby9', 'host=127.0.0.1 port=1');
SELECT foresight.remove_node('standby9');
SELECT foresight.set_split_key('public.payroll', 'id');
SELECT foresight.set_split_key('public.payroll', NULL);
}, stdout => \$stdout, stderr => \$stderr);
is($stderr, '', 'alter_node, add_node, remove_node and set_split_key run none of it');
# a routed read runs only what it would run here: the node session's own
# set-up statements do not call it either
my $log_from = -s $standby1->logfile;
($ret, $out, $err) = as_bob('SELECT salary FROM public.payroll WHERE id = 7');
is($out, '7000', 'a read under that search_path');
is($primary->safe_psql('postgres',
		'SELECT chosen_node FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 1'),
	'standby1', 'is routed');
is($err, '', 'with nothing more to say');
unlike(slurp_file($standby1->logfile, $log_from), qr/shadow operator ran/,
	'and its node session ran no operator of that schema');
$primary->safe_psql('postgres', 'ALTER DATABASE postgres RESET search_path');

done_testing();
