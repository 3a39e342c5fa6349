# Every GUC, SQL function, view and error message of the extension is in
# docs/: each setting defined in src/, each function and view the scripts
# of sql/ create, and each errmsg() of an ERROR, FATAL or WARNING raised
# in src/ (its longest literal piece, format directives aside) appears in
# some page of docs/.  Reads the sources; starts no server.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use File::Find;
use Test::More;

my $root = $ENV{PG_FORESIGHT_ROOT} // '.';

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "could not open $path: $!";
	local $/;
	my $text = <$fh>;
	close($fh);
	return $text;
}

sub files_under
{
	my ($dir, $pattern) = @_;
	my @found;
	find(sub { push @found, $File::Find::name if /$pattern/ }, $dir);
	return sort @found;
}

# the documentation, whitespace folded so that a line break matches a space
my $docs = join("\n", map { slurp($_) } files_under("$root/docs", qr/\.md$/));
$docs =~ s/\s+/ /g;
ok(length($docs) > 100_000, 'the documentation is found');

# the module's C sources: unit tests, fuzzers and benchmarks aside
my @sources = grep { !m{/(test|fuzz)/} } files_under("$root/src", qr/\.c$/);
ok(@sources > 50, 'the sources are found (' . scalar(@sources) . ' files)');
my %source = map { $_ => slurp($_) } @sources;

# settings
my %gucs;
for my $text (values %source)
{
	$gucs{$1} = 1 while $text =~ /DefineCustom\w+Variable\(\s*"([a-z_.]+)"/g;
}
ok(keys(%gucs) > 30, 'the settings are found (' . scalar(keys %gucs) . ')');
my @missing = grep { index($docs, $_) < 0 } sort keys %gucs;
is_deeply(\@missing, [], 'every setting is documented');

# functions and views of every version's script
my %objects;
for my $script (files_under("$root/sql", qr/\.sql$/))
{
	my $text = slurp($script);
	$objects{$1} = 1
	  while $text =~ /CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE|VIEW|AGGREGATE)\s+foresight\.(\w+)/gi;
}
ok(keys(%objects) > 40, 'the functions and views are found (' . scalar(keys %objects) . ')');
@missing = grep { $docs !~ /\b\Q$_\E\b/ } sort keys %objects;
is_deeply(\@missing, [], 'every function and view is documented');

# errors: the longest piece of each message between format directives
my ($messages, @undocumented) = (0);
for my $file (sort keys %source)
{
	my $text = $source{$file};
	while ($text =~ /ereport\(\s*(?:ERROR|FATAL|WARNING)\s*,(.*?)\)\s*\)\s*;/gs)
	{
		my $body = $1;
		next unless $body =~ /errmsg\(\s*"((?:[^"\\]|\\.)*)"/;
		my $message = $1;
		$messages++;
		my @pieces = sort { length($b) <=> length($a) }
		  grep { length($_) > 12 }
		  map { s/^\s+|\s+$//gr } split(/%[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t|L)?[a-zA-Z]|\\"/, $message);
		next unless @pieces;
		(my $rel = $file) =~ s{^\Q$root\E/}{};
		push @undocumented, "$rel: $message" if index($docs, $pieces[0]) < 0;
	}
}
ok($messages > 100, "the error messages are found ($messages)");
is_deeply(\@undocumented, [], 'every error message is documented');

done_testing();
