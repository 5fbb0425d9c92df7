/*
 * bench_smp.c - many shards: sea_submit_to between shard 0 and shard 1, the
 * CPU an idle application uses, and the same exchanges between two plain
 * threads (a spinning floor, a mutex+condvar queue, an eventfd ping-pong).
 *
 * The request is the same everywhere: "echo" (noipa) runs on the other side
 * and returns its 8-byte argument plus one; the result comes back and the
 * sender checks it.
 *
 * sea, one request in flight (ns per round trip, and round trips per second):
 *   seq_chain   from continuations: sea_submit_to(1, echo, ...), then a
 *               sea_then_wrapped continuation that submits the next one.
 *               The same measurement gives inflight_1.
 *   seq_fiber   from a fiber: sea_await_value(sea_submit_to(1, echo, ...)) in
 *               a loop (sea's counterpart of awaiting from a seastar::thread).
 * sea, many in flight (round trips per second):
 *   inflight_K  K = 1, 16, 128, 1024 requests kept in flight from shard 0 to
 *               shard 1: each completion (a continuation) submits the next.
 *               The rings hold 128 messages; beyond that they wait in the
 *               sender's staging list.
 * Each sea line has a suffix for the reactor mode it ran in:
 *   .sea        the defaults: a shard with nothing to do polls for 200 us
 *               (--idle-poll-us) and then sleeps.  Back-to-back round trips
 *               never leave a shard idle that long, so this mostly matches
 *               .sea_poll.
 *   .sea_poll   --poll-mode: both shards poll, never sleep.
 *   .sea_sleep  --idle-poll-us=0: both shards go to sleep as soon as they
 *               are idle, so every message wakes its target through the
 *               eventfd (membarrier on the sleeper's side, one write(2) on the
 *               sender's).  The seq lines only.
 * The program runs sea_app_run once per mode (argv + "--poll-mode", argv +
 * "--idle-poll-us=0"), in the same process, after one run with the arguments
 * as given.  "-c2" is added to argv unless -c/--smp is there; a --poll-mode
 * or --idle-poll-us given by the user leaves only that one mode.
 *
 * Idle CPU (one measurement): with the two shards started and nothing to do,
 * the driver sleeps 1 s (sea_sleep); CPU time of the whole process (user +
 * system, getrusage(RUSAGE_SELF), both shard threads) as a percentage of the
 * wall time, and context switches per second (voluntary + involuntary).
 * Target 0%.  idle_cpu.sea_poll shows the same over 0.2 s in --poll-mode.
 *
 * Threads (two threads pinned to the CPUs the shards ran on, client on
 * shard 0's, server on shard 1's):
 *   seq.floor / inflight_128.floor   the least code: the client spins on a
 *               single-producer single-consumer ring of {x} requests, the
 *               server spins on it, calls echo and answers on a second ring.
 *               Never sleeps.  What two polling shards could reach.
 *   seq.mutex_condvar / inflight_128.mutex_condvar   a queue under one
 *               pthread mutex with two condition variables (requests,
 *               responses).  The server takes every queued request at once,
 *               answers them all, and signals once: with 128 in flight this
 *               is the batched variant.
 *   seq.eventfd two blocking eventfds, one per direction (write one, read the
 *               other); the value travels in a shared variable.
 *
 * Runs: each way runs once untimed (warm-up), then SEA_BENCH_RUNS times
 * (default 7), interleaved within a mode (sea) or within the thread group;
 * the median is printed.  Total time about 20 s.
 *
 * Checks printed as notes, because two CPUs of a virtual machine are not a
 * fixed pair of cores: per mode, the process's CPU time over the timed runs
 * as a share of the two CPUs (other work on them shows as less than 100%) and
 * the steal time of those CPUs; a raw spinning ping-pong between the two
 * shard threads before and after the timed runs (the host sometimes places
 * the two vCPUs so that a cache line takes ~550 ns instead of ~100 ns to go
 * there and back, for tens of seconds; every number then gets several times
 * slower and a WARNING line says so); and the speed of each CPU (a chain of
 * dependent adds, one sea_now()).
 */
#include <sea/sea.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
#define cpu_relax() ((void)0)
#endif

static void die(const char *what) {
    fprintf(stderr, "bench_smp: %s\n", what);
    exit(1);
}

/* ---- iteration counts ---- */

#define NK 4
static const int inflight_k[NK] = {1, 16, 128, 1024};
static long n_seq, n_seq_sleep, n_tp[NK];
static long n_floor_seq, n_mutex_seq, n_efd_seq, n_floor_tp, n_mutex_tp;
#define TP_K 128 /* in flight for the thread comparisons */

/* ---- results ---- */

enum { M_DEFAULT, M_POLL, M_SLEEP, NMODES };
static const char *const mode_suffix[NMODES] = {"sea", "sea_poll", "sea_sleep"};
static const char *const mode_arg[NMODES] = {NULL, "--poll-mode", "--idle-poll-us=0"};

