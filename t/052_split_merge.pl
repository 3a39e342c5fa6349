# t/052_split_merge.pl: the merge of sorted parts, the coordinator's own
# part (in a parallel worker, or here), the parts' notices and the not-split reason in the decision log,
# on a coordinator with two standbys.  Its faults (a statement_timeout while
# the coordinator runs its part, a standby stopped mid-merge) race slow
# parts: not parallel-safe beside a CPU-heavy test, only a light one.
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
	conf => "foresight.decision_log_size = 5000\nautovacuum = off\n");
$primary->safe_psql('postgres', q{
CREATE TABLE m (id integer PRIMARY KEY, g integer, t text, tc text COLLATE "C", n numeric, f float8);
INSERT INTO m SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 13 END,
	CASE WHEN i % 11 = 0 THEN NULL ELSE chr(65 + i % 26) || chr(97 + (i * 7) % 26) || i % 5 END,
	CASE WHEN i % 11 = 0 THEN NULL ELSE chr(65 + i % 26) || chr(97 + (i * 7) % 26) || i % 5 END,
	(i % 101) / 7.0, CASE WHEN i % 17 = 0 THEN 'NaN'::float8 ELSE (i % 37) * 0.5 END
  FROM generate_series(1, 30000) i;
ANALYZE m;
CREATE FUNCTION noisy(x integer) RETURNS integer STABLE LANGUAGE plpgsql AS $$
BEGIN IF x % 2500 = 0 THEN RAISE NOTICE 'noisy row %', x; END IF; RETURN x; END $$;
CREATE ROLE bob LOGIN;
GRANT SELECT (id, g, t) ON m TO bob;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);

# one piece per node: these tests count parts (more pieces: t/053)
my $split_on = "SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.split_piece_cost = 0;";
my $local = "SET foresight.routing_policy = local;";
sub last_split
{
	return $primary->safe_psql('postgres',
		"SELECT reason FROM foresight.routing_decisions WHERE reason LIKE 'split:%' ORDER BY decision_id DESC LIMIT 1");
}

# --- the merge: sorted parts, no Sort above the split scan, the same rows in the same order
my @ordered = (
	'SELECT id, t FROM m ORDER BY t, id',
	'SELECT id, t FROM m ORDER BY t DESC, id DESC LIMIT 100',
	'SELECT id, t FROM m ORDER BY t NULLS FIRST, id LIMIT 50 OFFSET 20',
	'SELECT id, g FROM m ORDER BY g DESC NULLS LAST, id LIMIT 300',
	'SELECT id, tc FROM m ORDER BY tc, id LIMIT 200',
	'SELECT id, tc FROM m ORDER BY tc COLLATE "C" DESC, id LIMIT 200',
	'SELECT id, t FROM m ORDER BY t COLLATE "C", id LIMIT 200',
	'SELECT id, n, f FROM m ORDER BY f DESC, n, id LIMIT 500',
	'SELECT id, n FROM m WHERE g = 3 ORDER BY n USING >, id USING <',
	'SELECT DISTINCT ON (g) g, id, t FROM m ORDER BY g, id DESC',
	'SELECT id, t FROM m ORDER BY id DESC FETCH FIRST 10 ROWS WITH TIES',
	'SELECT g, count(*) FROM m WHERE id > 5 GROUP BY id, g ORDER BY id LIMIT 40',
);
my $merged = 0;
for my $q (@ordered)
{
	my $plan = $primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) $q");
	my $whole = $primary->safe_psql('postgres', "$local $q");
	my $split = $primary->safe_psql('postgres', "$split_on $q");
	is($split, $whole, "merged: the same rows in the same order: $q");
	if ($plan =~ /Merge Key: /)
	{
		$merged++;
		unlike($plan, qr/Sort/, "merged: no Sort above the split scan: $q");
		like(last_split(), qr/, merged/, "merged: the decision log says so: $q");
	}
	else
	{
		diag("not merged: $q\n$plan");
	}
}
is($merged, scalar @ordered, 'every ordered query is merged');
like($primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) SELECT id, t FROM m ORDER BY t DESC NULLS LAST, id"),
	qr/Merge Key: c2 DESC NULLS LAST, c1\n/, 'EXPLAIN: the merge keys, as a Sort Key shows them');
