#!/usr/bin/env bash
# test-idle-cpu.sh PROGRAM ARGS... - runs a program that mostly waits on
# timers and checks that it slept in the kernel instead of spinning: the CPU
# time it used must be under a quarter of its wall-clock time.  (A reactor that
# never sleeps, as in --poll-mode, uses ~100%.)
set -euo pipefail
TIMEFORMAT='%R %U %S'
out=$( { time "$@" >/dev/null; } 2>&1 | tail -n 1)
read -r wall user sys <<<"$out"
echo "wall ${wall}s user ${user}s sys ${sys}s"
awk -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN {
  if (w < 0.2) { print "FAIL: ran too briefly to judge"; exit 1 }
  r = (u + s) / w
  printf "cpu/wall = %.3f\n", r
  if (r > 0.25) { print "FAIL: the reactor did not sleep while idle"; exit 1 }
  print "PASS"
}'
