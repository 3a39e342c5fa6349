#!/usr/bin/env bash
# bench/routing_cpu.sh: where a routed query's CPU goes, per process group.
#
#   bash bench/routing_cpu.sh [--time SECONDS] [--rounds N] [--scale S] [--huge-pages]
#
# A coordinator and two hot standbys on loopback.  One pgbench client runs
# -S (select-only) with -M prepared and -M simple, and a "wide" query (-M
# prepared, 50 rows of 7 columns: int, text, timestamptz, numeric, float8),
# first against standby1 directly, then through the coordinator
# (round_robin over the two standbys, include_local off), then through the
# coordinator with foresight.defer_local_planning off, then by the
# predictive policy (the default; include_local off), and last against
# standby1 through a bare TCP relay (bench/lib/tcp_relay.c: epoll, recv,
# send, nothing read of the protocol), the least any proxy spends per
# query; its own CPU is the "backend" column of that row.  For each run: the
# CPU time every server's processes, the backend serving pgbench (on the
# coordinator when routed, on standby1 directly) and pgbench spent, from
# /proc/<pid>/schedstat over the middle of the run, divided by the
# transactions of that window: microseconds of CPU per query, per group.
# With --rounds N (default 1) the five targets of a protocol run N times,
# one after the other in turn, and each cell is the median of its N
# values, with the backend's lowest and highest beside it: this machine's
# speed moves by 10-20 % within minutes, which one run cannot tell from a
# difference between targets.
# Only the processes of this benchmark's servers and its own pgbench are
# counted (the machine may run other servers and benchmarks).  Writes
# bench/results/routing_cpu.md (with --huge-pages, the servers' shared
# memory in 2 MB pages, routing_cpu_huge_pages.md: bench/lib/cluster.sh).
# Not a timed test: the split between groups is the point, not the
# absolute numbers.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}"
bench_huge_pages_option "$@"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/routing_cpu.sh "$@"

duration=10
rounds=1
scale=10
while [ $# -gt 0 ]; do
	case $1 in
		--time) duration=$2; shift 2 ;;
		--rounds) rounds=$2; shift 2 ;;
		--scale) scale=$2; shift 2 ;;
		--huge-pages) BENCH_HUGE_PAGES=on; shift ;;
		*) die "unknown option \"$1\"" ;;
	esac
done
[ "$duration" -ge 6 ] || die "--time must be at least 6 seconds"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"

bench_prelude routing-cpu
trap 'scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1 || true' EXIT

bench_cluster_start "$cluster" "$port" "$scale"

# "key group cpu_ns" for the children of the three postmasters, for the
# backend serving pgbench (BACKEND, also in its server's group) and for
# pgbench itself (PGBENCH): only this benchmark's processes
snapshot() {
	local bench=$1 backend=$2 server pm pid ns
	for server in coordinator standby1 standby2; do
		pm=$(head -1 "$cluster/$server/postmaster.pid")
		for pid in $(pgrep -P "$pm"); do
			read -r ns _ < "/proc/$pid/schedstat" 2>/dev/null && echo "$pid $server $ns"
		done
	done
	read -r ns _ < "/proc/$bench/schedstat" 2>/dev/null && echo "$bench pgbench $ns"
	if [ -n "$backend" ]; then
		read -r ns _ < "/proc/$backend/schedstat" 2>/dev/null && echo "b$backend backend $ns"
	fi
	return 0
}

# the wide query: 50 rows of int, text, timestamptz, numeric and float8 values
wide_script=$work/wide.sql
printf '%s\n' "\\set aid random(1, 100000 * $scale - 50)" \
	"SELECT aid, bid, abalance, filler, timestamptz '2024-01-01 00:00+00' + aid * interval '1 second', abalance * 1.5 + aid, aid / 7.0::float8 FROM pgbench_accounts WHERE aid BETWEEN :aid AND :aid + 49;" \
	> "$wide_script"

# run NAME PORT MODE PGOPTIONS [PID] → "coordinator backend standby1 standby2 pgbench tps"
# (µs/query); PID: a process counted as the backend instead of the one serving pgbench
run() {
	local name=$1 target=$2 mode=$3 opts=$4 window=$((duration - 4)) backend
	local args=(-n -S -M "$mode")
	[ "$mode" = wide ] && args=(-n -M prepared -f "$wide_script")
	PGOPTIONS="$opts" pgbench -h 127.0.0.1 -p "$target" "${args[@]}" -c 1 -T 2 postgres >/dev/null 2>&1 || true
	PGOPTIONS="$opts" pgbench -h 127.0.0.1 -p "$target" "${args[@]}" -c 1 -T "$duration" postgres \
		> "$work/$name.out" 2>&1 &
	local bench_pid=$!
	sleep 2
	backend=${5:-$(bench_sql "$target" "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' ORDER BY backend_start DESC LIMIT 1")}
	snapshot "$bench_pid" "$backend" | sort > "$work/$name.s1"
	sleep "$window"
	snapshot "$bench_pid" "$backend" | sort > "$work/$name.s2"
	wait "$bench_pid" || die "pgbench $name failed: $(cat "$work/$name.out")"
	local tps
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/$name.out")
	join "$work/$name.s1" "$work/$name.s2" | awk -v tps="$tps" -v w="$window" '
		{ cpu[$2] += $5 - $3 }
		END {
			q = tps * w
			printf "%.1f %.1f %.1f %.1f %.1f %.0f\n", cpu["coordinator"] / 1000 / q, cpu["backend"] / 1000 / q,
				cpu["standby1"] / 1000 / q, cpu["standby2"] / 1000 / q, cpu["pgbench"] / 1000 / q, tps
		}'
}

