/*
 * bench_deferred.c - a deferred continuation: the continuation is attached
 * while the future is pending and run later by the event loop.
 *
 * One op, in batches of BATCH (1000):
 *   deferred.sea    sea_promise_init, sea_promise_get_future, sea_then (the
 *                   continuation takes over the promise's node), and
 *                   sea_future_detach of the result; once the whole batch is
 *                   set up, sea_promise_set_int on each promise; the reactor
 *                   then runs the 1000 continuations.  The last one starts the
 *                   next batch.  Everything from the first set-up to the last
 *                   continuation of the last batch is timed, reactor turns
 *                   included.
 *   deferred.floor  push {fn, arg} onto a ring FIFO, later pop it and call fn.
 *   deferred.libuv  uv_idle_start on one of 1000 idle handles; the loop calls
 *                   the idle callback on its next turn and the callback
 *                   uv_idle_stop()s its handle.  An idle handle is libuv's
 *                   "run this on the next loop turn" (Node's setImmediate
 *                   keeps its own queue and uses an idle handle to keep the
 *                   loop from blocking).  Zero-timeout timers are measured in
 *                   bench_timer_fire; uv_async coalesces wake-ups, so it
 *                   cannot schedule one callback per op.
 * The batch's last callback starts the next batch in all three, so the loops
 * turn the same way.
 *
 * Extra lines split deferred.sea into its phases (per op): sea_setup (init,
 * get_future, then, detach), sea_resolve (set_int, which queues the
 * continuation) and sea_run (from the last set_int to the batch's last
 * continuation: reactor loop plus running the continuations).
 */
#include <sea/sea.h>
#include <uv.h>

#include "bench.h"
#include "bench_async.h"

#define BATCH 1000

static long nbatches;

/* ---- sea ---- */

static sea_promise proms[BATCH];
static long sea_left;
static uint32_t sea_count;
/* Phase breakdown of the current run (ns): set-up, resolve, run by the reactor. */
static int64_t ph_setup, ph_resolve, ph_run, ph_mark;
static struct bench_series setup_s, resolve_s, run_s;

struct dcap {
    uint32_t i;
};

static void sea_batch(void);

static sea_future sea_cont(struct dcap *c, sea_value v) {
    bench_sink(v.i + c->i);
    if (++sea_count == BATCH) {
        sea_count = 0;
        int64_t now = bench_ns();
        ph_run += now - ph_mark;
        if (--sea_left > 0)
            sea_batch();
        else
            bench_driver_done();
    }
    return sea_ready();
}

static void sea_batch(void) {
    int64_t t0 = bench_ns();
    for (uint32_t i = 0; i < BATCH; i++) {
        sea_promise_init(&proms[i]);
        sea_future f = sea_promise_get_future(&proms[i]);
        struct dcap c = {i};
        sea_future_detach(sea_then(f, sea_cont, c));
    }
    int64_t t1 = bench_ns();
    for (uint32_t i = 0; i < BATCH; i++)
        sea_promise_set_int(&proms[i], i);
    ph_mark = bench_ns();
    ph_setup += t1 - t0;
    ph_resolve += ph_mark - t1;
}

static void sea_start(void) {
    ph_setup = ph_resolve = ph_run = 0;
    sea_left = nbatches;
    sea_batch();
}

/* ---- floor ---- */

static struct bench_fifo fq;
static uint32_t slots[BATCH];
static long floor_left;
static uint32_t floor_count;

static void floor_batch(void);

static BENCH_NOIPA void floor_cont(void *arg) {
    bench_sink(*(uint32_t *)arg);
    if (++floor_count == BATCH) {
        floor_count = 0;
        if (--floor_left > 0)
            floor_batch();
    }
}

static void floor_batch(void) {
    for (uint32_t i = 0; i < BATCH; i++)
        bench_fifo_push(&fq, floor_cont, &slots[i]);
}

static double floor_run(void) {
    int64_t t0 = bench_ns();
    floor_left = nbatches;
    floor_batch();
    bench_fifo_run(&fq);
    return (double)(bench_ns() - t0) / ((double)nbatches * BATCH);
}

/* ---- libuv ---- */

static uv_loop_t loop;
static uv_idle_t idles[BATCH];
static long uv_left;
static uint32_t uv_count;

static void uv_batch(void);

static void uv_cont(uv_idle_t *h) {
    uv_idle_stop(h);
    bench_sink(*(uint32_t *)h->data);
    if (++uv_count == BATCH) {
        uv_count = 0;
        if (--uv_left > 0)
            uv_batch();
    }
}

static void uv_batch(void) {
    for (uint32_t i = 0; i < BATCH; i++)
        uv_idle_start(&idles[i], uv_cont);
}

static double uv_bench_run(void) {
    int64_t t0 = bench_ns();
    uv_left = nbatches;
    uv_batch();
    uv_run(&loop, UV_RUN_DEFAULT);
    return (double)(bench_ns() - t0) / ((double)nbatches * BATCH);
}

/* ---- driver ---- */

static struct bench_series floor_s, uv_s;

static void between(bool record) {
    double ops = (double)nbatches * BATCH;
    if (record) {
        bench_add(&setup_s, (double)ph_setup / ops);
        bench_add(&resolve_s, (double)ph_resolve / ops);
        bench_add(&run_s, (double)ph_run / ops);
    }
    double f = floor_run(), u = uv_bench_run();
    if (record) {
        bench_add(&floor_s, f);
        bench_add(&uv_s, u);
    }
}

static void finish(void) {
    printf("# deferred.libuv: uv_idle_start + idle callback on the next loop turn + uv_idle_stop\n");
    double ms = bench_report("deferred.sea", &bench_drv.sea, "ns/op");
    double mf = bench_report("deferred.floor", &floor_s, "ns/op");
    double mu = bench_report("deferred.libuv", &uv_s, "ns/op");
    bench_ratio("deferred.ratio_vs_floor", ms, mf);
    bench_ratio("deferred.ratio_vs_libuv", ms, mu);
    bench_target("deferred", ms, mf, 20);
    printf("# deferred.sea phases: init+get_future+then+detach / set_int / reactor runs the "
           "continuation (3 clock reads per batch of %d)\n", BATCH);
    bench_report("deferred.sea_setup", &setup_s, "ns/op");
    bench_report("deferred.sea_resolve", &resolve_s, "ns/op");
    bench_report("deferred.sea_run", &run_s, "ns/op");
    for (uint32_t i = 0; i < BATCH; i++)
        uv_close((uv_handle_t *)&idles[i], NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    bench_fifo_destroy(&fq);
}

static sea_future app_main(void) {
    int runs = bench_runs();
    nbatches = bench_iters(1000, 2);
    bench_fifo_init(&fq, 4096);
    uv_loop_init(&loop);
    for (uint32_t i = 0; i < BATCH; i++) {
        slots[i] = i;
        uv_idle_init(&loop, &idles[i]);
        idles[i].data = &slots[i];
    }
    printf("# bench_deferred: backend=%s runs=%d ops/run=%ld (batches of %d; median of runs)\n",
           sea_reactor_backend(), runs, nbatches * BATCH, BATCH);
    return bench_driver_run(runs, (double)nbatches * BATCH, sea_start, between, finish);
}

int main(int argc, char **argv) {
    return bench_app_run(argc, argv, app_main);
}
