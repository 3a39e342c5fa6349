-- Dynamic sharding, planning side (src/split/, docs/sharding.md).
-- 1. Partial aggregation: for every built-in aggregate with a combine
--    function, states computed over disjoint ranges of a table and combined
--    give the aggregate over the whole table (floats within 1e-12 relative).
-- 2. The split planner through split_explain: what splits, what does not
--    and why, ranges from statistics, NULL keys, declared keys.
-- 3. Parts run here and combined in SQL give the query's answer.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_foresight;
SET extra_float_digits = 0;

------------------------------------------------------------------------
-- 1. partial aggregation
------------------------------------------------------------------------
CREATE TYPE split_mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE split_agg_data (
	id integer PRIMARY KEY,
	g integer,
	sm smallint, i4 integer, i8 bigint, num numeric, r4 real, f8 float8, f8b float8,
	iv interval, m money, o oid, dt date, tm time, ttz timetz, ts timestamp, tstz timestamptz,
	txt text, bp char(4), ip inet, lsn pg_lsn, x8 xid8, flag boolean, bits bit(8),
	arr integer[], tarr text[], mood split_mood, ir int4range, tr tstzrange, imr int4multirange
);
INSERT INTO split_agg_data
SELECT i,
	CASE WHEN i % 17 = 0 THEN NULL ELSE i % 5 END,
	CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 200 - 100) END,
	CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 7919) % 100003 - 50000 END,
	CASE WHEN i % 19 = 0 THEN NULL ELSE (i::bigint * 2654435761) % 1000000007 END,
	CASE WHEN i % 23 = 0 THEN NULL ELSE round(i * 3.14159 / 7, 5) END,
	CASE WHEN i % 29 = 0 THEN NULL ELSE (i % 97) * 0.37 END,
	CASE WHEN i % 31 = 0 THEN NULL ELSE sin(i) * 1000 + i * 0.37 END,
	CASE WHEN i % 37 = 0 THEN NULL ELSE cos(i * 1.7) * 500 + (i % 13) END,
	CASE WHEN i % 41 = 0 THEN NULL ELSE make_interval(days => i % 40, secs => i * 1.5) END,
	CASE WHEN i % 43 = 0 THEN NULL ELSE (i * 1.25)::numeric::money END,
	CASE WHEN i % 47 = 0 THEN NULL ELSE (i * 31 % 5000)::oid END,
	CASE WHEN i % 53 = 0 THEN NULL ELSE date '2020-01-01' + (i * 37 % 2000) END,
	CASE WHEN i % 59 = 0 THEN NULL ELSE time '00:00' + make_interval(secs => i * 61 % 86400) END,
	CASE WHEN i % 61 = 0 THEN NULL ELSE (time '00:00' + make_interval(secs => i * 67 % 86400))::timetz END,
	CASE WHEN i % 67 = 0 THEN NULL ELSE timestamp '2020-01-01' + make_interval(secs => i * 7777.5) END,
	CASE WHEN i % 71 = 0 THEN NULL ELSE timestamptz '2020-01-01 00:00+00' + make_interval(secs => i * 9999.25) END,
	CASE WHEN i % 73 = 0 THEN NULL ELSE md5(i::text) END,
	CASE WHEN i % 79 = 0 THEN NULL ELSE substr(md5(i::text), 1, 3) END,
	CASE WHEN i % 83 = 0 THEN NULL ELSE ('10.' || i % 256 || '.' || i * 7 % 256 || '.0/' || (16 + i % 9))::inet END,
	CASE WHEN i % 89 = 0 THEN NULL ELSE (to_hex(i % 7) || '/' || to_hex(i * 104729))::pg_lsn END,
	CASE WHEN i % 97 = 0 THEN NULL ELSE (i * 12345)::text::xid8 END,
	CASE WHEN i % 101 = 0 THEN NULL ELSE i % 7 <> 0 END,
	CASE WHEN i % 103 = 0 THEN NULL ELSE (255 - (i % 16) * (i % 3))::bit(8) END,
	CASE WHEN i % 107 = 0 THEN NULL ELSE ARRAY[i % 10, i % 7, i] END,
	CASE WHEN i % 109 = 0 THEN NULL ELSE ARRAY[md5(i::text), i::text] END,
	CASE WHEN i % 113 = 0 THEN NULL ELSE (enum_range(NULL::split_mood))[1 + i % 3] END,
	CASE WHEN i % 127 = 0 THEN NULL ELSE int4range(i % 50, 2000 + i % 300) END,
	CASE WHEN i % 131 = 0 THEN NULL
		ELSE tstzrange(timestamptz '2020-01-01 00:00+00' + make_interval(hours => i % 100),
					   timestamptz '2021-01-01 00:00+00' - make_interval(hours => i % 70)) END,
	CASE WHEN i % 137 = 0 THEN NULL ELSE int4multirange(int4range(i % 40, 3000), int4range(4000, 5000 + i)) END
FROM generate_series(1, 1000) i;

-- the arguments an aggregate is tested with, by its argument types
CREATE TABLE split_agg_args (argtypes text, args text);
INSERT INTO split_agg_args VALUES
	('', '*'), ('"any"', 'txt'), ('"any"', 'i4'), ('"any"', 'ip'),
	('smallint', 'sm'), ('integer', 'i4'), ('bigint', 'i8'), ('numeric', 'num'),
	('real', 'r4'), ('double precision', 'f8'), ('double precision, double precision', 'f8, f8b'),
	('interval', 'iv'), ('money', 'm'), ('oid', 'o'), ('date', 'dt'),
	('time without time zone', 'tm'), ('time with time zone', 'ttz'),
	('timestamp without time zone', 'ts'), ('timestamp with time zone', 'tstz'),
	('text', 'txt'), ('character', 'bp'), ('tid', 'ctid'), ('inet', 'ip'), ('pg_lsn', 'lsn'),
	('xid8', 'x8'), ('boolean', 'flag'), ('bit', 'bits'), ('anyarray', 'arr'), ('anyarray', 'tarr'),
	('anyenum', 'mood'), ('anyrange', 'ir'), ('anyrange', 'tr'), ('anymultirange', 'imr');