# the bare relay, in front of standby1
cc -O2 -Wall -o "$work/tcp_relay" "$FORESIGHT_ROOT/bench/lib/tcp_relay.c"
relay_port=$(free_port_block 1)
"$work/tcp_relay" "$relay_port" $((port + 1)) > "$work/relay.out" 2>&1 &
relay_pid=$!
trap 'kill "$relay_pid" 2>/dev/null; scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1 || true' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do grep -q ready "$work/relay.out" && break; sleep 0.2; done
grep -q ready "$work/relay.out" || die "the relay did not start: $(cat "$work/relay.out")"

load=$(cut -d' ' -f1-3 /proc/loadavg)
routed="-c foresight.routing_policy=round_robin -c foresight.include_local=off"
# the default policy, the coordinator left out so that every read is routed
predictive="-c foresight.routing_policy=predictive -c foresight.include_local=off"
declare -A R
for mode in prepared simple wide; do
	for ((round = 1; round <= rounds; round++)); do
		note "$mode, round $round of $rounds: standby1 directly"
		R[$mode,direct]+="$(run "$mode-direct" $((port + 1)) "$mode" "")"$'\n'
		note "$mode, round $round: routed"
		R[$mode,routed]+="$(run "$mode-routed" "$port" "$mode" "$routed")"$'\n'
		note "$mode, round $round: routed, foresight.defer_local_planning off"
		R[$mode,planned]+="$(run "$mode-planned" "$port" "$mode" "$routed -c foresight.defer_local_planning=off")"$'\n'
		note "$mode, round $round: routed by the predictive policy"
		R[$mode,predictive]+="$(run "$mode-predictive" "$port" "$mode" "$predictive")"$'\n'
		note "$mode, round $round: standby1 through the bare relay"
		R[$mode,relay]+="$(run "$mode-relay" "$relay_port" "$mode" "" "$relay_pid")"$'\n'
	done
done

# a target's rounds ("coordinator backend standby1 standby2 pgbench tps" a
# line) as a table row: each column's median; the backend's range beside it
row_of_rounds() {
	awk '
		NF == 6 { n++; for (c = 1; c <= 6; c++) v[c, n] = $c }
		function median(c,   i, j, t, a) {
			for (i = 1; i <= n; i++) a[i] = v[c, i]
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		END {
			lo = hi = v[2, 1]
			for (i = 2; i <= n; i++) { if (v[2, i] < lo) lo = v[2, i]; if (v[2, i] > hi) hi = v[2, i] }
			range = ""
			if (n > 1)
				range = sprintf("%.1f-%.1f", lo, hi)
			printf "%.1f | %.1f | %s | %.1f | %.1f | %.1f | %.0f", median(1), median(2), range,
				median(3), median(4), median(5), median(6)
		}'
}

out=$results/routing_cpu.md
[ "${BENCH_HUGE_PAGES:-off}" = on ] && out=$results/routing_cpu_huge_pages.md
{
	echo "# CPU per query by process group (bench/routing_cpu.sh)"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo) (load average before: $load);"
	echo "$(bench_pages_text); pgbench -S, scale $scale, 1 client,"
	echo "${duration}s per run, $rounds round(s) in turn, medians; wide: 50 rows of int, text, timestamptz, numeric, float8 per query (-M prepared)."
	echo "CPU from /proc/<pid>/schedstat over the middle $((duration - 4)) s, in µs per query; backend: the one serving pgbench"
	echo "(the coordinator's when routed, standby1's directly, the relay process through the bare relay: not in any server)."
	echo
	echo "| protocol | target | coordinator | backend | backend's range | standby1 | standby2 | pgbench | TPS |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
	for mode in prepared simple wide; do
		for target in direct routed planned predictive relay; do
			case $target in
				direct) label="standby1 directly" ;;
				routed) label="routed" ;;
				planned) label="routed, defer_local_planning off" ;;
				predictive) label="routed, predictive" ;;
				relay) label="standby1 through a bare TCP relay" ;;
			esac
			echo "| $mode | $label | $(printf '%s' "${R[$mode,$target]}" | row_of_rounds) |"
		done
	done
} > "$out"
cat "$out"
