/*
 * bench_fiber.c - fibers: the context switch, yield and await through the
 * reactor, starting fibers, and the memory an idle fiber holds.
 *
 * Time, per run (median of runs, interleaved like the other benchmarks):
 *   switch.sea        two contexts switching directly with sea's own
 *                     sea__ctx_switch (internal, declared here; the second
 *                     stack's first frame is made by sea's sea__ctx_prepare,
 *                     as for a fiber).  ns per switch = round trip / 2.
 *   switch.floor      the same ping-pong with the least switch that is correct
 *                     for C code that keeps one floating-point mode: push the
 *                     six callee-saved registers, swap stack pointers, pop,
 *                     and jump to the popped return address (Boost.Context's
 *                     way).  An indirect jump is predicted from its own
 *                     history; a ret is predicted from the return stack, which
 *                     holds the call site of the context that switched away,
 *                     so after a switch it is always wrong.
 *   switch.floor_ret  the floor ending in `ret` instead: what the return
 *                     misprediction alone costs.
 *   switch.ucontext   swapcontext() ping-pong (glibc: a sigprocmask system
 *                     call per swap).  ns per switch.
 *   switch.pthread    two threads handing a turn back and forth under a
 *                     pthread mutex and two condition variables.  ns per
 *                     one-way handoff.  Under `taskset -c 1` both threads share
 *                     the core, as two fibers would.
 *   yield.sea         two fibers calling sea_fiber_yield() in a loop through
 *                     the reactor's run queue.  ns per yield.
 *   yield.floor       the least scheduler: a ring of contexts; a yield pushes
 *                     the fiber and switches (the floor's switch) to the
 *                     scheduler loop, which pops the next one and switches to
 *                     it.  Contexts call the switch directly, so no return
 *                     follows a switch.
 *   await.sea         two fibers ping-ponging through promises: each resolves
 *                     the promise the other waits on, then sea_await()s its
 *                     own.  ns per round trip (two waits, two wakes, four
 *                     switches).
 *   await.floor       the same with the least scheduler: "wake" pushes the
 *                     other context, "wait" switches to the scheduler.
 *   spawn.sea         sea_fiber_start of a fiber that returns sea_ready(),
 *                     in batches of 16, futures detached, then one
 *                     sea_fiber_yield() of the driver fiber lets the batch
 *                     run and end.  Stacks come from the per-shard cache.
 *                     ns per fiber, start to end.
 *   spawn_await.sea   start one fiber and sea_await() its result.
 *   spawn_64k.sea     spawn.sea with 64 KiB stacks (attr.stack_size): stacks
 *                     of a size other than the default have their own cache.
 *   spawn.pthread     pthread_create + pthread_join of a thread that returns.
 *
 * Memory, measured once after the timed runs (from /proc/self/statm and the
 * VmPTE line of /proc/self/status):
 *   idle_10k / idle_100k   N fibers each waiting on a promise of its own:
 *                     resident growth per fiber (stack pages, control block,
 *                     await continuation, the fiber's result node), page
 *                     tables per fiber, and virtual memory reserved per fiber
 *                     (sea_fiber_stats.stacks_mapped / N).
 *   idle_pthread_1k   1,000 threads with 128 KiB stacks blocked on a
 *                     condition variable: resident, page-table and virtual
 *                     growth per thread (the kernel's own per-thread memory,
 *                     a 16 KiB kernel stack and the task struct, is not shown
 *                     in any of these).
 *   spawn_after_burst.sea  spawn.sea again, measured after the idle fibers
 *                     have ended (the stack cache then holds ~100k stacks).
 *
 * The whole benchmark runs inside one "driver" fiber started by app_main:
 * it is the simplest way to wait for other fibers.
 */
#include <sea/sea.h>

#include <errno.h>
#include <pthread.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench.h"

