/*
 * internal.h - the shard: every piece of mutable state a reactor owns.
 *
 * sea keeps no global mutable state.  Each reactor thread has one struct
 * sea__shard, reached through the thread-local sea__shard_current, holding its
 * run queue, its pool of future nodes, its timers, its I/O backend and its
 * statistics.  Code that runs on a shard touches only that shard's structure.
 */
#ifndef SEA_INTERNAL_H
#define SEA_INTERNAL_H

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sea/fiber.h>
#include <sea/future.h>
#include <sea/options.h>
#include <sea/promise.h>
#include <sea/reactor.h>
#include <sea/timer.h>

#define sea__container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* ---- future nodes (future.c) ---- */

/* What a node does when its input arrives. */
enum sea__node_kind {
    SEA__K_BARE,     /* no continuation: the input is the output */
    SEA__K_THEN,
    SEA__K_WRAPPED,
    SEA__K_FINALLY,
    SEA__K_HANDLE,
    SEA__K_FIBER,    /* a fiber's sea_await: fn is the fiber, the input is resumed into it */
};

/* Where a node stands. */
enum sea__node_state {
    SEA__N_FREE,
    SEA__N_WAITING, /* input not arrived yet */
    SEA__N_QUEUED,  /* input arrived, continuation queued on the run queue */
    SEA__N_READY,   /* output held until its future is consumed */
};

/*
 * A pending future's node: the continuation to run, the slot its input and
 * then its output land in, and the next node waiting for that output.  One
 * node per continuation attached to a not-yet-ready future; 128 bytes, from a
 * per-shard free list.
 */
struct sea__node {
    sea_task task;             /* run queue link; runs the continuation */
    void *fn;                  /* the continuation, typed by kind */
    struct sea__node *waiter;  /* who receives the output; or a SEA__W_* sentinel */
    sea_future result;         /* input until the continuation ran, then output */
    uint32_t gen;              /* bumped whenever a future referring to this node is consumed */
    uint8_t kind;              /* enum sea__node_kind */
    uint8_t state;             /* enum sea__node_state */
    uint16_t capsz;            /* bytes of capture */
    void *cap;                 /* inline_cap, or a separate allocation */
    unsigned char inline_cap[SEA_CAPTURE_INLINE];
};

/* Waiter sentinels: the output is dropped (silently, or reported if it failed). */
#define SEA__W_DETACH ((struct sea__node *)1)
#define SEA__W_IGNORE ((struct sea__node *)2)

struct sea__node_chunk;

struct sea__node_pool {
    struct sea__node *free;
    struct sea__node_chunk *chunks;
    uint64_t in_use;
};

/*
 * If f is pending but its result has arrived, turns f into that ready result
 * (its node freed).  Attaching a continuation to such a future would run the
 * continuation at once, inside the attach; code that relies on attached
 * continuations running later settles first.
 */
void sea__future_settle(sea_future *f);
/* Delivers a ready result as the input of a waiting node. */
void sea__node_input(struct sea__node *n, sea_future result);
/* Allocates a waiting bare node and returns its pending future (or -ENOMEM). */
struct sea__node *sea__node_new_bare(void);
sea_future sea__node_future(struct sea__node *n);
/* Releases what a result owns; reports it if it is an unconsumed failure and report is set. */
void sea__drop_result(sea_future *r, bool report);
void sea__node_pool_destroy(struct sea__node_pool *pool);
/*
 * sea_await's attach (future.c): pending f will resume fiber when it resolves
 * (through sea__fiber_wake).  Returns 0 when attached, 1 when f turned out
 * ready (its result in *ready), -ENOMEM (f is then dropped).
 */
int sea__await_attach(sea_future f, sea_fiber *fiber, sea_future *ready);
/* Hands result to the fiber waiting in sea_await and resumes it (fiber.c). */
void sea__fiber_wake(sea_fiber *fiber, sea_future result);