like($primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) SELECT id, t FROM m ORDER BY t COLLATE \"POSIX\" DESC, id"),
	qr/Merge Key: c\d COLLATE "POSIX" DESC, c1\n/, 'EXPLAIN: a collation other than the type\'s');
# the merge takes the Sort's place at the top of the plan: the client is
# sent the query's column names (the row description), as run whole
my $named = q{SELECT id AS "Row Id", t AS label FROM m ORDER BY t, id LIMIT 2};
is($primary->safe_psql('postgres', "$split_on\n\\pset tuples_only off\n\\pset footer off\n$named"),
	$primary->safe_psql('postgres', "$local\n\\pset tuples_only off\n\\pset footer off\n$named"),
	'merged: the same column names as run whole');
like($primary->safe_psql('postgres', "$split_on\n\\pset tuples_only off\n$named"),
	qr/^Row Id\|label\n/, 'merged: the column names are the query\'s');
# EXPLAIN VERBOSE: the combine step's lines, each under the property
like($primary->safe_psql('postgres', "$split_on EXPLAIN (VERBOSE, COSTS OFF) $named"),
	qr/\n( +)Combine: strategy: rows\n\1  parts: the query on their range, sorted by c2, c1, LIMIT 2\n\1  combine: concatenate, merging the sorted parts on c2, c1; then LIMIT\n/,
	'EXPLAIN VERBOSE: the combine step, one line each, indented under the property');

# a sub-query's ORDER BY orders the result (the rows' order, which rows a
# LIMIT above keeps): not split, whichever table could be; aggregated
# above, it orders nothing
for my $c ([ 'SELECT s.id, s.g FROM (SELECT id, g FROM m ORDER BY g DESC, id) s WHERE s.id % 50 = 0',
		qr/a sub-query has an ORDER BY that orders the result/ ],
	[ 'SELECT s.id FROM (SELECT id, g FROM m ORDER BY g DESC, id) s LIMIT 5',
		qr/has LIMIT or OFFSET without ORDER BY|a sub-query has an ORDER BY that orders the result/ ],
	[ 'WITH w AS (SELECT id, t FROM m ORDER BY t, id) SELECT w.id, m2.g FROM w JOIN m m2 ON m2.id = w.id WHERE w.id < 200',
		qr/a WITH query has an ORDER BY that orders the result/ ])
{
	my ($q, $why) = @$c;
	like($primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) $q"),
		qr/Not Split: $why/, "not split: $q");
	is($primary->safe_psql('postgres', "$split_on $q"), $primary->safe_psql('postgres', "$local $q"),
		"not split: the rows in the order run whole: $q");
}
{
	my $q = 'SELECT count(*), sum(g), max(t) FROM (SELECT id, g, t FROM m ORDER BY g, id) s';
	like($primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) $q"),
		qr/Foresight Split/, 'an ordered sub-query aggregated above: split');
	is($primary->safe_psql('postgres', "$split_on $q"), $primary->safe_psql('postgres', "$local $q"),
		'an ordered sub-query aggregated above: the same answer');
}

# a plain DISTINCT sorts by more than the parts did: no merge
unlike($primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) SELECT DISTINCT g, t FROM m ORDER BY g"),
	qr/Merge Key/, 'DISTINCT with ORDER BY of fewer columns: not merged');
# partial aggregates: the parts are not sorted, the Sort stays
like($primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) SELECT g, count(*) FROM m GROUP BY g ORDER BY g"),
	qr/Sort.*Custom Scan \(Foresight Split\)/s, 'partial aggregates: sorted here');
# the decision log's entries after decision $after, oldest first
sub decisions_since
{
	my ($after) = @_;
	return $primary->safe_psql('postgres',
		"SELECT reason FROM foresight.routing_decisions WHERE decision_id > $after ORDER BY decision_id");
}
sub last_decision_id
{
	return $primary->safe_psql('postgres', 'SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions');
}

