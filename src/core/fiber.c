/*
 * fiber.c - stackful fibers on the reactor: stacks, switching, waiting.
 *
 * A fiber is a stack plus a saved stack pointer.  Switching is a few
 * instructions of assembly (fiber_switch_*.S) that push the callee-saved
 * registers and the floating-point control words, swap stack pointers and pop;
 * no system call.  Whoever resumes a fiber (the reactor's own stack, almost
 * always) is where the fiber returns to when it waits, yields or ends.
 *
 * Waiting: sea_await() attaches a continuation to the pending future and
 * switches away; when the future resolves, that continuation (run by the
 * reactor) stores the result and switches back into the fiber.  So a wait
 * costs one deferred continuation plus two switches.
 *
 * Stacks: default-size stacks are carved from per-shard 2 MiB "arenas"
 * (14 stacks of 128 KiB, each with its 16 KiB guard), taken from the
 * shard's own memory (memory.c), or mapped when sea's allocator is not in
 * use; either way 100,000 fibers do not mean 100,000 memory mappings
 * (vm.max_map_count is 65,530 on common systems).  Each stack has a guard
 * region below it, installed with madvise(MADV_GUARD_INSTALL) (Linux 6.13+),
 * which does not split the mapping, or with mprotect() on older kernels.  Pages
 * are touched only as the stack grows; recycled stacks are kept in a
 * per-shard cache with their pages.  Once a second, the stacks that sat
 * in the cache the whole second (its low-water mark) give their pages back,
 * down to the CACHE_RESIDENT most recent: a server with a thousand fibers
 * coming and going (an HTTP/2 stream each) reuses warm stacks, where giving
 * back all but 64 at once cost a madvise and page faults per fiber, while
 * an idle shard keeps little.
 *
 * The fiber's control block sits at the top of its own stack, so starting a
 * fiber costs no allocation once a stack is cached.
 *
 * Sanitizers and valgrind are told about every switch and every stack.
 */
#include <sea/fiber.h>
#include <sea/promise.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/compiler.h"
#include "base/list.h"
#include "base/symbolize.h"
#include "core/fiber_ctx.h"
#include "core/future.h"
#include "core/module.h"
#include "core/shard.h"
#include "mem/mem.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define SEA_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define SEA_TSAN 1
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SEA_VALGRIND 1
#endif
#endif

#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

/* Bytes of guard below every stack: a frame larger than this could jump it. */
#define GUARD_SIZE (16 * 1024)
/*
 * Default-size stacks come in 2 MiB arenas (14 stacks of 128 KiB, each with
 * its guard): a power of two, so arenas from the shard's heap sit next to
 * each other and their small-page setting does not split the mapping.
 */
#define ARENA_BYTES ((size_t)2 << 20)
/* Cached stacks that keep their pages however long they are unused. */
#define CACHE_RESIDENT 64
/* How often cached stacks unused since the last look give their pages back. */
#define CACHE_TRIM_PERIOD SEA_SEC(1)
/* Stacks of non-default sizes kept for reuse. */
#define ODD_CACHE_MAX 16
/* Cached stacks of other sizes up to this size keep their pages. */
#define ODD_RESIDENT_MAX (1024 * 1024)


/* An execution context: the shard's own stack, or a fiber's. */
struct sea__ctx {
    void *sp;                 /* saved stack pointer while not running */
    const void *stack_bottom; /* lowest usable address (for ASan) */
    size_t stack_size;
    void *fake_stack;         /* ASan's fake stack of this context */
    void *tsan_fiber;         /* TSan's fiber object */
};

struct sea__stack_slot;
struct sea__stack_arena;