struct mode_results {
    bool ran;
    const char *label; /* what the mode really was (the user's options may change it) */
    struct bench_series chain, fiber, tp[NK]; /* ns per round trip */
    double idle_cpu, idle_csw, idle_wall; /* %, switches/s, s; idle_wall 0: not measured */
    unsigned long long sleeps[2], msgs[2];
    double timed_rt; /* round trips in the timed runs */
    double cpu_share;  /* process CPU time / (shards x wall) over the timed runs, % */
    double steal;      /* steal time of the shards' CPUs over the timed runs, % */
    double spin_ns[2], clock_ns[2]; /* per shard: a fixed loop of dependent adds, and one sea_now() */
    double xcpu_before, xcpu_after; /* raw ping-pong between the two shard threads, ns per round trip */
    const char *backend;
};

static struct mode_results res[NMODES];
static int cur_mode;
static int shard_cpu[2] = {0, 1};
static int nshards;

static struct bench_series s_floor_seq, s_mutex_seq, s_efd_seq, s_floor_tp, s_mutex_tp;

/* ---- the request ---- */

struct req {
    int64_t x;
};

static BENCH_NOIPA sea_future echo(struct req *r) {
    return sea_ready_int(r->x + 1);
}

static BENCH_NOIPA int64_t echo_raw(int64_t x) {
    return x + 1;
}

static sea_future get_cpu(void) {
    return sea_ready_int(sched_getcpu());
}

static sea_future get_stats(void) {
    static sea_reactor_stats st[64]; /* one per shard; read by shard 0 after the reply */
    unsigned id = sea_shard_id();
    if (id >= 64 || sea_reactor_stats_get(&st[id]) != 0)
        return sea_failed(-EINVAL, "no stats");
    return sea_ready_ptr(&st[id]);
}

static void must(int err, const char *what) {
    if (err) {
        fprintf(stderr, "bench_smp: %s failed: %s (%s)\n", what, sea_strerror(err), sea_errname(err));
        exit(1);
    }
}

/* ---- sea: K requests in flight from continuations (K = 1: seq_chain) ---- */

static struct {
    long to_send, left;
    int64_t sum;
    sea_promise done;
} tp;

static sea_future tp_step(sea_future *in);

static void tp_submit(void) {
    tp.to_send--;
    struct req r = {tp.to_send};
    sea_future_detach(sea_then_wrapped(sea_submit_to(1, echo, r), tp_step));
}

static sea_future tp_step(sea_future *in) {
    int err = sea_future_error(in);
    if (err)
        must(err, "sea_submit_to");
    tp.sum += sea_future_value(in).i;
    if (tp.to_send > 0)
        tp_submit();
    if (--tp.left == 0)
        sea_promise_set_void(&tp.done);
    return sea_ready();
}

/* ns per round trip. */
static double tp_run(int k, long n) {
    tp.to_send = tp.left = n;
    tp.sum = 0;
    sea_promise_init(&tp.done);
    sea_future f = sea_promise_get_future(&tp.done);
    int64_t t0 = bench_ns();
    for (int i = 0; i < k && tp.to_send > 0; i++)
        tp_submit();
    must(sea_await_value(f, NULL), "waiting for the in-flight run");
    double per = (double)(bench_ns() - t0) / (double)n;
    /* sum of (x + 1) for x = 0..n-1 */
    if (tp.sum != (int64_t)n * (n + 1) / 2)
        die("wrong results from echo (continuations)");
    return per;
}

/* ---- sea: one request at a time from a fiber ---- */

static double fiber_run(long n) {
    int64_t acc = 0;
    int64_t t0 = bench_ns();
    for (long i = 0; i < n; i++) {
        sea_value v;
        must(sea_await_value(sea_submit_to(1, echo, (struct req){acc}), &v), "sea_submit_to from a fiber");
        acc = v.i;
    }
    double per = (double)(bench_ns() - t0) / (double)n;
    if (acc != n)
        die("wrong results from echo (fiber)");
    return per;
}

/* ---- idle CPU ---- */

static void usage_now(double *cpu_ns, double *csw) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *cpu_ns = ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
              ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
    *csw = (double)ru.ru_nvcsw + (double)ru.ru_nivcsw;
}

static void idle_measure(struct mode_results *r, sea_time d) {
    must(sea_await_value(sea_sleep(SEA_MSEC(20)), NULL), "sleep"); /* let both shards go idle */
    double c0, w0, c1, w1;
    usage_now(&c0, &w0);
    int64_t t0 = bench_ns();
    must(sea_await_value(sea_sleep(d), NULL), "sleep");
    int64_t t1 = bench_ns();
    usage_now(&c1, &w1);
    double wall = (double)(t1 - t0);
    r->idle_cpu = 100.0 * (c1 - c0) / wall;
    r->idle_csw = (w1 - w0) / (wall / 1e9);
    r->idle_wall = wall / 1e9;
}

/* ---- interference: did the shards have their CPUs to themselves? ---- */

/* Steal ticks of CPUs a and b (from /proc/stat), or -1. */
static double steal_ticks(int a, int b) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    char line[512];
    double sum = 0;
    int found = 0;
    while (fgets(line, sizeof(line), f)) {
        int cpu;
        unsigned long long v[8];
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]) == 9 &&
            (cpu == a || cpu == b)) {
            sum += (double)v[7];
            found++;
        }
    }
    fclose(f);
    return found ? sum : -1;
}

