#!/usr/bin/env python3
"""sea-memcached --snapshot-dir: the cache survives an orderly restart, and a
damaged or half-written snapshot is never loaded as garbage.

    test_memcached_snapshot.py CASE SEA_MEMCACHED [sea options...]

CASE:
  restart   items set through one process (values, flags, CAS, a base64 meta
            key, values up to 500 KB, items that expire) are there after a
            SIGTERM and a restart with the same shard count, then with the
            other of 1 and 2 shards (files written by 2 shards loaded by 1,
            and the other way); expired ones are not; new CAS values are
            above the restored ones; exit status 0 each time
  corrupt   one byte flipped inside a chunk: the log names the file and the
            checksum, the chunks before it are loaded, nothing after it, and
            every value served is one that was set
  torn      a file cut short: reported as cut short, the whole chunks before
            the cut are loaded
  garbage   a shard-0.snap that is not a snapshot: reported, nothing loaded,
            the server serves
  kill9     a save stopped for good after 2 chunks (--snapshot-test-stall-after)
            and then killed with SIGKILL: the next start loads the previous
            snapshot whole, removes the half-written .tmp file, and has none
            of the newer items

Every server is started on a free port (-p 0, the port read from its log),
stopped by its PID, and waited for with a deadline.
"""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEADLINE = 60  # seconds for any one wait


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Server:
    def __init__(self, binary, opts, snapdir, extra=()):
        self.errpath = tempfile.mktemp(prefix="snapshot-test-", suffix=".log")
        self.err = open(self.errpath, "w+")
        argv = [binary, "-p", "0", "-l", "127.0.0.1", "-m", "256M", "--snapshot-dir", snapdir] + list(opts) + list(extra)
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.err)
        self.port = None
        end = time.time() + DEADLINE
        while time.time() < end and self.port is None:
            m = re.search(r"serving memcached's .* on 127\.0\.0\.1:(\d+)", self.log())
            if m:
                self.port = int(m.group(1))
            elif self.p.poll() is not None:
                fail("sea-memcached exited with %s on start:\n%s" % (self.p.returncode, self.log()))
            else:
                time.sleep(0.05)
        if self.port is None:
            self.kill()
            fail("sea-memcached did not start within %d s:\n%s" % (DEADLINE, self.log()))

    def log(self):
        with open(self.errpath) as f:
            return f.read()

    def wait_log(self, pattern):
        end = time.time() + DEADLINE
        while time.time() < end:
            if re.search(pattern, self.log()):
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        fail("the log never showed %r:\n%s" % (pattern, self.log()[-3000:]))

    def stop(self):
        """SIGTERM: the orderly stop that saves the snapshot; exit status 0."""
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.kill()
            fail("no exit within %d s of SIGTERM:\n%s" % (DEADLINE, self.log()[-3000:]))
        if rc != 0:
            fail("exit status %s after SIGTERM:\n%s" % (rc, self.log()[-3000:]))
        return self.finish()

    def kill(self):
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGKILL)
            self.p.wait(timeout=DEADLINE)
        return self.finish()

    def finish(self):
        text = self.log()
        self.err.close()
        os.unlink(self.errpath)
        return text


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                fail("the server closed the connection")
            self.buf += chunk
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                fail("the server closed the connection")
            self.buf += chunk
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def gets(self, key):
        """(flags, cas, value) or None."""
        self.send(b"gets " + key + b"\r\n")
        l = self.line()
        if l == b"END":
            return None
        parts = l.split()
        if parts[0] != b"VALUE" or parts[1] != key:
            fail("unexpected answer to gets %r: %r" % (key, l))
        value = self.exact(int(parts[3]) + 2)[:-2]
        if self.line() != b"END":
            fail("no END after a value")
        return int(parts[2]), int(parts[4]), value

    def set(self, key, value, flags=0, exptime=0):
        self.send(b"set %s %d %d %d\r\n%s\r\n" % (key, flags, exptime, len(value), value))
        r = self.line()
        if r != b"STORED":
            fail("set %r: %r" % (key, r))

    def set_many(self, items):
        """Pipelined noreply sets, then a round trip to know they are done."""
        out = []
        for key, (flags, value) in items.items():
            out.append(b"set %s %d 0 %d noreply\r\n%s\r\n" % (key, flags, len(value), value))
            if len(out) >= 500:
                self.send(b"".join(out))
                out = []
        self.send(b"".join(out) + b"mn\r\n")
        if self.line() != b"MN":
            fail("no MN after the sets")

    def close(self):
        self.s.close()


