/*
 * bench_malloc.c - sea's sharded allocator against glibc malloc, jemalloc and
 * mimalloc, measured in the same process.
 *
 * Same thread ("pair"): malloc then free at once, sizes cycling through a
 * range: small (16-512 B), medium (4-64 KiB) and large (1 MiB).  "batch":
 * 64 allocations, then the 64 frees in the same order.  Each allocation's
 * first byte is written, so an allocator that hands pages back to the
 * kernel pays for the fault, as its users do.
 *
 * Cross-shard: "xshard_pipe": CPU 0 allocates small objects and passes them
 * through a ring of 1024 to CPU 1, which frees them, both running at once
 * (ns per object, wall clock).  "xshard_free": CPU 0 allocates 500,000
 * objects, then CPU 1 frees them all (ns per free on CPU 1).  For sea, CPU 0
 * and 1 are shards 0 and 1 and the memory goes home to shard 0 in batches;
 * for the others, plain threads on the same two CPUs.
 *
 * The other allocators are called through their own entry points
 * (__libc_malloc, mallocx/dallocx, mi_malloc/mi_free), since malloc itself is
 * sea's in this program.  jemalloc and mimalloc are optional (Debian's
 * libjemalloc-dev and libmimalloc-dev); without them their lines say so.
 *
 * Runs with two shards (-c2) on CPUs 0 and 1.  Medians of SEA_BENCH_RUNS
 * runs (default 7), allocators interleaved.
 */
#include "bench.h"

#include <sea/sea.h>

#include <pthread.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>

#ifdef HAVE_JEMALLOC
void *mallocx(size_t size, int flags);
void dallocx(void *p, int flags);
#endif
#ifdef HAVE_MIMALLOC
#include <mimalloc.h>
#endif

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);

static size_t small_sizes[64], medium_sizes[64], large_sizes[64];

static void sizes_init(void) {
    static const size_t small[] = {16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};
    static const size_t medium[] = {4096, 6000, 8192, 12000, 16384, 24576, 32768, 49152, 65536};
    for (int i = 0; i < 64; i++) {
        small_sizes[i] = small[(i * 7) % 11];
        medium_sizes[i] = medium[(i * 5) % 9];
        large_sizes[i] = 1 << 20;
    }
}

/* ---- same thread: one loop per allocator, direct calls ---- */

#define DEFINE_SAME_THREAD(name, ALLOC, FREE) \
    static double name##_pair(const size_t *sizes, long iters) { \
        int64_t t0 = bench_ns(); \
        for (long i = 0; i < iters; i++) { \
            char *p = ALLOC(sizes[i & 63]); \
            p[0] = 1; \
            BENCH_OPAQUE(p); \
            FREE(p); \
        } \
        return (double)(bench_ns() - t0) / (double)iters; \
    } \
    static double name##_batch(const size_t *sizes, long iters) { \
        char *ps[64]; \
        long rounds = iters / 64; \
        int64_t t0 = bench_ns(); \
        for (long r = 0; r < rounds; r++) { \
            for (int i = 0; i < 64; i++) { \
                ps[i] = ALLOC(sizes[i]); \
                ps[i][0] = 1; \
            } \
            BENCH_OPAQUE(ps[0]); \
            for (int i = 0; i < 64; i++) \
                FREE(ps[i]); \
        } \
        return (double)(bench_ns() - t0) / (double)(rounds * 64); \
    }

DEFINE_SAME_THREAD(sea, sea_malloc, sea_free)
DEFINE_SAME_THREAD(glibc, __libc_malloc, __libc_free)
#ifdef HAVE_JEMALLOC
#define JE_ALLOC(n) mallocx((n), 0)
#define JE_FREE(p) dallocx((p), 0)
DEFINE_SAME_THREAD(jemalloc, JE_ALLOC, JE_FREE)
#endif
#ifdef HAVE_MIMALLOC
DEFINE_SAME_THREAD(mimalloc, mi_malloc, mi_free)
#endif

/* ---- across CPUs: a ring of pointers from the allocating side to the freeing side ---- */

#define RING 1024

struct ring {
    _Alignas(64) _Atomic unsigned long head; /* written by the producer */
    _Alignas(64) _Atomic unsigned long tail; /* written by the consumer */
    _Alignas(64) void *slot[RING];
    long n;
    void **objs;   /* the free-only test: objects made on CPU 0 */
    long nobjs;
    double free_ns; /* ... and the time per free on CPU 1 */
};