/* ---- timers (timer_set.c) ---- */

#define SEA__TIMER_BUCKETS 64

struct sea__timer_set {
    sea_timer *buckets[SEA__TIMER_BUCKETS];
    uint64_t nonempty;   /* bit i set when buckets[i] is non-empty */
    sea_time last;       /* time of the last expiry pass */
    sea_time next;       /* earliest deadline (may be early after a cancel), or SEA_TIME_MAX */
    uint64_t count;      /* timers in the buckets */
    sea_timer *expiring; /* due timers not fired yet in the current pass (doubly linked) */
};

void sea__timer_set_init(struct sea__timer_set *ts, sea_time now);
void sea__timer_set_insert(struct sea__timer_set *ts, sea_timer *t);
void sea__timer_set_remove(struct sea__timer_set *ts, sea_timer *t);
/* Moves every timer due at now onto ts->expiring, in deadline order. */
void sea__timer_set_expire(struct sea__timer_set *ts, sea_time now);

/* Timer flags. */
#define SEA__TF_ARMED 1u
#define SEA__TF_SLEEPER 2u  /* owned by sea_sleep(): freed by the shard on shutdown */
#define SEA__TF_EXPIRING 4u /* on the expiring list rather than in a bucket */

/* Fires due timers; returns how many ran. */
unsigned sea__timers_run(struct sea__shard *s, sea_time now);
/* Frees sleep() timers still pending at shutdown. */
void sea__timers_shutdown(struct sea__shard *s);

/* ---- I/O backends (backend_uring.c, backend_epoll.c) ---- */

/* What a request asks of the backend. */
enum sea__io_op {
    SEA__IO_POLL, /* wait for events; resolves with the revents */
    SEA__IO_RECV, /* recv(fd, buf, len, flags); resolves with the byte count */
    SEA__IO_SEND, /* send(fd, buf, len, flags); resolves with the byte count */
};

/* A pending sea_fd_poll, or a native receive or send (backends with native_io). */
struct sea__poller {
    sea_promise promise;
    int fd;
    uint32_t events;
    uint8_t op;                      /* enum sea__io_op */
    int flags;                       /* recv/send flags */
    void *buf;                       /* recv/send */
    size_t len;
    struct sea__poller *next, *prev; /* backend's list of pending polls */
    struct sea__poller *fd_next;     /* epoll: pollers of the same fd */
    bool sticky;                     /* sea's own sockets: see sea__fd_poll_sticky */
};

struct sea__backend_ops {
    const char *name;
    /*
     * True if poll_add also takes SEA__IO_RECV and SEA__IO_SEND requests:
     * the kernel does the transfer when the socket is ready and the requests
     * of a whole loop turn go in with one system call.
     */
    bool native_io;
    int (*init)(struct sea__shard *s);
    void (*destroy)(struct sea__shard *s);
    /* Starts watching p; completion calls sea__poller_complete. Returns 0 or -errno. */
    int (*poll_add)(struct sea__shard *s, struct sea__poller *p);
    /* Handles ready completions without blocking; returns how many. */
    unsigned (*reap)(struct sea__shard *s);
    /* Sleeps until an event or the absolute monotonic deadline; then reaps. */
    unsigned (*wait)(struct sea__shard *s, sea_time deadline);
    /* Forgets what it keeps about fd, which is about to be closed (may be NULL). */
    void (*forget)(struct sea__shard *s, int fd);
};

/*
 * sea_fd_poll for descriptors sea itself owns and closes (its sockets): the
 * epoll backend may keep such a descriptor registered (edge-triggered)
 * between polls instead of adding and removing it every time, so the owner
 * must call sea__fd_forget before closing it.
 */
sea_future sea__fd_poll_sticky(int fd, uint32_t events);
void sea__fd_forget(int fd);

