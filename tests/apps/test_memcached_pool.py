#!/usr/bin/env python3
"""test_memcached_pool.py - two sea-memcached instances as one pool.

    test_memcached_pool.py CASE SEA_MEMCACHED [sea options...]

Starts two sea-memcached instances on free loopback ports (each with the
given options), then:

  ketama     libmemcached's consistent hashing through pylibmc
             (behaviors={"ketama": True}): 1,000 keys stored and read back;
             each instance holds a share (its stats curr_items, and the keys
             read from it directly); every key is on the instance libmemcached
             picks for it (Client.hash) and on no other, which is also the one
             a ketama continuum computed here picks (100 points per server,
             Jenkins one-at-a-time), so the pool really is ketama; a client
             with the servers listed the other way round reads every key.
             libmemcached's memccp/memccat with --servers store and read
             through the same pool.
  twemproxy  nutcracker (Debian's twemproxy) in front of both, with a pool
             configured with distribution ketama and hash fnv1a_64, on a free
             loopback port: set, get, delete, multi-get, add, incr and a
             100 KB value through it with pymemcache; both instances hold
             keys, each key on the instance twemproxy's ketama picks (160
             points per server from MD5, fnv1a_64 truncated to 32 bits).
             nutcracker is stopped by its PID.

pylibmc's get_multi of all 1,000 keys at once sends each instance one get
line of about 500 keys: sea answers a long get line in parts, as memcached
answers it whole.

Every instance is stopped with SIGTERM and must exit with status 0 and
nothing but INFO lines on stderr.  Runs with Debian's /usr/bin/python3
(python3-pylibmc, python3-pymemcache).
"""
import bisect
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import test_memcached_conns as t  # noqa: E402  (Server, Conn, check)
import testproc  # noqa: E402

check = t.check
log = t.log


def one_at_a_time(data):
    """libhashkit's default hash (Jenkins one-at-a-time; bytes read as signed chars)."""
    h = 0
    for b in data:
        h = (h + ((b - 256 if b >= 128 else b) & 0xffffffff)) & 0xffffffff
        h = (h + (h << 10)) & 0xffffffff
        h ^= h >> 6
    h = (h + (h << 3)) & 0xffffffff
    h ^= h >> 11
    return (h + (h << 15)) & 0xffffffff


def fnv1a_64_32(data):
    """twemproxy's fnv1a_64: the 64-bit constants truncated to 32 bits, as it computes them."""
    h = 0xcbf29ce484222325 & 0xffffffff
    for b in data:
        h ^= (b - 256 if b >= 128 else b) & 0xffffffff
        h = (h * (0x100000001b3 & 0xffffffff)) & 0xffffffff
    return h


class Continuum:
    def __init__(self, points):
        self.points = sorted(points)
        self.values = [v for v, _ in self.points]

    def pick(self, h):
        i = bisect.bisect_left(self.values, h)
        return self.points[i % len(self.points)][1]


def libmemcached_ketama(names):
    """libmemcached's unweighted ketama: 100 points per server, 'host:port-i' hashed with the key hash."""
    return Continuum((one_at_a_time(b'%s-%d' % (name.encode(), i)), idx)
                     for idx, name in enumerate(names) for i in range(100))


def twemproxy_ketama(names):
    """twemproxy's ketama with equal weights: 40 MD5s of 'name-i', four points from each."""
    pts = []
    for idx, name in enumerate(names):
        for i in range(40):
            d = hashlib.md5(b'%s-%d' % (name.encode(), i)).digest()
            for x in range(4):
                pts.append((int.from_bytes(d[4 * x:4 * x + 4], 'little'), idx))
    return Continuum(pts)


def holders(ports, key):
    """Which instances hold key, read from each directly."""
    out = []
    for i, port in enumerate(ports):
        c = t.Conn(port)
        if c.get(key) is not None:
            out.append(i)
        c.close()
    return out


def direct(ports):
    return [t.Conn(p) for p in ports]