/* A shard's fibers (its SEA__SLOT_FIBERS). */
struct sea__fiber_shard {
    struct sea__ctx main_ctx;          /* the reactor thread's own stack */
    sea_fiber *current;                /* running fiber, NULL on the main stack */
    struct sea__list live;             /* every fiber not yet finished */
    sea_fiber *dead;                   /* ended fiber whose stack is not recycled yet */
    struct sea__list cache;            /* free default-size stacks with their pages, newest first */
    struct sea__stack_slot *cold;      /* free default-size stacks whose pages went back */
    struct sea__stack_slot *odd_cache; /* free stacks of other sizes */
    unsigned cached, cold_cached, odd_cached;
    unsigned cache_low;                /* the fewest resident stacks cached since the last trim */
    sea_timer trim;                    /* armed while more than CACHE_RESIDENT are cached */
    struct sea__stack_arena *arenas;   /* mappings default-size stacks are carved from */
    void *altstack;                    /* signal stack for the overflow handler, if sea made one */
    void *prev_altstack;               /* the thread's previous signal stack, restored at shutdown */
    size_t prev_altstack_size;
    int prev_altstack_flags;
    bool handler_ready;
    sea_fiber_stats stats;
};

static inline struct sea__fiber_shard *fibers_of(const struct sea__shard *s) {
    return s->slot[SEA__SLOT_FIBERS];
}

/* The fiber running on s, or NULL (s may be NULL: not a shard). */
static inline sea_fiber *running_fiber(const struct sea__shard *s) {
    struct sea__fiber_shard *fs = s ? fibers_of(s) : NULL;
    return fs ? fs->current : NULL;
}

/* One stack: [guard][usable ... control block at the top]. */
struct sea__stack_slot {
    char *base;        /* start of the guard */
    size_t size;       /* usable bytes above the guard */
    struct sea__stack_slot *next;   /* the cold and odd caches */
    struct sea__link link;          /* the resident cache */
    bool from_arena;
    unsigned vg_id;    /* valgrind's stack id */
};

struct sea__stack_arena {
    char *base;
    size_t slot_bytes;
    unsigned used; /* slots carved so far */
    unsigned slots;
    struct sea__stack_arena *next;
};

struct fls_item {
    const sea_fiber_key *key;
    void *value;
};

struct sea_fiber {
    struct sea__ctx ctx;
    struct sea__ctx *resumer;  /* where to switch when waiting, yielding or ending */
    sea_fiber *resumer_fiber;  /* the fiber that resumed this one, NULL for the main stack */
    uint32_t resumer_depth;    /* the resumer's inline continuation depth */
    struct sea__stack_slot *slot;
    sea__fnptr fn;
    void *arg;
    sea_promise done;
    sea_task task;             /* first start and yields */
    sea_future wait_result;    /* what sea_await returns */
    uint32_t saved_depth;      /* inline continuation depth while suspended */
    bool waiting, finished, stop_requested;
    struct fls_item *locals;
    unsigned nlocals, caplocals;
    struct sea__link live;     /* the shard's live fibers */
    const void *wait_site;     /* where the fiber called sea_await (for the state dump) */
    sea_time wait_since;       /* when (the loop's low-resolution clock) */
    char name[SEA_FIBER_NAME_MAX + 1];
};

