/*
 * bench.h - helpers shared by sea's benchmarks: timing, medians and
 * percentiles, output, the command line of a program of several figures,
 * and the two hand-written "floors" the benchmarks compare sea against.
 *
 * Every benchmark program measures one kind of work three ways in the same
 * process: with sea, with the floor (the least code that can do the job: a
 * FIFO of {fn, arg} or a binary heap of deadlines), and with libuv (the usual
 * C event loop).  Each way runs once untimed (warm-up: page faults, pools),
 * then SEA_BENCH_RUNS times (default 7), interleaved sea/floor/libuv so that
 * clock drift hits all three alike; the median is reported.
 *
 * Output: one line per number, exactly "name: <median> <unit>", e.g.
 *     deferred.sea: 21.30 ns/op
 *     deferred.ratio_vs_floor: 3.10x
 * Lines starting with '#' are notes (what the libuv analog is, targets).
 *
 * Environment:
 *   SEA_BENCH_RUNS=N    timed runs per implementation (default 7, 1..101)
 *   SEA_BENCH_SCALE=X   multiply every iteration count (default 1; 0.1 for a
 *                       quick smoke run)
 *
 * Against the optimiser: callees that stand for "user code" are noipa (no
 * inlining and no interprocedural analysis, as if they lived in another
 * translation unit), and results are consumed with an empty asm statement,
 * which forces the value to be computed but costs no instruction.
 */
#ifndef SEA_BENCH_H
#define SEA_BENCH_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_NOIPA __attribute__((noipa))

/* Forces v to be computed; emits no instruction. */
static inline void bench_sink(int64_t v) {
    __asm__ __volatile__("" : : "r"(v));
}

/* Hides a pointer's value from the optimiser (no devirtualisation, no folding). */
#define BENCH_OPAQUE(p) __asm__ __volatile__("" : "+r"(p))

/* CLOCK_MONOTONIC in nanoseconds. */
static inline int64_t bench_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int bench_runs(void) {
    const char *s = getenv("SEA_BENCH_RUNS");
    long v = s ? strtol(s, NULL, 10) : 7;
    if (v < 1)
        v = 1;
    if (v > 101)
        v = 101;
    return (int)v;
}

/* base iterations, scaled by SEA_BENCH_SCALE, at least min. */
static inline long bench_iters(long base, long min) {
    const char *s = getenv("SEA_BENCH_SCALE");
    double scale = s ? strtod(s, NULL) : 1.0;
    if (!(scale > 0))
        scale = 1.0;
    long v = (long)((double)base * scale);
    return v < min ? min : v;
}

