-- The node registry: functions, view, validation and permissions.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_foresight;

-- only the built-in coordinator at first
SELECT node_id, node_name, conninfo, region, kind, weight, state FROM foresight.nodes;

SELECT foresight.add_node('standby_a', 'host=127.0.0.1 port=5433') AS id_a \gset
SELECT foresight.add_node('standby_b', 'postgresql://10.0.0.2:6543?sslmode=require&password=s3cret',
                          region => 'eu-west-1', kind => 'replica', weight => 2.5) > :id_a AS ids_increase;
SELECT node_name, conninfo, region, kind, weight, state FROM foresight.nodes ORDER BY node_id;

-- the shared-memory copy is what the view shows, and it matches the table
SELECT count(*) = (SELECT count(*) + 1 FROM foresight.node) AS view_matches_table FROM foresight.nodes;

-- alter: state, weight, region, conninfo; NULL keeps a value
SELECT foresight.alter_node('standby_a', state => 'drained');
SELECT foresight.alter_node('standby_a', weight => 3);
SELECT foresight.alter_node('standby_b', region => 'local', conninfo => 'host=127.0.0.1 port=5434');
SELECT node_name, conninfo, region, weight, state FROM foresight.nodes ORDER BY node_id;
SELECT foresight.alter_node('standby_a', state => 'disabled');
SELECT foresight.alter_node('standby_a', state => 'enabled');
SELECT node_name, state FROM foresight.nodes WHERE node_name = 'standby_a';

-- a rolled-back change is not published
BEGIN;
SELECT foresight.add_node('standby_c', 'host=127.0.0.1 port=5435');
SELECT count(*) AS nodes_inside FROM foresight.nodes;
ROLLBACK;
SELECT count(*) AS nodes_after_rollback FROM foresight.nodes;

-- invalid input
SELECT foresight.add_node('standby_a', 'host=127.0.0.1');
SELECT foresight.add_node('Bad Name', 'host=127.0.0.1');
SELECT foresight.add_node('1node', 'host=127.0.0.1');
SELECT foresight.add_node(repeat('n', 64), 'host=127.0.0.1');
SELECT foresight.add_node('local', 'host=127.0.0.1');
SELECT foresight.add_node('n1', 'host=127.0.0.1 bogus=1');
SELECT foresight.add_node('n1', 'host=''unterminated');
SELECT foresight.add_node('n1', 'postgresql://[::1');
SELECT foresight.add_node('n1', 'host=127.0.0.1 user=postgres');
SELECT foresight.add_node('n1', 'host=127.0.0.1 dbname=postgres');
SELECT foresight.add_node('n1', 'host=127.0.0.1 ' || repeat('x', 1100));
SELECT foresight.add_node('n1', 'host=127.0.0.1', region => 'EU West');
SELECT foresight.add_node('n1', 'host=127.0.0.1', kind => 'primary');
SELECT foresight.add_node('n1', 'host=127.0.0.1', weight => 0);
SELECT foresight.add_node('n1', 'host=127.0.0.1', weight => 100.5);
SELECT foresight.add_node('n1', 'host=127.0.0.1', weight => 'NaN');
SELECT foresight.add_node(NULL, 'host=127.0.0.1');
SELECT foresight.add_node('n1', NULL);
SELECT foresight.add_node('n1', 'host=127.0.0.1', weight => NULL);
SELECT foresight.alter_node('nosuch', state => 'drained');
SELECT foresight.alter_node('standby_a', state => 'sleeping');
SELECT foresight.alter_node('standby_a', weight => -1);
SELECT foresight.alter_node('standby_a');
SELECT foresight.alter_node('local', state => 'disabled');
SELECT foresight.remove_node('nosuch');
SELECT foresight.remove_node('local');
SELECT foresight.remove_node(NULL);

-- direct DML is checked by the table and published too
\set VERBOSITY terse
INSERT INTO foresight.node (node_name, conninfo, weight) VALUES ('direct', 'host=127.0.0.1', 0);
\set VERBOSITY default
INSERT INTO foresight.node (node_name, conninfo) VALUES ('direct', 'host=127.0.0.1');
SELECT node_name FROM foresight.nodes ORDER BY node_id;
DELETE FROM foresight.node WHERE node_name = 'direct';

-- permissions: ordinary roles read the view but cannot manage nodes
CREATE ROLE regress_foresight_user;
CREATE ROLE regress_foresight_admin;
GRANT foresight_admin TO regress_foresight_admin;
SET ROLE regress_foresight_user;
SELECT count(*) > 0 AS can_read_view FROM foresight.nodes;
SELECT conninfo FROM foresight.nodes WHERE node_name = 'standby_b';
SELECT * FROM foresight.node;
SELECT foresight.add_node('n2', 'host=127.0.0.1');
SELECT foresight.remove_node('standby_a');
RESET ROLE;
SET ROLE regress_foresight_admin;
SELECT foresight.add_node('n2', 'host=127.0.0.1') > 0 AS admin_can_add;
SELECT foresight.remove_node('n2');
RESET ROLE;

-- remove
SELECT foresight.remove_node('standby_a');
SELECT foresight.remove_node('standby_b');
SELECT node_name FROM foresight.nodes;

-- functions need the home database
CREATE DATABASE regress_foresight_other;
\c regress_foresight_other
SET client_min_messages = warning;
CREATE EXTENSION pg_foresight;
SELECT foresight.add_node('n3', 'host=127.0.0.1');
INSERT INTO foresight.node (node_name, conninfo) VALUES ('n3', 'host=127.0.0.1');
SELECT node_name FROM foresight.nodes;
\c contrib_regression
DROP DATABASE regress_foresight_other;
DROP ROLE regress_foresight_user;
DROP ROLE regress_foresight_admin;
