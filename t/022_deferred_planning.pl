# Deferred local planning (foresight.defer_local_planning, route_cache.c):
# simple-protocol queries of a shape seen before are routed without a local
# plan, which is made only if the query runs here.  Every result equals the
# local one, whether the query ran on a standby, here by choice, or here
# after both standbys stopped; names in the remote SQL follow renames and
# search_path; permissions, errors and EXPLAIN are as without deferral.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(standbys => 2);
my $pport = $primary->port;
my %name_of = ($standby1->port => 'standby1', $standby2->port => 'standby2', $pport => 'primary');

$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
GRANT EXECUTE ON FUNCTION node_port() TO PUBLIC;
CREATE TABLE t (id integer PRIMARY KEY, v text, n numeric, ts timestamptz);
INSERT INTO t SELECT g, 'v' || g || ' ü', g * 1.5, timestamptz '2026-01-01 00:00+00' + g * interval '7 hours'
	FROM generate_series(1, 200) g;
CREATE FUNCTION twice(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
CREATE SCHEMA s1;
CREATE TABLE s1.t2 (id integer, v text);
INSERT INTO s1.t2 VALUES (1, 'in s1');
CREATE TABLE public.t2 (id integer, v text);
INSERT INTO public.t2 VALUES (1, 'in public');
CREATE ROLE noperm LOGIN;
GRANT USAGE ON SCHEMA s1 TO noperm;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);

# query shapes, each with several sets of constants
my @shapes = (
	[ 'point lookup', "SELECT node_port(), v FROM t WHERE id = %d", [ 1 .. 6 ] ],
	[ 'range aggregate', "SELECT node_port(), count(*), sum(n) FROM t WHERE id BETWEEN %d AND %d",
		[ map { [ $_, $_ + 20 ] } 3, 9, 27, 81, 100, 150 ] ],
	[ 'text pattern, ORDER BY', "SELECT node_port(), id, v FROM t WHERE v LIKE 'v%d%%' ORDER BY id",
		[ 1 .. 6 ] ],
	[ 'join', "SELECT node_port(), a.id, b.v FROM t a JOIN t b ON b.id = a.id + %d WHERE a.id < %d ORDER BY 2",
		[ map { [ $_, $_ + 4 ] } 1 .. 6 ] ],
	[ 'timestamptz, LIMIT', "SELECT node_port(), ts FROM t WHERE ts > '2026-01-0%d 00:00+05' ORDER BY ts LIMIT 3",
		[ 1 .. 6 ] ],
	[ 'sub-query', "SELECT node_port(), id FROM t WHERE id IN (SELECT id + 1 FROM t WHERE id < 9) AND id > %d ORDER BY id",
		[ 1 .. 6 ] ],);

sub instances
{
	my ($sql, $args) = @_;
	return map { sprintf($sql, ref $_ ? @$_ : $_) } @$args;
}

# one session: SET..., then each query; returns a list of [ports, rows] per query
sub run_session
{
	my ($settings, @queries) = @_;
	my $sep = 'QUERY-END';
	my $sql = join("\n", $settings, map { "$_; SELECT '$sep';" } @queries);
	my $out = $primary->safe_psql('postgres', $sql);
	my @results;
	for my $chunk (split /^$sep\n?/m, $out . "\n")
	{
		my (@ports, @rows);
		for my $line (split /\n/, $chunk)
		{
			my ($port, $rest) = split /\|/, $line, 2;
			push @ports, $port;
			push @rows, $rest // '';
		}
		push @results, [ \@ports, join("\n", @rows) ];
	}
	pop @results if @results > @queries;
	return @results;
}

my @queries = map { instances($_->[1], $_->[2]) } @shapes;
my @expected = run_session("SET foresight.routing_policy = local; SET TimeZone = 'Asia/Kathmandu';", @queries);
# both standbys seen current after the set-up's DDL, so that round robin
# spreads over all three (ForesightCluster::wait_standbys_seen_current)
ok(ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2),
	'the monitor has seen both standbys replay the set-up');
my @mixed = run_session(
	"SET foresight.routing_policy = round_robin; SET foresight.include_local = on; SET TimeZone = 'Asia/Kathmandu';",
	@queries, "SELECT '0', sum(hits) || ' ' || count(*) FROM foresight.query_shapes WHERE remote_sql LIKE '%node_port()%'");

