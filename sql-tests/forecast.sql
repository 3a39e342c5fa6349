CREATE EXTENSION IF NOT EXISTS pg_foresight;
-- Forecasting functions: foresight.forecast and foresight.backtest.
SET client_min_messages = warning;
SET extra_float_digits = 0;

-- simple models with exact answers
SELECT foresight.forecast('{1,2,3,4}', 2, 'naive');
SELECT foresight.forecast('{1,2,3,1,2,3,1,2,3}', 4, 'snaive', 3);
SELECT foresight.forecast(array_fill(5.0::float8, ARRAY[50]), 3, 'ses');
SELECT foresight.forecast(array_fill(5.0::float8, ARRAY[50]), 3, 'holt_damped');

-- Holt follows a linear trend, Holt-Winters a season (rounded for stability)
SELECT array_agg(round(v::numeric, 2))
  FROM unnest(foresight.forecast(
         ARRAY(SELECT 10 + 2 * g FROM generate_series(0, 99) g)::float8[],
         3, 'holt_damped')) v;
SELECT array_agg(round(v::numeric, 3))
  FROM unnest(foresight.forecast(
         ARRAY(SELECT 50 + 10 * sin(2 * pi() * g / 12) FROM generate_series(0, 119) g),
         6, 'hw_add', 12)) v;

-- LSTM and the blend on a noisy sine wave: close to the true continuation
WITH s AS (
  SELECT ARRAY(SELECT 10 + 4 * sin(2 * pi() * g / 16) + 0.1 * sin(g * 7.3)
               FROM generate_series(0, 799) g) AS y
), f AS (
  SELECT foresight.forecast(y, 4, 'lstm') AS lstm,
         foresight.forecast(y, 4) AS blend,
         foresight.forecast(y, 4, 'blend', 16) AS blend16
    FROM s
)
SELECT cardinality(lstm) AS n,
       (SELECT max(abs(lstm[k] - (10 + 4 * sin(2 * pi() * (799 + k) / 16))))
          FROM generate_series(1, 4) k) < 1.0 AS lstm_close,
       (SELECT max(abs(blend[k] - (10 + 4 * sin(2 * pi() * (799 + k) / 16))))
          FROM generate_series(1, 4) k) < 1.0 AS blend_close,
       (SELECT max(abs(blend16[k] - (10 + 4 * sin(2 * pi() * (799 + k) / 16))))
          FROM generate_series(1, 4) k) < 0.5 AS blend16_close
  FROM f;

-- deterministic: the same call gives the same answer
SELECT foresight.forecast(ARRAY(SELECT sin(g) FROM generate_series(1, 300) g), 3, 'lstm')
     = foresight.forecast(ARRAY(SELECT sin(g) FROM generate_series(1, 300) g), 3, 'lstm')
       AS deterministic;

-- backtests with hand-computable answers
SELECT * FROM foresight.backtest('{0,1,0,1,0,1,0,1,0,1}', 1, 'naive', train_fraction => 0.5);
SELECT * FROM foresight.backtest(ARRAY(SELECT g FROM generate_series(0, 12) g)::float8[],
                                 3, 'naive', train_fraction => 0.5, target => 'mean');
-- constant training part: no MASE scale
SELECT * FROM foresight.backtest('{2,2,2,2,2,3,4}', 1, 'naive', train_fraction => 0.6);
SELECT round(mae::numeric, 4) AS mae, round(mase::numeric, 4) AS mase, forecasts
  FROM foresight.backtest(
         ARRAY(SELECT 50 + 10 * sin(2 * pi() * g / 12) FROM generate_series(0, 199) g),
         12, 'hw_add', 12);
SELECT mase < 0.5 AS blend_beats_naive_scale, forecasts
  FROM foresight.backtest(
         ARRAY(SELECT 10 + 4 * sin(2 * pi() * g / 16) + 0.1 * sin(g * 7.3)
                 FROM generate_series(0, 599) g),
         1, 'blend', 16);

