/*
 * smp_helper.c - a many-shard sea application whose behaviour test_smp_app
 * chooses with a positional argument (the standard options, -c, --cpuset,
 * --reactor-backend, go anywhere):
 *
 *   count          prints the shard count
 *   cpus           every shard reports the CPU it runs on and its affinity
 *                  (one CPU); prints "shard I cpu C" in shard order; after
 *                  sea_app_run returns, checks that the thread's CPU affinity
 *                  and signal mask are back as they were; "cpus2" does all of
 *                  that twice in one process
 *   at-exit        registers three stop callbacks (the middle one fails, the
 *                  first one waits for a message to the last shard) and checks
 *                  sea_app_at_exit's refusals; main's value is 5
 *   signal         a sharded service on every shard, an at-exit callback that
 *                  stops it; prints "ready" and waits for a signal
 *   signal-hang    prints "ready"; its at-exit callback prints "stopping" and
 *                  never finishes
 *   idle           pings the last shard every 50 ms, 6 times (it sleeps in
 *                  between); prints the slowest round trip and the CPU time
 *                  the process used during those 300 ms
 *   inflight       sends thousands of requests both ways (sleeping ones,
 *                  boxed results, large captures, continuations attached)
 *                  and ends main at once, with all of them in flight;
 *                  "inflight-late" ends main once they all ran (the
 *                  sleeping ones still running); after sea_app_run, prints how many boxes were
 *                  made and released
 *
 * Exit code 3 with a line on stderr means a check in the helper failed.
 */
#include <sea/sea.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int helper_failures;
#define HCHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "smp_helper: check failed: %s (line %d)\n", #cond, __LINE__); \
            helper_failures++; \
        } \
    } while (0)

static const char *mode;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static unsigned last_shard(void) {
    return sea_shard_count() - 1;
}

struct none {
    char unused;
};

/* ---- cpus ---- */

#define MAX_SHARDS 256
static int shard_cpu[MAX_SHARDS];
static int shard_affinity_count[MAX_SHARDS];
static int shard_affinity_cpu[MAX_SHARDS];

static sea_future report_cpu(struct none *n) {
    (void)n;
    unsigned id = sea_shard_id();
    shard_cpu[id] = sched_getcpu();
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        shard_affinity_count[id] = CPU_COUNT(&set);
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set)) {
                shard_affinity_cpu[id] = c;
                break;
            }
    }
    return sea_ready();
}

static sea_future print_cpus(struct none *n, sea_value v) {
    (void)n, (void)v;
    for (unsigned i = 0; i < sea_shard_count(); i++) {
        HCHECK(shard_affinity_count[i] == 1);
        HCHECK(shard_affinity_cpu[i] == shard_cpu[i]);
        say("shard %u cpu %d\n", i, shard_cpu[i]);
    }
    return sea_ready();
}

static sea_future start_cpus(void) {
    return sea_then(sea_invoke_on_all(report_cpu, (struct none){0}), print_cpus, (struct none){0});
}

/* ---- at-exit ---- */

static bool main_resolved;

static sea_future refuse_at_exit(void) {
    HCHECK(!"a callback registered on another shard ran");
    return sea_ready();
}
static sea_future ret_at_exit_rc(struct none *n) {
    (void)n;
    return sea_ready_int(sea_app_at_exit(refuse_at_exit));
}

static sea_future cb_a(void) {
    say("A\n");
    return sea_ready();
}
static sea_future cb_b(void) {
    say("B\n");
    return sea_failed(-EIO, "B broke");
}
static sea_future c_done(struct none *n, sea_value v) {
    (void)n;
    say("C done: shard %lld answered\n", (long long)v.i);
    return sea_ready();
}
static sea_future ret_shard(struct none *n, sea_value v) {
    (void)n, (void)v;
    return sea_ready_int(sea_shard_id());
}
static sea_future shard_after_sleep(struct none *n) {
    (void)n;
    return sea_then(sea_sleep(SEA_MSEC(5)), ret_shard, (struct none){0});
}
static sea_future cb_c(void) {
    say("C: main resolved %d\n", main_resolved);
    /* The other shards still run while the callbacks do. */
    return sea_then(sea_submit_to(last_shard(), shard_after_sleep, (struct none){0}), c_done, (struct none){0});
}

static sea_future at_exit_main_end(struct none *n, sea_value v) {
    (void)n, (void)v;
    main_resolved = true;
    say("main done\n");
    return sea_ready_int(5);
}
static sea_future at_exit_shard_rc(struct none *n, sea_value v) {
    (void)n;
    say("at_exit on shard %u: %lld\n", last_shard(), (long long)v.i);
    return sea_then(sea_sleep(SEA_MSEC(5)), at_exit_main_end, (struct none){0});
}

