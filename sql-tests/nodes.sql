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
SELECT foresight.add_node('standby_a', 'host=127.0.0.1 port=1');
SELECT foresight.add_node('Bad Name', 'host=127.0.0.1 port=1');
SELECT foresight.add_node('1node', 'host=127.0.0.1 port=1');
SELECT foresight.add_node(repeat('n', 64), 'host=127.0.0.1 port=1');
SELECT foresight.add_node('local', 'host=127.0.0.1 port=1');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1 bogus=1');
SELECT foresight.add_node('n1', 'host=''unterminated');
SELECT foresight.add_node('n1', 'postgresql://[::1');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1 user=postgres');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1 dbname=postgres');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1 ' || repeat('x', 1100));
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1', region => 'EU West');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1', kind => 'leader');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1', weight => 0);
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1', weight => 100.5);
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1', weight => 'NaN');
-- a value just out of range is shown as float8 prints it, not rounded into range
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1', weight => 100.0000001);
SELECT foresight.add_node(NULL, 'host=127.0.0.1 port=1');
SELECT foresight.add_node('n1', NULL);
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1', weight => NULL);
SELECT foresight.alter_node('nosuch', state => 'drained');
SELECT foresight.alter_node('standby_a', state => 'sleeping');
SELECT foresight.alter_node('standby_a', weight => -1);
SELECT foresight.alter_node('standby_a');
SELECT foresight.alter_node('local', state => 'disabled');
SELECT foresight.remove_node('nosuch');
SELECT foresight.remove_node('local');
SELECT foresight.remove_node(NULL);
SELECT foresight.quarantine_node('standby_a', NULL);
SELECT foresight.quarantine_node(NULL);
SELECT foresight.release_node(NULL);

-- conninfo values are judged as libpq will judge them when it connects
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=notaport');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=-1');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=99999');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1 sslmode=bogus');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1 keepalives=abc');
SELECT foresight.add_node('n1', 'hostaddr=999.1.1.1');
SELECT foresight.add_node('n1', 'host=127.0.0.1 port=1 connect_timeout=-5');
SELECT foresight.add_node('n1', '');
SELECT foresight.add_node('n1', 'postgresql://');
SELECT foresight.add_node('n1', 'port=5432 sslmode=require');
SELECT foresight.add_node('n1', 'host=a,,b');
SELECT foresight.add_node('n1', 'host=a,b port=5432,5433,5434');
SELECT foresight.add_node('n1', 'host=a,b hostaddr=10.0.0.1');
SELECT foresight.add_node('n1', 'host=a ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2');
SELECT foresight.add_node('n1', 'postgresql://h:0/');
SELECT foresight.add_node('n1', 'postgresql://h/?sslmode=bogus');
SELECT foresight.alter_node('standby_a', conninfo => 'host=127.0.0.1 port=0');
CREATE FUNCTION regress_try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT conninfo, regress_try(format('SELECT foresight.add_node(%L, %L)', 'n1', conninfo)) AS result
  FROM unnest(ARRAY['host=a gssencmode=maybe', 'host=a channel_binding=always',
                    'host=a target_session_attrs=whatever', 'host=a ssl_max_protocol_version=TLSv9',
                    'host=a client_encoding=klingon', 'host=a keepalives_idle=1.5',
                    'host=a tcp_user_timeout=', 'host=a hostaddr=example.com',
                    'host=a port=2147483648', 'host=a sslmode=REQUIRE']) AS conninfo;
-- valid forms: lists, IPv6, any case for TLS versions, defaults left out
SELECT foresight.add_node('n_ok', 'host=a,b port=5432,5433 hostaddr=10.0.0.1,::1 sslmode=verify-full '
                          'keepalives=1 connect_timeout=0 target_session_attrs=read-only '
                          'ssl_min_protocol_version=tlsv1.2 client_encoding=auto') > 0 AS added;
SELECT foresight.add_node('n_uri', 'postgresql://[::1]:5433,10.0.0.3/?connect_timeout=10&gssencmode=disable') > 0 AS added;
SELECT node_name, conninfo FROM foresight.nodes WHERE node_name IN ('n_ok', 'n_uri') ORDER BY node_id;
SELECT foresight.remove_node('n_ok'), foresight.remove_node('n_uri');

