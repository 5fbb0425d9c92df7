'use strict';
/*
 * http_oracle.js - what Node's own HTTP server (llhttp, strict: the default
 * insecureHTTPParser false, requireHostHeader true) makes of each input, for
 * the differential test (test_http_diff.py); parse_dump.c prints the same
 * shape for sea's parsers.
 *
 *     node http_oracle.js FILE...         each file is one input
 *     node http_oracle.js --lines FILE    each line "ID HEX" is one input
 *
 * An http.createServer listens on 127.0.0.1, port 0 (the OS picks; the first
 * line printed is {"port": N}).  For each input in turn, a raw net socket
 * connects, writes the bytes and half-closes; the input's record is printed
 * once both ends of that connection have closed.  The server sees each
 * request through subclasses of IncomingMessage and ServerResponse (options
 * of http.createServer): the body bytes as the parser pushes them, whether
 * the request reached the 'request' event (Node answers a 1.1 request
 * without Host with 400, and an Expect other than 100-continue with 417,
 * before it), and whether Node keeps the connection.  A parse error is the
 * 'clientError' event (its code, e.g. HPE_INVALID_HEADER_TOKEN); a CONNECT
 * is the 'connect' event.
 *
 * A line: {"id", "requests": [{"method", "target", "version", "headers":
 * [[name, value]...], "body" (hex), "keep_alive", "trailers", "upgrade"
 * (only when true: llhttp reads no further)}...], "end":
 * "eof" | "incomplete" | "reject" | "close" | "timeout", "code"}, as
 * parse_dump.c describes.  An input whose connection is not closed within
 * 10 s (only a real hang) is "timeout"; the script exits once all are done.
 */
const http = require('http');
const net = require('net');
const fs = require('fs');

const TIMEOUT_MS = 10000;

function loadInputs(argv) {
    if (argv[0] === '--lines') {
        const text = fs.readFileSync(argv[1] === '-' ? 0 : argv[1], 'latin1');
        const out = [];
        for (const line of text.split('\n')) {
            if (!line)
                continue;
            const sp = line.indexOf(' ');
            if (sp < 0)
                throw new Error(`a line is not "ID HEX": ${line.slice(0, 40)}`);
            out.push({id: line.slice(0, sp), data: Buffer.from(line.slice(sp + 1), 'hex')});
        }
        return out;
    }
    return argv.map((name) => ({id: name, data: fs.readFileSync(name === '-' ? 0 : name)}));
}

/* The connection being tried (one at a time). */
let current = null;

class OracleRequest extends http.IncomingMessage {
    constructor(socket) {
        super(socket);
        this.oracle = {body: [], complete: false, delivered: false, connect: false, res: null};
        if (socket && socket.oracleConn)
            socket.oracleConn.requests.push(this);
    }

    push(chunk, encoding) {
        /* The parser pushes each piece of the body, then null at its end. */
        if (chunk === null)
            this.oracle.complete = true;
        else
            this.oracle.body.push(Buffer.from(chunk));
        return super.push(chunk, encoding);
    }
}

class OracleResponse extends http.ServerResponse {
    constructor(req, options) {
        super(req, options);
        if (req.oracle)
            req.oracle.res = this;
    }
}

const server = http.createServer({
    IncomingMessage: OracleRequest,
    ServerResponse: OracleResponse,
    insecureHTTPParser: false,
});

server.on('request', (req, res) => {
    req.oracle.delivered = true;
    req.on('end', () => res.end('ok'));
    req.on('error', () => {});
    res.on('error', () => {});
    req.resume();
});

server.on('connect', (req, socket) => {
    req.oracle.connect = true;
    req.oracle.delivered = true;
    socket.destroy();
});

server.on('clientError', (err, socket) => {
    /* Parser errors only (a write after the end, say, is not about the request). */
    if (current && !current.error && typeof err.code === 'string' && err.code.startsWith('HPE_'))
        current.error = {code: err.code, reason: err.reason || err.message};
    socket.destroy();
});

