#!/usr/bin/env python3
"""test_http_client_peers.py - sea's HTTP client (sea/http_client.h) against real servers.

    test_http_client_peers.py --helper HTTP_GET_HELPER --httpd SEA_HTTPD --nginx NGINX [sea options...]

Serves one directory of files (a small text, 1 MiB of random bytes, 300 KB of text, an empty file, a
directory with its index) with nginx (Debian's nginx-light: a generated configuration in a temporary
directory, one process, on a loopback port found free by binding port 0 first, tried again if someone
takes it meanwhile) and with sea-httpd (port 0: it prints the port it got), and drives
tests/programs/http_get_helper against each: every file's bytes are what is on disk (read whole, and
through the streaming call), HEAD gives the length and no body, a missing file is 404 and a directory
without its "/" a redirect (not followed: redirects are opt-in), all of it over one kept-alive
connection; then eight GETs at once over at most four connections; against nginx, a gzip-compressed
text, which nginx sends chunked, decompresses to the file; against sea-httpd, its /plaintext and
/json.  Each server is stopped with SIGTERM by its PID and waited for; the sea options (the reactor
backend) go to the helper.
"""
import argparse
import gzip
import os
import random
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402

failures = []
check = testproc.checker(failures)


_fnv_cache = {}


def fnv(data):
    """FNV-1a 64 of data, as the helper prints it."""
    if data in _fnv_cache:
        return _fnv_cache[data]
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    _fnv_cache[data] = '%016x' % h
    return _fnv_cache[data]


LINE = re.compile(r'^(\S+) (\S+) (\d+) len=(\d+) fnv=([0-9a-f]+) cl=(-?\d+) te=(\S+) ce=(\S+) conn=(\S+)$')
STATS = re.compile(r'^stats connects=(\d+) requests=(\d+) reused=(\d+) retries=(\d+) stale=(\d+)$')


def run_helper(args, addr, commands):
    """Runs the helper; returns its responses (dicts, in order) and its last stats (a dict)."""
    argv = [args.helper, '--blocked-reactor-notify-ms=0', '-c1'] + args.sea + [addr] + commands
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode(errors='replace')
    check(p.returncode == 0, f'helper exit code {p.returncode}: {p.stderr.decode(errors="replace")[-2000:]}')
    responses, stats = [], None
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            responses.append(dict(method=m[1], path=m[2], status=int(m[3]), len=int(m[4]), fnv=m[5], cl=int(m[6]),
                                  te=m[7], ce=m[8], conn=m[9]))
            continue
        m = STATS.match(line)
        if m:
            stats = dict(connects=int(m[1]), requests=int(m[2]), reused=int(m[3]), retries=int(m[4]),
                         stale=int(m[5]))
            continue
        failures.append(f'helper: {line}')
        print('FAIL: helper:', line)
    return responses, stats


def make_root(root):
    rng = random.Random(20261205)
    files = {
        'small.txt': b'hello from the peers test\n',
        'big.bin': rng.randbytes(1 << 20),
        'text.txt': b''.join(b'line %d of a text that compresses well\n' % i for i in range(8000)),
        'empty.txt': b'',
        'dir/index.html': b'<p>the index</p>\n',
    }
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
    return files


def common_checks(name, args, addr, files, tmp):
    """What every server must do for the client."""
    cmds = ['GET /small.txt', 'GET /big.bin', 'STREAM /big.bin', 'HEAD /big.bin', 'GET /missing.txt',
            'GET /empty.txt', 'GET /dir/', 'GET /dir', 'STREAM /text.txt', 'GET /small.txt']
    got, stats = run_helper(args, addr, cmds)
    check(len(got) == len(cmds), f'{name}: {len(got)} answers to {len(cmds)} requests')
    if len(got) != len(cmds):
        return
    by = lambda i: got[i]
    small, big, text = files['small.txt'], files['big.bin'], files['text.txt']
    for i, data in ((0, small), (1, big), (2, big), (9, small)):
        r = by(i)
        check(r['status'] == 200 and r['len'] == len(data) and r['fnv'] == fnv(data),
              f'{name}: {cmds[i]}: {r}')
    check(by(0)['cl'] == len(small) and by(1)['cl'] == len(big), f'{name}: Content-Length {by(0)} {by(1)}')
    r = by(3)
    check(r['status'] == 200 and r['len'] == 0 and r['cl'] == len(big), f'{name}: HEAD: {r}')
    check(by(4)['status'] == 404, f'{name}: a missing file: {by(4)}')
    r = by(5)
    check(r['status'] == 200 and r['len'] == 0 and r['cl'] == 0, f'{name}: an empty file: {r}')
    r = by(6)
    data = files['dir/index.html']
    check(r['status'] == 200 and r['fnv'] == fnv(data), f'{name}: a directory\'s index: {r}')
    check(by(7)['status'] == 301, f'{name}: a directory without its "/" (not followed): {by(7)}')
    r = by(8)
    check(r['status'] == 200 and r['len'] == len(text) and r['fnv'] == fnv(text), f'{name}: STREAM text: {r}')
    # Everything over one kept-alive connection.
    check(stats is not None and stats['connects'] == 1 and stats['requests'] == len(cmds) and
          stats['reused'] == len(cmds) - 1, f'{name}: keep-alive: {stats}')

    # Eight at once over at most four connections.
    got, stats = run_helper(args, addr, ['OPT max_connections=4', 'PAR 8 /big.bin'])
    check(len(got) == 8 and all(r['status'] == 200 and r['fnv'] == fnv(big) for r in got),
          f'{name}: eight GETs at once: {got}')
    check(stats is not None and 1 <= stats['connects'] <= 4 and stats['requests'] == 8,
          f'{name}: eight GETs at once, connections: {stats}')


