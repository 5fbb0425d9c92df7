#!/usr/bin/env python3
"""test_memcached_conns.py - sea-memcached under many, slow, greedy and hostile connections.

    test_memcached_conns.py CASE [--sanitized|--tsan] [--conns=N] SEA_MEMCACHED [sea options...]

Starts sea-memcached on a free loopback port with the given options, runs one
case against it with plain sockets, stops it with SIGTERM and expects exit
status 0 and nothing but INFO lines on its stderr.  The cases:

  many       19,900 connections open at once (or --conns N), each served
             (a version as it opens, then a get on every one while all are
             open); the server's resident memory per connection is printed
             as "memcached.conns.bytes_per_conn: N"; after they close,
             curr_connections returns to where it was.
  noread     clients that pipeline gets and never read the answers: the
             server must stop reading from them (their sends block), its
             memory stays bounded, and another client is served meanwhile.
  slowloris  connections that send their requests one byte at a time, and
             connections that send half a line, half a data block or most of
             a long get line and stall; others are served meanwhile, memory
             stays bounded; afterwards every slow request is answered right.
             A non-get line over 2048 bytes, and a get line over the longest
             the server waits for, close their connections.
  limits     the largest value stored with --max-item-size (default 1M, or as
             given), found by bisection: it round-trips intact, one byte more
             is "SERVER_ERROR object too large for cache" with its data block
             skipped and the old value removed, and a 250-byte key lowers the
             limit by 249 bytes.  If Debian's memcached is installed, the same
             bisection against it must find the same limit.
  junk       garbage lines, random binary junk, a binary-protocol header,
             connections closed mid-line, mid-data-block and with a reset
             while answers are pending, half-closed connections (shutdown of
             the write side) whose pending answers must all arrive; the
             server serves throughout.
  sigterm    several clients hammering set/get with 20,000 items stored,
             beside clients that never read (their sends blocked) and
             connections stalled mid-line; SIGTERM; the server must exit
             with status 0.  The time it took
             is printed as "memcached.conns.sigterm_exit_seconds: S" and must
             be under 5 s (the aim is 1 s; see the comment in case_sigterm).

--sanitized (ASan builds) loosens the memory bounds, since ASan's allocator
keeps freed memory in quarantine and adds shadow memory; the numbers are
still printed.  --tsan (ThreadSanitizer builds) checks no memory bounds at
all (TSan keeps a history of every fiber, which it counts as a thread, and
resident memory grows with the fibers that run), and opens at most 4,000
connections in "many" (2,000: TSan dies beyond 8,128 threads, fibers
included, and keeps about 1 MiB per fiber).

Runs with any Python 3; no third-party modules.
"""
import os
import random
import resource
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402
from testproc import free_port, wait_accepting  # noqa: E402

failures = []
MiB = 1 << 20
check = testproc.checker(failures)


def log(*a):
    print(*a, flush=True)


def proc_status(pid, field):
    """A field of /proc/PID/status in bytes (VmRSS, VmHWM), or 0 once the process is gone."""
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Server:
    """A server process on a free loopback port; stderr goes to a temporary file."""

    def __init__(self, argv, name='sea-memcached'):
        self.name = name
        self.err = tempfile.TemporaryFile()
        for _ in range(5):
            self.port = free_port()
            self.p = subprocess.Popen(argv + self.port_args(self.port), stdout=subprocess.DEVNULL, stderr=self.err)
            if wait_accepting(self.p, self.port, 30):
                return
            self.p.kill()
            self.p.wait()
        raise SystemExit(f'FAIL: {name} did not start: {self.stderr()[-2000:]}')

    def port_args(self, port):
        return ['--port', str(port), '--listen', '127.0.0.1', '--blocked-reactor-notify-ms=0']

    @property
    def pid(self):
        return self.p.pid

    def rss(self):
        return proc_status(self.p.pid, 'VmRSS')

    def alive(self):
        return self.p.poll() is None

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors='replace')

    def stop(self, timeout=30):
        """SIGTERM, then wait (SIGKILL after timeout s). Returns (exit status, seconds it took)."""
        t0 = time.monotonic()
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            check(False, f'{self.name} did not stop within {timeout} s of SIGTERM')
        return self.p.returncode, time.monotonic() - t0