/* True if the current shard's backend does native receives and sends. */
bool sea__native_io(void);
/*
 * A native receive or send (op SEA__IO_RECV or SEA__IO_SEND) of len bytes at
 * buf, which must stay valid until the future resolves: with the byte count
 * (0 at end of stream for a receive), or failed with -errno.
 */
sea_future sea__fd_io(int fd, int op, void *buf, size_t len, int flags);

extern const struct sea__backend_ops sea__backend_uring;
extern const struct sea__backend_ops sea__backend_epoll;

/* Resolves p with res (revents >= 0, or -errno), unlinks and frees it. */
void sea__poller_complete(struct sea__shard *s, struct sea__poller *p, int res);
void sea__pollers_unlink(struct sea__shard *s, struct sea__poller *p);

/* ---- signals (signal.c), the state dump (debug.c), the stall detector (stall.c) ---- */

/* Bit signo-1 set: signo arrived and its handler has not run yet. */
extern _Atomic uint64_t sea__signals_pending;
/* Runs the handlers of this shard's pending signals; returns how many ran. */
unsigned sea__signals_run(struct sea__shard *s);
/* A signal read from the signalfd: true if the application handles it (it will run), else false. */
bool sea__signal_deliver(int signo);
struct sea__smp;
/* Installs sea's SIGUSR2 dump and lets handlers wake smp's shards.  0 or -errno. */
int sea__signals_start(struct sea__smp *smp);
/* Removes every handler and puts the previous dispositions back. */
void sea__signals_stop(void);
/* Starts the stall detector's watchdog for smp's shards (threshold > 0).  0 or -errno. */
int sea__stall_start(struct sea__smp *smp, sea_time threshold);
void sea__stall_stop(void);
/* "function+0xOFF (binary)" or "binary+0xOFF" for a code address. */
void sea__describe_addr(const void *addr, char *buf, size_t len);
/* The fibers part of the state dump: at most limit of them. */
void sea__fibers_dump(struct sea__shard *s, FILE *out, unsigned limit);

/* ---- logging (log.c) ---- */

struct sea__options;

/* Applies --default-log-level, --logger-log-level and --log-to-syslog.  0, or SEA_EUSAGE with err. */
int sea__log_configure(const struct sea__options *o, char *err, size_t errlen);
/* Lists the registered loggers (--help-loggers). */
void sea__log_print_loggers(FILE *f);
/* Gives each of nshards shards a ring and starts the writer thread; 0 or -errno. */
int sea__log_start(unsigned nshards);
/* Flushes the rings (waiting at most a second for a blocked output) and stops the writer. */
void sea__log_stop(void);
/* The calling thread (not a shard: sea's watchdog) logs through the writer's extra ring. */
void sea__log_use_extra_ring(void);
/* Starts fn(NULL) on a thread called name that takes no signals (the log writer, the watchdog). 0 or errno. */
int sea__helper_thread_start(pthread_t *thread, void *(*fn)(void *), const char *name);

/* ---- metrics (metrics.c) and the Prometheus endpoint (prometheus.c) ---- */

struct sea__options;

/* Gives s its registry, holding the reactor's, memory's and network's own metrics. 0 or -ENOMEM. */
int sea__metrics_shard_init(struct sea__shard *s);
/* Frees s's registry and every metric still in it. */
void sea__metrics_shard_destroy(struct sea__shard *s);
/*
 * On shard 0, once every shard runs: serves the metrics of all shards in
 * Prometheus text format on o->prometheus_address:o->prometheus_port (if
 * the port is >= 0).  Returns 0, or -errno with a one-line reason in err.
 */
int sea__prometheus_start(const struct sea__options *o, char *err, size_t errlen);
/* Closes the endpoint and waits for scrapes in progress (at the orderly stop). */
sea_future sea__prometheus_stop(void);

/* ---- fibers (fiber.c) ---- */

