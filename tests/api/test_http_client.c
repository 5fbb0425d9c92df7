/*
 * test_http_client.c - the HTTP client (sea/http_client.h) against sea's own
 * HTTP server in the same process, and against a raw listener that answers
 * with bytes the test chooses.
 *
 * Against the server (on 127.0.0.1:0, or a Unix socket): keep-alive (one
 * connection for many requests, counted by the server), concurrent requests
 * held to max_connections, HEAD and the statuses without a body, bodies in
 * memory and as streams (chunked both ways, or with a length), an 8 MiB
 * body read through the streaming call in bounded memory, a stream freed
 * early (its connection is not reused), redirects off and on (a path, an
 * absolute URL to the same server, a relative reference, 303 and 307,
 * another host, a loop), "Connection: close", the request timeout (a
 * handler that waits on a promise the test resolves only after the client
 * gave up), and closing the client with a request under way.
 *
 * Against the raw listener: what clients must accept (bare LF line ends,
 * obsolete folding, 1xx before the answer, a leading empty line, chunk
 * extensions and trailers, a body ended by the connection's end, identical
 * Content-Lengths) and what they must refuse (garbage, bad chunks, a
 * truncated body, conflicting framing, a 101, a head over max_head, a body
 * over max_body); and the pool's repair: a kept connection that the server
 * closed after reading the next request is retried once on a new one for
 * GET but not for POST, and one closed while idle is not used.
 *
 * Nothing waits on time: the one timeout is the client's own (200 ms), and
 * the test asserts only that it fails with -ETIMEDOUT.
 */
#include "check.h"

#include <sea/http.h>
#include <sea/http_client.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---- */

/* In a fiber: f must fail with err and a message containing what (NULL: any). */
static void expect_fail(sea_future f, int err, const char *what, int line) {
    sea_future r = sea_await(f);
    int got = sea_future_failed(&r) ? sea_future_error(&r) : 0;
    const char *msg = sea_future_message(&r);
    if (got != err || (what && (!msg || !strstr(msg, what)))) {
        fprintf(stderr, "line %d: expected %s (\"%s\"), got %s: %s\n", line, sea_errname(err), what ? what : "",
                got ? sea_errname(got) : "success", msg ? msg : "(no message)");
        sea_test_failures++;
    }
    sea_future_detach(r);
}
#define EXPECT_FAIL(f, err, what) expect_fail((f), (err), (what), __LINE__)

/* In a fiber: f must succeed; returns its v.i (the status), or -1 after reporting the failure. */
static int expect_ok(sea_future f, int line) {
    sea_future r = sea_await(f);
    if (sea_future_failed(&r)) {
        int err = sea_future_error(&r);
        const char *m = sea_future_message(&r);
        fprintf(stderr, "line %d: failed with %s: %s\n", line, sea_errname(err), m ? m : "(no message)");
        sea_test_failures++;
        sea_future_detach(r);
        return -1;
    }
    return (int)sea_future_value(&r).i;
}
#define EXPECT_OK(f) expect_ok((f), __LINE__)

static bool body_is(const sea_http_client_response *r, const char *s) {
    size_t n = strlen(s);
    return r->body.len == n && (n == 0 || memcmp(r->body.data, s, n) == 0);
}

static sea_http_client *client(const char *addr, const sea_http_client_options *o) {
    sea_http_client *c = NULL;
    int rc = sea_http_client_new(addr, o, &c);
    CHECK_EQ(rc, 0);
    return c;
}

static void client_close(sea_http_client *c) {
    if (c)
        CHECK_EQ(sea_await_value(sea_http_client_close(c), NULL), 0);
}

static sea_http_client_stats cstats(const sea_http_client *c) {
    sea_http_client_stats st;
    sea_http_client_stats_get(c, &st);
    return st;
}

/* The byte at offset i of the test's bodies. */
static unsigned char pattern_at(uint64_t i) {
    return (unsigned char)(i % 251);
}

static unsigned char pattern[65536 + 251];

/* ---- the in-process server and its routes ---- */

struct server {
    sea_http_server *srv;
    sea_http_routes *routes;
    char addr[128];
};

static char server_addr[128]; /* for the absolute redirect */

static sea_future h_hello(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    sea_http_response_set_type(resp, "text/plain");
    sea_http_response_write(resp, "Hello, World!", 13);
    return sea_ready();
}

/* Answers with the request's body, its method, length (-1: chunked) and Host. */
static sea_future h_echo(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    sea_buf b;
    SEA_AWAIT(sea_http_request_read_body(req, 0, &b));
    char v[32];
    snprintf(v, sizeof(v), "%lld", (long long)req->content_length);
    sea_http_response_add_header(resp, "X-Length", v);
    sea_http_response_add_header(resp, "X-Method", req->method);
    const char *host = sea_http_header_get(req, "Host");
    sea_http_response_add_header(resp, "X-Host", host ? host : "");
    const char *ua = sea_http_header_get(req, "User-Agent");
    sea_http_response_add_header(resp, "X-Agent", ua ? ua : "");
    const char *x = sea_http_header_get(req, "X-Test");
    if (x)
        sea_http_response_add_header(resp, "X-Test", x);
    if (b.len)
        sea_http_response_set_body(resp, b);
    else
        sea_buf_release(&b);
    return sea_ready();
}

/* /stream/{n}: n bytes of the pattern, chunked; /fixed/{n}: the same with Content-Length. */
static sea_future h_stream(sea_http_request *req, sea_http_response *resp, void *data) {
    uint64_t total = strtoull(sea_http_param(req, "n"), NULL, 10);
    sea_output_stream *out = sea_http_response_stream(resp, data ? (int64_t)total : -1);
    if (!out)
        return sea_failed(-ENOMEM, "no stream");
    for (uint64_t off = 0; off < total;) {
        size_t k = total - off < 65536 ? (size_t)(total - off) : 65536;
        SEA_AWAIT(sea_output_write(out, pattern + off % 251, k));
        off += k;
    }
    SEA_AWAIT(sea_output_close(out));
    return sea_ready();
}

static sea_future h_status(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    int st = atoi(sea_http_param(req, "code"));
    sea_http_response_set_status(resp, st);
    if (st != 204 && st != 304)
        sea_http_response_write(resp, "status", 6);
    return sea_ready();
}

static sea_future h_close(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    sea_http_response_close(resp);
    sea_http_response_write(resp, "bye", 3);
    return sea_ready();
}

struct redirect {
    int status;
    const char *location; /* NULL: server_addr's absolute URL to /r/target */
};

