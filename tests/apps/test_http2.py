#!/usr/bin/env python3
"""test_http2.py - HTTP/2 in sea's HTTP server, driven by real clients and by hand-made frames.

    test_http2.py HTTP_HELPER SEA_HTTPD TLS_CERTS_SH [sea options...]

Starts tests/programs/http_helper (one route per feature) over TLS with ALPN
"h2,http/1.1" and on a plain port (HTTP/2 with prior knowledge), and
sea-httpd (HTTP/2 on by default, then --no-http2), on ports the kernel
picks, with certificates made by tests/support/tls_certs.sh.  Checks:

- curl --http2 over TLS and --http2-prior-knowledge on plain answer with
  HTTP version 2, and HTTP/1.1 still works on the same ports and routes;
  nghttp; h2load's 2000 requests over 4 connections, 100 streams each, all
  succeeded; a 5 MB body streamed up and echoed back, and uploaded to a
  file; a 3 MiB file (larger than every flow-control window) intact; HEAD,
  404, 405, 413, a streamed response with its trailer;
- with frames made here (struct, no HTTP/2 library): two streams of one
  connection served concurrently (the second answered while the first's
  body is still incomplete); an HPACK bomb and a header list over max_head
  answered 431 with the connection kept; a rapid reset (HEADERS and
  RST_STREAM thousands of times), a CONTINUATION flood and garbage after
  the preface each ended with GOAWAY and the connection closed, the server
  then serving the next client; a client that stops mid-frame, and one that
  says nothing, are sent GOAWAY and closed (small timeouts, in their own
  instance; no duration is asserted).

Every wait is bounded; every process is stopped by its PID.  Exits 1 naming
each failed check.
"""
import hashlib
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import testproc  # noqa: E402

FAILURES = []
TIMEOUT = 30.0  # for any single exchange: far above what a working server needs

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
NO_ERROR, PROTOCOL_ERROR, ENHANCE_YOUR_CALM = 0x0, 0x1, 0xB


check = testproc.checker(FAILURES, "FAIL")


def start(argv, name):
    """Starts a server (a testproc.Server) and returns it once it prints where it serves (its first such line
    gives .port).  Its stop() checks the exit status after SIGTERM (not its stderr) and returns its stderr."""
    return testproc.Server(argv, name, check, r"serving https?://[0-9.]+:(\d+)/", bad=None)