def make_items(prefix, n, rng):
    items = {}
    for i in range(n):
        size = rng.choice([1, 10, 100, 1000, 5000])
        items[b"%s:%d" % (prefix, i)] = (rng.randrange(1 << 32), bytes([rng.randrange(97, 123)]) * size)
    return items


def check_items(port, items, must_all=True):
    """Every item served is the one set; with must_all, every one is served.  Returns how many were served."""
    c = Client(port)
    served = 0
    for key, (flags, value) in items.items():
        got = c.gets(key)
        if got is None:
            if must_all:
                fail("%r is missing after the restart" % key)
            continue
        if got[0] != flags or got[2] != value:
            fail("%r came back as flags %d, %d bytes (set: flags %d, %d bytes)" % (key, got[0], len(got[2]), flags,
                                                                                  len(value)))
        served += 1
    c.close()
    return served


def shards_of(opts):
    for i, o in enumerate(opts):
        m = re.fullmatch(r"-c(\d+)", o)
        if m:
            return int(m.group(1))
        if o == "-c" and i + 1 < len(opts):
            return int(opts[i + 1])
    return 1


def with_shards(opts, n):
    out = [o for o in opts if not re.fullmatch(r"-c\d+", o)]
    return out + ["-c%d" % n]


def case_restart(binary, opts, snapdir):
    rng = random.Random(20261205)
    items = make_items(b"k", 3000, rng)
    big = {b"big:%d" % i: (i, bytes([65 + i]) * (500 * 1000)) for i in range(4)}
    s = Server(binary, opts, snapdir)
    c = Client(s.port)
    c.set_many(items)
    c.set_many(big)
    c.set(b"soon", b"gone", exptime=2)  # expires before the restart is over
    soon_set = time.time()
    c.send(b"ms Zm9vYmFy 3 b\r\nabc\r\n")  # a base64 key: "foobar"
    if c.line() != b"HD":
        fail("ms with a base64 key was not stored")
    cas_before = c.gets(b"k:7")[1]
    c.close()
    s.stop()
    # "soon" expires meanwhile (the snapshot keeps its expiry as a unix time).  Its expiry is at most
    # 3 s after the set (2 s, and the cache clock's whole seconds); wait for 5 s after it, by the wall clock.
    time.sleep(max(0.0, soon_set + 5 - time.time()))
    n = shards_of(opts)
    last = 2 if n == 1 else 1
    for shards in (n, last):
        s = Server(binary, with_shards(opts, shards), snapdir)
        check_items(s.port, items)
        check_items(s.port, big)
        c = Client(s.port)
        if c.gets(b"soon") is not None:
            fail("an expired item came back")
        got = c.gets(b"k:7")
        if got[1] != cas_before:
            fail("k:7's CAS changed over the restart: %d, was %d" % (got[1], cas_before))
        c.send(b"mg Zm9vYmFy b v\r\n")
        if c.line() != b"VA 3" or c.exact(5) != b"abc\r\n":
            fail("the base64 key's item did not come back")
        c.set(b"fresh%d" % shards, b"x")
        if c.gets(b"fresh%d" % shards)[1] <= cas_before:
            fail("a new CAS value is not above the restored ones")
        c.close()
        log = s.stop()
        if "saved" not in log or "loaded" not in log:
            fail("the log does not say what was loaded and saved:\n" + log)
    files = sorted(os.listdir(snapdir))
    if files != ["shard-%d.snap" % i for i in range(last)]:
        fail("files after the last stop (%d shards): %s" % (last, files))