static sea_future h_redirect(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    const struct redirect *r = data;
    char loc[256];
    if (r->location)
        snprintf(loc, sizeof(loc), "%s", r->location);
    else
        snprintf(loc, sizeof(loc), "http://%s/r/target", server_addr);
    sea_http_response_set_status(resp, r->status);
    sea_http_response_add_header(resp, "Location", loc);
    sea_http_response_write(resp, "moved", 5);
    return sea_ready();
}

/* The method, the body's length and the query: "POST 5 x=1". */
static sea_future h_method(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    sea_buf b;
    SEA_AWAIT(sea_http_request_read_body(req, 0, &b));
    sea_http_response_printf(resp, "%s %zu %s%s", req->method, b.len, req->path, *req->query ? "?" : "");
    sea_http_response_write(resp, req->query, strlen(req->query));
    sea_buf_release(&b);
    return sea_ready();
}

/* /hang waits for the test to resolve hang_promise (or answers at once when the test has given up on it). */
static sea_promise hang_promise;
static bool hang_called, hang_released;

static sea_future h_hang(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)resp;
    (void)data;
    hang_called = true;
    if (hang_released)
        return sea_ready();
    return sea_promise_get_future(&hang_promise);
}

static const struct redirect r_302 = {302, "/r/target"}, r_abs = {301, NULL}, r_rel = {302, "b?x=1"},
                             r_303 = {303, "/r/method"}, r_307 = {307, "/r/method"},
                             r_other = {302, "http://192.0.2.1:81/elsewhere"}, r_https = {302, "https://x/"},
                             r_loop = {302, "/r/loop"}, r_chain1 = {302, "/r/chain2"}, r_chain2 = {307, "/r/302"};

static sea_http_routes *make_routes(void) {
    sea_http_routes *r = sea_http_routes_new();
    sea_http_route(r, "GET", "/hello", h_hello, NULL);
    sea_http_route(r, NULL, "/echo", h_echo, NULL);
    sea_http_route(r, "GET", "/stream/{n}", h_stream, NULL);
    sea_http_route(r, "GET", "/fixed/{n}", h_stream, (void *)1);
    sea_http_route(r, NULL, "/status/{code}", h_status, NULL);
    sea_http_route(r, "GET", "/close", h_close, NULL);
    sea_http_route(r, "GET", "/hang", h_hang, NULL);
    sea_http_route(r, NULL, "/r/302", h_redirect, (void *)&r_302);
    sea_http_route(r, NULL, "/r/abs", h_redirect, (void *)&r_abs);
    sea_http_route(r, NULL, "/r/rel/a", h_redirect, (void *)&r_rel);
    sea_http_route(r, NULL, "/r/rel/b", h_method, NULL);
    sea_http_route(r, NULL, "/r/303", h_redirect, (void *)&r_303);
    sea_http_route(r, NULL, "/r/307", h_redirect, (void *)&r_307);
    sea_http_route(r, NULL, "/r/other", h_redirect, (void *)&r_other);
    sea_http_route(r, NULL, "/r/https", h_redirect, (void *)&r_https);
    sea_http_route(r, NULL, "/r/loop", h_redirect, (void *)&r_loop);
    sea_http_route(r, NULL, "/r/chain1", h_redirect, (void *)&r_chain1);
    sea_http_route(r, NULL, "/r/chain2", h_redirect, (void *)&r_chain2);
    sea_http_route(r, NULL, "/r/method", h_method, NULL);
    sea_http_route(r, NULL, "/r/target", h_method, NULL);
    return r;
}

static bool server_start_with(struct server *s, const char *addr, uint64_t max_body) {
    s->routes = make_routes();
    /* A long drain: a server closing after an early answer reads what the client still sends, however slow. */
    sea_http_server_options o = {.max_body = max_body, .server = {.drain_timeout = SEA_SEC(30)}};
    sea_value v;
    int err = sea_await_value(sea_http_server_start(addr, &o, s->routes), &v);
    CHECK_EQ(err, 0);
    if (err) {
        sea_http_routes_free(s->routes);
        return false;
    }
    s->srv = v.ptr;
    sea_addr a = sea_server_addr(sea_http_server_base(s->srv));
    sea_addr_format(&a, s->addr, sizeof(s->addr));
    snprintf(server_addr, sizeof(server_addr), "%s", s->addr);
    return true;
}

static bool server_start(struct server *s, const char *addr) {
    return server_start_with(s, addr, 64 << 20);
}

static void server_stop(struct server *s) {
    CHECK_EQ(sea_await_value(sea_http_server_stop(s->srv), NULL), 0);
    sea_http_routes_free(s->routes);
}

/* Connections the server accepted so far. */
static uint64_t accepted(struct server *s) {
    sea_server_stats st;
    sea_server_stats_get(sea_http_server_base(s->srv), &st);
    return st.accepted;
}

/* ---- a body stream over memory, for uploads ---- */

struct mem_source {
    sea_data_source base;
    const unsigned char *data;
    size_t len, pos, piece;
    int fail; /* fail the get after pos reaches len with this error (0: end normally) */
};

static sea_future mem_get(sea_data_source *src, sea_buf *out) {
    struct mem_source *m = (struct mem_source *)src;
    *out = SEA_BUF_EMPTY;
    size_t n = m->len - m->pos < m->piece ? m->len - m->pos : m->piece;
    if (n == 0)
        return m->fail ? sea_failed(m->fail, "the test's stream failed") : sea_ready_size(0);
    if (sea_buf_copy(out, m->data + m->pos, n) < 0)
        return sea_failed(-ENOMEM, "no memory");
    m->pos += n;
    /* Every other piece comes later, so the client waits on the stream too. */
    if (m->pos / m->piece % 2)
        return sea_test_later(sea_ready_size(n));
    return sea_ready_size(n);
}

static void mem_release(sea_data_source *src) {
    (void)src;
}

static const sea_data_source_ops mem_ops = {mem_get, mem_release};

static sea_input_stream *mem_stream(struct mem_source *m, const void *data, size_t len, size_t piece) {
    *m = (struct mem_source){{&mem_ops}, data, len, 0, piece, 0};
    return sea_input_stream_from(&m->base);
}

/* ---- cases against the server ---- */