def case_ketama(ports):
    import pylibmc
    names = ['127.0.0.1:%d' % p for p in ports]
    c = pylibmc.Client(names, behaviors={'ketama': True})
    check(c.get_behaviors().get('distribution') == 'consistent ketama', f'ketama: {c.get_behaviors()}')
    keys = ['pool:%d' % i for i in range(1000)]
    for k in keys:
        if not check(c.set(k, 'value of ' + k) is True, f'ketama: set {k}'):
            return
    got = {}
    for i in range(0, 1000, 250):
        got.update(c.get_multi(keys[i:i + 250]))
    check(len(got) == 1000 and all(got[k] == 'value of ' + k for k in keys),
          f'ketama: get_multi returned {len(got)} of 1000 keys right')
    # All at once: one get line of about 500 keys per instance.
    got = c.get_multi(keys)
    check(len(got) == 1000 and all(got[k] == 'value of ' + k for k in keys),
          f'ketama: get_multi of 1,000 keys returned {len(got)}')
    check(all(c.get(k) == 'value of ' + k for k in keys[:100]), 'ketama: get')
    # Each instance's share, from its own stats.
    items = []
    for conn in direct(ports):
        items.append(conn.stats().get('curr_items'))
        conn.close()
    log(f'ketama: curr_items per instance: {items}')
    check(sum(items) == 1000, f'ketama: the instances hold {items} items, want 1,000 in all')
    check(min(items) >= 200, f'ketama: one instance got too small a share: {items}')
    # Every key on the instance libmemcached picks and only there; that pick is ketama's.
    model = libmemcached_ketama(names)
    conns = direct(ports)
    wrong = []
    for k in keys:
        pick = c.hash(k)  # libmemcached's server index for the key
        if model.pick(one_at_a_time(k.encode())) != pick:
            wrong.append(f'{k}: libmemcached picks {pick}, the ketama continuum another')
        values = [conn.get(k) for conn in conns]
        want = [b'value of ' + k.encode() if i == pick else None for i in range(len(ports))]
        if values != want:
            wrong.append(f'{k}: read directly: {values}, picked {pick}')
    for conn in conns:
        conn.close()
    check(not wrong, f'ketama: {len(wrong)} keys misplaced: {wrong[:3]}')
    # Consistent hashing does not depend on the order of the server list.
    r = pylibmc.Client(names[::-1], behaviors={'ketama': True})
    check(sum(len(r.get_multi(keys[i:i + 250])) for i in range(0, 1000, 250)) == 1000,
          'ketama: a client with the servers in the other order misses keys')
    c.delete_multi(keys[:10])
    check(not any(k in r.get_multi(keys[:10]) for k in keys[:10]), 'ketama: delete_multi')
    c.disconnect_all()
    r.disconnect_all()
    # libmemcached's tools with --servers (their default distribution) through the same instances.
    servers = '--servers=' + ','.join(names)
    with tempfile.TemporaryDirectory() as d:
        for i in range(20):
            with open(os.path.join(d, 'file%d' % i), 'wb') as f:
                f.write(b'file %d\n' % i)
        r = subprocess.run(['memccp', servers] + [os.path.join(d, 'file%d' % i) for i in range(20)],
                           capture_output=True, timeout=60)
        check(r.returncode == 0, f'memccp: {r.stderr!r}')
        r = subprocess.run(['memccat', servers] + ['file%d' % i for i in range(20)], capture_output=True, timeout=60)
        check(r.returncode == 0 and r.stdout == b''.join(b'file %d\n\n' % i for i in range(20)),
              f'memccat: {r.stdout[:200]!r} {r.stderr!r}')
    spread = [len([k for k in ('file%d' % i for i in range(20)) if i2 in holders(ports, k)]) for i2 in range(2)]
    check(sum(spread) == 20, f'memccp: the files are held {spread} times')


NUTCRACKER_CONF = """\
sea:
  listen: 127.0.0.1:{port}
  hash: fnv1a_64
  distribution: ketama
  timeout: 10000
  auto_eject_hosts: false
  server_connections: 2
  servers:
{servers}
"""