#define DEFINE_CROSS(name, ALLOC, FREE) \
    static void name##_produce(struct ring *r) { \
        unsigned long head = 0; \
        for (long i = 0; i < r->n; i++) { \
            char *p = ALLOC(small_sizes[i & 63]); \
            p[0] = 1; \
            while (head - atomic_load_explicit(&r->tail, memory_order_acquire) == RING) \
                __builtin_ia32_pause(); \
            r->slot[head % RING] = p; \
            atomic_store_explicit(&r->head, ++head, memory_order_release); \
        } \
    } \
    static void name##_consume(struct ring *r) { \
        unsigned long tail = 0; \
        for (long i = 0; i < r->n; i++) { \
            while (atomic_load_explicit(&r->head, memory_order_acquire) == tail) \
                __builtin_ia32_pause(); \
            FREE(r->slot[tail % RING]); \
            atomic_store_explicit(&r->tail, ++tail, memory_order_release); \
        } \
    } \
    static void name##_make(struct ring *r) { \
        for (long i = 0; i < r->nobjs; i++) { \
            r->objs[i] = ALLOC(small_sizes[i & 63]); \
            ((char *)r->objs[i])[0] = 1; \
        } \
    } \
    static void name##_free_all(struct ring *r) { \
        int64_t t0 = bench_ns(); \
        for (long i = 0; i < r->nobjs; i++) \
            FREE(r->objs[i]); \
        r->free_ns = (double)(bench_ns() - t0) / (double)r->nobjs; \
    } \
    __attribute__((unused)) static void *name##_free_thread(void *arg) { \
        cpu_set_t one; \
        CPU_ZERO(&one); \
        CPU_SET(1, &one); \
        pthread_setaffinity_np(pthread_self(), sizeof(one), &one); \
        name##_free_all(arg); \
        return NULL; \
    } \
    /* Objects made here (CPU 0), all freed by a thread on CPU 1: the time per free. */ \
    __attribute__((unused)) static double name##_free_elsewhere(struct ring *r) { \
        name##_make(r); \
        pthread_t t; \
        pthread_create(&t, NULL, name##_free_thread, r); \
        pthread_join(t, NULL); \
        return r->free_ns; \
    } \
    __attribute__((unused)) static void *name##_consume_thread(void *arg) { \
        cpu_set_t one; \
        CPU_ZERO(&one); \
        CPU_SET(1, &one); \
        pthread_setaffinity_np(pthread_self(), sizeof(one), &one); \
        name##_consume(arg); \
        return NULL; \
    } \
    /* Producer here (CPU 0), consumer on a thread pinned to CPU 1. */ \
    __attribute__((unused)) static double name##_cross(struct ring *r) { \
        atomic_store(&r->head, 0); \
        atomic_store(&r->tail, 0); \
        pthread_t t; \
        pthread_create(&t, NULL, name##_consume_thread, r); \
        int64_t t0 = bench_ns(); \
        name##_produce(r); \
        pthread_join(t, NULL); \
        return (double)(bench_ns() - t0) / (double)r->n; \
    }

#if !defined(__x86_64__)
#define __builtin_ia32_pause() __asm__ __volatile__("yield")
#endif

DEFINE_CROSS(sea, sea_malloc, sea_free)
DEFINE_CROSS(glibc, __libc_malloc, __libc_free)
#ifdef HAVE_JEMALLOC
DEFINE_CROSS(jemalloc, JE_ALLOC, JE_FREE)
#endif
#ifdef HAVE_MIMALLOC
DEFINE_CROSS(mimalloc, mi_malloc, mi_free)
#endif

/* sea across shards: the consumer is shard 1, started through a message. */
struct ring_ref {
    struct ring *r;
};

static sea_future sea_consume_on_shard(struct ring_ref *ref) {
    sea_consume(ref->r);
    return sea_ready();
}

static sea_future sea_free_on_shard(struct ring_ref *ref) {
    sea_free_all(ref->r);
    return sea_ready();
}

static double sea_free_other_shard(struct ring *r) {
    sea_make(r);
    sea_future_detach(sea_await(sea_submit_to(1, sea_free_on_shard, (struct ring_ref){r})));
    return r->free_ns;
}

static double sea_cross_shards(struct ring *r) {
    atomic_store(&r->head, 0);
    atomic_store(&r->tail, 0);
    sea_future f = sea_submit_to(1, sea_consume_on_shard, (struct ring_ref){r});
    /* One loop turn sends the message; shard 1 then spins on the ring. */
    sea_future_detach(sea_await(sea_sleep(SEA_MSEC(2))));
    int64_t t0 = bench_ns();
    sea_produce(r);
    sea_future_detach(sea_await(f));
    return (double)(bench_ns() - t0) / (double)r->n;
}

/* ---- the runs ---- */

enum { A_SEA, A_GLIBC, A_JEMALLOC, A_MIMALLOC, NALLOC };
static const char *const alloc_names[NALLOC] = {"sea", "glibc", "jemalloc", "mimalloc"};
static const bool alloc_present[NALLOC] = {
    true, true,
#ifdef HAVE_JEMALLOC
    true,
#else
    false,
#endif
#ifdef HAVE_MIMALLOC
    true,
#else
    false,
#endif
};

enum { T_SMALL_PAIR, T_SMALL_BATCH, T_MEDIUM_PAIR, T_MEDIUM_BATCH, T_LARGE_PAIR, T_XSHARD, T_XSHARD_FREE, NTEST };
static const char *const test_names[NTEST] = {"small_pair", "small_batch", "medium_pair", "medium_batch",
                                              "large_pair", "xshard_pipe", "xshard_free"};

