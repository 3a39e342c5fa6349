#!/usr/bin/env bash
# bench/split.sh: heavy reads split over the standbys, against what
# PostgreSQL does alone and what a DBA would build by hand.
#
#   bash bench/split.sh [--scale S] [--quota CORES] [--runs N]
#                       [--targets t1,t2,...] [--queries q1,q2,...]
#
# A coordinator and two hot standbys on loopback, each server held to the
# same CPU quota by the cgroup v1 cpu controller (default 0.6 core, so the
# three fit in two cores; no limits where it is not writable, and the
# report says so), pgbench_accounts at scale S (default 100: 10 million
# rows) with abalance filled, caches warmed.  Each query runs N times
# (default 5, after one warm-up run) against each target, one after the
# other on a machine doing nothing else:
#
#   local_serial     the coordinator alone, max_parallel_workers_per_gather 0
#   local_parallel   the coordinator alone, max_parallel_workers_per_gather 2
#   routed_whole     routed whole to a standby (foresight.split off)
#   split_2          split over the two standbys (include_local off)
#   split_3          split over the two standbys and the coordinator
#   postgres_fdw     a partitioned table whose two partitions are foreign
#                    tables on per-range views of the standbys,
#                    async_capable, enable_partitionwise_aggregate on
#   plproxy          PL/Proxy RUN ON the two standbys with SPLIT over the
#                    ranges, combined here (the queries it fits)
#
# Every target's answer is compared with local_serial's (a wrong answer is
# reported, not timed).  Reported per query and target: the median wall
# time, its min and max, the speed-up over local_serial, the speed-up over
# the physical limit (the number of servers the target uses, at the same
# quota), and the coordinator's CPU per run (its backends' CPU, from the
# postmaster's reaped-children times).  Writes bench/results/split.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/cgroup.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" postgresql-contrib postgresql-$PG_MAJOR-plproxy
CGROUP_NAME=${CGROUP_NAME:-foresight_bench_$$}
cgroup_for_user "$CGROUP_NAME"
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/split.sh "$@"

scale=100
quota=0.6
runs=5
targets="local_serial local_parallel routed_whole split_2 split_3 postgres_fdw plproxy"
queries="count group_few group_many filter_limit join_group distinct_key"
while [ $# -gt 0 ]; do
	case $1 in
		--scale) scale=$2; shift 2 ;;
		--quota) quota=$2; shift 2 ;;
		--runs) runs=$2; shift 2 ;;
		--targets) targets=${2//,/ }; shift 2 ;;
		--queries) queries=${2//,/ }; shift 2 ;;
		-h|--help) sed -n '2,33p' "$0"; exit 0 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

cd "$FORESIGHT_ROOT"
build_and_install
export PATH="$FORESIGHT_BINDIR:$PATH"
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

work=$(mktemp -d /tmp/foresight-split.XXXXXX)
results=$FORESIGHT_ROOT/bench/results
mkdir -p "$results"
port=$((20000 + RANDOM % 20000))
cluster=$work/cluster
cleanup() {
	set +e
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
	[ -d "$CGROUP_V1_CPU/${CGROUP_NAME:-none}" ] && find "$CGROUP_V1_CPU/$CGROUP_NAME" -depth -type d -exec rmdir {} \; 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

sql() { bench_sql "$port" "$1"; }
bench_cluster_start "$cluster" "$port" "$scale"
s1=$((port + 1))
s2=$((port + 2))

note "filling abalance, then VACUUM ANALYZE"
sql "UPDATE pgbench_accounts SET abalance = (aid * 7919) % 10007 - 5000"
sql "VACUUM ANALYZE pgbench_accounts"
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
lsn=$(sql "SELECT pg_current_wal_lsn()")
for p in $s1 $s2; do
	until [ "$(bench_sql $p "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ]; do sleep 0.5; done
done

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
		routed_whole) echo "SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = least_connections; SET foresight.include_local = off; SET foresight.split = off;" ;;
		split_2) echo "SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = least_connections; SET foresight.include_local = off; SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.max_split_parts = 2;" ;;
		split_3) echo "SET max_parallel_workers_per_gather = 0; SET foresight.routing_policy = least_connections; SET foresight.include_local = on; SET foresight.split = on; SET foresight.split_min_cost = 0; SET foresight.max_split_parts = 3;" ;;
		postgres_fdw) echo "$common SET enable_partitionwise_aggregate = on; SET enable_async_append = on;" ;;
		plproxy) echo "$common" ;;
	esac
}

# servers a target computes on, for the physical limit
target_servers() {
	case $1 in
		local_serial|local_parallel|routed_whole) echo 1 ;;
		split_2|postgres_fdw|plproxy) echo 2 ;;
		split_3) echo 3 ;;
	esac
}

# CPU of the coordinator's exited children (its backends), in ms
coordinator_cpu_ms() {
	local pm hz
	pm=$(head -1 "$cluster/coordinator/postmaster.pid")
	hz=$(getconf CLK_TCK)
	awk -v hz="$hz" '{ sub(/^.*\) /, ""); print ($14 + $15) * 1000 / hz }' "/proc/$pm/stat"
}

