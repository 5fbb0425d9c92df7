/*
 * test_memory.c - the sharded allocator (sea/memory.h), run with -c1 and -c2.
 *
 * Every size class and its usable size; malloc itself served from the
 * shard's memory when this build overrides it; random sizes and lifetimes
 * with their contents checked; realloc across size classes and between small
 * and large, in place where it can be; every alignment through every
 * aligned-allocation entry point, and bad alignments; frees on another shard
 * (a storm in both directions at once) that come home and are reused there;
 * threads that are not shards (C library memory, freeing shard memory and
 * having theirs freed by a shard); statistics that add up; bad calls; frees
 * of pointers that were never allocated (a clear abort); a fork()ed child
 * that allocates and an exec'd one.  Budgets and out-of-memory, which need a
 * small -m, run in memory_helper (t_out_of_memory), as do two application
 * runs in one process with memory freed between them (t_two_runs).
 */
#include "check.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *helper_path;

static sea_memory_stats stats(void) {
    sea_memory_stats st;
    CHECK_EQ(sea_memory_stats_get(&st), 0);
    return st;
}

/* Fills p with bytes derived from seed; checks them. */
static void fill(void *p, size_t n, uint64_t seed) {
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(seed + i * 131);
}

static bool intact(const void *p, size_t n, uint64_t seed) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(seed + i * 131))
            return false;
    return true;
}

/* Checks n bytes at offset off of a block filled with fill(p, ..., seed). */
static bool intact_at(const unsigned char *p, size_t off, size_t n, uint64_t seed) {
    return intact(p + off, n, seed + off * 131);
}

/*
 * sea's own bookkeeping (future nodes, timers, messages) allocates too, so
 * "back to where it was" allows this much noise.
 */
#define NOISE (64 * 1024)
#define CHECK_NEAR(a, b) CHECK((a) + NOISE >= (b) && (b) + NOISE >= (a))

/* ---- sizes ---- */

