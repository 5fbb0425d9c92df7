#!/usr/bin/env python3
"""test_memcached_tls.py - sea-memcached over TLS (-Z), through real TLS clients.

    test_memcached_tls.py TLS_CERTS_SH OPENSSL [--sanitized] SEA_MEMCACHED [sea options...]

Runs with Debian's /usr/bin/python3 (which sees python3-pymemcache).  The certificates are made at
test time by tests/support/tls_certs.sh; sea-memcached is started on a port it picks (-p 0) with
memcached's own TLS options (-Z -o ssl_chain_cert=...,ssl_key=...), and:

  - pymemcache with an ssl.SSLContext: set, get, delete, incr, decr, a 1 MB value, 500 keys with
    set_many/get_many, stats (ssl_handshake_errors, stats settings' ssl_* lines);
  - openssl s_client: a text-protocol exchange, byte for byte;
  - hostile clients: plain bytes, garbage, half a ClientHello, a silent client: each refused (the
    server counts it in ssl_handshake_errors, which the test reads exactly) and the next TLS client
    served; nothing is asserted about how long anything took;
  - a client-side sanity check: an expired certificate, one for another name and an untrusted CA make
    pymemcache's verification fail;
  - mutual TLS (ssl_verify_mode=2 and 3 with ssl_ca_cert): a client certificate from the CA works, no
    certificate or one from another CA is refused;
  - refresh_certs and SIGHUP: the certificate files replaced, a new connection sees the new
    certificate (its DER compared with the file's) while a connection opened before keeps working; a
    refresh with a key that does not match answers an Error line and changes nothing;
  - options sea cannot honour (ssl_verify_mode=1, ssl_min_version=3, ssl_ciphers, -Z without a
    certificate, a key of another certificate) stop start-up with the reason;
  - a Unix socket stays plain under -Z, as in memcached;
  - the same pymemcache sequence and raw exchanges against Debian's memcached -Z with the same
    certificates, the answers compared (skipped, saying why, if that binary has no TLS).

Every server is stopped with SIGTERM (by its PID) and must exit 0 without sanitizer reports, WARN
lines or ignored failures.
"""
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402

failures = []
check = testproc.checker(failures)


SERVING = r'serving memcached(?:.* on 127\.0\.0\.1:(\d+))?'
BAD_LOG = (r' (WARN|ERROR) |exceptional future ignored|' + testproc.SANITIZERS)


def Server(argv, extra, name, unix=None):
    """sea-memcached with extra options (a testproc.Server: port, expect(), stop(); besides sanitizer reports,
    stop() refuses WARN and ERROR lines but those matching its allow)."""
    listen = ['-l', 'unix:' + unix] if unix else ['-p', '0', '-l', '127.0.0.1']
    return testproc.Server(argv + listen + ['--blocked-reactor-notify-ms=0', '-v'] + extra, name, check, SERVING,
                           serving_on_stderr=True, bad=BAD_LOG)


def client_ctx(certs, ca='ca.pem', cert=None):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, ca))
    if cert:
        ctx.load_cert_chain(os.path.join(certs, cert + '.pem'), os.path.join(certs, cert + '.key'))
    return ctx


def pm_client(port, ctx):
    from pymemcache.client.base import Client
    return Client(('127.0.0.1', port), tls_context=ctx, connect_timeout=30, timeout=30)


def tls_conn(port, ctx, host='localhost'):
    s = socket.create_connection(('127.0.0.1', port), timeout=30)
    try:
        return ctx.wrap_socket(s, server_hostname=host)
    except Exception:
        s.close()
        raise


def ask(s, req, end=b'\r\n'):
    """Sends req and reads until the answer ends with `end` (or the connection ends)."""
    s.sendall(req)
    got = b''
    while not got.endswith(end):
        d = s.recv(65536)
        if not d:
            break
        got += d
    return got


def pem_der(path):
    with open(path) as f:
        text = f.read()
    first = text[:text.index('-----END CERTIFICATE-----') + len('-----END CERTIFICATE-----')]
    return ssl.PEM_cert_to_DER_cert(first)


