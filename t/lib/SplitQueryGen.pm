# SplitQueryGen.pm: a seeded generator of read queries for the split
# planner (t/050_split_planning.pl), over a schema of its own.
#
#   use SplitQueryGen;
#   my $gen = SplitQueryGen->new(seed => 42);
#   $node->safe_psql('postgres', SplitQueryGen::schema_sql());
#   my $q = $gen->query;    # { sql, columns, approx, ordered, parts, expect, reason }
#
# The schema has one fact table per key type (integers, bigint with skew
# and NULL keys, numeric, date, timestamp, timestamptz, uuid, text under an
# ICU and the C collation, varchar, smallint with few values, an enum,
# float8 with NaN and infinities), a partitioned table, an empty table, a
# table never analysed and one whose statistics are stale; every fact table
# has the same value columns, so any query shape fits any of them, and two
# small dimension tables to join.  Values are functions of the row number:
# the same schema everywhere.
#
# A query is an aggregate query (GROUP BY none, few, many, text, joined or
# key columns; every aggregate with a combine function that fits the
# columns' types, FILTER, count(DISTINCT key), HAVING, ORDER BY ... LIMIT)
# or a row query (joins, EXISTS/IN/NOT EXISTS, sub-queries and WITH over the
# fact table, DISTINCT [ON], window functions partitioned by the key,
# set-returning functions, ORDER BY ... LIMIT/OFFSET, FETCH ... WITH TIES),
# and a few are built to be refused (expect => 0, reason => a pattern).
# Output columns are named o1, o2, ...; approx marks float results (summed
# in another order when split) with their relative tolerance; ordered says
# the ORDER BY is total (rows compare in order) or absent.
package SplitQueryGen;

use strict;
use warnings;

# fact tables: name => [key column definition, key source, rows, how k is made from i]
my @FACTS = (
	[ 'f_int',     'k integer PRIMARY KEY',                'pk',   5000, 'i' ],
	[ 'f_bigskew', 'k bigint',                             'decl', 6000,
	  "CASE WHEN i % 10 = 0 THEN NULL WHEN i % 3 = 0 THEN 77 ELSE (i::bigint * 7919) % 100000 - 20000 END" ],
	[ 'f_num',     'k numeric PRIMARY KEY',                'pk',   4000, "round(i * 1.37 - 900, 2)" ],
	[ 'f_date',    'k date',                               'decl', 4000,
	  "CASE WHEN i % 13 = 0 THEN NULL ELSE date '2020-01-01' + i / 7 END" ],
	[ 'f_ts',      'k timestamp PRIMARY KEY',              'pk',   4000,
	  "timestamp '2021-01-01' + i * interval '17 minutes 3.25 seconds'" ],
	[ 'f_tstz',    'k timestamptz',                        'decl', 4000,
	  "CASE WHEN i % 17 = 0 THEN NULL ELSE timestamptz '2021-03-27 00:00+00' + (i % 1900) * interval '41 minutes' END" ],
	[ 'f_uuid',    'k uuid PRIMARY KEY',                   'pk',   4000, "md5(i::text)::uuid" ],
	[ 'f_text',    'k text COLLATE "und-x-icu" PRIMARY KEY', 'pk', 4000,
	  "(ARRAY['alpha','Beta','gamma','Delta','epsilon','Zeta','éclair','Ökonom'])[1 + i % 8] || '-' || i" ],
	[ 'f_textc',   'k text COLLATE "C"',                   'decl', 4000,
	  "CASE WHEN i % 19 = 0 THEN NULL ELSE (ARRAY['alpha','Beta','gamma','Delta','_x','Zeta'])[1 + i % 6] || (i % 300) END" ],
	[ 'f_varchar', 'k varchar(30) PRIMARY KEY',            'pk',   3000, "'v' || lpad((i * 37 % 100000)::text, 6, '0')" ],
	[ 'f_small',   'k smallint',                           'decl', 3000, "(i % 7)::smallint" ],
	[ 'f_enum',    'k split_gen_mood',                     'decl', 3000,
	  "(enum_range(NULL::split_gen_mood))[1 + i % 4]" ],
	[ 'f_float',   'k float8 PRIMARY KEY',                 'pk',   3000,
	  "CASE i WHEN 1 THEN 'NaN' WHEN 2 THEN 'Infinity' WHEN 3 THEN '-Infinity' ELSE (i - 1500) / 7.0 END" ],
	[ 'f_part',    'k integer',                            'part', 5000, 'i * 3' ],
	[ 'f_empty',   'k integer PRIMARY KEY',                'pk',   0,    'i' ],
	[ 'f_nostats', 'k integer PRIMARY KEY',                'pk',   2000, 'i' ],
	[ 'f_stale',   'k integer PRIMARY KEY',                'pk',   4000, 'i' ],
);

