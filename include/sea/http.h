/*
 * sea/http.h - an HTTP/1.1 and HTTP/2 server: requests, responses, routes, static files.
 *
 *     static sea_future hello(sea_http_request *req, sea_http_response *resp, void *data) {
 *         sea_http_response_set_type(resp, "text/plain");
 *         sea_http_response_write(resp, "Hello, World!", 13);
 *         return sea_ready();
 *     }
 *     static sea_future app_main(void) {
 *         sea_http_routes *routes = sea_http_routes_new();
 *         sea_http_route(routes, "GET", "/hello", hello, NULL);
 *         sea_http_route(routes, "GET", "/users/{id}", user, NULL);   // sea_http_param(req, "id")
 *         sea_http_files(routes, "/static", "./public", NULL);        // GET /static/<path> from ./public
 *         return sea_http_serve("127.0.0.1:8080", NULL, routes);      // until SIGINT or SIGTERM
 *     }
 *
 * The server speaks HTTP/1.1 and 1.0 (RFC 9110, 9112) on every shard, over
 * the stream server of sea/server.h: each connection is served in a fiber of
 * its own, request after request (keep-alive; pipelined requests are
 * answered in order, their answers sent together).  Handlers run in that
 * fiber, so a handler may wait with SEA_AWAIT (fiber style) or return a
 * future that resolves when the response is complete (continuation style);
 * either way the next request on the connection waits for it.
 *
 * It also speaks HTTP/2 (RFC 9113, through libnghttp2): over TLS when the
 * handshake's ALPN chose "h2" (the application offers it in its
 * credentials: sea_tls_options.alpn = "h2,http/1.1"), and on plain
 * connections whose first bytes are HTTP/2's connection preface (prior
 * knowledge, "h2c").  The same routes, hooks and handlers serve both; each
 * stream's handler runs in a fiber of its own, so the streams of one
 * connection are answered concurrently (up to max_streams at once).
 *
 * A handler fills the response: a status (200 unless set), headers, and a
 * body, either in memory (sea_http_response_write, _printf, _set_body) or as
 * an output stream (sea_http_response_stream) for bodies too large to hold:
 * a known length is sent as Content-Length, an unknown one chunked (or, to
 * an HTTP/1.0 client, up to the end of the connection).  The request's body
 * is an input stream (sea_http_request_body) whatever its framing; bytes it
 * does not read are read and dropped after the handler (or the connection is
 * closed if there are too many).  A handler whose future fails gets a 500
 * (and a log line) if nothing was sent yet, and its connection closed
 * otherwise; the server never drops a connection silently.
 *
 * The server answers by itself what does not reach a handler: malformed
 * requests (400, and the connection closed), a request line too long (414),
 * a head too large (431), a body too large (413), a client too slow to send
 * its head (408), no route (404), a route without the method (405 with
 * Allow), an HTTP version other than 1.x (505), Expect other than
 * 100-continue (417).  docs/http.md lists every limit, its default, and the
 * request-smuggling rules.
 *
 * Routes, options and a server belong to the shard that made them and are
 * read (never written) by every shard once the server starts: register
 * every route before starting, and keep the route table until the server
 * stops.  Per-shard state for handlers lives in sharded services
 * (sea/sharded.h) or thread-local data.  Log lines go to the logger "http".
 */
#ifndef SEA_HTTP_H
#define SEA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sea/buffer.h>
#include <sea/future.h>
#include <sea/net.h>
#include <sea/server.h>
#include <sea/stream.h>
#include <sea/timer.h>
#include <sea/tls.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_http_response sea_http_response;
typedef struct sea_http_routes sea_http_routes;
typedef struct sea_http_server sea_http_server;
struct sea__http_conn;
struct sea__h2_stream;

/* A header field as received: both strings NUL-terminated, the value without surrounding blanks. */
typedef struct sea_http_header {
    const char *name;
    const char *value;
} sea_http_header;

/*
 * A request, as the server parsed it.  Every string is NUL-terminated and
 * valid until the handler's future resolves; the struct is the server's.
 */