static sea_future start_at_exit(void) {
    HCHECK(sea_app_at_exit(cb_a) == 0);
    HCHECK(sea_app_at_exit(cb_b) == 0);
    HCHECK(sea_app_at_exit(cb_c) == 0);
    say("at_exit(NULL): %d\n", sea__app_at_exit(NULL, NULL, 0));
    if (sea_shard_count() == 1)
        return sea_then(sea_sleep(SEA_MSEC(5)), at_exit_main_end, (struct none){0});
    return sea_then(sea_submit_to(last_shard(), ret_at_exit_rc, (struct none){0}), at_exit_shard_rc,
                    (struct none){0});
}

/* ---- signal ---- */

static sea_sharded *service;
static _Atomic int instances_destroyed;

static sea_future svc_create(void *arg) {
    (void)arg;
    int *instance = malloc(sizeof(int));
    if (!instance)
        return sea_failed(-ENOMEM, NULL);
    *instance = (int)sea_shard_id();
    return sea_ready_ptr(instance);
}
static sea_future svc_stop(void *instance) {
    (void)instance;
    return sea_sleep(SEA_MSEC(2));
}
static void svc_destroy(void *instance) {
    HCHECK(*(int *)instance == (int)sea_shard_id());
    atomic_fetch_add(&instances_destroyed, 1);
    free(instance);
}
static const sea_service_ops svc_ops = {.create = svc_create, .stop = svc_stop, .destroy = svc_destroy};

static sea_future service_stopped(struct none *n, sea_future *in) {
    (void)n;
    HCHECK(sea_future_error(in) == 0);
    say("stopped %d instances\n", atomic_load(&instances_destroyed));
    sea_sharded_free(service);
    service = NULL;
    return sea_ready();
}
static sea_future stop_service(void) {
    say("stopping\n");
    return sea_then_wrapped(sea_sharded_stop(service), service_stopped, (struct none){0});
}
static sea_future touch(void *instance, struct none *n) {
    (void)n;
    return sea_ready_int(*(int *)instance);
}
static sea_future service_ready(struct none *n, sea_value v) {
    (void)n, (void)v;
    say("ready\n");
    /* Wait for a signal. */
    return sea_sleep(SEA_SEC(3600));
}
static sea_future service_started(struct none *n, sea_value v) {
    (void)n, (void)v;
    HCHECK(sea_app_at_exit(stop_service) == 0);
    return sea_then(sea_sharded_invoke_on_all(service, touch, (struct none){0}), service_ready, (struct none){0});
}
static sea_future start_signal(void) {
    service = sea_sharded_new(&svc_ops, NULL);
    if (!service)
        return sea_failed(-ENOMEM, NULL);
    return sea_then(sea_sharded_start(service), service_started, (struct none){0});
}

static sea_future hang(void) {
    say("stopping\n");
    return sea_sleep(SEA_SEC(3600));
}
static sea_future start_signal_hang(void) {
    HCHECK(sea_app_at_exit(hang) == 0);
    say("ready\n");
    return sea_sleep(SEA_SEC(3600));
}

/* ---- idle ---- */

static sea_time idle_t0, slowest;
static struct rusage idle_ru0;
static int pings;

static double cpu_seconds(const struct rusage *ru) {
    return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 + ru->ru_stime.tv_sec +
           ru->ru_stime.tv_usec / 1e6;
}

static sea_future ping_once(sea_value v);
static sea_future pong(struct none *n) {
    (void)n;
    return sea_ready_int(sea_shard_id());
}
static sea_future ping_back(sea_time *sent, sea_value v) {
    HCHECK(v.i == (int64_t)last_shard());
    sea_time rtt = sea_now() - *sent;
    if (rtt > slowest)
        slowest = rtt;
    if (++pings < 6)
        return sea_then(sea_sleep(SEA_MSEC(50)), ping_once);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double wall = (double)(sea_now() - idle_t0) / 1e9;
    double cpu = cpu_seconds(&ru) - cpu_seconds(&idle_ru0);
    say("pings %d slowest %lld us\n", pings, (long long)(slowest / 1000));
    say("idle wall %.3f cpu %.3f\n", wall, cpu);
    return sea_ready();
}
static sea_future ping_once(sea_value v) {
    (void)v;
    sea_time sent = sea_now();
    return sea_then(sea_submit_to(last_shard(), pong, (struct none){0}), ping_back, sent);
}
static sea_future start_idle(void) {
    idle_t0 = sea_now();
    getrusage(RUSAGE_SELF, &idle_ru0);
    return sea_then(sea_sleep(SEA_MSEC(50)), ping_once);
}

/* ---- inflight ---- */

static _Atomic int boxes_made, boxes_released;