-- The aggregate over the whole table (per group g when grouped) against
-- finalize_agg over the partial_agg states of the ranges of id that the
-- cut points make (id < c1 OR id IS NULL, c1 <= id < c2, ..., id >= cn);
-- native: the aggregate itself over each range, its results combined by
-- combine_results (for an aggregate whose result is its state).
-- Returns 'ok', or how many groups differ.
CREATE FUNCTION split_agg_check(agg regprocedure, args text, cuts integer[], grouped boolean,
								native boolean DEFAULT false)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	call text := format('%s(%s)', (SELECT quote_ident(proname) FROM pg_proc WHERE oid = agg), args);
	partial text := CASE WHEN native THEN call
						 WHEN args = '*' THEN format('foresight.partial_agg(%L::regprocedure)', agg)
						 ELSE format('foresight.partial_agg(%L::regprocedure, %s)', agg, args) END;
	gexpr text := CASE WHEN grouped THEN 'g' ELSE 'NULL::integer' END;
	grp text := CASE WHEN grouped THEN 'GROUP BY g' ELSE '' END;
	n integer := coalesce(array_length(cuts, 1), 0);
	restype regtype;
	conds text[] := '{}';
	parts text;
	cmp text;
	bad bigint;
BEGIN
	EXECUTE format('SELECT pg_typeof(%s) FROM split_agg_data', call) INTO restype;
	IF n = 0 THEN
		conds := ARRAY['true'];
	ELSE
		conds := ARRAY[format('id < %s OR id IS NULL', cuts[1])];
		FOR i IN 2 .. n LOOP
			conds := conds || format('id >= %s AND id < %s', cuts[i - 1], cuts[i]);
		END LOOP;
		conds := conds || format('id >= %s', cuts[n]);
	END IF;
	SELECT string_agg(format('SELECT %s AS g, %s AS s FROM split_agg_data WHERE %s %s',
							 gexpr, partial, c, grp), ' UNION ALL ')
	  INTO parts FROM unnest(conds) c;
	-- floats are summed in another order: double within 1e-12, real within
	-- 1e-6 (its own precision is 6e-8), as PostgreSQL's parallel aggregation
	cmp := CASE restype
			WHEN 'double precision'::regtype
			THEN 'w.v IS NOT DISTINCT FROM c.v OR abs(w.v - c.v) <= 1e-12 * greatest(abs(w.v), abs(c.v))'
			WHEN 'real'::regtype
			THEN 'w.v IS NOT DISTINCT FROM c.v OR abs(w.v - c.v) <= 1e-6 * greatest(abs(w.v), abs(c.v))'
			ELSE 'w.v IS NOT DISTINCT FROM c.v' END;
	EXECUTE format('SELECT count(*) FROM (SELECT %s AS g, %s AS v, 1 AS present FROM split_agg_data %s) w '
				   'FULL JOIN (SELECT g, %s AS v, 1 AS present '
				   '           FROM (%s) p GROUP BY g) c ON coalesce(w.g, -1) = coalesce(c.g, -1) '
				   'WHERE w.present IS NULL OR c.present IS NULL OR NOT (%s)',
				   gexpr, call, grp,
				   CASE WHEN native THEN format('foresight.combine_results(%L::regprocedure, s)', agg)
						ELSE format('foresight.finalize_agg(%L::regprocedure, s, NULL::%s)', agg, restype) END,
				   parts, cmp) INTO bad;
	RETURN CASE WHEN bad = 0 THEN 'ok' ELSE bad || ' groups differ' END;
END
$$;

-- every built-in aggregate with a combine function, over 1, 3 and 8 parts
-- (one of them empty), whole and grouped by g (5 groups and NULL)
SELECT p.oid::regprocedure AS aggregate, x.args,
	   split_agg_check(p.oid, x.args, NULL, false) AS one_part,
	   split_agg_check(p.oid, x.args, '{300,600}', false) AS three_parts,
	   split_agg_check(p.oid, x.args, '{1,100,250,400,401,800,2000}', true) AS eight_parts_grouped
  FROM pg_aggregate a
  JOIN pg_proc p ON p.oid = a.aggfnoid
  JOIN split_agg_args x ON x.argtypes = pg_get_function_identity_arguments(p.oid)
 WHERE a.aggkind = 'n' AND a.aggcombinefn <> 0 AND p.pronamespace = 'pg_catalog'::regnamespace
 ORDER BY p.oid::regprocedure::text, x.args;

-- the aggregates whose result is their state (no final function, a state
-- type that is not a pseudo-type such as internal or anyarray), as a split
-- runs them: the aggregate itself in each part, combine_results here
SELECT p.oid::regprocedure AS aggregate, x.args,
	   split_agg_check(p.oid, x.args, NULL, false, true) AS one_part,
	   split_agg_check(p.oid, x.args, '{300,600}', false, true) AS three_parts,
	   split_agg_check(p.oid, x.args, '{1,100,250,400,401,800,2000}', true, true) AS eight_parts_grouped
  FROM pg_aggregate a
  JOIN pg_proc p ON p.oid = a.aggfnoid
  JOIN pg_type t ON t.oid = a.aggtranstype
  JOIN split_agg_args x ON x.argtypes = pg_get_function_identity_arguments(p.oid)
 WHERE a.aggkind = 'n' AND a.aggcombinefn <> 0 AND p.pronamespace = 'pg_catalog'::regnamespace
   AND a.aggfinalfn = 0 AND t.typtype <> 'p'
 ORDER BY p.oid::regprocedure::text, x.args;

-- combine_results refuses what is not such an aggregate's result, and
-- values of another type than its state; avg of int2 and int4, whose
-- state {count, sum} the parts compute from count and sum, it combines
SELECT foresight.combine_results('avg(integer)', 1::numeric);
SELECT foresight.combine_results('stddev(integer)', 1::numeric);
SELECT int8_avg(foresight.combine_results('avg(integer)', s)) AS avg_15_over_5,
	int8_avg(foresight.combine_results('avg(smallint)', s) FILTER (WHERE false)) AS avg_no_row
