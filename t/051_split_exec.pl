# t/051_split_exec.pl: split reads run through the executor, on a
# coordinator with two standbys, against the same queries run whole here.
#
# SplitQueryGen's queries (SPLIT_SEED, default below; SPLIT_EXEC_QUERIES of
# them, default 1100) run twice in one session each: with foresight.split
# on (the planner hook makes the combine plan over the "Foresight Split"
# scan; the parts run on the standbys, and on the coordinator but for
# every third query, whose parts are cut by block ranges where the table,
# the key and the standbys' positions allow: foresight.split_block_ranges
# on) and with the routing policy local.
# The rows must be equal (in order when the query's ORDER BY is total;
# floats within the generator's tolerance), and at least 90% of the
# queries must have been split, counted from the decision log; the ordered
# queries must merge their sorted parts.  The faults are t/055's.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
# runs long: scripts/test.sh starts it first among those
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

use lib 't/lib';
use ForesightCluster;
use SplitQueryGen;

my $seed = $ENV{SPLIT_SEED} || 20251203;
my $nqueries = $ENV{SPLIT_EXEC_QUERIES} || 1100;
diag("split execution: seed $seed, $nqueries queries (SPLIT_SEED, SPLIT_EXEC_QUERIES to change)");

# synchronize_seqscans off: with the test clusters' 1 MB of shared buffers a
# sequential scan of any table over 32 blocks may start where another scan
# of it is (the coordinator's own parts scan the fact tables too), and the
# refused queries' string_agg without ORDER BY follows the scan's order
my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => "foresight.decision_log_size = 20000\nautovacuum = off\nsynchronize_seqscans = off\n");
$primary->safe_psql('postgres', SplitQueryGen::schema_sql());
# both runs as a role without privileges beyond reading the tables, as
# clients are: a superuser may combine any aggregate state it gives, a
# role only the states a split's parts computed (partial_agg.h), so every
# plan shape the split makes is checked for that here
$primary->safe_psql('postgres',
	'CREATE ROLE split_reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO split_reader');
ForesightCluster::catch_up($primary, $standby1, $standby2);

my $gen = SplitQueryGen->new(seed => $seed);
my @queries = map { $gen->query } 1 .. $nqueries;

