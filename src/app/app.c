/*
 * app.c - the application template: parse options, start one pinned reactor
 * thread per shard, run main on shard 0, turn its future into an exit code.
 *
 * Shard 0 runs on the calling thread; shards 1..N-1 get threads of their own.
 * Every shard is pinned to one CPU: the first N of --cpuset, or of the CPUs
 * the process may use (its affinity mask).  Without -c the count is every such
 * CPU, capped by a cgroup CPU quota.  When main's future resolves, shard 0
 * asks every shard to stop; the loops end, messages still in flight are
 * answered with SEA_ESHUTDOWN, and each shard tears itself down on its own
 * thread.
 */
#include "internal.h"

#include <sea/log.h>

#include <sea/app.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* What every shard thread needs to start. */
struct app_run {
    struct sea__smp smp;
    struct sea__options *opts;
    int cpus[CPU_SETSIZE];
    sea_main_fn main_fn;
    void *main_arg;
    int init_rc;            /* first start-up failure, 0 if none */
    char init_err[256];
    pthread_mutex_t err_lock;
};

static __thread struct sea__options *app_options;

char **sea_app_args(int *count) {
    if (!app_options) {
        if (count)
            *count = 0;
        return NULL;
    }
    if (count)
        *count = app_options->nargs;
    return app_options->args;
}

/* ---- the orderly stop: at-exit callbacks, then every shard stops ---- */