static sea_future t_size_classes(void) {
    int me = (int)sea_shard_id();
    int bad = 0;
    size_t last_usable = 0;
    for (size_t size = 0; size <= 70000; size += size < 1100 ? 1 : size < 17000 ? 7 : 997) {
        unsigned char *p = sea_malloc(size);
        size_t u = sea_malloc_usable_size(p);
        /* Classes are at most 25% (or 16 bytes) larger than asked; large sizes are whole pages. */
        bool ok = p && sea_memory_owner(p) == me && ((uintptr_t)p & 15) == 0 && u >= size &&
                  (size > 16384 ? u == ((size + 4095) & ~(size_t)4095) : u <= size + size / 4 + 16) &&
                  u >= last_usable;
        if (!ok && bad++ < 5)
            fprintf(stderr, "  size %zu: %p, usable %zu\n", size, (void *)p, u);
        if (p) {
            memset(p, 0xa5, u);
            last_usable = u;
        }
        sea_free(p);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(sea_malloc_usable_size(NULL), 0);
    sea_free(NULL);
    /* calloc: zeroed, including memory that held something before. */
    for (int round = 0; round < 3; round++) {
        for (size_t n = 1; n < 200000; n = n * 3 + 1) {
            unsigned char *p = sea_calloc(n, 1);
            CHECK(p != NULL);
            size_t nonzero = 0;
            for (size_t i = 0; p && i < n; i++)
                nonzero += p[i] != 0;
            CHECK_EQ(nonzero, 0);
            if (p)
                memset(p, 0xff, n);
            sea_free(p);
        }
    }
    errno = 0;
    CHECK(sea_calloc(SIZE_MAX / 2, 3) == NULL);
    CHECK_EQ(errno, ENOMEM);
    return sea_ready();
}

static sea_future t_malloc_is_sea(void) {
    int me = (int)sea_shard_id();
    void *p = malloc(100);
    char *s = strdup("hello");
    void *big = malloc(1 << 20);
    if (sea_memory_overrides_malloc()) {
        CHECK_EQ(sea_memory_owner(p), me);
        CHECK_EQ(sea_memory_owner(s), me);
        CHECK_EQ(sea_memory_owner(big), me);
        CHECK_EQ(malloc_usable_size(p), 112);
    } else {
        CHECK_EQ(sea_memory_owner(p), -1);
    }
    /* Either kind of pointer goes to either free. */
    sea_free(p);
    free(s);
    free(big);
    void *q = sea_malloc(64);
    CHECK_EQ(sea_memory_owner(q), me);
    if (sea_memory_overrides_malloc())
        free(q);
    else
        sea_free(q);
    return sea_ready();
}

/* ---- random sizes and lifetimes ---- */

#define SLOTS 4096

struct slot {
    unsigned char *p;
    size_t n;
    uint64_t seed;
};

/*
 * Blocks up to 4 KiB are filled whole; larger ones at both ends, the middle
 * and every 4 KiB page's first bytes (filling megabytes would dominate).
 */
static void mark(unsigned char *p, size_t n, uint64_t seed) {
    if (n <= 4096) {
        fill(p, n, seed);
        return;
    }
    for (size_t off = 0; off + 64 <= n; off += 4096)
        fill(p + off, 64, seed + off * 131);
    fill(p + n / 2, 64, seed + (n / 2) * 131);
    fill(p + n - 64, 64, seed + (n - 64) * 131);
}

static bool marked(const unsigned char *p, size_t n, uint64_t seed) {
    if (n <= 4096)
        return intact(p, n, seed);
    for (size_t off = 0; off + 64 <= n; off += 4096)
        if (!intact_at(p, off, 64, seed))
            return false;
    return intact_at(p, n / 2, 64, seed) && intact_at(p, n - 64, 64, seed);
}

static size_t random_size(uint64_t *rng) {
    uint64_t r = sea_test_rand(rng);
    switch (r % 20) {
    case 0: return (size_t)(r >> 8) % (1536 * 1024);     /* large */
    case 1: case 2: case 3: case 4: return (size_t)(r >> 8) % 65536; /* medium */
    default: return (size_t)(r >> 8) % 600;              /* small */
    }
}

static sea_future t_random_lifetimes(void) {
    static struct slot slots[SLOTS];
    uint64_t rng = 0xfeed + sea_shard_id();
    sea_memory_stats before = stats();
    int corrupt = 0, failed = 0;
    for (int op = 0; op < 300000; op++) {
        struct slot *s = &slots[sea_test_rand(&rng) % SLOTS];
        if (s->p) {
            if (!marked(s->p, s->n, s->seed))
                corrupt++;
            sea_free(s->p);
            s->p = NULL;
            continue;
        }
        s->n = random_size(&rng) + 1;
        s->seed = sea_test_rand(&rng);
        s->p = sea_malloc(s->n);
        if (!s->p) {
            failed++;
            continue;
        }
        mark(s->p, s->n, s->seed);
    }
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].p && !marked(slots[i].p, slots[i].n, slots[i].seed))
            corrupt++;
        sea_free(slots[i].p);
        slots[i].p = NULL;
    }
    CHECK_EQ(corrupt, 0);
    CHECK_EQ(failed, 0);
    sea_memory_stats after = stats();
    /* Everything freed: what is in use is what was before; the parts add up to the budget. */
    CHECK_NEAR(after.used, before.used);
    CHECK_EQ(after.used + after.cached + after.free, after.total);
    CHECK(after.large_allocs > before.large_allocs);
    return sea_ready();
}

/* ---- realloc ---- */