-- errors: the series
SELECT foresight.forecast(NULL, 1);
SELECT foresight.forecast('{1,2,NULL,4}', 1);
SELECT foresight.forecast('{1,2,NaN,4}', 1);
SELECT foresight.forecast('{1,Infinity}', 1);
SELECT foresight.forecast('[0:2]={1,2,-Infinity}', 1);
SELECT foresight.forecast('{}', 1);
SELECT foresight.forecast('{{1,2},{3,4}}', 1);
SELECT foresight.forecast('{1,2}', 1, 'holt_damped');
SELECT foresight.forecast('{1,2,3,4,5}', 1, 'hw_add', 4);
SELECT foresight.forecast('{1,2,3,4,5}', 1, 'lstm');
-- errors: horizon, season, model
SELECT foresight.forecast('{1,2,3}', 0);
SELECT foresight.forecast('{1,2,3}', 289);
SELECT foresight.forecast('{1,2,3}', NULL);
SELECT foresight.forecast('{1,2,3}', 1, 'snaive', 1);
SELECT foresight.forecast('{1,2,3}', 1, 'snaive', 289);
SELECT foresight.forecast('{1,2,3}', 1, 'hw_add');
SELECT foresight.forecast('{1,2,3}', 1, 'arima');
SELECT foresight.forecast('{1,2,3}', 1, NULL);
-- errors: backtest
SELECT * FROM foresight.backtest('{1,2,3,4,5,6}', 1, 'naive', train_fraction => 0);
SELECT * FROM foresight.backtest('{1,2,3,4,5,6}', 1, 'naive', train_fraction => 1);
SELECT * FROM foresight.backtest('{1,2,3,4,5,6}', 1, 'naive', train_fraction => 'NaN');
SELECT * FROM foresight.backtest('{1,2,3,4,5,6}', 1, 'naive', train_fraction => 1.0000000000000002);
SELECT * FROM foresight.backtest('{1,2,3,4,5,6}', 1, 'naive', train_fraction => NULL);
SELECT * FROM foresight.backtest('{1,2,3,4,5,6}', 1, 'naive', target => 'median');
SELECT * FROM foresight.backtest('{1,2,3,4,5,6}', 1, 'naive', target => NULL);
SELECT * FROM foresight.backtest('{1,2,3,4,5,6}', 3, 'naive', train_fraction => 0.9);
SELECT * FROM foresight.backtest('{1,2,3,4,5,6}', 1, 'hw_add', 2);
SELECT * FROM foresight.backtest('{1,2,NaN}', 1, 'naive');
SELECT * FROM foresight.backtest('{1,2,3}', 1, NULL);

-- values near the top of double precision: the models see the series
-- scaled by a power of two and the results are scaled back, never NaN
WITH s AS (SELECT ARRAY(SELECT 0.5 + 0.3 * sin(g * 0.5) + 0.01 * (g % 7)
                          FROM generate_series(0, 199) g) AS small),
     b AS (SELECT small, ARRAY(SELECT v * 2::float8 ^ 1020 FROM unnest(small) v) AS big FROM s)
SELECT model,
       bool_and(fb <> 'NaN' AND fb < 'Infinity' AND fb > 1e306) AS finite_near_1e307,
       max(abs(fb / (fs * 2::float8 ^ 1020) - 1)) < 1e-9 AS small_forecast_scaled
  FROM b, unnest(ARRAY['blend', 'lstm', 'hw_add']) AS model,
       LATERAL unnest(foresight.forecast(small, 4, model, 12), foresight.forecast(big, 4, model, 12)) AS u(fs, fb)
 GROUP BY model ORDER BY model;
WITH s AS (SELECT ARRAY(SELECT 0.5 + 0.3 * sin(g * 0.5) + 0.01 * (g % 7)
                          FROM generate_series(0, 199) g) AS small),
     b AS (SELECT small, ARRAY(SELECT v * 2::float8 ^ 1020 FROM unnest(small) v) AS big FROM s)
SELECT model,
       abs(bb.mae / (bs.mae * 2::float8 ^ 1020) - 1) < 1e-9 AS mae_scaled,
       abs(bb.rmse / (bs.rmse * 2::float8 ^ 1020) - 1) < 1e-9 AS rmse_scaled,
       abs(bb.mase - bs.mase) < 1e-9 AS same_mase
  FROM b, unnest(ARRAY['blend']) AS model,
       LATERAL foresight.backtest(small, 2, model) AS bs,
       LATERAL foresight.backtest(big, 2, model) AS bb
 ORDER BY model;