#if defined(__x86_64__)
#define HAVE_RAW 1
/* sea's internal switch and first-frame setup (src/fiber_switch_x86_64.S, src/fiber_ctx.c). */
void sea__ctx_switch(void **save_sp, void *load_sp);
void *sea__ctx_prepare(char *top, void (*entry)(void *), void *arg);

/*
 * The floor: callee-saved registers only, and the return address popped and
 * jumped to.  bench_switch_floor_ret is the same ending in ret.  A new
 * context's first frame (floor_frame) "returns" into bench_trampoline, which
 * calls r13(r12) with the stack aligned as for a call.
 */
void bench_switch_floor(void **save_sp, void *load_sp);
void bench_switch_floor_ret(void **save_sp, void *load_sp);
void bench_trampoline(void);
#define BENCH_SW_SAVE \
    "    pushq %rbp\n" \
    "    pushq %rbx\n" \
    "    pushq %r12\n" \
    "    pushq %r13\n" \
    "    pushq %r14\n" \
    "    pushq %r15\n" \
    "    movq %rsp, (%rdi)\n" \
    "    movq %rsi, %rsp\n" \
    "    popq %r15\n" \
    "    popq %r14\n" \
    "    popq %r13\n" \
    "    popq %r12\n" \
    "    popq %rbx\n" \
    "    popq %rbp\n"
__asm__(".text\n"
        ".p2align 4\n"
        ".type bench_switch_floor, @function\n"
        "bench_switch_floor:\n" BENCH_SW_SAVE
        "    popq %rcx\n"
        "    jmpq *%rcx\n"
        ".size bench_switch_floor, .-bench_switch_floor\n"
        ".p2align 4\n"
        ".type bench_switch_floor_ret, @function\n"
        "bench_switch_floor_ret:\n" BENCH_SW_SAVE
        "    ret\n"
        ".size bench_switch_floor_ret, .-bench_switch_floor_ret\n"
        ".p2align 4\n"
        ".type bench_trampoline, @function\n"
        "bench_trampoline:\n"
        "    movq %r12, %rdi\n"
        "    callq *%r13\n"
        "    ud2\n"
        ".size bench_trampoline, .-bench_trampoline\n");
#else
#define HAVE_RAW 0
#endif

#define SPAWN_BATCH 16
#define RAW_STACK (64 * 1024)

static long n_switch, n_ucontext, n_pthread, n_yield, n_await, n_spawn, n_spawn_await, n_spawn_odd;
static long n_pcreate;
static long n_idle_small, n_idle_big, n_idle_threads;

static struct bench_series s_sw_sea, s_sw_floor, s_sw_floor_ret, s_sw_uc, s_sw_pt;
static struct bench_series s_y_sea, s_y_floor, s_a_sea, s_a_floor;
static struct bench_series s_sp_sea, s_sp_await, s_sp_odd, s_sp_pt, s_sp_burst;

static void die(const char *what) {
    fprintf(stderr, "bench_fiber: %s\n", what);
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = aligned_alloc(64, n);
    if (!p)
        die("out of memory");
    memset(p, 0, n);
    return p;
}

/* ---- 1. raw switch: sea__ctx_switch vs the floor ---- */

#if HAVE_RAW
static char *raw_stack;
static void *raw_main_sp, *raw_co_sp;

/* A first frame for bench_switch_floor(_ret): switching to it enters entry(arg). */
static void *floor_frame(char *top, void (*entry)(void *), void *arg) {
    uint64_t *sp = (uint64_t *)(((uintptr_t)top & ~(uintptr_t)15) - 56);
    sp[0] = 0;                                    /* r15 */
    sp[1] = 0;                                    /* r14 */
    sp[2] = (uint64_t)(uintptr_t)entry;           /* r13 */
    sp[3] = (uint64_t)(uintptr_t)arg;             /* r12 */
    sp[4] = 0;                                    /* rbx */
    sp[5] = 0;                                    /* rbp */
    sp[6] = (uint64_t)(uintptr_t)bench_trampoline;
    return sp;
}

