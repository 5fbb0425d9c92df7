/*
 * memory.c - the sharded allocator: every shard allocates from its own slice
 * of one virtual region, with no lock and no atomic on its fast paths.
 *
 * Layout.  The region (reserved by memory_setup.c) is nslices slices of
 * 2^shift bytes; slice i is shard i's heap.  Because slices are aligned to
 * their size, free() finds a pointer's owner with a subtraction and a shift,
 * and a pointer outside the region is the C library's.  A slice begins with
 * the heap's header (struct sea__heap), then one 32-byte descriptor per 4 KiB
 * page of the slice (struct pmeta), then the pages themselves.  Memory is
 * reserved, not committed: pages are touched, and so cost RAM, only when used.
 *
 * Pages.  A buddy allocator over the slice's pages hands out runs of pages:
 * a request for n pages takes the smallest free block of 2^k >= n pages,
 * splits it, and gives back the unused tail, so large allocations cost
 * exactly their pages.  Freed blocks merge with their buddies up to 4 MiB
 * (MERGE_CAP); larger merges happen only when an allocation finds nothing,
 * which keeps a free next to its allocation cheap.  One freed block of each
 * power-of-two size up to 4 MiB is kept aside ("hot") and handed straight to
 * the next request of that size.  The budget (the shard's share of -m) caps
 * the pages in use.
 *
 * Small objects (up to 16 KiB) come in 36 size classes: multiples of 16 up
 * to 128, then four per power of two.  Each class owns spans of 1-16 pages
 * cut into equal objects.  malloc pops the class's free list and free pushes
 * onto it, finding the class in the page's descriptor.  When a class hoards
 * more free objects than it should, the surplus goes back to the spans they
 * came from, and a span whose objects are all back returns to the pages.
 *
 * Other threads.  A free of another shard's memory is batched per owner (32
 * objects, or the end of the loop turn) and pushed onto the owner's lock-free
 * list with one compare-and-swap; the owner takes the whole list with one
 * exchange, in its loop or when it runs short, and frees the objects as its
 * own.  Threads that are not shards allocate from the C library.
 *
 * Out of memory.  Before an allocation fails the heap takes back what other
 * shards freed, returns every cached small object, merges free blocks, and
 * runs the application's reclaim hooks, then retries once.
 */
#include "mem/mem.h"

#include <sea/memory.h>

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/panic.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define PAGE_SHIFT 12
#define PAGE ((size_t)1 << PAGE_SHIFT)
#define SMALL_MAX 16384
#define NCLASSES 36
#define MAX_ORDERS 48      /* free lists: blocks of 2^0 .. 2^47 pages */
#define MERGE_CAP 10       /* frees merge buddies up to 2^10 pages (4 MiB) */
#define HOT_MAX 10         /* one freed block of each order up to this is kept aside */
#define REMOTE_BATCH 32    /* foreign frees sent home together */
#define MAX_RECLAIMERS 16
#define NONE UINT32_MAX

/* ---- the system allocator, for pointers and threads that are not sea's ---- */

#ifdef SEA_MALLOC_OVERRIDE
/* glibc's own entry points: malloc and friends are ours in this build. */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
#define sys_malloc __libc_malloc
#define sys_free __libc_free
#define sys_calloc __libc_calloc
#define sys_realloc __libc_realloc
#define sys_memalign __libc_memalign

