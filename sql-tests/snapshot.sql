-- foresight.node_snapshot(): encode on the server, decode with
-- node_snapshot_json(), check the values are sane; bad input is refused.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_foresight;
RESET client_min_messages;

SELECT foresight.node_snapshot() AS snap \gset

-- a small message
SELECT length(:'snap'::bytea) BETWEEN 50 AND 16384 AS size_ok;

-- round trip, and the default argument decodes this server's snapshot
CREATE TEMP TABLE s AS SELECT foresight.node_snapshot_json(:'snap'::bytea) AS j;
SELECT (SELECT count(*) FROM jsonb_object_keys(foresight.node_snapshot_json())) > 20 AS default_works;

SELECT (j->>'version')::int AS version,
       (j->>'cpu_user')::numeric + (j->>'cpu_system')::numeric + (j->>'cpu_idle')::numeric > 0 AS cpu_jiffies,
       (j->>'cpu_count')::int >= 1 AS cpus,
       (j->>'clock_ticks')::int > 0 AS clock_ticks,
       (j->>'instance_cpu_ticks')::numeric >= 0 AS instance_cpu,
       (j->>'load1')::float8 >= 0 AS load1,
       (j->>'mem_total_kb')::numeric > (j->>'mem_available_kb')::numeric
         AND (j->>'mem_available_kb')::numeric > 0 AS memory,
       (j->>'mem_dirty_kb')::numeric >= 0 AS dirty,
       NOT j ? 'disk_count' OR (j->>'disk_count')::int >= 0 AS disks,
       (j->>'connections')::int BETWEEN 1 AND (j->>'max_connections')::int AS connections,
       (j->>'max_connections')::int = current_setting('max_connections')::int AS max_connections,
       (j->>'backends_active')::int <= (j->>'backends')::int AS active,
       (j->>'waiting')::int <= (j->>'backends_active')::int AS waiting,
       (j->>'xact_commit')::numeric > 0 AS commits,
       (j->>'blks_hit')::numeric > 0 AS blks_hit,
       (j->>'tup_returned')::numeric > 0 AS tup_returned,
       (j->>'in_recovery')::boolean AS in_recovery,
       (j->>'wal_lsn')::numeric > 0 AS wal_lsn,
       NOT j ? 'replay_lag_us' AS no_lag_on_primary,
       NOT j ? 'receive_lsn' AS no_receive_on_primary,
       to_timestamp((j->>'server_start_us')::float8 / 1e6) = date_trunc('milliseconds', pg_postmaster_start_time())
         OR abs(extract(epoch FROM to_timestamp((j->>'server_start_us')::float8 / 1e6) - pg_postmaster_start_time())) < 0.001 AS start_time,
       abs((j->>'collected_at_us')::float8 / 1e6 - extract(epoch FROM clock_timestamp())) < 60 AS collected_now,
       (j->>'server_version_num')::int = current_setting('server_version_num')::int AS version_num
  FROM s;

-- pressure stall information: present with both parts, or absent (never 0 for "unknown")
SELECT CASE WHEN j ? 'psi_cpu_some_total_us'
            THEN (j->>'psi_cpu_some_avg10')::float8 BETWEEN 0 AND 100
            ELSE NOT j ? 'psi_cpu_some_avg10' END AS psi_consistent
  FROM s;

-- counters grow between two snapshots
SELECT (foresight.node_snapshot_json()->>'xact_commit')::numeric >= (j->>'xact_commit')::numeric AS commits_grow
  FROM s;

-- bad input: empty, garbage, truncated, wrong version, oversized, inconsistent
SELECT foresight.node_snapshot_json(''::bytea);
SELECT foresight.node_snapshot_json('\xdeadbeef'::bytea);
SELECT foresight.node_snapshot_json(substring(:'snap'::bytea FROM 1 FOR 12));  -- truncated after a tag
SELECT foresight.node_snapshot_json('\x0802'::bytea);          -- version 2
SELECT foresight.node_snapshot_json('\x1001'::bytea);          -- no version
SELECT foresight.node_snapshot_json(('\x0801' || repeat('a0', 20000))::bytea);
SELECT foresight.node_snapshot_json('\x0801c00101c80102'::bytea);  -- mem available 2 > total 1
SELECT foresight.node_snapshot_json('\x0801a90100000000000000c0'::bytea); -- load1 = -2
-- the smallest valid message
SELECT foresight.node_snapshot_json('\x0801'::bytea);
SELECT foresight.node_snapshot_json(NULL) IS NULL AS strict;

-- privileges: pg_monitor may take snapshots, PUBLIC may not
CREATE ROLE snapshot_nobody;
CREATE ROLE snapshot_monitor IN ROLE pg_monitor;
SET ROLE snapshot_nobody;
SELECT foresight.node_snapshot();
RESET ROLE;
SET ROLE snapshot_monitor;
SELECT length(foresight.node_snapshot()) > 0 AS monitor_can;
RESET ROLE;
DROP ROLE snapshot_nobody;
DROP ROLE snapshot_monitor;

-- the views exist and name the coordinator; an unknown node is an error
SELECT node_name FROM foresight.node_metrics;
SELECT node_name, status IN ('unknown', 'up') AS status_ok FROM foresight.node_health;
SELECT * FROM foresight.metrics_history('nope', '1 minute');
SELECT count(*) >= 0 AS history_works FROM foresight.metrics_history('local');

-- nonsense GUC values are refused by their check hooks (nothing is written)
ALTER SYSTEM SET foresight.down_after = 0;
ALTER SYSTEM SET foresight.poll_timeout = '5ms';
ALTER SYSTEM SET foresight.monitor_user = 'a_role_name_that_is_much_longer_than_sixty_three_bytes_allowed_x';
ALTER SYSTEM SET foresight.history_size = 1000000;
ALTER SYSTEM SET foresight.sample_interval = '10ms';
ALTER SYSTEM SET foresight.database = '';
ALTER SYSTEM SET foresight.database = 'a_database_name_that_is_much_longer_than_sixty_three_bytes_abcde';

-- leave the database as the other tests expect it: without the extension
SET client_min_messages = warning;
DROP EXTENSION pg_foresight;
