#!/usr/bin/env python3
"""test_tls_many.py - many idle TLS connections at once, and the server's memory for each.

    test_tls_many.py --echo TLS_ECHO --many TLS_MANY --certs TLS_CERTS_SH --openssl OPENSSL --count N
                     [sea options for the server...]

Makes the certificates (tests/support/tls_certs.sh), starts tests/programs/tls_echo (the server, port 0,
with the sea options given) and tests/programs/tls_many (the client, one shard, another process: each
process stays under the machine's 20,000 descriptors), which opens N TLS connections, echoes a byte
through each, and holds them.  Then it reads the server's resident memory, tells the client to echo
through every connection again and close each with close_notify, and checks that all N were served both
times, that the server logged N handshakes and no failure, and that it stops cleanly on SIGTERM.

Prints `tls_many.connections: N` and `tls_many.server_rss_per_conn_bytes: X` (the server's resident
memory with the connections open, less before, over N).  The memory is reported, and checked only
against a generous bound (256 KiB a connection) that catches a leak or a buffer per connection gone
wrong, not a few bytes (and not at all with --sanitized: a sanitizer's shadow memory swamps it);
nothing here depends on timing.  Every process is stopped by its PID.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402


def rss_bytes(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    return 0


def read_line(p, limit, what):
    buf = testproc.read_until(p.stdout, lambda got: b'\n' in got, limit)
    if b'\n' not in buf:
        raise SystemExit(f'FAIL: {what}: no line (got {buf!r})')
    return buf.decode().strip()


def heap_used(server):
    """Asks tls_echo (SIGUSR1) for the bytes its shards' live allocations hold; None if it does not say."""
    mark = server.mark()
    server.p.send_signal(signal.SIGUSR1)
    got = server.wait(r'^tls: heap used (\d+)', mark, timeout=30)
    return int(re.match(r'tls: heap used (\d+)', got[0]).group(1)) if got else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--echo', required=True)
    ap.add_argument('--many', required=True)
    ap.add_argument('--certs', required=True)
    ap.add_argument('--openssl', default='openssl')
    ap.add_argument('--count', type=int, default=10000)
    ap.add_argument('--sanitized', action='store_true', help='a sanitizer build: memory is reported, not checked')
    args, sea = ap.parse_known_args()
    openssl = shutil.which(args.openssl)
    if not openssl:
        raise SystemExit(f'FAIL: no {args.openssl} (Debian: apt-get install openssl)')
    tmp = tempfile.mkdtemp(prefix='sea-tls-many-')
    server = client = None
    failures = []
    check = testproc.checker(failures, None)  # (printed at the end)
    try:
        p = subprocess.run(['/bin/sh', args.certs, tmp, openssl], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        if p.returncode != 0:
            raise SystemExit(f'FAIL: making the certificates: {p.stdout.decode(errors="replace")}')
        # The server logs a line per connection: collected by testproc.Server's thread, counted at the end.
        server = testproc.Server([args.echo, '--blocked-reactor-notify-ms=0', '--cert', f'{tmp}/server.pem',
                                  '--key', f'{tmp}/server.key'] + sea, 'tls_echo', check,
                                 r'^serving 127\.0\.0\.1:(\d+)$')
        addr = f'127.0.0.1:{server.port}'
        before = rss_bytes(server.p.pid)
        heap_before = heap_used(server)
        client = subprocess.Popen([args.many, '--blocked-reactor-notify-ms=0', '-c1', '--connect', addr,
                                   '--count', str(args.count), '--ca', f'{tmp}/ca.pem'],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = read_line(client, time.monotonic() + 600, 'tls_many connecting')
        if line != f'connected {args.count} failed 0':
            failures.append(f'opening: {line}')
        during = rss_bytes(server.p.pid)
        heap_during = heap_used(server)
        per_conn = (during - before) / args.count
        print(f'tls_many.connections: {args.count}')
        print(f'tls_many.server_rss_per_conn_bytes: {per_conn:.0f}')
        print(f'tls_many.server_rss_before_bytes: {before}')
        if heap_before is not None and heap_during is not None:
            print(f'tls_many.server_heap_per_conn_bytes: {(heap_during - heap_before) / args.count:.0f}')
        if per_conn > 256 * 1024 and not args.sanitized:
            failures.append(f'{per_conn:.0f} bytes of server memory per idle connection')
        client.send_signal(signal.SIGUSR1)
        line = read_line(client, time.monotonic() + 600, 'tls_many closing')
        if line != f'closed {args.count} failed 0':
            failures.append(f'closing: {line}')
        code = client.wait(timeout=120)
        err = client.stderr.read().decode(errors='replace')
        if code != 0:
            failures.append(f'tls_many exit status {code}: {err[-2000:]}')
        client = None
        text = server.stop(timeout=120)
        shakes = len(re.findall(r'^tls: shard \d+ version=', text, re.M))
        if shakes != args.count:
            failures.append(f'the server logged {shakes} handshakes, not {args.count}')
        bad = [l for l in text.splitlines() if 'failed' in l or 'ended:' in l]
        if bad:
            failures.append(f'the server logged failures: {bad[:5]}')
        server = None
    finally:
        if client is not None:
            testproc.kill_wait(client)
        if server is not None:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print('FAIL:', f)
    if failures:
        return 1
    print(f'{args.count} TLS connections held and closed cleanly')
    return 0


if __name__ == '__main__':
    sys.exit(main())
