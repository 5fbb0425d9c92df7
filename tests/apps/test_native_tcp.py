#!/usr/bin/env python3
"""test_native_tcp.py - sea's native TCP (issue 19) against the kernel's, over a TAP device.

    test_native_tcp.py --program NATIVE_ECHO

As root only (else it says why and exits 77, which CTest counts as skipped): makes a network
namespace of its own (sea-tcp-PID) with the TAP device seatap0, up, as 10.78.0.1/24 (the kernel's
side), and runs tests/unit/native/native_echo.c in it as 10.78.0.2.  From the kernel's side:

  - an echo of a few bytes, then of 64 MiB streamed both ways at once, checked by SHA-256, with the
    TAP's offloads on (the default): the kernel's segments of up to 64 KiB arrive whole, with their
    checksums unfinished, and sea's large segments go out for the kernel to cut (both counted);
  - 200 connections open at once, each echoing its own message, then closed by the client;
  - a client that resets its connection (SO_LINGER 0) in the middle of a stream: the server's
    connection count goes back to zero (its counters at the end show the reset received);
  - `ping -s 3000` (with ping installed): fragments reassembled, and the reply sent in fragments;
  - ICMP errors from sea: a datagram to a closed UDP port makes the kernel's connected UDP socket
    fail with ECONNREFUSED (port unreachable), and a datagram of an unknown protocol (253, from a
    raw socket) is answered with a protocol unreachable;
  - sea as the client: native_echo --connect to an echo server of this script's in the namespace,
    8 MiB sent and read back whole; again with --native-no-offload (plain frames, every checksum
    computed and checked by sea);
  - path MTU discovery: sea connects through the kernel as a router (its gateway) to an echo server
    in a second namespace behind a veth pair of MTU 1280 (the server announcing an MSS of 1460, so
    the narrow link is mid-path); the router answers sea's 1500-byte
    segments (and its 64 KiB ones for the kernel to cut) with ICMP fragmentation needed, sea's
    segments shrink, and 4 MiB echo back whole (without it the transfer would stall);
  - the same stack with the device's fault injector on (1% loss, reordering, duplication and
    corruption each way, and 2 ms of delay on what it sends): an echo of 2 MiB still comes back whole.

Every server is stopped by its PID (SIGTERM: exit 0 and its counters); every wait is bounded; the
namespace is deleted in a `finally`, whatever happened.
"""
import argparse
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402

DEV = 'seatap0'
KERNEL_IP = '10.78.0.1'
SEA_IP = '10.78.0.2'
ROUTER_FAR_IP = '10.81.0.1'  # the kernel's end of the veth to the far namespace (MTU 1280)
FAR_IP = '10.81.0.2'


def sh(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)


def echo_stream(size, timeout):
    """Streams size bytes to sea's echo while reading them back; True if they came back whole."""
    s = socket.create_connection((SEA_IP, 7), timeout=timeout)
    chunk = bytes((i * 7 + 3) & 0xff for i in range(1 << 16))
    h_out, h_in = hashlib.sha256(), hashlib.sha256()
    got = [0]

    def reader():
        try:
            while True:
                b = s.recv(1 << 20)
                if not b:
                    return
                h_in.update(b)
                got[0] += len(b)
        except OSError as e:
            print(f'reader: {e}', flush=True)

    t = threading.Thread(target=reader)
    t.start()
    sent = 0
    try:
        while sent < size:
            part = chunk[:min(len(chunk), size - sent)]
            s.sendall(part)
            h_out.update(part)
            sent += len(part)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        print(f'writer: {e}', flush=True)
    t.join(timeout)
    s.close()
    ok = got[0] == size and h_in.digest() == h_out.digest()
    print(f'echo of {size} bytes: got {got[0]}, {"whole" if ok else "NOT whole"}', flush=True)
    return ok


def many(count):
    good = testproc.echo_each((SEA_IP, 7), count, timeout=20, prefix=b'message ')
    print(f'{count} connections at once: {good} echoed', flush=True)
    return good == count


def reset_midway():
    s = socket.create_connection((SEA_IP, 7), timeout=20)
    s.sendall(b'x' * 300000)
    s.recv(1000)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\1\0\0\0\0\0\0\0')
    s.close()  # an RST, with data in flight both ways


