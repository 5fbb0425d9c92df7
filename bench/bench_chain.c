/*
 * bench_chain.c - a chain of 32 continuations on a pending future, the shape
 * of Seastar's future_util_perf "chain.then_value": attach 32 continuations to
 * a promise's future, resolve the promise, let the loop run them.  Chains run
 * one after another; the last link of a chain builds the next chain.
 *
 *   chain32.sea    sea_promise_init + get_future, 32 x sea_then (each link
 *                  does value += 1), sea_future_detach of the end, then
 *                  sea_promise_set_void; the reactor runs link after link
 *                  (each link's result is the next link's input, so each is a
 *                  task on the run queue).
 *   chain32.floor  the FIFO of {fn, arg}: link k, when called, pushes link
 *                  k + 1 (there is nothing to attach ahead of time).
 *   chain32.libuv  one idle handle: its callback does the link's work and
 *                  restarts the handle for the next link, which runs on the
 *                  next loop turn (libuv's way to run "the next step soon").
 *
 * Reported per whole chain (ns/chain) and per link (ns/link = chain / 32).
 */
#include <sea/sea.h>
#include <uv.h>

#include "bench.h"
#include "bench_async.h"

#define CHAIN 32

static long nchains;
static int64_t value;

/* ---- sea ---- */

static sea_promise prom;
static long sea_left;

struct lcap {
    int depth;
};

static void sea_chain(void);

static sea_future sea_link(struct lcap *c, sea_value v) {
    (void)v;
    value += 1;
    if (c->depth == CHAIN - 1) {
        if (--sea_left > 0)
            sea_chain();
        else
            bench_driver_done();
    }
    return sea_ready();
}

static void sea_chain(void) {
    sea_promise_init(&prom);
    sea_future f = sea_promise_get_future(&prom);
    for (int d = 0; d < CHAIN; d++) {
        struct lcap c = {d};
        f = sea_then(f, sea_link, c);
    }
    sea_future_detach(f);
    sea_promise_set_void(&prom);
}

static void sea_start(void) {
    sea_left = nchains;
    sea_chain();
}

/* ---- floor ---- */

static struct bench_fifo fq;
static long floor_left;
static int depths[CHAIN];

static BENCH_NOIPA void floor_link(void *arg) {
    int d = *(int *)arg;
    value += 1;
    if (d < CHAIN - 1)
        bench_fifo_push(&fq, floor_link, &depths[d + 1]);
    else if (--floor_left > 0)
        bench_fifo_push(&fq, floor_link, &depths[0]);
}

static double floor_run(void) {
    int64_t t0 = bench_ns();
    floor_left = nchains;
    bench_fifo_push(&fq, floor_link, &depths[0]);
    bench_fifo_run(&fq);
    return (double)(bench_ns() - t0) / (double)nchains;
}

/* ---- libuv ---- */

static uv_loop_t loop;
static uv_idle_t idle;
static long uv_left;
static int uv_depth;

static void uv_link(uv_idle_t *h) {
    value += 1;
    uv_idle_stop(h);
    if (++uv_depth == CHAIN) {
        uv_depth = 0;
        if (--uv_left == 0)
            return;
    }
    uv_idle_start(h, uv_link);
}

static double uv_bench_run(void) {
    int64_t t0 = bench_ns();
    uv_left = nchains;
    uv_depth = 0;
    uv_idle_start(&idle, uv_link);
    uv_run(&loop, UV_RUN_DEFAULT);
    return (double)(bench_ns() - t0) / (double)nchains;
}

/* ---- driver ---- */

static struct bench_series floor_s, uv_s;

static void between(bool record) {
    double f = floor_run(), u = uv_bench_run();
    if (record) {
        bench_add(&floor_s, f);
        bench_add(&uv_s, u);
    }
}

static void per_link(struct bench_series *out, const struct bench_series *in) {
    *out = *in;
    for (int i = 0; i < out->n; i++)
        out->v[i] /= CHAIN;
}

static void finish(void) {
    struct bench_series l;
    printf("# chain32.libuv: one uv_idle handle restarted from its callback: one loop turn "
           "per link\n");
    double ms = bench_report("chain32.sea", &bench_drv.sea, "ns/chain");
    double mf = bench_report("chain32.floor", &floor_s, "ns/chain");
    double mu = bench_report("chain32.libuv", &uv_s, "ns/chain");
    per_link(&l, &bench_drv.sea);
    bench_report("chain32.sea_per_link", &l, "ns/link");
    per_link(&l, &floor_s);
    bench_report("chain32.floor_per_link", &l, "ns/link");
    per_link(&l, &uv_s);
    bench_report("chain32.libuv_per_link", &l, "ns/link");
    bench_ratio("chain32.ratio_vs_floor", ms, mf);
    bench_ratio("chain32.ratio_vs_libuv", ms, mu);
    bench_target("chain32 per link (deferred target)", ms / CHAIN, mf / CHAIN, 20);
    if (value < 0)
        printf("(impossible)\n");
    uv_close((uv_handle_t *)&idle, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    bench_fifo_destroy(&fq);
}

static sea_future app_main(void) {
    int runs = bench_runs();
    nchains = bench_iters(20000, 2);
    bench_fifo_init(&fq, 64);
    for (int i = 0; i < CHAIN; i++)
        depths[i] = i;
    uv_loop_init(&loop);
    uv_idle_init(&loop, &idle);
    printf("# bench_chain: backend=%s runs=%d chains/run=%ld links/chain=%d (median of runs)\n",
           sea_reactor_backend(), runs, nchains, CHAIN);
    return bench_driver_run(runs, (double)nchains, sea_start, between, finish);
}

int main(int argc, char **argv) {
    return bench_app_run(argc, argv, app_main);
}