# value columns of every fact table: name, type, kind, expression of i
my @COLUMNS = (
	[ 'g_few',  'integer',        'int',   'i % 4' ],
	[ 'g_mid',  'integer',        'int',   '(i * 7) % 37' ],
	[ 'g_many', 'integer',        'int',   'i % 1500' ],
	[ 'g_txt',  'text',           'text',  "(ARRAY['red','green','blue','cyan','magenta'])[1 + i % 5]" ],
	[ 'a',      'integer',        'int',   'CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 31) % 1000 - 300 END' ],
	[ 'b',      'bigint',         'int',   'i::bigint * 1000003 % 99991' ],
	[ 'sm',     'smallint',       'int',   '(i % 100 - 50)::smallint' ],
	[ 'n',      'numeric(12,3)',  'numeric', 'round((i % 1000) * 1.125 - 200, 3)' ],
	[ 'fl',     'float8',         'float', '(i % 400) / 8.0' ],
	[ 'fl2',    'float8',         'float', 'CASE WHEN i % 23 = 0 THEN NULL ELSE ((i * 13) % 256) / 4.0 END' ],
	[ 'r',      'real',           'real',  '(i % 64) / 4.0' ],
	[ 't',      'text',           'text',  'substr(md5(i::text), 1, 8)' ],
	[ 'd',      'date',           'date',  "date '2022-01-01' + (i * 3) % 700" ],
	[ 'ts',     'timestamptz',    'date',  "timestamptz '2022-01-01 00:00+00' + i * interval '37 minutes'" ],
	[ 'iv',     'interval',       'interval', "(i % 50) * interval '1 hour 10 seconds'" ],
	[ 'flag',   'boolean',        'bool',  'CASE WHEN i % 11 = 0 THEN NULL ELSE i % 3 = 0 END' ],
	[ 'bits',   'bit(8)',         'bit',   '(255 - i % 7 * (i % 5))::bit(8)' ],
	[ 'mood',   'split_gen_mood', 'enum',  '(enum_range(NULL::split_gen_mood))[1 + i % 3]' ],
	[ 'ip',     'inet',           'inet',  "('10.' || i % 200 || '.' || i % 7 || '.1')::inet" ],
	[ 'm',      'money',          'money', '((i % 300) * 1.25)::numeric::money' ],
	[ 'arr',    'integer[]',      'array', 'ARRAY[i % 5, i % 3]' ],
	[ 'rg',     'int4range',      'range', 'CASE WHEN i % 29 = 0 THEN NULL ELSE int4range(i % 40, 1000 + i % 50) END' ],
	[ 'lsn',    'pg_lsn',         'ordered', "('0/' || to_hex(i * 7919))::pg_lsn" ],
	[ 'bp',     'char(3)',        'ordered', 'substr(md5((i % 97)::text), 1, 2)' ],
	[ 'tm',     'time',           'ordered', "time '00:00' + (i * 37 % 86400) * interval '1 second'" ],
	[ 'dim_id', 'integer',        'int',   'i % 12' ],
);

