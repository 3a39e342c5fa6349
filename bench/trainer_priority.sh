#!/usr/bin/env bash
# bench/trainer_priority.sh: what retraining the models costs the queries
# when the server's CPU is what limits them, with the "foresight trainer"
# unbounded, at a lower priority, and within its CPU limit.
#
#   bash bench/trainer_priority.sh [--time SECONDS] [--clients N]
#                                  [--quota CORES] [--rounds R] [--fill SECONDS]
#
# A coordinator and two hot standbys (scale 10), the coordinator held to
# QUOTA cores (default 0.4) by the cgroup v1 cpu controller, the standbys
# to 1 core each (without a writable cgroup the report says there were no
# limits).  First the models' windows fill: foresight.sample_interval =
# 100 ms for FILL seconds (default 150: 1,500 samples a series, what 25
# minutes at the default 1 s give), then back to 1 s.  Then, per round (R,
# default 2), three runs of pgbench -S -M prepared with N clients (default
# 4) for SECONDS (default 20) on the coordinator, every read run there
# (foresight.routing_policy = local):
#   idle       no model due for training
#   unbounded  foresight.retrain() at the start and every 5 s (every model
#              retrained back to back), foresight.trainer_nice = 0 and
#              foresight.trainer_cpu_limit = 1: the CPU the monitor took
#              when it trained the models itself
#   nice_only  the same at trainer_nice = 10 (the default), no CPU limit
#   default    the same at the defaults: trainer_nice = 10,
#              trainer_cpu_limit = 0.05
# For each: TPS, p50 and p99 latency (pgbench's per-transaction log), the
# trainer's CPU (utime + stime from /proc/<pid>/stat) as a share of one
# core, and the models it trained.  Writes bench/results/trainer_priority.md.
# Not a timed test: compare the ratios of one run.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}"
CGROUP_NAME=${CGROUP_NAME:-foresight_trainer_$$}
cgroup_for_user "$CGROUP_NAME"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/trainer_priority.sh "$@"

duration=20
clients=4
quota=0.4
rounds=2
fill=150
while [ $# -gt 0 ]; do
	case $1 in
		--time) duration=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--quota) quota=$2; shift 2 ;;
		--rounds) rounds=$2; shift 2 ;;
		--fill) fill=$2; shift 2 ;;
		-h|--help) sed -n '2,29p' "$0"; exit 0 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done
[ "$duration" -ge 5 ] || die "--time must be at least 5 seconds"

bench_prelude trainer
cleanup() {
	set +e
	[ -z "${retrainer:-}" ] || kill "$retrainer" 2>/dev/null
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
}
trap cleanup EXIT

bench_cluster_start "$cluster" "$port" 10
limits=$(cgroup_bench_quotas "$CGROUP_NAME" "$cluster" "$quota" 1 1)
note "CPU: $limits"

set_conf() {
	bench_sql "$port" "ALTER SYSTEM SET $1" >/dev/null
	bench_sql "$port" "SELECT pg_reload_conf()" >/dev/null
}

note "filling the models' windows: ${fill}s at 100 ms"
set_conf "foresight.sample_interval = '100ms'"
sleep "$fill"
set_conf "foresight.sample_interval = '1s'"
# the window-doubling retrainings of the filling phase finish first
asked=$(bench_sql "$port" "SELECT now()")
set_conf "foresight.trainer_cpu_limit = 1"
bench_sql "$port" "SELECT foresight.retrain()" >/dev/null
until [ "$(bench_sql "$port" "SELECT count(*) FROM foresight.models WHERE model = 'blend' AND last_trained < '$asked'")" = 0 ]; do
	sleep 2
done
sleep 5
samples=$(bench_sql "$port" "SELECT max(training_samples) FROM foresight.models WHERE model = 'blend'")
models=$(bench_sql "$port" "SELECT count(*) FROM foresight.models WHERE model = 'blend'")
fit_ms=$(bench_sql "$port" "SELECT round(avg(training_ms)) || ' ms (' || round(min(training_ms)) || '-' || round(max(training_ms)) || ')' FROM foresight.models WHERE model = 'blend'")
note "$models models of up to $samples samples; one fit $fit_ms"

