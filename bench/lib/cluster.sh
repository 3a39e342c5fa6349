# bench/lib/cluster.sh: the benchmarks' cluster (sourced by them).
#
#   bench_cluster_start DIR PORT SCALE    coordinator on PORT, standbys on
#                                         PORT+1 and PORT+2, pgbench tables of
#                                         SCALE on the coordinator, replayed
#                                         on both standbys
#   bench_sql PORT SQL                    one statement, unaligned output
#   bench_wait_replay PORT STANDBY_PORT...  wait until every standby has
#                                         replayed PORT's WAL as of now
#   bench_every_node_routes DIR PORT      the primary registered as the node
#                                         of kind primary and
#                                         foresight.standby_routing on in
#                                         both standbys: every server routes
#                                         its own sessions' reads
#   bench_prelude NAME                    what every benchmark does after
#                                         reading its options (below)
#   bench_query_timer                     bench/lib/query_timer.c built as
#                                         $work/query_timer, its path in $timer
#   bench_remove_cgroup                   the benchmark's cgroup
#                                         ($CGROUP_NAME) removed, for cleanup

bench_sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -h 127.0.0.1 -p "$1" -d postgres -c "$2"; }

bench_cluster_start() {
	local dir=$1 port=$2 scale=$3
	"$FORESIGHT_ROOT/scripts/foresight-cluster" start "$dir" --standbys 2 --port "$port" >/dev/null
	note "pgbench -i -s $scale on the coordinator"
	pgbench -h 127.0.0.1 -p "$port" -i -s "$scale" -q postgres >/dev/null 2>&1
	bench_sql "$port" "CHECKPOINT"
	bench_wait_replay "$port" $((port + 1)) $((port + 2))
}

bench_wait_replay() {
	local primary=$1 lsn p
	shift
	lsn=$(bench_sql "$primary" "SELECT pg_current_wal_lsn()")
	for p in "$@"; do
		until [ "$(bench_sql "$p" "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ]; do sleep 0.5; done
	done
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
