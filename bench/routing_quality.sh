#!/usr/bin/env bash
# bench/routing_quality.sh: routing quality under heterogeneous load, the
# same workload against every target in one run.
#
#   bash bench/routing_quality.sh [--phase SECONDS] [--clients N] [--scale S]
#                                 [--targets primary,pgpool,round_robin,least_connections,predictive]
#                                 [--idle-rounds N] [--idle-slice SECONDS]
#
# A coordinator and two hot standbys on loopback, each server's CPU held to
# a distinct steady share with the cgroup v1 cpu controller where it is
# writable (coordinator 1.0 core, standby1 0.6, standby2 0.9; otherwise no
# limits, and the report says so).  A mixed read workload (point lookups,
# range sums, aggregates: three request classes) runs through each target
# for four phases (40 s each by default): idle, a noisy neighbour on
# standby1, idle again, and a noisy neighbour ramping up 1..4 clients, one
# more every quarter phase (a slow ramp: 10 s per step against the monitor's
# 1 s samples and 5 s horizon; --phase 20 makes it a fast one).  Targets: the primary alone;
# pgpool-II load-balancing over the standbys; pg_foresight with
# round_robin, least_connections and predictive (include_local off, so
# every policy spreads over the same two standbys as pgpool-II).  Then the
# idle throughput again, interleaved: N rounds (default 4) of short idle
# slices (default 10 s) per target in turn, judged by the median slice.
#
# Writes bench/results/routing_quality.md and routing_quality_p99.png.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/pgpool.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" postgresql-contrib pgpool2 gnuplot-nox
CGROUP_NAME=${CGROUP_NAME:-foresight_bench_$$}
cgroup_for_user "$CGROUP_NAME"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/routing_quality.sh "$@"

phase=40
clients=8
scale=10
only=""
idle_rounds=4
idle_slice=10
while [ $# -gt 0 ]; do
	case $1 in
		--phase) phase=$2; shift 2 ;;
		--idle-rounds) idle_rounds=$2; shift 2 ;;
		--idle-slice) idle_slice=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--scale) scale=$2; shift 2 ;;
		--targets) only=" ${2//,/ } "; shift 2 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

bench_prelude quality
pgpool_port=$((port + 10))

cleanup() {
	set +e
	[ -n "${noise_pid:-}" ] && kill "$noise_pid" 2>/dev/null
	pkill -f "pgbench.*-p $((port + 1))" 2>/dev/null
	pgpool_stop "$work/pgpool"
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
	bench_remove_cgroup
}
trap cleanup EXIT

sql() { bench_sql "$@"; }
bench_cluster_start "$cluster" "$port" "$scale"

# CPU shares
limits=$(cgroup_bench_shares "$CGROUP_NAME" "$cluster")
note "CPU shares: $limits"

sql "$port" "ALTER SYSTEM SET foresight.include_local = off" 2>/dev/null || note "foresight.include_local is not available in this build"
sql "$port" "SELECT pg_reload_conf()" >/dev/null
pgpool_start "$work/pgpool" "$pgpool_port" "$port" $((port + 1)) $((port + 2))

# The noisy neighbour on standby1, phase by phase (runs in the background).
noise() {
	local standby_port=$((port + 1))
	sleep "$phase"
	pgbench -h 127.0.0.1 -p "$standby_port" -n -c 4 -j 2 -T "$phase" -f bench/workload/noise.sql postgres >/dev/null 2>&1
	sleep "$phase"
	local step=$((phase / 4)) n
	for n in 1 2 3 4; do
		pgbench -h 127.0.0.1 -p "$standby_port" -n -c "$n" -j 1 -T "$step" -f bench/workload/noise.sql postgres >/dev/null 2>&1
	done
}