# a split read has one entry in the decision log, its own
my $mark = last_decision_id();
$primary->safe_psql('postgres', "$split_on SELECT id, t FROM m ORDER BY t DESC, id LIMIT 4");
like(decisions_since($mark), qr/\Asplit: 3 parts of public\.m by id, merged[^\n]*\z/,
	'a split read: one entry in the decision log');

# a cursor opened with DECLARE runs here (it may be fetched backwards:
# routing.md), whole; the decision log says why
$mark = last_decision_id();
is($primary->safe_psql('postgres', "$split_on BEGIN; DECLARE c NO SCROLL CURSOR FOR SELECT id FROM m ORDER BY id DESC; FETCH 3 FROM c; CLOSE c; COMMIT;"),
	"30000\n29999\n29998", 'a cursor: its rows');
is($primary->safe_psql('postgres', "$split_on DECLARE h NO SCROLL CURSOR WITH HOLD FOR SELECT id, t FROM m ORDER BY t DESC, id; FETCH 4 FROM h; CLOSE h;"),
	$primary->safe_psql('postgres', "$local SELECT id, t FROM m ORDER BY t DESC, id LIMIT 4"),
	'a holdable cursor: its rows');
is(decisions_since($mark), join("\n", ('ineligible: a cursor (DECLARE) runs locally') x 2),
	'cursors: not split, run here, and the decision log says why');

# in a transaction block every part runs here, merged all the same
is($primary->safe_psql('postgres', "$split_on BEGIN; SELECT id, t FROM m ORDER BY t DESC, id LIMIT 50; COMMIT;"),
	$primary->safe_psql('postgres', "$local SELECT id, t FROM m ORDER BY t DESC, id LIMIT 50"),
	'in a transaction block: the parts run here and are merged');
