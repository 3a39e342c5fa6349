#!/usr/bin/env python3
"""bench/lib/rank_regret.py: does a forecast choose the lighter standby?

A forecast's mean absolute error says how close it comes to one node's
load; routing asks which of two nodes will be the lighter.  Reads the
standbys' series that bench/forecast_pays.sh keeps
(bench/results/forecast_pays_series.csv: workload, node, epoch, load;
one sample a second), and for each workload and horizon h (the mean load
over the next h samples) compares two forecasts of each node's load at
every sample t after the first 40:

  naive        the last value, y[t]
  snaive/20    the season of 20 samples ago: mean of y[t-19 .. t-20+h]

and prints, for each, the share of samples at which it named the standby
whose mean over the next h samples was the lower ("rank right") and the
mean regret: the load the wrongly named standby had above the other one
(0 when right), over all samples.

    python3 bench/lib/rank_regret.py bench/results/forecast_pays_series.csv
"""
import collections
import csv
import sys

SEASON = 20
SKIP = 40
HORIZONS = (1, 5)


def future(y, t, h):
    return sum(y[t + 1:t + 1 + h]) / h


def seasonal(y, t, h):
    start = t - SEASON + 1
    return sum(y[start:start + h]) / h


def main(path):
    series = collections.defaultdict(lambda: collections.defaultdict(list))
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            series[row['workload']][row['node']].append(float(row['load']))
    print('| workload | horizon (samples) | samples | naive: rank right | regret '
          '| snaive/20: rank right | regret |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    for workload, nodes in series.items():
        if sorted(nodes) != ['standby1', 'standby2']:
            continue
        a, b = nodes['standby1'], nodes['standby2']
        n = min(len(a), len(b))
        for h in HORIZONS:
            right = collections.Counter()
            regret = collections.Counter()
            count = 0
            for t in range(SKIP, n - h):
                truth = future(a, t, h) < future(b, t, h)
                gap = abs(future(a, t, h) - future(b, t, h))
                guesses = {'naive': a[t] < b[t],
                           'snaive': seasonal(a, t, h) < seasonal(b, t, h)}
                count += 1
                for model, guess in guesses.items():
                    if guess == truth:
                        right[model] += 1
                    else:
                        regret[model] += gap
            if count == 0:
                continue
            print('| %s | %d | %d | %.2f | %.4f | %.2f | %.4f |' % (
                workload, h, count,
                right['naive'] / count, regret['naive'] / count,
                right['snaive'] / count, regret['snaive'] / count))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'bench/results/forecast_pays_series.csv')
