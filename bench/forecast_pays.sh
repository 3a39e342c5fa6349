#!/usr/bin/env bash
# bench/forecast_pays.sh: does forecasting pay?  One A/B experiment
# (docs/experiments.md) per workload with three arms, each read assigned
# anew (unit query, traffic 1):
#
#   blend  (control)  predictive, foresight.prediction_model = blend
#   naive             predictive, prediction_model = naive (the last load)
#   lc                least_connections
#
# so that experiment_report() compares naive and least_connections each
# with the blend, on the same reads at the same moments.  --arms chooses
# among those, the first of them the control.
#
#   bash bench/forecast_pays.sh [--reps N] [--periodic-reps N] [--retrain SECONDS]
#                               [--horizons LIST] [--arms 'blend naive lc']
#                               [--workloads 'ramp periodic']
#
# --periodic-reps (default: --reps) lengthens the periodic workload alone,
# so that its season dominates the window the live models look for one in
# (docs/prediction.md, "The season"); --retrain sets
# foresight.retrain_interval (default: the server's, an hour), since the
# season is looked for at each training; --horizons sets
# foresight.prediction_horizons (default: the server's, '1s, 5s, 1min').
#
# The cluster of bench/ramp_ab.sh (coordinator 1.0 core, standby1 0.6,
# standby2 0.9 with the cgroup v1 cpu controller where writable,
# include_local off; the mixed workload of point lookups, range sums and
# aggregates 8:2:1, 8 clients, prepared), a 35 s warm-up (the class models
# are read once they have 30 samples), then per workload N repetitions:
#
#   ramp      1, 2, 3, then 4 noise clients on standby1, 10 s each, 5 s rest
#   periodic  3 noise clients on standby1 for 10 s, then on standby2 for
#             10 s, twice (a period of 20 s, kept on the wall clock)
#   long      (only when --workloads names it; --periodic-reps repetitions)
#             the periodic noise under 6 clients of reads of a second or
#             two (bench/workload/long.sql) instead of the mixed workload
#
# While a workload runs, the predictions of both standbys (series "all"
# and "point") are read every 2 s: the mean |blend - naive member| and the
# naive member's mean weight in the blend say how far the blend strayed
# from the last value.  The machine's load average is recorded before and
# after (other work on the host shows there).
#
# Writes bench/results/forecast_pays.md, and the standbys' load as the monitor
# sampled it to bench/results/forecast_pays_series.csv (bench/lib/rank_regret.py
# reads it).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" postgresql-contrib
CGROUP_NAME=${CGROUP_NAME:-foresight_bench_$$}
cgroup_for_user "$CGROUP_NAME"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/forecast_pays.sh "$@"

reps=2
periodic_reps=
retrain=
horizons=
arm_names="blend naive lc"
workloads="ramp periodic"
while [ $# -gt 0 ]; do
	case $1 in
		--workloads) workloads=$2; shift 2 ;;
		--arms) arm_names=$2; shift 2 ;;
		--reps) reps=$2; shift 2 ;;
		--periodic-reps) periodic_reps=$2; shift 2 ;;
		--retrain) retrain=$2; shift 2 ;;
		--horizons) horizons=$2; shift 2 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

bench_prelude pays
sampler=
cleanup() {
	set +e
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
	pkill -f "pgbench.*-p $((port + 1))" 2>/dev/null
	pkill -f "pgbench.*-p $((port + 2))" 2>/dev/null
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
	bench_remove_cgroup
}
trap cleanup EXIT
sql() { bench_sql "$@"; }
started=$(date -u '+%Y-%m-%d %H:%M UTC')
bench_cluster_start "$cluster" "$port" 10
sql "$port" "ALTER SYSTEM SET foresight.decision_log_size = 200000" >/dev/null
sql "$port" "ALTER SYSTEM SET foresight.include_local = off" >/dev/null
sql "$port" "ALTER SYSTEM SET foresight.routing_policy = 'predictive'" >/dev/null
# reads wait for capacity rather than fail after the default 5 s (as in
# bench/auto_tune.sh: under the heaviest noise every standby can be
# predicted overloaded for longer, and a failed read ends a pgbench client)
sql "$port" "ALTER SYSTEM SET foresight.queue_timeout = '10min'" >/dev/null
[ -z "$retrain" ] || sql "$port" "ALTER SYSTEM SET foresight.retrain_interval = '${retrain}s'" >/dev/null
# more horizons than the running server holds models for: in the file, for the restart below
[ -z "$horizons" ] || echo "foresight.prediction_horizons = '$horizons'" >> "$cluster/coordinator/postgresql.conf"
declare -A wl_reps=([ramp]=$reps [periodic]=${periodic_reps:-$reps} [long]=${periodic_reps:-$reps})
pg_ctl -D "$cluster/coordinator" -l "$cluster/coordinator/server.log" -w -m fast restart >/dev/null
limits=$(cgroup_bench_shares "$CGROUP_NAME" "$cluster")
note "CPU shares: $limits"

