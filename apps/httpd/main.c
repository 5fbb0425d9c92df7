/*
 * sea-httpd - a web server on sea's HTTP library: the files of a directory
 * on every shard, and the two routes of the well-known web framework
 * benchmarks (/plaintext and /json).
 *
 *     sea-httpd --root /srv/www --address 0.0.0.0 --port 8080 [--access-log]
 *
 * HTTP/2 is on unless --no-http2: negotiated by ALPN ("h2,http/1.1") on the
 * HTTPS port, and with prior knowledge (h2c) on the plain one.
 *
 * Every shard listens on the port (SO_REUSEPORT) and serves its own
 * connections; the files come from the disk API, the small ones from a
 * per-shard cache (see sea_http_files).  Responses are counted per status
 * class in the sea_httpd_responses_total metric, served with the others by
 * --prometheus-port.  SIGHUP reads --tls-cert and --tls-key again (a
 * renewed certificate): new handshakes use it, open connections go on, and
 * files that do not load are refused with the old ones kept (logged either
 * way).  SIGINT or SIGTERM stops it: the connections finish their answers
 * and close.
 */
#include <sea/sea.h>
#include <sea/http.h>
#include <sea/metrics.h>
#include <sea/options.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sea_option httpd_opts[] = {
    {.name = "root", .type = SEA_OPTION_STRING, .help = "serve the files under this directory at / (default: none)"},
    {.name = "address", .type = SEA_OPTION_STRING, .default_value = "127.0.0.1",
     .help = "the IPv4 or IPv6 address to listen on (0.0.0.0 or :: for every interface)"},
    {.name = "port", .type = SEA_OPTION_INT, .default_value = "8080", .help = "the TCP port (0: any free one)",
     .min = 0, .max = 65535, .short_name = 'p'},
    {.name = "tls-cert", .type = SEA_OPTION_STRING,
     .help = "PEM certificate chain: also serve HTTPS on --tls-port (with --tls-key)"},
    {.name = "tls-key", .type = SEA_OPTION_STRING, .help = "PEM private key of --tls-cert"},
    {.name = "tls-port", .type = SEA_OPTION_INT, .default_value = "8443", .help = "the HTTPS port (0: any free one)",
     .min = 0, .max = 65535},
    {.name = "index", .type = SEA_OPTION_STRING, .default_value = "index.html",
     .help = "the file served for a directory"},
    {.name = "access-log", .type = SEA_OPTION_FLAG, .help = "log every request (logger \"access\", level info)"},
    {.name = "no-http2", .type = SEA_OPTION_FLAG,
     .help = "HTTP/1.x only: no h2 in the TLS handshake's ALPN, no prior-knowledge HTTP/2 on the plain port"},
    {.name = "max-streams", .type = SEA_OPTION_INT, .default_value = "100",
     .help = "HTTP/2 streams a connection may have open at once", .min = 1, .max = 1e6},
    {.name = "max-connections", .type = SEA_OPTION_INT, .default_value = "0",
     .help = "connections per shard at most (0: as many as descriptors allow)", .min = 0, .max = 1e9},
    {.name = "max-body", .type = SEA_OPTION_SIZE, .default_value = "1M",
     .help = "request bodies larger than this are refused (413)", .min = 0, .max = 1e18},
    {.name = "idle-timeout", .type = SEA_OPTION_DOUBLE, .default_value = "60",
     .help = "seconds a kept-alive connection may sit idle", .min = 0.001, .max = 86400},
    {.name = "file-cache-size", .type = SEA_OPTION_SIZE, .default_value = "64M",
     .help = "memory per shard for small files kept in memory", .min = 1, .max = 1e15},
    {.name = "file-cache-max", .type = SEA_OPTION_SIZE, .default_value = "64K",
     .help = "files up to this size are kept in memory; larger ones are sent with sendfile", .min = 1, .max = 1e15},
};

SEA_LOGGER(access_log, "access");
SEA_LOGGER(httpd_log, "httpd");

/* The HTTPS credentials, and the reloads under way (waited for before the credentials are freed). */
static sea_tls_creds *tls_creds;
static sea_gate reloads;