/* xorshift64*: the next pseudo-random number of the sequence in *s (not 0). */
static inline uint64_t bench_rnd(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---- results ---- */

#define BENCH_MAX_RUNS 101

/* The samples of one measured quantity. */
struct bench_series {
    double v[BENCH_MAX_RUNS];
    int n;
};

static inline void bench_add(struct bench_series *s, double v) {
    if (s->n < BENCH_MAX_RUNS)
        s->v[s->n++] = v;
}

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double bench_median(const struct bench_series *s) {
    if (s->n == 0)
        return 0;
    double tmp[BENCH_MAX_RUNS];
    memcpy(tmp, s->v, sizeof(double) * (size_t)s->n);
    qsort(tmp, (size_t)s->n, sizeof(double), bench_cmp_double);
    if (s->n % 2)
        return tmp[s->n / 2];
    return (tmp[s->n / 2 - 1] + tmp[s->n / 2]) / 2;
}

/* Prints "name: <median> unit" and returns the median. */
static inline double bench_report(const char *name, const struct bench_series *s, const char *unit) {
    double m = bench_median(s);
    printf("%s: %.2f %s\n", name, m, unit);
    return m;
}

static inline int bench_cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts latency samples, for bench_percentile_us. */
static inline void bench_sort_u32(uint32_t *v, size_t n) {
    qsort(v, n, sizeof(*v), bench_cmp_u32);
}

/*
 * The q quantile (0.99 for p99) of n samples in ns, sorted: the sample of
 * rank ceil(q * n), exact rather than interpolated, in us; 0 if none.
 */
static inline double bench_percentile_us(const uint32_t *sorted_ns, size_t n, double q) {
    if (!n)
        return 0;
    size_t i = (size_t)ceil(q * (double)n);
    if (i > 0)
        i--;
    if (i >= n)
        i = n - 1;
    return sorted_ns[i] / 1000.0;
}

/* Prints "name: <a/b>x". */
static inline void bench_ratio(const char *name, double a, double b) {
    printf("%s: %.2fx\n", name, b > 0 ? a / b : 0.0);
}

/* Prints the target verdict for a sea number (a note line). */
static inline void bench_target(const char *name, double sea, double floor, double target_ns) {
    bool abs_ok = sea <= target_ns, rel_ok = floor > 0 && sea <= 2 * floor;
    printf("# %s target: <= %.0f ns/op %s, <= 2x floor %s\n", name, target_ns,
           abs_ok ? "met" : "MISSED", rel_ok ? "met" : "MISSED");
}

/*
 * Counts a failure in `count` and prints it on stderr, "prog: error: " and
 * the printf arguments, the first `most` only.
 */
#define BENCH_FAIL(count, most, prog, ...) \
    do { \
        if ((count)++ < (most)) { \
            fprintf(stderr, "%s: error: ", prog); \
            fprintf(stderr, __VA_ARGS__); \
            fprintf(stderr, "\n"); \
        } \
    } while (0)

/* ---- programs of several figures ---- */

/*
 * The command line of such a program: [seconds per measurement] [figure]
 * [what to measure].  A figure is a named part of the results; every figure
 * runs by default, in the order of the program's table.
 */
struct bench_figure {
    const char *name;
    void (*run)(void);
};

/* The first argument when it is a positive number of seconds, else dflt. */
static inline double bench_seconds_arg(int argc, char **argv, double dflt) {
    double secs = argc > 1 ? atof(argv[1]) : 0;
    return secs > 0 ? secs : dflt;
}

static inline bool bench_figure_known(const struct bench_figure *figs, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, figs[i].name) == 0)
            return true;
    return false;
}

/*
 * The second argument, the one figure to run (*only; NULL: every figure);
 * false, said on stderr ("prog: unknown figure NAME"), if no figure has
 * that name.
 */
static inline bool bench_figure_arg(int argc, char **argv, const struct bench_figure *figs, size_t n, const char *prog,
                                    const char **only) {
    *only = argc > 2 ? argv[2] : NULL;
    if (*only && !bench_figure_known(figs, n, *only)) {
        fprintf(stderr, "%s: unknown figure %s\n", prog, *only);
        return false;
    }
    return true;
}

/*
 * Runs every figure, or only the one named `only`; after each, `after` with
 * its name (a note on how quiet the machine was meanwhile), then a flush so
 * that a long run shows each figure when it is done.
 */
static inline void bench_run_figures(const struct bench_figure *figs, size_t n, const char *only,
                                     void (*after)(const char *fig)) {
    for (size_t i = 0; i < n; i++)
        if (!only || strcmp(only, figs[i].name) == 0) {
            figs[i].run();
            after(figs[i].name);
            fflush(stdout);
        }
}

/* ---- floor 1: a FIFO of {fn, arg} (a power-of-two ring) ---- */

typedef void (*bench_fn)(void *arg);

struct bench_fifo_entry {
    bench_fn fn;
    void *arg;
};

struct bench_fifo {
    struct bench_fifo_entry *ring;
    uint32_t head, tail, mask;
};

static inline void bench_fifo_init(struct bench_fifo *q, uint32_t capacity_pow2) {
    q->ring = calloc(capacity_pow2, sizeof(*q->ring));
    if (!q->ring) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    q->head = q->tail = 0;
    q->mask = capacity_pow2 - 1;
}

static inline void bench_fifo_destroy(struct bench_fifo *q) {
    free(q->ring);
    q->ring = NULL;
}

static inline void bench_fifo_push(struct bench_fifo *q, bench_fn fn, void *arg) {
    if (__builtin_expect(q->tail - q->head > q->mask, 0)) {
        fprintf(stderr, "bench: fifo overflow\n");
        abort();
    }
    struct bench_fifo_entry *e = &q->ring[q->tail++ & q->mask];
    e->fn = fn;
    e->arg = arg;
}