def stop(p, name):
    code = testproc.terminate(p, 30)
    check(code == 0, f'{name} exit status after SIGTERM: {code}')


NGINX_CONF = '''daemon off;
master_process off;
worker_processes 1;
error_log {tmp}/error.log;
pid {tmp}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/plain txt; text/html html; application/octet-stream bin; }}
    default_type application/octet-stream;
    gzip on;
    gzip_types text/plain;
    gzip_min_length 1;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ }}
    }}
}}
'''


def start_nginx(args, tmp, root):
    """Starts nginx on a free loopback port; returns (process, port)."""
    for attempt in range(5):
        port = testproc.free_port()
        conf = os.path.join(tmp, 'nginx.conf')
        with open(conf, 'w') as f:
            f.write(NGINX_CONF.format(tmp=tmp, port=port, root=root))
        log = os.path.join(tmp, 'error.log')
        if os.path.exists(log):
            os.unlink(log)
        p = subprocess.Popen([args.nginx, '-c', conf, '-p', tmp, '-e', log], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        # Ready when it accepts a connection; or it exited (the port was taken meanwhile: try another).
        if testproc.wait_accepting(p, port, 20):
            return p, port
        err = p.stderr.read().decode(errors='replace') if p.poll() is not None else ''
        if p.poll() is None:
            p.kill()
        p.wait()
        text = err + (open(log).read() if os.path.exists(log) else '')
        if 'Address already in use' not in text:
            raise SystemExit(f'FAIL: nginx did not start: {text[-2000:]}')
    raise SystemExit('FAIL: nginx found no free port in 5 tries')


def with_nginx(args, files, tmp, root):
    p, port = start_nginx(args, tmp, root)
    try:
        addr = f'127.0.0.1:{port}'
        common_checks('nginx', args, addr, files, tmp)
        # A compressed text: nginx does not know its length, so sends it chunked.
        saved = os.path.join(tmp, 'text.gz')
        got, stats = run_helper(args, addr, [f'GET /text.txt Accept-Encoding=gzip >{saved}',
                                             'STREAM /text.txt Accept-Encoding=gzip'])
        check(len(got) == 2, f'nginx gzip: {got}')
        if len(got) == 2:
            r = got[0]
            check(r['status'] == 200 and r['te'] == 'chunked' and r['ce'] == 'gzip' and r['cl'] == -1,
                  f'nginx gzip: chunked and compressed: {r}')
            with open(saved, 'rb') as f:
                body = f.read()
            check(len(body) == r['len'] and gzip.decompress(body) == files['text.txt'],
                  'nginx gzip: the body decompresses to the file')
            check(got[1]['status'] == 200 and got[1]['fnv'] == r['fnv'] and got[1]['len'] == r['len'],
                  f'nginx gzip through the streaming call: {got[1]} vs {r}')
        check(stats is not None and stats['connects'] == 1, f'nginx gzip: keep-alive: {stats}')
    finally:
        stop(p, 'nginx')


def with_httpd(args, files, root):
    srv = testproc.Server([args.httpd, '-c1', '--blocked-reactor-notify-ms=0', '--root', root, '--address',
                           '127.0.0.1', '--port', '0'], 'sea-httpd', check, r'serving http://127\.0\.0\.1:(\d+)/',
                          timeout=30, bad=None)
    try:
        addr = f'127.0.0.1:{srv.port}'
        common_checks('sea-httpd', args, addr, files, None)
        got, stats = run_helper(args, addr, ['GET /plaintext', 'GET /json'])
        check(len(got) == 2 and got[0]['status'] == 200 and got[0]['fnv'] == fnv(b'Hello, World!') and
              got[1]['status'] == 200 and got[1]['fnv'] == fnv(b'{"message":"Hello, World!"}'),
              f'sea-httpd /plaintext and /json: {got}')
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--helper', required=True)
    ap.add_argument('--httpd', required=True)
    ap.add_argument('--nginx', required=True)
    args, sea = ap.parse_known_args()
    args.sea = sea
    if not os.access(args.nginx, os.X_OK):
        raise SystemExit(f'FAIL: {args.nginx} is not installed (Debian\'s nginx-light; scripts/setup.sh installs it)')
    with tempfile.TemporaryDirectory(prefix='sea-http-peers-') as tmp:
        root = os.path.join(tmp, 'root')
        os.makedirs(root)
        files = make_root(root)
        with_nginx(args, files, tmp, root)
        with_httpd(args, files, root)
    if failures:
        print(f'{len(failures)} failures')
        sys.exit(1)
    print('all passed')


if __name__ == '__main__':
    main()
