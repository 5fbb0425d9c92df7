/*
 * reactor.c - the per-shard event loop.
 *
 * One loop iteration: run queued tasks until the queue is empty or the task
 * quota is spent; refresh the low-resolution clock; reap I/O completions; fire
 * due timers.  When an iteration finds nothing to do the reactor keeps polling
 * for --idle-poll-us (default 200 us, so a request arriving right after the
 * last one is picked up without a wake-up), then sleeps in the kernel until
 * the next timer deadline or I/O event.  With --poll-mode it never sleeps.
 *
 * The task quota is measured with the CPU cycle counter, read once every 16
 * tasks so that the per-task cost stays near zero; sea_need_preempt() reads it
 * directly for user loops.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__thread struct sea__hot sea__hot __attribute__((tls_model("initial-exec")));
__thread struct sea__shard *sea__shard_current __attribute__((tls_model("initial-exec")));

/* How many tasks run between two reads of the cycle counter. */
#define QUOTA_CHECK_EVERY 16

void sea_task_schedule(sea_task *t) {
    struct sea__shard *s = sea__shard_current;
    if (SEA__UNLIKELY(!s))
        sea__panic("sea_task_schedule called with no running reactor");
    sea__rq_push(s, t);
}

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

int sea__shard_init(struct sea__shard *s, unsigned id, unsigned count, const struct sea__options *o,
                    char *err, size_t errlen) {
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->count = count;
    s->rq_tail = &s->rq_head;
    s->yq_tail = &s->yq_head;
    s->idle_poll = o->idle_poll;
    s->poll_mode = o->poll_mode;
    double cpn = cycles_per_ns();
    s->quota_ns = o->task_quota;
    s->quota_cycles = (uint64_t)((double)o->task_quota * cpn);
    if (s->quota_cycles == 0)
        s->quota_cycles = 1;
    sea__timer_set_init(&s->timers, sea_now());

    sea__shard_current = s;
    sea__hot.active = 1;
    sea__hot.inline_depth = 0;
    sea__hot.lowres_now = sea_now();
    /* The application's main function runs before the loop: give it a quota too. */
    sea__hot.preempt_at = sea__cycles() + s->quota_cycles;

    int rc;
    if (o->backend && strcmp(o->backend, "epoll") == 0) {
        s->backend = &sea__backend_epoll;
        rc = s->backend->init(s);
    } else {
        s->backend = &sea__backend_uring;
        rc = s->backend->init(s);
        if (rc < 0 && !o->backend) {
            /* io_uring missing or blocked (seccomp): the epoll backend behaves the same. */
            s->backend = &sea__backend_epoll;
            rc = s->backend->init(s);
        }
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot start the %s reactor backend: %s", s->backend->name,
                 sea_strerror(rc));
        s->backend = NULL;
        sea__shard_current = NULL;
        sea__hot.active = 0;
        return rc;
    }
    return 0;
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
     * from timer callbacks and completions sees a spent quota as spent.
     */
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
        if (s->smp) {
            if (atomic_load_explicit(&s->stop_requested, memory_order_relaxed))
                s->stopping = true;
            sea__smp_flush(s);
        }
        if (s->stopping)
            break;
        sea__heap_poll(); /* frees of other shards' memory go home; ours come back */
        sea_time now = sea_now();
        sea__hot.lowres_now = now;
        /* A turn of the loop (tasks, then polling) that took over twice the quota: something did not yield. */
        if (now - turn_started > 2 * s->quota_ns)
            s->stats.quota_violations++;
        turn_started = now;
        unsigned events = s->smp ? sea__smp_poll(s) : 0;
        if (atomic_load_explicit(&sea__signals_pending, memory_order_relaxed))
            events += sea__signals_run(s);
        events += s->backend->reap(s);
        s->stats.io_completions += events;
        events += sea__timers_run(s, now);
        if (s->yq_head) {
            /* I/O polled, due timers fired: the yields made so far resolve now. */
            *s->rq_tail = s->yq_head;
            s->rq_tail = s->yq_tail;
            s->yq_head = NULL;
            s->yq_tail = &s->yq_head;
        }
        if (events || s->rq_head || s->poll_mode) {
            idle_since = -1;
            continue;
        }
        if (idle_since < 0) {
            idle_since = now;
            continue;
        }
        if (now - idle_since < s->idle_poll)
            continue;
        /* Idle long enough: sleep until the next timer, an I/O event or a message. */
        if (s->smp && !sea__smp_prepare_sleep(s))
            continue;
        s->stats.sleeps++;
        sea_time deadline = s->timers.next;
        if (s->timers.expiring)
            deadline = now;
        sea_time slept_from = sea_now();
        atomic_store_explicit(&s->asleep, 1, memory_order_relaxed);
        events = s->backend->wait(s, deadline);
        atomic_store_explicit(&s->asleep, 0, memory_order_relaxed);
        turn_started = sea_now();
        s->stats.sleep_ns += (uint64_t)(turn_started - slept_from);
        if (s->smp)
            sea__smp_after_sleep(s);
        s->stats.io_completions += events;
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
    /* Order: stop timers, fibers and I/O (resolving their promises as broken), then drop nodes. */
    sea__timers_shutdown(s);
    sea__fibers_shutdown(s);
    if (s->backend)
        s->backend->destroy(s);
    struct sea__poller *p = s->pollers;
    while (p) {
        struct sea__poller *next = p->next;
        sea_promise_release(&p->promise);
        free(p);
        p = next;
    }
    s->pollers = NULL;
    /* Queued tasks that are not nodes belong to their owners; forget them. */
    s->rq_head = NULL;
    s->rq_tail = &s->rq_head;
    s->yq_head = NULL;
    s->yq_tail = &s->yq_head;
    sea__node_pool_destroy(&s->nodes);
    sea__shard_current = NULL;
    sea__hot.active = 0;
}

