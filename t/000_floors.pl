# The folders of src/ depend on each other one way only: a file includes
# headers of its own floor and of the floors below (docs/architecture.md,
# "Floors"), and no C file of src/ is over 800 lines (generated protobuf
# code aside).  Reads the source; starts no server.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use File::Find;
use Test::More;

my $root = $ENV{PG_FORESIGHT_ROOT} // '.';
my %floor = (
	core => 0,
	registry => 1, forecast => 1, abtest => 1, capacity => 1, blockscan => 1,
	stats => 2,
	predict => 3, remote => 3,
	monitor => 4,
	split => 5,
	router => 6,
	'pg_foresight.c' => 7, 'pg_foresight.h' => 7);

my @files;
find(
	sub {
		return unless /\.[ch]$/ && !/\.pb-c\.[ch]$/;
		# unit tests, fuzzers and benchmarks are not part of the module
		return if $File::Find::dir =~ m{/(test|fuzz)(/|$)};
		push @files, $File::Find::name;
	},
	"$root/src");
ok(@files > 50, 'the sources are found (' . scalar(@files) . ' files)');

my @upward;
my @unknown;
for my $file (sort @files)
{
	(my $rel = $file) =~ s{^\Q$root\E/src/}{};
	my $folder = $rel =~ m{^([^/]+)/} ? $1 : $rel;
	my $from = $floor{$folder};
	if (!defined $from)
	{
		push @unknown, $rel;
		next;
	}
	open my $fh, '<', $file or die "$file: $!";
	while (my $line = <$fh>)
	{
		next unless $line =~ /^\s*#\s*include\s+"([^"]+)"/;
		my $inc = $1;
		my $to_folder = $inc =~ m{^([^/]+)/} ? $1 : $inc;
		# the server's own headers (nodes/, utils/, ...) and same-folder ones
		next unless -e "$root/src/$inc";
		my $to = $floor{$to_folder};
		push @upward, "$rel includes $inc (floor $from -> " . ($to // '?') . ')'
		  if !defined $to || $to > $from;
	}
	close $fh;
}
is_deeply(\@unknown, [], 'every folder of src/ has its floor (add a new one here and in docs/architecture.md)');
is_deeply(\@upward, [], 'no file includes a header of a floor above its own');

my @long;
for my $file (grep { /\.c$/ } @files)
{
	open my $fh, '<', $file or die "$file: $!";
	my $n = () = <$fh>;
	close $fh;
	push @long, "$file: $n lines" if $n > 800;
}
is_deeply(\@long, [], 'no C file of src/ is over 800 lines');

done_testing();
