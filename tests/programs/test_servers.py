#!/usr/bin/env python3
"""test_servers.py - the tutorial's servers as a user runs them.

    test_servers.py CASE SERVER_BINARY [sea options...]

Each case starts the server as a process on 127.0.0.1:0 (or a Unix socket in
a fresh temporary directory), reads its address from the "listening on" line
on stderr, drives it with plain blocking sockets as any client would, stops
it with SIGTERM and checks that it exits 0 and that stderr holds only the
server's own INFO/WARN lines (a leak report, an "exceptional future
ignored", a crash or an unexpected error fails the case).  Every wait is
bounded; nothing depends on timing except those generous bounds.

Cases (what issue 14 found, items 13-18):
  serve            40 connections answered: echo 256 KiB each, written in
                   pieces while reading; canned: one answer each; accept: one
                   "Accepted connection from" line each
  no_reset         the client writes first and the canned server closes with
                   its bytes unread: every answer must still arrive (a close
                   without draining resets the connection and loses it)
  stop_in_storm    SIGTERM while clients connect and talk as fast as they can:
                   the stop must not crash (a stop racing queued accepts)
  emfile           under a 64-descriptor limit, 150 connections at once: the
                   accept loop backs off, logs, and accepts again once the
                   clients leave
  no_memory        a fiber server given 24 MiB and 400 connections: those
                   without room for a fiber stack are refused and closed, the
                   rest served, and the server still serves afterwards
  unix             a Unix socket on every shard; a stale socket file is
                   replaced, a regular file is not (start fails, says why);
                   the socket file is removed at stop
  slow_stdout      accept_server with stdout on a pipe nobody reads: it keeps
                   accepting and stops on SIGTERM
"""
import os
import re
import resource
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE = 30.0  # seconds any one wait may take before the case fails
failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL:', msg, file=sys.stderr)


