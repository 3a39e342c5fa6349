# bench/lib/pgpool.sh: start and stop Debian's pgpool-II on loopback,
# load-balancing reads over given standbys (sourced by the benchmarks).
#
#   pgpool_start DIR PORT PRIMARY_PORT STANDBY_PORT...
#   pgpool_stop DIR
#   pgpool_select_counts PORT     the SELECTs pgpool-II has sent to each
#                                 backend, in backend order (primary first)
#   PGPOOL_SESSION_OPTIONS        PGOPTIONS for clients of pgpool-II
#
# Reads go to the standbys only (the primary has weight 0), chosen per
# statement (statement_level_load_balance), as pg_foresight routes per
# statement; connections to the backends are pooled.  PGPOOL_WEIGHTS (one
# weight per standby, space-separated; default 1 each) and PGPOOL_EXTRA
# (lines added to pgpool.conf) let a benchmark set them as a DBA would.
#
# pgpool-II passes its clients' startup options on to the backends.  Where
# the standbys route their own sessions' reads (foresight.standby_routing
# on, for the benchmarks' "spread" targets), a read pgpool-II sent to a
# standby would be routed again from there; a client of pgpool-II therefore
# sets foresight.routing_policy = local, so that each standby runs what it
# is sent, as one without pg_foresight would.
PGPOOL_SESSION_OPTIONS="-c foresight.routing_policy=local"

pgpool_start() {
	local dir=$1 port=$2 primary=$3
	shift 3
	command -v pgpool >/dev/null || { echo "pgpool not found (apt-get install pgpool2)" >&2; return 1; }
	mkdir -p "$dir"
	: > "$dir/pcp.conf"
	echo "host all all 127.0.0.1/32 trust" > "$dir/pool_hba.conf"
	{
		echo "backend_clustering_mode = 'streaming_replication'"
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $port"
		echo "socket_dir = '$dir'"
		echo "wd_ipc_socket_dir = '$dir'"
		echo "memqcache_oiddir = '$dir/oiddir'"
		echo "pcp_listen_addresses = ''"
		echo "pcp_port = $((port + 1))"
		echo "pcp_socket_dir = '$dir'"
		echo "pid_file_name = '$dir/pgpool.pid'"
		echo "logdir = '$dir'"
		echo "num_init_children = 32"
		echo "max_pool = 2"
		echo "enable_pool_hba = off"
		echo "load_balance_mode = on"
		echo "statement_level_load_balance = on"
		echo "sr_check_period = 0"
		echo "health_check_period = 0"
		echo "failover_on_backend_error = off"
		echo "backend_hostname0 = '127.0.0.1'"
		echo "backend_port0 = $primary"
		echo "backend_weight0 = 0"
		echo "backend_flag0 = 'ALWAYS_PRIMARY'"
		local i=1 p weights
		read -r -a weights <<< "${PGPOOL_WEIGHTS:-}"
		for p in "$@"; do
			echo "backend_hostname$i = '127.0.0.1'"
			echo "backend_port$i = $p"
			echo "backend_weight$i = ${weights[$((i - 1))]:-1}"
			echo "backend_flag$i = 'DISALLOW_TO_FAILOVER'"
			i=$((i + 1))
		done
		[ -z "${PGPOOL_EXTRA:-}" ] || printf '%s\n' "$PGPOOL_EXTRA"
	} > "$dir/pgpool.conf"
	pgpool -n -f "$dir/pgpool.conf" -F "$dir/pcp.conf" -a "$dir/pool_hba.conf" > "$dir/pgpool.log" 2>&1 &
	echo $! > "$dir/pgpool.bgpid"
	local t
	for ((t = 0; t < 30; t++)); do
		psql -X -q -h 127.0.0.1 -p "$port" -d postgres -Atc "SELECT 1" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	echo "pgpool did not start; see $dir/pgpool.log" >&2
	tail -5 "$dir/pgpool.log" >&2
	return 1
}

pgpool_stop() {
	local dir=$1
	[ -f "$dir/pgpool.bgpid" ] || return 0
	kill "$(cat "$dir/pgpool.bgpid")" 2>/dev/null || true
	local t
	for ((t = 0; t < 20; t++)); do
		kill -0 "$(cat "$dir/pgpool.bgpid")" 2>/dev/null || break
		sleep 0.25
	done
	rm -f "$dir/pgpool.bgpid"
}

pgpool_select_counts() {
	psql -X -q -h 127.0.0.1 -p "$1" -d postgres -A -F '|' -c "SHOW POOL_NODES" 2>/dev/null |
		awk -F'|' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "select_cnt") c = i; next }
			c && $1 ~ /^[0-9]+$/ { printf "%s%s", sep, $c; sep = " " } END { print "" }'
}