static __attribute__((noreturn)) void raw_sea_co(void *arg) {
    (void)arg;
    for (;;)
        sea__ctx_switch(&raw_co_sp, raw_main_sp);
}

static __attribute__((noreturn)) void raw_floor_co(void *arg) {
    (void)arg;
    for (;;)
        bench_switch_floor(&raw_co_sp, raw_main_sp);
}

static __attribute__((noreturn)) void raw_floor_ret_co(void *arg) {
    (void)arg;
    for (;;)
        bench_switch_floor_ret(&raw_co_sp, raw_main_sp);
}

/* The co-routine is left suspended at the end; its frame is rebuilt next run. */
static double raw_sea_run(void) {
    raw_co_sp = sea__ctx_prepare(raw_stack + RAW_STACK, raw_sea_co, NULL);
    sea__ctx_switch(&raw_main_sp, raw_co_sp); /* first entry, untimed */
    int64_t t0 = bench_ns();
    for (long i = 0; i < n_switch; i++)
        sea__ctx_switch(&raw_main_sp, raw_co_sp);
    return (double)(bench_ns() - t0) / (2.0 * (double)n_switch);
}

static double raw_floor_run(void) {
    raw_co_sp = floor_frame(raw_stack + RAW_STACK, raw_floor_co, NULL);
    bench_switch_floor(&raw_main_sp, raw_co_sp);
    int64_t t0 = bench_ns();
    for (long i = 0; i < n_switch; i++)
        bench_switch_floor(&raw_main_sp, raw_co_sp);
    return (double)(bench_ns() - t0) / (2.0 * (double)n_switch);
}

static double raw_floor_ret_run(void) {
    raw_co_sp = floor_frame(raw_stack + RAW_STACK, raw_floor_ret_co, NULL);
    bench_switch_floor_ret(&raw_main_sp, raw_co_sp);
    int64_t t0 = bench_ns();
    for (long i = 0; i < n_switch; i++)
        bench_switch_floor_ret(&raw_main_sp, raw_co_sp);
    return (double)(bench_ns() - t0) / (2.0 * (double)n_switch);
}
#endif

/* ---- 1b. swapcontext ---- */

static ucontext_t uc_main, uc_co;
static char *uc_stack;

static void uc_body(void) {
    for (;;)
        swapcontext(&uc_co, &uc_main);
}

static double uc_run(void) {
    if (getcontext(&uc_co) < 0)
        die("getcontext failed");
    uc_co.uc_stack.ss_sp = uc_stack;
    uc_co.uc_stack.ss_size = RAW_STACK;
    uc_co.uc_link = NULL;
    makecontext(&uc_co, uc_body, 0);
    swapcontext(&uc_main, &uc_co);
    int64_t t0 = bench_ns();
    for (long i = 0; i < n_ucontext; i++)
        swapcontext(&uc_main, &uc_co);
    return (double)(bench_ns() - t0) / (2.0 * (double)n_ucontext);
}

/* ---- 1c. two threads, mutex + condition variables ---- */

static struct {
    pthread_mutex_t m;
    pthread_cond_t to_peer, to_main;
    int turn; /* 0: main's turn, 1: the peer's */
    long rounds;
} pp = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void *pp_peer(void *arg) {
    (void)arg;
    pthread_mutex_lock(&pp.m);
    for (long i = 0; i < pp.rounds; i++) {
        while (pp.turn != 1)
            pthread_cond_wait(&pp.to_peer, &pp.m);
        pp.turn = 0;
        pthread_cond_signal(&pp.to_main);
    }
    pthread_mutex_unlock(&pp.m);
    return NULL;
}

static void pp_round(void) {
    pp.turn = 1;
    pthread_cond_signal(&pp.to_peer);
    while (pp.turn != 0)
        pthread_cond_wait(&pp.to_main, &pp.m);
}

