/*
 * sea/metrics.h - metrics: per-shard counters, gauges and histograms, and a
 * Prometheus endpoint that serves every shard's values.
 *
 * Each shard keeps its own registry.  A metric is registered on the shard
 * that updates it, and updating it is a plain memory write (no lock, no
 * atomic), like everything else on a shard:
 *
 *     static sea_counter *requests;
 *     ...
 *     int rc = sea_counter_register("http_requests_total", "HTTP requests served",
 *                                   SEA_METRIC_LABELS({"method", "get"}), &requests);
 *     ...
 *     sea_counter_inc(requests);
 *
 * A metric may also be read by a function when it is collected (a queue's
 * length, a field of a struct): sea_counter_register_fn, sea_gauge_register_fn.
 *
 * sea_metrics_render() collects every shard's metrics (each shard snapshots
 * its own registry when asked by message) and renders them in the Prometheus
 * text format (version 0.0.4).  Every series carries a shard="N" label; the
 * series of one name from all shards are grouped under one # HELP / # TYPE
 * header, names in byte order.
 *
 * Every shard registers sea's own metrics at start-up: the reactor's
 * (sea_reactor_*), memory's (sea_memory_*) and the network's (sea_network_*).
 * docs/metrics.md lists them.
 *
 * The Prometheus endpoint (sea/prometheus.h, or --prometheus-port on the
 * command line) serves GET /metrics over HTTP/1.1 from shard 0.
 *
 * Rules:
 *  - Names follow Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]*; label names
 *    [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", not "shard" (sea adds
 *    it), and not "le" on a histogram.  Anything else is -EINVAL.
 *  - A name and a label set (in any order) identify one series per shard:
 *    registering it again is -EEXIST, as is reusing a name with another
 *    type, or a name that clashes with a histogram's _bucket, _sum and
 *    _count series.  The first registration of a name sets its help text.
 *  - Handles belong to their shard: update, read and remove a metric only on
 *    the shard that registered it.  Metrics still registered when the shard
 *    stops are freed with it (their handles are then invalid).
 *  - Registering off a shard (no reactor on the thread) is SEA_ESHUTDOWN.
 */
#ifndef SEA_METRICS_H
#define SEA_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <sea/buffer.h>
#include <sea/future.h>
#include <sea/timer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A label: a name and its value (any UTF-8 text; sea escapes it in the output). */
typedef struct sea_metric_label {
    const char *name;
    const char *value;
} sea_metric_label;

/* Labels per series, at most (not counting the shard label sea adds). */
#define SEA_METRIC_LABELS_MAX 8
/* Bucket bounds per histogram, at most (the +Inf bucket is always added). */
#define SEA_HISTOGRAM_BUCKETS_MAX 64

/*
 * A label list for the register functions, ended for you:
 *     SEA_METRIC_LABELS({"method", "get"}, {"code", "200"})
 * (Lists built by hand end with an entry whose name is NULL; no labels: NULL.)
 */
#define SEA_METRIC_LABELS(...) ((const sea_metric_label[]){__VA_ARGS__, {NULL, NULL}})

/* Handles.  A counter only goes up; a gauge is any value; a histogram counts observations in buckets. */
typedef struct sea_counter sea_counter;
typedef struct sea_gauge sea_gauge;
typedef struct sea_histogram sea_histogram;
/* A metric read by a function (sea_counter_register_fn, sea_gauge_register_fn). */
typedef struct sea_metric sea_metric;

/* Reads a metric's current value when it is collected, on the metric's shard. */
typedef double (*sea_metric_read_fn)(void *arg);

/*
 * Registers a counter (starting at 0) on the current shard.  help may be
 * NULL; labels may be NULL (see SEA_METRIC_LABELS).  Returns 0 with *out
 * set, -EINVAL, -EEXIST, -ENOMEM or SEA_ESHUTDOWN (see the rules above).
 */
int sea_counter_register(const char *name, const char *help, const sea_metric_label *labels, sea_counter **out);
/* Registers a gauge (starting at 0), as sea_counter_register. */
int sea_gauge_register(const char *name, const char *help, const sea_metric_label *labels, sea_gauge **out);
/*
 * Registers a histogram whose buckets have the upper bounds bounds[0..nbounds-1]
 * (finite, strictly increasing, 1..SEA_HISTOGRAM_BUCKETS_MAX of them; they are
 * copied), plus the +Inf bucket.  Otherwise as sea_counter_register.
 */
