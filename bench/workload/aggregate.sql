\set aid random(1, 100000 * :scale - 20000)
SELECT bid, count(*), avg(abalance) FROM pgbench_accounts WHERE aid BETWEEN :aid AND :aid + 20000 GROUP BY bid ORDER BY bid;
