#!/usr/bin/env python3
"""test_native_apps.py - sea's servers and client unchanged on the native stack (issue 19), with real clients.

    test_native_apps.py --httpd SEA_HTTPD --memcached SEA_MEMCACHED --echo ECHO_SERVER
                        --http-get HTTP_GET_HELPER --stream-echo STREAM_ECHO_SERVER --certs TLS_CERTS_SH
                        --steer VETH_STEER

As root only (else exit 77, which CTest counts as skipped): makes a network namespace of its own
(sea-apps-PID) with the TAP device seatap0, up, as 10.76.0.1/24 (the kernel's side).  Each program runs
in it with --network-stack=native --tap-device seatap0 --host-ipv4-addr 10.76.0.2, one at a time, and
is stopped by its PID with SIGTERM (exit 0, nothing from the sanitizers):

  - sea-httpd: curl gets / and a 4 MiB file (SHA-256 equal), the same file over HTTP/2 by prior
    knowledge, a 404, 20 files in parallel; and over HTTPS (a certificate from tls_certs.sh for
    "localhost", which curl is told lives at 10.76.0.2);
  - sea-memcached: libmemcached's memcstat, memccp and memccat, then pymemcache's 1000 sets and gets,
    then memcached's UDP protocol (-U): sets and gets in datagrams, one answer of 20 KB in 15 datagrams;
  - the tutorial's echo_server: 1 MiB echoed to a Python client, then 10,000 connections open at
    once, each echoing its own message, then closed (the server's connection count returns to 0);
  - the echo server over streams (stream_echo_server): 8 MiB echoed, with the bytes TCP kept in the
    received frames' own memory (sea_native_tcp_bytes_in_place_total, from the Prometheus endpoint)
    and those it sent from the buffers the streams gave it (..._bytes_sent_by_reference_total) above
    zero: the kernel's large segments reach the streams and go back out without a copy;
  - sea's HTTP client (http_get_helper, sea_connect underneath) fetches a 4 MiB file from a Python
    HTTP server on the kernel's side;
  - UDP on two shards (udp_echo_server: a port per shard), on the kernel's stack and on the native one,
    where shard 0 hands the other port's datagrams to shard 1 (counted as forwarded);
  - two shards on a multi-queue TAP device (seatap1, 10.72.0.0/24): 400 connections echoed and a 16 MiB
    stream, both shards serving (their sea_native_* metrics, read from the Prometheus endpoint on the
    namespace's loopback) and no frame forwarded between them (the steering program puts each flow on
    its shard's queue); then again with --native-no-steering, where the kernel picks the queues and
    the shards forward each other's frames (counted) and ARP's answers;
  - two shards over AF_XDP, a socket per queue of a veth end made with two queues each way (vxs in
    sea-xs-PID, 10.74.0.2; the kernel's end vxk in sea-xk-PID, 10.74.0.1, checksum offload off): the
    echo server echoes 200 connections of a Python client and a 4 MiB stream, both shards serving;
    with veth_steer on the kernel's end (the tc program that does what a NIC's RSS would) no frame is
    forwarded, without it the kernel's random queue choice makes the shards forward frames (counted);
    then sea's HTTP client on two shards (EACH: sea_connect from each) fetches a file 20 times per
    shard from a Python HTTP server on the kernel's side, bodies checked by hash; and a veth end with
    one queue is refused for two shards with how to make more (skipped, and said, where AF_XDP cannot
    be set up);
  - sea against sea: sea-httpd and sea's HTTP client both on the native stack, each on its end of a
    veth pair through AF_XDP (--xdp-device), in two namespaces of the test's own: a 4 MiB file and
    20 requests at once (skipped, and said, where AF_XDP cannot be set up);
  - and the refusals: --network-stack=native without --host-ipv4-addr, and --xdp-device naming no
    interface.

--part two-shards runs the two-shard parts alone (TAP and AF_XDP): the ctest native.apps.smp, which
also runs under ThreadSanitizer.

Every wait is bounded; the namespace is deleted in a `finally`.
"""
import argparse
import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402

DEV = 'seatap0'
KERNEL_IP = '10.76.0.1'
SEA_IP = '10.76.0.2'
PY = '/usr/bin/python3'
a_udp_host = None  # the udp2 child's server address (--udp-host)


