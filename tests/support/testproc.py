"""testproc.py - running and stopping the server processes the Python app tests drive.

That is its one job.  Used by tests/apps/test_*.py, which put this directory on sys.path:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

  - checker: the check(cond, what) each test reports its failures through (to its own list).
  - Server: a server process started with argv, its stdout and stderr each collected line by line by a
    thread; the port it serves on read from the "serving ..." line it prints; bounded waits for log
    lines (mark, expect); stop by its PID: SIGTERM, a bounded wait, SIGKILL if it hangs, then checked to
    have exited 0 with no sanitizer report (or other unwanted line) on stderr.
  - terminate, kill_wait: the same stop, and a stop without checks, for any subprocess.Popen.
  - read_until: what a process writes to a pipe, read until a condition holds or a deadline passes.
  - free_port, wait_accepting: a port for a server that takes its port on the command line, and a
    bounded wait until it accepts connections on it.
  - netns_or_skip: the network namespace a native-stack test runs its processes in, or a skip that
    says what is missing.

Every wait here is bounded by a deadline that is a bound, never a measurement: nothing depends on how
long something takes, only on whether it happens at all.  Failures go through the test's own `check`
(check(cond, what) -> cond, which records and prints a failure; checker makes one), so each test keeps
its own list of failures and its own way of reporting them.
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

SANITIZERS = r'AddressSanitizer|LeakSanitizer|runtime error|ThreadSanitizer'


def finish(failures):
    """A test's end: prints how many checks failed (or "ok") and returns its exit code, 1 or 0."""
    if failures:
        print(f'{len(failures)} failure(s)', flush=True)
        return 1
    print('ok', flush=True)
    return 0


def checker(failures, label='FAIL:'):
    """A test's check(cond, what) -> cond: when cond is false, what is added to the test's own list
    `failures` and printed after label at once (label None: not printed; the test prints its list)."""
    def check(cond, what):
        if not cond:
            failures.append(what)
            if label is not None:
                print(label, what, flush=True)
        return cond
    return check


def netns_or_skip(prefix, need, tools=(), paths=()):
    """A network namespace of the test's own, prefix-PID, made once the test has what it needs: root
    (for `need`, said in the message), the commands `tools` and the files `paths`.  Otherwise it says
    what is missing and exits 77, which CTest counts as skipped.  The caller deletes the namespace."""
    if os.geteuid() != 0:
        print(f'SKIP: needs root ({need})', flush=True)
        sys.exit(77)
    missing = [t for t in tools if not shutil.which(t)] + [p for p in paths if not os.path.exists(p)]
    if missing:
        print(f'SKIP: needs {", ".join(missing)}', flush=True)
        sys.exit(77)
    ns = f'{prefix}-{os.getpid()}'
    r = subprocess.run(['ip', 'netns', 'add', ns], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        print(f'SKIP: cannot make a network namespace: {r.stderr.strip()}', flush=True)
        sys.exit(77)
    return ns


def kill_wait(p, timeout=30):
    """Stops p by its PID (SIGKILL) if it still runs, and reaps it (waits timeout s at most); no checks."""
    if p.poll() is None:
        p.kill()
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass


def terminate(p, timeout=60):
    """SIGTERM to p by its PID (if it still runs), then waits timeout s at most, then SIGKILL.
    Returns the exit status, or 'hung' if it had to be killed."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return 'hung'


def read_until(f, done, limit, got=b''):
    """Reads the pipe f until done(what was read) holds, EOF, or the monotonic time `limit`; returns what
    was read (with `got` in front)."""
    while not done(got) and time.monotonic() < limit:
        ready, _, _ = select.select([f], [], [], max(0.0, limit - time.monotonic()))
        if not ready:
            break
        chunk = os.read(f.fileno(), 65536)
        if not chunk:
            break
        got += chunk
    return got


def free_port():
    """A loopback port free when asked (another program may take it before the server does: retry)."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_accepting(p, port, timeout):
    """Waits (timeout s at most) until 127.0.0.1:port accepts a connection while p runs; True if it did."""
    limit = time.monotonic() + timeout
    while time.monotonic() < limit and p.poll() is None:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


class _Lines:
    """The lines of a pipe, collected by a thread (decoded, without their newline)."""

    def __init__(self, f):
        self.lines = []
        self.eof = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(f,), daemon=True)
        self.thread.start()

    def _read(self, f):
        for raw in f:
            with self.cond:
                self.lines.append(raw.decode(errors='replace').rstrip('\n'))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def wait(self, rx, since, count, timeout):
        """Waits (timeout s at most, or until the pipe ends) for count lines after line `since` matching
        the compiled rx.  Returns (the matching lines, every line after `since`)."""
        limit = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [l for l in self.lines[since:] if rx.search(l)]
                if len(got) >= count or self.eof or time.monotonic() >= limit:
                    return got, self.lines[since:]
                self.cond.wait(timeout=max(0.01, limit - time.monotonic()))


def built_with_tsan(path):
    """Whether the program at path was built with ThreadSanitizer (its runtime's entry point is in it)."""
    try:
        with open(path, 'rb') as f:
            return b'__tsan_init' in f.read()
    except OSError:
        return False


