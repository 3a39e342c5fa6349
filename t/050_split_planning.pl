# t/050_split_planning.pl: the split planner against the answer of the
# query itself, on one server.
#
# SplitQueryGen makes queries over its schema (seeded: SPLIT_SEED, default
# below; SPLIT_QUERIES of them, default 400: t/051_split_exec.pl
# runs 1100 of them through the executor).  For each, split_explain
# decides; a query that is split has its parts run here, their rows
# unioned and combined by combine_sql (the partial aggregate states by
# foresight.finalize_agg), and the result compared with the query's own:
# the same rows (in order when the query's ORDER BY is total), floats
# within the relative tolerance the generator gives (1e-12 for double,
# 1e-6 for a sum of reals).  Queries built to be refused must be refused
# for their reason.  Then every fact table's parts, for 2 to 8 of them, are
# checked to hold every row exactly once.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
# runs long: scripts/test.sh starts it first among those
use strict;
use warnings;

use Encode qw(encode_utf8);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

use SplitQueryGen;

my $seed = $ENV{SPLIT_SEED} || 20251203;
my $nqueries = $ENV{SPLIT_QUERIES} || 400;
diag("split planning: seed $seed, $nqueries queries (SPLIT_SEED, SPLIT_QUERIES to change)");

my $node = PostgreSQL::Test::Cluster->new('split');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_foresight'
foresight.database = 'postgres'
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_foresight');
$node->safe_psql('postgres', SplitQueryGen::schema_sql());

my $gen = SplitQueryGen->new(seed => $seed);
my @queries = map { $gen->query } 1 .. $nqueries;
my $settings = "SET foresight.split = on;\nSET foresight.split_min_cost = 0;\n";
# psql's output is UTF-8: decode it to characters, and encode what goes
# back into a script (the generator's SQL is bytes already)
my $json = JSON::PP->new->utf8;
my $started = time;

# psql over a script of one-line answers "index<TAB>json"; an error is kept
# with the index of the statement before it
sub run_script
{
	my ($script) = @_;
	my ($out, $err) = ('', '');
	$node->psql('postgres', $script, stdout => \$out, stderr => \$err, on_error_stop => 0);
	my %answers;
	for my $line (split /\n/, $out)
	{
		my ($i, $text) = split /\t/, $line, 2;
		$answers{$i} = $json->decode($text) if defined $text;
	}
	return (\%answers, $err);
}

# pass 1: the decisions
my ($decisions, $err1) = run_script($settings . join('', map {
	"SELECT '$_' || E'\\t' || row_to_json(e) FROM foresight.split_explain(\$gen\$$queries[$_]{sql}\$gen\$, $queries[$_]{parts}) e;\n"
} 0 .. $#queries));
is($err1, '', 'split_explain raised no error');

my (%strategies, @unexpected, @wrong_reason, $splittable, @compare);
for my $i (0 .. $#queries)
{
	my $q = $queries[$i];
	my $e = $decisions->{$i};
	if (!$e)
	{
		push @unexpected, "no decision for: $q->{sql}";
		next;
	}
	if (!$q->{expect})
	{
		push @wrong_reason, 'split, or refused for another reason (' . encode_utf8($e->{reason} // '') . "): $q->{sql}"
		  if $e->{splittable} || ($e->{reason} // '') !~ $q->{reason};
		next;
	}
	if (!$e->{splittable})
	{
		push @unexpected, 'refused (' . encode_utf8($e->{reason}) . "): $q->{sql}";
		next;
	}
	$splittable++;
	$strategies{ $e->{strategy} }++;
	push @unexpected, "$e->{nparts} parts, asked $q->{parts}: $q->{sql}"
	  if $e->{nparts} > $q->{parts} || @{ $e->{part_sql} } != $e->{nparts}
	  || @{ $e->{cut_points} } != $e->{nparts} - 1;
	push @compare, $i;
}

# pass 2: the query and its combined parts, each row as an array of texts
sub rows_json
{
	my ($n, $from) = @_;
	my $cols = join(', ', map { "q.o$_\::text" } 1 .. $n);
	return "(SELECT json_agg(json_build_array($cols)) FROM ($from) q)";
}
my ($results, $err2) = run_script($settings . join('', map {
	my $q = $queries[$_];
	my $e = $decisions->{$_};
	my $union = join(' UNION ALL ', map { '(' . encode_utf8($_) . ')' } @{ $e->{part_sql} });
	my $split = "WITH foresight_parts AS ($union) " . encode_utf8($e->{combine_sql});
	"SELECT '$_' || E'\\t' || json_build_array(" . rows_json($q->{columns}, $q->{sql}) . ', '
	  . rows_json($q->{columns}, $split) . ");\n"
} @compare));
is($err2, '', 'the queries and their parts ran without error');

my @mismatches;
for my $i (@compare)
{
	my $q = $queries[$i];
	my $r = $results->{$i};
	if (!$r)
	{
		push @mismatches, "no result (error?): $q->{sql}";
		next;
	}
	my ($orig, $split) = map { $_ // [] } @$r;
	my $why = SplitQueryGen::answer_mismatch($q, $orig, $split);
	push @mismatches, encode_utf8($why) . ": $q->{sql}\n  combine: " . encode_utf8($decisions->{$i}{combine_sql})
	  if defined $why;
}

diag("split planning: $nqueries queries, $splittable split ("
	  . sprintf('%.1f%%', 100 * $splittable / $nqueries) . '; '
	  . join(', ', map { "$_ $strategies{$_}" } sort keys %strategies) . '), '
	  . scalar(@compare) . ' compared, ' . scalar(@mismatches) . ' mismatches, '
	  . sprintf('%.1f s', time - $started));
my @problems = (@mismatches, @unexpected, @wrong_reason);
diag($_) for @problems[ 0 .. ($#problems < 9 ? $#problems : 9) ];
cmp_ok(scalar @compare, ">=", 0.8 * $nqueries, 'at least 80% of the queries split and compared with their answer');
is(scalar @mismatches, 0, 'every split query combines to its answer');
cmp_ok($splittable / $nqueries, '>=', 0.9, 'at least 90% of the queries are split');
is(scalar @unexpected, 0, 'queries meant to split are split into at most the parts asked');
is(scalar @wrong_reason, 0, 'queries meant to be refused are refused for their reason');

# every row of every fact table in exactly one part, for 2 to 8 parts
$node->safe_psql('postgres', q{
CREATE FUNCTION rows_not_in_one_part(rel regclass, parts integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	expr text;
	bad bigint;
BEGIN
	SELECT string_agg(format('coalesce((%s)::integer, 0)', c), ' + ') INTO expr
	  FROM foresight.split_explain(format('SELECT * FROM %s', rel), parts) e, unnest(e.part_conditions) c;
	EXECUTE format('SELECT count(*) FILTER (WHERE %s <> 1) FROM %s', expr, rel) INTO bad;
	RETURN bad;
END
$$});
my $tables = join(', ', map { "('$_')" } SplitQueryGen::fact_tables());
is($node->safe_psql('postgres', $settings . qq{
SELECT string_agg(t || ':' || p, ' ') FROM (VALUES $tables) v(t), generate_series(2, 8) p
 WHERE rows_not_in_one_part(t::regclass, p) <> 0}), '', 'every row of every fact table is in exactly one part');

$node->stop;
done_testing();