FIBER_CASE(t_keepalive) {
    struct server s;
    if (!server_start(&s, "127.0.0.1:0"))
        return sea_ready();
    sea_http_client *c = client(s.addr, NULL);
    for (int i = 0; i < 10; i++) {
        sea_http_client_response r;
        CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/hello", &r)), 200);
        CHECK(body_is(&r, "Hello, World!"));
        CHECK_EQ(r.version, 11);
        CHECK_STREQ(r.reason, "OK");
        CHECK_EQ(r.content_length, 13);
        CHECK_STREQ(sea_http_client_response_header(&r, "content-type"), "text/plain");
        CHECK(sea_http_client_response_header(&r, "X-None") == NULL);
        sea_http_client_response_free(&r);
    }
    /* HEAD: the length, no body; 204 and 304 have none either; the connection goes on. */
    sea_http_client_response r;
    CHECK_EQ(EXPECT_OK(sea_http_client_request(c, &(sea_http_client_req){.method = "HEAD", .path = "/hello"}, &r)),
             200);
    CHECK_EQ(r.content_length, 13);
    CHECK_EQ(r.body.len, 0);
    sea_http_client_response_free(&r);
    /* HEAD of a streamed body: the server counts it and says its length. */
    CHECK_EQ(EXPECT_OK(sea_http_client_request(c, &(sea_http_client_req){.method = "HEAD", .path = "/stream/1000"},
                                               &r)),
             200);
    CHECK_EQ(r.content_length, 1000);
    CHECK_EQ(r.body.len, 0);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/status/204", &r)), 204);
    CHECK_EQ(r.body.len, 0);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/status/304", &r)), 304);
    CHECK_EQ(r.body.len, 0);
    sea_http_client_response_free(&r);
    /* Errors are answers, not failures. */
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/status/500", &r)), 500);
    CHECK(body_is(&r, "status"));
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/nothing/here", &r)), 404);
    sea_http_client_response_free(&r);
    CHECK_EQ(accepted(&s), 1);
    sea_http_client_stats st = cstats(c);
    CHECK_EQ(st.connects, 1);
    CHECK_EQ(st.requests, 16);
    CHECK_EQ(st.reused, 15);
    CHECK_EQ(st.open, 1);
    CHECK_EQ(st.idle, 1);
    /* "Connection: close" from the server: the next request needs a new connection. */
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/close", &r)), 200);
    CHECK(body_is(&r, "bye"));
    sea_http_client_response_free(&r);
    CHECK_EQ(cstats(c).open, 0);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/hello", &r)), 200);
    sea_http_client_response_free(&r);
    CHECK_EQ(accepted(&s), 2);
    CHECK_EQ(cstats(c).connects, 2);
    client_close(c);
    server_stop(&s);
    return sea_ready();
}

/* A request made from a continuation, not a fiber (the client runs it in a fiber of its own). */
struct from_continuation {
    sea_http_client *c;
    sea_http_client_response *r;
};

static sea_future get_from_continuation(struct from_continuation *x) {
    CHECK(sea_fiber_self() == NULL);
    return sea_http_client_get(x->c, "/hello", x->r);
}

FIBER_CASE(t_from_continuation) {
    struct server s;
    if (!server_start(&s, "127.0.0.1:0"))
        return sea_ready();
    sea_http_client *c = client(s.addr, NULL);
    sea_http_client_response r;
    sea_future f = sea_then(sea_test_later(sea_ready()), get_from_continuation, ((struct from_continuation){c, &r}));
    CHECK_EQ(EXPECT_OK(f), 200);
    CHECK(body_is(&r, "Hello, World!"));
    sea_http_client_response_free(&r);
    client_close(c);
    server_stop(&s);
    return sea_ready();
}

/* A server that answers before reading the whole body (413) and closes: the client gets that answer. */
FIBER_CASE(t_early_answer) {
    struct server s;
    if (!server_start_with(&s, "127.0.0.1:0", 1 << 20))
        return sea_ready();
    sea_http_client *c = client(s.addr, NULL);
    enum { BIG = 2 << 20 };
    char *big = calloc(1, BIG);
    sea_http_client_response r;
    CHECK_EQ(EXPECT_OK(sea_http_client_request(
                 c, &(sea_http_client_req){.method = "POST", .path = "/echo", .body = big, .body_len = BIG}, &r)),
             413);
    sea_http_client_response_free(&r);
    CHECK_EQ(cstats(c).open, 0);
    /* The same with a chunked body: the server learns its size only as it reads. */
    struct mem_source m;
    sea_input_stream *in = mem_stream(&m, big, BIG, 65536);
    CHECK_EQ(EXPECT_OK(sea_http_client_request(
                 c, &(sea_http_client_req){.method = "POST", .path = "/echo", .body_stream = in}, &r)),
             413);
    sea_http_client_response_free(&r);
    sea_input_stream_free(in);
    free(big);
    client_close(c);
    server_stop(&s);
    return sea_ready();
}

/* Many requests at once share max_connections connections; those beyond wait in line. */
FIBER_CASE(t_concurrent) {
    struct server s;
    if (!server_start(&s, "127.0.0.1:0"))
        return sea_ready();
    sea_http_client *c = client(s.addr, &(sea_http_client_options){.max_connections = 3});
    enum { N = 24 };
    static sea_http_client_response r[N];
    sea_future f[N];
    for (int i = 0; i < N; i++)
        f[i] = i % 2 ? sea_http_client_get(c, "/hello", &r[i]) : sea_http_client_get(c, "/fixed/100000", &r[i]);
    sea_future_detach(sea_await(sea_when_all(f, N)));
    for (int i = 0; i < N; i++) {
        CHECK_EQ(EXPECT_OK(f[i]), 200);
        CHECK_EQ(r[i].body.len, i % 2 ? 13 : 100000);
        sea_http_client_response_free(&r[i]);
    }
    sea_http_client_stats st = cstats(c);
    CHECK(st.connects >= 1 && st.connects <= 3);
    CHECK(accepted(&s) <= 3);
    CHECK_EQ(st.requests, N);
    client_close(c);
    server_stop(&s);
    return sea_ready();
}

