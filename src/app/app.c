/*
 * app.c - the application template: parse the command line, start every
 * module, start one pinned reactor thread per shard, run main on shard 0,
 * turn its future into an exit code, and wind everything down in order.
 *
 * It names no subsystem: the modules (modules.c) do the work, in order,
 * through their hooks (core/module.h).  What is left here is what only the
 * template knows: which CPUs the shards get, the threads, the barriers
 * between the phases of start and stop, the signals that stop the program,
 * and the application's own stop callbacks (sea_app_at_exit).
 *
 * Shard 0 runs on the calling thread; shards 1..N-1 get threads of their
 * own.  Every shard is pinned to one CPU: the first N of --cpuset, or of
 * the CPUs the process may use (its affinity mask).  Without -c the count
 * is every such CPU, capped by a cgroup CPU quota.  When main's future
 * resolves, the stop callbacks run, then shard 0 asks every shard to stop;
 * the loops end, messages still in flight are answered with SEA_ESHUTDOWN,
 * and each shard tears itself down on its own thread.
 */
#include <sea/app.h>
#include <sea/error.h>
#include <sea/fiber.h>
#include <sea/log.h>
#include <sea/promise.h>
#include <sea/reactor.h>
#include <sea/smp.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "app/modules.h"
#include "app/options.h"
#include "base/cgroup.h"
#include "base/compiler.h"
#include "base/symbolize.h"
#include "base/text.h"
#include "core/module.h"
#include "core/shard.h"
#include "core/signals.h"
#include "core/smp.h"
#include "core/stop.h"


