-- The predictive policy's formula, weights and peak hours.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_foresight;
RESET client_min_messages;

-- score = w_conn * connection_score + w_load * (1 - predicted_load), exactly
SELECT foresight.score(1, 0, 0.5, 0.5) AS idle_free,
       foresight.score(0, 1, 0.5, 0.5) AS busy_full,
       foresight.score(0.25, 0.6, 0.3, 0.7) = 0.3 * 0.25 + 0.7 * (1 - 0.6) AS formula,
       foresight.score(0.8, 0.1, 0, 1) = 0.9 AS load_only,
       foresight.score(0.8, 0.1, 2, 0) = 1.6 AS connection_only;
SELECT foresight.score(1.5, 0, 1, 1);
SELECT foresight.score(0.5, -0.1, 1, 1);
SELECT foresight.score(0.5, 'NaN', 1, 1);

-- connection_score = (weight / max_weight) * (free / max_connections) * speed / (1 + inflight)
SELECT foresight.connection_score(1, 1, 0, 100, 0) AS idle,
       foresight.connection_score(1, 2, 0, 100, 0) AS half_weight,
       foresight.connection_score(1, 1, 75, 100, 0) AS quarter_free,
       foresight.connection_score(1, 1, 0, 100, 3) AS three_inflight,
       foresight.connection_score(2, 4, 50, 100, 1) AS all_three,
       foresight.connection_score(1, 1, 120, 100, 0) AS over_full;
SELECT foresight.connection_score(1, 1, 0, 100, 0, speed => 0.25) AS quarter_speed,
       foresight.connection_score(2, 4, 50, 100, 1, 0.5) = 0.5 * 0.5 * 0.5 / 2 AS all_four,
       foresight.connection_score(1, 1, 0, 100, 0, 1) AS full_speed;
SELECT foresight.connection_score(0, 1, 0, 100, 0);
SELECT foresight.connection_score(1, 1, 0, 0, 0);
SELECT foresight.connection_score(1, 1, 0, 100, 0, 0);
SELECT foresight.connection_score(1, 1, 0, 100, 0, 1.5);
SELECT foresight.connection_score(1, 1, 0, 100, 0, 'NaN');

-- weights: defaults from the GUCs, changed by set_weights
SHOW foresight.weight_connection;
SHOW foresight.weight_load;
SHOW foresight.peak_weight_connection;
SHOW foresight.peak_weight_load;
SELECT * FROM foresight.current_weights();
SELECT foresight.set_weights(0.4, 0.6);
SELECT * FROM foresight.current_weights();
SELECT foresight.set_weights(0.1, 0.9, peak => true);
SELECT * FROM foresight.current_weights();
SELECT foresight.set_weights(0, 0);
SELECT foresight.set_weights(-1, 1);
SELECT foresight.set_weights(1, 'Infinity');
SELECT foresight.set_weights(1000.0000001, 1);
SELECT foresight.score(1.0000000000000002, 0.5, 1, 1);
SELECT foresight.connection_score(1, 1, 0, 100, 0, 1.0000001);
SELECT foresight.set_weights(NULL, 1);
SELECT foresight.set_weights(0.3, 0.7);
CREATE ROLE regress_scoring_user;
SET ROLE regress_scoring_user;
SELECT foresight.set_weights(0.3, 0.7);
RESET ROLE;
DROP ROLE regress_scoring_user;

-- weight GUCs are set in postgresql.conf (or ALTER SYSTEM), not per session
SET foresight.weight_load = 0.9;
ALTER SYSTEM SET foresight.weight_load = -1;
ALTER SYSTEM SET foresight.weight_load = 'lots';

-- peak hours: the language (times in the server time zone)
SHOW log_timezone;
SELECT foresight.in_peak_hours('Mon-Fri 08:00-18:00', '2026-11-23 09:00+00') AS monday_9,
       foresight.in_peak_hours('Mon-Fri 08:00-18:00', '2026-11-23 18:00+00') AS monday_18,
       foresight.in_peak_hours('Mon-Fri 08:00-18:00', '2026-11-23 17:59+00') AS monday_1759,
       foresight.in_peak_hours('Mon-Fri 08:00-18:00', '2026-11-22 09:00+00') AS sunday_9,
       foresight.in_peak_hours('mon-fri 08:00-18:00', '2026-11-27 08:00+00') AS friday_8_lowercase;
SELECT foresight.in_peak_hours('Fri-Mon 22:00-06:00', '2026-11-24 05:00+00') AS tuesday_5_after_monday_night,
       foresight.in_peak_hours('Fri-Mon 22:00-06:00', '2026-11-24 22:30+00') AS tuesday_2230,
       foresight.in_peak_hours('Sat 10:00-13:00, Sun 00:00-24:00', '2026-11-22 23:59+00') AS sunday_late,
       foresight.in_peak_hours('Sat 10:00-13:00, Sun 00:00-24:00', '2026-11-21 13:00+00') AS saturday_13,
       foresight.in_peak_hours('', '2026-11-23 09:00+00') AS empty_spec;
SELECT foresight.in_peak_hours('Mon-Fry 08:00-18:00', now());
SELECT foresight.in_peak_hours('Mon-Fri', now());
SELECT foresight.in_peak_hours('Mon-Fri 8:00-18:00', now());
SELECT foresight.in_peak_hours('Mon-Fri 08:00-25:00', now());
SELECT foresight.in_peak_hours('Mon-Fri 08:60-18:00', now());
SELECT foresight.in_peak_hours('Mon 09:00-09:00', now());
SELECT foresight.in_peak_hours('Mon 09:00-10:00;', now());
SELECT foresight.in_peak_hours('Mon 09:00-10:00,', now());
SELECT foresight.in_peak_hours('Mon-Fri 08:00-18:00', 'infinity');
SELECT foresight.in_peak_hours('Mon-Fri 08:00-18:00', '-infinity');
-- and the GUC rejects the same with its check hook
ALTER SYSTEM SET foresight.peak_hours = 'Mon-Fry 08:00-18:00';
ALTER SYSTEM SET foresight.peak_hours = 'Mon-Fri 08:00';
