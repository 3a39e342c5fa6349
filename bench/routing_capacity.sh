#!/usr/bin/env bash
# bench/routing_capacity.sh: does routing add capacity when every server
# has the same small CPU quota?  (issue #18's set-up)
#
#   bash bench/routing_capacity.sh [--time SECONDS] [--clients N]
#                                  [--quota CORES] [--rounds R] [--scale S]
#                                  [--huge-pages]
#
# A coordinator and two hot standbys on loopback, each held to the same
# CPU quota by the cgroup v1 cpu controller (default 0.4 core; without a
# writable cgroup the report says there were no limits), pgpool-II (Debian's
# pgpool2) outside the quotas as a proxy on its own machine would be,
# pgbench -S with N clients (default 8) as fast as it goes, simple and
# prepared protocol, against:
#   primary            the coordinator alone (foresight.routing_policy = local)
#   pgpool             pgpool-II load-balancing over the two standbys
#                      (its clients with foresight.routing_policy = local,
#                      so the routing standbys run what it sends them:
#                      bench/lib/pgpool.sh)
#   least_connections  the coordinator, least_connections, include_local on
#   predictive_nocost  the coordinator, predictive, foresight.coordinator_cost off
#   predictive         the coordinator, predictive, foresight.coordinator_cost on
#   spread             the clients spread over the three servers (a third
#                      on each: libpq multi-host strings would do the same),
#                      each routing by the predictive policy: the standbys
#                      with foresight.standby_routing on and the primary
#                      registered as the node of kind primary
# R rounds (default 2), the targets interleaved within each round.  For
# each: TPS (median of the rounds), p99 latency, the coordinator's CPU per
# query (its processes' CPU over the middle of the run, from
# /proc/<pid>/schedstat, over the queries of that window) and the share of
# reads the coordinator ran itself.  Writes bench/results/routing_capacity.md.
# The servers' shared memory is in 4 kB pages (huge_pages = off), or with
# --huge-pages in 2 MB pages (vm.nr_hugepages reserved for the run, as
# root) and the report goes to bench/results/routing_capacity_huge_pages.md.
# Not a timed test: compare the ratios of one run.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"
. "$FORESIGHT_ROOT/bench/lib/pgpool.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" pgpool2
CGROUP_NAME=${CGROUP_NAME:-foresight_capacity_$$}
cgroup_for_user "$CGROUP_NAME"
bench_huge_pages_option "$@"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/routing_capacity.sh "$@"

duration=15
clients=8
quota=0.4
rounds=2
scale=10
while [ $# -gt 0 ]; do
	case $1 in
		--time) duration=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--quota) quota=$2; shift 2 ;;
		--rounds) rounds=$2; shift 2 ;;
		--scale) scale=$2; shift 2 ;;
		--huge-pages) BENCH_HUGE_PAGES=on; shift ;;
		-h|--help) sed -n '2,34p' "$0"; exit 0 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done
[ "$duration" -ge 8 ] || die "--time must be at least 8 seconds"

bench_prelude capacity
pgpool_port=$((port + 10))

cleanup() {
	set +e
	pgpool_stop "$work/pgpool"
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
}
trap cleanup EXIT

bench_cluster_start "$cluster" "$port" "$scale"
limits=$(cgroup_bench_quotas "$CGROUP_NAME" "$cluster" "$quota" "$quota" "$quota")
note "CPU: $limits"
pgpool_start "$work/pgpool" "$pgpool_port" "$port" $((port + 1)) $((port + 2))

# every node can route: the primary described in the (replicated)
# registry, the standbys routing their own sessions' reads
bench_every_node_routes "$cluster" "$port"

