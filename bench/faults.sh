#!/usr/bin/env bash
# bench/faults.sh: the fault suite (issue #19) under a read load.
#
#   bash bench/faults.sh [--time SECONDS] [--clients N] [--stop SECONDS]
#                        [--pause SECONDS] [--only SCENARIO,...]
#
# A coordinator and two hot standbys on loopback (bench/lib/cluster.sh,
# pgbench tables of scale 10), plus, when run as root, a third standby in
# its own network namespace behind a veth pair (bench/lib/netns.sh; the
# servers still run as the unprivileged user).  Default settings
# (predictive routing, sample_interval 1 s, down_after 2, derived response
# deadline, quarantine and a 30 s slow start), include_local off.  N clients
# (default 4) run pgbench through the coordinator for SECONDS (default 30);
# the fault starts 5 s in.  Every result is checked by the pgbench script
# (a wrong one raises an error, counted as wrong and as a failed client):
#   point    10 rows by primary key, count and sum checked
#   large    a scan of pgbench_accounts (1,000,000 rows), its count checked
#   xact     two reads in a transaction block, checked together
#   ryw      a write on the coordinator, then a read of it (read-your-writes)
#   range    20,000 rows by key range, count and sum checked
# Scenarios (--only picks some):
#   stop-point, stop-large, stop-xact   standby1 stopped (SIGSTOP) for --stop s
#   kill9       standby1's processes killed (SIGKILL), restarted after --stop s
#   partition   standby3's link set down for --stop s (root only)
#   conflict    both standbys cancel conflicting queries at once
#               (max_standby_streaming_delay 0) while a pgbench writer and
#               VACUUM run on the coordinator; range reads
#   replay      standby1's replay paused for --pause s (default 120) while
#               ryw writers write; point and ryw reads
#   remove      standby2 removed from the registry mid-load, added back 10 s later
#   restart     the coordinator restarted (fast) mid-load; then a new load
#   promote     standby2 promoted mid-load; point and ryw reads
# Reports per scenario: transactions, failed clients, wrong results, the
# longest transaction, the time until the fault was detected (down,
# quarantined or out of the candidates), until the node was up again
# and until its slow start ended.  Writes bench/results/faults.md.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
. "$FORESIGHT_ROOT/bench/lib/cluster.sh"
. "$FORESIGHT_ROOT/bench/lib/netns.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}"
netns_root_start
FORESIGHT_COPY_BACK=bench/results reexec_unprivileged bench/faults.sh "$@"

duration=30
clients=4
stop_s=20
pause_s=120
only=stop-point,stop-large,stop-xact,kill9,partition,conflict,replay,remove,restart,promote
while [ $# -gt 0 ]; do
	case $1 in
		--time) duration=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--stop) stop_s=$2; shift 2 ;;
		--pause) pause_s=$2; shift 2 ;;
		--only) only=$2; shift 2 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

bench_prelude faults-bench
has_netns=0
netns_available && has_netns=1

pids_of() {
	local pm
	pm=$(head -1 "$cluster/$1/postmaster.pid")
	echo "$pm" $(pgrep -P "$pm" || true)
}
cleanup() {
	set +e
	kill -CONT $(pids_of standby1) 2>/dev/null
	[ $has_netns -eq 1 ] && { netns_do link-up; netns_do pg-stop "$FORESIGHT_BINDIR/pg_ctl" "$cluster/standby3"; } >/dev/null 2>&1
	pg_ctl -D "$cluster/standby2" -m fast -w stop >/dev/null 2>&1
	scripts/foresight-cluster stop "$cluster" >/dev/null 2>&1
}
trap cleanup EXIT

bench_cluster_start "$cluster" "$port" 10
sql() { bench_sql "$port" "$1"; }
sql "CREATE TABLE w (id integer PRIMARY KEY, v bigint NOT NULL); INSERT INTO w SELECT g, 0 FROM generate_series(1, 64) g"