/*
 * How fast this shard's CPU runs right now: ns for a chain of dependent
 * additions (1 cycle each), and ns per sea_now() (clock_gettime).  Printed as
 * notes, to tell a slow CPU (another guest on the host) from a slow sea.
 */
#define SPIN_ADDS 4000000
struct speed {
    double spin_ns, clock_ns;
};
static struct speed speed_here(void) {
    struct speed sp;
    uint64_t x = 1;
    int64_t t0 = bench_ns();
    for (long i = 0; i < SPIN_ADDS; i++) {
        x += (uint64_t)i;
        __asm__ __volatile__("" : "+r"(x));
    }
    int64_t t1 = bench_ns();
    bench_sink((int64_t)x);
    sp.spin_ns = (double)(t1 - t0) / SPIN_ADDS;
    sea_time acc = 0;
    for (int i = 0; i < 20000; i++)
        acc += sea_now();
    bench_sink(acc);
    sp.clock_ns = (double)(bench_ns() - t1) / 20000;
    return sp;
}

static sea_future speed_shard(void) {
    static struct speed sp[64];
    unsigned id = sea_shard_id();
    if (id >= 64)
        return sea_failed(-EINVAL, "shard id");
    sp[id] = speed_here();
    return sea_ready_ptr(&sp[id]);
}

static void speed_check(struct mode_results *r) {
    struct speed s0 = speed_here();
    sea_value v;
    must(sea_await_value(sea_submit_to(1, speed_shard), &v), "speed check on shard 1");
    const struct speed *s1 = v.ptr;
    r->spin_ns[0] = s0.spin_ns;
    r->clock_ns[0] = s0.clock_ns;
    r->spin_ns[1] = s1->spin_ns;
    r->clock_ns[1] = s1->clock_ns;
}

/*
 * The raw cost of moving a cache line between the two shards' CPUs right
 * now: shard 1 runs a spinning ping-pong server (inside a submitted function,
 * blocking its reactor), shard 0 the client (blocking its own).  ns per round
 * trip.  On a virtual machine this depends on where the host runs the two
 * vCPUs at the moment; every sea number above it is bounded by it.
 */
#define XCPU_ROUNDS 20000
static struct {
    _Alignas(64) _Atomic int64_t ping;
    _Alignas(64) _Atomic int64_t pong;
} xc;

static sea_future xcpu_server(void) {
    for (int64_t i = 1; i <= XCPU_ROUNDS; i++) {
        while (atomic_load_explicit(&xc.ping, memory_order_acquire) != i)
            cpu_relax();
        atomic_store_explicit(&xc.pong, i, memory_order_release);
    }
    return sea_ready();
}

static double xcpu_check(void) {
    atomic_store(&xc.ping, 0);
    atomic_store(&xc.pong, 0);
    sea_future f = sea_submit_to(1, xcpu_server);
    /* One turn of the loop publishes the request (sea_fiber_yield would not: it
     * only requeues this fiber behind the other ready tasks). */
    must(sea_await_value(sea_yield(), NULL), "sea_yield");
    int64_t t0 = 0;
    for (int64_t i = 1; i <= XCPU_ROUNDS; i++) {
        atomic_store_explicit(&xc.ping, i, memory_order_release);
        while (atomic_load_explicit(&xc.pong, memory_order_acquire) != i)
            cpu_relax();
        if (i == 100)
            t0 = bench_ns(); /* shard 1 is surely in the loop by now */
    }
    double per = (double)(bench_ns() - t0) / (XCPU_ROUNDS - 100);
    must(sea_await_value(f, NULL), "ping-pong on shard 1");
    return per;
}

/* ---- the driver: one mode ---- */

static void shard_stats(unsigned long long sleeps[2], unsigned long long msgs[2]) {
    sea_reactor_stats st;
    if (sea_reactor_stats_get(&st) != 0)
        die("no stats on shard 0");
    sleeps[0] = st.sleeps;
    msgs[0] = st.smp_messages;
    sea_value v;
    must(sea_await_value(sea_submit_to(1, get_stats), &v), "stats of shard 1");
    const sea_reactor_stats *s1 = v.ptr;
    sleeps[1] = s1->sleeps;
    msgs[1] = s1->smp_messages;
}

