/*
 * test_smp_app.c - a many-shard application's life (sea/app.h), by running
 * smp_helper with the shard count this test was given:
 *
 *     test_smp_app SMP_HELPER_PATH [harness options...]
 *
 * Start-up: -c4096 fails with exactly "Couldn't start application:
 * insufficient processing units"; --cpuset alone sets the shard count; a
 * --cpuset CPU the process may not use fails with a message; malformed -c,
 * --smp and --cpuset values print one line and exit 2; shards are pinned to
 * distinct CPUs, in the order of the CPU list; after sea_app_run returns the
 * calling thread's CPU affinity and signal mask are back (also across two
 * runs in one process).  sea_app_at_exit: callbacks run after main resolved,
 * most recent first, waited for one by one, a failing one is reported and the
 * next still runs, other shards still answer meanwhile; refused with -EINVAL
 * off shard 0 or without a function.  Signals: SIGINT or SIGTERM stops a
 * running service through its at-exit callback and exits 0; a second signal
 * while a callback hangs exits at once with 128 + the signal number.  Idle
 * shards sleep: 300 ms of pings every 50 ms cost a small fraction of the
 * wall time in CPU (measured by the helper for those 300 ms, and for the
 * whole child by its rusage).  Stopping with thousands of requests in flight
 * both ways exits cleanly (no leak under ASan; every boxed result released
 * once).
 *
 * Children run with the CPU affinity this process had at start-up (not the
 * one CPU its shard 0 is pinned to), nothing blocked, and every wait is
 * bounded: a child still running after its deadline is killed with SIGKILL.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *helper_path;
static unsigned shards = 1;          /* the -c this test runs with, passed on to the helper */
static cpu_set_t start_affinity;     /* this process's CPUs before any shard was pinned */
static int avail_cpus[CPU_SETSIZE];  /* ... in ascending order */
static unsigned navail;

/* ---- a child process with bounded waits ---- */

struct proc {
    pid_t pid;
    int out_fd, err_fd;
    char out[16384], err[16384];
    size_t outlen, errlen;
    int status; /* from wait4, -1 until reaped */
    struct rusage ru;
    double wall; /* seconds from start to reaping */
    struct timespec t0;
    bool killed; /* it overran its deadline */
};

