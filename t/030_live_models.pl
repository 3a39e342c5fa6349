# Live models fed by the monitor: predictions for every node, a load on one
# standby raising its predicted load above the other's, the models view,
# retrain(), non-finite samples never reaching a model, and models kept
# across a restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use ForesightCluster;

my ($primary, $standby1, $standby2) = ForesightCluster::create(
	standbys => 2,
	conf => qq{
foresight.sample_interval = 200ms
foresight.prediction_horizon = 1s
foresight.retrain_budget = 500ms
});

# predictions for local, standby1 and standby2, trained models for each
ok($primary->poll_query_until('postgres',
	"SELECT count(DISTINCT node_name) = 3 AND bool_and(fitted) FROM foresight.predictions WHERE request_class = 'all'"),
	'a trained node-level prediction for every node');
is($primary->safe_psql('postgres',
	"SELECT bool_and(predicted_load BETWEEN 0 AND 1) AND bool_and(horizon = '1s') FROM foresight.predictions"),
	't', 'predictions are loads in [0,1] over the horizon');
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
$primary->wait_for_catchup($standby1, 'replay', $primary->lsn('insert'));
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

# retrain() retrains every model at the monitor's next cycle
my $before = $primary->safe_psql('postgres',
	"SELECT max(last_trained) FROM foresight.models WHERE node_name = 'standby2'");
$primary->safe_psql('postgres', 'SELECT foresight.retrain()');
ok($primary->poll_query_until('postgres',
	"SELECT min(last_trained) > '$before' FROM foresight.models WHERE node_name = 'standby2'"),
	'retrain() retrains');

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
