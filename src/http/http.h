/*
 * http/http.h - what the HTTP server's files share: the route table
 * (routes.c), the response (response.c), one connection (conn.c), one
 * HTTP/2 connection (h2.c), TLS streams read and written like sockets
 * (transport.c), the server's resolved options (server.c).
 */
#ifndef SEA_HTTP_HTTP_H
#define SEA_HTTP_HTTP_H

#include <sea/http.h>
#include <sea/log.h>

#include "http/parse.h"

extern sea_logger sea__http_log;

/* Route parameters per request, at most. */
#define SEA__HTTP_PARAMS_MAX 8

/* The options with every default filled in, and what a connection needs beside them. */
struct sea__http_cfg {
    sea_http_server_options opts;
    struct sea__http_limits lim;
    const sea_http_routes *routes;
    struct sea__http_stats_slot *stats; /* one per shard, or NULL (sea_http_serve_connection) */
    char server_line[96];               /* "Server: sea\r\n", or "" */
};

struct sea__http_stats_slot {
    sea_http_stats s;
} __attribute__((aligned(64)));

/* Fills cfg from opts (NULL: defaults). */
void sea__http_cfg_init(struct sea__http_cfg *cfg, const sea_http_server_options *opts,
                        const sea_http_routes *routes);

/* ---- routes.c ---- */

struct sea__http_params {
    unsigned count;
    const char *name[SEA__HTTP_PARAMS_MAX];
    const char *value[SEA__HTTP_PARAMS_MAX];
};

struct sea__http_match {
    sea_http_handler handler; /* NULL: no route (status says 404 or 405) */
    void *data;
    int status;
    char allow[128];          /* 405: the Allow header's value */
};

/*
 * Finds the route for method and path; the parameters point into scratch
 * (room for strlen(path) + 1 bytes).
 */
void sea__http_routes_match(const sea_http_routes *routes, const char *method, const char *path, char *scratch,
                            struct sea__http_params *params, struct sea__http_match *out);
/*
 * The next hook, from index *i on, whose prefix covers path: true with *fn
 * and *data set and *i moved past it; false when there is none left.
 */
bool sea__http_next_hook(const sea_http_routes *routes, const char *path, unsigned *i, sea_http_hook *fn,
                         void **data);
/* Frees p with free_fn when routes is freed (data a handler was registered with).  0 or -ENOMEM. */
int sea__http_routes_own(sea_http_routes *routes, void *p, void (*free_fn)(void *p));
/* The routes' done function (an access log), or NULL. */
sea_http_done_fn sea__http_routes_done(const sea_http_routes *routes, void **data);

/* ---- response.c ---- */

struct sea_http_response {
    struct sea__http_conn *conn;
    struct sea__h2_stream *h2; /* HTTP/2: the stream it answers (conn is NULL); reset leaves it */
    int status;
    bool close;          /* Connection: close after it */
    bool head_only;      /* a HEAD request: no body goes out */
    bool has_type;
    bool streaming;      /* sea_http_response_stream was called */
    bool head_sent;      /* the status line and headers are out (streaming) */
    int64_t stream_len;  /* streaming: the promised length, or -1 (chunked or to the end of the connection) */
    uint64_t body_sent;  /* streaming: body bytes taken */
    char *hdrs;          /* "Name: value\r\n" lines */
    size_t hdrs_len, hdrs_cap;
    char *body;          /* a body held in memory */
    size_t body_len, body_cap;
    sea_buf body_buf;    /* a body handed over with set_body, after body[] */
    char *trailers;
    size_t trailers_len, trailers_cap;
    sea_output_stream *stream;
};

/* Makes resp ready for the next request on conn (keeps its buffers). */
void sea__http_response_reset(sea_http_response *resp, struct sea__http_conn *conn);
/* Frees what resp holds. */
void sea__http_response_free(sea_http_response *resp);
/*
 * Appends the response's status line and headers to a growing buffer:
 * body_len is the Content-Length to announce (-1: chunked or none, as the
 * response says).  0 or -ENOMEM.
 */
int sea__http_response_head(sea_http_response *resp, const struct sea__http_cfg *cfg, int version,
                            int64_t body_len, char **out, size_t *out_len, size_t *out_cap);
