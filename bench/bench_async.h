/*
 * bench_async.h - the driver for benchmarks whose sea side needs the reactor.
 *
 * The sea side of such a benchmark is a state machine of continuations or
 * timer callbacks: start() sets up one run and returns; whatever finishes the
 * run's last piece of work calls bench_driver_done().  That records the run's
 * time, then (synchronously, from inside that last continuation) runs the
 * floor and libuv once each through between(), and starts the next sea run.
 * Run 0 of each is the untimed warm-up.  After the last run finish() prints
 * and the future app_main returned resolves, which ends sea_app_run.
 */
#ifndef SEA_BENCH_ASYNC_H
#define SEA_BENCH_ASYNC_H

#include <sea/sea.h>

#include "bench.h"

static struct bench_driver {
    int runs, run;            /* run 0 is the warm-up */
    double units;             /* units of work in one sea run (ops, chains...) */
    void (*start)(void);      /* starts one sea run */
    void (*between)(bool record); /* runs floor and libuv once each */
    void (*finish)(void);     /* prints the results */
    int64_t t0;
    struct bench_series sea;
    sea_promise done;
} bench_drv;

static inline void bench_driver_done(void) {
    double per = (double)(bench_ns() - bench_drv.t0) / bench_drv.units;
    bool record = bench_drv.run > 0;
    if (record)
        bench_add(&bench_drv.sea, per);
    bench_drv.between(record);
    if (++bench_drv.run <= bench_drv.runs) {
        bench_drv.t0 = bench_ns();
        bench_drv.start();
    } else {
        bench_drv.finish();
        fflush(stdout);
        sea_promise_set_void(&bench_drv.done);
    }
}

/* Call from app_main and return its result. */
static inline sea_future bench_driver_run(int runs, double units, void (*start)(void),
                                          void (*between)(bool record), void (*finish)(void)) {
    bench_drv.runs = runs;
    bench_drv.run = 0;
    bench_drv.units = units;
    bench_drv.start = start;
    bench_drv.between = between;
    bench_drv.finish = finish;
    sea_promise_init(&bench_drv.done);
    sea_future f = sea_promise_get_future(&bench_drv.done);
    bench_drv.t0 = bench_ns();
    start();
    return f;
}

#endif
