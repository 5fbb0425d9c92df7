/*
 * sea/semaphore.h - semaphores: counters of units that futures wait for.
 *
 * The tutorial's main use: limit how many instances of some work run at
 * once.
 *
 *     static sea_semaphore limit;                 // sea_semaphore_init(&limit, 100) at start
 *     sea_future g(void) {
 *         return sea_with_semaphore(&limit, 1, do_the_work, (struct work){...});
 *     }
 *
 * Waiters are served strictly in arrival order: a waiter for many units is
 * not overtaken by later waiters for few, even when enough units for those
 * are free, so large requests never starve.  A wait that can be served at
 * once (nobody queued, enough units) returns a ready future and allocates
 * nothing.
 *
 * Breaking a semaphore (sea_semaphore_broken) fails every waiter, and every
 * later wait, with the given error: the way to shut down the work queued on
 * it.  A semaphore belongs to one shard.
 */
#ifndef SEA_SEMAPHORE_H
#define SEA_SEMAPHORE_H

#include <stdbool.h>
#include <stdint.h>

#include <sea/abort.h>
#include <sea/future.h>
#include <sea/timer.h>
#include <sea/internal/waitlist.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fields are private. */
typedef struct sea_semaphore {
    int64_t sea__count;
    int64_t sea__capacity;       /* the most units a wait may ask for, if bounded */
    bool sea__bounded;
    struct sea__waitlist sea__waiters;
    int sea__broken;             /* error once broken, else 0 */
    const char *sea__broken_msg;
} sea_semaphore;

/* count units to start with (>= 0). */
void sea_semaphore_init(sea_semaphore *s, int64_t count);
/* A static initialiser: static sea_semaphore limit = SEA_SEMAPHORE_INIT(100); is sea_semaphore_init(&limit, 100). */
#define SEA_SEMAPHORE_INIT(count) {.sea__count = (count)}
/* The same for sea_semaphore_init_bounded. */
#define SEA_SEMAPHORE_INIT_BOUNDED(count) {.sea__count = (count), .sea__capacity = (count), .sea__bounded = true}
/*
 * A semaphore that never holds more than count units (a limit on memory,
 * say): a wait for more than count fails at once with -EINVAL instead of
 * never resolving.
 */
void sea_semaphore_init_bounded(sea_semaphore *s, int64_t count);
/*
 * Fails every waiter with SEA_EBROKEN ("semaphore destroyed").  s may be
 * freed afterwards once nothing can signal it any more: units objects and
 * sea_with_semaphore calls still running give their units back to s.
 */
void sea_semaphore_destroy(sea_semaphore *s);

/*
 * Takes n units (n >= 0), waiting in line if they are not there.  Fails with
 * -EINVAL (n < 0, or more than a bounded semaphore holds), the break error,
 * or -ENOMEM.
 */
sea_future sea_semaphore_wait(sea_semaphore *s, int64_t n) SEA_MUST_USE;
/* The same, failing with -ETIMEDOUT ("semaphore wait timed out") after timeout ns. */
sea_future sea_semaphore_wait_for(sea_semaphore *s, int64_t n, sea_time timeout) SEA_MUST_USE;
/* The same, failing with the abort's error when as aborts. */
sea_future sea_semaphore_wait_abortable(sea_semaphore *s, int64_t n, sea_abort_source *as) SEA_MUST_USE;
/* Takes n units if they are there and nobody is waiting; returns whether it did. */
bool sea_semaphore_try_wait(sea_semaphore *s, int64_t n);
/* Returns n units (n >= 0) and serves the waiters that now can be, in order. */
void sea_semaphore_signal(sea_semaphore *s, int64_t n);
/*
 * Breaks s: every waiter and every later wait fails with err (negative; 0
 * means SEA_EBROKEN) and static_msg (NULL: "semaphore broken").  signal()
 * still works, so units held by running work can be returned.
 */
void sea_semaphore_broken(sea_semaphore *s, int err, const char *static_msg);

/* Units available now (may be negative after sea_semaphore_consume). */
int64_t sea_semaphore_available(const sea_semaphore *s);
/* Waiters in line. */
size_t sea_semaphore_waiters(const sea_semaphore *s);
/* Takes n units at once, even if that leaves fewer than zero: for work that cannot wait. */
void sea_semaphore_consume(sea_semaphore *s, int64_t n);

/*
 * Units as an object: sea_semaphore_get_units() resolves with a boxed
 * sea_semaphore_units* (in v.ptr) holding n units.  Releasing it returns
 * them; if the future's value is dropped instead, the units go back too.
 */
typedef struct sea_semaphore_units {
    sea_box sea__box;
    sea_semaphore *sea__sem;
    int64_t sea__n;
} sea_semaphore_units;

sea_future sea_semaphore_get_units(sea_semaphore *s, int64_t n) SEA_MUST_USE;
/* Units u still holds. */
int64_t sea_semaphore_units_count(const sea_semaphore_units *u);
/* Returns n of the units early (n <= what it holds). */
void sea_semaphore_units_return(sea_semaphore_units *u, int64_t n);
/* Returns the rest and frees u. */
void sea_semaphore_units_release(sea_semaphore_units *u);

/*
 * sea_with_semaphore(s, n, fn [, capture]): waits for n units, runs
 *     sea_future fn(T *capture)    (or fn(void))
 * and returns the units when fn's future resolves, however it ends.
 * Resolves with fn's result (or the wait's error, fn then not run).
 *
 * From a fiber it all happens in that fiber: the wait suspends it, fn runs
 * in it (so fn may use sea_await) and is waited for there, and the result
 * comes back ready.  From a continuation, fn runs as a continuation once the
 * units are there.
 */
#define sea_with_semaphore(s, n, ...) SEA__CAPTURE_DISPATCH(sea__with_sem_m, __VA_ARGS__)(s, n, __VA_ARGS__)

sea_future sea__with_semaphore(sea_semaphore *s, int64_t n, sea__fnptr fn, void *cap, size_t capsz)
    SEA_MUST_USE;
#define sea__with_sem_m0(s, n, fn) \
    sea__fn_m0("sea_with_semaphore", sea__with_semaphore, ((s), (n), ), fn)
#define sea__with_sem_m1(s, n, fn, ...) \
    sea__fn_m1("sea_with_semaphore", sea__with_semaphore, ((s), (n), ), fn, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
