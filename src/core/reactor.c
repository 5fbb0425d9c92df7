/*
 * reactor.c - the per-shard event loop, and the shard's creation and end.
 *
 * One loop turn: run queued tasks until the queue is empty or the task
 * quota is spent; let the pollers pass on what the tasks produced (staged
 * messages to other shards); refresh the low-resolution clock; reap I/O
 * completions; call every poller registered with the loop (cross-shard
 * queues and frees, signals, timers: the loop does not know which).  When a turn finds
 * nothing to do the reactor may keep polling for up to --idle-poll-us
 * (default 200 us, so a request arriving right after the last one is picked
 * up without a wake-up); then it asks each poller whether it may sleep and
 * until when, and sleeps in the kernel until that deadline or an I/O
 * event.  With --poll-mode it never sleeps.
 *
 * It polls only while polling pays: the loop keeps a moving average of how
 * long its idle periods last, and polls when that is under SPIN_PAYS.  A
 * sleep and its wake-up cost the shard a few microseconds of CPU (measured
 * for sea-memcached: about 4 us in io_uring_enter); a poll that waits 50 us
 * for each request costs 50 us.  So a server at 20,000 requests a second
 * over many connections sleeps between requests, and one under load, whose
 * gaps are a few microseconds, polls and never pays for a wake-up.
 * --idle-poll-always polls the whole window every time (lowest latency,
 * most CPU), as before this rule.
 *
 * The task quota is measured with the CPU cycle counter, read once every 16
 * tasks so that the per-task cost stays near zero; sea_need_preempt() reads
 * it directly for user loops.
 */
#include "core/shard.h"

#include <sea/error.h>
#include <sea/metrics.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/symbolize.h"
#include "core/future.h"
#include "core/io.h"
#include "core/module.h"

/* How many tasks run between two reads of the cycle counter. */
#define QUOTA_CHECK_EVERY 16
/* Idle periods shorter than this on average are worth polling through rather than sleeping (ns). */
#define SPIN_PAYS 10000

/* The loop's settings (--task-quota-ms, --idle-poll-us, --poll-mode): set before the shards start, then read-only. */
static struct {
    sea_time task_quota;
    sea_time idle_poll;
    bool idle_poll_always;
    bool poll_mode;
} config = {.task_quota = 500000, .idle_poll = 200000};

static sea_task *rq_pop(struct sea__shard *s) {
    sea_task *t = s->rq_head;
    if (t) {
        s->rq_head = t->sea__next;
        if (!s->rq_head)
            s->rq_tail = &s->rq_head;
    }
    return t;
}

/* Cycles per nanosecond, measured against the monotonic clock. */
static double cycles_per_ns(void) {
#if defined(__aarch64__)
    uint64_t freq;
    __asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(freq));
    return (double)freq / 1e9;
#else
    struct timespec pause = {0, 2000000};
    sea_time t0 = sea_now();
    uint64_t c0 = sea__cycles();
    nanosleep(&pause, NULL);
    sea_time t1 = sea_now();
    uint64_t c1 = sea__cycles();
    if (t1 <= t0 || c1 <= c0)
        return 1.0;
    return (double)(c1 - c0) / (double)(t1 - t0);
#endif
}

struct sea__shard *sea__shard_create(unsigned id, unsigned count, char *err, size_t errlen) {
    struct sea__shard *s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->count = count;
    s->thread = pthread_self();
    s->rq_tail = &s->rq_head;
    s->yq_tail = &s->yq_head;
    s->idle_poll = config.idle_poll;
    s->idle_poll_always = config.idle_poll_always;
    s->poll_mode = config.poll_mode;
    s->quota_ns = config.task_quota;
    s->quota_cycles = (uint64_t)((double)config.task_quota * cycles_per_ns());
    if (s->quota_cycles == 0)
        s->quota_cycles = 1;
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->wake_fd < 0) {
        snprintf(err, errlen, "cannot create an eventfd: %s", strerror(errno));
        free(s);
        return NULL;
    }
    sea__shard_current = s;
    sea__hot.active = 1;
    sea__hot.inline_depth = 0;
    sea__hot.lowres_now = sea_now();
    /* The application's main function runs before the loop: give it a quota too. */
    sea__hot.preempt_at = sea__cycles() + s->quota_cycles;
    return s;
}

static void run_tasks(struct sea__shard *s) {
    if (!s->rq_head)
        return;
    uint64_t deadline = sea__cycles() + s->quota_cycles;
    sea__hot.preempt_at = deadline;
    unsigned n = 0;
    sea_task *t;
    while (!s->stopping && (t = rq_pop(s))) {
        t->sea__run(t);
        n++;
        if (n % QUOTA_CHECK_EVERY == 0 && sea__cycles() >= deadline) {
            if (s->rq_head)
                s->stats.quota_preemptions++;
            break;
        }
    }
    s->stats.tasks_run += n;
    /*
     * preempt_at keeps this deadline until the next task run, so code running
     * from pollers and completions sees a spent quota as spent.
     */
}