def run(argv, data=None, timeout=120):
    r = subprocess.run(argv, input=data, capture_output=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def curl(*args, data=None):
    return run(["curl", "-sS", "--max-time", "60"] + list(args), data=data)


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ---- frames by hand ----

def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def hpack_int(v, prefix, first=0):
    """RFC 7541 5.1: v with an N-bit prefix, first's high bits kept."""
    top = (1 << prefix) - 1
    if v < top:
        return bytes([first | v])
    out = [first | top]
    v -= top
    while v >= 128:
        out.append(v % 128 + 128)
        v //= 128
    out.append(v)
    return bytes(out)


def literal(name, value, indexing=False):
    """A literal header field with a new name (no Huffman): added to the dynamic table if indexing."""
    head = b"\x40" if indexing else b"\x00"
    return head + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def request_block(method, path, extra=()):
    block = literal(b":method", method) + literal(b":scheme", b"http") + literal(b":path", path)
    block += literal(b":authority", b"127.0.0.1")
    for n, v in extra:
        block += literal(n, v)
    return block


class Conn:
    """A raw HTTP/2 client connection: frames out, frames in."""

    def __init__(self, port, settings=b""):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.s.settimeout(TIMEOUT)
        self.buf = b""
        self.closed = False
        self.send(PREFACE + frame(SETTINGS, 0, 0, settings))

    def send(self, b):
        try:
            self.s.sendall(b)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def read_frame(self):
        """The next frame (type, flags, stream, payload), or None once the server has closed (closed is set)
        or nothing came for TIMEOUT seconds (closed stays False)."""
        while True:
            if len(self.buf) >= 9:
                n = struct.unpack(">I", b"\0" + self.buf[:3])[0]
                if len(self.buf) >= 9 + n:
                    f = (self.buf[3], self.buf[4], struct.unpack(">I", self.buf[5:9])[0] & 0x7FFFFFFF,
                         self.buf[9:9 + n])
                    self.buf = self.buf[9 + n:]
                    if f[0] == SETTINGS and not f[1] & ACK:
                        self.send(frame(SETTINGS, ACK, 0))
                    return f
            try:
                got = self.s.recv(65536)
            except socket.timeout:
                return None
            except ConnectionResetError:
                got = b""
            if not got:
                self.closed = True
                return None
            self.buf += got

    def until_closed(self, limit=100000):
        """Every frame until the server closes (at most limit frames, then the connection is given up)."""
        frames = []
        for _ in range(limit):
            f = self.read_frame()
            if f is None:
                return frames
            frames.append(f)
        return frames

    def close(self):
        self.s.close()


def read_streams(c, until, frames=1000):
    """Reads frames until stream `until` ends (at most `frames` of them; fewer if the connection ends or goes
    quiet).  Returns ({stream: the DATA it got}, {the streams that ended}, [(type, stream) of each RST_STREAM
    and GOAWAY])."""
    data, ended, codes = {}, set(), []
    for _ in range(frames):
        f = c.read_frame()
        if f is None:
            break
        t, fl, sid, p = f
        if t == DATA:
            data[sid] = data.get(sid, b"") + p
        if t in (RST_STREAM, GOAWAY):
            codes.append((t, sid))
        if fl & END_STREAM and t in (DATA, HEADERS):
            ended.add(sid)
            if sid == until:
                break
    return data, ended, codes


def goaway_code(frames):
    for t, _, _, p in frames:
        if t == GOAWAY and len(p) >= 8:
            return struct.unpack(">I", p[4:8])[0]
    return None


# ---- clients ----

def test_clients(tls_port, plain_port, ca, root):
    tls = ["--cacert", ca, "--resolve", "localhost:%d:127.0.0.1" % tls_port]
    url = "https://localhost:%d" % tls_port
    rc, out, err = curl("--http2", "-w", " %{http_version}", *tls, url + "/plaintext")
    check(rc == 0 and out == b"Hello, World! 2", "curl --http2 over TLS (ALPN h2): %r %r" % (out, err))
    rc, out, err = curl("--http1.1", "-w", " %{http_version}", *tls, url + "/plaintext")
    check(rc == 0 and out == b"Hello, World! 1.1", "curl --http1.1 over the same TLS port: %r %r" % (out, err))
    plain = "http://127.0.0.1:%d" % plain_port
    rc, out, err = curl("--http2-prior-knowledge", "-w", " %{http_version}", plain + "/plaintext")
    check(rc == 0 and out == b"Hello, World! 2", "curl --http2-prior-knowledge on plain: %r %r" % (out, err))
    rc, out, err = curl("-w", " %{http_version}", plain + "/plaintext")
    check(rc == 0 and out == b"Hello, World! 1.1", "HTTP/1.1 on the same plain port: %r %r" % (out, err))

    for name, args, base in (("TLS", ["--http2"] + tls, url), ("h2c", ["--http2-prior-knowledge"], plain)):
        # HEAD, 404, 405, a route parameter, a query.
        rc, out, err = curl(*args, "-I", base + "/plaintext")
        check(rc == 0 and out.startswith(b"HTTP/2 200") and b"content-length: 13" in out
              and not out.endswith(b"Hello, World!"), "%s HEAD: %r %r" % (name, out, err))
        rc, out, err = curl(*args, "-i", base + "/nope")
        check(rc == 0 and out.startswith(b"HTTP/2 404") and b"404 Not Found" in out, "%s 404: %r" % (name, out))
        rc, out, err = curl(*args, "-i", base + "/post_only")
        check(rc == 0 and out.startswith(b"HTTP/2 405") and re.search(rb"allow: [A-Z, ]*POST", out),
              "%s 405 with allow: %r" % (name, out))
        rc, out, err = curl(*args, base + "/users/42/files/a/b%20c?x=1")
        check(out == b"id=42 rest=a/b c", "%s route parameters from a decoded :path: %r" % (name, out))
        rc, out, err = curl(*args, base + "/query?a=x%20y&b=%2B")
        check(out == b"a=[x y] b=[+]", "%s query: %r" % (name, out))
        rc, out, err = curl(*args, "-H", "X-Token: secret", base + "/admin/x")
        check(out == b"admin ok", "%s hook lets through: %r" % (name, out))
        rc, out, err = curl(*args, "-i", base + "/admin/x")
        check(out.startswith(b"HTTP/2 401"), "%s hook answers 401: %r" % (name, out[:60]))
        rc, out, err = curl(*args, "-i", base + "/fail")
        check(out.startswith(b"HTTP/2 500") and b"partial" not in out, "%s a failed handler is a 500: %r" % (name, out))
        rc, out, err = curl(*args, base + "/fail_streaming")
        check(rc != 0 and b"INTERNAL_ERROR" in err, "%s a handler failing after its head resets its stream: %r %r"
              % (name, out, err))
        rc, out, err = curl(*args, "-i", base + "/unclosed")
        check(out.startswith(b"HTTP/2 500"), "%s a response stream left open is a 500: %r" % (name, out))
        # A file larger than every window, intact; a range of it.
        big = open(os.path.join(root, "big.bin"), "rb").read()
        rc, out, err = curl(*args, base + "/static/big.bin")
        check(rc == 0 and sha(out) == sha(big), "%s 3 MiB file intact (%d bytes, %r)" % (name, len(out), err))
        rc, out, err = curl(*args, "-r", "1000-2999", base + "/static/big.bin")
        check(out == big[1000:3000], "%s a range of the large file (%d bytes)" % (name, len(out)))
        rc, out, err = curl(*args, base + "/static/small.txt")
        check(out == b"small file\n", "%s a cached small file: %r" % (name, out))
        # A 5 MB body streamed up and back, and to a file.
        body = os.urandom(5 * 1000 * 1000)
        rc, out, err = curl(*args, "--data-binary", "@-", "-H", "Content-Type: application/octet-stream",
                            base + "/echo_stream", data=body)
        check(rc == 0 and sha(out) == sha(body), "%s 5 MB echoed as it streams (%d bytes, %r)" % (name, len(out), err))
        rc, out, err = curl(*args, "-T", "-", base + "/upload/up-%s.bin" % name, data=body)
        check(rc == 0 and out == b"5000000", "%s 5 MB upload: %r %r" % (name, out, err))
        # A streamed answer of unknown length.
        rc, out, err = curl(*args, base + "/stream?n=5&size=3")
        check(out == b"aaabbbcccdddeee", "%s streamed answer: %r" % (name, out))
        rc, out, err = curl(*args, base + "/stream?n=300&size=20000")
        check(len(out) == 300 * 20000 and out[-1:] == b"n", "%s 6 MB streamed answer (%d bytes)" % (name, len(out)))

    # nghttp: status, body, and the trailer of a streamed answer.
    rc, out, err = run(["nghttp", "-nv", plain + "/plaintext"], timeout=60)
    check(rc == 0 and re.search(rb"recv \(stream_id=\d+\) :status: 200", out) and b"END_STREAM" in out,
          "nghttp -nv: %r %r" % (out[-600:], err))
    rc, out, err = run(["nghttp", plain + "/plaintext"], timeout=60)
    check(rc == 0 and out == b"Hello, World!", "nghttp's body: %r %r" % (out, err))
    rc, out, err = run(["nghttp", "-v", plain + "/stream?n=2&size=4"], timeout=60)
    check(rc == 0 and b"x-pieces: done" in out and b"aaaabbbb" in out, "nghttp: a trailer: %r" % out[-800:])
    # 413: a declared length over max_body, without running the handler.
    rc, out, err = run(["nghttp", "-v", "-d", "-", plain + "/echo"], data=b"x" * (9 << 20), timeout=60)
    check(b":status: 413" in out, "413 for a body over max_body: %r" % out[-500:])

    # h2load: many streams on few connections, over both.
    for u in (plain + "/plaintext", url.replace("localhost", "127.0.0.1") + "/plaintext"):
        rc, out, err = run(["h2load", "-n", "2000", "-c", "4", "-m", "100", u], timeout=240)
        check(rc == 0 and re.search(rb"2000 succeeded, 0 failed, 0 errored", out)
              and b"status codes: 2000 2xx" in out, "h2load %s: %r %r" % (u, out[-800:], err[-300:]))


def test_concurrent_streams(port):
    """Stream 3 is answered while stream 1's body is still coming: each stream has its own handler."""
    c = Conn(port)
    c.send(frame(HEADERS, END_HEADERS, 1, request_block(b"POST", b"/echo_stream")) + frame(DATA, 0, 1, b"first half "))
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 3, request_block(b"GET", b"/plaintext")))
    data, ended, _ = read_streams(c, 3)
    got3, ended1, body1 = data.get(3, b""), 1 in ended, data.get(1, b"")
    check(got3 == b"Hello, World!" and not ended1, "stream 3 answered while stream 1 waits: %r %r" % (got3, ended1))
    c.send(frame(DATA, END_STREAM, 1, b"second half"))
    data, ended, _ = read_streams(c, 1)
    body1 += data.get(1, b"")
    ended1 = ended1 or 1 in ended
    check(ended1 and body1 == b"first half second half", "stream 1 then echoes its whole body: %r" % body1)
    c.close()


