/*
 * test_metrics.c - metrics (sea/metrics.h) and the Prometheus endpoint, run
 * with -c1 and -c2.
 *
 * The registry: counters, gauges, histograms and metrics read by a
 * function; every rule for names, labels, bounds and duplicates; removal.
 * The rendering, exactly, for a small known set (label sorting, escaping,
 * histogram buckets, number formats), and the structure of a whole
 * rendering (families contiguous, one header each, names in order, every
 * sample with its shard label).  sea's own metrics are there, on every shard.
 * Across shards: a metric registered on every shard shows every shard's
 * value under one header; a name registered with two types keeps the first
 * shard's; rendering from another shard; removing a metric off its shard
 * stops the program.
 *
 * The endpoint, over loopback: curl (a real HTTP client, run as a process)
 * scrapes /metrics and finds sea's metrics and an application counter; other
 * paths get 404, other methods 405, HEAD the headers only; malformed and
 * oversized requests sent over raw sockets get 400; a client that sends
 * nothing is dropped after the timeout without holding up other scrapes; a
 * full endpoint closes extra connections; stopping closes the port.  The
 * command line's --prometheus-port runs the endpoint in a child process,
 * and a port in use fails start-up with a clear message.  (The HTTP request
 * parser under it is fuzzed by tests/unit/http/test_request.c.)
 */
#include "check.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CURL "/usr/bin/curl"

static const char *self_exe;

/* ---- helpers ---- */

/* In a fiber: every shard's metrics as a NUL-terminated malloc'ed string (NULL after a failed CHECK). */
static char *render(void) {
    sea_buf b;
    sea_value v;
    int err = sea_test_await_err(sea_metrics_render(&b), &v);
    CHECK_EQ(err, 0);
    if (err)
        return NULL;
    CHECK_EQ(v.size, b.len);
    char *t = malloc(b.len + 1);
    memcpy(t, b.data, b.len);
    t[b.len] = '\0';
    sea_buf_release(&b);
    return t;
}

/* The lines of text about metrics whose names start with prefix (samples, # HELP and # TYPE), in order. */
static char *lines_about(const char *text, const char *prefix) {
    size_t plen = strlen(prefix), cap = strlen(text) + 1, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) + 1 : strlen(line);
        const char *name = line;
        if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0)
            name = line + 7;
        if (strncmp(name, prefix, plen) == 0) {
            memcpy(out + len, line, n);
            len += n;
            out[len] = '\0';
        }
        line += n;
    }
    return out;
}

/* The value of the sample whose name and labels are exactly series ("name{labels}"), or NAN. */
static double sample_value(const char *text, const char *series) {
    size_t n = strlen(series);
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
        if (strncmp(line, series, n) == 0 && line[n] == ' ')
            return strtod(line + n + 1, NULL);
    return NAN;
}

static int count_of(const char *text, const char *sub) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, sub)); p++)
        n++;
    return n;
}

/*
 * The Prometheus text format, as sea promises it: every line a # HELP, a
 * # TYPE or a # comment, or a sample of the family whose # TYPE came last
 * (a histogram's _bucket, _sum and _count included); each family once,
 * names in byte order; each sample with a shard label and a number.
 * Returns the number of problems (printed).
 */
static int check_exposition(const char *text) {
    int problems = 0;
    char family[256] = "", kind[256] = "";
    if (*text && text[strlen(text) - 1] != '\n') {
        fprintf(stderr, "  the rendering does not end with a newline\n");
        problems++;
    }
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char l[2048];
        snprintf(l, sizeof(l), "%.*s", (int)n, line);
        line += n + (end ? 1 : 0);
        char name[256], rest[256];
        if (strncmp(l, "# TYPE ", 7) == 0) {
            if (sscanf(l + 7, "%255s %255s", name, rest) != 2 ||
                (strcmp(rest, "counter") && strcmp(rest, "gauge") && strcmp(rest, "histogram")) ||
                strcmp(name, family) <= 0) {
                fprintf(stderr, "  bad, repeated or out-of-order TYPE line: %s\n", l);
                problems++;
            }
            snprintf(family, sizeof(family), "%s", name);
            snprintf(kind, sizeof(kind), "%s", rest);
            continue;
        }
        if (strncmp(l, "# HELP ", 7) == 0) {
            if (sscanf(l + 7, "%255s", name) != 1 || strcmp(name, family) <= 0) {
                fprintf(stderr, "  HELP line out of place: %s\n", l);
                problems++;
            }
            continue;
        }
        if (l[0] == '#')
            continue;
        size_t k = strcspn(l, "{ ");
        snprintf(name, sizeof(name), "%.*s", (int)k, l);
        size_t fl = strlen(family);
        bool ours = strcmp(name, family) == 0;
        if (!ours && strcmp(kind, "histogram") == 0 && strncmp(name, family, fl) == 0)
            ours = !strcmp(name + fl, "_bucket") || !strcmp(name + fl, "_sum") || !strcmp(name + fl, "_count");
        const char *value = strrchr(l, ' ');
        char *vend = NULL;
        if (value)
            strtod(value + 1, &vend);
        if (!ours || !strstr(l, "shard=\"") || !value || vend == value + 1 || *vend) {
            fprintf(stderr, "  sample out of its family (%s) or malformed: %s\n", family, l);
            problems++;
        }
    }
    return problems;
}

/* In a fiber: waits for child pid without blocking the reactor (which may be serving it); its wait status. */
static int await_child(pid_t pid) {
    int status = -1;
    sea_time deadline = sea_now() + SEA_SEC(20);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (sea_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        sea_future_detach(sea_await(sea_sleep(SEA_MSEC(2))));
    }
    return status;
}

/* Reads all of the file f into a malloc'ed NUL-terminated string. */
static char *file_text(FILE *f) {
    struct stat st;
    fstat(fileno(f), &st);
    char *t = malloc((size_t)st.st_size + 1);
    ssize_t r = pread(fileno(f), t, (size_t)st.st_size, 0);
    t[r > 0 ? r : 0] = '\0';
    return t;
}

