# t/055_split_faults.pl: split reads through the executor when things go
# wrong, on a coordinator with two standbys and a table whose parts run for
# seconds: EXPLAIN and the decision log of a split, a prepared statement
# that follows a new split key, a user-defined aggregate, an error in a
# part, a permission error, row-level security, then the faults: a
# statement_timeout and a cancel mid-split (the parts stop on their nodes),
# a node stopped mid-split and while its part streams rows (the right
# answer or a clean error, never some of the rows), a node paused in replay
# (waited for, then not used) and one that catches up in time; then parts
# cut by block ranges, alone and while transfers between rows commit.
#
# Not parallel-safe, only light: the faults are timed against the parts'
# progress, which a CPU-heavy test beside it would disturb.
# (The random queries split against their local answers are t/051's.)
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
# runs long: scripts/test.sh starts it first among those
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

use lib 't/lib';
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => "autovacuum = off\n");

# The standbys alone take parts here: the faults are theirs; the
# coordinator's part is t/052's.  One piece per node, as these tests count
# parts: more pieces than nodes are t/051's random queries' and t/053's.
my $split_on = "SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.include_local = off; SET foresight.split_piece_cost = 0;";
$primary->safe_psql('postgres', q{
CREATE TABLE big (id integer PRIMARY KEY, v integer NOT NULL, secret text);
INSERT INTO big SELECT i, i % 97, 's' || i FROM generate_series(1, 100000) i;
ANALYZE big;
-- slow per row on every server (immutable: a part may call it)
CREATE FUNCTION slow_true(x integer) RETURNS boolean IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.1); RETURN true; END $$;
CREATE AGGREGATE my_sum(integer) (sfunc = int4pl, stype = integer, combinefunc = int4pl, initcond = '0');
CREATE ROLE alice LOGIN;
GRANT SELECT (id, v) ON big TO alice;
CREATE TABLE rls_t (id integer PRIMARY KEY, owner text NOT NULL);
INSERT INTO rls_t SELECT i, CASE WHEN i % 3 = 0 THEN 'alice' ELSE 'bob' END FROM generate_series(1, 3000) i;
ANALYZE rls_t;
ALTER TABLE rls_t ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON rls_t USING (owner = current_user);
GRANT SELECT ON rls_t TO alice;
});
# the standbys take parts once the monitor has seen them replay the DDL
ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2)
  or die 'the monitor has not seen the standbys replay the tables';
my $slow = "SELECT count(*), sum(v) FROM big WHERE id % 2000 = 0 AND slow_true(id)";

sub parts_on_standbys { return ForesightCluster::split_parts_running('slow_true', $standby1, $standby2); }
sub wait_parts { return ForesightCluster::wait_split_parts($_[0], 'slow_true', $standby1, $standby2); }
sub last_split
{
	return $primary->safe_psql('postgres',
		"SELECT reason FROM foresight.routing_decisions WHERE reason LIKE 'split:%' ORDER BY decision_id DESC LIMIT 1");
}

# EXPLAIN: the combine plan over the split scan, parts, their SQL and rows
my $explain = $primary->safe_psql('postgres', "$split_on EXPLAIN (VERBOSE, COSTS OFF) SELECT v, count(*) FROM big GROUP BY v ORDER BY 2 DESC LIMIT 3");
like($explain, qr/Limit.*Sort.*Aggregate.*Custom Scan \(Foresight Split\)/s, 'EXPLAIN: Limit, Sort, Aggregate over the split scan');
like($explain, qr/Split Relation: public\.big/, 'EXPLAIN: the split relation');
like($explain, qr/Part 1: standby\d: \(id < \d+\)/, 'EXPLAIN: a part, its node and range');
like($explain, qr/Part 2 SQL: +SELECT v AS c1,\s+count\(\*\) AS c2\s/s,
	'EXPLAIN VERBOSE: the part\'s SQL, count(*) as it is (its result is its state)');
like($explain, qr/Output: foresight_parts\.c1, foresight\.combine_results\('count\(\)'::regprocedure, foresight_parts\.c2\)/,
	'EXPLAIN VERBOSE: the parts\' counts combined by combine_results');
my $explain_avg = $primary->safe_psql('postgres', "$split_on EXPLAIN (VERBOSE, COSTS OFF) SELECT v, avg(id), stddev(id) FROM big GROUP BY v");
like($explain_avg, qr/Part 2 SQL: +SELECT v AS c1,\s+ARRAY\[count\(id\), COALESCE\(sum\(id\), '0'::bigint\)\] AS c2,\s+foresight\.partial_agg\('stddev\(integer\)'::regprocedure, id\) AS c3/s,
	'EXPLAIN VERBOSE: avg\'s state {count, sum} from count and sum, stddev\'s through partial_agg');
