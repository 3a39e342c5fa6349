# Live models fed by the monitor: predictions for every node, a load on one
# standby raising its predicted load above the other's, a session's own
# copies of predictions and samples following new ones, the models view,
# retrain(), samples without a load skipped and counted but never reaching
# a model, and models kept across a restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => $ForesightCluster::FAST_MODELS);

# predictions for local, standby1 and standby2, trained models for each
ok($primary->poll_query_until('postgres',
	"SELECT count(DISTINCT node_name) = 3 AND bool_and(fitted) FROM foresight.predictions WHERE request_class = 'all'"),
	'a trained node-level prediction for every node');
is($primary->safe_psql('postgres',
	"SELECT bool_and(predicted_load BETWEEN 0 AND 1) AND bool_and(horizon = '1s') FROM foresight.predictions"),
	't', 'predictions are loads in [0,1] over the horizon');

# A backend keeps its own copies of the predictions and latest samples it
# read, re-read when the writers' generation has moved (live_models.c,
# history.c): within one session, a second read a second later (five
# samples at 200 ms) sees newer ones, not the copies of the first.
my ($samples0, $sampled0, $samples1, $sampled1) = split /\n/, $primary->safe_psql('postgres', q{
	SELECT samples FROM foresight.predictions WHERE node_name = 'local' AND request_class = 'all';
	SELECT sampled_at FROM foresight.node_metrics WHERE node_name = 'local';
	DO $$ BEGIN PERFORM pg_sleep(1); END $$;
	SELECT samples FROM foresight.predictions WHERE node_name = 'local' AND request_class = 'all';
	SELECT sampled_at FROM foresight.node_metrics WHERE node_name = 'local';});
cmp_ok($samples1, '>', $samples0, 'one session reads a newer prediction after new samples');
isnt($sampled1, $sampled0, 'and a newer latest sample');
is($primary->safe_psql('postgres', q{
	SELECT bool_and(cardinality(models) >= 4 AND cardinality(models) = cardinality(weights)
	                AND cardinality(models) = cardinality(forecasts))
	       AND abs(sum((SELECT sum(w) FROM unnest(weights) w)) / count(*) - 1) < 1e-6
	FROM foresight.predictions WHERE request_class = 'all'}),
	't', 'every prediction lists its members; the blend weights sum to 1');
like($primary->safe_psql('postgres',
	"SELECT string_agg(DISTINCT model, ',' ORDER BY model) FROM foresight.models WHERE node_name = 'standby1'"),
	qr/^blend,holt_damped,.*lstm.*naive,ses/, 'the models view shows the blend and its members');
is($primary->safe_psql('postgres', q{
	SELECT bool_and(parameters ? 'alpha') FROM foresight.models
	WHERE model IN ('ses', 'holt_damped') AND node_name = 'standby1'}),
	't', 'smoothing members show their fitted parameters');

# a CPU-heavy load on standby1 only
$primary->safe_psql('postgres', 'CREATE TABLE big AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 200000) g');
ForesightCluster::catch_up($primary, $standby1);
my @load;
for my $i (1 .. 3)
{
	push @load, IPC::Run::start(
		[ 'psql', '-X', '-q', '-d', $standby1->connstr('postgres'), '-c',
		  "SELECT count(*) FROM big a, big b WHERE a.id % 1000 = b.id % 1000 AND a.id < 60000 AND b.id < 60000" ],
		'>', '/dev/null', '2>', '/dev/null');
}
ok($primary->poll_query_until('postgres', q{
	SELECT (SELECT predicted_load FROM foresight.predictions WHERE node_name = 'standby1' AND request_class = 'all')
	     > (SELECT predicted_load FROM foresight.predictions WHERE node_name = 'standby2' AND request_class = 'all') + 0.2}),
	'the loaded standby is predicted busier than the idle one');
$_->kill_kill for @load;

# retrain() wakes the trainer, which retrains every model
my $before = $primary->safe_psql('postgres',
	"SELECT max(last_trained) FROM foresight.models WHERE node_name = 'standby2'");
$primary->safe_psql('postgres', 'SELECT foresight.retrain()');
ok($primary->poll_query_until('postgres',
	"SELECT min(last_trained) > '$before' FROM foresight.models WHERE node_name = 'standby2'"),
	'retrain() retrains');

# A sample without a load is skipped and counted.  The genuine path: a node
# whose foresight.node_snapshot() answers a valid NodeSnapshot carrying none
# of the load signal's components (here only its version: no CPU, backend,
# pressure or latency field, as from a node that could read none of them).
# The monitor decodes it, the sample's load is absent (NULL in
# node_metrics), and live_models_observe() gets a NaN.  Standbys are
# read-only, so the function is replaced on the primary; it answers the
# empty snapshot on standby1 only and the real one elsewhere, so standby2
# is the control.  The coordinator samples itself in-process.
my $port1 = $standby1->port;
sub series_value
{
	my ($view, $column, $node_name) = @_;
	my $model = $view eq 'models' ? " AND model = 'blend'" : '';
	return $primary->safe_psql('postgres',
		"SELECT $column FROM foresight.$view WHERE node_name = '$node_name' AND request_class = 'all'$model");
}
sub prediction_sane
{
	my ($node_name) = @_;
	return $primary->safe_psql('postgres', qq{
		SELECT fitted AND predicted_load BETWEEN 0 AND 1
		       AND NOT EXISTS (SELECT 1 FROM unnest(forecasts || weights) v
		                       WHERE v IS NULL OR v IN ('NaN', 'Infinity', '-Infinity'))
		FROM foresight.predictions WHERE node_name = '$node_name' AND request_class = 'all'});
}
is(series_value('models', 'skipped_samples', 'standby1'), '0', 'no sample skipped so far');

