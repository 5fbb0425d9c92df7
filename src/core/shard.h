/*
 * core/shard.h - the shard: what one reactor thread owns, as the loop sees it.
 *
 * A struct sea__shard holds the loop's own fields (run queue, task quota,
 * statistics, wake-up descriptor, the pollers registered with it) and one
 * slot per subsystem.  A slot is a pointer to that subsystem's per-shard
 * state, whose layout only the subsystem knows (its own private header);
 * subsystems of the core layer have fixed slots, higher layers reserve one
 * (sea__slot_reserve).  The shard of the running thread is
 * sea__shard_current; code on a shard touches only its own shard.
 *
 * Pollers are how subsystems hook into the loop without the loop naming
 * them: each turn the loop calls every poller's flush() right after the
 * tasks, then every poller's poll(); before sleeping it asks each whether
 * it may sleep and until when; after waking it tells them.
 * The cross-shard queues, signals, cross-shard frees and timers are pollers.
 */
#ifndef SEA_CORE_SHARD_H
#define SEA_CORE_SHARD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <sea/future.h>
#include <sea/reactor.h>
#include <sea/timer.h>

struct sea__module;
struct sea__smp;

/* Slots of the core layer's subsystems. */
enum sea__slot {
    SEA__SLOT_MEMORY,  /* mem_module.c: the poller that moves cross-shard frees */
    SEA__SLOT_FUTURES, /* future.c: the pool of future nodes */
    SEA__SLOT_IO,      /* io.c: the backend and the pending I/O requests */
    SEA__SLOT_TIMERS,  /* timer.c: the timer set */
    SEA__SLOT_SLEEP,   /* sleep.c: sleeps in progress */
    SEA__SLOT_FIBERS,  /* fiber.c: the running fiber, stacks */
    SEA__SLOT_SMP,     /* smp.c: this shard's end of the queues */
    SEA__SLOT_SIGNALS, /* signal.c: the poller that runs pending handlers */
    SEA__SLOT_STALL,   /* stall.c: the backtrace slot */
    SEA__SLOT_METRICS, /* metrics.c: the registry */
    SEA__SLOT_CORE_END,
    SEA__SLOTS = 32    /* higher layers reserve theirs from SEA__SLOT_CORE_END on */
};

/* A subsystem's hook into the loop; registered with sea__poller_add, kept by the caller. */
struct sea__poller {
    /*
     * Right after the tasks of a turn ran, before anything else: passes on
     * what they produced (the queues publish their staged messages, so the
     * other shard sees them a turn sooner).  NULL: nothing to pass on.
     */
    void (*flush)(void *state);
    /* Every loop turn, after the tasks: does its work; returns how many events it handled. */
    unsigned (*poll)(void *state);
    /*
     * If not NULL, a word that is non-zero only when poll has something to
     * do (pending signals): the loop reads it (relaxed) and calls poll only
     * then, so a poller that is rarely needed costs a load per turn, not a
     * call.
     */
    const _Atomic uint64_t *work;
    /*
     * The loop found nothing to do and is about to sleep until *deadline:
     * lower *deadline for a wake-up of its own, or return false to keep the
     * loop awake (work is on its way).  NULL: no opinion.
     */
    bool (*try_sleep)(void *state, sea_time *deadline);
    /* The loop slept (try_sleep allowed it) and woke up.  NULL: nothing to do. */
    void (*after_wake)(void *state);
    void *state;
    struct sea__poller *next;       /* private to the loop: every poller */
    struct sea__poller *next_flush; /* private to the loop: those with a flush */
};

struct sea__shard {
    unsigned id, count;
    pthread_t thread;
    /* The heartbeat the stall detector's watchdog thread reads. */
    _Atomic uint64_t beat;     /* the turn count, published every turn */
    _Atomic int asleep;        /* not running tasks: sleeping in the kernel, or stopped */

    sea_task *rq_head;         /* the run queue (FIFO) */
    sea_task **rq_tail;
    sea_task *yq_head;         /* sea_yield()s: join the run queue once pollers and I/O ran */
    sea_task **yq_tail;

    uint64_t quota_cycles;     /* the task quota in cycle-counter ticks */
    sea_time quota_ns;         /* ... and in ns, for counting turns that overran it */
    sea_time idle_poll;        /* --idle-poll-us in ns: the longest idle poll */
    sea_time idle_gap_avg;     /* recent idle periods' length (ns, moving average): whether polling pays */
    bool idle_poll_always;     /* --idle-poll-always: poll the whole idle_poll whatever the gaps */
    bool poll_mode;            /* --poll-mode: never sleep */
    bool stopping;
    int exit_code;

    sea_reactor_stats stats;
    struct sea__smp *smp;      /* the application's shards: set by the template before the modules start */
    struct sea__poller *pollers; /* in registration order */
    struct sea__poller *flushers; /* the pollers with a flush hook, in registration order */
    int wake_fd;               /* an eventfd: written to wake this shard (other shards, signal handlers) */

    void *slot[SEA__SLOTS];    /* each subsystem's per-shard state */

    /* Set by another shard: stop the loop.  On a cache line of its own. */
    _Alignas(64) _Atomic int stop_requested;
};

extern __thread struct sea__shard *sea__shard_current __attribute__((tls_model("initial-exec")));

/* Appends t to s's run queue (sea_task_schedule without the checks). */
static inline void sea__rq_push(struct sea__shard *s, sea_task *t) {
    t->sea__next = NULL;
    *s->rq_tail = t;
    s->rq_tail = &t->sea__next;
}

/* Queues t to run after the next poll of I/O, pollers and timers (sea_yield). */
static inline void sea__yq_push(struct sea__shard *s, sea_task *t) {
    t->sea__next = NULL;
    *s->yq_tail = t;
    s->yq_tail = &t->sea__next;
}

/* Registers p with s's loop; p stays the caller's and must live until the shard is destroyed. */
void sea__poller_add(struct sea__shard *s, struct sea__poller *p);
/* A slot for a subsystem above the core layer, once per process; panics when none is left. */
unsigned sea__slot_reserve(void);
/* Wakes s if it sleeps (its wake_fd).  Async-signal-safe; any thread. */
void sea__shard_wake(struct sea__shard *s);

/*
 * The shard's life (reactor.c), on its own thread.  sea__shard_create makes
 * the calling thread shard id of count (sea__shard_current) with the loop's
 * configured settings; subsystems then fill their slots (core/module.h).
 * Returns NULL with a reason in err.
 */
struct sea__shard *sea__shard_create(unsigned id, unsigned count, char *err, size_t errlen);
/* Runs the loop until the shard stops. */
void sea__shard_run(struct sea__shard *s);
/* Stops the loop at the end of the current turn; the first exit code wins. */
void sea__shard_stop(struct sea__shard *s, int exit_code);
/* Frees the shard once every subsystem has emptied its slot; the thread is no longer a shard. */
void sea__shard_destroy(struct sea__shard *s);

/* The loop as a module (reactor.c): --poll-mode, --idle-poll-us, --task-quota-ms, its metrics, its run queue in the dump. */
extern const struct sea__module sea__module_reactor;

#endif