struct counted_box {
    sea_box box;
    int64_t payload;
};
static void counted_release(sea_box *b) {
    atomic_fetch_add(&boxes_released, 1);
    free(b);
}
static sea_future make_box(struct none *n) {
    (void)n;
    struct counted_box *b = malloc(sizeof(*b));
    if (!b)
        return sea_failed(-ENOMEM, NULL);
    b->box.release = counted_release;
    b->payload = sea_shard_id();
    atomic_fetch_add(&boxes_made, 1);
    return sea_ready_box(&b->box);
}
static sea_future take_box(struct none *n, sea_value v) {
    (void)n;
    sea_box *b = v.ptr;
    b->release(b);
    return sea_ready();
}
static sea_future sleepy(struct none *n) {
    (void)n;
    return sea_sleep(SEA_SEC(3600));
}
struct big {
    char bytes[300];
};
static sea_future sleepy_big(struct big *b) {
    (void)b;
    return sea_sleep(SEA_SEC(3600));
}
static sea_future never_runs(struct big *b, sea_value v) {
    (void)b, (void)v;
    HCHECK(!"a continuation of a request cut short by the stop ran with a value");
    return sea_ready();
}
static sea_future flood_to(struct none *n) {
    (void)n;
    for (int i = 0; i < 1000; i++)
        sea_future_detach(sea_submit_to(0, sleepy, (struct none){0}));
    for (int i = 0; i < 100; i++)
        sea_future_detach(sea_submit_to(0, make_box, (struct none){0}));
    return sea_ready();
}

static sea_future send_everything(void) {
    unsigned to = last_shard();
    for (int i = 0; i < 2000; i++)
        sea_future_detach(sea_submit_to(to, sleepy, (struct none){0}));
    for (int i = 0; i < 300; i++)
        sea_future_detach(sea_submit_to(to, sleepy_big, (struct big){{(char)i}}));
    for (int i = 0; i < 300; i++)
        sea_future_detach(sea_then(sea_submit_to(to, sleepy, (struct none){0}), never_runs, (struct big){{0}}));
    for (int i = 0; i < 500; i++)
        sea_future_detach(sea_submit_to(to, make_box, (struct none){0}));
    for (int i = 0; i < 200; i++)
        sea_future_detach(sea_then(sea_submit_to(to, make_box, (struct none){0}), take_box, (struct none){0}));
    sea_future_detach(sea_submit_to(to, flood_to, (struct none){0}));
    return sea_ready();
}
static sea_future end_main(struct none *n, sea_value v) {
    (void)n, (void)v;
    return sea_ready();
}
static sea_future start_inflight(bool late) {
    sea_future f = send_everything();
    if (!late)
        return f;
    sea_future_detach(f);
    /* Requests run in order: when this one answers, every one sent before it has run (or is running). */
    return sea_then(sea_submit_to(last_shard(), pong, (struct none){0}), end_main, (struct none){0});
}

/* ---- main ---- */

static sea_future app_main(void) {
    if (strcmp(mode, "count") == 0) {
        say("%u\n", sea_shard_count());
        return sea_ready();
    }
    if (strcmp(mode, "cpus") == 0 || strcmp(mode, "cpus2") == 0)
        return start_cpus();
    if (strcmp(mode, "at-exit") == 0)
        return start_at_exit();
    if (strcmp(mode, "signal") == 0)
        return start_signal();
    if (strcmp(mode, "signal-hang") == 0)
        return start_signal_hang();
    if (strcmp(mode, "idle") == 0)
        return start_idle();
    if (strcmp(mode, "inflight") == 0)
        return start_inflight(false);
    if (strcmp(mode, "inflight-late") == 0)
        return start_inflight(true);
    fprintf(stderr, "smp_helper: unknown mode %s\n", mode);
    return sea_ready_int(3);
}

static const char *const modes[] = {"count", "cpus", "cpus2", "at-exit", "signal", "signal-hang",
                                    "idle", "inflight", "inflight-late"};

static bool same_affinity(const cpu_set_t *a, const cpu_set_t *b) {
    return CPU_EQUAL(a, b);
}

int main(int argc, char **argv) {
    mode = "";
    for (int i = 1; i < argc; i++)
        for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++)
            if (strcmp(argv[i], modes[k]) == 0)
                mode = modes[k];
    cpu_set_t before, after;
    sigset_t mask_before, mask_after;
    CPU_ZERO(&before);
    sched_getaffinity(0, sizeof(before), &before);
    sigprocmask(SIG_SETMASK, NULL, &mask_before);
    int runs = strcmp(mode, "cpus2") == 0 ? 2 : 1;
    int code = 0;
    for (int r = 0; r < runs; r++) {
        code = sea_app_run(argc, argv, app_main);
        if (strncmp(mode, "cpus", 4) == 0 && code == 0) {
            CPU_ZERO(&after);
            sched_getaffinity(0, sizeof(after), &after);
            sigprocmask(SIG_SETMASK, NULL, &mask_after);
            bool mask_same = true;
            for (int s = 1; s < NSIG; s++)
                if (sigismember(&mask_before, s) != sigismember(&mask_after, s))
                    mask_same = false;
            say("affinity %s, signal mask %s\n", same_affinity(&before, &after) ? "restored" : "CHANGED",
                mask_same ? "restored" : "CHANGED");
        }
    }
    if (strncmp(mode, "inflight", 8) == 0)
        say("boxes made %d released %d\n", atomic_load(&boxes_made), atomic_load(&boxes_released));
    if (helper_failures)
        return 3;
    return code;
}