static size_t sys_usable(void *p) {
    /* glibc exports no __libc_ name for it; find the next definition once. */
    static size_t (*_Atomic fn)(void *);
    size_t (*f)(void *) = atomic_load_explicit(&fn, memory_order_relaxed);
    if (!f) {
        f = (size_t(*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
        if (!f)
            sea__panic("cannot find the C library's malloc_usable_size");
        atomic_store_explicit(&fn, f, memory_order_relaxed);
    }
    return f(p);
}
#else
#define sys_malloc malloc
#define sys_free free
#define sys_calloc calloc
#define sys_realloc realloc
#define sys_memalign memalign
#define sys_usable malloc_usable_size
#endif

/* ---- data structures ---- */

enum { PM_NONE, PM_FREE, PM_HOT, PM_LARGE, PM_SMALL };

/* One per page of a slice. */
struct pmeta {
    uint8_t kind;      /* PM_* */
    uint8_t order;     /* PM_FREE, PM_HOT: the block's order */
    uint16_t cls;      /* PM_SMALL: size class + 1 (0 on every other page: the free fast path's test) */
    uint32_t head;     /* PM_SMALL: the span's first page; PM_LARGE: the allocation's page count */
    uint32_t next, prev; /* PM_FREE: free-list links; span heads: the class's partial-span list */
    void *local;       /* span heads: objects given back to this span */
    uint32_t nlocal;   /* span heads: how many */
    uint32_t flags;    /* PM_FREE: PMF_TAIL */
};

/*
 * A free block cut from the unused end of a live large allocation.  Such
 * blocks wait at the back of their free list and are taken last, so that
 * small spans do not settle there and keep the allocation's block from
 * merging back whole when it is freed.
 */
#define PMF_TAIL 1u
_Static_assert(sizeof(struct pmeta) == 32, "page descriptors are 32 bytes");

/* A size class. */
struct pool {
    void *free;        /* objects ready to hand out, linked through their first word */
    uint32_t nfree;
    uint32_t max_free; /* more than this and the surplus goes back to the spans */
    uint32_t size;     /* object size */
    uint32_t objs;     /* objects per span */
    uint32_t partial;  /* spans holding given-back objects (page index), NONE-terminated */
    uint8_t order;     /* span size: 2^order pages */
    uint64_t carved;   /* objects out of their spans: in use or on the free list */
};

/* Foreign frees on their way to one owner. */
struct remote_batch {
    void *first, *last;
    uint32_t n;
    bool queued;       /* listed in the sender's pending ids */
};

struct reclaimer {
    sea_reclaim_fn fn;
    void *arg;
};

/* A shard's heap: the header of its slice. */
struct sea__heap {
    struct pool pools[NCLASSES];
    struct pmeta *meta;
    uint32_t fl[MAX_ORDERS];       /* free blocks of each order: other blocks first, tails last */
    uint32_t fl_last[MAX_ORDERS];
    uint32_t fl_plain[MAX_ORDERS]; /* how many of them are not tails */
    uint32_t hot[HOT_MAX + 1];
    uint64_t pages_used;           /* by spans and large allocations */
    uint64_t budget_pages;
    uint64_t span_pages;
    uint64_t large_pages;
    uint32_t header_pages;
    uint32_t data_start;           /* first page after the header and descriptors */
    uint32_t managed_end;          /* pages below this have been given to the buddy allocator */
    unsigned max_order;
    unsigned id;
    bool initialized;
    bool in_reclaim;
    _Atomic bool attached;         /* a shard is using this heap */
    struct remote_batch *batches;  /* one per slice */
    uint32_t *pending;             /* slices with a batch under way */
    unsigned npending;
    struct reclaimer reclaimers[MAX_RECLAIMERS];
    unsigned nreclaimers;
    sea_memory_stats stats;        /* the counters; sizes are computed on demand */
    /* Written by other threads: a cache line of its own. */
    _Alignas(64) _Atomic(void *) remote;
    char pad[64 - sizeof(void *)];
};

struct sea__mem_region sea__mem;
__thread struct sea__heap *sea__heap_current __attribute__((tls_model("initial-exec")));

static const uint32_t class_size[NCLASSES] = {
    16,   32,   48,   64,   80,   96,    112,   128,   160,   192,   224,   256,
    320,  384,  448,  512,  640,  768,   896,   1024,  1280,  1536,  1792,  2048,
    2560, 3072, 3584, 4096, 5120, 6144,  7168,  8192,  10240, 12288, 14336, 16384,
};

static inline unsigned size_class(size_t size) {
    if (size <= 128)
        return size ? (unsigned)(size - 1) >> 4 : 0;
    unsigned k = 63 - (unsigned)__builtin_clzl(size - 1);
    return 8 + (k - 7) * 4 + (unsigned)(((size - 1) >> (k - 2)) & 3);
}

static inline unsigned ceil_log2(uint64_t n) {
    return n <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(n - 1);
}

static inline char *page_addr(struct sea__heap *h, uint64_t i) {
    return (char *)h + (i << PAGE_SHIFT);
}

static inline uint32_t page_of(struct sea__heap *h, const void *p) {
    return (uint32_t)(((uintptr_t)p - (uintptr_t)h) >> PAGE_SHIFT);
}

/* The heap owning p, which must lie in the region. */
static inline struct sea__heap *heap_of(uintptr_t off) {
    return (struct sea__heap *)(sea__mem.base + ((off >> sea__mem.shift) << sea__mem.shift));
}

/* ---- pages: a buddy allocator ---- */

static void fl_push(struct sea__heap *h, uint32_t i, unsigned o, bool tail) {
    struct pmeta *m = &h->meta[i];
    m->kind = PM_FREE;
    m->order = (uint8_t)o;
    m->cls = 0;
    if (!tail) {
        m->flags = 0;
        m->prev = NONE;
        m->next = h->fl[o];
        if (m->next != NONE)
            h->meta[m->next].prev = i;
        else
            h->fl_last[o] = i;
        h->fl[o] = i;
        h->fl_plain[o]++;
    } else {
        m->flags = PMF_TAIL;
        m->next = NONE;
        m->prev = h->fl_last[o];
        if (m->prev != NONE)
            h->meta[m->prev].next = i;
        else
            h->fl[o] = i;
        h->fl_last[o] = i;
    }
}

static void fl_unlink(struct sea__heap *h, uint32_t i) {
    struct pmeta *m = &h->meta[i];
    if (m->prev != NONE)
        h->meta[m->prev].next = m->next;
    else
        h->fl[m->order] = m->next;
    if (m->next != NONE)
        h->meta[m->next].prev = m->prev;
    else
        h->fl_last[m->order] = m->prev;
    if (!(m->flags & PMF_TAIL))
        h->fl_plain[m->order]--;
    m->kind = PM_NONE;
    m->flags = 0;
}

/*
 * Frees block [i, i + 2^o), merging with free buddies while below cap.  A
 * tail that merged with nothing stays a tail.
 */
static void block_free(struct sea__heap *h, uint32_t i, unsigned o, unsigned cap, bool tail) {
    bool merged = false;
    while (o < cap && o < h->max_order) {
        uint32_t b = i ^ (1u << o);
        struct pmeta *bm = &h->meta[b];
        if (bm->kind != PM_FREE || bm->order != o)
            break;
        fl_unlink(h, b);
        i &= ~(1u << o);
        o++;
        merged = true;
    }
    fl_push(h, i, o, tail && !merged);
}

/* Frees pages [i, i + n) as the aligned blocks they decompose into. */
static void range_free(struct sea__heap *h, uint32_t i, uint64_t n, bool tail) {
    while (n) {
        unsigned o = i ? (unsigned)__builtin_ctz(i) : 31;
        unsigned f = 63 - (unsigned)__builtin_clzll(n);
        if (o > f)
            o = f;
        if (o > h->max_order)
            o = h->max_order;
        block_free(h, i, o, MERGE_CAP, tail);
        i += 1u << o;
        n -= 1ull << o;
    }
}

/* Hands the hot blocks back and merges every free buddy pair, however large. */
static void coalesce_all(struct sea__heap *h) {
    for (unsigned o = 0; o <= HOT_MAX; o++) {
        if (h->hot[o] != NONE) {
            uint32_t i = h->hot[o];
            h->hot[o] = NONE;
            h->meta[i].kind = PM_NONE;
            block_free(h, i, o, h->max_order, false);
        }
    }
    for (unsigned o = 0; o < h->max_order; o++) {
        uint32_t i = h->fl[o];
        while (i != NONE) {
            uint32_t next = h->meta[i].next;
            uint32_t b = i ^ (1u << o);
            struct pmeta *bm = &h->meta[b];
            if (bm->kind == PM_FREE && bm->order == o) {
                if (next == b)
                    next = bm->next;
                fl_unlink(h, b);
                fl_unlink(h, i);
                fl_push(h, i & b, o + 1, false);
            }
            i = next;
        }
    }
}

/* n pages aligned to 2^min_order pages; NONE when the budget or the free blocks fall short. */
static uint32_t pages_alloc(struct sea__heap *h, uint64_t n, unsigned min_order) {
    if (h->pages_used + n > h->budget_pages)
        return NONE;
    unsigned want = ceil_log2(n);
    if (want < min_order)
        want = min_order;
    if (want > h->max_order)
        return NONE;
    uint32_t i;
    if (want <= HOT_MAX && h->hot[want] != NONE) {
        i = h->hot[want];
        h->hot[want] = NONE;
        h->meta[i].kind = PM_NONE;
    } else {
        /* The smallest block that is not a live allocation's tail; a tail only if nothing else is left. */
        unsigned o = want;
        while (o <= h->max_order && !h->fl_plain[o])
            o++;
        if (o > h->max_order) {
            o = want;
            while (o <= h->max_order && h->fl[o] == NONE)
                o++;
            if (o > h->max_order)
                return NONE;
        }
        i = h->fl[o];
        bool tail = h->meta[i].flags & PMF_TAIL;
        fl_unlink(h, i);
        while (o > want) {
            o--;
            fl_push(h, i + (1u << o), o, tail);
        }
    }
    if (n < (1ull << want))
        range_free(h, (uint32_t)(i + n), (1ull << want) - n, true);
    h->pages_used += n;
    return i;
}

/*
 * n pages made of adjacent free blocks, for a request no single aligned
 * block can serve (the budget need not be a power of two, nor aligned).  The
 * run starts at a block of at least min_order, so it is aligned as asked.
 * Slow: for when everything else failed, after coalesce_all().
 */
static uint32_t run_alloc(struct sea__heap *h, uint64_t n, unsigned min_order) {
    uint64_t slice_pages = 1ull << h->max_order;
    for (unsigned o = h->max_order + 1; o-- > min_order;) {
        for (uint32_t i = h->fl[o]; i != NONE; i = h->meta[i].next) {
            uint64_t have = 1ull << o, j = i + have;
            while (have < n && j < slice_pages && h->meta[j].kind == PM_FREE) {
                have += 1ull << h->meta[j].order;
                j += 1ull << h->meta[j].order;
            }
            if (have < n)
                continue;
            for (uint64_t k = i; k < j;) {
                uint64_t len = 1ull << h->meta[k].order;
                fl_unlink(h, (uint32_t)k);
                k += len;
            }
            if (have > n)
                range_free(h, (uint32_t)(i + n), have - n, true);
            h->pages_used += n;
            return i;
        }
    }
    return NONE;
}

static void pages_free(struct sea__heap *h, uint32_t i, uint64_t n) {
    h->pages_used -= n;
    unsigned o = ceil_log2(n);
    if ((1ull << o) == n && o <= HOT_MAX && h->hot[o] == NONE) {
        struct pmeta *m = &h->meta[i];
        m->kind = PM_HOT;
        m->order = (uint8_t)o;
        m->cls = 0;
        h->hot[o] = i;
        return;
    }
    range_free(h, i, n, false);
}

/* ---- foreign frees ---- */

static void free_local(struct sea__heap *h, void *p);

static void batch_send(struct sea__heap *owner, struct remote_batch *b) {
    void *old = atomic_load_explicit(&owner->remote, memory_order_relaxed);
    do
        *(void **)b->last = old;
    while (!atomic_compare_exchange_weak_explicit(&owner->remote, &old, b->first, memory_order_release,
                                                  memory_order_relaxed));
    b->first = b->last = NULL;
    b->n = 0;
}

static void batches_flush(struct sea__heap *h) {
    for (unsigned k = 0; k < h->npending; k++) {
        struct remote_batch *b = &h->batches[h->pending[k]];
        if (b->n)
            batch_send(heap_of((uintptr_t)h->pending[k] << sea__mem.shift), b);
        b->queued = false;
    }
    h->npending = 0;
}

/* Takes back everything other threads freed of this heap's memory. */
static void drain_remote(struct sea__heap *h) {
    void *p = atomic_exchange_explicit(&h->remote, NULL, memory_order_acquire);
    uint64_t n = 0;
    while (p) {
        void *next = *(void **)p;
        free_local(h, p);
        p = next;
        n++;
    }
    h->stats.cross_shard_frees += n;
}

/* A free of owner's memory (slice owner_id) by someone else: me, or a thread that is not a shard. */
static void free_foreign(struct sea__heap *me, struct sea__heap *owner, unsigned owner_id, void *p) {
    if (!me) {
        /* Not a shard: one object, one compare-and-swap. */
        void *old = atomic_load_explicit(&owner->remote, memory_order_relaxed);
        do
            *(void **)p = old;
        while (!atomic_compare_exchange_weak_explicit(&owner->remote, &old, p, memory_order_release,
                                                      memory_order_relaxed));
        return;
    }
    me->stats.foreign_frees++;
    /* owner_id, not owner->id: the owner's header line is its own, and stays there. */
    struct remote_batch *b = &me->batches[owner_id];
    *(void **)p = b->first;
    if (!b->first)
        b->last = p;
    b->first = p;
    if (!b->queued) {
        b->queued = true;
        me->pending[me->npending++] = owner_id;
    }
    if (++b->n >= REMOTE_BATCH)
        batch_send(owner, b);
}

/* ---- small objects ---- */

static void partial_push(struct sea__heap *h, struct pool *pl, uint32_t head) {
    struct pmeta *m = &h->meta[head];
    m->prev = NONE;
    m->next = pl->partial;
    if (m->next != NONE)
        h->meta[m->next].prev = head;
    pl->partial = head;
}

static void partial_unlink(struct sea__heap *h, struct pool *pl, uint32_t head) {
    struct pmeta *m = &h->meta[head];
    if (m->prev != NONE)
        h->meta[m->prev].next = m->next;
    else
        pl->partial = m->next;
    if (m->next != NONE)
        h->meta[m->next].prev = m->prev;
}

static void span_release(struct sea__heap *h, struct pool *pl, uint32_t head) {
    uint32_t n = 1u << pl->order;
    for (uint32_t j = 0; j < n; j++)
        h->meta[head + j] = (struct pmeta){0};
    h->span_pages -= n;
    POISON(page_addr(h, head), (size_t)n << PAGE_SHIFT);
    pages_free(h, head, n);
}

/* Gives p back to its span; a span whose objects are all back returns to the pages. */
static void span_give_back(struct sea__heap *h, struct pool *pl, void *p) {
    uint32_t head = h->meta[page_of(h, p)].head;
    struct pmeta *m = &h->meta[head];
    *(void **)p = m->local;
    m->local = p;
    pl->carved--;
    if (++m->nlocal == pl->objs) {
        if (pl->objs > 1)
            partial_unlink(h, pl, head);
        span_release(h, pl, head);
    } else if (m->nlocal == 1) {
        partial_push(h, pl, head);
    }
}

static void pool_trim(struct sea__heap *h, struct pool *pl, uint32_t keep) {
    while (pl->nfree > keep) {
        void *p = pl->free;
        pl->free = *(void **)p;
        pl->nfree--;
        span_give_back(h, pl, p);
    }
}

static void pools_trim_all(struct sea__heap *h) {
    for (unsigned c = 0; c < NCLASSES; c++)
        pool_trim(h, &h->pools[c], 0);
}

static void reclaim(struct sea__heap *h, size_t wanted) {
    if (h->in_reclaim || !h->nreclaimers)
        return;
    h->in_reclaim = true;
    h->stats.reclaims++;
    for (unsigned k = 0; k < h->nreclaimers; k++)
        h->stats.reclaimed += h->reclaimers[k].fn(h->reclaimers[k].arg, wanted);
    h->in_reclaim = false;
}

/* pages_alloc, trying harder before it gives up: see "Out of memory" above. */
static uint32_t pages_alloc_hard(struct sea__heap *h, uint64_t n, unsigned min_order, size_t wanted) {
    uint32_t i = pages_alloc(h, n, min_order);
    if (likely(i != NONE))
        return i;
    /* More than the whole budget, or aligned beyond the slice: no reclaiming can help. */
    if (n > h->budget_pages || min_order > h->max_order)
        return NONE;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt == 1) {
            if (h->in_reclaim || !h->nreclaimers)
                break;
            reclaim(h, wanted);
        }
        batches_flush(h);
        drain_remote(h);
        pools_trim_all(h);
        coalesce_all(h);
        i = pages_alloc(h, n, min_order);
        if (i == NONE && h->pages_used + n <= h->budget_pages)
            i = run_alloc(h, n, min_order);
        if (i != NONE)
            return i;
    }
    return NONE;
}