/* Bodies in memory, and streams of unknown length (chunked) and known length, each way. */
FIBER_CASE(t_bodies) {
    struct server s;
    if (!server_start(&s, "127.0.0.1:0"))
        return sea_ready();
    sea_http_client *c = client(s.addr, &(sea_http_client_options){.user_agent = "tester/1"});
    enum { BIG = 3 << 20 };
    unsigned char *big = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        big[i] = pattern_at(i * 7);
    sea_http_client_response r;
    /* Small and large bodies in memory; an empty POST still says Content-Length: 0. */
    sea_http_header xt[] = {{"X-Test", "yes"}};
    CHECK_EQ(EXPECT_OK(sea_http_client_request(
                 c, &(sea_http_client_req){.method = "POST", .path = "/echo", .body = "hello", .body_len = 5,
                                           .headers = xt, .header_count = 1},
                 &r)),
             200);
    CHECK(body_is(&r, "hello"));
    CHECK_STREQ(sea_http_client_response_header(&r, "X-Length"), "5");
    CHECK_STREQ(sea_http_client_response_header(&r, "X-Test"), "yes");
    CHECK_STREQ(sea_http_client_response_header(&r, "X-Host"), s.addr);
    CHECK_STREQ(sea_http_client_response_header(&r, "X-Agent"), "tester/1");
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_request(c, &(sea_http_client_req){.method = "POST", .path = "/echo"}, &r)),
             200);
    CHECK_STREQ(sea_http_client_response_header(&r, "X-Length"), "0");
    CHECK_EQ(r.body.len, 0);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_request(
                 c, &(sea_http_client_req){.method = "PUT", .path = "/echo", .body = big, .body_len = BIG}, &r)),
             200);
    CHECK(r.body.len == BIG && memcmp(r.body.data, big, BIG) == 0);
    sea_http_client_response_free(&r);
    /* Expect: 100-continue: the body goes at once, and the server's 100 (if it sends one) is skipped. */
    sea_http_header expect[] = {{"Expect", "100-continue"}};
    CHECK_EQ(EXPECT_OK(sea_http_client_request(c,
                                               &(sea_http_client_req){.method = "POST", .path = "/echo", .body = big,
                                                                      .body_len = BIG, .headers = expect,
                                                                      .header_count = 1},
                                               &r)),
             200);
    CHECK(r.body.len == BIG && memcmp(r.body.data, big, BIG) == 0);
    sea_http_client_response_free(&r);
    /* A stream of unknown length goes out chunked; with a length, with Content-Length. */
    struct mem_source m;
    sea_input_stream *in = mem_stream(&m, big, BIG, 10007);
    CHECK_EQ(EXPECT_OK(sea_http_client_request(
                 c, &(sea_http_client_req){.method = "POST", .path = "/echo", .body_stream = in}, &r)),
             200);
    CHECK_STREQ(sea_http_client_response_header(&r, "X-Length"), "-1");
    CHECK(r.body.len == BIG && memcmp(r.body.data, big, BIG) == 0);
    sea_http_client_response_free(&r);
    sea_input_stream_free(in);
    in = mem_stream(&m, big, BIG, 65536 * 2);
    CHECK_EQ(EXPECT_OK(sea_http_client_request(c,
                                               &(sea_http_client_req){.method = "POST", .path = "/echo",
                                                                      .body_stream = in, .body_stream_length = BIG},
                                               &r)),
             200);
    char len[32];
    snprintf(len, sizeof(len), "%d", BIG);
    CHECK_STREQ(sea_http_client_response_header(&r, "X-Length"), len);
    CHECK(r.body.len == BIG && memcmp(r.body.data, big, BIG) == 0);
    sea_http_client_response_free(&r);
    sea_input_stream_free(in);
    /* A chunked response read whole; one with a length. */
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/stream/1000000", &r)), 200);
    CHECK_EQ(r.content_length, -1);
    CHECK_STREQ(sea_http_client_response_header(&r, "Transfer-Encoding"), "chunked");
    bool same = r.body.len == 1000000;
    for (size_t i = 0; same && i < r.body.len; i++)
        same = (unsigned char)r.body.data[i] == pattern_at(i);
    CHECK(same);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/fixed/0", &r)), 200);
    CHECK_EQ(r.content_length, 0);
    CHECK_EQ(r.body.len, 0);
    sea_http_client_response_free(&r);
    CHECK_EQ(accepted(&s), 1); /* all of it on one connection */
    /* A stream shorter or longer than its announced length, or one that fails: the request fails. */
    in = mem_stream(&m, big, 1000, 300);
    EXPECT_FAIL(sea_http_client_request(c,
                                        &(sea_http_client_req){.method = "POST", .path = "/echo", .body_stream = in,
                                                               .body_stream_length = 2000},
                                        &r),
                -EINVAL, "ended after 1000 of the 2000 bytes");
    sea_input_stream_free(in);
    in = mem_stream(&m, big, 3000, 1000);
    EXPECT_FAIL(sea_http_client_request(c,
                                        &(sea_http_client_req){.method = "POST", .path = "/echo", .body_stream = in,
                                                               .body_stream_length = 2500},
                                        &r),
                -EMSGSIZE, "longer than body_stream_length");
    sea_input_stream_free(in);
    in = mem_stream(&m, big, 3000, 1000);
    m.fail = -EIO;
    EXPECT_FAIL(sea_http_client_request(
                    c, &(sea_http_client_req){.method = "POST", .path = "/echo", .body_stream = in}, &r),
                -EIO, "reading the request body stream: ");
    sea_input_stream_free(in);
    /* The client still works. */
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/hello", &r)), 200);
    sea_http_client_response_free(&r);
    free(big);
    client_close(c);
    server_stop(&s);
    return sea_ready();
}

