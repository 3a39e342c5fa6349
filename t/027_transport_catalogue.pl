# Transport catalogue: every built-in type family comes back from a standby
# exactly as a local run gives it, under a matrix of session settings that
# change text forms (DateStyle and its orders, time zones with ambiguous
# abbreviations and historic offsets, IntervalStyle, extra_float_digits,
# bytea_output, array_nulls, xmloption); the client's text and the binary
# values (COPY ... FORMAT binary) are compared, and every query is shown to
# have run on the standby (decision log).  Then: parameters, the types no
# transport brings back, text transport, EXPLAIN, and notices.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use ForesightCluster;

my ($primary, $standby) = ForesightCluster::create(standbys => 1);

$primary->safe_psql('postgres', q{
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE inner_t AS (ts timestamptz, iv interval, f float8);
CREATE TYPE outer_t AS (id integer, tags text[], inn inner_t, m mood);
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN outer_d AS outer_t CHECK ((VALUE).id > 0);
CREATE DOMAIN tsarr AS timestamptz[];
CREATE DOMAIN short_text AS text;
CREATE TABLE vals (
	id integer PRIMARY KEY,
	i2 int2, i4 int4, i8 int8, n numeric, n3 numeric(12,3),
	f4 float4, f8 float8, mon money,
	t text, vc varchar(8), c char(6), nm name, ch "char",
	b bytea, bo boolean,
	d date, tm time(3), ttz timetz, ts timestamp, tstz timestamptz, iv interval,
	u uuid, ip inet, cid cidr, mac macaddr, mac8 macaddr8,
	bt bit(4), vb varbit,
	js json, jb jsonb, jp jsonpath, x xml,
	ia integer[], ta text[], tsa timestamptz[], xa xml[],
	r4 int4range, rtz tstzrange, rd daterange, rn numrange, mr int4multirange, mtz tstzmultirange,
	pt point, ln line, ls lseg, bx box, pa path, pg polygon, ci circle,
	tv tsvector, tq tsquery,
	m mood, o outer_t, od outer_d, pi posint, st short_text, dta tsarr, oa outer_t[],
	lsn pg_lsn, sn pg_snapshot, xi xid8, ti tid, i2v int2vector, ov oidvector
);
INSERT INTO vals (id, i2, i4, i8, n, n3, f4, f8, mon, t, vc, c, nm, ch, b, bo,
	d, tm, ttz, ts, tstz, iv, u, ip, cid, mac, mac8, bt, vb, js, jb, jp, x,
	ia, ta, tsa, xa, r4, rtz, rd, rn, mr, mtz, pt, ln, ls, bx, pa, pg, ci, tv, tq,
	m, o, od, pi, st, dta, oa, lsn, sn, xi, ti, i2v, ov) VALUES
(1, -32768, -2147483648, -9223372036854775808, 'NaN', 0.001, '-0', '-0', '-92233720368547758.08',
	'', 'ab cd', 'x', 'name', 'a', '\x', true,
	'-infinity', '00:00:00', '00:00:00+14', '-infinity', '2024-01-01 10:00+05:30', '-1 days +02:03:04',
	'00000000-0000-0000-0000-000000000000', '0.0.0.0', '10.0.0.0/8', '00:00:00:00:00:00', '00:00:00:00:00:00:00:00',
	B'0000', B'', '{}', '{}', '$', '<a/>text, a content fragment',
	'[0:1][1:2]={{1,NULL},{3,4}}', '{NULL,"NULL",""}', '{"2024-01-01 10:00+05:30",NULL}', '{<x/>,"text"}',
	'empty', '(,)', 'empty', '(,)', '{}', '{}',
	'(0,0)', '{1,-1,0}', '[(0,0),(1,1)]', '(1,1),(0,0)', '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(2,0))', '<(0,0),1>',
	'', '',
	'sad', ROW(1, '{a,NULL}', ROW('2024-01-01 10:00+05:30', '1 mon', 0.1), 'sad'), ROW(1, NULL, NULL, 'ok'), 1, 'ab',
	'{"1850-06-01 00:00+00"}', ARRAY[ROW(1, '{}', NULL, 'happy')::outer_t, NULL],
	'0/0', '10:20:10,14,15', '0', '(0,1)', '1 2', '1 2'),
(2, 32767, 2147483647, 9223372036854775807, 'Infinity', -12345678.999, 'NaN', 'NaN', '92233720368547758.07',
	'it''s "quoted", back\slash, tab	end', 'üñí', 'ab', 'long_name_with_ünïcödé', '\377', '\x00ff5c27', false,
	'infinity', '23:59:59.999', '12:34:56.789-05:30', 'infinity', '2024-06-01 12:00+08', '178956970 years 7 mons 2147483647 days 2562047788:00:54.775807',
	'ffffffff-ffff-ffff-ffff-ffffffffffff', '2001:db8::1/64', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff',
	B'1111', B'10101', '{"a": [1, 2.50, "x"], "b": null}', '{"a": [1, 2.50, "x"], "b": null, "c": 1e-10}', '$.a[*] ? (@ > 1.5)', '<?xml version="1.0"?><doc a="1">é &amp; ü</doc>',
	'[-3:-2]={7,8}', '{"a,b","{c}","d\"e"}', '{"1850-06-01 00:00+00","infinity"}', NULL,
	'[1,10)', '["2024-01-01 10:00+05:30","2024-06-01 12:00+08")', '[2000-01-01,infinity)', '(-1.5,1e20]', '{[1,3),[5,9)}', '{["1900-01-01 00:00+00","2024-03-31 01:30+00")}',
	'(0.1,-1e-300)', '{0.3333333333333333,1,-0.1}', '[(0.1,0.2),(1e300,-1e300)]', '(0.5,0.5),(0.1,0.1)', '((0,0),(0.1,0.7),(2,1e-5))', '((0.1,0.1),(1,0.3))', '<(0.3333333333333333,0.1),1e-10>',
	'a:1A b:2B,3 ''x y'':4', '(a & !b) | c:* <-> d',
	'happy', ROW(-2, '{}', ROW('1850-06-01 00:00+00', '-178956970 years -8 mons', '-0'), 'happy'), NULL, 2147483647, 'a long value',
	'{"infinity","2024-03-31 01:30+00"}', '{}',
	'FFFFFFFF/FFFFFFFF', '100:100:', '18446744073709551615', '(4294967295,65535)', '-32768 32767', '4294967295'),
(3, 0, 0, 0, 0.1, 0, '1.4e-45', '4.9e-324', '0.01',
	'日本語 ✓', '', '      ', '', ' ', '\x5c', NULL,
	'4713-01-01 BC', '12:00:00', '00:00:00-15:59:59', '4713-01-01 00:00:00 BC', '1850-06-01 00:00+00', '-0.5 sec',
	'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.1.1/24', '192.168.1.0/24', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
	B'1010', B'0', '"\u00e9\n"', '"\u00e9\n"', 'strict $.a.type()', '<root/>',
	'{}', '{}', '{}', '{}',
	'[-2147483648,2147483647)', '["-infinity","infinity"]', '[4713-01-01 BC,5874897-12-30]', '[NaN,NaN]', '{[-10,-5)}', '{}',
	'(-0,1e308)', '{1,0,-1e308}', '[(0,0),(0,0)]', '(0,0),(0,0)', '[(1e-308,1)]', '((0,0))', '<(0,0),0>',
	'''x'':1,2,3 ''y''', '!x',
	'ok', NULL, ROW(3, '{x}', ROW(NULL, NULL, 'Infinity'), 'sad'), NULL, 'abc',
	NULL, ARRAY[NULL::outer_t],
	'16/B374D848', '100:100:', '3', '(1,1)', '', ''),
(4, 7, -7, 7000000000, -0.000000000000000000001, 1.5, 0.33333334, 0.3333333333333333, 1234.5,
	E'line1\nline2', 'x', 'abcdef', 'a"b', 'z', '\x0001020304', true,
	'2000-02-29', '23:59:59', '24:00:00+00', '2000-02-29 23:59:59.999999', '1900-01-01 00:00+00', '1 year -2 mons 3 days -04:05:06.789',
	'12345678-1234-5678-1234-567812345678', '::ffff:1.2.3.4', '::/0', '01:23:45:67:89:ab', '01:23:45:67:89:ab:cd:ef',
	B'0110', B'111000111000111', '[1, 2, {"x": [true, false]}]', '[1, 2, {"x": [true, false]}]', 'lax $.x like_regex "^a" flag "i"', '<!-- c --><?pi x?><a xmlns="urn:x"><b/></a>',
	'{{{1}}}', '{a}', '{"2024-01-01 10:00+05:30"}', '{<a/>}',
	NULL, '[2024-01-01 10:00+05:30,)', NULL, '[0.1,0.3]', '{[1,2)}', '{[2024-06-01 12:00+08,2024-06-01 12:00+05:30]}',
	'(1e-320,3)', '{-1,0,0.1}', '[(1,2),(3,4)]', '(3,4),(1,2)', '[(0,0),(1,1)]', '((1,1),(2,2),(3,1))', '<(1,1),0.5>',
	'fat:2,4 cat:3 rat:5A', 'fat & (rat | cat)',
	'sad', ROW(4, '{"a b"}', ROW('infinity', '-00:00:00.000001', 1e-320), NULL), ROW(4, '{}', NULL, NULL), 4, 'xyz',
	'{"-infinity",NULL,"1850-06-01 00:00+00"}', ARRAY[ROW(4, '{q}', ROW('2024-06-01 12:00+08', '1 day', 2), 'ok')::outer_t],
	'1/1', '5:5:', '12345', '(0,0)', '1', '26'),
(5, NULL, NULL, NULL, 123456789012345678901234567890.123456789012345678901, NULL, 3.4028235e38, 1.7976931348623157e308, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	'2024-03-31', NULL, NULL, '1999-12-31 23:59:59', '2024-03-31 01:30+00', '0.000001 sec',
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'null', 'null', NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(6, NULL, NULL, NULL, '-Infinity', NULL, '-Infinity', '-Infinity', NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, '-infinity', NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- the smallest interval, which no text style but iso_8601 reads back
INSERT INTO vals (id, iv, f8, f4) VALUES (7,
	interval '-178956970 years -8 mons -2147483647 days' - interval '1 day'
		+ (interval '-2562047788:00:54.775807' - interval '0.000001 sec'),
	2.2250738585072014e-308, 1.17549435e-38);
-- a value the domain's constraint, added later NOT VALID, refuses
ALTER DOMAIN short_text ADD CONSTRAINT short CHECK (length(VALUE) < 4) NOT VALID;
GRANT SELECT ON vals TO PUBLIC;
CREATE FUNCTION noisy(i integer) RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
	RAISE NOTICE 'noisy %', i USING DETAIL = 'detail ' || i, HINT = 'a hint';
	IF i = 2 THEN
		RAISE WARNING 'careful with %', i USING ERRCODE = '01007', COLUMN = 'c1', TABLE = 'vals';
	END IF;
	IF i = 3 THEN
		RAISE INFO 'info %', i;
	END IF;
	IF i = 4 THEN
		RAISE EXCEPTION 'enough at %', i USING ERRCODE = '22012';
	END IF;
	RETURN i;
END $$;
-- extensions' types: hstore and cube have send and receive, seg has not
CREATE EXTENSION hstore;
CREATE EXTENSION cube;
CREATE EXTENSION seg;
CREATE TABLE ext (id integer, h hstore, cu cube, sg seg);
INSERT INTO ext VALUES (1, 'a=>1, "b c"=>NULL, "é"=>"q\"uote"', '(0.1, 1e-300), (1, 2)', '0.5 .. 1.25e3'),
	(2, '', '(1)', '<1'), (3, NULL, NULL, NULL);
-- raises a notice where the planner folds it into a constant
CREATE FUNCTION folded(i integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RAISE NOTICE 'folded %', i;
	RETURN i;
END $$;
CREATE TABLE parted (k integer, v text) PARTITION BY RANGE (k);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
ANALYZE;
});
ForesightCluster::catch_up($primary, $standby);

my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";
my $local = "SET foresight.routing_policy = local;";

# the catalogue: name => query, by type family
my @catalogue = (
	[ 'integers', 'SELECT id, i2, i4, i8, i4::int8 * 2 FROM vals ORDER BY id' ],
	[ 'numeric', 'SELECT id, n, n3, n3 * 3, n::text FROM vals ORDER BY id' ],
	[ 'floats', 'SELECT id, f4, f8, f8::text, f4::float8, -f8, abs(f4) FROM vals ORDER BY id' ],
	[ 'money', 'SELECT id, mon, mon::numeric FROM vals ORDER BY id' ],
	[ 'text types', 'SELECT id, t, vc, c, nm, ch, length(c), octet_length(t) FROM vals ORDER BY id' ],
	[ 'bytea and bool', 'SELECT id, b, b::text, length(b), bo FROM vals ORDER BY id' ],
	[ 'date and time', 'SELECT id, d, d::text, tm, ttz, ttz::text FROM vals ORDER BY id' ],
	[ 'timestamps', q{SELECT id, ts, tstz, tstz::text, ts::text, to_char(tstz, 'YYYY-MM-DD HH24:MI:SS TZ OF') FROM vals ORDER BY id} ],
	[ 'interval', 'SELECT id, iv, iv::text FROM vals ORDER BY id' ],
	[ 'uuid and network', 'SELECT id, u, ip, cid, mac, mac8, host(ip) FROM vals ORDER BY id' ],
	[ 'bit strings', 'SELECT id, bt, vb, bt::text FROM vals ORDER BY id' ],
	[ 'json', q{SELECT id, js, jb, jp, jb->'a', jb::text FROM vals ORDER BY id} ],
	[ 'xml', 'SELECT id, x, xa, x::text FROM vals ORDER BY id' ],
	[ 'arrays', 'SELECT id, ia, ta, tsa, array_lower(ia, 1), ta::text FROM vals ORDER BY id' ],
	[ 'ranges and multiranges', 'SELECT id, r4, rtz, rd, rn, mr, mtz FROM vals ORDER BY id' ],
	[ 'geometric', 'SELECT id, pt, ln, ls, bx, pa, pg, ci FROM vals ORDER BY id' ],
	[ 'text search', 'SELECT id, tv, tq, tv @@ tq FROM vals ORDER BY id' ],
	[ 'enum and composites', 'SELECT id, m, o, (o).inn, (o).inn.ts, oa FROM vals ORDER BY id' ],
	[ 'domains', 'SELECT id, od, pi, st, dta FROM vals ORDER BY id' ],
	[ 'anonymous records', 'SELECT id, ROW(id, tstz, iv), ROW(f8, ROW(ta, ROW(x, tq))), ARRAY[ROW(id, d), ROW(-id, NULL)] FROM vals ORDER BY id' ],
	[ 'array of records', 'SELECT array_agg(ROW(id, f8, tstz) ORDER BY id) FROM vals' ],
	[ 'whole row', 'SELECT v FROM vals v ORDER BY id' ],
	[ 'system types', 'SELECT id, lsn, sn, xi, ti, i2v, ov FROM vals ORDER BY id' ],
	[ 'reg types', q{SELECT 'vals'::regclass, 'integer'::regtype, 'pg_catalog.now'::regproc, 'sum(int4)'::regprocedure, '+(int4,int4)'::regoperator, '||/'::regoper, 'public'::regnamespace, 'english'::regconfig, 'simple'::regdictionary, '"C"'::regcollation, 'pg_database_owner'::regrole} ],
	[ 'catalog oids', q{SELECT oid, oid::regclass, reltype::regtype, relnamespace::regnamespace, relname FROM pg_class WHERE relname IN ('vals', 'mood', 'outer_t') ORDER BY relname} ],
	[ 'catalog vectors', q{SELECT p.proname, p.proargtypes, p.proargtypes::text, i.indkey FROM pg_proc p, pg_index i WHERE p.proname IN ('now', 'int4pl') AND i.indrelid = 'vals'::regclass ORDER BY 1} ],
	[ 'extension types', 'SELECT id, h, cu, h::text, cu::text FROM ext ORDER BY id' ],
	[ 'extension type without binary form (text transport)', '/* text */ SELECT id, sg FROM ext ORDER BY id' ],
	[ 'void and cstring', 'SELECT pg_sleep(0), textout(t) FROM vals ORDER BY id' ],
	[ 'lifted constants', q{SELECT id FROM vals WHERE tstz > '2000-01-01 00:00+05:30' AND f8 < 1e300 AND iv < '1000 years' AND d <> '2001-01-01' ORDER BY id} ],
);

# Settings that change text forms: every DateStyle and order, time zones
# whose abbreviations timezone_abbreviations reads as another zone (IST,
# CST, PST) or with historic offsets (LMT before 1900, Dublin's negative
# summer time, St John's half hours), every IntervalStyle, extra_float_digits
# from -15 to 3, both bytea_output, array_nulls off, xmloption document.
my @profiles = (
	"SET DateStyle = 'ISO, MDY'; SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1",
	"SET DateStyle = 'SQL, DMY'; SET TimeZone = 'Asia/Kolkata'; SET IntervalStyle = 'sql_standard'; SET extra_float_digits = 0; SET bytea_output = 'escape'",
	"SET DateStyle = 'SQL, MDY'; SET TimeZone = 'Asia/Shanghai'; SET IntervalStyle = 'postgres_verbose'; SET extra_float_digits = -15",
	"SET DateStyle = 'SQL, YMD'; SET TimeZone = 'Asia/Manila'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3; SET xmloption = document",
	"SET DateStyle = 'Postgres, DMY'; SET TimeZone = 'Europe/Dublin'; SET IntervalStyle = 'postgres'; SET extra_float_digits = -1; SET array_nulls = off",
	"SET DateStyle = 'Postgres, MDY'; SET TimeZone = 'America/St_Johns'; SET IntervalStyle = 'sql_standard'; SET extra_float_digits = 2; SET bytea_output = 'escape'",
	"SET DateStyle = 'Postgres, YMD'; SET TimeZone = 'Asia/Kolkata'; SET IntervalStyle = 'postgres_verbose'; SET extra_float_digits = -5; SET timezone_abbreviations = 'India'",
	"SET DateStyle = 'German, DMY'; SET TimeZone = 'Asia/Shanghai'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = -10",
	"SET DateStyle = 'German, MDY'; SET TimeZone = 'Asia/Manila'; SET IntervalStyle = 'postgres'; SET extra_float_digits = -15; SET xmloption = document",
	"SET DateStyle = 'German, YMD'; SET TimeZone = 'Europe/Dublin'; SET IntervalStyle = 'sql_standard'; SET extra_float_digits = 1; SET array_nulls = off",
	"SET DateStyle = 'ISO, DMY'; SET TimeZone = 'America/St_Johns'; SET IntervalStyle = 'postgres_verbose'; SET extra_float_digits = 0; SET bytea_output = 'escape'",
	"SET DateStyle = 'ISO, YMD'; SET TimeZone = 'Asia/Kolkata'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = -3",
);

# The script of one psql session: the settings, then each query, each
# preceded by a marker line.
sub session_script
{
	my ($settings, @queries) = @_;
	my $sql = "\\pset null '<NULL>'\n$settings;\n";
	$sql .= "\\echo '\@\@ $_->[0]'\n$_->[1];\n" for @queries;
	return $sql;
}

# marker => output
sub split_output
{
	my ($out) = @_;
	my %parts;
	my $name = '(before)';
	for my $piece (split /^(\@\@ [^\n]*)\n/m, $out)
	{
		if ($piece =~ /^\@\@ (.*)$/)
		{
			$name = $1;
		}
		else
		{
			$parts{$name} .= $piece;
		}
	}
	return \%parts;
}

# A client of the extended protocol asking for every result column in
# binary (psql cannot): what a client receives of a routed query is then
# the send functions' output of the values the route made, which shows any
# digit or offset lost on the way, whatever the session's text settings.
# Returns, per statement, its rows (hex) or its error.
sub binary_session
{
	my ($node, $db, @statements) = @_;
	my $path = $node->host . '/.s.PGSQL.' . $node->port;
	my $sock = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path)
	  or die "connect $path: $!";
	my $send = sub {
		my ($type, $body) = @_;
		print $sock $type . pack('N', length($body) + 4) . $body;
	};
	my $read = sub {
		my ($hdr, $body) = ('', '');
		read($sock, $hdr, 5) == 5 or die 'connection closed';
		my ($type, $len) = unpack('aN', $hdr);
		read($sock, $body, $len - 4) if $len > 4;
		return ($type, $body);
	};
	# until ReadyForQuery: the rows (hex of each DataRow) or the error
	my $answer = sub {
		my @out;
		while (1)
		{
			my ($type, $body) = $read->();
			last if $type eq 'Z';
			push @out, unpack('H*', $body) if $type eq 'D';
			push @out, 'ERROR ' . join(' ', $body =~ /(?:^|\0)M([^\0]*)/) if $type eq 'E';
		}
		return join("\n", @out);
	};
	my $user = getpwuid($<);
	my $startup = pack('N', 196608) . "user\0$user\0database\0$db\0\0";
	print $sock pack('N', length($startup) + 4) . $startup;
	$answer->();
	my @results;
	for my $st (@statements)
	{
		if ($st =~ /^(SET|RESET)/)
		{
			$send->('Q', "$st\0");
			$answer->();
			next;
		}
		# results in binary, but in text for a statement marked so (a type
		# without a send function has no binary form for any client)
		$send->('P', "\0$st\0" . pack('n', 0));
		$send->('B', "\0\0" . pack('nnnn', 0, 0, 1, $st =~ m{^/\* text \*/} ? 0 : 1));
		$send->('E', "\0" . pack('N', 0));
		$send->('S', '');
		push @results, $answer->();
	}
	$send->('X', '');
	close($sock);
	return @results;
}

# how this session's queries ran: "N|..." N on standby1, then the others
# (this query itself is not routed: it reads pg_foresight's shared memory)
my $decisions = q{
SELECT count(*) FILTER (WHERE chosen_node = 'standby1' AND NOT failed) || '|'
	|| coalesce(string_agg(chosen_node || ': ' || reason, '; ') FILTER (WHERE chosen_node <> 'standby1' OR failed), '')
FROM foresight.routing_decisions
WHERE pid = pg_backend_pid() AND reason NOT LIKE '%pg_foresight function%'
	AND reason NOT LIKE '%must run on this server%'};

my $profile_no = 0;
for my $settings (@profiles)
{
	$profile_no++;
	my $script = session_script($settings, @catalogue);
	my ($lret, $lout, $lerr) = $primary->psql('postgres', "$local\n$script");
	is($lret, 0, "profile $profile_no: runs locally") or diag($lerr);
	my ($rret, $rout, $rerr) = $primary->psql('postgres', "$route\n$script\n\\echo '\@\@ decisions'\n$decisions;");
	is($rret, 0, "profile $profile_no: runs routed") or diag($rerr);
	is($rerr, $lerr, "profile $profile_no: same messages");

	# the same queries, the client asking for binary results
	my @sets = split /;\s*/, $settings;
	my @lbin = binary_session($primary, 'postgres', split(/;\s*/, $local), @sets, map { $_->[1] } @catalogue);
	my @rbin = binary_session($primary, 'postgres', split(/;\s*/, $route), @sets, (map { $_->[1] } @catalogue), $decisions);
	my $rbin_decisions = pop @rbin;

	my $lparts = split_output($lout);
	my $rparts = split_output($rout);
	my @differ;
	for my $i (0 .. $#catalogue)
	{
		my $name = $catalogue[$i][0];
		chomp(my $l = $lparts->{$name} // '');
		chomp(my $r = $rparts->{$name} // '');
		if ($l ne $r)
		{
			push @differ, "$name (text)";
			diag("profile $profile_no ($settings), $name (text):\nlocal:\n$l\nrouted:\n$r");
		}
		if ($lbin[$i] ne $rbin[$i])
		{
			push @differ, "$name (binary)";
			diag("profile $profile_no ($settings), $name (binary):\nlocal:\n$lbin[$i]\nrouted:\n$rbin[$i]");
		}
	}
	is(join(', ', @differ), '', "profile $profile_no: every result equal routed and local ($settings)");

	# (the decisions query itself, not routed, is the one other entry)
	my $n = scalar(@catalogue);
	like($rparts->{decisions}, qr/^$n\|/, "profile $profile_no: all $n queries ran on the standby (text)");
	my $hexn = unpack('H*', "$n|");
	like($rbin_decisions, qr/^0001000000..$hexn/, "profile $profile_no: all $n queries ran on the standby (binary)");
}

# The types no transport brings back: their receive functions refuse every
# value (found here as route_types.c says: each base type's receive
# function given an empty value by binary COPY).  A query returning one is
# not routed, even inside a row; it runs here and gives its rows.
my $empty = $primary->basedir . '/empty.bin';
open(my $fh, '>:raw', $empty) or die "$empty: $!";
print $fh "PGCOPY\n\377\r\n\0" . pack('NN', 0, 0) . pack('nN', 1, 0) . pack('n', 0xffff);
close($fh);
my $refusing = $primary->safe_psql('postgres', qq{
CREATE TEMP TABLE refusing (typname text);
DO \$\$
DECLARE
	r record;
	state text;
BEGIN
	FOR r IN SELECT oid::regtype::text AS t FROM pg_type
		WHERE typtype = 'b' AND typreceive <> 0
			AND NOT (typelem <> 0 AND typsubscript = 'array_subscript_handler'::regproc)
		ORDER BY 1
	LOOP
		BEGIN
			EXECUTE format('CREATE TEMP TABLE one (x %s)', r.t);
			EXECUTE 'COPY one FROM ' || quote_literal('$empty') || ' (FORMAT binary)';
		EXCEPTION WHEN feature_not_supported THEN
			INSERT INTO refusing VALUES (r.t);
		WHEN others THEN
			NULL;
		END;
		DROP TABLE IF EXISTS one;
	END LOOP;
END \$\$;
SELECT string_agg(typname, ',' ORDER BY typname) FROM refusing;});
is($refusing, 'pg_brin_bloom_summary,pg_brin_minmax_multi_summary,pg_dependencies,pg_mcv_list,pg_ndistinct,pg_node_tree',
	'the types whose receive function refuses every value are those route_types.c knows');

my $nodetree = q{SELECT relname, relpartbound FROM pg_class WHERE relname = 'parted_1'};
my $lrows = $primary->safe_psql('postgres', "$local $nodetree");
my $rrows = $primary->safe_psql('postgres', "$route $nodetree");
is($rrows, $lrows, 'a pg_node_tree column: the rows, as locally');
my $why_local = "SELECT node || ': ' || reason FROM foresight.route_explain(%s)";
like($primary->safe_psql('postgres', sprintf($why_local, $primary->safe_psql('postgres', "SELECT quote_literal(\$\$$nodetree\$\$)"))),
	qr/^local: returns a type whose values cannot be read back/, 'a pg_node_tree column is not routed');
like($primary->safe_psql('postgres', sprintf($why_local, q{'SELECT c FROM pg_class c'})),
	qr/^local: returns a type whose values cannot be read back/, 'nor a row holding one');

# text transport: aclitem has no binary form; its rows come as text, and
# when another column's text would not read back (a timestamptz under a
# DateStyle other than ISO), the query runs here
$primary->safe_psql('postgres', 'GRANT SELECT ON vals TO pg_monitor');
ForesightCluster::catch_up($primary, $standby);
my $acl = q{SELECT relname, relacl FROM pg_class WHERE relname = 'vals'};
like($primary->safe_psql('postgres', "$route EXPLAIN (VERBOSE, COSTS OFF) $acl"),
	qr/Route: standby1.*Remote Transport: text \(type aclitem has no binary form\)/s,
	'aclitem: text transport, shown by EXPLAIN VERBOSE');
my $acl_ts = q{SELECT relacl, tstz FROM pg_class, vals WHERE relname = 'vals' AND id <= 3 ORDER BY id};
for my $ds ('ISO', 'SQL, DMY')
{
	my $set = "SET DateStyle = '$ds'; SET TimeZone = 'Asia/Kolkata';";
	is($primary->safe_psql('postgres', "$route $set $acl_ts"), $primary->safe_psql('postgres', "$local $set $acl_ts"),
		"aclitem and timestamptz under DateStyle $ds: as locally");
}
like($primary->safe_psql('postgres', "$route SET DateStyle = 'SQL, DMY'; EXPLAIN (COSTS OFF) $acl_ts"),
	qr/Route: local \(type aclitem has no binary form, and as text: DateStyle is not ISO/,
	'aclitem and timestamptz under DateStyle SQL: not routed');
like($primary->safe_psql('postgres', "$route EXPLAIN (VERBOSE, COSTS OFF, ANALYZE, TIMING OFF, SUMMARY OFF) SELECT * FROM vals"),
	qr/Route: standby1.*Remote Transport: binary/s, 'EXPLAIN VERBOSE shows binary transport');
# anonymous records and extra_float_digits < 1 route
like($primary->safe_psql('postgres', "$route SET extra_float_digits = -15; EXPLAIN (COSTS OFF) SELECT ROW(f8, id) FROM vals"),
	qr/Route: standby1/, 'an anonymous record under extra_float_digits -15 is routed');

# Parameters: the query's own ($n) go as text in unambiguous styles
# (arrays and composites in binary), whatever the session's settings
my @params = (
	[ 'timestamptz', q{PREPARE p1(timestamptz) AS SELECT $1, $1::text, id FROM vals WHERE tstz = $1 OR id = 6 ORDER BY id;
		EXECUTE p1('2024-01-01 10:00+05:30'); EXECUTE p1('2024-06-01 12:00+08'); EXECUTE p1('1850-06-01 00:00+00'); EXECUTE p1('2024-03-31 01:30+00')} ],
	[ 'float8 and float4', q{PREPARE p2(float8, float4) AS SELECT $1, $2, $1::text, count(*) FROM vals WHERE f8 = $1 OR f4 = $2;
		EXECUTE p2(0.3333333333333333, 0.33333334); EXECUTE p2(4.9e-324, 1.4e-45); EXECUTE p2(1.7976931348623157e308, 3.4028235e38)} ],
	[ 'interval', q{PREPARE p3(interval) AS SELECT $1, count(*) FROM vals WHERE iv = $1;
		EXECUTE p3(interval '-178956970 years -8 mons -2147483647 days' - interval '1 day' + (interval '-2562047788:00:54.775807' - interval '0.000001 sec'));
		EXECUTE p3('-1 days +02:03:04')} ],
	[ 'arrays and composites', q{PREPARE p4(text[], outer_t, timestamptz[]) AS SELECT $1, $2, $3, $1 = ta, count(*) OVER () FROM vals WHERE id = 1;
		EXECUTE p4(ARRAY[NULL, 'NULL', ''], ROW(1, '{a,NULL}', ROW('2024-01-01 10:00+05:30', '1 mon', 0.1), 'sad'), ARRAY['2024-06-01 12:00+08'::timestamptz, NULL])} ],
	[ 'numeric money bytea', q{PREPARE p5(numeric, money, bytea, date) AS SELECT $1, $2, $3, $4, count(*) FROM vals WHERE n = $1 OR mon = $2 OR b = $3 OR d = $4;
		EXECUTE p5('NaN', '-92233720368547758.08', '\x00ff5c27', '4713-01-01 BC'); EXECUTE p5(0.1, 0.01, '\x', 'infinity')} ],
);
for my $settings ($profiles[1], $profiles[2], $profiles[4], $profiles[8])
{
	for my $p (@params)
	{
		my ($lret, $lout, $lerr) = $primary->psql('postgres', "$local $settings; $p->[1]");
		my ($rret, $rout, $rerr) = $primary->psql('postgres', "$route $settings; $p->[1]; $decisions");
		is($rret, 0, "parameters, $p->[0]: run routed ($settings)") or diag($rerr);
		my ($rows, $routed) = $rout =~ /^(.*)\n(\d+\|.*)$/s ? ($1, $2) : ($rout, '');
		is($rows, $lout, "parameters, $p->[0]: same result routed ($settings)");
		like($routed, qr/^[1-9]\d*\|$/, "parameters, $p->[0]: ran on the standby");
	}
}

# Encodings: receive and send functions convert text from and to the
# client's encoding, while a node's values are in the database's: a client
# whose encoding is not the database's gets the same bytes routed
$primary->safe_psql('postgres', "CREATE DATABASE u8 ENCODING 'UTF8' LOCALE 'C' TEMPLATE template0");
$primary->safe_psql('u8', q{
CREATE TYPE lmood AS ENUM ('été', 'hiver');
CREATE TYPE lpair AS (a text, b lmood);
CREATE TABLE latin (id integer, t text, vc varchar(10), c char(5), nm name, js json, jb jsonb, x xml,
	ta text[], p lpair, m lmood, tv tsvector, tq tsquery);
INSERT INTO latin VALUES
	(1, 'àéîõü ß', 'ñ', 'ç', 'nämé', '{"é": "ü"}', '{"é": "ü"}', '<é a="ü">ß</é>', '{é,ü,NULL}', ROW('ß', 'été'), 'hiver', 'été:1 ü', 'é & ü'),
	(2, '', NULL, 'x', 'plain', '[]', '[]', 'é', '{}', NULL, 'été', '', 'x');
});
ForesightCluster::catch_up($primary, $standby);
my $stats = q{SELECT coalesce(sum(routed), 0) FROM foresight.routing_stats WHERE node_name = 'standby1'};
for my $enc ('LATIN1', 'WIN1252', 'UTF8')
{
	my $sql = "SET client_encoding = '$enc'; SELECT * FROM latin ORDER BY id; SELECT p, ROW(t, x), ARRAY[jb] FROM latin ORDER BY id";
	my $before = $primary->safe_psql('postgres', $stats);
	my ($lret, $lout, $lerr) = $primary->psql('u8', "$local $sql");
	my ($rret, $rout, $rerr) = $primary->psql('u8', "$route $sql");
	is($rerr, $lerr, "client_encoding $enc: same messages routed");
	is($rout, $lout, "client_encoding $enc: same text routed");
	my @lbin = binary_session($primary, 'u8', split(/;\s*/, "$local $sql"));
	my @rbin = binary_session($primary, 'u8', split(/;\s*/, "$route $sql"));
	is(join("\n", @rbin), join("\n", @lbin), "client_encoding $enc: same binary values routed");
	is($primary->safe_psql('postgres', $stats) - $before, 4, "client_encoding $enc: the queries ran on the standby");
}

# Notices: raised on the node, they reach the client once, as locally:
# severity, SQLSTATE, message, detail, hint, context, location; then the
# error, the node's (with one more context line naming it)
sub message_blocks
{
	my ($err) = @_;
	my @blocks;
	for my $line (split /\n/, $err)
	{
		if ($line =~ /^(?:psql:[^:]*:\d+: )?(NOTICE|WARNING|INFO|ERROR|LOG|DEBUG\d?):  /)
		{
			push @blocks, [ $1, $line ];
		}
		elsif (@blocks)
		{
			push @{ $blocks[-1] }, $line;
		}
	}
	return join("\n", map { $_->[0] eq 'ERROR' ? $_->[1] : join("\n", @{$_}[ 1 .. $#$_ ]) } @blocks);
}

# (notices of planning, which both servers plan: folded constants, a
# stable function evaluated to estimate a condition, to_tsquery(''))
my $notice_session = q{\set VERBOSITY verbose
\set SHOW_CONTEXT always
%s
SELECT noisy(id) FROM vals WHERE id <= 3 ORDER BY id;
SELECT id, noisy(id) FROM vals WHERE id <= 5 ORDER BY id;
SELECT noisy(2);
SELECT folded(7), id FROM vals WHERE id < 3 ORDER BY id;
SELECT folded(7), id FROM vals WHERE id < 3 ORDER BY id;
SELECT count(*) FROM vals WHERE id > noisy(5);
SELECT to_tsquery('english', ''), to_tsquery('english', 'the');
PREPARE pf(int) AS SELECT folded($1 + 1), folded(8);
EXECUTE pf(1);
EXECUTE pf(2);};
for my $level ('notice', 'warning', 'error')
{
	my $sql = sprintf($notice_session, "SET client_min_messages = $level;");
	my ($lret, $lout, $lerr) = $primary->psql('postgres', "$local\n$sql", on_error_stop => 0);
	my ($rret, $rout, $rerr) = $primary->psql('postgres', "$route\n$sql\n$decisions;", on_error_stop => 0);
	my ($rows, $routed) = $rout =~ /^(.*)\n(\d+\|.*)$/s ? ($1, $2) : ($rout, '');
	is($rows, $lout, "notices, client_min_messages $level: same rows");
	is(message_blocks($rerr), message_blocks($lerr), "notices, client_min_messages $level: the same messages, once");
	# the second query failed there, with the function's error
	like($routed, qr/^8\|standby1: policy round_robin$/, "notices, client_min_messages $level: the queries ran on the standby");
}
my ($nret, $nout, $nerr) = $primary->psql('postgres',
	"$route\n\\set VERBOSITY verbose\n\\set SHOW_CONTEXT always\nSELECT noisy(1);\nSELECT noisy(2);\nSELECT noisy(3);");
my ($lnret, $lnout, $lnerr) = $primary->psql('postgres',
	"$local\n\\set VERBOSITY verbose\n\\set SHOW_CONTEXT always\nSELECT noisy(1);\nSELECT noisy(2);\nSELECT noisy(3);");
is($nerr, $lnerr, 'notices of a routed query: exactly as locally');
like($nerr, qr/NOTICE:  00000: noisy 1\nDETAIL:  detail 1\nHINT:  a hint\nCONTEXT:  PL\/pgSQL function noisy\(integer\) line 3 at RAISE\nLOCATION:  exec_stmt_raise/,
	'a notice with its detail, hint, context and location');
like($nerr, qr/WARNING:  01007: careful with 2/, 'a warning with its SQLSTATE');
like($nerr, qr/INFO:  00000: info 3/, 'an INFO message');

done_testing();
