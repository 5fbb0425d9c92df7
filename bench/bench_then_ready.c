/*
 * bench_then_ready.c - sea_then on a ready future (no reactor involved).
 *
 *   then_ready.sea    f = sea_then(sea_ready_int(i), cont, capture) where cont
 *                     is a noipa function in this file: the call really
 *                     happens, as it would for a continuation in another
 *                     translation unit, and sea's inline fast path (state
 *                     check, inline-depth guard, depth ++/--) is what is
 *                     measured around it.
 *   then_ready.floor  the same continuation body called through a function
 *                     pointer the compiler cannot see through.
 *   then_ready.libuv  libuv has no futures: the honest analog of "run this
 *                     continuation now" is a direct invocation of a libuv
 *                     callback (a uv_idle_cb on a uv_idle_t whose data holds
 *                     the capture).  It is the floor under another name.
 *
 * Extra lines:
 *   then_ready.floor_direct  the floor's call made directly rather than
 *                     through a pointer (sea's fast path makes a direct call).
 *                     Differences of a few tenths of a ns between these
 *                     loops are branch-predictor and loop-alignment effects.
 *   then_ready.sea_inlined  the continuation is an ordinary static function
 *                     the compiler may inline: what a user gets when the
 *                     continuation is visible at the call site.
 *   need_preempt.sea  sea_need_preempt() (reads the cycle counter).
 *   need_preempt.floor  reading a flag that some other agent sets (how Seastar
 *                     does it); libuv has no task quota, so no libuv line.
 *   sea_now.sea       sea_now() (clock_gettime(CLOCK_MONOTONIC)): sea_timer_arm
 *                     and every reactor turn pay it.
 */
#include <sea/sea.h>
#include <uv.h>

#include "bench.h"

struct rcap {
    int64_t k;
};

/* The continuation: opaque to the optimiser, so the call is real. */
static BENCH_NOIPA sea_future cont_noipa(struct rcap *c, sea_value v) {
    return sea_ready_int(v.i + c->k);
}

/* The same continuation, visible to the optimiser. */
static sea_future cont_inline(struct rcap *c, sea_value v) {
    return sea_ready_int(v.i + c->k);
}

/* Consumes a ready future: forces its state and value to be computed. */
static inline void sink_future(sea_future f) {
    /* Benchmark-only peek at the private fields: a ready future is a plain value. */
    __asm__ __volatile__("" : : "r"(f.sea__state), "r"(f.sea__v.i));
}

static double run_sea(long n) {
    struct rcap cap = {1};
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++) {
        sea_future f = sea_then(sea_ready_int(i), cont_noipa, cap);
        sink_future(f);
    }
    return (double)(bench_ns() - t0) / (double)n;
}

static double run_sea_inlined(long n) {
    struct rcap cap = {1};
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++) {
        sea_future f = sea_then(sea_ready_int(i), cont_inline, cap);
        sink_future(f);
    }
    return (double)(bench_ns() - t0) / (double)n;
}

/* ---- floor: a call through a function pointer ---- */

typedef int64_t (*floor_fn)(struct rcap *c, int64_t v);

static BENCH_NOIPA int64_t floor_cont(struct rcap *c, int64_t v) {
    return v + c->k;
}

static double run_floor(long n) {
    struct rcap cap = {1};
    floor_fn fp = floor_cont;
    BENCH_OPAQUE(fp);
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++)
        bench_sink(fp(&cap, i));
    return (double)(bench_ns() - t0) / (double)n;
}

/* The same call made directly (sea's fast path calls a continuation directly, too). */
static double run_floor_direct(long n) {
    struct rcap cap = {1};
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++)
        bench_sink(floor_cont(&cap, i));
    return (double)(bench_ns() - t0) / (double)n;
}

/* ---- libuv: a direct invocation of a uv callback ---- */

struct uvcap {
    int64_t k;
    int64_t in, out;
};

static BENCH_NOIPA void uv_cont(uv_idle_t *h) {
    struct uvcap *c = h->data;
    c->out = c->in + c->k;
}

static double run_libuv(long n) {
    struct uvcap cap = {1, 0, 0};
    uv_idle_t h;
    memset(&h, 0, sizeof(h));
    h.data = &cap;
    uv_idle_cb cb = uv_cont;
    BENCH_OPAQUE(cb);
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++) {
        cap.in = i;
        cb(&h);
        bench_sink(cap.out);
    }
    return (double)(bench_ns() - t0) / (double)n;
}

/* ---- need_preempt and sea_now ---- */

static double run_need_preempt(long n) {
    int64_t hits = 0;
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++) {
        hits += sea_need_preempt();
        bench_sink(hits);
    }
    return (double)(bench_ns() - t0) / (double)n;
}

/* Seastar's need_preempt(): a load of a word that a timer (or the kernel) writes. */
static volatile uint32_t preempt_flag;

static double run_need_preempt_floor(long n) {
    int64_t hits = 0;
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++) {
        hits += preempt_flag != 0;
        bench_sink(hits);
    }
    return (double)(bench_ns() - t0) / (double)n;
}

static double run_sea_now(long n) {
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++)
        bench_sink(sea_now());
    return (double)(bench_ns() - t0) / (double)n;
}

static sea_future app_main(void) {
    int runs = bench_runs();
    long n = bench_iters(20000000, 1000);
    long n_slow = bench_iters(2000000, 1000);
    struct bench_series sea = {0}, sea_inl = {0}, flo = {0}, flo_direct = {0}, uvs = {0};
    struct bench_series np = {0}, np_floor = {0}, now = {0};

    printf("# bench_then_ready: backend=%s runs=%d iterations=%ld (median of runs)\n",
           sea_reactor_backend(), runs, n);
    for (int r = 0; r <= runs; r++) {
        /* Run 0 is the warm-up. */
        double a = run_sea(n), b = run_floor(n), c = run_libuv(n), d = run_sea_inlined(n);
        double e = run_need_preempt(n_slow), f = run_need_preempt_floor(n), g = run_sea_now(n_slow);
        double h = run_floor_direct(n);
        if (r == 0)
            continue;
        bench_add(&sea, a);
        bench_add(&flo, b);
        bench_add(&uvs, c);
        bench_add(&sea_inl, d);
        bench_add(&np, e);
        bench_add(&np_floor, f);
        bench_add(&now, g);
        bench_add(&flo_direct, h);
    }
    printf("# then_ready.libuv: libuv has no futures; analog = direct call of a uv_idle_cb "
           "(same work as the floor)\n");
    double ms = bench_report("then_ready.sea", &sea, "ns/op");
    double mf = bench_report("then_ready.floor", &flo, "ns/op");
    double mu = bench_report("then_ready.libuv", &uvs, "ns/op");
    bench_ratio("then_ready.ratio_vs_floor", ms, mf);
    bench_ratio("then_ready.ratio_vs_libuv", ms, mu);
    bench_target("then_ready", ms, mf, 3);
    bench_report("then_ready.floor_direct", &flo_direct, "ns/op");
    bench_report("then_ready.sea_inlined", &sea_inl, "ns/op");
    printf("# need_preempt.floor: load of a flag another agent sets (Seastar's scheme); "
           "libuv has no task quota\n");
    double mp = bench_report("need_preempt.sea", &np, "ns/op");
    double mpf = bench_report("need_preempt.floor", &np_floor, "ns/op");
    bench_ratio("need_preempt.ratio_vs_floor", mp, mpf);
    bench_report("sea_now.sea", &now, "ns/op");
    fflush(stdout);
    return sea_ready();
}

int main(int argc, char **argv) {
    return bench_app_run(argc, argv, app_main);
}
