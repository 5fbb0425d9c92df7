/*
 * prometheus.c - the Prometheus endpoint: a route on an HTTP server of
 * shard 0 (local.c) that answers GET /metrics with every shard's
 * metrics (sea_metrics_render), and the module that starts it from the
 * command line (--prometheus-port, --prometheus-address) and stops it at
 * the orderly stop.
 *
 * The endpoint (its server and route table) lives on shard 0, in a
 * thread-local pointer of that shard.
 */
#include <sea/http.h>
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
#include "http/local.h"
#include "http/prometheus.h"

#define DEFAULT_ADDRESS "127.0.0.1:9180"

struct endpoint {
    struct sea__http_local *server;
    sea_http_routes *routes;
};

static __thread struct endpoint *the_endpoint;

struct render {
    sea_http_response *resp;
    sea_buf body;
};

static sea_future rendered(struct render **rp, sea_future *in) {
    struct render *r = *rp;
    sea_http_response *resp = r->resp;
    sea_buf body = r->body;
    free(r);
    int err = sea_future_error(in);
    if (err) {
        const char *msg = sea_future_message(in);
        return sea_failed_fmt(err, "cannot collect the metrics: %s", msg ? msg : sea_strerror(err));
    }
    sea_http_response_set_type(resp, "text/plain; version=0.0.4; charset=utf-8");
    return sea_http_response_set_body(resp, body) < 0 ? sea_failed(-ENOMEM, "no memory for the metrics")
                                                      : sea_ready();
}

/* GET (or HEAD) /metrics: every shard's metrics. */
static sea_future serve_metrics(sea_http_request *req, sea_http_response *resp, void *data) {
    (void)req;
    (void)data;
    struct render *r = calloc(1, sizeof(*r));
    if (!r)
        return sea_failed(-ENOMEM, "no memory to render the metrics");
    r->resp = resp;
    return sea_then_wrapped(sea_metrics_render(&r->body), rendered, r);
}

static void endpoint_free(struct endpoint *e) {
    sea_http_routes_free(e->routes);
    free(e);
}

static int endpoint_start(const sea_addr *a, const sea_prometheus_options *opts) {
    struct sea__shard *s = sea__shard_current;
    if (!s || !s->smp || s->id != 0)
        return -EINVAL;
    if (the_endpoint)
        return -EALREADY;
    struct endpoint *e = calloc(1, sizeof(*e));
    if (!e || !(e->routes = sea_http_routes_new())) {
        free(e);
        return -ENOMEM;
    }
    int rc = sea_http_route(e->routes, "GET", "/metrics", serve_metrics, NULL);
    if (rc < 0) {
        endpoint_free(e);
        return rc;
    }
    sea_time timeout = opts && opts->timeout > 0 ? opts->timeout : SEA_SEC(10);
    sea_http_server_options so = {
        .max_request_line = 8 * 1024,
        .max_head = 8 * 1024,
        .max_body = 64 * 1024,
        .header_timeout = timeout,
        .idle_timeout = timeout,
        .io_timeout = timeout,
    };
    rc = sea__http_local_start(a, &so, opts ? opts->max_connections : 0, e->routes, &e->server);
    if (rc < 0) {
        endpoint_free(e);
        return rc;
    }
    the_endpoint = e;
    return 0;
}

int sea_prometheus_start(const char *address, const sea_prometheus_options *opts) {
    sea_addr a;
    if (sea_addr_parse(address ? address : DEFAULT_ADDRESS, &a) < 0)
        return -EINVAL;
    return endpoint_start(&a, opts);
}

static sea_future stopped(struct endpoint **ep) {
    endpoint_free(*ep);
    return sea_ready();
}

sea_future sea_prometheus_stop(void) {
    struct endpoint *e = the_endpoint;
    if (!e)
        return sea_ready();
    the_endpoint = NULL;
    return sea_finally(sea__http_local_stop(e->server), stopped, e);
}

int sea_prometheus_address(sea_addr *out) {
    if (!the_endpoint)
        return -ENOENT;
    *out = sea__http_local_addr(the_endpoint->server);
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