workload=(-f "$FORESIGHT_ROOT/bench/workload/point.sql@8" -f "$FORESIGHT_ROOT/bench/workload/range.sql@2"
	-f "$FORESIGHT_ROOT/bench/workload/aggregate.sql@1")
note "warm-up: 35 s of the workload, no noise"
pgbench -h 127.0.0.1 -p "$port" -n -c 8 -j 2 -T 35 -M prepared "${workload[@]}" postgres >/dev/null 2>&1 || true

noise() {	# noise PORT_OFFSET CLIENTS SECONDS
	pgbench -h 127.0.0.1 -p $((port + $1)) -n -c "$2" -j 1 -T "$3" -f bench/workload/noise.sql postgres >/dev/null 2>&1 || true
}
ramp() {
	for n in 1 2 3 4; do noise 1 "$n" 10; done
	sleep 5
}
sleep_until() {	# sleep_until EPOCH_SECONDS
	sleep "$(awk -v t="$1" -v now="$(date +%s.%N)" 'BEGIN { d = t - now; print (d > 0 ? d : 0) }')"
}
periodic() {
	# on the wall clock: a phase starts every 10 s from next_phase, however
	# long the last pgbench took to connect and finish, so that the period
	# is 20 s exactly, as a load on a schedule's is (one pgbench after
	# another drifted by their start-up times)
	for node in 1 2 1 2; do
		sleep_until "$next_phase"
		noise "$node" 3 10 &
		next_phase=$((next_phase + 10))
	done
	wait
}

declare -A noise_of=([ramp]=ramp [periodic]=periodic [long]=periodic)	# one repetition's noise
declare -A length=([ramp]=45 [periodic]=40 [long]=40)	# seconds of one repetition
# the reads through the coordinator: the mixed workload, or for "long"
# 6 clients of reads that take a second or two, so that the policy scores
# them on the 5 s window (docs/prediction.md, "Which horizon a query reads")
declare -A clients=([ramp]=8 [periodic]=8 [long]=6)
declare -A reads=([ramp]="${workload[*]}" [periodic]="${workload[*]}"
	[long]="-f $FORESIGHT_ROOT/bench/workload/long.sql")
declare -A arm_settings=([blend]='{"routing_policy": "predictive", "prediction_model": "blend"}'
	[naive]='{"routing_policy": "predictive", "prediction_model": "naive"}'
	[lc]='{"routing_policy": "least_connections"}')
arms=
for a in $arm_names; do
	[ -n "${arm_settings[$a]:-}" ] || die "unknown arm \"$a\": blend, naive or lc"
	arms+="${arms:+, }\"$a\": ${arm_settings[$a]}"
