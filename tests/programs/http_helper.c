/*
 * http_helper.c - an HTTP server with one route per feature of sea/http.h,
 * for tests/apps/test_httpd.py to drive with curl, Python's http.client and
 * raw sockets.  Public headers only, as an application would.
 *
 *     http_helper [sea options] --root DIR --upload-dir DIR [--header-timeout S] [--max-body N]
 *                 [--tls-cert F --tls-key F [--alpn h2,http/1.1] [--tls-ca F --verify-client]]
 *                 [--no-http2] [--max-streams N]
 *
 * Prints "serving http://ADDR/" once it listens (port 0: any free port).
 */
#include <sea/sea.h>
#include <sea/file.h>
#include <sea/http.h>
#include <sea/options.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sea_option opts[] = {
    {.name = "root", .type = SEA_OPTION_STRING, .help = "files served at /static"},
    {.name = "upload-dir", .type = SEA_OPTION_STRING, .help = "where PUT /upload/NAME writes"},
    {.name = "port", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 65535, .help = "port"},
    {.name = "header-timeout", .type = SEA_OPTION_DOUBLE, .default_value = "10", .min = 0.01, .max = 1000,
     .help = "seconds for a request's head"},
    {.name = "idle-timeout", .type = SEA_OPTION_DOUBLE, .default_value = "60", .min = 0.01, .max = 1000,
     .help = "seconds between requests"},
    {.name = "max-body", .type = SEA_OPTION_SIZE, .default_value = "1M", .min = 1, .max = 1e15, .help = "413 past it"},
    {.name = "tls-cert", .type = SEA_OPTION_STRING, .help = "serve HTTPS with this certificate (and --tls-key)"},
    {.name = "tls-key", .type = SEA_OPTION_STRING, .help = "the certificate's key"},
    {.name = "max-connections", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 1e6,
     .help = "per shard"},
    {.name = "io-timeout", .type = SEA_OPTION_DOUBLE, .default_value = "60", .min = 0.01, .max = 1000,
     .help = "seconds for each body read and send"},
    {.name = "alpn", .type = SEA_OPTION_STRING, .help = "the protocols TLS offers (\"h2,http/1.1\"); default: no ALPN"},
    {.name = "no-http2", .type = SEA_OPTION_FLAG, .help = "HTTP/1.x only"},
    {.name = "tls-ca", .type = SEA_OPTION_STRING, .help = "the CAs client certificates are checked with"},
    {.name = "verify-client", .type = SEA_OPTION_FLAG, .help = "require a client certificate signed by --tls-ca"},
    {.name = "max-streams", .type = SEA_OPTION_INT, .default_value = "0", .min = 0, .max = 1e6,
     .help = "HTTP/2 streams at once per connection (0: the default)"},
};

static sea_future reply(sea_http_response *resp, const char *type, const char *fmt, const char *a, const char *b) {
    sea_http_response_set_type(resp, type);
    return sea_http_response_printf(resp, fmt, a, b) < 0 ? sea_failed(-ENOMEM, "no memory") : sea_ready();
}

static sea_future plaintext(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    return reply(resp, "text/plain", "Hello, World!%s%s", "", "");
}

/*
 * GET /whoami: what the connection's TLS says ("tls=TLSv1.3 http=11 sni=localhost resumed=no
 * subject=CN=client,O=sea tests"), or "tls=none http=11"; ?close=1 closes the connection after it.
 */
static sea_future whoami(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    const sea_tls *t = sea_http_request_tls(req);
    char close[4];
    if (sea_http_query_get(req, "close", close, sizeof(close)) > 0 && strcmp(close, "1") == 0)
        sea_http_response_close(resp);
    sea_http_response_set_type(resp, "text/plain");
    if (!t)
        sea_http_response_printf(resp, "tls=none http=%d\n", req->version);
    else
        sea_http_response_printf(resp, "tls=%s http=%d sni=%s resumed=%s subject=%s\n", sea_tls_version(t),
                                 req->version, sea_tls_server_name(t) ? sea_tls_server_name(t) : "-",
                                 sea_tls_resumed(t) ? "yes" : "no",
                                 sea_tls_peer_subject(t) ? sea_tls_peer_subject(t) : "-");
    return sea_ready();
}

