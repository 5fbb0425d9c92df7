#!/usr/bin/env python3
"""test_httpd.py - sea's HTTP server (sea/http.h) driven by real clients.

    test_httpd.py HTTP_HELPER SEA_HTTPD [sea options...]

Starts tests/programs/http_helper (one route per feature) and sea-httpd on
ports the kernel picks, and checks every feature the library promises with
curl, Python's http.client and raw sockets: keep-alive, pipelining, chunked
bodies both ways with trailers, 100-continue, HEAD, routes and their
parameters, hooks, errors, limits (414, 431, 413), the head timeout (408),
request smuggling refused, and the static files (conditionals, ranges,
redirects, paths that would leave the root).  Every wait is bounded; every
process is stopped by its PID.  Exits 1 naming each failed check.
"""
import hashlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402

FAILURES = []
TIMEOUT = 20.0  # for any single exchange: far above what a working server needs


check = testproc.checker(FAILURES, "FAIL")


def start(argv, name):
    """Starts a server (a testproc.Server) and returns it once it prints where it serves (its first such line
    gives .port).  Its stop() checks the exit status after SIGTERM (not its stderr) and returns its stderr."""
    return testproc.Server(argv, name, check, r"serving https?://[0-9.]+:(\d+)/", timeout=30, bad=None)


TLS = None  # an ssl.SSLContext while the HTTPS instance is tested: every raw connection is wrapped


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    if TLS is not None:
        s = TLS.wrap_socket(s, server_hostname="localhost")
    return s


def read_response(f, head_only=False):
    """Reads one response from a file made by socket.makefile('rb'): (status, headers dict, body, trailers)."""
    line = f.readline()
    if not line:
        return None, {}, b"", {}
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", line)
    if not m:
        raise ValueError("bad status line %r" % line)
    status = int(m.group(1))
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        k, v = h.decode("latin-1").split(":", 1)
        headers[k.strip().lower()] = v.strip()
    if status == 100:
        return read_response(f, head_only)
    body, trailers = b"", {}
    if head_only or status in (204, 304):
        return status, headers, body, trailers
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                break
            body += f.read(size)
            f.read(2)
        while True:
            t = f.readline()
            if t in (b"\r\n", b""):
                break
            k, v = t.decode("latin-1").split(":", 1)
            trailers[k.strip().lower()] = v.strip()
    elif "content-length" in headers:
        body = f.read(int(headers["content-length"]))
    else:
        body = f.read()
    return status, headers, body, trailers


def exchange(port, raw, responses=1, head_only=False):
    """Sends raw bytes; reads that many responses; then whether the server closed the connection."""
    s = connect(port)
    s.sendall(raw)
    f = s.makefile("rb")
    got = []
    for _ in range(responses):
        try:
            r = read_response(f, head_only)
        except (ValueError, ConnectionError, socket.timeout) as e:
            r = (None, {}, repr(e).encode(), {})
        got.append(r)
        if r[0] is None:
            break
    closed = False
    try:
        s.settimeout(2.0 if any(r[1].get("connection") == "close" for r in got) else 0.2)
        closed = f.read(1) == b""
    except (socket.timeout, ConnectionError, ValueError):
        closed = False
    s.close()
    return got, closed


TLS_CA = None  # the CA file while the HTTPS instance is tested