/* Appends len bytes to a growing buffer.  0 or -ENOMEM. */
int sea__http_append(char **buf, size_t *len, size_t *cap, const void *data, size_t n);
/* The Date header's line for now ("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), cached per second per thread. */
const char *sea__http_date_line(void);
/* Formats t as an HTTP date (29 characters and a NUL) into out. */
void sea__http_format_date(long t, char out[30]);
/* Parses an HTTP date (IMF-fixdate, RFC 850 or asctime); -1 if it is none. */
long sea__http_parse_date(const char *s);

/* ---- transport.c ---- */

/* Reads up to len bytes of in into buf (a TLS connection read like a socket): v.size, 0 at the end. */
sea_future sea__http_stream_read(sea_input_stream *in, char *buf, size_t len) SEA_MUST_USE;
/* Writes len bytes at data to out and flushes them (a TLS connection written like a socket). */
sea_future sea__http_stream_send(sea_output_stream *out, const void *data, size_t len) SEA_MUST_USE;

/* ---- conn.c ---- */

/*
 * Serves one connection on s with cfg, counting into stats, until it ends;
 * call it in a fiber.  Does not close s.  Fails only for want of memory.
 */
sea_future sea__http_conn_run(sea_socket *s, const struct sea__http_cfg *cfg, sea_http_stats *stats) SEA_MUST_USE;

/* Whether the request's body has been read to its end. */
bool sea__http_body_done(const struct sea__http_conn *c);
/* The route parameter name of the request on c, or NULL. */
const char *sea__http_conn_param(const struct sea__http_conn *c, const char *name);
sea_addr sea__http_conn_peer(const struct sea__http_conn *c);
/* The connection's TLS, or NULL for plain HTTP. */
const sea_tls *sea__http_conn_tls(const struct sea__http_conn *c);
sea_input_stream *sea__http_conn_body(struct sea__http_conn *c);
/*
 * Sends len bytes of the file fd from pos as the next piece of resp's body,
 * with sendfile (no copy through user space), after the head and what was
 * sent before.  resp must be streaming with a known length (made by
 * sea_http_response_stream(resp, length)), and nothing written to that
 * stream may be waiting in its batch.  The pages should be in the page
 * cache (sea_file_cached, sea_file_prefetch).
 */
sea_future sea__http_response_send_file(sea_http_response *resp, int fd, uint64_t pos, size_t len) SEA_MUST_USE;
uint64_t sea__http_conn_max_body(const struct sea__http_conn *c);

/* ---- h2.c ---- */

/* The client preface of an HTTP/2 connection (RFC 9113 section 3.4), 24 bytes. */
#define SEA__H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define SEA__H2_PREFACE_LEN 24

/*
 * Serves an HTTP/2 connection on s (through TLS's streams tin and tout, or
 * the socket when they are NULL) until it ends; first[0..first_len) are
 * bytes already read from it (the preface, on a plain connection).  Call
 * it in a fiber.  Resolves with v.i = 1 when the connection may still be
 * closed politely (TLS: close_notify), 0 when it broke or timed out; fails
 * only for want of memory.
 */
sea_future sea__h2_run(sea_socket *s, sea_tls *tls, sea_input_stream *tin, sea_output_stream *tout,
                       const struct sea__http_cfg *cfg, sea_http_stats *stats, const char *first,
                       size_t first_len) SEA_MUST_USE;
/* What sea_http_response_stream and sea__http_response_send_file do for an HTTP/2 response. */
sea_output_stream *sea__h2_response_stream(sea_http_response *resp, int64_t length);
sea_future sea__h2_send_file(sea_http_response *resp, int fd, uint64_t pos, size_t len) SEA_MUST_USE;
/* What server.c asks of an HTTP/2 stream's request. */
const char *sea__h2_param(const struct sea__h2_stream *st, const char *name);
const sea_tls *sea__h2_tls(const struct sea__h2_stream *st);
sea_addr sea__h2_peer(const struct sea__h2_stream *st);
sea_input_stream *sea__h2_body(struct sea__h2_stream *st);
uint64_t sea__h2_max_body(const struct sea__h2_stream *st);

#endif
