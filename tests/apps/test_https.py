#!/usr/bin/env python3
"""test_https.py - HTTPS features beyond the protocol: who the client is, resumption, and reloading.

    test_https.py HTTP_HELPER SEA_HTTPD HTTP_GET_HELPER TLS_CERTS_SH [sea options...]

Certificates from tests/support/tls_certs.sh (a CA; localhost; other.example; a client certificate; a
client certificate from a CA nobody trusts), made in a temporary directory.

  - Mutual TLS in a handler: http_helper with --verify-client answers GET /whoami with the client
    certificate's subject (sea_http_request_tls), over HTTP/1.1 and HTTP/2 (curl --http2); a client
    without a certificate, or with the untrusted one, is refused, and the server goes on.
  - Resumption through sea's HTTP client (tests/programs/http_get_helper): three requests, each on a new
    connection (the server closes after each answer: /whoami?close=1); the first handshake is a full
    one, the next two resume (the server says resumed=yes), all three verified for "localhost".
  - SIGHUP under load in sea-httpd: live.pem/live.key are swapped between two certificates and SIGHUP
    sent five times while h2load sends 20,000 requests on 4 HTTP/2 connections and two threads open new
    HTTPS connections in a loop: no request fails, a keep-alive connection opened before the first
    reload answers after each one, new connections see the certificate of the last reload, and a key
    that does not match is refused (logged) with the last good certificate kept.

Every process is stopped by its PID and every wait is bounded; nothing depends on timing.
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402

FAILURES = []
check = testproc.checker(FAILURES)


SERVING_HTTPS = r"serving https://[0-9.]+:(\d+)/"


def Proc(argv, name):
    """A server started with argv (a testproc.Server): the port of the HTTPS line it prints, its stderr."""
    return testproc.Server(argv, name, check, SERVING_HTTPS)


def curl(*args):
    p = subprocess.run(["curl", "-sS", "--max-time", "30"] + list(args), capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def mutual_tls(helper, d, sea):
    P = lambda n: os.path.join(d, n)
    srv = Proc([helper, "--tls-cert", P("server.pem"), "--tls-key", P("server.key"), "--tls-ca", P("ca.pem"),
                "--verify-client", "--alpn", "h2,http/1.1"] + sea, "http_helper (mutual TLS)")
    try:
        base = ["--cacert", P("ca.pem"), "--resolve", "localhost:%d:127.0.0.1" % srv.port]
        url = "https://localhost:%d/whoami" % srv.port
        for proto, want in (("--http1.1", b"http=11"), ("--http2", b"http=20")):
            rc, out, err = curl(*base, proto, "--cert", P("client.pem"), "--key", P("client.key"), url)
            check(rc == 0 and want in out and b"subject=CN=client,O=sea tests" in out
                  and b"sni=localhost" in out, "mutual TLS %s: the handler sees the client: %r %r" % (proto, out, err))
        rc, out, err = curl(*base, url)
        check(rc != 0 and b"tls=" not in out, "no client certificate: refused (%d %r)" % (rc, err[-200:]))
        rc, out, err = curl(*base, "--cert", P("rogue-client.pem"), "--key", P("rogue-client.key"), url)
        check(rc != 0 and b"tls=" not in out, "an untrusted client certificate: refused (%d %r)" % (rc, err[-200:]))
        rc, out, err = curl(*base, "--cert", P("client.pem"), "--key", P("client.key"), url)
        check(rc == 0 and b"subject=CN=client" in out, "served again after the refusals: %r" % out)
    finally:
        srv.stop()


def resumption(helper, get_helper, d, sea):
    P = lambda n: os.path.join(d, n)
    srv = Proc([helper, "--tls-cert", P("server.pem"), "--tls-key", P("server.key")] + sea, "http_helper (resumption)")
    try:
        outs = [P("who%d.txt" % i) for i in range(3)]
        cmds = ["OPT tls=" + P("ca.pem")] + ["GET /whoami?close=1 >" + o for o in outs]
        r = subprocess.run([get_helper] + sea + ["127.0.0.1:%d" % srv.port] + cmds, capture_output=True, timeout=120)
        text = r.stdout.decode(errors="replace")
        check(r.returncode == 0 and text.count("GET /whoami?close=1 200") == 3,
              "sea's client: three answers: %r %r" % (text, r.stderr[-500:]))
        check("connects=3 " in text, "sea's client: three connections (the server closed each): %r" % text)
        bodies = [open(o, "rb").read() if os.path.exists(o) else b"" for o in outs]
        check(b"resumed=no" in bodies[0], "the first handshake is a full one: %r" % bodies[0])
        check(all(b"resumed=yes" in b for b in bodies[1:]), "the next ones resume: %r" % bodies[1:])
    finally:
        srv.stop()


def reload_under_load(httpd, d, sea):
    P = lambda n: os.path.join(d, n)
    root = P("www")
    os.makedirs(root, exist_ok=True)
    shutil.copy(P("server.pem"), P("live.pem"))
    shutil.copy(P("server.key"), P("live.key"))
    srv = Proc([httpd, "--root", root, "--port", "0", "--tls-port", "0", "--tls-cert", P("live.pem"), "--tls-key",
                P("live.key")] + sea, "sea-httpd")
    any_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    any_ctx.check_hostname = False
    any_ctx.verify_mode = ssl.CERT_NONE

    def cert_name():
        s = any_ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.port), timeout=20))
        der = s.getpeercert(binary_form=True)
        s.close()
        return "other" if b"other.example" in der else "server" if b"localhost" in der else "?"

    try:
        check(cert_name() == "server", "sea-httpd: the first certificate")
        # A kept connection from before the reloads, used after each one: it lives through them all.
        kept = any_ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.port), timeout=20))

        def kept_ok(what):
            kept.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while not got.endswith(b"Hello, World!"):
                chunk = kept.recv(4096)
                if not chunk:
                    break
                got += chunk
            check(got.startswith(b"HTTP/1.1 200") and got.endswith(b"Hello, World!"),
                  "the connection kept from before the reloads, %s: %r" % (what, got[-80:]))

        kept_ok("before")
        h2 = subprocess.Popen(["h2load", "-n", "20000", "-c", "4", "-m", "10", "-t", "1",
                               "https://127.0.0.1:%d/plaintext" % srv.port],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        errors, done, stop = [], [0], threading.Event()

        def load():
            while not stop.is_set() and done[0] < 1000000:
                try:
                    s = any_ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.port), timeout=20))
                    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    got = b""
                    while True:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        got += chunk
                    s.close()
                    if not got.startswith(b"HTTP/1.1 200") or not got.endswith(b"Hello, World!"):
                        errors.append(got[:80])
                    done[0] += 1
                except (OSError, ssl.SSLError) as e:
                    errors.append(repr(e))
                    return

        workers = [threading.Thread(target=load, daemon=True) for _ in range(2)]
        for w in workers:
            w.start()
        for n in range(1, 6):
            pick = "other" if n % 2 else "server"
            shutil.copy(P(pick + ".pem"), P("live.pem.new"))
            shutil.copy(P(pick + ".key"), P("live.key.new"))
            os.rename(P("live.key.new"), P("live.key"))
            os.rename(P("live.pem.new"), P("live.pem"))
            srv.signal(signal.SIGHUP, r"certificate reloaded \(generation %d\)" % n, "reload %d" % n,
                       tsan_pattern=r"certificate reloaded \(generation \d+\)", timeout=30)
            check(cert_name() == pick, "after reload %d new connections get %s.pem" % (n, pick))
            kept_ok("after reload %d" % n)
        stop.set()
        for w in workers:
            w.join(timeout=60)
        try:
            out, _ = h2.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            h2.kill()
            out, _ = h2.communicate()
        text = out.decode(errors="replace")
        check(h2.returncode == 0 and re.search(r"requests: 20000 total, 20000 started, 20000 done, "
                                               r"20000 succeeded, 0 failed, 0 errored", text),
              "h2load through the reloads: %s" % text[-1200:])
        check(not errors and done[0] > 0, "new connections during the reloads: %d, failures %r" % (done[0], errors[:5]))
        # A key that is not the certificate's: refused, the last good certificate stays.
        shutil.copy(P("mismatch.key"), P("live.key"))
        srv.signal(signal.SIGHUP, r"SIGHUP: .*does not match", "a broken reload", timeout=30)
        check(cert_name() == "other", "a failed reload keeps the last good certificate")
        kept.close()
        print("reload under load: %d new connections, h2load's 20000 requests, none failed" % done[0], flush=True)
    finally:
        srv.stop()


def main():
    if len(sys.argv) < 5:
        raise SystemExit("usage: test_https.py HTTP_HELPER SEA_HTTPD HTTP_GET_HELPER TLS_CERTS_SH [sea options...]")
    helper, httpd, get_helper, certs = sys.argv[1:5]
    sea = ["--blocked-reactor-notify-ms=0"] + sys.argv[5:]
    for tool in ("curl", "h2load", "openssl"):
        if not shutil.which(tool):
            raise SystemExit("FAIL: %s is missing (scripts/setup.sh installs it)" % tool)
    d = tempfile.mkdtemp(prefix="sea-https-")
    try:
        p = subprocess.run(["/bin/sh", certs, d, shutil.which("openssl")], capture_output=True, timeout=120)
        if p.returncode != 0:
            raise SystemExit("FAIL: making the certificates: %r" % p.stderr)
        mutual_tls(helper, d, sea)
        resumption(helper, get_helper, d, sea)
        reload_under_load(httpd, d, sea)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    print("all HTTPS checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