def curl(*args, data=None):
    args = list(args)
    if TLS is not None:
        # The same checks over HTTPS: the URL's scheme and name change, the CA is given.
        extra = []
        for i, a in enumerate(args):
            m = re.match(r"http://127\.0\.0\.1:(\d+)(/.*)", a)
            if m:
                args[i] = "https://localhost:%s%s" % m.groups()
                extra = ["--cacert", TLS_CA, "--resolve", "localhost:%s:127.0.0.1" % m.group(1)]
        args[:0] = extra
    r = subprocess.run(["curl", "-sS", "--max-time", "30"] + args, input=data, capture_output=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def test_basics(port):
    rc, out, err = curl("-i", "http://127.0.0.1:%d/plaintext" % port)
    check(rc == 0 and out.startswith(b"HTTP/1.1 200 OK\r\n"), "curl GET /plaintext: %r %r" % (out[:100], err))
    check(out.endswith(b"\r\n\r\nHello, World!"), "the body is Hello, World!")
    for h in (b"\r\nDate: ", b"\r\nServer: sea\r\n", b"\r\nContent-Length: 13\r\n", b"\r\nContent-Type: text/plain\r\n"):
        check(h in out, "header %r in %r" % (h, out))
    rc, out, err = curl("-I", "http://127.0.0.1:%d/plaintext" % port)
    check(b"Content-Length: 13" in out and not out.endswith(b"Hello, World!"), "HEAD: length, no body: %r" % out)
    # HTTP/1.0: closed after the answer unless it asks to keep the connection.
    got, closed = exchange(port, b"GET /plaintext HTTP/1.0\r\n\r\n")
    check(got[0][0] == 200 and closed, "HTTP/1.0 answered then closed")
    got, closed = exchange(port, b"GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    check(got[0][0] == 200 and got[0][1].get("connection") == "keep-alive" and not closed,
          "HTTP/1.0 keep-alive kept: %r" % (got,))
    got, closed = exchange(port, b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check(got[0][0] == 200 and got[0][1].get("connection") == "close" and closed, "Connection: close honoured")
    # absolute-form target
    got, _ = exchange(port, b"GET http://example.com/plaintext?x HTTP/1.1\r\nHost: example.com\r\n\r\n")
    check(got[0][0] == 200, "absolute-form target: %r" % (got,))


def test_keepalive_http_client(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    ok = True
    for i in range(200):
        c.request("GET", "/plaintext")
        r = c.getresponse()
        ok &= r.status == 200 and r.read() == b"Hello, World!"
    sock = c.sock
    c.request("POST", "/echo", body=b"x" * 100000)
    r = c.getresponse()
    ok &= r.status == 200 and r.read() == b"x" * 100000
    check(ok and c.sock is sock, "200 requests and a POST on one kept connection (http.client)")
    # chunked request body through http.client
    def gen():
        for i in range(50):
            yield bytes([65 + i % 26]) * 1000
    c.request("POST", "/echo", body=gen(), encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
    r = c.getresponse()
    body = r.read()
    check(r.status == 200 and body == b"".join(gen()), "chunked upload echoed (http.client): %d" % r.status)
    c.request("POST", "/echo_stream", body=gen(), encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
    r = c.getresponse()
    body = r.read()
    check(r.status == 200 and r.getheader("Transfer-Encoding") == "chunked" and body == b"".join(gen()),
          "chunked both ways (http.client)")
    c.close()


def test_keepalive_https(port):
    c = http.client.HTTPSConnection("localhost", port, timeout=TIMEOUT, context=TLS)
    ok = True
    for i in range(50):
        c.request("GET", "/plaintext")
        r = c.getresponse()
        ok &= r.status == 200 and r.read() == b"Hello, World!"
    sock = c.sock
    c.request("POST", "/echo", body=b"x" * 300000)
    r = c.getresponse()
    ok &= r.status == 200 and r.read() == b"x" * 300000
    check(ok and c.sock is sock, "50 requests and a POST on one kept HTTPS connection (http.client)")
    c.close()


def test_pipelining(port):
    reqs = b"".join([
        b"GET /slow?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: 1\r\n\r\n",
        b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /query?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    ])
    s = connect(port)
    s.sendall(reqs)
    f = s.makefile("rb")
    got = [read_response(f, head_only=(i == 5)) for i in range(7)]
    s.close()
    want = [(200, b"slept 100"), (200, b"Hello, World!"), (200, b"hello"), (200, b"abcde"), (404, None), (200, b""),
            (200, b"a=[1] b=[(none)]")]
    for i, (g, w) in enumerate(zip(got, want)):
        check(g[0] == w[0] and (w[1] is None or g[2] == w[1]), "pipelined answer %d in order: %r" % (i, g[:3]))
    check(got[5][1].get("content-length") == "13", "pipelined HEAD keeps the length")
    # Many small requests in one write, answered together.
    n = 500
    s = connect(port)
    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n" * n)
    f = s.makefile("rb")
    ok = all(read_response(f)[2] == b"Hello, World!" for _ in range(n))
    s.close()
    check(ok, "%d pipelined requests answered" % n)


def test_streams(port):
    got, _ = exchange(port, b"GET /stream?n=1000&size=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
    st, h, body, tr = got[0]
    want = b"".join(bytes([97 + i % 26]) * 1000 for i in range(1000))
    check(st == 200 and h.get("transfer-encoding") == "chunked" and body == want, "a streamed 1 MB chunked answer")
    check(tr.get("x-pieces") == "done", "its trailer: %r" % tr)
    # A large chunked upload streamed back, with the total in a trailer.
    data = os.urandom(3 << 20)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 65536]), data[i:i + 65536]) for i in range(0, len(data), 65536))
    got, _ = exchange(port, b"POST /echo_stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks +
                      b"0\r\n\r\n")
    st, h, body, tr = got[0]
    check(st == 200 and body == data and tr.get("x-total") == str(len(data)),
          "3 MB chunked upload streamed back (%s, %d bytes, %r)" % (st, len(body), tr))
    # The same into /echo, which reads it whole with sea_http_request_read_body: pieces already in the buffer
    # are taken in a loop, not by nested continuations (which once overflowed the fiber's stack under ASan).
    piece = 10007
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + piece]), data[i:i + piece]) for i in range(0, len(data), piece))
    got, _ = exchange(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks +
                      b"0\r\n\r\n")
    check(got[0][0] == 200 and got[0][2] == data, "3 MB in 10007-byte chunks read whole (%s)" % (got[0][0],))
    # A client that leaves in the middle of a streamed answer: the connection ends, nothing is logged as failed.
    s = connect(port)
    s.sendall(b"GET /stream?n=2000&size=65536 HTTP/1.1\r\nHost: x\r\n\r\n")
    s.recv(32768)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset on close
    s.close()
    # curl: chunked upload and --raw chunked download
    rc, out, err = curl("--raw", "http://127.0.0.1:%d/stream?n=2&size=3" % port)
    # (the response stream batches small writes: both pieces go out as one chunk)
    check(out == b"6\r\naaabbb\r\n0\r\nX-Pieces: done\r\n\r\n", "curl --raw sees chunks and trailer: %r" % out)
    rc, out, err = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@-", "http://127.0.0.1:%d/echo" % port,
                        data=b"q" * 70000)
    check(rc == 0 and out == b"q" * 70000, "curl chunked upload echoed (%d bytes)" % len(out))