static double pthread_run(void) {
    pthread_t t;
    pp.turn = 0;
    pp.rounds = n_pthread + 1;
    if (pthread_create(&t, NULL, pp_peer, NULL) != 0)
        die("pthread_create failed");
    pthread_mutex_lock(&pp.m);
    pp_round(); /* the peer is up: untimed */
    int64_t t0 = bench_ns();
    for (long i = 0; i < n_pthread; i++)
        pp_round();
    int64_t t1 = bench_ns();
    pthread_mutex_unlock(&pp.m);
    pthread_join(t, NULL);
    return (double)(t1 - t0) / (2.0 * (double)n_pthread);
}

/* ---- 3. yield through the reactor, and the least scheduler ---- */

static long yield_rounds;

static sea_future yielder(void) {
    for (long i = 0; i < yield_rounds; i++)
        sea_fiber_yield();
    return sea_ready();
}

static void must_ok(sea_future r, const char *what) {
    if (sea_future_failed(&r)) {
        fprintf(stderr, "bench_fiber: %s failed: %s\n", what, sea_future_message(&r));
        exit(1);
    }
    sea_future_detach(r);
}

static double yield_sea_run(void) {
    yield_rounds = n_yield;
    int64_t t0 = bench_ns();
    sea_future a = sea_fiber_start(yielder);
    sea_future b = sea_fiber_start(yielder);
    must_ok(sea_await(a), "yield fiber");
    must_ok(sea_await(b), "yield fiber");
    return (double)(bench_ns() - t0) / (2.0 * (double)n_yield);
}

#if HAVE_RAW
/* The least scheduler: a ring of runnable contexts and a loop on its own stack. */
struct mini {
    void *sp;
    struct mini *peer;
    long left;
    char *stack;
};

static struct mini mini_ctx[2];
static struct mini *mini_ring[4];
static unsigned mini_head, mini_tail;
static void *mini_sched_sp;

static inline void mini_push(struct mini *c) {
    mini_ring[mini_tail++ & 3] = c;
}

static __attribute__((noreturn)) void mini_end(struct mini *c) {
    for (;;)
        bench_switch_floor(&c->sp, mini_sched_sp);
}

/* yield: push yourself, switch to the scheduler. */
static __attribute__((noreturn)) void mini_yielder(void *arg) {
    struct mini *c = arg;
    while (c->left-- > 0) {
        mini_push(c);
        bench_switch_floor(&c->sp, mini_sched_sp);
    }
    mini_end(c);
}

/* wake the peer, then wait (switch to the scheduler without queueing yourself). */
static __attribute__((noreturn)) void mini_pinger(void *arg) {
    struct mini *c = arg;
    while (c->left-- > 0) {
        mini_push(c->peer);
        bench_switch_floor(&c->sp, mini_sched_sp);
    }
    mini_end(c);
}

static double mini_run(void (*body)(void *), long rounds, bool peers_wake) {
    mini_head = mini_tail = 0;
    for (int i = 0; i < 2; i++) {
        mini_ctx[i].peer = &mini_ctx[1 - i];
        mini_ctx[i].left = rounds;
        mini_ctx[i].sp = floor_frame(mini_ctx[i].stack + RAW_STACK, body, &mini_ctx[i]);
    }
    int64_t t0 = bench_ns();
    mini_push(&mini_ctx[0]);
    if (!peers_wake)
        mini_push(&mini_ctx[1]);
    while (mini_head != mini_tail) {
        struct mini *c = mini_ring[mini_head++ & 3];
        BENCH_OPAQUE(c);
        bench_switch_floor(&mini_sched_sp, c->sp);
    }
    return (double)(bench_ns() - t0);
}
#endif

/* ---- 3b. await ping-pong through promises ---- */

static sea_promise pa, pb; /* ping waits on pa, pong on pb */
static long await_rounds;