/* An execution context: the shard's own stack, or a fiber's. */
struct sea__ctx {
    void *sp;                 /* saved stack pointer while not running */
    const void *stack_bottom; /* lowest usable address (for ASan) */
    size_t stack_size;
    void *fake_stack;         /* ASan's fake stack of this context */
    void *tsan_fiber;         /* TSan's fiber object */
};

struct sea__stack_arena;
struct sea__stack_slot;

struct sea__fiber_shard {
    struct sea__ctx main_ctx;          /* the reactor thread's own stack */
    sea_fiber *current;                /* running fiber, NULL on the main stack */
    sea_fiber *live;                   /* every fiber not yet finished */
    sea_fiber *dead;                   /* ended fiber whose stack is not recycled yet */
    struct sea__stack_slot *cache;     /* free default-size stacks with their pages, newest first */
    struct sea__stack_slot *cache_tail;/* ... and the oldest of them */
    struct sea__stack_slot *cold;      /* free default-size stacks whose pages went back */
    struct sea__stack_slot *odd_cache; /* free stacks of other sizes */
    unsigned cached, cold_cached, odd_cached;
    struct sea__stack_arena *arenas;   /* mappings default-size stacks are carved from */
    void *altstack;                    /* signal stack for the overflow handler, if sea made one */
    void *prev_altstack;               /* the thread's previous signal stack, restored at shutdown */
    size_t prev_altstack_size;
    int prev_altstack_flags;
    bool handler_ready;
    sea_fiber_stats stats;
};

void sea__fibers_shutdown(struct sea__shard *s);

/* The raw context switch (fiber_switch_*.S): saves the current context's stack
 * pointer in *save_sp and resumes the context whose stack pointer is load_sp. */
int sea__ctx_switch(void **save_sp, void *load_sp); /* returns 0 when switched back to */
/* Prepares a stack whose first switch-in calls entry(arg) (fiber.c). */
void *sea__ctx_prepare(char *top, void (*entry)(void *), void *arg);

/* ---- many shards (smp.c) ---- */

struct sea__xq;

/* What the shards of one application share: the queues between them. */
struct sea__smp {
    unsigned n;
    struct sea__shard **shards;
    struct sea__xq *req;  /* n*n: requests from a to b at [a*n + b] */
    struct sea__xq *resp; /* n*n: responses from a to b at [a*n + b] */
    bool membarrier_ok;
    _Atomic int stopping;
    int exit_code;
    pthread_barrier_t barrier;
    /* Shard 0 only: the orderly stop (sea_app_at_exit, signals). */
    struct sea__at_exit *at_exit;  /* most recent first */
    bool exiting;
    int exit_request;              /* exit code the stop will end with */
    sea_time stuck_stop;           /* --stop-report-ms */
    sea_timer stop_timer;          /* reports a stop callback that takes longer than that */
    sea_future (*stop_fn)(void *); /* the stop callback running now */
    sea_time stop_started;
    int signal_fd;
    unsigned signals_seen;
};

struct sea__at_exit {
    sea_future (*fn)(void *arg);
    void *arg;
    struct sea__at_exit *next;
};

int sea__smp_create(struct sea__smp *smp, unsigned n);
void sea__smp_free(struct sea__smp *smp);
/* Handles incoming requests and responses; returns how many. */
unsigned sea__smp_poll(struct sea__shard *s);
/* Publishes staged outgoing messages. */
void sea__smp_flush(struct sea__shard *s);
/* Before sleeping: true if the shard may sleep now (nothing staged, nothing incoming). */
bool sea__smp_prepare_sleep(struct sea__shard *s);
void sea__smp_after_sleep(struct sea__shard *s);
/* Asks every shard to stop; the first call's exit code wins. */
void sea__smp_request_stop(struct sea__smp *smp, int exit_code);
void sea__smp_drain_requests(struct sea__shard *s);
void sea__smp_drain_home(struct sea__shard *s);

/* ---- the shard ---- */

