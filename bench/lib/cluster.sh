# bench/lib/cluster.sh: the benchmarks' cluster (sourced by them).
#
#   bench_cluster_start DIR PORT SCALE    coordinator on PORT, standbys on
#                                         PORT+1 and PORT+2, pgbench tables of
#                                         SCALE on the coordinator, replayed
#                                         on both standbys; huge_pages as
#                                         $BENCH_HUGE_PAGES says (default off)
#   bench_huge_pages_option ARGS...       (as root; before reexec_unprivileged)
#                                         with --huge-pages among ARGS, 400
#                                         huge pages of 2 MB reserved for the
#                                         run (the three servers take about
#                                         250), as many as before at exit
#   bench_pages_text                      the report's words for the page size
#   bench_sql PORT SQL                    one statement, unaligned output
#   bench_wait_replay PORT STANDBY_PORT...  wait until every standby has
#                                         replayed PORT's WAL as of now
#   bench_every_node_routes DIR PORT      the primary registered as the node
#                                         of kind primary and
#                                         foresight.standby_routing on in
#                                         both standbys: every server routes
#                                         its own sessions' reads
#   bench_decision_mix PORT...            how the servers' last decisions
#                                         were made, as shares
#                                         "reused/cost rule/policy"
#   bench_prelude NAME                    what every benchmark does after
#                                         reading its options (below)
#   bench_query_timer                     bench/lib/query_timer.c built as
#                                         $work/query_timer, its path in $timer
#   bench_remove_cgroup                   the benchmark's cgroup
#                                         ($CGROUP_NAME) removed, for cleanup

bench_sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -h 127.0.0.1 -p "$1" -d postgres -c "$2"; }

bench_cluster_start() {
	local dir=$1 port=$2 scale=$3
	FORESIGHT_HUGE_PAGES=${BENCH_HUGE_PAGES:-off} \
		"$FORESIGHT_ROOT/scripts/foresight-cluster" start "$dir" --standbys 2 --port "$port" >/dev/null
	note "pgbench -i -s $scale on the coordinator"
	pgbench -h 127.0.0.1 -p "$port" -i -s "$scale" -q postgres >/dev/null 2>&1
	bench_sql "$port" "CHECKPOINT"
	bench_wait_replay "$port" $((port + 1)) $((port + 2))
}

# Shared memory in huge pages: on this project's VMs a process's first
# touch of a 4 kB page of shared memory costs about 5 µs (a young backend
# reading shared buffers it has not touched yet pays it on most reads,
# docs/benchmarks.md), a 2 MB page's once per 512 of them.  As root,
# before the benchmark runs itself unprivileged; the EXIT trap set so far
# (cgroup_for_user's) still runs.
bench_huge_pages_option() {
	local pages=400 before prev
	case " $* " in *" --huge-pages "*) ;; *) return 0 ;; esac
	[ "$(id -u)" -eq 0 ] || return 0
	before=$(cat /proc/sys/vm/nr_hugepages)
	echo "$pages" > /proc/sys/vm/nr_hugepages || die "could not reserve $pages huge pages"
	[ "$(cat /proc/sys/vm/nr_hugepages)" -ge "$pages" ] ||
		die "only $(cat /proc/sys/vm/nr_hugepages) of $pages huge pages could be reserved"
	prev=$(trap -p EXIT | sed "s/^trap -- '\(.*\)' EXIT\$/\1/")
	# shellcheck disable=SC2064
	trap "${prev:+$prev; }echo $before > /proc/sys/vm/nr_hugepages" EXIT
}

bench_pages_text() {
	if [ "${BENCH_HUGE_PAGES:-off}" = on ]; then
		echo "shared memory in 2 MB huge pages (huge_pages = on)"
	else
		echo "shared memory in 4 kB pages (huge_pages = off)"
	fi
}

bench_wait_replay() {
	local primary=$1 lsn p
	shift
	lsn=$(bench_sql "$primary" "SELECT pg_current_wal_lsn()")
	for p in "$@"; do
		until [ "$(bench_sql "$p" "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ]; do sleep 0.5; done
	done
}

# How the last decisions of the servers on PORT... (up to 1000 each: the
# decision log's default size) were made, as shares of them all,
# "reused/cost rule/policy": a verdict reused while the coordinator is the
# bottleneck (kept_here.c, "; decided N ms ago"), the cost rule decided in
# full, the policy's own choice decided in full (the scores, or
# least_connections'); "-" when there are none.
bench_decision_mix() {
	local p
	for p in "$@"; do
		bench_sql "$p" "SELECT count(*) FILTER (WHERE reason LIKE '%ms ago') || ' ' ||
			count(*) FILTER (WHERE reason LIKE 'coordinator cost:%' AND reason NOT LIKE '%ms ago') || ' ' ||
			count(*) FILTER (WHERE reason NOT LIKE 'coordinator cost:%' AND reason NOT LIKE '%ms ago')
			FROM (SELECT reason FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 1000) d"
	done | awk '{ a += $1; b += $2; c += $3 }
		END { t = a + b + c; if (t > 0) printf "%.2f/%.2f/%.2f\n", a / t, b / t, c / t; else print "-" }'
}

bench_every_node_routes() {
	local dir=$1 port=$2 i
	bench_sql "$port" "SELECT foresight.add_node('primary', 'host=127.0.0.1 port=$port', kind => 'primary')" >/dev/null
	for i in 1 2; do
		echo "foresight.standby_routing = on" >> "$dir/standby$i/postgresql.conf"
		bench_sql $((port + i)) "SELECT pg_reload_conf()" >/dev/null
	done
	sleep 3	# a standby's monitor reads the registry every second
}

# What every benchmark does once its options are read: from the project's
# root, build and install the extension (its server's binaries first on
# PATH), and set
#   work         a new directory /tmp/foresight-NAME.XXXXXX, with logs/
#   results      bench/results, made if missing
#   port         a random port from 20000 to 39999 (the cluster's servers
#                take the ones after it)
#   cluster      $work/cluster, for bench_cluster_start
#   load_before  the load averages now, for the report
bench_prelude() {
	cd "$FORESIGHT_ROOT"
	build_and_install
	export PATH="$FORESIGHT_BINDIR:$PATH"
	work=$(mktemp -d "/tmp/foresight-$1.XXXXXX")
	results=$FORESIGHT_ROOT/bench/results
	mkdir -p "$results" "$work/logs"
	port=$(free_port_block 30)
	cluster=$work/cluster
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
}

# bench/lib/query_timer.c (a query's wall time, first row and answer over
# one connection) built as $work/query_timer; its path in $timer.
bench_query_timer() {
	timer=$work/query_timer
	cc -O2 -Wall -o "$timer" "$FORESIGHT_ROOT/bench/lib/query_timer.c" -I"$(/usr/bin/pg_config --includedir)" \
		-L"$(/usr/bin/pg_config --libdir)" -lpq
}

# The benchmark's cgroup ($CGROUP_NAME, cgroup v1 cpu) and the groups in
# it removed, for its cleanup (nothing when there is none).
bench_remove_cgroup() {
	[ -d "$CGROUP_V1_CPU/${CGROUP_NAME:-none}" ] && find "$CGROUP_V1_CPU/$CGROUP_NAME" -depth -type d -exec rmdir {} \; 2>/dev/null
	return 0
}
