#!/usr/bin/env bash
# bench/auto_tune.sh: does the self-tuning of the weights (foresight.auto_tune,
# docs/experiments.md) find good weights, and what does it cost?  Issue #20
# part 2.
#
#   bash bench/auto_tune.sh [--cycles N] [--sweep-cycles N] [--scenario noisy|idle-connections]
#                           [--sweep-only]
#
# The cluster of bench/forecast_pays.sh (coordinator 1.0 core, standby1 0.6,
# standby2 0.9 with the cgroup v1 cpu controller where writable, the
# predictive policy, include_local off; point lookups, range sums and
# aggregates 8:2:1, 8 clients, prepared) and its noisy workload, one cycle
# of 85 s: a ramp of 1, 2, 3, 4 CPU-bound noise clients on standby1 (10 s
# each), then periodic noise (3 clients on standby1 for 10 s, then on
# standby2 for 10 s, twice), then 5 s of rest.
#
#   1. sweep: one experiment whose arms are the tuner's grid of fixed weights
#      (w_conn 0.1, 0.3, 0.5, 0.7, 0.9; w_load = 1 - w_conn), each read
#      assigned anew, over --sweep-cycles cycles (default 2): every setting
#      on the same moments.  The best fixed setting is the arm with the
#      lowest p99 over all reads.
#   2. from bad weights: the coordinator restarted (the tuner starts empty)
#      with the configured weights 0.9 / 0.1 and foresight.auto_tune on; an
#      experiment with traffic 0.5 runs the best fixed setting and 0.9 / 0.1
#      as arms on a quarter of the reads each, the tuner decides the other
#      half; --cycles cycles (default 4).  Per cycle: p99 of the tuner's
#      reads over the best arm's, on the same moments.
#   3. from the defaults: the same with the configured weights 0.3 / 0.7 and
#      arms 0.3 / 0.7 and the best: the tuner's p99 over the defaults'.
#
# --scenario idle-connections (default noisy): a set-up where the weights
# matter, the connection term and the load term pointing at different
# standbys.  85 idle sessions are held open on standby1 (a pooler's, or an
# application's: they cost its CPU nothing, but leave it 15% of its
# max_connections of 100, so its connection score is low), and the noise
# of a cycle runs on standby2 only: 1, 2, 3, 4 CPU-bound clients (10 s
# each), then 3 for 40 s, then 5 s of rest.  Weights that favour the
# connection term send the reads to the noisy standby2.
#
# --sweep-only: the sweep alone (is there a best setting to find?), its
# report bench/results/auto_tune_sweep.md.
#
# Latencies are those of the decision log (latency_ms of each routed read),
# read after each cycle; every routed read (arm, class, node, time, latency)
# is also kept in the work directory's NAME.reads for a closer look.
# Writes bench/results/auto_tune.md (auto_tune_idle_connections.md).  Not a
# timed test: the ratios compare reads of one run at the same moments.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" postgresql-contrib
CGROUP_NAME=${CGROUP_NAME:-foresight_bench_$$}
cgroup_for_user "$CGROUP_NAME"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/auto_tune.sh "$@"

cycles=4
sweep_cycles=2
scenario=noisy
sweep_only=false
while [ $# -gt 0 ]; do
	case $1 in
		--cycles) cycles=$2; shift 2 ;;
		--sweep-cycles) sweep_cycles=$2; shift 2 ;;
		--sweep-only) sweep_only=true; shift ;;
		--scenario)
			case $2 in noisy|idle-connections) scenario=$2 ;; *) die "--scenario is noisy or idle-connections" ;; esac
			shift 2 ;;
		-h|--help) sed -n '2,47p' "$0"; exit 0 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