class MemcachedServer(Server):
    """Debian's memcached, for comparison."""

    def port_args(self, port):
        return ['-p', str(port), '-l', '127.0.0.1', '-U', '0'] + (['-u', 'root'] if os.getuid() == 0 else [])


class Conn:
    """A blocking client connection with its own receive buffer."""

    def __init__(self, port, timeout=30):
        self.s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
        self.buf = bytearray()

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise EOFError('the server closed the connection')
        self.buf += d

    def until(self, term):
        """Bytes up to and including the first term."""
        start = 0
        while True:
            i = self.buf.find(term, start)
            if i >= 0:
                out = bytes(self.buf[:i + len(term)])
                del self.buf[:i + len(term)]
                return out
            start = max(0, len(self.buf) - len(term) + 1)
            self._fill()

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def line(self):
        return self.until(b'\r\n')

    def call(self, data, term=b'\r\n'):
        self.send(data)
        return self.until(term)

    def set(self, key, value, flags=0):
        return self.call(b'set %s %d 0 %d\r\n%s\r\n' % (key.encode(), flags, len(value), value))

    def get(self, key):
        """The value, or None."""
        self.send(b'get %s\r\n' % key.encode())
        head = self.line()
        if head == b'END\r\n':
            return None
        parts = head.split()
        if len(parts) != 4 or parts[0] != b'VALUE':
            raise ValueError(f'bad answer to get {key}: {head[:100]!r}')
        value = self.exact(int(parts[3]) + 2)[:-2]
        end = self.line()
        if end != b'END\r\n':
            raise ValueError(f'no END after the value of {key}: {end[:100]!r}')
        return value

    def stats(self):
        text = self.call(b'stats\r\n', b'END\r\n').decode()
        out = {}
        for line in text.split('\r\n'):
            parts = line.split(' ')
            if len(parts) == 3 and parts[0] == 'STAT':
                out[parts[1]] = int(parts[2]) if parts[2].isdigit() else parts[2]
        return out

    def read_to_eof(self, limit_s=30):
        """Everything until the server closes (bounded in time); returns what arrived."""
        self.s.settimeout(limit_s)
        try:
            while True:
                d = self.s.recv(1 << 20)
                if not d:
                    break
                self.buf += d
        except OSError:
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def close(self):
        self.s.close()


def expect(what, got, want):
    if got != want:
        return check(False, f'{what}: got {got[:200]!r}, want {want[:200]!r}')
    return True


def wait_connections(ctl, want, what, limit_s=30):
    """Polls stats until curr_connections is want (bounded); checks it got there."""
    deadline = time.monotonic() + limit_s
    cur = None
    while time.monotonic() < deadline:
        cur = ctl.stats().get('curr_connections')
        if cur == want:
            return True
        time.sleep(0.1)
    return check(False, f'{what}: curr_connections is {cur} after {limit_s} s, want {want}')


def settle(ctl):
    """Waits until the control connection is the only one (the start-up probe may still be closing); 1."""
    wait_connections(ctl, 1, 'before the case')
    return 1


def served(ctl, what, rounds=20, rng=None):
    """Another client is served right: sets and gets of fresh values."""
    rng = rng or random.Random(1)
    for i in range(rounds):
        key = f'other:{i}'
        value = rng.randbytes(rng.randrange(1, 3000))
        if not expect(f'{what}: set {key}', ctl.set(key, value), b'STORED\r\n'):
            return False
        if not check(ctl.get(key) == value, f'{what}: get {key} returned another value'):
            return False
    return True


# ---------------------------------------------------------------- many


