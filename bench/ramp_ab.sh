#!/usr/bin/env bash
# bench/ramp_ab.sh: the noisy-neighbour ramp of bench/routing_quality.sh,
# repeated, with routing policies taken in turn, for quick A/B comparisons
# of the policy code (about 1 minute per policy and repetition).
#
#   bash bench/ramp_ab.sh [--reps N] [--policies least_connections,predictive,predictive:0.15/0.85]
#
# A policy "predictive:C/L" runs predictive with foresight.set_weights(C, L);
# "least_connections-standby1" runs least_connections with standby1 drained
# (standby2 alone: what sending the noisy node nothing at all gives);
# "POLICY@hedge_factor=0" runs POLICY with that foresight.* setting (only
# hedge_factor is reset between runs).
# One cluster (coordinator 1.0 core, standby1 0.6, standby2 0.9 with the
# cgroup v1 cpu controller where writable, include_local off), then for each
# repetition and policy: an 8 s warm-up, then 40 s of the mixed workload
# (8 clients, prepared) while 1, 2, 3, then 4 noise clients run full scans
# directly on standby1 (10 s each), then 8 s of rest.  Per run: p99 per 10 s
# step and over the ramp, the aggregates' p50/p90/p99, TPS, pgbench clients
# aborted (a run with aborted clients is not comparable), and where each
# request class went with its p50/p99 there (foresight.routing_decisions).  Policies are
# compared by the ratio of their p99s within one invocation.
#
# RAMP_AB_DETAIL=1 also prints, to stderr, the predictions and latencies
# every 5 s and the decisions by class and node with the candidates'
# average predicted loads and connection scores.
#
# Writes bench/results/ramp_ab.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" postgresql-contrib
CGROUP_NAME=${CGROUP_NAME:-foresight_bench_$$}
cgroup_for_user "$CGROUP_NAME"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/ramp_ab.sh "$@"

reps=2
policies=(least_connections predictive)
while [ $# -gt 0 ]; do
	case $1 in
		--reps) reps=$2; shift 2 ;;
		--policies) IFS=, read -r -a policies <<< "$2"; shift 2 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

bench_prelude ramp
cleanup() {
	set +e
	pkill -f "pgbench.*-p $((port + 1))" 2>/dev/null
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
	bench_remove_cgroup
}
trap cleanup EXIT
sql() { bench_sql "$@"; }
bench_cluster_start "$cluster" "$port" 10
# every decision of a run must fit in the log: about 2,500 a second
sql "$port" "ALTER SYSTEM SET foresight.decision_log_size = 200000" >/dev/null
sql "$port" "ALTER SYSTEM SET foresight.include_local = off" >/dev/null
pg_ctl -D "$cluster/coordinator" -l "$cluster/coordinator/server.log" -w -m fast restart >/dev/null
limits=$(cgroup_bench_shares "$CGROUP_NAME" "$cluster")
note "CPU shares: $limits"

workload=(-f "$FORESIGHT_ROOT/bench/workload/point.sql@8" -f "$FORESIGHT_ROOT/bench/workload/range.sql@2"
	-f "$FORESIGHT_ROOT/bench/workload/aggregate.sql@1")
