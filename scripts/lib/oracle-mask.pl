#!/usr/bin/perl
# scripts/lib/oracle-mask.pl: mask, in a pg_regress results file, what a
# client may legitimately see differ when its reads are routed
# (docs/routing.md, "What a client can tell"); used by
# scripts/pg-regress-oracle.sh on both runs' outputs alike.
#
#   perl oracle-mask.pl FILE > MASKED
#
# 1. EXPLAIN (text format): the "Foresight Route" custom scan and its own
#    properties (Route, Remote SQL, ...) are removed and its child plan is
#    put in its place, so a routed plan reads as the local plan it wraps.
#    EXPLAIN ANALYZE's per-node counters ("(actual rows=... loops=...)",
#    "(never executed)") are removed, and so are the lines that only
#    EXPLAIN ANALYZE prints, counted while a node runs ("Rows Removed by
#    Filter: 9", "Heap Fetches", "Sort Method", a hash's "Buckets", a
#    memoize's "Hits", "Workers Launched", "Buffers", ...): a routed query
#    runs on the node, so the local plan's nodes are not executed here.  The result's header
#    width and row count are recomputed from the masked plan.
# 2. The CONTEXT line that names the node a routed query ran on, and the
#    remote SQL it quotes.
use strict;
use warnings;

# the first words of a property line that EXPLAIN ANALYZE prints from what
# the node counted while it ran (explain.c: show_instrumentation_count,
# show_sort_info, show_hash_info, show_memoize_info, show_hashagg_info,
# show_tidbitmap_info, show_buffer_usage, the workers' lines)
my $execution_counter = qr/(?:Rows Removed by (?:Filter|Join Filter|Index Recheck|Conflict Filter)|Heap Fetches|Heap Blocks|Sort Method|Sort Space|Full-sort Groups|Pre-sorted Groups|Buckets|Batches|Hits|Cache Hits|Peak Memory Usage|Memory Usage|Disk Usage|Workers Launched|Worker \d+|Buffers|I\/O Timings):/;

my @lines = <>;
chomp @lines;
my @out;

my $i = 0;
while ($i < @lines)
{
	# an EXPLAIN result: a centred "QUERY PLAN" header, dashes, plan lines,
	# "(N rows)"
	if ($lines[$i] =~ /^\s*QUERY PLAN\s*$/ && $i + 1 < @lines && $lines[$i + 1] =~ /^-+$/)
	{
		my $j = $i + 2;
		my @plan;
		while ($j < @lines && $lines[$j] !~ /^\(\d+ rows?\)$/)
		{
			push @plan, $lines[$j];
			$j++;
		}
		@plan = unwrap_routes(@plan);
		s/ \(actual rows=\d+ loops=\d+\)//, s/ \(never executed\)// for @plan;
		@plan = grep { !/^\s*$execution_counter/ } @plan;
		push @out, 'QUERY PLAN', '----------', @plan;
		if ($j < @lines)
		{
			push @out, '(' . scalar(@plan) . (@plan == 1 ? ' row)' : ' rows)');
			$j++;
		}
		$i = $j;
		next;
	}
	push @out, $lines[$i];
	$i++;
}

# the context line naming the node and its remote SQL, which the deparser
# may spread over several lines (indented, but for the keywords between
# the arms of a set operation, "UNION ALL" alone on its line; psql's echo
# of the next statement, or its next output, starts in the first column)
my @kept;
my $in_context = 0;
for my $l (@out)
{
	if ($l =~ /^(CONTEXT:  )?remote (query|SQL command) on node "[^"]*"/)
	{
		$in_context = 1;
		next;
	}
	next if $in_context && ($l =~ /^[ \t]/ || $l =~ /^(UNION|INTERSECT|EXCEPT)( ALL)?$/);
	$in_context = 0;
	push @kept, $l;
}
@out = @kept;

print "$_\n" for @out;

sub indent_of
{
	my ($l) = @_;
	$l =~ /^( *)/;
	return length $1;
}

# Replace every "Custom Scan (Foresight Route)" by its child plan.
sub unwrap_routes
{
	my @p = @_;
	my @r;
	my $k = 0;
	while ($k < @p)
	{
		my $l = $p[$k];
		if ($l !~ /^( *)(->  )?Custom Scan \(Foresight Route\)/)
		{
			push @r, $l;
			$k++;
			next;
		}
		my $lead = $1 . (defined $2 ? $2 : '');
		my $c = length $lead;	# column where "Custom Scan" starts
		$k++;
		# its properties: lines up to its child ("->  " at column c + 2)
		while ($k < @p && !($p[$k] =~ /^ {$c}  ->  / && indent_of($p[$k]) == $c + 2))
		{
			last if indent_of($p[$k]) <= $c - 1 && $p[$k] !~ /^\s*$/;
			$k++;
		}
		last if $k >= @p;
		next if indent_of($p[$k]) != $c + 2;
		# the child takes the route node's place, its subtree moves left by 6
		(my $child = $p[$k]) =~ s/^ {$c}  ->  //;
		push @r, $lead . $child;
		$k++;
		while ($k < @p && indent_of($p[$k]) > $c + 2)
		{
			push @r, substr($p[$k], 6);
			$k++;
		}
	}
	# a route node inside the child (never, today) would be unwrapped too
	return (grep { /Custom Scan \(Foresight Route\)/ } @r) ? unwrap_routes(@r) : @r;
}