static size_t page_size(void) {
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

/* ---- stacks ---- */

static int guard_install(char *base, size_t len) {
    if (madvise(base, len, MADV_GUARD_INSTALL) == 0)
        return 0;
    /* Older kernel: a PROT_NONE page range (splits the mapping). */
    if (mprotect(base, len, PROT_NONE) == 0)
        return 0;
    return -errno;
}

/* Makes a range usable again before it goes back to the heap. */
static void guard_remove(char *base, size_t len) {
    if (madvise(base, len, MADV_GUARD_REMOVE) != 0)
        mprotect(base, len, PROT_READ | PROT_WRITE);
}

static struct sea__stack_slot *slot_new(struct sea__fiber_shard *fs, size_t size) {
    struct sea__stack_slot *slot = calloc(1, sizeof(*slot));
    if (!slot)
        return NULL;
    slot->size = size;
    if (size == SEA_FIBER_STACK_DEFAULT) {
        struct sea__stack_arena *a = fs->arenas;
        if (!a || a->used == a->slots) {
            a = calloc(1, sizeof(*a));
            if (!a)
                goto fail;
            a->slot_bytes = GUARD_SIZE + size;
            a->slots = (unsigned)(ARENA_BYTES / a->slot_bytes);
            size_t bytes = ARENA_BYTES;
            a->base = sea__pages_alloc(bytes);
            if (!a->base) {
                free(a);
                goto fail;
            }
            a->next = fs->arenas;
            fs->arenas = a;
            fs->stats.stacks_mapped += bytes;
        }
        slot->base = a->base + (size_t)a->used * a->slot_bytes;
        slot->from_arena = true;
        if (guard_install(slot->base, GUARD_SIZE) < 0)
            goto fail; /* the slot stays unused in the arena */
        a->used++;
    } else {
        size_t bytes = GUARD_SIZE + size;
        slot->base = sea__pages_alloc(bytes);
        if (!slot->base)
            goto fail;
        if (guard_install(slot->base, GUARD_SIZE) < 0) {
            sea__pages_free(slot->base, bytes);
            goto fail;
        }
        fs->stats.stacks_mapped += bytes;
    }
#ifdef SEA_VALGRIND
    slot->vg_id = VALGRIND_STACK_REGISTER(slot->base + GUARD_SIZE, slot->base + GUARD_SIZE + size);
#endif
    return slot;
fail:
    free(slot);
    return NULL;
}

static void slot_unmap(struct sea__fiber_shard *fs, struct sea__stack_slot *slot) {
#ifdef SEA_VALGRIND
    VALGRIND_STACK_DEREGISTER(slot->vg_id);
#endif
    if (!slot->from_arena) {
        guard_remove(slot->base, GUARD_SIZE);
        sea__pages_free(slot->base, GUARD_SIZE + slot->size);
        fs->stats.stacks_mapped -= GUARD_SIZE + slot->size;
    }
    free(slot);
}

static struct sea__stack_slot *stack_get(struct sea__fiber_shard *fs, size_t size) {
    if (size == SEA_FIBER_STACK_DEFAULT) {
        struct sea__link *l = sea__list_pop_front(&fs->cache);
        if (l) {
            /* The most recently used stack: its pages are likely still in cache. */
            fs->cached--;
            if (fs->cached < fs->cache_low)
                fs->cache_low = fs->cached;
            return sea__list_entry(l, struct sea__stack_slot, link);
        }
        struct sea__stack_slot *slot = fs->cold;
        if (slot) {
            fs->cold = slot->next;
            fs->cold_cached--;
            return slot;
        }
    } else {
        for (struct sea__stack_slot **pp = &fs->odd_cache; *pp; pp = &(*pp)->next) {
            if ((*pp)->size == size) {
                struct sea__stack_slot *slot = *pp;
                *pp = slot->next;
                fs->odd_cached--;
                return slot;
            }
        }
    }
    return slot_new(fs, size);
}

/*
 * The trim: the stacks cached all through the last period (as many as the
 * cache's low-water mark; the oldest, at the back) give their pages back,
 * keeping CACHE_RESIDENT.  Stacks put back during the period count as used.
 */
static void cache_trim(sea_timer *t, void *arg) {
    (void)t;
    struct sea__fiber_shard *fs = arg;
    unsigned excess = fs->cached > CACHE_RESIDENT ? fs->cached - CACHE_RESIDENT : 0;
    unsigned n = fs->cache_low < excess ? fs->cache_low : excess;
    for (unsigned i = 0; i < n; i++) {
        struct sea__stack_slot *old = sea__list_entry(sea__list_pop_back(&fs->cache), struct sea__stack_slot, link);
        fs->cached--;
        madvise(old->base + GUARD_SIZE, old->size, MADV_DONTNEED);
        old->next = fs->cold;
        fs->cold = old;
        fs->cold_cached++;
    }
    fs->cache_low = fs->cached;
    if (fs->cached > CACHE_RESIDENT)
        sea_timer_arm(&fs->trim, CACHE_TRIM_PERIOD);
}

static void stack_put(struct sea__fiber_shard *fs, struct sea__stack_slot *slot) {
    if (slot->size == SEA_FIBER_STACK_DEFAULT) {
        /* Newest first; the trim takes from the back what went unused for a period. */
        sea__list_push_front(&fs->cache, &slot->link);
        if (++fs->cached > CACHE_RESIDENT && !sea_timer_armed(&fs->trim)) {
            fs->cache_low = fs->cached;
            sea_timer_arm(&fs->trim, CACHE_TRIM_PERIOD);
        }
        return;
    }
    if (fs->odd_cached < ODD_CACHE_MAX) {
        /* Small stacks keep their pages (at most ODD_CACHE_MAX x ODD_RESIDENT_MAX bytes). */
        if (slot->size > ODD_RESIDENT_MAX)
            madvise(slot->base + GUARD_SIZE, slot->size, MADV_DONTNEED);
        slot->next = fs->odd_cache;
        fs->odd_cache = slot;
        fs->odd_cached++;
        return;
    }
    slot_unmap(fs, slot);
}

/* ---- stack overflow reporting ---- */

static struct sigaction previous_segv; /* process-wide by nature: signal dispositions are */

static void write_str(const char *s) {
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void segv_handler(int sig, siginfo_t *si, void *uc) {
    struct sea__shard *s = sea__shard_current;
    struct sea__fiber_shard *fs = s ? fibers_of(s) : NULL;
    sea_fiber *f = fs ? fs->current : NULL;
    if (f && f->slot) {
        char *addr = si->si_addr;
        char *lo = f->slot->base, *hi = f->slot->base + GUARD_SIZE;
        if (addr >= lo && addr < hi) {
            write_str("sea: fiber stack overflow in fiber '");
            write_str(f->name);
            write_str("'\n");
            struct sigaction dfl;
            memset(&dfl, 0, sizeof(dfl));
            dfl.sa_handler = SIG_DFL;
            sigaction(SIGABRT, &dfl, NULL);
            abort();
        }
    }
    /* Not a fiber overflow: hand the fault to whoever handled it before us. */
    if ((previous_segv.sa_flags & SA_SIGINFO) && previous_segv.sa_sigaction) {
        previous_segv.sa_sigaction(sig, si, uc);
        return;
    }
    if (previous_segv.sa_handler != SIG_DFL && previous_segv.sa_handler != SIG_IGN &&
        previous_segv.sa_handler) {
        previous_segv.sa_handler(sig);
        return;
    }
    /* Default action: restore it; returning re-runs the faulting access. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGSEGV, &dfl, NULL);
}

/*
 * Installs the overflow handler (once per process) and makes sure this thread
 * has a signal stack to run it on: an existing one of at least 32 KiB (the
 * application's, or a sanitizer's) is kept; otherwise sea installs its own and
 * puts the previous one back at shutdown.
 */
static void overflow_handler_install(struct sea__fiber_shard *fs) {
    if (fs->handler_ready)
        return;
    fs->handler_ready = true;
    stack_t old;
    bool have_own = sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE) && old.ss_size >= 32 * 1024;
    if (!have_own) {
        size_t sz = 64 * 1024;
        fs->altstack = malloc(sz);
        stack_t ss = {.ss_sp = fs->altstack, .ss_size = sz, .ss_flags = 0};
        if (fs->altstack && sigaltstack(&ss, &old) == 0) {
            fs->prev_altstack = old.ss_sp;
            fs->prev_altstack_size = old.ss_size;
            fs->prev_altstack_flags = old.ss_flags;
        } else {
            free(fs->altstack);
            fs->altstack = NULL;
        }
    }
    struct sigaction cur;
    if (sigaction(SIGSEGV, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == segv_handler)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
}

/* ---- switching ---- */

static inline int switch_to(struct sea__ctx *from, struct sea__ctx *to, bool from_ends) {
#ifdef SEA_ASAN
    __sanitizer_start_switch_fiber(from_ends ? NULL : &from->fake_stack, to->stack_bottom, to->stack_size);
#else
    (void)from_ends;
#endif
#ifdef SEA_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#ifdef SEA_ASAN
    sea__ctx_switch(&from->sp, to->sp);
    /* Back in `from`. */
    __sanitizer_finish_switch_fiber(from->fake_stack, NULL, NULL);
    return 0;
#else
    /* A tail call: the context switched back to returns straight to our caller's caller. */
    return sea__ctx_switch(&from->sp, to->sp);
#endif
}

/*
 * ASan: frames that never returned (fiber_entry's when a fiber ends, all of a
 * dropped fiber's) keep their redzones poisoned.  Clear what f's stack used, so
 * the next fiber on it does not trip over stale redzones.
 */
static void stack_unpoison(sea_fiber *f) {
#ifdef SEA_ASAN
    char *lo = f->slot->base + GUARD_SIZE, *sp = f->ctx.sp;
    if (sp < lo || sp > (char *)f)
        sp = lo;
    __asan_unpoison_memory_region(sp, (size_t)((char *)f - sp));
#else
    (void)f;
#endif
}

/* Recycles the stack of the fiber that ended last (it could not free the stack it ran on). */
static void fiber_reap(struct sea__fiber_shard *fs) {
    sea_fiber *f = fs->dead;
    if (f) {
        fs->dead = NULL;
#ifdef SEA_TSAN
        __tsan_destroy_fiber(f->ctx.tsan_fiber);
#endif
        stack_unpoison(f);
        stack_put(fs, f->slot);
    }
}

/*
 * Runs f until it waits, yields or ends; then returns to the caller's context.
 * Nothing runs here after the switch (f gives the shard's state back before it
 * switches back), so the switch is a tail call: when f switches back, the CPU
 * lands straight in our caller, with no return left to mispredict.
 */
static inline void fiber_resume(struct sea__shard *s, sea_fiber *f) {
    struct sea__fiber_shard *fs = fibers_of(s);
    fiber_reap(fs);
    sea_fiber *prev = fs->current;
    struct sea__ctx *from = prev ? &prev->ctx : &fs->main_ctx;
    f->resumer = from;
    f->resumer_fiber = prev;
    f->resumer_depth = sea__hot.inline_depth;
    fs->current = f;
    fs->stats.switches++;
    sea__hot.inline_depth = f->saved_depth;
    switch_to(from, &f->ctx, false);
}

/* In the fiber: give the shard back to whoever resumed it and switch there. */
static inline int fiber_suspend(sea_fiber *f) {
    struct sea__fiber_shard *fs = fibers_of(sea__shard_current);
    f->saved_depth = sea__hot.inline_depth;
    fs->current = f->resumer_fiber;
    sea__hot.inline_depth = f->resumer_depth;
    return switch_to(&f->ctx, f->resumer, false);
}

static void fls_destroy(sea_fiber *f) {
    /* Destructors may set values again: repeat a few rounds, as pthreads does. */
    for (int round = 0; round < 4 && f->nlocals; round++) {
        bool any = false;
        for (unsigned i = 0; i < f->nlocals; i++) {
            void *v = f->locals[i].value;
            if (v && f->locals[i].key->destructor) {
                f->locals[i].value = NULL;
                f->locals[i].key->destructor(v);
                any = true;
            }
        }
        if (!any)
            break;
    }
    free(f->locals);
    f->locals = NULL;
    f->nlocals = f->caplocals = 0;
}

static void live_unlink(struct sea__fiber_shard *fs, sea_fiber *f) {
    sea__list_remove(&fs->live, &f->live);
}

__attribute__((noreturn)) static void fiber_entry(void *arg) {
    sea_fiber *f = arg;
#ifdef SEA_ASAN
    /* First time on this stack: learn the bounds of the stack we came from. */
    const void *from_bottom;
    size_t from_size;
    __sanitizer_finish_switch_fiber(NULL, &from_bottom, &from_size);
    f->resumer->stack_bottom = from_bottom;
    f->resumer->stack_size = from_size;
#endif
    sea_future r = sea__call(f->fn, f->arg);
    fls_destroy(f);
    struct sea__fiber_shard *fs = fibers_of(sea__shard_current);
    live_unlink(fs, f);
    fs->stats.alive--;
    /* Resolving only queues continuations: nothing runs on this stack after it. */
    sea_promise_forward(&f->done, r);
    sea_promise_release(&f->done);
    f->finished = true;
    fiber_reap(fs);
    fs->dead = f; /* its stack is recycled by the next resume or start */
    fs->current = f->resumer_fiber;
    sea__hot.inline_depth = f->resumer_depth;
    switch_to(&f->ctx, f->resumer, true);
    __builtin_unreachable();
}

static void fiber_task_run(sea_task *t) {
    sea_fiber *f = sea__container_of(t, sea_fiber, task);
    fiber_resume(sea__shard_current, f);
}

/* ---- public API ---- */

static sea_future fiber_start(const sea_fiber_attr *attr, sea__fnptr fn, const void *cap, size_t capsz) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return sea_failed(SEA_ESHUTDOWN, "sea_fiber_start called with no running reactor");
    if (!fn)
        return sea_failed(-EINVAL, "sea_fiber_start: no function given");
    size_t size = attr && attr->stack_size ? attr->stack_size : SEA_FIBER_STACK_DEFAULT;
    if (size < SEA_FIBER_STACK_MIN || size > SEA_FIBER_STACK_MAX)
        return sea_failed_fmt(-EINVAL, "fiber stack size %zu is outside %u..%u bytes", size,
                              (unsigned)SEA_FIBER_STACK_MIN, (unsigned)SEA_FIBER_STACK_MAX);
    if (size != SEA_FIBER_STACK_DEFAULT) { /* the default is a whole number of pages */
        size_t page = page_size();
        size = (size + page - 1) & ~(page - 1);
    }
    if (capsz > size / 4)
        return sea_failed_fmt(-EINVAL, "a fiber capture of %zu bytes is too large for a stack of %zu", capsz, size);
    struct sea__fiber_shard *fs = fibers_of(s);
    overflow_handler_install(fs);
    fiber_reap(fs);
    struct sea__stack_slot *slot = stack_get(fs, size);
    if (!slot)
        return sea_failed(-ENOMEM, "cannot allocate a fiber stack");

    char *lo = slot->base + GUARD_SIZE;
    char *top = lo + slot->size;
    sea_fiber *f = (sea_fiber *)(((uintptr_t)top - sizeof(sea_fiber)) & ~(uintptr_t)63);
    /*
     * Field by field rather than a memset of the whole block: the compiler
     * turns a 240-byte memset into rep stos, whose start-up alone was a
     * fifth of a fiber's start.  (ctx, done, task and live are set below.)
     */
    f->ctx.fake_stack = NULL;
    f->ctx.tsan_fiber = NULL;
    f->resumer = NULL;
    f->resumer_fiber = NULL;
    f->resumer_depth = 0;
    f->slot = slot;
    f->fn = fn;
    /* The capture goes on the fiber's own stack, right below its control block. */
    char *below = (char *)f;
    if (cap) {
        below = (char *)(((uintptr_t)f - capsz) & ~(uintptr_t)(_Alignof(max_align_t) - 1));
        memcpy(below, cap, capsz);
        f->arg = below;
    } else {
        f->arg = NULL;
    }
    f->wait_result = (sea_future){0};
    f->saved_depth = 0;
    f->waiting = f->finished = f->stop_requested = false;
    f->locals = NULL;
    f->nlocals = f->caplocals = 0;
    f->wait_site = NULL;
    f->wait_since = 0;
    const char *name = attr && attr->name ? attr->name : "fiber";
    size_t len = strnlen(name, SEA_FIBER_NAME_MAX); /* not snprintf: that is half the cost of a start */
    memcpy(f->name, name, len);
    f->name[len] = '\0';
    sea_promise_init(&f->done);
    sea_future result = sea_promise_get_future(&f->done);
    if (sea_future_failed(&result)) {
        sea_promise_release(&f->done);
        stack_put(fs, slot);
        return result;
    }
    char *stack_top = (char *)((uintptr_t)below & ~(uintptr_t)15);
    f->ctx.sp = sea__ctx_prepare(stack_top, fiber_entry, f);
    f->ctx.stack_bottom = lo;
    f->ctx.stack_size = (size_t)(stack_top - lo);
#ifdef SEA_TSAN
    f->ctx.tsan_fiber = __tsan_create_fiber(0);
    if (!fs->main_ctx.tsan_fiber)
        fs->main_ctx.tsan_fiber = __tsan_get_current_fiber();
#endif
    sea__list_push_front(&fs->live, &f->live);
    fs->stats.started++;
    fs->stats.alive++;
    if (attr && attr->handle)
        *attr->handle = f;
    sea_task_init(&f->task, fiber_task_run);
    sea__rq_push(s, &f->task);
    return result;
}

sea_future sea__fiber_start(const sea_fiber_attr *attr, sea__fnptr fn, const void *cap, size_t capsz) {
    return fiber_start(attr, fn, cap, capsz);
}

/* The future a fiber waits for in sea_await resolved (sea__future_notify): resume it with the result. */
static void fiber_wake(void *arg, sea_future result) {
    sea_fiber *f = arg;
    f->wait_result = result;
    f->waiting = false;
    fiber_resume(sea__shard_current, f);
}

/* sea_await's body, inlined into sea_await_value too: one return less after a resume. */
static inline __attribute__((always_inline)) sea_future await_impl(sea_future fut) {
    uint32_t kind = fut.sea__state & SEA__S_KIND;
    if (kind == SEA__S_VALUE || kind == SEA__S_ERROR)
        return fut;
    if (kind != SEA__S_PENDING)
        return sea_failed(SEA_EFUTURE_USED, "sea_await on a consumed or uninitialised future");
    struct sea__shard *s = sea__shard_current;
    sea_fiber *f = running_fiber(s);
    if (!f) {
        /* The caller gets the error that says what went wrong; the future
         * it could not wait for is dropped silently, or its later failure
         * (typically a "broken promise" at exit) would be reported as if it
         * were the problem. */
        if (s)
            sea_future_detach(fut);
        return sea_failed(SEA_ENOTFIBER, "sea_await on a pending future outside a fiber");
    }
    sea_future r;
    int rc = sea__future_notify(fut, fiber_wake, f, &r);
    if (rc == 1)
        return r; /* ready by now */
    if (rc < 0)
        return sea_failed(rc, "out of memory attaching a fiber wait");
    f->waiting = true;
    f->wait_site = __builtin_return_address(0);
    f->wait_since = sea__hot.lowres_now;
    fiber_suspend(f);
    r = f->wait_result;
    f->wait_result.sea__state = SEA__S_INVALID;
    return r;
}

sea_future sea_await(sea_future fut) {
    return await_impl(fut);
}

int sea_await_value(sea_future fut, sea_value *out) {
    sea_future r = await_impl(fut);
    if (r.sea__state == SEA__S_VALUE) { /* a plain value: nothing to release */
        if (out)
            *out = r.sea__v;
        return 0;
    }
    int err = sea_future_error(&r);
    if (err) {
        sea__release(&r);
        return err;
    }
    if (out)
        *out = sea_future_value(&r); /* a boxed value is the caller's now */
    else
        sea__release(&r);            /* dropped: a boxed value is released */
    return 0;
}

int sea_fiber_yield(void) {
    struct sea__shard *s = sea__shard_current;
    sea_fiber *f = running_fiber(s);
    if (!f)
        return SEA_ENOTFIBER;
    sea__rq_push(s, &f->task);
    return fiber_suspend(f);
}

int sea_fiber_maybe_yield(void) {
    if (!sea_fiber_self())
        return SEA_ENOTFIBER;
    return sea_need_preempt() ? sea_fiber_yield() : 0;
}

sea_fiber *sea_fiber_self(void) {
    return running_fiber(sea__shard_current);
}

const char *sea_fiber_name(const sea_fiber *f) {
    return f ? f->name : "";
}

void sea_fiber_request_stop(sea_fiber *f) {
    if (f)
        f->stop_requested = true;
}

bool sea_fiber_stop_requested(void) {
    sea_fiber *f = sea_fiber_self();
    return f && f->stop_requested;
}

void *sea_fiber_local_get(const sea_fiber_key *key) {
    sea_fiber *f = sea_fiber_self();
    if (!f)
        return NULL;
    for (unsigned i = 0; i < f->nlocals; i++)
        if (f->locals[i].key == key)
            return f->locals[i].value;
    return NULL;
}

int sea_fiber_local_set(const sea_fiber_key *key, void *value) {
    sea_fiber *f = sea_fiber_self();
    if (!f)
        return SEA_ENOTFIBER;
    for (unsigned i = 0; i < f->nlocals; i++) {
        if (f->locals[i].key == key) {
            f->locals[i].value = value;
            return 0;
        }
    }
    if (f->nlocals == f->caplocals) {
        unsigned cap = f->caplocals ? f->caplocals * 2 : 4;
        struct fls_item *grown = realloc(f->locals, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        f->locals = grown;
        f->caplocals = cap;
    }
    f->locals[f->nlocals++] = (struct fls_item){key, value};
    return 0;
}

int sea_fiber_stats_get(sea_fiber_stats *out) {
    struct sea__shard *s = sea__shard_current;
    struct sea__fiber_shard *fs = s ? fibers_of(s) : NULL;
    if (!fs)
        return SEA_ESHUTDOWN;
    fiber_reap(fs);
    *out = fs->stats;
    out->stacks_cached = fs->cached + fs->cold_cached + fs->odd_cached;
    return 0;
}

/* ---- the module: each shard's fibers ---- */

static int fibers_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct sea__fiber_shard *fs = calloc(1, sizeof(*fs));
    if (!fs) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->slot[SEA__SLOT_FIBERS] = fs;
    sea_timer_init(&fs->trim, cache_trim, fs);
    return 0;
}

static void slot_list_unmap(struct sea__fiber_shard *fs, struct sea__stack_slot *slot) {
    while (slot) {
        struct sea__stack_slot *next = slot->next;
        slot_unmap(fs, slot);
        slot = next;
    }
}

/* Fibers still waiting are dropped: their futures break, their stacks go. */
static void fibers_shard_stop(struct sea__shard *s) {
    struct sea__fiber_shard *fs = fibers_of(s);
    if (!fs)
        return;
    fiber_reap(fs);
    struct sea__link *l;
    while ((l = sea__list_pop_front(&fs->live))) {
        sea_fiber *f = sea__list_entry(l, sea_fiber, live);
        free(f->locals);
        f->locals = NULL;
        sea__release(&f->wait_result);
        sea_promise_release(&f->done);
#ifdef SEA_TSAN
        __tsan_destroy_fiber(f->ctx.tsan_fiber);
#endif
        stack_unpoison(f);
        sea__list_push_front(&fs->cache, &f->slot->link); /* unmapped below with the rest */
    }
    while ((l = sea__list_pop_front(&fs->cache)))
        slot_unmap(fs, sea__list_entry(l, struct sea__stack_slot, link));
    slot_list_unmap(fs, fs->cold);
    slot_list_unmap(fs, fs->odd_cache);
    while (fs->arenas) {
        struct sea__stack_arena *a = fs->arenas;
        fs->arenas = a->next;
        guard_remove(a->base, ARENA_BYTES);
        sea__pages_free(a->base, ARENA_BYTES);
        free(a);
    }
    if (fs->altstack) {
        /* Put back the signal stack the thread had before (or none). */
        stack_t ss = {.ss_sp = fs->prev_altstack, .ss_size = fs->prev_altstack_size,
                      .ss_flags = fs->prev_altstack_flags & SS_DISABLE};
        if (!fs->prev_altstack)
            ss.ss_flags = SS_DISABLE;
        sigaltstack(&ss, NULL);
        free(fs->altstack);
    }
    sea_timer_cancel(&fs->trim); /* (last: reaping a fiber above may have armed it) */
    free(fs);
    s->slot[SEA__SLOT_FIBERS] = NULL;
}

/* At most this many fibers are listed in the state dump (the count is always given). */
#define DUMP_LIMIT 32

static void fibers_dump(struct sea__shard *s, FILE *out, int part) {
    struct sea__fiber_shard *fs = fibers_of(s);
    if (part == SEA__DUMP_SUMMARY) {
        fprintf(out, "%llu fibers", (unsigned long long)fs->stats.alive);
        return;
    }
    sea_time now = sea_now();
    unsigned listed = 0;
    sea__list_for_each(l, &fs->live) {
        if (listed++ >= DUMP_LIMIT)
            break;
        sea_fiber *f = sea__list_entry(l, sea_fiber, live);
        if (f == fs->current) {
            fprintf(out, "  fiber \"%s\": running (it asked for this dump)\n", f->name);
        } else if (f->waiting) {
            char where[256];
            sea__describe_addr(f->wait_site, where, sizeof(where));
            fprintf(out, "  fiber \"%s\": waiting for %lld ms, in sea_await called from %s\n", f->name,
                    (long long)((now - f->wait_since) / 1000000), where);
        } else {
            fprintf(out, "  fiber \"%s\": ready to run\n", f->name);
        }
    }
}

const struct sea__module sea__module_fibers = {
    .name = "fibers",
    .shard_start = fibers_shard_start,
    .shard_stop = fibers_shard_stop,
    .dump = fibers_dump,
};