-- secrets: the value of every option libpq marks secret (display
-- character "*" in PQconndefaults()) is masked, in the view and in messages
SELECT foresight.add_node('n_secret', 'host=127.0.0.1 port=1 password=pw1 sslpassword=pw2') > 0 AS added;
SELECT conninfo FROM foresight.nodes WHERE node_name = 'n_secret';
SELECT foresight.remove_node('n_secret');
SELECT foresight.add_node('n1', 'host=a password=top secret');
SELECT foresight.add_node('n1', 'host=a password = ''top secret');
SELECT foresight.add_node('n1', 'postgresql://u:topsecret@[::1');
SELECT foresight.add_node('n1', 'postgresql://u:top%zzsecret@h');
SELECT foresight.add_node('n1', 'postgresql://h/?sslpassword=topsecret&bogus');
-- nor where another option's value repeats it
SELECT foresight.add_node('n1', 'host=a password=topsecret port=topsecret');

-- two equal names in one statement, or in one REPEATABLE READ snapshot:
-- the registry's own error, not the unique index's
SELECT foresight.add_node('dup', 'host=127.0.0.1 port=1') FROM generate_series(1, 2);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT foresight.add_node('dup', 'host=127.0.0.1 port=1') > 0 AS added;
SELECT foresight.add_node('dup', 'host=127.0.0.2 port=1');
ROLLBACK;

-- direct DML is checked by the table and published too
\set VERBOSITY terse
INSERT INTO foresight.node (node_name, conninfo, weight) VALUES ('direct', 'host=127.0.0.1 port=1', 0);
\set VERBOSITY default
INSERT INTO foresight.node (node_name, conninfo) VALUES ('direct', 'host=127.0.0.1 port=1');
SELECT node_name FROM foresight.nodes ORDER BY node_id;
DELETE FROM foresight.node WHERE node_name = 'direct';

-- plain INSERT and UPDATE get the same checks as the functions
INSERT INTO foresight.node (node_name, conninfo) VALUES ('direct', 'host=127.0.0.1 port=1 user=postgres');
INSERT INTO foresight.node (node_name, conninfo) VALUES ('direct', 'host=127.0.0.1 port=1 dbname=postgres');
INSERT INTO foresight.node (node_name, conninfo) VALUES ('direct', 'host=127.0.0.1 port=notaport');
INSERT INTO foresight.node (node_name, conninfo) VALUES ('direct', '');
INSERT INTO foresight.node (node_name, conninfo) VALUES ('direct', 'host=a'), ('direct', 'host=b');
INSERT INTO foresight.node (node_name, conninfo) VALUES ('standby_a', 'host=a');
UPDATE foresight.node SET node_name = 'standby_a' WHERE node_name = 'standby_b';
UPDATE foresight.node SET conninfo = 'host=127.0.0.1 port=1 sslmode=bogus' WHERE node_name = 'standby_b';
UPDATE foresight.node SET region = 'Nowhere' WHERE node_name = 'standby_b';
-- node_id 0 is the built-in node "local": never a registered node's
INSERT INTO foresight.node (node_id, node_name, conninfo) OVERRIDING SYSTEM VALUE VALUES (0, 'zero', 'host=a');
INSERT INTO foresight.node (node_id, node_name, conninfo) OVERRIDING SYSTEM VALUE VALUES (-3, 'minus', 'host=a');
-- and with the trigger off (replica mode), the table's constraint
SET session_replication_role = replica;
\set VERBOSITY terse
INSERT INTO foresight.node (node_id, node_name, conninfo) OVERRIDING SYSTEM VALUE VALUES (0, 'zero', 'host=a');
\set VERBOSITY default
RESET session_replication_role;
SELECT node_id, node_name FROM foresight.nodes ORDER BY node_id;