static sea_future driver(void) {
    struct mode_results *r = &res[cur_mode];
    nshards = (int)sea_shard_count();
    if (nshards < 2)
        return sea_failed(-EINVAL, "bench_smp needs at least two shards (-c2)");
    r->ran = true;
    r->backend = sea_reactor_backend();
    shard_cpu[0] = sched_getcpu();
    sea_value v;
    must(sea_await_value(sea_submit_to(1, get_cpu), &v), "asking shard 1 for its CPU");
    shard_cpu[1] = (int)v.i;

    if (cur_mode == M_DEFAULT)
        idle_measure(r, SEA_SEC(1));
    else if (cur_mode == M_POLL)
        idle_measure(r, SEA_MSEC(200));

    speed_check(r);
    r->xcpu_before = xcpu_check();
    int runs = bench_runs();
    unsigned long long sl0[2], ms0[2], sl1[2], ms1[2];
    double cpu0 = 0, csw0, cpu1, csw1, st0 = -1, st1;
    int64_t w0 = 0;
    for (int run = 0; run <= runs; run++) {
        bool rec = run > 0;
        if (run == 1) {
            shard_stats(sl0, ms0);
            usage_now(&cpu0, &csw0);
            st0 = steal_ticks(shard_cpu[0], shard_cpu[1]);
            w0 = bench_ns();
        }
        long nseq = cur_mode == M_SLEEP ? n_seq_sleep : n_seq;
        double x = tp_run(1, nseq);
        if (rec) {
            bench_add(&r->chain, x);
            r->timed_rt += (double)nseq;
        }
        x = fiber_run(nseq);
        if (rec) {
            bench_add(&r->fiber, x);
            r->timed_rt += (double)nseq;
        }
        if (cur_mode == M_SLEEP)
            continue;
        for (int k = 1; k < NK; k++) {
            x = tp_run(inflight_k[k], n_tp[k]);
            if (rec) {
                bench_add(&r->tp[k], x);
                r->timed_rt += (double)n_tp[k];
            }
        }
    }
    double wall = (double)(bench_ns() - w0);
    r->xcpu_after = xcpu_check();
    usage_now(&cpu1, &csw1);
    st1 = steal_ticks(shard_cpu[0], shard_cpu[1]);
    r->cpu_share = 100.0 * (cpu1 - cpu0) / (2 * wall);
    r->steal = st0 >= 0 && st1 >= 0 ? 100.0 * (st1 - st0) / (double)sysconf(_SC_CLK_TCK) / (2 * wall / 1e9) : -1;
    shard_stats(sl1, ms1);
    for (int i = 0; i < 2; i++) {
        r->sleeps[i] = sl1[i] - sl0[i];
        r->msgs[i] = ms1[i] - ms0[i];
    }
    r->tp[0] = r->chain;
    return sea_ready();
}

static sea_future app_main(void) {
    sea_fiber_attr attr = {.name = "bench-driver"};
    return sea_fiber_start_attr(&attr, driver);
}

/* ---- threads: pinned pairs ---- */

static pthread_barrier_t pair_barrier;

struct pair {
    long n;
    int k;
    double ns; /* per round trip, measured by the client */
};

static void pin_attr(pthread_attr_t *a, int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_attr_init(a);
    if (pthread_attr_setaffinity_np(a, sizeof(set), &set) != 0)
        die("pthread_attr_setaffinity_np failed");
}

static void run_pair(void *(*client)(void *), void *(*server)(void *), struct pair *p) {
    pthread_attr_t ac, as;
    pin_attr(&ac, shard_cpu[0]);
    pin_attr(&as, shard_cpu[1]);
    pthread_barrier_init(&pair_barrier, NULL, 2);
    pthread_t tc, ts;
    if (pthread_create(&ts, &as, server, p) != 0 || pthread_create(&tc, &ac, client, p) != 0)
        die("pthread_create failed");
    pthread_join(tc, NULL);
    pthread_join(ts, NULL);
    pthread_barrier_destroy(&pair_barrier);
    pthread_attr_destroy(&ac);
    pthread_attr_destroy(&as);
}

/* -- floor: spinning SPSC rings -- */

#define FRING 1024
struct fring {
    _Alignas(64) _Atomic uint32_t tail;
    _Alignas(64) _Atomic uint32_t head;
    _Alignas(64) int64_t slot[FRING];
};
static struct fring f_req, f_resp;

static void *floor_server(void *arg) {
    struct pair *p = arg;
    pthread_barrier_wait(&pair_barrier);
    uint32_t head = 0, rtail = 0;
    for (long done = 0; done < p->n;) {
        uint32_t tail;
        while ((tail = atomic_load_explicit(&f_req.tail, memory_order_acquire)) == head)
            cpu_relax();
        for (; head != tail; head++, done++)
            f_resp.slot[rtail++ % FRING] = echo_raw(f_req.slot[head % FRING]);
        atomic_store_explicit(&f_req.head, head, memory_order_release);
        atomic_store_explicit(&f_resp.tail, rtail, memory_order_release);
    }
    return NULL;
}

static void *floor_client(void *arg) {
    struct pair *p = arg;
    pthread_barrier_wait(&pair_barrier);
    int64_t t0 = bench_ns(), sum = 0;
    uint32_t tail = 0, rhead = 0;
    long sent = 0, done = 0;
    while (done < p->n) {
        /* Responses come in order, so in flight = tail - rhead; the response ring has room. */
        while (sent < p->n && (long)(tail - rhead) < p->k) {
            f_req.slot[tail++ % FRING] = sent++;
        }
        atomic_store_explicit(&f_req.tail, tail, memory_order_release);
        uint32_t rt;
        while ((rt = atomic_load_explicit(&f_resp.tail, memory_order_acquire)) == rhead)
            cpu_relax();
        for (; rhead != rt; rhead++, done++)
            sum += f_resp.slot[rhead % FRING];
    }
    p->ns = (double)(bench_ns() - t0) / (double)p->n;
    if (sum != (int64_t)p->n * (p->n + 1) / 2)
        die("floor: wrong results");
    return NULL;
}

