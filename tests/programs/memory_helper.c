/*
 * memory_helper.c - a sea application run by test_memory with a small -m, to
 * spend a shard's whole budget.  "oom" checks, in order:
 *   budget     allocations fail with ENOMEM once the budget is spent, and
 *              not much before (the budget is what -m gave the shard);
 *   sea ops    with memory spent, sea's own operations fail their futures
 *              with ENOMEM instead of aborting (when sea serves malloc);
 *   recovered  once everything is freed, one allocation of nearly the whole
 *              budget succeeds (free pages merged back, across blocks);
 *   churn      a large allocation freed between small ones that stay, a
 *              million times: the small ones never pin the large one's pages;
 *   reclaim    a reclaim hook frees a cache's entries when an allocation
 *              would fail, and the allocation then succeeds.
 * "twice" runs the application twice in one process: memory a shard handed
 * out in the first run is freed by the main thread between the runs (the C
 * library serves malloc there), and comes home to the shard in the second.
 * Each prints "NAME ok"; any failure prints what went wrong and exits 1.
 */
#include <sea/sea.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define EXPECT(cond) \
    do { \
        if (!(cond)) { \
            printf("memory_helper:%d: %s\n", __LINE__, #cond); \
            failures++; \
        } \
    } while (0)

/* Objects held, linked through their first word. */
struct held {
    struct held *next;
};

static struct held *hold_until_full(struct held *list, size_t size, size_t *count) {
    for (;;) {
        struct held *h = sea_malloc(size);
        if (!h)
            return list;
        h->next = list;
        list = h;
        ++*count;
    }
}

static void release(struct held *list) {
    while (list) {
        struct held *next = list->next;
        sea_free(list);
        list = next;
    }
}

static struct held *cache;
static size_t cache_entries;
static int hook_calls;

static size_t shrink_cache(void *arg, size_t wanted) {
    hook_calls++;
    size_t freed = 0;
    while (cache && freed < wanted + (256 << 10)) {
        struct held *h = cache;
        cache = h->next;
        sea_free(h);
        freed += 64 << 10;
        cache_entries--;
    }
    return freed;
}

static sea_future nothing_fiber(void) {
    return sea_ready();
}

static sea_future oom(void) {
    sea_memory_stats st0;
    EXPECT(sea_memory_stats_get(&st0) == 0);
    /* budget */
    size_t blocks = 0, smalls = 0;
    errno = 0;
    struct held *list = hold_until_full(NULL, 64 << 10, &blocks);
    EXPECT(errno == ENOMEM);
    /* Every small size class (sea/memory.h): whatever size sea's own objects have, none is left. */
    static const size_t sizes[] = {16,   32,   48,   64,   80,   96,   112,  128,  160,  192,  224,  256,
                                   320,  384,  448,  512,  640,  768,  896,  1024, 1280, 1536, 1792, 2048,
                                   2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192, 10240, 12288, 14336, 16384};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        list = hold_until_full(list, sizes[k], &smalls);
    sea_memory_stats st1;
    sea_memory_stats_get(&st1);
    EXPECT(st1.failed_allocs >= st0.failed_allocs + 12);
    EXPECT(st1.free < (64 << 10));
    /* Nearly all of the budget went to the application. */
    EXPECT(blocks * (64 << 10) > st0.total - (st0.total - st0.free) - (1 << 20));
    EXPECT(st0.total == (16u << 20));
    printf("budget ok\n");

    /* sea ops */
    if (sea_memory_overrides_malloc()) {
        sea_future f = sea_sleep(SEA_MSEC(1));
        EXPECT(sea_future_failed(&f) && sea_future_error(&f) == -ENOMEM);
        sea_future_ignore(f);
        sea_future g = sea_fiber_start(nothing_fiber);
        EXPECT(sea_future_failed(&g) && sea_future_error(&g) == -ENOMEM);
        sea_future_ignore(g);
        if (!failures)
            printf("sea operations ok\n");
    }

    /* recovered */
    release(list);
    sea_memory_stats st_free;
    sea_memory_stats_get(&st_free);
    void *most = sea_malloc(st_free.free - (256 << 10));
    EXPECT(most != NULL);
    sea_free(most);
    printf("recovered ok\n");

    /* churn: each round keeps a small object and frees a large one, whose unused tail the small ones must avoid */
    static const size_t large[] = {1000000, 100000, 20000};
    for (int k = 0; k < 3; k++) {
        struct held *kept = NULL;
        size_t nkept = 0;
        int failed_at = -1;
        for (int i = 0; i < 20000 && failed_at < 0; i++) {
            void *big = sea_malloc(large[k]);
            struct held *h = sea_malloc(64);
            if (!big || !h) {
                failed_at = i;
                sea_free(h);
            } else {
                h->next = kept;
                kept = h;
                nkept++;
            }
            sea_free(big);
        }
        if (failed_at >= 0)
            printf("churn with %zu-byte blocks failed at round %d\n", large[k], failed_at);
        EXPECT(failed_at < 0);
        release(kept);
    }
    if (!failures)
        printf("churn ok\n");

    /* reclaim */
    size_t n = 0;
    cache = hold_until_full(NULL, 64 << 10, &n);
    cache_entries = n;
    EXPECT(sea_memory_reclaimer_add(shrink_cache, NULL) == 0);
    void *p = sea_malloc(1 << 20);
    EXPECT(p != NULL);
    EXPECT(hook_calls == 1);
    EXPECT(cache_entries < n);
    sea_memory_stats st2;
    sea_memory_stats_get(&st2);
    EXPECT(st2.reclaims == st1.reclaims + 1);
    EXPECT(st2.reclaimed >= (1 << 20));
    sea_free(p);
    release(cache);
    EXPECT(sea_memory_reclaimer_remove(shrink_cache, NULL) == 0);
    if (!failures)
        printf("reclaim ok\n");
    return failures ? sea_failed(-EIO, "memory_helper failed") : sea_ready();
}

static void *kept;

static sea_future first_run(void) {
    kept = sea_malloc(1000);
    memset(kept, 5, 1000);
    return sea_ready();
}

static sea_future second_run(void) {
    sea_memory_stats st;
    EXPECT(sea_memory_stats_get(&st) == 0);
    /* The free made between the runs was taken back when the shard started. */
    EXPECT(st.cross_shard_frees >= 1);
    void *p = sea_malloc(1000);
    EXPECT(p && sea_memory_owner(p) == 0);
    sea_free(p);
    return failures ? sea_failed(-EIO, "memory_helper failed") : sea_ready();
}

static int twice(int argc, char **argv) {
    int rc = sea_app_run(argc, argv, first_run);
    EXPECT(rc == 0);
    /* Between runs: no shard; shard memory is still recognised, new memory is the C library's. */
    EXPECT(sea_memory_owner(kept) == 0 && ((unsigned char *)kept)[999] == 5);
    if (sea_memory_overrides_malloc())
        free(kept); /* routed to sea_free */
    else
        sea_free(kept);
    char *s = strdup("between");
    EXPECT(s && sea_memory_owner(s) == -1);
    free(s);
    sea_memory_stats st;
    EXPECT(sea_memory_stats_get(&st) == -EPERM);
    rc = sea_app_run(argc, argv, second_run);
    EXPECT(rc == 0);
    if (!failures)
        printf("twice ok\n");
    return failures ? 1 : 0;
}

static sea_future helper_main(void) {
    int n = 0;
    char **args = sea_app_args(&n);
    if (n == 1 && strcmp(args[0], "oom") == 0)
        return oom();
    return sea_failed(-EINVAL, "usage: memory_helper [sea options] oom|twice");
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[argc - 1], "twice") == 0)
        return twice(argc, argv);
    return sea_app_run(argc, argv, helper_main);
}