/* One run of an application: what every shard thread needs, and the orderly stop's state. */
struct app_run {
    struct sea__smp smp;    /* first: a shard finds its run from its smp */
    struct sea__options *opts;
    int cpus[CPU_SETSIZE];
    sea__fnptr main_fn;
    const void *main_cap;   /* the caller's capture (it outlives the run), or NULL */
    size_t main_capsz;
    bool main_in_fiber;
    pthread_barrier_t barrier;
    int init_rc;            /* first start-up failure, 0 if none */
    char init_err[256];
    pthread_mutex_t err_lock;
    /* Shard 0 only: the orderly stop. */
    struct stop_waiter *stop_waiters; /* sea_app_stopped futures */
    size_t module_stops;           /* modules whose stopping hook has not run yet (the last ones first) */
    bool exiting;
    int exit_request;              /* exit code the stop will end with */
    sea_time stuck_stop;           /* --stop-report-ms */
    sea_timer stop_timer;          /* reports a stop callback that takes longer than that */
    const void *stop_fn;           /* the stop callback running now */
    sea_time stop_started;
    int signal_fd;
    unsigned signals_seen;
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

/* The run the current shard belongs to, or NULL. */
static struct app_run *current_run(void) {
    struct sea__shard *s = sea__shard_current;
    return s && s->smp ? sea__container_of(s->smp, struct app_run, smp) : NULL;
}

/* ---- the orderly stop: stop callbacks, the modules' stopping hooks, then every shard stops ---- */

int sea__app_at_exit(sea__fnptr fn, const void *cap, size_t capsz) {
    if (!current_run())
        return -EINVAL;
    return sea__stop_callback_add(fn, cap, capsz);
}

struct stop_waiter {
    sea_promise stopped;
    struct stop_waiter *next;
};

sea_future sea_app_stopped(void) {
    struct app_run *run = current_run();
    if (!run)
        return sea_failed(SEA_ESHUTDOWN, "sea_app_stopped: no application is running");
    if (run->exiting)
        return sea_ready();
    if (sea__shard_current->id != 0)
        return sea_submit_to(0, sea_app_stopped);
    struct stop_waiter *w = malloc(sizeof(*w));
    if (!w)
        return sea_failed(-ENOMEM, "out of memory in sea_app_stopped");
    sea_promise_init(&w->stopped);
    sea_future f = sea_promise_get_future(&w->stopped);
    w->next = run->stop_waiters;
    run->stop_waiters = w;
    return f;
}

static void stop_waiters_resolve(struct app_run *run) {
    while (run->stop_waiters) {
        struct stop_waiter *w = run->stop_waiters;
        run->stop_waiters = w->next;
        sea_promise_set_void(&w->stopped);
        sea_promise_release(&w->stopped);
        free(w);
    }
}

static void begin_exit(struct app_run *run, int code);

int sea_app_stop(int code) {
    struct app_run *run = current_run();
    if (!run || sea__shard_current->id != 0)
        return -EINVAL;
    begin_exit(run, code);
    return 0;
}

static sea_future run_next_stop(struct app_run **runp, sea_value v);

/* A stop callback is still running after --stop-report-ms (and every such period after). */
static void stop_is_slow(sea_timer *t, void *arg) {
    (void)t;
    struct app_run *run = arg;
    char what[256];
    sea__describe_addr(run->stop_fn, what, sizeof(what));
    sea_log_warn(&sea_log_sea, "stop callback %s has not finished after %lld ms; still waiting for it", what,
                 (long long)((sea_now() - run->stop_started) / 1000000));
}

static sea_future stop_done(struct app_run **runp, sea_future *result) {
    sea_timer_cancel(&(*runp)->stop_timer);
    int err = sea_future_error(result);
    if (err) {
        const char *msg = sea_future_message(result);
        fprintf(stderr, "sea: a stop callback failed: %s (%s)%s%s\n", sea_strerror(err), sea_errname(err),
                msg ? ": " : "", msg ? msg : "");
    }
    return run_next_stop(runp, (sea_value){0});
}

static sea_future run_next_stop(struct app_run **runp, sea_value v) {
    struct app_run *run = *runp;
    (void)v;
    const void *fn = NULL;
    struct sea__stop_callback *e = sea__stop_callback_pop(&run->smp);
    const struct sea__module *m = NULL;
    if (e) {
        fn = (const void *)e->fn;
    } else {
        while (run->module_stops > 0 && !m) {
            m = sea__app_modules[--run->module_stops];
            if (!m->stopping)
                m = NULL;
        }
        if (!m) {
            /* Every callback ran: stop all shards. */
            sea__shard_stop(sea__shard_current, run->exit_request);
            sea__smp_request_stop(&run->smp, run->exit_request);
            return sea_ready();
        }
        fn = (const void *)m->stopping;
    }
    run->stop_fn = fn;
    run->stop_started = sea_now();
    if (run->stuck_stop > 0) {
        sea_timer_init(&run->stop_timer, stop_is_slow, run);
        sea_timer_arm_periodic(&run->stop_timer, run->stuck_stop);
    }
    sea_future f;
    if (e) {
        f = sea__stop_callback_run(e);
        free(e);
    } else {
        f = m->stopping(&run->smp);
    }
    return sea_then_wrapped(f, stop_done, run);
}

/* On shard 0: begin the orderly stop (once). */
static void begin_exit(struct app_run *run, int code) {
    if (run->exiting)
        return;
    run->exiting = true;
    run->exit_request = code;
    run->module_stops = sea__app_module_count;
    stop_waiters_resolve(run);
    sea_future_detach(run_next_stop(&run, (sea_value){0}));
}

static sea_future main_done(struct app_run **runp, sea_future *result) {
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
    begin_exit(*runp, code);
    return sea_ready();
}

/* SIGINT/SIGTERM arrive through a signalfd that shard 0 polls like any descriptor. */
static sea_future watch_signals(struct app_run *run);

static sea_future signal_arrived(struct app_run **runp, sea_future *in) {
    struct app_run *run = *runp;
    if (sea_future_error(in))
        return sea_ready(); /* shutting down: the poll was cancelled */
    struct signalfd_siginfo si;
    while (read(run->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (sea__signal_deliver((int)si.ssi_signo))
            continue; /* the application handles it */
        if (++run->signals_seen > 1) {
            static const char msg[] = "sea: second signal, exiting now\n";
            ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
            (void)w;
            _exit(128 + (int)si.ssi_signo);
        }
        begin_exit(run, 0);
    }
    return watch_signals(run);
}

static sea_future watch_signals(struct app_run *run) {
    return sea_then_wrapped(sea_fd_poll(run->signal_fd, SEA_POLLIN), signal_arrived, run);
}

/* ---- start-up ---- */

/* Chooses the CPUs; returns the shard count, or 0 with a message in err. */
static unsigned choose_cpus(const struct sea__opt_values *v, int *cpus, char *err, size_t errlen) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
        snprintf(err, errlen, "cannot read the CPU affinity: %s", strerror(errno));
        return 0;
    }
    cpu_set_t use = allowed;
    const char *cpuset = sea__opt_string(v, "cpuset");
    if (cpuset) {
        cpu_set_t asked;
        sea__parse_cpuset(cpuset, &asked); /* checked when parsed */
        for (int c = 0; c < CPU_SETSIZE; c++) {
            if (CPU_ISSET(c, &asked) && !CPU_ISSET(c, &allowed)) {
                snprintf(err, errlen, "CPU %d in --cpuset is not available to this process", c);
                return 0;
            }
        }
        use = asked;
    }
    unsigned avail = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &use))
            cpus[avail++] = c;
    unsigned n = (unsigned)sea__opt_int(v, "smp");
    if (n == 0) {
        n = avail;
        unsigned limit = sea__cgroup_cpu_limit("");
        if (limit && limit < n && !cpuset)
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

/* Makes the calling thread shard id: its memory, its CPU, its reactor, every module's part.  NULL on failure. */
static struct sea__shard *shard_start(struct app_run *run, unsigned id, bool *thread_started, char *err,
                                      size_t errlen) {
    /* From here on this thread's allocations come from the shard's own memory. */
    int rc = sea__modules_thread_start(id, err, errlen);
    *thread_started = rc == 0;
    if (rc < 0)
        return NULL;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(run->cpus[id], &one);
    rc = -pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
    if (rc < 0) {
        snprintf(err, errlen, "cannot pin shard %u to CPU %d: %s", id, run->cpus[id], strerror(-rc));
        return NULL;
    }
    struct sea__shard *s = sea__shard_create(id, run->smp.n, err, errlen);
    if (!s)
        return NULL;
    s->smp = &run->smp;
    if (id > 0) { /* shard 0 is the caller's thread: its name stays the program's */
        char name[16];
        snprintf(name, sizeof(name), "sea-shard-%u", id % 100000u);
        pthread_setname_np(pthread_self(), name); /* seen in gdb's "info threads", top -H */
    }
    if (sea__modules_shard_start(s, err, errlen) < 0) {
        sea__shard_destroy(s);
        return NULL;
    }
    return s;
}

/* Everything a shard does, on its own thread, from start-up to tear-down. */
static void shard_main(struct app_run *run, unsigned id) {
    struct sea__smp *smp = &run->smp;
    char err[256] = "";
    bool thread_started;
    struct sea__shard *s = shard_start(run, id, &thread_started, err, sizeof(err));
    if (!s)
        record_failure(run, -1, err[0] ? err : "out of memory");
    smp->shards[id] = s;
    pthread_barrier_wait(&run->barrier); /* everyone started (or failed) */
    bool ok = run->init_rc == 0;
    if (ok) {
        app_options = run->opts;
        if (id == 0) {
            if (run->signal_fd >= 0)
                sea_future_detach(watch_signals(run));
            if (sea__modules_running(smp, err, sizeof(err)) < 0) {
                fprintf(stderr, "Couldn't start application: %s\n", err);
                begin_exit(run, 1);
            } else {
                sea_future f = run->main_in_fiber
                                   ? sea__fiber_start(&(sea_fiber_attr){.name = "main"}, run->main_fn,
                                                      run->main_cap, run->main_capsz)
                                   : sea__call(run->main_fn, (void *)run->main_cap);
                sea_future_detach(sea_then_wrapped(f, main_done, run));
            }
        }
        sea__shard_run(s);
        /* Whoever stops first (shard 0, or a signal) tells the others. */
        sea__smp_request_stop(smp, s->exit_code);
    }
    pthread_barrier_wait(&run->barrier); /* every loop has ended */
    if (id == 0 && ok)
        sea__modules_ended(smp); /* before the shards' wake descriptors close */
    if (ok)
        sea__smp_drain_requests(s);
    pthread_barrier_wait(&run->barrier); /* unrun requests are answered */
    if (ok)
        sea__smp_drain_home(s);
    pthread_barrier_wait(&run->barrier); /* nothing is in flight any more */
    if (s) {
        if (id == 0)
            smp->exit_code = ok ? s->exit_code : 1;
        sea__modules_shard_stop(s);
        sea__shard_destroy(s);
    }
    app_options = NULL;
    if (thread_started)
        sea__modules_thread_stop(id);
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

/* ---- the run ---- */

/* The command line: argv, with the options file's lines (if it names one) before its arguments. */
struct command_line {
    struct sea__options opts;
    char **file_args;
    int nfile;
    char **all;
};

static void command_line_free(struct command_line *c) {
    sea__options_free(&c->opts);
    sea__options_file_free(c->file_args, c->nfile);
    free(c->all);
}

/*
 * Parses the command line alone first: it says whether there is an options
 * file (the parser knows which arguments are values).  Then, if there is,
 * the file's lines go before the command line's arguments, so the command
 * line wins.  Returns 0, 1 for --help, or < 0 with err set (exit 2 or 1).
 */
static int command_line_parse(int argc, char **argv, const char *prog, struct command_line *c, char *err,
                              size_t errlen) {
    memset(c, 0, sizeof(*c));
    int rc = sea__options_parse(argc, argv, &c->opts, err, errlen);
    const char *file = rc == 0 ? sea__opt_string(&c->opts.values, "options-file") : NULL;
    if (!file)
        return rc;
    rc = sea__options_file_read(file, &c->file_args, &c->nfile, err, errlen);
    sea__options_free(&c->opts);
    if (rc < 0)
        return SEA_EUSAGE;
    c->all = calloc((size_t)(argc + c->nfile + 1), sizeof(char *));
    if (!c->all) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    c->all[0] = (char *)prog;
    if (c->nfile)
        memcpy(c->all + 1, c->file_args, (size_t)c->nfile * sizeof(char *));
    if (argc > 1)
        memcpy(c->all + 1 + c->nfile, argv + 1, (size_t)(argc - 1) * sizeof(char *));
    return sea__options_parse(argc + c->nfile, c->all, &c->opts, err, errlen);
}

static int app_run(int argc, char **argv, bool fiber, sea__fnptr main_fn, const void *cap, size_t capsz);

int sea__app_run(int argc, char **argv, bool fiber, sea__fnptr main_fn, const void *cap, size_t capsz) {
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
    int code = app_run(argc, argv, fiber, main_fn, cap, capsz);
    atomic_store(&running, false);
    return code;
}

/*
 * Starts the modules and the shards, runs the application on them, and
 * winds everything down: the exit code.
 */
static int run_shards(struct app_run *run, char *err, size_t errlen) {
    unsigned n = choose_cpus(&run->opts->values, run->cpus, err, errlen);
    struct sea__run info = {.nshards = n, .cpus = run->cpus};
    bool created = n && sea__smp_create(&run->smp, n) == 0;
    if (n && !created)
        snprintf(err, errlen, "out of memory");
    if (!created || sea__modules_start(&info, err, errlen) < 0) {
        fprintf(stderr, "Couldn't start application: %s\n", err);
        if (created)
            sea__smp_free(&run->smp);
        return 1;
    }
    pthread_barrier_init(&run->barrier, NULL, n);

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
    run->signal_fd = signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);

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
    }
    pthread_barrier_destroy(&run->barrier);
    sea__modules_stop();
    if (restore)
        sched_setaffinity(0, sizeof(saved_affinity), &saved_affinity);
    if (run->signal_fd >= 0)
        close(run->signal_fd);
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    for (struct sea__stop_callback *e; (e = sea__stop_callback_pop(&run->smp));)
        free(e);
    while (run->stop_waiters) { /* never stopped in order (start-up failed): nobody waits any more */
        struct stop_waiter *w = run->stop_waiters;
        run->stop_waiters = w->next;
        sea_promise_release(&w->stopped);
        free(w);
    }
    free(threads);
    free(tids);
    sea__smp_free(&run->smp);
    return code;
}

