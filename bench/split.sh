#!/usr/bin/env bash
# bench/split.sh: heavy reads split over the standbys, against what
# PostgreSQL does alone and what a DBA would build by hand.
#
#   bash bench/split.sh [--scale S] [--quota CORES] [--runs N]
#                       [--targets t1,t2,...] [--queries q1,q2,...]
#                       [--no-noisy] [--no-sweep] [--no-freeze]
#
# A coordinator and two hot standbys on loopback, each server held to the
# same CPU quota by the cgroup v1 cpu controller (default 0.6 core, so the
# three fit in two cores; no limits where it is not writable, and the
# report says so), pgbench_accounts at scale S (default 100: 10 million
# rows) with abalance filled, then frozen (VACUUM FREEZE, unless
# --no-freeze: a hot standby checks every tuple's visibility, its
# snapshots not trusting the pages' all-visible flag, and frozen tuples
# pass that check at once), caches warmed.  Each query runs N times
# (default 5, after one warm-up run) against each target, one after the
# other on a machine doing nothing else:
#
#   local_serial     the coordinator alone, max_parallel_workers_per_gather 0
#   local_parallel   the coordinator alone, max_parallel_workers_per_gather 2
#   routed_whole     routed whole to a standby (foresight.split off)
#   split_2          split over the two standbys (include_local off)
#   split_2_generic  split_2 with foresight.split_native_aggregates off:
#                    every aggregate through foresight.partial_agg (not in
#                    the default set; to measure the parts' native
#                    aggregates against the generic wrapper)
#   split_2_blocks   split_2 with foresight.split_block_ranges on: the parts
#                    cut by block ranges when the standbys' snapshots agree
#                    and the plan costs say blocks are cheaper (not in the
#                    default set; to measure them against key ranges)
#   split_3          split over the two standbys and the coordinator, whose
#                    pieces run in a parallel worker (foresight.split_worker)
#   split_3_serial   split_3 with foresight.split_worker off: the coordinator
#                    runs its pieces itself (not in the default set; to
#                    measure the worker against it)
#   postgres_fdw     a partitioned table whose two partitions are foreign
#                    tables on per-range views of the standbys,
#                    async_capable, enable_partitionwise_aggregate on
#   plproxy          PL/Proxy RUN ON the two standbys with SPLIT over the
#                    ranges, combined here (the queries it fits)
#
# Every target's answer is compared with local_serial's (a wrong answer is
# reported, not timed).  Each target's runs share one connection
# (bench/lib/query_timer.c): reported per query and target are the median
# wall time, its min and max, the median time to the first row, the
# speed-up over local_serial, the speed-up over the physical limit (the
# number of servers the target uses, at the same quota), the coordinator's
# CPU per run (its backend's, plus, for local_parallel and split_3, parallel
# workers' from the postmaster's reaped-children times) and the coordinator
# backend's peak private memory (RssAnon above its level before the query,
# sampled every 2 ms).
#
# Then, unless --no-noisy: a CPU-bound neighbour in standby1's control
# group, and the scan-heavy queries split over the two standbys with
# foresight.split_assignment = equal, capacity and dynamic.  And unless
# --no-sweep: the break-even cost, count(*) and a GROUP BY over copies of
# the first N rows, split over the two standbys against routed whole, for
# foresight.split_min_cost's default.  And the coordinator's memory for a
# split aggregate over a tenth of the table against all of it.
# Writes bench/results/split.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" postgresql-contrib postgresql-$PG_MAJOR-plproxy
CGROUP_NAME=${CGROUP_NAME:-foresight_bench_$$}
cgroup_for_user "$CGROUP_NAME"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/split.sh "$@"

args="$*"
scale=100
quota=0.6
runs=5
targets="local_serial local_parallel routed_whole split_2 split_3 postgres_fdw plproxy"
queries="count group_few group_many filter_limit join_group distinct_key"
noisy=1
sweep=1
freeze=1
while [ $# -gt 0 ]; do
	case $1 in
		--scale) scale=$2; shift 2 ;;
		--quota) quota=$2; shift 2 ;;
		--runs) runs=$2; shift 2 ;;
		--targets) targets=${2//,/ }; shift 2 ;;
		--queries) queries=${2//,/ }; shift 2 ;;
		--no-noisy) noisy=0; shift ;;
		--no-sweep) sweep=0; shift ;;
		--no-freeze) freeze=0; shift ;;
		-h|--help) sed -n '2,61p' "$0"; exit 0 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