def write_and_stop(binary, opts, snapdir, items):
    s = Server(binary, opts, snapdir)
    c = Client(s.port)
    c.set_many(items)
    c.close()
    s.stop()


def chunk_offsets(path):
    """(offset, length) of each chunk's payload, read the way the format says."""
    data = open(path, "rb").read()
    out, off = [], 64
    while data[off:off + 4] == b"CHNK":
        ln = int.from_bytes(data[off + 4:off + 8], "little")
        out.append((off + 16, ln))
        off += 16 + ln
    return out


def case_damaged(binary, opts, snapdir, how):
    rng = random.Random(7)
    items = make_items(b"d", 20000, rng)  # about 40 MB: many 1 MiB chunks per shard
    opts1 = with_shards(opts, 1)
    write_and_stop(binary, opts1, snapdir, items)
    path = os.path.join(snapdir, "shard-0.snap")
    chunks = chunk_offsets(path)
    if len(chunks) < 4:
        fail("expected several chunks, the file has %d" % len(chunks))
    if how == "corrupt":
        off, ln = chunks[2]
        with open(path, "r+b") as f:
            f.seek(off + ln // 2)
            b = f.read(1)
            f.seek(off + ln // 2)
            f.write(bytes([b[0] ^ 0x40]))
        expect = r"shard-0\.snap is damaged: a chunk's checksum does not match .*chunk 3 .*loaded the 2 whole chunks"
    elif how == "torn":
        off, ln = chunks[3]
        os.truncate(path, off + ln // 3)
        expect = r"shard-0\.snap is damaged: cut short in chunk 4 .*loaded the 3 whole chunks"
    else:
        with open(path, "wb") as f:
            f.write(os.urandom(100000))
        expect = r"shard-0\.snap is damaged: not a sea-memcached snapshot"
    s = Server(binary, opts, snapdir)
    s.wait_log(expect)
    served = check_items(s.port, items, must_all=False)
    want_min = {"corrupt": 1, "torn": 1, "garbage": 0}[how]
    if served < want_min or served >= len(items):
        fail("%s: %d of %d items served" % (how, served, len(items)))
    s.stop()


def case_kill9(binary, opts, snapdir):
    rng = random.Random(9)
    old = make_items(b"old", 2000, rng)
    write_and_stop(binary, opts, snapdir, old)
    s = Server(binary, opts, snapdir, ["--snapshot-test-stall-after", "2"])
    check_items(s.port, old)
    new = make_items(b"new", 20000, rng)  # several chunks per shard
    c = Client(s.port)
    c.set_many(new)
    c.close()
    s.p.send_signal(signal.SIGTERM)
    s.wait_log(r"stalling after 2 chunks")
    s.kill()
    if not any(f.endswith(".tmp") for f in os.listdir(snapdir)):
        fail("no half-written .tmp file: the stall hook did not stop the save mid-write")
    s = Server(binary, opts, snapdir)
    s.wait_log(r"removed .*\.tmp, left by a save that did not finish")
    check_items(s.port, old)
    c = Client(s.port)
    for key in list(new)[:200]:
        if c.gets(key) is not None:
            fail("%r, set after the last complete snapshot, came back" % key)
    c.close()
    s.stop()


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    case, binary, opts = sys.argv[1], sys.argv[2], sys.argv[3:]
    snapdir = tempfile.mkdtemp(prefix="sea-snapshot-", dir="/var/tmp")
    try:
        if case == "restart":
            case_restart(binary, opts, snapdir)
        elif case in ("corrupt", "torn", "garbage"):
            case_damaged(binary, opts, snapdir, case)
        elif case == "kill9":
            case_kill9(binary, opts, snapdir)
        else:
            fail("unknown case " + case)
    finally:
        shutil.rmtree(snapdir, ignore_errors=True)
    print("PASS " + case)


if __name__ == "__main__":
    main()