/* 8 MiB through the streaming call: pieces of bounded size, memory bounded, the connection reused after. */
FIBER_CASE(t_stream_large) {
    struct server s;
    if (!server_start(&s, "127.0.0.1:0"))
        return sea_ready();
    sea_http_client *c = client(s.addr, NULL);
    sea_http_client_response r;
    /* Warm up (fiber stacks, buffers), then measure. */
    CHECK_EQ(EXPECT_OK(sea_http_client_request_stream(c, &(sea_http_client_req){.path = "/stream/100000"}, &r)),
             200);
    sea_buf b;
    while (sea_await_value(sea_input_read(r.body_stream, &b), NULL) == 0 && b.len)
        sea_buf_release(&b);
    sea_http_client_response_free(&r);
    sea_memory_stats ms;
    sea_memory_stats_get(&ms);
    size_t base = ms.used, peak = ms.used;

    const uint64_t total = 8u << 20;
    CHECK_EQ(EXPECT_OK(sea_http_client_request_stream(c, &(sea_http_client_req){.path = "/stream/8388608"}, &r)),
             200);
    CHECK(r.body_stream != NULL);
    CHECK(r.body.len == 0);
    CHECK_EQ(r.content_length, -1);
    uint64_t got = 0;
    size_t largest = 0, pieces = 0;
    bool same = true;
    for (;;) {
        sea_value v;
        int err = sea_await_value(sea_input_read(r.body_stream, &b), &v);
        CHECK_EQ(err, 0);
        if (err || b.len == 0)
            break;
        for (size_t i = 0; same && i < b.len; i++)
            same = (unsigned char)b.data[i] == pattern_at(got + i);
        got += b.len;
        pieces++;
        largest = b.len > largest ? b.len : largest;
        sea_buf_release(&b);
        sea_memory_stats_get(&ms);
        peak = ms.used > peak ? ms.used : peak;
    }
    CHECK_EQ(got, total);
    CHECK(same);
    CHECK(largest <= 64 * 1024);
    CHECK(pieces >= total / (64 * 1024));
    CHECK(peak - base < 4u << 20); /* far less than the body: nothing held it whole */
    if (peak - base >= 4u << 20)
        fprintf(stderr, "  memory grew by %zu bytes while streaming\n", peak - base);
    /* At its end, the connection went back to the pool before the response was freed. */
    CHECK_EQ(cstats(c).idle, 1);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/hello", &r)), 200);
    sea_http_client_response_free(&r);
    CHECK_EQ(accepted(&s), 1);
    /* Read whole: within max_body it is there; past it, -EMSGSIZE. */
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/fixed/8388608", &r)), 200);
    CHECK_EQ(r.body.len, total);
    sea_http_client_response_free(&r);
    sea_http_client *small = client(s.addr, &(sea_http_client_options){.max_body = 1 << 20});
    EXPECT_FAIL(sea_http_client_get(small, "/fixed/8388608", &r), -EMSGSIZE, "longer than max_body (1048576 bytes)");
    EXPECT_FAIL(sea_http_client_get(small, "/stream/8388608", &r), -EMSGSIZE, "longer than max_body");
    CHECK_EQ(cstats(small).open, 0); /* those connections were not kept */
    client_close(small);
    client_close(c);
    server_stop(&s);
    return sea_ready();
}

/* A body stream freed before its end: its connection is closed, not reused; HEAD's stream is at its end. */
FIBER_CASE(t_stream_freed_early) {
    struct server s;
    if (!server_start(&s, "127.0.0.1:0"))
        return sea_ready();
    sea_http_client *c = client(s.addr, NULL);
    sea_http_client_response r;
    CHECK_EQ(EXPECT_OK(sea_http_client_request_stream(c, &(sea_http_client_req){.path = "/fixed/4000000"}, &r)),
             200);
    CHECK_EQ(r.content_length, 4000000);
    sea_buf b;
    CHECK_EQ(sea_await_value(sea_input_read(r.body_stream, &b), NULL), 0);
    CHECK(b.len > 0 && (unsigned char)b.data[0] == pattern_at(0));
    sea_buf_release(&b);
    CHECK_EQ(cstats(c).idle, 0);
    sea_http_client_response_free(&r);
    CHECK_EQ(cstats(c).open, 0);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/hello", &r)), 200);
    sea_http_client_response_free(&r);
    CHECK_EQ(cstats(c).connects, 2);
    /* HEAD through the streaming call: at its end at once, and the connection is back in the pool. */
    CHECK_EQ(EXPECT_OK(sea_http_client_request_stream(c, &(sea_http_client_req){.method = "HEAD", .path = "/hello"},
                                                      &r)),
             200);
    CHECK_EQ(cstats(c).idle, 1);
    CHECK_EQ(sea_await_value(sea_input_read(r.body_stream, &b), NULL), 0);
    CHECK_EQ(b.len, 0);
    sea_http_client_response_free(&r);
    CHECK_EQ(cstats(c).connects, 2);
    client_close(c);
    server_stop(&s);
    return sea_ready();
}

FIBER_CASE(t_redirects) {
    struct server s;
    if (!server_start(&s, "127.0.0.1:0"))
        return sea_ready();
    sea_http_client_response r;
    /* Off by default: the 3xx is the answer. */
    sea_http_client *off = client(s.addr, NULL);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(off, "/r/302", &r)), 302);
    CHECK_STREQ(sea_http_client_response_header(&r, "Location"), "/r/target");
    CHECK(body_is(&r, "moved"));
    CHECK_EQ(r.redirects, 0);
    sea_http_client_response_free(&r);
    client_close(off);

    sea_http_client *c = client(s.addr, &(sea_http_client_options){.max_redirects = 3});
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/r/302", &r)), 200);
    CHECK(body_is(&r, "GET 0 /r/target"));
    CHECK_EQ(r.redirects, 1);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/r/abs", &r)), 200); /* http://127.0.0.1:PORT/r/target */
    CHECK(body_is(&r, "GET 0 /r/target"));
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/r/rel/a?q=1", &r)), 200); /* "b?x=1" against /r/rel/a */
    CHECK(body_is(&r, "GET 0 /r/rel/b?x=1"));
    sea_http_client_response_free(&r);
    /* 303 turns POST into GET without the body; 307 keeps both. */
    sea_http_client_req post = {.method = "POST", .path = "/r/303", .body = "12345", .body_len = 5};
    CHECK_EQ(EXPECT_OK(sea_http_client_request(c, &post, &r)), 200);
    CHECK(body_is(&r, "GET 0 /r/method"));
    sea_http_client_response_free(&r);
    post.path = "/r/307";
    CHECK_EQ(EXPECT_OK(sea_http_client_request(c, &post, &r)), 200);
    CHECK(body_is(&r, "POST 5 /r/method"));
    sea_http_client_response_free(&r);
    /* 307 with a body stream cannot be followed: the 307 is the answer. */
    struct mem_source m;
    sea_input_stream *in = mem_stream(&m, "abc", 3, 3);
    CHECK_EQ(EXPECT_OK(sea_http_client_request(
                 c, &(sea_http_client_req){.method = "POST", .path = "/r/307", .body_stream = in}, &r)),
             307);
    sea_http_client_response_free(&r);
    sea_input_stream_free(in);
    /* Two hops (302, then 307 to a 302). */
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/r/chain1", &r)), 200);
    CHECK_EQ(r.redirects, 3);
    CHECK(body_is(&r, "GET 0 /r/target"));
    sea_http_client_response_free(&r);
    /* Another host, or https: the answer as it is. */
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/r/other", &r)), 302);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/r/https", &r)), 302);
    sea_http_client_response_free(&r);
    /* A loop ends. */
    EXPECT_FAIL(sea_http_client_get(c, "/r/loop", &r), -ELOOP, "more than max_redirects (3) redirects");
    /* Through the streaming call too. */
    CHECK_EQ(EXPECT_OK(sea_http_client_request_stream(c, &(sea_http_client_req){.path = "/r/302"}, &r)), 200);
    sea_buf b;
    CHECK_EQ(sea_await_value(sea_input_read_exactly(r.body_stream, 100, &b), NULL), 0);
    CHECK(b.len == 15 && memcmp(b.data, "GET 0 /r/target", 15) == 0);
    sea_buf_release(&b);
    sea_http_client_response_free(&r);
    /* off's connection, c's first, and c's second: the server closes a connection whose chunked body it did not read. */
    CHECK_EQ(accepted(&s), 3);
    CHECK_EQ(cstats(c).redirects, 1 + 1 + 1 + 1 + 1 + 3 + 3 + 1);
    client_close(c);
    server_stop(&s);
    return sea_ready();
}