class Server:
    """A server process: stdout and stderr are collected by threads so a
    chatty server never blocks on a full pipe (unless stdout_sink says so)."""

    def __init__(self, argv, stdout_sink=None, preexec=None):
        self.argv = argv
        out = stdout_sink if stdout_sink is not None else subprocess.PIPE
        self.p = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, preexec_fn=preexec)
        self.err_lines = []
        self.out_lines = []
        self.listening = threading.Event()
        self.addr = None
        self.t_err = threading.Thread(target=self._read_err, daemon=True)
        self.t_err.start()
        self.t_out = None
        if stdout_sink is None:
            self.t_out = threading.Thread(target=self._read_out, daemon=True)
            self.t_out.start()

    def _read_err(self):
        for raw in self.p.stderr:
            line = raw.decode(errors='replace').rstrip('\n')
            self.err_lines.append(line)
            m = re.search(r'listening on (\S+), \d+ shards?$', line)
            if m and self.addr is None:
                self.addr = m.group(1)
                self.listening.set()
        self.listening.set()  # it exited: wake whoever waits

    def _read_out(self):
        for raw in self.p.stdout:
            self.out_lines.append(raw.decode(errors='replace').rstrip('\n'))

    def wait_listening(self):
        if not self.listening.wait(DEADLINE) or self.addr is None:
            self.kill()
            raise SystemExit('FAIL: the server never said "listening on":\n' + '\n'.join(self.err_lines[-20:]))
        return self.addr

    def port(self):
        return int(self.addr.rsplit(':', 1)[1])

    def stop(self, expect_status=0):
        """SIGTERM by PID; expects exit status expect_status within DEADLINE."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.kill()
            fail(f'{self.argv[0]} still ran {DEADLINE} s after SIGTERM (killed)')
            return
        self.t_err.join(DEADLINE)
        if self.t_out:
            self.t_out.join(DEADLINE)
        if self.p.returncode != expect_status:
            fail(f'exit status {self.p.returncode}, expected {expect_status}')

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def check_stderr(self, allowed=()):
        """Every stderr line must be one of the server's own INFO lines or
        match one of the allowed regexes."""
        ok = [r'^\S+ \S+ \[shard \d+\] INFO  server - ']
        ok += list(allowed)
        for line in self.err_lines:
            if not any(re.search(a, line) for a in ok):
                fail(f'unexpected stderr line: {line!r}')
                break


def connect(addr):
    if addr.startswith('/') or addr.startswith('unix:'):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(DEADLINE)
        s.connect(addr[5:] if addr.startswith('unix:') else addr)
        return s
    host, port = addr.rsplit(':', 1)
    return socket.create_connection((host.strip('[]'), int(port)), timeout=DEADLINE)


def recv_all(s):
    chunks = []
    while True:
        d = s.recv(65536)
        if not d:
            return b''.join(chunks)
        chunks.append(d)


def echo_round(addr, size):
    """Writes size bytes in pieces while reading the echo, half-closes, and
    checks that exactly those bytes came back."""
    s = connect(addr)
    data = bytes((i * 7 + size) & 0xff for i in range(size))
    got = []

    def reader():
        try:
            got.append(recv_all(s))
        except OSError as e:
            got.append(e)

    t = threading.Thread(target=reader)
    t.start()
    for off in range(0, size, 8192):
        s.sendall(data[off:off + 8192])
    s.shutdown(socket.SHUT_WR)
    t.join(DEADLINE)
    s.close()
    if not got or isinstance(got[0], Exception) or got[0] != data:
        what = got[0] if got and isinstance(got[0], Exception) else f'{len(got[0]) if got else "no"} bytes'
        fail(f'echo of {size} bytes came back as {what}')


def kind(binary):
    name = os.path.basename(binary)
    for k in ('echo', 'canned', 'accept'):
        if k in name:
            return k
    raise SystemExit(f'unknown server {name}')


def talk(addr, k):
    """One client exchange of the server's kind; returns True when it was
    answered as it should be."""
    s = connect(addr)
    try:
        if k == 'echo':
            s.sendall(b'ping\n')
            s.shutdown(socket.SHUT_WR)
            return recv_all(s) == b'ping\n'
        if k == 'canned':
            return recv_all(s) == b'Seastar is the future!\n'
        return recv_all(s) == b''
    finally:
        s.close()


def case_serve(binary, opts):
    k = kind(binary)
    srv = Server([binary, '127.0.0.1:0'] + opts)
    addr = srv.wait_listening()
    for i in range(40):
        if k == 'echo':
            echo_round(addr, 256 * 1024 if i % 4 == 0 else 1000 + i)
        elif not talk(addr, k):
            fail(f'connection {i} was not answered as a {k} server answers')
    srv.stop()
    srv.check_stderr()
    if k == 'accept':
        lines = [l for l in srv.out_lines if re.fullmatch(r'Accepted connection from 127\.0\.0\.1:\d+', l)]
        if len(lines) != 40 or len(srv.out_lines) != 40:
            fail(f'expected 40 "Accepted connection from" lines, stdout was {srv.out_lines[:5]}... '
                 f'({len(srv.out_lines)} lines)')


def case_no_reset(binary, opts):
    srv = Server([binary, '127.0.0.1:0'] + opts)
    addr = srv.wait_listening()
    lost = 0
    for i in range(300):
        s = connect(addr)
        try:
            s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n' + b'x' * (i % 700))
            if recv_all(s) != b'Seastar is the future!\n':
                lost += 1
        except ConnectionResetError:
            lost += 1
        finally:
            s.close()
    if lost:
        fail(f'{lost} of 300 answers lost when the client wrote first')
    srv.stop()
    srv.check_stderr()


def case_stop_in_storm(binary, opts):
    k = kind(binary)
    for rnd in range(10):
        srv = Server([binary, '127.0.0.1:0'] + opts)
        addr = srv.wait_listening()
        stop = threading.Event()
        served = [0]

        def client():
            while not stop.is_set():
                try:
                    if talk(addr, k):
                        served[0] += 1
                except OSError:
                    pass  # refused or reset once the server stops: expected

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        # Stop once the storm is under way (a count, not a time).
        limit = time.monotonic() + DEADLINE
        while served[0] < 50 * (rnd + 1) and time.monotonic() < limit and srv.p.poll() is None:
            time.sleep(0.001)
        srv.stop()
        stop.set()
        for t in threads:
            t.join(DEADLINE)
        srv.check_stderr([r' WARN  server - .*(connection|handler)'])
        if failures:
            return


def case_emfile(binary, opts):
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    srv = Server([binary, '127.0.0.1:0'] + opts, preexec=limit)
    addr = srv.wait_listening()
    conns = [connect(addr) for _ in range(150)]  # the backlog holds what is not accepted
    # Wait (bounded) until the server says it cannot accept.
    limit_t = time.monotonic() + DEADLINE
    while not any('cannot accept' in l for l in srv.err_lines) and time.monotonic() < limit_t:
        time.sleep(0.01)
    if not any('cannot accept: Too many open files (EMFILE)' in l for l in srv.err_lines):
        fail('the server never reported EMFILE')
    for s in conns:
        s.close()
    # Every one of those clients has gone: the server must accept again.
    for i in range(5):
        if not talk(addr, kind(binary)):
            fail(f'after the clients left, connection {i} was not served')
    srv.stop()
    srv.check_stderr([r' WARN  server - .*cannot accept: Too many open files \(EMFILE\); retrying',
                      r' WARN  server - .*(connection|handler)'])
    warns = [l for l in srv.err_lines if 'cannot accept' in l]
    if len(warns) > 10:
        fail(f'EMFILE was logged {len(warns)} times, not once per episode')


def case_no_memory(binary, opts):
    srv = Server([binary, '127.0.0.1:0', '-m', '24M'] + opts)
    addr = srv.wait_listening()
    conns = [connect(addr) for _ in range(400)]
    served = refused = 0
    for s in conns:
        try:
            s.sendall(b'x')
            d = s.recv(1)
            if d == b'x':
                served += 1
            elif d == b'':
                refused += 1
            else:
                fail(f'a connection answered {d!r}')
        except ConnectionResetError:
            refused += 1
        except socket.timeout:
            fail('a connection was neither served nor closed')
            break
    if refused == 0 or served == 0:
        fail(f'expected some connections served and some refused, got {served} served, {refused} refused')
    for s in conns:
        s.close()
    for i in range(3):
        if not talk(addr, 'echo'):
            fail(f'after the clients left, connection {i} was not served')
    srv.stop()
    srv.check_stderr([r' WARN  server - .*refused a connection: no memory for a fiber stack',
                      r' WARN  server - .*(connection|handler)'])
    if not any('refused a connection' in l for l in srv.err_lines):
        fail('the refusals were not logged')


def case_unix(binary, opts):
    k = kind(binary)
    with tempfile.TemporaryDirectory(prefix='sea-unix-') as d:
        path = os.path.join(d, 'srv.sock')
        # A stale socket file, as a crashed server leaves: bound, never unlinked.
        old = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old.bind(path)
        old.close()
        srv = Server([binary, 'unix:' + path] + opts)
        srv.wait_listening()
        for i in range(20):
            if not talk('unix:' + path, k):
                fail(f'unix connection {i} was not served')
        srv.stop()
        srv.check_stderr()
        if os.path.exists(path):
            fail(f'the socket file {path} is still there after the stop')
        if not any('removed the stale socket file' in l for l in srv.err_lines):
            fail('the stale socket file was not reported')
        # Started again on the same path: works.
        srv = Server([binary, 'unix:' + path] + opts)
        srv.wait_listening()
        if not talk('unix:' + path, k):
            fail('the restarted server did not serve')
        srv.stop()
        srv.check_stderr()
        # A regular file at that path is somebody's data: refuse to start, say why.
        with open(path, 'w') as f:
            f.write('data\n')
        p = subprocess.run([binary, 'unix:' + path] + opts, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=DEADLINE)
        err = p.stderr.decode(errors='replace')
        if p.returncode == 0:
            fail('the server started over a regular file')
        if 'not a socket' not in err:
            fail(f'the refusal does not say why: {err!r}')
        with open(path) as f:
            if f.read() != 'data\n':
                fail('the regular file was changed')


def case_slow_stdout(binary, opts):
    r, w = os.pipe()  # nobody reads r: the pipe fills after ~64 KiB
    srv = Server([binary, '127.0.0.1:0'] + opts, stdout_sink=w)
    os.close(w)
    addr = srv.wait_listening()
    for i in range(2000):  # ~80 KiB of lines: more than the pipe holds
        if not talk(addr, 'accept'):
            fail(f'connection {i} was not accepted and closed')
            break
    srv.stop()
    os.close(r)
    srv.check_stderr([r'^sea: \d+ pieces of output from .* dropped: stdout is too slow$', r'^sea: log output blocked at exit; some lines were not written$'])


CASES = {
    'serve': case_serve, 'no_reset': case_no_reset, 'stop_in_storm': case_stop_in_storm,
    'emfile': case_emfile, 'no_memory': case_no_memory, 'unix': case_unix, 'slow_stdout': case_slow_stdout,
}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in CASES:
        print(__doc__)
        return 2
    binary, opts = sys.argv[2], sys.argv[3:]
    opts = opts + ['--blocked-reactor-notify-ms=0']
    CASES[sys.argv[1]](binary, opts)
    if failures:
        print(f'{len(failures)} failure(s)')
        return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