# nearest-rank percentile of numbers on stdin
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR * p + 99) / 100); print (NR ? v[i < 1 ? 1 : i] : 0) }'; }
# the class models are used once they have 30 samples: let them have them
note "warm-up: 40 s of the workload, no noise"
pgbench -h 127.0.0.1 -p "$port" -n -c 8 -j 2 -T 40 -M prepared "${workload[@]}" postgres >/dev/null 2>&1 || true
rows=""
for rep in $(seq 1 "$reps"); do
	for policy in "${policies[@]}"; do
		# "least_connections-standby1": that policy with standby1 drained, so
		# standby2 alone serves the ramp (what sending the noisy node nothing gives)
		if [[ $policy == *-standby1 ]]; then
			sql "$port" "SELECT foresight.alter_node('standby1', state => 'drained')" >/dev/null
		else
			sql "$port" "SELECT foresight.alter_node('standby1', state => 'enabled')" >/dev/null
		fi
		# "predictive:0.15/0.85" is the predictive policy with those weights
		if [[ $policy == *:* ]]; then
			weights=${policy#*:}
			sql "$port" "SELECT foresight.set_weights(${weights%/*}, ${weights#*/})" >/dev/null
		else
			sql "$port" "SELECT pg_reload_conf()" >/dev/null	# back to the configured weights
			sql "$port" "SELECT foresight.set_weights(current_setting('foresight.weight_connection')::float8, current_setting('foresight.weight_load')::float8)" >/dev/null
		fi
		base=${policy%%:*}
		# "predictive@hedge_factor=0": the policy with foresight.hedge_factor = 0
		sql "$port" "ALTER SYSTEM RESET foresight.hedge_factor" >/dev/null
		if [[ $base == *@*=* ]]; then
			setting=${base#*@}
			sql "$port" "ALTER SYSTEM SET foresight.${setting%%=*} = '${setting#*=}'" >/dev/null
			base=${base%%@*}
		fi
		sql "$port" "ALTER SYSTEM SET foresight.routing_policy = '${base%-standby1}'" >/dev/null
		sql "$port" "SELECT pg_reload_conf()" >/dev/null
		sleep 1
		pgbench -h 127.0.0.1 -p "$port" -n -c 8 -j 2 -T 8 -M prepared "${workload[@]}" postgres >/dev/null 2>&1 || true
		first=$(sql "$port" "SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions")
		( for n in 1 2 3 4; do
			pgbench -h 127.0.0.1 -p $((port + 1)) -n -c "$n" -j 1 -T 10 -f bench/workload/noise.sql postgres >/dev/null 2>&1
		done ) &
		noise=$!
		if [ -n "${RAMP_AB_DETAIL:-}" ]; then
			( for i in 1 2 3 4 5 6 7; do sleep 5; sql "$port" "SELECT 'pred', string_agg(node_name || '/' || request_class || '=' || round(predicted_load::numeric, 2) || '(' || samples || ')', ' ' ORDER BY node_name, request_class) FROM foresight.predictions WHERE node_name <> 'local' AND request_class IN ('all', 'point', 'small') AND horizon = (SELECT min(horizon) FROM foresight.predictions)" >&2;
			sql "$port" "SELECT 'lat', string_agg(node_name || ' p95 point ' || round(lat_p95_us_point) || ' small ' || round(lat_p95_us_small) || ' base ' || round(lat_baseline_us) || ' load ' || round(load::numeric, 2), ' | ' ORDER BY node_name) FROM foresight.node_metrics WHERE node_name <> 'local'" >&2; done ) &
		fi
		start=$(date +%s.%N)
		rm -f "$work"/ramp.*
		(cd "$work" && pgbench -h 127.0.0.1 -p "$port" -n -c 8 -j 2 -T 40 -M prepared "${workload[@]}" \
			-l --log-prefix=ramp postgres > "$work/pgbench.out" 2>&1) || true
		wait "$noise" || true
		cat "$work"/ramp.[0-9]* > "$work/ramp.log"
		steps=""
		for s in 0 1 2 3; do
			steps+="$(awk -v st="$start" -v s=$s '{ t = $5 + $6 / 1e6 - st; if (t >= s * 10 && t < (s + 1) * 10) print $3 / 1000 }' "$work/ramp.log" | pct 99) / "
		done
		all=$(awk '{ print $3 / 1000 }' "$work/ramp.log" | pct 99)
		agg=$(for p in 50 90 99; do awk '$4 == 2 { print $3 / 1000 }' "$work/ramp.log" | pct $p; done | paste -sd/)
		tps=$(awk 'END { printf "%.0f", NR / 40 }' "$work/ramp.log")
		# what the slowest 1% were: queries per script (0 point, 1 range, 2 aggregate)
		top=$(sort -k3,3n "$work/ramp.log" | tail -n "$(awk 'END { print int(NR / 100) }' "$work/ramp.log")" |
			awk '{ n[$4]++ } END { printf "%d/%d/%d", n[0], n[1], n[2] }')
		aborted=$(grep -c "aborted" "$work/pgbench.out" || true)
		share=$(sql "$port" "SELECT string_agg(request_class || ' ' || s, '; ' ORDER BY request_class)
			FROM (SELECT request_class, string_agg(coalesce(chosen_node, 'none') || ' ' || n || ' (p50 ' || p50 || ', p99 ' || p99 || CASE WHEN hedged > 0 THEN ', ' || hedged || ' hedged to it' ELSE '' END || ')', ', ' ORDER BY chosen_node) s
			      FROM (SELECT request_class, chosen_node, count(*) n,
			                   count(*) FILTER (WHERE reason LIKE '%(hedged: %') hedged,
			                   round(percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms)::numeric, 1) p50,
			                   round(percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_ms)::numeric, 1) p99
			            FROM foresight.routing_decisions
			            WHERE decision_id > $first GROUP BY 1, 2) a GROUP BY 1) b")
		if [ -n "${RAMP_AB_DETAIL:-}" ]; then
			sql "$port" "SELECT floor(extract(epoch FROM decided_at) - $start)::int / 5 AS step5, request_class, c->>'node' AS node,
				round(avg((c->>'predicted_load')::float)::numeric, 2) AS load, round(avg((c->>'connection_score')::float)::numeric, 2) AS conn,
				count(*) FILTER (WHERE chosen_node = c->>'node') AS chosen
				FROM foresight.routing_decisions, jsonb_array_elements(candidates) c
				WHERE decision_id > $first GROUP BY 1, 2, 3 ORDER BY 2, 1, 3" >&2
			sql "$port" "SELECT 'chosen', request_class, chosen_node, count(*), round(avg((SELECT (c->>'predicted_load')::float FROM jsonb_array_elements(candidates) c WHERE c->>'node' = 'standby1'))::numeric, 2) AS l1,
				round(avg((SELECT (c->>'predicted_load')::float FROM jsonb_array_elements(candidates) c WHERE c->>'node' = 'standby2'))::numeric, 2) AS l2,
				round(avg((SELECT (c->>'connection_score')::float FROM jsonb_array_elements(candidates) c WHERE c->>'node' = 'standby1'))::numeric, 2) AS c1,
				round(avg((SELECT (c->>'connection_score')::float FROM jsonb_array_elements(candidates) c WHERE c->>'node' = 'standby2'))::numeric, 2) AS c2,
				min(reason), max(reason)
				FROM foresight.routing_decisions WHERE decision_id > $first GROUP BY 2, 3 ORDER BY 2, 3" >&2
			sql "$port" "SELECT node_name, lat_p95_us_point, lat_p95_us_small, lat_count_small, load FROM foresight.node_metrics WHERE node_name <> 'local'" >&2
		fi
		row="| $rep | $policy | ${steps% / } | $all | $top | $agg | $tps | $aborted | $share |"
		echo "$row"
		rows+="$row"$'\n'
		sleep 8
	done
done

report=$FORESIGHT_ROOT/bench/results/ramp_ab.md
{
	echo "# Noisy-neighbour ramp, policies in turn"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores; \`bash bench/ramp_ab.sh --reps $reps --policies $(IFS=,; echo "${policies[*]}")\`."
	echo "CPU shares: $limits. Workload: point lookups, range sums, aggregates (8:2:1), 8 clients, prepared; noise on standby1: 1, 2, 3, 4 clients, 10 s each."
	echo
	echo "| rep | policy | p99 ms per step (1-4 noise clients) | p99 ms, ramp | slowest 1%: point/range/aggregate | aggregates p50/p90/p99 ms | TPS | clients aborted | queries per class and node (latency ms at the coordinator) |"
	echo "|---|---|---|---:|---|---|---:|---:|---|"
	printf '%s' "$rows"
} > "$report"
note "report: $report"