def test_continue(port):
    # curl waits for 100 Continue before the body.
    rc, out, err = curl("-v", "-H", "Expect: 100-continue", "--data-binary", "@-", "http://127.0.0.1:%d/echo" % port,
                        data=b"z" * 5000)
    check(rc == 0 and out == b"z" * 5000 and b"HTTP/1.1 100 Continue" in err, "curl's Expect: 100-continue")
    # Raw: the head, then 100 before any body byte is sent.
    s = connect(port)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    f = s.makefile("rb")
    line = f.readline()
    f.readline()
    s.sendall(b"body")
    st, h, body, _ = read_response(f)
    check(line.startswith(b"HTTP/1.1 100 Continue") and st == 200 and body == b"body", "100 Continue, then the answer")
    s.close()
    # Too large: 413 without the body, no 100.
    got, closed = exchange(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n"
                                 b"Expect: 100-continue\r\n\r\n")
    check(got[0][0] == 413 and closed, "Expect with a body too large: 413 and close (%r)" % (got[0][:2],))
    got, _ = exchange(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: magic\r\n\r\nx")
    check(got[0][0] == 417, "an unknown expectation: 417")


def test_routes(port):
    def get(path, headers=""):
        got, _ = exchange(port, ("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, headers)).encode())
        return got[0]
    r = get("/users/42/files/a/b.txt")
    check(r[2] == b"id=42 rest=a/b.txt", "parameters: %r" % (r[2],))
    r = get("/users/me/files/x")
    check(r[2] == b"me", "a literal beats a parameter: %r" % (r[2],))
    r = get("/users/42/files/")
    check(r[2] == b"id=42 rest=", "an empty wildcard: %r" % (r[2],))
    r = get("/users/42/files")
    check(r[0] == 404, "no wildcard without its slash: %r" % (r[0],))
    r = get("/users/%34%32/files/%20x")
    check(r[2] == b"id=42 rest= x", "parameters are decoded: %r" % (r[2],))
    r = get("/query?a=x%20y&b=1+2")
    check(r[2] == b"a=[x y] b=[1 2]", "query decoding: %r" % (r[2],))
    r = get("/query?a=%zz")
    check(r[0] == 400, "a malformed query escape: 400")
    got, _ = exchange(port, b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                            b"Content-Length: 22\r\n\r\nx=1&name=J%C3%B6rg+X&y")
    check(got[0][2] == "name=[Jörg X]".encode(), "form decoding: %r" % (got[0][2],))
    r = get("/post_only")
    check(r[0] == 405 and r[1].get("allow") == "POST, PUT", "405 with Allow: %r" % (r[:2],))
    r = get("/nowhere")
    check(r[0] == 404, "404")
    got, _ = exchange(port, b"BREW /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
    check(got[0][0] == 405 and "GET" in got[0][1].get("allow", ""), "an unknown method: 405")
    r = get("/admin/x")
    check(r[0] == 401 and r[1].get("www-authenticate") == "Token", "a hook answers 401: %r" % (r[:2],))
    r = get("/admin/x", "X-Token: secret\r\n")
    check(r[0] == 200 and r[2] == b"admin ok", "a hook lets it through")
    r = get("/administrator")
    check(r[0] == 404, "a hook's prefix is whole segments: %r" % (r[0],))


def test_errors(port):
    s = connect(port)
    f = s.makefile("rb")
    s.sendall(b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
    st, h, body, _ = read_response(f)
    check(st == 500 and b"partial" not in body, "a failed handler: 500 (%r)" % body)
    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
    st, h, body, _ = read_response(f)
    check(st == 200, "the connection goes on after a 500")
    s.close()
    got, _ = exchange(port, b"GET /unclosed HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
                      responses=2)
    check([g[0] for g in got] == [500, 200], "a stream never closed: 500, and the connection goes on: %r" % (got,))
    for body, want in ((b"0123456789", 200), (b"0123456789X", 413)):
        got, closed = exchange(port, b"POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        check(got[0][0] == want, "a handler's own body limit: %d for %d bytes (%r)" % (want, len(body), got[0][:1]))
    got, closed = exchange(port, b"POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 b"8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n")
    check(got[0][0] == 413 and closed, "a handler's own limit on a chunked body: 413 and close (%r)" % (got[0][:1],))
    # A handler that fails after its head went out: the body is cut short and the connection closes.
    s = connect(port)
    s.sendall(b"GET /fail_streaming HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    check(data.startswith(b"HTTP/1.1 200 OK") and b"Content-Length: 1000" in data and data.endswith(b"0123456789"),
          "a failure mid-body closes the connection: %r" % data[-40:])


def test_limits(port):
    got, closed = exchange(port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    check(got[0][0] == 414 and closed, "a request line over 8 KiB: 414 (%r)" % (got[0][:1],))
    got, closed = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 17000 + b"\r\n\r\n")
    check(got[0][0] == 431 and closed, "a head over 16 KiB: 431 (%r)" % (got[0][:1],))
    got, closed = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(101)) +
                           b"\r\n")
    check(got[0][0] == 431 and closed, "101 header fields: 431")
    got, closed = exchange(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
    check(got[0][0] == 413 and closed, "Content-Length over max-body: 413 and close")
    big = b"y" * (9 << 20)
    got, closed = exchange(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                           b"%x\r\n" % len(big) + big + b"\r\n0\r\n\r\n")
    check(got[0][0] == 413 and closed, "a chunked body over max-body: 413 and close (%r)" % (got[0][:1],))


def test_smuggling(port):
    cases = [
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400),
        (b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.1\r\nHost: x\rX: a\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", 400),
        (b"G(T /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /plain text HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.1\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
        (b"GET /plaintext HTTP/3.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /plaintext HTTP/1.1\nHost: x\n\n", 400),
    ]
    for raw, want in cases:
        got, closed = exchange(port, raw + b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", responses=2)
        check(got[0][0] == want and (len(got) == 1 or got[1][0] is None),
              "refused with %d and closed, nothing after it served: %r -> %r" % (want, raw[:60], [g[0] for g in got]))


def test_timeouts(port):
    # A head that never ends: 408, then the connection closes (the server's head timeout is short here).
    s = connect(port)
    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n")
    f = s.makefile("rb")
    st, h, body, _ = read_response(f)
    check(st == 408 and h.get("connection") == "close", "slowloris: 408 (%r)" % (st,))
    check(f.read(1) == b"", "then closed")
    s.close()
    # One byte at a time, each well inside the timeout but the whole not: closed all the same.
    s = connect(port)
    t0 = time.monotonic()
    closed = False
    for i in range(200):
        try:
            s.sendall(b"X")
            time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
    s.close()
    check(closed, "a head sent a byte at a time is cut off (%.1f s)" % (time.monotonic() - t0))
    # An idle kept connection is closed after the idle timeout.  Its request is answered (200) unless a
    # loaded machine delayed the server past the timeout before it read it (then: closed with no answer);
    # either way the connection must then be closed.
    s = connect(port)
    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
    f = s.makefile("rb")
    st = read_response(f)[0]
    check(st in (200, None) and f.read(1) == b"", "an idle connection is closed (status %r)" % (st,))
    s.close()
    # Abandoned connections: half a head, half a body, then gone; the server carries on.
    for i in range(50):
        a = connect(port)
        a.sendall([b"GET /plai", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"][i % 2])
        a.close()
    got, _ = exchange(port, b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
    check(got[0][0] == 200, "serving after 50 abandoned connections")


def test_junk(port):
    """Mutations of valid requests, each on its own connection: every one is answered or closed, none hangs
    the server, and the server answers normally after all of them."""
    import random
    rnd = random.Random(20261205)
    seeds = [
        b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        b"POST /echo_stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n",
        b"GET /static/small.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=1-3\r\nIf-None-Match: \"a\"\r\n\r\n",
        b"GET /users/1/files/a%20b?x=%41 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    ]
    alphabet = b"\r\n\x00 \t:;%0123456789abcdefABCDEF/?#=-,\x7f\xff"
    answered = closed = 0
    for i in range(300):
        m = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 4)):
            op = rnd.randrange(4)
            pos = rnd.randrange(len(m) + 1)
            if op == 0 and m:
                m[min(pos, len(m) - 1)] = rnd.choice(alphabet)
            elif op == 1:
                m[pos:pos] = bytes([rnd.choice(alphabet)]) * rnd.randint(1, 3)
            elif op == 2 and m:
                del m[pos:pos + rnd.randint(1, 8)]
            else:
                m[pos:pos] = m[pos:pos + rnd.randint(1, 40)]
        s = connect(port)
        s.settimeout(TIMEOUT)
        try:
            s.sendall(bytes(m))
            s.shutdown(socket.SHUT_WR)  # nothing more comes: the server must answer what it has, or close
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
            if data.startswith(b"HTTP/1.1 "):
                answered += 1
            else:
                check(data == b"", "junk %d: an answer that is not HTTP: %r -> %r" % (i, bytes(m), data[:80]))
                closed += 1
        except socket.timeout:
            check(False, "junk %d: no answer and no close in %d s: %r" % (i, TIMEOUT, bytes(m)))
        except (ConnectionResetError, OSError):
            closed += 1
        s.close()
    got, _ = exchange(port, b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
    check(got[0][0] == 200, "serving after 300 mutated requests (%d answered, %d closed)" % (answered, closed))


def etag_and_date(port, path):
    got, _ = exchange(port, ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    return got[0]


def test_files(port, root):
    st, h, body, _ = etag_and_date(port, "/static/small.txt")
    check(st == 200 and body == open(os.path.join(root, "small.txt"), "rb").read(), "a small file")
    check(h.get("content-type") == "text/plain; charset=utf-8", "its type: %r" % h.get("content-type"))
    etag, lm = h.get("etag"), h.get("last-modified")
    check(etag and lm and h.get("accept-ranges") == "bytes", "validators: %r" % h)
    def get(path, extra):
        got, _ = exchange(port, ("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, extra)).encode())
        return got[0]
    check(get("/static/small.txt", "If-None-Match: %s\r\n" % etag)[0] == 304, "If-None-Match: 304")
    check(get("/static/small.txt", "If-None-Match: \"other\", %s\r\n" % etag)[0] == 304, "in a list: 304")
    check(get("/static/small.txt", "If-None-Match: \"other\"\r\n")[0] == 200, "another tag: 200")
    check(get("/static/small.txt", "If-Modified-Since: %s\r\n" % lm)[0] == 304, "If-Modified-Since: 304")
    check(get("/static/small.txt", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n")[0] == 200,
          "modified since: 200")
    data = open(os.path.join(root, "big.bin"), "rb").read()
    r = get("/static/small.txt", "Range: bytes=0-4\r\n")
    check(r[0] == 206 and r[2] == b"small" and r[1].get("content-range") == "bytes 0-4/%d" % len(
        open(os.path.join(root, "small.txt"), "rb").read()), "a range: %r" % (r[:3],))
    r = get("/static/big.bin", "Range: bytes=-100\r\n")
    check(r[0] == 206 and r[2] == data[-100:], "a suffix range of a streamed file")
    r = get("/static/big.bin", "Range: bytes=1000000-1000999\r\n")
    check(r[0] == 206 and r[2] == data[1000000:1001000], "a middle range, unaligned")
    r = get("/static/big.bin", "Range: bytes=99999999-\r\n")
    check(r[0] == 416 and r[1].get("content-range") == "bytes */%d" % len(data), "416: %r" % (r[:2],))
    r = get("/static/big.bin", "Range: bytes=0-1,5-6\r\n")
    check(r[0] == 200 and r[2] == data, "several ranges: the whole file")
    r = get("/static/big.bin", "Range: bytes=0-9\r\nIf-Range: \"stale\"\r\n")
    check(r[0] == 200 and len(r[2]) == len(data), "a stale If-Range: the whole file")
    rc, out, err = curl("http://127.0.0.1:%d/static/big.bin" % port)
    check(out == data, "a 3 MB file streamed from the disk (curl)")
    # Clients that leave in the middle of a file sent with sendfile (a reset: EPIPE, SIGPIPE held back);
    # the server goes on, and stops cleanly at the end (a send that kept retrying once hung the stop).
    for i in range(20):
        s = connect(port)
        s.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(32768)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    rc, out, err = curl("http://127.0.0.1:%d/static/big.bin" % port)
    check(out == data, "a large file after 20 clients left in the middle of it")
    rc, out, err = curl("http://127.0.0.1:%d/static/mid.bin" % port)
    check(out == open(os.path.join(root, "mid.bin"), "rb").read(), "a 700 KB file from the cache (curl)")
    got, _ = exchange(port, b"HEAD /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n", head_only=True)
    check(got[0][0] == 200 and got[0][1].get("content-length") == str(len(data)), "HEAD of a large file")
    r = get("/static/sub", "")
    check(r[0] == 301 and r[1].get("location") == "/static/sub/", "a directory without its slash: 301")
    r = get("/static/sub/", "")
    check(r[0] == 200 and r[2] == b"sub index\n", "a directory's index")
    r = get("/static", "")
    check(r[0] == 301 and r[1].get("location") == "/static/", "the prefix without its slash: 301")
    r = get("/static/", "")
    check(r[0] == 200 and r[2] == b"root index\n", "the root's index")
    for bad in ("/static/escape", "/static/escape_dir/passwd", "/static/.hidden", "/static/../test_httpd.py",
                "/static/%2e%2e/x", "/static/sub/%2e%2e/%2e%2e/etc/passwd", "/static/nothing", "/static//etc/passwd"):
        r = get(bad, "")
        check(r[0] == 404, "%s refused with 404 (%r)" % (bad, r[:1]))
    rc, out, err = curl("-o", "/dev/null", "-w", "%{http_code}", "--path-as-is",
                        "http://127.0.0.1:%d/static/../../etc/passwd" % port)
    check(out == b"404", "curl --path-as-is ../..: %r" % out)
    # A file that changes is seen changed within the cache's validity (1 s): wait by the wall clock.
    path = os.path.join(root, "changing.txt")
    with open(path, "w") as fh:
        fh.write("one")
    check(etag_and_date(port, "/static/changing.txt")[2] == b"one", "a new file")
    with open(path + ".tmp", "w") as fh:
        fh.write("two!")
    os.rename(path + ".tmp", path)
    deadline = time.monotonic() + 10
    body = b""
    while time.monotonic() < deadline:
        body = etag_and_date(port, "/static/changing.txt")[2]
        if body == b"two!":
            break
        time.sleep(0.2)
    check(body == b"two!", "a changed file is served changed: %r" % body)


def test_upload(port, upload_dir):
    data = os.urandom((5 << 20) + 123)
    rc, out, err = curl("-X", "PUT", "--data-binary", "@-", "-w", " %{http_code}",
                        "http://127.0.0.1:%d/upload/up.bin" % port, data=data)
    check(out == b"%d 201" % len(data), "a 5 MB upload streamed to a file: %r %r" % (out, err))
    with open(os.path.join(upload_dir, "up.bin"), "rb") as fh:
        check(fh.read() == data, "the file holds the upload")


def make_certs(d):
    """A CA and a certificate for localhost and 127.0.0.1 it signed (EC P-256), with the openssl tool."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True, capture_output=True, timeout=60)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", "30", "-subj", "/CN=sea test CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "srv.key", "-out",
        "srv.csr", "-subj", "/CN=localhost")
    with open(os.path.join(d, "ext.cnf"), "w") as fh:
        fh.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem",
        "-days", "30", "-extfile", "ext.cnf")
    return os.path.join(d, "ca.pem"), os.path.join(d, "srv.pem"), os.path.join(d, "srv.key")


def test_https(port, ca, root):
    """The same server over TLS: curl, keep-alive, a file sent from the page cache through TLS, and what a
    client that does not speak TLS gets."""
    url = "https://localhost:%d" % port
    rc, out, err = curl("--cacert", ca, "--resolve", "localhost:%d:127.0.0.1" % port, "-v",
                        *[url + "/plaintext"] * 3)
    check(out == b"Hello, World!" * 3 and err.count(b"Connected to") == 1 and b"TLSv1.3" in err,
          "HTTPS with curl, one kept connection, TLS 1.3: %r" % err[-300:])
    rc, out, err = curl("--cacert", ca, "--resolve", "localhost:%d:127.0.0.1" % port, url + "/static/big.bin")
    check(out == open(os.path.join(root, "big.bin"), "rb").read(), "a 3 MB file over HTTPS")
    rc, out, err = curl("--cacert", ca, "--resolve", "localhost:%d:127.0.0.1" % port, "-H",
                        "Transfer-Encoding: chunked", "--data-binary", "@-", url + "/echo", data=b"t" * 100000)
    check(out == b"t" * 100000, "a chunked upload echoed over HTTPS")
    rc, out, err = curl("--resolve", "localhost:%d:127.0.0.1" % port, url + "/plaintext")
    check(rc != 0, "curl without the CA refuses the server (%d)" % rc)
    # Plain HTTP to the HTTPS port: not a ClientHello; the server closes it and goes on.
    global TLS
    saved, TLS = TLS, None
    s = connect(port)
    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        data = s.recv(4096)
        while data and len(data) < 1 << 16:
            more = s.recv(4096)
            if not more:
                break
            data += more
    except (ConnectionResetError, socket.timeout):
        data = b""
    s.close()
    check(b"Hello" not in data, "plain HTTP to the HTTPS port is not served: %r" % data[:60])
    # A client that connects and says nothing is cut off by the head's timeout (the handshake counts in it).
    TLS = saved
    got, _ = exchange(port, b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
    check(got[0][0] == 200, "HTTPS still served")


def test_sea_httpd(httpd, root, opts):
    srv = start([httpd, "--root", root, "--port", "0"] + opts, "sea-httpd")
    port = srv.port
    try:
        rc, out, err = curl("http://127.0.0.1:%d/plaintext" % port, "http://127.0.0.1:%d/json" % port)
        check(out == b'Hello, World!{"message":"Hello, World!"}', "sea-httpd: /plaintext and /json: %r" % out)
        rc, out, err = curl("-sI", "http://127.0.0.1:%d/json" % port)
        check(b"Content-Type: application/json" in out, "sea-httpd: /json's type")
        rc, out, err = curl("http://127.0.0.1:%d/big.bin" % port)
        check(out == open(os.path.join(root, "big.bin"), "rb").read(), "sea-httpd: a large file")
        rc, out, err = curl("http://127.0.0.1:%d/" % port)
        check(out == b"root index\n", "sea-httpd: the index")
        rc, out, err = curl("-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:%d/escape" % port)
        check(out == b"404", "sea-httpd: a link out of the root")
        # keep-alive and several URLs through one curl: one connection
        rc, out, err = curl("-v", *["http://127.0.0.1:%d/plaintext" % port] * 5)
        check(out == b"Hello, World!" * 5 and err.count(b"Connected to") == 1, "sea-httpd: curl reuses the connection")
    finally:
        srv.stop()


def main():
    helper, httpd = sys.argv[1], sys.argv[2]
    opts = sys.argv[3:]
    tmp = tempfile.mkdtemp(prefix="sea-httpd-test-")
    try:
        root = os.path.join(tmp, "www")
        os.makedirs(os.path.join(root, "sub"))
        os.makedirs(os.path.join(tmp, "outside"))
        with open(os.path.join(tmp, "outside", "passwd"), "w") as fh:
            fh.write("secret\n")
        with open(os.path.join(root, "small.txt"), "w") as fh:
            fh.write("small file\n")
        with open(os.path.join(root, "index.html"), "w") as fh:
            fh.write("root index\n")
        with open(os.path.join(root, "sub", "index.html"), "w") as fh:
            fh.write("sub index\n")
        with open(os.path.join(root, ".hidden"), "w") as fh:
            fh.write("hidden\n")
        with open(os.path.join(root, "big.bin"), "wb") as fh:
            fh.write(os.urandom(3 << 20))
        with open(os.path.join(root, "mid.bin"), "wb") as fh:
            fh.write(os.urandom(700 * 1000))
        os.symlink(os.path.join(tmp, "outside", "passwd"), os.path.join(root, "escape"))
        os.symlink(os.path.join(tmp, "outside"), os.path.join(root, "escape_dir"))
        uploads = os.path.join(tmp, "uploads")
        os.makedirs(uploads)

        srv = start([helper, "--root", root, "--upload-dir", uploads, "--max-body", "8M"] + opts, "http_helper")
        port = srv.port
        try:
            for t in (test_basics, test_keepalive_http_client, test_pipelining, test_streams, test_continue,
                      test_routes, test_errors, test_limits, test_smuggling, test_junk):
                t(port)
            test_files(port, root)
            test_upload(port, uploads)
        finally:
            err = srv.stop()
            check("the handler failed: the test route fails on purpose" in err, "a failed handler is logged")
            check("GET /stream?n=2000" not in err, "a client gone mid-answer is not a handler failure: %r" % err[-600:])
        # Short timeouts in their own instance.
        srv = start([helper, "--header-timeout", "0.3", "--idle-timeout", "0.5"] + opts, "http_helper (timeouts)")
        try:
            test_timeouts(srv.port)
        finally:
            srv.stop()
        test_sea_httpd(httpd, root, opts)
        # HTTPS: the same features over TLS (raw connections wrapped by Python's ssl, and curl).
        import ssl
        ca, cert, key = make_certs(tmp)
        global TLS, TLS_CA
        TLS_CA = ca
        srv = start([helper, "--root", root, "--upload-dir", uploads, "--max-body", "8M", "--tls-cert", cert,
                     "--tls-key", key] + opts, "http_helper (HTTPS)")
        port = srv.port
        try:
            TLS = ssl.create_default_context(cafile=ca)
            # (test_junk needs a half-close, which TLS connections in Python do not offer; the parser is the same)
            for t in (test_keepalive_https, test_pipelining, test_streams, test_continue, test_routes, test_limits,
                      test_smuggling):
                t(port)
            test_https(port, ca, root)
        finally:
            TLS = None
            srv.stop()
        # sea-httpd's HTTPS port beside its HTTP one.
        srv = start([httpd, "--root", root, "--port", "0", "--tls-cert", cert, "--tls-key", key, "--tls-port",
                     "0"] + opts, "sea-httpd (HTTPS)")
        port = srv.port
        try:
            got = srv.expect(r"serving https://[0-9.]+:(\d+)/", 0, "sea-httpd says where it serves HTTPS", stdout=True)
            m = re.search(r"serving https://[0-9.]+:(\d+)/", got[0]) if got else None
            if m and os.environ.get("SEA_HTTP_GET"):
                # sea's own HTTP client over TLS: files byte for byte, one kept connection.
                tport = int(m.group(1))
                r = subprocess.run([os.environ["SEA_HTTP_GET"]] + opts + ["127.0.0.1:%d" % tport, "OPT tls=" + ca,
                                    "GET /big.bin", "GET /plaintext", "HEAD /big.bin", "GET /nope"],
                                   capture_output=True, timeout=120)
                out = r.stdout.decode()
                big = open(os.path.join(root, "big.bin"), "rb").read()
                h = 14695981039346656037
                for b in big:
                    h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
                check(r.returncode == 0 and "GET /big.bin 200 len=%d fnv=%016x" % (len(big), h) in out
                      and "GET /plaintext 200 len=13" in out and "GET /nope 404" in out
                      and "connects=1 " in out.splitlines()[-1],
                      "sea's client over HTTPS: %r %r" % (out, r.stderr[-500:]))
            if m:
                tport = int(m.group(1))
                rc, out, err = curl("--cacert", ca, "--resolve", "localhost:%d:127.0.0.1" % tport,
                                    "https://localhost:%d/json" % tport, "http://127.0.0.1:%d/plaintext" % port)
                check(out == b'{"message":"Hello, World!"}Hello, World!', "sea-httpd: HTTPS and HTTP side by side: %r"
                      % out)
        finally:
            srv.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