static void *alloc_failed(struct sea__heap *h) {
    h->stats.failed_allocs++;
    errno = ENOMEM;
    return NULL;
}

/* The class's free list is empty: refill it, from home-coming frees, a partial span or a new span. */
static __attribute__((noinline)) void *pool_refill(struct sea__heap *h, unsigned c) {
    struct pool *pl = &h->pools[c];
    if (atomic_load_explicit(&h->remote, memory_order_relaxed))
        drain_remote(h);
    for (int tries = 0;; tries++) {
        if (!pl->free && pl->partial != NONE) {
            uint32_t head = pl->partial;
            struct pmeta *m = &h->meta[head];
            partial_unlink(h, pl, head);
            pl->free = m->local;
            pl->nfree = m->nlocal;
            pl->carved += m->nlocal;
            m->local = NULL;
            m->nlocal = 0;
        }
        if (pl->free)
            break;
        if (tries)
            return alloc_failed(h);
        uint32_t span = 1u << pl->order;
        uint32_t head = pages_alloc_hard(h, span, pl->order, pl->size);
        if (head == NONE)
            continue; /* trimming may have given this class a partial span */
        for (uint32_t j = 0; j < span; j++)
            h->meta[head + j] = (struct pmeta){.kind = PM_SMALL, .cls = (uint16_t)(c + 1), .head = head};
        h->span_pages += span;
        h->stats.small_spans++;
        char *base = page_addr(h, head);
        UNPOISON(base, (size_t)span << PAGE_SHIFT);
        for (uint32_t k = pl->objs; k-- > 0;) {
            char *o = base + (size_t)k * pl->size;
            *(void **)o = pl->free;
            pl->free = o;
            POISON(o + sizeof(void *), pl->size - sizeof(void *));
        }
        pl->nfree += pl->objs;
        pl->carved += pl->objs;
    }
    void *p = pl->free;
    pl->free = *(void **)p;
    pl->nfree--;
    UNPOISON(p, pl->size);
    return p;
}

