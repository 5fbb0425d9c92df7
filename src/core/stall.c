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
#include "internal.h"

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
    /* -1 (stored with release by the watchdog once it is done with the slot): the slot is ours to fill. */
    if (s && atomic_load_explicit(&s->stall_bt_n, memory_order_acquire) == -1) {
        int n = backtrace(s->stall_bt, SEA__STALL_FRAMES);
        atomic_store_explicit(&s->stall_bt_n, n, memory_order_release);
    }
    errno = saved;
}

static void report(struct sea__shard *s, sea_time stalled) {
    atomic_store_explicit(&s->stall_bt_n, -1, memory_order_release);
    int n = -1;
    if (pthread_kill(s->thread, SIGRTMIN) == 0) {
        for (int i = 0; i < 200 && n < 0; i++) { /* up to 20 ms for the handler to run */
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
            n = atomic_load_explicit(&s->stall_bt_n, memory_order_acquire);
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
            sea__describe_addr(s->stall_bt[i], where, sizeof(where));
            len += (size_t)snprintf(text + len, sizeof(text) - len, "\n  %p %s", s->stall_bt[i], where);
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
            if (beat != w->last_beat || atomic_load_explicit(&s->asleep, memory_order_relaxed)) {
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

int sea__stall_start(struct sea__smp *smp, sea_time threshold) {
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

void sea__stall_stop(void) {
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