static double floor_run(int k, long n) {
    memset(&f_req, 0, sizeof(f_req));
    memset(&f_resp, 0, sizeof(f_resp));
    struct pair p = {n, k, 0};
    run_pair(floor_client, floor_server, &p);
    return p.ns;
}

/* -- mutex + condvar queue -- */

static struct {
    pthread_mutex_t m;
    pthread_cond_t c_req, c_resp;
    int64_t req[FRING], resp[FRING];
    uint32_t req_head, req_tail, resp_head, resp_tail;
} mq = {.m = PTHREAD_MUTEX_INITIALIZER, .c_req = PTHREAD_COND_INITIALIZER, .c_resp = PTHREAD_COND_INITIALIZER};

static void *mq_server(void *arg) {
    struct pair *p = arg;
    int64_t batch[FRING];
    pthread_barrier_wait(&pair_barrier);
    for (long done = 0; done < p->n;) {
        pthread_mutex_lock(&mq.m);
        while (mq.req_head == mq.req_tail)
            pthread_cond_wait(&mq.c_req, &mq.m);
        uint32_t nb = 0;
        while (mq.req_head != mq.req_tail)
            batch[nb++] = mq.req[mq.req_head++ % FRING];
        pthread_mutex_unlock(&mq.m);
        for (uint32_t i = 0; i < nb; i++)
            batch[i] = echo_raw(batch[i]);
        pthread_mutex_lock(&mq.m);
        for (uint32_t i = 0; i < nb; i++)
            mq.resp[mq.resp_tail++ % FRING] = batch[i];
        pthread_cond_signal(&mq.c_resp);
        pthread_mutex_unlock(&mq.m);
        done += nb;
    }
    return NULL;
}

static void *mq_client(void *arg) {
    struct pair *p = arg;
    int64_t batch[FRING];
    pthread_barrier_wait(&pair_barrier);
    int64_t t0 = bench_ns(), sum = 0;
    long sent = 0, done = 0;
    while (done < p->n) {
        pthread_mutex_lock(&mq.m);
        bool pushed = false;
        while (sent < p->n && sent - done < p->k) {
            mq.req[mq.req_tail++ % FRING] = sent++;
            pushed = true;
        }
        if (pushed)
            pthread_cond_signal(&mq.c_req);
        while (mq.resp_head == mq.resp_tail)
            pthread_cond_wait(&mq.c_resp, &mq.m);
        uint32_t nb = 0;
        while (mq.resp_head != mq.resp_tail)
            batch[nb++] = mq.resp[mq.resp_head++ % FRING];
        pthread_mutex_unlock(&mq.m);
        for (uint32_t i = 0; i < nb; i++)
            sum += batch[i];
        done += nb;
    }
    p->ns = (double)(bench_ns() - t0) / (double)p->n;
    if (sum != (int64_t)p->n * (p->n + 1) / 2)
        die("mutex_condvar: wrong results");
    return NULL;
}

static double mq_run(int k, long n) {
    mq.req_head = mq.req_tail = mq.resp_head = mq.resp_tail = 0;
    struct pair p = {n, k, 0};
    run_pair(mq_client, mq_server, &p);
    return p.ns;
}

/* -- eventfd ping-pong -- */

static int efd_ping, efd_pong;
static int64_t efd_value;

static void efd_write(int fd) {
    uint64_t one = 1;
    if (write(fd, &one, sizeof(one)) != sizeof(one))
        die("eventfd write failed");
}

static void efd_read(int fd) {
    uint64_t v;
    if (read(fd, &v, sizeof(v)) != sizeof(v))
        die("eventfd read failed");
}

static void *efd_server(void *arg) {
    struct pair *p = arg;
    pthread_barrier_wait(&pair_barrier);
    for (long i = 0; i < p->n; i++) {
        efd_read(efd_ping);
        efd_value = echo_raw(efd_value); /* ordered by the eventfd's system calls */
        efd_write(efd_pong);
    }
    return NULL;
}

static void *efd_client(void *arg) {
    struct pair *p = arg;
    pthread_barrier_wait(&pair_barrier);
    int64_t t0 = bench_ns();
    efd_value = 0;
    for (long i = 0; i < p->n; i++) {
        efd_write(efd_ping);
        efd_read(efd_pong);
    }
    p->ns = (double)(bench_ns() - t0) / (double)p->n;
    if (efd_value != p->n)
        die("eventfd: wrong results");
    return NULL;
}

static double efd_run(long n) {
    efd_ping = eventfd(0, EFD_CLOEXEC);
    efd_pong = eventfd(0, EFD_CLOEXEC);
    if (efd_ping < 0 || efd_pong < 0)
        die("eventfd failed");
    struct pair p = {n, 1, 0};
    run_pair(efd_client, efd_server, &p);
    close(efd_ping);
    close(efd_pong);
    return p.ns;
}