like($explain_avg, qr/Output: foresight_parts\.c1, int8_avg\(foresight\.combine_results\('avg\(integer\)'::regprocedure, foresight_parts\.c2\)\), foresight\.finalize_agg\('stddev\(integer\)'::regprocedure, foresight_parts\.c3, NULL::numeric\)/,
	'EXPLAIN VERBOSE: avg combined, then its final function; stddev finalised by finalize_agg');
my $avg_q = 'SELECT v, avg(id), avg((id % 1000)::smallint) FILTER (WHERE id % 3 = 0), stddev(id) FROM big GROUP BY v ORDER BY v';
is($primary->safe_psql('postgres', "$split_on $avg_q"), $primary->safe_psql('postgres', "SET foresight.routing_policy = local; $avg_q"),
	'avg of int4 and int2 (with FILTER) from count and sum: the answer run here');
is($primary->safe_psql('postgres', "$split_on SELECT avg(id) FROM big WHERE id < 0"), '',
	'avg from count and sum over no row: NULL');
my $explain_generic = $primary->safe_psql('postgres', "$split_on SET foresight.split_native_aggregates = off; EXPLAIN (VERBOSE, COSTS OFF) SELECT v, count(*) FROM big GROUP BY v");
like($explain_generic, qr/Part 2 SQL: +SELECT v AS c1,\s+foresight\.partial_agg\('count\(\)'::regprocedure\) AS c2/s,
	'split_native_aggregates off: count(*) through partial_agg too');
is($primary->safe_psql('postgres', "$split_on SET foresight.split_native_aggregates = off; SELECT count(*), sum(v), min(id), max(secret) FROM big"),
	$primary->safe_psql('postgres', "$split_on SELECT count(*), sum(v), min(id), max(secret) FROM big"),
	'the same answer either way');
my $analyze = $primary->safe_psql('postgres', "$split_on EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT v, count(*) FROM big GROUP BY v");
like($analyze, qr/Part 1: standby\d: .*\(rows=\d+ time=[\d.]+ ms\)/, 'EXPLAIN ANALYZE: rows and time per part');
unlike($analyze, qr/Part \d: local/, 'EXPLAIN ANALYZE: every part ran on a standby');
like(last_split(), qr/^split: 2 parts of public\.big by id; ran on parts standby\d \d+r/, 'the decision log has the split and its parts');
# each standby's pace, measured by the splits above (both took a part)
my $paces_sql = q{SELECT string_agg(node_name || ' ' || pace || ' ' || pace_measured_at, ', ' ORDER BY node_name)
	FROM foresight.split_nodes WHERE node_name LIKE 'standby%' AND pace > 0};
my $paces = $primary->safe_psql('postgres', $paces_sql);
like($paces, qr/^standby1 [\d.e-]+ \S+ \S+, standby2 [\d.e-]+ \S+ \S+$/,
	'foresight.split_nodes: both standbys have a measured pace');
# a LIMIT over merged parts: a part not read to its end says so, with its
# time until the answer was complete (not 0)
my $cut = $primary->safe_psql('postgres', "$split_on EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT id FROM big ORDER BY id DESC LIMIT 1000");
like($cut, qr/Part \d: standby\d: [^\n]*\(rows=\d+ time=[\d.]+ ms, not read to the end\)/,
	'EXPLAIN ANALYZE: a part the LIMIT did not need to its end says so')
  or diag($cut);
unlike($cut, qr/time=0\.000 ms/, 'EXPLAIN ANALYZE: every part has its time');
# ... and its split teaches no pace: that part did only part of its work
is($primary->safe_psql('postgres', $paces_sql), $paces, 'a split with a part not read to the end leaves the paces as they were');

is($primary->safe_psql('postgres', "$split_on SELECT node, reason ~ '^split: 2 parts of public\\.big by id \\(partial aggregates\\): part 1 .* on standby\\d, part 2 .* on standby\\d\$', remote_sql ~ 'count\\(\\*\\) AS c2' FROM foresight.route_explain('SELECT v, count(*) FROM big GROUP BY v')"),
	'split|t|t', 'route_explain shows the split, its parts and their SQL');

