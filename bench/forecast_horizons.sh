#!/usr/bin/env bash
# bench/forecast_horizons.sh: the live models over several horizons,
# backtested on load traces the monitor records while the routing
# benchmark's workload runs.
#
#   bash bench/forecast_horizons.sh [--phase SECONDS] [--cycles N] [--clients N]
#
# A coordinator and two hot standbys on loopback with the routing
# benchmark's CPU shares (bench/routing_quality.sh: coordinator 1.0 core,
# standby1 0.6, standby2 0.9, where cgroup v1 is writable), the predictive
# policy, samples every second.  The mixed read workload of
# bench/routing_quality.sh (point lookups, range sums, aggregates) runs
# through the coordinator for N cycles (default 2) of its four phases
# (default 35 s each): idle, a noisy neighbour on standby1, idle, a noisy
# neighbour ramping up 1..4 clients.  Then each node's load signal, as the
# monitor sampled it (foresight.metrics_history), is saved to
# bench/results/horizons/NODE.csv, and bench/horizons/backtest_horizons
# (the forecasting library, the same C as the server) backtests the blend
# as the live models configure it, fitted on the first cycle and updated
# sample by sample over the rest, at horizons of 1, 5, 15 and 60 samples.
# Writes bench/results/forecast_horizons.md.  About 5 minutes.
#
# --traces-only skips the cluster and backtests the saved traces again (give
# the --cycles they were recorded with: the first cycle trains).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"

phase=35
cycles=2
clients=8
scale=10
traces_only=0
horizons=1,5,15,60
for arg in "$@"; do [ "$arg" = --traces-only ] && traces_only=1; done
if [ $traces_only -eq 0 ]; then
	ensure_packages "${FORESIGHT_PACKAGES[@]}" postgresql-contrib
	CGROUP_NAME=${CGROUP_NAME:-foresight_bench_$$}
	cgroup_for_user "$CGROUP_NAME"
	FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/forecast_horizons.sh "$@"
fi
while [ $# -gt 0 ]; do
	case $1 in
		--phase) phase=$2; shift 2 ;;
		--cycles) cycles=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--traces-only) shift ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

cd "$FORESIGHT_ROOT"
results=$FORESIGHT_ROOT/bench/results
traces=$results/horizons
mkdir -p "$traces"
make -s horizons-bench