def in_namespace(ns, args):
    """Runs this script's child mode in the namespace; returns its output."""
    p = subprocess.run(['ip', 'netns', 'exec', ns, sys.executable, os.path.abspath(__file__)] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    print(p.stdout, end='', flush=True)
    return p.returncode, p.stdout


def child(mode):
    if mode == 'basic':
        s = socket.create_connection((SEA_IP, 7), timeout=20)
        s.sendall(b'hello, sea')
        data = s.recv(100)
        s.close()
        ok = data == b'hello, sea'
        print(f'small echo: {data!r}', flush=True)
        ok &= echo_stream(64 << 20, 120)
        ok &= many(200)
        reset_midway()
        return 0 if ok else 1
    if mode == 'faulty':
        return 0 if echo_stream(2 << 20, 240) else 1
    if mode == 'icmp':
        ok = True
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(5)
        u.connect((SEA_IP, 9))
        refused = False
        for _ in range(3):  # bounded: a lost datagram or answer is tried again
            try:
                u.send(b'anyone there?')
                u.recv(100)
            except ConnectionRefusedError:
                refused = True
                break
            except socket.timeout:
                continue
        print(f'UDP to a closed port: {"refused" if refused else "no answer"}', flush=True)
        ok &= refused
        icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        icmp.settimeout(5)
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)
        got = None
        for _ in range(3):
            raw.sendto(b'protocol 253', (SEA_IP, 0))
            try:
                while True:  # skip other ICMP (bounded by the timeout)
                    pkt, src = icmp.recvfrom(2000)
                    ihl = (pkt[0] & 15) * 4
                    if src[0] == SEA_IP and pkt[ihl] == 3:
                        got = (pkt[ihl], pkt[ihl + 1], pkt[ihl + 8 + 9])  # type, code, the quoted protocol
                        break
            except socket.timeout:
                continue
            break
        print(f'protocol 253: {got}', flush=True)
        ok &= got == (3, 2, 253)
        return 0 if ok else 1
    if mode in ('server', 'farserver'):
        # An echo server for sea's client: one connection, echoed until its end.
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((KERNEL_IP if mode == 'server' else FAR_IP, 7007))
        ls.listen(1)
        print('listening', flush=True)
        ls.settimeout(60)
        c, _ = ls.accept()
        c.settimeout(60)
        n = 0
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            c.sendall(b)
            n += len(b)
        c.close()
        print(f'server echoed {n}', flush=True)
        return 0
    return 2


