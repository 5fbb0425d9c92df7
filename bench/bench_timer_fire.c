/*
 * bench_timer_fire.c - arm a timer with zero delay and let the loop fire it,
 * one timer at a time: one op = arm + one loop turn + the callback.
 *
 *   timer_fire.sea    sea_timer_arm(t, 0) from the timer's own callback; the
 *                     reactor fires it on its next turn (run queue empty,
 *                     clock read, I/O reap, timer expiry pass).
 *   timer_fire.floor  a binary min-heap of deadlines: push at the cached loop
 *                     time, then one "loop turn": clock_gettime, pop every
 *                     due timer and call it.  A loop must read the clock to
 *                     know what is due, so the floor pays one clock read per
 *                     op (sea pays two: sea_timer_arm reads the clock too).
 *   timer_fire.libuv  uv_timer_start(t, cb, 0, 0), then uv_run(UV_RUN_NOWAIT):
 *                     exactly one loop turn (libuv's timers are in a binary
 *                     heap; its loop time is cached, in milliseconds).  On
 *                     every turn libuv also calls epoll_wait(timeout 0),
 *                     because uv_loop_init registers its signal pipe.
 *
 * timer_fire.libuv_rearm is the other libuv spelling, uv_timer_start(0) from
 * the callback under UV_RUN_DEFAULT: libuv 1.44 may fire such a timer again in
 * the same uv__run_timers pass, without a loop turn, so it is not the same work
 * and is shown for information only.
 */
#include <sea/sea.h>
#include <uv.h>

#include "bench.h"
#include "bench_async.h"

static long nops;

/* ---- sea ---- */

static sea_timer timer;
static long sea_left;

static void sea_fire(sea_timer *t, void *arg) {
    (void)arg;
    if (--sea_left > 0)
        sea_timer_arm(t, 0);
    else
        bench_driver_done();
}

static void sea_start(void) {
    sea_left = nops;
    sea_timer_arm(&timer, 0);
}

/* ---- floor ---- */

static struct bench_heap heap;
static struct bench_htimer ftimer;
static long floor_fired;

static BENCH_NOIPA void floor_fire(struct bench_htimer *t, void *arg) {
    (void)t;
    (void)arg;
    floor_fired++;
}

static double floor_run(void) {
    int64_t t0 = bench_ns();
    int64_t now = t0;
    for (long i = 0; i < nops; i++) {
        bench_heap_push(&heap, &ftimer, now);
        now = bench_ns();
        bench_heap_run(&heap, now);
    }
    return (double)(bench_ns() - t0) / (double)nops;
}

/* ---- libuv ---- */

static uv_loop_t loop;
static uv_timer_t utimer;
static long uv_fired, uv_left;

static void uv_fire(uv_timer_t *t) {
    (void)t;
    uv_fired++;
}

static double uv_bench_run(void) {
    int64_t t0 = bench_ns();
    for (long i = 0; i < nops; i++) {
        uv_timer_start(&utimer, uv_fire, 0, 0);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    return (double)(bench_ns() - t0) / (double)nops;
}

static void uv_rearm(uv_timer_t *t) {
    if (--uv_left > 0)
        uv_timer_start(t, uv_rearm, 0, 0);
}

static double uv_bench_rearm(void) {
    int64_t t0 = bench_ns();
    uv_left = nops;
    uv_timer_start(&utimer, uv_rearm, 0, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    return (double)(bench_ns() - t0) / (double)nops;
}

/* ---- driver ---- */

static struct bench_series floor_s, uv_s, uv_rearm_s;

static void between(bool record) {
    double f = floor_run(), u = uv_bench_run(), r = uv_bench_rearm();
    if (record) {
        bench_add(&floor_s, f);
        bench_add(&uv_s, u);
        bench_add(&uv_rearm_s, r);
    }
}

static void finish(void) {
    printf("# timer_fire.floor: binary heap push + clock_gettime + pop + call per op\n");
    printf("# timer_fire.libuv: uv_timer_start(0) + uv_run(UV_RUN_NOWAIT) (one loop turn) per op\n");
    double ms = bench_report("timer_fire.sea", &bench_drv.sea, "ns/op");
    double mf = bench_report("timer_fire.floor", &floor_s, "ns/op");
    double mu = bench_report("timer_fire.libuv", &uv_s, "ns/op");
    bench_ratio("timer_fire.ratio_vs_floor", ms, mf);
    bench_ratio("timer_fire.ratio_vs_libuv", ms, mu);
    printf("# timer_fire.libuv_rearm: uv_timer_start(0) from the callback, UV_RUN_DEFAULT "
           "(may refire without a loop turn; not the same work)\n");
    bench_report("timer_fire.libuv_rearm", &uv_rearm_s, "ns/op");
    if (floor_fired < 0 || uv_fired < 0)
        printf("(impossible)\n");
    uv_close((uv_handle_t *)&utimer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    bench_heap_destroy(&heap);
}

static sea_future app_main(void) {
    int runs = bench_runs();
    nops = bench_iters(200000, 100);
    sea_timer_init(&timer, sea_fire, NULL);
    bench_heap_init(&heap, 16);
    ftimer.cb = floor_fire;
    uv_loop_init(&loop);
    uv_timer_init(&loop, &utimer);
    printf("# bench_timer_fire: backend=%s runs=%d ops/run=%ld (median of runs)\n",
           sea_reactor_backend(), runs, nops);
    return bench_driver_run(runs, (double)nops, sea_start, between, finish);
}

int main(int argc, char **argv) {
    return bench_app_run(argc, argv, app_main);
}
