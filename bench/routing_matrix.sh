#!/usr/bin/env bash
# bench/routing_matrix.sh: does the predictive policy win on set-ups it was
# not tuned on?  Issue #18's noisy-neighbour run, cell by cell.
#
#   bash bench/routing_matrix.sh [--phases 10,40] [--protocols simple,prepared]
#                                [--quotas equal,unequal] [--noises cpu,io]
#                                [--targets LIST] [--rate TPS|auto]
#                                [--clients N] [--scale S] [--out NAME]
#
# A coordinator and two hot standbys on loopback, every server held to a
# CPU quota by the cgroup v1 cpu controller (equal: 0.4 core each;
# unequal: coordinator 0.4, standby1 0.6, standby2 0.3), pgpool-II outside
# the quotas as a proxy on its own machine would be.  N clients (default 8)
# run pgbench -S at a fixed offered rate (pgbench --rate, open loop) while a
# noisy neighbour on standby1 is switched on and off: idle and noisy phases
# in turn, two pairs when a phase lasts 10 s or less, one pair otherwise.
# The noise is "cpu" (4 clients of full scans of pgbench_accounts, run on
# standby1, so in its quota) or "io" (direct-I/O writes and reads of a
# 256 MiB file with fsync, in standby1's control group: a neighbour that
# competes for the disk, not for the server's CPU).
#
# Every cell of protocol x quotas x noise x phase length runs every target
# in turn:
#   pgpool                    pgpool-II load-balancing over the two standbys
#   least_connections         all clients on the coordinator, least_connections
#   predictive                all clients on the coordinator, predictive
#   spread_least_connections  a third of the clients on each server, each
#                             server routing its sessions' reads by
#                             least_connections (standbys with
#                             foresight.standby_routing on)
#   spread_predictive         the same, predictive
# (include_local on for pg_foresight: the coordinator is a candidate.)
#
# The offered rate: --rate TPS, or "auto" (default): 0.3 x what pgpool-II
# serves as fast as it goes on that protocol and those quotas, measured
# just before the cell's runs.  The issue's 6,000 TPS were 0.59 x
# pgpool-II's 10,104 on the machine that filed it, a rate every target held
# through the noisy phases; here 0.6 x was more than any target held with
# the CPU neighbour on (2026-12-04 17:49: held 0.20-0.77, p99 7-62 s, queues
# growing for the whole phase), which compares queue growth, not routing.
# Latency is what a client sees:
# the transaction's time plus its schedule lag.  Per target and phase kind:
# throughput held (completed / offered), p50 and p99; per target, where its
# reads ran (every server's foresight.routing_stats; pgpool-II's SHOW
# POOL_NODES).  pgpool-II's clients and the CPU neighbour's set
# foresight.routing_policy = local: the standbys route their own sessions'
# reads for the spread targets, and must run what those send them.  Writes
# bench/results/routing_matrix.md (or bench/results/NAME).  Not a timed test: compare the
# ratios within a cell, whose targets run back to back.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"
. "$FORESIGHT_ROOT/bench/lib/pgpool.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" pgpool2
CGROUP_NAME=${CGROUP_NAME:-foresight_matrix_$$}
cgroup_for_user "$CGROUP_NAME"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/routing_matrix.sh "$@"

phases="10 40"
protocols="simple prepared"
quota_sets="equal unequal"
noises="cpu io"
targets="pgpool least_connections predictive spread_least_connections spread_predictive"
rate=auto
clients=8
scale=10
out_name=routing_matrix.md
command_line="bash bench/routing_matrix.sh${*:+ $*}"
while [ $# -gt 0 ]; do
	case $1 in
		--phases) phases=${2//,/ }; shift 2 ;;
		--protocols) protocols=${2//,/ }; shift 2 ;;
		--quotas) quota_sets=${2//,/ }; shift 2 ;;
		--noises) noises=${2//,/ }; shift 2 ;;
		--targets) targets=${2//,/ }; shift 2 ;;
		--rate) rate=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--scale) scale=$2; shift 2 ;;
		--out) out_name=$2; shift 2 ;;
		-h|--help) sed -n '2,45p' "$0"; exit 0 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done
