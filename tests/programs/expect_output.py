#!/usr/bin/env python3
"""expect_output.py - runs a program and checks what it printed.

    expect_output.py [--stdout RE] [--stderr RE] [--status N] [--timeout S] -- PROGRAM [ARGS...]

Each RE (Python syntax) must match the whole of that stream (re.fullmatch,
DOTALL off); an empty RE means the stream must be empty.  Stall reports
("Reactor stalled ..." blocks) are removed from stderr first: a loaded
machine may rightly print them.  The exit status must be N (default 0).
The program is killed after S seconds (default 30) and the check fails.
Prints "PASS" or what differed, and exits 0 or 1.
"""
import argparse
import re
import subprocess
import sys


def drop_stall_reports(text):
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if 'Reactor stalled for' in line:
            skipping = True
            continue
        if skipping and (line.startswith(' ') or line.startswith('\t') or line.startswith('Backtrace')):
            continue
        skipping = False
        out.append(line)
    return ''.join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--stdout', default=None)
    ap.add_argument('--stderr', default=None)
    ap.add_argument('--status', type=int, default=0)
    ap.add_argument('--timeout', type=float, default=30)
    ap.add_argument('cmd', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == '--' else a.cmd
    if not cmd:
        print('no program given')
        return 1
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=a.timeout)
    except subprocess.TimeoutExpired:
        print(f'FAIL: {cmd[0]} still ran after {a.timeout} s (killed)')
        return 1
    out = p.stdout.decode(errors='replace')
    err = drop_stall_reports(p.stderr.decode(errors='replace'))
    ok = True
    for name, text, want in (('stdout', out, a.stdout), ('stderr', err, a.stderr)):
        if want is None:
            continue
        if not re.fullmatch(want, text):
            print(f'FAIL: {name} does not match {want!r}:\n{text[:2000]!r}')
            ok = False
    if p.returncode != a.status:
        print(f'FAIL: exit status {p.returncode}, expected {a.status}\nstderr: {err[:2000]!r}')
        ok = False
    print('PASS' if ok else 'FAILED')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
