/*
 * sea/reactor.h - the per-shard event loop, as seen from application code.
 *
 * Each shard runs one reactor on one thread.  The reactor repeatedly:
 *   1. runs queued tasks (continuations whose input became ready) until the
 *      queue is empty or the task quota (--task-quota-ms, default 0.5 ms) is
 *      spent;
 *   2. updates the low-resolution clock;
 *   3. reaps I/O completions and queues the continuations they resolve;
 *   4. fires expired timers;
 *   5. if none of that found work, polls for a while (--idle-poll-us) and then
 *      sleeps in the kernel until the next timer or I/O event (unless
 *      --poll-mode is given, in which case it never sleeps).
 *
 * Continuations on one shard never run in parallel, so they need no locks;
 * a continuation must not block, or the whole shard stops.  Long loops call
 * sea_need_preempt() now and then and yield with sea_maybe_yield().
 */
#ifndef SEA_REACTOR_H
#define SEA_REACTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <sea/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A raw unit of work for the reactor's run queue.  Fields are private. */
typedef struct sea_task sea_task;
struct sea_task {
    sea_task *sea__next;             /* private */
    void (*sea__run)(sea_task *t);   /* private */
};

/* Prepares t to call run(t) when scheduled.  Embed t; use container_of. */
static inline void sea_task_init(sea_task *t, void (*run)(sea_task *t)) {
    t->sea__next = 0;
    t->sea__run = run;
}
/*
 * Appends t to the current shard's run queue (FIFO).  t must not already be
 * queued.  It runs on a later turn of the loop, never synchronously.
 */
void sea_task_schedule(sea_task *t);

/* Reads the CPU cycle counter (TSC on x86-64, CNTVCT on aarch64). */
static inline uint64_t sea__cycles(void) {
#if defined(__x86_64__)
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
#error "sea supports x86-64 and aarch64"
#endif
}

/*
 * True once the current task quota is spent: the caller should let the reactor
 * run other tasks, I/O and timers (return sea_maybe_yield() or a pending
 * future).  Costs one cycle-counter read (about 10 ns on x86-64 VMs): call it
 * once per batch of work, not per byte.
 */
static inline bool sea_need_preempt(void) {
    return sea__cycles() >= sea__hot.preempt_at;
}

/*
 * A future that resolves after the reactor has run other queued tasks, polled
 * I/O and fired due timers.  Fails with -ENOMEM if no node can be allocated.
 */
sea_future sea_yield(void) SEA_MUST_USE;

/* sea_yield() if the task quota is spent, else a ready future. */
static inline SEA_MUST_USE sea_future sea_maybe_yield(void) {
    return sea_need_preempt() ? sea_yield() : sea_ready();
}

/* Readiness events for sea_fd_poll (same values as poll(2)). */
enum { SEA_POLLIN = 0x001, SEA_POLLPRI = 0x002, SEA_POLLOUT = 0x004,
       SEA_POLLERR = 0x008, SEA_POLLHUP = 0x010 };

/*
 * A future that resolves when fd is ready for any of events (SEA_POLLIN,
 * SEA_POLLOUT, ...); its value (v.u) is the events that are ready (POLLERR and
 * POLLHUP are always reported).  The fd stays owned by the caller and must
 * stay open until the future resolves.  Fails with -EBADF for a bad fd,
 * -EINVAL for events == 0, -ENOMEM if out of memory.
 */
sea_future sea_fd_poll(int fd, uint32_t events) SEA_MUST_USE;

/* Counters kept by each shard's reactor. */
typedef struct sea_reactor_stats {
    uint64_t tasks_run;          /* tasks taken from the run queue */
    uint64_t inline_deferred;    /* ready continuations queued: inline depth limit hit */
    uint64_t loop_iterations;    /* turns of the event loop */
    uint64_t quota_preemptions;  /* task runs cut short by the task quota */
    uint64_t sleeps;             /* times the reactor slept in the kernel */
    uint64_t timers_fired;       /* timer callbacks run */
    uint64_t io_completions;     /* I/O requests completed */
    uint64_t ignored_failures;   /* failed futures nobody consumed */
    uint64_t nodes_in_use;       /* pending futures alive right now */
    uint64_t smp_messages;       /* requests and responses received from other shards */
    uint64_t sleep_ns;           /* time slept in the kernel (busy time = uptime - this) */
    uint64_t started_ns;         /* when the reactor started (sea_now() clock) */
    uint64_t quota_violations;   /* loop turns that took over twice the task quota: something did not yield */
} sea_reactor_stats;

/* Copies the current shard's counters into *out.  Returns 0 or SEA_ESHUTDOWN. */
int sea_reactor_stats_get(sea_reactor_stats *out);

/* "io_uring" or "epoll": the backend of the current shard's reactor (NULL outside one). */
const char *sea_reactor_backend(void);

/* The current shard's number, from 0. */
unsigned sea_shard_id(void);
/* How many shards the application runs. */
unsigned sea_shard_count(void);

#ifdef __cplusplus
}
#endif
#endif