[ "$clients" -ge 3 ] || die "--clients must be at least 3 (a third on each server when spread)"
# a file name, checked now rather than when the report is written
case $out_name in
	*/* | "") die "--out takes a file name, written in bench/results/ (not \"$out_name\")" ;;
esac

bench_prelude matrix
pgpool_port=$((port + 10))

cleanup() {
	set +e
	[ -n "${noise_pid:-}" ] && kill "$noise_pid" 2>/dev/null
	pkill -f "pgbench.*-p $((port + 1)) .*noise" 2>/dev/null
	pgpool_stop "$work/pgpool"
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
}
trap cleanup EXIT

bench_cluster_start "$cluster" "$port" "$scale"
pgpool_start "$work/pgpool" "$pgpool_port" "$port" $((port + 1)) $((port + 2))
bench_every_node_routes "$cluster" "$port"

set_quotas() {
	case $1 in
		equal) cgroup_bench_quotas "$CGROUP_NAME" "$cluster" 0.4 0.4 0.4 ;;
		unequal) cgroup_bench_quotas "$CGROUP_NAME" "$cluster" 0.4 0.6 0.3 ;;
		*) die "unknown quota set \"$1\" (equal, unequal)" ;;
	esac
}

policy_opts() { echo "-c foresight.routing_policy=$1 -c foresight.include_local=on"; }

# the neighbour on standby1 for SECONDS: kind cpu or io
neighbour() {
	local kind=$1 seconds=$2
	case $kind in
		cpu)
			# routing_policy local: standby1 routes its sessions' reads
			# (standby_routing is on), and the neighbour's are to stay there
			PGOPTIONS="-c foresight.routing_policy=local" \
				pgbench -h 127.0.0.1 -p $((port + 1)) -n -c 4 -j 2 -T "$seconds" \
				-f bench/workload/noise.sql postgres >/dev/null 2>&1 || true ;;
		io)
			(
				[ -w "$CGROUP_V1_CPU/${CGROUP_NAME:-none}/standby1/tasks" ] &&
					echo "$BASHPID" > "$CGROUP_V1_CPU/$CGROUP_NAME/standby1/tasks"
				end=$((SECONDS + seconds))
				while [ "$SECONDS" -lt "$end" ]; do
					timeout $((end - SECONDS + 1)) dd if=/dev/zero of="$work/io.dat" bs=1M count=256 \
						oflag=direct conv=fsync status=none 2>/dev/null || true
					timeout $((end - SECONDS + 1)) dd if="$work/io.dat" of=/dev/null bs=1M \
						iflag=direct status=none 2>/dev/null || true
				done
			) ;;
		*) die "unknown noise \"$kind\" (cpu, io)" ;;
	esac
}

# idle and noisy phases in turn, PAIRS pairs, the neighbour on in the noisy ones
noise_schedule() {
	local kind=$1 phase=$2 pairs=$3 k
	for ((k = 0; k < pairs; k++)); do
		sleep "$phase"
		neighbour "$kind" "$phase"
	done
}

# pgbench -S on PORT with C clients at R TPS for T seconds, logging under NAME
pgbench_at_rate() {
	local name=$1 p=$2 c=$3 r=$4 t=$5 mode=$6 opts=$7
	(cd "$work/logs" && PGOPTIONS="$opts" pgbench -h 127.0.0.1 -p "$p" -n -S -M "$mode" -c "$c" -j 1 \
		-R "$r" -T "$t" -l --log-prefix="$name" postgres > "$name.out" 2>&1)
}

# what pgpool-II serves as fast as it goes (10 s) on MODE
pgpool_max_tps() {
	local mode=$1
	PGOPTIONS="$PGPOOL_SESSION_OPTIONS" pgbench -h 127.0.0.1 -p "$pgpool_port" -n -S -M "$mode" -c "$clients" -j 2 \
		-T 10 postgres 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

# every server's foresight.routing_stats set to zero
reads_reset() {
	local i
	for i in 0 1 2; do bench_sql $((port + i)) "SELECT foresight.reset_routing_stats()" >/dev/null; done
}

# where the reads counted since reads_reset ran, over every server's
# foresight.routing_stats (a server's "local" is itself, the node "primary"
# the coordinator): "coordinator standby1 standby2" shares, "- - -" for none
reads_where() {
	local i
	for i in 0 1 2; do
		bench_sql $((port + i)) "SELECT node_name, routed FROM foresight.routing_stats" | sed "s/^/$i|/"
	done | awk -F'|' '
		{
			n = $2
			if (n == "local") n = ($1 == 0 ? "coordinator" : "standby" $1)
			else if (n == "primary") n = "coordinator"
			c[n] += $3; t += $3
		}
		END {
			if (t == 0) { print "- - -"; exit }
			printf "%.2f %.2f %.2f\n", c["coordinator"] / t, c["standby1"] / t, c["standby2"] / t
		}'
}

# run_target NAME TARGET MODE RATE PHASE PAIRS NOISE: the logs of NAME hold
# "epoch_s latency_ms" for every transaction; NAME.start the start
run_target() {
	local name=$1 target=$2 mode=$3 r=$4 phase=$5 pairs=$6 kind=$7 total pids=() i c policy
	total=$((2 * phase * pairs))
	rm -f "$work/logs/$name".*
	case $target in
		spread_*)
			policy=${target#spread_}
			for i in 0 1 2; do
				c=$(( (clients + 2 - i) / 3 ))
				PGOPTIONS="$(policy_opts "$policy")" pgbench -h 127.0.0.1 -p $((port + i)) -n -S -M "$mode" \
					-c "$c" -j 1 -R $((r * c / clients + 1)) -T 3 postgres >/dev/null 2>&1 || true
			done
			reads_reset
			date +%s.%N > "$work/logs/$name.start"
			noise_schedule "$kind" "$phase" "$pairs" &
			noise_pid=$!
			for i in 0 1 2; do
				c=$(( (clients + 2 - i) / 3 ))
				pgbench_at_rate "$name-$i" $((port + i)) "$c" $((r * c / clients + 1)) "$total" "$mode" \
					"$(policy_opts "$policy")" &
				pids+=($!)
			done
			for i in "${pids[@]}"; do wait "$i" || true; done
			;;
		*)
			local p=$port opts=""
			if [ "$target" = pgpool ]; then
				p=$pgpool_port
				opts=$PGPOOL_SESSION_OPTIONS
			else
				opts=$(policy_opts "$target")
			fi
			PGOPTIONS="$opts" pgbench -h 127.0.0.1 -p "$p" -n -S -M "$mode" -c "$clients" -j 2 -R "$r" -T 3 \
				postgres >/dev/null 2>&1 || true
			reads_reset
			[ "$target" = pgpool ] && pgpool_counts0=$(pgpool_select_counts "$pgpool_port")
			date +%s.%N > "$work/logs/$name.start"
			noise_schedule "$kind" "$phase" "$pairs" &
			noise_pid=$!
			pgbench_at_rate "$name-0" "$p" "$clients" "$r" "$total" "$mode" "$opts" || true
			;;
	esac
	wait "$noise_pid" 2>/dev/null || true
	noise_pid=
	if [ "$target" = pgpool ]; then
		WHERE[$name]=$(echo "$pgpool_counts0 $(pgpool_select_counts "$pgpool_port")" |
			awk '{ t = 0; for (i = 1; i <= 3; i++) { d[i] = $(i + 3) - $i; t += d[i] }
				if (t > 0) printf "%.2f %.2f %.2f\n", d[1] / t, d[2] / t, d[3] / t; else print "- - -" }')
		MIX[$name]=-
	else
		WHERE[$name]=$(reads_where)
		case $target in
			spread_*) MIX[$name]=$(bench_decision_mix "$port" $((port + 1)) $((port + 2))) ;;
			*) MIX[$name]=$(bench_decision_mix "$port") ;;
		esac
	fi
	# pgbench's log with --rate: client tx latency_us script epoch_s epoch_us lag_us
	cat "$work/logs/$name"-[0-9].[0-9]* 2>/dev/null |
		awk '{ printf "%.6f %.3f\n", $5 + $6 / 1e6, ($3 + $7) / 1000.0 }' > "$work/logs/$name.lat"
}

# summarize NAME RATE PHASE PAIRS → "idle_held idle_p50 idle_p99 noisy_held noisy_p50 noisy_p99"
summarize() {
	local name=$1 r=$2 phase=$3 pairs=$4 start kind
	start=$(cat "$work/logs/$name.start")
	for kind in 0 1; do
		awk -v s="$start" -v len="$phase" -v k="$kind" -v n="$((2 * pairs))" \
			'{ t = $1 - s; i = int(t / len); if (t >= 0 && i < n && i % 2 == k) print $2 }' \
			"$work/logs/$name.lat" | sort -g > "$work/lat.$kind"
		awk -v r="$r" -v secs="$((phase * pairs))" '
			{ v[NR] = $1 }
			END {
				if (NR == 0) { printf "0 0 0 "; exit }
				p50 = v[int((NR * 50 + 99) / 100)]; p99 = v[int((NR * 99 + 99) / 100)];
				printf "%.3f %.2f %.2f ", NR / (r * secs), p50, p99
			}' "$work/lat.$kind"
	done
	echo
}

declare -A R RATE LIMITS WHERE MIX
cells=()
for qs in $quota_sets; do
	limits=$(set_quotas "$qs")
	note "quotas $qs: $limits"
	LIMITS[$qs]=$limits
	for mode in $protocols; do
		if [ "$rate" = auto ]; then
			max=$(pgpool_max_tps "$mode")
			r=$(awk -v m="${max:-0}" 'BEGIN { printf "%d", 0.3 * m }')
			note "quotas $qs, $mode: pgpool-II serves $max TPS as fast as it goes; offering $r"
		else
			max="-"
			r=$rate
		fi
		[ "$r" -gt 0 ] || die "no offered rate (pgpool-II served ${max:-nothing})"
		for noise in $noises; do
			for phase in $phases; do
				pairs=1
				[ "$phase" -le 10 ] && pairs=2
				cell="$qs $mode $noise $phase"
				cells+=("$cell")
				RATE[$cell]="$r $max"
				for target in $targets; do
					name="${qs}-${mode}-${noise}-${phase}-${target}"
					note "$cell: $target at $r TPS, $pairs x (${phase}s idle, ${phase}s noisy)"
					run_target "$name" "$target" "$mode" "$r" "$phase" "$pairs" "$noise"
					R[$cell,$target]=$(summarize "$name" "$r" "$phase" "$pairs")
					echo "    idle: held p50 p99, noisy: held p50 p99 = ${R[$cell,$target]}; ran on (coordinator standby1 standby2) ${WHERE[$name]}; decided ${MIX[$name]}"
				done
			done
		done
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
field() { echo "$1" | awk -v f="$2" '{ print $f }'; }

host="$(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
out=$results/$out_name
{
	echo "# Routing under a noisy neighbour, cell by cell (bench/routing_matrix.sh)"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $host (load average before: $load_before)."
	echo "Command: \`$command_line\`. Quotas (cgroup v1 cpu, 10 ms period): equal = 0.4 core"
	echo "each; unequal = coordinator 0.4, standby1 0.6, standby2 0.3; pgpool-II outside them. pgbench -S, scale $scale,"
	echo "$clients clients, open loop at the offered rate; the neighbour on standby1 in every other phase (cpu: 4 clients"
	echo "of full scans on standby1; io: direct-I/O writes and reads of 256 MiB with fsync in standby1's group)."
	echo "Latency: transaction time plus schedule lag. held: completed / offered. vs pgpool, vs lc: the noisy"
	echo "phases' p99 over pgpool-II's and over least_connections' with the same way in (coordinator or spread)."
	echo "ran on: the shares of the target's reads that ran on the coordinator / standby1 / standby2 over the whole run"
	echo "(idle and noisy phases), from every server's foresight.routing_stats; pgpool-II's from its SHOW POOL_NODES"
	echo "(select_cnt). pgpool-II's clients set foresight.routing_policy = local (bench/lib/pgpool.sh), so that the"
	echo "standbys, which route their own sessions' reads for the spread targets, run what pgpool-II sends them."
	echo "decided: how the last decisions of the run (up to 1000 per routing server, so the end of the last, noisy"
	echo "phase) were made, as shares: a verdict reused while the coordinator is the bottleneck / the cost rule"
	echo "decided in full / the policy's own choice."
	echo
	echo "| quotas | protocol | noise | phase s | offered TPS | target | idle held | idle p99 ms | noisy held | noisy p50 ms | noisy p99 ms | vs pgpool | vs lc | ran on c / s1 / s2 | decided |"
	echo "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
	for cell in "${cells[@]}"; do
		read -r qs mode noise phase <<< "$cell"
		r=$(field "${RATE[$cell]}" 1)
		pg99=$(field "${R[$cell,pgpool]:-}" 6)
		for target in $targets; do
			v=${R[$cell,$target]}
			lc=""
			case $target in
				predictive) lc=$(field "${R[$cell,least_connections]:-}" 6) ;;
				spread_predictive) lc=$(field "${R[$cell,spread_least_connections]:-}" 6) ;;
			esac
			echo "| $qs | $mode | $noise | $phase | $r | $target | $(field "$v" 1) | $(field "$v" 3) | $(field "$v" 4) | $(field "$v" 5) | $(field "$v" 6) | $( [ "$target" = pgpool ] || ratio "$(field "$v" 6)" "${pg99:-0}") | $( [ -n "$lc" ] && ratio "$(field "$v" 6)" "$lc") | $(echo "${WHERE[$qs-$mode-$noise-$phase-$target]:-- - -}" | sed 's| | / |g') | ${MIX[$qs-$mode-$noise-$phase-$target]:--} |"
		done
	done
	echo
	for qs in $quota_sets; do echo "Quotas $qs: ${LIMITS[$qs]}."; done
	echo
	echo "Offered rates: $(for cell in "${cells[@]}"; do echo "$cell"; done | awk '{ print $1, $2 }' | sort -u |
		while read -r qs mode; do
			for cell in "${cells[@]}"; do
				case $cell in "$qs $mode "*) echo "$qs/$mode $(field "${RATE[$cell]}" 1) TPS (pgpool-II's maximum $(field "${RATE[$cell]}" 2))"; break ;; esac
			done
		done | paste -sd ';' | sed 's/;/; /g')."
} > "$out"
note "wrote $out"
cat "$out"
