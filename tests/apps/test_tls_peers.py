#!/usr/bin/env python3
"""test_tls_peers.py - sea's TLS (sea/tls.h) against other implementations: openssl s_client and Python's ssl.

    test_tls_peers.py --echo TLS_ECHO --certs TLS_CERTS_SH --openssl OPENSSL [sea options...]

Makes the certificates with tests/support/tls_certs.sh in a temporary directory, runs
tests/programs/tls_echo (a TLS echo server on 127.0.0.1, port 0: it prints the port it got) with
them, and talks to it:

  - openssl s_client -CAfile ca.pem -servername localhost -verify_hostname localhost
    -verify_return_error: a line comes back as sent; with -alpn h2,http/1.1 the server picks
    http/1.1; -tls1_2 and -tls1_3 each give that version; -tls1_1 is refused (the client allowed to
    offer it at security level 0, so the refusal is the server's); 1 MiB through one connection;
    a key update asked for by the client (s_client's "K" command) is answered and the echo goes on;
    no SNI; eight clients at once;
  - Python's ssl: TLS 1.2 with ALPN, an orderly end (unwrap: our close_notify is answered with the
    server's), and an end without close_notify (the server reports "truncated");
  - raw sockets: garbage instead of a ClientHello, half a ClientHello then the end, a whole one then
    the end, a client that says nothing (the server's handshake timeout): each connection is closed
    by the server and the server goes on serving;
  - mutual TLS: a client certificate signed by the CA is accepted and its subject logged; no
    certificate, or one from another CA, is refused (TLS 1.3 and 1.2);
  - an RSA-2048 certificate; credentials that do not load stop tls_echo at start with a reason.

Every process is stopped by its PID (the servers with SIGTERM, then checked to exit 0 with nothing
from the sanitizers on stderr) and every wait is bounded.  The sea options (reactor backend, -c)
go to tls_echo.
"""
import argparse
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402

failures = []
check = testproc.checker(failures)


def Echo(args, opts, name):
    """tls_echo with opts (a testproc.Server: its port, its stderr's lines, expect(), stop())."""
    return testproc.Server([args.echo, '--blocked-reactor-notify-ms=0'] + args.sea + opts, name, check,
                           r'^serving 127\.0\.0\.1:(\d+)$')


# ---- openssl s_client ----

def s_client_argv(args, port, extra, quiet=True):
    argv = [args.openssl, 's_client', '-connect', f'127.0.0.1:{port}', '-CAfile', args.ca,
            '-verify_hostname', 'localhost', '-verify_return_error']
    if '-noservername' not in extra:
        argv += ['-servername', 'localhost']
    if quiet:
        # -quiet turns -ign_eof on: -no_ign_eof after it makes the end of stdin send close_notify and
        # exit; -nocommands keeps a line starting with Q, R or K data.
        argv += ['-quiet', '-no_ign_eof', '-nocommands']
    return argv + extra


