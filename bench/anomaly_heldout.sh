#!/usr/bin/env bash
# bench/anomaly_heldout.sh: the anomaly detector on the NAB traces it was not
# tuned on, beside NAB's published detectors.
#
#   bash bench/anomaly_heldout.sh NAB_CHECKOUT
#
# NAB_CHECKOUT is a clone of https://github.com/numenta/NAB (data/,
# labels/combined_windows.json, results/, config/thresholds.json).  The
# detector's defaults were chosen on the ten traces of shared/data/nab
# (bench/anomaly.sh); this runs it, with the same defaults, over NAB's
# other 48 files, and scores with shared/tools/nab_score.py:
#   * held-out server metrics: the other files of realAWSCloudwatch and
#     realKnownCause (the kind of series the monitor feeds it);
#   * all 48 held-out files (tweets, traffic, ad exchange, artificial);
#   * the whole corpus of 58, the figure NAB's scoreboard gives.
# The published detectors' results (results/<detector>, with the
# thresholds NAB chose for them on the whole corpus, config/thresholds.json)
# are scored the same way on the same files.  Writes
# bench/results/anomaly_heldout.md.  About 80 s; not part of CI.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
shared=${FORESIGHT_SHARED:-$root/../shared}
scorer=$shared/tools/nab_score.py
out=$root/bench/results/anomaly_heldout.md
published="numenta ARTime contextOSE earthgeckoSkyline relativeEntropy"

case ${1:-} in
	-h|--help) sed -n '2,19p' "$0"; exit 0 ;;
	"") echo "anomaly_heldout.sh: give a NAB checkout (--help)" >&2; exit 2 ;;
esac
nab=$(cd "$1" && pwd)
for f in labels/combined_windows.json config/thresholds.json data results; do
	[ -e "$nab/$f" ] || { echo "anomaly_heldout.sh: no $nab/$f: not a NAB checkout" >&2; exit 1; }
done
[ -f "$shared/data/nab/labels.json" ] || { echo "anomaly_heldout.sh: no $shared/data/nab (set FORESIGHT_SHARED)" >&2; exit 1; }
make -C "$root" -s anomaly-bench

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The corpus: every data file, flat (the detector and the scorer key files
# by their base names), with NAB's windows under the same names; the held-out
# part is every file that is not one of the ten.
python3 - "$nab" "$shared/data/nab/labels.json" "$work" <<'PY'
import json, os, shutil, sys
nab, tuned_labels, work = sys.argv[1:]
windows = json.load(open(os.path.join(nab, "labels/combined_windows.json")))
tuned = set(json.load(open(tuned_labels)))
os.makedirs(os.path.join(work, "all"))
labels, server = {}, []
for key, win in sorted(windows.items()):
    name = os.path.basename(key)
    shutil.copy(os.path.join(nab, "data", key), os.path.join(work, "all", name))
    labels[name] = win
    if name not in tuned and key.split("/")[0] in ("realAWSCloudwatch", "realKnownCause"):
        server.append(name)
json.dump(labels, open(os.path.join(work, "all/labels.json"), "w"))
open(os.path.join(work, "heldout"), "w").write(",".join(n for n in labels if n not in tuned))
open(os.path.join(work, "server"), "w").write(",".join(server))
PY

"$root/bench/anomaly/nab_detect" --data "$work/all" --labels "$work/all/labels.json" \
	--out "$work/det.csv" > "$work/run.md"

# score DETECTOR_ARGS FILES: "standard low_FP low_FN TP FN FP"
score() {
	local files=$2 args=()
	[ -n "$files" ] && args=(--files "$files")
	# shellcheck disable=SC2086
	python3 "$scorer" --data "$work/all" --labels "$work/all/labels.json" $1 \
		"${args[@]}" --quiet 2>&1 | awk '
		/TOTAL normalised/ { v[$2] = $5; tp = $13; fn = $15; fp = $17 }
		END { printf "%s %s %s %s %s %s\n", v["standard"], v["reward_low_FP_rate"], v["reward_low_FN_rate"], tp, fn, fp }'
}
sets="server:$(cat "$work/server") heldout:$(cat "$work/heldout") all:"
row() {
	local name=$1 args=$2 line="| $1"
	for s in $sets; do
		read -r std lfp lfn tp fn fp <<< "$(score "$args" "${s#*:}")"
		line="$line | $std / $lfp / $lfn ($tp TP, $fn FN, $fp FP)"
	done
	echo "$line |"
}
{
	echo "# The anomaly detector on NAB's held-out traces"
	echo
	echo "Run by \`bash bench/anomaly_heldout.sh <NAB checkout>\` on $(date -u '+%Y-%m-%d %H:%M') UTC ($(uname -m), $(nproc) cores);"
	echo "NAB at commit $(git -C "$nab" rev-parse --short HEAD 2>/dev/null || echo unknown). Scorer: \`shared/tools/nab_score.py\`."
	echo
	echo "pg_foresight's detector runs with the shipped defaults, chosen on the ten traces of"
	echo "\`shared/data/nab\` (bench/results/anomaly.md); none of the files below was used to choose them."
	echo "The published detectors are scored from NAB's \`results/\` with the thresholds NAB chose for each"
	echo "on the whole corpus (\`config/thresholds.json\`), so theirs are in-sample figures."
	echo
	echo "Each cell: normalised score standard / reward_low_FP_rate / reward_low_FN_rate (alerts that hit"
	echo "a window, windows missed, alerts outside windows)."
	echo
	echo "| detector | held-out server metrics ($(awk -F, '{print NF}' "$work/server") files) | all held-out ($(awk -F, '{print NF}' "$work/heldout") files) | whole corpus (58 files) |"
	echo "|---|---|---|---|"
	row "**pg_foresight**" "--detections $work/det.csv"
	for d in $published; do
		row "$d" "--nab-results $nab/results --detector $d --thresholds-json $nab/config/thresholds.json"
	done
	echo
	echo "## pg_foresight per file (nab_detect's own scoring)"
	echo
	cat "$work/run.md"
} > "$out"
echo "anomaly_heldout.sh: wrote $out"