def counters(out):
    m = re.search(r'native_echo: (.*)', out)
    return dict(kv.split('=') for kv in m.group(1).split()) if m else {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--program')
    ap.add_argument('--child')
    a = ap.parse_args()
    if a.child:
        return child(a.child)
    if os.geteuid() != 0:
        print('skipped: needs root (a network namespace and a TAP device)')
        return 77
    if not os.path.exists('/dev/net/tun'):
        print('skipped: no /dev/net/tun')
        return 77
    ns = f'sea-tcp-{os.getpid()}'
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
    try:
        sh('ip', 'netns', 'add', ns)
        sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
        sh('ip', '-n', ns, 'tuntap', 'add', 'dev', DEV, 'mode', 'tap')
        sh('ip', '-n', ns, 'addr', 'add', f'{KERNEL_IP}/24', 'dev', DEV)
        sh('ip', '-n', ns, 'link', 'set', DEV, 'up')
        base = ['ip', 'netns', 'exec', ns, a.program, '-c1', '--blocked-reactor-notify-ms=0', '--tap-device', DEV,
                '--host-ipv4-addr', SEA_IP]

        # 1. The kernel as the client.
        srv = testproc.Server(base, 'native_echo', check, r'serving tap=', timeout=60)
        pinged = False
        try:
            rc, _ = in_namespace(ns, ['--child', 'basic'])
            check(rc == 0, 'the kernel as client')
            rc, _ = in_namespace(ns, ['--child', 'icmp'])
            check(rc == 0, 'ICMP errors from sea')
            if shutil.which('ping'):
                # 3000 bytes of data: the request comes in fragments, and the reply goes out in fragments
                p = subprocess.run(['ip', 'netns', 'exec', ns, 'ping', '-c', '3', '-W', '5', '-s', '3000', SEA_IP],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
                check(' 3 received' in p.stdout, f'ping -s 3000: {p.stdout[-300:]}')
                pinged = True
        finally:
            srv.stop()
        c = counters(srv.stdout())
        print(f'server: {c}', flush=True)
        check(c, 'no counters from native_echo')
        if c and pinged:
            check(int(c.get('reassembled', 0)) >= 3 and int(c.get('fragmented', 0)) >= 3,
                  f'pings of 3000 bytes: reassembled {c.get("reassembled")}, fragmented {c.get("fragmented")}')
        if c and int(c.get('rst_received', 0)) < 1:
            failures.append('the client\'s reset was not seen')
        if c and int(c.get('accepted', 0)) < 202:
            failures.append(f'accepted {c.get("accepted")} connections, expected 202 or more')
        # 64 MiB each way cannot pass without the kernel's TSO segments and sea's own large ones.
        if c and not (int(c.get('rx_gso', 0)) > 0 and int(c.get('tx_gso', 0)) > 0):
            failures.append(f'the offloads were not used: rx_gso {c.get("rx_gso")}, tx_gso {c.get("tx_gso")}')

        # 2. sea as the client of the kernel, with the offloads and without.
        for extra in ([], ['--native-no-offload']):
            kserver = subprocess.Popen(['ip', 'netns', 'exec', ns, sys.executable, os.path.abspath(__file__),
                                        '--child', 'server'], stdout=subprocess.PIPE, text=True)
            try:
                line = kserver.stdout.readline()
                if 'listening' not in line:
                    failures.append('the kernel\'s echo server did not start')
                cl = subprocess.run(base + extra + ['--connect', f'{KERNEL_IP}:7007', '--bytes', '8M'],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
                print(cl.stdout, end='', flush=True)
                if cl.returncode != 0 or 'received=8388608 bad=0 err=0' not in cl.stdout:
                    failures.append(f'sea as the client {extra}: exit {cl.returncode}: {cl.stderr[-2000:]}')
                cc = counters(cl.stdout)
                if extra and cc and (int(cc.get('rx_gso', 0)) or int(cc.get('tx_gso', 0))):
                    failures.append(f'--native-no-offload, yet large frames: {cc}')
                kserver.wait(timeout=60)
            finally:
                if kserver.poll() is None:
                    kserver.kill()
                    kserver.wait()

        # 2b. Path MTU discovery through the kernel as a router to a far namespace behind MTU 1280.
        far = f'sea-far-{os.getpid()}'
        try:
            sh('ip', 'netns', 'add', far)
            sh('ip', '-n', far, 'link', 'set', 'lo', 'up')
            sh('ip', '-n', ns, 'link', 'add', 'vrtr', 'mtu', '1280', 'type', 'veth', 'peer', 'name', 'vfar', 'netns', far)
            sh('ip', '-n', far, 'link', 'set', 'dev', 'vfar', 'mtu', '1280')
            sh('ip', '-n', ns, 'addr', 'add', f'{ROUTER_FAR_IP}/24', 'dev', 'vrtr')
            sh('ip', '-n', far, 'addr', 'add', f'{FAR_IP}/24', 'dev', 'vfar')
            sh('ip', '-n', ns, 'link', 'set', 'dev', 'vrtr', 'up')
            sh('ip', '-n', far, 'link', 'set', 'dev', 'vfar', 'up')
            # The far server announces an MSS of 1460 (as a host on a 1500-byte LAN behind a narrower
            # link would), so the narrow link is in the middle of the path, where only ICMP reveals it.
            sh('ip', '-n', far, 'route', 'add', 'default', 'via', ROUTER_FAR_IP, 'advmss', '1460')
            sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
            kserver = subprocess.Popen(['ip', 'netns', 'exec', far, sys.executable, os.path.abspath(__file__),
                                        '--child', 'farserver'], stdout=subprocess.PIPE, text=True)
            try:
                line = kserver.stdout.readline()
                check('listening' in line, 'the far echo server did not start')
                cl = subprocess.run(base + ['--gw-ipv4-addr', KERNEL_IP, '--connect', f'{FAR_IP}:7007', '--bytes', '4M'],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
                print(cl.stdout, end='', flush=True)
                cc = counters(cl.stdout)
                check(cl.returncode == 0 and 'received=4194304 bad=0 err=0' in cl.stdout,
                      f'through MTU 1280: exit {cl.returncode}: {cl.stderr[-2000:]}')
                check(cc and int(cc.get('pmtu_lowered', 0)) >= 1, f'no path MTU learned: {cc}')
                kserver.wait(timeout=60)
            finally:
                if kserver.poll() is None:
                    kserver.kill()
                    kserver.wait()
        finally:
            subprocess.run(['ip', 'netns', 'del', far], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        # 3. Faults at the device.
        faulty = base + ['--native-fault-loss-ppm', '10000', '--native-fault-reorder-ppm', '10000', '--native-fault-dup-ppm', '10000',
                         '--native-fault-corrupt-ppm', '10000', '--native-fault-seed', '7',
                         '--native-fault-delay-us', '2000']
        srv = testproc.Server(faulty, 'native_echo with faults', check, r'serving tap=', timeout=60)
        try:
            rc, _ = in_namespace(ns, ['--child', 'faulty'])
            check(rc == 0, 'the echo through faults')
        finally:
            srv.stop()
        c = counters(srv.stdout())
        print(f'server with faults: {c}', flush=True)
        check(c and int(c.get('fault_lost', 0)) > 0 and int(c.get('fault_delayed', 0)) > 0,
              f'the faulty server\'s counters: {c}')
    finally:
        subprocess.run(['ip', 'netns', 'del', ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for f in failures:
        print(f'FAIL: {f}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
