/*
 * server.c - the HTTP server: options and their defaults, starting it on
 * every shard over the stream server (sea/server.h), its counters, and what
 * a handler asks of its request (headers, parameters, the body).
 *
 * The server object holds the resolved options and one counter block per
 * shard; every shard reads the options and writes only its own counters.
 * It is freed by a stop callback registered before the stream server's, so
 * that it runs after the stream server has closed every connection.
 */
#include "http/http.h"

#include <sea/fiber.h>
#include <sea/reactor.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/stop.h"

struct sea_http_server {
    sea_server *base;
    struct sea__http_cfg cfg;
    unsigned nshards;
    struct sea__http_stats_slot stats[];
};

void sea__http_cfg_init(struct sea__http_cfg *cfg, const sea_http_server_options *opts,
                        const sea_http_routes *routes) {
    memset(cfg, 0, sizeof(*cfg));
    if (opts)
        cfg->opts = *opts;
    sea_http_server_options *o = &cfg->opts;
    if (!o->max_request_line)
        o->max_request_line = 8 * 1024;
    if (!o->max_head)
        o->max_head = 16 * 1024;
    if (o->max_request_line > o->max_head)
        o->max_request_line = o->max_head;
    if (!o->max_headers)
        o->max_headers = 100;
    if (!o->max_body)
        o->max_body = 1024 * 1024;
    if (o->header_timeout <= 0)
        o->header_timeout = SEA_SEC(10);
    if (o->idle_timeout <= 0)
        o->idle_timeout = SEA_SEC(60);
    if (o->io_timeout <= 0)
        o->io_timeout = SEA_SEC(60);
    if (!o->max_streams)
        o->max_streams = 100;
    const char *server = o->server_header ? o->server_header : "sea";
    /* A value with a control character would split the response: leave the header out instead. */
    bool clean = strlen(server) < sizeof(cfg->server_line) - 16;
    for (const unsigned char *c = (const unsigned char *)server; *c; c++)
        clean &= *c >= 0x20 && *c != 0x7f;
    if (*server && clean)
        snprintf(cfg->server_line, sizeof(cfg->server_line), "Server: %s\r\n", server);
    o->server_header = NULL; /* the caller's string need not outlive the server */
    cfg->lim = (struct sea__http_limits){o->max_request_line, o->max_head, o->max_headers};
    cfg->routes = routes;
}

/* ---- the server ---- */

struct conn_cap {
    struct sea_http_server *srv;
};

static sea_future serve_conn(struct conn_cap *cap, sea_socket *s) {
    struct sea_http_server *srv = cap->srv;
    unsigned id = sea_shard_id();
    return sea__http_conn_run(s, &srv->cfg, &srv->stats[id < srv->nshards ? id : 0].s);
}

static sea_future free_server(struct sea_http_server **sp) {
    free(*sp);
    return sea_ready();
}

static sea_future started(struct sea_http_server **sp, sea_value v) {
    (*sp)->base = v.ptr;
    return sea_ready_ptr(*sp);
}

static sea_future start(const char *addr, const sea_http_server_options *opts, const sea_http_routes *routes,
                        bool until_stopped) {
    if (!routes)
        return sea_failed(-EINVAL, "sea_http_server_start: no routes");
    unsigned n = sea_shard_count();
    struct sea_http_server *srv = calloc(1, sizeof(*srv) + (n ? n : 1) * sizeof(srv->stats[0]));
    if (!srv)
        return sea_failed(-ENOMEM, "out of memory starting an HTTP server");
    srv->nshards = n;
    sea__http_cfg_init(&srv->cfg, opts, routes);
    srv->cfg.opts.server.fibers = true;
    /* Registered before the stream server's own, so it runs after it (stop callbacks run newest first). */
    int rc = sea__stop_callback_add((sea__fnptr)free_server, &srv, sizeof(srv));
    if (rc < 0) {
        free(srv);
        return sea_failed(rc, "sea_http_server_start: call it on shard 0 of a running application");
    }
    sea_server_options so = srv->cfg.opts.server;
    if (until_stopped) {
        sea_future f = sea_serve(addr, &so, serve_conn, (struct conn_cap){srv});
        return f;
    }
    return sea_then(sea_server_start(addr, &so, serve_conn, (struct conn_cap){srv}), started, srv);
}

sea_future sea_http_server_start(const char *addr, const sea_http_server_options *opts,
                                 const sea_http_routes *routes) {
    return start(addr, opts, routes, false);
}

sea_future sea_http_serve(const char *addr, const sea_http_server_options *opts, const sea_http_routes *routes) {
    return start(addr, opts, routes, true);
}

sea_server *sea_http_server_base(sea_http_server *srv) {
    return srv->base;
}

sea_future sea_http_server_stop(sea_http_server *srv) {
    return sea_server_stop(srv->base);
}

int sea_http_stats_get(const sea_http_server *srv, sea_http_stats *out) {
    unsigned id = sea_shard_id();
    if (!srv || id >= srv->nshards)
        return -EINVAL;
    *out = srv->stats[id].s;
    return 0;
}