/* POST /echo: the whole body back (at most max-body). */
static sea_future echo(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    sea_buf body;
    SEA_AWAIT(sea_http_request_read_body(req, 0, &body));
    sea_http_response_set_type(resp, "application/octet-stream");
    return sea_http_response_set_body(resp, body) < 0 ? sea_failed(-ENOMEM, "no memory") : sea_ready();
}

/* POST /echo_stream: the body back piece by piece as it arrives, chunked: memory stays bounded. */
static sea_future echo_stream(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    sea_input_stream *in = sea_http_request_body(req);
    sea_output_stream *out = sea_http_response_stream(resp, -1);
    if (!in || !out)
        return sea_failed(-ENOMEM, "no memory for the streams");
    uint64_t total = 0;
    for (;;) {
        sea_buf b;
        size_t n = SEA_AWAIT(sea_input_read(in, &b)).size;
        if (n == 0)
            break;
        total += n;
        SEA_AWAIT(sea_output_write_buf(out, b));
    }
    char t[32];
    snprintf(t, sizeof(t), "%" PRIu64, total);
    sea_http_response_add_trailer(resp, "X-Total", t);
    SEA_AWAIT(sea_output_close(out));
    return sea_ready();
}

/* GET /stream?n=N&size=S: N pieces of S bytes ('a' + i % 26), chunked, with a trailer. */
static sea_future stream(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    char v[32];
    long n = sea_http_query_get(req, "n", v, sizeof(v)) > 0 ? atol(v) : 3;
    long size = sea_http_query_get(req, "size", v, sizeof(v)) > 0 ? atol(v) : 10;
    if (n < 0 || size < 0 || size > 1 << 20)
        return sea_http_response_error(resp, 400, "bad n or size") < 0 ? sea_failed(-ENOMEM, "") : sea_ready();
    char *piece = malloc((size_t)size + 1);
    if (!piece)
        return sea_failed(-ENOMEM, "no memory");
    sea_http_response_set_type(resp, "text/plain");
    sea_output_stream *out = sea_http_response_stream(resp, -1);
    sea_future r = sea_ready();
    for (long i = 0; out && i < n && !sea_future_failed(&r); i++) {
        memset(piece, 'a' + (int)(i % 26), (size_t)size);
        sea_future_ignore(r);
        r = sea_await(sea_output_write(out, piece, (size_t)size));
    }
    sea_http_response_add_trailer(resp, "X-Pieces", "done");
    if (!sea_future_failed(&r)) {
        sea_future_ignore(r);
        r = out ? sea_await(sea_output_close(out)) : sea_failed(-ENOMEM, "no stream");
    }
    free(piece);
    return r;
}

/* GET /users/{id}/files/{rest*} */
static sea_future params(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    return reply(resp, "text/plain", "id=%s rest=%s", sea_http_param(req, "id"), sea_http_param(req, "rest"));
}

/* GET /users/me: a literal beats the parameter. */
static sea_future me(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    return reply(resp, "text/plain", "me%s%s", "", "");
}

/* GET /query?a=..&b=..: decoded values. */
static sea_future query(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    char a[256] = "(none)", b[256] = "(none)";
    if (sea_http_query_get(req, "a", a, sizeof(a)) == -EINVAL || sea_http_query_get(req, "b", b, sizeof(b)) == -EINVAL)
        return sea_http_response_error(resp, 400, "malformed query") < 0 ? sea_failed(-ENOMEM, "") : sea_ready();
    return reply(resp, "text/plain", "a=[%s] b=[%s]", a, b);
}

/* POST /form: a urlencoded body's "name". */
static sea_future form(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    sea_buf body;
    SEA_AWAIT(sea_http_request_read_body(req, 4096, &body));
    char name[256] = "(none)";
    long n = sea_http_form_get(body.data ? body.data : "", body.len, "name", name, sizeof(name));
    sea_buf_release(&body);
    if (n == -EINVAL)
        return sea_http_response_error(resp, 400, "malformed form") < 0 ? sea_failed(-ENOMEM, "") : sea_ready();
    return reply(resp, "text/plain", "name=[%s]%s", name, "");
}

/* GET /fail: the handler fails (500, the connection stays). */
static sea_future fail(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    sea_http_response_write(resp, "partial", 7);
    return sea_failed(-EIO, "the test route fails on purpose");
}

