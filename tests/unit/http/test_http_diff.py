#!/usr/bin/env python3
"""test_http_diff.py - sea's HTTP/1.x parsers against Node's (llhttp).

    test_http_diff.py --dump PARSE_DUMP --node NODE --oracle http_oracle.js --corpus DIR
                      [--mutations N] [--seed S] [--show-allowed] [--only ID]

Every input (each corpus file, and N deterministic mutations of them) goes
through parse_dump (sea's parsers, as the server reads a connection) and
through http_oracle.js (a Node HTTP server on 127.0.0.1, port 0, sent the
bytes on a raw socket).  Both print one JSON line per input: the requests
read whole (method, target, version, header fields, body, keep-alive) and
how the input ended (eof, close, incomplete, reject).  They must agree on
which requests were read and on every field of each; where they do not,
the disagreement must be on the allow-list below (ALLOWED: each entry a
deliberate difference, with its RFC clause; docs/http-parsing.md lists
them), or the test fails and shows the input.

An input ending inside a request and one refused count as the same answer
(neither delivers a request: the server answers when the rest comes or the
client gives up), as do the bytes after a request that ends the connection.

Corpus files (corpus/*.req) are text: lines starting with "#" are comments,
every other line is bytes with its newline dropped, escapes \\r \\n \\t \\0
\\\\ \\" \\xHH.  Nothing here depends on timing: each program runs once
over all inputs, Node is killed by its PID if it overruns a bound no
working run comes near (60 s), and its port comes from the OS.
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile

DEADLINE = 60.0  # seconds for each program's whole run (a real run takes about 1 s)


# ---- the allow-list ----

class Allowed:
    """A deliberate disagreement.  stricter: "sea" (sea refuses what Node
    reads), "node" (the reverse) or "field" (both read it, a field
    differs).  sea_error: a piece of sea's reason (parse.c's error string);
    node_code: Node's error code (llhttp's HPE_*, or NO_HOST,
    EXPECTATION_FAILED for what Node answers before its 'request' event);
    when: a further test on the disagreement."""

    def __init__(self, name, stricter, clause, why, sea_error=None, node_code=None, when=None):
        self.name, self.stricter, self.clause, self.why = name, stricter, clause, why
        self.sea_error, self.node_code, self.when = sea_error, node_code, when
        self.seen = 0
        self.example = None

    def matches(self, d):
        if d.kind != self.stricter:
            return False
        if self.sea_error is not None and (d.sea_error is None or self.sea_error not in d.sea_error):
            return False
        if self.node_code is not None and d.node_code not in (
                self.node_code if isinstance(self.node_code, tuple) else (self.node_code,)):
            return False
        return self.when is None or self.when(d)


def visible(b):
    """Only visible ASCII (what a request-target may hold)."""
    return b != b'' and all(0x21 <= c < 0x7f for c in b)


ALLOWED = [
    # -- sea is stricter --
    Allowed('major-version', 'sea',
            'RFC 9110 section 6.2 and RFC 9112 section 2.3 (HTTP/1.1 messages carry "HTTP/1.x"); '
            '505 (HTTP Version Not Supported), RFC 9110 section 15.6.6',
            'llhttp reads "HTTP/0.9" and "HTTP/2.0" request lines as HTTP/1 requests (not kept alive); '
            'sea answers a major version other than 1 with 505.',
            sea_error='HTTP version not supported'),
    Allowed('transfer-coding-not-decoded', 'sea',
            'RFC 9112 section 6.1 ("A server that receives a request message with a transfer coding it does '
            'not understand SHOULD respond with 501 (Not Implemented)")',
            'sea decodes only chunked; llhttp frames "gzip, chunked" by its last coding and hands the '
            'application a body it must still decode.',
            sea_error='a transfer coding other than chunked'),
    Allowed('transfer-encoding-without-chunked', 'sea',
            'RFC 9112 section 6.3 ("If a Transfer-Encoding header field is present in a request and the '
            'chunked transfer coding is not the final encoding, the message body length cannot be determined '
            'reliably; the server MUST respond with the 400 (Bad Request) status code")',
            'llhttp takes an empty Transfer-Encoding as absent (no body) and reads the body as the next '
            'request; sea refuses the request.',
            sea_error='Transfer-Encoding without chunked'),
    Allowed('chunked-twice', 'sea',
            'RFC 9112 section 6.1 ("A sender MUST NOT apply the chunked transfer coding more than once to a '
            'message body") and section 6.3 (chunked not the final coding: 400)',
            'llhttp refuses chunked twice, except when the first "chunked" has a blank after it '
            '("chunked\\t" then "chunked"), which it frames as chunked once; sea refuses every repeat.',
            sea_error='chunked is not the last transfer coding, or appears twice'),
    Allowed('transfer-encoding-in-http10', 'sea',
            'RFC 9112 section 6.1 ("A server or client that receives an HTTP/1.0 message containing a '
            'Transfer-Encoding header field MUST treat the message as if the framing is faulty")',
            'an HTTP/1.0 message has no transfer codings; a 1.0 intermediary framing it by Content-Length or '
            'the connection close would disagree about where it ends.',
            sea_error='Transfer-Encoding in an HTTP/1.0 request'),
    Allowed('double-host', 'sea',
            'RFC 9112 section 3.2 ("A server MUST respond with a 400 (Bad Request) status code to ... any '
            'request message that contains more than one Host header field line")',
            'Node keeps the first Host and reads on.',
            sea_error='more than one Host'),
    Allowed('host-required', 'sea',
            'RFC 9112 section 3.2 ("A server MUST respond with a 400 (Bad Request) status code to any '
            'HTTP/1.1 request message that lacks a Host header field")',
            'Node applies its requireHostHeader check to every request but CONNECT; sea to every request.',
            sea_error='an HTTP/1.1 request without Host'),
    Allowed('fragment', 'sea',
            'RFC 9112 section 3.2 (no request-target form has a fragment); RFC 9110 section 7.1',
            'a client never sends a fragment; sea refuses one rather than route on a path cut at "#".',
            sea_error='a fragment (#) in the request-target'),
    Allowed('percent-encoding', 'sea',
            'RFC 3986 section 2.1 (pct-encoded = "%" HEXDIG HEXDIG); %00 refused as a defence',
            'sea decodes the path for its router (a NUL-terminated string), so it refuses what it cannot '
            'decode; llhttp does not decode the target.',
            sea_error='malformed percent-encoding in the path'),
    Allowed('target-form', 'sea',
            'RFC 9112 section 3.2 (origin-form, absolute-form, authority-form for CONNECT only, asterisk-form '
            'for OPTIONS only: sections 3.2.1-3.2.4)',
            'llhttp checks the target\'s characters, not which of the four forms it takes.',
            sea_error='request-target', when=lambda d: visible(d.target())),
    Allowed('stray-cr-lf-before-request', 'sea',
            'RFC 9112 section 2.2 (a server SHOULD ignore at least one empty line, CRLF, before the '
            'request-line; a bare CR is invalid, and taking a bare LF as a line end is only a MAY)',
            'sea skips only empty lines (CRLF) before a request; llhttp skips any CR and LF there.',
            sea_error='malformed method',
            when=lambda d: re.fullmatch(rb'(\r\n)*', re.match(rb'[\r\n]*', d.rest).group()) is None),
    Allowed('chunk-size-digits', 'sea',
            'RFC 9112 section 7.1 (chunk-size = 1*HEXDIG; "recipients MUST anticipate potentially large '
            'hexadecimal numerals and prevent parsing errors due to integer conversion overflows")',
            'sea reads at most 15 hex digits, leading zeros included, and refuses more; llhttp bounds the '
            'value, so it takes any number of leading zeros.',
            sea_error='chunk size too large'),
    Allowed('expect-http10', 'sea',
            'RFC 9110 section 10.1.1 ("A server that receives an Expect field value containing a member '
            'other than 100-continue MAY respond with a 417 (Expectation Failed)")',
            'Node looks at Expect only in HTTP/1.1 requests; sea refuses an unknown expectation whatever the '
            'version (and ignores 100-continue from 1.0 clients, as the RFC requires).',
            sea_error='an expectation other than 100-continue'),
    Allowed('max-headers', 'sea',
            'RFC 6585 section 5 (431 Request Header Fields Too Large)',
            'sea refuses more than max_headers fields (100 by default); Node reads on (it drops the fields '
            'past its maxHeadersCount, 2000, without an error).',
            sea_error='too many header fields'),
    Allowed('http09-request-line', 'sea',
            'RFC 9112 section 3 (request-line = method SP request-target SP HTTP-version: the version is not '
            'optional); HTTP/0.9 is not part of HTTP/1.1',
            'llhttp reads a request line without a version ("POST /HTTP/1.1") as an HTTP/0.9 request with the '
            'fields that follow; sea refuses it.',
            sea_error='malformed', when=lambda d: d.node_request() is not None
            and d.node_request()['version'] == '0.9'),
    Allowed('request-line-spaces', 'sea',
            'RFC 9112 section 3 (one SP between the request line\'s parts; recipients MAY instead split on '
            'whitespace)',
            'llhttp takes several spaces between the parts of the request line; sea takes exactly one.',
            sea_error='malformed', when=lambda d: re.search(rb'  |^ ', d.request_line()) is not None),
    # -- Node is stricter --
    Allowed('method-not-known', 'node',
            'RFC 9110 section 9.1 (method = token; methods are extensible, section 16.1)',
            'llhttp accepts only the methods it knows, in upper case; sea accepts any token and leaves the '
            'method to routing.',
            node_code='HPE_INVALID_METHOD'),
    Allowed('later-minor-version', 'node',
            'RFC 9110 section 6.2 (a recipient of a later minor version of HTTP/1 treats it as the highest '
            'minor version it implements)',
            'sea reads HTTP/1.2 to HTTP/1.9 as 1.1; llhttp refuses versions it does not know.',
            node_code='HPE_INVALID_VERSION',
            when=lambda d: re.search(rb' HTTP/1\.[2-9]$', d.request_line().rstrip(b'\r')) is not None),
    Allowed('framing-value-ows', 'node',
            'RFC 9110 section 5.5 (leading and trailing whitespace is not part of a field value) and '
            'RFC 9112 section 5.1 (OWS around the value)',
            'llhttp refuses a blank after a Content-Length or Transfer-Encoding value; sea drops it, as it '
            'does for every field.',
            node_code=('HPE_INVALID_CONTENT_LENGTH', 'HPE_INVALID_TRANSFER_ENCODING'),
            when=lambda d: any(re.search(rb'[ \t]\r?$', line)
                               for line in d.field_lines(b'content-length') + d.field_lines(b'transfer-encoding'))),
    Allowed('upgrade-ignored', 'node',
            'RFC 9110 section 7.8 ("A server MAY ignore a received Upgrade header field if it wishes to '
            'continue using the current protocol on that connection")',
            'llhttp stops parsing after a request that asks to upgrade (the bytes after it would be the new '
            'protocol\'s); sea never switches protocols, answers the request in HTTP/1.1 and reads the next '
            'request.  (Node itself, with no \'upgrade\' listener, answers it as a plain request.)',
            node_code='UPGRADE'),
    Allowed('authority-syntax', 'node',
            'RFC 9112 sections 3.2.2 and 3.2.3 (absolute-form and authority-form carry a URI authority)',
            'llhttp checks the characters of an absolute-form or CONNECT target\'s authority; sea checks only '
            'that the target is visible ASCII, routes on the path (absolute-form) and hands CONNECT\'s '
            'target to the handler as sent.',
            node_code='HPE_INVALID_URL', when=lambda d: visible(d.target()) and not d.target().startswith(b'/')),
    Allowed('connection-close-ows', 'field',
            'RFC 9110 section 5.5 (leading and trailing whitespace is not part of a field value) and '
            'section 7.6.1 (Connection: close)',
            'llhttp does not see "close" in "Connection: close" followed by a blank and keeps the connection; '
            'sea drops the blank and closes it (the safer reading).',
            when=lambda d: d.what.startswith(f'request {d.index}: keep_alive: sea False')
            and any(re.search(rb'[ \t]\r?$', line) for line in d.field_lines(b'connection'))),
    Allowed('empty-list-element', 'node',
            'RFC 9110 section 5.6.1 ("a recipient MUST parse and ignore a reasonable number of empty list '
            'elements")',
            'llhttp refuses "Transfer-Encoding: chunked," (an empty element after chunked); sea ignores '
            'empty elements.',
            node_code='HPE_INVALID_TRANSFER_ENCODING',
            when=lambda d: any(re.search(rb':[ \t]*,|,[ \t]*(,|\r?$)', line)
                               for line in d.field_lines(b'transfer-encoding'))),
]


# ---- inputs ----

ESCAPE = re.compile(rb'\\(x[0-9a-fA-F]{2}|.)')
SIMPLE = {b'r': b'\r', b'n': b'\n', b't': b'\t', b'0': b'\0', b'\\': b'\\', b'"': b'"'}


def unescape(line, where):
    def one(m):
        e = m.group(1)
        if e[:1] == b'x' and len(e) == 3:
            return bytes([int(e[1:], 16)])
        if e in SIMPLE:
            return SIMPLE[e]
        raise ValueError(f'{where}: unknown escape \\{e.decode("latin-1")}')
    return ESCAPE.sub(one, line)


def load_corpus(path):
    out = []
    for name in sorted(os.listdir(path)):
        if not name.endswith('.req'):
            continue
        data = b''
        with open(os.path.join(path, name), 'rb') as f:
            for k, line in enumerate(f.read().split(b'\n')):
                if line.startswith(b'#'):
                    continue
                data += unescape(line, f'{name}:{k + 1}')
        out.append((name[:-4], data))
    return out


INSERTS = [b'\r', b'\n', b'\0', b' ', b'\t', b':', b'%', b',', b'\r\n', b';', b'\x0b', b'0', b'#']


def mutate(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        at = rng.randrange(len(data))
        op = rng.randrange(7)
        if op == 0:  # a byte changed to any byte
            data[at] = rng.randrange(256)
        elif op == 1:  # a delimiter inserted
            data[at:at] = rng.choice(INSERTS)
        elif op == 2:  # a byte deleted
            del data[at]
        elif op == 3:  # cut
            del data[at:]
        elif op == 4:  # a piece repeated
            piece = data[at:at + rng.randint(1, 24)]
            data[at:at] = piece
        elif op == 5:  # a letter's case flipped
            if chr(data[at]).isalpha():
                data[at] ^= 0x20
        else:  # a byte replaced by a delimiter
            data[at:at + 1] = rng.choice(INSERTS)
    return bytes(data)


def mutations(corpus, count, seed):
    rng = random.Random(seed)
    return [(f'mut{k:03d}-{name}', mutate(data, rng))
            for k, (name, data) in ((k, rng.choice(corpus)) for k in range(count))]


# ---- running both ----

def run(argv, what):
    """Runs argv to its end (bounded), returns its stdout lines as JSON, keyed by id."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        sys.exit(f'FAIL: {what} did not finish within {DEADLINE:.0f} s (killed, pid {proc.pid})')
    if proc.returncode != 0:
        sys.exit(f'FAIL: {what} exited with {proc.returncode}:\n{err.decode(errors="replace")}')
    records = {}
    for line in out.decode('utf-8').split('\n'):
        if not line:
            continue
        rec = json.loads(line)
        if 'id' in rec:
            records[rec['id']] = rec
    return records