bench_prelude split
# PL/Proxy comes from Debian's package: the private install needs its files
for f in /usr/lib/postgresql/$PG_MAJOR/lib/plproxy.so /usr/share/postgresql/$PG_MAJOR/extension/plproxy*; do
	[ -e "$f" ] || continue
	case $f in
		*.so) cp "$f" "$FORESIGHT_INSTALL/usr/lib/postgresql/$PG_MAJOR/lib/" ;;
		*) cp "$f" "$FORESIGHT_INSTALL/usr/share/postgresql/$PG_MAJOR/extension/" ;;
	esac
done
for f in /usr/lib/postgresql/$PG_MAJOR/lib/postgres_fdw.so /usr/share/postgresql/$PG_MAJOR/extension/postgres_fdw*; do
	[ -e "$f" ] || continue
	case $f in
		*.so) cp "$f" "$FORESIGHT_INSTALL/usr/lib/postgresql/$PG_MAJOR/lib/" ;;
		*) cp "$f" "$FORESIGHT_INSTALL/usr/share/postgresql/$PG_MAJOR/extension/" ;;
	esac
done

bench_query_timer
neighbour=
cleanup() {
	set +e
	[ -n "$neighbour" ] && kill "$neighbour" 2>/dev/null
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
	bench_remove_cgroup
	rm -rf "$work"
}
trap cleanup EXIT

sql() { bench_sql "$port" "$1"; }
bench_cluster_start "$cluster" "$port" "$scale"
s1=$((port + 1))
s2=$((port + 2))

note "filling abalance, then VACUUM ANALYZE$([ "$freeze" = 1 ] && echo " (FREEZE)")"
sql "UPDATE pgbench_accounts SET abalance = (aid::bigint * 7919 % 10007 - 5000)::integer"
if [ "$freeze" = 1 ]; then
	sql "VACUUM (FREEZE, ANALYZE) pgbench_accounts"
else
	sql "VACUUM ANALYZE pgbench_accounts"
fi
sql "VACUUM ANALYZE pgbench_branches"
maxaid=$(sql "SELECT max(aid) FROM pgbench_accounts")
mid=$(( (maxaid + 1) / 2 ))

note "postgres_fdw and PL/Proxy set-ups (made on the primary, replicated)"
sql "CREATE EXTENSION IF NOT EXISTS postgres_fdw"
sql "CREATE EXTENSION IF NOT EXISTS plproxy"
for i in 1 2; do
	p=$((port + i))
	sql "CREATE SERVER fdw_s$i FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$p', dbname 'postgres', async_capable 'true', fetch_size '10000')"
	sql "CREATE USER MAPPING FOR CURRENT_USER SERVER fdw_s$i"
done
sql "CREATE VIEW accounts_r1 AS SELECT * FROM pgbench_accounts WHERE aid < $mid"
sql "CREATE VIEW accounts_r2 AS SELECT * FROM pgbench_accounts WHERE aid >= $mid"
sql "CREATE TABLE accounts_fdw (aid integer NOT NULL, bid integer, abalance integer, filler character(84)) PARTITION BY RANGE (aid)"
sql "CREATE FOREIGN TABLE accounts_fdw_1 PARTITION OF accounts_fdw FOR VALUES FROM (MINVALUE) TO ($mid) SERVER fdw_s1 OPTIONS (table_name 'accounts_r1')"
sql "CREATE FOREIGN TABLE accounts_fdw_2 PARTITION OF accounts_fdw FOR VALUES FROM ($mid) TO (MAXVALUE) SERVER fdw_s2 OPTIONS (table_name 'accounts_r2')"
sql "CREATE SERVER split_cluster FOREIGN DATA WRAPPER plproxy OPTIONS (p0 'host=127.0.0.1 port=$s1 dbname=postgres', p1 'host=127.0.0.1 port=$s2 dbname=postgres')"
sql "CREATE USER MAPPING FOR PUBLIC SERVER split_cluster"
# the parts' functions (run on the standbys): range i of 2 of the key
sql "CREATE FUNCTION part_bounds(i integer, OUT lo integer, OUT hi integer) LANGUAGE sql IMMUTABLE
	AS \$\$ SELECT CASE WHEN i = 0 THEN -2147483648 ELSE $mid END, CASE WHEN i = 0 THEN $mid ELSE 2147483647 END \$\$"