targets="primary pgpool least_connections predictive_nocost predictive spread"
target_port() { [ "$1" = pgpool ] && echo "$pgpool_port" || echo "$port"; }
target_opts() {
	case $1 in
		primary) echo "-c foresight.routing_policy=local" ;;
		pgpool) echo "$PGPOOL_SESSION_OPTIONS" ;;
		least_connections) echo "-c foresight.routing_policy=least_connections -c foresight.include_local=on" ;;
		predictive_nocost) echo "-c foresight.routing_policy=predictive -c foresight.include_local=on -c foresight.coordinator_cost=off" ;;
		predictive) echo "-c foresight.routing_policy=predictive -c foresight.include_local=on -c foresight.coordinator_cost=on" ;;
	esac
}

# CPU nanoseconds of the coordinator's processes now
coordinator_cpu_ns() {
	local pm pid ns total=0
	pm=$(head -1 "$cluster/coordinator/postmaster.pid")
	for pid in $(pgrep -P "$pm"); do
		read -r ns _ < "/proc/$pid/schedstat" 2>/dev/null && total=$((total + ns))
	done
	echo "$total"
}

# routed and local counts of the coordinator (foresight.routing_stats)
routing_counts() {
	bench_sql "$port" "SELECT coalesce(sum(routed) FILTER (WHERE node_name <> 'local'), 0) || ' ' || coalesce(sum(routed) FILTER (WHERE node_name = 'local'), 0) FROM foresight.routing_stats"
}

# run_spread NAME MODE → "tps p99_ms cpu_us_per_query -": a third of the
# clients on each server, predictive everywhere; TPS summed, p99 over all
run_spread() {
	local name=$1 mode=$2 o="-c foresight.routing_policy=predictive -c foresight.include_local=on"
	local window=$((duration - 4)) a b tps i c pids=()
	rm -f "$work/logs/$name".*
	for i in 0 1 2; do
		c=$(( (clients + 2 - i) / 3 ))
		[ "$c" -gt 0 ] || continue
		(cd "$work/logs" && PGOPTIONS="$o" pgbench -h 127.0.0.1 -p $((port + i)) -n -S -M "$mode" -c "$c" -j 1 \
			-T "$duration" -l --log-prefix="$name-$i" postgres > "$name-$i.out" 2>&1) &
		pids+=($!)
	done
	sleep 2
	a=$(coordinator_cpu_ns)
	sleep "$window"
	b=$(coordinator_cpu_ns)
	for i in "${pids[@]}"; do wait "$i" || die "pgbench $name failed"; done
	tps=$(cat "$work/logs/$name"-[0-9].out | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | awk '{ s += $1 } END { print s }')
	cat "$work/logs/$name"-[0-9].[0-9]* | awk '{ print $3 / 1000.0 }' | sort -n > "$work/lat"
	awk -v tps="$tps" -v a="$a" -v b="$b" -v w="$window" '
		{ v[NR] = $1 }
		END {
			p99 = v[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1];
			printf "%.0f %.2f %.1f -\n", tps, p99, (b - a) / 1000.0 / (tps * w)
		}' "$work/lat"
}

# run NAME TARGET MODE → "tps p99_ms cpu_us_per_query local_share decision_mix"
run() {
	local name=$1 target=$2 mode=$3 p o window=$((duration - 4)) a b tps counts0 counts1 mix
	if [ "$target" = spread ]; then
		run_spread "$name" "$mode"
		return
	fi
	p=$(target_port "$target")
	o=$(target_opts "$target")
	rm -f "$work/logs/$name".*
	PGOPTIONS="$o" pgbench -h 127.0.0.1 -p "$p" -n -S -M "$mode" -c "$clients" -j 2 -T 2 postgres >/dev/null 2>&1 || true
	counts0=$(routing_counts)
	(cd "$work/logs" && PGOPTIONS="$o" pgbench -h 127.0.0.1 -p "$p" -n -S -M "$mode" -c "$clients" -j 2 \
		-T "$duration" -l --log-prefix="$name" postgres > "$name.out" 2>&1) &
	local bench=$!
	sleep 2
	a=$(coordinator_cpu_ns)
	sleep "$window"
	b=$(coordinator_cpu_ns)
	wait "$bench" || { cat "$work/logs/$name.out" >&2; die "pgbench $name failed"; }
	counts1=$(routing_counts)
	mix=-
	[ "$target" = primary ] || [ "$target" = pgpool ] || mix=$(bench_decision_mix "$port")
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/logs/$name.out" | tail -1)
	cat "$work/logs/$name".[0-9]* | awk '{ print $3 / 1000.0 }' | sort -n > "$work/lat"
	awk -v tps="$tps" -v a="$a" -v b="$b" -v w="$window" -v c0="$counts0" -v c1="$counts1" -v mix="$mix" '
		{ v[NR] = $1 }
		END {
			split(c0, x, " "); split(c1, y, " ");
			routed = y[1] - x[1]; here = y[2] - x[2];
			share = (routed + here > 0) ? here / (routed + here) : 1;
			p99 = v[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1];
			printf "%.0f %.2f %.1f %.2f %s\n", tps, p99, (b - a) / 1000.0 / (tps * w), share, mix
		}' "$work/lat"
}

