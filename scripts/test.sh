#!/usr/bin/env bash
# scripts/test.sh: the whole test suite, the README's second command.
#
#   bash scripts/test.sh [--regress-only | --oracle-only | --tap-only] [TAP test files...]
#
# Installs missing Debian packages, builds the extension into a private
# copy of PostgreSQL (.build/install), then runs the C unit tests, the
# pg_regress suite (sql-tests/ against expected/), the pg-regress oracle
# (PostgreSQL's own regression suite run routed and local, compared:
# scripts/pg-regress-oracle.sh, when the suite is there) and the TAP suite
# (t/).  As root it re-runs itself as the unprivileged user "foresight_dev".
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

ensure_packages "${FORESIGHT_PACKAGES[@]}"
# A cgroup v1 cpu group the test user may write, for t/011_cgroup_limit.pl
# (which needs one to give a standby a CPU limit); kept between runs.
. "$FORESIGHT_ROOT/scripts/lib/cgroup.sh"
cgroup_for_user foresight_test keep
reexec_unprivileged scripts/test.sh "$@"

mode=all
tap_tests=()
for arg in "$@"; do
	case $arg in
		--regress-only) mode=regress ;;
		--tap-only) mode=tap ;;
		--oracle-only) mode=oracle ;;
		-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
		-*) die "unknown option $arg" ;;
		*) tap_tests+=("$arg") ;;
	esac
done

cd "$FORESIGHT_ROOT"
# no JIT bitcode: half the build time, and no test reads it (common.sh);
# exported for the oracle's build
export FORESIGHT_BITCODE=${FORESIGHT_BITCODE:-no}
build_and_install
export PATH="$FORESIGHT_BINDIR:$PATH"
failed=0
oracle_skipped=