sql "CREATE FUNCTION part_count(idx integer[]) RETURNS SETOF bigint LANGUAGE sql STABLE
	AS \$\$ SELECT count(*) FROM pgbench_accounts a, unnest(idx) i, part_bounds(i) b WHERE a.aid >= b.lo AND a.aid < b.hi \$\$"
sql "CREATE FUNCTION part_group_few(idx integer[], OUT bid integer, OUT s bigint, OUT n bigint) RETURNS SETOF record LANGUAGE sql STABLE
	AS \$\$ SELECT a.bid, sum(a.abalance), count(a.abalance) FROM pgbench_accounts a, unnest(idx) i, part_bounds(i) b WHERE a.aid >= b.lo AND a.aid < b.hi GROUP BY a.bid \$\$"
sql "CREATE FUNCTION part_join_group(idx integer[], OUT bid integer, OUT n bigint, OUT s bigint) RETURNS SETOF record LANGUAGE sql STABLE
	AS \$\$ SELECT br.bid, count(*), sum(a.abalance) FROM pgbench_accounts a JOIN pgbench_branches br ON br.bid = a.bid, unnest(idx) i, part_bounds(i) b WHERE a.aid >= b.lo AND a.aid < b.hi GROUP BY br.bid \$\$"
for f in "count:RETURNS SETOF bigint" "group_few:RETURNS SETOF record" "join_group:RETURNS SETOF record"; do
	name=${f%%:*}
	case $name in
		count) sig="idx integer[]" ;;
		group_few) sig="idx integer[], OUT bid integer, OUT s bigint, OUT n bigint" ;;
		join_group) sig="idx integer[], OUT bid integer, OUT n bigint, OUT s bigint" ;;
	esac
	sql "CREATE FUNCTION proxy_$name($sig) ${f#*:} LANGUAGE plproxy
		AS \$\$ CLUSTER 'split_cluster'; SPLIT idx; RUN ON idx; TARGET part_$name; \$\$"
done
sql "CHECKPOINT"
bench_wait_replay "$port" "$s1" "$s2"

loadavg0=$(cut -d' ' -f1-3 /proc/loadavg)
limits=$(cgroup_bench_quotas "$CGROUP_NAME" "$cluster" "$quota" "$quota" "$quota")
note "CPU: $limits"

# the query of each name, on pgbench_accounts (every target but the
# hand-built ones) and, where it fits, on the hand-built set-ups
query_sql() {
	local q=$1 t=$2 rel=pgbench_accounts
	[ "$t" = postgres_fdw ] && rel=accounts_fdw
	if [ "$t" = plproxy ]; then
		case $q in
			count) echo "SELECT sum(c)::bigint FROM proxy_count(ARRAY[0, 1]) c" ;;
			group_few) echo "SELECT bid, sum(s)::bigint, round(sum(s)::numeric / sum(n), 6) FROM proxy_group_few(ARRAY[0, 1]) GROUP BY bid ORDER BY bid" ;;
			join_group) echo "SELECT bid, sum(n)::bigint, sum(s)::bigint FROM proxy_join_group(ARRAY[0, 1]) GROUP BY bid ORDER BY bid" ;;
			*) echo "" ;;
		esac
		return
	fi
	case $q in
		count) echo "SELECT count(*) FROM $rel" ;;
		group_few) echo "SELECT bid, sum(abalance)::bigint, round(avg(abalance), 6) FROM $rel GROUP BY bid ORDER BY bid" ;;
		group_many) echo "SELECT aid / 100 AS g, count(*), sum(abalance) FROM $rel GROUP BY aid / 100 ORDER BY g LIMIT 20" ;;
		filter_limit) echo "SELECT aid, abalance FROM $rel WHERE abalance BETWEEN 4990 AND 4995 ORDER BY abalance DESC, aid LIMIT 100" ;;
		join_group) echo "SELECT br.bid, count(*), sum(a.abalance)::bigint FROM $rel a JOIN pgbench_branches br ON br.bid = a.bid GROUP BY br.bid ORDER BY br.bid" ;;
		distinct_key) echo "SELECT count(DISTINCT aid) FROM $rel WHERE abalance > 0" ;;
	esac
}

