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
# with the blend, on the same reads at the same moments.
#
#   bash bench/forecast_pays.sh [--reps N] [--periodic-reps N] [--retrain SECONDS]
#                               [--horizons LIST]
#
# --periodic-reps (default: --reps) lengthens the periodic workload alone,
# so that its season dominates the window the live models look for one in
# (docs/prediction.md, "The season"); --retrain sets
# foresight.retrain_interval (default: the server's, an hour), since the
# season is looked for at each training; --horizons sets
# foresight.prediction_horizons (default: the server's, '5s, 1min').
#
# The cluster of bench/ramp_ab.sh (coordinator 1.0 core, standby1 0.6,
# standby2 0.9 with the cgroup v1 cpu controller where writable,
# include_local off; the mixed workload of point lookups, range sums and
# aggregates 8:2:1, 8 clients, prepared), a 35 s warm-up (the class models
# are read once they have 30 samples), then per workload N repetitions:
#
#   ramp      1, 2, 3, then 4 noise clients on standby1, 10 s each, 5 s rest
#   periodic  3 noise clients on standby1 for 10 s, then on standby2 for
#             10 s, twice (a period of 20 s)
#
# While a workload runs, the predictions of both standbys (series "all"
# and "point") are read every 2 s: the mean |blend - naive member| and the
# naive member's mean weight in the blend say how far the blend strayed
# from the last value.  The machine's load average is recorded before and
# after (other work on the host shows there).
#
# Writes bench/results/forecast_pays.md.
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
while [ $# -gt 0 ]; do
	case $1 in
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
declare -A wl_reps=([ramp]=$reps [periodic]=${periodic_reps:-$reps})
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
periodic() {
	for i in 1 2; do noise 1 3 10; noise 2 3 10; done
}

declare -A length=([ramp]=45 [periodic]=40)	# seconds of one repetition
arms='{"blend": {"routing_policy": "predictive", "prediction_model": "blend"},
       "naive": {"routing_policy": "predictive", "prediction_model": "naive"},
       "lc": {"routing_policy": "least_connections"}}'
sections=""
for wl in ramp periodic; do
	sql "$port" "SELECT foresight.start_experiment('$wl', '$arms', traffic => 1.0, unit => 'query', control => 'blend', seed => 1)" >/dev/null
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
	( for rep in $(seq 1 "${wl_reps[$wl]}"); do "$wl"; done ) &
	noise_pid=$!
	pgbench -h 127.0.0.1 -p "$port" -n -c 8 -j 2 -T $((${wl_reps[$wl]} * ${length[$wl]})) -M prepared "${workload[@]}" \
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
	tps=$(grep -o 'tps = [0-9.]*' "$work/pgbench.$wl" | head -1 || true)
	aborted=$(grep -c 'aborted in command' "$work/pgbench.$wl" || true)
	tps="$tps, $aborted of 8 clients aborted"
	sections+="## $wl (${wl_reps[$wl]} repetitions, $secs s, $tps)"$'\n\n'
	sections+="| arm | class | queries | errors | p50 ms | p95 ms [interval] | p99 ms | p95 ratio to blend [interval] | p99 ratio [interval] | Mann-Whitney p | needed per arm | verdict |"$'\n'
	sections+="|---|---|---:|---:|---:|---|---:|---|---|---|---:|---|"$'\n'
	sections+="$report"$'\n\n'
	sections+="Reads per arm and node: "$'\n\n'"| arm | node: reads |"$'\n'"|---|---|"$'\n'"$where"$'\n\n'
	sections+="Why reads ran on the coordinator (the commonest reasons): ${local_why:-none}."$'\n\n'
	sections+="Predictions during the run (standbys, series all and point, shortest horizon, every 2 s): mean |blend - naive member| $stray; the Holt-Winters member's season in those readings: ${seasons:-none}."$'\n\n'
	sleep 5
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

out=$FORESIGHT_ROOT/bench/results/forecast_pays.md
{
	echo "# Does forecasting pay? predictive with the blend, with the naive model, least_connections"
	echo
	echo "Run $started on $(nproc) cores; \`bash bench/forecast_pays.sh --reps $reps${periodic_reps:+ --periodic-reps $periodic_reps}${retrain:+ --retrain $retrain}${horizons:+ --horizons '$horizons'}\`."
	echo "Load average (1/5/15 min) before: $load_before; after: $load_after."
	echo "CPU shares: $limits. Workload: point lookups, range sums, aggregates (8:2:1), 8 clients, prepared."
	echo "One experiment per workload, arms blend (control), naive, lc; unit query, traffic 1; ratios are arm / blend (below 1: the arm is faster than the blend)."
	echo
	printf '%s' "$sections"
} > "$out"
note "report: $out"