static sea_future pinger(void) {
    for (long i = 0; i < await_rounds; i++) {
        sea_promise_init(&pa);
        sea_promise_set_void(&pb);
        int err = sea_await_value(sea_promise_get_future(&pa), NULL);
        if (err)
            return sea_failed(err, "ping: await failed");
    }
    return sea_ready();
}

static sea_future ponger(void) {
    for (long i = 0; i < await_rounds; i++) {
        int err = sea_await_value(sea_promise_get_future(&pb), NULL);
        if (err)
            return sea_failed(err, "pong: await failed");
        if (i + 1 < await_rounds)
            sea_promise_init(&pb);
        sea_promise_set_void(&pa);
    }
    return sea_ready();
}

static double await_sea_run(void) {
    await_rounds = n_await;
    sea_promise_init(&pb);
    int64_t t0 = bench_ns();
    sea_future a = sea_fiber_start(pinger);
    sea_future b = sea_fiber_start(ponger);
    must_ok(sea_await(a), "ping fiber");
    must_ok(sea_await(b), "pong fiber");
    return (double)(bench_ns() - t0) / (double)n_await;
}

/* ---- 3c. starting fibers ---- */

static BENCH_NOIPA sea_future noop_fiber(void) {
    return sea_ready();
}

static double spawn_sea_run(long n, const sea_fiber_attr *attr) {
    long batches = (n + SPAWN_BATCH - 1) / SPAWN_BATCH;
    int64_t t0 = bench_ns();
    for (long b = 0; b < batches; b++) {
        for (int j = 0; j < SPAWN_BATCH; j++)
            sea_future_detach(sea_fiber_start_attr(attr, noop_fiber));
        sea_fiber_yield();
    }
    return (double)(bench_ns() - t0) / (double)(batches * SPAWN_BATCH);
}

static double spawn_await_run(void) {
    int64_t t0 = bench_ns();
    for (long i = 0; i < n_spawn_await; i++)
        must_ok(sea_await(sea_fiber_start(noop_fiber)), "noop fiber");
    return (double)(bench_ns() - t0) / (double)n_spawn_await;
}

static void *noop_thread(void *arg) {
    return arg;
}

static double pcreate_run(void) {
    int64_t t0 = bench_ns();
    for (long i = 0; i < n_pcreate; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, noop_thread, NULL) != 0)
            die("pthread_create failed");
        pthread_join(t, NULL);
    }
    return (double)(bench_ns() - t0) / (double)n_pcreate;
}

/* ---- 2. memory per idle fiber / thread ---- */

struct mem {
    long rss, vsize, pte; /* bytes */
};

static struct mem mem_now(void) {
    struct mem m = {0, 0, 0};
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        long size, res;
        if (fscanf(f, "%ld %ld", &size, &res) == 2) {
            m.vsize = size * page;
            m.rss = res * page;
        }
        fclose(f);
    }
    f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof(line), f)) {
            long kb;
            if (sscanf(line, "VmPTE: %ld kB", &kb) == 1)
                m.pte = kb * 1024;
        }
        fclose(f);
    }
    return m;
}

static sea_future idle_fiber(sea_promise **p) {
    return sea_await(sea_promise_get_future(*p));
}

