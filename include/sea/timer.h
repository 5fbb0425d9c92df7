/*
 * sea/timer.h - clocks, sleep and timers on the current shard.
 *
 * Time is a signed 64-bit count of nanoseconds (sea_time).  sea_now() reads
 * the monotonic clock; sea_lowres_now() returns the time the reactor read at
 * the start of its current loop iteration, which costs nothing but may be
 * behind by the length of one iteration (at most about one task quota when
 * tasks are running).
 *
 * Timers are armed on, fire on, and must be cancelled on the shard that armed
 * them.  Their callbacks run from the reactor loop, never from signal context.
 * Arming and cancelling are O(1); a million pending timers are fine.
 */
#ifndef SEA_TIMER_H
#define SEA_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include <sea/future.h>
#include <sea/internal/list.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A point in time or a duration, in nanoseconds. */
typedef int64_t sea_time;

#define SEA_NSEC(n) ((sea_time)(n))
#define SEA_USEC(n) ((sea_time)(n) * 1000)
#define SEA_MSEC(n) ((sea_time)(n) * 1000000)
#define SEA_SEC(n) ((sea_time)(n) * 1000000000)
/* Never: the deadline of a timer that does not expire. */
#define SEA_TIME_MAX INT64_MAX

/* The monotonic clock (CLOCK_MONOTONIC) in nanoseconds. */
sea_time sea_now(void);

/*
 * The low-resolution clock: the monotonic time at the start of the current
 * reactor loop iteration.  Free to read.  Outside a reactor it reads sea_now().
 */
static inline sea_time sea_lowres_now(void) {
    return sea__hot.active ? sea__hot.lowres_now : sea_now();
}

/*
 * A future that resolves (with no value) once d nanoseconds have passed.
 * A negative or zero d resolves at the next timer check, not synchronously.
 * Fails with -ENOMEM if the timer cannot be allocated, SEA_ESHUTDOWN if no
 * reactor runs on this thread.
 */
sea_future sea_sleep(sea_time d) SEA_MUST_USE;

typedef struct sea_abort_source sea_abort_source; /* sea/abort.h */
/*
 * sea_sleep that fails early with the abort's error when as aborts (at once,
 * if it has aborted already).  as may be NULL (a plain sleep).
 */
sea_future sea_sleep_abortable(sea_time d, sea_abort_source *as) SEA_MUST_USE;

/* A timer: embed it anywhere.  Fields are private. */
typedef struct sea_timer sea_timer;
typedef void (*sea_timer_cb)(sea_timer *t, void *arg);
struct sea_timer {
    sea_time sea__when;        /* private: deadline */
    sea_time sea__period;      /* private: 0 for one-shot */
    struct sea__link sea__link; /* private: its bucket */
    sea_timer_cb sea__cb;      /* private */
    void *sea__arg;            /* private */
    struct sea__shard *sea__shard; /* private: owning shard while armed */
    uint32_t sea__flags;       /* private */
};

/* Prepares t to call cb(t, arg) when it expires.  t starts disarmed. */
void sea_timer_init(sea_timer *t, sea_timer_cb cb, void *arg);
/* A static initialiser, the same as sea_timer_init(&t, cb, arg): static sea_timer t = SEA_TIMER_INIT(cb, arg); */
#define SEA_TIMER_INIT(cb, arg) {.sea__when = SEA_TIME_MAX, .sea__cb = (cb), .sea__arg = (arg)}
/*
 * Arms t to fire once, delay nanoseconds from now.  Re-arming an armed timer
 * moves it.  Returns 0, or SEA_ESHUTDOWN if no reactor runs on this thread.
 */
int sea_timer_arm(sea_timer *t, sea_time delay);
/* Arms t to fire once at the absolute monotonic time deadline. */
int sea_timer_arm_at(sea_timer *t, sea_time deadline);
/*
 * Arms t to fire every period nanoseconds (period > 0, else -EINVAL), first
 * one period from now.  A periodic timer that falls behind fires once per
 * check, not once per missed period.
 */
int sea_timer_arm_periodic(sea_timer *t, sea_time period);
/* Cancels t.  Returns true if it was armed.  Safe from t's own callback. */
bool sea_timer_cancel(sea_timer *t);
/* True while t is armed. */
bool sea_timer_armed(const sea_timer *t);
/* The deadline t is armed for, or SEA_TIME_MAX if disarmed. */
sea_time sea_timer_expiry(const sea_timer *t);

#ifdef __cplusplus
}
#endif
#endif