run_unit_tests() {
	local tests
	read -r -a tests <<< "$(make -s print-unit-tests)"
	[ ${#tests[@]} -gt 0 ] || return 0
	note "C unit tests: ${tests[*]}"
	make -s -j2 unit-tests >/dev/null || { failed=1; return; }
	prove -j2 --exec '' "${tests[@]}" || failed=1
}

# The C unit tests (two at a time, the longest, test_abtest, about 20 s)
# and pg_regress (one test at a time): in the whole suite they run side by
# side, the unit tests' output shown once both are done.
run_unit_tests_beside_regress() {
	local log=$FORESIGHT_BUILD/unit-tests.out pid rc=0
	mkdir -p "$FORESIGHT_BUILD"
	(failed=0; run_unit_tests; exit $failed) > "$log" 2>&1 &
	pid=$!
	run_regress
	wait "$pid" || rc=1
	cat "$log"
	[ $rc -eq 0 ] || failed=1
}

run_regress() {
	local dir=$FORESIGHT_BUILD/regress
	rm -rf "$dir"
	mkdir -p "$dir/input" "$dir/out"
	# pg_regress 15 reads inputdir/sql and inputdir/expected; our tests live
	# in sql-tests/ because sql/ holds the install scripts.
	ln -s "$FORESIGHT_ROOT/sql-tests" "$dir/input/sql"
	ln -s "$FORESIGHT_ROOT/expected" "$dir/input/expected"
	cat > "$dir/extra.conf" <<-CONF
		shared_preload_libraries = 'pg_foresight'
		foresight.database = 'contrib_regression'
		lc_messages = 'C'
		# the tests' nodes never answer: they stay "unknown" (no candidate,
		# routing.md) instead of turning "down" at a time that depends on
		# the machine's speed, so the excluded reasons shown are the same
		foresight.down_after = 1000
	CONF
	local tests=()
	for f in sql-tests/*.sql; do tests+=("$(basename "$f" .sql)"); done
	note "pg_regress: ${tests[*]}"
	if ! "$FORESIGHT_PGXS/src/test/regress/pg_regress" \
		--bindir="$FORESIGHT_BINDIR" \
		--temp-instance="$dir/instance" --temp-config="$dir/extra.conf" \
		--inputdir="$dir/input" --outputdir="$dir/out" \
		--dbname=contrib_regression --port="$(free_port_block 1)" \
		"${tests[@]}"; then
		failed=1
		[ -f "$dir/out/regression.diffs" ] && head -200 "$dir/out/regression.diffs"
	fi
}

# PostgreSQL's own regression suite, routed against local
# (scripts/pg-regress-oracle.sh); its tests known to differ, each with its
# reason, are listed in scripts/oracle-known.txt.  Without the suite
# (FORESIGHT_SHARED/pg-regress-15 or ../shared/pg-regress-15) it is skipped,
# loudly, without failing.
run_oracle() {
	local shared=${FORESIGHT_SHARED:-$FORESIGHT_ROOT/../shared}
	if [ ! -f "$shared/pg-regress-15/regress/parallel_schedule" ]; then
		echo "########################################################################"
		echo "## NOTE: the pg-regress oracle was NOT run: PostgreSQL's regression"
		echo "## suite was not found in $shared/pg-regress-15/regress"
		echo "## (set FORESIGHT_SHARED to the folder holding pg-regress-15/)."
		echo "########################################################################"
		oracle_skipped="the pg-regress oracle was NOT run (no suite in $shared/pg-regress-15)"
		return 0
	fi
	note "pg-regress oracle (PostgreSQL's regression suite, routed = local)"
	local known=()
	[ -f scripts/oracle-known.txt ] && known=(--known scripts/oracle-known.txt)
	bash scripts/pg-regress-oracle.sh "${known[@]}" || failed=1
}

# prove with the environment of the TAP tests; its output goes on to $out
prove_tests() {
	env TESTDIR="$FORESIGHT_BUILD/tap" PG_REGRESS="$FORESIGHT_PGXS/src/test/regress/pg_regress" \
		PERL5LIB="$FORESIGHT_PGXS/src/test/perl:$FORESIGHT_ROOT/t/lib${PERL5LIB:+:$PERL5LIB}" \
		PG_FORESIGHT_ROOT="$FORESIGHT_ROOT" \
		prove --timer "$@" 2>&1 | tee -a "$out"
	return "${PIPESTATUS[0]}"
}

# the given test files, those marked "runs long" first
long_first() {
	local t
	for t in "$@"; do grep -q '^# runs long' "$t" && echo "$t"; done
	for t in "$@"; do grep -q '^# runs long' "$t" || echo "$t"; done
}

run_tap() {
	local tests=("${tap_tests[@]}")
	local out=$FORESIGHT_BUILD/tap/prove.out rc=0
	rm -rf "$FORESIGHT_BUILD/tap"
	mkdir -p "$FORESIGHT_BUILD/tap"
	set +e
	if [ ${#tests[@]} -gt 0 ]; then
		note "TAP: ${tests[*]}"
		prove_tests "${tests[@]}" || rc=1
	else
		# The tests marked "parallel-safe" (they assert no timing) run three
		# at a time (on two cores: 157 s two at a time, 147 s three,
		# 2026-12-07); those marked "light" (they assert waits and deadlines
		# with margins, not shares of CPU, and leave most of the machine
		# idle) three at a time too (163 s two at a time, 129 s three, 123 s
		# four); the others one at a time: those measure shares of CPU,
		# which a second test on two cores would disturb.  Those marked
		# "runs long" start first in their group, so that no long one is
		# left running alone at the end.
		local safe=() light=() serial=() t
		for t in t/*.pl; do
			if grep -q '^# parallel-safe' "$t"; then
				safe+=("$t")
			elif grep -q '^# light' "$t"; then
				light+=("$t")
			else
				serial+=("$t")
			fi
		done
		mapfile -t safe < <(long_first "${safe[@]}")
		mapfile -t light < <(long_first "${light[@]}")
		note "TAP, parallel-safe ones three at a time: ${safe[*]}"
		prove_tests -j3 "${safe[@]}" || rc=1
		note "TAP, light ones three at a time: ${light[*]}"
		prove_tests -j3 "${light[@]}" || rc=1
		note "TAP, one at a time: ${serial[*]}"
		prove_tests "${serial[@]}" || rc=1
	fi
	set -e
	if [ "$rc" -ne 0 ]; then
		failed=1
		# the logs of the failed tests only, then prove's summary again, so
		# that the end of the output says what failed
		local name
		for name in $(sed -n 's|^t/\([0-9A-Za-z_]*\)\.pl .*|\1|p' "$out" |
			sort -u); do
			grep -q "^t/$name\.pl *(Wstat\|^t/$name\.pl .*Failed" "$out" || continue
			for log in "$FORESIGHT_BUILD"/tap/tmp_check/log/regress_log_"$name"; do
				[ -f "$log" ] || continue
				echo "---- failures and tail of $log"
				grep -n "not ok" "$log" | head -20
				tail -60 "$log"
			done
		done
		sed -n '/^Test Summary Report/,/^Result:/p' "$out"
	fi
}

case $mode in
	all) run_unit_tests_beside_regress; run_oracle; run_tap ;;
	regress) run_regress ;;
	oracle) run_oracle ;;
	tap) run_tap ;;
esac

[ -z "$oracle_skipped" ] || echo "pg_foresight: NOTE: $oracle_skipped"
if [ $failed -ne 0 ]; then
	echo "pg_foresight: some tests FAILED"
	exit 1
fi
echo "pg_foresight: all tests passed"
