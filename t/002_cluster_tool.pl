# scripts/foresight-cluster: start, status, stop, and its error messages.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tool = "$ENV{PG_FORESIGHT_ROOT}/scripts/foresight-cluster";
my $dir = PostgreSQL::Test::Utils::tempdir();
my $port = PostgreSQL::Test::Cluster::get_free_port();
# the standby takes port+1: make sure it is free too
$port = PostgreSQL::Test::Cluster::get_free_port() while !port_free($port + 1);

sub port_free
{
	my ($p) = @_;
	return !IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p, Proto => 'tcp');
}
use IO::Socket::INET;

my ($stdout, $stderr);
my $bindir = $ENV{PG_FORESIGHT_BINDIR} // '';

ok(run_command_ok([ $tool, 'start', "$dir/c", '--standbys', '1', '--port', $port ]),
	'start a coordinator and one standby');
($stdout, $stderr) = run_command([ $tool, 'status', "$dir/c" ]);
like($stdout, qr/coordinator: running/, 'status: coordinator running');
like($stdout, qr/standby1: running/, 'status: standby running');
like($stdout, qr/standby1\s*\|\s*host='127\.0\.0\.1' port='${\ ($port + 1)}'/, 'standby registered as a node');
like($stdout, qr/standby1\s*\|\s*127\.0\.0\.1\s*\|\s*streaming/, 'standby streams');

# a second cluster on the same ports is refused
($stdout, $stderr) = run_command([ $tool, 'start', "$dir/other", '--port', $port ]);
like($stderr, qr/port $port on 127\.0\.0\.1 is busy/, 'busy port is reported');

# starting again is idempotent
ok(run_command_ok([ $tool, 'start', "$dir/c" ]), 'start again');
($stdout, $stderr) = run_command([ $tool, 'status', "$dir/c" ]);
is(() = $stdout =~ /\|\s*standby1\s*\|\s*host=/g, 1, 'standby registered once');

ok(run_command_ok([ $tool, 'stop', "$dir/c" ]), 'stop');
($stdout, $stderr) = run_command([ $tool, 'status', "$dir/c" ]);
like($stdout, qr/coordinator: stopped/, 'status after stop');

# bad arguments
($stdout, $stderr) = run_command([ $tool, 'frobnicate', $dir ]);
like($stderr, qr/unknown command "frobnicate"/, 'unknown command');
($stdout, $stderr) = run_command([ $tool, 'start' ]);
like($stderr, qr/start needs a directory/, 'missing directory');
($stdout, $stderr) = run_command([ $tool, 'start', "$dir/x", '--standbys', 'two' ]);
like($stderr, qr/--standbys must be a number/, 'bad --standbys');
($stdout, $stderr) = run_command([ $tool, 'start', "$dir/x", '--port', '80' ]);
like($stderr, qr/--port must be a number from 1024/, 'bad --port');
($stdout, $stderr) = run_command([ $tool, 'start', "$dir/x", '--bindir', '/nonexistent' ]);
like($stderr, qr/PostgreSQL binary "initdb" not found in "\/nonexistent"/, 'missing binary');
($stdout, $stderr) = run_command([ $tool, 'stop', "$dir/none" ]);
like($stderr, qr/no cluster in/, 'stop without cluster');

sub run_command_ok
{
	my ($cmd) = @_;
	my ($out, $err) = run_command($cmd);
	diag($err) if $err =~ /error/;
	return $err !~ /error/;
}

done_testing();