static sea_future reloaded(sea_future *in) {
    if (sea_future_failed(in))
        sea_log_error(&httpd_log, "SIGHUP: %s", sea_future_message(in));
    else
        sea_log_info(&httpd_log, "SIGHUP: certificate reloaded (generation %u)", sea_tls_creds_generation(tls_creds));
    sea_future_ignore(*in);
    *in = sea_ready();
    sea_gate_leave(&reloads);
    return sea_ready();
}

static void on_hup(int signo, void *arg) {
    (void)signo, (void)arg;
    if (!tls_creds) {
        sea_log_info(&httpd_log, "SIGHUP: no certificate to reload (no --tls-cert)");
        return;
    }
    if (sea_gate_enter(&reloads) < 0)
        return; /* stopping */
    sea_future_detach(sea_then_wrapped(sea_tls_creds_reload(tls_creds), reloaded));
}

/* ---- the benchmark routes ---- */

static sea_future plaintext(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    sea_http_response_set_type(resp, "text/plain");
    return sea_http_response_write(resp, "Hello, World!", 13) < 0 ? sea_failed(-ENOMEM, "no memory") : sea_ready();
}

static sea_future json(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    sea_http_response_set_type(resp, "application/json");
    return sea_http_response_printf(resp, "{\"message\":\"%s\"}", "Hello, World!") < 0
               ? sea_failed(-ENOMEM, "no memory")
               : sea_ready();
}

/* ---- counting and logging each response ---- */

static __thread sea_counter *responses[6];
static __thread bool counters_made;
static bool access_log_on; /* --access-log, read once before the server starts */

static void make_counters(void) {
    static const char *const classes[6] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
    counters_made = true;
    for (int k = 1; k <= 5; k++)
        if (sea_counter_register("sea_httpd_responses_total", "HTTP responses sent, by status class",
                                 SEA_METRIC_LABELS({"class", classes[k]}), &responses[k]) < 0)
            responses[k] = NULL;
}

static void done(const sea_http_request *req, int status, uint64_t bytes, sea_time took, void *data) {
    (void)data;
    if (!counters_made)
        make_counters();
    int k = status / 100;
    if (k >= 1 && k <= 5 && responses[k])
        sea_counter_inc(responses[k]);
    if (access_log_on && sea_log_enabled(&access_log, SEA_LOG_INFO)) {
        char peer[80] = "-";
        sea_addr a = sea_http_peer(req);
        sea_addr_format(&a, peer, sizeof(peer));
        sea_log_write(&access_log, SEA_LOG_INFO, "%s \"%s %s %s\" %d %" PRIu64 " %.3f ms", peer,
                      req->method ? req->method : "-", req->target ? req->target : "-",
                      req->version == 20 ? "HTTP/2" : req->version == 10 ? "HTTP/1.0" : "HTTP/1.1", status, bytes,
                      (double)took / 1e6);
    }
}