my %where;
for my $i (0 .. $#queries)
{
	is($mixed[$i][1], $expected[$i][1], "deferred: result of \"$queries[$i]\" equals the local one");
	$where{ $name_of{ $mixed[$i][0][0] // '' } // '?' }++;
}
ok($expected[0][1] ne '' && $expected[12][1] =~ /\n/, 'the expected results are not empty');
is(join(',', sort keys %where), 'primary,standby1,standby2',
	'queries of known shapes ran on both standbys and here');
my ($hits, $entries) = split / /, $mixed[-1][1];
is($entries, scalar(@shapes), 'foresight.query_shapes has one entry per shape');
is($hits, scalar(@queries) - scalar(@shapes), 'every query after the first of its shape was a hit');

# A shape whose rows depend on the plan (LIMIT without ORDER BY): the node
# plans it with its values every time, as here.  Prepared there, after
# five custom plans the node took a generic one (a sequential scan) and
# the last query, whose custom plan here reads the index, got other rows.
$primary->safe_psql('postgres', q{
CREATE TABLE sk AS SELECT g AS id, (g * 7919) % 100003 AS k FROM generate_series(1, 100000) g;
CREATE INDEX ON sk (k);
ANALYZE sk;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);
my @unordered = (map({ "SELECT node_port(), id, k FROM sk WHERE k > $_ LIMIT 3" } 1 .. 14),
	"SELECT node_port(), id, k FROM sk WHERE k > 99990 LIMIT 3");
my @unordered_here = run_session("SET foresight.routing_policy = local;", @unordered);
my @unordered_routed = run_session(
	"SET foresight.routing_policy = round_robin; SET foresight.include_local = off;", @unordered);
is(join("\n", map { $_->[1] } @unordered_routed), join("\n", map { $_->[1] } @unordered_here),
	'LIMIT without ORDER BY, one shape fifteen times: the rows of the plan here');
is(scalar(grep { ($name_of{ $_->[0][0] // '' } // '') =~ /^standby/ } @unordered_routed), 15,
	'... and they ran on the standbys');
# how the node ran them: that shape unnamed, a point lookup through the
# primary key prepared (its rows no plan can change); the node sessions
# log their statements (log_min_duration_statement is carried)
my %log_at = map { ($_ => -s $_->logfile) } ($standby1, $standby2);
run_session("SET foresight.routing_policy = round_robin; SET foresight.include_local = off;
SET log_min_duration_statement = 0;",
	(map { "SELECT node_port(), id, k FROM sk WHERE k > $_ LIMIT 3" } 21 .. 24),
	(map { "SELECT node_port(), v FROM t WHERE id = $_" } 1 .. 4));
my $node_log = join('', map { substr(slurp_file($_->logfile), $log_at{$_}) } ($standby1, $standby2));
like($node_log, qr/execute <unnamed>:\s+SELECT node_port\(\) AS node_port,\s+id,\s+k\s+FROM sk\s+WHERE \(k > \$1\)/,
	'a lifted shape whose rows a plan could change is sent unnamed');
unlike($node_log, qr/execute fs_\d+:\s+SELECT node_port\(\) AS node_port,\s+id,\s+k\s+FROM sk/,
	'... and never prepared');
like($node_log, qr/execute fs_\d+:\s+SELECT node_port\(\) AS node_port,\s+v\s+FROM t\s+WHERE \(id = \$1\)/,
	'a point lookup through the primary key stays prepared on the node');

# the same session, deferral off: nothing is kept
my @off = run_session("SET foresight.defer_local_planning = off; SET foresight.routing_policy = round_robin;",
	instances($shapes[0][1], $shapes[0][2]), "SELECT '0', count(*) FROM foresight.query_shapes");
is($off[-1][1], '0', 'with foresight.defer_local_planning off no shape is kept');
is($off[2][1], $expected[2][1], 'and the results are the same');

# with compute_query_id on, shapes are found by the query id
my @qid = run_session("SET compute_query_id = on; SET foresight.routing_policy = round_robin;",
	instances($shapes[1][1], $shapes[1][2]),
	"SELECT '0', sum(hits) || ' ' || count(*) FROM foresight.query_shapes WHERE remote_sql LIKE '%node_port()%'");
is($qid[-1][1], '5 1', 'compute_query_id on: one entry, five hits');
is(join("\n", map { $_->[1] } @qid[0 .. 5]), join("\n", map { $_->[1] } @expected[6 .. 11]),
	'and the same results');

# EXPLAIN plans locally even for a known shape
my $explain = $primary->safe_psql('postgres', q{
SET foresight.routing_policy = round_robin;
SELECT v FROM t WHERE id = 1; SELECT v FROM t WHERE id = 2;
EXPLAIN (VERBOSE, COSTS OFF) SELECT v FROM t WHERE id = 3;
});
like($explain, qr/Foresight Route.*Remote Parameters: \$1 = '3'.*Index Scan using t_pkey on public\.t.*Index Cond: \(t\.id = 3\)/s,
	'EXPLAIN of a known shape shows the local plan for its own constant');

# a function renamed (by another session) between two queries of one shape:
# the remote SQL follows
my $bg = $primary->background_psql('postgres');
$bg->query_safe("SET foresight.routing_policy = round_robin; SET foresight.include_local = off;");
my @renamed;
push @renamed, $bg->query_safe("SELECT node_port() || ' ' || twice(id) FROM t WHERE id = $_") for 1 .. 2;
$primary->safe_psql('postgres', 'ALTER FUNCTION twice(integer) RENAME TO double_it');
# (looking the new name up may prune pg_proc here, WAL the session must then
# see replayed: let it happen, and replay, before the queries)
$bg->query_safe("SET foresight.routing_policy = local; SELECT double_it(1); SET foresight.routing_policy = round_robin;");
ForesightCluster::catch_up($primary, $standby1, $standby2);
push @renamed, $bg->query_safe("SELECT node_port() || ' ' || double_it(id) FROM t WHERE id = $_") for 3 .. 4;
is(join(',', map { (split / /)[1] } @renamed), '2,4,6,8', 'a renamed function: same shape, new name sent');
ok(!grep({ !/^(\d+) / || ($name_of{$1} // '') !~ /^standby/ } @renamed), 'and all four ran on a standby')
	or diag(join('|', @renamed));
$bg->quit;

# search_path: the same relation named differently; the remote SQL qualifies it
my @paths = run_session("SET foresight.routing_policy = round_robin; SET foresight.include_local = off;",
	"SET search_path = s1, public; SELECT node_port(), v FROM t2 WHERE id = 1",
	"SELECT node_port(), v FROM t2 WHERE id = 1",
	"SET search_path = public; SELECT node_port(), v FROM s1.t2 WHERE id = 1",
	"SELECT node_port(), v FROM t2 WHERE id = 1");
is(join(',', map { $_->[1] } @paths), 'in s1,in s1,in s1,in public', 'search_path changes: each query reads its own table');
like($name_of{ $paths[2][0][0] } // '', qr/^standby/, 'and ran on a standby');

# another role: not the owner's entry; permissions are checked for it
my ($ret, $stdout, $stderr) = $primary->psql('postgres', q{
SET foresight.routing_policy = round_robin;
SELECT v FROM t WHERE id = 1; SELECT v FROM t WHERE id = 2;
SET ROLE noperm;
SELECT v FROM t WHERE id = 3;
});
like($stderr, qr/permission denied for table t/, 'another role of the session gets its own permission error');

# an error while a deferred plan runs here, and the session goes on
($ret, $stdout, $stderr) = $primary->psql('postgres',
	"SET foresight.routing_policy = round_robin; SET foresight.include_local = on;\n"
	  . join("\n", map { "SELECT node_port(), 10 / (id - id) FROM t WHERE id = $_;" } 1 .. 6)
	  . "\nSELECT 'alive', count(*) FROM foresight.query_shapes;",
	on_error_stop => 0);
is(scalar(() = $stderr =~ /division by zero/g), 6, 'every run of the failing shape reports division by zero');
like($stdout, qr/^alive\|1$/m, 'the session goes on and kept the shape');

# a known shape after a write in the same transaction runs here (deferred
# plan) and reads the write
my $own = $primary->safe_psql('postgres', q{
SET foresight.routing_policy = round_robin; SET foresight.include_local = off;
SELECT v FROM t WHERE id = 9; SELECT v FROM t WHERE id = 10;
BEGIN;
UPDATE t SET v = 'changed' WHERE id = 11;
SELECT v FROM t WHERE id = 11;
ROLLBACK;
SELECT hits FROM foresight.query_shapes;
});
is($own, "v9 ü\nv10 ü\nchanged\n2", 'after a write in its transaction a known shape runs here and sees the write');

# in a REPEATABLE READ block known shapes go to the block's node
ForesightCluster::catch_up($primary, $standby1, $standby2);
my @rr = split /\n/, $primary->safe_psql('postgres', q{
SET foresight.routing_policy = round_robin; SET foresight.include_local = off;
SELECT node_port() || ' ' || v FROM t WHERE id = 12;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT node_port() || ' ' || v FROM t WHERE id = 13;
SELECT node_port() || ' ' || v FROM t WHERE id = 14;
COMMIT;
SELECT hits FROM foresight.query_shapes;
});
my @rr_ports = map { (/^(\d+) /)[0] // '' } @rr[1, 2];
ok($rr_ports[0] eq $rr_ports[1] && ($name_of{ $rr_ports[0] } // '') =~ /^standby/,
	'both reads of the block ran on one standby') or diag(join('|', @rr));
is(join('|', map { (split / /, $_, 2)[1] // $_ } @rr), 'v12 ü|v13 ü|v14 ü|2', 'with the right rows, as known shapes');

# partitions that the first query's plan pruned: a shape over a table with
# a partition no node can read (a foreign table reading a file of the
# server's own data directory, an unlogged table) is not kept, so that each
# query is routed, or not, by its own plan; kept, the foreign partition was
# read on a standby, from the standby's file
$primary->safe_psql('postgres', q{
CREATE EXTENSION file_fdw;
CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
CREATE TABLE parts (k integer, v text) PARTITION BY LIST (k);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES IN (1);
CREATE UNLOGGED TABLE parts_2 PARTITION OF parts FOR VALUES IN (2);
CREATE FOREIGN TABLE parts_3 PARTITION OF parts FOR VALUES IN (3)
	SERVER files OPTIONS (filename 'parts_3.csv', format 'csv');
INSERT INTO parts VALUES (1, 'logged'), (2, 'unlogged');
});
for my $node ($primary, $standby1, $standby2)
{
	PostgreSQL::Test::Utils::append_to_file($node->data_dir . '/parts_3.csv',
		"3,file of $name_of{ $node->port }\n");
}
ForesightCluster::catch_up($primary, $standby1, $standby2);
ok(ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2),
	'the monitor has seen both standbys replay the partitions');
my @parts = run_session("SET foresight.routing_policy = round_robin; SET foresight.include_local = off;",
	(map { "SELECT node_port(), v FROM parts WHERE k = $_" } 1, 3, 2, 3, 1),
	"SELECT '0', count(*) FROM foresight.query_shapes WHERE remote_sql LIKE '%parts%'");
like($name_of{ $parts[0][0][0] } // '', qr/^standby/, 'a read of the ordinary partition ran on a standby');
is(join('|', map { $_->[1] } @parts[1 .. 3]), 'file of primary|unlogged|file of primary',
	'the foreign and the unlogged partition were read here, with the same shape known');
is($parts[5][1], '0', 'and the shape was not kept');

# the extended protocol without parameters (unnamed and named statements)
my $script = $primary->basedir . '/constant.sql';
PostgreSQL::Test::Utils::append_to_file($script, "SELECT v FROM t WHERE id = 7;\n");
for my $mode (qw(extended prepared))
{
	local $ENV{PGOPTIONS} = '-c foresight.routing_policy=round_robin -c foresight.include_local=on';
	$primary->command_ok(
		[ 'pgbench', '-n', '-M', $mode, '-t', '30', '-f', $script, '-h', $primary->host, '-p', $pport, 'postgres' ],
		"pgbench -M $mode of a constant query, routed");
}

# both standbys stopped: every known shape falls back here and plans then
$standby1->stop('fast');
$standby2->stop('fast');
my @down = run_session("SET foresight.routing_policy = round_robin; SET foresight.include_local = off;",
	@queries[0 .. 11]);
for my $i (0 .. 11)
{
	is($down[$i][1], $expected[$i][1], "standbys stopped: \"$queries[$i]\" falls back here, same result");
}
is(scalar(grep { ($name_of{ $_->[0][0] // '' } // '') eq 'primary' } @down[0 .. 11]), 12,
	'and every one ran on the primary');

done_testing();