run_target() {
	local name=$1 target_port=$2
	note "target $name: warm-up"
	pgbench -h 127.0.0.1 -p "$target_port" -n -c "$clients" -j 2 -T 5 -M prepared \
		-f bench/workload/point.sql@8 -f bench/workload/range.sql@2 -f bench/workload/aggregate.sql@1 \
		postgres >/dev/null 2>&1 || true
	note "target $name: 4 phases of ${phase}s"
	noise &
	noise_pid=$!
	local start
	start=$(date +%s.%N)
	echo "$start" > "$work/logs/$name.start"
	(cd "$work/logs" && pgbench -h 127.0.0.1 -p "$target_port" -n -c "$clients" -j 2 -T $((4 * phase)) -M prepared \
		-f "$FORESIGHT_ROOT/bench/workload/point.sql@8" -f "$FORESIGHT_ROOT/bench/workload/range.sql@2" \
		-f "$FORESIGHT_ROOT/bench/workload/aggregate.sql@1" \
		-l --log-prefix="$name" postgres > "$name.out" 2>&1) || true
	wait "$noise_pid" 2>/dev/null || true
	noise_pid=
	cat "$work/logs/$name".[0-9]* > "$work/logs/$name.log"
}

set_policy() {
	sql "$port" "ALTER SYSTEM SET foresight.routing_policy = '$1'" || return 1
	sql "$port" "SELECT pg_reload_conf()" >/dev/null || return 1
	sleep 1
}

targets=()
wanted() { [ -z "$only" ] || [[ $only == *" $1 "* ]]; }
if wanted primary; then
	set_policy local
	run_target primary "$port"; targets+=(primary)
fi
if wanted pgpool; then
	run_target pgpool "$pgpool_port"; targets+=(pgpool)
fi
for policy in round_robin least_connections predictive; do
	wanted "$policy" || continue
	if set_policy "$policy" 2>/dev/null; then
		run_target "$policy" "$port"; targets+=("$policy")
	else
		note "policy $policy is not available in this build: skipped"
	fi
done

