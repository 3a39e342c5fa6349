-- A/B experiments: the SQL interface, its checks and errors
-- (routing under an experiment is tested by t/070_experiments.pl).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_foresight;
RESET client_min_messages;

-- bad input
SELECT foresight.start_experiment('e', '[1, 2]');
SELECT foresight.start_experiment('e', '"x"');
SELECT foresight.start_experiment('e', '{"a": {}}');
SELECT foresight.start_experiment('e', '{"a": 1, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"foresight.routing_policy": "random"}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"overload_threshold": 0.5}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"routing_policy": "fastest"}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"routing_policy": 3}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"hedge_factor": -1}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"hedge_factor": 1000.0000001}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"hedge_min_delay": 2.5}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"weight_load": "lots"}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"include_local": 1}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"hedge_factor": null}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"prediction_model": "lstm"}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {"hedge_factor": [1]}, "b": {}}');
SELECT foresight.start_experiment('e', '{"a": {}, "b": {}, "c": {}, "d": {}, "e": {}}');
SELECT foresight.start_experiment('e', '{"a": {}, "b": {}}', traffic => 1.5);
SELECT foresight.start_experiment('e', '{"a": {}, "b": {}}', traffic => 'NaN');
SELECT foresight.start_experiment('e', '{"a": {}, "b": {}}', traffic => 1.0000001);
SELECT foresight.start_experiment('e', '{"a": {}, "b": {}}', unit => 'user');
SELECT foresight.start_experiment('e', '{"a": {}, "b": {}}', control => 'z');
SELECT foresight.start_experiment('', '{"a": {}, "b": {}}');
SELECT foresight.start_experiment(NULL, '{"a": {}, "b": {}}');

-- a valid one; the view shows it as given
SELECT foresight.start_experiment('rr_vs_pred',
	'{"rr": {"routing_policy": "round_robin"},
	  "pred": {"routing_policy": "predictive", "hedge_factor": 8, "include_local": "off",
	           "weight_connection": 0.2, "weight_load": 0.8, "hedge_min_delay": 3,
	           "max_replication_lag": 1000, "prediction_model": "naive"}}',
	traffic => 0.5, unit => 'query', control => 'rr', seed => 42);
SELECT name, status, unit, traffic, seed, control, arms, stopped_arms,
       started_at <= now() AS started, stopped_at, stop_reason, queries
FROM foresight.experiments;

-- one at a time; names are unique
SELECT foresight.start_experiment('other', '{"a": {}, "b": {}}');
SELECT foresight.start_experiment('rr_vs_pred', '{"a": {}, "b": {}}');

-- a report without data: a row per arm, nothing judged yet
SELECT arm, request_class, is_control, queries, errors, p95_ms, p95_ratio, needed_per_arm, verdict
FROM foresight.experiment_report('rr_vs_pred');
SELECT * FROM foresight.experiment_report('nope');
SELECT * FROM foresight.experiment_report('rr_vs_pred', alpha => 0.7);
SELECT * FROM foresight.experiment_report('rr_vs_pred', alpha => 0.5000001);
SELECT * FROM foresight.experiment_report('rr_vs_pred', min_effect => 0);

-- administrators only
CREATE ROLE regress_exp_user;
CREATE ROLE regress_exp_admin;
GRANT foresight_admin TO regress_exp_admin;
SET ROLE regress_exp_user;
SELECT foresight.stop_experiment('rr_vs_pred');
SELECT foresight.start_experiment('x', '{"a": {}, "b": {}}');
SELECT count(*) FROM foresight.experiments;
RESET ROLE;
SET ROLE regress_exp_admin;
SELECT foresight.stop_experiment('rr_vs_pred');
SELECT foresight.stop_experiment('rr_vs_pred');
SELECT foresight.stop_experiment('nope');
SELECT name, status, stopped_at IS NOT NULL AS stopped, stop_reason FROM foresight.experiments;
-- promotion: nothing is better without data; an arm that sets more than
-- weights needs a superuser; weights only go through set_weights
SELECT foresight.promote_experiment('rr_vs_pred');
SELECT foresight.promote_experiment('rr_vs_pred', 'pred');
SELECT foresight.promote_experiment('rr_vs_pred', 'zz');
SELECT foresight.start_experiment('weights', '{"control": {}, "w": {"weight_connection": 0.25, "weight_load": 0.75}}');
SELECT name, control FROM foresight.experiments WHERE name = 'weights';
SELECT foresight.promote_experiment('weights', 'w');
SELECT connection, load FROM foresight.current_weights();
SELECT name, status, stop_reason FROM foresight.experiments WHERE name = 'weights';
SELECT foresight.promote_experiment('weights', 'w');
SELECT foresight.set_weights(0.3, 0.7);
SELECT foresight.drop_experiment('weights');
SELECT foresight.drop_experiment('weights');
RESET ROLE;
SELECT foresight.drop_experiment('rr_vs_pred');
SELECT count(*) FROM foresight.experiments;
DROP ROLE regress_exp_user;
DROP ROLE regress_exp_admin;
-- the next tests create the extension themselves
SET client_min_messages = warning;
DROP EXTENSION pg_foresight;
RESET client_min_messages;
