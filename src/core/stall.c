/*
 * stall.c - the stall detector (--blocked-reactor-notify-ms).
 *
 * A reactor that runs one task for too long holds up everything else on its
 * shard.  Each shard publishes a heartbeat (its loop-turn count) and whether
 * it sleeps; a watchdog thread looks at them a few times per threshold.  A
 * shard whose heartbeat has not moved for the threshold, and that is not
 * asleep, is stuck in a task: the watchdog sends that thread SIGRTMIN, whose
 * handler records a backtrace of where the shard is (async-signal-safe:
 * backtrace() into the shard's own slot), and the watchdog formats and logs
 * it.  The shard is interrupted only when it is already stalled, and for a
 * few microseconds.
 *
 * Reports are rate-limited: a stall is reported when it reaches the
 * threshold, then at 2x, 4x, 8x... as it goes on, and at most 10 reports
 * per shard per minute (the rest are counted and the count reported).
 */
#include "core/stall.h"

#include <sea/error.h>
#include <sea/log.h>

#include <errno.h>
#include <execinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/symbolize.h"
#include "base/thread.h"
#include "core/log.h"
#include "core/module.h"
#include "core/shard.h"
#include "core/smp.h"

#define STALL_FRAMES 32

/* A shard's slot for its backtrace (SEA__SLOT_STALL), handed between the watchdog and the signal handler. */
struct stall_slot {
    _Atomic int n;              /* -1: the handler may fill frames; >= 0: filled (n frames) */
    void *frames[STALL_FRAMES];
};

static inline struct stall_slot *stall_of(const struct sea__shard *s) {
    return s->slot[SEA__SLOT_STALL];
}

#define MAX_REPORTS_PER_MINUTE 10

struct shard_watch {
    uint64_t last_beat;
    sea_time since;       /* when the heartbeat last moved */
    unsigned reported;    /* reports in this stall */
    sea_time window_start;
    unsigned window_reports;
    unsigned suppressed;
};

static struct {
    struct sea__smp *smp;
    sea_time threshold;
    pthread_t thread;
    bool running;
    _Atomic int stop;
    int wake_fd;          /* the stop wakes the watchdog's sleep through it */
    struct sigaction old;
    struct shard_watch *w;
} st;

static void record_backtrace(int signo) {
    (void)signo;
    int saved = errno;
    struct sea__shard *s = sea__shard_current;
    struct stall_slot *bt = s ? stall_of(s) : NULL;
    /* -1 (stored with release by the watchdog once it is done with the slot): the slot is ours to fill. */
    if (bt && atomic_load_explicit(&bt->n, memory_order_acquire) == -1) {
        int n = backtrace(bt->frames, STALL_FRAMES);
        atomic_store_explicit(&bt->n, n, memory_order_release);
    }
    errno = saved;
}

static void report(struct sea__shard *s, sea_time stalled) {
    struct stall_slot *bt = stall_of(s);
    atomic_store_explicit(&bt->n, -1, memory_order_release);
    int n = -1;
    if (pthread_kill(s->thread, SIGRTMIN) == 0) {
        for (int i = 0; i < 200 && n < 0; i++) { /* up to 20 ms for the handler to run */
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
            n = atomic_load_explicit(&bt->n, memory_order_acquire);
            if (n < 0 && atomic_load_explicit(&s->beat, memory_order_relaxed) != st.w[s->id].last_beat)
                break; /* it moved on meanwhile */
        }
    }
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof(text), "Reactor stalled for %lld ms on shard %u", (long long)(stalled / 1000000),
                                  s->id);
    if (n > 0) {
        len += (size_t)snprintf(text + len, sizeof(text) - len, ". Backtrace:");
        /* Frame 0 is the signal handler and 1 the signal trampoline: start where the shard was. */
        for (int i = 2; i < n && len < sizeof(text) - 300; i++) {
            char where[256];
            sea__describe_addr(bt->frames[i], where, sizeof(where));
            len += (size_t)snprintf(text + len, sizeof(text) - len, "\n  %p %s", bt->frames[i], where);
        }
    } else {
        len += (size_t)snprintf(text + len, sizeof(text) - len, " (no backtrace: it moved on)");
    }
    sea_log_warn(&sea_log_sea, "%s", text);
}

