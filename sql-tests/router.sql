-- Routing with one server: GUCs, eligibility through route_explain, EXPLAIN
-- shape.  The registered node is unreachable (nothing listens on port 1):
-- it never answers the monitor's polls, so it stays "unknown" (the harness
-- sets foresight.down_after high) and is never a candidate: nothing here
-- runs remotely, and no query pays its connection attempt.  The remote SQL
-- of an eligible statement is shown all the same.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_foresight;

SHOW foresight.routing_policy;
SHOW foresight.include_local;
SET foresight.routing_policy = 'bogus';

CREATE TABLE rt (id integer PRIMARY KEY, v text);
INSERT INTO rt SELECT g, 'v' || g FROM generate_series(1, 10) g;
CREATE UNLOGGED TABLE rt_unlogged (id integer);
CREATE TEMP TABLE rt_temp (id integer);
CREATE SEQUENCE rt_seq;
CREATE FUNCTION rt_volatile() RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT 1';
CREATE VIEW rt_view AS SELECT id FROM rt WHERE id > 5;

-- no node registered: nothing is wrapped
SET foresight.routing_policy = round_robin;
SELECT node, policy, reason FROM foresight.route_explain('SELECT * FROM rt');

SELECT foresight.add_node('nowhere', 'host=127.0.0.1 port=1 connect_timeout=1') > 0 AS added;
SET foresight.include_local = off;

-- eligible shapes
SELECT node, reason, candidates, remote_sql, remote_parameters FROM foresight.route_explain('SELECT * FROM rt WHERE id = 1');
SELECT node, reason, remote_sql FROM foresight.route_explain('SELECT * FROM rt_view ORDER BY id LIMIT 2');
-- what the decision log would record: class, shape, cost
SELECT request_class, request_shape, cost > 0 AS costed FROM foresight.route_explain('SELECT * FROM rt WHERE id = 1');
SELECT request_class, request_shape FROM foresight.route_explain('SELECT v, count(*) FROM rt a JOIN rt b USING (v) GROUP BY v ORDER BY 2');
SELECT request_class, request_shape, cost FROM foresight.route_explain('BEGIN');
SELECT node, reason FROM foresight.route_explain('WITH c AS (SELECT id FROM rt) SELECT count(*) FROM c');
SELECT node, reason FROM foresight.route_explain('SELECT random(), clock_timestamp(), now() FROM rt');
SELECT node, reason FROM foresight.route_explain('SELECT id, rank() OVER (ORDER BY v) FROM rt UNION SELECT 1, 1');

-- not eligible: runs locally, and says why
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt FOR UPDATE');
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt FOR SHARE');
SELECT node, reason FROM foresight.route_explain('SELECT nextval(''rt_seq'')');
SELECT node, reason FROM foresight.route_explain('SELECT rt_volatile()');
SELECT node, reason FROM foresight.route_explain('SELECT txid_current()');
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt_unlogged');
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt_temp');
SELECT node, reason FROM foresight.route_explain('WITH d AS (DELETE FROM rt WHERE false RETURNING *) SELECT * FROM d');
SELECT node, reason FROM foresight.route_explain('INSERT INTO rt VALUES (100, ''x'')');
-- an anonymous record comes back in binary; a pg_node_tree cannot come back
SELECT node, reason FROM foresight.route_explain('SELECT ROW(1, 2)');
SELECT node, reason FROM foresight.route_explain('SELECT relpartbound FROM pg_class');
SELECT node, reason FROM foresight.route_explain('SELECT c FROM pg_class c');
SELECT node, reason FROM foresight.route_explain('SELECT stavalues1 FROM pg_statistic');
SELECT node, reason FROM foresight.route_explain('SELECT * FROM foresight.nodes');
SELECT node, reason FROM foresight.route_explain('CREATE TABLE x (a int)');

-- a transaction that has written stays local
BEGIN;
INSERT INTO rt VALUES (11, 'v11');
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt');
ROLLBACK;

-- SERIALIZABLE blocks stay local (standbys cannot run them); a REPEATABLE
-- READ block whose snapshot was taken here (route_explain is a statement)
-- stays local; READ COMMITTED blocks route
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt');
COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt');
COMMIT;
BEGIN;
SELECT node FROM foresight.route_explain('SELECT * FROM rt');
COMMIT;

-- policies
SET foresight.routing_policy = local;
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt');
SET foresight.routing_policy = least_connections;
SELECT node, policy FROM foresight.route_explain('SELECT * FROM rt');
SET foresight.routing_policy = random;
SELECT node, policy FROM foresight.route_explain('SELECT * FROM rt');
SET foresight.routing_policy = round_robin;

-- EXPLAIN shows the route node and the local plan under it, never connecting
EXPLAIN (COSTS OFF) SELECT * FROM rt WHERE id = 3;
EXPLAIN (COSTS OFF, VERBOSE) SELECT v FROM rt WHERE id > 3 ORDER BY id DESC;
EXPLAIN (COSTS OFF) SELECT * FROM rt FOR UPDATE;
SET foresight.routing_policy = local;
EXPLAIN (COSTS OFF) SELECT * FROM rt WHERE id = 3;
SET foresight.routing_policy = round_robin;