# combinable aggregates by column kind: [name, approx tolerance or 0]
my %AGGS = (
	int      => [ [ 'sum', 0 ], [ 'avg', 0 ], [ 'min', 0 ], [ 'max', 0 ], [ 'count', 0 ],
				  [ 'bit_and', 0 ], [ 'bit_or', 0 ], [ 'bit_xor', 0 ], [ 'stddev', 0 ],
				  [ 'variance', 0 ], [ 'var_pop', 0 ], [ 'stddev_pop', 0 ] ],
	numeric  => [ [ 'sum', 0 ], [ 'avg', 0 ], [ 'min', 0 ], [ 'max', 0 ], [ 'stddev_samp', 0 ],
				  [ 'var_samp', 0 ], [ 'count', 0 ] ],
	float    => [ [ 'sum', 1e-12 ], [ 'avg', 1e-12 ], [ 'min', 0 ], [ 'max', 0 ], [ 'stddev', 1e-12 ],
				  [ 'var_pop', 1e-12 ], [ 'stddev_samp', 1e-12 ] ],
	real     => [ [ 'sum', 1e-6 ], [ 'avg', 1e-12 ], [ 'min', 0 ], [ 'max', 0 ], [ 'variance', 1e-12 ] ],
	text     => [ [ 'min', 0 ], [ 'max', 0 ], [ 'count', 0 ] ],
	date     => [ [ 'min', 0 ], [ 'max', 0 ] ],
	interval => [ [ 'sum', 0 ], [ 'avg', 0 ], [ 'min', 0 ], [ 'max', 0 ] ],
	bool     => [ [ 'bool_and', 0 ], [ 'bool_or', 0 ], [ 'every', 0 ], [ 'count', 0 ] ],
	bit      => [ [ 'bit_and', 0 ], [ 'bit_or', 0 ], [ 'bit_xor', 0 ] ],
	enum     => [ [ 'min', 0 ], [ 'max', 0 ] ],
	inet     => [ [ 'min', 0 ], [ 'max', 0 ] ],
	money    => [ [ 'sum', 0 ], [ 'min', 0 ], [ 'max', 0 ] ],
	array    => [ [ 'min', 0 ], [ 'max', 0 ] ],
	range    => [ [ 'range_intersect_agg', 0 ], [ 'count', 0 ] ],
	ordered  => [ [ 'min', 0 ], [ 'max', 0 ] ],
);
my @PAIR_AGGS = qw(corr covar_pop covar_samp regr_slope regr_intercept regr_r2 regr_count
  regr_sxx regr_syy regr_sxy regr_avgx regr_avgy);

# literals of each fact table's key type, for conditions on the key itself
# (which bound the range the split cuts: split_key_bounds.c; no "k = c",
# which reads one value and is never split)
my %KEY_LITERALS = (
	f_int     => [ 0, 900, 2500, 4999 ],
	f_bigskew => [ "'-5000'", "'77'", "'30000'" ],
	f_num     => [ "'-500.5'", "'1000'", "'4000.25'" ],
	f_date    => [ "'2020-02-01'", "'2020-09-15'", "'2021-06-01'" ],
	f_ts      => [ "'2021-01-10'", "'2021-02-01 12:00'", "'2021-02-20'" ],
	f_tstz    => [ "'2021-03-28 02:30+00'", "'2021-04-15 00:00+00'", "'2021-05-01 00:00+02'" ],
	f_uuid    => [ "'40000000-0000-0000-0000-000000000000'", "'c0000000-0000-0000-0000-000000000000'" ],
	f_text    => [ "'Delta'", "'epsilon-9'", "'gamma'" ],
	f_textc   => [ "'Delta'", "'_x'", "'gamma1'" ],
	f_varchar => [ "'v03'", "'v05'", "'v09'" ],
	f_small   => [ 2, 5 ],
	f_enum    => [ "'sad'", "'ok'" ],
	f_float   => [ "'-100'", "'0.5'", "'Infinity'", "'NaN'" ],
	f_part    => [ 3000, 9000, 12000 ],
	f_empty   => [1],
	f_nostats => [ 100, 1500 ],
	f_stale   => [ 500, 2000, 3900 ]);

sub fact_tables { return map { $_->[0] } @FACTS }