typedef struct sea_http_request {
    const char *method;  /* "GET", "POST", ... (case-sensitive, as sent) */
    const char *target;  /* the request-target as sent: "/a%20b?x=1" */
    const char *path;    /* its path, percent-decoded: "/a b" (never contains NUL; "%3F" gives a "?") */
    const char *query;   /* the query, not decoded, without the "?": "x=1"; "" if none */
    int version;         /* 10 for HTTP/1.0, 11 for HTTP/1.1, 20 for HTTP/2 */
    const sea_http_header *headers;
    unsigned header_count;
    int64_t content_length; /* the body's length; -1 when chunked (HTTP/2: not announced); 0 when there is none */
    bool keep_alive;        /* the client keeps the connection (1.1 unless "close"; 1.0 if "keep-alive") */
    bool expect_continue;   /* "Expect: 100-continue" (the server sends 100 when the body is first read) */
    void *user;             /* for hooks and handlers to hand data along; NULL at first */
    struct sea__http_conn *sea__conn; /* private */
    struct sea__h2_stream *sea__h2;   /* private: the HTTP/2 stream (then sea__conn is NULL) */
} sea_http_request;

/* The value of header name (case-insensitive), or NULL.  With several, the first. */
const char *sea_http_header_get(const sea_http_request *req, const char *name);
/* The value of route parameter name ("{id}" in the pattern; "{rest*}" for a wildcard), or NULL. */
const char *sea_http_param(const sea_http_request *req, const char *name);
/* The address of the client. */
sea_addr sea_http_peer(const sea_http_request *req);
/*
 * The request's TLS connection (HTTPS, over HTTP/1.1 or HTTP/2), or NULL
 * for plain HTTP: sea_tls_peer_subject gives the client certificate's
 * subject under mutual TLS (verify_client), sea_tls_server_name the name
 * the client asked for, sea_tls_resumed whether the handshake was resumed.
 */
const sea_tls *sea_http_request_tls(const sea_http_request *req);

/*
 * The body, as an input stream (see sea/stream.h), whatever its framing
 * (Content-Length or chunked; the trailers of a chunked body are checked
 * and dropped).  Owned by the server: do not free it.  Reading it past
 * max_body fails with -EMSGSIZE and the response becomes 413; a malformed
 * chunk fails with -EPROTO (400); a client too slow fails it with
 * -ETIMEDOUT (408).  With no body it is at its end at once.
 */
sea_input_stream *sea_http_request_body(sea_http_request *req);
/*
 * Reads the whole body, at most max bytes (0: the server's max_body), into
 * *out: resolves with v.size = out->len.  Fails as the stream does, and with
 * -EMSGSIZE (413) when the body is longer than max.
 */
sea_future sea_http_request_read_body(sea_http_request *req, size_t max, sea_buf *out) SEA_MUST_USE;

/* ---- decoding ---- */

/*
 * Percent-decodes len bytes at in into out (room for outlen bytes; it is
 * NUL-terminated, so it needs one more), '+' as a space if plus_is_space
 * (form encoding).  Returns the decoded length, -EINVAL for a malformed
 * escape ("%" not followed by two hex digits) or a decoded NUL, -ENOSPC if
 * out is too small.
 */
long sea_http_decode(const char *in, size_t len, char *out, size_t outlen, bool plus_is_space);
/*
 * Looks name up in form-encoded text ("a=1&b=x+y", a query string or an
 * application/x-www-form-urlencoded body of len bytes) and decodes its value
 * into out as sea_http_decode does.  Returns the value's length, -ENOENT if
 * name is not there, -EINVAL or -ENOSPC as above.  A name without "=" has an
 * empty value.  With several, the first.
 */
long sea_http_form_get(const char *form, size_t len, const char *name, char *out, size_t outlen);
/* sea_http_form_get over the request's query string. */
long sea_http_query_get(const sea_http_request *req, const char *name, char *out, size_t outlen);

/* ---- responses ---- */

/* Sets the status (100..999; 200 unless set).  Before the response's head is sent. */
void sea_http_response_set_status(sea_http_response *resp, int status);
/* The status set so far. */
int sea_http_response_status(const sea_http_response *resp);
/*
 * Adds a header.  Names are tokens, values have no control characters (a
 * CR or LF would split the response): -EINVAL otherwise, -ENOMEM, or
 * -EALREADY once the head is sent.  Date, Server, Content-Length,
 * Transfer-Encoding and Connection are the server's: -EPERM.
 */