if [ $traces_only -eq 0 ]; then
	build_and_install
	export PATH="$FORESIGHT_BINDIR:$PATH"
	work=$(mktemp -d /tmp/foresight-horizons.XXXXXX)
	port=$(free_port_block 3)
	cluster=$work/cluster
	noise_pid=
	cleanup() {
		set +e
		[ -n "$noise_pid" ] && kill "$noise_pid" 2>/dev/null
		scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
		[ -d "$CGROUP_V1_CPU/${CGROUP_NAME:-none}" ] && find "$CGROUP_V1_CPU/$CGROUP_NAME" -depth -type d -exec rmdir {} \; 2>/dev/null
		rm -rf "$work"
	}
	trap cleanup EXIT
	sql() { bench_sql "$@"; }
	bench_cluster_start "$cluster" "$port" "$scale"
	limits=$(cgroup_bench_shares "$CGROUP_NAME" "$cluster")
	note "CPU shares: $limits"
	sql "$port" "ALTER SYSTEM SET foresight.include_local = off"
	sql "$port" "ALTER SYSTEM SET foresight.routing_policy = 'predictive'"
	sql "$port" "ALTER SYSTEM SET foresight.sample_interval = '1s'"
	sql "$port" "SELECT pg_reload_conf()" >/dev/null

	# The noisy neighbour on standby1: the four phases of routing_quality.sh.
	noise() {
		local standby_port=$((port + 1)) step=$((phase / 4)) c n
		for c in $(seq 1 "$cycles"); do
			sleep "$phase"
			pgbench -h 127.0.0.1 -p "$standby_port" -n -c 4 -j 2 -T "$phase" -f bench/workload/noise.sql postgres >/dev/null 2>&1
			sleep "$phase"
			for n in 1 2 3 4; do
				pgbench -h 127.0.0.1 -p "$standby_port" -n -c "$n" -j 1 -T "$step" -f bench/workload/noise.sql postgres >/dev/null 2>&1
			done
		done
	}
	note "warm-up"
	pgbench -h 127.0.0.1 -p "$port" -n -c "$clients" -j 2 -T 5 -M prepared \
		-f bench/workload/point.sql@8 -f bench/workload/range.sql@2 -f bench/workload/aggregate.sql@1 \
		postgres >/dev/null 2>&1 || true
	loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
	duration=$((4 * phase * cycles))
	note "workload: $cycles cycles of 4 phases of ${phase}s (${duration}s)"
	start=$(sql "$port" "SELECT now()")
	noise &
	noise_pid=$!
	pgbench -h 127.0.0.1 -p "$port" -n -c "$clients" -j 2 -T "$duration" -M prepared \
		-f bench/workload/point.sql@8 -f bench/workload/range.sql@2 -f bench/workload/aggregate.sql@1 \
		postgres > "$work/pgbench.out" 2>&1 || true
	wait "$noise_pid" 2>/dev/null || true
	noise_pid=
	loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)
	for node in local standby1 standby2; do
		{
			echo "seconds,load"
			sql "$port" "SELECT round(extract(epoch FROM sampled_at - '$start'::timestamptz)::numeric, 3), round(load::numeric, 5)
			             FROM foresight.metrics_history('$node') WHERE sampled_at >= '$start' AND load IS NOT NULL
			             ORDER BY sampled_at" | tr '|' ','
		} > "$traces/$node.csv"
	done
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/pgbench.out")
	{
		echo "Recorded $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(uname -m)):"
		echo "\`bash bench/forecast_horizons.sh --phase $phase --cycles $cycles --clients $clients\`."
		echo "CPU shares: $limits. Workload: $clients clients, point lookups, range sums, aggregates (8:2:1)"
		echo "through the coordinator (predictive policy), $tps TPS; noisy neighbour on standby1."
		echo "Load average of the machine: $loadavg_before before, $loadavg_after after."
	} > "$traces/README.md"
fi

[ -f "$traces/standby1.csv" ] || die "no traces in $traces: run without --traces-only first"
# fitted on the first cycle (the live models train once the window has
# enough samples and retrain when it has doubled: not within the rest)
train=$(awk -v c="$cycles" 'BEGIN { if (c >= 2) printf "%.3f", 1.0 / c; else printf "0.5" }')
table=$(mktemp)
t0=$(date +%s)
(cd "$traces" && "$FORESIGHT_ROOT/bench/horizons/backtest_horizons" "$table" "$train" 1000000000 "$horizons" \
	local.csv standby1.csv standby2.csv 2> backtest.log)
elapsed=$(( $(date +%s) - t0 ))
{
	echo "# The live models over several horizons, on the monitor's load traces"
	echo
	cat "$traces/README.md"
	echo
	printf '%s\n' \
		"Traces: each node's load signal (the \`all\` series) as the monitor sampled it (every second, but" \
		"a sample is missed when the monitor is late: see the sample counts), in \`bench/results/horizons/\`." \
		"Backtest (\`bench/horizons/backtest_horizons\`, the forecasting library the server runs; ${elapsed} s" \
		"wall clock on the same machine): the blend as \`src/predict/live_models.c\` configures it" \
		"(\`fc_config_default(FC_BLEND)\`: naive, SES, damped Holt, seasonal naive and Holt-Winters with" \
		"a 12-sample season, LSTM-lite; decay 0.98, power 16), horizon h samples, the mean target, fitted" \
		"on the first $train of each trace and then updated sample by sample (as the live models, which" \
		"retrain only when the window has doubled), forecasting at every later origin the mean load over" \
		"the next h samples (h = $horizons: seconds at 1 s samples). Each member's numbers are its own" \
		"forecasts inside that blend."
	echo
	cat "$table"
	echo
	echo "The reading of these numbers is in docs/benchmarks.md, \"Horizons\"."
} > "$results/forecast_horizons.md"
rm -f "$table"
note "wrote $results/forecast_horizons.md"