# Idle throughput, interleaved.  The phases above are minutes apart from one
# target to the next, and this shared machine drifts by more than the 5%
# being judged (one policy's two idle phases have differed by 16%).  So every
# target also runs short idle slices in turn, round after round, starting
# each round one target further, and is judged by its median slice.
target_port() { if [ "$1" = pgpool ]; then echo "$pgpool_port"; else echo "$port"; fi; }
declare -A idle_tps=()
for round in $(seq 0 $((idle_rounds - 1))); do
	note "idle slices, round $((round + 1)) of $idle_rounds"
	for k in $(seq 0 $((${#targets[@]} - 1))); do
		t=${targets[$(( (k + round) % ${#targets[@]} ))]}
		case $t in
			primary) set_policy local ;;
			pgpool) ;;
			*) set_policy "$t" ;;
		esac
		tps=$(pgbench -h 127.0.0.1 -p "$(target_port "$t")" -n -c "$clients" -j 2 -T "$idle_slice" -M prepared \
			-f bench/workload/point.sql@8 -f bench/workload/range.sql@2 -f bench/workload/aggregate.sql@1 \
			postgres 2>/dev/null | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
		idle_tps[$t]+=" ${tps:-0}"
	done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
best_idle=0
for t in "${targets[@]}"; do
	m=$(echo "${idle_tps[$t]}" | median)
	best_idle=$(awk -v a="$best_idle" -v b="$m" 'BEGIN { print (b > a) ? b : a }')
done

# The cost of one routing decision with 8 nodes (6 more entries pointing at
# the same two standbys), for every policy, measured in the server.
for i in 3 4 5 6 7 8; do
	sql "$port" "SELECT foresight.add_node('extra$i', 'host=127.0.0.1 port=$((port + 1 + i % 2))')" >/dev/null
done
sleep 2
decision_cost=""
for policy in round_robin least_connections predictive; do
	set_policy "$policy" || continue
	us=$(sql "$port" "SELECT round(foresight.benchmark_routing_decision(200000)::numeric, 3)")
	decision_cost+="| $policy | $us |"$'\n'
done
for i in 3 4 5 6 7 8; do sql "$port" "SELECT foresight.remove_node('extra$i')" >/dev/null; done

# Per target and phase: TPS, p50/p95/p99 (ms).  pgbench log columns:
# client transaction latency_us script epoch_s epoch_us
phase_names=(idle noisy idle_again ramp)
report=$results/routing_quality.md
{
	echo "# Routing quality under heterogeneous load"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores; \`bash bench/routing_quality.sh --phase $phase --clients $clients --scale $scale\`."
	echo "CPU shares: $limits. Workload: point lookups, range sums, aggregates (8:2:1), $clients clients, prepared statements."
	echo
	echo "| target | phase | TPS | p50 ms | p95 ms | p99 ms |"
	echo "|---|---|---:|---:|---:|---:|"
	for t in "${targets[@]}"; do
		start=$(cat "$work/logs/$t.start")
		for p in 0 1 2 3; do
			awk -v s="$start" -v p="$p" -v len="$phase" '{ t = $5 + $6 / 1e6 - s; if (t >= p * len && t < (p + 1) * len) print $3 / 1000.0 }' \
				"$work/logs/$t.log" | sort -n > "$work/lat"
			n=$(wc -l < "$work/lat")
			pct() { [ "$n" -gt 0 ] && sed -n "$(( (n * $1 + 99) / 100 ))p" "$work/lat" || echo 0; }
			printf '| %s | %s | %.0f | %.2f | %.2f | %.2f |\n' "$t" "${phase_names[$p]}" \
				"$(awk -v n="$n" -v p="$phase" 'BEGIN { print n / p }')" "$(pct 50)" "$(pct 95)" "$(pct 99)"
		done
	done
	echo
	echo "Idle throughput, interleaved: $idle_rounds rounds of ${idle_slice} s idle slices per target, targets in turn (each round starting one further); TPS per slice, in the order run:"
	echo
	echo "| target | TPS per slice | median | vs the best median |"
	echo "|---|---|---:|---:|"
	for t in "${targets[@]}"; do
		m=$(echo "${idle_tps[$t]}" | median)
		printf '| %s | %s | %.0f | %+.1f%% |\n' "$t" "$(echo "${idle_tps[$t]}" | awk '{ for (i = 1; i <= NF; i++) printf "%s%.0f", (i > 1 ? ", " : ""), $i }')" \
			"$m" "$(awk -v m="$m" -v b="$best_idle" 'BEGIN { print (b > 0) ? (m / b - 1) * 100 : 0 }')"
	done
	echo
	echo "Cost of one routing decision with 8 registered nodes (foresight.benchmark_routing_decision(200000), dry run: candidates, health, predictions, scores, choice):"
	echo
	echo "| policy | µs per decision |"
	echo "|---|---:|"
	printf '%s' "$decision_cost"
} > "$report"

# p99 per second per target, and the chart
for t in "${targets[@]}"; do
	start=$(cat "$work/logs/$t.start")
	awk -v s="$start" '{ t = int($5 + $6 / 1e6 - s); print t, $3 / 1000.0 }' "$work/logs/$t.log" | sort -k1,1n -k2,2n |
		awk '{ a[$1] = a[$1] " " $2; c[$1]++ } END { for (k in a) { n = split(a[k], v, " "); i = int(n * 0.99); if (i < 1) i = 1; print k, v[i] } }' |
		sort -n > "$work/$t.p99"
done
plot=""
for t in "${targets[@]}"; do plot+="'$work/$t.p99' using 1:2 with lines title '$t', "; done
gnuplot <<-GP
	set terminal png size 1100,500 noenhanced
	set output '$results/routing_quality_p99.png'
	set title 'p99 latency per second (noisy neighbour on standby1 in phases 2 and 4)'
	set xlabel 'seconds'; set ylabel 'p99 ms'; set logscale y; set grid
	set arrow from $phase, graph 0 to $phase, graph 1 nohead dt 2
	set arrow from $((2 * phase)), graph 0 to $((2 * phase)), graph 1 nohead dt 2
	set arrow from $((3 * phase)), graph 0 to $((3 * phase)), graph 1 nohead dt 2
	plot ${plot%, }
GP
cat "$report"
echo
echo "chart: $results/routing_quality_p99.png"
