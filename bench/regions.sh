#!/usr/bin/env bash
# bench/regions.sh: routing over three regions, with and without the local
# region saturated (issue #21's benchmark).
#
#   bash bench/regions.sh [--time SECONDS] [--clients N] [--rounds R]
#
# A coordinator (region eu-west) and three hot standbys on loopback:
# standby1 in eu-west, standby2 in eu-central behind scripts/delay-relay
# adding 7.5 ms each way (a 15 ms round trip), standby3 in us-east behind
# one adding 30 ms (60 ms).  pgbench -S (point lookups by key, scale 10),
# N clients (default 8), SECONDS (default 15) per run, include_local off
# (every target reads from the standbys only), against:
#   predictive         foresight.routing_policy = predictive (regions on)
#   round_robin        foresight.routing_policy = round_robin
#   least_connections  foresight.routing_policy = least_connections
#   pgpool             pgpool-II, region-blind, weights set as a DBA would
#                      (1, 0.3, 0.1: the near and far standbys as spares)
#                      and prefer_lower_delay_standby on
# Two phases: idle, and saturated (a CPU-bound neighbour on standby1: three
# clients running a self-join there directly).  R rounds (default 2), the
# targets interleaved.  Per phase and target: TPS, p50 and p99 (medians over
# the rounds), and where the reads went.  Writes bench/results/regions.md.
# Not a timed test: compare the ratios of one run.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/pgpool.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" pgpool2
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/regions.sh "$@"

duration=15
clients=8
rounds=2
while [ $# -gt 0 ]; do
	case $1 in
		--time) duration=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--rounds) rounds=$2; shift 2 ;;
		-h|--help) sed -n '2,24p' "$0"; exit 0 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

bench_prelude regions
pgpool_port=$((port + 10))
near_port=$((port + 20))
far_port=$((port + 21))
pids=()

cleanup() {
	set +e
	pgpool_stop "$work/pgpool"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
}
trap cleanup EXIT

note "a coordinator and three standbys, pgbench scale 10"
scripts/foresight-cluster start "$cluster" --standbys 3 --port "$port" >/dev/null
pgbench -h 127.0.0.1 -p "$port" -i -s 10 -q postgres >/dev/null 2>&1
bench_sql "$port" "CHECKPOINT" >/dev/null
bench_wait_replay "$port" $((port + 1)) $((port + 2)) $((port + 3))

relay() {
	scripts/delay-relay --listen "127.0.0.1:$1" --connect "127.0.0.1:$2" --delay-ms "$3" > "$work/relay.$1.log" 2>&1 &
	pids+=($!)
	until grep -q "listening on" "$work/relay.$1.log" 2>/dev/null; do sleep 0.1; done
}
relay "$near_port" $((port + 2)) 7.5
relay "$far_port" $((port + 3)) 30
bench_sql "$port" "ALTER SYSTEM SET foresight.local_region = 'eu-west'" >/dev/null
bench_sql "$port" "SELECT pg_reload_conf()" >/dev/null
bench_sql "$port" "SELECT foresight.alter_node('standby1', region => 'eu-west');
	SELECT foresight.alter_node('standby2', region => 'eu-central', conninfo => 'host=127.0.0.1 port=$near_port');
	SELECT foresight.alter_node('standby3', region => 'us-east', conninfo => 'host=127.0.0.1 port=$far_port')" >/dev/null
# until the monitor's round trips are the relays' (its window of 32 samples)
for ((t = 0; t < 120; t++)); do
	[ "$(bench_sql "$port" "SELECT count(*) FROM foresight.node_round_trip_list() r JOIN foresight.nodes n USING (node_id)
		WHERE n.status = 'up' AND ((n.node_name = 'standby1' AND r.round_trip_p50_ms < 10)
			OR (n.node_name = 'standby2' AND r.round_trip_p50_ms >= 14)
			OR (n.node_name = 'standby3' AND r.round_trip_p50_ms >= 58))")" = 3 ] && break
	sleep 1
done
# each standby's status and quarantine state, as the monitor has them
states() {
	bench_sql "$port" "SELECT string_agg(format('%s %s/%s%s', node_name, status, quarantine, ' (' || quarantine_reason || ')'), ', ' ORDER BY node_id) FROM foresight.nodes WHERE node_name LIKE 'standby%'"
}

rts=$(bench_sql "$port" "SELECT string_agg(format('%s %s ms', node_name, round(round_trip_ms::numeric, 1)), ', ' ORDER BY node_id) FROM foresight.nodes WHERE node_name LIKE 'standby%'")
note "round trips: $rts"
note "standbys: $(states)"

PGPOOL_WEIGHTS="1 0.3 0.1" PGPOOL_EXTRA="prefer_lower_delay_standby = on" \
	pgpool_start "$work/pgpool" "$pgpool_port" "$port" $((port + 1)) "$near_port" "$far_port"

targets="predictive round_robin least_connections pgpool"
target_port() { [ "$1" = pgpool ] && echo "$pgpool_port" || echo "$port"; }
target_opts() { [ "$1" = pgpool ] || echo "-c foresight.routing_policy=$1 -c foresight.include_local=off"; }