static void idle_fibers(long n, const char *name) {
    sea_promise *proms = xmalloc(sizeof(sea_promise) * (size_t)n);
    for (long i = 0; i < n; i++)
        sea_promise_init(&proms[i]);
    sea_fiber_stats st0, st1;
    sea_fiber_stats_get(&st0);
    struct mem m0 = mem_now();
    for (long i = 0; i < n; i++) {
        sea_future f = sea_fiber_start(idle_fiber, &proms[i]);
        if (sea_future_failed(&f)) {
            fprintf(stderr, "bench_fiber: starting idle fiber %ld of %ld failed: %s\n", i, n,
                    sea_future_message(&f));
            exit(1);
        }
        sea_future_detach(f);
    }
    sea_fiber_yield(); /* every new fiber runs up to its sea_await */
    struct mem m1 = mem_now();
    sea_fiber_stats_get(&st1);
    for (long i = 0; i < n; i++)
        sea_promise_set_void(&proms[i]);
    sea_fiber_yield(); /* every fiber wakes and ends */
    struct mem m2 = mem_now();
    sea_fiber_stats st2;
    sea_fiber_stats_get(&st2);
    if (st1.alive != st0.alive + (uint64_t)n || st2.alive != st0.alive)
        die("idle fibers did not all start or end");
    char nm[64];
    snprintf(nm, sizeof(nm), "%s.sea_rss", name);
    printf("%s: %.0f bytes/fiber\n", nm, (double)(m1.rss - m0.rss) / (double)n);
    snprintf(nm, sizeof(nm), "%s.sea_pagetables", name);
    printf("%s: %.0f bytes/fiber\n", nm, (double)(m1.pte - m0.pte) / (double)n);
    snprintf(nm, sizeof(nm), "%s.sea_virtual", name);
    printf("%s: %.0f bytes/fiber\n", nm, (double)st1.stacks_mapped / (double)n);
    printf("# %s: %ld fibers; RSS +%.1f MiB while waiting, %.1f MiB of it still held after they "
           "ended (%llu stacks cached); %.1f GiB of stack address space reserved\n",
           name, n, (double)(m1.rss - m0.rss) / 1048576.0, (double)(m2.rss - m0.rss) / 1048576.0,
           (unsigned long long)st2.stacks_cached, (double)st1.stacks_mapped / 1073741824.0);
    free(proms);
}

static struct {
    pthread_mutex_t m;
    pthread_cond_t c;
    bool go;
    long waiting;
} idle_thr = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};

static void *idle_thread(void *arg) {
    (void)arg;
    pthread_mutex_lock(&idle_thr.m);
    idle_thr.waiting++;
    pthread_cond_broadcast(&idle_thr.c);
    while (!idle_thr.go)
        pthread_cond_wait(&idle_thr.c, &idle_thr.m);
    pthread_mutex_unlock(&idle_thr.m);
    return NULL;
}

static void idle_threads(long n, const char *name) {
    pthread_t *ts = xmalloc(sizeof(pthread_t) * (size_t)n);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, SEA_FIBER_STACK_DEFAULT);
    idle_thr.go = false;
    idle_thr.waiting = 0;
    struct mem m0 = mem_now();
    long made = 0;
    for (; made < n; made++)
        if (pthread_create(&ts[made], &attr, idle_thread, NULL) != 0)
            break;
    pthread_mutex_lock(&idle_thr.m);
    while (idle_thr.waiting < made)
        pthread_cond_wait(&idle_thr.c, &idle_thr.m);
    pthread_mutex_unlock(&idle_thr.m);
    struct mem m1 = mem_now();
    pthread_mutex_lock(&idle_thr.m);
    idle_thr.go = true;
    pthread_cond_broadcast(&idle_thr.c);
    pthread_mutex_unlock(&idle_thr.m);
    for (long i = 0; i < made; i++)
        pthread_join(ts[i], NULL);
    pthread_attr_destroy(&attr);
    free(ts);
    if (made == 0) {
        printf("# %s: pthread_create failed at once; skipped\n", name);
        return;
    }
    char nm[64];
    snprintf(nm, sizeof(nm), "%s.rss", name);
    printf("%s: %.0f bytes/thread\n", nm, (double)(m1.rss - m0.rss) / (double)made);
    snprintf(nm, sizeof(nm), "%s.pagetables", name);
    printf("%s: %.0f bytes/thread\n", nm, (double)(m1.pte - m0.pte) / (double)made);
    snprintf(nm, sizeof(nm), "%s.virtual", name);
    printf("%s: %.0f bytes/thread\n", nm, (double)(m1.vsize - m0.vsize) / (double)made);
    if (made < n)
        printf("# %s: only %ld of %ld threads could be created\n", name, made, n);
}

