# The catalog floor: with replay paused on one standby, catalog changes
# made by ANOTHER session (a new table, a new column, two columns swapped
# by renames, a function dropped and made again, a view redefined) are seen
# by every routed read exactly as locally: the reads run on the other
# standby or here, never on the paused one, which is used again once it
# has replayed them.  A floor that does not move costs no check.
#
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(standbys => 2,
	# a standby paused on purpose here is not to be quarantined as an
	# outlier of the fleet's replication lag (t/062)
	conf => "foresight.anomaly_detection = off\n");

my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";
my $local = "SET foresight.routing_policy = local;";

$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE TABLE wide (id integer PRIMARY KEY, v text);
INSERT INTO wide SELECT g, 'v' || g FROM generate_series(1, 5) g;
CREATE TABLE sw (a integer, b integer);
INSERT INTO sw VALUES (1, 2), (10, 20);
CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql STABLE AS 'SELECT x + 1';
CREATE VIEW vw AS SELECT id, v FROM wide WHERE id <= 2;
});

sub catch_up
{
	ForesightCluster::catch_up($primary, @_);
}

sub pause_standby1
{
	$standby1->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
	$standby1->poll_query_until('postgres',
		"SELECT pg_get_wal_replay_pause_state() = 'paused'")
	  or die 'standby1 did not pause';
}

# Resume replay and wait until the monitor has seen both standbys catch up:
# the policy tries the nodes known to be current first.
sub resume_standby1
{
	$standby1->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
	my $lsn = $primary->lsn('insert');
	catch_up($standby1, $standby2);
	$primary->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM foresight.node_health WHERE node_name LIKE 'standby%' AND replay_lsn >= '$lsn'")
	  or die 'the monitor did not see the standbys catch up';
}

# queries each standby answered (routed, not counting skipped attempts)
sub served
{
	my ($sql) = @_;
	$primary->safe_psql('postgres', 'SELECT foresight.reset_routing_stats()');
	my $out = $primary->safe_psql('postgres', "$route $sql");
	my %served = map { split /\|/ } split /\n/, $primary->safe_psql('postgres',
		"SELECT node_name, routed - errors FROM foresight.routing_stats");
	return ($out, \%served);
}

