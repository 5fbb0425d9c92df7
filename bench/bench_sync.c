/*
 * bench_sync.c - semaphores and parallel_for_each, against hand-written
 * floors, in one process (on one shard).
 *
 *   sem_uncontended.sea    sea_semaphore_wait(&s, 1) with units free (a ready
 *                          future), then sea_semaphore_signal(&s, 1).
 *   sem_uncontended.floor  the same bookkeeping by hand: a count and an empty
 *                          waiter list checked, decremented, incremented.
 *   sem_contended.sea      1,000 waits queued on an empty semaphore, each
 *                          with a continuation (sea_then), then 1,000
 *                          signal(1) calls; ns per wait+signal+continuation,
 *                          until every continuation has run.
 *   sem_contended.floor    the same shape by hand: 1,000 {fn, arg} records
 *                          queued, then each signal moves one to a FIFO run
 *                          queue and the FIFO runs them.
 *   pfe.sea                sea_parallel_for_each over 1,000,000 elements whose
 *                          function returns a ready future; ns per element.
 *   pfe.floor              a for loop calling the same function through a
 *                          pointer the compiler cannot see through.
 *
 * Seastar reports parallel_for_each at 3.4 ns per element for immediate
 * futures.  Medians of SEA_BENCH_RUNS runs (default 7).
 */
#include <sea/sea.h>

#include "bench.h"

/* ---- semaphore, uncontended ---- */

static double sem_uncontended_sea(long n) {
    sea_semaphore s;
    sea_semaphore_init(&s, 1);
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++) {
        sea_future f = sea_semaphore_wait(&s, 1);
        __asm__ __volatile__("" : : "r"(f.sea__state));
        sea_semaphore_signal(&s, 1);
    }
    double r = (double)(bench_ns() - t0) / (double)n;
    sea_semaphore_destroy(&s);
    return r;
}

struct floor_sem {
    int64_t count;
    void *waiters;
};

static BENCH_NOIPA bool floor_take(struct floor_sem *s, int64_t n) {
    if (!s->waiters && s->count >= n) {
        s->count -= n;
        return true;
    }
    return false;
}

static BENCH_NOIPA void floor_give(struct floor_sem *s, int64_t n) {
    s->count += n;
    if (s->waiters)
        abort();
}

static double sem_uncontended_floor(long n) {
    struct floor_sem s = {1, NULL};
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++) {
        bench_sink(floor_take(&s, 1));
        floor_give(&s, 1);
    }
    return (double)(bench_ns() - t0) / (double)n;
}

/* ---- semaphore, contended ---- */

#define QUEUED 1000

static long woken;

static BENCH_NOIPA sea_future on_units(sea_value v) {
    woken++;
    return sea_ready();
}

struct contended {
    sea_semaphore s;
    long rounds;
    int64_t t0;
    double result;
    sea_promise done;
};

static sea_future contended_round(struct contended **pc, sea_value v);

/* Queues QUEUED waits, signals them all, and lets the reactor run the continuations. */
static sea_future contended_start(struct contended *c) {
    sea_future fs[QUEUED];
    for (int i = 0; i < QUEUED; i++)
        fs[i] = sea_then(sea_semaphore_wait(&c->s, 1), on_units);
    for (int i = 0; i < QUEUED; i++)
        sea_semaphore_signal(&c->s, 1);
    for (int i = 0; i < QUEUED; i++)
        sea_future_detach(fs[i]);
    /* One trip through the run queue: every continuation has run by then. */
    return sea_then(sea_yield(), contended_round, c);
}

static sea_future contended_round(struct contended **pc, sea_value v) {
    struct contended *c = *pc;
    if (--c->rounds > 0)
        return contended_start(c);
    c->result = (double)(bench_ns() - c->t0) / (double)woken;
    return sea_ready();
}

static sea_future sem_contended_sea(struct contended *c, long rounds) {
    sea_semaphore_init(&c->s, 0);
    c->rounds = rounds;
    woken = 0;
    c->t0 = bench_ns();
    return contended_start(c);
}

static BENCH_NOIPA void floor_woken(void *arg) {
    woken++;
}

