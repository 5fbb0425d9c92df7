/*
 * sea/http_client.h - an HTTP/1.1 client: a pool of kept-alive connections to one server.
 *
 *     static sea_future fetch(void) {                                  // in a fiber
 *         sea_http_client *c;
 *         SEA_TRY(sea_http_client_new("127.0.0.1:8080", NULL, &c));
 *         sea_http_client_response r;
 *         sea_future f = sea_await(sea_http_client_get(c, "/hello", &r)); // v.i: the status
 *         if (!sea_future_failed(&f)) {                                  // or -ECONNREFUSED, -ETIMEDOUT, -EPROTO...
 *             printf("%d %.*s\n", r.status, (int)r.body.len, r.body.data);
 *             sea_future_detach(f);
 *             f = sea_ready();
 *         }
 *         sea_http_client_response_free(&r);                             // harmless after a failure
 *         sea_future_detach(sea_await(sea_http_client_close(c)));
 *         return f;
 *     }
 *
 * A client talks to the one server at addr ("127.0.0.1:8080", "[::1]:80",
 * "unix:/run/app.sock": no name lookups, which would block) over at most
 * max_connections connections at once.  A connection is kept after a
 * response (HTTP/1.1 keep-alive) and reused by the next request, unless the
 * server said "Connection: close", answered HTTP/1.0 without keep-alive, or
 * ended the body by closing; requests beyond max_connections wait in line
 * (that wait counts against their timeout).  A kept connection that the
 * server closed while it sat idle is noticed before it is used, and a
 * request that fails on a reused connection before any byte of its answer
 * came is sent again, once, on a new connection, if its method is
 * idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE) and its body is not a
 * stream.
 *
 * Each request runs in a fiber of its own, so the calls work from fibers
 * and continuations alike, and requests made one after another without
 * waiting run at once (gather them with sea_when_all).  Requests go out one
 * at a time per connection (no pipelining): the head, then the body (bytes with Content-Length, or a stream: with its length if
 * you give it, else chunked).  A response is read whole into memory
 * (sea_http_client_request, sea_http_client_get), or up to its head with
 * the body as an input stream (sea_http_client_request_stream) for bodies
 * too large to hold.  Its framing follows RFC 9112 section 6.3:
 * Content-Length, chunked, or the end of the connection; none for HEAD,
 * 1xx, 204 and 304.  Interim 1xx responses (100 Continue, 103 Early Hints)
 * are skipped, up to 100 of them (more fail with -EPROTO).
 *
 * Parsing is lenient where RFC 9112 lets a recipient be, and strict about
 * framing: a line may end with a bare LF (section 2.2); obsolete line
 * folding in a field value becomes spaces (5.2); blanks between a field name
 * and its colon are dropped; several identical Content-Lengths count as
 * one.  Refused with -EPROTO: a malformed status line or field, a NUL or a
 * bare CR in a field, Content-Length beside Transfer-Encoding, different or
 * malformed Content-Lengths, a transfer coding other than chunked, a
 * malformed chunk (chunked bodies are decoded as strictly as the server
 * does: CRLF line ends), a 101 the client did not ask for, a head larger
 * than max_head, and a body cut short by the connection's end.
 *
 * Failures are failed futures with negative errno codes and a message that
 * says which request, what and why ("GET /x on 127.0.0.1:8080: reading the
 * response: the server closed the connection before answering"): -EINVAL
 * (a malformed request), -ECONNREFUSED and the other connect errors,
 * -ETIMEDOUT (connect_timeout or request_timeout passed), -ECONNRESET (the
 * server closed the connection without answering), -EPIPE, -EPROTO (a
 * malformed response, see above), -EMSGSIZE (a body longer than max_body),
 * -ELOOP (more than max_redirects redirects), SEA_ECANCELED (the client was
 * closed).  A status such as 404 or 500 is an answer, not a failure.
 *
 * A client belongs to the shard that made it: its connections, requests and
 * responses are used on that shard only.  A sharded service makes one per
 * shard (sea_sharded, sea/sharded.h), each with its own pool.
 */