static void threads_all(void) {
    int runs = bench_runs();
    for (int run = 0; run <= runs; run++) {
        bool rec = run > 0;
        double x = floor_run(1, n_floor_seq);
        if (rec)
            bench_add(&s_floor_seq, x);
        x = mq_run(1, n_mutex_seq);
        if (rec)
            bench_add(&s_mutex_seq, x);
        x = efd_run(n_efd_seq);
        if (rec)
            bench_add(&s_efd_seq, x);
        x = floor_run(TP_K, n_floor_tp);
        if (rec)
            bench_add(&s_floor_tp, x);
        x = mq_run(TP_K, n_mutex_tp);
        if (rec)
            bench_add(&s_mutex_tp, x);
    }
}

/* ---- output ---- */

/* Prints "name: <median> ns/roundtrip" and returns the median. */
static double report_ns(const char *name, const struct bench_series *s) {
    return bench_report(name, s, "ns/roundtrip");
}

/* Prints "name: <1000/median ns> Mrt/s" (millions of round trips per second). */
static double report_rate(const char *name, const struct bench_series *s) {
    double m = bench_median(s);
    double rate = m > 0 ? 1e3 / m : 0;
    printf("%s: %.2f Mrt/s\n", name, rate);
    return rate;
}

static void line_name(char *buf, size_t len, const char *a, const char *b) {
    snprintf(buf, len, "%s.%s", a, b);
}