/* Parsed standard options. */
struct sea__options {
    unsigned smp;            /* -c/--smp, 0 for "every available CPU" */
    bool has_cpuset;
    cpu_set_t cpuset;        /* --cpuset */
    const char *backend;     /* "io_uring", "epoll", or NULL for automatic */
    bool poll_mode;
    bool help;
    sea_time task_quota;     /* ns */
    sea_time idle_poll;      /* ns */
    char **args;             /* positional arguments (NULL-terminated, malloc'ed) */
    int nargs;
    uint64_t memory;         /* -m/--memory in bytes, 0 for "all but the reserve" */
    uint64_t reserve_memory; /* --reserve-memory in bytes */
    bool has_reserve;
    bool huge_pages;         /* --transparent-huge-pages */
    /* Operability (issue 8). */
    int prometheus_port;            /* --prometheus-port, -1 when off (the default) */
    const char *prometheus_address; /* --prometheus-address, default "127.0.0.1" */
    sea_time blocked_notify;        /* --blocked-reactor-notify-ms in ns (default 25 ms), 0 for off */
    sea_time stuck_stop;            /* --stop-report-ms in ns (default 5 s) */
    const char *default_log_level;  /* --default-log-level, NULL for info */
    const char **logger_levels;     /* --logger-log-level NAME=LEVEL values, in order (malloc'ed) */
    int nlogger_levels;
    bool help_loggers;              /* --help-loggers */
    bool log_to_syslog;             /* --log-to-syslog */
    const char *options_file;       /* --options-file */
    struct sea__user_value *user;   /* the application's options (sea/options.h), in declaration order */
    size_t nuser;
};

/* The value of one application option (sea/options.h). */
struct sea__user_value {
    const struct sea_option *opt;
    bool given;     /* on the command line or in the options file */
    bool has_value; /* given, or a default */
    union {
        int64_t i;
        double d;
        const char *s; /* points into argv, the options file's lines, or the default */
        uint64_t size;
        bool flag;
    } v;
};

struct sea__metrics; /* a shard's metric registry (metrics.c) */

#define SEA__STALL_FRAMES 32

struct sea__shard {
    unsigned id, count;
    struct sea__metrics *metrics;
    /* The stall detector (stall.c): a heartbeat, and a backtrace slot its signal fills. */
    _Atomic uint64_t beat;
    _Atomic int asleep;
    pthread_t thread;
    _Atomic int stall_bt_n;
    void *stall_bt[SEA__STALL_FRAMES];

    sea_task *rq_head;
    sea_task **rq_tail;
    sea_task *yq_head;  /* sea_yield()s: join the run queue once I/O was polled and timers fired */
    sea_task **yq_tail;

    struct sea__node_pool nodes;
    struct sea__timer_set timers;

    const struct sea__backend_ops *backend;
    void *backend_state;
    struct sea__poller *pollers; /* pending fd polls (for shutdown) */

    uint64_t quota_cycles;
    sea_time quota_ns;          /* the task quota, for counting loop turns that overran it */
    sea_time idle_poll;
    bool poll_mode;
    bool stopping;
    int exit_code;

    sea_reactor_stats stats;
    struct sea__fiber_shard fibers;

    struct sea__smp *smp;       /* NULL until the application starts its shards */
    unsigned smp_staged;        /* outgoing messages not yet in a ring */
    struct sea__xmsg *smp_running; /* requests running here, their results not ready yet */
    struct sea__xmsg *smp_free; /* recycled messages (this shard's own) */
    unsigned smp_free_n;
    int wake_fd;                /* eventfd other shards write to wake this one */
    bool wake_armed;            /* a poll on wake_fd is pending */
    /* Read by other shards after every flush: on a cache line of their own. */
    _Alignas(64) _Atomic int sleeping; /* set while (about to be) asleep in the kernel */
    _Atomic int stop_requested; /* set by another shard: stop the loop */
};

extern __thread struct sea__shard *sea__shard_current __attribute__((tls_model("initial-exec")));

