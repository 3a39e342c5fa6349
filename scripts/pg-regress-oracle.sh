#!/usr/bin/env bash
# scripts/pg-regress-oracle.sh: PostgreSQL 15's own regression suite as the
# oracle of "routed = local".
#
#   bash scripts/pg-regress-oracle.sh [--keep] [--schedule FILE] [--known FILE]
#                                     [--session 'OPTIONS'] [--split]
#
# Runs the core regression suite (../shared/pg-regress-15/, or
# $FORESIGHT_SHARED/pg-regress-15) through a coordinator with two hot
# standbys twice: once with routing off (foresight.routing_policy = local),
# once with every eligible read forced onto the standbys (round_robin,
# include_local off).  Each run's results/*.out are masked (only what
# docs/routing.md, "What a client can tell", lists as visible) and compared
# with each other, not with expected/.  Prints the differing tests and
# writes the diffs to .build/oracle/oracle.diffs.
#
# The suite's data-less COPY FROM STDIN are first ended with "\."
# (scripts/lib/oracle-copy-end.pl: psql 15.20 would skip the input up to
# the next one).  scripts/test.sh runs this with --known
# scripts/oracle-known.txt.
#
# --session gives both runs' sessions settings of their own, as a client
# would (libpq's PGOPTIONS, e.g. '-c extra_float_digits=0 -c
# bytea_output=escape'; pg_regress appends its own IntervalStyle after
# them): the routed run must carry them to the nodes' sessions.
#
# --split runs both with every read split that can be (foresight.split on,
# split_min_cost and split_piece_cost 0, split_block_ranges on, on top of
# any --session options):
# a split read may show its plan and, without an ORDER BY, its rows in
# another order (docs/sharding.md), so a test whose outputs differ only so
# (scripts/lib/oracle-split-verdict.pl) is listed apart, not as a
# difference.  Not part of scripts/test.sh (it takes as long again).
#
# Exit status: 0 when no test differs other than those named in the
# --known file (one test name a line, "#" comments; default none), 1
# otherwise.  A known test that no longer differs is reported so that the
# list only shrinks.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}"
reexec_unprivileged scripts/pg-regress-oracle.sh "$@"

keep=
known=
schedule=
session_options=
split=
while [ $# -gt 0 ]; do
	case $1 in
		--keep) keep=1; shift ;;
		--known) [ $# -ge 2 ] || die "--known needs a file"; known=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
		--schedule) [ $# -ge 2 ] || die "--schedule needs a file"; schedule=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
		--session) [ $# -ge 2 ] || die "--session needs options"; session_options=$2; shift 2 ;;
		--split) split=1; shift ;;
		-h|--help) sed -n '2,37p' "$0"; exit 0 ;;
		*) die "unknown option \"$1\"" ;;
	esac
done

[ -z "$split" ] || session_options="-c foresight.split=on -c foresight.split_min_cost=0 -c foresight.split_piece_cost=0 -c foresight.split_block_ranges=on${session_options:+ $session_options}"

shared=${FORESIGHT_SHARED:-$FORESIGHT_ROOT/../shared}
suite=$shared/pg-regress-15/regress
[ -f "$suite/parallel_schedule" ] || die "PostgreSQL's regression suite not found in $suite"
schedule=${schedule:-$suite/parallel_schedule}

cd "$FORESIGHT_ROOT"
build_and_install
export PATH="$FORESIGHT_BINDIR:$PATH"

work=$FORESIGHT_BUILD/oracle
cluster=$work/cluster
"$FORESIGHT_ROOT/scripts/foresight-cluster" stop "$cluster" >/dev/null 2>&1 || true
[ -d "$work" ] && chmod -R u+w "$work"
rm -rf "$work"
mkdir -p "$work/lib" "$work/input"

# regress.so (the suite's C functions) with PGXS; autoinc.so and refint.so
# come with the server.  The suite's input folder is copied: pg_regress
# writes into it (sql/ and expected/ made from input/ and output/).
note "building regress.so"
cp "$suite/regress.c" "$work/lib/"
printf 'MODULES = regress\nPG_CONFIG = pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n' > "$work/lib/Makefile"
# the system's pg_config: the private install has no server headers
make -s -C "$work/lib" PG_CONFIG=/usr/bin/pg_config >/dev/null || die "could not build regress.so"
cp "/usr/lib/postgresql/$PG_MAJOR/lib/autoinc.so" "/usr/lib/postgresql/$PG_MAJOR/lib/refint.so" "$work/lib/"
cp -r "$suite/." "$work/input/"
chmod -R u+w "$work/input"
# its failing COPY FROM STDIN ended with "\." for today's psql
perl "$FORESIGHT_ROOT/scripts/lib/oracle-copy-end.pl" "$work/input/sql/"*.sql

port=$(free_port_block 3)
note "cluster: coordinator and 2 standbys from port $port"
"$FORESIGHT_ROOT/scripts/foresight-cluster" start "$cluster" --standbys 2 --port "$port" --bindir "$FORESIGHT_BINDIR" >/dev/null
stop_cluster() {
	[ -n "$keep" ] || "$FORESIGHT_ROOT/scripts/foresight-cluster" stop "$cluster" >/dev/null 2>&1 || true
}
trap stop_cluster EXIT
# what the suite expects of its server (as pg_regress --temp-instance sets
# it); fsync off as in PostgreSQL's own TAP clusters: the data is thrown away
for d in coordinator standby1 standby2; do
	cat >> "$cluster/$d/postgresql.conf" <<-CONF
		fsync = off
		lc_messages = 'C'
		max_prepared_transactions = 2
		log_autovacuum_min_duration = -1
		log_checkpoints = off
		log_min_messages = warning
	CONF
	"$FORESIGHT_BINDIR/pg_ctl" -D "$cluster/$d" -w restart -l "$cluster/$d/server.log" >/dev/null