def s_client(args, port, extra, data=b'hello from s_client\n', quiet=True):
    """Runs s_client, sends data, reads until its echo (or the end), then ends stdin (close_notify).
    Returns (exit status, stdout, stderr)."""
    p = subprocess.Popen(s_client_argv(args, port, extra, quiet), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    # Written by a thread, so that a large echo is read while it is sent.
    def feed():
        try:
            p.stdin.write(data)
            p.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    # Quiet, stdout is the echo alone; otherwise it has s_client's report too, and the echo is waited for
    # (a TLS 1.3 session ticket comes before it: -sess_out has something to write).
    done = (lambda got: len(got) >= len(data)) if quiet else (lambda got: data in got)
    out = testproc.read_until(p.stdout, done, time.monotonic() + 60)
    writer.join(timeout=30)
    try:
        p.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        testproc.kill_wait(p)
    out += p.stdout.read()
    err = p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    return p.returncode, out, err.decode(errors='replace')


def echo_ok(echo, args, extra, what, data=b'hello from s_client\n'):
    mark = echo.mark()
    rc, out, err = s_client(args, echo.port, extra, data)
    check(rc == 0 and out == data, f'{echo.name}: {what}: s_client status {rc}, {len(out)} of {len(data)} bytes '
                                   f'back ({out[:80]!r}): {err[-1500:]}')
    lines = echo.expect(r'^tls: shard \d+ version=', mark, what)
    return lines[0] if lines else ''


def refused(echo, args, extra, what, server_says):
    """s_client fails, nothing comes back, and the server says why (a line matching server_says)."""
    mark = echo.mark()
    rc, out, err = s_client(args, echo.port, extra, b'must not come back\n')
    check(rc != 0 and b'must not come back' not in out, f'{echo.name}: {what}: s_client status {rc}, out {out!r}')
    echo.expect(r'^tls: shard \d+ handshake failed: ' + server_says, mark, what)
    return err


# ---- raw sockets ----

def raw(port, data, close_how='shutdown'):
    """Sends data on a plain connection, ends it (shutdown: a FIN; none: nothing more), and reads until the
    server closes (20 s at most).  Returns what the server sent, or None if it did not close."""
    s = socket.create_connection(('127.0.0.1', port), timeout=20)
    try:
        if data:
            s.sendall(data)
        if close_how == 'shutdown':
            s.shutdown(socket.SHUT_WR)
        got = b''
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return None
            except ConnectionResetError:
                return got
            if not chunk:
                return got
            got += chunk
    finally:
        s.close()


def client_hello():
    """A real ClientHello (Python's ssl, TLS 1.3 and 1.2, SNI localhost), as bytes."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname='localhost')
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


# ---- Python's ssl ----

def py_context(args, cert=None, key=None, version=None, alpn=None):
    ctx = ssl.create_default_context(cafile=args.ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def py_echo(args, echo, what, ctx, data=b'hello from python\n', unwrap=True):
    """Connects with ctx, echoes data; returns (version, alpn); ends with unwrap (close_notify both ways)
    or, with unwrap False, with a FIN and no close_notify."""
    mark = echo.mark()
    s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', echo.port), timeout=20), server_hostname='localhost')
    try:
        s.sendall(data)
        got = b''
        while len(got) < len(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        check(got == data, f'{echo.name}: {what}: echo {got[:80]!r}')
        version, alpn = s.version(), s.selected_alpn_protocol()
        if unwrap:
            plain = s.unwrap()  # our close_notify, then the server's
            check(plain.recv(10) == b'', f'{echo.name}: {what}: the server closes after its close_notify')
            plain.close()
        else:
            s.shutdown(socket.SHUT_WR)  # SSLSocket.shutdown: the socket's, without close_notify
            s.settimeout(20)
            try:
                while s.recv(65536):  # (the ssl object is gone: these are raw bytes)
                    pass
            except (socket.timeout, OSError):
                pass
    finally:
        s.close()
    echo.expect(r'^tls: shard \d+ version=', mark, what)
    return version, alpn


# ---- the cases ----

def with_plain_server(args):
    echo = Echo(args, ['--cert', args.path('server.pem'), '--key', args.path('server.key'), '--alpn', 'http/1.1',
                       '--handshake-timeout', '1'], 'ec server')
    try:
        line = echo_ok(echo, args, [], 'a line')
        check('version=TLSv1.3 alpn=- sni=localhost resumed=no peer="-"' in line, f'default handshake: {line}')
        line = echo_ok(echo, args, ['-alpn', 'h2,http/1.1'], 'ALPN h2,http/1.1')
        check('alpn=http/1.1' in line, f'ALPN: the server picks http/1.1: {line}')
        line = echo_ok(echo, args, ['-alpn', 'h2'], 'ALPN h2 only')
        check('alpn=-' in line, f'ALPN without a protocol in common: {line}')
        line = echo_ok(echo, args, ['-tls1_2'], 'TLS 1.2')
        check('version=TLSv1.2' in line, f'-tls1_2: {line}')
        line = echo_ok(echo, args, ['-tls1_3'], 'TLS 1.3')
        check('version=TLSv1.3' in line, f'-tls1_3: {line}')
        line = echo_ok(echo, args, ['-noservername'], 'no SNI')
        check('sni=-' in line, f'no SNI: {line}')
        # TLS 1.1: offered (s_client needs security level 0 for it), refused by the server.
        err = refused(echo, args, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], 'TLS 1.1', r'EPROTO .*unsupported protocol')
        check('protocol version' in err, f'TLS 1.1: the client hears why: {err[-1000:]}')
        # 1 MiB through one connection.
        big = b''.join(b'line %06d of the big echo, through openssl s_client\n' % i for i in range(20000))
        big = big[:1 << 20]
        echo_ok(echo, args, [], '1 MiB', big)
        # A key update the client asks for ("K", with s_client's commands on): answered, and the echo goes on.
        mark = echo.mark()
        p = subprocess.Popen(s_client_argv(args, echo.port, ['-msg'], quiet=False), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        limit = time.monotonic() + 30
        p.stdin.write(b'before the update\n')
        p.stdin.flush()
        out = testproc.read_until(p.stdout, lambda got: b'before the update\n' in got, limit)
        # The update (">>>"), then a line: the server's own KeyUpdate ("<<<") comes before its next data
        # (RFC 8446, 4.6.3; OpenSSL sends it with the next write).
        p.stdin.write(b'K\n')
        p.stdin.flush()
        out = testproc.read_until(p.stdout, lambda got: re.search(rb'>>> [^\n]*KeyUpdate', got), limit, out)
        p.stdin.write(b'after the update\n')
        p.stdin.flush()
        out = testproc.read_until(p.stdout, lambda got: b'after the update\n' in got, limit, out)
        p.stdin.close()
        try:
            out += p.stdout.read()
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            testproc.kill_wait(p)
        text = out.decode(errors='replace')
        check(re.search(r'>>> [^\n]*KeyUpdate.*<<< [^\n]*KeyUpdate.*\nafter the update\n', text, re.S) and
              p.returncode == 0,
              f'key update: status {p.returncode}: {text[-2500:]}')
        echo.expect(r'^tls: shard \d+ version=TLSv1.3', mark, 'key update')
        check(not [l for l in echo.lines[mark:] if 'ended:' in l], f'key update: {echo.lines[mark:]}')
        # Eight clients at once.
        mark = echo.mark()
        procs = [subprocess.Popen(s_client_argv(args, echo.port, []), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(8)]
        try:
            for i, p in enumerate(procs):
                line = b'client %d of 8\n' % i
                p.stdin.write(line)
                p.stdin.flush()
                out = testproc.read_until(p.stdout, lambda got: len(got) >= len(line), time.monotonic() + 30)
                check(out == line, f'eight at once: client {i}: {out!r}')
            for p in procs:
                p.stdin.close()
            for i, p in enumerate(procs):
                p.wait(timeout=30)
                check(p.returncode == 0, f'eight at once: client {i} status {p.returncode}')
        except (OSError, subprocess.TimeoutExpired) as e:
            check(False, f'eight at once: {e!r}')
        finally:
            for p in procs:
                testproc.kill_wait(p)
                p.stdout.close()
                p.stderr.close()
        echo.expect(r'^tls: shard \d+ version=TLSv1.3', mark, 'eight at once', count=8)

        # Python's ssl: TLS 1.2 with ALPN; orderly ends; an end without close_notify.
        version, alpn = py_echo(args, echo, 'python TLS 1.2',
                                py_context(args, version=ssl.TLSVersion.TLSv1_2, alpn=['h2', 'http/1.1']))
        check(version == 'TLSv1.2' and alpn == 'http/1.1', f'python TLS 1.2: {version} {alpn}')
        version, alpn = py_echo(args, echo, 'python TLS 1.3', py_context(args))
        check(version == 'TLSv1.3' and alpn is None, f'python TLS 1.3: {version} {alpn}')
        mark = echo.mark()
        py_echo(args, echo, 'python, no close_notify', py_context(args), unwrap=False)
        echo.expect(r'^tls: shard \d+ ended: EPROTO .*truncated', mark, 'an end without close_notify')

        # Hostile and broken clients: each connection is closed, the server goes on.
        rng = random.Random(20261205)
        cases = [
            ('garbage', bytes([0x47]) + rng.randbytes(4095), 'shutdown', r'EPROTO'),
            ('an HTTP request', b'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'none', r'EPROTO'),
            ('a handshake record of nonsense', bytes([0x16, 3, 1, 0, 64, 1]) + rng.randbytes(63), 'none', r'EPROTO'),
            ('half a ClientHello, then the end', None, 'shutdown', r'(ECONNRESET|EPROTO)'),
            ('a whole ClientHello, then the end', None, 'shutdown', r'(ECONNRESET|EPROTO|EPIPE)'),
            ('nothing at all', b'', 'none', r'ETIMEDOUT'),
        ]
        hello = client_hello()
        check(len(hello) > 100 and hello[0] == 0x16, f'a ClientHello from Python: {hello[:10]!r}')
        for what, data, how, says in cases:
            if data is None:
                data = hello[:len(hello) // 2] if what.startswith('half') else hello
            mark = echo.mark()
            got = raw(echo.port, data, how)
            check(got is not None, f'{what}: the server closes the connection')
            echo.expect(r'^tls: shard \d+ handshake failed: ' + says, mark, what)
            echo.alive(what)
        echo_ok(echo, args, [], 'after the hostile clients')
    finally:
        echo.stop()


def with_client_certificates(args):
    echo = Echo(args, ['--cert', args.path('server.pem'), '--key', args.path('server.key'), '--ca', args.path('ca.pem'),
                       '--verify-client'], 'mutual TLS')
    try:
        for ver in ('-tls1_3', '-tls1_2'):
            line = echo_ok(echo, args, [ver, '-cert', args.path('client.pem'), '-key', args.path('client.key')],
                           f'a client certificate {ver}')
            check('peer="CN=client,O=sea tests"' in line, f'the client\'s subject {ver}: {line}')
            refused(echo, args, [ver], f'no client certificate {ver}', r'EPROTO .*certificate')
            refused(echo, args, [ver, '-cert', args.path('rogue-client.pem'), '-key', args.path('rogue-client.key')],
                    f'a client certificate from another CA {ver}', r'EPROTO .*certificate')
        version, _ = py_echo(args, echo, 'python with a client certificate',
                             py_context(args, cert=args.path('client.pem'), key=args.path('client.key')))
        check(version == 'TLSv1.3', f'python with a client certificate: {version}')
    finally:
        echo.stop()


def with_rsa(args):
    echo = Echo(args, ['--cert', args.path('rsa.pem'), '--key', args.path('rsa.key')], 'rsa server')
    try:
        for ver in ('-tls1_3', '-tls1_2'):
            line = echo_ok(echo, args, [ver], f'RSA-2048 {ver}')
            check(('TLSv1.3' if ver == '-tls1_3' else 'TLSv1.2') in line, f'RSA-2048 {ver}: {line}')
    finally:
        echo.stop()


def with_sni_and_resumption(args):
    """Two certificates chosen by SNI; tickets that resume on every shard (Python's ssl and s_client)."""
    echo = Echo(args, ['--cert', args.path('server.pem'), '--key', args.path('server.key'),
                       '--more-cert', args.path('other.pem') + ':' + args.path('other.key')], 'sni server')
    try:
        # s_client asks for each name and verifies the certificate it gets against that name.
        for name in ('other.example', 'localhost'):
            mark = echo.mark()
            rc, out, err = s_client(args, echo.port, ['-servername', name, '-verify_hostname', name])
            check(rc == 0 and out == b'hello from s_client\n', f'sni {name}: status {rc}, {out!r}: {err[-1500:]}')
            echo.expect(rf'^tls: shard \d+ .*sni={re.escape(name)} ', mark, f'sni {name}')
        # s_client keeps the session in a file and offers it again.
        sess = args.path('s_client.session')
        rc, out, err = s_client(args, echo.port, ['-sess_out', sess], quiet=False)
        check(rc == 0 and b'New, TLSv1.3' in out, f's_client first session: {rc} {out[-600:]!r}')
        rc, out, err = s_client(args, echo.port, ['-sess_in', sess], quiet=False)
        check(rc == 0 and b'Reused, TLSv1.3' in out, f's_client resumed: {rc} {out[-600:]!r}')
        # Python's ssl, TLS 1.3 and 1.2: the session from one connection resumes the next, whichever shard
        # it lands on; with several shards, until one lands on a shard other than the first one's.
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            ctx = py_context(args, version=version)
            session, first_shard, other_shard_seen = None, None, False
            failed_before = len(failures)
            for i in range(200):
                mark = echo.mark()
                s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', echo.port), timeout=20),
                                    server_hostname='localhost', session=session)
                try:
                    s.sendall(b'ticket?\n')
                    got = s.recv(100)  # (TLS 1.3: the ticket comes before the echo)
                    check(got == b'ticket?\n', f'resumption {version.name} #{i}: echo {got!r}')
                    if session is not None:
                        check(s.session_reused, f'resumption {version.name} #{i}: not resumed')
                    session = s.session
                    s.unwrap().close()
                finally:
                    s.close()
                line = echo.expect(r'^tls: shard \d+ version=', mark, f'resumption {version.name} #{i}')
                shard = re.search(r'shard (\d+)', line[0]).group(1) if line else None
                if line and session is not None and i > 0:
                    check('resumed=yes' in line[0], f'resumption {version.name} #{i}: server says {line[0]}')
                if first_shard is None:
                    first_shard = shard
                elif shard != first_shard:
                    other_shard_seen = True
                if len(failures) > failed_before or i >= 3 and (other_shard_seen or args.shards == 1):
                    break
            check(other_shard_seen or args.shards == 1, f'resumption {version.name}: never reached a second shard')
    finally:
        echo.stop()


def reload_under_load(args):
    """SIGHUP reloads the certificate files while clients connect: no connection fails, an old connection
    goes on, new ones get the new certificate, and a broken file is refused with the old one kept."""
    live_cert, live_key = args.path('live.pem'), args.path('live.key')
    shutil.copy(args.path('server.pem'), live_cert)
    shutil.copy(args.path('server.key'), live_key)
    echo = Echo(args, ['--cert', live_cert, '--key', live_key], 'reload server')
    any_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    any_ctx.check_hostname = False
    any_ctx.verify_mode = ssl.CERT_NONE
    def subject(s):
        der = s.getpeercert(binary_form=True)
        return b'other.example' in der and 'other' or b'localhost' in der and 'localhost' or '?'
    try:
        old = any_ctx.wrap_socket(socket.create_connection(('127.0.0.1', echo.port), timeout=20))
        check(subject(old) == 'localhost', 'reload: the first certificate')
        errors, done, stop = [], [0], threading.Event()
        def load():
            while not stop.is_set() and done[0] < 100000:
                try:
                    s = any_ctx.wrap_socket(socket.create_connection(('127.0.0.1', echo.port), timeout=20))
                    s.sendall(b'x')
                    if s.recv(1) != b'x':
                        errors.append('no echo')
                    s.unwrap().close()
                    done[0] += 1
                except (OSError, ssl.SSLError) as e:
                    errors.append(repr(e))
                    return
        workers = [threading.Thread(target=load, daemon=True) for _ in range(4)]
        for w in workers:
            w.start()
        for n in range(1, 11):  # ten reloads, alternating between the two certificates
            pick = 'other' if n % 2 else 'server'
            shutil.copy(args.path(pick + '.pem'), live_cert + '.new')
            shutil.copy(args.path(pick + '.key'), live_key + '.new')
            os.rename(live_key + '.new', live_key)
            os.rename(live_cert + '.new', live_cert)
            echo.signal(signal.SIGHUP, rf'^tls: reloaded generation {n}$', f'reload {n}',
                        tsan_pattern=r'^tls: reloaded generation \d+$')
        stop.set()
        for w in workers:
            w.join(timeout=60)
        check(not errors, f'reload under load: failed connections: {errors[:5]}')
        check(done[0] > 0, 'reload under load: no connection was made')
        s = any_ctx.wrap_socket(socket.create_connection(('127.0.0.1', echo.port), timeout=20))
        check(subject(s) == 'localhost', 'reload: generation 10 serves server.pem again')
        s.close()
        # The connection from before every reload still echoes, with the certificate it began with.
        old.sendall(b'still here\n')
        check(old.recv(100) == b'still here\n', 'reload: the old connection goes on')
        check(subject(old) == 'localhost', 'reload: the old connection keeps its certificate')
        old.unwrap().close()
        # A key that does not match: refused, and the server goes on with what it had.
        shutil.copy(args.path('mismatch.key'), live_key)
        echo.signal(signal.SIGHUP, r'^tls: reload failed: .*does not match', 'a broken reload')
        s = any_ctx.wrap_socket(socket.create_connection(('127.0.0.1', echo.port), timeout=20))
        check(subject(s) == 'localhost', 'reload: a failed reload keeps the last good certificate')
        s.close()
        print(f'reload under load: {done[0]} connections, none failed', flush=True)
    finally:
        echo.stop()


def bad_credentials(args):
    """tls_echo does not start with credentials that do not load, and says why."""
    for opts, why in ((['--cert', args.path('server.pem'), '--key', args.path('mismatch.key')], 'mismatch'),
                      (['--cert', args.path('missing.pem'), '--key', args.path('server.key')], 'missing.pem'),
                      (['--cert', args.path('server.pem'), '--key', args.path('server.key'), '--verify-client'],
                       'ca_file'),
                      (['--cert', args.path('server.pem'), '--key', args.path('server.key'), '--alpn', 'h2,,x'],
                       'ALPN')):
        p = subprocess.run([args.echo, '--blocked-reactor-notify-ms=0'] + args.sea + opts, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode(errors='replace')
        check(p.returncode == 1 and why in err and b'serving' not in p.stdout,
              f'bad credentials {opts[-1]}: status {p.returncode}, {err[-1500:]}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--echo', required=True)
    ap.add_argument('--certs', required=True)
    ap.add_argument('--openssl', default='openssl')
    args, sea = ap.parse_known_args()
    args.sea = sea
    shards = [a for a in sea if re.fullmatch(r'-c\d+', a)]
    args.shards = int(shards[-1][2:]) if shards else 1
    openssl = shutil.which(args.openssl)
    if not openssl:
        raise SystemExit(f'FAIL: no {args.openssl} (Debian: apt-get install openssl)')
    args.openssl = openssl
    tmp = tempfile.mkdtemp(prefix='sea-tls-peers-')
    try:
        p = subprocess.run(['/bin/sh', args.certs, tmp, openssl], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        if p.returncode != 0:
            raise SystemExit(f'FAIL: making the certificates: {p.stdout.decode(errors="replace")}')
        args.path = lambda name: os.path.join(tmp, name)
        args.ca = args.path('ca.pem')
        with_plain_server(args)
        with_client_certificates(args)
        with_rsa(args)
        with_sni_and_resumption(args)
        reload_under_load(args)
        bad_credentials(args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f'{len(failures)} failure(s)')
        return 1
    print('all TLS peer checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
