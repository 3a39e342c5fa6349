#!/usr/bin/env bash
# bench/forecast.sh: the forecasting benchmark over the NAB traces.
#
#   bash bench/forecast.sh [--cross-validate]
#
# Builds bench/forecast/bench_forecast (make forecast-bench) and runs every
# model and the blend over $FORESIGHT_NAB_DIR (default ../shared/data/nab
# beside the repository) with the protocol of that folder's baselines.md,
# seasons 288 and 12, the point and the mean target as two processes in
# parallel.  Writes bench/results/forecast.md, ending with the held-out
# check: the blend's weighting grid, cross-validated leaving one series out.
# Takes about eleven minutes on two quiet cores; not part of CI.
#
# --cross-validate runs only the blend (with its weighting grid) and
# replaces the held-out section of an existing bench/results/forecast.md,
# leaving the other sections (and their timings) as they are: about four
# minutes on two quiet cores.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data=${FORESIGHT_NAB_DIR:-$root/../shared/data/nab}
out=$root/bench/results/forecast.md
tmp=$root/bench/results/tmp
only_held_out=0

for arg in "$@"; do
	case $arg in
		--cross-validate) only_held_out=1 ;;
		-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
		*) echo "forecast.sh: unknown argument $arg" >&2; exit 2 ;;
	esac
done

[ -d "$data" ] || { echo "forecast.sh: no data folder $data (set FORESIGHT_NAB_DIR)" >&2; exit 1; }
make -C "$root" -s forecast-bench
mkdir -p "$tmp"
rm -f "$tmp"/*.md "$tmp"/*.log

# run TARGET: one bench_forecast process for the point or the mean target
run() {
	if [ $only_held_out -eq 1 ]; then
		"$root/bench/forecast/bench_forecast" --held-out-only \
			"$data" "$tmp/$1.held-out.md" "$1" 288 12 2> "$tmp/$1.log"
	else
		"$root/bench/forecast/bench_forecast" --held-out "$tmp/$1.held-out.md" \
			"$data" "$tmp/$1.md" "$1" 288 12 2> "$tmp/$1.log"
	fi
}

start=$(date +%s)
run point &
p1=$!
run mean &
p2=$!
status=0
wait $p1 || status=1
wait $p2 || status=1
[ $status -eq 0 ] || { cat "$tmp"/*.log >&2; exit 1; }
elapsed=$(( $(date +%s) - start ))
when="$(date -u +%Y-%m-%d) ($(uname -m), $(nproc) cores): $elapsed s wall clock"

# The held-out section, between markers so that --cross-validate can
# replace it alone.
held_out_section() {
	echo "<!-- held-out check: begin -->"
	echo "## Held-out check (leave one series out)"
	echo
	if [ $only_held_out -eq 1 ]; then
		echo "Run by \`bench/forecast.sh --cross-validate\` on $when."
	else
		echo "Run with the tables above."
	fi
	echo
	echo "The blend's weighting defaults (\`blend_decay\`, \`blend_power\` of \`fc_config_default()\`)"
	echo "were chosen looking at these same series, so the tables above are in-sample for them."
	echo "Here every blend backtest also scores the grid of weightings listed below (the defaults"
	echo "included) on the same fitted members; each grid point's errors are exactly those of its"
	echo "own backtest (\`fc_backtest\` variants, checked by the unit tests). For each series, the"
	echo "setting with the best geometric-mean MASE on the *other* series is chosen and scored on"
	echo "that series: \"held-out blend\" is the geometric mean of these out-of-sample scores, to"
	echo "compare with the best statsmodels baseline of the same table in \`baselines.md\` (the"
	echo "target: at least 10% below it). \"defaults\" is the blend of the tables above (in-sample)."
	echo "Only the weighting varies: the members, including the LSTM with its default settings,"
	echo "are the same in every setting."
	echo
	cat "$tmp/point.held-out.md" "$tmp/mean.held-out.md"
	echo "<!-- held-out check: end -->"
}

if [ $only_held_out -eq 1 ]; then
	[ -f "$out" ] || { echo "forecast.sh: no $out to update; run bench/forecast.sh first" >&2; exit 1; }
	held_out_section > "$tmp/held-out.md"
	if grep -q '^<!-- held-out check: begin -->$' "$out"; then
		awk -v file="$tmp/held-out.md" '
			/^<!-- held-out check: begin -->$/ { while ((getline l < file) > 0) print l; skip = 1; next }
			/^<!-- held-out check: end -->$/ { skip = 0; next }
			!skip { print }' "$out" > "$tmp/forecast.md"
	else
		{ cat "$out"; echo; cat "$tmp/held-out.md"; } > "$tmp/forecast.md"
	fi
	mv "$tmp/forecast.md" "$out"
	echo "updated the held-out check in $out"
	exit 0
fi

{
	echo "# Forecasting benchmark (NAB traces)"
	echo
	echo "Run by \`bench/forecast.sh\` on $when;"
	echo "data: \`${data#"$root/../"}\`, protocol of its \`baselines.md\`: train fraction 0.70,"
	echo "rolling origin, parameters fitted on at most 4032 trailing points and refitted every 288 origins,"
	echo "MASE scale = mean |y[t]-y[t-1]| over the training part, summary = geometric mean over the series."
	echo "Non-seasonal models do not depend on the season and are repeated in both seasons' tables."
	echo
	cat "$tmp/point.md" "$tmp/mean.md"
	echo
	held_out_section
} > "$out"
echo "wrote $out"