/* GET /fail_streaming: fails after the head and some body went out (the connection closes). */
static sea_future fail_streaming(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    sea_output_stream *out = sea_http_response_stream(resp, 1000);
    if (!out)
        return sea_failed(-ENOMEM, "no stream");
    SEA_AWAIT(sea_output_write(out, "0123456789", 10));
    SEA_AWAIT(sea_output_flush(out));
    return sea_failed(-EIO, "the test route fails after starting its body");
}

/* GET /unclosed: makes a response stream, writes a little (still batched), never closes it: 500. */
static sea_future unclosed(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    sea_output_stream *out = sea_http_response_stream(resp, -1);
    if (!out)
        return sea_failed(-ENOMEM, "no stream");
    SEA_AWAIT(sea_output_write(out, "abc", 3));
    return sea_ready();
}

/* POST /small: takes at most 10 bytes of body (more: 413, through read_body's own limit). */
static sea_future small(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    sea_buf body;
    SEA_AWAIT(sea_http_request_read_body(req, 10, &body));
    sea_http_response_set_body(resp, body);
    return sea_ready();
}

/* GET /slow?ms=N: answers after N ms (pipelined answers must still come in order). */
static sea_future slow(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    char v[32];
    long ms = sea_http_query_get(req, "ms", v, sizeof(v)) > 0 ? atol(v) : 50;
    SEA_AWAIT(sea_sleep(SEA_MSEC(ms)));
    return reply(resp, "text/plain", "slept %s%s", v, "");
}

/* PUT /upload/{name}: the body streamed to a file under --upload-dir; answers the bytes written. */
static sea_future upload(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    const char *dir = sea_option_string("upload-dir");
    const char *name = sea_http_param(req, "name");
    if (!dir || !name || strchr(name, '/') || name[0] == '.')
        return sea_http_response_error(resp, 400, "bad name") < 0 ? sea_failed(-ENOMEM, "") : sea_ready();
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    sea_file *f = SEA_AWAIT(sea_file_open(path, O_WRONLY | O_CREAT | O_TRUNC, NULL)).ptr;
    sea_output_stream *out = sea_file_output_stream(f, 0, NULL);
    sea_input_stream *in = sea_http_request_body(req);
    sea_future r = out && in ? sea_ready() : sea_failed(-ENOMEM, "no memory for the streams");
    uint64_t total = 0;
    while (!sea_future_failed(&r)) {
        sea_future_ignore(r);
        sea_buf b;
        r = sea_await(sea_input_read(in, &b));
        if (sea_future_failed(&r) || b.len == 0)
            break;
        total += b.len;
        sea_future_ignore(r);
        r = sea_await(sea_output_write_buf(out, b));
    }
    if (out) {
        sea_future c = sea_await(sea_output_close(out));
        if (!sea_future_failed(&r))
            sea_future_ignore(r), r = c;
        else
            sea_future_ignore(c);
        sea_output_stream_free(out);
    }
    sea_future_ignore(sea_await(sea_file_close(f)));
    if (sea_future_failed(&r))
        return r;
    sea_future_ignore(r);
    char t[32];
    snprintf(t, sizeof(t), "%" PRIu64, total);
    sea_http_response_set_status(resp, 201);
    return reply(resp, "text/plain", "%s%s", t, "");
}

/* A hook on /admin: 401 without "X-Token: secret". */
static sea_future auth(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)data;
    const char *t = sea_http_header_get(req, "X-Token");
    if (t && strcmp(t, "secret") == 0)
        return sea_ready_int(SEA_HTTP_NEXT);
    sea_http_response_error(resp, 401, "a token is needed");
    sea_http_response_add_header(resp, "WWW-Authenticate", "Token");
    return sea_ready_int(SEA_HTTP_DONE);
}

static sea_future admin(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    return reply(resp, "text/plain", "admin ok%s%s", "", "");
}

/* GET /close: answers, then closes the connection (HTTP/2: GOAWAY after the answer). */
static sea_future close_after(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    sea_http_response_close(resp);
    return reply(resp, "text/plain", "bye%s%s", "", "");
}

static sea_future post_only(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    return reply(resp, "text/plain", "posted%s%s", "", "");
}