# a standby killed with SIGKILL starts again from its last restartpoint:
# the coordinator keeps the WAL it needs (without it, it never streams
# again, which the monitor shows as replication lag: a broken standby)
echo "wal_keep_size = '2GB'" >> "$cluster/coordinator/postgresql.conf"
pg_ctl -D "$cluster/coordinator" reload >/dev/null
if [ $has_netns -eq 1 ]; then
	# standby3 in the namespace: the coordinator listens on the pair too
	cat >> "$cluster/coordinator/postgresql.conf" <<-CONF
		listen_addresses = '127.0.0.1,$NETNS_HOST_IP'
	CONF
	printf 'host all all %s/24 trust\nhost replication all %s/24 trust\n' \
		"$NETNS_HOST_IP" "$NETNS_HOST_IP" >> "$cluster/coordinator/pg_hba.conf"
	pg_ctl -D "$cluster/coordinator" -l "$cluster/coordinator/server.log" -m fast -w restart >/dev/null
	note "pg_basebackup standby3 (network namespace $NETNS_NAME, $NETNS_NODE_IP)"
	pg_basebackup -h 127.0.0.1 -p "$port" -D "$cluster/standby3" -R -X stream -c fast >/dev/null
	printf "port = %s\nlisten_addresses = '%s'\ncluster_name = 'standby3'\n" \
		$((port + 3)) "$NETNS_NODE_IP" >> "$cluster/standby3/postgresql.conf"
	sed -i "s/host=127.0.0.1/host=$NETNS_HOST_IP/" "$cluster/standby3/postgresql.auto.conf"
	netns_do pg-start "$FORESIGHT_BINDIR/pg_ctl" "$cluster/standby3" >/dev/null
	sql "SELECT foresight.add_node('standby3', 'host=$NETNS_NODE_IP port=$((port + 3))'); SELECT foresight.alter_node('standby3', state => 'drained')" >/dev/null
fi

cat > "$work/point.sql" <<'EOF'
\set k random(1, 999990)
SELECT count(*) AS c, sum(aid) AS s FROM pgbench_accounts WHERE aid BETWEEN :k AND :k + 9 \gset
\if :c != 10 or :s != 10 * :k + 45
SELECT 'wrong result' :: int;
\endif
EOF
cat > "$work/large.sql" <<'EOF'
SELECT count(*) AS c FROM pgbench_accounts WHERE abalance = 0 \gset
\if :c != 1000000
SELECT 'wrong result' :: int;
\endif
EOF
cat > "$work/xact.sql" <<'EOF'
\set k random(1, 999990)
BEGIN;
SELECT count(*) AS c FROM pgbench_accounts WHERE aid BETWEEN :k AND :k + 9 \gset
SELECT sum(aid) AS s FROM pgbench_accounts WHERE aid BETWEEN :k AND :k + 9 \gset
END;
\if :c != 10 or :s != 10 * :k + 45
SELECT 'wrong result' :: int;
\endif
EOF
cat > "$work/ryw.sql" <<'EOF'
\set wid :client_id % 64 + 1
UPDATE w SET v = v + 1 WHERE id = :wid RETURNING v AS written \gset
SELECT v AS seen FROM w WHERE id = :wid \gset
\if :seen != :written
SELECT 'wrong result' :: int;
\endif
EOF
cat > "$work/range.sql" <<'EOF'
\set k random(1, 980000)
SELECT count(*) AS c, sum(aid) AS s FROM pgbench_accounts WHERE aid BETWEEN :k AND :k + 19999 \gset
\if :c != 20000 or :s != 20000 * :k + 199990000
SELECT 'wrong result' :: int;
\endif
EOF