# the session settings of each target
target_settings() {
	local common="SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = local; SET foresight.split = off;"
	case $1 in
		local_serial) echo "$common" ;;
		local_parallel) echo "SET max_parallel_workers_per_gather = 2; SET foresight.routing_policy = local; SET foresight.split = off;" ;;
		routed_whole) echo "SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = predictive; SET foresight.include_local = off; SET foresight.split = off;" ;;
		split_2) echo "SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = predictive; SET foresight.include_local = off; SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.max_split_parts = 2;" ;;
		split_2_generic) echo "SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = predictive; SET foresight.include_local = off; SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.max_split_parts = 2; SET foresight.split_native_aggregates = off;" ;;
		split_2_blocks) echo "SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = predictive; SET foresight.include_local = off; SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.max_split_parts = 2; SET foresight.split_block_ranges = on;" ;;
		split_3) echo "SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = predictive; SET foresight.include_local = on; SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.max_split_parts = 3;" ;;
		split_3_serial) echo "SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = predictive; SET foresight.include_local = on; SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.max_split_parts = 3; SET foresight.split_worker = off;" ;;
		postgres_fdw) echo "$common SET enable_partitionwise_aggregate = on; SET enable_async_append = on;" ;;
		plproxy) echo "$common" ;;
	esac
}

# servers a target computes on, for the physical limit
target_servers() {
	case $1 in
		local_serial|local_parallel|routed_whole) echo 1 ;;
		split_2|split_2_*|postgres_fdw|plproxy) echo 2 ;;
		split_3|split_3_*) echo 3 ;;
	esac
}

# CPU of the coordinator's exited children (parallel workers), in ms
coordinator_cpu_ms() {
	local pm hz
	pm=$(head -1 "$cluster/coordinator/postmaster.pid")
	hz=$(getconf CLK_TCK)
	awk -v hz="$hz" '{ sub(/^.*\) /, ""); print ($14 + $15) * 1000 / hz }' "/proc/$pm/stat"
}

# what ran: the route of the first plan node
plan_shape() {
	psql -X -q -At -h 127.0.0.1 -p "$port" -d postgres -c "SET client_min_messages = warning; $1" \
		-c "EXPLAIN (COSTS OFF) $2" 2>/dev/null |
		{ grep -oE "Foresight (Split|Route)|Route: [a-z0-9_]+|Parts: [0-9]+|Async Foreign Scan|Custom Scan \([A-Za-z ]+\)" || true; } |
		sort -u | tr '\n' ';' | tr ' ' '_'
}

# measure TABLE LABEL TARGET SETTINGS QUERY [REFERENCE-LABEL]: the runs of
# one query on one connection, a line "LABEL TARGET ok min med max
# first_row_med cpu_ms peak_kb shape" (or "wrong" / "error") into TABLE;
# the answer is compared with REFERENCE-LABEL's, local_serial's when given
# (the first of a label sets it).
declare -A reference
# how the pieces of the split decisions since decision id $1 went, one
# entry per distinct spread: "5x standby1 32p standby2 32p"
split_spread() {
	psql -X -q -At -h 127.0.0.1 -p "$port" -d postgres -c \
		"SELECT reason FROM foresight.routing_decisions WHERE decision_id > $1 AND chosen_node = 'parts'" 2>/dev/null |
		sed -n 's/.*by node: //p' | sed -E 's/;.*//; s/ [0-9]+s [0-9]+r [0-9.]+ms//g; s/,//g' | sort | uniq -c |
		awk '{ n = $1; $1 = ""; printf "%s%dx%s", sep, n, $0; sep = "; " }'
}

