# Extension versions: a database created at 0.1 and updated with ALTER
# EXTENSION has exactly the objects, result columns, comments and grants of
# a fresh install; before the update, a function whose columns changed
# fails with a clear error instead of misreading the library's rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_foresight'
foresight.database = 'postgres'
});
$node->start;

$node->safe_psql('postgres', "CREATE EXTENSION pg_foresight VERSION '0.1'");
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.1', 'created at 0.1');

# the 0.1 declaration of decision_list() has one column fewer than the library
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT count(*) FROM foresight.routing_decisions');
isnt($ret, 0, 'reading the decision log before the update fails');
like($stderr, qr/function foresight\.decision_list\(\) is declared with 14 result columns, but the pg_foresight library returns 15/,
	'with the declared and returned column counts');
like($stderr, qr/HINT:  Run ALTER EXTENSION pg_foresight UPDATE\./, 'and the hint to update');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server did not crash');

$node->safe_psql('postgres', 'ALTER EXTENSION pg_foresight UPDATE');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'pg_foresight'"),
	'0.2', 'updated to 0.2');

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION pg_foresight');

# everything that makes up the extension, described by name
my %catalogue = (
	'member objects' => q{
		SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
		FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
		WHERE e.extname = 'pg_foresight' AND d.deptype = 'e' ORDER BY 1},
	'functions: results, properties, grants, comments' => q{
		SELECT p.oid::regprocedure, pg_get_function_result(p.oid), p.provolatile, p.proisstrict,
		       p.prosecdef, p.proacl, obj_description(p.oid, 'pg_proc')
		FROM pg_proc p WHERE p.pronamespace = 'foresight'::regnamespace ORDER BY p.oid::regprocedure::text},
	'relations: kinds, grants, comments, view definitions' => q{
		SELECT c.relname, c.relkind, c.relacl, obj_description(c.oid, 'pg_class'),
		       CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END
		FROM pg_class c WHERE c.relnamespace = 'foresight'::regnamespace ORDER BY 1},
	'columns' => q{
		SELECT c.relname, a.attnum, a.attname, a.atttypid::regtype, a.attnotnull
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		WHERE c.relnamespace = 'foresight'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY 1, 2},);
for my $what (sort keys %catalogue)
{
	my $updated = $node->safe_psql('postgres', $catalogue{$what});
	my $fresh = $node->safe_psql('fresh', $catalogue{$what});
	ok($fresh ne '', "$what: a fresh install has some");
	is($updated, $fresh, "$what: updated from 0.1 = fresh 0.2");
}

like($node->safe_psql('postgres', 'SELECT count(*) >= 0 FROM foresight.routing_decisions'), qr/^t$/,
	'after the update the decision log reads');

done_testing();