# a prepared statement's cached plan follows a new split key
{
	my $prep = $primary->background_psql('postgres', on_error_stop => 0);
	$prep->query_safe($split_on);
	$prep->query_safe('PREPARE by_v AS SELECT v, count(*) FROM big GROUP BY v');
	$prep->query_safe('EXECUTE by_v') for 1 .. 6;	# a cached generic plan
	like($prep->query_safe('EXPLAIN (COSTS OFF) EXECUTE by_v'), qr/Split Key: id\b/, 'prepared: split on the primary key');
	$primary->safe_psql('postgres', "SELECT foresight.set_split_key('big', 'v')");
	like($prep->query_safe('EXPLAIN (COSTS OFF) EXECUTE by_v'), qr/Split Key: v\b/,
		'prepared: set_split_key in another session makes the plan again with the new key');
	$primary->safe_psql('postgres', "SELECT foresight.set_split_key('big', NULL)");
	like($prep->query_safe('EXPLAIN (COSTS OFF) EXECUTE by_v'), qr/Split Key: id\b/,
		'prepared: and again when the declaration is removed');
	$prep->quit;
}

# a user-defined aggregate with a combine function splits
is($primary->safe_psql('postgres', "$split_on SELECT my_sum(v) FROM big"),
	$primary->safe_psql('postgres', 'SELECT sum(v) FROM big'), 'user-defined aggregate: the same answer');
like(last_split(), qr/^split: 2 parts/, 'user-defined aggregate: split');

# an error in a part is the client's error, with its SQLSTATE
my ($ret, $out, $err) = $primary->psql('postgres', "$split_on \\set VERBOSITY verbose\nSELECT sum(1 / (id - 77777)) FROM big");
like($err, qr/ERROR:  22012: division by zero/, 'an error in a part: the node\'s SQLSTATE and message');
# permissions: the same error as locally
($ret, $out, $err) = $primary->psql('postgres', "$split_on SELECT count(secret) FROM big",
	connstr => $primary->connstr('postgres') . ' user=alice');
like($err, qr/permission denied for table big/, 'permission error: the client\'s error');
is($primary->safe_psql('postgres', "$split_on SELECT count(*), sum(v) FROM big",
	connstr => $primary->connstr('postgres') . ' user=alice'),
	$primary->safe_psql('postgres', 'SELECT count(*), sum(v) FROM big'), 'a permitted role splits with its rights');
# RLS: the same rows split or not (tables with policies are not split)
is($primary->safe_psql('postgres', "$split_on SELECT count(*), sum(id) FROM rls_t",
	connstr => $primary->connstr('postgres') . ' user=alice'),
	$primary->safe_psql('postgres', "SET foresight.routing_policy = local; SELECT count(*), sum(id) FROM rls_t",
	connstr => $primary->connstr('postgres') . ' user=alice'), 'RLS: the same rows split or not');

# statement_timeout mid-split: every part stops on its node
my $to = $primary->background_psql('postgres', on_error_stop => 0);
$to->query_safe("$split_on SET statement_timeout = '2s'");
$to->query_until(qr/start/, "\\echo start\n$slow;\n");
ok(wait_parts(2), 'both parts run on the standbys');
$to->{stderr} = '';
$to->query("SELECT 1");
like($to->{stderr}, qr/canceling statement due to statement timeout/, 'statement_timeout ends the split query');
ok(wait_parts(0), 'statement_timeout: every part stopped on its node');
$to->quit;

# pg_cancel_backend mid-split
my $bg = $primary->background_psql('postgres', on_error_stop => 0);
$bg->query_safe($split_on);
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/start/, "\\echo start\n$slow;\n");
ok(wait_parts(2), 'both parts run before the cancel');
$primary->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
ok(wait_parts(0), 'pg_cancel_backend: every part stopped on its node');
$bg->{stderr} = '';
$bg->query("SELECT 1");
like($bg->{stderr}, qr/canceling statement due to user request/, 'the client sees the cancel');
$bg->quit;