last_decision() {
	psql -X -q -At -h 127.0.0.1 -p "$port" -d postgres -c "SELECT coalesce(max(decision_id), 0) FROM foresight.routing_decisions" 2>/dev/null || echo 0
}

measure() {
	local table=$1 label=$2 t=$3 settings=$4 qs=$5 out=$work/out sum shape cpu0 cpu1 stats extra d0 spread
	d0=$(last_decision)
	if ! "$timer" "host=127.0.0.1 port=$port dbname=postgres" "$runs" "$out" \
		"SET client_min_messages = warning; $settings" "$qs" > "$work/runs" 2> "$work/err"; then
		echo "$label $t error $(head -1 "$work/err" | tr ' ' '_')" >> "$table"
		note "$label $t: error $(head -1 "$work/err")"
		return
	fi
	sum=$(md5sum < "$out" | cut -c1-12)
	[ -z "${reference[$label]:-}" ] && reference[$label]=$sum
	if [ "$sum" != "${reference[$label]}" ]; then
		echo "$label $t wrong" >> "$table"
		cp "$out" "$results/split_wrong_${label}_$t.out"
		note "$label $t: WRONG answer"
		return
	fi
	shape=$(plan_shape "$settings" "$qs")
	spread=$(split_spread "$d0")
	[ -n "$spread" ] && shape="${shape}Pieces:_${spread// /_};"
	cpu0=$(coordinator_cpu_ms)
	# the timer's runs were after the warm-up; the workers' CPU is read
	# around a second set of runs only when the target has workers
	cpu1=$cpu0
	if [ "$t" = local_parallel ] || [ "$t" = split_3 ]; then
		"$timer" "host=127.0.0.1 port=$port dbname=postgres" "$runs" "$out" \
			"SET client_min_messages = warning; $settings" "$qs" > "$work/runs"
		sleep 0.2
		cpu1=$(coordinator_cpu_ms)
	fi
	extra=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$((runs + 1))" 'BEGIN { print (b - a) / n }')
	col() { cut -d' ' -f"$1" "$work/runs" | sort -n; }
	med() { awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
	stats="$(col 1 | head -1 | cut -d. -f1) $(col 1 | med | cut -d. -f1) $(col 1 | tail -1 | cut -d. -f1)"
	stats="$stats $(col 2 | med | cut -d. -f1) $(col 4 | med | awk -v e="$extra" '{ printf "%.0f", $1 + e }') $(col 3 | tail -1)"
	echo "$label $t ok $stats ${shape:--}" >> "$table"
	note "$label $t: min med max first-row cpu peak-kB = $stats, ${shape:--}"
}

table="$work/table"
: > "$table"
for q in $queries; do
	for t in $targets; do
		qs=$(query_sql "$q" "$t")
		if [ -z "$qs" ]; then
			echo "$q $t n/a" >> "$table"
			continue
		fi
		measure "$table" "$q" "$t" "$(target_settings "$t")" "$qs"
	done
done

# the table of one label's lines: TABLE LABEL BASE-TARGET
report_rows() {
	local table=$1 label=$2 base_target=$3 base
	echo "| target | median ms | min-max | first row ms | speed-up | of the limit | coordinator CPU ms | coordinator peak kB | plan |"
	echo "|---|---|---|---|---|---|---|---|---|"
	base=$(awk -v q="$label" -v b="$base_target" '$1 == q && $2 == b && $3 == "ok" { print $5 }' "$table")
	while read -r qq t status min med max first cpu peak shape; do
		[ "$qq" = "$label" ] || continue
		case $status in
			ok)
				n=$(target_servers "$t")
				awk -v t="$t" -v min="$min" -v med="$med" -v max="$max" -v first="$first" -v base="${base:-0}" \
					-v n="${n:-1}" -v cpu="$cpu" -v peak="$peak" -v shape="$shape" 'BEGIN {
					if (base > 0) { s = base / med; printf "| %s | %d | %d-%d | %d | %.2f | %.2f | %s | %s | %s |\n", t, med, min, max, first, s, s / n, cpu, peak, shape }
					else printf "| %s | %d | %d-%d | %d | | | %s | %s | %s |\n", t, med, min, max, first, cpu, peak, shape }' ;;
			n/a) echo "| $t | does not fit this query | | | | | | | |" ;;
			wrong) echo "| $t | **wrong answer** (bench/results/split_wrong_${label}_$t.out) | | | | | | | |" ;;
			error) echo "| $t | error: ${min//_/ } | | | | | | | |" ;;
		esac
	done < "$table"
}