def case_many(srv, args):
    n = args.conns
    if args.tsan and n > 2000:
        log(f'many: {n} connections would be {n} fibers, more threads than TSan allows; 2000 instead')
        n = 2000
    need = n + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
        soft = need
    if not check(soft >= need, f'many: this process may open {soft} descriptors; {n} connections need {need}'):
        return
    ctl = Conn(srv.port)
    value = b'v' * 100
    expect('many: set', ctl.set('many', value), b'STORED\r\n')
    answer = b'VALUE many 0 100\r\n' + value + b'\r\nEND\r\n'
    base = settle(ctl)
    time.sleep(0.2)
    rss0 = srv.rss()
    conns = []
    t0 = time.monotonic()
    deadline = t0 + 120
    try:
        # Open in batches (under the listen backlog), each connection served as it opens.
        while len(conns) < n and time.monotonic() < deadline:
            batch = []
            for _ in range(min(500, n - len(conns))):
                batch.append(Conn(srv.port))
            conns += batch
            for c in batch:
                c.send(b'version\r\n')
            for c in batch:
                line = c.line()
                if not line.startswith(b'VERSION '):
                    check(False, f'many: connection {len(conns)}: version answered {line!r}')
                    return
        if not check(len(conns) == n, f'many: only {len(conns)} of {n} connections opened in 120 s'):
            return
        t_open = time.monotonic() - t0
        # All open: a get on every one.
        for c in conns:
            c.send(b'get many\r\n')
        bad = 0
        for c in conns:
            if c.exact(len(answer)) != answer:
                bad += 1
        check(bad == 0, f'many: {bad} of {n} connections answered a get wrong')
        st = ctl.stats()
        check(st['curr_connections'] == base + n,
              f'many: curr_connections {st["curr_connections"]} with {n} more open, want {base + n}')
        rss1 = srv.rss()
        per = (rss1 - rss0) // n
        log(f'many: {n} connections opened and served in {t_open:.1f} s; server RSS {rss0 / MiB:.0f} MiB -> '
            f'{rss1 / MiB:.0f} MiB')
        log(f'memcached.conns.bytes_per_conn: {per}')
        # A fiber stack (128 KiB, mostly untouched), the connection, its buffers: well under 128 KiB
        # resident.  Sanitizers add shadow memory and quarantine, so there it is printed only.
        if not args.sanitized and not args.tsan:
            check(per < 128 * 1024, f'many: {per} bytes resident per connection')
    except (OSError, EOFError) as e:
        check(False, f'many: after {len(conns)} connections: {type(e).__name__}: {e}')
    finally:
        for c in conns:
            c.close()
    wait_connections(ctl, base, f'many: after closing {len(conns)} connections')
    log(f'many: server RSS after closing them: {srv.rss() / MiB:.0f} MiB')
    expect('many: served after', ctl.call(b'get many\r\n', b'END\r\n'), answer)
    ctl.close()


# ---------------------------------------------------------------- noread


def case_noread(srv, args):
    """Clients pipeline 'get nr' and never read.  The server reads a buffer of requests, answers
    them, and must then wait for its answers to be written before reading more: the clients' sends
    block, and what the server holds is bounded by one buffer's worth of answers per client.
    The value is 500,000 bytes: one buffer of requests (about 3,600 gets) asks for 1.8 GB of
    answers, which the server must write as they grow (it writes once 256 KiB are waiting)
    rather than gather first."""
    size = 500_000
    stuck_n = 2
    ctl = Conn(srv.port)
    rng = random.Random(2)
    value = rng.randbytes(size)
    expect('noread: set', ctl.set('nr', value), b'STORED\r\n')
    base = settle(ctl)
    time.sleep(0.2)
    rss0 = peak = srv.rss()
    stuck = [socket.create_connection(('127.0.0.1', srv.port), timeout=10) for _ in range(stuck_n)]
    for s in stuck:
        s.setblocking(False)
    req = b'get nr\r\n' * 8192
    sent = [0] * stuck_n
    blocked = [False] * stuck_n
    cap = 256 * MiB  # a server that keeps reading would take this much; one that stops, a few MiB
    deadline = time.monotonic() + 40
    try:
        while not all(blocked) and time.monotonic() < deadline and srv.alive():
            full = []
            for i, s in enumerate(stuck):
                if blocked[i]:
                    continue
                try:
                    sent[i] += s.send(req)
                except BlockingIOError:
                    full.append(s)
                except OSError as e:
                    check(False, f'noread: the server closed a client that only sent gets ({e})')
                    blocked[i] = True
                if sent[i] >= cap:
                    blocked[i] = True
            if full and len(full) == blocked.count(False):
                # Every client's send is blocked.  Those still not writable 2 s later: the server has
                # stopped reading them (a slow server only makes this conclude early, and the checks
                # below still apply).
                _, w, _ = select.select([], full, [], 2.0)
                for i, s in enumerate(stuck):
                    if s in full and s not in w:
                        blocked[i] = True
            peak = max(peak, srv.rss())
        if not check(srv.alive(), 'noread: the server died'):
            return
        demanded = sum(sent) // len(b'get nr\r\n') * size
        log(f'noread: {stuck_n} clients sent {sum(sent) / MiB:.1f} MiB of gets asking for {demanded / MiB:.0f} MiB '
            f'of answers; server RSS {rss0 / MiB:.0f} -> {peak / MiB:.0f} MiB')
        check(all(blocked), f'noread: the clients could still send after 40 s ({sent})')
        check(max(sent) < cap, f'noread: the server read {max(sent)} bytes from a client that reads nothing')
        # Meanwhile another client is served, and the value is still there.
        served(ctl, 'noread', rng=rng)
        check(ctl.get('nr') == value, 'noread: the value is gone (evicted?) while the clients were stuck')
        peak = max(peak, srv.rss())
        # Per client: a read buffer's worth of requests (32 KiB, 4,096 gets) answered at once is 4 MiB
        # with 1,000-byte values (and up to as much again while the buffer grows); the kernel holds
        # the socket buffers.
        bound = (16 + stuck_n * 16) * MiB * (8 if args.sanitized else 1)
        check(args.tsan or peak - rss0 < bound, f'noread: server RSS grew by {(peak - rss0) / MiB:.0f} MiB '
              f'(bound {bound / MiB:.0f} MiB) for {stuck_n} clients that do not read')
    finally:
        for s in stuck:
            s.close()
    wait_connections(ctl, base, 'noread: after the clients closed')
    served(ctl, 'noread after', rounds=5, rng=rng)
    ctl.close()


