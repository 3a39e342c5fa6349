#!/usr/bin/env bash
# bench/routing_pgbench.sh: the cost of routing, in one invocation.
#
#   bash bench/routing_pgbench.sh [--time SECONDS] [--clients N] [--scale S]
#
# A coordinator and two hot standbys on loopback (scripts/foresight-cluster).
# pgbench -S (select-only), with the extended protocol and prepared
# statements (-M prepared) and with the simple protocol (-M simple), N
# clients (default 8), against:
#   primary    the coordinator with routing off (foresight.routing_policy = local)
#   standby    standby1 directly
#   routed     the coordinator, round_robin over the two standbys, include_local off
#   pgpool     Debian's pgpool-II on loopback, load-balancing over the same standbys
# and then, with one client, the per-query latency of a standby reached
# directly and through the coordinator (the added latency of routing).
# Prints TPS and p50/p99 latency, the ratios, and writes
# bench/results/routing.md.  Not a timed test: everything shares one machine's
# CPUs, so absolute numbers say little; the ratios are the point.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/pgpool.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" pgpool2
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/routing_pgbench.sh "$@"

duration=15
clients=8
scale=10
while [ $# -gt 0 ]; do
	case $1 in
		--time) duration=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--scale) scale=$2; shift 2 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

bench_prelude routing-bench
pgpool_port=$((port + 10))

cleanup() {
	set +e
	pgpool_stop "$work/pgpool"
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
}
trap cleanup EXIT

sql() { bench_sql "$@"; }
bench_cluster_start "$cluster" "$port" "$scale"
pgpool_start "$work/pgpool" "$pgpool_port" "$port" $((port + 1)) $((port + 2))

routed_opts="-c foresight.routing_policy=round_robin -c foresight.include_local=off"
local_opts="-c foresight.routing_policy=local"

# run NAME PORT MODE CLIENTS PGOPTIONS → "tps p50 p99" (latencies in ms)
run() {
	local name=$1 target=$2 mode=$3 n=$4 opts=$5
	local threads=$(( n < 4 ? n : 4 ))
	rm -f "$work/logs/$name".*
	# warm-up (connections, caches), then the measured run with per-transaction logs
	PGOPTIONS="$opts" pgbench -h 127.0.0.1 -p "$target" -n -S -M "$mode" -c "$n" -j "$threads" -T 3 postgres >/dev/null 2>&1 || true
	(cd "$work/logs" && PGOPTIONS="$opts" pgbench -h 127.0.0.1 -p "$target" -n -S -M "$mode" -c "$n" -j "$threads" \
		-T "$duration" -l --log-prefix="$name" postgres > "$name.out" 2>&1) || { cat "$work/logs/$name.out" >&2; die "pgbench $name failed"; }
	local tps
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/logs/$name.out" | tail -1)
	cat "$work/logs/$name".[0-9]* | awk '{ print $3 / 1000.0 }' | sort -n > "$work/lat"
	local cnt
	cnt=$(wc -l < "$work/lat")
	pct() { awk -v n="$cnt" -v p="$1" 'NR == int(n * p / 100) + (int(n * p / 100) == 0) { printf "%.3f", $1; exit }' "$work/lat"; }
	echo "$tps $(pct 50) $(pct 99)"
}

declare -A R
for mode in prepared simple; do
	for target in primary standby routed pgpool; do
		case $target in
			primary) p=$port; o=$local_opts ;;
			standby) p=$((port + 1)); o="" ;;
			routed) p=$port; o=$routed_opts ;;
			pgpool) p=$pgpool_port; o="" ;;
		esac
		note "$mode: $target, $clients clients, ${duration}s"
		R[$mode,$target]=$(run "$mode-$target" "$p" "$mode" "$clients" "$o")
		echo "    tps p50_ms p99_ms: ${R[$mode,$target]}"
	done
done
# checks: the routed runs really went to the standbys
routed_count=$(sql "$port" "SELECT sum(routed) FROM foresight.routing_stats WHERE node_name <> 'local'")

for mode in prepared simple; do
	for target in standby routed; do
		case $target in
			standby) p=$((port + 1)); o="" ;;
			routed) p=$port; o=$routed_opts ;;
		esac
		note "$mode: $target, 1 client, ${duration}s (latency)"
		R[$mode,$target,1]=$(run "$mode-$target-1" "$p" "$mode" 1 "$o")
		echo "    tps p50_ms p99_ms: ${R[$mode,$target,1]}"
	done
done

field() { echo "$1" | awk -v f="$2" '{ print $f }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
diff_us() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (a - b) * 1000 }'; }

host="$(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
out=$results/routing.md
{
	echo "# Routing benchmark (bench/routing_pgbench.sh)"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $host; pgbench -S, scale $scale, $clients clients, ${duration}s per run,"
	echo "PostgreSQL $(pg_config --version | awk '{ print $2 }'), pgpool-II $(pgpool --version 2>&1 | awk '{ print $3 }')."
	echo "All servers, pgpool-II and pgbench share the machine. Latencies in ms from pgbench's per-transaction log."
	echo
	for mode in prepared simple; do
		echo "## -M $mode, $clients clients"
		echo
		echo "| target | TPS | p50 ms | p99 ms | TPS vs primary | TPS vs pgpool-II |"
		echo "|---|---:|---:|---:|---:|---:|"
		for target in primary standby routed pgpool; do
			v=${R[$mode,$target]}
			echo "| $target | $(field "$v" 1) | $(field "$v" 2) | $(field "$v" 3) | $(ratio "$(field "$v" 1)" "$(field "${R[$mode,primary]}" 1)") | $(ratio "$(field "$v" 1)" "$(field "${R[$mode,pgpool]}" 1)") |"
		done
		echo
	done
	echo "## Added latency of routing, 1 client"
	echo
	echo "| protocol | standby direct p50 ms | routed p50 ms | added p50 µs | standby p99 ms | routed p99 ms |"
	echo "|---|---:|---:|---:|---:|---:|"
	for mode in prepared simple; do
		s=${R[$mode,standby,1]}
		r=${R[$mode,routed,1]}
		echo "| $mode | $(field "$s" 2) | $(field "$r" 2) | $(diff_us "$(field "$r" 2)" "$(field "$s" 2)") | $(field "$s" 3) | $(field "$r" 3) |"
	done
	echo
	echo "Queries counted on the standbys by foresight.routing_stats: $routed_count."
	echo
	echo "routed = client → coordinator (parse, plan, custom scan) → libpq → standby → back; so its latency"
	echo "is a direct standby query plus one loopback hop and the coordinator's parse/plan/convert work."
} > "$out"
cat "$out"
