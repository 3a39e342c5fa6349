#!/usr/bin/env bash
# scripts/mutation-check.sh: do the exactness tests catch what they guard?
#
#   bash scripts/mutation-check.sh [--list] [MUTATION...]
#
# Each mutation breaks one guarantee of "routed = local" on purpose in a
# copy of the tree (forced text transport, custom settings left
# unmirrored, no catalog floor, ...), builds that copy and runs the TAP
# tests meant to guard the guarantee.  A mutation is "caught" when the
# tests fail; one that they pass "survived", and the script then exits 1.
# The copies live in .build/mutation/<name>; each takes a build and its
# tests (one to two minutes).  Not part of scripts/test.sh: it checks the
# tests, not the extension.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

# name | file | perl substitution (applied to the whole file) | TAP tests
MUTATIONS=(
	'text-transport|src/router/route_tuples.c|s/(\t\*unusable = NULL;\n)(\tif \(OidIsValid\(st->needs\.no_binary\)\))/$1\t*text_reason = "forced by a mutation";\n\treturn false;\n$2/|t/027_transport_catalogue.pl'
	'custom-settings-unmirrored|src/remote/session_settings.c|s/(\t\t\t!never_carried_name\(ls->name\))(;)/$1 \&\& strchr(ls->name, \x27.\x27) == NULL$2/|t/023_session_context.pl'
	'no-catalog-floor|src/router/catalog_floor.c|s/(\t\}\n)(\treturn floor;\n\}\n\nXLogRecPtr\ncatalog_floor_current)/$1\tfloor = InvalidXLogRecPtr;\n$2/|t/024_catalog_floor.pl'
	'clock-read-on-node|src/router/clock_params.c|s/(\t\*kinds = NIL;\n)(\tif \(!query_tree_walker\(query, clock_walker)/$1\treturn;\n$2/|t/023_session_context.pl'
	'pace-from-cut-short|src/router/split_node_stats.c|s/if \(!cut_short && n >= 2/if (n >= 2/|t/055_split_faults.pl'
	'no-wal-flush|src/router/wal_position.c|s/\tXLogFlush\(Min\(upto, wal_insert_end\(\)\)\);/\t(void) upto;/|t/065_unflushed_wal.pl'
)

list=
wanted=()
for arg in "$@"; do
	case $arg in
		--list) list=1 ;;
		-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
		-*) die "unknown option $arg" ;;
		*) wanted+=("$arg") ;;
	esac
done
if [ -n "$list" ]; then
	for m in "${MUTATIONS[@]}"; do
		IFS='|' read -r name file _ tests <<< "$m"
		printf '%-28s %-32s %s\n' "$name" "$file" "$tests"
	done
	exit 0
fi

ensure_packages "${FORESIGHT_PACKAGES[@]}"
reexec_unprivileged scripts/mutation-check.sh "$@"

survived=()
caught=()
for m in "${MUTATIONS[@]}"; do
	IFS='|' read -r name file subst tests <<< "$m"
	if [ ${#wanted[@]} -gt 0 ] && ! printf '%s\n' "${wanted[@]}" | grep -qx "$name"; then
		continue
	fi
	dir=$FORESIGHT_BUILD/mutation/$name
	note "mutation $name: $file, guarded by $tests"
	mkdir -p "$dir"
	rsync -a --delete --exclude .git --exclude /.build --exclude '*.o' --exclude '*.so' \
		--exclude '*.bc' "$FORESIGHT_ROOT/" "$dir/"
	# the substitution must change the file, or the mutation point moved
	perl -0pi -e "\$n = ($subst); END { exit(\$n ? 0 : 3) }" "$dir/$file" ||
		die "mutation $name: the substitution no longer applies to $file"
	cmp -s "$FORESIGHT_ROOT/$file" "$dir/$file" && die "mutation $name: $file unchanged"
	read -r -a test_list <<< "$tests"
	if (cd "$dir" && FORESIGHT_BUILD="$dir/.build" bash scripts/test.sh --tap-only "${test_list[@]}") \
		> "$dir/mutation.log" 2>&1; then
		survived+=("$name")
		echo "mutation $name SURVIVED: $tests passed (log: $dir/mutation.log)"
	else
		caught+=("$name")
		echo "mutation $name caught:"
		# sed reads to the end: no SIGPIPE for grep under pipefail
		{ grep -E "^#   Failed test|^Failed [0-9]+/" "$dir/mutation.log" || true; } |
			sed -n '1,6s/^/    /p'
	fi
done

echo "mutations caught: ${#caught[@]}, survived: ${#survived[@]}"
[ ${#survived[@]} -eq 0 ]
