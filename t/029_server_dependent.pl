# Reads whose answer depends on which server answers are never routed:
# functions naming the server, its transaction counters, settings or
# session_user; statistics views; a sequence read as a relation; and,
# while the session has a temporary schema, whatever resolves or prints
# names through it (current_schemas(true), to_regclass, ::regclass, reg*
# values, has_*_privilege by name), temporary types and functions, and
# user functions whose bodies could read temporary tables.  Each answers
# as locally; route_explain says why.  Also: the stable functions of
# pg_catalog are exactly the ones reviewed for docs/routing.md.
# parallel-safe: asserts no timing, so scripts/test.sh runs it beside another test
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(standbys => 2);
my $route = "SET foresight.routing_policy = round_robin; SET foresight.include_local = off;";
my $local = "SET foresight.routing_policy = local;";

$primary->safe_psql('postgres', q{
CREATE FUNCTION node_port() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_setting('port') $$;
CREATE TABLE shadow (id integer);
INSERT INTO shadow VALUES (1), (2), (3);
CREATE TABLE plain (id integer);
INSERT INTO plain VALUES (1);
CREATE SEQUENCE seq;
SELECT nextval('seq');
CREATE FUNCTION count_tmp() RETURNS bigint LANGUAGE plpgsql STABLE
	AS $$ BEGIN RETURN (SELECT count(*) FROM tmp); END $$;
CREATE FUNCTION plus1(integer) RETURNS integer LANGUAGE sql STABLE AS 'SELECT $1 + 1';
CREATE ROLE someone LOGIN;
GRANT SELECT ON plain TO someone;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);

# reason route_explain gives for $sql after $prefix, in one session
sub reason
{
	my ($sql, $prefix) = @_;
	$prefix //= '';
	$sql =~ s/'/''/g;
	my @lines = split /\n/, $primary->safe_psql('postgres',
		"$route $prefix SELECT node || ' | ' || reason FROM foresight.route_explain('$sql')");
	return $lines[-1];
}

# the last statement's output, routed and locally, in sessions set up by
# $prefix; and, as reason() gives it, the route the routed session's
# route_explain() found for it just before
sub routed_and_local
{
	my ($sql, $prefix) = @_;
	$prefix //= '';
	(my $quoted = $sql) =~ s/'/''/g;
	my @r = split /\n/, $primary->safe_psql('postgres', "$route $prefix\n"
		  . "SELECT 'route: ' || node || ' | ' || reason FROM foresight.route_explain('$quoted');\n$sql");
	my @l = split /\n/, $primary->safe_psql('postgres', "$local $prefix\n$sql");
	my ($reason) = reverse map { /^route: (.*)$/ ? $1 : () } @r;
	return ($r[-1] // '', $l[-1] // '', $reason // '');
}

sub not_routed
{
	my ($sql, $why, $prefix) = @_;
	my ($r, $l, $reason) = routed_and_local($sql, $prefix);
	like($reason, qr/^local \| \Q$why\E/, "not routed: $sql");
	is($r, $l, "answers as locally: $sql");
}

sub routed
{
	my ($sql, $prefix) = @_;
	like(reason($sql, $prefix), qr/^standby[12] \| /, "routed: $sql");
}

# ---- functions that answer for the server that runs them
my $xact = 'calls a function that must run on this server';
my $ident = 'calls a function that names the server that runs it';
my $state = "reads this server's own state";
for my $case (
	[ 'SELECT pg_backend_pid() > 0', $xact ],
	[ 'SELECT txid_current_snapshot() IS NOT NULL', $xact ],
	[ 'SELECT pg_current_snapshot() IS NOT NULL', $xact ],
	[ 'SELECT max(age(datfrozenxid)) >= 0 FROM pg_database', $xact ],
	[ 'SELECT max(mxid_age(datminmxid)) >= 0 FROM pg_database', $xact ],
	[ 'SELECT pg_is_in_recovery()', $xact ],
	[ 'SELECT inet_server_port() IS NULL', $ident ],
	[ 'SELECT inet_server_addr() IS NULL', $ident ],
	[ 'SELECT version() = version()', $ident ],
	[ 'SELECT pg_postmaster_start_time() < now()', $ident ],
	[ 'SELECT pg_conf_load_time() < now()', $ident ],
	[ "SELECT current_setting('transaction_read_only')", 'reads a setting with current_setting()' ],
	[ 'SELECT pg_current_wal_lsn() IS NOT NULL', 'calls a volatile function' ],
	[ 'SELECT count(*) >= 0 FROM pg_stat_user_tables', $state ],
	[ 'SELECT count(*) > 0 FROM pg_stat_activity', $state ],
	[ 'SELECT sum(numbackends) > 0 FROM pg_stat_database', $state ],
	[ 'SELECT count(*) >= 0 FROM pg_locks', 'calls a volatile function' ],
	[ 'SELECT count(*) >= 0 FROM pg_prepared_statements', $state ],
	[ "SELECT setting FROM pg_settings WHERE name = 'port'", $state ],
	[ 'SELECT last_value FROM pg_sequences WHERE sequencename = \'seq\'', $state ],
	[ 'SELECT last_value, log_cnt, is_called FROM seq', 'reads a sequence relation' ],
  )
{
	not_routed(@$case);
}
# session_user: the node session has this session's session user and role
# (t/023), so it routes and answers as here
for my $sql ('SELECT session_user', 'SELECT session_user::text, current_user::text FROM plain')
{
	my ($r, $l, $reason) = routed_and_local($sql, 'SET ROLE someone;');
	like($reason, qr/^standby[12] \| /, "routed: $sql");
	is($r, $l, "answers as locally: $sql");
}

# without a temporary schema, names resolve the same on a node
routed("SELECT to_regclass('shadow')");
routed("SELECT 'shadow'::regclass::oid > 0");
routed("SELECT has_table_privilege('shadow', 'SELECT')");
routed("SELECT plus1(id) FROM plain");
routed("SELECT current_schemas(false)");
routed("SELECT count_tmp() IS NULL FROM plain WHERE false");

# ---- a session with a temporary schema
my $tmp = 'CREATE TEMP TABLE tmp (a integer); INSERT INTO tmp VALUES (1), (2);'
  . ' CREATE TEMP TABLE shadow (id integer);'
  . ' CREATE FUNCTION pg_temp.tf() RETURNS integer LANGUAGE sql STABLE AS $$ SELECT 42 $$;';
my $names = 'resolves or prints object names while this session has a temporary schema';
not_routed('SELECT current_schemas(true)', $names, $tmp);
not_routed('SELECT current_schema', $names, "SET search_path = pg_temp, public; $tmp");
# a session with pg_temp in its search_path but no temporary schema yet:
# current_schema() makes one (here; on a node it would fail)
not_routed("SELECT current_schema() ~ 'pg_temp'", $names, "SET search_path = pg_temp;");
not_routed("SELECT current_schemas(true)", $names, "SET search_path = pg_temp, public;");
not_routed("SELECT to_regclass('shadow')::oid = 'shadow'::regclass::oid", $names, $tmp);
not_routed("SELECT to_regclass('tmp') IS NOT NULL", $names, $tmp);
not_routed("SELECT 'public.shadow'::regclass", $names, $tmp);
not_routed("SELECT c.oid::regclass FROM pg_class c WHERE relname = 'shadow' ORDER BY 1", $names, $tmp);
not_routed("SELECT has_table_privilege('tmp', 'SELECT')", $names, $tmp);
not_routed("SELECT format_type(oid, NULL) FROM pg_type WHERE typname = 'shadow' ORDER BY 1", $names, $tmp);
not_routed('SELECT count(*) FROM shadow', 'reads a temporary table', $tmp);
not_routed('SELECT NULL::tmp IS NULL', 'uses a temporary type, function or operator', $tmp);
not_routed('SELECT pg_temp.tf()', 'uses a temporary type, function or operator', $tmp);
not_routed('SELECT count_tmp() FROM plain', 'calls a user-defined function while this session has a temporary schema', $tmp);
not_routed('SELECT pg_my_temp_schema() <> 0', $xact, $tmp);
# what does not depend on the temporary schema still routes
routed('SELECT count(*) FROM public.shadow', $tmp);
routed('SELECT id FROM plain', $tmp);
routed('SELECT lower(relname) FROM pg_class WHERE oid = 1259', $tmp);
routed("SELECT has_database_privilege('postgres', 'CONNECT')", $tmp);

# ---- the stable functions of pg_catalog not named pg_* are the ones
# reviewed for docs/routing.md ("Functions that answer for the server");
# a new one must be classified there (and in eligibility.c) first
my $reviewed = join(' ', map { split ' ' } <DATA>);
my $now = $primary->safe_psql('postgres', q{
SELECT string_agg(proname, ' ' ORDER BY proname)
  FROM (SELECT DISTINCT proname FROM pg_proc
         WHERE pronamespace = 'pg_catalog'::regnamespace AND provolatile = 's'
           AND proname !~ '^pg_') f});
is($now, $reviewed, 'the stable functions of pg_catalog are the reviewed ones');

done_testing();

__DATA__
aclexplode aclitemin aclitemout age anyarray_out anyarray_recv
anyarray_send anycompatiblearray_out anycompatiblearray_recv
anycompatiblearray_send anycompatiblemultirange_in
anycompatiblemultirange_out anycompatiblerange_in anycompatiblerange_out
anyenum_out anymultirange_in anymultirange_out anyrange_in anyrange_out
anytextcat areajoinsel areasel array_in array_out array_recv array_send
array_to_json array_to_string array_typanalyze arraycontjoinsel
arraycontsel bpcharrecv bpcharsend brin_bloom_summary_recv
brin_bloom_summary_send brin_minmax_multi_summary_recv
brin_minmax_multi_summary_send cash_in cash_out col_description concat
concat_ws contjoinsel contsel convert convert_from convert_to cstring_recv
cstring_send current_database current_schema current_schemas
current_setting current_user database_to_xml database_to_xml_and_xmlschema
database_to_xmlschema date date_cmp_timestamptz date_eq_timestamptz
date_ge_timestamptz date_gt_timestamptz date_in date_le_timestamptz
date_lt_timestamptz date_ne_timestamptz date_out date_part date_trunc
domain_in domain_recv enum_first enum_in enum_last enum_out enum_range
enum_recv enum_send eqjoinsel eqsel extract fmgr_c_validator
fmgr_internal_validator fmgr_sql_validator format format_type
generate_series get_current_ts_config getdatabaseencoding getpgusername
has_any_column_privilege has_column_privilege has_database_privilege
has_foreign_data_wrapper_privilege has_function_privilege
has_language_privilege has_parameter_privilege has_schema_privilege
has_sequence_privilege has_server_privilege has_table_privilege
has_tablespace_privilege has_type_privilege iclikejoinsel iclikesel
icnlikejoinsel icnlikesel icregexeqjoinsel icregexeqsel icregexnejoinsel
icregexnesel in_range inet_client_addr inet_client_port inet_server_addr
inet_server_port interval_in interval_out interval_pl_timestamptz json_agg
json_agg_transfn json_build_array json_build_object json_object_agg
json_object_agg_transfn json_populate_record json_populate_recordset
json_to_record json_to_recordset json_to_tsvector jsonb_agg
jsonb_agg_finalfn jsonb_agg_transfn jsonb_build_array jsonb_build_object
jsonb_object_agg_finalfn jsonb_object_agg_transfn jsonb_path_exists_tz
jsonb_path_match_tz jsonb_path_query_array_tz jsonb_path_query_first_tz
jsonb_path_query_tz jsonb_populate_record jsonb_populate_recordset
jsonb_to_record jsonb_to_recordset jsonb_to_tsvector length likejoinsel
likesel make_timestamptz matchingjoinsel matchingsel money multirange_in
multirange_out multirange_recv multirange_send multirange_typanalyze
multirangesel mxid_age namerecv namesend neqjoinsel neqsel networkjoinsel
networksel nlikejoinsel nlikesel now numeric obj_description oidvectortypes
overlaps phraseto_tsquery plainto_tsquery positionjoinsel positionsel
prefixjoinsel prefixsel quote_literal quote_nullable range_in range_out
range_recv range_send range_typanalyze rangesel record_in record_out
record_recv record_send regclass regclassin regclassout regcollationin
regcollationout regconfigin regconfigout regdictionaryin regdictionaryout
regexeqjoinsel regexeqsel regexnejoinsel regexnesel regnamespacein
regnamespaceout regoperatorin regoperatorout regoperin regoperout
regprocedurein regprocedureout regprocin regprocout regrolein regroleout
regtypein regtypeout row_security_active row_to_json scalargejoinsel
scalargesel scalargtjoinsel scalargtsel scalarlejoinsel scalarlesel
scalarltjoinsel scalarltsel schema_to_xml schema_to_xml_and_xmlschema
schema_to_xmlschema session_user shobj_description statement_timestamp
table_to_xml table_to_xml_and_xmlschema table_to_xmlschema textanycat
textrecv textsend time time_in timestamp timestamp_cmp_timestamptz
timestamp_eq_timestamptz timestamp_ge_timestamptz timestamp_gt_timestamptz
timestamp_in timestamp_le_timestamptz timestamp_lt_timestamptz
timestamp_ne_timestamptz timestamp_out timestamptz timestamptz_cmp_date
timestamptz_cmp_timestamp timestamptz_eq_date timestamptz_eq_timestamp
timestamptz_ge_date timestamptz_ge_timestamp timestamptz_gt_date
timestamptz_gt_timestamp timestamptz_in timestamptz_le_date
timestamptz_le_timestamp timestamptz_lt_date timestamptz_lt_timestamp
timestamptz_mi_interval timestamptz_ne_date timestamptz_ne_timestamp
timestamptz_out timestamptz_pl_interval timetz timetz_in timezone to_char
to_date to_json to_jsonb to_number to_regclass to_regcollation
to_regnamespace to_regoper to_regoperator to_regproc to_regprocedure
to_regrole to_regtype to_timestamp to_tsquery to_tsvector
transaction_timestamp ts_debug ts_headline ts_match_tq ts_match_tt ts_parse
ts_token_type ts_typanalyze tsmatchjoinsel tsmatchsel txid_current
txid_current_if_assigned txid_current_snapshot varcharrecv varcharsend
version websearch_to_tsquery xml xml_in xml_is_well_formed xml_recv xml_send