# seconds (to 0.1) until SQL on the coordinator returns t, at most $2
# seconds (then "none in $2 s")
wait_for() {
	local started now
	started=$(date +%s.%N)
	while :; do
		[ "$(sql "$1" 2>/dev/null)" = t ] && break
		now=$(date +%s.%N)
		if awk -v a="$started" -v b="$now" -v m="$2" 'BEGIN { exit !(b - a >= m) }'; then
			echo "none in $2 s"
			return
		fi
		sleep 0.1
	done
	now=$(date +%s.%N)
	awk -v a="$started" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}
# sleep what is left of $1 seconds after $2 (a number, or "none in ...")
sleep_rest() {
	sleep "$(awk -v s="$1" -v d="$2" 'BEGIN { r = s - (d ~ /^[0-9.]+$/ ? d : s); print (r > 0 ? r : 0) }')"
}
status() { echo "(SELECT status FROM foresight.node_health WHERE node_name = '$1')"; }
quarantine() { echo "(SELECT quarantine FROM foresight.nodes WHERE node_name = '$1')"; }
settled() { wait_for "SELECT $(status "$1") = 'up' AND $(quarantine "$1") = 'normal'" 120 >/dev/null; }

# pgbench through the coordinator in the background: start_load NAME SECONDS SCRIPTS...
start_load() {
	local name=$1 seconds=$2 f files=()
	shift 2
	for f in "$@"; do files+=(-f "$work/$f.sql"); done
	rm -f "$work/logs/$name".*
	(cd "$work/logs" && PGOPTIONS="-c foresight.include_local=off" \
		pgbench -h 127.0.0.1 -p "$port" -n "${files[@]}" -c "$clients" -j "$clients" \
		-T "$seconds" -l --log-prefix="$name" postgres > "$name.out" 2>&1) &
	load=$!
}
# the table row of a finished load: row NAME DETECT UP NORMAL NOTE
row() {
	local name=$1 out=$work/logs/$1.out txns failed wrong errors longest
	txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
	failed=$(grep -c 'aborted in command' "$out" || true)
	wrong=$(grep -c 'wrong result' "$out" || true)
	errors=$(sed -n 's/.*aborted in command [0-9]* query [0-9]*: \(.*\)/\1/p' "$out" |
		sort | uniq -c | sed 's/^ *//' | paste -sd ';' -)
	longest=$(cat "$work/logs/$name".[0-9]* 2>/dev/null | awk 'BEGIN { m = 0 } $3 > m { m = $3 } END { printf "%.0f", m / 1000 }')
	rows+=("| $name | ${txns:-0} | $failed | $wrong | $longest | $2 | $3 | $4 | ${errors:-}${5:+ $5} |")
	printf '%s\n' "${rows[-1]}"
}
wants() { [[ ",$only," == *",$1,"* ]]; }

rows=()
machine_before=$(uptime | sed 's/.*load average/load average/')

# ---- standby1 stopped (SIGSTOP) ----
for workload in point large xact; do
	wants "stop-$workload" || continue
	note "stop-$workload: standby1 stopped from 5 s for $stop_s s"
	settled standby1
	start_load "stop-$workload" "$duration" "$workload"
	sleep 5
	kill -STOP $(pids_of standby1)
	detect=$(wait_for "SELECT $(status standby1) = 'down'" "$stop_s")
	sleep_rest "$stop_s" "$detect"
	kill -CONT $(pids_of standby1)
	up=$(wait_for "SELECT $(status standby1) = 'up'" 60)
	wait "$load" || true
	normal=$(wait_for "SELECT $(quarantine standby1) = 'normal'" 120)
	row "stop-$workload" "$detect" "$up" "$normal"
done

# ---- standby1 killed (SIGKILL), started again ----
if wants kill9; then
	note "kill9: standby1's processes killed at 5 s, started again $stop_s s later"
	settled standby1
	start_load kill9 "$duration" point
	sleep 5
	kill -KILL $(pids_of standby1)
	detect=$(wait_for "SELECT $(status standby1) = 'down'" "$stop_s")
	sleep_rest "$stop_s" "$detect"
	rm -f "$cluster/standby1/postmaster.pid"
	pg_ctl -D "$cluster/standby1" -l "$cluster/standby1/server.log" -w -t 120 start >/dev/null
	up=$(wait_for "SELECT $(status standby1) = 'up'" 120)
	wait "$load" || true
	normal=$(wait_for "SELECT $(quarantine standby1) = 'normal'" 120)
	row kill9 "$detect" "$up" "$normal" "(up: after its restart and crash recovery)"