/*
 * In a fiber: runs the program argv[0] (a path) with argv, or else fn(arg)
 * in a forked child, while the reactor goes on (it may be what the child
 * talks to).  Its stdout and stderr in *out and *err (malloc'ed; err may be
 * NULL to leave stderr alone).  Returns its wait status, or -1.
 */
static int spawn(char *const argv[], void (*fn)(void *), void *arg, char **out, char **err) {
    FILE *fo = tmpfile(), *fe = err ? tmpfile() : NULL;
    *out = NULL;
    if (err)
        *err = NULL;
    if (!fo || (err && !fe)) {
        if (fo)
            fclose(fo);
        if (fe)
            fclose(fe);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fileno(fo), 1);
        if (fe)
            dup2(fileno(fe), 2);
        if (argv)
            execv(argv[0], argv);
        else
            fn(arg);
        _exit(127);
    }
    int status = pid < 0 ? -1 : await_child(pid);
    *out = file_text(fo);
    fclose(fo);
    if (fe) {
        *err = file_text(fe);
        fclose(fe);
    }
    return status;
}

/*
 * In a fiber: runs curl with args (NULL-terminated, after "curl -s
 * --max-time 5"); its stdout in *out (malloc'ed).  Returns curl's exit code,
 * or -1.
 */
static int run_curl(char **out, const char *const *args) {
    char *argv[32];
    int n = 0;
    argv[n++] = CURL;
    argv[n++] = "-s";
    argv[n++] = "--max-time";
    argv[n++] = "5";
    for (; *args && n < 31; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    int status = spawn(argv, NULL, NULL, out, NULL);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool have_curl(void) {
    if (access(CURL, X_OK) == 0)
        return true;
    printf("  skipped: no %s\n", CURL);
    return false;
}

/* The endpoint's URL for path. */
static void endpoint_url(char *url, size_t len, const char *path) {
    sea_addr a;
    CHECK_EQ(sea_prometheus_address(&a), 0);
    snprintf(url, len, "http://127.0.0.1:%u%s", sea_addr_port(&a), path);
}

/*
 * In a fiber: sends req (len bytes) to the endpoint over a new connection
 * and reads the answer until the server closes.  The answer (NUL-terminated)
 * in resp; returns its length, or -errno if nothing came.
 */
static long http_exchange(const char *req, size_t len, char *resp, size_t cap) {
    sea_addr a;
    CHECK_EQ(sea_prometheus_address(&a), 0);
    sea_value v;
    int err = sea_test_await_err(sea_connect(&a, SEA_SEC(5)), &v);
    resp[0] = '\0';
    if (err)
        return err;
    sea_socket *s = v.ptr;
    err = len ? sea_test_await_err(sea_socket_write(s, req, len), NULL) : 0;
    sea_socket_shutdown(s, SHUT_WR); /* no more requests: the server answers, then closes */
    size_t got = 0;
    while (!err && got + 1 < cap) {
        err = sea_test_await_err(sea_socket_read(s, resp + got, cap - 1 - got), &v);
        if (err || v.size == 0)
            break;
        got += v.size;
    }
    resp[got] = '\0';
    sea_socket_close(s);
    return err && !got ? err : (long)got;
}

/* ---- the registry ---- */

static sea_future t_registry(void) {
    sea_counter *c, *c2;
    sea_gauge *g;
    sea_histogram *h;
    sea_metric *fm;
    CHECK_EQ(sea_counter_register("reg_requests_total", "Requests", SEA_METRIC_LABELS({"method", "get"}), &c), 0);
    sea_counter_inc(c);
    sea_counter_add(c, 41);
    CHECK_EQ(sea_counter_value(c), 42);
    CHECK_EQ(sea_gauge_register("reg_temperature", NULL, NULL, &g), 0);
    CHECK(sea_gauge_value(g) == 0);
    sea_gauge_set(g, 20.5);
    sea_gauge_add(g, -1);
    CHECK(sea_gauge_value(g) == 19.5);
    static const double bounds[] = {1, 2, 4};
    CHECK_EQ(sea_histogram_register("reg_sizes", "Sizes", NULL, bounds, 3, &h), 0);
    sea_histogram_observe(h, 3);

    /* One series per name and label set, whatever the labels' order; one type per name. */
    CHECK_EQ(sea_counter_register("reg_requests_total", NULL, SEA_METRIC_LABELS({"method", "get"}), &c2), -EEXIST);
    CHECK(c2 == NULL);
    CHECK_EQ(sea_counter_register("reg_requests_total", NULL, SEA_METRIC_LABELS({"method", "put"}), &c2), 0);
    sea_counter *c3;
    CHECK_EQ(sea_counter_register("reg_multi_total", NULL, SEA_METRIC_LABELS({"a", "1"}, {"b", "2"}), &c3), 0);
    CHECK_EQ(sea_counter_register("reg_multi_total", NULL, SEA_METRIC_LABELS({"b", "2"}, {"a", "1"}), &c2), -EEXIST);
    CHECK_EQ(sea_gauge_register("reg_requests_total", NULL, SEA_METRIC_LABELS({"method", "x"}), &g), -EEXIST);
    CHECK(g == NULL);
    /* A histogram's series names are taken, both ways round. */
    CHECK_EQ(sea_counter_register("reg_sizes_count", NULL, NULL, &c2), -EEXIST);
    CHECK_EQ(sea_gauge_register("reg_sizes_bucket", NULL, NULL, &g), -EEXIST);
    CHECK_EQ(sea_histogram_register("reg_requests", NULL, NULL, bounds, 3, &h), 0);
    sea_metric_remove(h);
    CHECK_EQ(sea_counter_register("reg_total_sum", NULL, NULL, &c2), 0);
    CHECK_EQ(sea_histogram_register("reg_total", NULL, NULL, bounds, 3, &h), -EEXIST);
    sea_metric_remove(c2);

    /* Names and labels. */
    static const char *const bad_names[] = {"", "1abc", "a-b", "a b", "a.b", "é", "a\n"};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
        CHECK_EQ(sea_counter_register(bad_names[i], NULL, NULL, &c2), -EINVAL);
    CHECK_EQ(sea_counter_register(NULL, NULL, NULL, &c2), -EINVAL);
    CHECK_EQ(sea_counter_register("reg:colons_ok_total", NULL, NULL, &c2), 0);
    sea_metric_remove(c2);
    CHECK_EQ(sea_counter_register("reg_x", NULL, SEA_METRIC_LABELS({"a:b", "1"}), &c2), -EINVAL);
    CHECK_EQ(sea_counter_register("reg_x", NULL, SEA_METRIC_LABELS({"__reserved", "1"}), &c2), -EINVAL);
    CHECK_EQ(sea_counter_register("reg_x", NULL, SEA_METRIC_LABELS({"shard", "1"}), &c2), -EINVAL);
    CHECK_EQ(sea_counter_register("reg_x", NULL, SEA_METRIC_LABELS({"a", "1"}, {"a", "2"}), &c2), -EINVAL);
    CHECK_EQ(sea_counter_register("reg_x", NULL, SEA_METRIC_LABELS({"a", NULL}), &c2), -EINVAL);
    CHECK_EQ(sea_counter_register("reg_x", NULL, SEA_METRIC_LABELS({"a", "\xff"}), &c2), -EINVAL);
    CHECK_EQ(sea_counter_register("reg_x", NULL, SEA_METRIC_LABELS({"a", "\xed\xa0\x80"}), &c2), -EINVAL);
    CHECK_EQ(sea_counter_register("reg_x", NULL, SEA_METRIC_LABELS({"a", "\xc0\xaf"}), &c2), -EINVAL);
    CHECK_EQ(sea_counter_register("reg_x", "\xe2\x82", NULL, &c2), -EINVAL);
    CHECK_EQ(sea_counter_register("reg_x", "caf\xc3\xa9", SEA_METRIC_LABELS({"a", "\xf0\x9f\x8c\x8a"}), &c2), 0);
    sea_metric_remove(c2);
    CHECK_EQ(sea_counter_register("reg_x", NULL,
                                  SEA_METRIC_LABELS({"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}, {"e", "1"},
                                                    {"f", "1"}, {"g", "1"}, {"h", "1"}),
                                  &c2),
             0);
    sea_metric_remove(c2);
    CHECK_EQ(sea_counter_register("reg_x", NULL,
                                  SEA_METRIC_LABELS({"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}, {"e", "1"},
                                                    {"f", "1"}, {"g", "1"}, {"h", "1"}, {"i", "1"}),
                                  &c2),
             -EINVAL);
    CHECK_EQ(sea_counter_register("reg_x", NULL, NULL, NULL), -EINVAL);

    /* Histogram bounds. */
    static const double unsorted[] = {1, 3, 2}, repeated[] = {1, 1}, inf[] = {1, INFINITY};
    double nan_bound[] = {NAN};
    CHECK_EQ(sea_histogram_register("reg_h", NULL, NULL, unsorted, 3, &h), -EINVAL);
    CHECK_EQ(sea_histogram_register("reg_h", NULL, NULL, repeated, 2, &h), -EINVAL);
    CHECK_EQ(sea_histogram_register("reg_h", NULL, NULL, inf, 2, &h), -EINVAL);
    CHECK_EQ(sea_histogram_register("reg_h", NULL, NULL, nan_bound, 1, &h), -EINVAL);
    CHECK_EQ(sea_histogram_register("reg_h", NULL, NULL, bounds, 0, &h), -EINVAL);
    CHECK_EQ(sea_histogram_register("reg_h", NULL, NULL, NULL, 3, &h), -EINVAL);
    CHECK_EQ(sea_histogram_register("reg_h", NULL, SEA_METRIC_LABELS({"le", "1"}), bounds, 3, &h), -EINVAL);
    double many[SEA_HISTOGRAM_BUCKETS_MAX + 1];
    CHECK_EQ(sea_histogram_bounds_exponential(many, SEA_HISTOGRAM_BUCKETS_MAX + 1, 1, 2), -EINVAL);
    CHECK_EQ(sea_histogram_bounds_exponential(many, 4, 0, 2), -EINVAL);
    CHECK_EQ(sea_histogram_bounds_exponential(many, 4, 1, 1), -EINVAL);
    CHECK_EQ(sea_histogram_bounds_exponential(many, 64, 1e300, 1e10), -EINVAL);
    CHECK_EQ(sea_histogram_bounds_exponential(many, SEA_HISTOGRAM_BUCKETS_MAX, 0.001, 2), 0);
    CHECK(many[0] == 0.001 && many[3] == 0.008);
    CHECK_EQ(sea_histogram_register("reg_h", NULL, NULL, many, SEA_HISTOGRAM_BUCKETS_MAX, &h), 0);
    sea_metric_remove(h);
    for (int i = 0; i < SEA_HISTOGRAM_BUCKETS_MAX + 1; i++)
        many[i] = i;
    CHECK_EQ(sea_histogram_register("reg_h", NULL, NULL, many, SEA_HISTOGRAM_BUCKETS_MAX + 1, &h), -EINVAL);

    /* Metrics read by a function. */
    uint64_t var = 5;
    CHECK_EQ(sea_counter_register_fn("reg_fn_total", NULL, NULL, NULL, &var, &fm), -EINVAL);
    CHECK_EQ(sea_counter_register_fn("reg_fn_total", NULL, NULL, sea_metric_read_u64, &var, &fm), 0);
    CHECK_EQ(sea_gauge_register_fn("reg_fn_total", NULL, NULL, sea_metric_read_u64, &var, NULL), -EEXIST);
    sea_metric_remove(fm);

    /* Removed: a family goes with its last series, and then its name is free again. */
    sea_metric_remove(c);
    sea_metric_remove(c3);
    CHECK_EQ(sea_gauge_register("reg_multi_total", NULL, NULL, &g), 0);
    sea_metric_remove(g);
    CHECK_EQ(sea_counter_register("reg_requests_total", NULL, SEA_METRIC_LABELS({"method", "get"}), &c), 0);
    sea_metric_remove(c);
    /* reg_requests_total{method="put"} is still there. */
    CHECK_EQ(sea_gauge_register("reg_requests_total", NULL, NULL, &g), -EEXIST);
    CHECK_EQ(sea_counter_register("reg_requests_total", NULL, SEA_METRIC_LABELS({"method", "put"}), &c), -EEXIST);
    sea_metric_remove((sea_counter *)NULL);
    /* reg_temperature, reg_sizes and reg_requests_total{method="put"} stay: freed with the shard at exit. */
    return sea_ready();
}

/* Off a shard (a plain thread), registering is refused. */
static void *register_off_shard(void *arg) {
    sea_counter *c;
    *(int *)arg = sea_counter_register("off_shard_total", NULL, NULL, &c);
    return NULL;
}

static sea_future t_registry_off_shard(void) {
    pthread_t t;
    int rc = 0;
    CHECK_EQ(pthread_create(&t, NULL, register_off_shard, &rc), 0);
    pthread_join(t, NULL);
    CHECK_EQ(rc, SEA_ESHUTDOWN);
    return sea_ready();
}

/* ---- rendering ---- */

FIBER_CASE(t_render_exact) {
    sea_counter *get, *post, *put, *esc;
    sea_gauge *queue;
    sea_histogram *lat;
    sea_metric *fn_gauge, *ratio_m;
    CHECK_EQ(sea_counter_register("exact_requests_total", "Requests served", SEA_METRIC_LABELS({"method", "get"}),
                                  &get),
             0);
    CHECK_EQ(sea_counter_register("exact_requests_total", "not this help: the first one stays",
                                  SEA_METRIC_LABELS({"method", "post"}), &post),
             0);
    CHECK_EQ(sea_counter_register("exact_requests_total", NULL, SEA_METRIC_LABELS({"method", "put"}, {"a_first", "x"}),
                                  &put),
             0);
    for (int i = 0; i < 3; i++)
        sea_counter_inc(get);
    sea_counter_add(post, 1000000000000ull);
    CHECK_EQ(sea_gauge_register("exact_queue_length", NULL, NULL, &queue), 0);
    sea_gauge_set(queue, 4);
    sea_gauge_add(queue, -6.5);
    CHECK_EQ(sea_counter_register("exact_escapes_total", "Help with a \\ backslash\nand a newline",
                                  SEA_METRIC_LABELS({"text", "a\"b\\c\nd"}), &esc),
             0);
    sea_counter_add(esc, 7);
    static const double bounds[] = {0.1, 0.5, 1};
    CHECK_EQ(sea_histogram_register("exact_latency_seconds", "Latency", NULL, bounds, 3, &lat), 0);
    sea_histogram_observe(lat, 0.0625);
    sea_histogram_observe(lat, 0.25);
    sea_histogram_observe(lat, 0.5); /* on a bound: in that bucket (le) */
    sea_histogram_observe(lat, 2.5);
    sea_histogram_observe(lat, NAN); /* ignored */
    int64_t fn_value = -42;
    double ratio = 0.1;
    CHECK_EQ(sea_gauge_register_fn("exact_fn_gauge", "Read from a variable", NULL, sea_metric_read_i64, &fn_value,
                                   &fn_gauge),
             0);
    CHECK_EQ(sea_gauge_register_fn("exact_ratio", "A ratio", NULL, sea_metric_read_double, &ratio, &ratio_m), 0);

    char *text = render();
    char *mine = text ? lines_about(text, "exact_") : NULL;
    CHECK_STREQ(mine,
                "# HELP exact_escapes_total Help with a \\\\ backslash\\nand a newline\n"
                "# TYPE exact_escapes_total counter\n"
                "exact_escapes_total{shard=\"0\",text=\"a\\\"b\\\\c\\nd\"} 7\n"
                "# HELP exact_fn_gauge Read from a variable\n"
                "# TYPE exact_fn_gauge gauge\n"
                "exact_fn_gauge{shard=\"0\"} -42\n"
                "# HELP exact_latency_seconds Latency\n"
                "# TYPE exact_latency_seconds histogram\n"
                "exact_latency_seconds_bucket{shard=\"0\",le=\"0.1\"} 1\n"
                "exact_latency_seconds_bucket{shard=\"0\",le=\"0.5\"} 3\n"
                "exact_latency_seconds_bucket{shard=\"0\",le=\"1\"} 3\n"
                "exact_latency_seconds_bucket{shard=\"0\",le=\"+Inf\"} 4\n"
                "exact_latency_seconds_sum{shard=\"0\"} 3.3125\n"
                "exact_latency_seconds_count{shard=\"0\"} 4\n"
                "# TYPE exact_queue_length gauge\n"
                "exact_queue_length{shard=\"0\"} -2.5\n"
                "# HELP exact_ratio A ratio\n"
                "# TYPE exact_ratio gauge\n"
                "exact_ratio{shard=\"0\"} 0.1\n"
                "# HELP exact_requests_total Requests served\n"
                "# TYPE exact_requests_total counter\n"
                "exact_requests_total{method=\"get\",shard=\"0\"} 3\n"
                "exact_requests_total{method=\"post\",shard=\"0\"} 1000000000000\n"
                "exact_requests_total{a_first=\"x\",method=\"put\",shard=\"0\"} 0\n");
    CHECK_EQ(text ? check_exposition(text) : 1, 0);
    free(mine);
    free(text);

    /* A function read at each collection; special values. */
    fn_value = 7;
    ratio = INFINITY;
    sea_gauge_set(queue, NAN);
    text = render();
    CHECK(text && sample_value(text, "exact_fn_gauge{shard=\"0\"}") == 7);
    CHECK_CONTAINS(text, "\nexact_ratio{shard=\"0\"} +Inf\n");
    CHECK_CONTAINS(text, "\nexact_queue_length{shard=\"0\"} NaN\n");
    free(text);

    sea_metric_remove(get);
    sea_metric_remove(post);
    sea_metric_remove(put);
    sea_metric_remove(esc);
    sea_metric_remove(queue);
    sea_metric_remove(lat);
    sea_metric_remove(fn_gauge);
    sea_metric_remove(ratio_m);
    text = render();
    CHECK(text && !strstr(text, "exact_"));
    free(text);
    return sea_ready();
}

static const char *const builtin_names[] = {
    "sea_reactor_tasks_run_total", "sea_reactor_polls_total", "sea_reactor_sleeps_total",
    "sea_reactor_busy_seconds_total", "sea_reactor_task_quota_violations_total",
    "sea_reactor_quota_preemptions_total", "sea_reactor_ignored_failed_futures_total",
    "sea_reactor_inline_deferred_total", "sea_reactor_timers_fired_total", "sea_reactor_io_completions_total",
    "sea_reactor_smp_messages_total", "sea_reactor_pending_futures", "sea_memory_total_bytes",
    "sea_memory_used_bytes", "sea_memory_free_bytes", "sea_memory_cached_bytes",
    "sea_memory_failed_allocations_total", "sea_memory_cross_shard_frees_total",
    "sea_network_bytes_received_total", "sea_network_bytes_sent_total",
    "sea_network_connections_accepted_total", "sea_network_connections_established_total",
    "sea_network_sockets_open",
};

FIBER_CASE(t_builtins) {
    /* Some work to count: a sleep (timers, sleeps), and an ignored failure. */
    sea_future_detach(sea_await(sea_sleep(SEA_MSEC(5))));
    sea_test_stderr_begin();
    sea_future_ignore(sea_failed(-EIO, "ignored on purpose"));
    sea_test_stderr_end();
    char *text = render();
    if (!text)
        return sea_ready();
    CHECK_EQ(check_exposition(text), 0);
    for (size_t i = 0; i < sizeof(builtin_names) / sizeof(builtin_names[0]); i++) {
        char head[256];
        snprintf(head, sizeof(head), "# TYPE %s ", builtin_names[i]);
        CHECK_EQ(count_of(text, head), 1);
        for (unsigned sh = 0; sh < sea_shard_count(); sh++) {
            char series[256];
            snprintf(series, sizeof(series), "%s{shard=\"%u\"}", builtin_names[i], sh);
            double v = sample_value(text, series);
            if (isnan(v) || v < 0) {
                fprintf(stderr, "  %s missing or negative\n", series);
                sea_test_failures++;
            }
        }
    }
    CHECK(sample_value(text, "sea_reactor_tasks_run_total{shard=\"0\"}") > 0);
    CHECK(sample_value(text, "sea_reactor_polls_total{shard=\"0\"}") > 0);
    CHECK(sample_value(text, "sea_reactor_timers_fired_total{shard=\"0\"}") >= 1);
    CHECK(sample_value(text, "sea_reactor_ignored_failed_futures_total{shard=\"0\"}") >= 1);
    CHECK(sample_value(text, "sea_reactor_busy_seconds_total{shard=\"0\"}") > 0);
    CHECK(sample_value(text, "sea_reactor_pending_futures{shard=\"0\"}") >= 1); /* this case's own */
    sea_memory_stats ms;
    sea_memory_stats_get(&ms);
    CHECK(sample_value(text, "sea_memory_total_bytes{shard=\"0\"}") == (double)ms.total);
    CHECK(sample_value(text, "sea_memory_used_bytes{shard=\"0\"}") > 0);
    if (sea_shard_count() > 1)
        CHECK(sample_value(text, "sea_reactor_smp_messages_total{shard=\"1\"}") >= 1); /* the collection's */
    /* The names sea took are refused to the application. */
    sea_counter *c;
    CHECK_EQ(sea_counter_register("sea_reactor_tasks_run_total", NULL, NULL, &c), -EEXIST);
    free(text);
    return sea_ready();
}

/* ---- across shards ---- */

static __thread sea_counter *hits;
static __thread sea_counter *mixed_counter;
static __thread sea_gauge *mixed_gauge;

static sea_future hits_register(void) {
    int rc = sea_counter_register("cross_hits_total", "Hits", NULL, &hits);
    if (rc)
        return sea_failed(rc, "cross_hits_total");
    sea_counter_add(hits, 10 * (sea_shard_id() + 1));
    /* The same name as a counter on shard 0 and a gauge elsewhere. */
    rc = sea_shard_id() == 0 ? sea_counter_register("cross_mixed", NULL, NULL, &mixed_counter)
                             : sea_gauge_register("cross_mixed", NULL, NULL, &mixed_gauge);
    return rc ? sea_failed(rc, "cross_mixed") : sea_ready();
}

static sea_future hits_remove(void) {
    sea_metric_remove(hits);
    sea_metric_remove(mixed_counter);
    sea_metric_remove(mixed_gauge);
    hits = NULL;
    mixed_counter = NULL;
    mixed_gauge = NULL;
    return sea_ready();
}

/* Rendering on another shard: which of the expected samples it saw (a bit each). */
struct remote_render {
    sea_buf buf;
};

static bool buf_has(const sea_buf *b, const char *s) {
    return memmem(b->data, b->len, s, strlen(s)) != NULL;
}

static sea_future remote_rendered(struct remote_render **rp, sea_future *in) {
    struct remote_render *r = *rp;
    int64_t seen = 0;
    if (!sea_future_error(in)) {
        for (unsigned sh = 0; sh < sea_shard_count(); sh++) {
            char line[128];
            snprintf(line, sizeof(line), "\ncross_hits_total{shard=\"%u\"} %u\n", sh, 10 * (sh + 1));
            seen |= (int64_t)buf_has(&r->buf, line) << sh;
        }
    }
    sea_buf_release(&r->buf);
    free(r);
    return sea_ready_int(seen);
}

static sea_future render_here(void) {
    struct remote_render *r = malloc(sizeof(*r));
    return sea_then_wrapped(sea_metrics_render(&r->buf), remote_rendered, r);
}

FIBER_CASE(t_cross_shard) {
    unsigned n = sea_shard_count();
    CHECK_EQ(sea_test_await_err(sea_invoke_on_all(hits_register), NULL), 0);
    char *text = render();
    if (text) {
        CHECK_EQ(check_exposition(text), 0);
        CHECK_EQ(count_of(text, "# TYPE cross_hits_total counter\n"), 1);
        for (unsigned sh = 0; sh < n; sh++) {
            char series[64];
            snprintf(series, sizeof(series), "cross_hits_total{shard=\"%u\"}", sh);
            CHECK(sample_value(text, series) == 10.0 * (sh + 1));
        }
        /* The first shard's type wins; the others' samples are left out, and it says so. */
        CHECK_EQ(count_of(text, "# TYPE cross_mixed "), 1);
        CHECK_CONTAINS(text, "# TYPE cross_mixed counter\ncross_mixed{shard=\"0\"} 0\n");
        CHECK_EQ(count_of(text, "cross_mixed{shard=\"1\"}"), 0);
        if (n > 1)
            CHECK_CONTAINS(text, "# sea: shard 1 registers cross_mixed as a gauge, not a counter: its samples are "
                                 "left out\n");
    }
    free(text);
    /* Collected from the last shard: the same values. */
    AWAIT_INT(sea_submit_to(n - 1, render_here), (int64_t)((1u << n) - 1));
    CHECK_EQ(sea_test_await_err(sea_invoke_on_all(hits_remove), NULL), 0);
    text = render();
    CHECK(text && !strstr(text, "cross_hits") && !strstr(text, "cross_mixed"));
    free(text);
    return sea_ready();
}

/* A handle of shard 1, removed on shard 0: the program stops with a message. */
static __thread sea_counter *foreign_counter;

static sea_future foreign_register(void) {
    return sea_ready_ptr(sea_counter_register("foreign_total", NULL, NULL, &foreign_counter) ? NULL
                                                                                               : foreign_counter);
}

static sea_future foreign_remove(void) {
    sea_metric_remove(foreign_counter);
    return sea_ready();
}

static void remove_off_shard(void *arg) {
    sea_metric_remove((sea_counter *)arg);
}

FIBER_CASE(t_remove_off_shard) {
    if (sea_shard_count() < 2) {
        printf("  skipped: needs two shards\n");
        return sea_ready();
    }
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_submit_to(1, foreign_register), &v), 0);
    CHECK(v.ptr != NULL);
    char *out, *err;
    int status = spawn(NULL, remove_off_shard, v.ptr, &out, &err);
    CHECK(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CHECK_CONTAINS(err, "sea: metric foreign_total removed off its shard (shard 1 registered it)");
    free(out);
    free(err);
    CHECK_EQ(sea_test_await_err(sea_submit_to(1, foreign_remove), NULL), 0);
    return sea_ready();
}

/* ---- the endpoint ---- */

FIBER_CASE(t_endpoint_curl) {
    if (!have_curl())
        return sea_ready();
    sea_addr a;
    CHECK_EQ(sea_prometheus_address(&a), -ENOENT);
    CHECK_EQ(sea_prometheus_start("127.0.0.1:0", NULL), 0);
    CHECK_EQ(sea_prometheus_start("127.0.0.1:0", NULL), -EALREADY);
    CHECK_EQ(sea_prometheus_address(&a), 0);
    CHECK(sea_addr_port(&a) != 0);
    sea_counter *app;
    CHECK_EQ(sea_counter_register("app_scrapes_seen_total", "An application counter", NULL, &app), 0);
    sea_counter_add(app, 5);
    char url[128], other[128];
    endpoint_url(url, sizeof(url), "/metrics");
    endpoint_url(other, sizeof(other), "/other");

    char *out;
    CHECK_EQ(run_curl(&out, (const char *const[]){"-i", url, NULL}), 0);
    CHECK(out && strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK_CONTAINS(out, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
    CHECK(out && !strstr(out, "\r\nConnection: close\r\n")); /* kept for the next scrape */
    CHECK_CONTAINS(out, "\nsea_reactor_tasks_run_total{shard=\"0\"} ");
    CHECK_CONTAINS(out, "\n# HELP app_scrapes_seen_total An application counter\n");
    CHECK_CONTAINS(out, "\napp_scrapes_seen_total{shard=\"0\"} 5\n");
    if (sea_shard_count() > 1)
        CHECK_CONTAINS(out, "\nsea_reactor_tasks_run_total{shard=\"1\"} ");
    const char *body = out ? strstr(out, "\r\n\r\n") : NULL;
    CHECK(body != NULL);
    if (body) {
        CHECK_EQ(check_exposition(body + 4), 0);
        CHECK(sample_value(body + 4, "sea_network_connections_accepted_total{shard=\"0\"}") >= 1);
    }
    free(out);

    /* Another path, another method, HEAD; the status codes as curl saw them. */
    CHECK_EQ(run_curl(&out, (const char *const[]){"-o", "/dev/null", "-w", "%{http_code}", other, NULL}), 0);
    CHECK_STREQ(out, "404");
    free(out);
    CHECK_EQ(run_curl(&out, (const char *const[]){"-i", "-X", "POST", "--data", "x=1", url, NULL}), 0);
    CHECK(out && strncmp(out, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0);
    CHECK_CONTAINS(out, "\r\nAllow: GET, HEAD\r\n");
    free(out);
    CHECK_EQ(run_curl(&out, (const char *const[]){"-I", url, NULL}), 0);
    CHECK(out && strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK_CONTAINS(out, "\r\nContent-Length: ");
    CHECK(out && !strstr(out, "sea_reactor"));
    free(out);

    /* Stopped: the port is closed (curl's exit code 7: could not connect). */
    CHECK_EQ(sea_test_await_err(sea_prometheus_stop(), NULL), 0);
    CHECK_EQ(sea_prometheus_address(&a), -ENOENT);
    CHECK_EQ(run_curl(&out, (const char *const[]){url, NULL}), 7);
    free(out);
    CHECK_EQ(sea_test_await_err(sea_prometheus_stop(), NULL), 0); /* stopping twice is harmless */
    sea_metric_remove(app);
    return sea_ready();
}

FIBER_CASE(t_endpoint_bad_requests) {
    CHECK_EQ(sea_prometheus_start("127.0.0.1:0", &(sea_prometheus_options){.timeout = SEA_SEC(2)}), 0);
    static char resp[1 << 16];
    static const struct {
        const char *req;
        size_t len; /* 0: strlen */
        const char *answer;
    } cases[] = {
        {"GARBAGE\r\n\r\n", 0, "HTTP/1.1 400 Bad Request\r\n"},
        {"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 0, "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
        {"GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 0, "HTTP/1.1 400 Bad Request\r\n"},
        {"GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n", 0, "HTTP/1.1 400 Bad Request\r\n"},
        {"GET /metrics HTTP/1.1\r\nHost: x\r\nX: a\001b\r\n\r\n", 0, "HTTP/1.1 400 Bad Request\r\n"},
        {"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 0, "HTTP/1.1 400 Bad Request\r\n"},
        {"GET /metrics HTTP/1.1\r\n\r\n", 0, "HTTP/1.1 400 Bad Request\r\n"}, /* no Host */
        {"GET /metrics?name=x HTTP/1.0\n\n", 0, "HTTP/1.1 400 Bad Request\r\n"},   /* bare LF */
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15, "HTTP/1.1 400 Bad Request\r\n"}, /* TLS */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].req);
        long n = http_exchange(cases[i].req, len, resp, sizeof(resp));
        if (n < 0 || strncmp(resp, cases[i].answer, strlen(cases[i].answer)) != 0) {
            fprintf(stderr, "  request %zu: got %ld bytes: %.80s\n", i, n, resp);
            sea_test_failures++;
        }
        CHECK_CONTAINS(resp, "\r\nConnection: close\r\n"); /* a malformed request ends its connection */
    }
    /* Answers that keep the connection. */
    static const struct {
        const char *req, *answer;
    } kept[] = {
        {"GET /metrics?name=x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "HTTP/1.1 200 OK\r\n"},
        {"GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found\r\n"},
        {"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n"},
    };
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        long n = http_exchange(kept[i].req, strlen(kept[i].req), resp, sizeof(resp));
        if (n < 0 || strncmp(resp, kept[i].answer, strlen(kept[i].answer)) != 0) {
            fprintf(stderr, "  request %zu: got %ld bytes: %.80s\n", i, n, resp);
            sea_test_failures++;
        }
        CHECK(!strstr(resp, "\r\nConnection: close\r\n"));
    }
    /* A 400 says why. */
    http_exchange("GET /metrics HTTP/1.1\r\nBad Header: x\r\n\r\n", 40, resp, sizeof(resp));
    CHECK_CONTAINS(resp, "\r\n\r\n400 Bad Request: whitespace between a header field name and its colon\n");
    /* A head over 8 KiB, sent in full: 431, and the connection ends cleanly. */
    static char big[9000];
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /metrics HTTP/1.1\r\nX-Long: ", 31);
    long n = http_exchange(big, sizeof(big), resp, sizeof(resp));
    CHECK(n > 0);
    static const char too_large[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n";
    if (strncmp(resp, too_large, sizeof(too_large) - 1) != 0) {
        fprintf(stderr, "  a head over 8 KiB: got %ld bytes: %.200s\n", n, resp);
        sea_test_failures++;
    }
    CHECK_CONTAINS(resp, "the request's head is too large");
    /* A request in many small pieces is still one request. */
    sea_addr a;
    CHECK_EQ(sea_prometheus_address(&a), 0);
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_connect(&a, SEA_SEC(5)), &v), 0);
    sea_socket *s = v.ptr;
    const char *req = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    for (size_t i = 0; req[i]; i++) {
        CHECK_EQ(sea_test_await_err(sea_socket_write(s, req + i, 1), NULL), 0);
        sea_future_detach(sea_await(sea_sleep(SEA_USEC(200))));
    }
    size_t got = 0;
    while (got + 1 < sizeof(resp)) {
        if (sea_test_await_err(sea_socket_read(s, resp + got, sizeof(resp) - 1 - got), &v) || !v.size)
            break;
        got += v.size;
    }
    resp[got] = '\0';
    CHECK(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    sea_socket_close(s);
    CHECK_EQ(sea_test_await_err(sea_prometheus_stop(), NULL), 0);
    /* Bad addresses, the wrong shard. */
    CHECK_EQ(sea_prometheus_start("localhost:80", NULL), -EINVAL);
    CHECK_EQ(sea_prometheus_start("127.0.0.1", NULL), -EINVAL);
    return sea_ready();
}

static sea_future start_here(void) {
    return sea_ready_int(sea_prometheus_start("127.0.0.1:0", NULL));
}

FIBER_CASE(t_endpoint_start_errors) {
    if (sea_shard_count() > 1)
        AWAIT_INT(sea_submit_to(1, start_here), -EINVAL);
    /* A port someone else listens on. */
    sea_addr a;
    sea_addr_parse("127.0.0.1:0", &a);
    sea_listener *l;
    CHECK_EQ(sea_listen(&a, NULL, &l), 0);
    sea_addr taken = sea_listener_addr(l);
    char text[64];
    sea_addr_format(&taken, text, sizeof(text));
    CHECK_EQ(sea_prometheus_start(text, NULL), -EADDRINUSE);
    CHECK_EQ(sea_prometheus_address(&a), -ENOENT);
    /* The same through the command line, in a child (of one shard, as in t_command_line): start-up fails,
     * saying why. */
    char port[16], backend[64];
    snprintf(port, sizeof(port), "%u", sea_addr_port(&taken));
    snprintf(backend, sizeof(backend), "--reactor-backend=%s", sea_test_backend_arg ? sea_test_backend_arg : "epoll");
    char *argv[] = {(char *)self_exe, "--child", backend, "-c1", "--prometheus-port", port, NULL};
    char *out, *err;
    int status = spawn(argv, NULL, NULL, &out, &err);
    CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1);
    char want[160];
    snprintf(want, sizeof(want),
             "Couldn't start application: cannot serve Prometheus metrics on 127.0.0.1:%s: Address already in use\n",
             port);
    CHECK_STREQ(err, want);
    free(out);
    free(err);
    sea_listener_close(l);
    return sea_ready();
}

FIBER_CASE(t_endpoint_silent_client) {
    if (!have_curl())
        return sea_ready();
    const sea_time timeout = SEA_MSEC(300);
    CHECK_EQ(sea_prometheus_start("127.0.0.1:0", &(sea_prometheus_options){.timeout = timeout}), 0);
    sea_addr a;
    CHECK_EQ(sea_prometheus_address(&a), 0);
    /* Connects and says nothing. */
    sea_time t0 = sea_now();
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_connect(&a, SEA_SEC(5)), &v), 0);
    sea_socket *silent = v.ptr;
    /* Meanwhile a scrape goes through. */
    char url[128], *out;
    endpoint_url(url, sizeof(url), "/metrics");
    CHECK_EQ(run_curl(&out, (const char *const[]){"-o", "/dev/null", "-w", "%{http_code}", url, NULL}), 0);
    CHECK_STREQ(out, "200");
    free(out);
    /* The silent one is dropped after the timeout. */
    char c;
    int err = sea_test_await_err(sea_socket_read(silent, &c, 1), &v);
    sea_time waited = sea_now() - t0;
    CHECK(err == -ECONNRESET || (err == 0 && v.size == 0));
    CHECK(waited >= timeout - SEA_MSEC(20));
    CHECK(waited < SEA_SEC(5));
    sea_socket_close(silent);
    CHECK_EQ(sea_test_await_err(sea_prometheus_stop(), NULL), 0);

    /* A full endpoint closes the connections it has no room for, at once. */
    CHECK_EQ(sea_prometheus_start("127.0.0.1:0", &(sea_prometheus_options){.timeout = SEA_SEC(2),
                                                                            .max_connections = 1}),
             0);
    CHECK_EQ(sea_prometheus_address(&a), 0);
    CHECK_EQ(sea_test_await_err(sea_connect(&a, SEA_SEC(5)), &v), 0);
    silent = v.ptr;
    sea_future_detach(sea_await(sea_sleep(SEA_MSEC(50)))); /* accepted, and holding the only slot */
    CHECK_EQ(sea_test_await_err(sea_connect(&a, SEA_SEC(5)), &v), 0);
    sea_socket *extra = v.ptr;
    t0 = sea_now();
    err = sea_test_await_err(sea_socket_read(extra, &c, 1), &v);
    CHECK(err == -ECONNRESET || (err == 0 && v.size == 0));
    CHECK(sea_now() - t0 < SEA_SEC(1));
    sea_socket_close(extra);
    /* Stopping ends the held connection too, at once. */
    t0 = sea_now();
    sea_future reading = sea_socket_read(silent, &c, 1);
    CHECK_EQ(sea_test_await_err(sea_prometheus_stop(), NULL), 0);
    err = sea_test_await_err(reading, &v);
    CHECK(err == -ECONNRESET || (err == 0 && v.size == 0));
    CHECK(sea_now() - t0 < SEA_SEC(1));
    sea_socket_close(silent);
    return sea_ready();
}

/* In the child that t_command_line runs: the endpoint of --prometheus-port runs and answers. */
FIBER_CASE(t_child_endpoint) {
    sea_addr a;
    CHECK_EQ(sea_prometheus_address(&a), 0);
    char text[64];
    sea_addr_format(&a, text, sizeof(text));
    CHECK(strncmp(text, "127.0.0.1:", 10) == 0 && sea_addr_port(&a) != 0);
    static char resp[1 << 16];
    http_exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 34, resp, sizeof(resp));
    CHECK(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK_CONTAINS(resp, "\nsea_reactor_tasks_run_total{shard=\"0\"} ");
    /* Left running: the orderly stop closes it. */
    return sea_ready();
}

FIBER_CASE(t_command_line) {
    char backend[64];
    snprintf(backend, sizeof(backend), "--reactor-backend=%s", sea_test_backend_arg ? sea_test_backend_arg : "epoll");
    /* One shard: this thread, and so the child, may use only the CPU shard 0 is pinned to. */
    char *argv[] = {(char *)self_exe, "--child", backend, "-c1", "--prometheus-port", "0", NULL};
    char *out, *err;
    int status = spawn(argv, NULL, NULL, &out, &err);
    CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_CONTAINS(out, "ok   t_child_endpoint\n");
    /* One log line saying where it serves, and nothing else (under ASan: nothing leaked either). */
    CHECK(strstr(err, "INFO  sea - serving Prometheus metrics on http://127.0.0.1:") != NULL);
    const char *nl = strchr(err, '\n');
    CHECK(nl && nl[1] == '\0');
    free(out);
    free(err);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_registry),
    SEA_TEST(t_registry_off_shard),
    SEA_TEST(t_render_exact),
    SEA_TEST(t_builtins),
    SEA_TEST(t_cross_shard),
    SEA_TEST(t_remove_off_shard),
    SEA_TEST(t_endpoint_curl),
    SEA_TEST(t_endpoint_bad_requests),
    SEA_TEST(t_endpoint_start_errors),
    SEA_TEST(t_endpoint_silent_client),
    SEA_TEST(t_command_line),
};

/* What the child started with --child runs. */
static const struct sea_test_case child_cases[] = {
    SEA_TEST(t_child_endpoint),
};

int main(int argc, char **argv) {
    static char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    self_exe = exe;
    if (argc > 1 && strcmp(argv[1], "--child") == 0) {
        argv[1] = argv[0];
        return sea_test_main(argc - 1, argv + 1, child_cases, SEA_TEST_COUNT(child_cases));
    }
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