int sea_http_response_add_header(sea_http_response *resp, const char *name, const char *value);
/* Sets Content-Type (default: none for an empty body, else application/octet-stream). */
int sea_http_response_set_type(sea_http_response *resp, const char *type);
/* Appends len bytes to the body held in memory.  0 or -ENOMEM; -EALREADY when streaming. */
int sea_http_response_write(sea_http_response *resp, const void *data, size_t len);
/* Appends formatted text to the body.  0, -ENOMEM or -EALREADY. */
int sea_http_response_printf(sea_http_response *resp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes b the body (taking the reference; sent without a copy), after what was written so far. */
int sea_http_response_set_body(sea_http_response *resp, sea_buf b);
/*
 * Sets the status and a short text body ("404 Not Found: <why>\n"), for
 * errors.  Replaces any body written so far.
 */
int sea_http_response_error(sea_http_response *resp, int status, const char *why);
/*
 * A stream for the body: length bytes (sent with Content-Length; writing
 * more fails with -EMSGSIZE, closing after fewer closes the connection), or
 * length -1 for a body of unknown length (chunked).  The head goes out with
 * the first bytes sent.  The handler writes, then closes the stream
 * (sea_output_close) before its future resolves; the server frees it.
 * NULL with errno set: ENOMEM, or EALREADY if called twice.  For HEAD
 * requests the bytes are counted and dropped.
 */
sea_output_stream *sea_http_response_stream(sea_http_response *resp, int64_t length);
/* Adds a trailer field to a chunked streamed body (before closing the stream).  As add_header. */
int sea_http_response_add_trailer(sea_http_response *resp, const char *name, const char *value);
/* Closes the connection after this response ("Connection: close"). */
void sea_http_response_close(sea_http_response *resp);

/* The reason phrase of a status ("Not Found"), or "" for an unknown one. */
const char *sea_http_reason(int status);

/* ---- routes ---- */

/*
 * Answers req in resp.  Resolves when the response is complete (after a
 * streamed body's stream is closed); a failure becomes a 500 (see above).
 */
typedef sea_future (*sea_http_handler)(sea_http_request *req, sea_http_response *resp, void *data);

/*
 * Runs before the handlers of the routes under a prefix (sea_http_use):
 * resolves with v.i = SEA_HTTP_NEXT to go on, SEA_HTTP_DONE when it has
 * answered itself (an auth check's 401); a failure is a 500, as a handler's.
 */
typedef sea_future (*sea_http_hook)(sea_http_request *req, sea_http_response *resp, void *data);
enum { SEA_HTTP_NEXT = 0, SEA_HTTP_DONE = 1 };

/* Runs after each response is sent (an access log): its status, body bytes and time taken. */
typedef void (*sea_http_done_fn)(const sea_http_request *req, int status, uint64_t body_bytes, sea_time took,
                                 void *data);

/* An empty route table; NULL if out of memory. */
sea_http_routes *sea_http_routes_new(void);
/* Frees a route table (after every server using it has stopped).  NULL does nothing. */
void sea_http_routes_free(sea_http_routes *routes);

/*
 * Routes method (NULL or "*": any method) and path pattern to handler.  A
 * pattern is "/" then segments split by "/": a literal ("users"), a
 * parameter that matches one non-empty segment ("{id}"), or, as the last
 * segment, a wildcard that matches the rest of the path, empty or not
 * ("{path*}").  A literal beats a parameter, which beats a wildcard; a
 * path's trailing "/" matters ("/a/" is not "/a").  HEAD goes to the GET
 * handler when it has no route of its own (the body is dropped, its length
 * kept).  0, -EINVAL (malformed pattern or method), -EEXIST (the same
 * method and pattern again), -ENOMEM.
 */
int sea_http_route(sea_http_routes *routes, const char *method, const char *pattern, sea_http_handler handler,
                   void *data);
/*
 * Runs hook before the handler of every request whose path is prefix or
 * starts with prefix followed by "/" ("/" for all).  Hooks run in the order
 * they were added.  0, -EINVAL, -ENOMEM.
 */
int sea_http_use(sea_http_routes *routes, const char *prefix, sea_http_hook hook, void *data);
/* Calls fn after every response of routes' server (one function; NULL removes it). */
void sea_http_on_done(sea_http_routes *routes, sea_http_done_fn fn, void *data);

/* ---- static files ---- */

typedef struct sea_http_files_options {
    const char *index;        /* served for a directory; NULL: "index.html" */
    size_t cache_file_max;    /* files up to this size are kept in memory, larger ones sent with sendfile; 0: 64 KiB */
    size_t cache_bytes;       /* per shard, in all; 0: 64 MiB */
    sea_time cache_validity;  /* a cached file is checked against the disk this often; 0: 1 s */
} sea_http_files_options;

/*
 * Serves the files under the directory root at prefix ("/static": GET and
 * HEAD /static/<path>; "/" for all), through the disk API (sea/file.h):
 * Content-Type from the extension, Last-Modified and If-Modified-Since,
 * ETag and If-None-Match, single byte ranges (206, 416), a directory's index
 * file (a directory asked without its "/" is redirected, 301), large files
 * streamed in pieces without holding them whole.  A path that would leave
 * root ("..", also percent-encoded, or a symbolic link pointing out of it)
 * is refused with 404, as are hidden files (a segment starting with ".").
 * 0, -ENOENT (root is not a directory), -EINVAL, -ENOMEM.
 */
int sea_http_files(sea_http_routes *routes, const char *prefix, const char *root,
                   const sea_http_files_options *opts);
/* The Content-Type sea_http_files gives a file name ("text/html; charset=utf-8"). */
const char *sea_http_mime_type(const char *name);

/* ---- the server ---- */

typedef struct sea_http_server_options {
    sea_server_options server;   /* listening, connections, fibers' stacks (see sea/server.h) */
    size_t max_request_line;     /* longer: 414; 0: 8 KiB */
    size_t max_head;             /* request line and headers; larger: 431; 0: 16 KiB */
    unsigned max_headers;        /* more header fields: 431; 0: 100 */
    uint64_t max_body;           /* larger bodies: 413; 0: 1 MiB; UINT64_MAX: no limit */
    sea_time header_timeout;     /* from a request's first byte to the end of its head: 408; 0: 10 s */
    sea_time idle_timeout;       /* between requests on a kept connection; 0: 60 s */
    sea_time io_timeout;         /* for each read of a body and each send; 0: 60 s */
    unsigned max_requests;       /* per connection, then "Connection: close"; 0: no limit */
    const char *server_header;   /* the Server header's value; NULL: "sea"; "": none */
    sea_tls_creds *tls;          /* HTTPS with these server credentials (sea/tls.h; they must outlive the
                                    server); NULL: plain HTTP.  The handshake counts against header_timeout.
                                    HTTP/2 over TLS when the credentials' alpn offers "h2" and the client
                                    chooses it */
    bool no_http2;               /* no HTTP/2: a plain connection's preface is answered as HTTP/1.x (505), and a
                                    TLS connection whose ALPN chose "h2" is closed (leave "h2" out of alpn) */
    unsigned max_streams;        /* HTTP/2: streams open at once per connection (SETTINGS_MAX_CONCURRENT_STREAMS;
                                    more are refused); 0: 100 */
} sea_http_server_options;

/*
 * Serves routes on addr (as sea_server_start: every shard) with opts (NULL:
 * defaults).  Resolves with the server in v.ptr once every shard listens.
 */
sea_future sea_http_server_start(const char *addr, const sea_http_server_options *opts,
                                 const sea_http_routes *routes) SEA_MUST_USE;
/* Starts as sea_http_server_start and resolves when the server has stopped (SIGINT, SIGTERM). */
sea_future sea_http_serve(const char *addr, const sea_http_server_options *opts,
                          const sea_http_routes *routes) SEA_MUST_USE;
/* The stream server underneath (for sea_server_addr, sea_server_stop, sea_server_stats_get). */
sea_server *sea_http_server_base(sea_http_server *srv);
/* Stops the server (see sea_server_stop). */
sea_future sea_http_server_stop(sea_http_server *srv) SEA_MUST_USE;

/* The current shard's request counters of srv. */
typedef struct sea_http_stats {
    uint64_t requests;      /* heads parsed and answered */
    uint64_t responses[6];  /* by class: [1] 1xx ... [5] 5xx */
    uint64_t bad_requests;  /* refused by the parser (400, 414, 431, 505...) */
    uint64_t timeouts;      /* connections closed for a timeout (408 or idle) */
    uint64_t handler_errors; /* handlers or hooks whose future failed */
    uint64_t tls_failures;  /* HTTPS: connections whose TLS handshake failed */
    uint64_t h2_connections; /* connections that spoke HTTP/2 (their streams count in requests) */
    uint64_t h2_errors;     /* HTTP/2 connections ended with a GOAWAY for an error of the client's (a protocol
                               error, a flood, too many resets or CONTINUATION frames) */
} sea_http_stats;
/* Copies the current shard's counters of srv into *out.  0, or -EINVAL off a shard it runs on. */
int sea_http_stats_get(const sea_http_server *srv, sea_http_stats *out);

/*
 * Serves one connection that you accepted yourself, with routes and opts,
 * in the current fiber (call it from one): resolves when the connection is
 * done (the client closed, an error, or "close").  Does not close s.  For a
 * server of your own making (sea's Prometheus endpoint on shard 0 uses it).
 */
sea_future sea_http_serve_connection(sea_socket *s, const sea_http_server_options *opts,
                                     const sea_http_routes *routes) SEA_MUST_USE;

#ifdef __cplusplus
}
#endif
#endif