declare -A R
for round in $(seq 1 "$rounds"); do
	for mode in simple prepared; do
		for target in $targets; do
			note "round $round, $mode: $target, $clients clients, ${duration}s"
			R[$round,$mode,$target]=$(run "r$round-$mode-$target" "$target" "$mode")
			echo "    tps p99_ms coordinator_cpu_us/query local_share reused/cost_rule/policy: ${R[$round,$mode,$target]}"
		done
	done
done

# the median over rounds of field F of a target
median_field() {
	local mode=$1 target=$2 f=$3 round
	for round in $(seq 1 "$rounds"); do echo "${R[$round,$mode,$target]}" | awk -v f="$f" '{ print $f }'; done |
		sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

host="$(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
out=$results/routing_capacity.md
pages=$(bench_pages_text)
huge_flag=
if [ "${BENCH_HUGE_PAGES:-off}" = on ]; then
	out=$results/routing_capacity_huge_pages.md
	huge_flag=" --huge-pages"
fi
{
	echo "# Routing capacity under equal CPU quotas (bench/routing_capacity.sh)"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $host (load average before: $load_before);"
	echo "$limits; pgpool-II outside the quotas; $pages. pgbench -S, scale $scale, $clients clients, ${duration}s per run,"
	echo "$rounds rounds with the targets interleaved; medians over the rounds. Command: \`bash bench/routing_capacity.sh --time $duration --clients $clients --quota $quota --rounds $rounds --scale $scale$huge_flag\`."
	echo
	echo "| protocol | target | TPS | vs primary | vs pgpool | p99 ms | coordinator CPU µs/query | run on the coordinator |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	for mode in simple prepared; do
		primary_tps=$(median_field "$mode" primary 1)
		pgpool_tps=$(median_field "$mode" pgpool 1)
		for target in $targets; do
			tps=$(median_field "$mode" "$target" 1)
			cpu=$(median_field "$mode" "$target" 3)
			share=$(median_field "$mode" "$target" 4)
			case $target in pgpool|spread) share="-" ;; esac
			echo "| $mode | $target | $tps | $(ratio "$tps" "$primary_tps") | $(ratio "$tps" "$pgpool_tps") | $(median_field "$mode" "$target" 2) | $cpu | $share |"
		done
	done
	echo
	echo "spread: a third of the clients on each server (the coordinator and the two standbys, each routing"
	echo "by the predictive policy); its coordinator CPU per query is the coordinator's CPU over all the"
	echo "queries of the three servers."
	echo
	echo "Every round's numbers (tps, p99 ms, coordinator CPU µs per query, share run on the coordinator,"
	echo "and how the coordinator's last 1000 decisions of the run were made: a verdict reused while the"
	echo "coordinator is the bottleneck / the cost rule decided in full / the policy's own choice in full):"
	echo
	for round in $(seq 1 "$rounds"); do
		for mode in simple prepared; do
			for target in $targets; do echo "- round $round, $mode, $target: ${R[$round,$mode,$target]}"; done
		done
	done
} > "$out"
note "wrote $out"
cat "$out"
