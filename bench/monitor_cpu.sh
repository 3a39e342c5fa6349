#!/usr/bin/env bash
# bench/monitor_cpu.sh: CPU use of the "foresight monitor" worker and of
# the "foresight trainer", which retrains the models it feeds.
#
#   bash bench/monitor_cpu.sh [SECONDS [HORIZONS]]   (default 60, '1s, 5s, 1min')
#
# Starts a coordinator and two hot standbys (scripts/foresight-cluster),
# samples every second (foresight.sample_interval = 1s), and reads each
# worker's utime + stime from /proc/<pid>/stat over SECONDS with 2
# registered nodes, then with 8 (six more pointing at the same two
# standbys: the monitor treats every registration as a node of its own).
# Also reports the shared memory of the history rings per node, from
# pg_shmem_allocations.  HORIZONS sets foresight.prediction_horizons (at
# most the three of the default: the server starts with it), so the live
# models' share of the CPU can be compared with one horizon and more.
# Writes bench/results/monitor.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/monitor_cpu.sh "$@"

seconds=${1:-60}
horizons=${2:-}
cd "$FORESIGHT_ROOT"
build_and_install
bindir=$FORESIGHT_BINDIR
work=$(mktemp -d "${TMPDIR:-/tmp}/monitor-bench.XXXXXX")
port=$(free_port_block 3)
cleanup() { scripts/foresight-cluster stop "$work" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

note "cluster in $work on port $port"
scripts/foresight-cluster start "$work" --standbys 2 --port "$port" --bindir "$bindir" >/dev/null
psql_c() { "$bindir/psql" -X -q -A -t -h 127.0.0.1 -p "$port" -d postgres -v ON_ERROR_STOP=1 -c "$1"; }

psql_c "ALTER SYSTEM SET foresight.sample_interval = '1s'" >/dev/null
[ -z "$horizons" ] || psql_c "ALTER SYSTEM SET foresight.prediction_horizons = '$horizons'" >/dev/null
psql_c "SELECT pg_reload_conf()" >/dev/null
pid=$(psql_c "SELECT pid FROM foresight.monitor")
[ -n "$pid" ] || die "the monitor is not running"
trainer=$(psql_c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'foresight trainer'")
[ -n "$trainer" ] || die "the trainer is not running"
hz=$(getconf CLK_TCK)

ticks() { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }

# measure NAME: CPU % of one core over $seconds, and samples taken
measure() {
	local nodes
	nodes=$(psql_c "SELECT count(*) - 1 FROM foresight.nodes")
	sleep 5    # connections opened, first samples taken
	local t0 w0 s0 t1 w1 s1 r0 r1
	s0=$(psql_c "SELECT sum(polls) FROM foresight.node_health")
	t0=$(ticks "$pid"); r0=$(ticks "$trainer"); w0=$(date +%s.%N)
	sleep "$seconds"
	t1=$(ticks "$pid"); r1=$(ticks "$trainer"); w1=$(date +%s.%N)
	s1=$(psql_c "SELECT sum(polls) FROM foresight.node_health")
	local down
	down=$(psql_c "SELECT count(*) FROM foresight.node_health WHERE status <> 'up'")
	awk -v n="$nodes" -v t0="$t0" -v t1="$t1" -v r0="$r0" -v r1="$r1" -v w0="$w0" -v w1="$w1" -v hz="$hz" \
		-v s0="$s0" -v s1="$s1" -v down="$down" 'BEGIN {
		wall = w1 - w0; cpu = (t1 - t0) / hz; tcpu = (r1 - r0) / hz;
		printf "| %d | %.1f | %.2f | %.3f %% | %d | %.2f | %.2f | %.3f %% | %d |\n",
			n, wall, cpu, 100 * cpu / wall, s1 - s0, (s1 > s0) ? 1000 * cpu / (s1 - s0) : 0,
			tcpu, 100 * tcpu / wall, down }'
}

rows=()
note "2 nodes, ${seconds} s"
rows+=("$(measure)")
for i in 3 4 5 6 7 8; do
	sp=$((port + 1 + (i % 2)))
	psql_c "SELECT foresight.add_node('extra$i', 'host=127.0.0.1 port=$sp')" >/dev/null
done
note "8 nodes, ${seconds} s"
rows+=("$(measure)")

slots=$(psql_c "SELECT current_setting('foresight.max_nodes')::int + 1")
hsize=$(psql_c "SELECT current_setting('foresight.history_size')")
hbytes=$(psql_c "SELECT size FROM pg_shmem_allocations WHERE name = 'pg_foresight history'")
health=$(psql_c "SELECT size FROM pg_shmem_allocations WHERE name = 'pg_foresight node health'")
cpus=$(nproc)
kernel=$(uname -r)
load=$(cut -d' ' -f1-3 /proc/loadavg)
horizons_now=$(psql_c "SHOW foresight.prediction_horizons")

out=bench/results/monitor.md
{
	echo "# Monitor CPU and memory"
	echo
	echo "\`bash bench/monitor_cpu.sh $seconds${horizons:+ '$horizons'}\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $cpus CPUs, Linux $kernel,"
	echo "load average at the end $load (a shared machine). foresight.sample_interval = 1 s,"
	echo "foresight.prediction_horizons = '$horizons_now';"
	echo "coordinator and two hot standbys on one host; with 8 nodes, six extra registrations"
	echo "point at the same two standbys (each is polled over a connection of its own)."
	echo
	echo "CPU of the \"foresight monitor\" and \"foresight trainer\" processes (utime + stime from"
	echo "/proc/<pid>/stat, USER_HZ $hz, so the resolution is $((1000 / hz)) ms of CPU), over the measured"
	echo "wall time. The coordinator (\"local\") is sampled too, in-process, and counts in polls. The"
	echo "trainer retrains the models the monitor feeds (foresight.trainer_nice, foresight.trainer_cpu_limit)."
	echo
	echo "| registered nodes | wall s | monitor CPU s | monitor % of one core | polls | monitor CPU ms per poll | trainer CPU s | trainer % of one core | nodes not up |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for r in "${rows[@]}"; do echo "$r"; done
	echo
	echo "Shared memory of the history rings: $hbytes bytes for $slots slots (foresight.max_nodes + 1)"
	echo "at foresight.history_size = $hsize, i.e. $((hbytes / slots)) bytes per node"
	echo "(sizeof(MetricSample) × history_size + a 16-byte ring header; the sample is"
	echo "$(( (hbytes / slots - 16) / hsize )) bytes). Node health: $health bytes in all."
} > "$out"
cat "$out"
note "report written to $FORESIGHT_ROOT/$out"
