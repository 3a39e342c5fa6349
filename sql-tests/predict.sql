-- Live models, decisions: the SQL interface (the monitor feeds them; see t/).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_foresight;
RESET client_min_messages;

-- the views and their columns
\d foresight.predictions
\d foresight.models
\d foresight.routing_decisions
SELECT count(*) >= 0 AS readable FROM foresight.predictions;
SELECT count(*) >= 0 AS readable FROM foresight.models;
SELECT count(*) >= 0 AS readable FROM foresight.routing_decisions;

-- GUCs of the models and of admission
SHOW foresight.prediction_horizons;
SHOW foresight.retrain_interval;
SHOW foresight.model_window;
SHOW foresight.retrain_budget;
SHOW foresight.overload_threshold;
SHOW foresight.overload_action;
SHOW foresight.queue_max;
SHOW foresight.queue_timeout;
SHOW foresight.decision_log_size;
ALTER SYSTEM SET foresight.retrain_interval = '10s';
-- prediction horizons: a list of 1 to 4 durations, each 100ms .. 1h, no
-- more than the server started with (3 here: the default '1s, 5s, 1min')
ALTER SYSTEM SET foresight.prediction_horizons = '50ms';
ALTER SYSTEM SET foresight.prediction_horizons = '5s, banana';
-- the units are those PostgreSQL's time settings take, all listed, in one sentence
ALTER SYSTEM SET foresight.prediction_horizons = '1 fortnight';
ALTER SYSTEM SET foresight.prediction_horizons = '100000 days';
ALTER SYSTEM SET foresight.prediction_horizons = '100000 d';
ALTER SYSTEM SET foresight.prediction_horizons = '99999999999 h';
ALTER SYSTEM SET foresight.prediction_horizons = '';
ALTER SYSTEM SET foresight.prediction_horizons = '5s,,1min';
ALTER SYSTEM SET foresight.prediction_horizons = '5s, 2h';
ALTER SYSTEM SET foresight.prediction_horizons = '5s, 5000ms';
ALTER SYSTEM SET foresight.prediction_horizons = '1s, 2s, 3s, 4s, 5s';
ALTER SYSTEM SET foresight.prediction_horizons = '1s, 2s, 3s, 4s';
ALTER SYSTEM SET foresight.prediction_horizons = '1min, 2 s';
SELECT count(*) FROM pg_file_settings
 WHERE name = 'foresight.prediction_horizons' AND setting = '1min, 2 s' AND error IS NULL;
ALTER SYSTEM RESET foresight.prediction_horizons;
-- the horizon a query's score reads: the smallest at least as long as its
-- expected duration plus its expected queue wait, else the largest
SELECT d AS expected_duration, w AS expected_wait, foresight.prediction_horizon_for(d, w)
  FROM (VALUES ('0'::interval, '0'::interval), ('5s', '0'), ('5.001s', '0'),
               ('1s', '4s'), ('2s', '4s'), ('1h', '0')) v(d, w);
SELECT foresight.prediction_horizon_for('3s');
SELECT foresight.prediction_horizon_for('-1s');
ALTER SYSTEM SET foresight.overload_threshold = 1.5;
ALTER SYSTEM SET foresight.overload_action = 'panic';
ALTER SYSTEM SET foresight.queue_timeout = '-1';

-- hedging: any session may change it, within range
SHOW foresight.hedge_factor;
SHOW foresight.hedge_min_delay;
SET foresight.hedge_factor = -1;
SET foresight.hedge_min_delay = 0;
SET foresight.hedge_min_delay = '61s';
SET foresight.hedge_factor = 0;
SET foresight.hedge_min_delay = '5ms';
SHOW foresight.hedge_min_delay;
RESET foresight.hedge_factor;
RESET foresight.hedge_min_delay;

-- the prediction model the predictive policy scores with: any session
SHOW foresight.prediction_model;
SET foresight.prediction_model = 'lstm';
SET foresight.prediction_model = 'naive';
SHOW foresight.prediction_model;
RESET foresight.prediction_model;

-- retrain is for administrators; decisions for monitoring roles
SELECT foresight.retrain();
CREATE ROLE regress_predict_user;
SET ROLE regress_predict_user;
SELECT count(*) >= 0 AS readable FROM foresight.predictions;
SELECT foresight.retrain();
SELECT count(*) FROM foresight.routing_decisions;
RESET ROLE;
GRANT pg_read_all_stats TO regress_predict_user;
SET ROLE regress_predict_user;
SELECT count(*) >= 0 AS readable FROM foresight.routing_decisions;
RESET ROLE;
DROP ROLE regress_predict_user;