static sea_future t_realloc(void) {
    int me = (int)sea_shard_id();
    /* Grow from 1 byte to 3 MiB and back, through every kind of allocation, keeping the contents. */
    size_t n = 1;
    unsigned char *p = sea_realloc(NULL, n);
    CHECK(p != NULL);
    fill(p, n, 9);
    int bad = 0;
    while (n < 3 * 1024 * 1024) {
        size_t m = n + n / 2 + 1;
        p = sea_realloc(p, m);
        if (!p || !intact(p, n, 9) || sea_memory_owner(p) != me) {
            bad++;
            break;
        }
        fill(p, m, 9);
        n = m;
    }
    while (p && n > 1) {
        size_t m = n / 3;
        if (!m)
            m = 1;
        p = sea_realloc(p, m);
        if (!p || !intact(p, m, 9)) {
            bad++;
            break;
        }
        n = m;
    }
    CHECK_EQ(bad, 0);
    sea_free(p);
    /* Within a size class, and a large allocation shrinking, stay where they are. */
    p = sea_malloc(100);
    CHECK(sea_realloc(p, 110) == p);
    CHECK(sea_realloc(p, 97) == p);
    sea_free(p);
    p = sea_malloc(1 << 20);
    fill(p, 100000, 3);
    sea_memory_stats st0 = stats();
    CHECK(sea_realloc(p, 100000) == p);
    CHECK(intact(p, 100000, 3));
    CHECK_EQ(sea_malloc_usable_size(p), 102400);
    sea_memory_stats st1 = stats();
    CHECK_EQ(st0.used - st1.used, (1 << 20) - 102400);
    sea_free(p);
    /* realloc(p, 0) frees; realloc(NULL, n) allocates. */
    p = sea_malloc(50);
    CHECK(sea_realloc(p, 0) == NULL);
    p = sea_realloc(NULL, 0);
    CHECK(p != NULL);
    sea_free(p);
    /* Too much: NULL, ENOMEM, and the old block intact. */
    p = sea_malloc(64);
    fill(p, 64, 4);
    errno = 0;
    CHECK(sea_realloc(p, SIZE_MAX - 4096) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK(intact(p, 64, 4));
    sea_free(p);
    return sea_ready();
}

/* ---- alignment ---- */

static sea_future t_alignments(void) {
    int me = (int)sea_shard_id();
    int bad = 0;
    for (size_t align = 1; align <= ((size_t)8 << 20); align *= 2) {
        size_t sizes[] = {0, 1, align > 1 ? align - 1 : 1, align, align + 1, 3 * align, 100};
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
            void *p = sea_aligned_alloc(align, sizes[k]);
            if (!p || ((uintptr_t)p & (align - 1)) || sea_memory_owner(p) != me ||
                sea_malloc_usable_size(p) < sizes[k]) {
                if (bad++ < 5)
                    fprintf(stderr, "  aligned_alloc(%zu, %zu) = %p\n", align, sizes[k], p);
            } else {
                memset(p, 1, sizes[k]);
            }
            sea_free(p);
        }
    }
    CHECK_EQ(bad, 0);
    errno = 0;
    CHECK(sea_aligned_alloc(3, 10) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(sea_aligned_alloc(0, 10) == NULL);
    CHECK_EQ(errno, EINVAL);
    /* The C library's names: ours in this build, glibc's otherwise; both must align. */
    void *p = NULL;
    CHECK_EQ(posix_memalign(&p, 64, 1000), 0);
    CHECK(p && ((uintptr_t)p & 63) == 0);
    free(p);
    p = aligned_alloc(4096, 4096);
    CHECK(p && ((uintptr_t)p & 4095) == 0);
    free(p);
    p = memalign(1 << 16, 10);
    CHECK(p && ((uintptr_t)p & 0xffff) == 0);
    free(p);
    p = valloc(10);
    CHECK(p && ((uintptr_t)p & 4095) == 0);
    free(p);
    p = pvalloc(10);
    CHECK(p && ((uintptr_t)p & 4095) == 0 && malloc_usable_size(p) >= 4096);
    free(p);
    p = reallocarray(NULL, 10, 10);
    CHECK(p != NULL);
    free(p);
    if (sea_memory_overrides_malloc()) {
        /* Bad requests through the C library's names (sanitizers abort on these instead). */
        CHECK_EQ(posix_memalign(&p, 24, 10), EINVAL);
        CHECK_EQ(posix_memalign(&p, 2, 10), EINVAL);
        p = reallocarray(NULL, 10, 10);
        errno = 0;
        volatile size_t huge = SIZE_MAX / 2; /* hidden from the compiler's own overflow warning */
        void *q = reallocarray(p, huge, 3);
        CHECK(q == NULL);
        CHECK_EQ(errno, ENOMEM);
        free(q ? q : p);
        p = memalign(256, 10);
        CHECK_EQ(sea_memory_owner(p), me);
        free(p);
    }
    return sea_ready();
}

/* ---- other shards ---- */

struct batch {
    void **ptrs;
    unsigned n;
    uint64_t seed;
};

/* On the target: allocates b->n objects of assorted sizes, tagged with seed. */
static sea_future alloc_batch(struct batch *b) {
    uint64_t rng = b->seed;
    for (unsigned i = 0; i < b->n; i++) {
        size_t n = 16 + sea_test_rand(&rng) % (i % 64 == 0 ? 100000 : 900);
        b->ptrs[i] = sea_malloc(n);
        if (!b->ptrs[i])
            return sea_failed(-ENOMEM, "alloc_batch");
        *(uint64_t *)b->ptrs[i] = b->seed + i;
    }
    return sea_ready_int((int64_t)sea_shard_id());
}

/* On the target: frees what another shard allocated, checking the tags. */
static sea_future free_batch(struct batch *b) {
    int64_t bad = 0;
    for (unsigned i = 0; i < b->n; i++) {
        if (*(uint64_t *)b->ptrs[i] != b->seed + i)
            bad++;
        sea_free(b->ptrs[i]);
    }
    return sea_ready_int(bad);
}

struct nothing {
    int unused;
};

struct stats_out {
    sea_memory_stats *st;
};

/* On the target: fills in the asker's struct (which waits for the answer). */
static sea_future get_stats(struct stats_out *out) {
    return sea_ready_int(sea_memory_stats_get(out->st));
}

/* Another shard's statistics. */
static sea_memory_stats stats_of(unsigned shard) {
    sea_memory_stats st = {0};
    sea_value v;
    CHECK_EQ(sea_await_value(sea_submit_to(shard, get_stats, (struct stats_out){&st}), &v), 0);
    return st;
}

/* Waits (up to 200 ms) until the shard's memory in use is back near used; returns its statistics. */
static sea_memory_stats wait_home(unsigned shard, size_t used) {
    sea_memory_stats st = {0};
    for (int i = 0; i < 200; i++) {
        st = stats_of(shard);
        if (st.used + NOISE >= used && used + NOISE >= st.used)
            break;
        sea_future_detach(sea_await(sea_sleep(SEA_MSEC(1))));
    }
    return st;
}

#define BATCH 20000

FIBER_CASE(t_cross_shard_free) {
    unsigned other = sea_test_next_shard();
    bool remote = other != sea_shard_id();
    void **ptrs = sea_malloc(BATCH * sizeof(void *));
    sea_memory_stats o0 = stats_of(other), me0 = stats();
    uint64_t seed = 77;
    size_t free_lo = SIZE_MAX, free_hi = 0;
    for (int round = 0; round < 10; round++) {
        struct batch b = {ptrs, BATCH, seed + (uint64_t)round * BATCH};
        sea_value v;
        CHECK_EQ(sea_await_value(sea_submit_to(other, alloc_batch, b), &v), 0);
        CHECK_EQ(v.i, other);
        int wrong_owner = 0;
        for (unsigned i = 0; i < BATCH; i++)
            wrong_owner += sea_memory_owner(ptrs[i]) != (int)other;
        CHECK_EQ(wrong_owner, 0);
        /* Free them here: they travel home in batches, and are reused there. */
        CHECK_EQ(sea_await_value(free_batch(&b), &v), 0);
        CHECK_EQ(v.i, 0);
        sea_memory_stats o = wait_home(other, o0.used);
        CHECK_NEAR(o.used, o0.used);
        free_lo = o.free < free_lo ? o.free : free_lo;
        free_hi = o.free > free_hi ? o.free : free_hi;
    }
    sea_free(ptrs);
    sea_memory_stats o1 = wait_home(other, o0.used), me1 = stats();
    if (remote) {
        CHECK_EQ(o1.cross_shard_frees - o0.cross_shard_frees, 10 * BATCH);
        CHECK_EQ(me1.foreign_frees - me0.foreign_frees, 10 * BATCH);
    }
    /* Ten rounds of 20,000 objects (about 10 MiB each) did not eat into the free pages. */
    CHECK(free_hi - free_lo < (2u << 20));
    return sea_ready();
}

/* Every shard allocates and sends its objects to the next one to free, all at once. */
static sea_future storm_fiber(void) {
    void **ptrs = sea_malloc(BATCH * sizeof(void *));
    if (!ptrs)
        return sea_failed(-ENOMEM, "storm");
    int64_t bad = 0;
    for (int round = 0; round < 5; round++) {
        struct batch b = {ptrs, BATCH, 1000u * sea_shard_id() + (uint64_t)round};
        sea_value v;
        if (sea_await_value(alloc_batch(&b), &v) != 0)
            bad++;
        if (sea_await_value(sea_submit_to(sea_test_next_shard(), free_batch, b), &v) != 0 || v.i != 0)
            bad++;
    }
    sea_free(ptrs);
    return bad ? sea_failed(-EIO, "storm: objects damaged or lost") : sea_ready();
}

static sea_future storm_one(void) {
    return sea_fiber_start(storm_fiber);
}

FIBER_CASE(t_cross_shard_storm) {
    unsigned n = sea_shard_count();
    sea_memory_stats before[8];
    /* A first storm leaves each shard with a fiber stack arena cached; the second is measured. */
    for (int storm = 0; storm < 2; storm++) {
        for (unsigned i = 0; i < n && i < 8; i++)
            before[i] = stats_of(i);
        sea_future r = sea_await(sea_invoke_on_all(storm_one));
        CHECK(!sea_future_failed(&r));
        sea_future_ignore(r);
    }
    for (unsigned i = 0; i < n && i < 8; i++) {
        sea_memory_stats after = wait_home(i, before[i].used);
        CHECK_NEAR(after.used, before[i].used);
        CHECK_EQ(after.used + after.cached + after.free, after.total);
    }
    return sea_ready();
}

/* ---- threads that are not shards ---- */

static size_t no_reclaim(void *arg, size_t wanted) {
    (void)arg, (void)wanted;
    return 0;
}

struct thread_job {
    void *shard_ptr;      /* to free on the thread */
    void *thread_ptr;     /* allocated on the thread, freed by the shard */
    int thread_owner;
    int stats_rc, add_rc;
};

static void *thread_main(void *arg) {
    struct thread_job *j = arg;
    sea_free(j->shard_ptr);
    j->thread_ptr = sea_malloc(200);
    j->thread_owner = sea_memory_owner(j->thread_ptr);
    memset(j->thread_ptr, 7, 200);
    sea_memory_stats st;
    j->stats_rc = sea_memory_stats_get(&st);
    j->add_rc = sea_memory_reclaimer_add(no_reclaim, NULL);
    /* malloc on a thread: the C library's memory, whatever the build. */
    void *p = malloc(1000);
    void *q = realloc(p, 5000);
    free(q);
    return NULL;
}

FIBER_CASE(t_other_threads) {
    sea_memory_stats st0 = stats();
    struct thread_job j = {.shard_ptr = sea_malloc(3000)};
    memset(j.shard_ptr, 1, 3000);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, thread_main, &j), 0);
    pthread_join(t, NULL);
    CHECK_EQ(j.thread_owner, -1);
    CHECK_EQ(j.stats_rc, -EPERM);
    CHECK_EQ(j.add_rc, -EPERM);
    /* The shard frees the thread's memory; the thread's free of ours comes home. */
    CHECK(j.thread_ptr && ((unsigned char *)j.thread_ptr)[199] == 7);
    sea_free(j.thread_ptr);
    sea_future_detach(sea_await(sea_sleep(SEA_MSEC(1))));
    sea_memory_stats st1 = stats();
    CHECK_EQ(st1.cross_shard_frees - st0.cross_shard_frees, 1);
    CHECK_NEAR(st1.used, st0.used);
    /* realloc moves C library memory into the shard. */
    j.shard_ptr = sea_malloc(3000);
    pthread_create(&t, NULL, thread_main, &j);
    pthread_join(t, NULL);
    unsigned char *moved = sea_realloc(j.thread_ptr, 300);
    CHECK_EQ(sea_memory_owner(moved), (int)sea_shard_id());
    CHECK(moved && moved[0] == 7 && moved[199] == 7);
    sea_free(moved);
    return sea_ready();
}