FROM (VALUES ('{2,10}'::int8[]), ('{3,5}'), ('{0,0}')) v(s);
SELECT foresight.combine_results('max(anyarray)', ARRAY[1]);
SELECT foresight.combine_results('count()', 1);
SELECT foresight.combine_results('count()', 'x'::text);
SELECT foresight.combine_results(NULL, 1::bigint);
-- the {count, sum} of avg is checked before int4_avg_combine reads it
-- (its own check is an internal error) and adds it (without overflow checks)
SELECT foresight.combine_results('avg(integer)', '{1}'::int8[]);
SELECT foresight.combine_results('avg(integer)', '{1,2,3}'::int8[]);
SELECT foresight.combine_results('avg(integer)', '{}'::int8[]);
SELECT foresight.combine_results('avg(integer)', '{{1,2},{3,4}}'::int8[]);
SELECT foresight.combine_results('avg(smallint)', '{NULL,2}'::int8[]);
SELECT foresight.combine_results('avg(integer)', '{9223372036854775807,9223372036854775807}'::int8[])
  FROM generate_series(1, 2);
SELECT foresight.combine_results('avg(smallint)', '{1,-9223372036854775807}'::int8[])
  FROM generate_series(1, 2);
SELECT foresight.combine_results('avg(integer)', s) AS null_skipped_any_bounds
  FROM (VALUES ('{1,2}'::int8[]), (NULL), ('[0:1]={3,4}'), ('{9223372036854775800,-9223372036854775800}')) v(s);
-- over no row: the aggregate over no row, if its result is its state
SELECT foresight.combine_results('count()', c) AS count_no_row,
	   foresight.combine_results('avg(integer)', n) AS avg_no_row
  FROM (SELECT 1::bigint, 1::numeric) v(c, n) WHERE false;
-- min(text) combines under the input collation
SELECT foresight.combine_results('min(text)', x COLLATE "C") AS min_c
  FROM (VALUES ('b'), ('B'), ('a')) v(x);

-- none is left untested
SELECT p.oid::regprocedure AS untested
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
 WHERE a.aggkind = 'n' AND a.aggcombinefn <> 0 AND p.pronamespace = 'pg_catalog'::regnamespace
   AND NOT EXISTS (SELECT 1 FROM split_agg_args x
					WHERE x.argtypes = pg_get_function_identity_arguments(p.oid));

-- no rows: the aggregate's initial state, combined and finalised
SELECT foresight.finalize_agg('count()', s, NULL::bigint) AS count,
	   foresight.finalize_agg('sum(integer)', t, NULL::bigint) AS sum,
	   foresight.finalize_agg('avg(numeric)', u, NULL::numeric) AS avg
  FROM (SELECT foresight.partial_agg('count()'::regprocedure) s,
			   foresight.partial_agg('sum(integer)'::regprocedure, i4) t,
			   foresight.partial_agg('avg(numeric)'::regprocedure, num) u
		  FROM split_agg_data WHERE false) p;
SELECT foresight.finalize_agg('count()', s, NULL::bigint) AS no_state_at_all
  FROM (SELECT NULL::bytea s WHERE false) p;

-- a combine tree: parts combined two by two, then finalised
WITH parts AS (
	SELECT id / 250 AS part, foresight.partial_agg('avg(numeric)'::regprocedure, num) s,
		   foresight.partial_agg('stddev_samp(double precision)'::regprocedure, f8) t
	  FROM split_agg_data GROUP BY 1),
pairs AS (
	SELECT part / 2 AS pair, foresight.combine_agg('avg(numeric)', s) s,
		   foresight.combine_agg('stddev_samp(double precision)', t) t
	  FROM parts GROUP BY 1)
SELECT foresight.finalize_agg('avg(numeric)', s, NULL::numeric) = (SELECT avg(num) FROM split_agg_data) AS avg_equal,
	   abs(foresight.finalize_agg('stddev_samp(double precision)', t, NULL::float8) -
		   (SELECT stddev_samp(f8) FROM split_agg_data)) < 1e-9 AS stddev_close
  FROM pairs;

-- FILTER and DISTINCT pass through; the input collation travels with the state
SELECT foresight.finalize_agg('count("any")', s, NULL::bigint) = (SELECT count(DISTINCT i4 % 10) FILTER (WHERE g = 1) FROM split_agg_data) AS distinct_filter
  FROM (SELECT foresight.partial_agg(DISTINCT 'count("any")'::regprocedure, i4 % 10) FILTER (WHERE g = 1) s
		  FROM split_agg_data) p;
-- (under "C", max('cherry', 'Date') would be 'cherry')
CREATE TABLE split_words (id integer, w text COLLATE "und-x-icu");
INSERT INTO split_words VALUES (1, 'apple'), (2, 'cherry'), (3, 'Banana'), (4, 'Date');
SELECT foresight.finalize_agg('max(text)', s, NULL::text) AS max_icu,
	   (SELECT max(w) FROM split_words) AS expected
  FROM (SELECT foresight.partial_agg('max(text)'::regprocedure, w) s FROM split_words WHERE id <= 2
		UNION ALL
		SELECT foresight.partial_agg('max(text)'::regprocedure, w) FROM split_words WHERE id > 2) p;

-- what cannot be done
SELECT foresight.partial_agg('array_agg(anynonarray)', i4) FROM split_agg_data;
SELECT foresight.partial_agg('percentile_cont(double precision, double precision)', f8) FROM split_agg_data;
SELECT foresight.partial_agg('upper(text)', txt) FROM split_agg_data;
SELECT foresight.partial_agg('sum(integer)', txt) FROM split_agg_data;
SELECT foresight.partial_agg('sum(integer)', i4, i4) FROM split_agg_data;
SELECT foresight.partial_agg('sum(integer)', i4) OVER () FROM split_agg_data LIMIT 1;
SELECT foresight.partial_agg(NULL, i4) FROM split_agg_data;
SELECT foresight.finalize_agg('sum(integer)', s, NULL::integer)
  FROM (SELECT foresight.partial_agg('sum(integer)'::regprocedure, i4) s FROM split_agg_data) p;
