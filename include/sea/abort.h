/*
 * sea/abort.h - abort sources: cancelling waits from outside.
 *
 * An abort source is a one-shot signal that operations subscribe to.  When
 * someone calls sea_abort_source_request(), every subscriber's callback runs
 * (once, in subscription order, right away), and the waits built on it fail
 * with the abort's error (SEA_EABORTED unless another was given): sleeps
 * (sea_sleep_abortable, in sea/timer.h), semaphore waits (sea_semaphore_wait_abortable), any
 * future awaited in a fiber (sea_await_abortable), and your own operations
 * through sea_abort_subscribe().
 *
 *     sea_abort_source stop;
 *     sea_abort_source_init(&stop);
 *     ...
 *     sea_future f = sea_sleep_abortable(SEA_SEC(60), &stop);   // fails at once on abort
 *     ...
 *     sea_abort_source_request(&stop, 0);
 *
 * Abort sources belong to a shard, like everything else.  The source must
 * outlive its subscriptions: unsubscribe (or let the operation finish) before
 * freeing it.
 */
#ifndef SEA_ABORT_H
#define SEA_ABORT_H

#include <stdbool.h>

#include <sea/future.h>
#include <sea/internal/list.h>
#include <sea/timer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_abort_source sea_abort_source;
typedef struct sea_abort_subscription sea_abort_subscription;
/* Called when the source aborts; err is the abort's error.  sub is already unsubscribed. */
typedef void (*sea_abort_fn)(sea_abort_subscription *sub, int err);

/* A subscription: embed it in the operation it cancels.  Fields are private. */
struct sea_abort_subscription {
    sea_abort_fn sea__fn;
    struct sea__link sea__link;
    sea_abort_source *sea__source;
};

/* Fields are private. */
struct sea_abort_source {
    struct sea__list sea__subs;
    int sea__err;
    bool sea__requested;
};

/* Prepares as: not aborted, no subscriptions. */
void sea_abort_source_init(sea_abort_source *as);
/* A static initialiser, the same as sea_abort_source_init: static sea_abort_source as = SEA_ABORT_SOURCE_INIT; */
#define SEA_ABORT_SOURCE_INIT {0}
/*
 * Aborts: runs every subscriber's callback with err (0 means SEA_EABORTED).
 * Later requests do nothing.  Subscriptions made during the callbacks are
 * refused like any made after the abort.
 */
void sea_abort_source_request(sea_abort_source *as, int err);
/* True once sea_abort_source_request was called. */
bool sea_abort_requested(const sea_abort_source *as);
/* The abort's error, or 0 while not aborted. */
int sea_abort_error(const sea_abort_source *as);

/*
 * Subscribes sub: fn(sub, err) runs if as aborts while subscribed.  Returns
 * 0, or the abort's error if as has aborted already (fn is not called).
 */
int sea_abort_subscribe(sea_abort_source *as, sea_abort_subscription *sub, sea_abort_fn fn);
/* Ends a subscription; harmless if it is not subscribed (any more). */
void sea_abort_unsubscribe(sea_abort_subscription *sub);

/*
 * In a fiber: waits for f, or until as aborts, whichever comes first, and
 * returns a ready future: f's result, or the abort's error (f's own result is
 * then dropped when it arrives; a failure is reported as ignored).  Outside a
 * fiber it fails with SEA_ENOTFIBER like sea_await.
 */
sea_future sea_await_abortable(sea_future f, sea_abort_source *as) SEA_MUST_USE;

/*
 * Continuation style: a future that resolves like f, or fails with the
 * abort's error when as aborts first.  f's late result is dropped as above.
 */
sea_future sea_abortable(sea_future f, sea_abort_source *as) SEA_MUST_USE;

#ifdef __cplusplus
}
#endif
#endif