# a node stopped mid-split: the right answer (its part runs again, on the
# other standby: by block ranges, in its block at the same position), never
# a partial one
# (the expected answers are run here without slow_true(), which is true of
# every row: the same rows, without its 0.1 s a row)
(my $slow_unslowed = $slow) =~ s/ AND slow_true\(id\)//;
my $expected = $primary->safe_psql('postgres', "SET foresight.routing_policy = local; $slow_unslowed");
for my $ranges ('key', 'block')
{
	ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2)
	  or die 'the standbys have not caught up';
	my $st = $primary->background_psql('postgres', on_error_stop => 0);
	$st->query_safe("$split_on SET foresight.split_block_ranges = " . ($ranges eq 'block' ? 'on' : 'off'));
	$st->query_until(qr/start/, "\\echo start\n$slow;\n");
	ok(wait_parts(2), "$ranges ranges: both parts run before a node stops");
	$standby2->stop('fast');
	$st->{stderr} = '';
	my $answer = $st->query("SELECT 'after'");    # the split query's answer comes first
	$st->quit;
	$standby2->start;
	like($answer, qr/^\Q$expected\E\s+after/, "$ranges ranges: node stopped mid-split: the right answer")
	  or diag("answer: $answer; stderr: $st->{stderr}");
	like(last_split(), $ranges eq 'block' ? qr/; by blocks at / : qr/^(?!.*by blocks)/,
		"$ranges ranges: the decision log says how the parts were cut");
}

# a node stopped while its part streams rows: a clean error (the node's),
# or the right answer, never some of the rows
my $rows_q = "SELECT id FROM big WHERE id % 1000 = 0 AND slow_true(id)";
(my $rows_unslowed = $rows_q) =~ s/ AND slow_true\(id\)//;
my $full = $primary->safe_psql('postgres', "SET foresight.routing_policy = local; $rows_unslowed");
ForesightCluster::catch_up($primary, $standby2);
$primary->poll_query_until('postgres',
	"SELECT 'standby2' = ANY (candidates) FROM foresight.route_explain('SELECT v FROM big WHERE id = 1')")
  or diag('standby2 is not a candidate again');
my $rs = $primary->background_psql('postgres', on_error_stop => 0);
$rs->query_safe($split_on);
$rs->query_until(qr/start/, "\\echo start\n$rows_q;\n");
ok(wait_parts(2), 'both parts stream rows before a node stops');
usleep(500_000);
$standby2->stop('fast');
$rs->{stderr} = '';
my $streamed = $rs->query("SELECT 'after'");
$rs->quit;
$standby2->start;
$streamed =~ s/\s*after\s*\z//;
# no ORDER BY: the parts' rows may come in either order, so compare the sets
my $sorted = sub { join("\n", sort { $a <=> $b } split(/\n/, $_[0])) };
ok(($rs->{stderr} =~ /ERROR:  / && $streamed eq '')
	  || $sorted->($streamed) eq $sorted->($full),
	'node stopped while streaming: a clean error or the whole answer')
  or diag("stdout: $streamed; stderr: $rs->{stderr}");

# a node paused in replay: waited for, then not used; the answer has every commit
ForesightCluster::catch_up($primary, $standby2);
$primary->poll_query_until('postgres',
	"SELECT 'standby2' = ANY (candidates) FROM foresight.route_explain('SELECT v FROM big WHERE id = 1')")
  or diag('standby2 is not a candidate again');
$standby2->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
$primary->safe_psql('postgres', 'INSERT INTO big VALUES (100001, 5, NULL)');
my $lag = $primary->safe_psql('postgres', "$split_on SET foresight.split_max_wait = '500ms'; EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, VERBOSE) SELECT count(*) FROM big");
like($lag, qr/Node standby2: no more parts: had not replayed/, 'paused node: not used');
unlike($lag, qr/Part \d: standby2/, 'paused node: takes no part');
is($primary->safe_psql('postgres', "$split_on SET foresight.split_max_wait = 0; SELECT count(*) FROM big"),
	'100001', 'paused node: the answer has the last commit');
# ... in a merge of sorted parts (one per node, all started at once) without
# stealing (equal or capacity assignment): when the paused node took its own
# part first and the other node took that part over, the other node's own
# part waited for the paused node, which no piece was offered to any more,
# while the merge could not read the other node's rows: for ever.  Now the
# wait lasts split_max_wait and the part runs here.  (Which node the
# policy lists first varies: several reads.)
{
	my $q = 'SELECT id, v FROM big WHERE id % 1000 = 7 ORDER BY v, id LIMIT 20';
	my $want = $primary->safe_psql('postgres', "SET foresight.routing_policy = local; $q");
	for my $assign (('equal', 'capacity') x 3)
	{
		my ($ret, $out, $err) = $primary->psql('postgres',
			"$split_on SET foresight.split_assignment = $assign; SET foresight.split_max_wait = '300ms'; SET statement_timeout = '30s'; $q");
		is($out, $want, "paused node, a merge, $assign assignment: the answer, in time")
		  or diag($err);
	}
}
# ... and a node that catches up within foresight.split_max_wait takes its part
my $w = $primary->background_psql('postgres');
$w->query_safe("$split_on SET foresight.split_max_wait = '20s'");
$w->query_until(qr/start/, "\\echo start\nEXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $slow;\n");
usleep(700_000);
$standby2->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
my $waited = $w->query("SELECT 'after'");
$w->quit;
like($waited, qr/Part \d: standby2: .*rows=1 /, 'a node that catches up in time takes its part')
  or diag($waited);