def pymemcache_sequence(port, ctx, prefix):
    """The operations both servers are asked; returns their answers (a list), for the comparison with stock."""
    c = pm_client(port, ctx)
    out = []
    out.append(c.set(prefix + 'a', b'1', noreply=False))
    out.append(c.get(prefix + 'a'))
    out.append(c.get(prefix + 'missing'))
    out.append(c.incr(prefix + 'a', 41))
    out.append(c.decr(prefix + 'a', 2))
    out.append(c.incr(prefix + 'nope', 1))
    out.append(c.add(prefix + 'a', b'x', noreply=False))
    out.append(c.append(prefix + 'a', b'!', noreply=False))
    out.append(c.get(prefix + 'a'))
    out.append(c.delete(prefix + 'a', noreply=False))
    out.append(c.delete(prefix + 'a', noreply=False))
    big = bytes(range(256)) * 3906 + b'tail'  # 1,000,000 bytes
    out.append(c.set(prefix + 'big', big, noreply=False))
    out.append(c.get(prefix + 'big') == big)
    many = {f'{prefix}k{i}': (b'v%d' % i) * (i % 7 + 1) for i in range(500)}
    out.append(c.set_many(many, noreply=False))
    got = c.get_many(list(many) + [prefix + 'absent'])
    out.append(got == many)
    out.append(c.get(prefix + 'big') == big)
    out.append(c.version())
    c.close()
    return out


def stat(port, ctx, name, group=None):
    c = pm_client(port, ctx)
    try:
        st = c.stats(group) if group else c.stats()
    finally:
        c.close()
    return st.get(name.encode())


def refused(fn):
    """True if fn raised (a TLS or connection error, as a refused client sees it)."""
    try:
        fn()
    except (ssl.SSLError, OSError, Exception) as e:  # pymemcache wraps some of them in its own errors
        return repr(e)
    return None


