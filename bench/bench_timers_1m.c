/*
 * bench_timers_1m.c - 1,000,000 timers armed, all pending at once, then all
 * cancelled.  Reports ns per arm+cancel pair, and arm and cancel apart.
 *
 * Deadlines are spread pseudo-randomly over 1..5 s from now, so nothing fires
 * during the measurement (which runs synchronously inside the application's
 * main, with no loop turn).  Two cancellation orders:
 *   timers_1m          cancel in a pseudo-random order (operations complete in
 *                      any order);
 *   timers_1m_inorder  cancel in arming order (FIFO-like completion).
 *
 *   .sea       sea_timer_arm(t, delay) / sea_timer_cancel(t).  sea_timer_arm
 *              reads the monotonic clock on every call.
 *   .sea_at    the same with sea_timer_arm_at(t, base + delay) (no clock
 *              read): shows how much of the arm cost is the clock.
 *   .floor     a plain binary min-heap (array of {deadline, timer}, each
 *              timer knowing its index): insert, and remove from the middle.
 *              Deadlines are computed from one clock read per run (like a
 *              loop's cached time).
 *   .libuv     uv_timer_start(t, cb, delay_ms, 0) / uv_timer_stop(t) on
 *              initialised uv_timer_t handles; libuv's timer heap is a
 *              pointer-linked binary heap, its clock the cached loop time.
 */
#include <sea/sea.h>
#include <stdbool.h>
#include <uv.h>

#include "bench.h"

static uint32_t n;
static int64_t *delays;   /* ns */
static uint32_t *order;   /* cancellation order */
static uint32_t *inorder; /* identity */

static sea_timer *timers;
static struct bench_htimer *ftimers;
static struct bench_heap heap;
static uv_loop_t loop;
static uv_timer_t *utimers;

struct times {
    double arm, cancel; /* ns per timer */
};

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static void sea_noop(sea_timer *t, void *arg) {
    (void)t;
    (void)arg;
}

static void floor_noop(struct bench_htimer *t, void *arg) {
    (void)t;
    (void)arg;
}

static void uv_noop(uv_timer_t *t) {
    (void)t;
}

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "bench_timers_1m: %s\n", what);
        exit(1);
    }
}

/*
 * Arms every timer (relative delays through sea_timer_arm, or precomputed
 * deadlines through sea_timer_arm_at when at_deadline), then cancels them in
 * the order ord.
 */
static struct times run_sea_mode(const uint32_t *ord, bool at_deadline) {
    struct times r;
    int64_t t0 = bench_ns();
    if (at_deadline) {
        sea_time base = sea_now();
        for (uint32_t i = 0; i < n; i++)
            sea_timer_arm_at(&timers[i], base + delays[i]);
    } else {
        for (uint32_t i = 0; i < n; i++)
            sea_timer_arm(&timers[i], delays[i]);
    }
    int64_t t1 = bench_ns();
    unsigned cancelled = 0;
    for (uint32_t i = 0; i < n; i++)
        cancelled += sea_timer_cancel(&timers[ord[i]]);
    int64_t t2 = bench_ns();
    check(cancelled == n, "sea: a timer was not armed at cancel time");
    r.arm = (double)(t1 - t0) / n;
    r.cancel = (double)(t2 - t1) / n;
    return r;
}

static struct times run_floor(const uint32_t *ord) {
    struct times r;
    int64_t t0 = bench_ns();
    int64_t now = t0;
    for (uint32_t i = 0; i < n; i++)
        bench_heap_push(&heap, &ftimers[i], now + delays[i]);
    int64_t t1 = bench_ns();
    for (uint32_t i = 0; i < n; i++)
        bench_heap_remove(&heap, &ftimers[ord[i]]);
    int64_t t2 = bench_ns();
    check(heap.n == 0, "floor: heap not empty");
    r.arm = (double)(t1 - t0) / n;
    r.cancel = (double)(t2 - t1) / n;
    return r;
}