def header_frames(sid, block, flags=END_STREAM):
    """A header block as HEADERS and, past the default frame size, CONTINUATION frames."""
    pieces = [block[i:i + 16000] for i in range(0, len(block), 16000)]
    out = b""
    for i, piece in enumerate(pieces):
        last = END_HEADERS if i == len(pieces) - 1 else 0
        out += frame(HEADERS, flags | last, sid, piece) if i == 0 else frame(CONTINUATION, last, sid, piece)
    return out


def test_close(port):
    """sea_http_response_close: the answer, then GOAWAY NO_ERROR, then the connection closes."""
    c = Conn(port)
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block(b"GET", b"/close")))
    frames = c.until_closed()
    body = b"".join(p for t, _, sid, p in frames if t == DATA and sid == 1)
    check(body == b"bye" and goaway_code(frames) == NO_ERROR and c.closed,
          "a handler that closes: its answer, GOAWAY NO_ERROR, closed: %r %r" % (body, goaway_code(frames)))
    c.close()


def hpack_bomb_block(n):
    """A 4000-byte field added to the dynamic table, then named by its index n times: small, decodes huge."""
    block = request_block(b"GET", b"/plaintext") + literal(b"x-bomb", b"b" * 4000, indexing=True)
    return block + bytes([0x80 | 62]) * n