# the schema and its data, as one SQL script
sub schema_sql
{
	my @sql = (
		"CREATE TYPE split_gen_mood AS ENUM ('grumpy', 'sad', 'ok', 'happy')",
		'CREATE TABLE dim (id integer PRIMARY KEY, name text NOT NULL, cat integer NOT NULL)',
		"INSERT INTO dim SELECT i, 'dim-' || i, i % 3 FROM generate_series(0, 9) i",
		'CREATE TABLE tag (code integer PRIMARY KEY, label text)',
		"INSERT INTO tag SELECT i, CASE WHEN i <> 2 THEN 'tag-' || i END FROM generate_series(0, 4) i");
	my $cols = join(', ', map { "$_->[0] $_->[1]" } @COLUMNS);
	my $vals = join(', ', map { $_->[3] } @COLUMNS);
	for my $f (@FACTS)
	{
		my ($name, $keydef, $source, $rows, $keyexpr) = @$f;
		my $partition = $source eq 'part' ? ' PARTITION BY RANGE (k)' : '';
		push @sql, "CREATE TABLE $name (rid integer NOT NULL, $keydef, $cols)$partition";
		if ($source eq 'part')
		{
			push @sql, "ALTER TABLE $name ADD PRIMARY KEY (k)",
			  "CREATE TABLE ${name}_1 PARTITION OF $name FOR VALUES FROM (MINVALUE) TO (4000)",
			  "CREATE TABLE ${name}_2 PARTITION OF $name FOR VALUES FROM (4000) TO (9000)",
			  "CREATE TABLE ${name}_3 PARTITION OF $name FOR VALUES FROM (9000) TO (MAXVALUE)";
		}
		push @sql, "CREATE UNIQUE INDEX ${name}_rid ON $name (rid)" unless $source eq 'part';
		my $first = $name eq 'f_stale' ? 1000 : $rows;
		push @sql, "INSERT INTO $name SELECT i, $keyexpr, $vals FROM generate_series(1, $first) i"
		  if $rows > 0;
		push @sql, "SELECT foresight.set_split_key('$name', 'k')" if $source eq 'decl';
		push @sql, "ANALYZE $name" unless $name eq 'f_nostats';
		push @sql, "INSERT INTO $name SELECT i, $keyexpr, $vals FROM generate_series(1001, $rows) i"
		  if $name eq 'f_stale';
	}
	push @sql, 'ANALYZE dim', 'ANALYZE tag';
	return join(";\n", @sql) . ";\n";
}

sub new
{
	my ($class, %opts) = @_;
	my $self = bless { state => ($opts{seed} % 2147483646) + 1 }, $class;
	return $self;
}

# Park-Miller: the generator's own sequence, whatever else calls rand()
sub rnd
{
	my ($self, $n) = @_;
	$self->{state} = ($self->{state} * 48271) % 2147483647;
	return $self->{state} % $n;
}
sub pick { my ($self, @l) = @_; return $l[ $self->rnd(scalar @l) ]; }
sub chance { my ($self, $p) = @_; return $self->rnd(1000000) < $p * 1000000; }

sub column { my ($name) = @_; return (grep { $_->[0] eq $name } @COLUMNS)[0]; }

# one WHERE condition on the fact table f (and d when joined)
sub condition
{
	my ($self, $fact, $joined) = @_;
	my @c = (
		'f.a > ' . ($self->rnd(1200) - 350),
		'f.a IS NULL', 'f.a IS NOT NULL', 'f.k IS NOT NULL', 'f.k IS NULL',
		'f.g_few IN (' . join(', ', 0 .. $self->rnd(3)) . ')',
		"f.t < '" . $self->pick(qw(3 7 a c)) . "'",
		'f.fl BETWEEN ' . $self->rnd(20) . ' AND ' . (20 + $self->rnd(40)),
		"f.d >= date '2022-01-01' + " . $self->rnd(700),
		'f.rid < ' . (1 + $self->rnd(300)),
		'f.rid % ' . (2 + $self->rnd(5)) . ' = 0',
		'f.flag', 'NOT f.flag',
		'EXISTS (SELECT 1 FROM dim d2 WHERE d2.id = f.dim_id AND d2.cat = ' . $self->rnd(3) . ')',
		'f.dim_id IN (SELECT id FROM dim WHERE cat < ' . (1 + $self->rnd(2)) . ')',
		'NOT EXISTS (SELECT 1 FROM tag WHERE tag.code = f.g_few AND tag.label IS NOT NULL)',
		"f.a > (SELECT avg(a) FROM $fact)",
	);
	push @c, "d.name <> 'dim-" . $self->rnd(10) . "'", 'd.cat = ' . $self->rnd(3) if $joined;
	if (my $lits = $KEY_LITERALS{$fact})
	{
		my ($l1, $l2) = ($self->pick(@$lits), $self->pick(@$lits));
		push @c, "f.k < $l1", "f.k >= $l1", "f.k BETWEEN $l1 AND $l2";
	}
	return $self->pick(@c);
}