class Server:
    """A server process started with argv (stdin /dev/null, stdout and stderr collected line by line).

    serving: a regex for the line that says the server is up; its first group, if it matched, is the
    port (self.port; None without it).  The line is looked for on stdout, or on stderr with
    serving_on_stderr.  If it does not come within `timeout` s, the process is killed and the test ends
    (SystemExit "FAIL: ...").  `timeout` also bounds expect() and stop() unless they are given their own.
    check: the test's check(cond, what), through which every failure here is reported.
    bad: a regex for the stderr lines stop() counts as failures (by default the sanitizers' reports;
    None: stderr is not looked at)."""

    def __init__(self, argv, name, check, serving, serving_on_stderr=False, timeout=60, bad=SANITIZERS):
        self.name = name
        self.check = check
        self.timeout = timeout
        self.bad = bad
        self.stopped = False
        self.tsan = built_with_tsan(argv[0])
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._out = _Lines(self.p.stdout)
        self._err = _Lines(self.p.stderr)
        self.lines = self._err.lines  # stderr's lines so far: the list the reader thread appends to
        got = self.wait(serving, 0, stdout=not serving_on_stderr)
        if not got:
            self.kill()
            raise SystemExit(f'FAIL: {name}: {os.path.basename(argv[0])} did not start: stdout {self.stdout()!r}, '
                             f'stderr {self.stderr()[-3000:]}')
        m = re.search(serving, got[0])
        self.port = int(m.group(1)) if m.re.groups and m.group(1) is not None else None

    def stdout(self):
        with self._out.cond:
            return '\n'.join(self._out.lines)

    def stderr(self):
        with self._err.cond:
            return '\n'.join(self._err.lines)

    def mark(self):
        """The number of stderr lines so far: a `since` for expect()."""
        with self._err.cond:
            return len(self._err.lines)

    def wait(self, pattern, since, count=1, timeout=None, stdout=False):
        """Waits (bounded) for count lines of stderr (or stdout) after line `since` that match pattern;
        returns them, or [] if fewer came.  Reports nothing."""
        got, _ = (self._out if stdout else self._err).wait(re.compile(pattern), since, count,
                                                           self.timeout if timeout is None else timeout)
        return got if len(got) >= count else []

    def expect(self, pattern, since, what, count=1, timeout=None, stdout=False):
        """As wait(), and a failure (named by what) if fewer than count lines came."""
        lines = self._out if stdout else self._err
        got, tail = lines.wait(re.compile(pattern), since, count, self.timeout if timeout is None else timeout)
        self.check(len(got) >= count,
                   f'{self.name}: {what}: wanted {count} line(s) like {pattern!r}, got {tail[-10:]}')
        return got if len(got) >= count else []

    def signal(self, sig, pattern, what, tsan_pattern=None, timeout=None):
        """Sends sig by PID and expects a stderr line matching pattern after it (a failure named by what
        otherwise); returns the line, or None.

        Under ThreadSanitizer (the program is built with it) a handled signal can be lost: TSan runs a
        signal's handler late, at the next call it intercepts in the context the signal arrived in, and
        sea's fibers are contexts of their own.  There the signal is sent again every 5 s, 6 times at
        most, and tsan_pattern (default: pattern) is waited for, since a signal that was only late may
        then count twice (a reload numbered one more)."""
        since = self.mark()
        if self.tsan:
            rx = tsan_pattern or pattern
            for _ in range(6):
                self.p.send_signal(sig)
                got = self.wait(rx, since, timeout=5)
                if got:
                    return got[0]
            pattern = rx
        else:
            self.p.send_signal(sig)
        got = self.expect(pattern, since, what, timeout=timeout)
        return got[0] if got else None

    def alive(self, what):
        self.check(self.p.poll() is None, f'{self.name}: still running after {what}')

    def kill(self):
        """Stops the process by its PID without checks (a test that gives up); reaps it."""
        kill_wait(self.p)
        self._out.thread.join(timeout=10)
        self._err.thread.join(timeout=10)
        self.stopped = True

    def stop(self, timeout=None, allow=None):
        """SIGTERM by PID, a bounded wait (then SIGKILL); a failure unless it exited 0, and one if a line
        of stderr matches self.bad but not the regex allow.
        Returns stderr.  Once stopped, it only returns stderr."""
        if self.stopped:
            return self.stderr()
        self.stopped = True
        code = terminate(self.p, self.timeout if timeout is None else timeout)
        self._out.thread.join(timeout=30)
        self._err.thread.join(timeout=30)
        err = self.stderr()
        self.check(code == 0, f'{self.name}: exit status after SIGTERM: {code}: {err[-3000:]}')
        if self.bad:
            lines = [l for l in err.split('\n') if re.search(self.bad, l) and not (allow and re.search(allow, l))]
            self.check(not lines, f'{self.name}: unexpected lines on stderr: {lines[:10]}; stderr ends: {err[-5000:]}')
        return err


def echo_each(addr, count, timeout=60, prefix=b''):
    """Opens count connections to the echo server at addr (host, port) at once, sends prefix + its number + ';'
    on each, reads each back; returns how many came back right.  All are closed at the end."""
    import socket
    socks = [socket.create_connection(addr, timeout=timeout) for _ in range(count)]
    try:
        for i, s in enumerate(socks):
            s.sendall(prefix + b'%d;' % i)
        good = 0
        for i, s in enumerate(socks):
            want, data = prefix + b'%d;' % i, b''
            while len(data) < len(want):
                b = s.recv(100)
                if not b:
                    break
                data += b
            good += data == want
        return good
    finally:
        for s in socks:
            s.close()