SELECT foresight.finalize_agg('sum(bigint)', s, NULL::numeric)
  FROM (SELECT foresight.partial_agg('sum(integer)'::regprocedure, i4) s FROM split_agg_data) p;
-- damaged or forged states are refused, never read as another type
-- (bytes: version, flags, aggregate (4), collation (4), argument count (2),
-- argument types (4 each), payload)
CREATE TABLE split_states AS
	SELECT foresight.partial_agg('sum(integer)'::regprocedure, i4) AS s FROM split_agg_data;
SELECT get_byte(s, 0) AS version, get_byte(s, 1) AS flags, substr(s, 3, 4) = int4send('sum(integer)'::regprocedure::oid::integer) AS aggregate,
	   substr(s, 11, 2) AS nargs, substr(s, 13, 4) = int4send('integer'::regtype::oid::integer) AS argument_type,
	   length(s) - 16 AS payload_bytes
  FROM split_states;
SELECT foresight.finalize_agg('sum(integer)', substr(s, 1, 9), NULL::bigint) FROM split_states;
SELECT foresight.finalize_agg('sum(integer)', set_byte(s, 0, 9), NULL::bigint) FROM split_states;
SELECT foresight.finalize_agg('sum(integer)', set_byte(s, 1, 255), NULL::bigint) FROM split_states;
SELECT foresight.finalize_agg('sum(integer)', set_byte(s, 1, 1), NULL::bigint) FROM split_states;
SELECT foresight.finalize_agg('sum(integer)', s || '\x00'::bytea, NULL::bigint) FROM split_states;
SELECT foresight.finalize_agg('sum(integer)', substr(s, 1, 16) || '\x0001'::bytea, NULL::bigint) FROM split_states;
SELECT foresight.finalize_agg('sum(integer)', overlay(s placing int4send(999999) from 7 for 4), NULL::bigint) FROM split_states;
SELECT foresight.finalize_agg('sum(integer)', overlay(s placing int4send(25) from 13 for 4), NULL::bigint) FROM split_states;
SELECT foresight.finalize_agg('sum(integer)', overlay(s placing int4send(1791) from 13 for 4), NULL::bigint) FROM split_states;
SELECT foresight.finalize_agg('sum(integer)', overlay(s placing '\x0002'::bytea from 11 for 2), NULL::bigint) FROM split_states;
SELECT foresight.finalize_agg('avg(numeric)', s, NULL::numeric) FROM split_states;
-- a forged array state of a fixed shape is checked before PostgreSQL's
-- combine function reads it (it checks with an internal error only)
CREATE FUNCTION split_forged_state(agg regprocedure, argtypes regtype[], payload bytea) RETURNS bytea
	LANGUAGE sql AS $$
	SELECT '\x0100'::bytea || int4send(agg::oid::integer) || int4send(0) ||
		   int2send(cardinality(argtypes)::smallint) ||
		   (SELECT string_agg(int4send(t::oid::integer), '' ORDER BY o) FROM unnest(argtypes) WITH ORDINALITY u(t, o)) ||
		   payload $$;
SELECT foresight.finalize_agg('avg(double precision)', split_forged_state('avg(double precision)', '{float8}', array_send('{1}'::float8[])), NULL::float8);
SELECT foresight.finalize_agg('corr(double precision,double precision)', split_forged_state('corr(double precision,double precision)', '{float8,float8}', array_send('{1,2,3,4,5,NULL}'::float8[])), NULL::float8);
SELECT foresight.finalize_agg('avg(interval)', split_forged_state('avg(interval)', '{interval}', array_send('{1 day}'::interval[])), NULL::interval);
SELECT foresight.finalize_agg('avg(integer)', split_forged_state('avg(integer)', '{int4}', array_send('{{1,2}}'::int8[])), NULL::numeric);
SELECT foresight.combine_agg('avg(integer)', split_forged_state('avg(integer)', '{int4}', array_send('{9223372036854775807,1}'::int8[])))
  FROM generate_series(1, 2);
SELECT foresight.finalize_agg('avg(double precision)', split_forged_state('avg(double precision)', '{float8}', array_send('{2,3,5}'::float8[])), NULL::float8) AS forged_but_well_formed;
DROP FUNCTION split_forged_state(regprocedure, regtype[], bytea);

-- a user-defined polymorphic aggregate whose state is an array built in
-- place (an expanded object) and starts from an initial value; array_cat
-- appends states in the order they come, so compare the sorted elements
CREATE AGGREGATE split_collect(anycompatible) (SFUNC = array_append, STYPE = anycompatiblearray,
											COMBINEFUNC = array_cat, INITCOND = '{}');
SELECT array(SELECT unnest(foresight.finalize_agg('split_collect(anycompatible)', s, NULL::integer[])) ORDER BY 1)
		 = array(SELECT i4 FROM split_agg_data ORDER BY 1) AS same_elements
  FROM (SELECT foresight.partial_agg('split_collect(anycompatible)'::regprocedure, i4) s
		  FROM split_agg_data GROUP BY id % 3) p;

-- an aggregate the caller may not execute is not run for them
CREATE FUNCTION split_secret_sfunc(integer, integer) RETURNS integer
	LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 + $2';
CREATE AGGREGATE split_secret(integer) (SFUNC = split_secret_sfunc, STYPE = integer,
										 COMBINEFUNC = split_secret_sfunc);