# FROM clause: the fact table f, maybe through a sub-query or WITH, maybe joined
sub from_clause
{
	my ($self, $fact, $allow_join) = @_;
	my ($with, $from) = ('', "$fact f");
	my $wrap = $self->rnd(10);
	if ($wrap == 0)
	{
		$from = "(SELECT * FROM $fact WHERE rid % 5 <> 1) f";
	}
	elsif ($wrap == 1)
	{
		$with = "WITH fx AS (SELECT * FROM $fact WHERE rid > 10) ";
		$from = 'fx f';
	}
	my $joined = 0;
	if ($allow_join)
	{
		my $j = $self->rnd(8);
		if ($j == 0) { $from .= ' JOIN dim d ON d.id = f.dim_id'; $joined = 1; }
		elsif ($j == 1) { $from .= ' LEFT JOIN dim d ON d.id = f.dim_id'; $joined = 1; }
		elsif ($j == 2) { $from = "dim d RIGHT JOIN $from ON d.id = f.dim_id"; $joined = 1; }
		elsif ($j == 3)
		{
			$from .= ' JOIN dim d ON d.id = f.dim_id LEFT JOIN tag ON tag.code = f.g_few';
			$joined = 1;
		}
	}
	return ($with, $from, $joined);
}

sub where_clause
{
	my ($self, $fact, $joined) = @_;
	my $n = $self->pick(0, 0, 1, 1, 1, 2, 3);
	return '' unless $n;
	return ' WHERE ' . join(' AND ', map { $self->condition($fact, $joined) } 1 .. $n);
}

# an aggregate call over fact f: [sql, approx]
sub aggregate
{
	my ($self) = @_;
	my $r = $self->rnd(100);
	return [ 'count(*)', 0 ] if $r < 8;
	return [ 'count(DISTINCT f.k)', 0 ] if $r < 11;
	if ($r < 21)
	{
		my $agg = $self->pick(@PAIR_AGGS);
		my ($x, $y) = @{ $self->pick([ 'f.fl', 'f.fl2' ], [ 'f.fl2', 'f.fl' ], [ 'f.fl', 'f.a' ], [ 'f.r', 'f.fl' ]) };
		return [ "$agg($x, $y)", $agg eq 'regr_count' ? 0 : 1e-9 ];
	}
	my $col = $self->pick(grep { $_->[0] ne 'dim_id' } @COLUMNS);
	my $agg = $self->pick(@{ $AGGS{ $col->[2] } });
	my $sql = "$agg->[0](f.$col->[0])";
	$sql .= ' FILTER (WHERE f.g_mid > ' . $self->rnd(37) . ')' if $self->chance(0.12);
	return [ $sql, $agg->[1] ];
}

my @GROUPINGS = (
	[], ['f.g_few'], ['f.g_mid'], ['f.g_many'], ['f.g_txt'], ['f.g_few', 'f.g_txt'], ['f.flag'],
	['f.k'], ['f.k', 'f.g_few'], ['(f.a % 10)'], ["date_trunc('month', f.ts)"], ['f.mood'],
	['d.name'], ['d.cat', 'f.g_few'],
);