/*
 * Asks every poller whether the loop may sleep, lowering *deadline.  On a
 * veto, the pollers that had agreed are told the sleep is off.
 */
static bool may_sleep(struct sea__shard *s, sea_time *deadline) {
    for (struct sea__poller *p = s->pollers; p; p = p->next) {
        if (!p->try_sleep || p->try_sleep(p->state, deadline))
            continue;
        for (struct sea__poller *q = s->pollers; q != p; q = q->next)
            if (q->try_sleep && q->after_wake)
                q->after_wake(q->state);
        return false;
    }
    return true;
}

/* Notes how long an idle period lasted, polled through or slept, in the moving average (1/8 weight). */
static void note_idle_gap(struct sea__shard *s, sea_time gap) {
    s->idle_gap_avg += (gap - s->idle_gap_avg) / 8;
}

void sea__shard_run(struct sea__shard *s) {
    sea_time idle_since = -1;
    sea_time turn_started = sea_now();
    if (!s->stats.started_ns)
        s->stats.started_ns = (uint64_t)sea_now();
    while (!s->stopping) {
        s->stats.loop_iterations++;
        atomic_store_explicit(&s->beat, s->stats.loop_iterations, memory_order_relaxed);
        run_tasks(s);
        for (struct sea__poller *p = s->flushers; p; p = p->next_flush)
            p->flush(p->state);
        if (atomic_load_explicit(&s->stop_requested, memory_order_relaxed))
            s->stopping = true;
        if (s->stopping)
            break;
        sea_time now = sea_now();
        sea__hot.lowres_now = now;
        /* A turn of the loop (tasks, then polling) that took over twice the quota: something did not yield. */
        if (now - turn_started > 2 * s->quota_ns)
            s->stats.quota_violations++;
        turn_started = now;
        unsigned events = sea__io_reap(s);
        s->stats.io_completions += events;
        for (struct sea__poller *p = s->pollers; p; p = p->next)
            if (!p->work || atomic_load_explicit(p->work, memory_order_relaxed))
                events += p->poll(p->state);
        if (s->yq_head) {
            /* I/O reaped, pollers run, due timers fired: the yields made so far resolve now. */
            *s->rq_tail = s->yq_head;
            s->rq_tail = s->yq_tail;
            s->yq_head = NULL;
            s->yq_tail = &s->yq_head;
        }
        if (events || s->rq_head || s->poll_mode) {
            if (idle_since >= 0)
                note_idle_gap(s, now - idle_since);
            idle_since = -1;
            continue;
        }
        if (idle_since < 0) {
            idle_since = now;
            continue;
        }
        sea_time window = s->idle_poll_always || s->idle_gap_avg < SPIN_PAYS ? s->idle_poll : 0;
        if (now - idle_since < window)
            continue;
        /* Idle long enough: sleep until the earliest deadline a poller has, an I/O event or a wake-up. */
        sea_time deadline = SEA_TIME_MAX;
        if (!may_sleep(s, &deadline))
            continue;
        s->stats.sleeps++;
        sea_time slept_from = sea_now();
        atomic_store_explicit(&s->asleep, 1, memory_order_relaxed);
        events = sea__io_wait(s, deadline);
        atomic_store_explicit(&s->asleep, 0, memory_order_relaxed);
        turn_started = sea_now();
        s->stats.sleep_ns += (uint64_t)(turn_started - slept_from);
        for (struct sea__poller *p = s->pollers; p; p = p->next)
            if (p->try_sleep && p->after_wake)
                p->after_wake(p->state);
        s->stats.io_completions += events;
        note_idle_gap(s, turn_started - idle_since);
        idle_since = -1;
    }
    atomic_store_explicit(&s->asleep, 1, memory_order_relaxed); /* not running tasks: not stalled */
}

void sea__shard_stop(struct sea__shard *s, int exit_code) {
    if (!s->stopping) {
        s->stopping = true;
        s->exit_code = exit_code;
    }
}

void sea__shard_destroy(struct sea__shard *s) {
    close(s->wake_fd);
    free(s);
    sea__shard_current = NULL;
    sea__hot.active = 0;
}

/* ---- introspection ---- */

int sea_reactor_stats_get(sea_reactor_stats *out) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return SEA_ESHUTDOWN;
    *out = s->stats;
    out->nodes_in_use = sea__futures_pending(s);
    return 0;
}

/* ---- the reactor as a module: its options, metrics and part of the state dump ---- */

static const struct sea__opt options[] = {
    {.o = {.name = "poll-mode", .type = SEA_OPTION_FLAG, .help = "poll continuously, never sleep (100% CPU)"}},
    {.o = {.name = "idle-poll-us", .type = SEA_OPTION_INT, .default_value = "200", .min = 0, .max = 10000000,
           .help = "when idle, poll up to N microseconds before sleeping, while recent idle periods are short "
                   "enough for polling to cost less than a wake-up (default 200, 0..10000000)"},
     .value_name = "N", .meaning = "a whole number of microseconds in 0..10000000"},
    {.o = {.name = "idle-poll-always", .type = SEA_OPTION_FLAG,
           .help = "poll the whole --idle-poll-us every time the loop is idle, however long idle periods are "
                   "(lower latency, more CPU)"}},
    {.o = {.name = "task-quota-ms", .type = SEA_OPTION_DOUBLE, .default_value = "0.5", .min = 0.001, .max = 1000,
           .help = "run tasks at most X ms before polling I/O and timers (default 0.5, 0.001..1000)"},
     .value_name = "X", .meaning = "a number of milliseconds in 0.001..1000"},
};