/* The request timeout: a handler that does not answer until the test says so, after the client gave up. */
FIBER_CASE(t_timeout) {
    struct server s;
    if (!server_start(&s, "127.0.0.1:0"))
        return sea_ready();
    sea_promise_init(&hang_promise);
    hang_called = hang_released = false;
    sea_http_client *c = client(s.addr, &(sea_http_client_options){.request_timeout = SEA_MSEC(200)});
    sea_http_client_response r;
    EXPECT_FAIL(sea_http_client_get(c, "/hang", &r), -ETIMEDOUT, "no complete answer within the request timeout");
    CHECK_EQ(r.status, 0); /* nothing to free */
    CHECK_EQ(cstats(c).open, 0);
    hang_released = true;
    if (hang_called)
        sea_promise_set_void(&hang_promise);
    sea_promise_release(&hang_promise);
    /* The client goes on. */
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/hello", &r)), 200);
    sea_http_client_response_free(&r);
    client_close(c);
    server_stop(&s);
    return sea_ready();
}

/* Closing the client fails what is under way with SEA_ECANCELED, and waits for a body stream to be freed. */
FIBER_CASE(t_close) {
    struct server s;
    if (!server_start(&s, "127.0.0.1:0"))
        return sea_ready();
    sea_promise_init(&hang_promise);
    hang_called = hang_released = false;
    sea_http_client *c = client(s.addr, &(sea_http_client_options){.max_connections = 1});
    sea_http_client_response r1, r2, r3;
    CHECK_EQ(EXPECT_OK(sea_http_client_request_stream(c, &(sea_http_client_req){.path = "/stream/4000000"}, &r3)),
             200);
    sea_http_client *c2 = client(s.addr, NULL);
    sea_future hanging = sea_http_client_get(c2, "/hang", &r1);
    sea_future waiting = sea_http_client_get(c, "/hello", &r2); /* waits for c's one connection */
    sea_future_detach(sea_await(sea_yield()));
    sea_future closed2 = sea_http_client_close(c2);
    EXPECT_FAIL(sea_http_client_close(c2), -EALREADY, NULL);
    EXPECT_FAIL(hanging, SEA_ECANCELED, "the HTTP client was closed");
    CHECK_EQ(sea_await_value(closed2, NULL), 0);
    sea_future closed = sea_http_client_close(c);
    EXPECT_FAIL(waiting, SEA_ECANCELED, "the HTTP client was closed");
    EXPECT_FAIL(sea_http_client_get(c, "/hello", &r2), SEA_ECANCELED, "closed");
    /* The stream's reads fail now; close resolves once the stream is freed. */
    sea_buf b;
    int err = 0;
    for (int i = 0; i < 1000 && !err; i++) {
        err = sea_await_value(sea_input_read(r3.body_stream, &b), NULL);
        sea_buf_release(&b);
    }
    CHECK_EQ(err, SEA_ECANCELED);
    CHECK(!sea_future_available(&closed));
    sea_http_client_response_free(&r3);
    CHECK_EQ(sea_await_value(closed, NULL), 0);
    hang_released = true;
    if (hang_called)
        sea_promise_set_void(&hang_promise);
    sea_promise_release(&hang_promise);
    server_stop(&s);
    return sea_ready();
}

/* Over a Unix socket: Host is "localhost". */
FIBER_CASE(t_unix) {
    char path[128];
    snprintf(path, sizeof(path), "unix:/tmp/sea-http-client-%d.sock", (int)getpid());
    unlink(path + 5);
    struct server s;
    if (!server_start(&s, path))
        return sea_ready();
    sea_http_client *c = client(path, NULL);
    sea_http_client_response r;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(EXPECT_OK(sea_http_client_request(c, &(sea_http_client_req){.method = "POST", .path = "/echo"}, &r)),
                 200);
        CHECK_STREQ(sea_http_client_response_header(&r, "X-Host"), "localhost");
        sea_http_client_response_free(&r);
    }
    CHECK_EQ(cstats(c).connects, 1);
    client_close(c);
    server_stop(&s);
    return sea_ready();
}

/* Malformed requests are refused at once; a server that is not there is -ECONNREFUSED. */
FIBER_CASE(t_errors) {
    sea_http_client *c;
    CHECK_EQ(sea_http_client_new("localhost:80", NULL, &c), -EINVAL);
    CHECK_EQ(sea_http_client_new("127.0.0.1:80", &(sea_http_client_options){.host = "a\r\nb"}, &c), -EINVAL);
    /* A port nobody listens on: bind one, note it, close it. */
    sea_addr a;
    sea_addr_parse("127.0.0.1:0", &a);
    sea_listener *l;
    CHECK_EQ(sea_listen(&a, NULL, &l), 0);
    sea_addr closed = sea_listener_addr(l);
    sea_listener_close(l);
    char addr[64];
    sea_addr_format(&closed, addr, sizeof(addr));
    c = client(addr, NULL);
    sea_http_client_response r;
    EXPECT_FAIL(sea_http_client_get(c, "/x", &r), -ECONNREFUSED, "GET /x on 127.0.0.1:");
    EXPECT_FAIL(sea_http_client_get(c, "x", &r), -EINVAL, "does not start with");
    EXPECT_FAIL(sea_http_client_get(c, "/a b", &r), -EINVAL, "percent-encode");
    EXPECT_FAIL(sea_http_client_get(c, NULL, &r), -EINVAL, "no path");
    EXPECT_FAIL(sea_http_client_request(c, &(sea_http_client_req){.method = "G T", .path = "/"}, &r), -EINVAL,
                "not a token");
    EXPECT_FAIL(sea_http_client_request(c, &(sea_http_client_req){.method = "CONNECT", .path = "/"}, &r), -EINVAL,
                "CONNECT");
    sea_http_header bad[] = {{"X-A", "a\nb"}}, reserved[] = {{"Content-Length", "5"}}, badname[] = {{"X A", "1"}};
    EXPECT_FAIL(sea_http_client_request(c, &(sea_http_client_req){.path = "/", .headers = bad, .header_count = 1},
                                        &r),
                -EINVAL, "control character");
    EXPECT_FAIL(sea_http_client_request(
                    c, &(sea_http_client_req){.path = "/", .headers = reserved, .header_count = 1}, &r),
                -EINVAL, "the client's to send");
    EXPECT_FAIL(sea_http_client_request(
                    c, &(sea_http_client_req){.path = "/", .headers = badname, .header_count = 1}, &r),
                -EINVAL, "malformed name");
    CHECK_EQ(cstats(c).requests, 0); /* none was sent */
    client_close(c);
    return sea_ready();
}