-- permissions: ordinary roles read the view but cannot manage nodes
CREATE ROLE regress_foresight_user;
CREATE ROLE regress_foresight_admin;
GRANT foresight_admin TO regress_foresight_admin;
SET ROLE regress_foresight_user;
SELECT count(*) > 0 AS can_read_view FROM foresight.nodes;
SELECT conninfo FROM foresight.nodes WHERE node_name = 'standby_b';
SELECT * FROM foresight.node;
SELECT foresight.add_node('n2', 'host=127.0.0.1 port=1');
SELECT foresight.remove_node('standby_a');
RESET ROLE;
SET ROLE regress_foresight_admin;
SELECT foresight.add_node('n2', 'host=127.0.0.1 port=1') > 0 AS admin_can_add;
SELECT foresight.remove_node('n2');
RESET ROLE;

-- the decision log and the function behind it are for monitoring roles
CREATE ROLE regress_foresight_stats;
GRANT pg_read_all_stats TO regress_foresight_stats;
SET ROLE regress_foresight_user;
SELECT count(*) FROM foresight.routing_decisions;
SELECT count(*) FROM foresight.decision_list();
SET ROLE regress_foresight_stats;
SELECT count(*) >= 0 AS stats_role_reads_view FROM foresight.routing_decisions;
SELECT count(*) >= 0 AS stats_role_reads_function FROM foresight.decision_list();
SET ROLE regress_foresight_admin;
SELECT count(*) >= 0 AS admin_reads_view FROM foresight.routing_decisions;
RESET ROLE;
-- every function behind a view is granted exactly as its view is
SELECT c.relname AS view, p.oid::regprocedure AS function,
       (SELECT string_agg(DISTINCT CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE grantee::regrole::text END, ',')
          FROM aclexplode(c.relacl) WHERE privilege_type = 'SELECT' AND grantee <> c.relowner) AS readers,
       (SELECT string_agg(DISTINCT CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE grantee::regrole::text END, ',')
          FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner)))
         WHERE privilege_type = 'EXECUTE' AND grantee <> p.proowner) AS executors
  FROM pg_rewrite r
  JOIN pg_class c ON c.oid = r.ev_class AND c.relkind = 'v'
  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                  AND d.refclassid = 'pg_proc'::regclass
  JOIN pg_proc p ON p.oid = d.refobjid
 WHERE c.relnamespace = 'foresight'::regnamespace AND p.pronamespace = 'foresight'::regnamespace
 GROUP BY c.oid, c.relname, c.relacl, c.relowner, p.oid, p.proacl, p.proowner
 ORDER BY 1, 2;

-- reset_routing_stats() is open to foresight_admin, not to everyone
SET ROLE regress_foresight_user;
SELECT foresight.reset_routing_stats();
SET ROLE regress_foresight_admin;
SELECT foresight.reset_routing_stats();
RESET ROLE;

-- foresight.connection_options is for superusers only, even to read
SET ROLE regress_foresight_user;
SHOW foresight.connection_options;
SELECT current_setting('foresight.connection_options');
SELECT count(*) AS visible FROM pg_settings WHERE name = 'foresight.connection_options';
RESET ROLE;
SHOW foresight.connection_options;
-- it is checked as node conninfos are, before every read's connection
-- fails with it; a secret's value is never shown
SET foresight.connection_options = 'password=SECRETZ1 bogus=1';
SET foresight.connection_options = 'sslmode=xx';
SET foresight.connection_options = 'password=''SECRETZ1';
SET foresight.connection_options = 'password=SECRETZ1 keepalives=SECRETZ1';
SET foresight.connection_options = 'sslpassword=SECRETZ1 keepalives=-1';
SET foresight.connection_options = 'dbname=other';
-- nor an address, which would replace every node's own
SET foresight.connection_options = 'host=10.9.9.9';
SET foresight.connection_options = 'sslmode=require port=6543';
SET foresight.connection_options = 'postgresql://h/?sslmode=require';
SET foresight.connection_options = 'ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2';
SELECT conninfo, regress_try(format('SET foresight.connection_options = %L', conninfo)) AS result
  FROM unnest(ARRAY['connect_timeout=-5', 'client_encoding=klingon',
                    'gssencmode=maybe', 'user=x', 'replication=1']) AS conninfo;
