#!/usr/bin/env python3
"""test_memcached_clients.py - sea-memcached through real client libraries.

    test_memcached_clients.py SEA_MEMCACHED [sea options...]

Runs with Debian's /usr/bin/python3 (which sees python3-pymemcache and
python3-pylibmc) and libmemcached's command-line tools (memccp, memccat,
memcrm, memcflush).  Starts sea-memcached on a free loopback port, drives
each basic operation through each client in the text protocol (set, get,
multi-get, add, replace, append, prepend, cas, incr, decr, touch, delete,
flush, noreply, errors as the client reports them), then stops the server
with SIGTERM and expects exit status 0.  Before that, a server with 64 MiB
per shard is given three times as much: every set must be stored, evicting
the oldest items.  pylibmc runs in text and in binary mode; the
stats groups monitoring tools read, memcached's UDP framing (a long answer
over several datagrams) and the Prometheus endpoint (the same counters as
"stats") are checked too.  The server is started with memcached's own
short options (-p 0 -l 127.0.0.1 -U PORT).
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL:', what)


SERVING = re.compile(r'serving memcached.* on 127\.0\.0\.1:(\d+)')
PROMETHEUS = re.compile(r'serving Prometheus metrics on (http://\S+)')


def start(argv, udp=False):
    """Starts sea-memcached with memcached's own options on a port it picks (-p 0), so that no other test can
    take the port first; returns the process and its port (and the metrics URL and UDP port, with udp)."""
    for _ in range(5):
        extra = []
        if udp:  # a free UDP port; if someone takes it first the server fails and we try another
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(('127.0.0.1', 0))
            uport = u.getsockname()[1]
            u.close()
            extra = ['-U', str(uport), '--prometheus-port', '0']
        p = subprocess.Popen(argv + ['-p', '0', '-l', '127.0.0.1', '--blocked-reactor-notify-ms=0'] + extra,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port = metrics = None
        limit = time.monotonic() + 30
        while time.monotonic() < limit:
            line = p.stderr.readline().decode(errors='replace')
            if not line:
                break  # it exited
            m = SERVING.search(line)
            port = int(m.group(1)) if m and port is None else port
            m = PROMETHEUS.search(line)
            metrics = m.group(1) if m else metrics
            if port and (not udp or 'UDP' in line):
                return (p, port, metrics, uport) if udp else (p, port)
        p.kill()
        p.wait()
    raise SystemExit('FAIL: sea-memcached did not start')


def with_pymemcache(port):
    from pymemcache.client.base import Client
    from pymemcache.exceptions import MemcacheClientError
    c = Client(('127.0.0.1', port), connect_timeout=10, timeout=10)
    check(c.set('pm:a', b'1', noreply=False) is True, 'pymemcache set')
    check(c.get('pm:a') == b'1', 'pymemcache get')
    check(c.get('pm:missing') is None, 'pymemcache get miss')
    check(c.set_many({'pm:b': b'2', 'pm:c': b'3'}, noreply=False) == [], 'pymemcache set_many')
    check(c.get_many(['pm:a', 'pm:b', 'pm:c', 'pm:x']) == {'pm:a': b'1', 'pm:b': b'2', 'pm:c': b'3'},
          'pymemcache get_many')
    check(c.add('pm:a', b'9', noreply=False) is False, 'pymemcache add existing')
    check(c.add('pm:new', b'9', noreply=False) is True, 'pymemcache add new')
    check(c.replace('pm:none', b'9', noreply=False) is False, 'pymemcache replace missing')
    check(c.append('pm:a', b'0', noreply=False) is True and c.get('pm:a') == b'10', 'pymemcache append')
    check(c.prepend('pm:a', b'5', noreply=False) is True and c.get('pm:a') == b'510', 'pymemcache prepend')
    check(c.incr('pm:a', 5) == 515, 'pymemcache incr')
    check(c.decr('pm:a', 1000) == 0, 'pymemcache decr stops at 0')
    check(c.incr('pm:missing', 1) is None, 'pymemcache incr miss')
    value, cas = c.gets('pm:b')
    check(value == b'2' and cas is not None, 'pymemcache gets')
    check(c.cas('pm:b', b'22', cas, noreply=False) is True, 'pymemcache cas with the right value')
    check(c.cas('pm:b', b'23', cas, noreply=False) is False, 'pymemcache cas with a stale value')
    check(c.get('pm:b') == b'22', 'pymemcache value after cas')
    check(c.touch('pm:b', 100, noreply=False) is True and c.touch('pm:none', 1, noreply=False) is False,
          'pymemcache touch')
    check(c.delete('pm:b', noreply=False) is True and c.get('pm:b') is None, 'pymemcache delete')
    c.set('pm:quiet', b'q', noreply=True)
    check(c.get('pm:quiet') == b'q', 'pymemcache noreply set')
    check(c.set('pm:flags', b'xyz', noreply=False) and c.get('pm:flags') == b'xyz', 'pymemcache flags round trip')
    big = os.urandom(900 * 1024)
    check(c.set('pm:big', big, noreply=False) is True and c.get('pm:big') == big, 'pymemcache 900 KiB value')
    try:
        c.set('pm:huge', b'x' * (2 * 1024 * 1024), noreply=False)
        check(False, 'pymemcache: a 2 MiB value must be refused')
    except Exception as e:  # pymemcache raises MemcacheServerError for SERVER_ERROR
        check('too large' in str(e), f'pymemcache 2 MiB value refused with the server\'s reason ({e})')
    try:
        c.get('k' * 251)
        check(False, 'pymemcache: a 251-byte key must be refused')
    except MemcacheClientError:
        pass
    # (b'0  ': memcached writes a shorter incr/decr result in place, padded with spaces; so do we.)
    check(c.get('pm:a') == b'0  ', 'pymemcache connection still in step after errors')
    check(c.version().startswith(b'1.6'), 'pymemcache version')
    st = c.stats()
    for name in (b'pid', b'uptime', b'curr_connections', b'total_connections', b'cmd_get', b'cmd_set', b'get_hits',
                 b'get_misses', b'curr_items', b'total_items', b'bytes', b'limit_maxbytes', b'evictions', b'threads'):
        check(name in st, f'pymemcache stats: {name!r} missing')
    check(st.get(b'curr_connections', 0) >= 1 and st.get(b'curr_items', 0) >= 5 and st.get(b'get_hits', 0) >= 10,
          f'pymemcache stats: counters summed over the shards: {st}')
    check(c.flush_all(noreply=False) is True and c.get('pm:a') is None, 'pymemcache flush_all')
    c.close()


def with_pylibmc(port, binary=False):
    import pylibmc
    c = pylibmc.Client(['127.0.0.1:%d' % port], binary=binary, behaviors={'cas': True})
    mode = 'binary' if binary else 'text'
    check = lambda cond, what: globals()['check'](cond, f'{what} ({mode})')
    check(c.set('pl:a', 'hello') is True and c.get('pl:a') == 'hello', 'pylibmc set/get')
    check(c.set('pl:n', 7) is True and c.get('pl:n') == 7, 'pylibmc integer (flags) round trip')
    check(c.set('pl:obj', {'x': [1, 2]}) is True and c.get('pl:obj') == {'x': [1, 2]}, 'pylibmc pickled value')
    check(c.get_multi(['pl:a', 'pl:n', 'pl:none']) == {'pl:a': 'hello', 'pl:n': 7}, 'pylibmc get_multi')
    check(c.add('pl:a', 'x') is False and c.add('pl:b', 'x') is True, 'pylibmc add')
    if binary:  # as with memcached: libmemcached reports a binary replace miss as NOT FOUND, which pylibmc raises
        try:
            c.replace('pl:none', 'x')
            check(False, 'pylibmc replace of a missing key must raise NotFound')
        except pylibmc.NotFound:
            pass
    else:
        check(c.replace('pl:none', 'x') is False, 'pylibmc replace missing')
    check(c.replace('pl:b', 'y') is True, 'pylibmc replace')
    check(c.append('pl:a', ' world') is True and c.get('pl:a') == 'hello world', 'pylibmc append')
    check(c.prepend('pl:a', '>') is True and c.get('pl:a') == '>hello world', 'pylibmc prepend')
    check(c.incr('pl:n', 3) == 10 and c.decr('pl:n', 20) == 0, 'pylibmc incr/decr')
    value, cas = c.gets('pl:b')
    check(value == 'y', 'pylibmc gets')
    check(c.cas('pl:b', 'z', cas) is True and c.cas('pl:b', 'w', cas) is False and c.get('pl:b') == 'z',
          'pylibmc cas')
    check(c.delete('pl:b') is True and c.get('pl:b') is None, 'pylibmc delete')
    check(c.touch('pl:a', 100) is True, 'pylibmc touch')
    c.set_multi({'pl:m1': '1', 'pl:m2': '2'})
    check(c.get_multi(['pl:m1', 'pl:m2']) == {'pl:m1': '1', 'pl:m2': '2'}, 'pylibmc set_multi')
    for what, fn, exc in (('incr miss', lambda: c.incr('pl:none', 1), pylibmc.NotFound),
                          ('2 MiB value', lambda: c.set('pl:huge', 'x' * (2 * 1024 * 1024)), pylibmc.TooBig)):
        try:
            fn()
            check(False, f'pylibmc {what} must raise {exc.__name__}, as with memcached')
        except exc:
            pass
    check(c.get('pl:a') == '>hello world', 'pylibmc connection in step after an error')
    stats = c.get_stats()
    check(len(stats) == 1 and 'curr_items' in stats[0][1], f'pylibmc get_stats: {stats}')
    check(c.flush_all() is True and c.get('pl:a') is None, 'pylibmc flush_all')
    c.disconnect_all()


def with_stats_groups(port):
    from pymemcache.client.base import Client
    c = Client(('127.0.0.1', port), connect_timeout=10, timeout=10)
    c.set('sg:a', b'x' * 100, noreply=False)
    st = c.stats('settings')
    for name in (b'maxbytes', b'maxconns', b'tcpport', b'udpport', b'item_size_max', b'num_threads', b'cas_enabled',
                 b'evictions', b'binding_protocol'):
        check(name in st, f'stats settings: {name!r} missing: {st}')
    check(st.get(b'item_size_max') == 1024 * 1024, f'stats settings item_size_max: {st.get(b"item_size_max")}')
    st = c.stats('items')
    check(st.get(b'items:1:number', 0) >= 1 and b'items:1:age' in st and b'items:1:evicted' in st,
          f'stats items: {st}')
    st = c.stats('slabs')
    check(st.get(b'active_slabs') == 1 and st.get(b'1:used_chunks', 0) >= 1 and b'total_malloced' in st,
          f'stats slabs: {st}')
    st = c.stats('conns')
    addrs = [v for k, v in st.items() if k.endswith(b':addr')]
    check(any(v.startswith(b'tcp:127.0.0.1:') for v in addrs) and any(k.endswith(b':state') for k in st),
          f'stats conns: {st}')
    raw = socket.create_connection(('127.0.0.1', port), timeout=10)
    raw.sendall(b'stats reset\r\n')
    check(raw.recv(100) == b'RESET\r\n', 'stats reset answers RESET')
    raw.close()
    check(c.stats().get(b'get_hits') == 0, 'stats reset zeroes get_hits')
    try:
        c.stats('bogus')
        check(False, 'stats bogus must be an error')
    except Exception:
        pass
    c.close()


def with_udp(uport):
    """memcached's UDP framing: an 8-byte header (request id, sequence, count, 0) per datagram; a long answer
    comes back in several datagrams that the request id and sequence numbers put back together."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(10)
    dest = ('127.0.0.1', uport)

    def ask(rid, payload):
        """Sends a request and puts its answer together.  UDP may drop a datagram when a receive buffer is
        full (after the fuzzing below, say), so a request whose answer does not come whole is sent again, as
        UDP clients do; the requests here mean the same the second time."""
        for attempt in range(10):
            u.sendto(rid.to_bytes(2, 'big') + b'\x00\x00\x00\x01\x00\x00' + payload, dest)
            parts, total = {}, None
            u.settimeout(2)
            try:
                while total is None or len(parts) < total:
                    d, _ = u.recvfrom(65536)
                    if int.from_bytes(d[:2], 'big') != rid:
                        continue  # a late answer to an earlier datagram: the request id tells them apart
                    seq, total = int.from_bytes(d[2:4], 'big'), int.from_bytes(d[4:6], 'big')
                    check(len(d) <= 1400, f'udp: a datagram of {len(d)} bytes')
                    parts[seq] = d[8:]
                return b''.join(parts[i] for i in range(total))
            except socket.timeout:
                continue
        raise TimeoutError(f'udp: no whole answer to request {rid} in 10 tries')

    def ask_raw(datagram):
        for attempt in range(10):
            u.sendto(datagram, dest)
            u.settimeout(2)
            try:
                while True:
                    d, _ = u.recvfrom(65536)
                    if d[:2] == datagram[:2]:
                        return d[8:]
            except socket.timeout:
                continue
        raise TimeoutError('udp: no answer in 10 tries')

    check(ask(1, b'set u:a 0 0 5\r\nhello\r\n') == b'STORED\r\n', 'udp set')
    check(ask(2, b'get u:a\r\n') == b'VALUE u:a 0 5\r\nhello\r\nEND\r\n', 'udp get')
    big = bytes(range(256)) * 40  # 10 KiB: 8 datagrams
    check(ask(3, b'set u:big 0 0 %d\r\n%s\r\n' % (len(big), big)) == b'STORED\r\n', 'udp set of 10 KiB')
    check(ask(4, b'get u:big u:a\r\n') == b'VALUE u:big 0 %d\r\n%s\r\nVALUE u:a 0 5\r\nhello\r\nEND\r\n' % (len(big), big),
          'udp multi-datagram get')
    check(ask(5, b'mg u:a v\r\nmn\r\n') == b'VA 5\r\nhello\r\nMN\r\n', 'udp meta')
    # The answers to one datagram may take 8 MiB: 150 gets of a 60,000-byte value ask for 9 MB.
    mid = b'm' * 60000
    check(ask(10, b'set u:m 0 0 %d\r\n%s\r\n' % (len(mid), mid)) == b'STORED\r\n', 'udp set of 60,000 bytes')
    check(ask(11, b'get' + b' u:m' * 150 + b'\r\n') == b'SERVER_ERROR out of memory writing get response\r\n',
          'udp: an answer over 8 MiB is refused with memcached\'s error')
    check(ask(12, b'get u:a\r\n') == b'VALUE u:a 0 5\r\nhello\r\nEND\r\n', 'udp after a refused answer')
    check(ask_raw(b'\x00\x06\x00\x00\x00\x02\x00\x00get u:a\r\n') ==
          b'SERVER_ERROR multi-packet request not supported\r\n', 'udp multi-packet request')
    u.sendto(b'\x00\x07', dest)  # shorter than a header: dropped, the server lives on
    check(ask(8, b'version\r\n').startswith(b'VERSION '), 'udp after a runt datagram')
    # Fuzzed framing: 2,000 datagrams of random headers and random, damaged or real payloads (text, meta,
    # binary); whatever comes back is drained; the server must still answer afterwards.
    import random
    rng = random.Random(15)
    real = [b'get u:a\r\n', b'set u:f 0 0 3\r\nabc\r\n', b'mg u:a v k\r\n', b'\x80\x0a' + bytes(22),
            b'\x80\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x03' + bytes(12) + b'u:a', b'set u:g 0 0 99\r\nshort\r\n']
    u.setblocking(False)
    for i in range(2000):
        head = bytes(rng.randrange(256) for _ in range(8)) if rng.random() < 0.3 else \
            i.to_bytes(2, 'big') + b'\x00\x00\x00\x01\x00\x00'
        body = rng.choice(real)
        if rng.random() < 0.3:
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(300)))
        elif rng.random() < 0.3:
            body = body[:rng.randrange(len(body) + 1)]
        try:
            u.sendto((head + body)[:rng.choice([2, 8, 9, 400, 70000])], dest)
        except OSError:
            pass  # EMSGSIZE for the rare payload over 65,507 bytes, EAGAIN when the buffer is full
        try:
            while True:
                u.recvfrom(65536)
        except (BlockingIOError, OSError):
            pass
    u.settimeout(10)
    u.settimeout(10)
    check(ask(9, b'version\r\n').startswith(b'VERSION '), 'udp after 2,000 fuzzed datagrams')
    u.close()