fi

# ---- standby3 cut off (network namespace, link down) ----
if wants partition; then
	if [ $has_netns -eq 1 ]; then
		note "partition: standby3's link down from 5 s for $stop_s s"
		sql "SELECT foresight.alter_node('standby3', state => 'enabled')" >/dev/null
		settled standby3
		start_load partition "$duration" point
		sleep 5
		netns_do link-down
		detect=$(wait_for "SELECT $(status standby3) = 'down'" "$stop_s")
		sleep_rest "$stop_s" "$detect"
		netns_do link-up
		up=$(wait_for "SELECT $(status standby3) = 'up'" 60)
		wait "$load" || true
		normal=$(wait_for "SELECT $(quarantine standby3) = 'normal'" 120)
		row partition "$detect" "$up" "$normal"
		sql "SELECT foresight.alter_node('standby3', state => 'drained')" >/dev/null
	else
		rows+=("| partition | - | - | - | - | - | - | - | not run: needs root (network namespaces) |")
	fi
fi

# ---- hot-standby conflicts ----
# A routed query's session on the coordinator holds a snapshot while the
# query runs on the node, which keeps the primary from removing what that
# query may see (as hot_standby_feedback would): only a standby behind
# the coordinator gets conflicts.  So standby1's replay is paused for 1.5 s
# every 3 s while a pgbench writer updates pgbench_accounts: a query that
# began during a pause is cancelled when replay resumes and removes rows
# its snapshot may need (max_standby_streaming_delay 0).
if wants conflict; then
	note "conflict: max_standby_streaming_delay 0, standby1's replay paused 1.5 s in 3, a pgbench writer"
	settled standby1; settled standby2
	offsets=()
	for s in standby1 standby2; do
		echo "max_standby_streaming_delay = 0" >> "$cluster/$s/postgresql.conf"
		pg_ctl -D "$cluster/$s" reload >/dev/null
		offsets+=($(stat -c %s "$cluster/$s/server.log"))
	done
	pgbench -h 127.0.0.1 -p "$port" -n -c 2 -j 2 -T "$duration" postgres > "$work/logs/conflict-writer.out" 2>&1 &
	writer=$!
	start_load conflict "$duration" range
	end=$((SECONDS + duration))
	while [ $SECONDS -lt $end ]; do
		bench_sql $((port + 1)) "SELECT pg_wal_replay_pause()" >/dev/null 2>&1 || true
		sleep 1.5
		# (itself cancelled at times by the conflicts it lets happen)
		bench_sql $((port + 1)) "SELECT pg_wal_replay_resume()" >/dev/null 2>&1 || true
		sleep 1.5
	done
	bench_sql $((port + 1)) "SELECT pg_wal_replay_resume()" >/dev/null 2>&1 || true
	wait "$load" || true
	wait "$writer" || true
	conflicts=0
	i=0
	for s in standby1 standby2; do
		n=$(tail -c +$((offsets[i] + 1)) "$cluster/$s/server.log" |
			grep -c 'pg_foresight ERROR:  canceling statement due to conflict with recovery' || true)
		conflicts=$((conflicts + n))
		i=$((i + 1))
		sed -i '/^max_standby_streaming_delay = 0$/d' "$cluster/$s/postgresql.conf"
		pg_ctl -D "$cluster/$s" reload >/dev/null
	done
	row conflict - - - "($conflicts routed queries cancelled by a recovery conflict on a standby, each run again elsewhere)"
fi