static sea_future httpd_main(void) {
    sea_http_routes *routes = sea_http_routes_new();
    if (!routes)
        return sea_failed(-ENOMEM, "no memory for the routes");
    int rc = sea_http_route(routes, "GET", "/plaintext", plaintext, NULL);
    if (rc == 0)
        rc = sea_http_route(routes, "GET", "/json", json, NULL);
    const char *root = sea_option_string("root");
    if (rc == 0 && root) {
        sea_http_files_options fo = {
            .index = sea_option_string("index"),
            .cache_bytes = (size_t)sea_option_size("file-cache-size"),
            .cache_file_max = (size_t)sea_option_size("file-cache-max"),
        };
        rc = sea_http_files(routes, "/", root, &fo);
        if (rc < 0) {
            sea_http_routes_free(routes);
            return sea_failed_fmt(rc, "--root %s: %s", root,
                                  rc == -ENOENT ? "not a directory" : strerror(-rc));
        }
    }
    if (rc < 0) {
        sea_http_routes_free(routes);
        return sea_failed(rc, "cannot set the routes up");
    }
    access_log_on = sea_option_flag("access-log");
    sea_http_on_done(routes, done, NULL);

    const char *host = sea_option_string("address");
    char addr[160];
    bool v6 = strchr(host, ':') && host[0] != '[';
    snprintf(addr, sizeof(addr), "%s%s%s:%" PRId64, v6 ? "[" : "", host, v6 ? "]" : "", sea_option_int("port"));
    sea_http_server_options opts = {
        .server = {.max_connections = (unsigned)sea_option_int("max-connections"), .name = "httpd"},
        .max_body = sea_option_size("max-body"),
        .idle_timeout = (sea_time)(sea_option_double("idle-timeout") * 1e9),
        .no_http2 = sea_option_flag("no-http2"),
        .max_streams = (unsigned)sea_option_int("max-streams"),
    };
    /* HTTPS beside HTTP, on its own port, with the same routes. */
    const char *cert = sea_option_string("tls-cert"), *key = sea_option_string("tls-key");
    sea_tls_creds *creds = NULL;
    if (cert || key) {
        char why[512];
        if (!cert || !key) {
            sea_http_routes_free(routes);
            return sea_failed(-EINVAL, "HTTPS needs both --tls-cert and --tls-key");
        }
        rc = sea_tls_creds_new(SEA_TLS_SERVER, &(sea_tls_options){.cert_file = cert, .key_file = key,
                                                                   .alpn = opts.no_http2 ? "http/1.1"
                                                                                         : "h2,http/1.1"},
                               &creds, why, sizeof(why));
        if (rc < 0) {
            sea_http_routes_free(routes);
            return sea_failed_fmt(rc, "--tls-cert/--tls-key: %s", why);
        }
    }
    sea_future started = sea_await(sea_http_server_start(addr, &opts, routes));
    if (sea_future_failed(&started)) {
        sea_tls_creds_free(creds);
        sea_http_routes_free(routes);
        return started;
    }
    sea_http_server *srv = sea_future_value(&started).ptr, *tls_srv = NULL;
    sea_addr bound = sea_server_addr(sea_http_server_base(srv));
    char shown[160];
    sea_addr_format(&bound, shown, sizeof(shown));
    sea_print("sea-httpd: serving http://%s/ on %u shard%s%s%s\n", shown, sea_shard_count(),
              sea_shard_count() == 1 ? "" : "s", root ? ", files from " : "", root ? root : "");
    if (creds) {
        char tls_addr[160];
        snprintf(tls_addr, sizeof(tls_addr), "%s%s%s:%" PRId64, v6 ? "[" : "", host, v6 ? "]" : "",
                 sea_option_int("tls-port"));
        sea_http_server_options tls_opts = opts;
        tls_opts.tls = creds;
        tls_opts.server.name = "https";
        sea_future tls_started = sea_await(sea_http_server_start(tls_addr, &tls_opts, routes));
        if (sea_future_failed(&tls_started)) {
            sea_future_ignore(sea_await(sea_http_server_stop(srv)));
            sea_tls_creds_free(creds);
            sea_http_routes_free(routes);
            return tls_started;
        }
        tls_srv = sea_future_value(&tls_started).ptr;
        bound = sea_server_addr(sea_http_server_base(tls_srv));
        sea_addr_format(&bound, shown, sizeof(shown));
        sea_print("sea-httpd: serving https://%s/\n", shown);
        tls_creds = creds;
        sea_gate_init(&reloads);
        sea_signal_handle(SIGHUP, on_hup, NULL);
    }
    /*
     * Both servers' "stopped" futures are taken now: the orderly stop frees a server once it has stopped,
     * so asking the second one after the first has stopped would read freed memory.
     */
    sea_future http_stopped = sea_server_stopped(sea_http_server_base(srv));
    sea_future https_stopped = tls_srv ? sea_server_stopped(sea_http_server_base(tls_srv)) : sea_ready();
    sea_future stopped = sea_await(http_stopped);
    sea_future_ignore(sea_await(https_stopped));
    if (creds) {
        sea_signal_unhandle(SIGHUP);
        sea_future_ignore(sea_await(sea_gate_close(&reloads))); /* a reload under way ends first */
        tls_creds = NULL;
    }
    sea_tls_creds_free(creds);
    sea_http_routes_free(routes);
    return stopped;
}

int main(int argc, char **argv) {
    if (sea_app_add_options(httpd_opts, SEA_OPTION_COUNT(httpd_opts)) != 0)
        return 2;
    return sea_app_run_fiber(argc, argv, httpd_main);
}