# Parts cut by block ranges (split/split_blocks.h): each standby opens a
# REPEATABLE READ block and proves where its snapshot stands; at one WAL
# position on both, a part is a range of the table's blocks.
# foresight.snapshot_position() on a standby: after a snapshot, the position
# replayed (the same as read before it, when no record came in between)
{
	my $agree = 0;
	for (1 .. 10)
	{
		my ($before, $at) = split /\n/, $standby1->safe_psql('postgres',
			'SELECT pg_last_wal_replay_lsn(); BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT foresight.snapshot_position(); COMMIT');
		if (defined $at && $at eq $before) { $agree = 1; last; }
	}
	ok($agree, 'snapshot_position: on an idle standby, the position replayed before the snapshot');
	is($standby1->safe_psql('postgres', 'SELECT foresight.snapshot_position() IS NULL'), 't',
		'snapshot_position: NULL outside a REPEATABLE READ block');
}
ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2)
  or die 'the standbys have not caught up';
my $whole = 'SELECT count(*), sum(v) FROM big';
my $blocks_on = "$split_on SET foresight.split_block_ranges = on;";
my $want = $primary->safe_psql('postgres', $whole);
my $by_blocks;
for (1 .. 5)
{
	# a record replayed meanwhile (a checkpoint's) cuts by the key: again
	$by_blocks = $primary->safe_psql('postgres', "$blocks_on EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $whole");
	last if $by_blocks =~ /Ranges: blocks/;
}
like($by_blocks, qr{Ranges: blocks of the table, every node's snapshot at [0-9A-F]+/[0-9A-F]+},
	'block ranges: both standbys at one position');
like($by_blocks, qr/Part 1: standby\d: \(ctid < '\(\d+,0\)'::tid\)/, 'block ranges: a part is a range of ctid');
is($primary->safe_psql('postgres', "$blocks_on $whole"), $want, 'block ranges: the same answer');
# ... and each standby reads its block range by the Foresight Block Scan
# (blockscan/block_scan.c), which the split turns on in the standby's
# block: heapam's sequential scan limited to the blocks, so it counts in
# the standby's seq_scan statistics, where a TID Range Scan does not.
# Counted after a read cut by blocks (a read cut by the key may scan
# sequentially), once the standbys' earlier counts have settled.
{
	my $seq_scans = sub {
		my $n = 0;
		$n += $_->safe_psql('postgres',
			q{SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_user_tables WHERE relname = 'big'})
		  for ($standby1, $standby2);
		return $n;
	};
	my $settled = sub {
		my $n = $seq_scans->();
		for (1 .. 15)
		{
			sleep 2;
			my $again = $seq_scans->();
			return $n if $again == $n;
			$n = $again;
		}
		return $n;
	};
	my ($before, $read_by_blocks);
	for (1 .. 5)
	{
		$before = $settled->();
		# a new session: its node sessions end with it and report their counts
		$primary->safe_psql('postgres', "$blocks_on $whole");
		$read_by_blocks = last_split() =~ /; by blocks at /;
		last if $read_by_blocks;
	}
	ok($read_by_blocks, 'block ranges: a read cut by blocks to count');
	my $after = $before;
	for (1 .. 30)
	{
		$after = $seq_scans->();
		last if $after >= $before + 2;
		sleep 1;
	}
	cmp_ok($after - $before, '>=', 2,
		'block ranges: each standby read its part by the block scan (seq_scan counted)');
}
like($primary->safe_psql('postgres', "$split_on EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $whole"),
	qr/Ranges: key \(not blocks: foresight.split_block_ranges is off\)/, 'block ranges off (the default): by the key');
# The ranges share what a sequential scan costs, not the blocks: after an
# UPDATE of every row and a VACUUM, the first half of the table's blocks
# holds nothing (the new versions went to new blocks, the free space map
# says so), and equal numbers of blocks would give part 1 no rows at all.
$primary->safe_psql('postgres', q{
CREATE TABLE moved (id integer PRIMARY KEY, v integer NOT NULL);
INSERT INTO moved SELECT i, i % 89 FROM generate_series(1, 40000) i;
UPDATE moved SET v = v + 1;
VACUUM ANALYZE moved;
});
ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2)
  or die 'the standbys have not caught up';
{
	my ($live, $blocks) = split /\|/, $primary->safe_psql('postgres',
		q{SELECT min((ctid::text::point)[0])::bigint, pg_relation_size('moved') / current_setting('block_size')::int FROM moved});
	my $plan;
	for (1 .. 5)
	{
		$plan = $primary->safe_psql('postgres',
			"$blocks_on SET foresight.max_split_parts = 2; EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(*), sum(v) FROM moved");
		last if $plan =~ /Ranges: blocks/;
	}
	my ($cut) = $plan =~ /Part 1: standby\d: \(ctid < '\((\d+),0\)'::tid\)/;
	ok(defined $cut, 'moved rows: cut by blocks, two parts') or diag($plan);
	$cut //= 0;
	my ($first, $all) = split /\|/, $primary->safe_psql('postgres',
		"SELECT count(*) FILTER (WHERE ctid < '($cut,0)'), count(*) FROM moved");
	note("moved rows: live from block $live of $blocks, cut at block $cut: part 1 has $first of $all rows");
	cmp_ok($live, '>=', $blocks * 0.4, 'moved rows: the first blocks are empty');
	ok($first >= $all * 0.2 && $first <= $all * 0.8,
		"moved rows: each part has its share of the rows ($first of $all in part 1)");
	is($primary->safe_psql('postgres', "$blocks_on SET foresight.max_split_parts = 2; SELECT count(*), sum(v) FROM moved"),
		$primary->safe_psql('postgres', 'SELECT count(*), sum(v) FROM moved'), 'moved rows: the same answer');
}
$primary->safe_psql('postgres', "SELECT foresight.set_split_key('big', 'v')");
like($primary->safe_psql('postgres', "$blocks_on EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT v, count(*) FROM big GROUP BY v"),
	qr/Ranges: key \(not blocks: the split key is not unique by itself\)/,
	'a key of many rows a value: by the key (its groups must stay whole)');