# ---- standby1's replay paused ----
if wants replay; then
	note "replay: standby1's replay paused from 5 s for $pause_s s, ryw writers"
	settled standby1
	start_load replay $((pause_s + 20)) point ryw
	sleep 5
	bench_sql $((port + 1)) "SELECT pg_wal_replay_pause()" >/dev/null
	detect=$(wait_for "SELECT $(quarantine standby1) <> 'normal'" "$pause_s")
	sleep_rest "$pause_s" "$detect"
	bench_sql $((port + 1)) "SELECT pg_wal_replay_resume()" >/dev/null 2>&1 || true
	wait "$load" || true
	normal=$(wait_for "SELECT $(quarantine standby1) = 'normal'" 120)
	row replay "$detect" - "$normal" "(detect: quarantined, replication lag vs fleet; readmit: after resume)"
fi

# ---- standby2 removed from the registry ----
if wants remove; then
	note "remove: standby2 removed at 5 s, added back at 15 s"
	settled standby2
	start_load remove "$duration" point
	sleep 5
	sql "SELECT foresight.remove_node('standby2')" >/dev/null
	sleep 1
	left=$(bench_sql $((port + 2)) "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_foresight' AND state = 'active'")
	sleep 9
	sql "SELECT foresight.add_node('standby2', 'host=127.0.0.1 port=$((port + 2))')" >/dev/null
	up=$(wait_for "SELECT $(status standby2) = 'up'" 60)
	wait "$load" || true
	row remove - "$up" - "(1 s after removal, $left routed queries active on it; up: after being added back)"
fi

# ---- the coordinator restarted ----
if wants restart; then
	note "restart: the coordinator restarted (fast) at 5 s"
	settled standby1
	start_load restart-before "$duration" point
	before=$load
	sleep 5
	started=$(date +%s.%N)
	pg_ctl -D "$cluster/coordinator" -l "$cluster/coordinator/server.log" -m fast -w restart >/dev/null
	back=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	start_load restart "$duration" point
	up=$(wait_for "SELECT $(status standby1) = 'up'" 60)
	wait "$load" || true
	wait "$before" || true
	before_failed=$( (grep -o 'client [0-9]* aborted' "$work/logs/restart-before.out" || true) | sort -u | wc -l)
	row restart - "$up" - "(the load before it: $before_failed clients ended by the shutdown; coordinator back after $back s; this row: a new load started then)"
fi

# ---- standby2 promoted ----
if wants promote; then
	note "promote: standby2 promoted at 5 s, ryw writers"
	settled standby2
	start_load promote "$duration" point ryw
	sleep 5
	pg_ctl -D "$cluster/standby2" -w promote >/dev/null
	detect=$(wait_for "SELECT $(status standby2) = 'not in recovery (promoted?)'" 30)
	wait "$load" || true
	row promote "$detect" - - "(detect: out of the candidates as not in recovery)"
fi

machine_after=$(uptime | sed 's/.*load average/load average/')
{
	echo "# Faults under a read load (issue #19)"
	echo
	echo "\`bash bench/faults.sh --time $duration --clients $clients --stop $stop_s --pause $pause_s\`, $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo "A coordinator and two hot standbys on one machine ($(nproc) cores), pgbench scale 10, a third standby"
	echo "in its own network namespace for the partition; default settings (predictive routing, \`sample_interval\` 1 s,"
	echo "\`down_after\` 2, \`anomaly_samples\` 2, derived response deadline, \`readmit_ramp\` 30 s), \`include_local\` off;"
	echo "$clients clients, each fault 5 s into the load. The machine was shared: other engineers were compiling and"
	echo "running their test suites at the same time ($machine_before before, $machine_after after)."
	echo
	echo "| scenario | transactions | failed clients | wrong results | longest transaction (ms) | detected after (s) | up after (s) | slow start over after (s) | errors, notes |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} > "$results/faults.md"
note "wrote bench/results/faults.md"