static double since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Starts the helper with the backend option, then args. */
static int proc_start(struct proc *p, const char *const *args, int nargs) {
    char backend_opt[64];
    char *argv[40];
    int n = 0;
    argv[n++] = (char *)helper_path;
    if (sea_test_backend_arg) {
        snprintf(backend_opt, sizeof(backend_opt), "--reactor-backend=%s", sea_test_backend_arg);
        argv[n++] = backend_opt;
    }
    for (int i = 0; i < nargs && n < 39; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    memset(p, 0, sizeof(*p));
    p->status = -1;
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return -1;
    if (pipe2(err, O_CLOEXEC) < 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    fflush(NULL);
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    p->pid = fork();
    if (p->pid < 0) {
        perror("fork");
        return -1;
    }
    if (p->pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        /* As if started from a shell: every CPU of the test process, no signal blocked. */
        sched_setaffinity(0, sizeof(start_affinity), &start_affinity);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        alarm(30);
        execv(argv[0], argv);
        fprintf(stderr, "execv %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    p->out_fd = out[0];
    p->err_fd = err[0];
    fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
    return 0;
}

static void drain_fd(int *fd, char *buf, size_t *len, size_t cap) {
    for (;;) {
        if (*fd < 0)
            return;
        char tmp[4096];
        ssize_t r = read(*fd, tmp, sizeof(tmp));
        if (r > 0) {
            size_t take = (size_t)r;
            if (*len + take >= cap)
                take = cap - 1 - *len;
            memcpy(buf + *len, tmp, take);
            *len += take;
            buf[*len] = '\0';
            continue;
        }
        if (r == 0) {
            close(*fd);
            *fd = -1;
        }
        return; /* EAGAIN, EINTR or an error: try again later */
    }
}

/* Reads output for up to timeout_ms; stops early when stdout contains `until` (if given) or both pipes closed. */
static bool proc_read(struct proc *p, const char *until, int timeout_ms) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        drain_fd(&p->out_fd, p->out, &p->outlen, sizeof(p->out));
        drain_fd(&p->err_fd, p->err, &p->errlen, sizeof(p->err));
        if (until && strstr(p->out, until))
            return true;
        if (p->out_fd < 0 && p->err_fd < 0)
            return !until;
        int left = timeout_ms - (int)(since(&t0) * 1000);
        if (left <= 0)
            return false;
        struct pollfd fds[2] = {{p->out_fd, POLLIN, 0}, {p->err_fd, POLLIN, 0}};
        poll(fds, 2, left < 50 ? left : 50);
    }
}

/* Waits for the child to end (SIGKILL after timeout_ms), collects its output and rusage. */
static int proc_finish(struct proc *p, int timeout_ms) {
    if (!proc_read(p, NULL, timeout_ms)) {
        p->killed = true;
        kill(p->pid, SIGKILL);
        fprintf(stderr, "  child %d overran its %d ms: killed\n", (int)p->pid, timeout_ms);
    }
    int status;
    while (wait4(p->pid, &status, 0, &p->ru) < 0) {
        if (errno != EINTR) {
            perror("wait4");
            status = -1;
            break;
        }
    }
    p->wall = since(&p->t0);
    proc_read(p, NULL, p->killed ? 100 : 1000);
    if (p->out_fd >= 0)
        close(p->out_fd);
    if (p->err_fd >= 0)
        close(p->err_fd);
    p->out_fd = p->err_fd = -1;
    p->status = status;
    return status;
}

static bool exited_with(const struct proc *p, int code) {
    return !p->killed && p->status != -1 && WIFEXITED(p->status) && WEXITSTATUS(p->status) == code;
}

static void report(const struct proc *p, const char *what) {
    fprintf(stderr, "  %s: status 0x%x%s\n  stdout: %s\n  stderr: %s\n", what, p->status,
            p->killed ? " (killed)" : "", p->out, p->err);
}

#define EXPECT_EXIT(p, code, what) \
    do { \
        if (!exited_with((p), (code))) { \
            CHECK(exited_with((p), (code))); \
            report((p), (what)); \
        } \
    } while (0)

static struct proc child;

/* Runs the helper to completion (at most 10 s). */
static void run_args(const char *const *args, int nargs) {
    if (proc_start(&child, args, nargs) < 0) {
        CHECK(!"could not start the helper");
        return;
    }
    proc_finish(&child, 10000);
}
#define RUN(...) run_args((const char *[]){__VA_ARGS__}, (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)))

static char c_opt[16];

/* ---- start-up ---- */

static sea_future t_too_many_shards(void) {
    RUN("-c4096", "count");
    EXPECT_EXIT(&child, 1, "-c4096");
    CHECK_STREQ(child.err, "Couldn't start application: insufficient processing units\n");
    CHECK_STREQ(child.out, "");
    char more[16];
    snprintf(more, sizeof(more), "--smp=%u", navail + 1);
    RUN(more, "count");
    EXPECT_EXIT(&child, 1, more);
    CHECK_STREQ(child.err, "Couldn't start application: insufficient processing units\n");
    /* --cpuset of one CPU with -c2. */
    char one[16];
    snprintf(one, sizeof(one), "%d", avail_cpus[0]);
    RUN("--cpuset", one, "-c2", "count");
    EXPECT_EXIT(&child, 1, "--cpuset one -c2");
    CHECK_STREQ(child.err, "Couldn't start application: insufficient processing units\n");
    return sea_ready();
}

static sea_future t_cpuset_sets_count(void) {
    char one[16];
    snprintf(one, sizeof(one), "%d", avail_cpus[0]);
    RUN("--cpuset", one, "count");
    EXPECT_EXIT(&child, 0, "--cpuset one");
    CHECK_STREQ(child.out, "1\n");
    CHECK_STREQ(child.err, "");
    /* Without options: every CPU the process may use. */
    RUN("count");
    EXPECT_EXIT(&child, 0, "count");
    /* (a cgroup CPU quota may lower it) */
    CHECK(atoi(child.out) >= 1 && atoi(child.out) <= (int)navail);
    if (navail >= 2) {
        char two[32];
        snprintf(two, sizeof(two), "%d,%d", avail_cpus[1], avail_cpus[0]);
        RUN("--cpuset", two, "count");
        CHECK_STREQ(child.out, "2\n");
        RUN("--cpuset", two, "-c1", "count");
        CHECK_STREQ(child.out, "1\n");
    }
    return sea_ready();
}

static sea_future t_cpuset_unavailable(void) {
    int missing = -1;
    for (int c = 0; c < CPU_SETSIZE && missing < 0; c++)
        if (!CPU_ISSET(c, &start_affinity))
            missing = c;
    if (missing < 0)
        return sea_ready(); /* every possible CPU is ours: nothing to test */
    char list[32], want[128];
    snprintf(list, sizeof(list), "%d", missing);
    snprintf(want, sizeof(want), "Couldn't start application: CPU %d in --cpuset is not available to this process\n",
             missing);
    RUN("--cpuset", list, "count");
    EXPECT_EXIT(&child, 1, "--cpuset missing");
    CHECK_STREQ(child.err, want);
    CHECK_STREQ(child.out, "");
    /* Also when mixed with available ones. */
    snprintf(list, sizeof(list), "%d,%d", avail_cpus[0], missing);
    RUN("--cpuset", list, "count");
    EXPECT_EXIT(&child, 1, "--cpuset available,missing");
    CHECK_STREQ(child.err, want);
    return sea_ready();
}

static sea_future t_malformed_options(void) {
    static const char *const bad[][3] = {
        {"-c", "abc", NULL},      {"-c0", NULL, NULL},       {"-c", NULL, NULL},
        {"-c-1", NULL, NULL},     {"-c", "4097", NULL},      {"-c", "2x", NULL},
        {"--smp=", NULL, NULL},   {"--smp", "-3", NULL},     {"--smp=99999", NULL, NULL},
        {"--smp", "0", NULL},     {"--smp=1.5", NULL, NULL}, {"--smp", NULL, NULL},
        {"--cpuset", "", NULL},   {"--cpuset", "1-0", NULL}, {"--cpuset", "0,,1", NULL},
        {"--cpuset", "x", NULL},  {"--cpuset", "5000", NULL}, {"--cpuset=0-", NULL, NULL},
        {"--cpuset", "0,", NULL}, {"--cpuset", NULL, NULL},  {"--cpuset=-1", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *args[4];
        int n = 0;
        for (int k = 0; k < 3 && bad[i][k]; k++)
            args[n++] = bad[i][k];
        /* The mode goes first: a missing option value must not swallow it. */
        const char *argv2[5] = {"count"};
        for (int k = 0; k < n; k++)
            argv2[k + 1] = args[k];
        run_args(argv2, n + 1);
        char what[64];
        snprintf(what, sizeof(what), "%s %s", bad[i][0], bad[i][1] ? bad[i][1] : "");
        EXPECT_EXIT(&child, 2, what);
        if (sea_test_count_lines(child.err) != 1) {
            CHECK_EQ(sea_test_count_lines(child.err), 1);
            report(&child, what);
        }
        CHECK_STREQ(child.out, "");
    }
    return sea_ready();
}

static sea_future t_shards_pinned(void) {
    unsigned n = shards <= navail ? shards : navail;
    char c[16];
    snprintf(c, sizeof(c), "-c%u", n);
    RUN(c, "cpus2"); /* twice in one process: the second run finds every CPU again */
    EXPECT_EXIT(&child, 0, "cpus2");
    char want[1024] = "";
    for (int run = 0; run < 2; run++) {
        for (unsigned i = 0; i < n; i++)
            snprintf(want + strlen(want), sizeof(want) - strlen(want), "shard %u cpu %d\n", i, avail_cpus[i]);
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "affinity restored, signal mask restored\n");
    }
    CHECK_STREQ(child.out, want);
    CHECK_STREQ(child.err, "");
    /* With --cpuset, the first CPUs of the list, in ascending order. */
    if (navail >= 2) {
        char list[32];
        snprintf(list, sizeof(list), "%d,%d", avail_cpus[navail - 1], avail_cpus[navail - 2]);
        RUN("--cpuset", list, "cpus");
        snprintf(want, sizeof(want), "shard 0 cpu %d\nshard 1 cpu %d\naffinity restored, signal mask restored\n",
                 avail_cpus[navail - 2], avail_cpus[navail - 1]);
        CHECK_STREQ(child.out, want);
        snprintf(list, sizeof(list), "%d", avail_cpus[navail - 1]);
        RUN("--cpuset", list, "cpus");
        snprintf(want, sizeof(want), "shard 0 cpu %d\naffinity restored, signal mask restored\n",
                 avail_cpus[navail - 1]);
        CHECK_STREQ(child.out, want);
    }
    return sea_ready();
}

/* ---- sea_app_at_exit ---- */

static sea_future t_at_exit(void) {
    RUN(c_opt, "at-exit");
    EXPECT_EXIT(&child, 5, "at-exit"); /* main's value survives the callbacks */
    char want[512];
    unsigned last = shards - 1;
    if (shards > 1)
        snprintf(want, sizeof(want),
                 "at_exit(NULL): -22\nat_exit on shard %u: -22\nmain done\nC: main resolved 1\n"
                 "C done: shard %u answered\nB\nA\n",
                 last, last);
    else
        snprintf(want, sizeof(want),
                 "at_exit(NULL): -22\nmain done\nC: main resolved 1\nC done: shard 0 answered\nB\nA\n");
    CHECK_STREQ(child.out, want);
    CHECK_STREQ(child.err, "sea: a stop callback failed: Input/output error (EIO): B broke\n");
    return sea_ready();
}

/* ---- signals ---- */

static void signal_stops(int sig) {
    const char *args[] = {c_opt, "signal"};
    if (proc_start(&child, args, 2) < 0) {
        CHECK(!"could not start the helper");
        return;
    }
    bool ready = proc_read(&child, "ready\n", 5000);
    CHECK(ready);
    if (ready)
        kill(child.pid, sig);
    proc_finish(&child, 5000);
    EXPECT_EXIT(&child, 0, sig == SIGINT ? "signal SIGINT" : "signal SIGTERM");
    char want[128];
    snprintf(want, sizeof(want), "ready\nstopping\nstopped %u instances\n", shards);
    CHECK_STREQ(child.out, want);
    CHECK_STREQ(child.err, "");
}

static sea_future t_sigint_stops_cleanly(void) {
    signal_stops(SIGINT);
    return sea_ready();
}

static sea_future t_sigterm_stops_cleanly(void) {
    signal_stops(SIGTERM);
    return sea_ready();
}

static void second_signal(int first, int second) {
    const char *args[] = {c_opt, "signal-hang"};
    if (proc_start(&child, args, 2) < 0) {
        CHECK(!"could not start the helper");
        return;
    }
    bool ready = proc_read(&child, "ready\n", 5000);
    CHECK(ready);
    if (ready) {
        kill(child.pid, first);
        /* Wait until the first signal was handled (signals of one kind pending at once merge). */
        bool stopping = proc_read(&child, "stopping\n", 5000);
        CHECK(stopping);
        if (stopping)
            kill(child.pid, second);
    }
    proc_finish(&child, 5000);
    EXPECT_EXIT(&child, 128 + second, "second signal");
    CHECK_STREQ(child.out, "ready\nstopping\n");
    CHECK_STREQ(child.err, "sea: second signal, exiting now\n");
}

static sea_future t_second_signal_exits_at_once(void) {
    second_signal(SIGINT, SIGINT);
    second_signal(SIGINT, SIGTERM);
    return sea_ready();
}

/* ---- idle ---- */

static sea_future t_idle_shards_sleep(void) {
    RUN(c_opt, "idle");
    EXPECT_EXIT(&child, 0, "idle");
    CHECK_STREQ(child.err, "");
    int pings = 0;
    long long slowest = -1;
    double wall = 0, cpu = -1;
    const char *l2 = strstr(child.out, "idle wall");
    CHECK(sscanf(child.out, "pings %d slowest %lld us", &pings, &slowest) == 2);
    CHECK(l2 && sscanf(l2, "idle wall %lf cpu %lf", &wall, &cpu) == 2);
    CHECK_EQ(pings, 6);
    /* A sleeping shard is woken promptly: well under the 50 ms between pings. */
    CHECK(slowest >= 0 && slowest < 40000);
    /* The 300 ms of pings: mostly asleep. */
    CHECK(wall >= 0.29);
    if (!(cpu >= 0 && cpu < 0.25 * wall)) {
        CHECK(cpu >= 0 && cpu < 0.25 * wall);
        report(&child, "idle");
    }
    /* The whole child, start-up included (sanitizer start-up costs CPU too). */
    double total = (double)child.ru.ru_utime.tv_sec + child.ru.ru_utime.tv_usec / 1e6 +
                   (double)child.ru.ru_stime.tv_sec + child.ru.ru_stime.tv_usec / 1e6;
    if (!(total < 0.5 * child.wall)) {
        CHECK(total < 0.5 * child.wall);
        fprintf(stderr, "  child cpu %.3f s, wall %.3f s\n", total, child.wall);
    }
    return sea_ready();
}

/* ---- stopping with messages in flight ---- */

static sea_future t_shutdown_in_flight(void) {
    static const char *const modes[] = {"inflight", "inflight-late"};
    for (int i = 0; i < 2; i++) {
        RUN(c_opt, modes[i]);
        EXPECT_EXIT(&child, 0, modes[i]);
        CHECK_STREQ(child.err, "");
        int made = -1, released = -2;
        CHECK(sscanf(child.out, "boxes made %d released %d", &made, &released) == 2);
        CHECK_EQ(made, released);
        if (i == 1)
            CHECK(made >= 700); /* every request ran (ending at once, the stop may beat them all) */
    }
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_too_many_shards),
    SEA_TEST(t_cpuset_sets_count),
    SEA_TEST(t_cpuset_unavailable),
    SEA_TEST(t_malformed_options),
    SEA_TEST(t_shards_pinned),
    SEA_TEST(t_at_exit),
    SEA_TEST(t_sigint_stops_cleanly),
    SEA_TEST(t_sigterm_stops_cleanly),
    SEA_TEST(t_second_signal_exits_at_once),
    SEA_TEST(t_idle_shards_sleep),
    SEA_TEST(t_shutdown_in_flight),
};

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s SMP_HELPER_PATH [harness options]\n", argv[0]);
        return 2;
    }
    helper_path = argv[1];
    argv[1] = argv[0];
    argc--;
    argv++;
    /* The shard count the harness runs with is the one the helpers get. */
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2])
            v = argv[i] + 2 + (argv[i][2] == '=');
        else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--smp") == 0) && i + 1 < argc)
            v = argv[i + 1];
        else if (strncmp(argv[i], "--smp=", 6) == 0)
            v = argv[i] + 6;
        if (v && atoi(v) > 0)
            shards = (unsigned)atoi(v);
    }
    snprintf(c_opt, sizeof(c_opt), "-c%u", shards);
    CPU_ZERO(&start_affinity);
    sched_getaffinity(0, sizeof(start_affinity), &start_affinity);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &start_affinity))
            avail_cpus[navail++] = c;
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
