#!/usr/bin/perl
# scripts/lib/oracle-split-verdict.pl: how one test's output differs when
# its reads are split (scripts/pg-regress-oracle.sh --split), from the two
# runs' masked outputs.
#
#   perl oracle-split-verdict.pl LOCAL ROUTED
#
# A split read may show two differences a client can tell
# (docs/sharding.md, "What a split read sees"): its plan (EXPLAIN shows the
# split scan) and, without an ORDER BY, the order of its rows.  So the
# results of EXPLAIN are left out of both outputs (from a "QUERY PLAN"
# header to its row count), and the lines left are compared in order, then
# as multisets.  Prints one word:
#   plans    equal but for the plans
#   order    equal but for the plans and the order of lines
#   values   some line of one is not in the other: a wrong answer, an
#            error of one run only, another column name...
use strict;
use warnings;

sub lines_without_plans
{
	my ($file) = @_;
	my (@lines, $in_plan);

	open(my $fh, '<', $file) or die "$file: $!\n";
	while (my $line = <$fh>)
	{
		if ($in_plan)
		{
			$in_plan = 0 if $line =~ /^\(\d+ rows?\)$/;
			next;
		}
		if ($line =~ /^\s*QUERY PLAN\s*$/)
		{
			$in_plan = 1;
			next;
		}
		push @lines, $line;
	}
	close($fh);
	return @lines;
}

die "usage: $0 LOCAL ROUTED\n" unless @ARGV == 2;
my @local = lines_without_plans($ARGV[0]);
my @routed = lines_without_plans($ARGV[1]);
my $same = join('', @local) eq join('', @routed);
my $permuted = join('', sort @local) eq join('', sort @routed);
print $same ? "plans\n" : $permuted ? "order\n" : "values\n";