ALTER DATABASE contrib_regression SET foresight.connection_options = 'sslmode=xx';
-- valid options, superusers' ones included (the setting is a superuser's)
SET foresight.connection_options = 'password=wrong sslmode=prefer keepalives_idle=30 sslrootcert=/x';
SHOW foresight.connection_options;
RESET foresight.connection_options;

-- options that make the server use its own files or services are for
-- superusers: not for foresight_admin, through the functions or DML
SET ROLE regress_foresight_admin;
SELECT foresight.add_node('n2', 'host=127.0.0.1 port=1 sslkey=/var/lib/postgresql/.postgresql/postgresql.key');
SELECT opt, regress_try(format('SELECT foresight.add_node(%L, %L)', 'n2', 'host=127.0.0.1 port=1 ' || opt || '=/x')) AS add_node,
       regress_try(format('INSERT INTO foresight.node (node_name, conninfo) VALUES (%L, %L)', 'n2', 'host=127.0.0.1 port=1 ' || opt || '=/x')) AS insert
  FROM unnest(ARRAY['service', 'passfile', 'sslcert', 'sslkey', 'sslpassword', 'sslrootcert', 'sslcrl', 'sslcrldir']) AS opt;
-- an empty value is libpq's default, and a password is the node's own
SELECT foresight.add_node('n2', 'host=127.0.0.1 port=1 sslrootcert='''' password=pw') > 0 AS admin_can_add;
SELECT foresight.remove_node('n2');
RESET ROLE;
-- a superuser may; foresight_admin may then drain or reweight the node,
-- but not give it a conninfo with those options
SELECT foresight.add_node('n_su', 'host=127.0.0.1 port=1 sslcert=/x sslkey=/y sslmode=verify-full') > 0 AS superuser_can_add;
SET ROLE regress_foresight_admin;
SELECT foresight.alter_node('n_su', state => 'drained');
SELECT foresight.alter_node('n_su', conninfo => 'host=127.0.0.2 port=1 sslcert=/x');
UPDATE foresight.node SET weight = 2 WHERE node_name = 'n_su';
SELECT node_name, state, weight FROM foresight.nodes WHERE node_name = 'n_su';
RESET ROLE;
SELECT foresight.remove_node('n_su');
DROP FUNCTION regress_try(text);

-- the coordinator itself is not a node (its port varies: terse errors)
\set VERBOSITY terse
SELECT foresight.add_node('myself', 'host=127.0.0.1 port=' || current_setting('port'));
SELECT foresight.add_node('myself', 'host=localhost port=' || current_setting('port'));
SELECT foresight.add_node('myself', 'hostaddr=::1 port=' || current_setting('port'));
SELECT foresight.add_node('myself', 'host=h1,' || split_part(current_setting('unix_socket_directories'), ',', 1)
	|| ' port=1,' || current_setting('port'));
INSERT INTO foresight.node (node_name, conninfo) VALUES ('myself', 'host=127.0.0.2 port=' || current_setting('port'));
SELECT foresight.alter_node('standby_a', conninfo => 'host=127.0.0.1 port=' || current_setting('port'));
-- the same host at another port is another server
SELECT foresight.add_node('neighbour', 'host=127.0.0.1 port=' || (current_setting('port')::int + 1)) > 0 AS added;
SELECT foresight.remove_node('neighbour');
\set VERBOSITY default

-- remove
SELECT foresight.remove_node('standby_a');
SELECT foresight.remove_node('standby_b');
SELECT node_name FROM foresight.nodes;

-- functions need the home database
CREATE DATABASE regress_foresight_other;
\c regress_foresight_other
SET client_min_messages = warning;
CREATE EXTENSION pg_foresight;
SELECT foresight.add_node('n3', 'host=127.0.0.1 port=1');
INSERT INTO foresight.node (node_name, conninfo) VALUES ('n3', 'host=127.0.0.1 port=1');
SELECT node_name FROM foresight.nodes;
\c contrib_regression
DROP DATABASE regress_foresight_other;
DROP ROLE regress_foresight_user;
DROP ROLE regress_foresight_admin;
DROP ROLE regress_foresight_stats;