#ifndef SEA_HTTP_CLIENT_H
#define SEA_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sea/buffer.h>
#include <sea/future.h>
#include <sea/http.h>
#include <sea/stream.h>
#include <sea/tls.h>
#include <sea/timer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_http_client sea_http_client;

/* Options; zero-initialise and set what you need (NULL means all defaults). */
typedef struct sea_http_client_options {
    unsigned max_connections; /* open at once (busy or idle); more requests wait in line; 0: 16 */
    sea_time connect_timeout; /* for each connect; 0: 10 s */
    /*
     * For each request, from the call until the response's last byte is in
     * (waiting for a connection, connecting, redirects and retries included;
     * with sea_http_client_request_stream, until its body stream reaches its
     * end).  0: 60 s; SEA_TIME_MAX: none.
     */
    sea_time request_timeout;
    sea_time idle_timeout;    /* a kept connection unused this long is closed; 0: 15 s */
    /*
     * Redirects (301, 302, 303, 307, 308) followed per request; 0: none, the
     * 3xx response is the answer.  Only redirects to this client's server
     * are followed (a Location that is a path, or an http URL whose host
     * and port are the Host header's); any other is the answer.  303, and
     * 301 or 302 after a POST, continue with GET and no body (HEAD stays
     * HEAD); 307 and 308 keep the method and the body, unless the body is a
     * stream, which cannot be sent twice: then the 3xx is the answer.
     */
    unsigned max_redirects;
    size_t max_head;          /* a response's status line and fields, at most; 0: 64 KiB */
    unsigned max_headers;     /* header fields per response, at most; 0: 128 */
    size_t max_body;          /* a body read into memory, at most (-EMSGSIZE); 0: 16 MiB; SIZE_MAX: no limit */
    const char *host;         /* the Host header; NULL: from addr ("127.0.0.1:8080"; "localhost" for unix:) */
    const char *user_agent;   /* the User-Agent header; NULL: "sea"; "": none */
    sea_tls_creds *tls;       /* HTTPS with these client credentials (sea/tls.h; they must outlive the client) */
    const char *tls_name;     /* the name sent as SNI and checked in the certificate; NULL: Host without its port */
} sea_http_client_options;

/*
 * A client for the server at addr, with opts (NULL: defaults), which are
 * copied.  Connects nothing yet.  0 with *out set, -EINVAL (addr does not
 * parse, host or user_agent has a control character), -ENOMEM, or
 * SEA_ESHUTDOWN when no reactor runs on this thread.
 */
int sea_http_client_new(const char *addr, const sea_http_client_options *opts, sea_http_client **out);

/* A request.  Zero-initialise and set what you need. */
typedef struct sea_http_client_req {
    const char *method;             /* NULL: "GET" (a token; CONNECT is refused) */
    const char *path;               /* the request-target, sent as given: "/a%20b?x=1" (or "*" for OPTIONS) */
    /*
     * More header fields (names are tokens, values have no control
     * characters but tab).  Content-Length, Transfer-Encoding and Connection
     * are the client's (-EINVAL); a Host or User-Agent here replaces the
     * client's.
     */
    const sea_http_header *headers;
    unsigned header_count;
    const void *body;               /* a body of body_len bytes, sent with Content-Length */
    size_t body_len;
    /*
     * Or a body read from this stream to its end (the caller's: it is not
     * freed), sent with Content-Length body_stream_length when that is not
     * 0, else chunked.  A stream ending before that length fails the request
     * with -EINVAL, one going past it with -EMSGSIZE.
     */
    sea_input_stream *body_stream;
    uint64_t body_stream_length;
} sea_http_client_req;

/*
 * A response.  Its strings and headers live in memory the response owns,
 * until sea_http_client_response_free.
 */
