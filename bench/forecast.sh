#!/usr/bin/env bash
# bench/forecast.sh: the forecasting benchmark over the NAB traces.
#
#   bash bench/forecast.sh
#
# Builds bench/forecast/bench_forecast (make forecast-bench) and runs every
# model and the blend over $FORESIGHT_NAB_DIR (default ../shared/data/nab
# beside the repository) with the protocol of that folder's baselines.md,
# seasons 288 and 12, the point and the mean target as two processes in
# parallel.  Writes bench/results/forecast.md.
# Takes a few minutes on two cores; not part of CI.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data=${FORESIGHT_NAB_DIR:-$root/../shared/data/nab}
out=$root/bench/results/forecast.md
tmp=$root/bench/results/tmp

[ -d "$data" ] || { echo "forecast.sh: no data folder $data (set FORESIGHT_NAB_DIR)" >&2; exit 1; }
make -C "$root" -s forecast-bench
mkdir -p "$tmp"

start=$(date +%s)
"$root/bench/forecast/bench_forecast" "$data" "$tmp/point.md" point 288 12 2> "$tmp/point.log" &
p1=$!
"$root/bench/forecast/bench_forecast" "$data" "$tmp/mean.md" mean 288 12 2> "$tmp/mean.log" &
p2=$!
status=0
wait $p1 || status=1
wait $p2 || status=1
[ $status -eq 0 ] || { cat "$tmp"/*.log >&2; exit 1; }
elapsed=$(( $(date +%s) - start ))

{
	echo "# Forecasting benchmark (NAB traces)"
	echo
	echo "Run by \`bench/forecast.sh\` on $(date -u +%Y-%m-%d) ($(uname -m), $(nproc) cores): $elapsed s wall clock;"
	echo "data: \`${data#"$root/../"}\`, protocol of its \`baselines.md\`: train fraction 0.70,"
	echo "rolling origin, parameters fitted on at most 4032 trailing points and refitted every 288 origins,"
	echo "MASE scale = mean |y[t]-y[t-1]| over the training part, summary = geometric mean over the series."
	echo "Non-seasonal models do not depend on the season and are repeated in both seasons' tables."
	echo
	cat "$tmp/point.md" "$tmp/mean.md"
} > "$out"
echo "wrote $out"