static double sem_contended_floor(long rounds) {
    struct bench_fifo q;
    bench_fifo_init(&q, 2048);
    struct {
        bench_fn fn;
        void *arg;
    } waiting[QUEUED];
    woken = 0;
    struct floor_sem s = {0, NULL};
    int64_t t0 = bench_ns();
    for (long r = 0; r < rounds; r++) {
        for (int i = 0; i < QUEUED; i++) {
            if (!floor_take(&s, 1)) {
                waiting[i].fn = floor_woken;
                waiting[i].arg = NULL;
            }
        }
        for (int i = 0; i < QUEUED; i++)
            bench_fifo_push(&q, waiting[i].fn, waiting[i].arg); /* signal: the next waiter is runnable */
        bench_fifo_run(&q);
    }
    double res = (double)(bench_ns() - t0) / (double)woken;
    bench_fifo_destroy(&q);
    return res;
}

/* ---- parallel_for_each ---- */

static int64_t pfe_sum;

static BENCH_NOIPA sea_future element(int64_t i) {
    pfe_sum += i;
    return sea_ready();
}

static double pfe_sea(long n) {
    int64_t t0 = bench_ns();
    /* Until the loop is over, including the reactor turns it yields for when the task quota runs out. */
    sea_future_detach(sea_await(sea_parallel_for_each(0, n, element)));
    return (double)(bench_ns() - t0) / (double)n;
}

static BENCH_NOIPA sea_future element_floor(int64_t i) {
    pfe_sum += i;
    return sea_ready();
}

static double pfe_floor(long n) {
    sea_future (*fn)(int64_t) = element_floor;
    BENCH_OPAQUE(fn);
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++) {
        sea_future f = fn(i);
        __asm__ __volatile__("" : : "r"(f.sea__state));
    }
    return (double)(bench_ns() - t0) / (double)n;
}

/* ---- the runs ---- */

static sea_future bench_fiber(void) {
    int runs = bench_runs();
    long n_unc = bench_iters(20000000, 1000), rounds = bench_iters(2000, 10), n_pfe = bench_iters(1000000, 1000);
    struct bench_series s_unc = {0}, f_unc = {0}, s_con = {0}, f_con = {0}, s_pfe = {0}, f_pfe = {0};
    for (int run = -1; run < runs; run++) {
        double a = sem_uncontended_sea(run < 0 ? n_unc / 10 : n_unc);
        double b = sem_uncontended_floor(run < 0 ? n_unc / 10 : n_unc);
        static struct contended c;
        sea_future_detach(sea_await(sem_contended_sea(&c, run < 0 ? rounds / 10 + 1 : rounds)));
        double d = sem_contended_floor(run < 0 ? rounds / 10 + 1 : rounds);
        double e = pfe_sea(n_pfe);
        double f = pfe_floor(n_pfe);
        if (run >= 0) {
            bench_add(&s_unc, a);
            bench_add(&f_unc, b);
            bench_add(&s_con, c.result);
            bench_add(&f_con, d);
            bench_add(&s_pfe, e);
            bench_add(&f_pfe, f);
        }
    }
    printf("# semaphore and parallel_for_each; medians of %d runs\n", runs);
    double a = bench_report("sem_uncontended.sea", &s_unc, "ns/op");
    double b = bench_report("sem_uncontended.floor", &f_unc, "ns/op");
    bench_ratio("sem_uncontended.ratio_vs_floor", a, b);
    a = bench_report("sem_contended.sea", &s_con, "ns/op");
    b = bench_report("sem_contended.floor", &f_con, "ns/op");
    bench_ratio("sem_contended.ratio_vs_floor", a, b);
    a = bench_report("pfe.sea", &s_pfe, "ns/element");
    b = bench_report("pfe.floor", &f_pfe, "ns/element");
    bench_ratio("pfe.ratio_vs_floor", a, b);
    printf("# pfe.sea target: <= 3.4 ns/element (Seastar's figure): %s\n", a <= 3.4 ? "met" : "missed");
    return sea_ready();
}

static sea_future bench_main(void) {
    return sea_fiber_start_attr(&(sea_fiber_attr){.name = "bench"}, bench_fiber);
}

int main(int argc, char **argv) {
    return bench_app_run(argc, argv, bench_main);
}
