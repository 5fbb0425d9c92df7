/*
 * sea/fiber.h - fibers: stackful threads on the reactor that wait on futures.
 *
 * A fiber runs a function on a stack of its own, on the current shard.  Code
 * in a fiber waits for a future with sea_await() and reads top to bottom, as
 * blocking code would, while the shard goes on running other tasks:
 *
 *     static sea_future worker(int *id) {
 *         SEA_AWAIT(sea_sleep(SEA_MSEC(10)));      // suspends this fiber only; a failure returns it
 *         printf("worker %d slept\n", *id);
 *         return sea_ready_int(42);
 *     }
 *     ...
 *     for (int i = 0; i < 3; i++)
 *         futures[i] = sea_fiber_start(worker, i);  // each fiber gets its own copy of i
 *
 * Fibers are cooperative: a fiber runs until it waits, yields or ends, and
 * only then does anything else on its shard run.  Long computations call
 * sea_fiber_maybe_yield() now and then.  Every future-returning sea API works
 * from fibers: pass its future to sea_await().
 *
 * Stacks are 128 KiB by default (SEA_FIBER_STACK_DEFAULT), allocated lazily by
 * the kernel (an idle fiber uses a few KiB of memory), recycled through a
 * per-shard cache, and guarded: a fiber that overflows its stack hits a guard
 * region and the process stops with "sea: fiber stack overflow in fiber
 * '<name>'" instead of corrupting memory.
 *
 * How deep a fiber may go: the whole stack, less the capture's copy (at most
 * a quarter of it) and about 200 bytes of control block.  The guard below it
 * is 16 KiB, so one function frame larger than 16 KiB (a big local array, a
 * large alloca or VLA) could step over the guard into whatever lies below
 * instead of faulting in it.  Keep big buffers off fiber stacks (allocate
 * them), give a fiber that needs them a bigger stack (sea_fiber_start_attr),
 * or compile with -fstack-clash-protection, which makes every large frame
 * touch each page it spans, so that an overflow always lands in the guard.
 *
 * Stopping a fiber: sea_fiber_request_stop() sets a flag the fiber reads with
 * sea_fiber_stop_requested() at points of its choosing, then returns (usually
 * with a SEA_ECANCELED failure).  Nothing is interrupted by force.  (Abort
 * sources that also cancel the fiber's pending waits build on this hook.)
 *
 * At shutdown, fibers still waiting are dropped without unwinding: their
 * stacks are unmapped and their futures fail with SEA_EBROKEN_PROMISE.  End
 * your fibers before main's future resolves if they own resources.
 */
#ifndef SEA_FIBER_H
#define SEA_FIBER_H

#include <stdbool.h>
#include <stddef.h>

#include <sea/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Stack sizes, in bytes (rounded up to whole pages). */
#define SEA_FIBER_STACK_DEFAULT (128 * 1024)
#define SEA_FIBER_STACK_MIN (16 * 1024)
#define SEA_FIBER_STACK_MAX (1024 * 1024 * 1024)
/* Longest fiber name kept (longer names are cut). */
#define SEA_FIBER_NAME_MAX 31

typedef struct sea_fiber sea_fiber;

/* Optional attributes for sea_fiber_start_attr; zero-initialise, then set what you need. */
typedef struct sea_fiber_attr {
    size_t stack_size;  /* 0 for SEA_FIBER_STACK_DEFAULT; else SEA_FIBER_STACK_MIN..MAX */
    const char *name;   /* copied; shown in overflow reports.  NULL: "fiber" */
    sea_fiber **handle; /* if set, receives the fiber; valid until its future resolves */
} sea_fiber_attr;

/*
 * sea_fiber_start(fn [, capture]): starts
 *     sea_future fn(T *capture)    (or fn(void))
 * in a new fiber on the current shard and returns a future of its result
 * (what fn returns, ready or pending).  The capture is copied onto the
 * fiber's own stack, as with sea_then: fn gets a pointer to that copy, which
 * lives as long as the fiber.  The fiber begins on a later turn of the
 * reactor, never inside this call.  Fails with -EINVAL for a bad stack size
 * or a capture larger than a quarter of the stack, -ENOMEM when no stack can
 * be had, SEA_ESHUTDOWN when no reactor runs on this thread.
 */
#define sea_fiber_start(...) \
    SEA__CAPTURE_DISPATCH(sea__fstart_m, __VA_ARGS__)("sea_fiber_start", sea__fiber_start, (NULL, ), __VA_ARGS__)

/*
 * sea_fiber_start_attr(attr, fn [, capture]): the same, with attributes
 * (attr may be NULL).  A compound literal with several fields needs
 * parentheses here: sea_fiber_start_attr((&(sea_fiber_attr){.name = "w",
 * .stack_size = 65536}), fn).
 */
#define sea_fiber_start_attr(attr, ...) \
    SEA__CAPTURE_DISPATCH(sea__fstart_m, __VA_ARGS__)("sea_fiber_start_attr", sea__fiber_start, ((attr), ), \
                                                      __VA_ARGS__)

/*
 * sea_fiber_start_in(gate, fn [, capture]): starts a fiber that is inside
 * gate (sea/gate.h) from its start until its result resolves, so that
 * sea_gate_close(gate) waits for it: work in the background that a shutdown
 * waits for.  If gate is closed, fn does not run and the result fails with
 * SEA_EGATE_CLOSED.
 */
#define sea_fiber_start_in(gate, ...) \
    SEA__CAPTURE_DISPATCH(sea__fstart_m, __VA_ARGS__)("sea_fiber_start_in", sea__fiber_start_in, ((gate), ), \
                                                      __VA_ARGS__)