# ---- comparing ----

NO_REQUEST = ('incomplete', 'reject')  # how an input ends when its last request is not read


class Disagreement:
    def __init__(self, kind, index, sea, node, data, what):
        self.kind, self.index, self.sea, self.node, self.data, self.what = kind, index, sea, node, data, what
        self.sea_error = sea.get('error') if kind == 'sea' else None
        self.node_code = node.get('code') if kind == 'node' else None
        # The input from the request they disagree on: sea says where each request starts.
        sr = sea['requests']
        self.rest = data[sr[index]['start'] if index < len(sr) else sea.get('next', 0):]

    def node_request(self):
        """Node's reading of the request they disagree on, if it read one."""
        nr = self.node['requests']
        return nr[self.index] if self.index < len(nr) else None

    def request_line(self):
        return self.rest.lstrip(b'\r\n').split(b'\n', 1)[0]

    def target(self):
        parts = self.request_line().split(b' ')
        return parts[1] if len(parts) > 2 else b''

    def field_lines(self, name):
        """The raw lines of the head's fields called name (case-insensitive), each up to its LF."""
        head = self.rest.split(b'\r\n\r\n', 1)[0]
        return re.findall(rb'(?im)^' + re.escape(name) + rb'[ \t]*:[^\n]*', head)


def compare(sea, node, data):
    """None when they agree, else a Disagreement."""
    sr, nr = sea['requests'], node['requests']
    for i in range(min(len(sr), len(nr))):
        a, b = sr[i], nr[i]
        for field in ('method', 'target', 'version', 'headers', 'body', 'keep_alive'):
            if field == 'keep_alive' and a['method'] == 'CONNECT':
                continue
            if field == 'headers':
                same = [list(h) for h in a[field]] == [list(h) for h in b[field]]
            else:
                same = a[field] == b[field]
            if not same:
                return Disagreement('field', i, sea, node, data,
                                    f'request {i}: {field}: sea {a[field]!r}, node {b[field]!r}')
        if b.get('upgrade'):
            # llhttp reads nothing after a request asking to upgrade; sea, which never upgrades, reads on.
            if len(sr) == i + 1 and sea['end'] in ('eof', 'incomplete', 'close'):
                return None
            d = Disagreement('node', i + 1, sea, node, data, f'node stops after request {i}, which asks to upgrade')
            d.node_code = 'UPGRADE'
            return d
    n = min(len(sr), len(nr))
    if len(sr) > n:
        return Disagreement('node', n, sea, node, data,
                            f'request {n}: sea reads it, node refuses it ({node["end"]} {node.get("code", "")})')
    if len(nr) > n:
        return Disagreement('sea', n, sea, node, data,
                            f'request {n}: node reads it, sea refuses it ({sea["end"]} {sea.get("status", "")} '
                            f'{sea.get("error", "")})')
    se, ne = sea['end'], node['end']
    if se == ne or (se in NO_REQUEST and ne in NO_REQUEST) or 'incomplete' in (se, ne):
        return None  # the same requests read, and the rest read by neither
    kind = 'sea' if se in NO_REQUEST else 'node' if ne in NO_REQUEST else 'field'
    return Disagreement(kind, n, sea, node, data, f'after {n} request(s): sea ends "{se}", node ends "{ne}"')