# The same statements run locally and routed from a fresh session (which
# has committed nothing): equal answers, none from the paused standby.
sub same_as_local
{
	my ($name, $sql, $times) = @_;
	$times //= 4;
	$sql .= ';' unless $sql =~ /;\s*$/;
	my $expected = $primary->safe_psql('postgres', "$local $sql");
	my ($out, $served) = served(join("\n", ($sql) x $times));
	is($out, join("\n", ($expected) x $times), "$name: routed reads answer as locally");
	is($served->{standby1} // 0, 0, "$name: the paused standby served none of them");
	return $served;
}

catch_up($standby1, $standby2);
pause_standby1();

# ---- a table created by another session
$primary->safe_psql('postgres',
	"CREATE TABLE fresh (id integer, v text); INSERT INTO fresh VALUES (1, 'x'), (2, 'y')");
catch_up($standby2);
my $served = same_as_local('new table', 'SELECT id, v FROM fresh ORDER BY id');
ok(($served->{standby2} // 0) > 0, 'new table: the other standby served reads');
my ($ports) = served("SELECT node_port() FROM fresh LIMIT 1;\n" x 4);
unlike($ports, qr/^${\ $standby1->port }$/m, 'new table: no read on the paused standby (node_port)');

# ---- a column added
$primary->safe_psql('postgres', "ALTER TABLE wide ADD COLUMN extra integer DEFAULT 7");
catch_up($standby2);
same_as_local('column added', 'SELECT * FROM wide ORDER BY id');

# ---- two columns swapped by three renames: no error, just swapped values
$primary->safe_psql('postgres', q{
ALTER TABLE sw RENAME COLUMN a TO tmp;
ALTER TABLE sw RENAME COLUMN b TO a;
ALTER TABLE sw RENAME COLUMN tmp TO b;
});
catch_up($standby2);
same_as_local('columns swapped by renames', 'SELECT * FROM sw ORDER BY 1');
is($primary->safe_psql('postgres', "$route SELECT a, b FROM sw ORDER BY a"),
	"2|1\n20|10", 'columns swapped by renames: named columns read the new names');

# ---- a function dropped and made again with another body
$primary->safe_psql('postgres', q{
DROP FUNCTION f(integer);
CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql STABLE AS 'SELECT x * 100';
});
catch_up($standby2);
same_as_local('function made again', 'SELECT id, f(id) FROM wide ORDER BY id');

# ---- a view redefined (on a column the paused standby lacks, too)
$primary->safe_psql('postgres',
	"CREATE OR REPLACE VIEW vw AS SELECT id, v, extra * id AS scaled FROM wide WHERE id >= 4");
catch_up($standby2);
same_as_local('view redefined', 'SELECT * FROM vw ORDER BY id');

# ---- in a transaction block of the reader too
same_as_local('transaction block', "BEGIN; SELECT * FROM sw ORDER BY 1; SELECT id, f(id) FROM wide ORDER BY id; COMMIT;", 2);

# route_explain says why a check is needed, until the monitor has seen the
# other standby past the floor
like($primary->safe_psql('postgres',
	"$route SELECT reason FROM foresight.route_explain('SELECT * FROM sw')"),
	qr/^policy round_robin(; replay position to be checked for the catalog floor.*|; \S+ first: \S+ is not yet seen past the catalog floor.*)?$/,
	'route_explain gives the reason');

# privileges are catalogs too
$primary->safe_psql('postgres', "CREATE ROLE reader LOGIN; GRANT SELECT ON wide TO reader;");
catch_up($standby2);
my ($ret, $stdout, $stderr) = $primary->psql('postgres',
	"$route SET ROLE reader; SELECT count(*) FROM wide; SELECT count(*) FROM wide;");
is($stdout, "5\n5", 'a role and a GRANT made by another session are seen by routed reads')
  or diag($stderr);

# ---- data changes and statistics are not catalog changes: they do not
# move the floor
resume_standby1();
pause_standby1();
$primary->safe_psql('postgres', "INSERT INTO sw VALUES (100, 200)");
my ($out, $s) = served("SELECT count(*) FROM wide;\n" x 4);
ok(($s->{standby1} // 0) > 0, 'after an INSERT by another session the paused standby still serves reads');
$primary->safe_psql('postgres', "ANALYZE sw");
$primary->safe_psql('postgres', "VACUUM sw");
$primary->safe_psql('postgres', "VACUUM ANALYZE wide");
$primary->safe_psql('postgres', "BEGIN; ANALYZE wide; COMMIT;");
($out, $s) = served("SELECT count(*) FROM wide;\n" x 4);
ok(($s->{standby1} // 0) > 0, 'after ANALYZE and VACUUM the paused standby still serves reads');
# ... but ANALYZE together with DDL does
$primary->safe_psql('postgres', "BEGIN; ANALYZE wide; CREATE TABLE also_new (x int); COMMIT;");
catch_up($standby2);
same_as_local('ANALYZE with DDL in one transaction', 'SELECT count(*) FROM wide');

# ---- replay resumed: the standby is used again
resume_standby1();
($out, $s) = served("SELECT count(*) FROM fresh;\n" x 6);
ok(($s->{standby1} // 0) > 0, 'after replay resumed the standby serves reads again');
is($primary->safe_psql('postgres', "$route SELECT * FROM sw ORDER BY 1"),
	$primary->safe_psql('postgres', "$local SELECT * FROM sw ORDER BY 1"),
	'after resume: routed reads answer as locally');

# ---- a floor that does not move costs no check: once the monitor has seen
# the standbys past it, decisions need no replay-position check
my $lsn = $primary->lsn('insert');
catch_up($standby1, $standby2);
ok($primary->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM foresight.node_health WHERE node_name LIKE 'standby%' AND replay_lsn >= '$lsn'"),
	'the monitor sees both standbys past the floor');
is($primary->safe_psql('postgres',
	"$route SELECT reason FROM foresight.route_explain('SELECT * FROM sw')"),
	'policy round_robin', 'no replay-position check while the floor stands still');

# ---- a catalog change in another database raises the floor too
$primary->safe_psql('postgres', 'CREATE DATABASE other');
catch_up($standby1, $standby2);
pause_standby1();
$primary->safe_psql('other', 'CREATE TABLE o (x int)');
catch_up($standby2);
($out, $s) = served("SELECT count(*) FROM sw;\n" x 4);
is($s->{standby1} // 0, 0, 'a catalog change in another database keeps the paused standby out');
resume_standby1();

done_testing();