static sea_future helper_main(void) {
    sea_http_routes *r = sea_http_routes_new();
    if (!r)
        return sea_failed(-ENOMEM, "no memory");
    int rc = 0;
    rc |= sea_http_route(r, "GET", "/plaintext", plaintext, NULL);
    rc |= sea_http_route(r, "GET", "/whoami", whoami, NULL);
    rc |= sea_http_route(r, "POST", "/echo", echo, NULL);
    rc |= sea_http_route(r, "POST", "/echo_stream", echo_stream, NULL);
    rc |= sea_http_route(r, "GET", "/stream", stream, NULL);
    rc |= sea_http_route(r, "GET", "/users/{id}/files/{rest*}", params, NULL);
    rc |= sea_http_route(r, "GET", "/users/me/files/{rest*}", me, NULL);
    rc |= sea_http_route(r, "GET", "/query", query, NULL);
    rc |= sea_http_route(r, "POST", "/form", form, NULL);
    rc |= sea_http_route(r, "GET", "/fail", fail, NULL);
    rc |= sea_http_route(r, "GET", "/fail_streaming", fail_streaming, NULL);
    rc |= sea_http_route(r, "GET", "/slow", slow, NULL);
    rc |= sea_http_route(r, "GET", "/unclosed", unclosed, NULL);
    rc |= sea_http_route(r, "POST", "/small", small, NULL);
    rc |= sea_http_route(r, "PUT", "/upload/{name}", upload, NULL);
    rc |= sea_http_route(r, "GET", "/admin/{what*}", admin, NULL);
    rc |= sea_http_route(r, "POST", "/post_only", post_only, NULL);
    rc |= sea_http_route(r, "GET", "/close", close_after, NULL);
    rc |= sea_http_route(r, "PUT", "/post_only", post_only, NULL);
    rc |= sea_http_use(r, "/admin", auth, NULL);
    const char *root = sea_option_string("root");
    if (root)
        rc |= sea_http_files(r, "/static", root, NULL);
    if (rc) {
        sea_http_routes_free(r);
        return sea_failed(-EINVAL, "cannot make the routes");
    }
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%" PRId64, sea_option_int("port"));
    sea_http_server_options o = {
        .server = {.max_connections = (unsigned)sea_option_int("max-connections")},
        .header_timeout = (sea_time)(sea_option_double("header-timeout") * 1e9),
        .idle_timeout = (sea_time)(sea_option_double("idle-timeout") * 1e9),
        .max_body = sea_option_size("max-body"),
        .io_timeout = (sea_time)(sea_option_double("io-timeout") * 1e9),
        .no_http2 = sea_option_flag("no-http2"),
        .max_streams = (unsigned)sea_option_int("max-streams"),
    };
    sea_tls_creds *creds = NULL;
    if (sea_option_string("tls-cert")) {
        char why[512];
        int trc = sea_tls_creds_new(SEA_TLS_SERVER,
                                    &(sea_tls_options){.cert_file = sea_option_string("tls-cert"),
                                                       .key_file = sea_option_string("tls-key"),
                                                       .ca_file = sea_option_string("tls-ca"),
                                                       .verify_client = sea_option_flag("verify-client"),
                                                       .alpn = sea_option_string("alpn")},
                                    &creds, why, sizeof(why));
        if (trc < 0) {
            sea_http_routes_free(r);
            return sea_failed_fmt(trc, "TLS: %s", why);
        }
        o.tls = creds;
    }
    sea_future f = sea_await(sea_http_server_start(addr, &o, r));
    if (sea_future_failed(&f)) {
        sea_tls_creds_free(creds);
        sea_http_routes_free(r);
        return f;
    }
    sea_http_server *srv = sea_future_value(&f).ptr;
    sea_addr a = sea_server_addr(sea_http_server_base(srv));
    char shown[64];
    sea_addr_format(&a, shown, sizeof(shown));
    printf("serving %s://%s/\n", creds ? "https" : "http", shown);
    fflush(stdout);
    sea_future stopped = sea_await(sea_server_stopped(sea_http_server_base(srv)));
    sea_tls_creds_free(creds);
    sea_http_routes_free(r);
    return stopped;
}

int main(int argc, char **argv) {
    if (sea_app_add_options(opts, SEA_OPTION_COUNT(opts)) != 0)
        return 2;
    return sea_app_run_fiber(argc, argv, helper_main);
}