trainer_ticks() {
	local pid
	pid=$(bench_sql "$port" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'foresight trainer'")
	awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$pid/stat"
}
trained_since() {
	bench_sql "$port" "SELECT count(*) FROM foresight.models WHERE model = 'blend' AND last_trained >= '$1'"
}

# run NAME: one pgbench run; prints "tps p50 p99 trainer_cpu trained"
run() {
	local name=$1 log=$work/logs/$1 t0 t1 ticks0 ticks1 started
	case $name in
		unbounded) set_conf "foresight.trainer_nice = 0"; set_conf "foresight.trainer_cpu_limit = 1"; sleep 3 ;;    # the trainer restarts at 0
		nice_only) set_conf "foresight.trainer_nice = 10"; set_conf "foresight.trainer_cpu_limit = 1"; sleep 1 ;;
		default) set_conf "foresight.trainer_nice = 10"; set_conf "foresight.trainer_cpu_limit = 0.05"; sleep 1 ;;
	esac
	rm -rf "$log"; mkdir -p "$log"
	started=$(bench_sql "$port" "SELECT now()")
	if [ "$name" != idle ]; then
		( while :; do bench_sql "$port" "SELECT foresight.retrain()" >/dev/null; sleep 5; done ) &
		retrainer=$!
	fi
	ticks0=$(trainer_ticks); t0=$(date +%s.%N)
	(cd "$log" && PGOPTIONS="-c foresight.routing_policy=local" pgbench -h 127.0.0.1 -p "$port" -n -S \
		-M prepared -c "$clients" -j 2 -T "$duration" -l postgres > "$log/out" 2>&1) ||
		{ cat "$log/out" >&2; die "pgbench $name failed"; }
	ticks1=$(trainer_ticks); t1=$(date +%s.%N)
	if [ -n "${retrainer:-}" ]; then kill "$retrainer" 2>/dev/null; wait "$retrainer" 2>/dev/null || true; retrainer=; fi
	local tps trained
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log/out" | head -1)
	trained=$(trained_since "$started")
	cat "$log"/pgbench_log.* | awk '{ print $3 / 1000.0 }' | sort -n |
		awk -v tps="$tps" -v t0="$ticks0" -v t1="$ticks1" -v hz="$(getconf CLK_TCK)" \
			-v w0="$t0" -v w1="$t1" -v trained="$trained" \
			'{ v[NR] = $1 } END { printf "%.0f %.2f %.2f %.3f %d\n", tps, v[int(NR * 0.5)], v[int(NR * 0.99)], (t1 - t0) / hz / (w1 - w0), trained }'
}

declare -A result
targets="idle unbounded nice_only default"
for r in $(seq 1 "$rounds"); do
	for t in $targets; do
		note "round $r: $t"
		run "$t" > "$work/result"
		result[$t,$r]=$(cat "$work/result")
		note "  tps p50 p99 trainer-cpu trained: ${result[$t,$r]}"
	done
done
set_conf "foresight.trainer_nice = 10"
set_conf "foresight.trainer_cpu_limit = 0.05"

out=$results/trainer_priority.md
{
	echo "# Retraining the models under a CPU quota (bench/trainer_priority.sh)"
	echo
	echo "\`bash bench/trainer_priority.sh --time $duration --clients $clients --quota $quota --rounds $rounds --fill $fill\`,"
	echo "run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs (load average before: $load_before). $limits."
	echo "pgbench -S -M prepared, scale 10, $clients clients, ${duration}s per run, every read run on the"
	echo "coordinator (routing_policy = local). $models blend models of up to $samples samples; one fit"
	echo "took $fit_ms before the runs. Latencies in ms; trainer CPU as a share of one core;"
	echo "trained: blend models retrained during the run (foresight.retrain() every 5 s, except idle)."
	echo
	echo "| round | target | TPS | p50 ms | p99 ms | trainer CPU | trained |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	for r in $(seq 1 "$rounds"); do
		for t in $targets; do
			read -r tps p50 p99 cpu trained <<< "${result[$t,$r]}"
			echo "| $r | $t | $tps | $p50 | $p99 | $cpu | $trained |"
		done
	done
} > "$out"
cat "$out"
note "report written to $out"