def with_prometheus(port, url):
    """The Prometheus endpoint shows the counters "stats" shows (summed over the shards' series)."""
    import urllib.request
    from pymemcache.client.base import Client
    c = Client(('127.0.0.1', port), connect_timeout=10, timeout=10)
    c.set('pr:a', b'1', noreply=False)
    for _ in range(3):
        c.get('pr:a')
    c.get('pr:none')
    st = c.stats()
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    sums = {}
    for line in text.splitlines():
        m = re.match(r'(memcached_\w+)(?:\{[^}]*\})? (\S+)', line)
        if m:
            sums[m.group(1)] = sums.get(m.group(1), 0) + float(m.group(2))
    for name in ('get_hits', 'get_misses', 'curr_items', 'cmd_set', 'total_items'):
        check(sums.get('memcached_' + name) == st.get(name.encode()),
              f'prometheus memcached_{name} = {sums.get("memcached_" + name)}, stats says {st.get(name.encode())}')
    c.close()


def with_tools(port):
    servers = '--servers=127.0.0.1:%d' % port
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'greeting')
        with open(path, 'wb') as f:
            f.write(b'hello from memccp\n')
        r = subprocess.run(['memccp', servers, path], capture_output=True, timeout=30)
        check(r.returncode == 0, f'memccp: {r.stderr!r}')
        r = subprocess.run(['memccat', servers, 'greeting'], capture_output=True, timeout=30)
        # memccat prints the value and a newline of its own
        check(r.returncode == 0 and r.stdout == b'hello from memccp\n\n', f'memccat: {r.stdout!r} {r.stderr!r}')
        r = subprocess.run(['memcrm', servers, 'greeting'], capture_output=True, timeout=30)
        check(r.returncode == 0, f'memcrm: {r.stderr!r}')
        r = subprocess.run(['memccat', servers, 'greeting'], capture_output=True, timeout=30)
        check(r.returncode != 0, 'memccat after memcrm must fail')
        r = subprocess.run(['memcflush', servers], capture_output=True, timeout=30)
        check(r.returncode == 0, f'memcflush: {r.stderr!r}')