SELECT foresight.forecast(ARRAY[-1.7e308, 1.7e308, -1.7e308, 1.7e308], 2, 'naive') AS naive_extremes;
-- a forecast that does not fit in double precision is an error
SELECT foresight.forecast(ARRAY(SELECT 1e308 + g * 1e306 FROM generate_series(0, 79) g), 288, 'holt_damped');
SELECT * FROM foresight.backtest(ARRAY(SELECT (-1) ^ g * 1.7e308 FROM generate_series(0, 39) g), 1, 'naive');

-- Anomaly detection: foresight.anomaly_scores and foresight.detect_anomalies.
-- A deterministic noisy series (values 10..11.5) with a spike of 8 at
-- element 400 and a step of 3 from element 600 on.
CREATE TEMP TABLE anomaly_series AS
SELECT ARRAY(SELECT 10 + 0.5 * sin(g * 0.7) + ((g * 7919) % 11) / 11.0
                    + CASE WHEN g = 400 THEN 8 ELSE 0 END
                    + CASE WHEN g >= 600 THEN 3 ELSE 0 END
               FROM generate_series(1, 800) g)::float8[] AS y;
SELECT array_length(s, 1) AS n,
       (SELECT bool_and(v >= 0 AND v <= 1) FROM unnest(s) v) AS in_0_1,
       (SELECT bool_and(v = 0) FROM unnest(s[1:300]) v) AS zero_during_warmup,
       round(s[400]::numeric, 3) AS at_spike,
       round(s[600]::numeric, 3) AS at_step
  FROM anomaly_series, foresight.anomaly_scores(y) AS s;
-- the alerts: the spike, the step (one alert per event)
SELECT array_agg(i ORDER BY i) AS alerts
  FROM anomaly_series, unnest(foresight.detect_anomalies(y)) WITH ORDINALITY AS u(a, i)
 WHERE a;
-- causal: a prefix of the series gets the same scores and alerts
SELECT foresight.anomaly_scores(y[1:500]) = (foresight.anomaly_scores(y))[1:500] AS same_scores,
       foresight.detect_anomalies(y[1:500]) = (foresight.detect_anomalies(y))[1:500] AS same_alerts
  FROM anomaly_series;
-- alerts are scores at or above the threshold (and not suppressed)
SELECT bool_and(NOT a OR s >= 0.5) AS alerts_score_high,
       bool_and(NOT b OR s >= 0.99) AS strict_threshold_obeyed,
       count(*) FILTER (WHERE b) <= count(*) FILTER (WHERE a) AS strict_alerts_less
  FROM anomaly_series,
       unnest(foresight.anomaly_scores(y), foresight.detect_anomalies(y),
              foresight.detect_anomalies(y, threshold => 0.99)) AS u(s, a, b);
-- values near the top of double precision are scaled by a power of two:
-- the scores are exactly those of the small series
SELECT foresight.anomaly_scores(ARRAY(SELECT v * 2::float8 ^ 1015 FROM unnest(y) v))
       = foresight.anomaly_scores(y) AS scaled_same
  FROM anomaly_series;
-- errors: the series
SELECT foresight.anomaly_scores(NULL);
SELECT foresight.anomaly_scores('{1,2,NULL,4}');
SELECT foresight.anomaly_scores('{1,2,NaN,4}');
SELECT foresight.detect_anomalies('{1,Infinity}');
SELECT foresight.detect_anomalies('[0:2]={1,2,-Infinity}');
SELECT foresight.anomaly_scores('{}');
SELECT foresight.anomaly_scores('{{1,2},{3,4}}');
SELECT foresight.detect_anomalies(array_fill(1.0::float8, ARRAY[300]));
-- errors: the threshold
SELECT foresight.detect_anomalies(y, 0) FROM anomaly_series;
SELECT foresight.detect_anomalies(y, 1.5) FROM anomaly_series;
SELECT foresight.detect_anomalies(y, 1.0000001) FROM anomaly_series;
SELECT foresight.detect_anomalies(y, 'NaN') FROM anomaly_series;
SELECT foresight.detect_anomalies(y, NULL) FROM anomaly_series;
DROP TABLE anomaly_series;

-- leave the database as the other tests expect it: without the extension
RESET client_min_messages;
DROP EXTENSION pg_foresight;
