#!/usr/bin/env python3
"""test_native_xdp.py - the kernel pings sea's native stack (issue 19) over AF_XDP on a veth pair.

    test_native_xdp.py --program NATIVE_XDP

As root only (else it says why and exits 77, which CTest counts as skipped; so does a kernel without
AF_XDP or one that will not load an XDP program, which native_xdp reports with a "SKIP:" line): makes a
network namespace of its own (sea-xdp-PID), and in it the veth pair vx0 (the kernel's side, 10.78.0.1/24)
and vx1 (sea's, no address), both up; runs tests/unit/native/native_xdp.c in the namespace on queue 0 of
vx1 as 10.78.0.2, waits (30 s at most) for its "serving" line, then from the kernel's side:

  - while it runs, `ip link` shows its XDP program on vx1;
  - `ping -c 5 -s 56` and `ping -c 5 -s 1400` get all their replies (each waited for 5 s at most);
  - the kernel's neighbour table has vx1's MAC for 10.78.0.2 (learned from sea's ARP reply);
  - `ping -f -c 2000` (a flood: the next request when the reply comes) gets all its replies; the rate is
    printed, not checked;
  - SIGTERM (by PID) stops it with exit 0, nothing from the sanitizers, counters that show the replies
    and no send dropped, and no XDP program left on vx1;
  - then again with a tiny UMEM (8 frames: 4 to receive into), copy mode, the generic (skb) hook and
    in-place receives: `ping -c 3` gets its replies, a flood with 16 requests in flight (more than it
    has frames for: the kernel may drop some, counted) leaves it answering `ping -c 3` again, and
    SIGTERM stops it cleanly.

The namespace is deleted in a `finally`, whatever happened; every process is stopped by its PID.
"""
import argparse
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402

KERNEL_IP = '10.78.0.1'
SEA_IP = '10.78.0.2'
COUNTERS = re.compile(r'native_xdp: rx_frames=(\d+) .*tx_frames=(\d+) tx_bytes=\d+ tx_dropped=(\d+) .*'
                      r'echo_replies=(\d+)')


def run(argv, timeout=60):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def start(inns, program, check, extra):
    """native_xdp on vx1 in the namespace; None (after printing why) if it says AF_XDP is unavailable."""
    server = testproc.Server(inns + [program, '--blocked-reactor-notify-ms=0', '-c1', '--xdp', 'vx1',
                                     '--host-ipv4-addr', SEA_IP, '--netmask-ipv4-addr', '255.255.255.0'] + extra,
                             'native_xdp', check, r'^(?:serving xdp=\S+ .*mac=[0-9a-f:]+|SKIP: )', timeout=30)
    if server.stdout().startswith('SKIP:'):
        print(server.stdout(), flush=True)
        server.kill()
        return None
    print(server.stdout(), flush=True)
    return server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--program', required=True)
    args = ap.parse_args()

    ns = testproc.netns_or_skip('sea-xdp', 'a network namespace, a veth pair, an XDP program', tools=('ip', 'ping'))
    failures = []
    check = testproc.checker(failures)
    server = None
    try:
        inns = ['ip', 'netns', 'exec', ns]
        for cmd in (['ip', 'link', 'set', 'lo', 'up'], ['ip', 'link', 'add', 'vx0', 'type', 'veth', 'peer', 'name', 'vx1'],
                    ['ip', 'addr', 'add', f'{KERNEL_IP}/24', 'dev', 'vx0'], ['ip', 'link', 'set', 'vx0', 'up'],
                    ['ip', 'link', 'set', 'vx1', 'up']):
            r = run(inns + cmd)
            if not check(r.returncode == 0, f'{" ".join(cmd)}: {r.stderr.strip()}'):
                return 1
        mac = run(inns + ['cat', '/sys/class/net/vx1/address']).stdout.strip()

        def ping(what, *opts, count=5, timeout=60):
            r = run(inns + ['ping', '-c', str(count), '-W', '5'] + list(opts) + [SEA_IP], timeout=timeout)
            check(r.returncode == 0 and f' {count} received' in r.stdout, f'{what}: {r.stdout[-500:]} {r.stderr}')
            return r.stdout

        def xdp_on_vx1():
            return 'prog/xdp' in run(inns + ['ip', '-d', 'link', 'show', 'vx1']).stdout

        def stop(what, min_echoes):
            server.stop(timeout=60)
            m = COUNTERS.search(server.stdout())
            check(m is not None, f'{what}: no counters on stdout: {server.stdout()[-1000:]!r}')
            if m:
                print(m.group(0), flush=True)
                rx, tx, tx_dropped, echoes = map(int, m.groups())
                check(echoes >= min_echoes, f'{what}: echo_replies={echoes}, wanted {min_echoes} at least')
                check(tx >= echoes and rx >= echoes, f'{what}: rx_frames={rx} tx_frames={tx} echo_replies={echoes}')
                check(tx_dropped == 0, f'{what}: tx_dropped={tx_dropped}')
            check(not xdp_on_vx1(), f'{what}: an XDP program is still on vx1 after the stop')

        server = start(inns, args.program, check, [])
        if server is None:
            return 77
        check(xdp_on_vx1(), 'no XDP program on vx1 while native_xdp runs')
        ping('ping -c 5 -s 56', '-s', '56')
        r = run(inns + ['ip', 'neigh', 'show', SEA_IP, 'dev', 'vx0'])
        check(f'lladdr {mac}' in r.stdout, f'ip neigh: wanted {mac} for {SEA_IP}, got {r.stdout.strip()!r}')
        ping('ping -c 5 -s 1400', '-s', '1400')
        out = ping('ping -f -c 2000', '-f', count=2000, timeout=120)
        rate = re.search(r'(\d+) received.*time (\d+)ms', out)
        if rate and int(rate.group(2)) > 0:
            print(f'flood: {rate.group(1)} echoes in {rate.group(2)} ms, '
                  f'{int(rate.group(1)) * 1000 // int(rate.group(2))} round trips/s (one in flight)', flush=True)
        server.alive('the flood')
        stop('default options', 2010)
        server = None

        server = start(inns, args.program, check, ['--frames', '8', '--xdp-mode', 'copy', '--xdp-attach', 'skb',
                                                   '--recv', 'hold'])
        if server is None:
            check(False, 'the second run found AF_XDP unavailable')
            return 1
        check(' mode=copy attach=skb ' in server.stdout(), f'second run: {server.stdout()!r}')
        ping('tiny UMEM: ping -c 3', count=3)
        r = run(inns + ['ping', '-f', '-l', '16', '-c', '500', '-W', '2', SEA_IP], timeout=120)
        print(f'tiny UMEM, 16 in flight: {r.stdout.strip().splitlines()[-2:]}', flush=True)
        server.alive('a flood with more requests in flight than frames')
        ping('tiny UMEM, after the flood: ping -c 3', count=3)
        stop('tiny UMEM', 6)
        server = None
    finally:
        if server is not None:
            server.kill()
        run(['ip', 'netns', 'del', ns])
    return testproc.finish(failures)


if __name__ == '__main__':
    sys.exit(main() or 0)
