#!/usr/bin/env python3
# bench_compare.py - runs sea's benchmarks from two builds side by side and
# prints, for every figure, the median of each build and their ratio: the
# before/after table a change that must not slow anything down needs.
#
#   scripts/bench_compare.py OLD_BUILD NEW_BUILD [--rounds N] [--only NAME,...] [--skip NAME,...]
#
# Each round runs every benchmark program once from each build, back to back,
# alternating which build goes first, so that drift and noise from the rest
# of the machine fall on both alike.  Programs are pinned to CPU 1 with
# taskset, except those that place their own threads (bench_smp, bench_echo,
# bench_malloc).  Only the "name: value unit" lines are compared; ratios
# ("x" units) are left out.  Besides the medians it prints each build's best
# run (the lowest time, the highest rate): on a virtual machine whose host
# sometimes moves the two vCPUs apart (bench_smp's cross-CPU check sees its
# raw ping-pong go from 100 to 400 ns), a few runs of either build may be
# slow for reasons of the host's, and the best runs show the code's cost.
import argparse
import os
import re
import statistics
import subprocess
import sys

SELF_PINNED = {"bench_smp", "bench_echo", "bench_malloc"}
LINE = re.compile(r"^([A-Za-z0-9_.\-]+): ([-+0-9.eE]+) ?(\S*)")


def run(build, prog):
    path = os.path.join(build, "bench", prog)
    cmd = [path] if prog in SELF_PINNED else ["taskset", "-c", "1", path]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    figures = {}
    for line in out.stdout.splitlines():
        m = LINE.match(line)
        if m and m.group(3) not in ("x",) and not m.group(1).endswith("ratio"):
            figures[m.group(1)] = (float(m.group(2)), m.group(3))
    if out.returncode != 0:
        print("# %s from %s exited with %d" % (prog, build, out.returncode), file=sys.stderr)
    return figures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--skip", default="")
    a = ap.parse_args()
    progs = sorted(p for p in os.listdir(os.path.join(a.new, "bench"))
                   if p.startswith("bench_") and os.access(os.path.join(a.new, "bench", p), os.X_OK)
                   and os.path.isfile(os.path.join(a.new, "bench", p)))
    if a.only:
        progs = [p for p in progs if p in a.only.split(",")]
    if a.skip:
        progs = [p for p in progs if p not in a.skip.split(",")]
    samples = {"old": {}, "new": {}}
    units = {}
    for r in range(a.rounds):
        for prog in progs:
            order = ("old", "new") if r % 2 == 0 else ("new", "old")
            for which in order:
                for name, (value, unit) in run(getattr(a, which), prog).items():
                    samples[which].setdefault(name, []).append(value)
                    units[name] = unit
        print("# round %d of %d done" % (r + 1, a.rounds), file=sys.stderr, flush=True)
    print("| figure | unit | before (median) | after (median) | after / before | before (best) | after (best) | after / before |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in sorted(set(samples["old"]) & set(samples["new"])):
        old = statistics.median(samples["old"][name])
        new = statistics.median(samples["new"][name])
        higher_is_better = units[name].endswith("/s")  # a rate (ops/s, k/s), not a time (ns/switch)
        pick = max if higher_is_better else min
        old_best, new_best = pick(samples["old"][name]), pick(samples["new"][name])
        ratio = "%.2f" % (new / old) if old else "-"
        best_ratio = "%.2f" % (new_best / old_best) if old_best else "-"
        print("| `%s` | %s | %.4g | %.4g | %s | %.4g | %.4g | %s |" %
              (name, units[name], old, new, ratio, old_best, new_best, best_ratio))


if __name__ == "__main__":
    main()