static int app_run(int argc, char **argv, bool fiber, sea__fnptr main_fn, const void *cap, size_t capsz) {
    char err[512] = "";
    const char *prog = argc > 0 && argv && argv[0] ? argv[0] : "sea";
    sea__modules_use(sea__app_modules, sea__app_module_count);
    struct command_line cl;
    int rc = command_line_parse(argc, argv, prog, &cl, err, sizeof(err));
    if (rc == 1) {
        sea__options_print_help(stdout, prog);
        command_line_free(&cl);
        return 0;
    }
    if (rc == 0)
        rc = sea__modules_configure(&cl.opts.values, err, sizeof(err));
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "%s: %s\n", prog, err);
        command_line_free(&cl);
        return rc == 1 ? 0 : rc == -ENOMEM ? 1 : 2; /* 1: a module did what was asked (--help-loggers) */
    }
    struct app_run *run = calloc(1, sizeof(*run));
    if (!main_fn || !run) {
        fprintf(stderr, "Couldn't start application: %s\n", run ? "no main function given" : "out of memory");
        free(run);
        command_line_free(&cl);
        return 1;
    }
    sea__options_lock(true);
    sea__options_set_current(&cl.opts); /* readable from every thread until the shards have ended */
    run->opts = &cl.opts;
    run->main_fn = main_fn;
    run->main_cap = cap;
    run->main_capsz = capsz;
    run->main_in_fiber = fiber;
    run->stuck_stop = (sea_time)sea__opt_int(&cl.opts.values, "stop-report-ms") * 1000000;
    run->signal_fd = -1;
    pthread_mutex_init(&run->err_lock, NULL);
    int code = run_shards(run, err, sizeof(err));
    pthread_mutex_destroy(&run->err_lock);
    free(run);
    sea__options_set_current(NULL);
    sea__options_lock(false);
    command_line_free(&cl);
    fflush(stdout);
    return code;
}