def eviction(argv):
    """A server with 64 MiB per shard given about three times that: every set is stored, the oldest
    items go (the allocator's reclaim hook evicts from the cold end of the LRU list), the newest stay."""
    from pymemcache.client.base import Client
    srv, port = start(argv + ['-m', '128M'])
    try:
        c = Client(('127.0.0.1', port), connect_timeout=10, timeout=10)
        value = b'v' * 65536
        refused = sum(1 for i in range(6000) if not c.set('ev:%d' % i, value, noreply=False))
        st = c.stats()
        check(refused == 0, f'eviction: {refused} sets refused; a set must evict to make room')
        check(st.get(b'evictions', 0) > 0, f'eviction: no evictions counted: {st}')
        check(c.get('ev:5999') == value, 'eviction: the newest item is gone')
        check(c.get('ev:0') is None, 'eviction: the oldest item survived 3x the memory')
        c.close()
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(30)
    check(srv.returncode == 0, f'eviction: exit status {srv.returncode}')


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    try:
        eviction(sys.argv[1:])
    except Exception as e:
        failures.append(f'eviction: {type(e).__name__}: {e}')
        print(f'FAIL: eviction: {type(e).__name__}: {e}')
    srv, port, metrics, uport = start(sys.argv[1:], udp=True)
    try:
        for name, fn in (('pymemcache', with_pymemcache), ('pylibmc', with_pylibmc),
                         ('pylibmc binary', lambda port: with_pylibmc(port, binary=True)),
                         ('stats groups', with_stats_groups), ('tools', with_tools), ('udp', lambda _: with_udp(uport)),
                         ('prometheus', lambda port: with_prometheus(port, metrics))):
            try:
                fn(port)
            except ImportError as e:
                failures.append(f'{name}: {e} (scripts/setup.sh installs python3-pymemcache and python3-pylibmc)')
            except Exception as e:
                failures.append(f'{name}: {type(e).__name__}: {e}')
                print(f'FAIL: {name}: {type(e).__name__}: {e}')
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(30)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
            failures.append('sea-memcached did not stop within 30 s of SIGTERM')
    err = srv.stderr.read().decode(errors='replace')
    check(srv.returncode == 0, f'exit status {srv.returncode}: {err[-2000:]}')
    bad = [l for l in err.splitlines() if ' INFO ' not in l]
    check(not bad, f'unexpected stderr: {bad[:5]}')
    if failures:
        print(f'{len(failures)} failure(s)')
        return 1
    print('PASS: pymemcache, pylibmc (text and binary), libmemcached tools, stats groups, UDP and Prometheus')
    return 0


if __name__ == '__main__':
    sys.exit(main())
