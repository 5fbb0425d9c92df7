/*
 * sea/prometheus.h - the Prometheus endpoint: every shard's metrics
 * (sea/metrics.h) served over HTTP/1.1 from shard 0.
 *
 * Start it from the command line (--prometheus-port PORT, with
 * --prometheus-address ADDR) or from the application (sea_prometheus_start);
 * either way it stops by itself at the application's orderly stop.
 */
#ifndef SEA_PROMETHEUS_H
#define SEA_PROMETHEUS_H

#include <sea/future.h>
#include <sea/net.h>
#include <sea/timer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_prometheus_options {
    /*
     * How long a connection may take to send its request, and then to take
     * the response: past it, the connection is closed.  0: 10 s.
     */
    sea_time timeout;
    /* Connections served at once; one more is closed at once.  0: 64. */
    unsigned max_connections;
} sea_prometheus_options;

/*
 * Serves the metrics over HTTP/1.1 on address (sea_addr_parse syntax, e.g.
 * "127.0.0.1:9180"; port 0 picks a free port; NULL: "127.0.0.1:9180").
 * GET (or HEAD) /metrics answers 200 with every shard's metrics
 * (Content-Type: text/plain; version=0.0.4); other paths 404, other methods
 * 405 (the server of sea/http.h, on shard 0 only): connections are kept
 * for the next scrape; a malformed request gets 400, a head over 8 KiB
 * 431, and its connection is closed.  opts may be NULL.
 * Call it on shard 0 of a running application; the endpoint stops by itself
 * at the application's orderly stop (or earlier with sea_prometheus_stop).
 * Returns 0, -EINVAL (bad address, or not on shard 0), -EALREADY (already
 * serving), -ENOMEM, or the listen's -errno (-EADDRINUSE, ...).
 */
int sea_prometheus_start(const char *address, const sea_prometheus_options *opts);
/*
 * Stops serving: closes the listener and every connection, and resolves
 * once the scrapes in progress have ended.  Resolves at once if the
 * endpoint is not running.  Call it on shard 0.
 */
sea_future sea_prometheus_stop(void) SEA_MUST_USE;
/* The endpoint's bound address (the chosen port, for port 0) in *out: 0, or -ENOENT if it is not running. */
int sea_prometheus_address(sea_addr *out);

#ifdef __cplusplus
}
#endif
#endif