/* ---- a raw server that answers with the test's bytes ---- */

enum { KEEP, CLOSE, DROP }; /* after the answer: keep the connection, close it; or close it without answering */

struct answer {
    const char *bytes;
    int after;
    size_t len; /* 0: strlen(bytes) */
};

struct raw {
    sea_listener *l;
    char addr[64];
    const struct answer *answers;
    size_t n, next;
    unsigned conns, requests;
    char last_method[16];
    bool stop, in_accept, closed;
};

/* Serves one connection after another: reads each request (head and Content-Length body), sends the next answer. */
static sea_future raw_serve(struct raw **rp) {
    struct raw *r = *rp;
    enum { CAP = 65536 };
    char *buf = malloc(CAP);
    sea_value v;
    while (!r->stop) {
        r->in_accept = true;
        int err = sea_await_value(sea_accept(r->l), &v);
        r->in_accept = false;
        if (err)
            break;
        sea_socket *s = v.ptr;
        r->conns++;
        size_t len = 0;
        for (;;) {
            char *end;
            bool gone = false;
            while (!(end = memmem(buf, len, "\r\n\r\n", 4)) && !gone) {
                gone = len == CAP || sea_await_value(sea_socket_read(s, buf + len, CAP - len), &v) || v.size == 0;
                len += gone ? 0 : v.size;
            }
            if (gone)
                break;
            size_t head = (size_t)(end + 4 - buf), body = 0;
            char *cl = memmem(buf, head, "Content-Length: ", 16);
            if (cl)
                body = strtoul(cl + 16, NULL, 10);
            while (len < head + body && !gone) {
                gone = sea_await_value(sea_socket_read(s, buf + len, CAP - len), &v) || v.size == 0;
                len += gone ? 0 : v.size;
            }
            if (gone)
                break;
            snprintf(r->last_method, sizeof(r->last_method), "%.*s", (int)strcspn(buf, " "), buf);
            memmove(buf, buf + head + body, len - head - body);
            len -= head + body;
            r->requests++;
            if (r->next >= r->n)
                break;
            const struct answer *a = &r->answers[r->next++];
            size_t n = a->len ? a->len : strlen(a->bytes);
            if (a->after != DROP && sea_await_value(sea_socket_write(s, a->bytes, n), NULL))
                break;
            if (a->after != KEEP)
                break;
        }
        sea_socket_close(s);
    }
    if (!r->closed)
        sea_listener_close(r->l);
    free(buf);
    return sea_ready();
}

static sea_future raw_start(struct raw *r, const struct answer *answers, size_t n) {
    *r = (struct raw){.answers = answers, .n = n};
    sea_addr a;
    sea_addr_parse("127.0.0.1:0", &a);
    CHECK_EQ(sea_listen(&a, NULL, &r->l), 0);
    sea_addr bound = sea_listener_addr(r->l);
    sea_addr_format(&bound, r->addr, sizeof(r->addr));
    return sea_fiber_start(raw_serve, r);
}

/* Stops the raw server once the connection it serves has ended (close the client first). */
static void raw_stop(struct raw *r, sea_future served) {
    r->stop = true;
    if (r->in_accept) {
        r->closed = true;
        sea_listener_close(r->l); /* the pending accept fails */
    }
    CHECK_EQ(sea_await_value(served, NULL), 0);
}

#define ANSWERS(a) (a), sizeof(a) / sizeof((a)[0])

/* What a client must take from real servers. */
FIBER_CASE(t_lenient) {
    static const struct answer answers[] = {
        {"HTTP/1.1 200 OK\nContent-Length: 2\nX-Bare: lf\n\nhi", KEEP, 0},
        {"HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\nX-Space : c\r\nContent-Length: 0\r\n\r\n", KEEP, 0},
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
         KEEP, 0},
        {"\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx", KEEP, 0},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n"
         "Trailer: x\r\n\r\n",
         KEEP, 0},
        {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc", KEEP, 0},
        {"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", KEEP, 0},
        {"HTTP/1.1 299\r\ncontent-length: 0\r\n\r\n", KEEP, 0},
        {"HTTP/1.0 200 OK\r\n\r\nuntil the end", CLOSE, 0},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\nkept", KEEP, 0},
        {"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast", KEEP, 0},
    };
    struct raw raw;
    sea_future served = raw_start(&raw, ANSWERS(answers));
    sea_http_client *c = client(raw.addr, NULL);
    sea_http_client_response r;
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/1", &r)), 200);
    CHECK(body_is(&r, "hi"));
    CHECK_STREQ(sea_http_client_response_header(&r, "X-Bare"), "lf");
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/2", &r)), 200);
    CHECK_STREQ(sea_http_client_response_header(&r, "X-Folded"), "a    b");
    CHECK_STREQ(sea_http_client_response_header(&r, "X-Space"), "c");
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/3", &r)), 200);
    CHECK(body_is(&r, "ok"));
    CHECK(sea_http_client_response_header(&r, "Link") == NULL);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/4", &r)), 201);
    CHECK(body_is(&r, "x"));
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/5", &r)), 200);
    CHECK(body_is(&r, "hello world"));
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/6", &r)), 200);
    CHECK(body_is(&r, "abc"));
    CHECK_EQ(r.content_length, 3);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/7", &r)), 204);
    CHECK_EQ(r.body.len, 0);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/8", &r)), 299);
    CHECK_STREQ(r.reason, "");
    sea_http_client_response_free(&r);
    CHECK_EQ(raw.conns, 1);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/9", &r)), 200);
    CHECK(body_is(&r, "until the end"));
    CHECK_EQ(r.version, 10);
    CHECK_EQ(r.content_length, -1);
    sea_http_client_response_free(&r);
    CHECK_EQ(cstats(c).open, 0);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/10", &r)), 200);
    CHECK(body_is(&r, "kept"));
    sea_http_client_response_free(&r);
    CHECK_EQ(cstats(c).idle, 1); /* HTTP/1.0 with keep-alive */
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/11", &r)), 200);
    sea_http_client_response_free(&r);
    CHECK_EQ(raw.conns, 2);
    client_close(c);
    raw_stop(&raw, served);
    return sea_ready();
}

