/*
 * sea/condvar.h - condition variables for futures.
 *
 * Waiters queue in order; sea_condvar_signal() wakes the first,
 * sea_condvar_broadcast() all of them.  As with any condition variable, a
 * signal with nobody waiting is lost, so wait for a condition, not a signal:
 *
 *     return sea_condvar_wait_until(&cv, queue_not_empty, (struct q_ref){q});
 *
 * Breaking the condition variable fails every waiter and every later wait.
 */
#ifndef SEA_CONDVAR_H
#define SEA_CONDVAR_H

#include <stdbool.h>
#include <stddef.h>

#include <sea/abort.h>
#include <sea/future.h>
#include <sea/timer.h>
#include <sea/internal/waitlist.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fields are private. */
typedef struct sea_condvar {
    struct sea__waitlist sea__waiters;
    int sea__broken;
    const char *sea__broken_msg;
} sea_condvar;

/* Prepares cv, with nobody waiting. */
void sea_condvar_init(sea_condvar *cv);
/* A static initialiser, the same as sea_condvar_init: static sea_condvar cv = SEA_CONDVAR_INIT; */
#define SEA_CONDVAR_INIT {0}
/* Fails every waiter with SEA_EBROKEN ("condition variable destroyed"). */
void sea_condvar_destroy(sea_condvar *cv);

/* Resolves at the next signal or broadcast (or fails when broken; -ENOMEM). */
sea_future sea_condvar_wait(sea_condvar *cv) SEA_MUST_USE;
/* The same, failing with -ETIMEDOUT ("condition variable wait timed out") after timeout ns. */
sea_future sea_condvar_wait_for(sea_condvar *cv, sea_time timeout) SEA_MUST_USE;
/* The same, failing with the abort's error when as aborts. */
sea_future sea_condvar_wait_abortable(sea_condvar *cv, sea_abort_source *as) SEA_MUST_USE;

/*
 * sea_condvar_wait_until(cv, pred [, capture]): resolves once
 *     bool pred(T *capture)    (or pred(void))
 * is true: checked at once, then after every wake-up.
 */
#define sea_condvar_wait_until(cv, ...) SEA__CAPTURE_DISPATCH(sea__cv_until_m, __VA_ARGS__)(cv, __VA_ARGS__)
#define sea__cv_until_m0(cv, pred) \
    SEA__UNCAPTURED(SEA__FN_IS(pred, bool (*)(void)), \
                    "sea_condvar_wait_until: " #pred " must be  bool " #pred "(void)  (no capture was given)", \
                    sea__condvar_wait_until((cv), (sea__fnptr)(pred), NULL, 0))
#define sea__cv_until_m1(cv, pred, ...) sea__cv_until_c(SEA__UNIQUE(sea__cap), cv, pred, __VA_ARGS__)
#define sea__cv_until_c(c, cv, pred, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(pred, bool (*)(__typeof__(c) *)), \
                  "sea_condvar_wait_until: " #pred " must be  bool " #pred "(T *capture)" SEA__T_IS(__VA_ARGS__), \
                  sea__condvar_wait_until((cv), (sea__fnptr)(pred), &c, sizeof(c)), __VA_ARGS__)

/* Wakes the first waiter, if any. */
void sea_condvar_signal(sea_condvar *cv);
/* Wakes every waiter. */
void sea_condvar_broadcast(sea_condvar *cv);
/* Fails every waiter and later wait with err (0: SEA_EBROKEN) and static_msg. */
void sea_condvar_broken(sea_condvar *cv, int err, const char *static_msg);
/* Waiters in line now. */
size_t sea_condvar_waiters(const sea_condvar *cv);

sea_future sea__condvar_wait_until(sea_condvar *cv, sea__fnptr pred, const void *cap, size_t capsz)
    SEA_MUST_USE;

#ifdef __cplusplus
}
#endif
#endif