static inline void *small_alloc(struct sea__heap *h, unsigned c) {
    struct pool *pl = &h->pools[c];
    void *p = pl->free;
    if (likely(p)) {
        UNPOISON(p, pl->size);
        pl->free = *(void **)p;
        pl->nfree--;
        return p;
    }
    return pool_refill(h, c);
}

/* ---- large allocations ---- */

static __attribute__((noinline)) void *large_alloc(struct sea__heap *h, size_t size, unsigned align_order) {
    if (size > ((size_t)1 << sea__mem.shift))
        return alloc_failed(h);
    uint64_t n = (size + PAGE - 1) >> PAGE_SHIFT;
    uint32_t i = pages_alloc_hard(h, n, align_order, size);
    if (i == NONE)
        return alloc_failed(h);
    struct pmeta *m = &h->meta[i];
    m->kind = PM_LARGE;
    m->cls = 0;
    m->head = (uint32_t)n;
    h->large_pages += n;
    h->stats.large_allocs++;
    UNPOISON(page_addr(h, i), n << PAGE_SHIFT);
    return page_addr(h, i);
}

static __attribute__((noinline)) void large_free(struct sea__heap *h, void *p, struct pmeta *m) {
    if (m->kind != PM_LARGE || ((uintptr_t)p & (PAGE - 1)))
        sea__panic("free() of %p, which is not an allocation (freed twice, or never allocated)", p);
    uint64_t n = m->head;
    m->kind = PM_NONE;
    m->head = 0;
    h->large_pages -= n;
    POISON(p, n << PAGE_SHIFT);
    pages_free(h, page_of(h, p), n);
}

