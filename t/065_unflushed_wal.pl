# Reads whose floor is WAL the coordinator has inserted but not flushed:
# a node can replay only what the walsenders sent it, and they send only
# flushed WAL.  With wal_writer_delay = 10s a record that is not a commit
# (here a non-transactional logical message, as a read that prunes a page
# or the checkpointer's running-transactions record would leave) or an
# asynchronous commit stays unflushed for up to 10 s.  The coordinator
# flushes the WAL up to a floor that is its insert position
# (wal_flush_for_nodes(), docs/routing.md):
# - a split's parts run on the standbys, not all here after
#   foresight.split_max_wait;
# - a REPEATABLE READ block's first read flushes what it needs, and the
#   next block goes to a standby;
# - a read after the session's own asynchronous commit does not flush it
#   (the WAL writer does, within the delay the session chose): it runs here.
# light: asserts waits and deadlines with margins, not shares of CPU, and
# leaves most of the machine idle, so scripts/test.sh runs it beside another
# light test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => qq{
wal_writer_delay = 10s
autovacuum = off
# (1 MB in a test cluster) a dirty page evicted flushes the WAL up to its
# LSN, and XLogFlush() then flushes everything inserted: with so few
# buffers the split's own catalog reads flushed the tail in time
shared_buffers = 32MB
foresight.routing_policy = round_robin
foresight.include_local = off
});
$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE TABLE t (id integer PRIMARY KEY);
INSERT INTO t SELECT generate_series(1, 10);
CREATE TABLE big (id integer PRIMARY KEY, v integer NOT NULL);
INSERT INTO big SELECT i, i % 97 FROM generate_series(1, 100000) i;
ANALYZE;
CHECKPOINT;
});
ok(ForesightCluster::wait_standbys_seen_current($primary, $standby1, $standby2),
	'the monitor has seen both standbys replay the tables');

# WAL inserted and not flushed: the walwriter takes up to 10 s
my $unflushed = q{
SELECT pg_logical_emit_message(false, 'foresight', 'not flushed') IS NOT NULL;
SELECT pg_current_wal_insert_lsn() > pg_current_wal_flush_lsn();
};

# a split: its parts wait for the nodes to replay everything written here
# (for 50 ms at most here, so that the walwriter's or anyone's flush does
# not come in time by chance)
my $split = q{
SELECT pg_current_wal_insert_lsn() AS wanted \gset
SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.max_split_parts = 2;
SET foresight.split_piece_cost = 0; SET foresight.split_max_wait = 50;
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT v, count(*) FROM big GROUP BY v;
SELECT pg_current_wal_flush_lsn() >= :'wanted';
};
my @out = split /\n/, $primary->safe_psql('postgres', $unflushed . $split);
is($out[1], 't', 'the WAL written last is not flushed when the split starts');
is($out[-1], 't', 'the split flushed it');
my $plan = join("\n", @out[ 2 .. $#out - 1 ]);
ok($plan =~ /Part 1: standby\d: / && $plan =~ /Part 2: standby\d: /, 'both parts ran on standbys')
  or diag($plan);
unlike($plan, qr/had not replayed/, 'no node was left out for not having replayed it');

# the first read of a REPEATABLE READ block: its node must have replayed
# everything written here, so the decision flushes it; it may still run
# here (the standbys are asked at once, not waited for), the next block
# after a moment runs on a standby
my $here = $primary->port;
my $out = $primary->safe_psql('postgres', $unflushed . qq{
SELECT pg_current_wal_insert_lsn() AS wanted \\gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM t;
COMMIT;
SELECT pg_current_wal_flush_lsn() >= :'wanted';
SELECT pg_sleep(0.2);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT node_port() <> '$here' FROM t LIMIT 1;
COMMIT;
});
is($out, "t\nt\n10\nt\n\nt", 'a REPEATABLE READ block\'s first read flushes the WAL it must see, and the next block reads on a standby');

# a read after an asynchronous commit: its node must have replayed the
# session's commit, which the WAL writer flushes within wal_writer_delay,
# the delay the session chose: the read does not flush it, and runs here
$out = $primary->safe_psql('postgres', qq{
SET synchronous_commit = off;
INSERT INTO t VALUES (11);
SELECT foresight.last_commit_lsn() AS committed \\gset
SELECT (SELECT node_port()) = '$here', count(*) FROM t;
SELECT pg_current_wal_flush_lsn() < :'committed';
});
is($out, "t|11\nt", 'a read after an asynchronous commit sees it, here, and leaves its flush to the WAL writer');

done_testing();