def case_twemproxy(ports):
    from pymemcache.client.base import Client
    exe = shutil.which('nutcracker') or '/usr/sbin/nutcracker'
    if not check(os.path.exists(exe), 'twemproxy: nutcracker is not installed (scripts/setup.sh installs it)'):
        return
    names = ['127.0.0.1:%d' % p for p in ports]
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, 'nutcracker.yml')
        proxy_port = stats_port = None
        nut = None
        for _ in range(5):
            proxy_port, stats_port = testproc.free_port(), testproc.free_port()
            with open(conf, 'w') as f:
                f.write(NUTCRACKER_CONF.format(port=proxy_port,
                                               servers=''.join(f'   - {n}:1\n' for n in names)))
            nut = subprocess.Popen([exe, '-c', conf, '-s', str(stats_port), '-a', '127.0.0.1', '-o',
                                    os.path.join(d, 'nutcracker.log'), '-p', os.path.join(d, 'nutcracker.pid')],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            testproc.wait_accepting(nut, proxy_port, 20)
            if nut.poll() is None:
                break
        try:
            if not check(nut.poll() is None, 'twemproxy: nutcracker did not start: ' +
                         open(os.path.join(d, 'nutcracker.log'), errors='replace').read()[-1000:]):
                return
            log(f'twemproxy: nutcracker {nut.pid} on 127.0.0.1:{proxy_port} in front of {names}')
            c = Client(('127.0.0.1', proxy_port), connect_timeout=10, timeout=10)
            # Keys that look random: twemproxy's fnv1a_64 (truncated to 32 bits) mixes the last bytes of
            # near-identical keys ('tw:1', 'tw:2', ...) so little that for some port pairs all of them
            # land on one instance.
            keys = ['tw:' + hashlib.sha1(b'%d' % i).hexdigest()[:16] for i in range(500)]
            for k in keys:
                if not check(c.set(k, b'v-' + k.encode(), noreply=False) is True, f'twemproxy: set {k}'):
                    return
            check(all(c.get(k) == b'v-' + k.encode() for k in keys[:50]), 'twemproxy: get')
            got = c.get_many(keys)
            check(len(got) == 500 and all(got[k] == b'v-' + k.encode() for k in keys),
                  f'twemproxy: get_many returned {len(got)} of 500 keys right')
            check(c.delete(keys[0], noreply=False) is True and c.get(keys[0]) is None, 'twemproxy: delete')
            check(c.delete(keys[0], noreply=False) is False, 'twemproxy: delete of a missing key')
            check(c.add(keys[1], b'x', noreply=False) is False and c.add(keys[0], b'new', noreply=False) is True,
                  'twemproxy: add')
            check(c.set('tw:n', b'41', noreply=False) and c.incr('tw:n', 1) == 42, 'twemproxy: incr')
            big = os.urandom(100_000)
            check(c.set('tw:big', big, noreply=False) is True and c.get('tw:big') == big, 'twemproxy: 100 KB value')
            check(c.get_many(['tw:none', keys[2], 'tw:none2']) == {keys[2]: b'v-' + keys[2].encode()},
                  'twemproxy: get_many with misses')
            c.close()
            # Where the keys went: both instances, each key on twemproxy's ketama pick only.
            items = []
            for conn in direct(ports):
                items.append(conn.stats().get('curr_items'))
                conn.close()
            log(f'twemproxy: curr_items per instance: {items}')
            check(sum(items) == 502 and min(items) >= 100, f'twemproxy: the instances hold {items} items')
            model = twemproxy_ketama(names)
            conns = direct(ports)
            wrong = []
            for k in keys[1:]:
                pick = model.pick(fnv1a_64_32(k.encode()))
                values = [conn.get(k) for conn in conns]
                if values != [b'v-' + k.encode() if i == pick else None for i in range(len(ports))]:
                    wrong.append(f'{k}: read directly: {values}, ketama picks {pick}')
            for conn in conns:
                conn.close()
            check(not wrong, f'twemproxy: {len(wrong)} keys not where its ketama puts them: {wrong[:3]}')
        finally:
            if nut.poll() is None:
                nut.send_signal(signal.SIGTERM)
            try:
                nut.wait(20)
            except subprocess.TimeoutExpired:
                nut.kill()
                nut.wait()
                check(False, 'twemproxy: nutcracker did not stop on SIGTERM')


CASES = {'ketama': case_ketama, 'twemproxy': case_twemproxy}


def main():
    argv = sys.argv[1:]
    if not argv or argv[0] not in CASES:
        print(__doc__)
        return 2
    case = argv.pop(0)
    if not argv:
        print(__doc__)
        return 2
    t0 = time.monotonic()
    servers = []
    try:
        servers = [t.Server(argv), t.Server(argv)]
        CASES[case]([s.port for s in servers])
    except ImportError as e:
        check(False, f'{case}: {e} (scripts/setup.sh installs python3-pylibmc and python3-pymemcache)')
    except Exception as e:
        check(False, f'{case}: {type(e).__name__}: {e}')
    finally:
        for s in servers:
            rc, _ = s.stop()
            err = s.stderr()
            check(rc == 0, f'instance on port {s.port}: exit status {rc}: {err[-2000:]}')
            bad = [line for line in err.splitlines() if ' INFO ' not in line]
            check(not bad, f'instance on port {s.port}: unexpected stderr: {bad[:5]}')
    log(f'{case}: {time.monotonic() - t0:.1f} s')
    if t.failures:
        print(f'{len(t.failures)} failure(s)')
        return 1
    print(f'PASS: {case}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