/* ---- yield ---- */

static void yield_run(sea_task *t) {
    struct sea__node *n = sea__container_of(t, struct sea__node, task);
    /* The node itself is the task: its input is ready now. */
    n->kind = SEA__K_BARE;
    n->state = SEA__N_WAITING;
    sea__node_input(n, sea_ready());
}

sea_future sea_yield(void) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return sea_failed(SEA_ESHUTDOWN, "sea_yield called with no running reactor");
    struct sea__node *n = sea__node_new_bare();
    if (!n)
        return sea_failed(-ENOMEM, "out of memory in sea_yield");
    /* Borrow the node's own task link: run once, then it becomes an ordinary bare node. */
    n->state = SEA__N_QUEUED;
    n->task.sea__run = yield_run;
    /* Queued after the next I/O poll and timer check, not merely behind the current tasks. */
    n->task.sea__next = NULL;
    *s->yq_tail = &n->task;
    s->yq_tail = &n->task.sea__next;
    return sea__node_future(n);
}

/* ---- fd polling ---- */

void sea__pollers_unlink(struct sea__shard *s, struct sea__poller *p) {
    if (p->prev)
        p->prev->next = p->next;
    else
        s->pollers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->next = p->prev = NULL;
}

void sea__poller_complete(struct sea__shard *s, struct sea__poller *p, int res) {
    sea__pollers_unlink(s, p);
    if (res < 0)
        sea_promise_set_error_fmt(&p->promise, res, "%s on fd %d failed",
                                  p->op == SEA__IO_RECV ? "receive" : p->op == SEA__IO_SEND ? "send" : "poll", p->fd);
    else
        sea_promise_set_value(&p->promise, (sea_value){.u = (uint64_t)res});
    sea_promise_release(&p->promise);
    free(p);
}

static sea_future fd_poll(int fd, uint32_t events, bool sticky);

sea_future sea_fd_poll(int fd, uint32_t events) {
    return fd_poll(fd, events, false);
}

sea_future sea__fd_poll_sticky(int fd, uint32_t events) {
    return fd_poll(fd, events, true);
}

void sea__fd_forget(int fd) {
    struct sea__shard *s = sea__shard_current;
    if (s && s->backend && s->backend->forget)
        s->backend->forget(s, fd);
}

/* Queues a request with the backend: the future resolves when the backend completes it. */
static sea_future request_submit(struct sea__shard *s, struct sea__poller *p) {
    sea_promise_init(&p->promise);
    sea_future f = sea_promise_get_future(&p->promise);
    if (sea_future_failed(&f)) {
        sea_promise_release(&p->promise);
        free(p);
        return f;
    }
    p->next = s->pollers;
    if (s->pollers)
        s->pollers->prev = p;
    s->pollers = p;
    int rc = s->backend->poll_add(s, p);
    if (rc < 0)
        sea__poller_complete(s, p, rc);
    return f;
}

static sea_future fd_poll(int fd, uint32_t events, bool sticky) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return sea_failed(SEA_ESHUTDOWN, "sea_fd_poll called with no running reactor");
    if (fd < 0)
        return sea_failed(-EBADF, "sea_fd_poll: negative file descriptor");
    events &= SEA_POLLIN | SEA_POLLPRI | SEA_POLLOUT | SEA_POLLERR | SEA_POLLHUP;
    if (!events)
        return sea_failed(-EINVAL, "sea_fd_poll: no events requested");
    struct sea__poller *p = calloc(1, sizeof(*p));
    if (!p)
        return sea_failed(-ENOMEM, "out of memory in sea_fd_poll");
    p->fd = fd;
    p->events = events;
    p->sticky = sticky;
    p->op = SEA__IO_POLL;
    return request_submit(s, p);
}

bool sea__native_io(void) {
    struct sea__shard *s = sea__shard_current;
    return s && s->backend && s->backend->native_io;
}

sea_future sea__fd_io(int fd, int op, void *buf, size_t len, int flags) {
    struct sea__shard *s = sea__shard_current;
    if (!s || !s->backend->native_io)
        return sea_failed(-ENOTSUP, "native I/O without an io_uring reactor");
    struct sea__poller *p = calloc(1, sizeof(*p));
    if (!p)
        return sea_failed(-ENOMEM, op == SEA__IO_RECV ? "out of memory starting a receive"
                                                      : "out of memory starting a send");
    p->fd = fd;
    p->op = (uint8_t)op;
    p->buf = buf;
    p->len = len;
    p->flags = flags;
    return request_submit(s, p);
}

/* ---- introspection ---- */

int sea_reactor_stats_get(sea_reactor_stats *out) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return SEA_ESHUTDOWN;
    *out = s->stats;
    out->nodes_in_use = s->nodes.in_use;
    return 0;
}

const char *sea_reactor_backend(void) {
    struct sea__shard *s = sea__shard_current;
    return s && s->backend ? s->backend->name : NULL;
}

unsigned sea_shard_id(void) {
    struct sea__shard *s = sea__shard_current;
    return s ? s->id : 0;
}

unsigned sea_shard_count(void) {
    struct sea__shard *s = sea__shard_current;
    return s ? s->count : 0;
}