sea_future sea_http_serve_connection(sea_socket *s, const sea_http_server_options *opts,
                                     const sea_http_routes *routes) {
    if (!s || !routes)
        return sea_failed(-EINVAL, "sea_http_serve_connection: no socket or no routes");
    struct sea__http_cfg *cfg = malloc(sizeof(*cfg));
    sea_http_stats *stats = calloc(1, sizeof(*stats));
    if (!cfg || !stats) {
        free(cfg);
        free(stats);
        return sea_failed(-ENOMEM, "no memory for an HTTP connection");
    }
    sea__http_cfg_init(cfg, opts, routes);
    sea_future f = sea_await(sea__http_conn_run(s, cfg, stats));
    free(cfg);
    free(stats);
    return f;
}

/* ---- what a handler asks of its request ---- */

const char *sea_http_header_get(const sea_http_request *req, const char *name) {
    for (unsigned i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *sea_http_param(const sea_http_request *req, const char *name) {
    if (req->sea__h2)
        return sea__h2_param(req->sea__h2, name);
    return req->sea__conn ? sea__http_conn_param(req->sea__conn, name) : NULL;
}

sea_addr sea_http_peer(const sea_http_request *req) {
    if (req->sea__h2)
        return sea__h2_peer(req->sea__h2);
    return sea__http_conn_peer(req->sea__conn);
}

const sea_tls *sea_http_request_tls(const sea_http_request *req) {
    if (req->sea__h2)
        return sea__h2_tls(req->sea__h2);
    return req->sea__conn ? sea__http_conn_tls(req->sea__conn) : NULL;
}

sea_input_stream *sea_http_request_body(sea_http_request *req) {
    if (req->sea__h2)
        return sea__h2_body(req->sea__h2);
    return sea__http_conn_body(req->sea__conn);
}

struct read_all {
    sea_input_stream *in;
    size_t max;
    sea_buf *out;
    sea_buf piece;
    char *acc;
    size_t len, cap;
};

static sea_future read_loop(struct read_all *a);

static sea_future read_all_end(struct read_all *a, sea_future r) {
    free(a->acc);
    free(a);
    return r;
}

/* Takes the piece just read: false when reading is over (*result set). */
static bool take_piece(struct read_all *a, sea_future *in, sea_future *result) {
    int err = sea_future_error(in);
    if (err) {
        *result = read_all_end(a, sea_future_move(in));
        return false;
    }
    sea_future_ignore(sea_future_move(in));
    if (a->piece.len == 0) {
        if (sea_buf_wrap(a->out, a->acc, a->len, free, a->acc) < 0) {
            *result = read_all_end(a, sea_failed(-ENOMEM, "no memory for the request body"));
        } else {
            size_t n = a->len;
            a->acc = NULL;
            *result = read_all_end(a, sea_ready_size(n));
        }
        return false;
    }
    if (a->len + a->piece.len > a->max) {
        sea_buf_release(&a->piece);
        *result = read_all_end(a, sea_failed(-EMSGSIZE, "the request body is larger than the handler takes"));
        return false;
    }
    int rc = sea__http_append(&a->acc, &a->len, &a->cap, a->piece.data, a->piece.len);
    sea_buf_release(&a->piece);
    if (rc < 0) {
        *result = read_all_end(a, sea_failed(-ENOMEM, "no memory for the request body"));
        return false;
    }
    return true;
}

static sea_future piece_read(struct read_all **ap, sea_future *in) {
    struct read_all *a = *ap;
    sea_future result;
    if (!take_piece(a, in, &result))
        return result;
    return read_loop(a);
}

/* Reads pieces in a loop while they are there at once, so that a body in the buffer does not nest continuations. */
static sea_future read_loop(struct read_all *a) {
    for (;;) {
        sea_future f = sea_input_read(a->in, &a->piece);
        if (!sea_future_available(&f))
            return sea_then_wrapped(f, piece_read, a);
        sea_future result;
        if (!take_piece(a, &f, &result))
            return result;
    }
}

sea_future sea_http_request_read_body(sea_http_request *req, size_t max, sea_buf *out) {
    *out = SEA_BUF_EMPTY;
    sea_input_stream *in = sea_http_request_body(req);
    if (!in)
        return sea_failed(-ENOMEM, "no memory for the request body");
    uint64_t limit = req->sea__h2 ? sea__h2_max_body(req->sea__h2) : sea__http_conn_max_body(req->sea__conn);
    if (!max || max > limit)
        max = limit > SIZE_MAX ? SIZE_MAX : (size_t)limit;
    if (req->content_length > 0 && (uint64_t)req->content_length > max)
        return sea_failed(-EMSGSIZE, "the request body is larger than the handler takes");
    struct read_all *a = calloc(1, sizeof(*a));
    if (!a)
        return sea_failed(-ENOMEM, "no memory for the request body");
    *a = (struct read_all){.in = in, .max = max, .out = out};
    return read_loop(a);
}