/* ---- statistics, hooks, bad calls ---- */

static size_t count_calls(void *arg, size_t wanted) {
    (void)wanted;
    ++*(int *)arg;
    return 0;
}

static sea_future t_stats_and_hooks(void) {
    sea_memory_stats st = stats();
    CHECK(st.total > (4u << 20));
    CHECK_EQ(st.used + st.cached + st.free, st.total);
    CHECK(st.metadata > 0);
    void *p = sea_malloc(5 << 20);
    sea_memory_stats st2 = stats();
    CHECK_EQ(st2.used - st.used, 5 << 20);
    CHECK_EQ(st.free - st2.free, 5 << 20);
    CHECK_EQ(st2.large_allocs - st.large_allocs, 1);
    sea_free(p);
    int calls = 0, other = 0;
    CHECK_EQ(sea_memory_reclaimer_add(NULL, NULL), -EINVAL);
    CHECK_EQ(sea_memory_reclaimer_remove(count_calls, &calls), -ENOENT);
    CHECK_EQ(sea_memory_reclaimer_add(count_calls, &calls), 0);
    for (int i = 1; i < 16; i++)
        CHECK_EQ(sea_memory_reclaimer_add(count_calls, &other), 0);
    CHECK_EQ(sea_memory_reclaimer_add(count_calls, &other), -ENOSPC);
    /* Allocations that can never succeed fail at once: no hook could help. */
    errno = 0;
    CHECK(sea_malloc((size_t)1 << 46) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK(sea_malloc(st.total + 4096) == NULL);
    CHECK(sea_aligned_alloc((size_t)1 << 50, 100) == NULL);
    CHECK_EQ(calls, 0);
    CHECK_EQ(other, 0);
    for (int i = 1; i < 16; i++)
        CHECK_EQ(sea_memory_reclaimer_remove(count_calls, &other), 0);
    CHECK_EQ(sea_memory_reclaimer_remove(count_calls, &calls), 0);
    CHECK_EQ(sea_memory_reclaimer_remove(count_calls, &calls), -ENOENT);
    sea_memory_stats st3 = stats();
    CHECK_EQ(st3.failed_allocs - st.failed_allocs, 3);
    CHECK_EQ(st3.reclaims - st.reclaims, 0);
    return sea_ready();
}

static void bad_free_child(void *arg) {
    char *p = sea_malloc(100000);
    sea_free(p + (uintptr_t)arg);
}

static void double_free_child(void *arg) {
    char *p = sea_malloc((size_t)(uintptr_t)arg);
    sea_free(p);
    sea_free(p);
}

static sea_future t_bad_frees_abort(void) {
    static struct sea_test_child child;
    sea_test_fork(bad_free_child, (void *)(uintptr_t)8192, &child);
    CHECK(sea_test_killed_by(&child, SIGABRT));
    CHECK_CONTAINS(child.err, "is not an allocation");
    sea_test_fork(bad_free_child, (void *)(uintptr_t)16, &child);
    CHECK(sea_test_killed_by(&child, SIGABRT));
    CHECK_CONTAINS(child.err, "is not an allocation");
    /* Twice in a row, large and small. */
    sea_test_fork(double_free_child, (void *)(uintptr_t)100000, &child);
    CHECK(sea_test_killed_by(&child, SIGABRT));
    CHECK_CONTAINS(child.err, "freed twice, or never allocated");
    sea_test_fork(double_free_child, (void *)(uintptr_t)100, &child);
    CHECK(sea_test_killed_by(&child, SIGABRT));
    CHECK_CONTAINS(child.err, "freed twice, or never allocated");
    return sea_ready();
}

#if defined(__SANITIZE_ADDRESS__)
static void use_after_free_child(void *arg) {
    volatile char *p = sea_malloc((size_t)(uintptr_t)arg);
    sea_free((void *)p);
    printf("read %d\n", p[10]);
}
#endif

/* Under AddressSanitizer, freed shard memory is poisoned: a use after free is reported. */
static sea_future t_asan_sees_shard_memory(void) {
#if defined(__SANITIZE_ADDRESS__)
    static struct sea_test_child child;
    size_t sizes[] = {64, 5000, 100000};
    for (int i = 0; i < 3; i++) {
        sea_test_fork(use_after_free_child, (void *)(uintptr_t)sizes[i], &child);
        CHECK(!sea_test_exited_with(&child, 0));
        CHECK_CONTAINS(child.err, "AddressSanitizer: use-after-poison");
    }
#endif
    return sea_ready();
}

/* ---- processes ---- */

static void forked_child(void *arg) {
    (void)arg;
    /* The child has one thread: it goes on using the shard's heap it inherited. */
    int bad = 0;
    for (int i = 0; i < 10000; i++) {
        char *p = malloc((size_t)(i % 3000) + 1);
        char *q = sea_malloc((size_t)(i % 70000) + 1);
        if (!p || !q)
            bad++;
        else {
            p[0] = q[0] = 1;
            p = realloc(p, 5000);
        }
        free(p);
        sea_free(q);
    }
    printf("child %s\n", bad ? "failed" : "ok");
}

static sea_future t_fork_and_exec(void) {
    static struct sea_test_child child;
    void *keep = sea_malloc(1000);
    memset(keep, 3, 1000);
    sea_test_fork(forked_child, NULL, &child);
    CHECK(sea_test_exited_with(&child, 0));
    CHECK_STREQ(child.out, "child ok\n");
    /* The parent's memory is untouched by the child's. */
    CHECK(((unsigned char *)keep)[999] == 3);
    sea_free(keep);
    /* posix_spawn and exec from a shard. */
    pid_t pid;
    char *argv[] = {"/bin/sh", "-c", "exit 3", NULL};
    CHECK_EQ(posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ), 0);
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    return sea_ready();
}

