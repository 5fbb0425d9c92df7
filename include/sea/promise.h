/*
 * sea/promise.h - promises: the writing end of a future.
 *
 * An asynchronous function that is not built from other futures creates a
 * promise, hands out its future, and resolves the promise later (from a timer,
 * an I/O completion, another continuation).  A sea_promise is small and meant
 * to be embedded in the struct that owns the pending operation.
 *
 *     sea_promise p;
 *     sea_promise_init(&p);
 *     sea_future f = sea_promise_get_future(&p);   // give f to the caller
 *     ...
 *     sea_promise_set_int(&p, 42);                 // f's continuations are queued
 *
 * Resolving a promise never runs continuations synchronously: they are queued
 * and run by the reactor, so it is safe to resolve a promise while holding
 * state that a continuation might touch.
 *
 * Every initialised promise must be either resolved or released.  Releasing an
 * unresolved promise whose future was handed out fails that future with
 * SEA_EBROKEN_PROMISE, so a waiter never hangs silently.  Resolving a promise
 * twice, or resolving a released one, is a programming error: sea prints
 * "sea: promise resolved twice" and aborts.
 */
#ifndef SEA_PROMISE_H
#define SEA_PROMISE_H

#include <sea/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The promise.  Fields are private. */
typedef struct sea_promise {
    struct sea__node *sea__node; /* private: the pending future's node, if handed out */
    sea_future sea__early;       /* private: result set before the future was taken */
    uint32_t sea__flags;         /* private */
} sea_promise;

/* Static initialiser, equivalent to sea_promise_init(). */
#define SEA_PROMISE_INIT {0}

/* Prepares p for use. */
void sea_promise_init(sea_promise *p);

/*
 * Returns p's future.  May be called once per promise; a second call returns a
 * future failed with SEA_EFUTURE_USED.  If the node cannot be allocated the
 * returned future fails with -ENOMEM (and resolving p later is still fine).
 */
sea_future sea_promise_get_future(sea_promise *p) SEA_MUST_USE;

/* Resolves p with value v. */
void sea_promise_set_value(sea_promise *p, sea_value v);
/* Resolves p with no value. */
void sea_promise_set_void(sea_promise *p);
/* Resolves p with an integer. */
void sea_promise_set_int(sea_promise *p, int64_t i);
/* Resolves p with a pointer that sea never frees. */
void sea_promise_set_ptr(sea_promise *p, void *ptr);
/* Resolves p with a boxed value (see sea_box): released if nobody takes it. */
void sea_promise_set_box(sea_promise *p, sea_box *box);
/* Fails p with err (negative) and an optional static message. */
void sea_promise_set_error(sea_promise *p, int err, const char *static_msg);
/* Fails p with err and a formatted message. */
void sea_promise_set_error_fmt(sea_promise *p, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Resolves p with whatever f resolves to, now if f is ready or when it becomes
 * ready.  Consumes f.
 */
void sea_promise_forward(sea_promise *p, sea_future f);

/* True once p has been resolved (or released). */
bool sea_promise_resolved(const sea_promise *p);

/*
 * Releases p.  If p was never resolved and its future was handed out, that
 * future fails with SEA_EBROKEN_PROMISE.  A result set but never collected is
 * released.  p may be initialised again afterwards.
 */
void sea_promise_release(sea_promise *p);

#ifdef __cplusplus
}
#endif
#endif