done

sql() { psql -X -q -A -t -h 127.0.0.1 -p "$port" -d postgres -v ON_ERROR_STOP=1 -c "$1"; }

# Each run starts from nothing: the regression database and the global
# objects (roles, tablespaces) an earlier run may have left.
reset_globals() {
	sql "DROP DATABASE IF EXISTS regression WITH (FORCE)"
	local obj
	for obj in $(sql "SELECT spcname FROM pg_tablespace WHERE spcname LIKE 'regress%'"); do
		sql "DROP TABLESPACE $obj"
	done
	for obj in $(sql "SELECT rolname FROM pg_roles WHERE rolname LIKE 'regress%'"); do
		sql "DROP OWNED BY \"$obj\" CASCADE" >/dev/null 2>&1 || true
		sql "DROP ROLE \"$obj\""
	done
}

# until both standbys have replayed everything written so far (30 s at most)
wait_for_replay() {
	local lsn i s
	lsn=$(sql "SELECT pg_current_wal_lsn()")
	for s in 1 2; do
		for ((i = 0; i < 300; i++)); do
			[ "$(psql -X -A -t -h 127.0.0.1 -p $((port + s)) -d postgres \
				-c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && break
			sleep 0.1
		done
	done
}

run_suite() {
	local name=$1 settings=$2
	reset_globals
	sql "CREATE DATABASE regression TEMPLATE template0"
	sql "ALTER DATABASE regression SET $settings"
	wait_for_replay
	mkdir -p "$work/$name"
	note "pg_regress, $name ($settings${session_options:+; sessions: $session_options})"
	PGOPTIONS="$session_options" "$FORESIGHT_PGXS/src/test/regress/pg_regress" --use-existing --dbname=regression \
		--inputdir="$work/input" --outputdir="$work/$name" --dlpath="$work/lib" \
		--schedule="$schedule" --host=127.0.0.1 --port="$port" \
		--bindir="$FORESIGHT_BINDIR" --max-concurrent-tests=20 >"$work/$name.log" 2>&1 || true
	grep -E '^(ok|not ok|test )|^ +[a-z]|tests passed|failed' "$work/$name.log" | tail -3 || true
}

run_suite local "foresight.routing_policy = local"
run_suite routed "foresight.routing_policy = round_robin; ALTER DATABASE regression SET foresight.include_local = off"

# How many reads the routed run sent to the standbys: the oracle is only
# worth what was routed.
routed=$(sql "SELECT coalesce(sum(routed), 0) FROM foresight.routing_stats WHERE node_name <> 'local'" 2>/dev/null || echo "?")
note "routed run: $routed queries ran on the standbys"

# Mask what docs/routing.md says a client can see differ (the route node in
# EXPLAIN, the CONTEXT line naming the node): scripts/lib/oracle-mask.pl.
mask() { perl "$FORESIGHT_ROOT/scripts/lib/oracle-mask.pl" "$1"; }

differ=()
split_only=()
for f in "$work/local/results/"*.out; do
	t=$(basename "$f" .out)
	g=$work/routed/results/$t.out
	if [ ! -f "$g" ] || ! cmp -s <(mask "$f") <(mask "$g"); then
		# split: plans, and rows without ORDER BY in another order, may differ
		if [ -n "$split" ] && [ -f "$g" ] &&
			[ "$(perl "$FORESIGHT_ROOT/scripts/lib/oracle-split-verdict.pl" <(mask "$f") <(mask "$g"))" != values ]; then
			split_only+=("$t")
		else
			differ+=("$t")
		fi
	fi
done
[ ${#split_only[@]} -eq 0 ] ||
	echo "split: ${#split_only[@]} tests differ only in their plans or in the order of rows without ORDER BY: ${split_only[*]}"
: > "$work/oracle.diffs"
for t in "${differ[@]}"; do
	diff -u <(mask "$work/local/results/$t.out") <(mask "$work/routed/results/$t.out") \
		--label "local/$t.out" --label "routed/$t.out" >> "$work/oracle.diffs" || true
done
total=$(ls "$work/local/results/"*.out | wc -l)
note "$((total - ${#differ[@]} - ${#split_only[@]})) of $total tests give the same output routed; ${#differ[@]} differ (diffs: $work/oracle.diffs)"

known_list=()
[ -n "$known" ] && mapfile -t known_list < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$known" | grep -v '^$')
unexpected=()
for t in "${differ[@]}"; do
	printf '%s\n' "${known_list[@]}" | grep -qx "$t" || unexpected+=("$t")
done
for t in "${known_list[@]}"; do
	printf '%s\n' "${differ[@]}" | grep -qx "$t" || echo "known difference gone (remove it from the list): $t"
done
[ ${#differ[@]} -eq 0 ] || echo "differing: ${differ[*]}"
if [ ${#unexpected[@]} -gt 0 ]; then
	echo "differing and not known: ${unexpected[*]}"
	exit 1
fi
echo "pg-regress oracle: no unexpected difference"
