# Routing catalogue: every query gives the same result routed to a standby
# as run locally, and is shown to have run on a standby.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
# runs long: scripts/test.sh starts it first among those
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(standbys => 2);

$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TYPE pair AS (a integer, b text);
CREATE TABLE items (
	id integer PRIMARY KEY,
	name text,
	price numeric(12,4),
	f8 float8,
	f4 float4,
	data bytea,
	tags text[],
	js json,
	jb jsonb,
	ts timestamptz,
	t timestamp,
	d date,
	iv interval,
	m mood,
	p posint,
	pr pair,
	r int4range,
	tr tstzrange,
	u uuid,
	ip inet,
	bits bit varying(16),
	mon money,
	pt point
);
INSERT INTO items
SELECT g,
	CASE WHEN g % 7 = 0 THEN NULL ELSE 'name ' || g || ' – ünïcødé ✓ 日本' END,
	g * 1.2345 - 50,
	CASE WHEN g % 5 = 0 THEN NULL ELSE g / 3.0::float8 END,
	(g / 7.0)::float4,
	decode(md5(g::text), 'hex'),
	ARRAY['a' || g, NULL, 'q"uote,' || g],
	json_build_object('g', g, 'sq', g * g, 'nested', json_build_array(g, 'x')),
	jsonb_build_object('g', g, 'even', g % 2 = 0, 'f', g / 4.0),
	timestamptz '2024-03-31 01:30:00+00' + g * interval '37 minutes 13.123456 seconds',
	timestamp '2000-01-01' + g * interval '1 day 1 second',
	date '1999-12-25' + g,
	make_interval(months => g % 13, days => g % 3, secs => g * 1.5),
	(ARRAY['sad','ok','happy']::mood[])[1 + g % 3],
	CASE WHEN g % 4 = 0 THEN NULL ELSE g END,
	ROW(g, 'p' || g)::pair,
	int4range(g, g + g % 5 + 1),
	tstzrange(timestamptz '2020-01-01 00:00+00' + g * interval '1 hour', NULL),
	md5(g::text)::uuid,
	('10.0.' || (g % 256) || '.1/24')::inet,
	(g % 65536)::bit(16)::varbit,
	(g * 1.25)::money,
	point(g, -g / 3.0)
FROM generate_series(1, 200) g;
CREATE TABLE orders (oid_ integer PRIMARY KEY, item_id integer REFERENCES items(id), qty integer, placed date);
INSERT INTO orders SELECT g, 1 + g % 150, g % 9, date '2024-01-01' + g % 60 FROM generate_series(1, 1000) g;
CREATE VIEW expensive AS SELECT id, name, price FROM items WHERE price > 100;
CREATE MATERIALIZED VIEW order_totals AS SELECT item_id, sum(qty) AS total FROM orders GROUP BY item_id;
CREATE TABLE parted (k integer, v text) PARTITION BY RANGE (k);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (100) TO (200);
INSERT INTO parted SELECT g, 'v' || g FROM generate_series(0, 199) g;
CREATE FUNCTION item_label(i integer) RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'item#' || i $$;
CREATE SCHEMA other;
CREATE TABLE other.items AS SELECT g AS id FROM generate_series(1, 3) g;
ANALYZE;
});
ForesightCluster::catch_up($primary, $standby1);
ForesightCluster::catch_up($primary, $standby2);

our $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";
my $local = "SET foresight.routing_policy = local;";

sub routed_count
{
	return $primary->safe_psql('postgres',
		"SELECT coalesce(sum(routed), 0) FROM foresight.routing_stats WHERE node_name <> 'local'");
}