int sea_app_at_exit(sea_future (*fn)(void *arg), void *arg) {
    struct sea__shard *s = sea__shard_current;
    if (!fn || !s || !s->smp || s->id != 0)
        return -EINVAL;
    struct sea__at_exit *e = malloc(sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->fn = fn;
    e->arg = arg;
    e->next = s->smp->at_exit;
    s->smp->at_exit = e;
    return 0;
}

static sea_future run_next_at_exit(struct sea__smp **smpp, sea_value v);

/* A stop callback is still running after --stop-report-ms (and every such period after). */
static void stop_is_slow(sea_timer *t, void *arg) {
    (void)t;
    struct sea__smp *smp = arg;
    char what[256];
    sea__describe_addr((const void *)smp->stop_fn, what, sizeof(what));
    sea_log_warn(&sea_log_sea, "stop callback %s has not finished after %lld ms; still waiting for it", what,
                 (long long)((sea_now() - smp->stop_started) / 1000000));
}

static sea_future at_exit_done(struct sea__smp **smpp, sea_future *result) {
    sea_timer_cancel(&(*smpp)->stop_timer);
    int err = sea_future_error(result);
    if (err) {
        const char *msg = sea_future_message(result);
        fprintf(stderr, "sea: a stop callback failed: %s (%s)%s%s\n", sea_strerror(err), sea_errname(err),
                msg ? ": " : "", msg ? msg : "");
    }
    return run_next_at_exit(smpp, (sea_value){0});
}

static sea_future run_next_at_exit(struct sea__smp **smpp, sea_value v) {
    struct sea__smp *smp = *smpp;
    (void)v;
    struct sea__at_exit *e = smp->at_exit;
    if (!e) {
        /* Every callback ran: stop all shards. */
        sea__shard_stop(sea__shard_current, smp->exit_request);
        sea__smp_request_stop(smp, smp->exit_request);
        return sea_ready();
    }
    smp->at_exit = e->next;
    smp->stop_fn = e->fn;
    smp->stop_started = sea_now();
    if (smp->stuck_stop > 0) {
        sea_timer_init(&smp->stop_timer, stop_is_slow, smp);
        sea_timer_arm_periodic(&smp->stop_timer, smp->stuck_stop);
    }
    sea_future f = e->fn(e->arg);
    free(e);
    return sea_then_wrapped(f, at_exit_done, smp);
}

/* On shard 0: begin the orderly stop (once). */
static void begin_exit(struct sea__smp *smp, int code) {
    if (smp->exiting)
        return;
    smp->exiting = true;
    smp->exit_request = code;
    sea_future_detach(run_next_at_exit(&smp, (sea_value){0}));
}

static sea_future main_done(struct sea__shard **sp, sea_future *result) {
    struct sea__shard *s = *sp;
    int err = sea_future_error(result);
    int code;
    if (err) {
        const char *msg = sea_future_message(result);
        fprintf(stderr, "sea: application failed: %s (%s)%s%s\n", sea_strerror(err), sea_errname(err),
                msg ? ": " : "", msg ? msg : "");
        code = 1;
    } else {
        code = (int)sea_future_value(result).i;
    }
    begin_exit(s->smp, code);
    return sea_ready();
}

/* SIGINT/SIGTERM arrive through a signalfd that shard 0 polls like any descriptor. */
static sea_future watch_signals(struct sea__smp *smp);

static sea_future signal_arrived(struct sea__smp **smpp, sea_future *in) {
    struct sea__smp *smp = *smpp;
    if (sea_future_error(in))
        return sea_ready(); /* shutting down: the poll was cancelled */
    struct signalfd_siginfo si;
    while (read(smp->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (sea__signal_deliver((int)si.ssi_signo))
            continue; /* the application handles it */
        if (++smp->signals_seen > 1) {
            static const char msg[] = "sea: second signal, exiting now\n";
            ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
            (void)w;
            _exit(128 + (int)si.ssi_signo);
        }
        begin_exit(smp, 0);
    }
    return watch_signals(smp);
}

static sea_future watch_signals(struct sea__smp *smp) {
    return sea_then_wrapped(sea_fd_poll(smp->signal_fd, SEA_POLLIN), signal_arrived, smp);
}

/* CPUs a cgroup CPU quota allows (rounded up), or 0 for no limit. */
static unsigned cgroup_cpu_limit(void) {
    unsigned limit = 0;
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r"); /* cgroup v2 */
    if (f) {
        char quota[32];
        unsigned long long period;
        if (fscanf(f, "%31s %llu", quota, &period) == 2 && strcmp(quota, "max") != 0 && period > 0) {
            unsigned long long q = strtoull(quota, NULL, 10);
            limit = (unsigned)((q + period - 1) / period);
        }
        fclose(f);
        return limit;
    }
    long long q = -1, p = 0;
    f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r"); /* cgroup v1 */
    if (f) {
        if (fscanf(f, "%lld", &q) != 1)
            q = -1;
        fclose(f);
    }
    f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r");
    if (f) {
        if (fscanf(f, "%lld", &p) != 1)
            p = 0;
        fclose(f);
    }
    if (q > 0 && p > 0)
        limit = (unsigned)((q + p - 1) / p);
    return limit;
}

/* Chooses the CPUs; returns the shard count, or 0 with a message in err. */
static unsigned choose_cpus(const struct sea__options *o, int *cpus, char *err, size_t errlen) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
        snprintf(err, errlen, "cannot read the CPU affinity: %s", strerror(errno));
        return 0;
    }
    cpu_set_t use = allowed;
    if (o->has_cpuset) {
        for (int c = 0; c < CPU_SETSIZE; c++) {
            if (CPU_ISSET(c, &o->cpuset) && !CPU_ISSET(c, &allowed)) {
                snprintf(err, errlen, "CPU %d in --cpuset is not available to this process", c);
                return 0;
            }
        }
        use = o->cpuset;
    }
    unsigned avail = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &use))
            cpus[avail++] = c;
    unsigned n = o->smp;
    if (n == 0) {
        n = avail;
        unsigned limit = cgroup_cpu_limit();
        if (limit && limit < n && !o->has_cpuset)
            n = limit;
    }
    if (n == 0 || n > avail) {
        snprintf(err, errlen, "insufficient processing units");
        return 0;
    }
    return n;
}

