-- Foresight Block Scan (src/blockscan/): with foresight.block_scan on, a
-- range of a heap table's blocks named by ctid conditions is read by a
-- sequential scan limited to those blocks.  It must return exactly the
-- rows, in the same order, that PostgreSQL's TID Range Scan returns.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_foresight;
SET max_parallel_workers_per_gather = 0;

-- about 95 blocks, with holes: deleted rows and empty blocks
CREATE TABLE bs (a integer, b text);
INSERT INTO bs SELECT i, repeat('x', 40) FROM generate_series(1, 10000) i;
DELETE FROM bs WHERE a % 7 = 0 OR a BETWEEN 2000 AND 2900;
VACUUM ANALYZE bs;
SELECT pg_relation_size('bs') / current_setting('block_size')::integer > 60 AS enough_blocks;

-- the plans: off, the TID Range Scan; on, the block scan, the exact
-- bounds gone from the filter, every other condition kept
SET foresight.block_scan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM bs WHERE ctid >= '(3,0)' AND ctid < '(10,0)';
SET foresight.block_scan = on;
EXPLAIN (COSTS OFF) SELECT count(*) FROM bs WHERE ctid >= '(3,0)' AND ctid < '(10,0)';
EXPLAIN (COSTS OFF) SELECT count(*) FROM bs WHERE '(3,0)' <= ctid AND '(10,0)' > ctid;
EXPLAIN (COSTS OFF) SELECT count(*) FROM bs WHERE ctid >= '(3,0)' AND ctid < '(10,0)' AND a % 3 = 0;
EXPLAIN (COSTS OFF) SELECT count(*) FROM bs WHERE ctid >= '(3,0)';
EXPLAIN (COSTS OFF) SELECT count(*) FROM bs WHERE ctid >= '(10,0)' AND ctid < '(3,0)';
EXPLAIN (COSTS OFF) SELECT count(*) FROM bs WHERE ctid >= '(3,0)' AND ctid < '(10,0)' AND ctid >= '(5,0)';
EXPLAIN (COSTS OFF) SELECT a FROM bs WHERE ctid >= '(3,0)' AND ctid < '(4,0)' ORDER BY a LIMIT 1;

-- the same rows in the same order as the TID Range Scan, for each condition
CREATE FUNCTION bs_same(cond text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	q text := format('SELECT count(*) || '' '' || coalesce(sum(a), 0) || '' '' || '
		'md5(coalesce(string_agg(ctid::text, '',''), '''')) FROM (SELECT ctid, a FROM bs WHERE %s) s', cond);
	plan text;
	tid_range text;
	block_scan text;
BEGIN
	PERFORM set_config('foresight.block_scan', 'off', true);
	EXECUTE q INTO tid_range;
	PERFORM set_config('foresight.block_scan', 'on', true);
	EXECUTE q INTO block_scan;
	FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		EXIT WHEN plan ~ 'Foresight Block Scan|Tid Range Scan';
	END LOOP;
	RETURN CASE WHEN tid_range = block_scan THEN 'same ' ELSE 'DIFFERENT ' END ||
		split_part(tid_range, ' ', 1) || ' rows, ' ||
		CASE WHEN plan ~ 'Foresight Block Scan' THEN 'block scan' ELSE 'TID range scan' END;
END $$;

SELECT cond, bs_same(cond) FROM (VALUES
	('ctid >= ''(3,0)'' AND ctid < ''(10,0)'''),
	('''(3,0)'' <= ctid AND ''(10,0)'' > ctid'),
	('ctid >= ''(3,5)'' AND ctid < ''(10,7)'''),
	('ctid > ''(3,5)'' AND ctid <= ''(10,7)'''),
	('ctid >= ''(0,0)'''),
	('ctid < ''(5,0)'''),
	('ctid <= ''(5,0)'''),
	('ctid >= ''(18,0)'' AND ctid < ''(30,0)'''),
	('ctid >= ''(1000,0)'''),
	('ctid >= ''(10,0)'' AND ctid < ''(3,0)'''),
	('ctid >= ''(4294967294,0)'''),
	('ctid < ''(4294967295,0)'''),
	('ctid >= ''(3,0)'' AND ctid < ''(10,0)'' AND a % 3 = 0'),
	('ctid >= ''(3,0)'' AND ctid < ''(10,0)'' AND ctid >= ''(5,0)''')
) c(cond);

-- conditions that the block range does not enforce exactly stay filters
-- (here the TID Range Scan, the cheaper, is disabled; the reference run is
-- then a sequential scan)
SET enable_tidscan = off;
SELECT cond, bs_same(cond) FROM (VALUES
	('ctid >= ''(3,5)'' AND ctid < ''(10,7)'''),
	('ctid > ''(3,5)'' AND ctid <= ''(10,7)'''),
	('ctid > ''(3,0)'' AND ctid <= ''(10,0)''')
) c(cond);
RESET enable_tidscan;

-- a rescan (the block scan in a sub-plan run once per outer row)
EXPLAIN (COSTS OFF)
SELECT g, (SELECT count(*) FROM bs WHERE ctid >= '(3,0)' AND ctid < '(10,0)' AND a > g * 300)
FROM generate_series(0, 3) g;
SELECT g, (SELECT count(*) FROM bs WHERE ctid >= '(3,0)' AND ctid < '(10,0)' AND a > g * 300)
FROM generate_series(0, 3) g;
SET foresight.block_scan = off;
SELECT g, (SELECT count(*) FROM bs WHERE ctid >= '(3,0)' AND ctid < '(10,0)' AND a > g * 300)
FROM generate_series(0, 3) g;
SET foresight.block_scan = on;

-- a scrollable cursor: the scan reads forward only, a Material goes back
EXPLAIN (COSTS OFF) DECLARE c SCROLL CURSOR FOR SELECT a FROM bs WHERE ctid >= '(3,0)' AND ctid < '(4,0)';
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT a FROM bs WHERE ctid >= '(3,0)' AND ctid < '(4,0)';
FETCH LAST FROM c;
FETCH BACKWARD 2 FROM c;
FETCH FIRST FROM c;
COMMIT;

-- a temporary table (local buffers): the same rows
CREATE TEMP TABLE bst AS SELECT * FROM bs;
EXPLAIN (COSTS OFF) SELECT count(*), sum(a) FROM bst WHERE ctid >= '(3,0)' AND ctid < '(10,0)';
SELECT count(*), sum(a) FROM bst WHERE ctid >= '(3,0)' AND ctid < '(10,0)';
SET foresight.block_scan = off;
SELECT count(*), sum(a) FROM bst WHERE ctid >= '(3,0)' AND ctid < '(10,0)';
SET foresight.block_scan = on;

-- a sequential scan: enable_seqscan = off leaves the TID Range Scan
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM bs WHERE ctid >= '(3,0)' AND ctid < '(10,0)';
RESET enable_seqscan;

-- not under SERIALIZABLE (a sequential scan would lock the whole relation)
BEGIN ISOLATION LEVEL SERIALIZABLE;
EXPLAIN (COSTS OFF) SELECT count(*) FROM bs WHERE ctid >= '(3,0)' AND ctid < '(10,0)';
COMMIT;

DROP TABLE bs, bst;
DROP FUNCTION bs_same(text);
RESET foresight.block_scan;
