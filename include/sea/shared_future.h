/*
 * sea/shared_future.h - one result, many waiters.
 *
 * A future has exactly one consumer.  A shared promise hands out as many
 * futures as asked for, before or after it is resolved, and every one gets
 * the result: a value (copied; boxed values cannot be shared) or an error
 * (with its message).
 *
 *     sea_shared_promise loaded;               // a cache entry being loaded
 *     sea_shared_promise_init(&loaded);
 *     sea_shared_promise_forward(&loaded, load_from_disk(key));
 *     ... any number of readers:  sea_then(sea_shared_promise_get_future(&loaded), use, ...)
 */
#ifndef SEA_SHARED_FUTURE_H
#define SEA_SHARED_FUTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <sea/future.h>
#include <sea/internal/waitlist.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fields are private. */
typedef struct sea_shared_promise {
    struct sea__waitlist sea__waiters;
    sea_future sea__result;   /* once resolved */
    bool sea__resolved;
    bool sea__forwarding;     /* waiting for a future given to sea_shared_promise_forward */
} sea_shared_promise;

/* Prepares sp: unresolved, nobody waiting. */
void sea_shared_promise_init(sea_shared_promise *sp);
/* A static initialiser, the same as sea_shared_promise_init. */
#define SEA_SHARED_PROMISE_INIT {0}
/*
 * A future of sp's result: pending until sp is resolved, ready afterwards.
 * Fails with -ENOMEM when a waiter cannot be allocated.
 */
sea_future sea_shared_promise_get_future(sea_shared_promise *sp) SEA_MUST_USE;
/* Resolves sp (once; a second resolution aborts the program, as with sea_promise). */
void sea_shared_promise_set_value(sea_shared_promise *sp, sea_value v);
void sea_shared_promise_set_void(sea_shared_promise *sp);
void sea_shared_promise_set_error(sea_shared_promise *sp, int err, const char *static_msg);
/*
 * Resolves sp with f's result when f is ready (consumes f).  A boxed value
 * is released and sp fails with -EINVAL: it cannot be given to many.  sp
 * must stay where it is until then.
 */
void sea_shared_promise_forward(sea_shared_promise *sp, sea_future f);
/* True once sp has its result. */
bool sea_shared_promise_resolved(const sea_shared_promise *sp);
/* Futures handed out and still pending. */
size_t sea_shared_promise_waiters(const sea_shared_promise *sp);
/*
 * Releases sp: pending futures fail with SEA_EBROKEN_PROMISE; the stored
 * result is released.  Not while a forward is still waiting (that aborts).
 */
void sea_shared_promise_destroy(sea_shared_promise *sp);

#ifdef __cplusplus
}
#endif
#endif
