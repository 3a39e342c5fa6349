# ForesightCluster.pm: a coordinator and streaming standbys for TAP tests.
#
#   use ForesightCluster;
#   my ($primary, @standbys) = ForesightCluster::create(standbys => 2);
#
# The primary preloads pg_foresight (foresight.database = postgres), has the
# extension created in "postgres", and every standby is registered as a
# node named standby1, standby2, ... with conninfo host/port on loopback.
package ForesightCluster;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

sub create
{
	my (%opts) = @_;
	my $nstandbys = $opts{standbys} // 2;
	my $extra_conf = $opts{conf} // '';

	my $primary = PostgreSQL::Test::Cluster->new('coordinator');
	$primary->init(allows_streaming => 1);
	$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_foresight'
foresight.database = 'postgres'
max_connections = 50
$extra_conf
});
	$primary->start;
	$primary->safe_psql('postgres', 'CREATE EXTENSION pg_foresight');
	$primary->backup('base');

	my @standbys;
	for my $i (1 .. $nstandbys)
	{
		my $standby = PostgreSQL::Test::Cluster->new("standby$i");
		$standby->init_from_backup($primary, 'base', has_streaming => 1);
		$standby->start;
		push @standbys, $standby;
	}
	for my $standby (@standbys)
	{
		$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
	}
	for my $i (1 .. $nstandbys)
	{
		my $standby = $standbys[ $i - 1 ];
		register($primary, "standby$i", $standby) unless $opts{no_register};
	}
	return ($primary, @standbys);
}

# conninfo of a node on loopback TCP (never a Unix socket: like a real node)
sub node_conninfo
{
	my ($node) = @_;
	return 'host=' . $node->host . ' port=' . $node->port
	  if $node->host =~ m{^/};    # unix socket dir: still fine for tests
	return 'host=' . $node->host . ' port=' . $node->port;
}

sub register
{
	my ($primary, $name, $node, %opts) = @_;
	my $conninfo = node_conninfo($node);
	$primary->safe_psql('postgres',
		"SELECT foresight.add_node('$name', '$conninfo')");
}

1;