typedef struct sea_http_client_response {
    int status;                      /* 200, 404, ... (100..999) */
    int version;                     /* 10 for HTTP/1.0, 11 for HTTP/1.1 (and later 1.x) */
    const char *reason;              /* the reason phrase as sent ("OK"; may be "") */
    const sea_http_header *headers;  /* as received, obsolete line folds made spaces */
    unsigned header_count;
    int64_t content_length;          /* the body's length if the server said, else -1 (chunked, to the end) */
    sea_buf body;                    /* the whole body (sea_http_client_request, sea_http_client_get) */
    sea_input_stream *body_stream;   /* the body (sea_http_client_request_stream); never NULL there */
    unsigned redirects;              /* redirects followed to get this answer */
    void *sea__mem;                  /* private */
} sea_http_client_response;

/*
 * Sends req and reads the whole response into *out, body included (at most
 * max_body bytes, else -EMSGSIZE).  Resolves with v.i = the status.  req and
 * the strings and headers it points to may go once this returns; req->body
 * and req->body_stream, and *out, must stay until the future resolves.  On
 * failure *out holds nothing (freeing it is harmless).  -EINVAL at once for
 * a malformed request; SEA_ECANCELED once the client is closing; -EXDEV off
 * the client's shard.
 */
sea_future sea_http_client_request(sea_http_client *c, const sea_http_client_req *req,
                                   sea_http_client_response *out) SEA_MUST_USE;

/* sea_http_client_request for "GET path" with no more fields. */
sea_future sea_http_client_get(sea_http_client *c, const char *path, sea_http_client_response *out) SEA_MUST_USE;

/*
 * Sends req as sea_http_client_request does, but resolves as soon as the
 * response's head is in: out->body_stream is the body, read from the
 * connection as you read the stream (one operation at a time, on this
 * shard; at its end at once for HEAD, 204, 304).  The stream fails with
 * -EPROTO for a malformed body, -ETIMEDOUT once request_timeout has passed,
 * SEA_ECANCELED when the client closes.  The connection goes back to the
 * pool when the stream reaches the body's end; freeing the response before
 * that (no operation may be pending on the stream) closes the connection
 * instead.  The connection counts against max_connections until then.
 */
sea_future sea_http_client_request_stream(sea_http_client *c, const sea_http_client_req *req,
                                          sea_http_client_response *out) SEA_MUST_USE;

/* The value of field name (case-insensitive) in resp, or NULL.  With several, the first. */
const char *sea_http_client_response_header(const sea_http_client_response *resp, const char *name);

/*
 * Frees what resp holds: its head, its body, its body stream (see
 * sea_http_client_request_stream), and zeroes it.  Harmless on a zeroed or
 * already freed response.
 */
void sea_http_client_response_free(sea_http_client_response *resp);

/*
 * Closes c: new requests fail with SEA_ECANCELED, and so do those waiting
 * for a connection and those in progress (their connections are shut
 * down; a connect under way ends within connect_timeout, a request reading
 * its body stream when the stream gives its next bytes); idle connections
 * are closed.  Resolves once every request has ended and every body stream
 * has been freed, and frees c: use it no more.  A second call fails with
 * -EALREADY.
 */
sea_future sea_http_client_close(sea_http_client *c) SEA_MUST_USE;

/* The client's counters. */
typedef struct sea_http_client_stats {
    uint64_t connects;     /* connections made */
    uint64_t open;         /* connections open now, busy or idle */
    uint64_t idle;         /* idle in the pool now */
    uint64_t requests;     /* requests sent (a retry or a redirect is one more) */
    uint64_t reused;       /* of which on a connection that had served a request before */
    uint64_t retries;      /* requests sent again after a reused connection failed */
    uint64_t stale;        /* idle connections found closed by the server (or talking) when taken */
    uint64_t redirects;    /* redirects followed */
} sea_http_client_stats;

/* Copies c's counters into *out.  0. */
int sea_http_client_stats_get(const sea_http_client *c, sea_http_client_stats *out);

#ifdef __cplusplus
}
#endif
#endif