/* ---- entry points ---- */

static void free_local(struct sea__heap *h, void *p) {
    struct pmeta *m = &h->meta[page_of(h, p)];
    unsigned c = m->cls;
    if (likely(c)) {
        struct pool *pl = &h->pools[c - 1];
        if (unlikely(p == pl->free)) /* the cheap case of a double free: nothing in between */
            sea__panic("free() of %p, which is not an allocation (freed twice, or never allocated)", p);
        *(void **)p = pl->free;
        pl->free = p;
        POISON((char *)p + sizeof(void *), pl->size - sizeof(void *));
        if (unlikely(++pl->nfree > pl->max_free))
            pool_trim(h, pl, pl->max_free / 2);
        return;
    }
    large_free(h, p, m);
}

static inline void *mem_alloc(size_t size) {
    struct sea__heap *h = sea__heap_current;
    if (unlikely(!h))
        return sys_malloc(size);
    if (likely(size <= SMALL_MAX))
        return small_alloc(h, size_class(size));
    return large_alloc(h, size, 0);
}

static inline void mem_free(void *p) {
    uintptr_t off = (uintptr_t)p - sea__mem.base;
    if (unlikely(off >= sea__mem.size)) {
        if (p)
            sys_free(p);
        return;
    }
    struct sea__heap *owner = heap_of(off);
    struct sea__heap *me = sea__heap_current;
    if (likely(owner == me)) {
        free_local(me, p);
        return;
    }
    free_foreign(me, owner, (unsigned)(off >> sea__mem.shift), p);
}