# ---------------------------------------------------------------- slowloris


def open_many(port, n):
    out = []
    for _ in range(n):
        out.append(Conn(port))
    return out


def case_slowloris(srv, args):
    rng = random.Random(3)
    ctl = Conn(srv.port)
    value = b'slow-value'
    expect('slowloris: set', ctl.set('sl:k', value), b'STORED\r\n')
    base = settle(ctl)
    time.sleep(0.2)
    rss0 = srv.rss()
    n_drib, n_half, n_long = 400, 400, 20
    conns = []
    try:
        dribblers = open_many(srv.port, n_drib)
        conns += dribblers
        half = open_many(srv.port, n_half)
        conns += half
        longs = open_many(srv.port, n_long)
        conns += longs
        # Stallers: half a get line, a storage line with half its data block, a storage line alone.
        rest = []
        for i, c in enumerate(half):
            kind = i % 3
            if kind == 0:
                c.send(b'get sl:')
                rest.append((b'k\r\n', b'VALUE sl:k 0 %d\r\n%s\r\nEND\r\n' % (len(value), value)))
            elif kind == 1:
                c.send(b'set sl:h%d 0 0 10\r\n01234' % i)
                rest.append((b'56789\r\nget sl:h%d\r\n' % i, b'STORED\r\nVALUE sl:h%d 0 10\r\n0123456789\r\nEND\r\n' % i))
            else:
                c.send(b'set sl:h%d 0 0 4\r\n' % i)
                rest.append((b'abcd\r\nget sl:h%d\r\n' % i, b'STORED\r\nVALUE sl:h%d 0 4\r\nabcd\r\nEND\r\n' % i))
        # Long get lines (400 keys of 200 bytes, 80 KiB) without their end.
        for i, c in enumerate(longs):
            keys = b' '.join(b'%03d' % j + b'x' * 197 for j in range(400))
            c.send(b'get ' + keys)
        time.sleep(0.5)
        rss_stalled = rss_started = peak = srv.rss()
        # Dribblers: one byte per connection per round, 50 ms apart; another client checked every 5 rounds.
        msgs = [b'set sl:d%d 0 0 8\r\nslowpoke\r\nget sl:d%d\r\n' % (i, i) for i in range(n_drib)]
        rounds = max(len(m) for m in msgs)
        t0 = time.monotonic()
        for r in range(rounds):
            for c, m in zip(dribblers, msgs):
                if r < len(m):
                    c.send(m[r:r + 1])
            if r % 5 == 0:
                served(ctl, f'slowloris round {r}', rounds=3, rng=rng)
                peak = max(peak, srv.rss())
            if r == 5:
                rss_started = srv.rss()  # every connection has read and has its buffers by now
            time.sleep(0.05)
        log(f'slowloris: {n_drib} connections sent {rounds} bytes each one at a time in {time.monotonic() - t0:.1f} s, '
            f'{n_half} stalled mid-request, {n_long} stalled in an 80 KiB get line')
        peak_dribbling = peak = max(peak, srv.rss())
        for i, c in enumerate(dribblers):
            want = b'STORED\r\nVALUE sl:d%d 0 8\r\nslowpoke\r\nEND\r\n' % i
            if not expect(f'slowloris: dribbler {i}', c.exact(len(want)), want):
                break
        # The stalled requests, finished now, are answered right.
        for i, (c, (more, want)) in enumerate(zip(half, rest)):
            c.send(more)
        for i, (c, (more, want)) in enumerate(zip(half, rest)):
            if not expect(f'slowloris: stalled connection {i}', c.exact(len(want)), want):
                break
        for c in longs:
            c.send(b'\r\n')
        for i, c in enumerate(longs):
            if not expect(f'slowloris: long get line {i}', c.exact(5), b'END\r\n'):
                break
        peak = max(peak, srv.rss())
        conns_n = n_drib + n_half + n_long
        log(f'slowloris: server RSS {rss0 / MiB:.0f} MiB before, {rss_stalled / MiB:.0f} MiB with {conns_n} '
            f'slow connections, {rss_started / MiB:.0f} MiB once all had started, {peak_dribbling / MiB:.0f} MiB '
            f'at most while they dribbled, peak {peak / MiB:.0f} MiB')
        k = 8 if args.sanitized else 1
        bound = ((n_drib + n_half) * 64 * 1024 + n_long * 512 * 1024 + 16 * MiB) * k
        check(args.tsan or peak - rss0 < bound, f'slowloris: server RSS grew by {(peak - rss0) / MiB:.0f} MiB '
              f'(bound {bound / MiB:.0f} MiB)')
        check(args.tsan or peak_dribbling - rss_started < 16 * MiB * k, f'slowloris: server RSS grew by '
              f'{(peak_dribbling - rss_started) / MiB:.0f} MiB while the slow connections dribbled')
    except (OSError, EOFError) as e:
        check(False, f'slowloris: {type(e).__name__}: {e}')
    finally:
        for c in conns:
            c.close()
    # Stall defences: an endless non-get line is closed after 2048 bytes; an endless get line after
    # the longest one the server waits for, with an error.
    c = Conn(srv.port, timeout=20)
    c.send(b'set ' + b'x' * 3000)
    check(c.read_to_eof(20) == b'', 'slowloris: a 3000-byte line without an end must close the connection')
    c.close()
    c = Conn(srv.port, timeout=20)
    try:
        c.send(b'get ' + b'k ' * 80000)
    except OSError:
        pass  # the server may close while we still send
    got = c.read_to_eof(20)
    check(got in (b'', b'CLIENT_ERROR line too long\r\n'),
          f'slowloris: a 160 KB get line without an end: {got[:100]!r}, want the connection closed')
    c.close()
    wait_connections(ctl, base, 'slowloris: after the slow connections closed')
    ctl.close()


