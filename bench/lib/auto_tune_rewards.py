#!/usr/bin/env python3
"""bench/lib/auto_tune_rewards.py: would a reward rank the tuner's settings
as their p99 does?  Reads the sweep's reads that bench/auto_tune.sh keeps
(WORK/sweep*.reads: arm, class, node, epoch seconds, latency ms), replays
the routed nodes' recent answer times per class as src/stats/latency.c
keeps them (a mean decayed with a time constant of 0.5 s,
LATENCY_RECENT_TAU_S), takes the class's fastest of them at each read as
the tuner does (an approximation: the coordinator sees the answers when
they end, this replay in the order of the decisions), and prints per arm:

  R1  mean of min(1, fastest / latency)      the tuner's reward
  R2  1 - share of reads over 4 x fastest    the tail guard's measure
  R3  sum of fastest / sum of latencies      a time-weighted reward

and, over 5 s batches of the same moments, each arm's difference from the
last arm and its z (batch means), to tell a ranking from noise.

    python3 bench/lib/auto_tune_rewards.py /tmp/foresight-tune.XXXXXX
"""
import collections
import glob
import math
import statistics
import sys

TAU_S = 0.5
BATCH_S = 5.0


def load(work):
    rows = []
    for name in sorted(glob.glob(work + "/sweep*.reads")):
        with open(name) as f:
            for line in f:
                p = line.split()
                if len(p) == 5:
                    rows.append((float(p[3]), p[0], p[1], p[2], float(p[4])))
    rows.sort()
    return rows


def replay(rows):
    """(time, arm, latency, fastest) of every read with a fastest to judge by"""
    recent = {}
    nodes = sorted(set(r[3] for r in rows))
    out = []
    for t, arm, cls, node, lat in rows:
        answers = [s / w for s, w, _ in (recent.get((n, cls)) for n in nodes if (n, cls) in recent)]
        if answers:
            out.append((t, arm, lat, min(answers)))
        s, w, at = recent.get((node, cls), (0.0, 0.0, t))
        d = math.exp(-(t - at) / TAU_S)
        recent[(node, cls)] = (s * d + lat, w * d + 1.0, t)
    return out


REWARDS = (
    ("R1", lambda v: sum(min(1.0, f / l) for l, f in v) / len(v)),
    ("R2", lambda v: 1.0 - sum(l > 4.0 * f for l, f in v) / len(v)),
    ("R3", lambda v: sum(f for l, f in v) / sum(l for l, f in v)),
)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    reads = replay(load(sys.argv[1]))
    if not reads:
        sys.exit("no reads in %s/sweep*.reads" % sys.argv[1])
    by_arm = collections.defaultdict(list)
    for t, arm, lat, f in reads:
        by_arm[arm].append((lat, f))
    arms = sorted(by_arm)
    print("arm reads p99_ms " + " ".join(name for name, _ in REWARDS))
    for arm in arms:
        v = by_arm[arm]
        lat = sorted(l for l, _ in v)
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        print("%s %d %.2f %s" % (arm, len(v), p99, " ".join("%.4f" % fn(v) for _, fn in REWARDS)))
    t0 = reads[0][0]
    batches = collections.defaultdict(lambda: collections.defaultdict(list))
    for t, arm, lat, f in reads:
        batches[int((t - t0) // BATCH_S)][arm].append((lat, f))
    last = arms[-1]
    print("difference from %s over %.0f s batches (z of the batch means):" % (last, BATCH_S))
    for name, fn in REWARDS:
        cells = []
        for arm in arms[:-1]:
            d = [fn(b[arm]) - fn(b[last]) for b in batches.values() if len(b[arm]) > 20 and len(b[last]) > 20]
            if len(d) < 2:
                continue
            m = statistics.mean(d)
            sd = statistics.stdev(d) or 1e-12
            cells.append("%s %+.4f z %.1f" % (arm, m, m / (sd / math.sqrt(len(d)))))
        print("%s: %s" % (name, "; ".join(cells)))


if __name__ == "__main__":
    main()