sub aggregate_query
{
	my ($self, $fact) = @_;
	my ($with, $from, $joined) = $self->from_clause($fact, 1);
	my @groups = @{ $self->pick(grep { $joined || !grep { /^d\./ } @$_ } @GROUPINGS) };
	my $by_key = grep { $_ eq 'f.k' } @groups;
	my @aggs = map { $self->aggregate } 1 .. 1 + $self->rnd(4);
	# aggregates without a combine function: whole groups only
	if ($by_key && $self->chance(0.4))
	{
		push @aggs, [ $self->pick('array_agg(f.a ORDER BY f.rid)', "string_agg(f.t, ',' ORDER BY f.t)",
				'count(DISTINCT f.g_mid)', 'percentile_disc(0.5) WITHIN GROUP (ORDER BY f.a)',
				'json_agg(f.g_txt ORDER BY f.rid)'), 0 ];
	}
	# SELECT DISTINCT over exact aggregates only, the GROUP BY columns not
	# selected (a part must not deduplicate over them)
	if (@groups && $self->chance(0.08))
	{
		my @exact = grep { !$_->[1] && $_->[0] !~ /array_agg|json_agg|string_agg/ } @aggs;
		@exact = ([ 'count(*)', 0 ]) unless @exact;
		my @sel = map { $_->[0] } @exact;
		my $sql = "${with}SELECT DISTINCT " . join(', ', map { "$sel[$_] AS o" . ($_ + 1) } 0 .. $#sel)
		  . " FROM $from" . $self->where_clause($fact, $joined) . ' GROUP BY ' . join(', ', @groups)
		  . ' ORDER BY ' . join(', ', map { 'o' . $_ . ' NULLS FIRST' } 1 .. @sel);
		$sql .= ' LIMIT ' . (1 + $self->rnd(6)) if $self->chance(0.7);
		return { sql => $sql, columns => scalar @sel, approx => [ (0) x @sel ], ordered => 1, expect => 1 };
	}
	my @select = (@groups, map { $_->[0] } @aggs);
	my @approx = ((0) x @groups, map { $_->[1] } @aggs);
	my $sql = "${with}SELECT " . join(', ', map { "$select[$_] AS o" . ($_ + 1) } 0 .. $#select)
	  . " FROM $from" . $self->where_clause($fact, $joined);
	$sql .= ' GROUP BY ' . join(', ', @groups) if @groups;
	if ($self->chance(0.25))
	{
		$sql .= ' HAVING ' . $self->pick('count(*) > ' . $self->rnd(30), 'sum(f.a) > ' . ($self->rnd(5000) - 1000),
			"min(f.t) < '" . $self->pick(qw(1 5 9 c)) . "'", 'max(f.fl) > ' . $self->rnd(50));
	}
	my $ordered = 0;
	if (@groups && $self->chance(0.5))
	{
		$ordered = 1;
		my @keys = map { 'o' . ($_ + 1) . ($self->chance(0.3) ? ' DESC' : '') } 0 .. $#groups;
		@keys = ('o' . (@groups + 1) . ' DESC NULLS LAST', @keys) if $self->chance(0.3) && !$approx[@groups];
		$sql .= ' ORDER BY ' . join(', ', @keys);
		$sql .= ' LIMIT ' . (1 + $self->rnd(20)) if $self->chance(0.6);
		$sql .= ' OFFSET ' . $self->rnd(5) if $self->chance(0.3);
	}
	return { sql => $sql, columns => scalar @select, approx => \@approx, ordered => $ordered, expect => 1 };
}

sub row_query
{
	my ($self, $fact) = @_;
	my ($with, $from, $joined) = $self->from_clause($fact, 1);
	my $where = $self->where_clause($fact, $joined);
	my $shape = $self->rnd(10);
	my (@select, $tail, $ordered);

	if ($shape <= 4)
	{
		my @cols = map { 'f.' . $self->pick(qw(k a t n d fl iv mood g_txt arr flag ip)) } 1 .. 1 + $self->rnd(4);
		@select = ('f.rid', @cols);
		push @select, $self->pick('d.name', 'd.cat') if $joined && $self->chance(0.5);
		push @select, 'generate_series(1, f.g_few)' if $self->chance(0.1);
		$tail = '';
		$ordered = 1;
		if ($select[-1] =~ /generate_series/)
		{
			# several rows per row of f: ORDER BY is not total, no LIMIT
			$tail = ' ORDER BY f.rid' if $self->chance(0.5);
			$ordered = 0;
		}
		elsif ($self->chance(0.6))
		{
			my $key = $self->pick('f.a', 'f.t', 'f.k', 'f.fl', 'f.d', 'f.rid', 'f.g_few');
			my $dir = $self->pick('', ' DESC', ' NULLS FIRST', ' DESC NULLS LAST');
			if ($key eq 'f.g_few' && $self->chance(0.3))
			{
				$tail = " ORDER BY f.g_few$dir FETCH FIRST " . (1 + $self->rnd(30)) . ' ROWS WITH TIES';
				$ordered = 0;
			}
			else
			{
				$tail = " ORDER BY $key$dir, f.rid";
				$tail .= ' LIMIT ' . (1 + $self->rnd(40)) if $self->chance(0.6);
				$tail .= ' OFFSET ' . $self->rnd(10) if $tail =~ /LIMIT/ && $self->chance(0.4);
			}
		}
		else { $ordered = 0; }
	}
	elsif ($shape <= 6)
	{
		@select = map { 'f.' . $_ } @{ $self->pick([ 'g_few' ], [ 'g_few', 'g_txt' ], [ 'g_mid', 'flag' ], [ 'mood' ]) };
		$tail = ' ORDER BY ' . join(', ', map { 'o' . $_ } 1 .. @select);
		$tail .= ' LIMIT ' . (1 + $self->rnd(8)) if $self->chance(0.5);
		$ordered = 1;
		return $self->finish_rows($with, 'SELECT DISTINCT', \@select, $from, $where, $tail, $ordered);
	}
	elsif ($shape == 7 && $self->chance(0.3))
	{
		# DISTINCT over a window partitioned by the key (its ORDER BY column not selected)
		@select = ('f.g_few', $self->pick('count(*) OVER (PARTITION BY f.k)',
				'row_number() OVER (PARTITION BY f.k ORDER BY f.rid)'));
		$tail = ' ORDER BY o1, o2';
		$tail .= ' LIMIT ' . (1 + $self->rnd(6)) if $self->chance(0.7);
		return $self->finish_rows($with, 'SELECT DISTINCT', \@select, $from, $where, $tail, 1);
	}
	elsif ($shape == 7)
	{
		@select = ('f.g_mid', 'f.rid', 'f.t');
		$tail = ' ORDER BY f.g_mid, f.rid' . $self->pick('', ' DESC');
		$tail .= ' LIMIT ' . (1 + $self->rnd(20)) if $self->chance(0.5);
		return $self->finish_rows($with, 'SELECT DISTINCT ON (f.g_mid)', \@select, $from, $where, $tail, 1);
	}
	else
	{
		# window functions partitioned by the key
		@select = ('f.rid', 'f.k', $self->pick('count(*) OVER (PARTITION BY f.k)',
				'row_number() OVER (PARTITION BY f.k ORDER BY f.rid)',
				'sum(f.a) OVER (PARTITION BY f.k, f.g_few)'));
		$tail = '';
		$ordered = 0;
	}
	return $self->finish_rows($with, 'SELECT', \@select, $from, $where, $tail, $ordered);
}

sub finish_rows
{
	my ($self, $with, $head, $select, $from, $where, $tail, $ordered) = @_;
	my $sql = "$with$head " . join(', ', map { "$select->[$_] AS o" . ($_ + 1) } 0 .. $#$select)
	  . " FROM $from$where$tail";
	return { sql => $sql, columns => scalar @$select, approx => [ (0) x @$select ],
		ordered => $ordered, expect => 1 };
}

# queries that must not be split, and the reason they should be given
sub refused_query
{
	my ($self, $fact) = @_;
	my @cases = (
		[ "SELECT f.rid AS o1 FROM $fact f WHERE random() < 2", qr/volatile/ ],
		[ "SELECT f.g_few AS o1, count(*) AS o2 FROM $fact f GROUP BY ROLLUP (f.g_few)", qr/grouping sets/ ],
		[ "SELECT f.rid AS o1, row_number() OVER (PARTITION BY f.g_few ORDER BY f.rid) AS o2 FROM $fact f", qr/window/ ],
		[ "SELECT f.g_few AS o1, array_agg(f.a ORDER BY f.rid) AS o2 FROM $fact f GROUP BY f.g_few", qr/ORDER BY in its arguments|no combine/ ],
		[ "SELECT f.g_txt AS o1, string_agg(f.t, ',') AS o2 FROM $fact f GROUP BY f.g_txt", qr/no combine function/ ],
		[ "SELECT count(DISTINCT f.g_mid) AS o1 FROM $fact f", qr/DISTINCT over columns other than the split key/ ],
		[ "SELECT f.rid AS o1 FROM $fact f UNION SELECT 1", qr/set operation/ ],
		[ "SELECT count(*) AS o1 FROM (SELECT * FROM $fact ORDER BY rid LIMIT 50) f", qr/LIMIT/ ],
		# a sub-query's ORDER BY orders the result: the rows' order without an
		# ORDER BY of the top query
		[ "SELECT s.rid AS o1 FROM (SELECT f.rid, f.g_few FROM $fact f ORDER BY f.g_few, f.rid) s",
		  qr/sub-query has an ORDER BY/ ],
		[ "WITH w AS (SELECT * FROM $fact ORDER BY g_mid DESC, rid) SELECT w.rid AS o1 FROM w WHERE w.g_few < 3",
		  qr/WITH query has an ORDER BY/ ],
		# without an ORDER BY, which rows a LIMIT or OFFSET keeps, which row of
		# a DISTINCT ON group
		[ "SELECT f.rid AS o1 FROM $fact f WHERE f.g_few = 1 LIMIT 9", qr/LIMIT or OFFSET without ORDER BY/ ],
		[ "SELECT DISTINCT ON (f.g_mid) f.rid AS o1 FROM $fact f", qr/DISTINCT ON without ORDER BY/ ],
		[ "SELECT count(*) AS o1 FROM $fact f FULL JOIN dim d ON d.id = f.dim_id", qr/nullable side/ ],
		[ "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY f.fl) AS o1 FROM $fact f", qr/ordered-set/ ],
		[ "SELECT f.g_few AS o1, (SELECT count(*) FROM dim WHERE dim.cat = f.g_few) + count(*) AS o2 FROM $fact f GROUP BY f.g_few",
		  qr/sub-query in the select list/ ],
	);
	my $c = $self->pick(@cases);
	return { sql => $c->[0], columns => 1, approx => [0], ordered => 0, expect => 0, reason => $c->[1] };
}

sub query
{
	my ($self) = @_;
	my $fact = $self->pick(map { $_->[0] } @FACTS);
	my $r = $self->rnd(100);
	my $q = $r < 5 ? $self->refused_query($fact)
	  : $r < 60 ? $self->aggregate_query($fact) : $self->row_query($fact);
	$q->{parts} = 1 + $self->rnd(8);
	$q->{fact} = $fact;
	return $q;
}

# Why the rows a query gave ($got) are not its answer ($want), or undef:
# compared in order when the query fixes it, as multisets otherwise; a
# column the query marks approximate ($q->{approx}: float aggregates)
# within that tolerance, relative to the larger value or to 1, whichever
# is larger (the generator's values are of order 1 to 10^5: a covariance
# whose terms cancel comes out 0 summed in one order and 4e-14 in another,
# which no relative tolerance accepts), every other value exactly.
sub answer_mismatch
{
	my ($q, $want, $got) = @_;
	if (!$q->{ordered})
	{
		$want = [ sort { _row_key($a) cmp _row_key($b) } @$want ];
		$got = [ sort { _row_key($a) cmp _row_key($b) } @$got ];
	}
	return scalar(@$want) . ' rows, split gave ' . scalar(@$got) if @$want != @$got;
	for my $r (0 .. $#$want)
	{
		for my $c (0 .. $#{ $want->[$r] })
		{
			next if _same_value($want->[$r][$c], $got->[$r][$c], $q->{approx}[$c]);
			return "row $r column " . ($c + 1) . ': ' . ($want->[$r][$c] // 'NULL')
			  . ' vs ' . ($got->[$r][$c] // 'NULL');
		}
	}
	return undef;
}

sub _same_value
{
	my ($a, $b, $tolerance) = @_;
	return 1 if !defined $a && !defined $b;
	return 0 if !defined $a || !defined $b;
	return 1 if $a eq $b;
	return 0 unless $tolerance && $a =~ /^-?[\d.e+-]+$/i && $b =~ /^-?[\d.e+-]+$/i;
	my $scale = abs($a) > abs($b) ? abs($a) : abs($b);
	$scale = 1 if $scale < 1;
	return abs($a - $b) <= $tolerance * $scale;
}

sub _row_key { return join("\x1f", map { defined $_ ? $_ : "\x00" } @{ $_[0] }); }

1;