# ---------------------------------------------------------------- limits


def try_set(c, key, n, fill):
    c.send(b'set %s 0 0 %d\r\n' % (key, n))
    c.send(fill[:n])
    return c.call(b'\r\n')


def largest(port, key, max_item):
    """The largest value size the server stores under key, by bisection (both ends checked)."""
    c = Conn(port)
    fill = b'z' * (max_item + 1)
    lo, hi = 1, max_item + 1  # lo stored, hi refused
    if try_set(c, key, lo, fill) != b'STORED\r\n' or try_set(c, key, hi, fill) == b'STORED\r\n':
        c.close()
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if try_set(c, key, mid, fill) == b'STORED\r\n':
            lo = mid
        else:
            hi = mid
    c.close()
    return lo


def case_limits(srv, args):
    max_item = args.max_item
    rng = random.Random(4)
    n1 = largest(srv.port, b'k', max_item)
    n250 = largest(srv.port, b'K' * 250, max_item)
    if not check(n1 is not None and n250 is not None, 'limits: no value size both stored and refused'):
        return
    log(f'limits: --max-item-size {max_item}: the largest value is {n1} bytes with a 1-byte key, '
        f'{n250} with a 250-byte key')
    check(n1 - n250 == 249, f'limits: a 250-byte key should lower the limit by 249 bytes: {n1} vs {n250}')
    check(max_item - 200 <= n1 < max_item, f'limits: {n1} is not just under the item size {max_item}')
    c = Conn(srv.port)
    big = rng.randbytes(n1)
    expect('limits: largest set', c.set('k', big), b'STORED\r\n')
    check(c.get('k') == big, f'limits: the {n1}-byte value did not round-trip intact')
    # One byte more: refused, its data block skipped (the connection stays in step), the old value gone.
    over = rng.randbytes(n1 + 1)
    expect('limits: one byte more', c.set('k', over), b'SERVER_ERROR object too large for cache\r\n')
    check(c.get('k') is None, 'limits: a refused set must remove the old value, as memcached does')
    expect('limits: in step after', c.call(b'version\r\n')[:8], b'VERSION ')
    # With noreply: no answer at all, and still in step.
    c.send(b'set k 0 0 %d noreply\r\n%s\r\n' % (len(over), over))
    expect('limits: noreply too large', c.call(b'version\r\n')[:8], b'VERSION ')
    # The 250-byte key's limit, both sides.
    key = 'K' * 250
    big2 = rng.randbytes(n250)
    expect('limits: largest set, long key', c.set(key, big2), b'STORED\r\n')
    check(c.get(key) == big2, 'limits: the largest value under a 250-byte key did not round-trip')
    expect('limits: one byte more, long key', c.set(key, big2 + b'!'), b'SERVER_ERROR object too large for cache\r\n')
    # The largest value split in odd pieces still arrives whole.
    c.send(b'set s 0 0 %d\r\n' % n1)
    pos = 0
    while pos < n1:
        step = rng.randrange(1, 200_000)
        c.send(big[pos:pos + step])
        pos += step
    expect('limits: split set', c.call(b'\r\n'), b'STORED\r\n')
    check(c.get('s') == big, 'limits: the value sent in pieces did not round-trip')
    c.close()
    # Debian's memcached with the same item size must draw the line at the same byte.
    if os.path.exists('/usr/bin/memcached'):
        mc = MemcachedServer(['/usr/bin/memcached', '-I', str(max_item), '-m', '64'], name='memcached')
        try:
            m1 = largest(mc.port, b'k', max_item)
            m250 = largest(mc.port, b'K' * 250, max_item)
        finally:
            mc.stop()
        log(f'limits: memcached 1.6 stores at most {m1} bytes (1-byte key), {m250} (250-byte key)')
        check((m1, m250) == (n1, n250), f'limits: memcached stores at most {m1}/{m250}, sea {n1}/{n250}')
    else:
        log('limits: /usr/bin/memcached not installed, no comparison (scripts/setup.sh installs it)')