# Run the queries in one session; returns a list of [rows, error, header]
# per query (rows: array of arrays of text, NULL as undef; header: the
# column names the client was sent, joined by the field separator).
my ($US, $RS) = ("\x1f", "\x1e");
sub run_all
{
	my ($settings, $before_each) = @_;
	my $script = "\\pset format unaligned\n\\pset tuples_only off\n\\pset footer off\n\\pset null '\\\\N'\n"
	  . "\\pset fieldsep '$US'\n\\pset recordsep '$RS'\n${settings}SET ROLE split_reader;\n"
	  . "SELECT current_user AS run_as \\gset\n\\echo '<<<role' :run_as '>>>'\n";
	for my $i (0 .. $#queries)
	{
		$script .= $before_each->($i) if $before_each;
		$script .= "\\echo '<<<$i>>>'\n$queries[$i]{sql};\n\\echo '<<<end' :ERROR '>>>'\n";
	}
	my ($out, $err) = ('', '');
	$primary->psql('postgres', $script, stdout => \$out, stderr => \$err, on_error_stop => 0);
	my @res;
	# a failed SET ROLE would leave the run a superuser's, which no state check applies to
	die "the queries did not run as split_reader: " . substr($out . $err, 0, 300)
	  unless $out =~ /<<<role split_reader >>>/;
	diag('psql output starts: ' . substr($out, 0, 300) . "\nstderr: " . substr($err, 0, 300))
	  if $ENV{SPLIT_DEBUG};
	while ($out =~ /<<<(\d+)>>>\n?(.*?)<<<end (\w+) >>>/sg)
	{
		my ($i, $body, $error) = ($1, $2, $3);
		$body =~ s/\n\z//;
		my @records = $body eq '' ? () : split(/\Q$RS\E/, $body, -1);
		my $header = shift @records;
		my @rows = map { [ map { $_ eq '\\N' ? undef : $_ } split(/\Q$US\E/, $_, -1) ] } @records;
		$res[$i] = [ \@rows, $error eq 'true' ? 1 : 0, $header ];
	}
	return (\@res, $err);
}

sub split_decisions
{
	return $primary->safe_psql('postgres',
		"SELECT count(*) FROM foresight.routing_decisions WHERE reason LIKE 'split:%'");
}

# the split reads whose parts were cut by block ranges (sharding.md)
sub block_decisions
{
	return $primary->safe_psql('postgres',
		"SELECT count(*) FROM foresight.routing_decisions WHERE reason LIKE 'split:%; by blocks at %'");
}

my $started = time;
my $before = split_decisions();
my $blocks_before = block_decisions();
# every third query without the coordinator as a candidate, its parts all
# on the standbys: cut by block ranges where the table and key allow
my ($split, $err_split) = run_all("SET foresight.split = on;\nSET foresight.split_min_cost = 0;\nSET foresight.split_block_ranges = on;\n",
	sub { "SET foresight.include_local = " . ($_[0] % 3 == 2 ? 'off' : 'on') . ";\n" });
my $nsplit = split_decisions() - $before;
my $nblocks = block_decisions() - $blocks_before;
my $split_s = time - $started;
my ($local, $err_local) = run_all("SET foresight.routing_policy = local;\n");

my @mismatches;
for my $i (0 .. $#queries)
{
	my $q = $queries[$i];
	my ($s, $l) = ($split->[$i], $local->[$i]);
	if (!$s || !$l)
	{
		push @mismatches, "no answer: $q->{sql}";
		next;
	}
	if ($s->[1] != $l->[1])
	{
		push @mismatches, ($s->[1] ? 'split failed' : 'only the local run failed') . ": $q->{sql}";
		next;
	}
	my $why = SplitQueryGen::answer_mismatch($q, $l->[0], $s->[0]);
	# the row description too: the column names a client is sent
	$why //= "column names " . ($s->[2] // '(none)') =~ s/\Q$US\E/,/gr
	  . ' where local gives ' . ($l->[2] // '(none)') =~ s/\Q$US\E/,/gr
	  if ($s->[2] // '') ne ($l->[2] // '');
	push @mismatches, "$why: $q->{sql}" if defined $why;
}
my $errors = grep { $_ && $_->[1] } @$local;
diag(sprintf('split execution: seed %d, %d queries, %d split through the executor (%.1f%%; '
	  . '%d cut by block ranges), %d mismatches, %d failing both ways, split run %.1f s, total %.1f s',
	  $seed, $nqueries, $nsplit, 100 * $nsplit / $nqueries, $nblocks, scalar @mismatches, $errors,
	  $split_s, time - $started));
diag($_) for @mismatches[ 0 .. ($#mismatches < 9 ? $#mismatches : 9) ];
# why the others were not split: the planner's reasons, tallied
my %why;
{
	my $script = "SET foresight.split = on; SET foresight.split_min_cost = 0;\n" . join('', map {
		"SELECT CASE WHEN splittable AND nparts >= 2 THEN 'split' ELSE coalesce(regexp_replace(reason, '[0-9.]+|\"[^\"]*\"', '#', 'g'), 'one part') END FROM foresight.split_explain(\$gen\$$queries[$_]{sql}\$gen\$, 2);\n"
	} 0 .. $#queries);
	$why{$_}++ for split /\n/, $primary->safe_psql('postgres', $script);
	diag(sprintf('  %5d  %s', $why{$_}, $_)) for sort { $why{$b} <=> $why{$a} } keys %why;
}
is(scalar @mismatches, 0, 'every query gives the same answer split as whole');
cmp_ok($nblocks, '>', 0, 'some splits were cut by block ranges');
# every query the planner splits is split when run; how many that is
# depends on the seed's mix of tables (f_empty's queries have nothing to
# cut, the refused shapes are refused): most of them
is($nsplit, $why{split} // 0, 'every query the planner splits (split_explain) was split when run (decision log)');
cmp_ok($nsplit / $nqueries, '>=', 0.85, 'at least 85% of the queries were split');
# the coordinator took a part of the splits (a routing candidate by default)
my ($nlocal, $nmerged) = split /\|/, $primary->safe_psql('postgres',
	"SELECT count(*) FILTER (WHERE reason ~ '^split: .*, local \\d+r'), count(*) FILTER (WHERE reason ~ '^split: [^;]*, merged') FROM foresight.routing_decisions");
diag("split execution: the coordinator ran a part of $nlocal splits, $nmerged merged sorted parts");
cmp_ok($nlocal, '>=', 0.5 * $nsplit, 'the coordinator takes a part beside the standbys');

# sorted parts are merged: no split plan sorts the rows of sorted parts here
# (a plain DISTINCT sorts by more columns than the parts did: it may)
{
	my $script = "SET foresight.split = on; SET foresight.split_min_cost = 0;\n"
	  . join('', map { "\\echo '<<<$_>>>'\nEXPLAIN (COSTS OFF) $queries[$_]{sql};\n" } 0 .. $#queries);
	my ($out, $err) = ('', '');
	$primary->psql('postgres', $script, stdout => \$out, stderr => \$err, on_error_stop => 0);
	my ($merged, $sorted_here, @unmerged) = (0, 0);
	while ($out =~ /<<<(\d+)>>>\n(.*?)(?=<<<|\z)/sg)
	{
		my ($i, $plan) = ($1, $2);
		if ($plan =~ /Merge Key: /)
		{
			$merged++;
		}
		elsif ($plan =~ /->  Sort\n(?:\s+Sort Key:[^\n]*\n)*\s+->  Custom Scan \(Foresight Split\)\n(?:\s+[A-Z][^\n]*\n)*?\s+Split Strategy: (?:rows|whole groups)\n/)
		{
			$sorted_here++;
			push @unmerged, $queries[$i]{sql} unless $queries[$i]{sql} =~ /SELECT DISTINCT (?!ON)/;
		}
	}
	diag("split plans: $merged merge sorted parts, $sorted_here sort them here (plain DISTINCT)");
	diag("sorted here: $_") for @unmerged[ 0 .. ($#unmerged < 4 ? $#unmerged : 4) ];
	cmp_ok($merged, '>', 100, 'the ordered queries of the rows strategies merge their parts');
	is(scalar @unmerged, 0, 'no split plan sorts sorted parts here but for a plain DISTINCT');
}

done_testing();