/* Pops and calls every entry, including ones pushed meanwhile. */
static inline void bench_fifo_run(struct bench_fifo *q) {
    while (q->head != q->tail) {
        struct bench_fifo_entry e = q->ring[q->head++ & q->mask];
        e.fn(e.arg);
    }
}

/* ---- floor 2: a binary min-heap of timers (array of {deadline, timer}) ---- */

struct bench_htimer;
typedef void (*bench_htimer_cb)(struct bench_htimer *t, void *arg);

struct bench_htimer {
    int64_t when;
    uint32_t idx; /* position in the heap, UINT32_MAX when not armed */
    bench_htimer_cb cb;
    void *arg;
};

struct bench_heap_slot {
    int64_t when;
    struct bench_htimer *t;
};

struct bench_heap {
    struct bench_heap_slot *a;
    uint32_t n, cap;
};

static inline void bench_heap_init(struct bench_heap *h, uint32_t cap) {
    h->a = malloc(sizeof(*h->a) * cap);
    if (!h->a) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    h->n = 0;
    h->cap = cap;
}

static inline void bench_heap_destroy(struct bench_heap *h) {
    free(h->a);
    h->a = NULL;
}

static inline void bench_heap_place(struct bench_heap *h, uint32_t i, struct bench_heap_slot s) {
    h->a[i] = s;
    s.t->idx = i;
}

static inline void bench_heap_up(struct bench_heap *h, uint32_t i, struct bench_heap_slot s) {
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (h->a[p].when <= s.when)
            break;
        bench_heap_place(h, i, h->a[p]);
        i = p;
    }
    bench_heap_place(h, i, s);
}

static inline void bench_heap_down(struct bench_heap *h, uint32_t i, struct bench_heap_slot s) {
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->a[c + 1].when < h->a[c].when)
            c++;
        if (s.when <= h->a[c].when)
            break;
        bench_heap_place(h, i, h->a[c]);
        i = c;
    }
    bench_heap_place(h, i, s);
}

static inline void bench_heap_push(struct bench_heap *h, struct bench_htimer *t, int64_t when) {
    if (h->n == h->cap) {
        fprintf(stderr, "bench: heap overflow\n");
        abort();
    }
    t->when = when;
    struct bench_heap_slot s = {when, t};
    bench_heap_up(h, h->n++, s);
}

static inline void bench_heap_remove(struct bench_heap *h, struct bench_htimer *t) {
    uint32_t i = t->idx;
    t->idx = UINT32_MAX;
    struct bench_heap_slot last = h->a[--h->n];
    if (i == h->n)
        return;
    if (i > 0 && last.when < h->a[(i - 1) / 2].when)
        bench_heap_up(h, i, last);
    else
        bench_heap_down(h, i, last);
}

/* Pops and fires every timer due at now. */
static inline void bench_heap_run(struct bench_heap *h, int64_t now) {
    while (h->n && h->a[0].when <= now) {
        struct bench_htimer *t = h->a[0].t;
        bench_heap_remove(h, t);
        t->cb(t, t->arg);
    }
}

/*
 * sea_app_run for a benchmark: the stall detector is off, since a benchmark
 * runs long loops without yielding on purpose and its output is its
 * results, not reports about them.  An explicit --blocked-reactor-notify-ms
 * on the command line still wins (the later option counts).
 */
#include <sea/app.h>

static inline char **bench_args(int argc, char **argv) {
    char **args = calloc((size_t)argc + 2, sizeof(char *));
    if (!args)
        return NULL;
    args[0] = argc > 0 ? argv[0] : "bench";
    args[1] = "--blocked-reactor-notify-ms=0";
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    return args;
}
#define bench_app_run(argc, argv, fn) \
    __extension__({ \
        char **bench_argv_ = bench_args((argc), (argv)); \
        int bench_code_ = bench_argv_ ? sea_app_run((argc) + 1, bench_argv_, fn) : 1; \
        free(bench_argv_); \
        bench_code_; \
    })

#endif