# ---------------------------------------------------------------- junk


def case_junk(srv, args):
    rng = random.Random(5)
    ctl = Conn(srv.port)
    base = settle(ctl)
    old = b'old-value'
    expect('junk: set', ctl.set('mid', old), b'STORED\r\n')

    # Garbage lines: each unknown command answered ERROR, and the connection still works.
    c = Conn(srv.port)
    lines = []
    for i in range(200):
        words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789!#%&*+-/=?@^_|~') for _ in range(rng.randrange(1, 30)))
                 for _ in range(rng.randrange(1, 6))]
        lines.append(('zz' + ' '.join(words)).encode() + rng.choice([b'\r\n', b'\n']))
    c.send(b''.join(lines))
    for i in range(len(lines)):
        if not expect(f'junk: garbage line {i} {lines[i]!r}', c.line(), b'ERROR\r\n'):
            break
    expect('junk: after garbage lines', c.call(b'version\r\n')[:8], b'VERSION ')
    c.close()

    # Random binary junk (a fixed seed), and a binary-protocol get: any answer or a close, never a crash.
    for i in range(8):
        c = Conn(srv.port, timeout=20)
        try:
            c.send(rng.randbytes(rng.randrange(1, 64 * 1024)))
            c.s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close on it first
        c.read_to_eof(20)
        c.close()
    c = Conn(srv.port, timeout=20)
    c.send(bytes([0x80, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) + b'hello')
    c.s.shutdown(socket.SHUT_WR)
    c.read_to_eof(20)
    c.close()
    check(srv.alive(), 'junk: the server died on binary junk')

    # Closed mid-line, mid-data-block: nothing stored, the old value stays.
    for data in (b'get mi', b'set mid 0 0', b'set mid 0 0 1000\r\n' + b'n' * 500, b'set mid 0 0 5\r\nnewvalue',
                 b'delete mi', b'incr'):
        c = Conn(srv.port)
        c.send(data)
        c.close()
    # Closed with a reset while answers are pending (a 900 KB value asked for 20 times).
    big = rng.randbytes(900 * 1024)
    expect('junk: set big', ctl.set('big', big), b'STORED\r\n')
    for i in range(10):
        c = Conn(srv.port)
        c.send(b'get big\r\n' * 20)
        if i % 2:
            time.sleep(0.05)
        c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\x01\x00\x00\x00\x00\x00\x00\x00')
        c.close()
    check(srv.alive(), 'junk: the server died on reset connections')
    check(ctl.get('mid') == old, 'junk: a connection closed mid-request changed the value')

    # Half-closed: requests, then shutdown of the write side; every answer arrives, then the end.
    c = Conn(srv.port)
    reqs, want = [], []
    for i in range(200):
        v = rng.randbytes(rng.randrange(0, 2000))
        reqs.append(b'set hc:%d 0 0 %d\r\n%s\r\n' % (i, len(v), v))
        want.append(b'STORED\r\n')
        reqs.append(b'get hc:%d\r\n' % i)
        want.append(b'VALUE hc:%d 0 %d\r\n%s\r\nEND\r\n' % (i, len(v), v))
    reqs.append(b'get big big big big big big big big big big\r\n')
    want.append(b''.join(b'VALUE big 0 %d\r\n%s\r\n' % (len(big), big) for _ in range(10)) + b'END\r\n')
    c.send(b''.join(reqs))
    c.s.shutdown(socket.SHUT_WR)
    got = c.read_to_eof(30)
    check(got == b''.join(want), f'junk: half-closed connection: {len(got)} bytes of answers, want {len(b"".join(want))}')
    c.close()
    # Half-closed after a last request cut short: the answers before it still arrive (sea's documented
    # difference from memcached, which drops them).
    c = Conn(srv.port)
    c.send(b'get mid\r\nversion\r\nset cut 0 0 10\r\nabc')
    c.s.shutdown(socket.SHUT_WR)
    got = c.read_to_eof(30)
    check(got.startswith(b'VALUE mid 0 %d\r\n%s\r\nEND\r\nVERSION ' % (len(old), old)),
          f'junk: half-closed with a request cut short: {got[:200]!r}')
    c.close()

    served(ctl, 'junk', rng=rng)
    check(ctl.get('cut') is None, 'junk: a cut-short set was stored')
    wait_connections(ctl, base, 'junk: after the junk connections closed')
    ctl.close()


# ---------------------------------------------------------------- sigterm


def hammer(port, idx, stop, counts, errors):
    """set/get in pipelined batches of 20 until stop or the server goes away."""
    rng = random.Random(100 + idx)
    try:
        c = Conn(port, timeout=30)
    except OSError as e:
        errors.append(f'client {idx}: {e}')
        return
    try:
        for n in range(1_000_000):
            if stop.is_set():
                break
            keys = [b'h%d:%d' % (idx, rng.randrange(5000)) for _ in range(20)]
            vals = [rng.randbytes(rng.randrange(1, 1500)) for _ in range(20)]
            c.send(b''.join(b'set %s 0 0 %d\r\n%s\r\n' % (k, len(v), v) for k, v in zip(keys, vals)) +
                   b'get ' + b' '.join(keys) + b'\r\n')
            for _ in range(20):
                if c.line() != b'STORED\r\n':
                    errors.append(f'client {idx}: a set was not stored')
                    return
            c.until(b'END\r\n')
            counts[idx] = n + 1
    except (OSError, EOFError):
        pass  # the server stopped: expected once SIGTERM is sent
    finally:
        c.close()


def case_sigterm(srv, args):
    ctl = Conn(srv.port)
    # 20,000 items for the caches to free at exit.
    rng = random.Random(6)
    for b in range(20):
        batch = b''.join(b'set pre:%d 0 0 1000 noreply\r\n%s\r\n' % (b * 1000 + i, rng.randbytes(1000))
                         for i in range(1000))
        ctl.send(batch)
    check(ctl.stats()['curr_items'] >= 20000, 'sigterm: 20,000 items not stored')
    ctl.close()
    k = 6
    stop = threading.Event()
    counts = [0] * k
    errors = []
    threads = [threading.Thread(target=hammer, args=(srv.port, i, stop, counts, errors)) for i in range(k)]
    for t in threads:
        t.start()
    # Beside them: clients that never read, their sends blocked, and connections stalled mid-line.
    stuck = [socket.create_connection(('127.0.0.1', srv.port), timeout=10) for _ in range(4)]
    for s in stuck:
        s.setblocking(False)
        for _ in range(10000):  # bounded: a server that stops reading blocks us within a few MiB
            try:
                s.send(b'get pre:1\r\n' * 1000)
            except BlockingIOError:
                if not select.select([], [s], [], 0.5)[1]:
                    break
    stalled = [Conn(srv.port) for _ in range(50)]
    for c in stalled:
        c.send(b'get pre:')
    deadline = time.monotonic() + 30
    while min(counts) < 10 and time.monotonic() < deadline and not errors:
        time.sleep(0.05)
    check(min(counts) >= 10, f'sigterm: the clients did not get going: {counts} {errors}')
    before = list(counts)
    # The issue asks for an exit within 1 s.  The stop closes the listeners, shuts every connection
    # down, waits for the handlers (each drains its client for at most the server's 1 s drain
    # timeout) and frees the caches: about 1 s at worst on an idle machine.  On a loaded 2-core
    # machine, or under ASan/TSan, the same work can take several times longer, so the check is
    # 5 s, and the measured time is printed for the record.
    rc, took = srv.stop(timeout=30)
    stop.set()
    for t in threads:
        t.join(30)
    for s in stuck:
        s.close()
    for c in stalled:
        c.close()
    log(f'sigterm: {k} clients had done {sum(before)} batches of 20 sets and a 20-key get, beside {len(stuck)} that '
        f'do not read and {len(stalled)} stalled mid-line; exit status {rc}')
    log(f'memcached.conns.sigterm_exit_seconds: {took:.3f}')
    check(not errors, f'sigterm: wrong answers before the stop: {errors}')
    check(rc == 0, f'sigterm: exit status {rc}')
    check(took < 5.0, f'sigterm: the server took {took:.2f} s to exit')


CASES = {
    'many': case_many,
    'noread': case_noread,
    'slowloris': case_slowloris,
    'limits': case_limits,
    'junk': case_junk,
    'sigterm': case_sigterm,
}


class Args:
    sanitized = False
    tsan = False
    conns = 19900
    max_item = 1024 * 1024


def parse_size(s):
    mult = {'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30}.get(s[-1].lower(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


def main():
    argv = sys.argv[1:]
    if not argv or argv[0] not in CASES:
        print(__doc__)
        return 2
    case = argv.pop(0)
    args = Args()
    while argv and argv[0].startswith('--'):
        opt = argv.pop(0)
        if opt == '--sanitized':
            args.sanitized = True
        elif opt == '--tsan':
            args.tsan = True
        elif opt.startswith('--conns='):
            args.conns = int(opt.split('=', 1)[1])
        else:
            print(f'unknown option {opt}')
            return 2
    if not argv:
        print(__doc__)
        return 2
    for i, a in enumerate(argv):
        if a == '--max-item-size' and i + 1 < len(argv):
            args.max_item = parse_size(argv[i + 1])
        elif a.startswith('--max-item-size='):
            args.max_item = parse_size(a.split('=', 1)[1])
    t0 = time.monotonic()
    srv = Server(argv)
    try:
        CASES[case](srv, args)
    except Exception as e:
        check(False, f'{case}: {type(e).__name__}: {e}')
    finally:
        rc, _ = srv.stop()  # (sigterm has stopped it already: then this only reads the status)
    err = srv.stderr()
    check(rc == 0, f'exit status {rc}: {err[-2000:]}')
    bad = [line for line in err.splitlines() if ' INFO ' not in line]
    check(not bad, f'unexpected stderr: {bad[:5]}')
    log(f'{case}: {time.monotonic() - t0:.1f} s')
    if failures:
        print(f'{len(failures)} failure(s)')
        return 1
    print(f'PASS: {case}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