static void print_results(void) {
    char nm[96];
    int runs = bench_runs();
    const char *backend = NULL;
    for (int m = 0; m < NMODES; m++)
        if (res[m].ran && !backend)
            backend = res[m].backend;
    printf("# bench_smp: %d shards (shard 0 on CPU %d, shard 1 on CPU %d), backend=%s, runs=%d "
           "(median of runs); seq %ld round trips (%ld sleeping), inflight 16/128/1024: %ld/%ld/%ld; "
           "threads: floor %ld/%ld, mutex_condvar %ld/%ld, eventfd %ld\n",
           nshards, shard_cpu[0], shard_cpu[1], backend ? backend : "?", runs, n_seq, n_seq_sleep, n_tp[1],
           n_tp[2], n_tp[3], n_floor_seq, n_floor_tp, n_mutex_seq, n_mutex_tp, n_efd_seq);
    for (int m = 0; m < NMODES; m++)
        if (res[m].ran)
            printf("# mode .%s: %s\n", mode_suffix[m], res[m].label);

    /* idle */
    printf("# idle: CPU time of the process (getrusage RUSAGE_SELF: user + system, all threads) as %% of "
           "wall time while both shards have nothing to do; wakeups = context switches per second\n");
    double idle_default = -1;
    for (int m = 0; m < NMODES; m++) {
        if (!res[m].ran || res[m].idle_wall <= 0)
            continue;
        line_name(nm, sizeof(nm), "idle_cpu", mode_suffix[m]);
        printf("%s: %.2f %%\n", nm, res[m].idle_cpu);
        line_name(nm, sizeof(nm), "idle_wakeups", mode_suffix[m]);
        printf("%s: %.1f /s\n", nm, res[m].idle_csw);
        if (m == M_DEFAULT)
            idle_default = res[m].idle_cpu;
    }
    if (idle_default >= 0 && strstr(res[M_DEFAULT].label, "--poll-mode"))
        printf("# idle target: not applicable with --poll-mode (the shards never sleep)\n");
    else if (idle_default >= 0)
        printf("# idle target: 0%% CPU %s (%.2f%% over %.2f s)\n", idle_default < 0.05 ? "met" : "MISSED",
               idle_default, res[M_DEFAULT].idle_wall);

    /* one in flight */
    printf("# seq: one request in flight, shard 0 -> shard 1 -> back, ns per round trip; chain: awaited "
           "from continuations; fiber: sea_await_value in a fiber; floor: two spinning threads; "
           "mutex_condvar: queue under a mutex, two condvars; eventfd: blocking ping-pong; "
           "Seastar: about 1500 ns (awaited from a seastar::thread)\n");
    double chain[NMODES] = {0}, fiber[NMODES] = {0};
    for (int m = 0; m < NMODES; m++) {
        if (!res[m].ran)
            continue;
        line_name(nm, sizeof(nm), "seq_chain", mode_suffix[m]);
        chain[m] = report_ns(nm, &res[m].chain);
    }
    for (int m = 0; m < NMODES; m++) {
        if (!res[m].ran)
            continue;
        line_name(nm, sizeof(nm), "seq_fiber", mode_suffix[m]);
        fiber[m] = report_ns(nm, &res[m].fiber);
    }
    double fseq = report_ns("seq.floor", &s_floor_seq);
    double mseq = report_ns("seq.mutex_condvar", &s_mutex_seq);
    double eseq = report_ns("seq.eventfd", &s_efd_seq);
    for (int m = 0; m < NMODES; m++) {
        if (!res[m].ran)
            continue;
        line_name(nm, sizeof(nm), "seq_chain_rate", mode_suffix[m]);
        report_rate(nm, &res[m].chain);
        line_name(nm, sizeof(nm), "seq_fiber_rate", mode_suffix[m]);
        report_rate(nm, &res[m].fiber);
    }
    report_rate("seq_rate.floor", &s_floor_seq);
    report_rate("seq_rate.mutex_condvar", &s_mutex_seq);
    report_rate("seq_rate.eventfd", &s_efd_seq);
    int pm = res[M_POLL].ran ? M_POLL : M_DEFAULT;
    if (res[pm].ran) {
        char pfx[64];
        snprintf(pfx, sizeof(pfx), "seq_fiber.%s", mode_suffix[pm]);
        snprintf(nm, sizeof(nm), "%s.ratio_vs_floor", pfx);
        bench_ratio(nm, fiber[pm], fseq);
        snprintf(nm, sizeof(nm), "%s.ratio_vs_mutex_condvar", pfx);
        bench_ratio(nm, fiber[pm], mseq);
        snprintf(nm, sizeof(nm), "%s.ratio_vs_eventfd", pfx);
        bench_ratio(nm, fiber[pm], eseq);
        snprintf(nm, sizeof(nm), "seq_chain.%s.ratio_vs_floor", mode_suffix[pm]);
        bench_ratio(nm, chain[pm], fseq);
    }
    if (res[M_SLEEP].ran) {
        bench_ratio("seq_fiber.sea_sleep.ratio_vs_eventfd", fiber[M_SLEEP], eseq);
        bench_ratio("seq_fiber.sea_sleep.ratio_vs_mutex_condvar", fiber[M_SLEEP], mseq);
    }
    if (res[pm].ran) {
        bool pm_is_poll = pm == M_POLL || strstr(res[pm].label, "poll-mode") != NULL;
        printf("# seq target: <= 1000 ns per round trip with both shards polling: fiber %.0f ns %s, chain "
               "%.0f ns %s%s\n",
               fiber[pm], fiber[pm] <= 1000 ? "met" : "MISSED", chain[pm], chain[pm] <= 1000 ? "met" : "MISSED",
               pm_is_poll ? "" : " (measured without --poll-mode)");
    }

    /* many in flight */
    printf("# inflight_K: K requests kept in flight from shard 0 to shard 1 (each completion, a "
           "continuation, submits the next), millions of round trips per second; inflight_1 is "
           "seq_chain; floor and mutex_condvar: 128 in flight between two threads; Seastar: 6-10 Mrt/s "
           "with 128 in flight\n");
    double tp128[NMODES] = {0};
    for (int m = 0; m < NMODES; m++) {
        if (!res[m].ran || m == M_SLEEP)
            continue;
        for (int k = 0; k < NK; k++) {
            char base[32];
            snprintf(base, sizeof(base), "inflight_%d", inflight_k[k]);
            line_name(nm, sizeof(nm), base, mode_suffix[m]);
            double r = report_rate(nm, &res[m].tp[k]);
            if (inflight_k[k] == 128)
                tp128[m] = r;
        }
    }
    double ftp = report_rate("inflight_128.floor", &s_floor_tp);
    double mtp = report_rate("inflight_128.mutex_condvar", &s_mutex_tp);
    for (int m = 0; m < NMODES; m++) {
        if (!res[m].ran || m == M_SLEEP)
            continue;
        snprintf(nm, sizeof(nm), "inflight_128.%s.ratio_vs_floor", mode_suffix[m]);
        bench_ratio(nm, tp128[m], ftp);
        snprintf(nm, sizeof(nm), "inflight_128.%s.ratio_vs_mutex_condvar", mode_suffix[m]);
        bench_ratio(nm, tp128[m], mtp);
    }
    for (int m = 0; m < NMODES; m++)
        if (res[m].ran && m != M_SLEEP)
            printf("# inflight_128 target: >= 15 Mrt/s (.%s) %s (%.2f Mrt/s = %.1f ns per round trip)\n",
                   mode_suffix[m], tp128[m] >= 15 ? "met" : "MISSED", tp128[m], tp128[m] > 0 ? 1e3 / tp128[m] : 0);

    /* sleeps and CPU share during the timed runs */
    for (int m = 0; m < NMODES; m++)
        if (res[m].ran)
            printf("# .%s timed runs: %.0f round trips; shard 0 slept %llu times, shard 1 %llu times; "
                   "messages received: shard 0 %llu, shard 1 %llu; process CPU %.1f%% of two CPUs, steal %.1f%%\n",
                   mode_suffix[m], res[m].timed_rt, res[m].sleeps[0], res[m].sleeps[1], res[m].msgs[0],
                   res[m].msgs[1], res[m].cpu_share, res[m].steal);
    for (int m = 0; m < NMODES; m++)
        if (res[m].ran)
            printf("# .%s cross-CPU check: raw ping-pong between the two shard threads %.0f ns per round trip "
                   "before the timed runs, %.0f ns after (seq.floor: %.0f ns)\n",
                   mode_suffix[m], res[m].xcpu_before, res[m].xcpu_after, fseq);
    /* The fastest raw ping-pong seen is what these two CPUs can do; much slower means the host moved a vCPU. */
    double best = fseq;
    for (int m = 0; m < NMODES; m++)
        if (res[m].ran) {
            if (res[m].xcpu_before < best)
                best = res[m].xcpu_before;
            if (res[m].xcpu_after < best)
                best = res[m].xcpu_after;
        }
    for (int m = 0; m < NMODES; m++)
        if (res[m].ran && (res[m].xcpu_before > 2.5 * best || res[m].xcpu_after > 2.5 * best))
            printf("# WARNING: during the .%s runs a cache line took %.0f / %.0f ns (before / after) to go between the "
                   "shards' CPUs and back, against %.0f ns at best in this run: the host had placed the two vCPUs far "
                   "apart, and the .%s numbers are slower for that reason alone (run again)\n",
                   mode_suffix[m], res[m].xcpu_before, res[m].xcpu_after, best, mode_suffix[m]);
    if (fseq > 2.5 * best)
        printf("# WARNING: the thread floor took %.0f ns per round trip, against %.0f ns at best in this run: the "
               "host had placed the two vCPUs far apart while the threads ran; their numbers are slower for that "
               "reason alone (run again)\n",
               fseq, best);
    for (int m = 0; m < NMODES; m++)
        if (res[m].ran)
            printf("# .%s CPU speed check: a dependent add %.3f ns on shard 0, %.3f ns on shard 1; sea_now() "
                   "%.1f / %.1f ns\n",
                   mode_suffix[m], res[m].spin_ns[0], res[m].spin_ns[1], res[m].clock_ns[0], res[m].clock_ns[1]);
    for (int m = 0; m < NMODES; m++)
        if (res[m].ran && m != M_SLEEP && (res[m].cpu_share < 95 || res[m].steal > 2))
            printf("# WARNING: during the .%s runs the shards had only %.1f%% of their two CPUs (steal %.1f%%): "
                   "other work ran on them; these numbers are not reliable\n",
                   mode_suffix[m], res[m].cpu_share, res[m].steal);
}