$primary->safe_psql('postgres', qq{
	CREATE FUNCTION foresight.real_node_snapshot() RETURNS bytea
		AS '\$libdir/pg_foresight', 'foresight_node_snapshot' LANGUAGE C VOLATILE;
	CREATE OR REPLACE FUNCTION foresight.node_snapshot() RETURNS bytea
		LANGUAGE sql VOLATILE PARALLEL RESTRICTED
		AS \$\$ SELECT CASE WHEN current_setting('port') = '$port1'
		             THEN '\\x0801'::bytea   -- field 1 (version) = 1, nothing else
		             ELSE foresight.real_node_snapshot() END \$\$;
});
ForesightCluster::catch_up($primary, $standby1, $standby2);
ok($primary->poll_query_until('postgres', q{
	SELECT skipped_samples >= 5 FROM foresight.models
	WHERE node_name = 'standby1' AND request_class = 'all' AND model = 'blend'}),
	'samples without a load are counted in foresight.models.skipped_samples');
is($primary->safe_psql('postgres', q{
	SELECT source || ':' || (load IS NULL) || ':' || status
	FROM foresight.node_metrics JOIN foresight.node_health USING (node_name)
	WHERE node_name = 'standby1'}),
	'extension:true:up', 'they came from the node snapshot of a node that is up, without a load');
my $skipped = series_value('models', 'skipped_samples', 'standby1');
my $absorbed = series_value('predictions', 'samples', 'standby1');
my $control = series_value('predictions', 'samples', 'standby2');
ok($primary->poll_query_until('postgres', q{
	SELECT skipped_samples >= } . ($skipped + 3) . q{ FROM foresight.models
	WHERE node_name = 'standby1' AND request_class = 'all' AND model = 'blend'}),
	'the counter keeps growing while the load is absent');
is(series_value('predictions', 'samples', 'standby1'), $absorbed,
	'the model absorbed none of them');
is(prediction_sane('standby1'), 't',
	'the prediction stays fitted and finite, in [0,1]');
cmp_ok(series_value('predictions', 'samples', 'standby2'), '>', $control,
	'the control standby keeps absorbing samples');
is(series_value('models', 'skipped_samples', 'standby2'), '0', 'and skips none');

# the node's real snapshot is back: the model goes on where it stopped
$primary->safe_psql('postgres', q{
	CREATE OR REPLACE FUNCTION foresight.node_snapshot() RETURNS bytea
		AS '$libdir/pg_foresight', 'foresight_node_snapshot'
		LANGUAGE C VOLATILE PARALLEL RESTRICTED;
	DROP FUNCTION foresight.real_node_snapshot();
});
ForesightCluster::catch_up($primary, $standby1, $standby2);
ok($primary->poll_query_until('postgres', q{
	SELECT samples > } . $absorbed . q{ FROM foresight.predictions
	WHERE node_name = 'standby1' AND request_class = 'all'}),
	'with its load back, the node\'s model absorbs samples again');
$skipped = series_value('models', 'skipped_samples', 'standby1');
$absorbed = series_value('predictions', 'samples', 'standby1');
ok($primary->poll_query_until('postgres', q{
	SELECT samples >= } . ($absorbed + 5) . q{ FROM foresight.predictions
	WHERE node_name = 'standby1' AND request_class = 'all'}),
	'and keeps absorbing them');
is(series_value('models', 'skipped_samples', 'standby1'), $skipped,
	'no more samples are skipped');
is($primary->safe_psql('postgres',
	"SELECT load BETWEEN 0 AND 1 FROM foresight.node_metrics WHERE node_name = 'standby1'"),
	't', 'the node has a load signal again');
is(prediction_sane('standby1'), 't', 'its prediction is fitted and finite, in [0,1]');

# models survive a restart (saved with the history at clean shutdown)
my $samples = $primary->safe_psql('postgres',
	"SELECT training_samples FROM foresight.models WHERE node_name = 'standby2' AND model = 'blend' AND request_class = 'all'");
$primary->restart;
ok($primary->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM foresight.models WHERE node_name = 'standby2' AND model = 'blend'"),
	'models are back after a restart');
ok($primary->log_contains(qr/foresight monitor: restored \d+ model series/), 'restored from the saved file');
cmp_ok($primary->safe_psql('postgres',
	"SELECT training_samples FROM foresight.models WHERE node_name = 'standby2' AND model = 'blend' AND request_class = 'all'"),
	'>=', $samples, 'with their training');

done_testing();