def test_header_limits(port):
    # An HPACK bomb: 8 KB of frame that decodes to 40 MB.  Answered 431; the connection goes on.
    c = Conn(port)
    c.send(header_frames(1, hpack_bomb_block(10000)))
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 3, request_block(b"GET", b"/plaintext")))
    data, _, codes = read_streams(c, 3)
    check(data.get(1, b"").startswith(b"431 Request Header Fields Too Large"),
          "an HPACK bomb is answered 431: %r %r" % (data, codes))
    check(data.get(3) == b"Hello, World!" and not c.closed, "the connection serves the next stream: %r" % (data,))
    c.close()
    # Many plain fields over max_head (16 KiB): 431 too.
    c = Conn(port)
    fields = [(b"x-f%d" % i, b"v" * 200) for i in range(90)]
    c.send(header_frames(1, request_block(b"GET", b"/plaintext", fields)))
    body = read_streams(c, 1, 100)[0].get(1, b"")
    check(body.startswith(b"431 "), "a header list over max_head: 431: %r" % body)
    c.close()


def test_attacks(port):
    # Rapid reset (CVE-2023-44487): open and reset streams as fast as possible.
    c = Conn(port)
    burst = b"".join(frame(HEADERS, END_HEADERS | END_STREAM, sid, request_block(b"GET", b"/plaintext")) +
                     frame(RST_STREAM, 0, sid, struct.pack(">I", 8)) for sid in range(1, 2 * 3000, 2))
    c.send(burst)
    frames = c.until_closed()
    code = goaway_code(frames)
    check(code is not None and code != NO_ERROR and c.closed,
          "rapid reset: GOAWAY with an error (%r) and the connection closed (%r)" % (code, c.closed))
    answered = sum(1 for t, fl, _, _ in frames if t == HEADERS)
    check(answered < 3000, "rapid reset: not every reset stream was answered (%d)" % answered)
    c.close()

    # A CONTINUATION flood: a header block that never ends.
    c = Conn(port)
    c.send(frame(HEADERS, 0, 1, request_block(b"GET", b"/plaintext")))
    ok = True
    for i in range(2000):
        ok = c.send(frame(CONTINUATION, 0, 1, literal(b"x-c", b"%d" % i)))
        if not ok:
            break
    frames = c.until_closed()
    code = goaway_code(frames)
    check(code == ENHANCE_YOUR_CALM and c.closed, "CONTINUATION flood: GOAWAY ENHANCE_YOUR_CALM (%r), closed" % code)
    c.close()

    # Garbage after the preface: a PROTOCOL_ERROR.
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    s.sendall(PREFACE + frame(PING, 0, 0, b"12345678") + b"this is not HTTP/2 at all\r\n" * 10)
    c = Conn.__new__(Conn)
    c.s, c.buf, c.closed = s, b"", False
    frames = c.until_closed()
    code = goaway_code(frames)
    check(code == PROTOCOL_ERROR and c.closed, "garbage after the preface: GOAWAY PROTOCOL_ERROR (%r)" % code)
    s.close()
    # A frame on stream 0 that must not be there: a PROTOCOL_ERROR too.
    c = Conn(port)
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 0, request_block(b"GET", b"/plaintext")))
    frames = c.until_closed()
    check(goaway_code(frames) == PROTOCOL_ERROR and c.closed, "HEADERS on stream 0: GOAWAY PROTOCOL_ERROR")
    c.close()
    # After all that, the server still serves.
    rc, out, err = curl("--http2-prior-knowledge", "http://127.0.0.1:%d/plaintext" % port)
    check(out == b"Hello, World!", "the server is alive after the attacks: %r %r" % (out, err))