static void record_failure(struct app_run *run, int rc, const char *msg) {
    pthread_mutex_lock(&run->err_lock);
    if (!run->init_rc) {
        run->init_rc = rc;
        snprintf(run->init_err, sizeof(run->init_err), "%s", msg);
    }
    pthread_mutex_unlock(&run->err_lock);
}

/* Everything a shard does, on its own thread, from start-up to tear-down. */
static void shard_main(struct app_run *run, unsigned id) {
    struct sea__smp *smp = &run->smp;
    char err[256] = "";
    /* From here on this thread's allocations come from the shard's own memory. */
    int attach_rc = sea__heap_attach(id);
    struct sea__shard *s = attach_rc < 0 ? NULL : aligned_alloc(64, (sizeof(struct sea__shard) + 63) & ~(size_t)63);
    int rc = attach_rc < 0 ? attach_rc : s ? 0 : -ENOMEM;
    if (attach_rc < 0)
        snprintf(err, sizeof(err), "another sea application is already running in this process");
    if (s) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(run->cpus[id], &one);
        rc = -pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
        if (rc < 0)
            snprintf(err, sizeof(err), "cannot pin shard %u to CPU %d: %s", id, run->cpus[id], strerror(-rc));
    }
    if (s && rc == 0) {
        rc = sea__shard_init(s, id, smp->n, run->opts, err, sizeof(err));
        if (rc == 0) {
            s->smp = smp;
            s->thread = pthread_self();
            if (id > 0) { /* shard 0 is the caller's thread: its name stays the program's */
                char name[16];
                snprintf(name, sizeof(name), "sea-shard-%u", id % 100000u);
                pthread_setname_np(pthread_self(), name); /* seen in gdb's "info threads", top -H */
            }
            s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (s->wake_fd < 0) {
                rc = -errno;
                snprintf(err, sizeof(err), "cannot create an eventfd: %s", strerror(errno));
                sea__shard_destroy(s);
            } else if ((rc = sea__metrics_shard_init(s)) < 0) {
                close(s->wake_fd);
                sea__shard_destroy(s);
            }
        }
    }
    if (rc < 0) {
        record_failure(run, rc, err[0] ? err : "out of memory");
        free(s);
        s = NULL;
    }
    smp->shards[id] = s;
    pthread_barrier_wait(&smp->barrier); /* everyone started (or failed) */
    bool ok = run->init_rc == 0;
    if (ok) {
        app_options = run->opts;
        if (id == 0) {
            if (smp->signal_fd >= 0)
                sea_future_detach(watch_signals(smp));
            int src = sea__signals_start(smp);
            if (src < 0)
                sea_log_warn(&sea_log_sea, "cannot install sea's SIGUSR2 handler: %s", sea_strerror(src));
            src = sea__stall_start(smp, run->opts->blocked_notify);
            if (src < 0)
                sea_log_warn(&sea_log_sea, "cannot start the stall detector: %s", sea_strerror(src));
            if (run->opts->prometheus_port >= 0 && sea__prometheus_start(run->opts, err, sizeof(err)) < 0) {
                fprintf(stderr, "Couldn't start application: %s\n", err);
                begin_exit(smp, 1);
            } else {
                sea_future f = run->main_fn(run->main_arg);
                sea_future_detach(sea_then_wrapped(f, main_done, s));
            }
        }
        sea__shard_run(s);
        /* Whoever stops first (shard 0, or a signal) tells the others. */
        sea__smp_request_stop(smp, s->exit_code);
    }
    pthread_barrier_wait(&smp->barrier); /* every loop has ended */
    if (id == 0 && ok) {
        sea__stall_stop();
        sea__signals_stop(); /* before the shards' wake descriptors close */
    }
    if (ok)
        sea__smp_drain_requests(s);
    pthread_barrier_wait(&smp->barrier); /* unrun requests are answered */
    if (ok)
        sea__smp_drain_home(s);
    pthread_barrier_wait(&smp->barrier); /* nothing is in flight any more */
    if (s) {
        if (id == 0)
            smp->exit_code = ok ? s->exit_code : 1;
        close(s->wake_fd);
        sea__shard_destroy(s);
        /* After the teardown, whose releases may still remove metrics. */
        sea__metrics_shard_destroy(s);
        free(s);
    }
    app_options = NULL;
    if (attach_rc == 0)
        sea__heap_detach();
}