static void *watchdog(void *arg) {
    (void)arg;
    sea__log_use_extra_ring(); /* a report must not block the watchdog on a slow output */
    sea_time tick = st.threshold / 4;
    if (tick < 1000000)
        tick = 1000000;
    while (!atomic_load(&st.stop)) {
        struct pollfd pf = {.fd = st.wake_fd, .events = POLLIN};
        if (poll(&pf, 1, (int)(tick / 1000000)) > 0)
            break; /* stopping */
        sea_time now = sea_now();
        for (unsigned i = 0; i < st.smp->n; i++) {
            struct sea__shard *s = st.smp->shards[i];
            struct shard_watch *w = &st.w[i];
            if (!s)
                continue;
            uint64_t beat = atomic_load_explicit(&s->beat, memory_order_relaxed);
            /* beat 0: the shard has not begun its first turn.  It may still be
             * leaving the start-up barrier, or waiting for a CPU on a loaded
             * machine; no task of its runs, so nothing stalls it. */
            if (beat == 0 || beat != w->last_beat || atomic_load_explicit(&s->asleep, memory_order_relaxed)) {
                w->last_beat = beat;
                w->since = now;
                w->reported = 0;
                continue;
            }
            sea_time stalled = now - w->since;
            if (w->reported >= 30 || stalled < st.threshold << w->reported)
                continue;
            w->reported++;
            if (now - w->window_start > 60 * (sea_time)1000000000) {
                if (w->suppressed)
                    sea_log_warn(&sea_log_sea, "%u more stall reports of shard %u were suppressed", w->suppressed, i);
                w->window_start = now;
                w->window_reports = 0;
                w->suppressed = 0;
            }
            if (!sea_log_enabled(&sea_log_sea, SEA_LOG_WARN))
                continue;
            if (w->window_reports >= MAX_REPORTS_PER_MINUTE) {
                w->suppressed++;
                continue;
            }
            w->window_reports++;
            report(s, stalled);
        }
    }
    return NULL;
}

/* --blocked-reactor-notify-ms in ns, 0 for off.  Set before the shards start, then read-only. */
static sea_time threshold_option = 25000000;

static int stall_start(struct sea__smp *smp, sea_time threshold) {
    if (threshold <= 0)
        return 0;
    st.w = calloc(smp->n, sizeof(*st.w));
    if (!st.w)
        return -ENOMEM;
    void *warm[2];
    backtrace(warm, 2); /* loads the unwinder now, not in the signal handler */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = record_backtrace;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGRTMIN, &sa, &st.old) < 0) {
        free(st.w);
        st.w = NULL;
        return -errno;
    }
    st.wake_fd = eventfd(0, EFD_CLOEXEC);
    if (st.wake_fd < 0) {
        int e = errno;
        sigaction(SIGRTMIN, &st.old, NULL);
        free(st.w);
        st.w = NULL;
        return -e;
    }
    st.smp = smp;
    st.threshold = threshold;
    atomic_store(&st.stop, 0);
    sea_time now = sea_now();
    for (unsigned i = 0; i < smp->n; i++)
        st.w[i].since = st.w[i].window_start = now;
    int rc = sea__helper_thread_start(&st.thread, watchdog, "sea-watchdog");
    if (rc) {
        close(st.wake_fd);
        sigaction(SIGRTMIN, &st.old, NULL);
        free(st.w);
        st.w = NULL;
        return -rc;
    }
    st.running = true;
    return 0;
}

static void stall_ended(struct sea__smp *smp) {
    (void)smp;
    if (!st.running)
        return;
    atomic_store(&st.stop, 1);
    uint64_t one = 1;
    ssize_t n = write(st.wake_fd, &one, sizeof(one));
    (void)n;
    pthread_join(st.thread, NULL);
    close(st.wake_fd);
    /*
     * A request the watchdog gave up on may still be queued for a shard
     * thread: ignoring the signal first discards it, so that putting the old
     * disposition (usually "terminate") back cannot kill the process.
     */
    struct sigaction ign;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigaction(SIGRTMIN, &ign, NULL);
    sigaction(SIGRTMIN, &st.old, NULL);
    free(st.w);
    st.w = NULL;
    st.running = false;
}

/* ---- the module ---- */

static const struct sea__opt options[] = {
    {.o = {.name = "blocked-reactor-notify-ms", .type = SEA_OPTION_INT, .default_value = "25", .min = 0,
           .max = 3600000, .help = "report a task that runs longer than N ms, with a backtrace (default 25; 0: off)"},
     .value_name = "N", .meaning = "a whole number of milliseconds in 0..3600000"},
};

static int stall_configure(const struct sea__opt_values *v, char *err, size_t errlen) {
    threshold_option = (sea_time)sea__opt_int(v, "blocked-reactor-notify-ms") * 1000000;
    return 0;
}

static int stall_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct stall_slot *bt = calloc(1, sizeof(*bt));
    if (!bt) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->slot[SEA__SLOT_STALL] = bt;
    return 0;
}

static void stall_shard_stop(struct sea__shard *s) {
    free(s->slot[SEA__SLOT_STALL]);
    s->slot[SEA__SLOT_STALL] = NULL;
}

/* On shard 0, every shard running: the watchdog starts (a failure leaves the application without it). */
static int stall_running(struct sea__smp *smp, char *err, size_t errlen) {
    int rc = stall_start(smp, threshold_option);
    if (rc < 0)
        sea_log_warn(&sea_log_sea, "cannot start the stall detector: %s", sea_strerror(rc));
    return 0;
}

const struct sea__module sea__module_stall = {
    .name = "stall",
    .options = options,
    .noptions = sizeof(options) / sizeof(options[0]),
    .configure = stall_configure,
    .shard_start = stall_shard_start,
    .shard_stop = stall_shard_stop,
    .running = stall_running,
    .ended = stall_ended,
};