static struct bench_series series[NTEST][NALLOC];

static double same_thread(int a, int t, long iters) {
    const size_t *sizes = t <= T_SMALL_BATCH ? small_sizes : t <= T_MEDIUM_BATCH ? medium_sizes : large_sizes;
    bool batch = t == T_SMALL_BATCH || t == T_MEDIUM_BATCH;
    switch (a) {
    case A_SEA: return batch ? sea_batch(sizes, iters) : sea_pair(sizes, iters);
    case A_GLIBC: return batch ? glibc_batch(sizes, iters) : glibc_pair(sizes, iters);
#ifdef HAVE_JEMALLOC
    case A_JEMALLOC: return batch ? jemalloc_batch(sizes, iters) : jemalloc_pair(sizes, iters);
#endif
#ifdef HAVE_MIMALLOC
    case A_MIMALLOC: return batch ? mimalloc_batch(sizes, iters) : mimalloc_pair(sizes, iters);
#endif
    }
    return 0;
}

static double cross(int a, struct ring *r) {
    switch (a) {
    case A_SEA: return sea_cross_shards(r);
    case A_GLIBC: return glibc_cross(r);
#ifdef HAVE_JEMALLOC
    case A_JEMALLOC: return jemalloc_cross(r);
#endif
#ifdef HAVE_MIMALLOC
    case A_MIMALLOC: return mimalloc_cross(r);
#endif
    }
    return 0;
}

static double free_elsewhere(int a, struct ring *r) {
    switch (a) {
    case A_SEA: return sea_free_other_shard(r);
    case A_GLIBC: return glibc_free_elsewhere(r);
#ifdef HAVE_JEMALLOC
    case A_JEMALLOC: return jemalloc_free_elsewhere(r);
#endif
#ifdef HAVE_MIMALLOC
    case A_MIMALLOC: return mimalloc_free_elsewhere(r);
#endif
    }
    return 0;
}

static sea_future bench_fiber(void) {
    if (sea_shard_count() < 2)
        return sea_failed(-EINVAL, "bench_malloc needs two shards (-c2)");
    sizes_init();
    long iters[NTEST] = {bench_iters(4000000, 1000), bench_iters(4000000, 1000), bench_iters(1000000, 1000),
                         bench_iters(1000000, 1000), bench_iters(200000, 100)};
    static struct ring ring;
    ring.n = bench_iters(2000000, 10000);
    ring.nobjs = bench_iters(500000, 1000);
    ring.objs = sea_malloc((size_t)ring.nobjs * sizeof(void *));
    int runs = bench_runs();
    for (int run = -1; run < runs; run++) { /* run -1 warms up */
        for (int t = 0; t < NTEST; t++) {
            for (int a = 0; a < NALLOC; a++) {
                if (!alloc_present[a])
                    continue;
                double v = t == T_XSHARD        ? cross(a, &ring)
                           : t == T_XSHARD_FREE ? free_elsewhere(a, &ring)
                                                : same_thread(a, t, run < 0 ? iters[t] / 10 : iters[t]);
                if (run >= 0)
                    bench_add(&series[t][a], v);
            }
            /* Let the shards take back what travelled (sea) between tests. */
            sea_future_detach(sea_await(sea_sleep(SEA_MSEC(1))));
        }
    }
    printf("# malloc+free pairs (ns per pair) and cross-CPU frees (ns per object); medians of %d runs\n", runs);
    for (int t = 0; t < NTEST; t++) {
        for (int a = 0; a < NALLOC; a++) {
            char name[64];
            snprintf(name, sizeof(name), "malloc.%s.%s", test_names[t], alloc_names[a]);
            if (!alloc_present[a]) {
                printf("# %s: not built (install lib%s-dev)\n", name, alloc_names[a]);
                continue;
            }
            bench_report(name, &series[t][a], "ns");
        }
        for (int a = 1; a < NALLOC; a++) {
            if (!alloc_present[a])
                continue;
            char name[64];
            snprintf(name, sizeof(name), "malloc.%s.ratio_vs_%s", test_names[t], alloc_names[a]);
            bench_ratio(name, bench_median(&series[t][A_SEA]), bench_median(&series[t][a]));
        }
    }
    printf("# targets: small pair <= 5.4 ns (Seastar) and <= mimalloc; cross-shard frees <= mimalloc\n");
    sea_free(ring.objs);
    return sea_ready();
}

static sea_future bench_main(void) {
    return sea_fiber_start_attr(&(sea_fiber_attr){.name = "bench"}, bench_fiber);
}

int main(int argc, char **argv) {
    /* Two shards unless told otherwise. */
    char *args[64];
    int n = 0;
    args[n++] = argv[0];
    args[n++] = "-c2";
    for (int i = 1; i < argc && n < 63; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    return bench_app_run(n, args, bench_main);
}