$primary->safe_psql('postgres', "SELECT foresight.set_split_key('big', NULL)");

# ... and while transfers between rows commit (count and sum stay, rows move
# to other blocks: an update writes its new version elsewhere), a read cut
# by blocks sees one snapshot: always the same count and sum.  (Cut by the
# key, each part reads its own snapshot: sharding.md says what it may see.)
{
	my $writer = $primary->background_psql('postgres', on_error_stop => 0);
	my $pid = $writer->query_safe('SELECT pg_backend_pid()');
	$writer->query_until(qr/writing/, q{\echo writing
DO $$ BEGIN FOR i IN 1..100000 LOOP
	UPDATE big SET v = v + 1 WHERE id = 1 + (i * 7919) % 100000;
	UPDATE big SET v = v - 1 WHERE id = 1 + (i * 104729) % 100000;
	COMMIT;
END LOOP; END $$;
});
	my ($blocks, $key, $wrong) = (0, 0, 0);
	for (1 .. 40)
	{
		my $got = $primary->safe_psql('postgres', "$blocks_on $whole");
		if (last_split() =~ /; by blocks at /)
		{
			$blocks++;
			$wrong++ if $got ne $want;
		}
		else
		{
			$key++;
			note('by the key: ' . last_split());
		}
	}
	note("under transfers: $blocks reads by blocks, $key by the key");
	$primary->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	$writer->quit;
	ok($blocks > 0, 'under transfers: reads cut by blocks');
	is($wrong, 0, 'under transfers: every read cut by blocks has the same count and sum');
	is($primary->safe_psql('postgres', $whole), $want, 'the transfers kept count and sum');
}
# ... but a part that an index answers alone (count(*) by an index-only scan
# of the key, once VACUUM has marked the pages all-visible) is cheaper by its
# key range: the plan keeps key ranges
$primary->safe_psql('postgres', 'VACUUM big');
ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2)
  or die 'the standbys have not caught up';
like($primary->safe_psql('postgres', "$blocks_on EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(*) FROM big"),
	qr/Ranges: key \(not blocks: a part's key range is read by an index-only scan\)/,
	'count(*) after VACUUM: by the key, its index answers alone');

done_testing();
