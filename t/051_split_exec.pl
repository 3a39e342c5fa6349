# t/051_split_exec.pl: split reads run through the executor, on a
# coordinator with two standbys, against the same queries run whole here.
#
# SplitQueryGen's queries (SPLIT_SEED, default below; SPLIT_EXEC_QUERIES of
# them, default 1100) run twice in one session each: with foresight.split
# on (the planner hook makes the combine plan over the "Foresight Split"
# scan; the parts run on the standbys) and with the routing policy local.
# The rows must be equal (in order when the query's ORDER BY is total;
# floats within the generator's tolerance), and at least 90% of the
# queries must have been split, counted from the decision log.  Then the
# faults: a node stopped mid-split, a cancel and a statement_timeout
# mid-split (the parts stop on their nodes), a node paused in replay, a
# user-defined aggregate, a permission error, row-level security.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

use lib 't/lib';
use ForesightCluster;
use SplitQueryGen;

my $seed = $ENV{SPLIT_SEED} || 20251203;
my $nqueries = $ENV{SPLIT_EXEC_QUERIES} || 1100;
diag("split execution: seed $seed, $nqueries queries (SPLIT_SEED, SPLIT_EXEC_QUERIES to change)");

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => "foresight.decision_log_size = 20000\nautovacuum = off\n");
$primary->safe_psql('postgres', SplitQueryGen::schema_sql());
$primary->wait_for_catchup($_, 'replay', $primary->lsn('insert')) for ($standby1, $standby2);

my $gen = SplitQueryGen->new(seed => $seed);
my @queries = map { $gen->query } 1 .. $nqueries;

# Run the queries in one session; returns a list of [rows, error] per query
# (rows: array of arrays of text, NULL as undef).
my ($US, $RS) = ("\x1f", "\x1e");
sub run_all
{
	my ($settings) = @_;
	my $script = "\\pset format unaligned\n\\pset tuples_only on\n\\pset null '\\\\N'\n"
	  . "\\pset fieldsep '$US'\n\\pset recordsep '$RS'\n$settings";
	for my $i (0 .. $#queries)
	{
		$script .= "\\echo '<<<$i>>>'\n$queries[$i]{sql};\n\\echo '<<<end' :ERROR '>>>'\n";
	}
	my ($out, $err) = ('', '');
	$primary->psql('postgres', $script, stdout => \$out, stderr => \$err, on_error_stop => 0);
	my @res;
	diag('psql output starts: ' . substr($out, 0, 300) . "\nstderr: " . substr($err, 0, 300))
	  if $ENV{SPLIT_DEBUG};
	while ($out =~ /<<<(\d+)>>>\n?(.*?)<<<end (\w+) >>>/sg)
	{
		my ($i, $body, $error) = ($1, $2, $3);
		$body =~ s/\n\z//;
		my @rows = map { [ map { $_ eq '\\N' ? undef : $_ } split(/\Q$US\E/, $_, -1) ] }
		  ($body eq '' ? () : split(/\Q$RS\E/, $body, -1));
		$res[$i] = [ \@rows, $error eq 'true' ? 1 : 0 ];
	}
	return (\@res, $err);
}

sub split_decisions
{
	return $primary->safe_psql('postgres',
		"SELECT count(*) FROM foresight.routing_decisions WHERE reason LIKE 'split:%'");
}

my $started = time;
my $before = split_decisions();
my ($split, $err_split) = run_all("SET foresight.split = on;\nSET foresight.split_min_cost = 0;\n");
my $nsplit = split_decisions() - $before;
my $split_s = time - $started;
my ($local, $err_local) = run_all("SET foresight.routing_policy = local;\n");

sub same_value
{
	my ($a, $b, $tolerance) = @_;
	return 1 if !defined $a && !defined $b;
	return 0 if !defined $a || !defined $b;
	return 1 if $a eq $b;
	return 0 unless $tolerance && $a =~ /^-?[\d.e+-]+$/i && $b =~ /^-?[\d.e+-]+$/i;
	my $scale = abs($a) > abs($b) ? abs($a) : abs($b);
	return abs($a - $b) <= $tolerance * $scale;
}

sub row_key { return join("\x1f", map { defined $_ ? $_ : "\x00" } @{ $_[0] }); }

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
	my ($orig, $got) = ($l->[0], $s->[0]);
	if (!$q->{ordered})
	{
		$orig = [ sort { row_key($a) cmp row_key($b) } @$orig ];
		$got = [ sort { row_key($a) cmp row_key($b) } @$got ];
	}
	my $why;
	if (@$orig != @$got)
	{
		$why = scalar(@$orig) . ' rows, split gave ' . scalar(@$got);
	}
	else
	{
		ROW: for my $r (0 .. $#$orig)
		{
			for my $c (0 .. $#{ $orig->[$r] })
			{
				next if same_value($orig->[$r][$c], $got->[$r][$c], $q->{approx}[$c]);
				$why = "row $r column " . ($c + 1) . ': ' . ($orig->[$r][$c] // 'NULL')
				  . ' vs ' . ($got->[$r][$c] // 'NULL');
				last ROW;
			}
		}
	}
	push @mismatches, "$why: $q->{sql}" if defined $why;
}
my $errors = grep { $_ && $_->[1] } @$local;
diag(sprintf('split execution: seed %d, %d queries, %d split through the executor (%.1f%%), '
	  . '%d mismatches, %d failing both ways, split run %.1f s, total %.1f s',
	  $seed, $nqueries, $nsplit, 100 * $nsplit / $nqueries, scalar @mismatches, $errors,
	  $split_s, time - $started));
diag($_) for @mismatches[ 0 .. ($#mismatches < 9 ? $#mismatches : 9) ];
is(scalar @mismatches, 0, 'every query gives the same answer split as whole');
cmp_ok($nsplit / $nqueries, '>=', 0.9, 'at least 90% of the queries were split (decision log)');

done_testing();