bench_prelude tune
idle_pids=()
cleanup() {
	set +e
	exec 9>&- 2>/dev/null
	[ ${#idle_pids[@]} -eq 0 ] || kill "${idle_pids[@]}" 2>/dev/null
	pkill -f "pgbench.*-p $((port + 1))" 2>/dev/null
	pkill -f "pgbench.*-p $((port + 2))" 2>/dev/null
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
	bench_remove_cgroup
}
trap cleanup EXIT
sql() { bench_sql "$@"; }
started=$(date -u '+%Y-%m-%d %H:%M UTC')
bench_cluster_start "$cluster" "$port" 10
sql "$port" "ALTER SYSTEM SET foresight.decision_log_size = 200000" >/dev/null
sql "$port" "ALTER SYSTEM SET foresight.experiment_max_arms = 5" >/dev/null	# the sweep's grid
# Under the heaviest noise every standby is predicted above the overload
# threshold for longer than the default queue_timeout (5 s), and admission
# control failed reads ("timed out ... waiting for a node with spare
# capacity"), which ended pgbench's clients: the reads wait instead (their
# wait is part of their latency), so every client runs to the end.
sql "$port" "ALTER SYSTEM SET foresight.queue_timeout = '10min'" >/dev/null
sql "$port" "ALTER SYSTEM SET foresight.include_local = off" >/dev/null
sql "$port" "ALTER SYSTEM SET foresight.routing_policy = 'predictive'" >/dev/null

# restart the coordinator (the tuner's bandits start empty) into the
# cgroups again, then warm the models up for $1 seconds
restart_coordinator() {
	pg_ctl -D "$cluster/coordinator" -l "$cluster/coordinator/server.log" -w -m fast restart >/dev/null
	limits=$(cgroup_bench_shares "$CGROUP_NAME" "$cluster")
	pgbench -h 127.0.0.1 -p "$port" -n -c 8 -j 2 -T "$1" -M prepared "${workload[@]}" postgres >/dev/null 2>&1 || true
}

workload=(-f "$FORESIGHT_ROOT/bench/workload/point.sql@8" -f "$FORESIGHT_ROOT/bench/workload/range.sql@2"
	-f "$FORESIGHT_ROOT/bench/workload/aggregate.sql@1")
note "warm-up: 35 s of the workload, no noise"
restart_coordinator 35
note "CPU shares: $limits"

noise() {	# noise PORT_OFFSET CLIENTS SECONDS
	pgbench -h 127.0.0.1 -p $((port + $1)) -n -c "$2" -j 1 -T "$3" -f bench/workload/noise.sql postgres >/dev/null 2>&1 || true
}
noisy_cycle() {
	if [ "$scenario" = idle-connections ]; then
		for n in 1 2 3 4; do noise 2 "$n" 10; done
		noise 2 3 40
	else
		for n in 1 2 3 4; do noise 1 "$n" 10; done
		for i in 1 2; do noise 1 3 10; noise 2 3 10; done
	fi
	sleep 5
}

if [ "$scenario" = idle-connections ]; then
	# idle sessions on standby1: each psql reads its input from a fifo this
	# script holds open and never writes to (they end when it exits)
	mkfifo "$work/idle.fifo"
	for i in $(seq 1 85); do
		psql -X -q -h 127.0.0.1 -p $((port + 1)) -d postgres < "$work/idle.fifo" >/dev/null 2>&1 &
		idle_pids+=($!)
	done
	exec 9> "$work/idle.fifo"
	sleep 3
	note "idle sessions on standby1: $(sql $((port + 1)) "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle' AND backend_type = 'client backend'")"
fi

# run_cycle NAME: one cycle of the workload under the noise; the routed
# reads' (arm, latency ms) go to $work/NAME.lat, arm "tuner" for the reads
# outside the experiment
run_cycle() {
	local name=$1 first
	first=$(sql "$port" "SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions")
	noisy_cycle &
	local noise_pid=$!
	pgbench -h 127.0.0.1 -p "$port" -n -c 8 -j 2 -T 85 -M prepared "${workload[@]}" postgres \
		> "$work/$name.pgbench" 2>&1 || true
	wait "$noise_pid" || true
	grep -q "aborted" "$work/$name.pgbench" && note "$name: some clients aborted: $(grep -m1 ERROR "$work/$name.pgbench")" >&2
	sql "$port" "SELECT coalesce(substring(reason from '^\[[a-z_]+/([a-z0-9_]+)\] '), 'tuner'), latency_ms
		FROM foresight.routing_decisions
		WHERE decision_id > $first AND latency_ms IS NOT NULL AND chosen_node LIKE 'standby%'" \
		| tr '|' ' ' > "$work/$name.lat"
	sql "$port" "SELECT coalesce(substring(reason from '^\[[a-z_]+/([a-z0-9_]+)\] '), 'tuner'), request_class,
			chosen_node, round(extract(epoch FROM decided_at)::numeric, 3), latency_ms
		FROM foresight.routing_decisions
		WHERE decision_id > $first AND latency_ms IS NOT NULL AND chosen_node LIKE 'standby%'
		ORDER BY decision_id" | tr '|' ' ' > "$work/$name.reads"
}

# p99 ARM FILES...: the 99th percentile (ms) of ARM's latencies in FILES
p99() {
	local arm=$1; shift
	cat "$@" | awk -v a="$arm" '$1 == a { print $2 }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else { i = int(0.99 * NR + 0.5); if (i < 1) i = 1; printf "%.2f", v[i] } }'
}
count() { local arm=$1; shift; cat "$@" | awk -v a="$arm" '$1 == a' | wc -l; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a == a + 0) printf "%.3f", a / b; else print "-" }'; }

# 1. the sweep
grid="0.1 0.3 0.5 0.7 0.9"
arms=$(for w in $grid; do printf '"w%s": {"weight_connection": %s, "weight_load": %s},' "${w#0.}" "$w" \
	"$(awk -v w="$w" 'BEGIN { printf "%.1f", 1 - w }')"; done)
arms="{${arms%,}}"
sql "$port" "SELECT foresight.start_experiment('sweep', '$arms', traffic => 1.0, unit => 'query', control => 'w3', seed => 1)" >/dev/null
for c in $(seq 1 "$sweep_cycles"); do
	note "sweep: cycle $c of $sweep_cycles"
	run_cycle "sweep$c"
done
sql "$port" "SELECT foresight.stop_experiment('sweep')" >/dev/null
sweep_rows=""
best=""
best_p99=""
for w in $grid; do
	arm="w${w#0.}"
	p=$(p99 "$arm" "$work"/sweep*.lat)
	sweep_rows+="| $w / $(awk -v w="$w" 'BEGIN { printf "%.1f", 1 - w }') | $(count "$arm" "$work"/sweep*.lat) | $p |"$'\n'
	if [ -z "$best" ] || awk -v a="$p" -v b="$best_p99" 'BEGIN { exit !(a < b) }'; then best=$w; best_p99=$p; fi
done
note "best fixed setting: w_conn $best (p99 $best_p99 ms)"
best_load=$(awk -v w="$best" 'BEGIN { printf "%.1f", 1 - w }')
scenario_line() {
	if [ "$scenario" = idle-connections ]; then
		echo "85 idle sessions held open on standby1 (max_connections 100); a cycle of 85 s: noise ramping 1-4 clients on standby2, then 3 for 40 s."
	else
		echo "a cycle of 85 s: noise ramping 1-4 clients on standby1, then periodic noise on standby1 and standby2."
	fi
}
# report_head TITLE OPTIONS: a report's title and set-up
report_head() {
	echo "# $1"
	echo
	echo "Run $started on $(nproc) cores; \`bash bench/auto_tune.sh $2\`."
	echo "Load average (1/5/15 min) before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "CPU shares: $limits. Workload: point lookups, range sums, aggregates (8:2:1), 8 clients, prepared;"
	scenario_line
}
# sweep_table: the sweep's p99 per setting, and the best
sweep_table() {
	echo "| w_conn / w_load | reads | p99 ms |"
	echo "|---|---:|---:|"
	printf '%s' "$sweep_rows"
	echo
	echo "Best fixed setting: w_conn $best / w_load $best_load (p99 $best_p99 ms)."
}
if $sweep_only; then
	out=$FORESIGHT_ROOT/bench/results/auto_tune_sweep.md
	{
		report_head "Self-tuning weights: the sweep alone (bench/auto_tune.sh --sweep-only)" \
			"--sweep-only --sweep-cycles $sweep_cycles --scenario $scenario"
		echo "Every read: $work/sweep*.reads."
		echo
		sweep_table
	} > "$out"
	note "report: $out"
	exit 0
fi

# 2. and 3. the tuner, from bad weights and from the defaults
tuner_run() {	# tuner_run NAME W_CONN W_LOAD ARM_NAME
	local name=$1 wc=$2 wl=$3 ref=$4 rows="" c p_t p_b p_r
	sql "$port" "ALTER SYSTEM SET foresight.weight_connection = $wc" >/dev/null
	sql "$port" "ALTER SYSTEM SET foresight.weight_load = $wl" >/dev/null
	sql "$port" "ALTER SYSTEM SET foresight.auto_tune = on" >/dev/null
	restart_coordinator 20
	sql "$port" "SELECT foresight.start_experiment('$name',
		'{\"best\": {\"weight_connection\": $best, \"weight_load\": $best_load},
		  \"$ref\": {\"weight_connection\": $wc, \"weight_load\": $wl}}',
		traffic => 0.5, unit => 'query', control => 'best', seed => 1)" >/dev/null
	for c in $(seq 1 "$cycles"); do
		note "$name: cycle $c of $cycles" >&2
		run_cycle "$name$c"
		p_t=$(p99 tuner "$work/$name$c.lat")
		p_b=$(p99 best "$work/$name$c.lat")
		p_r=$(p99 "$ref" "$work/$name$c.lat")
		rows+="| $c | $((c * 85)) | $(count tuner "$work/$name$c.lat") | $p_t | $p_b | $p_r | $(ratio "$p_t" "$p_b") | $(ratio "$p_t" "$p_r") |"$'\n'
	done
	p_t=$(p99 tuner "$work/$name"*.lat)
	p_b=$(p99 best "$work/$name"*.lat)
	p_r=$(p99 "$ref" "$work/$name"*.lat)
	rows+="| all | $((cycles * 85)) | $(count tuner "$work/$name"*.lat) | $p_t | $p_b | $p_r | $(ratio "$p_t" "$p_b") | $(ratio "$p_t" "$p_r") |"$'\n'
	sql "$port" "SELECT foresight.stop_experiment('$name')" >/dev/null
	choice=$(sql "$port" "SELECT string_agg(bucket || ': arm ' || arm || ' (' || round(weight_connection::numeric, 2) || ' / ' || round(weight_load::numeric, 2) || ', ' || pulls || ' pulls, reward ' || round(mean_reward::numeric, 3) || ') ' || reason, '; ')
		FROM foresight.auto_tune WHERE chosen")
	pulls=$(sql "$port" "SELECT string_agg(round(weight_connection::numeric, 2) || '/' || round(weight_load::numeric, 2) || (CASE WHEN configured THEN ' (configured)' ELSE '' END) || ' ' || pulls || ' pulls, reward ' || round(mean_reward::numeric, 3), '; ' ORDER BY arm)
		FROM foresight.auto_tune WHERE bucket = 'off-peak'")
	echo "$rows"
	echo "Tuner at the end: $choice. Off-peak arms: $pulls."
}
bad=$(tuner_run from_bad 0.9 0.1 bad)
defaults=$(tuner_run from_defaults 0.3 0.7 defaults)

out=$FORESIGHT_ROOT/bench/results/auto_tune.md
[ "$scenario" = noisy ] || out=$FORESIGHT_ROOT/bench/results/auto_tune_idle_connections.md
{
	report_head "Self-tuning weights (bench/auto_tune.sh)" \
		"--cycles $cycles --sweep-cycles $sweep_cycles --scenario $scenario"
	echo "Latencies of routed reads from the decision log."
	echo
	echo "## 1. The sweep: every grid setting as an arm of one experiment ($sweep_cycles cycles)"
	echo
	sweep_table
	echo
	echo "## 2. The tuner from bad weights (configured 0.9 / 0.1)"
	echo
	echo "Half the reads tuned, a quarter each on the best fixed setting and on 0.9 / 0.1 (experiment arms), at the same moments."
	echo
	echo "| cycle | s since start | tuner reads | tuner p99 ms | best p99 ms | 0.9/0.1 p99 ms | tuner / best | tuner / 0.9-0.1 |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	echo "$bad"
	echo
	echo "## 3. The tuner from the defaults (configured 0.3 / 0.7)"
	echo
	echo "| cycle | s since start | tuner reads | tuner p99 ms | best p99 ms | 0.3/0.7 p99 ms | tuner / best | tuner / defaults |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	echo "$defaults"
} > "$out"
note "report: $out"
