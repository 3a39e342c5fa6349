#!/usr/bin/env bash
# bench/split_pieces.sh: what one more piece costs a split, measured, for
# foresight.split_piece_cost's default.
#
#   bash bench/split_pieces.sh [--scale S] [--quota CORES] [--runs N]
#                              [--pieces 2,4,8,...]
#
# A coordinator and two hot standbys on loopback, each held to the same CPU
# quota (default 0.6 core) by the cgroup v1 cpu controller, pgbench_accounts
# at scale S (default 20: 2 million rows), abalance filled, frozen, caches
# warm.  Two reads, count(*) and a 100-group sum/avg, are split over the
# two standbys into P pieces for each P of the list (default 2 to 128 by
# powers of two; foresight.split_piece_cost set so that the piece rule
# gives P, the plan's "Parts" checked), and routed whole to a standby for
# the plan's pace: plan cost units per millisecond.  Each: the median of N
# runs (default 5) on one connection (bench/lib/query_timer.c).
#
# The fit: a split's time is its work over the two nodes plus each node's
# pieces times the overhead of one, t(P) = a + b * P / 2; least squares over
# the piece counts from 8 up (below that, a part is large enough for the
# node's planner to read it by a sequential scan rather than by the key's
# index, another cost per row, reported but not fitted).  b in plan cost
# units (b times the pace) is what foresight.split_piece_cost stands for.
# Writes bench/results/split_pieces.md.  Not a timed test.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}"
CGROUP_NAME=${CGROUP_NAME:-foresight_pieces_$$}
cgroup_for_user "$CGROUP_NAME"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/split_pieces.sh "$@"

scale=20
quota=0.6
runs=5
pieces="2 4 8 16 32 64 128"
command_line="bash bench/split_pieces.sh${*:+ $*}"
while [ $# -gt 0 ]; do
	case $1 in
		--scale) scale=$2; shift 2 ;;
		--quota) quota=$2; shift 2 ;;
		--runs) runs=$2; shift 2 ;;
		--pieces) pieces=${2//,/ }; shift 2 ;;
		-h|--help) sed -n '2,24p' "$0"; exit 0 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

bench_prelude pieces
bench_query_timer
cleanup() {
	set +e
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

sql() { bench_sql "$port" "$1"; }
bench_cluster_start "$cluster" "$port" "$scale"
note "filling abalance, then VACUUM (FREEZE, ANALYZE)"
sql "UPDATE pgbench_accounts SET abalance = (aid::bigint * 7919 % 10007 - 5000)::integer"
sql "VACUUM (FREEZE, ANALYZE) pgbench_accounts"
sql "CHECKPOINT"
bench_wait_replay "$port" $((port + 1)) $((port + 2))
loadavg0=$(cut -d' ' -f1-3 /proc/loadavg)
limits=$(cgroup_bench_quotas "$CGROUP_NAME" "$cluster" "$quota" "$quota" "$quota")
note "CPU: $limits"

common="SET client_min_messages = warning; SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = predictive; SET foresight.include_local = off;"
whole="$common SET foresight.split = off;"
split="$common SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.max_split_parts = 2;"

# median wall ms of RUNS runs of QUERY under SETTINGS
median_ms() {
	"$timer" "host=127.0.0.1 port=$port dbname=postgres" "$runs" "$work/out" "$1" "$2" |
		cut -d' ' -f1 | sort -g | awk '{ v[NR] = $1 } END { printf "%.1f\n", v[int((NR + 1) / 2)] }'
}
# the plan's total cost on the coordinator, run here
plan_cost() {
	psql -X -q -At -h 127.0.0.1 -p "$port" -d postgres -c "SET foresight.routing_policy = local; SET max_parallel_workers_per_gather = 0" \
		-c "EXPLAIN $1" | head -1 | sed -n 's/.*cost=[0-9.]*\.\.\([0-9.]*\) .*/\1/p'
}
# the parts the split's plan shows under SETTINGS
plan_parts() {
	psql -X -q -At -h 127.0.0.1 -p "$port" -d postgres -c "$1" -c "EXPLAIN (COSTS OFF) $2" |
		sed -n 's/.*Parts: \([0-9]*\).*/\1/p' | head -1
}

declare -A Q=(
	[count]="SELECT count(*) FROM pgbench_accounts"
	[group_few]="SELECT bid, sum(abalance)::bigint, round(avg(abalance), 6) FROM pgbench_accounts GROUP BY bid ORDER BY bid"
)
rows=$work/rows
: > "$rows"
for q in count group_few; do
	cost=$(plan_cost "${Q[$q]}")
	t_whole=$(median_ms "$whole" "${Q[$q]}")
	note "$q: plan cost $cost, routed whole $t_whole ms"
	echo "$q whole 1 $t_whole $cost" >> "$rows"
	for p in $pieces; do
		# the rule gives the largest power of two P with cost / P * 0.1 >= split_piece_cost
		pc=$(awk -v c="$cost" -v p="$p" 'BEGIN { if (p <= 2) print 0; else printf "%.4f\n", c * 0.1 / p * 0.999 }')
		s="$split SET foresight.split_piece_cost = $pc;"
		got=$(plan_parts "$s" "${Q[$q]}")
		t=$(median_ms "$s" "${Q[$q]}")
		note "$q: $p pieces asked (split_piece_cost $pc), plan Parts: ${got:-?}, $t ms"
		echo "$q split ${got:-0} $t $cost" >> "$rows"
	done
done

out=$results/split_pieces.md
{
	echo "# What one more piece costs a split (bench/split_pieces.sh)"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs (load average before: $loadavg0);"
	echo "\`$command_line\`: scale $scale ($(sql "SELECT count(*) FROM pgbench_accounts") rows, frozen), $limits;"
	echo "median of $runs runs each on one connection."
	echo
	for q in count group_few; do
		echo "## $q"
		echo
		echo '```sql'
		echo "${Q[$q]}"
		echo '```'
		echo
		echo "| pieces | median ms | per node | vs routed whole |"
		echo "|---:|---:|---:|---:|"
		awk -v q="$q" '$1 == q && $2 == "whole" { w = $4; printf "| whole | %.1f | 1 | 1.00 |\n", $4 }
			$1 == q && $2 == "split" { printf "| %d | %.1f | %d | %.2f |\n", $3, $4, $3 / 2, w / $4 }' "$rows"
		echo
		awk -v q="$q" '
			$1 == q && $2 == "whole" { w = $4; cost = $5 }
			$1 == q && $2 == "split" && $3 >= 8 { x = $3 / 2; n++; sx += x; sy += $4; sxx += x * x; sxy += x * $4 }
			END {
				if (n < 2) { print "Too few piece counts of 8 or more to fit."; exit }
				b = (n * sxy - sx * sy) / (n * sxx - sx * sx); a = (sy - b * sx) / n; pace = cost / w
				printf "Fit over the piece counts from 8: t = %.1f ms + %.3f ms per piece a node runs.\n", a, b
				printf "Pace (routed whole): %.0f plan cost units in %.1f ms, %.1f units per ms; one piece costs\n", cost, w, pace
				printf "**%.0f plan cost units**; its work over two nodes alone, %.1f ms, against the fit'"'"'s %.1f.\n", b * pace, w / 2, a
			}' "$rows"
		echo
	done
} > "$out"
note "wrote $out"
cat "$out"
