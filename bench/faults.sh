#!/usr/bin/env bash
# bench/faults.sh: a standby stopped with SIGSTOP under a read load.
#
#   bash bench/faults.sh [--time SECONDS] [--clients N] [--stop SECONDS]
#
# A coordinator and two hot standbys on loopback (bench/lib/cluster.sh,
# pgbench tables of scale 10), the default settings (predictive routing,
# sample_interval 1 s, derived response deadline), include_local off.  For
# each workload, N clients (default 4) run pgbench for SECONDS (default 30)
# through the coordinator; after 5 s standby1 (its postmaster and every
# process it started) is stopped with SIGSTOP for --stop seconds (default
# 20), then continued.  Workloads (each result is checked by the script:
# a wrong one raises an error, counted as a failed client):
#   point   10 rows by primary key, count and sum checked
#   large   a scan of pgbench_accounts (1,000,000 rows), its count checked
#   xact    two reads in a transaction block, checked together
# Reports transactions, failed clients and their errors, the longest
# transaction, the time until the monitor marked standby1 down, and after
# SIGCONT until it was up and until its slow start ended.  Writes
# bench/results/faults.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/faults.sh "$@"

duration=30
clients=4
stop_s=20
while [ $# -gt 0 ]; do
	case $1 in
		--time) duration=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--stop) stop_s=$2; shift 2 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

cd "$FORESIGHT_ROOT"
build_and_install
export PATH="$FORESIGHT_BINDIR:$PATH"
work=$(mktemp -d /tmp/foresight-faults-bench.XXXXXX)
results=$FORESIGHT_ROOT/bench/results
mkdir -p "$results" "$work/logs"
port=$((20000 + RANDOM % 20000))
cluster=$work/cluster

standby_pids() {
	local pm
	pm=$(head -1 "$cluster/standby1/postmaster.pid")
	echo "$pm" $(pgrep -P "$pm" || true)
}
cleanup() {
	set +e
	kill -CONT $(standby_pids) 2>/dev/null
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
}
trap cleanup EXIT

bench_cluster_start "$cluster" "$port" 10
sql() { bench_sql "$port" "$1"; }

cat > "$work/point.sql" <<'EOF'
\set k random(1, 999990)
SELECT count(*) AS c, sum(aid) AS s FROM pgbench_accounts WHERE aid BETWEEN :k AND :k + 9 \gset
\if :c != 10 or :s != 10 * :k + 45
SELECT 'wrong result' :: int;
\endif
EOF
cat > "$work/large.sql" <<'EOF'
SELECT count(*) AS c FROM pgbench_accounts WHERE abalance = 0 \gset
\if :c != 1000000
SELECT 'wrong result' :: int;
\endif
EOF
cat > "$work/xact.sql" <<'EOF'
\set k random(1, 999990)
BEGIN;
SELECT count(*) AS c FROM pgbench_accounts WHERE aid BETWEEN :k AND :k + 9 \gset
SELECT sum(aid) AS s FROM pgbench_accounts WHERE aid BETWEEN :k AND :k + 9 \gset
END;
\if :c != 10 or :s != 10 * :k + 45
SELECT 'wrong result' :: int;
\endif
EOF

# seconds (to 0.1) until SQL on the coordinator returns t, at most $2
wait_for() {
	local started now
	started=$(date +%s.%N)
	for _ in $(seq 1 $(($2 * 10))); do
		[ "$(sql "$1")" = t ] && break
		sleep 0.1
	done
	now=$(date +%s.%N)
	awk -v a="$started" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

status="SELECT status FROM foresight.node_health WHERE node_name = 'standby1'"
quarantine="SELECT quarantine FROM foresight.nodes WHERE node_name = 'standby1'"

rows=()
for workload in point large xact; do
	note "$workload: $clients clients for $duration s, standby1 stopped from 5 s for $stop_s s"
	wait_for "SELECT ($status) = 'up' AND ($quarantine) = 'normal'" 120 >/dev/null
	rm -f "$work/logs/$workload".*
	(cd "$work/logs" && PGOPTIONS="-c foresight.include_local=off" \
		pgbench -h 127.0.0.1 -p "$port" -n -f "$work/$workload.sql" -c "$clients" -j "$clients" \
		-T "$duration" -l --log-prefix="$workload" postgres > "$workload.out" 2>&1) &
	bench=$!
	sleep 5
	kill -STOP $(standby_pids)
	detect=$(wait_for "SELECT ($status) = 'down'" "$stop_s")
	sleep $(awk -v s="$stop_s" -v d="$detect" 'BEGIN { r = s - d; print (r > 0 ? r : 0) }')
	kill -CONT $(standby_pids)
	up=$(wait_for "SELECT ($status) = 'up'" 60)
	wait "$bench" || true
	normal=$(wait_for "SELECT ($quarantine) = 'normal'" 120)
	txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/logs/$workload.out")
	failed=$(grep -c 'aborted in command' "$work/logs/$workload.out" || true)
	wrong=$(grep -c 'wrong result' "$work/logs/$workload.out" || true)
	errors=$(sed -n 's/.*aborted in command [0-9]* query [0-9]*: \(.*\)/\1/p' "$work/logs/$workload.out" |
		sort | uniq -c | sed 's/^ *//' | paste -sd ';' -)
	longest=$(cat "$work/logs/$workload".[0-9]* 2>/dev/null | awk 'BEGIN { m = 0 } $3 > m { m = $3 } END { printf "%.0f", m / 1000 }')
	rows+=("| $workload | ${txns:-0} | $failed | $wrong | $longest | $detect | $up | $normal | ${errors:-} |")
	printf '%s\n' "${rows[-1]}"
done

{
	echo "# Faults: a standby stopped (SIGSTOP) under a read load"
	echo
	echo "\`bash bench/faults.sh --time $duration --clients $clients --stop $stop_s\`, $(date -u '+%Y-%m-%d')."
	echo "A coordinator and two hot standbys on one machine (2 cores shared with other work), pgbench scale 10,"
	echo "default settings (predictive routing, \`sample_interval\` 1 s, \`down_after\` 3, derived response deadline,"
	echo "\`readmit_ramp\` 30 s), \`include_local\` off. standby1 is stopped 5 s into each run for $stop_s s."
	echo
	echo "| workload | transactions | failed clients | wrong results | longest transaction (ms) | marked down after (s) | up after SIGCONT (s) | slow start over after (s) | errors |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "A failed client is one pgbench stopped at its first error (it runs no more transactions). In a"
	echo "transaction block whose earlier read ran on the stopped node, the designed outcome is an error naming the"
	echo "node (\`08006 node \"standby1\" stopped answering\`); a query that had returned no row runs elsewhere."
} > "$results/faults.md"
note "wrote bench/results/faults.md"