# --- the coordinator's memory against the table's size ---
memtable=$work/memtable
: > "$memtable"
split2=$(target_settings split_2)
measure "$memtable" mem_tenth split_2 "$split2" "SELECT bid, sum(abalance)::bigint, count(*) FROM pgbench_accounts WHERE aid < $((maxaid / 10)) GROUP BY bid ORDER BY bid"
measure "$memtable" mem_all split_2 "$split2" "SELECT bid, sum(abalance)::bigint, count(*) FROM pgbench_accounts GROUP BY bid ORDER BY bid"

# --- a CPU-bound neighbour on standby1 ---
noisytable=$work/noisytable
: > "$noisytable"
noisy_loads=
if [ "$noisy" = 1 ]; then
	note "a CPU-bound neighbour in standby1's control group"
	( exec bash -c 'while :; do :; done' ) &
	neighbour=$!
	cgroup_add "$CGROUP_NAME/standby1" "$neighbour" 2>/dev/null || note "could not put the neighbour in standby1's group"
	sleep 15	# for the monitor to see it and the forecasts to follow
	noisy_loads=$(sql "SELECT string_agg(node_name || ' ' || l, ', ' ORDER BY node_name) FROM (SELECT node_name, round(max(predicted_load)::numeric, 2) AS l FROM foresight.predictions GROUP BY node_name) s")
	note "predicted loads: $noisy_loads"
	for q in count group_few join_group; do
		case " $queries " in *" $q "*) ;; *) continue ;; esac
		qs=$(query_sql "$q" local_serial)
		reference[noisy_$q]=${reference[$q]:-}
		for how in equal capacity dynamic; do
			measure "$noisytable" "noisy_$q" "split_2_$how" "$split2 SET foresight.split_assignment = $how;" "$qs"
		done
	done
	kill "$neighbour"
	neighbour=
fi

# --- break-even: where splitting starts to pay ---
sweeptable=$work/sweeptable
sweep_sizes="100000 300000 1000000 3000000"
: > "$sweeptable"
if [ "$sweep" = 1 ]; then
	note "break-even sweep"
	for n in $sweep_sizes; do
		[ "$n" -lt "$maxaid" ] || continue
		# a primary key: the split key
		sql "CREATE TABLE IF NOT EXISTS sweep_$n AS SELECT * FROM pgbench_accounts WHERE aid <= $n"
		sql "ALTER TABLE sweep_$n ADD PRIMARY KEY (aid)"
		sql "VACUUM (FREEZE, ANALYZE) sweep_$n"
	done
	bench_wait_replay "$port" "$s1" "$s2"
	for n in $sweep_sizes; do
		[ "$n" -lt "$maxaid" ] || continue
		for shape in count group; do
			case $shape in
				count) qs="SELECT count(*) FROM sweep_$n" ;;
				group) qs="SELECT bid, sum(abalance)::bigint, count(*) FROM sweep_$n GROUP BY bid ORDER BY bid" ;;
			esac
			cost=$(sql "SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = local; EXPLAIN (FORMAT JSON) $qs" |
				grep -oE '"Total Cost": [0-9.]+' | head -1 | grep -oE '[0-9.]+$')
			for t in routed_whole split_2; do
				measure "$sweeptable" "${shape}_$n" "$t" "$(target_settings "$t")" "$qs"
			done
			echo "${shape}_$n $cost" >> "$work/costs"
		done
	done
fi