# the reads each standby served (its pgbench_accounts index scans), for shares
served() {
	local i
	for i in 1 2 3; do
		bench_sql $((port + i)) "SELECT coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'pgbench_accounts'"
	done | paste -sd' '
}

# run NAME TARGET -> "tps p50_ms p99_ms share1 share2 share3"
run() {
	local name=$1 target=$2 p o s0 s1 tps
	p=$(target_port "$target")
	o=$(target_opts "$target")
	rm -f "$work/logs/$name".*
	PGOPTIONS="$o" pgbench -h 127.0.0.1 -p "$p" -n -S -c "$clients" -j 2 -T 2 postgres >/dev/null 2>&1 || true
	s0=$(served)
	(cd "$work/logs" && PGOPTIONS="$o" pgbench -h 127.0.0.1 -p "$p" -n -S -c "$clients" -j 2 \
		-T "$duration" -l --log-prefix="$name" postgres > "$name.out" 2>&1) ||
		{ cat "$work/logs/$name.out" >&2; die "pgbench $name failed"; }
	s1=$(served)
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/logs/$name.out" | tail -1)
	cat "$work/logs/$name".[0-9]* | awk '{ print $3 / 1000.0 }' | sort -n > "$work/lat"
	awk -v tps="$tps" -v s0="$s0" -v s1="$s1" '
		{ v[NR] = $1 }
		END {
			split(s0, a, " "); split(s1, b, " ");
			t = 0; for (i = 1; i <= 3; i++) { d[i] = b[i] - a[i]; t += d[i] }
			if (t <= 0) t = 1;
			i50 = int(NR * 0.5); if (i50 < 1) i50 = 1;
			i99 = int(NR * 0.99); if (i99 < 1) i99 = 1;
			printf "%.0f %.2f %.2f %.2f %.2f %.2f\n", tps, v[i50], v[i99], d[1] / t, d[2] / t, d[3] / t
		}' "$work/lat"
}

neighbour_start() {
	echo "SELECT count(*) FROM pgbench_accounts a JOIN pgbench_branches b ON a.bid = b.bid WHERE a.aid % 7 = 0;" > "$work/heavy.sql"
	pgbench -h 127.0.0.1 -p $((port + 1)) -n -c 3 -j 1 -T 100000 -f "$work/heavy.sql" postgres >/dev/null 2>&1 &
	neighbour=$!
	sleep 5
}
neighbour_stop() {
	kill "$neighbour" 2>/dev/null || true
	wait "$neighbour" 2>/dev/null || true
	bench_sql $((port + 1)) "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM pgbench_accounts a JOIN%' AND pid <> pg_backend_pid()" >/dev/null
	sleep 5
}

declare -A R
for round in $(seq 1 "$rounds"); do
	for phase in idle saturated; do
		[ "$phase" = saturated ] && neighbour_start
		for target in $targets; do
			note "round $round, $phase: $target, $clients clients, ${duration}s"
			R[$round,$phase,$target]=$(run "r$round-$phase-$target" "$target")
			echo "    tps p50_ms p99_ms share_standby1 share_standby2 share_standby3: ${R[$round,$phase,$target]}"
			echo "    standbys: $(states)"
		done
		[ "$phase" = saturated ] && neighbour_stop
	done
done

median_field() {
	local phase=$1 target=$2 f=$3 round
	for round in $(seq 1 "$rounds"); do echo "${R[$round,$phase,$target]}" | awk -v f="$f" '{ print $f }'; done |
		sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

host="$(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
out=$results/regions.md
{
	echo "# Routing over three regions (bench/regions.sh)"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $host (load average before: $load_before, after: $load_after)."
	echo "Measured round trips: $rts. pgbench -S, scale 10, $clients clients, ${duration}s per run, $rounds rounds"
	echo "with the targets interleaved; medians over the rounds. Command: \`bash bench/regions.sh --time $duration --clients $clients --rounds $rounds\`."
	echo
	echo "| phase | target | TPS | p50 ms | p99 ms | p99 / round_robin | p99 / least_connections | standby1 / 2 / 3 share |"
	echo "|---|---|---:|---:|---:|---:|---:|---|"
	for phase in idle saturated; do
		rr=$(median_field "$phase" round_robin 3)
		lc=$(median_field "$phase" least_connections 3)
		for target in $targets; do
			p99=$(median_field "$phase" "$target" 3)
			echo "| $phase | $target | $(median_field "$phase" "$target" 1) | $(median_field "$phase" "$target" 2) | $p99 | $(ratio "$p99" "$rr") | $(ratio "$p99" "$lc") | $(median_field "$phase" "$target" 4) / $(median_field "$phase" "$target" 5) / $(median_field "$phase" "$target" 6) |"
		done
	done
	echo
	echo "Every round's numbers (tps, p50 ms, p99 ms, shares of standby1, 2, 3):"
	echo
	for round in $(seq 1 "$rounds"); do
		for phase in idle saturated; do
			for target in $targets; do echo "- round $round, $phase, $target: ${R[$round,$phase,$target]}"; done
		done
	done
} > "$out"
note "wrote $out"
cat "$out"
