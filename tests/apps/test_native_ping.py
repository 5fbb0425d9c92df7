#!/usr/bin/env python3
"""test_native_ping.py - the kernel pings sea's native stack (issue 19) over a TAP device.

    test_native_ping.py --program NATIVE_PING

As root only (else it says why and exits 77, which CTest counts as skipped): makes a network
namespace of its own (sea-test-PID), and in it the TAP device seatap0, up, with 10.77.0.1/24 (the
kernel's side); runs tests/unit/native/native_ping.c in the namespace on seatap0 as 10.77.0.2, waits (30 s at
most) for its "serving" line, then from the kernel's side of the namespace:

  - 5 echo requests of 56 bytes get 5 replies with the same identifier, sequence and data (sent from
    a raw ICMP socket by this script run again in the namespace, as `ping` is not always installed;
    with `ping` installed, `ping -c 5 -W 5` must also get its 5 replies); each reply waited for 5 s
    at most;
  - the kernel's neighbour table has native_ping's MAC for 10.77.0.2 (learned from its ARP reply);
  - 3 echo requests of 1400 bytes get their replies;
  - 3000 garbage frames written into the TAP from the kernel's side (an AF_PACKET socket on
    seatap0; seeded, so the same every run: random bytes, random bytes behind sea's MAC with the
    IPv4 or ARP EtherType, and mutated echo requests and ARP requests) do not stop it: 5 more echoes
    get their replies, and each garbage frame was read by it or dropped (and counted) by the TAP's
    bounded queue, as happens when it runs slowly (ASan, a busy machine);
  - SIGTERM (by PID) stops it with exit 0, nothing from the sanitizers, and its counters show the
    replies and the dropped garbage.

The namespace is deleted in a `finally`, whatever happened; every process is stopped by its PID.
"""
import argparse
import json
import os
import random
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402

DEV = 'seatap0'
KERNEL_IP = '10.77.0.1'
SEA_IP = '10.77.0.2'


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack(f'!{len(b) // 2}H', b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def echo_request(ident, seq, data):
    h = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
    return struct.pack('!BBHHH', 8, 0, csum(h + data), ident, seq) + data


def pinger(target, count, size):
    """In the namespace: count echo requests of size bytes of data; prints 'replies N'."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xffff
    got = 0
    for seq in range(1, count + 1):
        data = bytes((seq + i) & 0xff for i in range(size))
        s.sendto(echo_request(ident, seq, data), (target, 0))
        limit = time.monotonic() + 5
        while True:
            left = limit - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                print(f'seq {seq}: no reply within 5 s', flush=True)
                break
            pkt, addr = s.recvfrom(65536)
            ihl = (pkt[0] & 0x0f) * 4
            icmp = pkt[ihl:]
            if addr[0] != target or len(icmp) < 8 or icmp[0] != 0:
                continue  # not ours (the raw socket sees every ICMP message)
            t, code, _, rid, rseq = struct.unpack('!BBHHH', icmp[:8])
            if rid != ident or rseq != seq:
                continue
            if code == 0 and icmp[8:] == data and csum(icmp) == 0:
                got += 1
            else:
                print(f'seq {seq}: a bad reply: {icmp[:16].hex()}', flush=True)
            break
    print(f'replies {got}', flush=True)


def garbage(dev, count, mac):
    """In the namespace: count seeded garbage frames into dev, towards sea (mac)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    ours = bytes.fromhex(mac.replace(':', ''))
    src = s.getsockname()[4][:6]
    rng = random.Random(19)
    ip = socket.inet_aton
    arp = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + src + ip(KERNEL_IP) + b'\0' * 6 + ip(SEA_IP)
    icmp = echo_request(7, 7, bytes(range(56)))
    iph = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 1, 0x4000, 64, 1, 0, ip(KERNEL_IP), ip(SEA_IP))
    iph = iph[:10] + struct.pack('!H', csum(iph)) + iph[12:]
    seeds = [ours + src + b'\x08\x06' + arp, ours + src + b'\x08\x00' + iph + icmp]
    sent = 0
    for i in range(count):
        kind = i % 3
        if kind == 0:
            f = bytes(rng.getrandbits(8) for _ in range(rng.randrange(14, 200)))
        elif kind == 1:
            f = ours + src + rng.choice([b'\x08\x00', b'\x08\x06']) + \
                bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 120)))
        else:
            f = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 4)):
                f[rng.randrange(12, len(f))] = rng.getrandbits(8)
            f = bytes(f[:rng.randrange(14, len(f) + 1)])
        try:
            s.send(f)
            sent += 1
        except OSError:
            pass  # a frame the kernel refuses to send (too short for it): not sea's business
    print(f'sent {sent}', flush=True)