/* ---- small budgets: memory_helper with -m ---- */

static sea_future t_out_of_memory(void) {
    static struct sea_test_child child;
    const char *backend = sea_test_backend_arg ? sea_test_backend_arg : "epoll";
    char opt[64];
    snprintf(opt, sizeof(opt), "--reactor-backend=%s", backend);
    char *argv[] = {(char *)helper_path, opt, "-c1", "-m", "16M", "oom", NULL};
    sea_test_exec(argv, &child);
    CHECK(sea_test_exited_with(&child, 0));
    CHECK_CONTAINS(child.out, "budget ok\n");
    CHECK_CONTAINS(child.out, "reclaim ok\n");
    CHECK_CONTAINS(child.out, "recovered ok\n");
    CHECK_CONTAINS(child.out, "churn ok\n");
    if (sea_memory_overrides_malloc())
        CHECK_CONTAINS(child.out, "sea operations ok\n");
    if (!sea_test_exited_with(&child, 0))
        fprintf(stderr, "  helper: %s%s", child.out, child.err);
    return sea_ready();
}

static sea_future t_two_runs(void) {
    static struct sea_test_child child;
    char *argv[] = {(char *)helper_path, "-c1", "twice", NULL};
    sea_test_exec(argv, &child);
    CHECK(sea_test_exited_with(&child, 0));
    CHECK_STREQ(child.out, "twice ok\n");
    if (!sea_test_exited_with(&child, 0))
        fprintf(stderr, "  helper: %s%s", child.out, child.err);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_size_classes),
    SEA_TEST(t_malloc_is_sea),
    SEA_TEST(t_random_lifetimes),
    SEA_TEST(t_realloc),
    SEA_TEST(t_alignments),
    SEA_TEST(t_cross_shard_free),
    SEA_TEST(t_cross_shard_storm),
    SEA_TEST(t_other_threads),
    SEA_TEST(t_stats_and_hooks),
    SEA_TEST(t_bad_frees_abort),
    SEA_TEST(t_asan_sees_shard_memory),
    SEA_TEST(t_fork_and_exec),
    SEA_TEST(t_out_of_memory),
    SEA_TEST(t_two_runs),
};

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MEMORY_HELPER [options] [case]\n", argv[0]);
        return 2;
    }
    helper_path = argv[1];
    argv[1] = argv[0];
    return sea_test_main(argc - 1, argv + 1, cases, SEA_TEST_COUNT(cases));
}