-- the node that never answered a poll is no candidate: the query runs
-- locally, no error, no connection attempt (no error or retry counted)
SELECT count(*) FROM rt;
SELECT v FROM rt WHERE id = 4;
SELECT node, reason, excluded FROM foresight.route_explain('SELECT * FROM rt');
SELECT status FROM foresight.node_health WHERE node_name = 'nowhere';
SELECT node_name, routed, errors, retries FROM foresight.routing_stats ORDER BY node_id;

-- query shapes seen before are routed without a local plan, planned here
-- only when they run here (the node being unreachable): same answers
SELECT v FROM rt WHERE id = 5;
SELECT v FROM rt WHERE id = 6;
SELECT v FROM rt WHERE id = 77;
SELECT remote_sql, role = current_user::regrole AS mine, hits FROM foresight.query_shapes ORDER BY remote_sql;
SET foresight.defer_local_planning = off;
SELECT v FROM rt WHERE id = 8;
SELECT hits FROM foresight.query_shapes WHERE remote_sql LIKE '%id = $1%';
RESET foresight.defer_local_planning;

-- cursors run locally (they may be fetched backwards)
SET foresight.routing_policy = round_robin;
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM rt ORDER BY id;
FETCH 2 FROM c;
FETCH BACKWARD 1 FROM c;
COMMIT;

-- prepared statements keep working
PREPARE p(integer) AS SELECT v FROM rt WHERE id = $1;
EXECUTE p(2);
EXECUTE p(7);

-- current_setting() routes when every node session has the setting at this
-- session's value: a setting any role may change (a custom one once it
-- exists here); not a server's own, nor pg_foresight's
SELECT node, reason FROM foresight.route_explain('SELECT current_setting(''enable_seqscan'') FROM rt');
SELECT node, reason FROM foresight.route_explain('SELECT current_setting(''port'')');
SELECT node, reason FROM foresight.route_explain('SELECT current_setting(''foresight.routing_policy'')');
SELECT node, reason FROM foresight.route_explain('SELECT current_setting(''rt_app.tenant'', true)');
SET rt_app.tenant = 'acme';
SELECT node, reason, remote_sql FROM foresight.route_explain('SELECT id FROM rt WHERE v = current_setting(''rt_app.tenant'')');
RESET rt_app.tenant;

-- the transaction's and statement's times are parameters, taken at execution
SELECT remote_sql, remote_parameters FROM foresight.route_explain('SELECT id, now(), CURRENT_TIMESTAMP(2), LOCALTIME FROM rt WHERE id < 5 AND statement_timestamp() > CURRENT_DATE - 1');
EXPLAIN (COSTS OFF, VERBOSE) SELECT date_trunc('day', now()), count(*) FROM rt WHERE id > 2 GROUP BY date_trunc('day', now());
EXPLAIN (COSTS OFF, VERBOSE) SELECT CURRENT_DATE, CURRENT_TIME(3), LOCALTIMESTAMP(0), transaction_timestamp() FROM rt WHERE id = 1;
-- a policy reading them runs here (its node would read its own clock)
CREATE TABLE rt_timed (id integer, visible_from timestamptz);
ALTER TABLE rt_timed ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON rt_timed USING (visible_from <= now());
CREATE ROLE regress_router_reader;
GRANT SELECT ON rt_timed, rt TO regress_router_reader;
SET ROLE regress_router_reader;
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt_timed');
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt');
RESET ROLE;

-- a SERIALIZABLE transaction is never routed, in a block or not
SET default_transaction_isolation = serializable;
SELECT node, reason FROM foresight.route_explain('SELECT * FROM rt');
RESET default_transaction_isolation;

-- under a SECURITY DEFINER function the current user is not one SET ROLE
-- gives: not routed
CREATE FUNCTION rt_definer_reason() RETURNS text LANGUAGE sql SECURITY DEFINER
	AS $$ SELECT reason FROM foresight.route_explain('SELECT * FROM rt') $$;
SELECT rt_definer_reason();
DROP FUNCTION rt_definer_reason();
DROP TABLE rt_timed;
REVOKE ALL ON rt FROM regress_router_reader;
DROP ROLE regress_router_reader;

-- route_explain shows nothing of a statement its caller may not run: the
-- statement's privileges are checked first, as its executor checks them
CREATE TABLE rt_hidden (id integer, secret text);
CREATE ROLE regress_router_user;
GRANT SELECT (id) ON rt TO regress_router_user;
GRANT SELECT ON rt_view TO regress_router_user;
SET ROLE regress_router_user;
SELECT * FROM foresight.route_explain('SELECT * FROM rt_hidden WHERE secret = ''x''');
SELECT * FROM foresight.route_explain('SELECT count(*) FROM (SELECT * FROM rt_hidden) h WHERE false');
SELECT * FROM foresight.route_explain('SELECT v FROM rt WHERE id = 1');
SELECT * FROM foresight.route_explain('INSERT INTO rt VALUES (100, ''x'')');
SELECT remote_sql, request_class FROM foresight.route_explain('SELECT id FROM rt WHERE id = 1');
SELECT reason, request_class FROM foresight.route_explain('SELECT * FROM rt_view');
RESET ROLE;
DROP TABLE rt_hidden;
REVOKE ALL ON rt FROM regress_router_user;
REVOKE ALL ON rt_view FROM regress_router_user;
DROP ROLE regress_router_user;

SELECT foresight.remove_node('nowhere');
RESET foresight.routing_policy;
RESET foresight.include_local;
DROP TABLE rt, rt_unlogged, rt_temp CASCADE;
DROP SEQUENCE rt_seq;
DROP FUNCTION rt_volatile();
