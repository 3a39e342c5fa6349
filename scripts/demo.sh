#!/usr/bin/env bash
# scripts/demo.sh: the README's first command.
#
#   bash scripts/demo.sh [--dir DIR] [--port PORT] [--seconds N]
#
# Installs missing Debian packages, builds the extension into a private copy
# of PostgreSQL, starts a coordinator and two hot standbys on loopback
# (scripts/foresight-cluster), runs a read workload through the coordinator
# and shows what pg_foresight saw and did.  The cluster keeps running; the
# last lines say how to connect and how to stop it.  As root it runs as the
# unprivileged user "foresight_dev" (initdb refuses root).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}" postgresql-contrib
reexec_unprivileged scripts/demo.sh "$@"

dir=$HOME/foresight-demo
port=5440
seconds=20
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
has_view() { [ "$(psql_demo -Atc "SELECT to_regclass('foresight.$1') IS NOT NULL")" = t ]; }

note "preparing pgbench tables on the coordinator"
pgbench -h 127.0.0.1 -p "$port" -i -s 5 -q postgres >/dev/null 2>&1 || die "pgbench -i failed"
psql_demo -qc "CHECKPOINT" >/dev/null
sleep 1

if has_view routing_stats; then
	psql_demo -qc "ALTER SYSTEM SET foresight.routing_policy = 'round_robin'" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
fi

note "read workload through the coordinator: pgbench -S, 4 clients, ${seconds}s"
pgbench -h 127.0.0.1 -p "$port" -S -M prepared -c 4 -j 2 -T "$seconds" -P 5 postgres 2>&1 | grep -E '^progress|^tps|latency average' || true

note "nodes"
psql_demo -c "SELECT * FROM foresight.nodes"
for view in node_metrics predictions routing_stats; do
	if has_view $view; then
		note "foresight.$view"
		psql_demo -c "SELECT * FROM foresight.$view"
	fi
done
if has_view routing_decisions; then
	note "last routing decisions"
	psql_demo -c "SELECT * FROM foresight.routing_decisions ORDER BY 1 DESC LIMIT 10"
fi

as_user=
[ -n "${FORESIGHT_VIA_ROOT:-}" ] && as_user="runuser -u $(id -un) -- "
cat <<MSG

The cluster is running in $dir (user $(id -un)):
  connect:  $FORESIGHT_BINDIR/psql -h 127.0.0.1 -p $port -U $(id -un) -d postgres
  status:   $as_user$FORESIGHT_ROOT/$cluster status $dir
  stop:     $as_user$FORESIGHT_ROOT/$cluster stop $dir
MSG
