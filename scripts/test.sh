#!/usr/bin/env bash
# scripts/test.sh: the whole test suite, the README's second command.
#
#   bash scripts/test.sh [--regress-only | --tap-only] [TAP test files...]
#
# Installs missing Debian packages, builds the extension into a private
# copy of PostgreSQL (.build/install), then runs the C unit tests, the
# pg_regress suite (sql-tests/ against expected/) and the TAP suite (t/).
# As root it re-runs itself as the unprivileged user "foresight_dev".
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
		-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
		-*) die "unknown option $arg" ;;
		*) tap_tests+=("$arg") ;;
	esac
done

cd "$FORESIGHT_ROOT"
build_and_install
export PATH="$FORESIGHT_BINDIR:$PATH"
failed=0

run_unit_tests() {
	local tests
	read -r -a tests <<< "$(make -s print-unit-tests)"
	[ ${#tests[@]} -gt 0 ] || return 0
	note "C unit tests: ${tests[*]}"
	make -s unit-tests >/dev/null || { failed=1; return; }
	prove --exec '' "${tests[@]}" || failed=1
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
	CONF
	local tests=()
	for f in sql-tests/*.sql; do tests+=("$(basename "$f" .sql)"); done
	note "pg_regress: ${tests[*]}"
	if ! "$FORESIGHT_PGXS/src/test/regress/pg_regress" \
		--bindir="$FORESIGHT_BINDIR" \
		--temp-instance="$dir/instance" --temp-config="$dir/extra.conf" \
		--inputdir="$dir/input" --outputdir="$dir/out" \
		--dbname=contrib_regression --port=$((50000 + RANDOM % 10000)) \
		"${tests[@]}"; then
		failed=1
		[ -f "$dir/out/regression.diffs" ] && head -200 "$dir/out/regression.diffs"
	fi
}

run_tap() {
	local tests=("${tap_tests[@]}")
	[ ${#tests[@]} -gt 0 ] || tests=(t/*.pl)
	note "TAP: ${tests[*]}"
	rm -rf "$FORESIGHT_BUILD/tap"
	mkdir -p "$FORESIGHT_BUILD/tap"
	local out=$FORESIGHT_BUILD/tap/prove.out rc
	set +e
	env TESTDIR="$FORESIGHT_BUILD/tap" PG_REGRESS="$FORESIGHT_PGXS/src/test/regress/pg_regress" \
		PERL5LIB="$FORESIGHT_PGXS/src/test/perl:$FORESIGHT_ROOT/t/lib${PERL5LIB:+:$PERL5LIB}" \
		PG_FORESIGHT_ROOT="$FORESIGHT_ROOT" \
		prove --timer "${tests[@]}" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
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
		sed -n '/^Test Summary Report/,$p' "$out"
	fi
}

case $mode in
	all) run_unit_tests; run_regress; run_tap ;;
	regress) run_regress ;;
	tap) run_tap ;;
esac

if [ $failed -ne 0 ]; then
	echo "pg_foresight: some tests FAILED"
	exit 1
fi
echo "pg_foresight: all tests passed"