/* ---- driver ---- */

/* Like bench_ratio, with enough digits for ratios far below 1. */
static void ratio_fine(const char *name, double a, double b) {
    double r = b > 0 ? a / b : 0.0;
    printf(r >= 0.1 ? "%s: %.2fx\n" : "%s: %.4fx\n", name, r);
}

static void one_run(bool record) {
    double v;
#if HAVE_RAW
    v = raw_sea_run();
    if (record)
        bench_add(&s_sw_sea, v);
    v = raw_floor_run();
    if (record)
        bench_add(&s_sw_floor, v);
    v = raw_floor_ret_run();
    if (record)
        bench_add(&s_sw_floor_ret, v);
#endif
    v = uc_run();
    if (record)
        bench_add(&s_sw_uc, v);
    v = pthread_run();
    if (record)
        bench_add(&s_sw_pt, v);
    v = yield_sea_run();
    if (record)
        bench_add(&s_y_sea, v);
#if HAVE_RAW
    v = mini_run(mini_yielder, n_yield, false) / (2.0 * (double)n_yield);
    if (record)
        bench_add(&s_y_floor, v);
#endif
    v = await_sea_run();
    if (record)
        bench_add(&s_a_sea, v);
#if HAVE_RAW
    v = mini_run(mini_pinger, n_await, true) / (double)n_await;
    if (record)
        bench_add(&s_a_floor, v);
#endif
    v = spawn_sea_run(n_spawn, NULL);
    if (record)
        bench_add(&s_sp_sea, v);
    sea_fiber_attr odd = {.stack_size = 64 * 1024};
    v = spawn_sea_run(n_spawn_odd, &odd);
    if (record)
        bench_add(&s_sp_odd, v);
    v = spawn_await_run();
    if (record)
        bench_add(&s_sp_await, v);
    v = pcreate_run();
    if (record)
        bench_add(&s_sp_pt, v);
}