int sea_histogram_register(const char *name, const char *help, const sea_metric_label *labels, const double *bounds,
                           size_t nbounds, sea_histogram **out);
/*
 * Registers a counter (or a gauge) whose value read(arg) returns when it is
 * collected.  read runs on this shard, must not block, and must not register
 * or remove metrics.  sea_metric_read_u64 and friends read a variable:
 *     sea_counter_register_fn("cache_hits_total", "Hits", NULL, sea_metric_read_u64, &cache->hits, &m);
 * Returns 0 with *out set (for sea_metric_remove; NULL allowed), or as
 * sea_counter_register.
 */
int sea_counter_register_fn(const char *name, const char *help, const sea_metric_label *labels,
                            sea_metric_read_fn read, void *arg, sea_metric **out);
int sea_gauge_register_fn(const char *name, const char *help, const sea_metric_label *labels,
                          sea_metric_read_fn read, void *arg, sea_metric **out);

/* Readers for sea_*_register_fn: the uint64_t, int64_t, double or size_t at arg. */
double sea_metric_read_u64(void *arg);
double sea_metric_read_i64(void *arg);
double sea_metric_read_double(void *arg);
double sea_metric_read_size(void *arg);

/*
 * sea_metric_remove(m): unregisters m (a sea_counter *, sea_gauge *,
 * sea_histogram * or sea_metric *) and frees it; NULL is ignored.  Call it on
 * m's shard (elsewhere sea stops the program with a message).
 */
#ifndef __cplusplus
#define sea_metric_remove(m) \
    sea__metric_remove(_Generic((m), sea_counter *: (void *)(m), sea_gauge *: (void *)(m), \
                                sea_histogram *: (void *)(m), sea_metric *: (void *)(m)))
#else
#define sea_metric_remove(m) sea__metric_remove((void *)(m)) /* C++ has no _Generic */
#endif

/*
 * Adds one observation of v to h: the buckets whose bound is >= v, the sum
 * and the count.  NaN is ignored.
 */
void sea_histogram_observe(sea_histogram *h, double v);

/*
 * Fills bounds[0..n-1] with start, start*factor, start*factor^2, ...
 * (start > 0, factor > 1, 1 <= n <= SEA_HISTOGRAM_BUCKETS_MAX): the usual
 * shape for latencies.  Returns 0 or -EINVAL.
 */
int sea_histogram_bounds_exponential(double *bounds, size_t n, double start, double factor);

/* ---- updating counters and gauges: inline, one memory write ---- */

/* The private part of a metric the inline functions reach (every handle points to it). */
struct sea__metric_head {
    uint64_t sea__count; /* counters */
    double sea__value;   /* gauges */
};
#define SEA__METRIC_HEAD(m) ((struct sea__metric_head *)(void *)(m))

/* Adds one to c. */
SEA__INLINE void sea_counter_inc(sea_counter *c) { SEA__METRIC_HEAD(c)->sea__count++; }
/* Adds n to c. */
SEA__INLINE void sea_counter_add(sea_counter *c, uint64_t n) { SEA__METRIC_HEAD(c)->sea__count += n; }
/* c's value. */
SEA__INLINE uint64_t sea_counter_value(const sea_counter *c) {
    return ((const struct sea__metric_head *)(const void *)c)->sea__count;
}
/* Sets g to v. */
SEA__INLINE void sea_gauge_set(sea_gauge *g, double v) { SEA__METRIC_HEAD(g)->sea__value = v; }
/* Adds d (which may be negative) to g. */
SEA__INLINE void sea_gauge_add(sea_gauge *g, double d) { SEA__METRIC_HEAD(g)->sea__value += d; }
/* g's value. */
SEA__INLINE double sea_gauge_value(const sea_gauge *g) {
    return ((const struct sea__metric_head *)(const void *)g)->sea__value;
}

/* ---- collecting ---- */

/*
 * Collects the metrics of every shard and renders them in the Prometheus
 * text format into *out (which must stay valid until the future resolves):
 * resolves with v.size = out->len; *out is then the caller's, to release
 * with sea_buf_release.  Call it on any shard.  Fails with -ENOMEM, or
 * SEA_ESHUTDOWN once the application is stopping (*out is then empty).
 */
sea_future sea_metrics_render(sea_buf *out) SEA_MUST_USE;

/* ---- private ---- */
void sea__metric_remove(void *m);

#ifdef __cplusplus
}
#endif
#endif