def test_timeouts(port):
    # A client that stops mid-frame: GOAWAY, then closed (header timeout).
    c = Conn(port)
    c.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request_block(b"GET", b"/plaintext"))[:5])
    frames = c.until_closed()
    check(c.closed and goaway_code(frames) is not None, "a client stopped mid-frame gets GOAWAY and is closed")
    c.close()
    # A header block begun and never finished: the same.
    c = Conn(port)
    c.send(frame(HEADERS, 0, 1, request_block(b"GET", b"/plaintext")))
    frames = c.until_closed()
    check(c.closed and goaway_code(frames) is not None, "an unfinished header block gets GOAWAY and is closed")
    c.close()
    # A client that says nothing after its SETTINGS: GOAWAY NO_ERROR (idle timeout).
    c = Conn(port)
    frames = c.until_closed()
    check(c.closed and goaway_code(frames) == NO_ERROR, "an idle connection gets GOAWAY NO_ERROR and is closed")
    c.close()
    # A body that stops coming: the stream's read times out (408), the connection lives on.
    c = Conn(port)
    c.send(frame(HEADERS, END_HEADERS, 1, request_block(b"POST", b"/echo")) + frame(DATA, 0, 1, b"part"))
    body = read_streams(c, 1, 100)[0].get(1, b"")
    check(body.startswith(b"408 "), "a body that stops coming: 408: %r" % body)
    c.close()