static sea_future driver(void) {
    int runs = bench_runs();
    printf("# bench_fiber: backend=%s runs=%d (median of runs); switch %ld round trips, ucontext "
           "%ld, pthread %ld; yield %ld per fiber; await %ld round trips; spawn %ld, "
           "spawn_await %ld, spawn_64k %ld, pthread_create %ld\n",
           sea_reactor_backend(), runs, n_switch, n_ucontext, n_pthread, n_yield, n_await, n_spawn,
           n_spawn_await, n_spawn_odd, n_pcreate);
    fflush(stdout);
    for (int r = 0; r <= runs; r++)
        one_run(r > 0);

    printf("# switch: ns per switch (round trip / 2) between two contexts; pthread: ns per "
           "one-way handoff (mutex + condvar)\n");
#if HAVE_RAW
    double ms = bench_report("switch.sea", &s_sw_sea, "ns/switch");
    double mf = bench_report("switch.floor", &s_sw_floor, "ns/switch");
    bench_report("switch.floor_ret", &s_sw_floor_ret, "ns/switch");
#endif
    double mu = bench_report("switch.ucontext", &s_sw_uc, "ns/switch");
    double mp = bench_report("switch.pthread", &s_sw_pt, "ns/handoff");
#if HAVE_RAW
    bench_ratio("switch.ratio_vs_floor", ms, mf);
    ratio_fine("switch.ratio_vs_ucontext", ms, mu);
    ratio_fine("switch.ratio_vs_pthread", ms, mp);
    bench_target("switch", ms, mf, 15);
#else
    (void)mu;
    (void)mp;
    printf("# switch.sea / switch.floor: x86-64 only\n");
#endif

    printf("# yield: ns per sea_fiber_yield, two fibers through the run queue; floor: ring of "
           "contexts + the floor's switch; Seastar: 45-58 ns per seastar::thread::yield()\n");
    double ys = bench_report("yield.sea", &s_y_sea, "ns/yield");
#if HAVE_RAW
    double yf = bench_report("yield.floor", &s_y_floor, "ns/yield");
    bench_ratio("yield.ratio_vs_floor", ys, yf);
    bench_target("yield", ys, yf, 25);
#else
    (void)ys;
#endif
    printf("# await: ns per round trip of two fibers waking each other through promises "
           "(2 x sea_await + 2 x sea_promise_set_void); Seastar: 16.9 ns per C++20 coroutine "
           "round trip\n");
    double as = bench_report("await.sea", &s_a_sea, "ns/roundtrip");
#if HAVE_RAW
    double af = bench_report("await.floor", &s_a_floor, "ns/roundtrip");
    bench_ratio("await.ratio_vs_floor", as, af);
#else
    (void)as;
#endif
    printf("# spawn: ns per fiber started and ended (cached stacks; batches of %d, detached); "
           "spawn_await: start one and sea_await it; spawn_64k: 64 KiB stacks; pthread: "
           "create + join\n",
           SPAWN_BATCH);
    double ss = bench_report("spawn.sea", &s_sp_sea, "ns/fiber");
    bench_report("spawn_await.sea", &s_sp_await, "ns/fiber");
    bench_report("spawn_64k.sea", &s_sp_odd, "ns/fiber");
    double sp = bench_report("spawn.pthread", &s_sp_pt, "ns/thread");
    ratio_fine("spawn.ratio_vs_pthread", ss, sp);
    fflush(stdout);

    printf("# memory: resident (RSS) and page-table growth per idle fiber/thread, virtual "
           "reserved per fiber/thread (one measurement)\n");
    idle_fibers(n_idle_small, "idle_10k");
    idle_fibers(n_idle_big, "idle_100k");
    idle_threads(n_idle_threads, "idle_pthread_1k");
    printf("# swapcontext stacks are whatever the caller allocates (malloc: no guard, resident "
           "as touched)\n");

    /* spawn.sea again, now that ~100k stacks sit in the cache. */
    for (int r = 0; r <= runs; r++) {
        double v = spawn_sea_run(n_spawn / 10 > SPAWN_BATCH ? n_spawn / 10 : SPAWN_BATCH, NULL);
        if (r > 0)
            bench_add(&s_sp_burst, v);
    }
    printf("# spawn_after_burst: spawn.sea after %ld idle fibers have ended\n", n_idle_big);
    double sb = bench_report("spawn_after_burst.sea", &s_sp_burst, "ns/fiber");
    bench_ratio("spawn_after_burst.ratio_vs_spawn", sb, ss);
    fflush(stdout);
    return sea_ready();
}

static sea_future app_main(void) {
    n_switch = bench_iters(1000000, 1000);
    n_ucontext = bench_iters(100000, 100);
    n_pthread = bench_iters(10000, 50);
    n_yield = bench_iters(500000, 1000);
    n_await = bench_iters(200000, 1000);
    n_spawn = bench_iters(100000, 160);
    n_spawn_await = bench_iters(50000, 100);
    n_spawn_odd = bench_iters(10000, 160);
    n_pcreate = bench_iters(1000, 20);
    n_idle_small = bench_iters(10000, 100);
    n_idle_big = bench_iters(100000, 1000);
    n_idle_threads = bench_iters(1000, 20);
#if HAVE_RAW
    raw_stack = xmalloc(RAW_STACK);
    for (int i = 0; i < 2; i++)
        mini_ctx[i].stack = xmalloc(RAW_STACK);
#endif
    uc_stack = xmalloc(RAW_STACK);
    sea_fiber_attr attr = {.name = "bench-driver"};
    return sea_fiber_start_attr(&attr, driver);
}

int main(int argc, char **argv) {
    return bench_app_run(argc, argv, app_main);
}
