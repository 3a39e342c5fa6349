#!/usr/bin/env bash
# scripts/demo.sh: the README's first command.
#
#   bash scripts/demo.sh [--dir DIR] [--port PORT] [--seconds N]
#
# Installs missing Debian packages, builds the extension into a private copy
# of PostgreSQL, starts a coordinator and two hot standbys on loopback
# (scripts/foresight-cluster), runs a read workload through the coordinator
# with the predictive policy while a noisy neighbour is switched on and off
# on standby1, shows a live table of predicted and actual load and the share
# of reads each standby gets, and writes a PNG chart of it.  The cluster
# keeps running; the last lines say how to connect and how to stop it.  As root it runs as the
# unprivileged user "foresight_dev" (initdb refuses root).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" postgresql-contrib gnuplot-nox
reexec_unprivileged scripts/demo.sh "$@"

dir=$HOME/foresight-demo
port=5440
seconds=60
while [ $# -gt 0 ]; do
	case $1 in
		--dir) dir=$2; shift 2 ;;
		--port) port=$2; shift 2 ;;
		--seconds) seconds=$2; shift 2 ;;
		-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done
[[ $seconds =~ ^[0-9]+$ ]] || die "--seconds must be a number"

cd "$FORESIGHT_ROOT"
build_and_install
cluster=scripts/foresight-cluster
[ -f "$dir/cluster.env" ] && port=$(sed -n 's/^port=//p' "$dir/cluster.env")
"$cluster" start "$dir" --standbys 2 --port "$port"

export PATH="$FORESIGHT_BINDIR:$PATH"
psql_demo() { PGOPTIONS="-c client_min_messages=warning" psql -X -h 127.0.0.1 -p "$port" -d postgres "$@"; }

note "preparing pgbench tables on the coordinator"
pgbench -h 127.0.0.1 -p "$port" -i -s 5 -q postgres >/dev/null 2>&1 || die "pgbench -i failed"
psql_demo -qc "CHECKPOINT" >/dev/null
psql_demo -q <<-SQL >/dev/null
	ALTER SYSTEM SET foresight.routing_policy = 'predictive';
	ALTER SYSTEM SET foresight.include_local = off;
	ALTER SYSTEM SET foresight.sample_interval = '500ms';
	ALTER SYSTEM SET foresight.prediction_horizons = '2s, 30s';
	SELECT pg_reload_conf();
	SELECT foresight.reset_routing_stats();
SQL
sleep 2

standby1_port=$((port + 1))
data=$dir/demo.dat
: > "$data"
note "read workload through the coordinator for ${seconds}s; a noisy neighbour on standby1 from $((seconds / 3))s to $((2 * seconds / 3))s"
pgbench -h 127.0.0.1 -p "$port" -n -c 4 -j 2 -T "$seconds" -M prepared \
	-f "$FORESIGHT_ROOT/bench/workload/point.sql@8" -f "$FORESIGHT_ROOT/bench/workload/range.sql@2" \
	postgres > "$dir/workload.out" 2>&1 &
workload=$!
(sleep $((seconds / 3)); pgbench -h 127.0.0.1 -p "$standby1_port" -n -c 3 -j 1 -T $((seconds / 3)) \
	-f "$FORESIGHT_ROOT/bench/workload/noise.sql" postgres >/dev/null 2>&1) &
noise=$!

# a live table every 2 s: predicted and actual load, share of the routed queries
declare -A last_routed
start=$(date +%s)
while kill -0 "$workload" 2>/dev/null; do
	sleep 2
	t=$(( $(date +%s) - start ))
	rows=$(psql_demo -At -F ' ' -c "
		SELECT n.node_name, coalesce(round(p.predicted_load::numeric, 3), 0),
		       coalesce(round(m.load::numeric, 3), 0), coalesce(s.routed, 0)
		FROM foresight.nodes n
		LEFT JOIN foresight.predictions p ON p.node_name = n.node_name AND p.request_class = 'all' AND p.horizon = '2s'
		LEFT JOIN foresight.node_metrics m ON m.node_name = n.node_name
		LEFT JOIN foresight.routing_stats s ON s.node_name = n.node_name
		WHERE n.node_name LIKE 'standby%' ORDER BY n.node_id") || continue
	total=0
	while read -r name predicted actual routed; do
		total=$((total + routed - ${last_routed[$name]:-0}))
	done <<< "$rows"
	[ -t 1 ] && printf '\033[H\033[2J'
	noisy=off
	kill -0 "$noise" 2>/dev/null && [ "$t" -ge $((seconds / 3)) ] && noisy=on
	printf '%4ss  noisy neighbour on standby1: %s\n' "$t" "$noisy"
	printf '  %-10s %15s %12s %14s\n' node "predicted load" "actual load" "share of reads"
	while read -r name predicted actual routed; do
		delta=$((routed - ${last_routed[$name]:-0}))
		share=$(awk -v d="$delta" -v t="$total" 'BEGIN { printf "%.2f", (t > 0 ? d / t : 0) }')
		last_routed[$name]=$routed
		printf '  %-10s %15s %12s %14s\n' "$name" "$predicted" "$actual" "$share"
		echo "$t $name $predicted $actual $share" >> "$data"
	done <<< "$rows"
done
wait "$noise" 2>/dev/null || true
grep -E '^tps|latency average' "$dir/workload.out" || true

chart=$dir/demo.png
if command -v gnuplot >/dev/null; then
	for n in standby1 standby2; do awk -v n="$n" '$2 == n' "$data" > "$dir/$n.dat"; done
	gnuplot <<-GP
		set terminal png size 1000,700 noenhanced
		set output '$chart'
		set multiplot layout 2,1 title 'pg_foresight demo: noisy neighbour on standby1 from $((seconds / 3))s to $((2 * seconds / 3))s'
		set grid; set xlabel 'seconds'; set yrange [0:1]
		set ylabel 'load'
		plot '$dir/standby1.dat' using 1:3 with lines lw 2 title 'standby1 predicted', \
		     '$dir/standby1.dat' using 1:4 with points title 'standby1 actual', \
		     '$dir/standby2.dat' using 1:3 with lines lw 2 title 'standby2 predicted', \
		     '$dir/standby2.dat' using 1:4 with points title 'standby2 actual'
		set ylabel 'share of routed reads'
		plot '$dir/standby1.dat' using 1:5 with linespoints title 'standby1', \
		     '$dir/standby2.dat' using 1:5 with linespoints title 'standby2'
		unset multiplot
	GP
	note "chart of predicted vs actual load and routing share: $chart"
fi

note "the last routing decisions"
psql_demo -c "SELECT decision_id, chosen_node, round(queue_wait_ms::numeric, 2) AS queue_ms, round(latency_ms::numeric, 2) AS latency_ms, reason FROM foresight.routing_decisions ORDER BY decision_id DESC LIMIT 5"

as_user=
[ -n "${FORESIGHT_VIA_ROOT:-}" ] && as_user="runuser -u $(id -un) -- "
cat <<MSG

The cluster is running in $dir (user $(id -un)):
  connect:  $FORESIGHT_BINDIR/psql -h 127.0.0.1 -p $port -U $(id -un) -d postgres
  status:   $as_user$FORESIGHT_ROOT/$cluster status $dir
  stop:     $as_user$FORESIGHT_ROOT/$cluster stop $dir
MSG
