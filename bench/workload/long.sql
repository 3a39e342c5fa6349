-- a read of a second or two on these standbys: the accounts scanned five
-- times over (bench/forecast_pays.sh, workload "long")
SELECT sum(abalance), count(*) FROM pgbench_accounts CROSS JOIN generate_series(1, 5) g;
