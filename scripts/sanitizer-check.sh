#!/usr/bin/env bash
# scripts/sanitizer-check.sh: the C code under the compilers' sanitizers
#
#   bash scripts/sanitizer-check.sh [--plain-only] [scripts/test.sh options...]
#
# In a copy of the tree (.build/sanitizer), two passes:
#  1. the plain-C programs (the unit tests of src/*/test, and the anomaly
#     detector of bench/anomaly over NAB's traces when shared/data/nab is
#     there) built with AddressSanitizer and UndefinedBehaviorSanitizer,
#     leak checks on, every error fatal, and run;
#  2. the extension built with UndefinedBehaviorSanitizer (COPT), and the
#     test suite run against it (scripts/test.sh, with its options: the
#     whole suite by default, about 10 minutes); every server process
#     writes what it finds to .build/sanitizer/reports/ubsan.<pid>.
# Exits 1 if a test fails or a report is written.  Not part of
# scripts/test.sh (it checks the code, it is no test of its own).
#
# Not AddressSanitizer inside the server: its run-time library would have
# to be preloaded into the uninstrumented postgres binary, which then hangs
# in bindtextdomain() before main() is done (Debian 12, gcc 12).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

plain_only=
suite_args=()
for arg in "$@"; do
	case $arg in
		--plain-only) plain_only=1 ;;
		-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
		*) suite_args+=("$arg") ;;
	esac
done

ensure_packages "${FORESIGHT_PACKAGES[@]}"
# the suite's cgroup, as scripts/test.sh makes it: without it the tests
# that confine a standby to half a core fall back to pinning it to one CPU
# (t/040 then kept 0.22 of the reads on its loaded standby, bound 0.2)
. "$FORESIGHT_ROOT/scripts/lib/cgroup.sh"
cgroup_for_user foresight_test keep
reexec_unprivileged scripts/sanitizer-check.sh "$@"

dir=$FORESIGHT_BUILD/sanitizer
reports=$dir/.build/reports
mkdir -p "$dir"
rsync -a --delete --exclude .git --exclude /.build --exclude '*.o' --exclude '*.so' \
	--exclude '*.bc' "$FORESIGHT_ROOT/" "$dir/"
rm -rf "$reports"
mkdir -p "$reports"
failed=0

# 1. plain C: ASan + UBSan, fatal
asan_cc="${CC:-gcc} -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
read -r -a unit_tests <<< "$(make -s -C "$dir" print-unit-tests)"
plain=("${unit_tests[@]}")
shared=${FORESIGHT_SHARED:-$FORESIGHT_ROOT/../shared}
nab=$shared/data/nab
[ -f "$nab/labels.json" ] && plain+=(bench/anomaly/nab_detect)
note "plain C under AddressSanitizer and UBSan: ${plain[*]}"
(cd "$dir" && rm -f "${plain[@]}" && make -s -j2 CC="$asan_cc" "${plain[@]}" >/dev/null) ||
	die "the sanitized build of the plain-C programs failed"
for prog in "${plain[@]}"; do
	args=()
	[ "$prog" = bench/anomaly/nab_detect ] &&
		args=(--data "$nab" --labels "$nab/labels.json" --sensitivity --loo)
	log=$reports/$(basename "$prog").log
	nm "$dir/$prog" | grep -c __asan_init >/dev/null || die "$prog was built without AddressSanitizer"
	if (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 "./$prog" "${args[@]}") > "$log" 2>&1 &&
		! grep -qE "^not ok|ERROR: (Address|Leak)Sanitizer|runtime error" "$log"; then
		echo "ok: $prog"
	else
		failed=1
		echo "FAILED: $prog (log: $log)"
	fi
done
# test.sh builds its own, without the sanitizers
(cd "$dir" && rm -f "${plain[@]}")

# 2. the extension: UBSan in every server process of the suite
if [ -z "$plain_only" ]; then
	note "the extension under UBSan: scripts/test.sh ${suite_args[*]}"
	if ! (cd "$dir" &&
		  COPT="-fsanitize=undefined -fno-omit-frame-pointer" \
		  UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan" \
		  FORESIGHT_BUILD="$dir/.build" bash scripts/test.sh "${suite_args[@]}") \
		> "$reports/suite.log" 2>&1; then
		failed=1
		echo "FAILED: the test suite under UBSan (log: $reports/suite.log)"
	else
		echo "ok: the test suite under UBSan"
	fi
	# the build must have been instrumented, or the silence says nothing
	nm -D "$dir/pg_foresight.so" | grep -c __ubsan_handle >/dev/null ||
		die "pg_foresight.so of $dir carries no UBSan checks"
	found=$(find "$reports" -name 'ubsan.*' | sort)
	if [ -n "$found" ]; then
		failed=1
		echo "UBSan reports:"
		for f in $found; do sed -n '1,12s/^/    /p' "$f"; done
	else
		echo "no UBSan report from any server process"
	fi
fi

[ $failed -eq 0 ]