def show(data, limit=400):
    text = ''.join(chr(c) if 0x20 <= c < 0x7f and c != 0x5c else
                   {0x0d: '\\r', 0x0a: '\\n\n      ', 0x09: '\\t', 0x5c: '\\\\'}.get(c, f'\\x{c:02x}')
                   for c in data[:limit])
    return text + (f'... ({len(data)} bytes)' if len(data) > limit else '')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dump', required=True)
    ap.add_argument('--node', required=True)
    ap.add_argument('--oracle', required=True)
    ap.add_argument('--corpus', required=True)
    ap.add_argument('--mutations', type=int, default=400)
    ap.add_argument('--seed', type=int, default=20250611)
    ap.add_argument('--show-allowed', action='store_true', help='print each allowed disagreement too')
    ap.add_argument('--only', help='only the input of this id')
    args = ap.parse_args()

    if not args.node or args.node.endswith('NOTFOUND') or not os.access(args.node, os.X_OK):
        sys.exit(f'FAIL: node not found ({args.node!r}); scripts/setup.sh installs nodejs, which this test needs')
    corpus = load_corpus(args.corpus)
    if len(corpus) < 50:
        sys.exit(f'FAIL: only {len(corpus)} corpus files in {args.corpus}')
    inputs = corpus + mutations(corpus, args.mutations, args.seed)
    if args.only:
        inputs = [(i, d) for i, d in inputs if i == args.only]
    with tempfile.TemporaryDirectory(prefix='http_diff.') as tmp:
        lines = os.path.join(tmp, 'inputs.txt')
        with open(lines, 'w') as f:
            for ident, data in inputs:
                f.write(f'{ident} {data.hex()}\n')
        sea = run([args.dump, '--lines', lines], 'parse_dump')
        node = run([args.node, args.oracle, '--lines', lines], 'node http_oracle.js')

    failures, agreed, both_read = 0, 0, 0
    for ident, data in inputs:
        if ident not in sea or ident not in node:
            print(f'FAIL: {ident}: no answer from {"parse_dump" if ident not in sea else "node"}')
            failures += 1
            continue
        s, n = sea[ident], node[ident]
        if n['end'] == 'timeout':
            print(f'FAIL: {ident}: node did not close the connection within its bound')
            failures += 1
            continue
        d = compare(s, n, data)
        if d is None:
            agreed += 1
            both_read += bool(s['requests'])
            continue
        rule = next((r for r in ALLOWED if r.matches(d)), None)
        if rule:
            rule.seen += 1
            rule.example = rule.example or (ident, d)
            if args.show_allowed:
                print(f'allowed ({rule.name}): {ident}: {d.what}\n  input: {show(data, 200)}')
            continue
        failures += 1
        print(f'FAIL: {ident}: {d.what}\n  input: {show(data)}\n  sea:  {json.dumps(s)[:600]}\n'
              f'  node: {json.dumps(n)[:600]}\n')

    mutated = sum(1 for i, _ in inputs if i.startswith('mut'))
    print(f'{len(inputs)} inputs ({len(inputs) - mutated} from the corpus, {mutated} mutations): '
          f'{agreed} agree ({both_read} with requests read), '
          f'{sum(r.seen for r in ALLOWED)} allowed differences, {failures} failures')
    for r in ALLOWED:
        example = f' (first: {r.example[0]})' if r.example else ''
        print(f'  {r.name}: {r.seen}{example}')
    if not args.only and both_read < 40:
        print(f'FAIL: only {both_read} inputs read by both: is the oracle working?')
        failures += 1
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