sub check_query
{
	my ($name, $sql, $prefix) = @_;
	$prefix //= '';
	# (the count after the local run is the count before the routed one)
	my ($lret, $expected, $lerr, $before) =
	  ForesightCluster::psql_and_routed($primary, "$local $prefix $sql");
	is($lret, 0, "$name: runs locally") or diag($lerr);
	my ($ret, $got, $err, $after) =
	  ForesightCluster::psql_and_routed($primary, "$route $prefix $sql");
	is($ret, 0, "$name: runs routed") or diag($err);
	is($got, $expected, "$name: same result routed");
	cmp_ok(($after // 0) - ($before // 0), '>=', 1, "$name: ran on a standby");
}

my @catalogue = (
	[ 'constant', 'SELECT 1' ],
	[ 'nulls', 'SELECT id, name, f8, p FROM items WHERE id <= 30 ORDER BY id' ],
	[ 'numeric', 'SELECT id, price, price * 3 / 7 AS q FROM items ORDER BY id LIMIT 20' ],
	[ 'numeric aggregates', 'SELECT sum(price), avg(price), stddev(price), min(price), max(price) FROM items' ],
	[ 'float8 exact', 'SELECT id, f8, f8 * 1e-300, f8::text FROM items WHERE f8 IS NOT NULL ORDER BY id LIMIT 25' ],
	[ 'float4', 'SELECT id, f4, f4 * 3 FROM items ORDER BY id LIMIT 25' ],
	[ 'float special', q{SELECT 'NaN'::float8, 'Infinity'::float8, '-Infinity'::float4, -0.0::float8, 1e308::float8, 1.5e-320::float8} ],
	[ 'non-ASCII text', q{SELECT name, upper(name), length(name), octet_length(name) FROM items WHERE name IS NOT NULL ORDER BY id LIMIT 10} ],
	[ 'text pattern', q{SELECT id FROM items WHERE name LIKE '%ü%' AND name ~ '1[0-9]' ORDER BY id} ],
	[ 'bytea', 'SELECT id, data, substring(data from 2 for 3) FROM items ORDER BY id LIMIT 10' ],
	[ 'bytea escape output', 'SELECT data FROM items ORDER BY id LIMIT 5', 'SET bytea_output = escape;' ],
	[ 'arrays', 'SELECT id, tags, tags[1], array_length(tags, 1), array_to_string(tags, $$|$$, $$<null>$$) FROM items ORDER BY id LIMIT 10' ],
	[ 'array agg', 'SELECT array_agg(id ORDER BY id) FROM items WHERE id < 40' ],
	[ 'json', q{SELECT id, js, js->'nested', js->>'sq' FROM items ORDER BY id LIMIT 10} ],
	[ 'jsonb', q{SELECT id, jb, jb->'even', jb ? 'g' FROM items WHERE jb @> '{"even": true}' ORDER BY id LIMIT 10} ],
	[ 'jsonb agg', q{SELECT jsonb_agg(jb ORDER BY id) FROM items WHERE id < 6} ],
	[ 'timestamptz UTC', 'SELECT id, ts, ts::date, extract(epoch FROM ts) FROM items ORDER BY id LIMIT 15', q{SET TimeZone = 'UTC';} ],
	[ 'timestamptz Berlin', 'SELECT id, ts, ts::timestamp FROM items ORDER BY id LIMIT 15', q{SET TimeZone = 'Europe/Berlin';} ],
	[ 'timestamptz Kathmandu', 'SELECT id, ts, date_trunc($$day$$, ts) FROM items ORDER BY id LIMIT 15', q{SET TimeZone = 'Asia/Kathmandu';} ],
	[ 'timestamptz offset zone', q{SELECT ts, to_char(ts, 'YYYY-MM-DD HH24:MI:SS TZH') FROM items ORDER BY id LIMIT 5}, q{SET TimeZone = '-03:30';} ],
	[ 'DateStyle SQL DMY', 'SELECT ts, t, d FROM items ORDER BY id LIMIT 10', q{SET DateStyle = 'SQL, DMY'; SET TimeZone = 'America/New_York';} ],
	[ 'DateStyle German', 'SELECT t, d FROM items ORDER BY id LIMIT 10', q{SET DateStyle = 'German';} ],
	[ 'timestamp and date', 'SELECT t, d, d - date $$2000-01-01$$, t + interval $$1 month$$ FROM items ORDER BY id LIMIT 10' ],
	[ 'intervals', 'SELECT iv, iv * 2, justify_interval(iv) FROM items ORDER BY id LIMIT 15' ],
	[ 'IntervalStyle iso_8601', 'SELECT iv FROM items ORDER BY id LIMIT 15', q{SET IntervalStyle = 'iso_8601';} ],
	[ 'IntervalStyle sql_standard', 'SELECT iv, -iv FROM items ORDER BY id LIMIT 15', q{SET IntervalStyle = 'sql_standard';} ],
	[ 'enum', q{SELECT m, count(*) FROM items GROUP BY m ORDER BY m} ],
	[ 'enum compare', q{SELECT id FROM items WHERE m > 'sad' ORDER BY id LIMIT 10} ],
	[ 'domain', 'SELECT p, p + 1 FROM items ORDER BY id LIMIT 12' ],
	[ 'composite', 'SELECT pr, (pr).a, (pr).b FROM items ORDER BY id LIMIT 10' ],
	[ 'whole row', 'SELECT o FROM orders o ORDER BY oid_ LIMIT 5' ],
	[ 'ranges', 'SELECT r, lower(r), upper(r), isempty(r), r @> 10 FROM items ORDER BY id LIMIT 12' ],
	[ 'tstzrange', 'SELECT tr FROM items ORDER BY id LIMIT 5' ],
	[ 'uuid inet bit', 'SELECT u, ip, host(ip), bits FROM items ORDER BY id LIMIT 10' ],
	[ 'money', 'SELECT mon, mon * 2 FROM items ORDER BY id LIMIT 10' ],
	[ 'point', 'SELECT pt FROM items ORDER BY id LIMIT 5' ],
	[ 'view', 'SELECT * FROM expensive ORDER BY id' ],
	[ 'materialized view', 'SELECT * FROM order_totals ORDER BY item_id LIMIT 20' ],
	[ 'partitioned', 'SELECT k, v FROM parted WHERE k BETWEEN 95 AND 105 ORDER BY k' ],
	[ 'CTE', 'WITH big AS (SELECT * FROM items WHERE price > 50) SELECT count(*), max(id) FROM big' ],
	[ 'recursive CTE', 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) SELECT sum(i) FROM n' ],
	[ 'materialized CTE', 'WITH x AS MATERIALIZED (SELECT id FROM items) SELECT count(*) FROM x a JOIN x b USING (id)' ],
	[ 'scalar subquery', 'SELECT id, (SELECT count(*) FROM orders o WHERE o.item_id = i.id) FROM items i ORDER BY id LIMIT 20' ],
	[ 'IN subquery', 'SELECT id FROM items WHERE id IN (SELECT item_id FROM orders WHERE qty = 8) ORDER BY id' ],
	[ 'EXISTS', 'SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.item_id = i.id)' ],
	[ 'inner join', 'SELECT i.id, i.name, o.qty FROM items i JOIN orders o ON o.item_id = i.id ORDER BY o.oid_ LIMIT 30' ],
	[ 'left join', 'SELECT i.id, count(o.*) FROM items i LEFT JOIN orders o ON o.item_id = i.id GROUP BY i.id ORDER BY i.id DESC LIMIT 60' ],
	[ 'full join', 'SELECT a.id, b.id FROM (SELECT id FROM items WHERE id < 10) a FULL JOIN (SELECT id FROM items WHERE id BETWEEN 5 AND 15) b ON a.id = b.id ORDER BY 1, 2' ],
	[ 'lateral', 'SELECT i.id, l.oid_ FROM items i, LATERAL (SELECT oid_ FROM orders o WHERE o.item_id = i.id ORDER BY oid_ LIMIT 2) l ORDER BY 1, 2 LIMIT 30' ],
	[ 'window functions', 'SELECT id, price, rank() OVER w, sum(price) OVER w, lag(id) OVER w FROM items WINDOW w AS (PARTITION BY m ORDER BY price) ORDER BY id LIMIT 40' ],
	[ 'window frame', 'SELECT id, avg(f8) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) FROM items ORDER BY id LIMIT 30' ],
	[ 'union', 'SELECT id FROM items WHERE id < 5 UNION SELECT item_id FROM orders WHERE oid_ < 5 ORDER BY 1' ],
	[ 'union all', 'SELECT id, $$a$$ AS src FROM items WHERE id < 5 UNION ALL SELECT item_id, $$b$$ FROM orders WHERE oid_ < 5 ORDER BY 1, 2' ],
	[ 'intersect except', 'SELECT id FROM items INTERSECT SELECT item_id FROM orders EXCEPT SELECT id FROM items WHERE id > 100 ORDER BY 1' ],
	[ 'distinct', 'SELECT DISTINCT m FROM items ORDER BY 1' ],
	[ 'distinct on', 'SELECT DISTINCT ON (item_id) item_id, oid_, qty FROM orders ORDER BY item_id, qty DESC, oid_ LIMIT 30' ],
	[ 'limit offset', 'SELECT id FROM items ORDER BY price DESC, id LIMIT 7 OFFSET 13' ],
	[ 'order by hidden column', 'SELECT name FROM items WHERE name IS NOT NULL ORDER BY price DESC LIMIT 10' ],
	[ 'group by having', 'SELECT item_id, sum(qty) FROM orders GROUP BY item_id HAVING sum(qty) > 40 ORDER BY item_id' ],
	[ 'grouping sets', 'SELECT m, p IS NULL AS pnull, count(*) FROM items GROUP BY ROLLUP (m, p IS NULL) ORDER BY 1, 2' ],
	[ 'filter and ordered-set', 'SELECT count(*) FILTER (WHERE qty > 4), percentile_cont(0.5) WITHIN GROUP (ORDER BY qty) FROM orders' ],
	[ 'set-returning', 'SELECT generate_series(1, 5) AS g, unnest(ARRAY[$$x$$, $$y$$])' ],
	[ 'values', 'SELECT * FROM (VALUES (1, $$one$$), (2, NULL)) v(a, b) ORDER BY a' ],
	[ 'stable sql function', 'SELECT item_label(id) FROM items ORDER BY id LIMIT 5' ],
	[ 'catalog query', q{SELECT relname, relkind FROM pg_class WHERE relname IN ('items', 'orders', 'expensive') ORDER BY 1} ],
	[ 'search_path', 'SELECT count(*) FROM items', 'CREATE SCHEMA IF NOT EXISTS dummy; SET search_path = dummy, public;' ],
	[ 'empty result', 'SELECT * FROM items WHERE false' ],
	[ 'many rows', 'SELECT count(*), sum(x) FROM (SELECT oid_ AS x FROM orders) s' ],
	[ 'big result', 'SELECT o.*, i.name FROM orders o JOIN items i ON i.id = o.item_id ORDER BY o.oid_' ],
	[ 'case and coalesce', q{SELECT id, CASE WHEN p IS NULL THEN 'none' ELSE p::text END, coalesce(name, '-') FROM items ORDER BY id LIMIT 20} ],
	[ 'string functions', q{SELECT format('%s-%L', id, name), md5(coalesce(name, '')), regexp_replace(coalesce(name, ''), '[0-9]+', '#', 'g') FROM items ORDER BY id LIMIT 10} ],
	[ 'to_char', q{SELECT to_char(price, 'FM999G990D00'), to_char(ts, 'Day DD Mon YYYY HH12:MI AM') FROM items ORDER BY id LIMIT 10} ],
	[ 'random is routable', 'SELECT count(*) FROM (SELECT random() FROM items) s' ],
	[ 'now', 'SELECT now() IS NOT NULL' ],
	# conditions whose constants are sent as parameters (foresight.lift_constants)
	[ 'lifted: numeric float text', q{SELECT id FROM items WHERE price > 12.5 AND f8 < 1e10 AND f8 > 0.1::float8 AND f4 <> 2.5 AND name <> 'it''s' AND name LIKE 'name 1%' ORDER BY id} ],
	[ 'lifted: non-ASCII and bytea', q{SELECT id FROM items WHERE name LIKE '%ünïcødé ✓ 日本' AND data <> '\x00ff'::bytea AND id < 30 ORDER BY id} ],
	[ 'lifted: dates under SQL DMY', q{SELECT id FROM items WHERE ts > '01/04/2024 10:00 +02' AND d < '01/03/2000' AND t >= '15/01/2000 00:00' AND iv > '1 mon 2 days' ORDER BY id},
		q{SET DateStyle = 'SQL, DMY'; SET IntervalStyle = 'sql_standard'; SET TimeZone = 'Asia/Kathmandu';} ],
	[ 'lifted: enum domain range', q{SELECT id FROM items WHERE m = 'happy' AND p > 3::posint AND r && '[10,40)'::int4range AND tr @> '2020-01-02 00:00+00'::timestamptz ORDER BY id} ],
	[ 'lifted: jsonb array uuid inet bit money', q{SELECT id FROM items WHERE jb @> '{"even": false}' AND tags @> ARRAY['a3'] OR u = 'c4ca4238-a0b9-2382-0dcc-509a6f75849b' OR ip << '10.0.7.0/24' OR bits = B'0000000000001001' OR mon = '$12.50' ORDER BY id} ],
	[ 'lifted: IN list and ANY', q{SELECT id FROM items WHERE id IN (3, 5, 8, 13) OR name = ANY (ARRAY['name 21 – ünïcødé ✓ 日本', 'none']) ORDER BY id} ],
	[ 'lifted: join ON and subquery', q{SELECT i.id, o.qty FROM items i JOIN orders o ON o.item_id = i.id AND o.qty > 7 WHERE i.id < 20 AND o.placed > '2024-01-15' AND i.id IN (SELECT item_id FROM orders WHERE qty = 8) ORDER BY 1, 2} ],
	[ 'lifted: expressions of constants', q{SELECT id FROM items WHERE f8 > 1 / 3.0::float8 AND price < 10 * 2.5 + 1 AND coalesce(name, 'x') <> 'y' ORDER BY id LIMIT 20} ],
);

for my $case (@catalogue)
{
	check_query(@$case);
}

# prepared statements with parameters (named PREPARE / EXECUTE)
check_query('prepared statement',
	'PREPARE q(integer, text) AS SELECT id, name FROM items WHERE id > $1 AND coalesce(name, $$$$) LIKE $2 ORDER BY id LIMIT 5; EXECUTE q(10, $$%1%$$); EXECUTE q(100, $$%ü%$$);');
check_query('prepared with numeric and timestamptz parameters',
	q{PREPARE q2(numeric, timestamptz) AS SELECT id FROM items WHERE price > $1 AND ts < $2 ORDER BY id; EXECUTE q2(10.5, '2024-04-01 00:00+00'); EXECUTE q2(-5, '2024-03-31 12:00+02');});
check_query('prepared statement generic plan',
	'SET plan_cache_mode = force_generic_plan; PREPARE q3(int) AS SELECT count(*) FROM orders WHERE qty = $1; EXECUTE q3(1); EXECUTE q3(2); EXECUTE q3(3);');

check_query('prepared without parameters across a DateStyle change',
	q{SET DateStyle = 'SQL, DMY'; PREPARE q4 AS SELECT count(*) FROM items WHERE d < '10/02/2000' AND t > '05/01/2000 12:00'; EXECUTE q4; SET DateStyle = 'SQL, MDY'; EXECUTE q4; SET IntervalStyle = 'sql_standard'; PREPARE q5 AS SELECT count(*) FROM items WHERE iv > '-1 days +02:00:00'; EXECUTE q5; SET IntervalStyle = 'postgres'; EXECUTE q5;});

check_query('settings changed between the routed queries of one session',
	q{SELECT ('2024-01-01 10:00 ' || 'IST')::timestamptz::text; SET timezone_abbreviations = 'India'; SELECT ('2024-01-01 10:00 ' || 'IST')::timestamptz::text; SET search_path = other, public; SELECT count(*) FROM items; SET search_path = public; SELECT count(*) FROM items; SET extra_float_digits = 1; SELECT f8 FROM items WHERE id = 2; SET bytea_output = 'escape'; SELECT data FROM items WHERE id = 2; RESET bytea_output; SELECT data FROM items WHERE id = 2;});

# the other policies route the same way
for my $policy ('random', 'least_connections')
{
	local $route = "SET foresight.routing_policy = $policy; SET foresight.include_local = off;";
	for my $case (@catalogue[1, 10, 16, 29, 36, 49])
	{
		check_query("$policy: $case->[0]", $case->[1], $case->[2]);
	}
}

my $n = scalar(@catalogue) + 5;
cmp_ok($n, '>=', 60, "catalogue has $n queries");

# standbys really served queries: application_name pg_foresight connections were there
for my $standby ($standby1, $standby2)
{
	my $routed = $primary->safe_psql('postgres',
		"SELECT routed FROM foresight.routing_stats WHERE node_name = '" . ($standby == $standby1 ? 'standby1' : 'standby2') . "'");
	cmp_ok($routed, '>', 10, $standby->name . ": served routed queries ($routed)");
}

# the servers that answered: a routed query reading the server's own port
# shows both standbys, round robin, never the coordinator
my $ports = $primary->safe_psql('postgres',
	"$route SELECT node_port(); SELECT node_port(); SELECT node_port(); SELECT node_port();");
my %seen = map { $_ => 1 } split /\n/, $ports;
is(join(',', sort keys %seen), join(',', sort ($standby1->port, $standby2->port)),
	'routed queries ran on both standbys');
# and the standbys see the router's sessions with its application_name
my $bg = $primary->background_psql('postgres');
$bg->query_safe("$route SELECT 1; SELECT 2;");
for my $standby ($standby1, $standby2)
{
	is($standby->safe_psql('postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'pg_foresight' AND usename = current_user"),
		't', $standby->name . ': routed session visible with application_name pg_foresight');
}
$bg->quit;

# pgbench -M prepared smoke through the router
$primary->safe_psql('postgres', 'CREATE TABLE bench_t AS SELECT g AS aid, g % 10 AS abalance FROM generate_series(1, 1000) g; ALTER TABLE bench_t ADD PRIMARY KEY (aid)');
ForesightCluster::catch_up($primary, $standby1);
ForesightCluster::catch_up($primary, $standby2);
my $script = $primary->basedir . '/select.sql';
PostgreSQL::Test::Utils::append_to_file($script, "\\set aid random(1, 1000)\nSELECT abalance FROM bench_t WHERE aid = :aid;\n");
my $before = routed_count();
{
	local $ENV{PGOPTIONS} = '-c foresight.routing_policy=round_robin -c foresight.include_local=off';
	my ($stdout, $stderr);
	my $ok = IPC::Run::run([ 'pgbench', '-n', '-M', 'prepared', '-c', '4', '-t', '50', '-f', $script,
		'-h', $primary->host, '-p', $primary->port, 'postgres' ], '>', \$stdout, '2>', \$stderr);
	ok($ok, 'pgbench -M prepared through the router') or diag($stderr);
	like($stdout, qr/number of transactions actually processed: 200\/200/, 'pgbench: all transactions done');
}
cmp_ok(routed_count() - $before, '>=', 200, 'pgbench queries were routed to the standbys');

done_testing();