def test_sea_httpd(httpd, root, cert, key, ca, opts):
    args = [httpd, "--root", root, "--port", "0", "--tls-cert", cert, "--tls-key", key, "--tls-port", "0"]
    for no in (False, True):
        srv = start(args + (["--no-http2"] if no else []) + opts, "sea-httpd" + (" --no-http2" if no else ""))
        port = srv.port
        try:
            got = srv.expect(r"serving https://[0-9.]+:(\d+)/", 0, "sea-httpd says where it serves HTTPS", stdout=True)
            m = re.search(r"serving https://[0-9.]+:(\d+)/", got[0]) if got else None
            tport = int(m.group(1)) if m else 0
            want = b"1.1" if no else b"2"
            rc, out, err = curl("--http2", "-w", " %{http_version}", "--cacert", ca, "--resolve",
                                "localhost:%d:127.0.0.1" % tport, "https://localhost:%d/json" % tport)
            check(out == b'{"message":"Hello, World!"} ' + want, "sea-httpd%s HTTPS: %r %r"
                  % (" --no-http2" if no else "", out, err))
            rc, out, err = curl("--http2-prior-knowledge", "-w", " %{http_version}",
                                "http://127.0.0.1:%d/small.txt" % port)
            if no:
                check(not out.endswith(b" 2"), "sea-httpd --no-http2: no HTTP/2 on plain: %r" % out)
                s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
                s.settimeout(TIMEOUT)
                s.sendall(PREFACE + frame(SETTINGS, 0, 0))
                got = s.recv(4096)
                s.close()
                check(got.startswith(b"HTTP/1.1 505 "), "sea-httpd --no-http2: the preface read as HTTP/1.x: %r" % got)
            else:
                check(out == b"small file\n 2", "sea-httpd h2c: %r %r" % (out, err))
            rc, out, err = curl("-w", " %{http_version}", "http://127.0.0.1:%d/small.txt" % port)
            check(out == b"small file\n 1.1", "sea-httpd HTTP/1.1 beside it: %r" % out)
        finally:
            srv.stop()


def main():
    helper, httpd, certs_sh = sys.argv[1], sys.argv[2], sys.argv[3]
    opts = sys.argv[4:]
    tmp = tempfile.mkdtemp(prefix="sea-http2-test-")
    try:
        root = os.path.join(tmp, "www")
        os.makedirs(root)
        with open(os.path.join(root, "small.txt"), "w") as fh:
            fh.write("small file\n")
        with open(os.path.join(root, "big.bin"), "wb") as fh:
            fh.write(os.urandom(3 << 20))
        uploads = os.path.join(tmp, "uploads")
        os.makedirs(uploads)
        certs = os.path.join(tmp, "certs")
        os.makedirs(certs)
        rc, out, err = run(["sh", certs_sh, certs], timeout=120)
        if rc != 0:
            sys.exit("tls_certs.sh failed: %r" % err)
        ca, cert, key = (os.path.join(certs, n) for n in ("ca.pem", "server.pem", "server.key"))

        common = [helper, "--root", root, "--upload-dir", uploads, "--max-body", "8M"]
        h2c = start(common + opts, "http_helper (h2c)")
        tls = start(common + ["--tls-cert", cert, "--tls-key", key, "--alpn", "h2,http/1.1"] + opts,
                    "http_helper (TLS)")
        port, tport = h2c.port, tls.port
        try:
            test_clients(tport, port, ca, root)
            for name in ("TLS", "h2c"):
                up = os.path.join(uploads, "up-%s.bin" % name)
                check(os.path.exists(up) and os.path.getsize(up) == 5000000, "%s upload written whole" % name)
            test_concurrent_streams(port)
            test_close(port)
            test_header_limits(port)
            test_attacks(port)
        finally:
            err = h2c.stop() + "\n" + tls.stop()
            check("the handler failed: the test route fails on purpose" in err, "a failed handler is logged")
        # Short timeouts in their own instance.
        srv = start([helper, "--header-timeout", "0.5", "--idle-timeout", "1", "--io-timeout", "1"] + opts,
                    "http_helper (timeouts)")
        try:
            test_timeouts(srv.port)
        finally:
            srv.stop()
        test_sea_httpd(httpd, root, cert, key, ca, opts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