static inline struct sea__shard *sea__shard_get(void) { return sea__shard_current; }

/* Appends t to s's run queue (sea_task_schedule without the checks). */
static inline void sea__rq_push(struct sea__shard *s, sea_task *t) {
    t->sea__next = NULL;
    *s->rq_tail = t;
    s->rq_tail = &t->sea__next;
}

/* Reactor life cycle (reactor.c). */
int sea__shard_init(struct sea__shard *s, unsigned id, unsigned count, const struct sea__options *o,
                    char *err, size_t errlen);
void sea__shard_run(struct sea__shard *s);
void sea__shard_destroy(struct sea__shard *s);
void sea__shard_stop(struct sea__shard *s, int exit_code);

/*
 * Options (options.c).  Parses the standard options and the application's
 * (sea_app_add_options).  Returns 0, 1 for --help (or --help-loggers), or
 * SEA_EUSAGE with a one-line message in err.
 */
int sea__options_parse(int argc, char **argv, struct sea__options *o, char *err, size_t errlen);
void sea__options_free(struct sea__options *o);
/* Prints the standard options and the application's to f. */
void sea__options_print_help(FILE *f, const char *prog);
/* The options running now (set by app.c on every shard), for the sea_option_* getters. */
void sea__options_set_current(const struct sea__options *o);
/* Marks the declared tables as in use (1) or free to change (0). */
void sea__options_lock(bool locked);

/*
 * Options file (options_file.c): reads path's "name = value" lines into
 * "--name=value" arguments (*args, *nargs; free with sea__options_file_free),
 * checking each line alone so that an error names the file and line.
 */
int sea__options_file_read(const char *path, char ***args, int *nargs, char *err, size_t errlen);
void sea__options_file_free(char **args, int nargs);

/* ---- memory (memory.c, memory_setup.c) ---- */

/*
 * The region every shard's memory lives in: nslices slices of 1 << shift
 * bytes, slice i holding shard i's heap.  Reserved once per process, at the
 * first sea_app_run; zero until then (every pointer is then the C library's).
 */
struct sea__mem_region {
    uintptr_t base;
    uintptr_t size;          /* nslices << shift */
    unsigned shift;
    unsigned nslices;
    uint64_t shard_budget;   /* bytes each shard of the current run may use */
    bool huge_pages;         /* transparent huge pages were requested for the region */
};
extern struct sea__mem_region sea__mem;

/* Sizes the shards' memory from -m/--reserve-memory; reserves the region on first use. */
int sea__memory_plan(const struct sea__options *o, unsigned nshards, const int *cpus, char *err,
                     size_t errlen);
/*
 * Makes slice id the calling thread's heap (a shard starting), with
 * sea__mem.shard_budget.  Returns 0, or -EBUSY when another application in
 * this process is using that slice.
 */
int sea__heap_attach(unsigned id);
/* The shard is ending: sends batched frees home and stops serving malloc from the heap. */
void sea__heap_detach(void);
/* Once per loop turn: sends batched frees home and takes back what others freed. */
void sea__heap_poll(void);
/* Page-aligned memory for fiber stacks, in small pages: from the shard's heap, else mmap. */
void *sea__pages_alloc(size_t bytes);
void sea__pages_free(void *p, size_t bytes);
/* The NUMA node of cpu per the sysfs tree at root ("/sys"), or -1 (tested with a fake tree). */
int sea__numa_node_of_cpu(const char *root, int cpu);
/* The process's cgroup memory limit in bytes, or 0; root prefixes every path (tests use a fake tree). */
uint64_t sea__cgroup_memory_limit(const char *root);
/* Parses a memory size ("512M", "2G", "4096"); false on anything else. */
bool sea__parse_memory_size(const char *s, uint64_t *out);

/* Prints a fatal programming error and aborts. */
__attribute__((noreturn, format(printf, 1, 2))) void sea__panic(const char *fmt, ...);

#endif