/* Usable bytes of p, which lies in the region. */
static size_t region_usable(const void *p) {
    uintptr_t off = (uintptr_t)p - sea__mem.base;
    struct sea__heap *h = heap_of(off);
    struct pmeta *m = &h->meta[page_of(h, p)];
    if (m->cls)
        return h->pools[m->cls - 1].size;
    if (m->kind != PM_LARGE)
        sea__panic("%p is not an allocation (freed, or never allocated)", p);
    return (size_t)m->head << PAGE_SHIFT;
}

static inline size_t mem_usable(const void *p) {
    if (!p)
        return 0;
    uintptr_t off = (uintptr_t)p - sea__mem.base;
    if (off >= sea__mem.size)
        return sys_usable((void *)p);
    return region_usable(p);
}

static void *mem_calloc(size_t count, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    if (!sea__heap_current)
        return sys_calloc(count, size);
    void *p = mem_alloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

static void *mem_aligned(size_t align, size_t size) {
    if (!align || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    struct sea__heap *h = sea__heap_current;
    if (!h)
        return sys_memalign(align, size);
    if (align <= 16)
        return mem_alloc(size);
    size_t want = size > align ? size : align;
    if (align <= PAGE && want <= SMALL_MAX) {
        /*
         * Spans start on a page, so a class's objects are aligned to the
         * largest power of two dividing its size: take the first such class.
         */
        unsigned c = size_class(want);
        while (class_size[c] & (align - 1))
            c++; /* ends at 4096 at the latest */
        return small_alloc(h, c);
    }
    unsigned align_order = align > PAGE ? ceil_log2(align) - PAGE_SHIFT : 0;
    return large_alloc(h, size ? size : 1, align_order);
}

static void *mem_realloc(void *p, size_t size) {
    if (!p)
        return mem_alloc(size);
    if (!size) {
        mem_free(p);
        return NULL;
    }
    struct sea__heap *me = sea__heap_current;
    uintptr_t off = (uintptr_t)p - sea__mem.base;
    size_t old;
    if (off >= sea__mem.size) {
        if (!me)
            return sys_realloc(p, size);
        old = sys_usable(p); /* C library memory moves into the shard's */
    } else {
        struct sea__heap *owner = heap_of(off);
        struct pmeta *m = &owner->meta[page_of(owner, p)];
        old = region_usable(p);
        if (owner == me) {
            if (m->cls && size <= SMALL_MAX && size_class(size) == m->cls - 1u)
                return p;
            if (!m->cls && size > SMALL_MAX && size <= old) {
                /* A large allocation shrinks in place: its tail pages go back. */
                uint64_t n = (size + PAGE - 1) >> PAGE_SHIFT, had = m->head;
                if (n < had) {
                    m->head = (uint32_t)n;
                    me->large_pages -= had - n;
                    me->pages_used -= had - n;
                    POISON(page_addr(me, page_of(me, p) + n), (had - n) << PAGE_SHIFT);
                    range_free(me, (uint32_t)(page_of(me, p) + n), had - n, true);
                }
                return p;
            }
        }
    }
    void *q = mem_alloc(size);
    if (!q)
        return NULL;
    memcpy(q, p, old < size ? old : size);
    mem_free(p);
    return q;
}

void *sea_malloc(size_t size) { return mem_alloc(size); }
void sea_free(void *p) { mem_free(p); }
void *sea_calloc(size_t count, size_t size) { return mem_calloc(count, size); }
void *sea_realloc(void *p, size_t size) { return mem_realloc(p, size); }
void *sea_aligned_alloc(size_t alignment, size_t size) { return mem_aligned(alignment, size); }
size_t sea_malloc_usable_size(const void *p) { return mem_usable(p); }

int sea_memory_owner(const void *p) {
    uintptr_t off = (uintptr_t)p - sea__mem.base;
    return off < sea__mem.size ? (int)(off >> sea__mem.shift) : -1;
}

bool sea_memory_overrides_malloc(void) {
#ifdef SEA_MALLOC_OVERRIDE
    return true;
#else
    return false;
#endif
}

#ifdef SEA_MALLOC_OVERRIDE
/*
 * The C library's allocation functions, replaced for the whole program (the
 * list glibc's manual gives for a replacement malloc, plus reallocarray).
 */
#define EXPORT __attribute__((visibility("default")))
EXPORT void *malloc(size_t size) { return mem_alloc(size); }
EXPORT void free(void *p) { mem_free(p); }
EXPORT void *calloc(size_t count, size_t size) { return mem_calloc(count, size); }
EXPORT void *realloc(void *p, size_t size) { return mem_realloc(p, size); }
EXPORT void *reallocarray(void *p, size_t count, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return mem_realloc(p, bytes);
}
/* As glibc 2.36 does: any alignment, rounded up to a power of two (0 and 1 mean none). */
static void *glibc_memalign(size_t alignment, size_t size) {
    if (alignment <= 16)
        return mem_alloc(size);
    if (alignment > ((size_t)1 << 62)) {
        errno = EINVAL;
        return NULL;
    }
    return mem_aligned((size_t)1 << ceil_log2(alignment), size);
}
EXPORT void *aligned_alloc(size_t alignment, size_t size) { return glibc_memalign(alignment, size); }
EXPORT void *memalign(size_t alignment, size_t size) { return glibc_memalign(alignment, size); }
EXPORT int posix_memalign(void **out, size_t alignment, size_t size) {
    if (!alignment || (alignment & (alignment - 1)) || alignment % sizeof(void *))
        return EINVAL;
    int saved = errno;
    void *p = mem_aligned(alignment, size);
    int rc = p ? 0 : errno == EINVAL ? EINVAL : ENOMEM;
    errno = saved; /* posix_memalign reports through its result only */
    if (p)
        *out = p;
    return rc;
}
EXPORT void *valloc(size_t size) { return mem_aligned(PAGE, size); }
EXPORT void *pvalloc(size_t size) {
    size_t rounded;
    if (__builtin_add_overflow(size, PAGE - 1, &rounded)) {
        errno = ENOMEM;
        return NULL;
    }
    return mem_aligned(PAGE, rounded & ~(PAGE - 1));
}
EXPORT size_t malloc_usable_size(void *p) { return mem_usable(p); }
#endif

/* ---- shards attaching to their slices ---- */

static void heap_init(struct sea__heap *h, unsigned id) {
    uint64_t slice_pages = 1ull << (sea__mem.shift - PAGE_SHIFT);
    size_t header = sizeof(*h) + sea__mem.nslices * (sizeof(struct remote_batch) + sizeof(uint32_t));
    uint64_t header_pages = (header + PAGE - 1) >> PAGE_SHIFT;
    uint64_t meta_pages = (slice_pages * sizeof(struct pmeta) + PAGE - 1) >> PAGE_SHIFT;
    h->id = id;
    h->max_order = sea__mem.shift - PAGE_SHIFT;
    h->meta = (struct pmeta *)page_addr(h, header_pages);
    h->batches = (struct remote_batch *)(h + 1);
    h->pending = (uint32_t *)(h->batches + sea__mem.nslices);
    h->header_pages = (uint32_t)header_pages;
    h->data_start = (uint32_t)(header_pages + meta_pages);
    h->managed_end = h->data_start;
    for (unsigned o = 0; o < MAX_ORDERS; o++)
        h->fl[o] = h->fl_last[o] = NONE;
    for (unsigned o = 0; o <= HOT_MAX; o++)
        h->hot[o] = NONE;
    for (unsigned c = 0; c < NCLASSES; c++) {
        struct pool *pl = &h->pools[c];
        pl->size = class_size[c];
        pl->partial = NONE;
        /* The smallest span holding at least 4 objects with at most 1/8 left over. */
        unsigned o = 0;
        for (; o < 4; o++) {
            size_t span = PAGE << o, n = span / pl->size;
            if (n >= 4 && span - n * pl->size <= span / 8)
                break;
        }
        pl->order = (uint8_t)o;
        pl->objs = (uint32_t)((PAGE << o) / pl->size);
        uint32_t cap = (uint32_t)(128 * 1024 / pl->size);
        pl->max_free = cap > 256 ? 256 : cap;
        if (pl->max_free < pl->objs)
            pl->max_free = pl->objs;
    }
    h->initialized = true;
}

int sea__heap_attach(unsigned id) {
    if (!sea__mem.size || id >= sea__mem.nslices)
        return 0; /* no region: the shard uses the C library's allocator */
    struct sea__heap *h = heap_of((uintptr_t)id << sea__mem.shift);
    if (atomic_exchange(&h->attached, true))
        return -EBUSY; /* another application is running in this process */
    if (!h->initialized)
        heap_init(h, id);
    uint64_t slice_pages = 1ull << (sea__mem.shift - PAGE_SHIFT);
    uint64_t budget = sea__mem.shard_budget >> PAGE_SHIFT;
    if (budget > slice_pages - h->data_start)
        budget = slice_pages - h->data_start;
    h->budget_pages = budget;
    if (h->data_start + budget > h->managed_end) {
        range_free(h, h->managed_end, h->data_start + budget - h->managed_end, false);
        h->managed_end = (uint32_t)(h->data_start + budget);
    }
    if (h->pages_used > budget) {
        /* A previous run with a bigger budget left more than this one allows: give back what is cached. */
        pools_trim_all(h);
        coalesce_all(h);
    }
    h->nreclaimers = 0;
    sea__heap_current = h;
    drain_remote(h); /* frees that arrived while no shard owned the slice */
    return 0;
}

void sea__heap_detach(void) {
    struct sea__heap *h = sea__heap_current;
    if (!h)
        return;
    batches_flush(h);
    h->nreclaimers = 0;
    sea__heap_current = NULL;
    atomic_store(&h->attached, false);
}

void sea__heap_poll(void) {
    struct sea__heap *h = sea__heap_current;
    if (!h)
        return;
    if (h->npending)
        batches_flush(h);
    if (atomic_load_explicit(&h->remote, memory_order_relaxed))
        drain_remote(h);
}

void *sea__pages_alloc(size_t bytes) {
    struct sea__heap *h = sea__heap_current;
    if (h) {
        void *p = large_alloc(h, bytes, 0);
        /* Stacks touch a page or two each: huge pages would make every stack cost 2 MiB. */
        if (p && sea__mem.huge_pages)
            madvise(p, bytes, MADV_NOHUGEPAGE);
        return p;
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void sea__pages_free(void *p, size_t bytes) {
    if ((uintptr_t)p - sea__mem.base < sea__mem.size) {
        if (sea__mem.huge_pages)
            madvise(p, bytes, MADV_HUGEPAGE);
        mem_free(p);
    }
    else
        munmap(p, bytes);
}

/* ---- statistics and reclaim hooks ---- */

int sea_memory_stats_get(sea_memory_stats *st) {
    struct sea__heap *h = sea__heap_current;
    memset(st, 0, sizeof(*st));
    if (!h)
        return -EPERM;
    *st = h->stats;
    size_t small_used = 0;
    for (unsigned c = 0; c < NCLASSES; c++)
        small_used += (size_t)(h->pools[c].carved - h->pools[c].nfree) * h->pools[c].size;
    st->total = (size_t)h->budget_pages << PAGE_SHIFT;
    st->used = small_used + ((size_t)h->large_pages << PAGE_SHIFT);
    st->cached = ((size_t)h->span_pages << PAGE_SHIFT) - small_used;
    st->free = h->pages_used < h->budget_pages ? (size_t)(h->budget_pages - h->pages_used) << PAGE_SHIFT : 0;
    st->metadata = ((size_t)h->header_pages << PAGE_SHIFT) + (size_t)h->managed_end * sizeof(struct pmeta);
    return 0;
}

int sea_memory_reclaimer_add(sea_reclaim_fn fn, void *arg) {
    struct sea__heap *h = sea__heap_current;
    if (!h)
        return -EPERM;
    if (!fn)
        return -EINVAL;
    if (h->nreclaimers == MAX_RECLAIMERS)
        return -ENOSPC;
    h->reclaimers[h->nreclaimers++] = (struct reclaimer){fn, arg};
    return 0;
}

int sea_memory_reclaimer_remove(sea_reclaim_fn fn, void *arg) {
    struct sea__heap *h = sea__heap_current;
    if (!h)
        return -EPERM;
    for (unsigned k = 0; k < h->nreclaimers; k++) {
        if (h->reclaimers[k].fn == fn && h->reclaimers[k].arg == arg) {
            memmove(&h->reclaimers[k], &h->reclaimers[k + 1],
                    (h->nreclaimers - k - 1) * sizeof(h->reclaimers[0]));
            h->nreclaimers--;
            return 0;
        }
    }
    return -ENOENT;
}