struct shard_thread {
    struct app_run *run;
    unsigned id;
};

static void *shard_thread(void *arg) {
    struct shard_thread *t = arg;
    shard_main(t->run, t->id);
    return NULL;
}

/* Frees what sea_app_run allocated for the command line. */
static void command_line_free(struct sea__options *opts, char **file_args, int nfile, char **all) {
    sea__options_free(opts);
    sea__options_file_free(file_args, nfile);
    free(all);
}

static int app_run(int argc, char **argv, sea_main_fn main_fn, void *arg);

int sea_app_run(int argc, char **argv, sea_main_fn main_fn, void *arg) {
    /*
     * One application at a time per process: a second one must fail before
     * it touches what the first one is using (loggers, the log writer, the
     * options, signal dispositions).
     */
    static atomic_bool running;
    if (atomic_exchange(&running, true)) {
        fprintf(stderr, "Couldn't start application: another sea application is already running in this process\n");
        return 1;
    }
    int code = app_run(argc, argv, main_fn, arg);
    atomic_store(&running, false);
    return code;
}

static int app_run(int argc, char **argv, sea_main_fn main_fn, void *arg) {
    struct sea__options opts;
    char err[512] = "";
    const char *prog = argc > 0 && argv && argv[0] ? argv[0] : "sea";
    /*
     * The command line alone first: it says whether there is an options
     * file (the parser knows which arguments are values).  Then, if there
     * is, the file's lines go before the command line's arguments, so the
     * command line wins.
     */
    char **file_args = NULL, **all = NULL;
    int nfile = 0;
    int all_argc = argc;
    char **all_argv = argv;
    int rc = sea__options_parse(argc, argv, &opts, err, sizeof(err));
    const char *file = rc == 0 ? opts.options_file : NULL;
    if (file) {
        rc = sea__options_file_read(file, &file_args, &nfile, err, sizeof(err));
        sea__options_free(&opts);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return 2;
        }
        all = calloc((size_t)(argc + nfile + 1), sizeof(char *));
        if (!all) {
            fprintf(stderr, "%s: out of memory\n", prog);
            sea__options_file_free(file_args, nfile);
            return 1;
        }
        all[0] = (char *)prog;
        if (nfile)
            memcpy(all + 1, file_args, (size_t)nfile * sizeof(char *));
        if (argc > 1)
            memcpy(all + 1 + nfile, argv + 1, (size_t)(argc - 1) * sizeof(char *));
        all_argc = argc + nfile;
        all_argv = all;
        rc = sea__options_parse(all_argc, all_argv, &opts, err, sizeof(err));
    }
    if (rc == 1) {
        if (opts.help)
            sea__options_print_help(stdout, prog);
        else
            sea__log_print_loggers(stdout);
        command_line_free(&opts, file_args, nfile, all);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        command_line_free(&opts, file_args, nfile, all);
        return 2;
    }
    rc = sea__log_configure(&opts, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        command_line_free(&opts, file_args, nfile, all);
        return 2;
    }
    struct app_run *run = calloc(1, sizeof(*run));
    if (!main_fn || !run) {
        fprintf(stderr, "Couldn't start application: %s\n", run ? "no main function given" : "out of memory");
        free(run);
        command_line_free(&opts, file_args, nfile, all);
        return 1;
    }
    sea__options_lock(true);
    sea__options_set_current(&opts); /* readable from every thread until the shards have ended */
    run->opts = &opts;
    run->main_fn = main_fn;
    run->main_arg = arg;
    pthread_mutex_init(&run->err_lock, NULL);
    unsigned n = choose_cpus(&opts, run->cpus, err, sizeof(err));
    if (n && sea__memory_plan(&opts, n, run->cpus, err, sizeof(err)) < 0)
        n = 0;
    if (n == 0 || sea__smp_create(&run->smp, n) < 0) {
        fprintf(stderr, "Couldn't start application: %s\n", n ? "out of memory" : err);
        pthread_mutex_destroy(&run->err_lock);
        free(run);
        sea__options_set_current(NULL);
        sea__options_lock(false);
        command_line_free(&opts, file_args, nfile, all);
        return 1;
    }
    pthread_barrier_init(&run->smp.barrier, NULL, n);
    run->smp.stuck_stop = opts.stuck_stop;
    bool logging = sea__log_start(n) == 0; /* else lines are written directly, which may block */

    /*
     * SIGINT and SIGTERM are blocked in every shard thread (they inherit the
     * mask) and read by shard 0 from a signalfd, so they never interrupt a
     * continuation.  The previous mask is put back afterwards.
     */
    sigset_t stop_signals, saved_mask;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &saved_mask);
    run->smp.signal_fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);

    /* The calling thread becomes shard 0; its CPU affinity is put back afterwards. */
    cpu_set_t saved_affinity;
    bool restore = sched_getaffinity(0, sizeof(saved_affinity), &saved_affinity) == 0;
    struct shard_thread *threads = calloc(n, sizeof(*threads));
    pthread_t *tids = calloc(n, sizeof(*tids));
    unsigned started = 1;
    if (!threads || !tids) {
        fprintf(stderr, "Couldn't start application: out of memory\n");
        n = 0;
    }
    for (unsigned i = 1; i < n; i++) {
        threads[i] = (struct shard_thread){run, i};
        int e = pthread_create(&tids[i], NULL, shard_thread, &threads[i]);
        if (e) {
            /* Too late to shrink the barrier: the missing shards fail start-up for it. */
            fprintf(stderr, "Couldn't start application: cannot start a thread for shard %u: %s\n", i, strerror(e));
            exit(1);
        }
        started++;
    }
    int code = 1;
    if (n) {
        shard_main(run, 0);
        for (unsigned i = 1; i < started; i++)
            pthread_join(tids[i], NULL);
        if (run->init_rc)
            fprintf(stderr, "Couldn't start application: %s\n", run->init_err);
        else
            code = run->smp.exit_code;
        pthread_barrier_destroy(&run->smp.barrier);
    }
    if (logging)
        sea__log_stop();
    if (restore)
        sched_setaffinity(0, sizeof(saved_affinity), &saved_affinity);
    if (run->smp.signal_fd >= 0)
        close(run->smp.signal_fd);
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    while (run->smp.at_exit) {
        struct sea__at_exit *e = run->smp.at_exit;
        run->smp.at_exit = e->next;
        free(e);
    }
    free(threads);
    free(tids);
    sea__smp_free(&run->smp);
    pthread_mutex_destroy(&run->err_lock);
    free(run);
    sea__options_set_current(NULL);
    sea__options_lock(false);
    command_line_free(&opts, file_args, nfile, all);
    fflush(stdout);
    return code;
}

/* sea_app_run_fiber: the application's main function, run in a fiber. */
struct fiber_main {
    sea_main_fn fn;
    void *arg;
};

static sea_future start_main_fiber(void *arg) {
    struct fiber_main *m = arg;
    sea_fiber_attr attr = {.name = "main"};
    return sea_fiber_start(m->fn, m->arg, &attr);
}

int sea_app_run_fiber(int argc, char **argv, sea_main_fn main_fn, void *arg) {
    if (!main_fn)
        return sea_app_run(argc, argv, NULL, arg);
    struct fiber_main m = {main_fn, arg};
    return sea_app_run(argc, argv, start_main_fiber, &m);
}