like(last_split(), qr/, merged \(all here: in a transaction block/, 'in a transaction block: the decision log says why all here');

# --- the coordinator takes a part when it is a candidate
my $an = $primary->safe_psql('postgres', "$split_on EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT g, count(*) FROM m GROUP BY g");
like($an, qr/Parts: 3/, 'coordinator a candidate: three parts for two standbys');
# (which part each takes follows the nodes' shares: any, one each)
is(scalar(() = $an =~ /Part \d: local: .*\(rows=\d+ /g), 1, 'the coordinator ran a part');
is(scalar(() = $an =~ /Part \d: standby\d: .*\(rows=\d+ /g), 2, 'the standbys ran the others');
like(last_split(), qr/^split: 3 parts of public\.m by id, the coordinator a part; ran on parts (?:(?:standby\d|local) \d+r [\d.]+ms(?:, |\z)){3}/,
	'the decision log: the parts and where they ran');
like(last_split(), qr/; ran on parts .*\blocal \d+r/, 'the decision log: the coordinator took a part');
like($primary->safe_psql('postgres', "$split_on SELECT reason FROM foresight.route_explain('SELECT g, count(*) FROM m GROUP BY g')"),
	qr/^split: 3 parts of public\.m by id \(partial aggregates\): part 1 .* on standby\d, part 2 .* on standby\d, part 3 \(id >= \d+\) on local$/,
	'route_explain: the coordinator\'s part');
is($primary->safe_psql('postgres', "$split_on SELECT g, count(*), sum(n) FROM m GROUP BY g ORDER BY g"),
	$primary->safe_psql('postgres', "$local SELECT g, count(*), sum(n) FROM m GROUP BY g ORDER BY g"),
	'the coordinator\'s part: the same answer');
# the coordinator's pieces run in a parallel worker (foresight.split_worker),
# or here when it is off, the query is not parallel safe or no worker is free.
# A worker's launch is priced as PostgreSQL prices a Gather's workers
# (parallel_setup_cost): it is launched when the coordinator's share of the
# read is estimated to cost more.  The reads of m cost less (its share of
# this one about 300), so the cases of a worker set it to 0.
my $in_worker = 'SET parallel_setup_cost = 0;';
my $grouped = 'SELECT g, count(*), sum(n) FROM m GROUP BY g ORDER BY g';
my $grouped_here = $primary->safe_psql('postgres', "$local $grouped");
like($primary->safe_psql('postgres', "$split_on $in_worker EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $grouped"),
	qr/Coordinator Pieces in a Parallel Worker: 1\n/, 'the coordinator\'s piece ran in a parallel worker');
my $cheap = $primary->safe_psql('postgres', "$split_on EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $grouped");
like($cheap, qr/Part \d: local: .*\(rows=\d+ /,
	'a share estimated under parallel_setup_cost: the coordinator ran its part');
unlike($cheap, qr/Parallel Worker/, '... here, not in a worker, whose launch would cost more');
is($primary->safe_psql('postgres', "$split_on $grouped"), $grouped_here, '... with the same answer');
foreach my $case (['SET foresight.split_worker = off;', 'foresight.split_worker off'],
	['SET max_parallel_workers = 0;', 'no parallel worker free'])
{
	my ($set, $name) = @$case;
	my $plan = $primary->safe_psql('postgres', "$split_on $set EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $grouped");
	like($plan, qr/Part \d: local: .*\(rows=\d+ /, "$name: the coordinator ran its part");
	unlike($plan, qr/Parallel Worker/, "$name: here, not in a worker");
	is($primary->safe_psql('postgres', "$split_on $set $grouped"), $grouped_here, "$name: the same answer");
}
$an = $primary->safe_psql('postgres', "$split_on EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT g, count(*), max(noisy(id)) FROM m GROUP BY g");
like($an, qr/Part \d: local: .*\(rows=\d+ /, 'a function not parallel safe: the coordinator ran its part');
unlike($an, qr/Parallel Worker/, 'a function not parallel safe: here, not in a worker');
# without an ORDER BY, which rows a LIMIT or OFFSET keeps, and which row of
# each DISTINCT ON group, is the plan's order: not split, the rows run whole
for my $c ([ 'SELECT id, t FROM m WHERE g = 3 LIMIT 5 OFFSET 2', qr/has LIMIT or OFFSET without ORDER BY/ ],
	[ 'SELECT DISTINCT ON (g) g, id FROM m', qr/has DISTINCT ON without ORDER BY/ ])
{
	my ($q, $why) = @$c;
	like($primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) $q"),
		qr/Not Split: $why/, "not split: $q");
	is($primary->safe_psql('postgres', "$split_on $q"), $primary->safe_psql('postgres', "$local $q"),
		"not split: the rows run whole: $q");
}
# ... but an aggregate without GROUP BY has one row at most: no order to follow
for my $q ('SELECT count(*), sum(id) FROM m WHERE g < 5 LIMIT 1',
	'SELECT max(t) FROM m LIMIT 3 OFFSET 0', 'SELECT sum(id) FROM m HAVING count(*) > 1 OFFSET 1')
{
	like($primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) $q"),
		qr/Foresight Split/, "one row at most: split: $q");
	is($primary->safe_psql('postgres', "$split_on $q"), $primary->safe_psql('postgres', "$local $q"),
		"one row at most: the same answer: $q");
}

# A part not read to the end (the LIMIT above is met) keeps its node
# session: what has arrived is read, a query still running is cancelled
# and its end waited for; closed, the next read would open a new session on
# the node.  LIMIT (SELECT 7) is not known when the parts are written, so
# they have no LIMIT of their own, and slow_id() keeps them running long
# after the merge has its rows (the cancel); with a literal LIMIT the parts
# have finished (nothing to cancel).  A cancel must never reach a later
# query: every read below must succeed.
$primary->safe_psql('postgres', q{
CREATE FUNCTION slow_id(x integer) RETURNS integer IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.001); RETURN x; END $$;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);
my $want = $primary->safe_psql('postgres', 'SELECT id, id FROM m ORDER BY id LIMIT 7');
{
	my $sessions = sub {
		join ' ', map {
			$_->safe_psql('postgres',
				"SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE application_name = 'pg_foresight'")
		} ($standby1, $standby2);
	};
	my $slow = 'SELECT id, slow_id(id) FROM m ORDER BY id LIMIT (SELECT 7)';
	my $top = 'SELECT id, t FROM m ORDER BY t DESC, id LIMIT 3';
	my $want3 = $primary->safe_psql('postgres', "$local $top");
	my $s = $primary->background_psql('postgres', on_error_stop => 0);
	$s->query_safe("$split_on SET foresight.include_local = off; SET statement_timeout = '20s'");
	my ($wrong, $first) = (0, undef);
	for (1 .. 10)
	{
		$wrong++ if $s->query_safe($slow) ne $want;
		$wrong++ if $s->query_safe($top) ne $want3;
		$first //= $sessions->();
	}
	like($s->query_safe("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $slow"),
		qr/Part \d: standby\d: .*not read to the end/, 'parts stopped early: not read to the end');
	is($wrong, 0, 'parts stopped early: every read has its rows');
	like($first, qr/^\d+ \d+$/, 'parts stopped early: one node session on each standby');
	is($sessions->(), $first, 'parts stopped early: the node sessions are kept');
	ok($standby1->log_contains(qr/canceling statement due to user request/)
		  || $standby2->log_contains(qr/canceling statement due to user request/),
		'parts stopped early: a part still running was cancelled');
	$s->quit;
}

$an = $primary->safe_psql('postgres', "$split_on SET foresight.include_local = off; EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT g, count(*) FROM m GROUP BY g");
like($an, qr/Parts: 2/, 'include_local off: two parts');
unlike($an, qr/Part \d: local/, 'include_local off: the coordinator takes none');
# its errors are the query's (part 3, the highest keys, runs here)
my ($ret, $out, $err) = $primary->psql('postgres', "$split_on $in_worker \\set VERBOSITY verbose\nSELECT sum(1 / (id - 30000)) FROM m");
like($err, qr/ERROR:  22012: division by zero/, 'an error in the coordinator\'s part: the query\'s error');
like($err, qr/^parallel worker$/m, 'an error in the coordinator\'s part: raised by its worker');
is($primary->safe_psql('postgres', "$split_on SELECT count(*) FROM m"), '30000', 'after the worker\'s error, the next read splits again');
# with the session's role and settings
is($primary->safe_psql('postgres', "$split_on SET app.tag = 'x7'; SELECT count(*), min(current_user || current_setting('app.tag')), max(current_user || current_setting('app.tag')) FROM m",
	connstr => $primary->connstr('postgres') . ' user=bob'),
	'30000|bobx7|bobx7', 'every part, the coordinator\'s too, runs as the session\'s role with its settings');
($ret, $out, $err) = $primary->psql('postgres', "$split_on SELECT count(n) FROM m",
	connstr => $primary->connstr('postgres') . ' user=bob');
like($err, qr/permission denied for table m/, 'permissions: the session\'s');
# the coordinator is always current: a row just committed is counted
$primary->safe_psql('postgres', 'INSERT INTO m VALUES (30001, 1, \'Zz\', \'Zz\', 1, 1)');
is($primary->safe_psql('postgres', "$split_on SELECT count(*), max(id) FROM m"), '30001|30001',
	'the last commit is seen by every part');

# --- the parts' notices reach the client, once each, as a run here shows them
{
	my ($r1, $o1, $e1) = $primary->psql('postgres', "$split_on SELECT count(noisy(id)) FROM m");
	my ($r2, $o2, $e2) = $primary->psql('postgres', "$local SELECT count(noisy(id)) FROM m");
	my @split = sort grep { /NOTICE/ } split /\n/, $e1;
	my @whole = sort grep { /NOTICE/ } split /\n/, $e2;
	is($o1, $o2, 'notices: the same answer');
	is(scalar @whole, 12, 'notices: twelve raised by the whole query');
	is_deeply(\@split, \@whole, 'notices: every part\'s notices, each once');
	like(last_split(), qr/^split: 3 parts/, 'notices: the query was split');
}

# --- the reason a read was not split, in the decision log, EXPLAIN and route_explain
{
	my $q = 'SELECT id FROM m WHERE g = 1 UNION ALL SELECT id FROM m WHERE g = 2';
	$primary->safe_psql('postgres', "$split_on $q");
	like($primary->safe_psql('postgres',
			"SELECT reason FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 1"),
		qr/; not split: has a set operation/, 'decision log: why it was not split');
	like($primary->safe_psql('postgres', "$split_on EXPLAIN (COSTS OFF) $q"),
		qr/Not Split: has a set operation/, 'EXPLAIN: why it was not split');
	like($primary->safe_psql('postgres', "$split_on SELECT reason FROM foresight.route_explain('$q')"),
		qr/; not split: has a set operation/, 'route_explain: why it was not split');
	unlike($primary->safe_psql('postgres', "SET foresight.split = off; EXPLAIN (COSTS OFF) $q"),
		qr/Not Split/, 'split off: nothing to say');
}

# --- faults: a cancel while the coordinator runs its part (in its worker,
# or here), a standby lost mid-merge
$primary->safe_psql('postgres', q{
CREATE FUNCTION slow_true(x integer) RETURNS boolean IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.3); RETURN true; END $$;
CREATE FUNCTION slow_safe(x integer) RETURNS boolean IMMUTABLE PARALLEL SAFE LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.3); RETURN true; END $$;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);
sub parts_on_standbys { return ForesightCluster::split_parts_running('slow_true', $standby1, $standby2); }
sub wait_parts { return ForesightCluster::wait_split_parts($_[0], 'slow_true', $standby1, $standby2); }
# each part sorts its ten slow rows before its first row: about three seconds
my $slow_sorted = 'SELECT id, t FROM m WHERE id % 1000 = 0 AND slow_true(id) ORDER BY t, id';
# parallel safe and unordered: the coordinator's piece runs in its worker
{
	my $to = $primary->background_psql('postgres', on_error_stop => 0);
	$to->query_safe("$split_on SET statement_timeout = '1500ms'");
	$to->query_until(qr/start/, "\\echo start\nSELECT count(*) FROM m WHERE id % 1000 = 0 AND slow_safe(id);\n");
	ok(ForesightCluster::wait_split_parts(2, 'slow_safe', $standby1, $standby2),
		'statement_timeout, the worker: the standbys run their parts');
	ok($primary->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'parallel worker'"),
		'statement_timeout, the worker: the coordinator\'s worker runs its piece');
	$to->{stderr} = '';
	$to->query("SELECT 1");
	like($to->{stderr}, qr/canceling statement due to statement timeout/,
		'statement_timeout while the coordinator\'s worker runs its piece: the query\'s error');
	ok(ForesightCluster::wait_split_parts(0, 'slow_safe', $standby1, $standby2),
		'statement_timeout, the worker: every part stopped on its standby');
	ok($primary->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'parallel worker'"),
		'statement_timeout: the worker stopped');
	$to->quit;
}
{
	my $to = $primary->background_psql('postgres', on_error_stop => 0);
	$to->query_safe("$split_on SET statement_timeout = '1500ms'");
	$to->query_until(qr/start/, "\\echo start\n$slow_sorted;\n");
	ok(wait_parts(2), 'statement_timeout: the standbys run their parts');
	$to->{stderr} = '';
	$to->query("SELECT 1");
	like($to->{stderr}, qr/canceling statement due to statement timeout/,
		'statement_timeout while the coordinator runs its part: the query\'s error');
	ok(wait_parts(0), 'statement_timeout: every part stopped on its standby');
	$to->quit;
}
{
	my $expected = $primary->safe_psql('postgres', "$local $slow_sorted");
	my $st = $primary->background_psql('postgres', on_error_stop => 0);
	$st->query_safe($split_on);
	$st->query_until(qr/start/, "\\echo start\n$slow_sorted;\n");
	ok(wait_parts(2), 'mid-merge: the standbys run their parts');
	$standby2->stop('fast');
	$st->{stderr} = '';
	my $answer = $st->query("SELECT 'after'");
	$st->quit;
	$standby2->start;
	like($answer, qr/^\Q$expected\E\s+after/, 'a standby stopped before its first row mid-merge: the whole answer, in order')
	  or diag("answer: $answer; stderr: $st->{stderr}");
	like(last_split(), qr/, merged.*run again/, 'mid-merge: its part ran again');
}

done_testing();