static struct times run_libuv(const uint32_t *ord) {
    struct times r;
    uv_update_time(&loop);
    int64_t t0 = bench_ns();
    for (uint32_t i = 0; i < n; i++)
        uv_timer_start(&utimers[i], uv_noop, (uint64_t)(delays[i] / 1000000), 0);
    int64_t t1 = bench_ns();
    for (uint32_t i = 0; i < n; i++)
        uv_timer_stop(&utimers[ord[i]]);
    int64_t t2 = bench_ns();
    check(!uv_loop_alive(&loop), "libuv: timers still active");
    r.arm = (double)(t1 - t0) / n;
    r.cancel = (double)(t2 - t1) / n;
    return r;
}

struct impl_series {
    struct bench_series pair, arm, cancel;
};

static void add(struct impl_series *s, struct times t) {
    bench_add(&s->pair, t.arm + t.cancel);
    bench_add(&s->arm, t.arm);
    bench_add(&s->cancel, t.cancel);
}

static double report(const char *bench, const char *impl, const struct impl_series *s) {
    char name[96];
    snprintf(name, sizeof(name), "%s.%s", bench, impl);
    double m = bench_report(name, &s->pair, "ns/pair");
    snprintf(name, sizeof(name), "%s.%s_arm", bench, impl);
    bench_report(name, &s->arm, "ns/op");
    snprintf(name, sizeof(name), "%s.%s_cancel", bench, impl);
    bench_report(name, &s->cancel, "ns/op");
    return m;
}

static void one_bench(const char *bench, const uint32_t *ord, int runs) {
    struct impl_series sea = {0}, sea_at = {0}, flo = {0}, uvs = {0};
    for (int r = 0; r <= runs; r++) {
        /* Run 0 is the warm-up (first touch of every page). */
        struct times a = run_sea_mode(ord, false), b = run_floor(ord), c = run_libuv(ord);
        struct times d = run_sea_mode(ord, true);
        if (r == 0)
            continue;
        add(&sea, a);
        add(&flo, b);
        add(&uvs, c);
        add(&sea_at, d);
    }
    char name[96];
    double ms = report(bench, "sea", &sea);
    double mf = report(bench, "floor", &flo);
    double mu = report(bench, "libuv", &uvs);
    snprintf(name, sizeof(name), "%s.ratio_vs_floor", bench);
    bench_ratio(name, ms, mf);
    snprintf(name, sizeof(name), "%s.ratio_vs_libuv", bench);
    bench_ratio(name, ms, mu);
    report(bench, "sea_at", &sea_at);
}

static sea_future app_main(void) {
    int runs = bench_runs();
    n = (uint32_t)bench_iters(1000000, 1000);
    delays = malloc(sizeof(*delays) * n);
    order = malloc(sizeof(*order) * n);
    inorder = malloc(sizeof(*inorder) * n);
    timers = calloc(n, sizeof(*timers));
    ftimers = calloc(n, sizeof(*ftimers));
    utimers = calloc(n, sizeof(*utimers));
    check(delays && order && inorder && timers && ftimers && utimers, "out of memory");
    bench_heap_init(&heap, n);
    uv_loop_init(&loop);
    for (uint32_t i = 0; i < n; i++) {
        /* 1 s .. 5 s, in ns (whole ms apart from the sub-ms part, which libuv drops). */
        delays[i] = SEA_SEC(1) + (int64_t)(mix(i) % (uint64_t)SEA_SEC(4));
        order[i] = inorder[i] = i;
        sea_timer_init(&timers[i], sea_noop, NULL);
        ftimers[i].cb = floor_noop;
        uv_timer_init(&loop, &utimers[i]);
    }
    /* Fisher-Yates with a fixed seed: the same order on every run. */
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(mix(i + 0x9e3779b97f4a7c15ULL) % (i + 1));
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    printf("# bench_timers_1m: backend=%s runs=%d timers=%u, deadlines 1..5 s (median of runs)\n",
           sea_reactor_backend(), runs, n);
    one_bench("timers_1m", order, runs);
    one_bench("timers_1m_inorder", inorder, runs);

    for (uint32_t i = 0; i < n; i++)
        uv_close((uv_handle_t *)&utimers[i], NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    bench_heap_destroy(&heap);
    free(utimers);
    free(ftimers);
    free(timers);
    free(inorder);
    free(order);
    free(delays);
    fflush(stdout);
    return sea_ready();
}

int main(int argc, char **argv) {
    return bench_app_run(argc, argv, app_main);
}