done
arms="{$arms}"
control=${arm_names%% *}
sections=""
series_csv=$FORESIGHT_ROOT/bench/results/forecast_pays_series.csv
echo "workload,node,epoch,load" > "$series_csv"
for wl in $workloads; do
	[ -n "${length[$wl]:-}" ] || die "unknown workload \"$wl\": ramp, periodic or long"
	sql "$port" "SELECT foresight.start_experiment('$wl', '$arms', traffic => 1.0, unit => 'query', control => '$control', seed => 1)" >/dev/null
	first=$(sql "$port" "SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions")
	: > "$work/pred.$wl"
	( while :; do
		sql "$port" "SELECT node_name, request_class, predicted_load, forecasts[array_position(models, 'naive')],
		                    weights[array_position(models, 'naive')],
		                    (SELECT m FROM unnest(models) m WHERE m LIKE 'hw_add/%' LIMIT 1)
		             FROM foresight.predictions
		             WHERE node_name LIKE 'standby%' AND request_class IN ('all', 'point') AND fitted
		               AND horizon = (SELECT min(horizon) FROM foresight.predictions)" >> "$work/pred.$wl" 2>/dev/null || true
		sleep 2
	done ) &
	sampler=$!
	t0=$(date +%s)
	next_phase=$(($(date +%s) + 1))
	( for rep in $(seq 1 "${wl_reps[$wl]}"); do "${noise_of[$wl]}"; done ) &
	noise_pid=$!
	# shellcheck disable=SC2086 # the reads' options, split as words
	pgbench -h 127.0.0.1 -p "$port" -n -c "${clients[$wl]}" -j 2 -T $((${wl_reps[$wl]} * ${length[$wl]})) -M prepared ${reads[$wl]} \
		postgres > "$work/pgbench.$wl" 2>&1 || true
	wait "$noise_pid" || true
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	sampler=
	secs=$(($(date +%s) - t0))
	sql "$port" "SELECT foresight.stop_experiment('$wl')" >/dev/null
	note "$wl: $secs s"
	report=$(sql "$port" "SELECT '| ' || arm || ' | ' || request_class || ' | ' || queries || ' | ' || errors || ' | '
		|| round(p50_ms::numeric, 2) || ' | ' || round(p95_ms::numeric, 2) || ' [' || round(p95_low_ms::numeric, 2) || ', ' || round(p95_high_ms::numeric, 2) || '] | '
		|| round(p99_ms::numeric, 2) || ' | '
		|| coalesce(round(p95_ratio::numeric, 3) || ' [' || round(p95_ratio_low::numeric, 3) || ', ' || round(p95_ratio_high::numeric, 3) || ']', '') || ' | '
		|| coalesce(round(p99_ratio::numeric, 3) || ' [' || round(p99_ratio_low::numeric, 3) || ', ' || round(p99_ratio_high::numeric, 3) || ']', '') || ' | '
		|| coalesce(trim(to_char(mann_whitney_p, '9.99EEEE')), '') || ' | ' || coalesce(needed_per_arm::text, '') || ' | ' || verdict || ' |'
		FROM foresight.experiment_report('$wl') ORDER BY request_class <> 'all', request_class, NOT is_control, arm")
	where=$(sql "$port" "SELECT '| ' || arm || ' | ' || string_agg(chosen_node || ' ' || n, ', ' ORDER BY chosen_node) || ' |'
		FROM (SELECT substring(reason from '^\[$wl/([a-z]+)\] ') AS arm, coalesce(chosen_node, 'none') AS chosen_node, count(*) n
		      FROM foresight.routing_decisions WHERE decision_id > $first AND reason ~ '^\[$wl/' GROUP BY 1, 2) a
		GROUP BY arm ORDER BY arm")
	local_why=$(sql "$port" "SELECT string_agg(why || ' ' || n, '; ' ORDER BY n DESC)
		FROM (SELECT regexp_replace(left(regexp_replace(reason, '^\[[^]]*\] ', ''), 60), '[0-9.]+', 'N', 'g') AS why, count(*) n
		      FROM foresight.routing_decisions WHERE decision_id > $first AND reason ~ '^\[$wl/' AND chosen_node = 'local'
		      GROUP BY 1 ORDER BY 2 DESC LIMIT 4) w")
	stray=$(awk -F'|' '$4 != "" { d = $3 - $4; s += (d < 0 ? -d : d); w += $5; n++ }
		END { if (n) printf "%.4f over %d readings; naive member weight %.3f", s / n, n, w / n; else print "no readings" }' "$work/pred.$wl")
	seasons=$(awk -F'|' '$6 != "" { n[$6]++ } END { for (k in n) printf "%s%s %d", (c++ ? ", " : ""), k, n[k] }' "$work/pred.$wl")
	# the standbys' load over the workload (the monitor's samples: the last
	# foresight.history_size of them, 600 by default, on a longer one), kept in
	# bench/results/forecast_pays_series.csv: its autocorrelation at half
	# and one period of the periodic load, and backtests (the second half
	# scored) of the last value against seasonal models of period 20 and
	# the blend, over the next sample and the next 5
	samples="
		SELECT n, sampled_at, load
		FROM unnest(ARRAY['standby1', 'standby2']) n,
		     LATERAL foresight.metrics_history(n, '$secs s') m
		WHERE load IS NOT NULL"
	sql "$port" "SELECT '$wl', n, extract(epoch FROM sampled_at)::numeric(16, 3), round(load::numeric, 4)
		FROM ($samples) s ORDER BY n, sampled_at" | tr '|' ',' >> "$series_csv"
	series=$(sql "$port" "
		WITH v AS (SELECT n, array_agg(load ORDER BY sampled_at) AS y FROM ($samples) s GROUP BY n),
		a AS (SELECT n, y, h,
		             (SELECT corr(y[i], y[i + 10]) FROM generate_subscripts(y, 1) i WHERE i + 10 <= cardinality(y)) AS acf10,
		             (SELECT corr(y[i], y[i + 20]) FROM generate_subscripts(y, 1) i WHERE i + 20 <= cardinality(y)) AS acf20
		      FROM v, (VALUES (1), (5)) hs(h))
		SELECT '| ' || n || ' | ' || cardinality(y) || ' | ' || round(acf10::numeric, 2) || ' | ' || round(acf20::numeric, 2)
		       || ' | ' || h
		       || ' | ' || (SELECT round(mae::numeric, 4) FROM foresight.backtest(y, h, 'naive', train_fraction => 0.5, target => 'mean'))
		       || ' | ' || (SELECT round(mae::numeric, 4) FROM foresight.backtest(y, h, 'snaive', 20, train_fraction => 0.5, target => 'mean'))
		       || ' | ' || (SELECT round(mae::numeric, 4) FROM foresight.backtest(y, h, 'hw_add', 20, train_fraction => 0.5, target => 'mean'))
		       || ' | ' || (SELECT round(mae::numeric, 4) FROM foresight.backtest(y, h, 'blend', 20, train_fraction => 0.5, target => 'mean'))
		       || ' | ' || (SELECT round(mae::numeric, 4) FROM foresight.backtest(y, h, 'blend', train_fraction => 0.5, target => 'mean')) || ' |'
		FROM a ORDER BY n, h" 2>&1 || true)
	tps=$(grep -o 'tps = [0-9.]*' "$work/pgbench.$wl" | head -1 || true)
	aborted=$(grep -c 'aborted in command' "$work/pgbench.$wl" || true)
	tps="$tps, $aborted of ${clients[$wl]} clients aborted"
	sections+="## $wl (${wl_reps[$wl]} repetitions, $secs s, $tps)"$'\n\n'
	sections+="| arm | class | queries | errors | p50 ms | p95 ms [interval] | p99 ms | p95 ratio to $control [interval] | p99 ratio [interval] | Mann-Whitney p | needed per arm | verdict |"$'\n'
	sections+="|---|---|---:|---:|---:|---|---:|---|---|---|---:|---|"$'\n'
	sections+="$report"$'\n\n'
	sections+="Reads per arm and node: "$'\n\n'"| arm | node: reads |"$'\n'"|---|---|"$'\n'"$where"$'\n\n'
	sections+="Why reads ran on the coordinator (the commonest reasons): ${local_why:-none}."$'\n\n'
	sections+="Predictions during the run (standbys, series all and point, shortest horizon, every 2 s): mean |blend - naive member| $stray; the Holt-Winters member's season in those readings: ${seasons:-none}."$'\n\n'
	sections+="The standbys' load over the workload (the monitor's samples, at most foresight.history_size of them, the last; backtests of the mean over the next 1 and 5 samples, the second half scored, MAE; the samples are in forecast_pays_series.csv):"$'\n\n'
	sections+="| node | samples | autocorrelation lag 10 | lag 20 | horizon (samples) | naive | snaive/20 | hw_add/20 | blend, season 20 | blend |"$'\n'
	sections+="|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"$'\n'
	sections+="$series"$'\n\n'
	sleep 5
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

out=$FORESIGHT_ROOT/bench/results/forecast_pays.md
{
	echo "# Does forecasting pay? arms $arm_names"
	echo
	echo "Run $started on $(nproc) cores; \`bash bench/forecast_pays.sh --reps $reps${periodic_reps:+ --periodic-reps $periodic_reps}${retrain:+ --retrain $retrain}${horizons:+ --horizons '$horizons'} --arms '$arm_names' --workloads '$workloads'\`."
	echo "Load average (1/5/15 min) before: $load_before; after: $load_after."
	echo "CPU shares: $limits. Reads through the coordinator, prepared: for ramp and periodic point lookups, range sums and aggregates (8:2:1), 8 clients; for long bench/workload/long.sql, 6 clients."
	echo "One experiment per workload, arms $arm_names ($control the control: ${arms//\"/}); unit query, traffic 1; ratios are arm / $control (below 1: the arm is faster than $control)."
	echo
	printf '%s' "$sections"
	echo "## Which standby will be the lighter? (bench/lib/rank_regret.py over forecast_pays_series.csv)"
	echo
	echo "Per sample, the standby a forecast of each one's mean load over the next h samples names as the lighter, against the one that was: the share named right, and the mean regret (the load the wrongly named one had above the other; 0 when right)."
	echo
	python3 "$FORESIGHT_ROOT/bench/lib/rank_regret.py" "$series_csv"
	echo
} > "$out"
note "report: $out"