def run(argv, timeout=120):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--httpd')
    ap.add_argument('--memcached')
    ap.add_argument('--echo')
    ap.add_argument('--http-get')
    ap.add_argument('--stream-echo')
    ap.add_argument('--udp-echo')
    ap.add_argument('--udp-host')
    ap.add_argument('--certs')
    ap.add_argument('--steer')
    ap.add_argument('--child')
    ap.add_argument('--part', default='all', choices=('all', 'two-shards'),
                    help='two-shards: only the two shards (the cross-shard part, also run under ThreadSanitizer)')
    a = ap.parse_args()
    if a.child:
        global a_udp_host
        a_udp_host = a.udp_host
        return child(a.child)

    failures = []
    check = testproc.checker(failures)
    native = ['--network-stack=native', '--tap-device', DEV, '--host-ipv4-addr', SEA_IP]

    # The refusals need no device.
    r = run([a.echo, '-c1', '--network-stack=native'])
    check(r.returncode != 0 and b'--host-ipv4-addr' in r.stderr,
          f'native without an address: exit {r.returncode}, {r.stderr[-300:]!r}')
    r = run([a.echo, '-c2', '--network-stack=native', '--xdp-device', 'nonesuch0', '--host-ipv4-addr', SEA_IP])
    check(r.returncode != 0 and b'nonesuch0' in r.stderr, f'AF_XDP on no interface: exit {r.returncode}, '
                                                          f'{r.stderr[-300:]!r}')

    if os.geteuid() != 0:
        print('SKIP: needs root (a network namespace and a TAP device)', flush=True)
        return 1 if failures else 77
    if not shutil.which('ip') or not os.path.exists('/dev/net/tun'):
        print('SKIP: needs the ip command (iproute2) and /dev/net/tun', flush=True)
        return 1 if failures else 77
    need = ('curl',) if a.part == 'two-shards' else ('curl', 'memcstat', 'memccp', 'memccat')
    missing = [t for t in need if not shutil.which(t)]
    if missing:
        print(f'SKIP: needs {", ".join(missing)} (make setup installs them)', flush=True)
        return 1 if failures else 77

    ns = f'sea-apps-{os.getpid()}'
    inns = ['ip', 'netns', 'exec', ns]
    tmp = tempfile.mkdtemp(prefix='sea-native-apps-')
    try:
        for cmd in (['ip', 'netns', 'add', ns], inns + ['ip', 'link', 'set', 'lo', 'up'],
                    inns + ['ip', 'tuntap', 'add', 'dev', DEV, 'mode', 'tap'],
                    inns + ['ip', 'addr', 'add', f'{KERNEL_IP}/24', 'dev', DEV], inns + ['ip', 'link', 'set', DEV, 'up']):
            r = run(cmd)
            if r.returncode != 0:
                print(f'SKIP: {" ".join(cmd)}: {r.stderr.decode().strip()}', flush=True)
                return 77
        if a.part == 'two-shards':
            two_shards(a, check, inns)
            xdp_two_shards(a, check, tmp)
            return testproc.finish(failures)
        www = os.path.join(tmp, 'www')
        os.mkdir(www)
        big = random.Random(19).randbytes(4 << 20)
        with open(os.path.join(www, 'big.bin'), 'wb') as f:
            f.write(big)
        with open(os.path.join(www, 'index.html'), 'w') as f:
            f.write('hello from the native stack\n')
        for i in range(20):
            with open(os.path.join(www, f'f{i}.txt'), 'w') as f:
                f.write(f'file {i}\n' * (i * 100 + 1))
        big_sha = hashlib.sha256(big).hexdigest()
        certs = os.path.join(tmp, 'certs')
        os.mkdir(certs)
        have_tls = run(['sh', a.certs, certs]).returncode == 0
        check(have_tls, 'tls_certs.sh failed')

        # 1. sea-httpd.
        argv = inns + [a.httpd, '-c1', '--blocked-reactor-notify-ms=0'] + native + \
            ['--address', '0.0.0.0', '--port', '80', '--root', www]
        if have_tls:
            argv += ['--tls-cert', os.path.join(certs, 'server.pem'), '--tls-key', os.path.join(certs, 'server.key'),
                     '--tls-port', '443']
        srv = testproc.Server(argv, 'sea-httpd', check, r'serving http://')
        try:
            curl = inns + ['curl', '-s', '-S', '-m', '60']
            r = run(curl + [f'http://{SEA_IP}/'])
            check(r.stdout == b'hello from the native stack\n', f'curl /: {r.stdout[:200]!r} {r.stderr[-300:]!r}')
            r = run(curl + [f'http://{SEA_IP}/big.bin'])
            check(hashlib.sha256(r.stdout).hexdigest() == big_sha, f'curl big.bin: {len(r.stdout)} bytes, {r.stderr!r}')
            r = run(curl + ['--http2-prior-knowledge', '-w', '%{http_version}', '-o', '/dev/null',
                            f'http://{SEA_IP}/big.bin'])
            check(r.stdout == b'2', f'curl HTTP/2: {r.stdout!r} {r.stderr[-300:]!r}')
            r = run(curl + ['-o', '/dev/null', '-w', '%{http_code}', f'http://{SEA_IP}/nothing-here'])
            check(r.stdout == b'404', f'curl a missing file: {r.stdout!r}')
            par = []
            for i in range(20):
                par += ['-o', os.path.join(tmp, f'got{i}'), f'http://{SEA_IP}/f{i}.txt']
            r = run(curl + ['-Z', '--parallel-max', '20'] + par)
            same = all(open(os.path.join(tmp, f'got{i}'), 'rb').read() == open(os.path.join(www, f'f{i}.txt'), 'rb').read()
                       for i in range(20) if os.path.exists(os.path.join(tmp, f'got{i}')))
            got = sum(os.path.exists(os.path.join(tmp, f'got{i}')) for i in range(20))
            check(r.returncode == 0 and got == 20 and same, f'20 files in parallel: {got} whole={same} {r.stderr[-300:]!r}')
            if have_tls:
                r = run(curl + ['--cacert', os.path.join(certs, 'ca.pem'), '--resolve', f'localhost:443:{SEA_IP}',
                                'https://localhost/big.bin'])
                check(hashlib.sha256(r.stdout).hexdigest() == big_sha,
                      f'curl over HTTPS: {len(r.stdout)} bytes, {r.stderr[-300:]!r}')
        finally:
            srv.stop()
        print('sea-httpd: done', flush=True)

        # 2. sea-memcached.
        srv = testproc.Server(inns + [a.memcached, '-c1', '--blocked-reactor-notify-ms=0'] + native +
                              ['-l', '0.0.0.0', '-p', '11211', '-U', '11211'], 'sea-memcached', check, r'listening on',
                              serving_on_stderr=True)
        try:
            servers = f'--servers={SEA_IP}:11211'
            r = run(inns + ['memcstat', servers])
            check(b'version: 1.6' in r.stdout, f'memcstat: {r.stdout[:300]!r} {r.stderr[-300:]!r}')
            src = os.path.join(tmp, 'mcfile')
            with open(src, 'wb') as f:
                f.write(big[:300000])
            r = run(inns + ['memccp', servers, src])
            check(r.returncode == 0, f'memccp: {r.stderr[-300:]!r}')
            r = run(inns + ['memccat', servers, 'mcfile'])
            check(r.stdout == big[:300000] + b'\n', f'memccat: {len(r.stdout)} bytes back, {r.stderr[-300:]!r}')
            # (memccat ends each value it prints with a newline)
            r = run(inns + [PY, os.path.abspath(__file__), '--child', 'pymemcache'])
            check(r.returncode == 0 and b'1000 ok' in r.stdout, f'pymemcache: {r.stdout[-300:]!r} {r.stderr[-500:]!r}')
            r = run(inns + [PY, os.path.abspath(__file__), '--child', 'udp'])
            check(r.returncode == 0 and b'udp ok' in r.stdout, f'memcached over UDP: {r.stdout[-300:]!r} '
                                                               f'{r.stderr[-500:]!r}')
        finally:
            srv.stop()
        print('sea-memcached: done', flush=True)

        # 3. The tutorial's echo server.
        srv = testproc.Server(inns + [a.echo, '-c1', '--blocked-reactor-notify-ms=0'] + native + ['0.0.0.0:1234'],
                              'echo_server', check, r'listening on', serving_on_stderr=True)
        try:
            r = run(inns + [PY, os.path.abspath(__file__), '--child', 'echo'])
            check(r.returncode == 0 and b'echo ok' in r.stdout, f'echo: {r.stdout[-300:]!r} {r.stderr[-500:]!r}')
            r = run(inns + [PY, os.path.abspath(__file__), '--child', 'many'], timeout=300)
            check(r.returncode == 0 and b'10000 echoed' in r.stdout, f'10,000 connections: {r.stdout[-300:]!r} '
                                                                      f'{r.stderr[-500:]!r}')
        finally:
            srv.stop()
        print('echo_server: done', flush=True)

        # 3b. The same over streams: TCP's buffers handed on without a copy.
        srv = testproc.Server(inns + [a.stream_echo, '-c1', '--blocked-reactor-notify-ms=0', '--prometheus-port', '9181']
                              + native + ['0.0.0.0:1234'], 'stream_echo_server', check, r'listening on',
                              serving_on_stderr=True)
        try:
            r = run(inns + [PY, os.path.abspath(__file__), '--child', 'stream'], timeout=300)
            check(r.returncode == 0 and b'stream ok' in r.stdout, f'stream echo: {r.stdout[-300:]!r} {r.stderr[-500:]!r}')
            r = run(inns + ['curl', '-s', '-m', '20', 'http://127.0.0.1:9181/metrics'])
            m = metric_sums(r.stdout.decode(errors='replace'))
            kept = sum(m.get('sea_native_tcp_bytes_in_place_total', {}).values())
            by_ref = sum(m.get('sea_native_tcp_bytes_sent_by_reference_total', {}).values())
            print(f'stream_echo_server: {kept:.0f} bytes kept in the frames they came in, {by_ref:.0f} sent from '
                  'the buffers given', flush=True)
            check(kept > 0, 'stream echo: no received byte stayed in its frame (zero-copy receive not used)')
            check(by_ref > 0, 'stream echo: no byte sent from the buffers given (zero-copy send not used)')
        finally:
            srv.stop()
        print('stream_echo_server: done', flush=True)

        # 4. sea's HTTP client (sea_connect) against a server of the kernel's side.
        web = subprocess.Popen(inns + [PY, '-m', 'http.server', '--bind', KERNEL_IP, '8000', '--directory', www],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            up = False
            for _ in range(100):  # bounded: 10 s for the server to listen
                if run(inns + ['curl', '-s', '-o', '/dev/null', f'http://{KERNEL_IP}:8000/index.html']).returncode == 0:
                    up = True
                    break
                time.sleep(0.1)
            check(up, 'python -m http.server did not start')
            out = os.path.join(tmp, 'fetched.bin')
            r = run(inns + [a.http_get, '-c1', '--blocked-reactor-notify-ms=0'] + native +
                    [f'{KERNEL_IP}:8000', f'GET /big.bin >{out}'])
            got = open(out, 'rb').read() if os.path.exists(out) else b''
            check(r.returncode == 0 and b'GET /big.bin 200' in r.stdout and hashlib.sha256(got).hexdigest() == big_sha,
                  f'http_get_helper: exit {r.returncode}, {r.stdout[-300:]!r} {r.stderr[-500:]!r}, {len(got)} bytes')
        finally:
            testproc.kill_wait(web)
        print('http client: done', flush=True)

        two_shards(a, check, inns)

        xdp_two_shards(a, check, tmp)

        sea_against_sea(a, check, www, big_sha, tmp)
    finally:
        subprocess.run(['ip', 'netns', 'del', ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    return testproc.finish(failures)


def metric_sums(text):
    """{name: {shard: value}} of the sea_native_* lines of a Prometheus text."""
    out = {}
    for m in re.finditer(r'^(sea_native_\w+)\{shard="(\d+)"\} (\S+)$', text, re.M):
        out.setdefault(m.group(1), {})[int(m.group(2))] = float(m.group(3))
    return out


def server_metrics(inns, port):
    """The server's sea_native_* metrics, from its Prometheus port on the namespace's loopback."""
    r = run(inns + ['curl', '-s', '-m', '20', f'http://127.0.0.1:{port}/metrics'])
    return metric_sums(r.stdout.decode(errors='replace'))


def both_shards_served(inns, port, what, check):
    """The server's metrics, checked for segments on both shards; returns them and the frames forwarded between
    the shards."""
    m = server_metrics(inns, port)
    segs = m.get('sea_native_tcp_segments_received_total', {})
    fwd = sum(m.get('sea_native_frames_forwarded_total', {}).values())
    print(f'{what}: segments by shard {segs}, forwarded {fwd}', flush=True)
    check(segs.get(0, 0) > 0 and segs.get(1, 0) > 0, f'{what}: not both shards served: {segs}')
    return m, fwd


def two_shards(a, check, inns):
    """The echo server on two shards, each with its queue of a multi-queue TAP device."""
    for cmd in (['ip', 'tuntap', 'add', 'dev', 'seatap1', 'mode', 'tap', 'multi_queue'],
                ['ip', 'addr', 'add', '10.72.0.1/24', 'dev', 'seatap1'], ['ip', 'link', 'set', 'seatap1', 'up']):
        r = run(inns + cmd)
        if not check(r.returncode == 0, f'{" ".join(cmd)}: {r.stderr.decode().strip()}'):
            return
    for steering in (True, False):
        argv = inns + [a.echo, '-c2', '--blocked-reactor-notify-ms=0', '--network-stack=native', '--tap-device',
                       'seatap1', '--host-ipv4-addr', '10.72.0.2', '--prometheus-port', '9180', '0.0.0.0:1234']
        if not steering:
            argv.insert(-1, '--native-no-steering')
        what = 'two shards' + ('' if steering else ', no steering')
        srv = testproc.Server(argv, 'echo_server ' + what, check, r'listening on', serving_on_stderr=True)
        try:
            r = run(inns + [PY, os.path.abspath(__file__), '--child', 'two'], timeout=300)
            check(r.returncode == 0 and b'two ok' in r.stdout, f'{what}: {r.stdout[-300:]!r} {r.stderr[-500:]!r}')
            m, fwd = both_shards_served(inns, 9180, what, check)
            if steering:
                check(fwd == 0, f'{what}: {fwd} frames forwarded despite the steering program')
            else:
                check(fwd > 0, f'{what}: nothing forwarded without steering (the forwarding was not exercised)')
        finally:
            srv.stop()
    # UDP on both shards: udp_echo_server binds port 1235 on shard 0 and 1236 on shard 1; the device brings
    # every datagram to shard 0, which hands port 1236's to shard 1.  The same program on the kernel's stack first.
    if a.udp_echo:
        for native in (False, True):
            where = '10.72.0.2' if native else '127.0.0.1'
            argv = inns + [a.udp_echo, '-c2', '--blocked-reactor-notify-ms=0']
            if native:
                argv += ['--network-stack=native', '--tap-device', 'seatap1', '--host-ipv4-addr', '10.72.0.2',
                         '--prometheus-port', '9180']
            what = 'UDP on two shards' + (' (native)' if native else ' (kernel)')
            srv = testproc.Server(argv + [f'{where}:1235'], 'udp_echo_server ' + what, check, r'listening on',
                                  serving_on_stderr=True)
            try:
                r = run(inns + [PY, os.path.abspath(__file__), '--child', 'udp2', '--udp-host', where], timeout=120)
                check(r.returncode == 0 and b'udp2 ok' in r.stdout, f'{what}: {r.stdout[-300:]!r} {r.stderr[-500:]!r}')
                if native:
                    fwd = sum(server_metrics(inns, 9180).get('sea_native_frames_forwarded_total', {}).values())
                    print(f'{what}: {fwd:.0f} frames forwarded', flush=True)
                    check(fwd > 0, f'{what}: nothing forwarded to shard 1 (its port\'s datagrams)')
            finally:
                srv.stop()
    print('two shards: done', flush=True)


def fnv1a64(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xffffffffffffffff
    return h


def xdp_two_shards(a, check, tmp):
    """Two shards over AF_XDP, a socket per queue of a two-queue veth end, with and without veth_steer."""
    nk, ns = f'sea-xk-{os.getpid()}', f'sea-xs-{os.getpid()}'
    ink, ins = ['ip', 'netns', 'exec', nk], ['ip', 'netns', 'exec', ns]
    if not shutil.which('ethtool'):
        print('two shards over AF_XDP: SKIPPED (needs ethtool, to turn the veth peer\'s checksum offload off)',
              flush=True)
        return
    try:
        two = ['numrxqueues', '2', 'numtxqueues', '2']
        for cmd in (['ip', 'netns', 'add', nk], ['ip', 'netns', 'add', ns], ins + ['ip', 'link', 'set', 'lo', 'up'],
                    ink + ['ip', 'link', 'set', 'lo', 'up'],
                    ['ip', 'link', 'add', 'vxk', 'netns', nk] + two + ['type', 'veth', 'peer', 'name', 'vxs', 'netns',
                                                                        ns] + two,
                    ['ip', 'link', 'add', 'vyk', 'netns', nk, 'type', 'veth', 'peer', 'name', 'vys', 'netns', ns],
                    ['ip', '-n', nk, 'addr', 'add', '10.74.0.1/24', 'dev', 'vxk'],
                    ['ip', '-n', nk, 'link', 'set', 'vxk', 'up'], ['ip', '-n', ns, 'link', 'set', 'vxs', 'up'],
                    ['ip', '-n', ns, 'link', 'set', 'vys', 'up'], ink + ['ethtool', '-K', 'vxk', 'tx', 'off']):
            r = run(cmd)
            if r.returncode != 0:
                print(f'two shards over AF_XDP: SKIPPED ({" ".join(cmd)}: {r.stderr.decode().strip()})', flush=True)
                return
        # A veth end with one queue: refused for two shards, saying how to make more.
        r = run(ins + [a.echo, '-c2', '--network-stack=native', '--xdp-device', 'vys', '--host-ipv4-addr',
                       '10.74.1.2', '0.0.0.0:1234'])
        check(r.returncode != 0 and b'numrxqueues' in r.stderr and b'ethtool -L' in r.stderr,
              f'AF_XDP on two shards, one queue: exit {r.returncode}, {r.stderr[-400:]!r}')
        for steering in (True, False):
            what = 'two shards over AF_XDP' + (', veth_steer' if steering else ', no steering')
            steer = None
            if steering:
                steer = subprocess.Popen(ink + [a.steer, 'vxk', '2'], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                line = testproc.read_until(steer.stdout, lambda b: b'\n' in b, time.monotonic() + 30)
                if not check(b'steering vxk 2 queues' in line, f'veth_steer: {line!r}'):
                    code = testproc.terminate(steer, 30)
                    print(f'veth_steer exit {code}: {steer.stderr.read().decode(errors="replace")[-500:]}', flush=True)
                    return
            try:
                argv = ins + [a.echo, '-c2', '--blocked-reactor-notify-ms=0', '--network-stack=native',
                              '--xdp-device', 'vxs', '--host-ipv4-addr', '10.74.0.2', '--prometheus-port', '9181',
                              '0.0.0.0:1234']
                srv = testproc.Server(argv, 'echo_server ' + what, check, r'listening on', serving_on_stderr=True)
                try:
                    r = run(ink + [PY, os.path.abspath(__file__), '--child', 'xdp2'], timeout=300)
                    check(r.returncode == 0 and b'xdp2 ok' in r.stdout, f'{what}: {r.stdout[-300:]!r} '
                                                                        f'{r.stderr[-500:]!r}')
                    m, fwd = both_shards_served(ins, 9181, what, check)
                    kept = sum(m.get('sea_native_tcp_bytes_in_place_total', {}).values())
                    print(f'{what}: {kept:.0f} bytes kept in their UMEM frames', flush=True)
                    if steering:
                        check(fwd == 0, f'{what}: {fwd} frames forwarded despite veth_steer')
                        # (with steering every frame reaches its shard in its UMEM frame: large ones stay there)
                        check(kept > 0, f'{what}: no received byte stayed in its UMEM frame')
                    else:
                        check(fwd > 0, f'{what}: nothing forwarded without steering (the forwarding was not '
                                       f'exercised)')
                finally:
                    srv.stop()
                if steering and a.http_get:
                    xdp_two_shards_client(a, check, ink, ins, tmp)
            finally:
                if steer is not None:
                    code = testproc.terminate(steer, 30)
                    check(code == 0, f'veth_steer: exit {code}: {steer.stderr.read().decode(errors="replace")[-500:]}')
        print('two shards over AF_XDP: done', flush=True)
    finally:
        for n in (nk, ns):
            subprocess.run(['ip', 'netns', 'del', n], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def xdp_two_shards_client(a, check, ink, ins, tmp):
    """sea's HTTP client on two shards over AF_XDP (veth_steer on): each shard connects and fetches."""
    www = os.path.join(tmp, 'xdp-www')
    os.makedirs(www, exist_ok=True)
    body = random.Random(74).randbytes(200000)
    with open(os.path.join(www, 'f.bin'), 'wb') as f:
        f.write(body)
    web = subprocess.Popen(ink + [PY, '-m', 'http.server', '--bind', '10.74.0.1', '8000', '--directory', www],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        up = False
        for _ in range(100):  # bounded: 10 s for the server to listen
            if run(ink + ['curl', '-s', '-m', '5', '-o', '/dev/null', 'http://10.74.0.1:8000/f.bin']).returncode == 0:
                up = True
                break
            time.sleep(0.1)
        if not check(up, 'python -m http.server (AF_XDP, two shards) did not start'):
            return
        r = run(ins + [a.http_get, '-c2', '--blocked-reactor-notify-ms=0', '--network-stack=native', '--xdp-device',
                       'vxs', '--host-ipv4-addr', '10.74.0.2', '10.74.0.1:8000', 'EACH 20 /f.bin'], timeout=180)
        want = f'fnv={fnv1a64(body):016x}'.encode()
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith(b'EACH ')]
        good = sorted(ln.split(b' ')[2] for ln in lines if b' ok=20 of 20 ' in ln and ln.endswith(want))
        print(f'sea\'s HTTP client on two shards over AF_XDP: {[ln.decode() for ln in lines]}', flush=True)
        check(r.returncode == 0 and good == [b'shard=0', b'shard=1'],
              f'HTTP client on two shards over AF_XDP: exit {r.returncode}, {r.stdout[-600:]!r} {r.stderr[-500:]!r}')
    finally:
        testproc.kill_wait(web)


def sea_against_sea(a, check, www, big_sha, tmp):
    """sea-httpd and sea's HTTP client, both native, on the two ends of a veth pair through AF_XDP."""
    na, nb = f'sea-s1-{os.getpid()}', f'sea-s2-{os.getpid()}'
    try:
        for cmd in (['ip', 'netns', 'add', na], ['ip', 'netns', 'add', nb],
                    ['ip', 'link', 'add', 'vsa', 'netns', na, 'type', 'veth', 'peer', 'name', 'vsb', 'netns', nb],
                    ['ip', '-n', na, 'link', 'set', 'vsa', 'up'], ['ip', '-n', nb, 'link', 'set', 'vsb', 'up']):
            r = run(cmd)
            if r.returncode != 0:
                print(f'sea against sea: SKIPPED ({" ".join(cmd)}: {r.stderr.decode().strip()})', flush=True)
                return
        srv = subprocess.Popen(['ip', 'netns', 'exec', na, a.httpd, '-c1', '--blocked-reactor-notify-ms=0',
                                '--network-stack=native', '--xdp-device', 'vsa', '--host-ipv4-addr', '10.73.0.2',
                                '--address', '0.0.0.0', '--port', '80', '--root', www],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = srv.stdout.readline()  # "serving ..." once up; nothing if it could not start
        if b'serving' not in line:
            code = testproc.terminate(srv, 30)
            err = srv.stderr.read().decode(errors='replace')
            if 'AF_XDP' in err:  # this kernel or machine cannot: said, not failed
                print(f'sea against sea: SKIPPED ({err.strip()[-300:]})', flush=True)
            else:
                check(False, f'sea-httpd (sea against sea) did not start: exit {code}: {err[-1000:]}')
            return
        try:
            out = os.path.join(tmp, 'sea-sea.bin')
            r = run(['ip', 'netns', 'exec', nb, a.http_get, '-c1', '--blocked-reactor-notify-ms=0',
                     '--network-stack=native', '--xdp-device', 'vsb', '--host-ipv4-addr', '10.73.0.1',
                     '10.73.0.2:80', f'GET /big.bin >{out}', 'PAR 20 /f7.txt'])
            got = open(out, 'rb').read() if os.path.exists(out) else b''
            par = r.stdout.count(b'GET /f7.txt 200')
            check(r.returncode == 0 and hashlib.sha256(got).hexdigest() == big_sha and par == 20,
                  f'sea against sea: exit {r.returncode}, {len(got)} bytes, {par} of 20 at once; '
                  f'{r.stdout[-300:]!r} {r.stderr[-500:]!r}')
        finally:
            code = testproc.terminate(srv, 30)
            err = srv.stderr.read().decode(errors='replace')
            check(code == 0, f'sea-httpd (sea against sea): exit {code}: {err[-1000:]}')
            check(not re.search(testproc.SANITIZERS, err), f'sea-httpd (sea against sea): {err[-2000:]}')
        print('sea against sea: done', flush=True)
    finally:
        for n in (na, nb):
            subprocess.run(['ip', 'netns', 'del', n], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def child(mode):
    if mode == 'pymemcache':
        from pymemcache.client.base import Client
        c = Client((SEA_IP, 11211), timeout=20)
        for i in range(1000):
            c.set(f'k{i}', b'v' * (i * 37 % 5000))
        good = sum(c.get(f'k{i}') == b'v' * (i * 37 % 5000) for i in range(1000))
        print(f'{good} ok' if good == 1000 else f'only {good} of 1000', flush=True)
        return 0 if good == 1000 else 1
    if mode == 'echo':
        s = socket.create_connection((SEA_IP, 1234), timeout=20)
        data = random.Random(7).randbytes(1 << 20)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            got += b
        ok = bytes(got) == data
        print('echo ok' if ok else f'echo: {len(got)} bytes back, differ', flush=True)
        return 0 if ok else 1
    if mode == 'udp':
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(5)

        def ask(rid, text):
            # memcached's 8-byte frame header: request id, sequence 0, 1 datagram, reserved
            u.sendto(rid.to_bytes(2, 'big') + b'\0\0\0\1\0\0' + text, (SEA_IP, 11211))
            parts, total = {}, None
            while total is None or len(parts) < total:
                d, _ = u.recvfrom(65536)
                if int.from_bytes(d[0:2], 'big') != rid:
                    continue
                total = int.from_bytes(d[4:6], 'big')
                parts[int.from_bytes(d[2:4], 'big')] = d[8:]
            return b''.join(parts[i] for i in range(total)), total
        ok = True
        for attempt in range(3):  # UDP: a lost datagram is asked again (bounded)
            try:
                got, _ = ask(1, b'set u1 0 0 5\r\nhello\r\n')
                ok = got == b'STORED\r\n'
                got, _ = ask(2, b'get u1\r\n')
                ok = ok and got == b'VALUE u1 0 5\r\nhello\r\nEND\r\n'
                big = b'z' * 20000
                got, _ = ask(3, b'set ubig 0 0 20000\r\n' + big + b'\r\n')
                ok = ok and got == b'STORED\r\n'
                got, n = ask(4, b'get ubig\r\n')
                ok = ok and got == b'VALUE ubig 0 20000\r\n' + big + b'\r\nEND\r\n' and n > 10
                break
            except socket.timeout:
                ok = False
        print('udp ok' if ok else 'udp: wrong answers', flush=True)
        return 0 if ok else 1
    if mode in ('two', 'stream', 'xdp2'):
        # (address, connections echoed first, stream size, its seed)
        addr, conns, size, seed = {'two': ('10.72.0.2', 400, 16 << 20, 3), 'stream': (SEA_IP, 0, 8 << 20, 3),
                                   'xdp2': ('10.74.0.2', 200, 4 << 20, 5)}[mode]
        good = testproc.echo_each((addr, 1234), conns, timeout=30) if conns else 0
        data = random.Random(seed).randbytes(size)
        s = socket.create_connection((addr, 1234), timeout=30)
        got = bytearray()
        import threading

        def reader():
            while len(got) < len(data):
                b = s.recv(1 << 20)
                if not b:
                    break
                got.extend(b)
        t = threading.Thread(target=reader)
        t.start()
        s.sendall(data)
        t.join(120)
        s.close()
        ok = good == conns and bytes(got) == data
        print(f'{mode} ok' if ok else f'{good} of {conns} echoed, stream {"whole" if bytes(got) == data else "NOT whole"}',
              flush=True)
        return 0 if ok else 1
    if mode == 'udp2':
        # 50 datagrams to each shard's port, each answered (a lost one is asked again: bounded)
        ok = 0
        for port in (1235, 1236):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(2)
            for i in range(50):
                msg = f'datagram {i} to {port}'.encode()
                for _ in range(3):
                    u.sendto(msg, (a_udp_host, port))
                    try:
                        got, src = u.recvfrom(100)
                    except socket.timeout:
                        continue
                    if got == msg and src == (a_udp_host, port):
                        ok += 1
                    break
        print('udp2 ok' if ok == 100 else f'udp2: {ok} of 100 echoed', flush=True)
        return 0 if ok == 100 else 1
    if mode == 'many':
        good = testproc.echo_each((SEA_IP, 1234), 10000)
        print(f'{good} echoed', flush=True)
        return 0 if good == 10000 else 1
    return 2


if __name__ == '__main__':
    sys.exit(main())