/*
 * Waits for f and returns it ready (value or error), suspending the calling
 * fiber if f is pending.  Consumes f.  A ready f is returned at once, from
 * any context.  Waiting on a pending future outside a fiber is an error: the
 * result is a future failed with SEA_ENOTFIBER, and f is dropped silently
 * (as sea_future_detach), so that its own later failure, such as a broken
 * promise at exit, is not reported as if it were the problem.
 */
sea_future sea_await(sea_future f) SEA_MUST_USE;

/*
 * Waits for f like sea_await; stores its value in *out (if out is non-NULL)
 * and returns 0, or returns its error code (the error counts as handled, its
 * message is released; use sea_await to read the message).  A boxed value
 * stored in *out is the caller's from then on (sea no longer releases it);
 * with out == NULL it is released.
 */
int sea_await_value(sea_future f, sea_value *out) SEA_MUST_USE;

/*
 * SEA_AWAIT(f): in a function that returns sea_future, waits for f (as
 * sea_await) and evaluates to its value; if f fails, the function returns
 * that failure, message included.  The one-line way to pass an error on:
 *
 *     size_t n = SEA_AWAIT(sea_socket_read(s, buf, sizeof(buf))).size;
 *     SEA_AWAIT(sea_socket_write(s, buf, n));
 *
 * A boxed value becomes the caller's, as with sea_await_value.  To wait for
 * a future and drop its result on purpose, value or error, write
 * sea_future_detach(sea_await(f)).
 */
#define SEA_AWAIT(f) sea__await_or_return(SEA__UNIQUE(sea__awaited), f)
#define sea__await_or_return(r, f) \
    __extension__({ \
        sea_future r = sea_await(f); \
        if (sea_future_failed(&r)) \
            return r; \
        sea_future_value(&r); \
    })

/*
 * SEA_TRY(expr): in a function that returns sea_future, evaluates expr (an
 * int: 0 or more for success, a negative error code) and, if it is negative,
 * returns a failed future with that code and the message "<expr>: <reason>".
 * Evaluates to expr's value otherwise.  Works anywhere, fiber or not.
 */
#define SEA_TRY(expr) sea__try_or_return(SEA__UNIQUE(sea__rc), expr)
#define sea__try_or_return(rc, expr) \
    __extension__({ \
        long rc = (expr); \
        if (rc < 0) \
            return sea_failed_fmt((int)rc, "%s: %s", #expr, sea_strerror((int)rc)); \
        rc; \
    })

/*
 * Lets every other ready task on the shard run, then continues.  I/O and
 * timers are still serviced at least once per task quota.  Returns 0, or
 * SEA_ENOTFIBER outside a fiber.
 */
int sea_fiber_yield(void);

/*
 * sea_fiber_yield() if the task quota is spent (sea_need_preempt()), else
 * nothing.  Returns 0, or SEA_ENOTFIBER outside a fiber.
 */
int sea_fiber_maybe_yield(void);

/* The running fiber, or NULL when not in a fiber. */
sea_fiber *sea_fiber_self(void);

/* A fiber's name ("fiber" if none was given; "" for NULL). */
const char *sea_fiber_name(const sea_fiber *f);

/* Asks f to stop: sets the flag sea_fiber_stop_requested() reads in f. */
void sea_fiber_request_stop(sea_fiber *f);

/* True if the running fiber was asked to stop (false outside a fiber). */
bool sea_fiber_stop_requested(void);

/*
 * Fiber-local storage.  A key is any sea_fiber_key object (usually static);
 * its address identifies the slot.  When a fiber ends, destructor(value) runs
 * for each non-NULL value it set, in the fiber, in the order the keys were
 * first set.
 */
typedef struct sea_fiber_key {
    void (*destructor)(void *value); /* may be NULL */
} sea_fiber_key;

/* The running fiber's value for key, or NULL (also outside a fiber). */
void *sea_fiber_local_get(const sea_fiber_key *key);

/* Sets the running fiber's value for key.  Returns 0, -ENOMEM, or SEA_ENOTFIBER. */
int sea_fiber_local_set(const sea_fiber_key *key, void *value);

/* ---- private ---- */
typedef struct sea_gate sea_gate;
sea_future sea__fiber_start(const sea_fiber_attr *attr, sea__fnptr fn, const void *cap, size_t capsz) SEA_MUST_USE;
/* (in gate.c: a gate knows fibers, fibers do not know gates) */
sea_future sea__fiber_start_in(sea_gate *gate, sea__fnptr fn, const void *cap, size_t capsz) SEA_MUST_USE;
#define sea__fstart_m0(what, call, pre, fn) sea__fn_m0(what, call, pre, fn)
#define sea__fstart_m1(what, call, pre, fn, ...) sea__fn_m1(what, call, pre, fn, __VA_ARGS__)

/* Counters of the current shard's fibers. */
typedef struct sea_fiber_stats {
    uint64_t started;        /* fibers started */
    uint64_t alive;          /* fibers started and not yet finished */
    uint64_t switches;       /* context switches into fibers */
    uint64_t stacks_cached;  /* stacks kept for reuse */
    uint64_t stacks_mapped;  /* stack memory reserved (virtual), in bytes */
} sea_fiber_stats;

/* Copies the current shard's fiber counters into *out.  Returns 0 or SEA_ESHUTDOWN. */
int sea_fiber_stats_get(sea_fiber_stats *out);

#ifdef __cplusplus
}
#endif
#endif