/* What a client must refuse: each fails the request with -EPROTO (or -EMSGSIZE) and a message saying why. */
FIBER_CASE(t_malformed) {
    static char big_head[4096];
    snprintf(big_head, sizeof(big_head), "HTTP/1.1 200 OK\r\nX-Big: %02000d\r\nContent-Length: 0\r\n\r\n", 0);
    static char big_body[4096];
    snprintf(big_body, sizeof(big_body), "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n%02000d", 0);
    static char big_chunks[4096];
    snprintf(big_chunks, sizeof(big_chunks), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n%02000d\r\n0\r\n\r\n",
             0);
    static const struct {
        int after;
        int err;
        const char *why;
    } cases[] = {
        {KEEP, -EPROTO, "a malformed status line"},
        {KEEP, -EPROTO, "a malformed chunked body"},
        {CLOSE, -EPROTO, "with 7 of the body's bytes still to come"},
        {CLOSE, -EPROTO, "in the middle of the chunked body"},
        {KEEP, -EPROTO, "both Content-Length and Transfer-Encoding"},
        {KEEP, -EPROTO, "Content-Length fields with different values"},
        {KEEP, -EPROTO, "a malformed Content-Length"},
        {KEEP, -EPROTO, "a transfer coding other than chunked (gzip)"},
        {KEEP, -EPROTO, "HTTP version 2.0"},
        {KEEP, -EPROTO, "101 Switching Protocols"},
        {KEEP, -EPROTO, "a malformed header field"},
        {KEEP, -EPROTO, "a bare CR in header field X"},
        {KEEP, -EPROTO, "a NUL in header field X"},
        {KEEP, -EPROTO, "larger than max_head (1024 bytes)"},
        {KEEP, -EMSGSIZE, "longer than max_body (1024 bytes)"},
        {KEEP, -EMSGSIZE, "longer than max_body (1024 bytes)"},
        {CLOSE, -EPROTO, "in the middle of the response's head"},
        {KEEP, -EPROTO, "whitespace between the status line and the first header field"},
        {DROP, -ECONNRESET, "the server closed the connection before answering"},
    };
    const char *bytes[] = {
        "hello world\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n",
        big_head,
        big_body,
        big_chunks,
        "HTTP/1.1 200 OK\r\nContent-",
        "HTTP/1.1 200 OK\r\n X: 1\r\n\r\n",
        "",
    };
    enum { N = sizeof(cases) / sizeof(cases[0]) };
    _Static_assert(sizeof(bytes) / sizeof(bytes[0]) == N, "one answer per case");
    static struct answer answers[N];
    for (int i = 0; i < N; i++)
        answers[i] = (struct answer){bytes[i], cases[i].after, 0};
    answers[12].len = sizeof("HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n") - 1; /* past the NUL */
    struct raw raw;
    sea_future served = raw_start(&raw, answers, N);
    sea_http_client *c = client(raw.addr, &(sea_http_client_options){.max_head = 1024, .max_body = 1024});
    for (int i = 0; i < N; i++) {
        sea_http_client_response r;
        char path[16];
        snprintf(path, sizeof(path), "/%d", i);
        EXPECT_FAIL(sea_http_client_get(c, path, &r), cases[i].err, cases[i].why);
        CHECK(r.status == 0 && r.body.len == 0 && r.headers == NULL);
        CHECK_EQ(cstats(c).open, 0); /* never kept */
    }
    CHECK_EQ(raw.conns, N);
    client_close(c);
    raw_stop(&raw, served);
    return sea_ready();
}

/* A kept connection that the server drops after reading the next request: GET is sent again, POST is not. */
FIBER_CASE(t_retry) {
    static const struct answer answers[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", KEEP, 0},
        {"", DROP, 0},                                              /* the GET's first try */
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain", KEEP, 0}, /* its retry, on a new connection */
        {"", DROP, 0},                                              /* a POST: not tried again */
        {"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext", CLOSE, 0},  /* says keep-alive, then closes */
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh", KEEP, 0},
    };
    struct raw raw;
    sea_future served = raw_start(&raw, ANSWERS(answers));
    sea_http_client *c = client(raw.addr, NULL);
    sea_http_client_response r;
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/a", &r)), 200);
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/b", &r)), 200);
    CHECK(body_is(&r, "again"));
    sea_http_client_response_free(&r);
    CHECK_EQ(raw.conns, 2);
    CHECK_EQ(cstats(c).retries, 1);
    EXPECT_FAIL(sea_http_client_request(c, &(sea_http_client_req){.method = "POST", .path = "/c", .body = "x",
                                                                  .body_len = 1},
                                        &r),
                -ECONNRESET, "POST /c on 127.0.0.1:");
    CHECK_STREQ(raw.last_method, "POST");
    CHECK_EQ(cstats(c).retries, 1);
    CHECK_EQ(raw.conns, 2);
    /* A connection the server closed while it sat idle: found stale when taken, or failing and tried again. */
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/d", &r)), 200);
    CHECK(body_is(&r, "next"));
    sea_http_client_response_free(&r);
    CHECK_EQ(EXPECT_OK(sea_http_client_get(c, "/e", &r)), 200);
    CHECK(body_is(&r, "fresh"));
    sea_http_client_response_free(&r);
    sea_http_client_stats st = cstats(c);
    CHECK_EQ(st.stale + st.retries, 2);
    CHECK_EQ(raw.conns, 4);
    client_close(c);
    raw_stop(&raw, served);
    return sea_ready();
}

static const struct sea_test_case test_cases[] = {
    SEA_TEST(t_keepalive), SEA_TEST(t_concurrent), SEA_TEST(t_bodies),   SEA_TEST(t_stream_large),
    SEA_TEST(t_stream_freed_early), SEA_TEST(t_redirects), SEA_TEST(t_timeout), SEA_TEST(t_close),
    SEA_TEST(t_unix), SEA_TEST(t_errors), SEA_TEST(t_lenient), SEA_TEST(t_malformed),
    SEA_TEST(t_retry), SEA_TEST(t_from_continuation), SEA_TEST(t_early_answer),
};

int main(int argc, char **argv) {
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = pattern_at(i);
    return sea_test_main(argc, argv, test_cases, SEA_TEST_COUNT(test_cases));
}
