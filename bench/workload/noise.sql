-- the noisy neighbour: a full scan, run directly on one standby
SELECT sum(abalance) FROM pgbench_accounts;