def run(argv, timeout=60):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--program')
    ap.add_argument('--pinger', nargs=3, metavar=('TARGET', 'COUNT', 'SIZE'))
    ap.add_argument('--garbage', nargs=3, metavar=('DEV', 'COUNT', 'MAC'))
    args = ap.parse_args()
    if args.pinger:
        return pinger(args.pinger[0], int(args.pinger[1]), int(args.pinger[2]))
    if args.garbage:
        return garbage(args.garbage[0], int(args.garbage[1]), args.garbage[2])

    ns = testproc.netns_or_skip('sea-test', 'a network namespace and a TAP device', tools=('ip',),
                                paths=('/dev/net/tun',))
    failures = []
    check = testproc.checker(failures)
    server = None
    try:
        inns = ['ip', 'netns', 'exec', ns]
        me = [sys.executable, os.path.abspath(__file__)]
        for cmd in (['ip', 'link', 'set', 'lo', 'up'], ['ip', 'tuntap', 'add', 'dev', DEV, 'mode', 'tap'],
                    ['ip', 'link', 'set', DEV, 'up'], ['ip', 'addr', 'add', f'{KERNEL_IP}/24', 'dev', DEV]):
            r = run(inns + cmd)
            if not check(r.returncode == 0, f'{" ".join(cmd)}: {r.stderr.strip()}'):
                return 1
        server = testproc.Server(inns + [args.program, '--blocked-reactor-notify-ms=0', '-c1', '--tap-device', DEV,
                                         '--host-ipv4-addr', SEA_IP, '--netmask-ipv4-addr', '255.255.255.0'],
                                 'native_ping', check, r'^serving tap=\S+ mac=[0-9a-f:]+$', timeout=30)
        mac = re.search(r'mac=([0-9a-f:]+)', server.stdout()).group(1)

        def pings(count, size, what):
            r = run(inns + me + ['--pinger', SEA_IP, str(count), str(size)], timeout=count * 5 + 30)
            check(f'replies {count}' in r.stdout, f'{what}: {r.stdout.strip()} {r.stderr.strip()}')

        pings(5, 56, '5 echo requests of 56 bytes')
        r = run(inns + ['ip', 'neigh', 'show', SEA_IP, 'dev', DEV])
        check(f'lladdr {mac}' in r.stdout, f'ip neigh: wanted {mac} for {SEA_IP}, got {r.stdout.strip()!r}')
        if shutil.which('ping'):
            r = run(inns + ['ping', '-c', '5', '-W', '5', SEA_IP], timeout=60)
            check(r.returncode == 0 and ' 5 received' in r.stdout, f'ping -c 5: {r.stdout[-500:]} {r.stderr}')
            r = run(inns + ['ping', '-c', '3', '-W', '5', '-s', '1400', SEA_IP], timeout=60)
            check(r.returncode == 0 and ' 3 received' in r.stdout, f'ping -s 1400: {r.stdout[-500:]} {r.stderr}')
        else:
            print('(ping is not installed: the raw-socket pinger alone)', flush=True)
        pings(3, 1400, '3 echo requests of 1400 bytes')
        r = run(inns + me + ['--garbage', DEV, '3000', mac], timeout=120)
        check(r.returncode == 0 and 'sent ' in r.stdout, f'garbage: {r.stdout.strip()} {r.stderr.strip()}')
        server.alive('3000 garbage frames')
        sent = int(re.search(r'sent (\d+)', r.stdout).group(1)) if 'sent ' in r.stdout else 0
        pings(5, 56, '5 echo requests after the garbage')
        # The TAP's queue to sea is bounded: what sea did not read in time the kernel dropped and counted.
        r = run(inns + ['ip', '-s', '-j', 'link', 'show', 'dev', DEV])
        try:
            tap_dropped = json.loads(r.stdout)[0]['stats64']['tx']['dropped']
        except (ValueError, LookupError, TypeError):
            tap_dropped = None
        check(tap_dropped is not None, f'ip -s -j link show: cannot read the drop counter: {r.stdout[:500]!r}')

        server.stop(timeout=60)
        m = re.search(r'native_ping: rx_frames=(\d+) .*echo_replies=(\d+) drop_malformed=(\d+) '
                      r'drop_not_ours=(\d+) drop_unsupported=(\d+)', server.stdout())
        check(m is not None, f'no counters on stdout: {server.stdout()[-1000:]!r}')
        if m:
            print(m.group(0), flush=True)
            rx, echoes, malformed, not_ours, unsupported = map(int, m.groups())
            check(echoes >= 13, f'echo_replies={echoes}, wanted 13 at least')
            check(malformed > 100, f'drop_malformed={malformed}: the garbage was not seen as such')
            # Every garbage frame sent was read by sea or dropped by the kernel's queue (how many of each
            # depends on how fast sea ran: under ASan on a busy machine, more are dropped).
            check(tap_dropped is None or rx + tap_dropped >= sent,
                  f'rx_frames={rx} + dropped by the TAP queue {tap_dropped} < {sent} garbage frames sent')
    finally:
        if server is not None:
            server.kill()
        run(['ip', 'netns', 'del', ns])
    return testproc.finish(failures)


if __name__ == '__main__':
    sys.exit(main() or 0)