{
	echo "# Dynamic sharding: split reads against local, parallel query, postgres_fdw and PL/Proxy"
	echo
	echo "Made by \`bash bench/split.sh${args:+ $args}\` on $(date -u '+%Y-%m-%d %H:%M UTC') (scale $scale, quota $quota, $runs runs),"
	echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $limits."
	echo "pgbench_accounts: $maxaid rows. Each cell: median wall time of $runs runs on one connection (after a"
	echo "warm-up run whose answer was compared with local_serial's), min-max, median time to the first row,"
	echo "speed-up over local_serial, and that speed-up over the number of servers the target computes on"
	echo "(1.0 = the physical limit); the coordinator's CPU per run (median; its backend, plus parallel"
	echo "workers for local_parallel and split_3); the coordinator backend's peak private memory above its level before"
	echo "the query (RssAnon, sampled every 2 ms). Load average before the run: $loadavg0."
	echo
	for q in $queries; do
		echo "## $q"
		echo
		echo '```sql'
		query_sql "$q" local_serial
		echo '```'
		echo
		report_rows "$table" "$q" local_serial
		echo
	done
	echo "## Coordinator memory against the table's size"
	echo
	echo "The same split GROUP BY (100 groups) over a tenth of the table and over all of it (split_2):"
	echo
	report_rows "$memtable" mem_tenth none
	report_rows "$memtable" mem_all none | tail -n +3
	echo
	if [ "$noisy" = 1 ]; then
		echo "## A CPU-bound neighbour on standby1"
		echo
		echo "A busy loop in standby1's control group (so standby1 gets about half its quota); predicted"
		echo "loads when the runs began: $noisy_loads. Split over the two standbys, the pieces given by"
		echo "foresight.split_assignment = equal (equal ranges), capacity (a range per node sized by its"
		echo "predicted capacity) or dynamic (pieces handed out as nodes finish, with stealing); speed-up"
		echo "here is over equal ranges (target: adaptive at most 0.8x equal's time)."
		echo
		for q in count group_few join_group; do
			grep -q "^noisy_$q " "$noisytable" || continue
			echo "### $q"
			echo
			report_rows "$noisytable" "noisy_$q" split_2_equal
			echo
		done
	fi
	if [ "$sweep" = 1 ]; then
		echo "## Break-even: where splitting starts to pay"
		echo
		echo "count(*) and a GROUP BY bid over tables of the first N rows; routed whole against split over"
		echo "the two standbys (foresight.split_min_cost = 0); the plan cost is the local serial plan's."
		echo
		echo "| query | plan cost | routed whole ms | split_2 ms | split / whole |"
		echo "|---|---|---|---|---|"
		while read -r label cost; do
			w=$(awk -v l="$label" '$1 == l && $2 == "routed_whole" && $3 == "ok" { print $5 }' "$sweeptable")
			p=$(awk -v l="$label" '$1 == l && $2 == "split_2" && $3 == "ok" { print $5 }' "$sweeptable")
			awk -v l="$label" -v c="$cost" -v w="${w:-0}" -v p="${p:-0}" 'BEGIN {
				printf "| %s | %.0f | %d | %d | %s |\n", l, c, w, p, (w > 0 && p > 0) ? sprintf("%.2f", p / w) : "" }'
		done < "$work/costs"
		echo
	fi
	echo "## Quarantines during the run"
	echo
	echo "The monitor's quarantines (foresight.anomalies) while the benchmark ran: a quarantined node,"
	echo "and one in its slow start, takes fewer or no pieces, which shows as a slow run of the targets"
	echo "measured then (times UTC)."
	echo
	echo "| node | metric | score | from | to | action |"
	echo "|---|---|---|---|---|---|"
	psql -X -q -At -F'|' -h 127.0.0.1 -p "$port" -d postgres -c \
		"SELECT node_name, coalesce(nullif(metric, ''), '-'), round(score::numeric, 2),
		        to_char(start_time AT TIME ZONE 'UTC', 'HH24:MI:SS'), to_char(end_time AT TIME ZONE 'UTC', 'HH24:MI:SS'), action
		   FROM foresight.anomalies ORDER BY start_time" 2>/dev/null > "$work/anomalies" || true
	if [ -s "$work/anomalies" ]; then
		sed 's/|/ | /g; s/^/| /; s/$/ |/' "$work/anomalies"
	else
		echo "| none | | | | | |"
	fi
	echo
} > "$results/split.md"
note "wrote $results/split.md"
