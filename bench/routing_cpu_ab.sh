#!/usr/bin/env bash
# bench/routing_cpu_ab.sh: the coordinator's CPU per routed query, two
# revisions side by side.
#
#   bash bench/routing_cpu_ab.sh [--rounds N] REV_A REV_B
#
# Builds both git revisions of this repository (each in a tree and a
# private install of its own), starts a coordinator and two hot standbys
# for each at once, and runs short alternating bursts of one pgbench client
# through each coordinator (round_robin over its standbys, include_local
# off): -S -M prepared, -S -M simple, and a wide query (-M prepared, 50 rows
# of int, text, timestamptz, numeric and float8).  Per burst: the CPU time
# of the coordinator backend serving pgbench (/proc/<pid>/schedstat) over
# 3 s, divided by the queries routed meanwhile (foresight.routing_stats).
# The order of the two alternates every round, so both see the same
# machine, busy or not; compare the paired medians.  Writes
# bench/results/routing_cpu_ab.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}"
# the revisions' trees, archived before this runs again unprivileged from a
# copy of the tree (which has no .git)
ab_tar() { echo "/tmp/foresight-ab-$(printf '%s' "$1" | md5sum | cut -c1-8).tar"; }
for rev in "${@: -2}"; do
	if git -C "$FORESIGHT_ROOT" rev-parse -q --verify "$rev^{commit}" >/dev/null 2>&1; then
		git -C "$FORESIGHT_ROOT" archive -o "$(ab_tar "$rev")" "$rev"
	fi
	[ -f "$(ab_tar "$rev")" ] || die "cannot read revision $rev"
done
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/routing_cpu_ab.sh "$@"

rounds=10
while [ $# -gt 0 ]; do
	case $1 in
		--rounds) rounds=$2; shift 2 ;;
		-*) die "unknown option \"$1\"" ;;
		*) break ;;
	esac
done
[ $# -eq 2 ] || die "two revisions, please"
revs=("$1" "$2")

work=$(mktemp -d /tmp/foresight-routing-cpu-ab.XXXXXX)
trap 'for v in 0 1; do "$work/tree$v/scripts/foresight-cluster" stop "$work/cluster$v" >/dev/null 2>&1 || true; done' EXIT
results=$FORESIGHT_ROOT/bench/results
mkdir -p "$results"
base=$((20000 + RANDOM % 20000))

sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -h 127.0.0.1 -p "$1" -d postgres -c "$2"; }

for v in 0 1; do
	mkdir -p "$work/tree$v"
	tar -x -C "$work/tree$v" -f "$(ab_tar "${revs[$v]}")"
	note "building ${revs[$v]}"
	(cd "$work/tree$v" && unset FORESIGHT_BUILD && . scripts/lib/common.sh && build_and_install) >/dev/null
done

port() { echo $((base + 1000 * $1)); }
bindir() { echo "$work/tree$1/.build/install/usr/lib/postgresql/$PG_MAJOR/bin"; }
for v in 0 1; do
	p=$(port $v)
	PATH="$(bindir $v):$PATH" "$work/tree$v/scripts/foresight-cluster" start "$work/cluster$v" --port "$p" >/dev/null
	PATH="$(bindir $v):$PATH" pgbench -h 127.0.0.1 -p "$p" -i -s 10 -q postgres >/dev/null 2>&1
	sql "$p" "CHECKPOINT"
	lsn=$(sql "$p" "SELECT pg_current_wal_lsn()")
	for i in 1 2; do
		until [ "$(sql $((p + i)) "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ]; do sleep 0.5; done
	done
done
printf '%s\n' "\\set aid random(1, 1000000 - 50)" \
	"SELECT aid, bid, abalance, filler, timestamptz '2024-01-01 00:00+00' + aid * interval '1 second', abalance * 1.5 + aid, aid / 7.0::float8 FROM pgbench_accounts WHERE aid BETWEEN :aid AND :aid + 49;" \
	> "$work/wide.sql"

# burst VERSION MODE → µs of the serving backend's CPU per routed query
burst() {
	local v=$1 mode=$2 p q1 q2 c1 c2 backend bench args
	p=$(port "$v")
	case $mode in
		prepared) args=(-S -M prepared) ;;
		simple) args=(-S -M simple) ;;
		wide) args=(-M prepared -f "$work/wide.sql") ;;
	esac
	PGOPTIONS="-c foresight.routing_policy=round_robin -c foresight.include_local=off" \
		"$(bindir "$v")/pgbench" -h 127.0.0.1 -p "$p" -n "${args[@]}" -c 1 -T 5 postgres >/dev/null 2>&1 &
	bench=$!
	sleep 1
	backend=$(sql "$p" "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' ORDER BY backend_start DESC LIMIT 1")
	q1=$(sql "$p" "SELECT sum(routed) FROM foresight.routing_stats")
	read -r c1 _ < "/proc/$backend/schedstat"
	sleep 3
	q2=$(sql "$p" "SELECT sum(routed) FROM foresight.routing_stats")
	read -r c2 _ < "/proc/$backend/schedstat"
	wait "$bench" || true
	echo $(((c2 - c1) / 1000 / (q2 - q1)))
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
: > "$work/bursts"
for r in $(seq 1 "$rounds"); do
	for mode in prepared simple wide; do
		order="0 1"
		[ $((r % 2)) = 0 ] && order="1 0"
		for v in $order; do
			echo "$mode $v $(burst "$v" "$mode")" >> "$work/bursts"
		done
	done
done

out=$results/routing_cpu_ab.md
{
	echo "# Coordinator backend CPU per routed query, A/B (bench/routing_cpu_ab.sh)"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs (load average before: $load), $rounds rounds of 3 s"
	echo "bursts per query and revision, alternating; A = ${revs[0]}, B = ${revs[1]}; µs of CPU per routed query."
	echo
	echo "| query | A median | B median | B/A, median of paired rounds | rounds B < A |"
	echo "|---|---:|---:|---:|---:|"
	for mode in prepared simple wide; do
		awk -v m="$mode" '$1 == m { v[$2, n[$2]++] = $3 }
			END {
				for (i = 0; i < n[0]; i++) { a[i] = v[0, i]; b[i] = v[1, i]; r[i] = v[1, i] / v[0, i]; if (b[i] < a[i]) w++ }
				printf "| %s | %s | %s | %.2f | %d of %d |\n", m, median(a, n[0]), median(b, n[0]), median(r, n[0]), w, n[0]
			}
			function median(x, k,    i, j, t) {
				for (i = 0; i < k; i++) for (j = i + 1; j < k; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
				return k % 2 ? x[(k - 1) / 2] : (x[k / 2 - 1] + x[k / 2]) / 2
			}' "$work/bursts"
	done
} > "$out"
cat "$out"