static int reactor_configure(const struct sea__opt_values *v, char *err, size_t errlen) {
    config.poll_mode = sea__opt_flag(v, "poll-mode");
    config.idle_poll = (sea_time)sea__opt_int(v, "idle-poll-us") * 1000;
    config.idle_poll_always = sea__opt_flag(v, "idle-poll-always");
    config.task_quota = (sea_time)(sea__opt_double(v, "task-quota-ms") * 1e6);
    return 0;
}

/* Pending futures: the futures module's nodes in use. */
static double read_pending_futures(void *arg) {
    return (double)sea__futures_pending(arg);
}

/* Time the reactor spent awake: its uptime less the time it slept in the kernel. */
static double read_busy_seconds(void *arg) {
    const struct sea__shard *s = arg;
    if (!s->stats.started_ns)
        return 0;
    uint64_t now = (uint64_t)sea_now();
    uint64_t up = now > s->stats.started_ns ? now - s->stats.started_ns : 0;
    return (double)(up > s->stats.sleep_ns ? up - s->stats.sleep_ns : 0) / 1e9;
}

static int reactor_metrics(struct sea__shard *s, char *err, size_t errlen) {
    static const struct {
        const char *name, *help;
        size_t offset;
    } counters[] = {
        {"sea_reactor_tasks_run_total", "Tasks the reactor took from its run queue",
         offsetof(sea_reactor_stats, tasks_run)},
        {"sea_reactor_polls_total", "Turns of the reactor's event loop", offsetof(sea_reactor_stats, loop_iterations)},
        {"sea_reactor_sleeps_total", "Times the reactor slept in the kernel, idle", offsetof(sea_reactor_stats, sleeps)},
        {"sea_reactor_task_quota_violations_total",
         "Loop turns that took over twice the task quota: a task or completion did not yield",
         offsetof(sea_reactor_stats, quota_violations)},
        {"sea_reactor_quota_preemptions_total", "Task runs cut short by the task quota",
         offsetof(sea_reactor_stats, quota_preemptions)},
        {"sea_reactor_ignored_failed_futures_total", "Failed futures nobody consumed",
         offsetof(sea_reactor_stats, ignored_failures)},
        {"sea_reactor_inline_deferred_total", "Ready continuations queued because nesting reached its limit",
         offsetof(sea_reactor_stats, inline_deferred)},
        {"sea_reactor_timers_fired_total", "Timer callbacks run", offsetof(sea_reactor_stats, timers_fired)},
        {"sea_reactor_io_completions_total", "I/O requests completed", offsetof(sea_reactor_stats, io_completions)},
        {"sea_reactor_smp_messages_total", "Requests and responses received from other shards",
         offsetof(sea_reactor_stats, smp_messages)},
    };
    int rc = sea_counter_register_fn("sea_reactor_busy_seconds_total",
                                     "Time the reactor was awake: its uptime less its sleeps", NULL, read_busy_seconds,
                                     s, NULL);
    if (rc == 0)
        rc = sea_gauge_register_fn("sea_reactor_pending_futures", "Pending futures alive now", NULL,
                                   read_pending_futures, s, NULL);
    for (size_t i = 0; rc == 0 && i < sizeof(counters) / sizeof(counters[0]); i++)
        rc = sea_counter_register_fn(counters[i].name, counters[i].help, NULL, sea_metric_read_u64,
                                     (char *)&s->stats + counters[i].offset, NULL);
    if (rc < 0)
        snprintf(err, errlen, "cannot register the reactor's metrics: %s", sea_strerror(rc));
    return rc;
}

/* At most this many queued tasks are listed in the state dump (the count is always given). */
#define DUMP_LIMIT 32

static void reactor_dump(struct sea__shard *s, FILE *out, int part) {
    if (part == SEA__DUMP_SUMMARY) {
        unsigned tasks = 0;
        for (sea_task *t = s->rq_head; t; t = t->sea__next)
            tasks++;
        fprintf(out, "%u queued tasks", tasks);
        return;
    }
    unsigned listed = 0;
    for (sea_task *t = s->rq_head; t && listed < DUMP_LIMIT; t = t->sea__next, listed++) {
        char what[256];
        sea__describe_addr((const void *)t->sea__run, what, sizeof(what));
        fprintf(out, "  task: %s\n", what);
    }
}

const struct sea__module sea__module_reactor = {
    .name = "reactor",
    .options = options,
    .noptions = sizeof(options) / sizeof(options[0]),
    .configure = reactor_configure,
    .metrics = reactor_metrics,
    .dump = reactor_dump,
};