now_ns() { date +%s%N; }

run_once() {
	local settings=$1 q=$2 out=$3
	psql -X -q -At -h 127.0.0.1 -p "$port" -d postgres -v ON_ERROR_STOP=1 \
		-c "SET client_min_messages = warning; $settings" -c "$q" > "$out" 2>&1
}

table="$work/table"
: > "$table"
declare -A reference
for q in $queries; do
	for t in $targets; do
		qs=$(query_sql "$q" "$t")
		if [ -z "$qs" ]; then
			echo "$q $t n/a" >> "$table"
			continue
		fi
		settings=$(target_settings "$t")
		out=$work/out
		# warm-up, and the answer to compare
		if ! run_once "$settings" "$qs" "$out"; then
			echo "$q $t error $(head -1 "$out" | tr ' ' '_')" >> "$table"
			continue
		fi
		sum=$(md5sum < "$out" | cut -c1-12)
		[ "$t" = local_serial ] && reference[$q]=$sum
		if [ -n "${reference[$q]:-}" ] && [ "$sum" != "${reference[$q]}" ]; then
			echo "$q $t wrong" >> "$table"
			cp "$out" "$results/split_wrong_${q}_$t.out"
			continue
		fi
		# what ran: the route of the first plan node
		shape=$(psql -X -q -At -h 127.0.0.1 -p "$port" -d postgres -c "SET client_min_messages = warning; $settings" \
			-c "EXPLAIN (COSTS OFF) $qs" 2>/dev/null |
			{ grep -oE "Foresight (Split|Route)|Route: [a-z0-9_]+|Parts: [0-9]+|Async Foreign Scan|Custom Scan \([A-Za-z ]+\)" || true; } |
			sort -u | tr '\n' ';' | tr ' ' '_')
		times=()
		cpu0=$(coordinator_cpu_ms)
		for ((r = 0; r < runs; r++)); do
			t0=$(now_ns)
			run_once "$settings" "$qs" "$out" || die "$q on $t failed: $(head -1 "$out")"
			t1=$(now_ns)
			times+=($(( (t1 - t0) / 1000000 )))
		done
		sleep 0.2
		cpu1=$(coordinator_cpu_ms)
		read -r min med max < <(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[1], a[int((NR + 1) / 2)], a[NR] }')
		cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$runs" 'BEGIN { printf "%.0f", (b - a) / n }')
		echo "$q $t ok $min $med $max $cpu ${shape:--}" >> "$table"
		note "$q $t: median $med ms (min $min, max $max), coordinator CPU $cpu ms/run, ${shape:--}"
	done
done

{
	echo "# Dynamic sharding: split reads against local, parallel query, postgres_fdw and PL/Proxy"
	echo
	echo "Made by \`bash bench/split.sh --scale $scale --quota $quota --runs $runs\` on $(date -u '+%Y-%m-%d %H:%M UTC'),"
	echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $limits."
	echo "pgbench_accounts: $maxaid rows. Each cell: median wall time of $runs runs (after a warm-up run whose"
	echo "answer was compared with local_serial's), min-max, speed-up over local_serial, and that speed-up"
	echo "over the number of servers the target computes on (1.0 = the physical limit); the coordinator's"
	echo "CPU per run. The machine ran nothing else while it ran (check: load average before the run,"
	echo "$(cut -d' ' -f1-3 /proc/loadavg))."
	echo
	for q in $queries; do
		echo "## $q"
		echo
		echo '```sql'
		query_sql "$q" local_serial
		echo '```'
		echo
		echo "| target | median ms | min-max | speed-up | of the limit | coordinator CPU ms | plan |"
		echo "|---|---|---|---|---|---|---|"
		base=$(awk -v q="$q" '$1 == q && $2 == "local_serial" && $3 == "ok" { print $5 }' "$table")
		while read -r qq t status min med max cpu shape; do
			[ "$qq" = "$q" ] || continue
			case $status in
				ok)
					n=$(target_servers "$t")
					awk -v t="$t" -v min="$min" -v med="$med" -v max="$max" -v base="${base:-0}" -v n="$n" -v cpu="$cpu" -v shape="$shape" 'BEGIN {
						if (base > 0) { s = base / med; printf "| %s | %d | %d-%d | %.2f | %.2f | %s | %s |\n", t, med, min, max, s, s / n, cpu, shape }
						else printf "| %s | %d | %d-%d | | | %s | %s |\n", t, med, min, max, cpu, shape }' ;;
				n/a) echo "| $t | does not fit this query | | | | | |" ;;
				wrong) echo "| $t | **wrong answer** (bench/results/split_wrong_${q}_$t.out) | | | | | |" ;;
				error) echo "| $t | error: ${min//_/ } | | | | | |" ;;
			esac
		done < "$table"
		echo
	done
} > "$results/split.md"
note "wrote $results/split.md"
