#!/usr/bin/perl
# scripts/lib/oracle-copy-end.pl: end every data-less COPY ... FROM STDIN of
# a regression script with "\.", in place; used by
# scripts/pg-regress-oracle.sh on its copy of the suite.
#
#   perl oracle-copy-end.pl FILE...
#
# The suite is PostgreSQL 15.18's, whose scripts follow a COPY FROM STDIN
# that is meant to fail (no privilege, a bad option) directly by the next
# statement.  psql 15.20 (the client installed) skips the input after a
# failed COPY FROM STDIN up to the next "\.", so without this it skips
# whole pages of those tests (privileges, rowsecurity, triggers, copy2,
# ...) in both runs alike, which the oracle then never compares.  Later
# releases of the suite add the same "\." lines.  A COPY is taken as having
# no data when the line after it is empty (and no "\." follows the empty
# lines), a comment, a psql command or begins with an SQL command's
# keyword; a COPY whose data is there keeps it.
use strict;
use warnings;

my $keyword = qr/^(?:SELECT|INSERT|UPDATE|DELETE|COPY|CREATE|DROP|ALTER|BEGIN|COMMIT|ROLLBACK|SET|RESET|GRANT|REVOKE|TRUNCATE|EXPLAIN|PREPARE|EXECUTE|SAVEPOINT|RELEASE|VACUUM|ANALYZE|TABLE|VALUES|WITH|DO|CALL|LOCK|END|ABORT|START|SHOW|DEALLOCATE|DISCARD|COMMENT|REINDEX|CLUSTER|CHECKPOINT|FETCH|DECLARE|CLOSE|MOVE|REFRESH)\b/i;

for my $file (@ARGV)
{
	open my $in, '<', $file or die "$file: $!";
	my @lines = <$in>;
	close $in;
	my @out;
	for my $i (0 .. $#lines)
	{
		push @out, $lines[$i];
		# one statement on its line (not a "\;" list of them)
		next unless $lines[$i] =~ /^\s*COPY\b.*\bFROM\s+STDIN\b[^;]*[^\\;];\s*(--.*)?$/i
		  || $lines[$i] =~ /^\s*COPY\b.*\bFROM\s+STDIN\s*;\s*(--.*)?$/i;
		# empty lines are data when "\." follows them (an empty row)
		my $j = $i + 1;
		$j++ while $j <= $#lines && $lines[$j] =~ /^\s*$/;
		my $next = $j <= $#lines ? $lines[$j] : '';
		next if $next =~ /^\\\.\s*$/;
		push @out, "\\.\n"
		  if $j > $i + 1 || $next eq '' || $next =~ /^--/ || $next =~ /^\\/ || $next =~ $keyword;
	}
	open my $o, '>', $file or die "$file: $!";
	print $o @out;
	close $o;
}
