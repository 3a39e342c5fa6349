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