server.on('connection', (socket) => {
    const conn = current;
    if (!conn || conn.serverSocket) {
        socket.destroy(); /* not ours */
        return;
    }
    conn.serverSocket = socket;
    socket.oracleConn = conn;
    socket.on('close', () => {
        conn.serverClosed = true;
        conn.maybeDone();
    });
});

function latin1(s) {
    return s === undefined || s === null ? null : String(s);
}

/* The record of a connection, in parse_dump.c's shape. */
function record(conn) {
    const out = {id: conn.id, requests: [], end: 'eof'};
    let stopped = false;
    for (const req of conn.requests) {
        const o = req.oracle;
        const base = {
            method: latin1(req.method),
            target: latin1(req.url),
            version: latin1(req.httpVersion),
            headers: [],
        };
        for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
            base.headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
        if (o.connect) {
            out.requests.push(Object.assign(base, {body: '', keep_alive: false}));
            out.end = 'close';
            stopped = true;
            break;
        }
        if (!o.delivered) {
            /* Answered by Node itself before the 'request' event. */
            out.end = 'reject';
            const host = req.headers && req.headers.host !== undefined;
            out.code = req.httpVersion === '1.1' && !host ? 'NO_HOST'
                : req.headers && req.headers.expect !== undefined ? 'EXPECTATION_FAILED' : 'UNDELIVERED';
            out.partial = base;
            stopped = true;
            break;
        }
        if (!o.complete) {
            out.end = conn.error && conn.error.code !== 'HPE_INVALID_EOF_STATE' ? 'reject' : 'incomplete';
            out.partial = base;
            stopped = true;
            break;
        }
        const keepAlive = o.res ? o.res.shouldKeepAlive !== false : false;
        /* llhttp stops after a request asking to upgrade (Upgrade, and "upgrade" in Connection). */
        const connection = String(req.headers.connection || '').toLowerCase().split(',').map((t) => t.trim());
        const upgrade = req.headers.upgrade !== undefined && connection.includes('upgrade');
        out.requests.push(Object.assign(base, {
            body: Buffer.concat(o.body).toString('hex'),
            keep_alive: keepAlive,
            trailers: req.rawTrailers ? req.rawTrailers.slice() : [],
        }, upgrade ? {upgrade: true} : {}));
        if (upgrade) {
            out.end = 'close';
            stopped = true;
            break;
        }
        if (!keepAlive) {
            out.end = 'close';
            stopped = true;
            break;
        }
    }
    if (!stopped && conn.error)
        out.end = conn.error.code === 'HPE_INVALID_EOF_STATE' ? 'incomplete' : 'reject';
    if (conn.error)
        Object.assign(out, {code: conn.error.code, reason: conn.error.reason});
    if (conn.timedOut)
        out.end = 'timeout';
    return out;
}

function tryOne(port, input) {
    return new Promise((resolve) => {
        const conn = {
            id: input.id, requests: [], error: null, serverSocket: null,
            serverClosed: false, clientClosed: false, timedOut: false, done: false,
        };
        current = conn;
        const client = net.connect({port, host: '127.0.0.1'});
        const timer = setTimeout(() => {
            conn.timedOut = true;
            client.destroy();
            if (conn.serverSocket)
                conn.serverSocket.destroy();
            conn.serverClosed = true;
            conn.maybeDone();
        }, TIMEOUT_MS);
        conn.maybeDone = () => {
            if (conn.done || !conn.serverClosed || !conn.clientClosed)
                return;
            conn.done = true;
            clearTimeout(timer);
            current = null;
            resolve(record(conn));
        };
        client.on('connect', () => client.end(input.data));
        client.on('data', () => {});
        client.on('error', () => {});
        client.on('close', () => {
            conn.clientClosed = true;
            conn.maybeDone();
        });
    });
}

async function main() {
    const inputs = loadInputs(process.argv.slice(2));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = server.address().port;
    process.stdout.write(JSON.stringify({port}) + '\n');
    for (const input of inputs) {
        const rec = await tryOne(port, input);
        process.stdout.write(JSON.stringify(rec) + '\n');
    }
    server.close();
    server.closeAllConnections();
}

main().catch((err) => {
    process.stderr.write(`http_oracle: ${err.stack || err}\n`);
    process.exit(2);
});