/* ---- main: one sea_app_run per mode, then the threads ---- */

/* True if argv (before "--") has option `name` (a "--name" or "--name=..." long option). */
static bool has_long(int argc, char **argv, const char *name) {
    size_t len = strlen(name);
    for (int i = 1; i < argc && argv[i]; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strncmp(argv[i], "--", 2) == 0 && strncmp(argv[i] + 2, name, len) == 0 &&
            (argv[i][2 + len] == 0 || argv[i][2 + len] == '='))
            return true;
    }
    return false;
}

static bool has_c(int argc, char **argv) {
    for (int i = 1; i < argc && argv[i]; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (argv[i][0] == '-' && argv[i][1] == 'c')
            return true;
    }
    return has_long(argc, argv, "smp");
}

static int run_mode(int mode, int argc, char **argv, bool add_c2) {
    /* argv[0], the injected options, then the user's arguments. */
    char **av = calloc((size_t)argc + 3, sizeof(char *));
    if (!av)
        die("out of memory");
    int ac = 0;
    av[ac++] = argv[0];
    if (add_c2)
        av[ac++] = "-c2";
    if (mode_arg[mode])
        av[ac++] = (char *)mode_arg[mode];
    for (int i = 1; i < argc; i++)
        av[ac++] = argv[i];
    av[ac] = NULL;
    cur_mode = mode;
    char label[256];
    int off = snprintf(label, sizeof(label), "sea_app_run with");
    for (int i = 1; i < ac && off < (int)sizeof(label); i++)
        off += snprintf(label + off, sizeof(label) - (size_t)off, " %s", av[i]);
    res[mode].label = strdup(label);
    fflush(stdout);
    int rc = bench_app_run(ac, av, app_main);
    free(av);
    return rc;
}

int main(int argc, char **argv) {
    if (has_long(argc, argv, "help"))
        return bench_app_run(argc, argv, app_main);
    n_seq = bench_iters(100000, 200);
    n_seq_sleep = bench_iters(5000, 50);
    n_tp[0] = n_seq;
    n_tp[1] = bench_iters(400000, 1000);
    n_tp[2] = bench_iters(1000000, 2000);
    n_tp[3] = bench_iters(1000000, 4000);
    n_floor_seq = bench_iters(200000, 200);
    n_mutex_seq = bench_iters(10000, 50);
    n_efd_seq = bench_iters(10000, 50);
    n_floor_tp = bench_iters(4000000, 4000);
    n_mutex_tp = bench_iters(400000, 1000);

    bool add_c2 = !has_c(argc, argv);
    cpu_set_t allowed;
    if (add_c2 && sched_getaffinity(0, sizeof(allowed), &allowed) == 0 && CPU_COUNT(&allowed) < 2) {
        printf("# bench_smp: needs two CPUs, and this process may use only %d (run it without taskset); "
               "skipped\n",
               CPU_COUNT(&allowed));
        return 0;
    }

    double load = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load) != 1)
            load = 0;
        fclose(f);
    }
    printf("# bench_smp: load average %.2f at start (other work on these CPUs skews every number)\n", load);
    fflush(stdout);

    bool user_poll = has_long(argc, argv, "poll-mode");
    bool user_idle = has_long(argc, argv, "idle-poll-us");
    int rc = run_mode(M_DEFAULT, argc, argv, add_c2);
    if (rc != 0)
        return rc;
    if (!user_poll && !user_idle) {
        rc = run_mode(M_POLL, argc, argv, add_c2);
        if (rc != 0)
            return rc;
        rc = run_mode(M_SLEEP, argc, argv, add_c2);
        if (rc != 0)
            return rc;
    }
    threads_all();
    print_results();
    fflush(stdout);
    return 0;
}
