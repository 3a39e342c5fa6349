\set aid random(1, 100000 * :scale - 2000)
SELECT sum(abalance), count(*) FROM pgbench_accounts WHERE aid BETWEEN :aid AND :aid + 2000;