def client_hello():
    """A real ClientHello (Python's ssl), as bytes."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname='localhost')
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def raw_refused(port, payload):
    """Connects, sends payload (may be empty) and reads until the server closes; returns what it sent."""
    s = socket.create_connection(('127.0.0.1', port), timeout=60)
    got = b''
    try:
        if payload:
            s.sendall(payload)
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except ConnectionResetError:
        pass
    finally:
        s.close()
    return got


# ---- the cases ----

def basic(srv, certs):
    ctx = client_ctx(certs)
    answers = pymemcache_sequence(srv.port, ctx, 'p:')
    want = [True, b'1', None, 42, 40, None, False, True, b'40!', True, False, True, True, [], True, True, b'1.6.18']
    check(answers == want, f'{srv.name}: pymemcache over TLS: {answers} != {want}')
    check(stat(srv.port, ctx, 'ssl_handshake_errors') == 0, f'{srv.name}: ssl_handshake_errors is not 0 at first')
    check(stat(srv.port, ctx, 'time_since_server_cert_refresh') is not None,
          f'{srv.name}: stats has no time_since_server_cert_refresh')
    settings = {k: stat(srv.port, ctx, k, 'settings') for k in
                ('ssl_enabled', 'ssl_chain_cert', 'ssl_verify_mode', 'ssl_min_version', 'ssl_wbuf_size')}
    check(settings['ssl_enabled'] == b'yes' and settings['ssl_min_version'] == b'tlsv1.2' and
          settings['ssl_chain_cert'] == os.path.join(certs, 'live.pem').encode() and settings['ssl_verify_mode'] == 0
          and settings['ssl_wbuf_size'] == 16384, f'{srv.name}: stats settings: {settings}')
    # The binary protocol over TLS too (its first byte chooses it, as on plain TCP).
    s = tls_conn(srv.port, ctx)
    hdr = bytes([0x80, 0x0b]) + bytes(22)  # version
    got = ask(s, hdr, b'1.6.18')
    check(got[:2] == b'\x81\x0b' and got.endswith(b'1.6.18'), f'{srv.name}: binary version over TLS: {got!r}')
    s.close()


def s_client(srv, certs, openssl):
    req = b'set sc 5 0 5\r\nhello\r\nget sc\r\ngets nothing\r\nquit\r\n'
    p = subprocess.run([openssl, 's_client', '-connect', f'127.0.0.1:{srv.port}', '-CAfile',
                        os.path.join(certs, 'ca.pem'), '-servername', 'localhost', '-verify_return_error', '-quiet'],
                       input=req, capture_output=True, timeout=60)
    want = b'STORED\r\nVALUE sc 5 5\r\nhello\r\nEND\r\nEND\r\n'
    check(p.returncode == 0 and p.stdout == want,
          f'{srv.name}: openssl s_client: exit {p.returncode}, {p.stdout!r} != {want!r}; {p.stderr[-500:]!r}')


def hostile(srv, certs):
    ctx = client_ctx(certs)
    hello = client_hello()
    cases = [('plain text', b'version\r\nget a\r\n'), ('garbage', bytes(range(256)) * 4),
             ('garbage that starts like a record', b'\x16\x03\x01\x00\x05hello' + b'\xff' * 100),
             ('half a ClientHello', hello[:len(hello) // 2]), ('nothing', b'')]
    for i, (what, payload) in enumerate(cases):
        mark = srv.mark()
        got = raw_refused(srv.port, payload)
        check(b'VERSION' not in got and b'END' not in got, f'{srv.name}: {what}: answered in plain text: {got!r}')
        srv.expect(r'the TLS handshake failed', mark, what)
        srv.alive(what)
        errors = stat(srv.port, ctx, 'ssl_handshake_errors')
        check(errors == i + 1, f'{srv.name}: {what}: ssl_handshake_errors {errors}, wanted {i + 1}')
        c = pm_client(srv.port, ctx)
        check(c.version() == b'1.6.18', f'{srv.name}: a TLS client after {what}')
        c.close()


def verification(argv, certs):
    """Client-side sanity: the server's certificate is checked by pymemcache's context."""
    for cert, ctxname, host_note in (('expired', 'ca.pem', 'expired'), ('other', 'ca.pem', 'another name'),
                                     ('server', 'rogue-ca.pem', 'an untrusted CA')):
        srv = Server(argv, ['-Z', '-o', f'ssl_chain_cert={certs}/{cert}.pem,ssl_key={certs}/{cert}.key'],
                     f'server with {host_note}')
        c = pm_client(srv.port, client_ctx(certs, ctxname))
        why = refused(c.version)
        check(why and 'CERTIFICATE_VERIFY_FAILED' in why, f'{srv.name}: pymemcache accepted it: {why}')
        c.close()
        srv.stop()


def mutual(argv, certs):
    for mode in (2, 3):
        srv = Server(argv, ['-Z', '-o', f'ssl_chain_cert={certs}/server.pem,ssl_key={certs}/server.key,'
                                        f'ssl_ca_cert={certs}/ca.pem,ssl_verify_mode={mode}'], f'mtls mode {mode}')
        good = pm_client(srv.port, client_ctx(certs, cert='client'))
        check(good.set('m', b'1', noreply=False) is True and good.get('m') == b'1',
              f'{srv.name}: a client with a certificate from the CA')
        check(good.stats('settings').get(b'ssl_verify_mode') == mode, f'{srv.name}: stats settings ssl_verify_mode')
        good.close()
        for what, cert in (('no certificate', None), ('a certificate from another CA', 'rogue-client')):
            mark = srv.mark()
            c = pm_client(srv.port, client_ctx(certs, cert=cert))
            why = refused(lambda: c.get('m'))
            check(why is not None, f'{srv.name}: a client with {what} was served')
            c.close()
            srv.expect(r'the TLS handshake failed', mark, what)
        srv.alive('refused clients')
        srv.stop()


def reload(srv, certs):
    ctx = client_ctx(certs)
    live_pem, live_key = os.path.join(certs, 'live.pem'), os.path.join(certs, 'live.key')
    old = tls_conn(srv.port, ctx)
    check(old.getpeercert(True) == pem_der(os.path.join(certs, 'server.pem')), f'{srv.name}: the first certificate')
    check(ask(old, b'set r 0 0 3\r\nold\r\n') == b'STORED\r\n', f'{srv.name}: set before the refresh')
    # refresh_certs with the files replaced: an RSA certificate for the same names (another serial, another key)
    shutil.copy(os.path.join(certs, 'rsa.pem'), live_pem)
    shutil.copy(os.path.join(certs, 'rsa.key'), live_key)
    got = ask(old, b'refresh_certs\r\n')
    check(got == b'OK\r\n', f'{srv.name}: refresh_certs: {got!r}')
    new = tls_conn(srv.port, ctx)
    check(new.getpeercert(True) == pem_der(os.path.join(certs, 'rsa.pem')),
          f'{srv.name}: a connection after refresh_certs does not see the new certificate')
    check(ask(old, b'get r\r\n') == b'VALUE r 0 3\r\nold\r\nEND\r\n', f'{srv.name}: the old connection after refresh')
    check(ask(new, b'get r\r\n') == b'VALUE r 0 3\r\nold\r\nEND\r\n', f'{srv.name}: the new connection')
    # A refresh that cannot load (a key of no certificate): an Error line even with noreply, nothing changes.
    shutil.copy(os.path.join(certs, 'mismatch.key'), live_key)
    mark = srv.mark()
    got = ask(new, b'refresh_certs noreply\r\nversion\r\n', b'VERSION 1.6.18\r\n')
    check(got.startswith(b'Error ') and got.endswith(b'\r\nVERSION 1.6.18\r\n') and got.count(b'\r\n') == 2,
          f'{srv.name}: a failed refresh_certs: {got!r}')
    srv.expect(r'ERROR memcached-tls - the certificates were not reloaded', mark, 'the failed refresh logged')
    third = tls_conn(srv.port, ctx)
    check(third.getpeercert(True) == pem_der(os.path.join(certs, 'rsa.pem')),
          f'{srv.name}: a failed refresh changed the certificate')
    third.close()
    # SIGHUP: the first certificate back.
    shutil.copy(os.path.join(certs, 'server.pem'), live_pem)
    shutil.copy(os.path.join(certs, 'server.key'), live_key)
    srv.signal(signal.SIGHUP, r'certificates reloaded', 'SIGHUP')
    after = tls_conn(srv.port, ctx)
    check(after.getpeercert(True) == pem_der(os.path.join(certs, 'server.pem')),
          f'{srv.name}: a connection after SIGHUP does not see the reloaded certificate')
    for name, s in (('old', old), ('new', new), ('after', after)):
        check(ask(s, b'incr n 1\r\n') in (b'NOT_FOUND\r\n',), f'{name} connection after SIGHUP')
        s.close()
    check(stat(srv.port, ctx, 'time_since_server_cert_refresh') is not None, f'{srv.name}: time since refresh')


def refusals(argv, certs):
    for opts, reason in ((f'ssl_chain_cert={certs}/server.pem,ssl_key={certs}/server.key,ssl_verify_mode=1',
                          'ssl_verify_mode=1'),
                         (f'ssl_chain_cert={certs}/server.pem,ssl_key={certs}/server.key,ssl_min_version=3',
                          'ssl_min_version=3'),
                         (f'ssl_chain_cert={certs}/server.pem,ssl_ciphers=HIGH', 'ssl_ciphers'),
                         (f'ssl_key={certs}/server.key', 'needs -o ssl_chain_cert'),
                         (f'ssl_chain_cert={certs}/server.pem,ssl_key={certs}/mismatch.key', 'does not match'),
                         (f'ssl_chain_cert={certs}/server.pem,ssl_key={certs}/server.key,ssl_verify_mode=2',
                          'needs ssl_ca_cert'),
                         (f'ssl_chain_cert={certs}/server.pem,maxconns_fast', 'not an option')):
        p = subprocess.run(argv + ['-p', '0', '-l', '127.0.0.1', '-Z', '-o', opts], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        err = p.stderr.decode(errors='replace')
        check(p.returncode != 0 and reason in err, f'refused option {opts!r}: exit {p.returncode}, {err[-500:]!r}')


def unix_plain(argv, certs):
    d = tempfile.mkdtemp(prefix='mc-tls-unix-')
    path = os.path.join(d, 'mc.sock')
    srv = Server(argv, ['-Z', '-o', f'ssl_chain_cert={certs}/server.pem,ssl_key={certs}/server.key'], 'unix socket',
                 unix=path)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(path)
    got = ask(s, b'version\r\n')
    check(got == b'VERSION 1.6.18\r\n', f'{srv.name}: plain on the Unix socket under -Z: {got!r}')
    got = ask(s, b'refresh_certs\r\n')
    check(got == b'OK\r\n', f'{srv.name}: refresh_certs: {got!r}')
    s.close()
    srv.stop()
    shutil.rmtree(d, ignore_errors=True)


def stock(argv, certs, srv):
    """The same TLS sequence against Debian's memcached -Z, the answers compared with sea's."""
    exe = '/usr/bin/memcached'
    if not os.path.exists(exe):
        print('skipped: the stock comparison (no /usr/bin/memcached)')
        return
    helptext = subprocess.run([exe, '-h'], capture_output=True, timeout=30).stdout.decode(errors='replace')
    if 'enable-ssl' not in helptext:
        print('skipped: the stock comparison (/usr/bin/memcached was built without TLS)')
        return
    user = ['-u', 'root'] if os.geteuid() == 0 else []
    p = port = None
    for _ in range(5):  # its port is chosen here; another program may take it first, then try another
        port = testproc.free_port()
        p = subprocess.Popen([exe, '-p', str(port), '-l', '127.0.0.1', '-U', '0', '-Z', '-o',
                              f'ssl_chain_cert={certs}/server.pem,ssl_key={certs}/server.key'] + user,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        testproc.wait_accepting(p, port, 60)  # bounded: until it accepts, or exits
        if p.poll() is None:
            break
        p.wait()
        p = None
    if p is None:
        check(False, 'stock memcached -Z did not start')
        return
    try:
        ctx = client_ctx(certs)
        theirs = pymemcache_sequence(port, ctx, 'cmp:')
        ours = pymemcache_sequence(srv.port, ctx, 'cmp:')
        check(theirs == ours, f'pymemcache over TLS: stock {theirs} != sea {ours}')
        raw = (b'set x 1 0 2\r\nab\r\nget x y\r\nincr x 1\r\nappend x 0 0 1\r\nc\r\ngets nothing\r\n'
               b'refresh_certs\r\nrefresh_certs noreply\r\ndelete x\r\ndelete x\r\nbogus\r\nversion\r\n')
        answers = []
        for q in (port, srv.port):
            s = tls_conn(q, ctx)
            answers.append(ask(s, raw, b'VERSION 1.6.18\r\n'))
            s.close()
        check(answers[0] == answers[1], f'raw text over TLS: stock {answers[0]!r} != sea {answers[1]!r}')
        st = [stat(q, ctx, 'ssl_handshake_errors') is not None for q in (port, srv.port)]
        check(st == [True, True], f'ssl_handshake_errors in stats (stock, sea): {st}')
        ss = [{k: v for k, v in pm_client(q, ctx).stats('settings').items() if k.startswith(b'ssl_') and
               k not in (b'ssl_chain_cert', b'ssl_key', b'ssl_ca_cert')} for q in (port, srv.port)]
        check(ss[0] == ss[1], f'stats settings ssl_*: stock {ss[0]} != sea {ss[1]}')
        print('stock memcached -Z compared: same answers')
    finally:
        testproc.terminate(p, 30)


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        raise SystemExit(__doc__)
    certs_sh, openssl = args[0], args[1]
    args = args[2:]
    if args and args[0] in ('--sanitized', '--tsan'):
        args = args[1:]
    argv = [args[0], '-m', '256M'] + args[1:]
    certs = tempfile.mkdtemp(prefix='mc-tls-')
    try:
        subprocess.run(['sh', certs_sh, certs, openssl], check=True, timeout=300)
        shutil.copy(os.path.join(certs, 'server.pem'), os.path.join(certs, 'live.pem'))
        shutil.copy(os.path.join(certs, 'server.key'), os.path.join(certs, 'live.key'))
        srv = Server(argv, ['-Z', '-o', f'ssl_chain_cert={certs}/live.pem,ssl_key={certs}/live.key',
                            '--tls-handshake-timeout', '0.5'], 'server')
        basic(srv, certs)
        s_client(srv, certs, openssl)
        hostile(srv, certs)
        stock(argv, certs, srv)
        reload(srv, certs)
        srv.stop(allow=r'ERROR memcached-tls - the certificates were not reloaded')
        verification(argv, certs)
        mutual(argv, certs)
        refusals(argv, certs)
        unix_plain(argv, certs)
    finally:
        shutil.rmtree(certs, ignore_errors=True)
    if failures:
        print(f'{len(failures)} failure(s)')
        sys.exit(1)
    print('ok')


if __name__ == '__main__':
    main()
