/*
 * prometheus.c - the Prometheus endpoint: a handler on the HTTP layer's
 * small server (server.c) that answers GET /metrics with every shard's
 * metrics (sea_metrics_render), and the module that starts it from the
 * command line (--prometheus-port, --prometheus-address) and stops it at
 * the orderly stop.
 *
 * The endpoint lives on shard 0, in a thread-local pointer of that shard.
 */
#include <sea/log.h>
#include <sea/metrics.h>
#include <sea/net.h>
#include <sea/prometheus.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "core/module.h"
#include "core/shard.h"
#include "http/prometheus.h"
#include "http/server.h"

#define DEFAULT_ADDRESS "127.0.0.1:9180"

static __thread struct sea__http_server *the_server;

static sea_future rendered(struct sea__http_response **rp, sea_future *in) {
    int err = sea_future_error(in);
    if (err) {
        const char *msg = sea_future_message(in);
        return sea_failed_fmt(err, "cannot collect the metrics: %s", msg ? msg : sea_strerror(err));
    }
    (*rp)->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return sea_ready();
}

/* GET or HEAD /metrics (any query): every shard's metrics; anything else 404 or 405. */
static sea_future serve_metrics(void *arg, const struct sea__http_request *req, struct sea__http_response *resp) {
    (void)arg;
    size_t path_len = 0;
    while (path_len < req->target_len && req->target[path_len] != '?')
        path_len++;
    bool get = req->method_len == 3 && memcmp(req->method, "GET", 3) == 0;
    bool head = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
    if (path_len != 8 || memcmp(req->target, "/metrics", 8) != 0) {
        *resp = (struct sea__http_response){.status = 404, .error = "the metrics are at /metrics"};
        return sea_ready();
    }
    if (!get && !head) {
        *resp = (struct sea__http_response){.status = 405, .error = "only GET and HEAD are served",
                                            .allow = "GET, HEAD"};
        return sea_ready();
    }
    return sea_then_wrapped(sea_metrics_render(&resp->body), rendered, resp);
}

static int endpoint_start(const sea_addr *a, const sea_prometheus_options *opts) {
    struct sea__shard *s = sea__shard_current;
    if (!s || !s->smp || s->id != 0)
        return -EINVAL;
    if (the_server)
        return -EALREADY;
    struct sea__http_server_options so = {0};
    if (opts) {
        so.timeout = opts->timeout;
        so.max_connections = opts->max_connections;
    }
    return sea__http_server_start(a, &so, serve_metrics, NULL, &the_server);
}

int sea_prometheus_start(const char *address, const sea_prometheus_options *opts) {
    sea_addr a;
    if (sea_addr_parse(address ? address : DEFAULT_ADDRESS, &a) < 0)
        return -EINVAL;
    return endpoint_start(&a, opts);
}

sea_future sea_prometheus_stop(void) {
    struct sea__http_server *srv = the_server;
    if (!srv)
        return sea_ready();
    the_server = NULL;
    return sea__http_server_stop(srv);
}

int sea_prometheus_address(sea_addr *out) {
    if (!the_server)
        return -ENOENT;
    *out = sea__http_server_addr(the_server);
    return 0;
}

/* ---- the module ---- */

/* --prometheus-port (-1: off) and --prometheus-address: set before the shards start. */
static int port_option = -1;
static const char *address_option;

static bool is_address(const char *v) {
    return *v && strlen(v) <= 200;
}

static const struct sea__opt options[] = {
    {.o = {.name = "prometheus-port", .type = SEA_OPTION_INT, .min = 0, .max = 65535,
           .help = "serve metrics in Prometheus format over HTTP on PORT (default: off; 0: any free port)"},
     .value_name = "PORT", .meaning = "a port in 0..65535"},
    {.o = {.name = "prometheus-address", .type = SEA_OPTION_STRING,
           .help = "address for --prometheus-port (default 127.0.0.1)"},
     .value_name = "ADDR", .meaning = "an address", .check = is_address},
};

static int prometheus_configure(const struct sea__opt_values *v, char *err, size_t errlen) {
    port_option = sea__opt_given(v, "prometheus-port") ? (int)sea__opt_int(v, "prometheus-port") : -1;
    address_option = sea__opt_string(v, "prometheus-address");
    return 0;
}

/* On shard 0 before main: the endpoint, if the command line asks for it. */
static int prometheus_running(struct sea__smp *smp, char *err, size_t errlen) {
    (void)smp;
    if (port_option < 0)
        return 0;
    const char *host = address_option ? address_option : "127.0.0.1";
    /* An IPv6 address needs its brackets before the port. */
    bool brackets = strchr(host, ':') && host[0] != '[';
    char text[128];
    sea_addr a;
    int n = snprintf(text, sizeof(text), "%s%s%s:%d", brackets ? "[" : "", host, brackets ? "]" : "", port_option);
    if (n < 0 || (size_t)n >= sizeof(text) || sea_addr_parse(text, &a) < 0) {
        snprintf(err, errlen, "cannot serve Prometheus metrics on %s port %d: not an IP address and port", host,
                 port_option);
        sea__one_line(err);
        return -EINVAL;
    }
    int rc = endpoint_start(&a, NULL);
    if (rc < 0) {
        snprintf(err, errlen, "cannot serve Prometheus metrics on %s: %s", text, sea_strerror(rc));
        return rc;
    }
    sea_addr bound;
    char shown[128];
    if (sea_prometheus_address(&bound) == 0 && sea_addr_format(&bound, shown, sizeof(shown)) > 0)
        sea_log_info(&sea_log_sea, "serving Prometheus metrics on http://%s/metrics", shown);
    return 0;
}

/* The orderly stop: the endpoint closes, started from the command line or by the application. */
static sea_future prometheus_stopping(struct sea__smp *smp) {
    (void)smp;
    return sea_prometheus_stop();
}

const struct sea__module sea__module_prometheus = {
    .name = "prometheus",
    .options = options,
    .noptions = sizeof(options) / sizeof(options[0]),
    .configure = prometheus_configure,
    .running = prometheus_running,
    .stopping = prometheus_stopping,
};