REVOKE EXECUTE ON FUNCTION split_secret(integer) FROM PUBLIC;
CREATE ROLE regress_split_user;
GRANT SELECT ON split_agg_data TO regress_split_user;
SET ROLE regress_split_user;
SELECT foresight.partial_agg('split_secret(integer)', i4) FROM split_agg_data;
-- a state of type internal that the query gives is not read for a role
-- (the aggregate's deserialisation function trusts its input: a split's
-- parts' states only); one of another type is, through its receive function
SELECT foresight.finalize_agg('avg(numeric)', s, NULL::numeric)
  FROM (SELECT foresight.partial_agg('avg(numeric)', num) s FROM split_agg_data GROUP BY id % 3) p;
SELECT foresight.combine_agg('sum(bigint)', s)
  FROM (SELECT foresight.partial_agg('sum(bigint)', i8) s FROM split_agg_data) p;
SELECT foresight.finalize_agg('avg(integer)', s, NULL::numeric) AS from_states,
	   (SELECT avg(i4) FROM split_agg_data) AS avg
  FROM (SELECT foresight.partial_agg('avg(integer)', i4) s FROM split_agg_data GROUP BY id % 3) p;
RESET ROLE;
-- a user-defined aggregate with a combine function is split like a built-in one
SELECT split_agg_check('split_secret(integer)', 'i4', '{500}', true) AS user_defined;

------------------------------------------------------------------------
-- 2. the split planner
------------------------------------------------------------------------
SHOW foresight.split;
SHOW foresight.split_min_cost;
SHOW foresight.max_split_parts;

CREATE TABLE split_dim (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO split_dim SELECT i, 'dim ' || i FROM generate_series(0, 9) i;
CREATE TABLE split_fact (
	id integer PRIMARY KEY,
	dim_id integer,
	g integer,
	amount numeric,
	note text
);
INSERT INTO split_fact SELECT i, i % 10, i % 4, i * 1.5, 'n' || i % 100 FROM generate_series(1, 10000) i;
ANALYZE split_dim, split_fact;

-- off by default; then on, for any cost
SELECT splittable, reason FROM foresight.split_explain('SELECT count(*) FROM split_fact');
SET foresight.split = on;
SELECT splittable, reason FROM foresight.split_explain('SELECT count(*) FROM split_fact');
SET foresight.split_min_cost = 0;

-- the three strategies, in full (all but the cost)
\x on
SELECT splittable, reason, relation, split_key, key_source, key_type, key_collation, strategy,
	   nparts, cut_points, part_conditions, part_sql, combine, combine_sql
  FROM foresight.split_explain('SELECT f.id, f.amount, d.name FROM split_fact f JOIN split_dim d ON d.id = f.dim_id WHERE f.g = 1 ORDER BY f.amount DESC LIMIT 5 OFFSET 2', 3);
SELECT strategy, nparts, part_sql, combine, combine_sql
  FROM foresight.split_explain('SELECT id, count(*), string_agg(note, '','' ORDER BY note) FROM split_fact GROUP BY id HAVING count(*) > 0', 2);
SELECT strategy, nparts, part_sql[1], combine, combine_sql
  FROM foresight.split_explain('SELECT d.name, count(*), avg(f.amount), max(f.note) FILTER (WHERE f.g > 1), count(DISTINCT f.id) FROM split_fact f LEFT JOIN split_dim d ON d.id = f.dim_id GROUP BY d.name HAVING sum(f.amount) > 10 ORDER BY 3 DESC, 1 LIMIT 3', 4);
\x off

-- what splits: the strategy and the number of parts
SELECT q, strategy, nparts, reason FROM
	(VALUES ('SELECT * FROM split_fact WHERE amount > 100'),
			('SELECT DISTINCT g FROM split_fact ORDER BY g LIMIT 2'),
			('SELECT DISTINCT ON (g) g, id FROM split_fact ORDER BY g, id DESC'),
			('SELECT * FROM split_fact f WHERE EXISTS (SELECT 1 FROM split_dim d WHERE d.id = f.dim_id AND d.name LIKE ''dim 1%'')'),
			('SELECT * FROM split_fact f WHERE f.dim_id NOT IN (SELECT id FROM split_dim WHERE id > 3)'),
			('SELECT id, row_number() OVER (PARTITION BY id ORDER BY g) FROM split_fact'),
			('SELECT g, sum(amount), rank() OVER (ORDER BY sum(amount)) FROM split_fact GROUP BY g'),
			('SELECT s.g, count(*) FROM (SELECT g, id FROM split_fact WHERE id % 3 = 0) s GROUP BY s.g'),
			('WITH c AS (SELECT g, amount FROM split_fact) SELECT g, sum(amount) FROM c GROUP BY g'),
			('SELECT f.id, count(*) FROM split_fact f JOIN split_dim d ON d.id = f.dim_id GROUP BY f.id'),
			('SELECT d.id, d.name, count(*) FROM split_fact f JOIN split_dim d ON d.id = f.dim_id GROUP BY d.id'),
			('SELECT * FROM split_dim d LEFT JOIN split_fact f ON f.dim_id = d.id'),
			('SELECT g, generate_series(1, 2) FROM split_fact'),
			('SELECT count(*) FROM split_fact, LATERAL unnest(ARRAY[g, dim_id]) u'),
			('SELECT * FROM split_fact ORDER BY id FETCH FIRST 3 ROWS WITH TIES'),
			('SELECT sum(amount) FROM split_fact HAVING count(*) > 1')) v(q),
	foresight.split_explain(q, 4) e;

-- what does not split, and why
SELECT q, reason FROM
	(VALUES ('SELECT g, 1 FROM split_fact UNION SELECT 1, 2'),
			('SELECT * FROM split_fact WHERE random() < 2'),
			('SELECT g, count(*) FROM split_fact GROUP BY ROLLUP (g)'),
			('SELECT * FROM split_fact FOR UPDATE'),
			('SELECT count(*) FROM split_fact TABLESAMPLE system (50)'),
			('SELECT count(*) FROM (SELECT * FROM split_fact ORDER BY id LIMIT 100) s'),
			('SELECT count(*) FROM (SELECT g, count(*) FROM split_fact GROUP BY g) s'),
			('SELECT count(*) FROM (SELECT DISTINCT g FROM split_fact) s'),
			('SELECT count(*) FROM split_fact f FULL JOIN split_dim d ON d.id = f.dim_id'),
			('SELECT * FROM (split_fact f JOIN split_dim d ON d.id = f.dim_id) AS j'),
			('SELECT g, row_number() OVER (PARTITION BY g ORDER BY id) FROM split_fact'),
			('SELECT array_agg(amount) FROM split_fact GROUP BY g'),
			('SELECT g, string_agg(note, '','' ORDER BY id) FROM split_fact GROUP BY g'),
			('SELECT count(DISTINCT g) FROM split_fact'),
			('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) FROM split_fact'),
			('SELECT g, (SELECT count(*) FROM split_dim WHERE id = g) + count(*) FROM split_fact GROUP BY g'),
			('SELECT 1 HAVING true'),
			('WITH c AS (SELECT * FROM split_fact) SELECT count(*) FROM c a JOIN c b USING (id)'),
			('SELECT generate_series(1, 3)'),
			('VALUES (1)'),
			('SHOW foresight.split')) v(q),
	foresight.split_explain(q) e;
SELECT * FROM foresight.split_explain('SELECT 1; SELECT 2');
SELECT * FROM foresight.split_explain('SELECT 1', 0);
SELECT * FROM foresight.split_explain('SELECT 1', 9);

-- temporary and unlogged tables are never on a node
CREATE TEMP TABLE split_temp (id integer PRIMARY KEY);
CREATE UNLOGGED TABLE split_unlogged (id integer PRIMARY KEY);
SELECT reason FROM foresight.split_explain('SELECT * FROM split_temp');
SELECT reason FROM foresight.split_explain('SELECT * FROM split_unlogged');

-- keys: primary key, unique index, none, declared
CREATE TABLE split_nokey (a integer, b text);
CREATE TABLE split_unique (a point, b integer NOT NULL, c uuid NOT NULL);
CREATE UNIQUE INDEX split_unique_b_c ON split_unique (b, c);
CREATE TABLE split_pointkey (p point, i integer UNIQUE);
SELECT relation, split_key, key_source, key_type, reason
  FROM (VALUES ('SELECT * FROM split_fact'), ('SELECT * FROM split_nokey'),
			   ('SELECT * FROM split_unique'), ('SELECT * FROM split_pointkey')) v(q),
	   foresight.split_explain(q) e;
SELECT foresight.set_split_key('split_nokey', 'a');
SELECT relation, split_key, key_source, reason FROM foresight.split_explain('SELECT * FROM split_nokey');
SELECT foresight.set_split_key('split_nokey', 'b');
SELECT foresight.set_split_key('split_nokey', NULL);
SELECT reason FROM foresight.split_explain('SELECT * FROM split_nokey');
ALTER TABLE split_nokey ADD COLUMN gen integer GENERATED ALWAYS AS (a * 2) STORED;
SELECT foresight.set_split_key('split_nokey', 'gen');
SELECT foresight.set_split_key('split_nokey', 'nope');
SELECT foresight.set_split_key('split_nokey', 'ctid');
SELECT foresight.set_split_key('split_pointkey', 'p');
SELECT foresight.set_split_key('split_temp', 'id');
CREATE VIEW split_view AS SELECT * FROM split_fact;
SELECT foresight.set_split_key('split_view', 'id');
SELECT foresight.set_split_key(NULL, 'id');
SELECT foresight.set_split_key(999999, 'a');
\set VERBOSITY sqlstate
SELECT foresight.set_split_key(999999, 'a');
SELECT foresight.set_split_key(0, 'a');
\set VERBOSITY default
SET ROLE regress_split_user;
SELECT foresight.set_split_key('split_nokey', 'a');
RESET ROLE;
-- a dropped column or table takes its declaration with it
SELECT foresight.set_split_key('split_nokey', 'b');
SELECT foresight.set_split_key('split_unique', 'b');
ALTER TABLE split_nokey DROP COLUMN b;
DROP TABLE split_unique;
SELECT count(*) AS declarations FROM foresight.split_key WHERE relid::text LIKE 'split%';

-- privileges: only statements the caller may run; key values only for who may read the key
CREATE TABLE split_private (id integer PRIMARY KEY, v integer);
INSERT INTO split_private SELECT i, i FROM generate_series(1, 100) i;
ANALYZE split_private;
GRANT SELECT (v) ON split_private TO regress_split_user;
SET ROLE regress_split_user;
SELECT reason FROM foresight.split_explain('SELECT * FROM split_fact');
SELECT splittable, reason, cut_points FROM foresight.split_explain('SELECT sum(v) FROM split_private');
RESET ROLE;

------------------------------------------------------------------------
-- ranges: statistics, NULLs, skew, collations, no statistics
------------------------------------------------------------------------
-- every row in exactly one part whatever the statistics say: count the
-- parts' conditions each row satisfies
CREATE FUNCTION split_partition_check(rel regclass, parts integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	e record;
	expr text;
	total bigint;
	bad bigint;
BEGIN
	SELECT * INTO e FROM foresight.split_explain(format('SELECT * FROM %s', rel), parts);
	IF NOT e.splittable THEN
		RETURN 'not split: ' || e.reason;
	END IF;
	SELECT string_agg(format('coalesce((%s)::integer, 0)', c), ' + ') INTO expr
	  FROM unnest(e.part_conditions) c;
	EXECUTE format('SELECT count(*), count(*) FILTER (WHERE %s <> 1) FROM %s', expr, rel)
	   INTO total, bad;
	RETURN format('%s rows, %s parts, %s rows not in exactly one part', total, e.nparts, bad);
END
$$;

-- how many rows each part would read
CREATE FUNCTION split_part_sizes(rel regclass, parts integer) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
	sizes bigint[] := '{}';
	n bigint;
	c text;
BEGIN
	FOR c IN SELECT unnest(part_conditions)
			   FROM foresight.split_explain(format('SELECT * FROM %s', rel), parts) LOOP
		EXECUTE format('SELECT count(*) FROM %s WHERE %s', rel, c) INTO n;
		sizes := sizes || n;
	END LOOP;
	RETURN sizes;
END
$$;
SELECT split_part_sizes('split_fact', 3) AS uniform_key, split_part_sizes('split_fact', 8) AS eight_parts;

-- a declared key with NULLs and a value that holds half the rows
CREATE TABLE split_skewed (id integer PRIMARY KEY, k bigint, v integer);
INSERT INTO split_skewed
SELECT i, CASE WHEN i % 10 = 0 THEN NULL WHEN i % 2 = 0 THEN 42 ELSE (i * 7919) % 5000 END, i
  FROM generate_series(1, 20000) i;
ANALYZE split_skewed;
SELECT foresight.set_split_key('split_skewed', 'k');
SELECT nparts, cut_points, part_conditions FROM foresight.split_explain('SELECT * FROM split_skewed', 4);
SELECT split_partition_check('split_skewed', 4), split_part_sizes('split_skewed', 4);
SELECT split_partition_check('split_skewed', 8), split_part_sizes('split_skewed', 8);
-- rows added after ANALYZE, beyond every bound: still in exactly one part
INSERT INTO split_skewed SELECT i, i, i FROM generate_series(20001, 21000) i;
INSERT INTO split_skewed SELECT i, -i, i FROM generate_series(21001, 21100) i;
INSERT INTO split_skewed SELECT i, NULL, i FROM generate_series(21101, 21200) i;
SELECT split_partition_check('split_skewed', 8);

-- text keys: cut points under the column's collation, written with COLLATE
CREATE TABLE split_words_icu (w text COLLATE "und-x-icu" PRIMARY KEY);
INSERT INTO split_words_icu SELECT (ARRAY['alpha', 'Beta', 'gamma', 'Delta', 'epsilon', 'Zeta'])[1 + i % 6] || i
  FROM generate_series(1, 600) i;
ANALYZE split_words_icu;
SELECT key_collation, cut_points, part_conditions FROM foresight.split_explain('SELECT * FROM split_words_icu', 3);
SELECT split_partition_check('split_words_icu', 5);
CREATE TABLE split_words_c (w text COLLATE "C", n integer);
INSERT INTO split_words_c SELECT w, length(w) FROM split_words_icu;
INSERT INTO split_words_c VALUES (NULL, 0), (NULL, 1);
ANALYZE split_words_c;
SELECT foresight.set_split_key('split_words_c', 'w');
SELECT key_collation, cut_points FROM foresight.split_explain('SELECT * FROM split_words_c', 3);
SELECT split_partition_check('split_words_c', 5);

-- other key types: domains, varchar, enum, floats with NaN and infinities, timestamptz, uuid
CREATE DOMAIN split_id AS bigint CHECK (VALUE > 0);
CREATE TABLE split_types (
	d split_id PRIMARY KEY, vc varchar(20), e split_mood, f float8, tz timestamptz, u uuid, dt date);
INSERT INTO split_types
SELECT i, 'v' || i, (enum_range(NULL::split_mood))[1 + i % 3],
	   CASE i % 50 WHEN 0 THEN 'NaN' WHEN 1 THEN 'Infinity' WHEN 2 THEN '-Infinity' ELSE (i - 500) / 3.0 END,
	   timestamptz '2024-03-31 00:00+00' + make_interval(mins => i * 7),
	   md5(i::text)::uuid, date '2024-01-01' + i % 400
  FROM generate_series(1, 1000) i;
ANALYZE split_types;
CREATE FUNCTION split_key_check(col name) RETURNS TABLE (key name, key_type regtype, nparts integer, cuts integer, partition text)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM foresight.set_split_key('split_types', col);
	RETURN QUERY SELECT e.split_key, e.key_type, e.nparts, array_length(e.cut_points, 1),
						split_partition_check('split_types', 4)
				   FROM foresight.split_explain('SELECT * FROM split_types', 4) e;
END
$$;
SELECT k.* FROM (VALUES ('d'), ('vc'), ('e'), ('f'), ('tz'), ('u'), ('dt')) v(c), split_key_check(c) k;
SELECT foresight.set_split_key('split_types', 'tz');
SET TimeZone = 'America/New_York';
SELECT cut_points[1] AS written_with_its_offset FROM foresight.split_explain('SELECT * FROM split_types', 4);
RESET TimeZone;

-- more parts than the histogram has buckets: keys on a line of integers
-- (here timestamp and smallint) are cut inside the buckets, so the parts
-- stay even; nothing lies evenly between an infinity and a finite value, so
-- an infinite bound is a cut point as it is (1,200 rows: ANALYZE reads them
-- all at a statistics target of 4, a histogram of 4 buckets)
CREATE TABLE split_line (id integer, t timestamp, s smallint, b bigint);
INSERT INTO split_line
SELECT i, CASE i WHEN 1 THEN '-infinity' WHEN 1200 THEN 'infinity'
				 ELSE timestamp '2026-01-01' + make_interval(secs => i * 10) END, (i * 7 - 4200),
	   (i - 600) * 15200000000000000 + 1
  FROM generate_series(1, 1200) i;
ALTER TABLE split_line ALTER t SET STATISTICS 4, ALTER s SET STATISTICS 4, ALTER b SET STATISTICS 4;
ANALYZE split_line;
SELECT foresight.set_split_key('split_line', 't');
SELECT split_partition_check('split_line', 8), split_part_sizes('split_line', 8);
SELECT cut_points FROM foresight.split_explain('SELECT * FROM split_line', 8);
SELECT foresight.set_split_key('split_line', 's');
SELECT split_partition_check('split_line', 8), split_part_sizes('split_line', 8);
-- a bigint key whose range is wider than bigint itself
SELECT foresight.set_split_key('split_line', 'b');
SELECT split_partition_check('split_line', 8), split_part_sizes('split_line', 8);

-- the query's own range of the key: the cut points lie inside it, so the
-- parts share the rows it reads (split_fact's ids are 1 to 10,000)
SELECT q, nparts, cut_points, reason
  FROM (VALUES ('SELECT * FROM split_fact WHERE id < 2000'),
			   ('SELECT * FROM split_fact WHERE id BETWEEN 3000 AND 3999'),
			   ('SELECT * FROM split_fact WHERE 2000 > id AND id >= 1000'),
			   ('SELECT * FROM split_fact WHERE id > 9000 OR id < 10'),
			   ('SELECT * FROM split_fact WHERE id = 42'),
			   ('SELECT * FROM split_fact WHERE id > 100 AND id < 50'),
			   ('SELECT * FROM split_fact WHERE id::bigint < 2000')) v(q),
	   foresight.split_explain(q, 4) e;
-- every row the query reads is in exactly one part, and they are even
SELECT count(*) AS parts, array_agg(n ORDER BY part) AS rows_per_part
  FROM (SELECT part, (SELECT count(*) FROM split_fact f
					   WHERE f.id BETWEEN 3000 AND 3999
						 AND (coalesce(lo, f.id) <= f.id AND f.id < coalesce(hi, f.id + 1))) AS n
		  FROM (SELECT i AS part, c[i - 1]::int AS lo, c[i]::int AS hi
				  FROM (SELECT cut_points::text[] AS c
						  FROM foresight.split_explain('SELECT * FROM split_fact WHERE id BETWEEN 3000 AND 3999', 4)) e,
					   generate_series(1, 4) i) p) s;

-- no statistics (a small table: cut points read from it), an empty table,
-- fewer distinct values than parts
CREATE TABLE split_unanalysed (id integer PRIMARY KEY);
INSERT INTO split_unanalysed SELECT generate_series(1, 100);
CREATE TABLE split_empty (id integer PRIMARY KEY);
ANALYZE split_empty;
CREATE TABLE split_few (k integer, v integer);
INSERT INTO split_few SELECT i % 3, i FROM generate_series(1, 300) i;
ANALYZE split_few;
SELECT foresight.set_split_key('split_few', 'k');
SELECT relation, splittable, nparts, cut_points, reason
  FROM (VALUES ('SELECT * FROM split_unanalysed'), ('SELECT * FROM split_empty'),
			   ('SELECT * FROM split_few')) v(q),
	   foresight.split_explain(q, 8) e;

-- a partitioned table: its statistics with its partitions
CREATE TABLE split_parted (id integer PRIMARY KEY, v integer) PARTITION BY RANGE (id);
CREATE TABLE split_parted_1 PARTITION OF split_parted FOR VALUES FROM (MINVALUE) TO (5000);
CREATE TABLE split_parted_2 PARTITION OF split_parted FOR VALUES FROM (5000) TO (MAXVALUE);
INSERT INTO split_parted SELECT i, i % 7 FROM generate_series(1, 10000) i;
ANALYZE split_parted;
SELECT nparts, cut_points FROM foresight.split_explain('SELECT v, count(*) FROM split_parted GROUP BY v', 4);
SELECT split_partition_check('split_parted', 4);

------------------------------------------------------------------------
-- 3. parts run here, combined in SQL, against the query itself
------------------------------------------------------------------------
-- 'ok' when the union of the parts, through combine_sql, is the answer
-- (as a multiset; every column here is exact)
CREATE FUNCTION split_run_check(q text, parts integer DEFAULT 3) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	e record;
	u text;
	diff bigint;
BEGIN
	SELECT * INTO e FROM foresight.split_explain(q, parts);
	IF NOT e.splittable THEN
		RETURN 'not split: ' || e.reason;
	END IF;
	SELECT string_agg(format('(%s)', p), ' UNION ALL ') INTO u FROM unnest(e.part_sql) p;
	EXECUTE format('SELECT count(*) FROM ((SELECT o::text FROM (%1$s) o EXCEPT ALL SELECT s::text FROM (WITH foresight_parts AS (%2$s) %3$s) s) '
				   'UNION ALL (SELECT s::text FROM (WITH foresight_parts AS (%2$s) %3$s) s EXCEPT ALL SELECT o::text FROM (%1$s) o)) d',
				   q, u, e.combine_sql) INTO diff;
	RETURN CASE WHEN diff = 0 THEN 'ok' ELSE diff || ' rows differ' END || ' (' || e.strategy || ', ' || e.nparts || ' parts)';
END
$$;

SELECT q, split_run_check(q, 4) AS result FROM (VALUES
	('SELECT f.id, f.amount, d.name FROM split_fact f JOIN split_dim d ON d.id = f.dim_id WHERE f.g = 1 ORDER BY f.amount DESC LIMIT 5 OFFSET 2'),
	('SELECT d.name, count(*), avg(f.amount), max(f.note) FILTER (WHERE f.g > 1), count(DISTINCT f.id) FROM split_fact f LEFT JOIN split_dim d ON d.id = f.dim_id GROUP BY d.name HAVING sum(f.amount) > 10 ORDER BY 3 DESC, 1 LIMIT 3'),
	('SELECT id % 7, count(*), string_agg(note, '','' ORDER BY note) FROM split_fact WHERE id < 50 GROUP BY id HAVING count(*) > 0'),
	('SELECT DISTINCT g FROM split_fact ORDER BY g LIMIT 2'),
	('SELECT DISTINCT ON (g) g, id FROM split_fact ORDER BY g, id DESC'),
	('SELECT count(*), sum(amount), min(note), max(id) FROM split_fact WHERE id > 20000'),
	('SELECT d.id, d.name, count(*) FROM split_fact f JOIN split_dim d ON d.id = f.dim_id GROUP BY d.id ORDER BY d.name'),
	('SELECT g, sum(amount), rank() OVER (ORDER BY sum(amount)) FROM split_fact GROUP BY g'),
	('SELECT * FROM split_fact ORDER BY g FETCH FIRST 3 ROWS WITH TIES'),
	('SELECT k, count(*), sum(v) FROM split_skewed GROUP BY k'),
	('SELECT count(*), count(k), count(DISTINCT k), sum(k) FROM split_skewed'),
	('SELECT * FROM split_skewed WHERE k IS NULL ORDER BY id LIMIT 3'),
	('SELECT max(w), min(w), count(*) FROM split_words_c'),
	('SELECT w FROM split_words_icu ORDER BY w DESC LIMIT 4'),
	('SELECT e, count(*) FROM split_types GROUP BY e'),
	('SELECT v, count(*) FROM split_parted GROUP BY v'),
	('SELECT g, count(*) FROM split_fact GROUP BY g HAVING count(*) > (SELECT count(*) / 5 FROM split_fact) ORDER BY g'),
	-- DISTINCT over what the parts compute, not over the columns they group or sort by
	('SELECT DISTINCT count(*) FROM split_skewed GROUP BY k ORDER BY 1 LIMIT 3'),
	('SELECT DISTINCT g, count(*) OVER (PARTITION BY id ORDER BY amount) FROM split_fact ORDER BY 1, 2 LIMIT 3')) v(q);

RESET foresight.split;
RESET foresight.split_min_cost;
DROP OWNED BY regress_split_user;
DROP ROLE regress_split_user;
