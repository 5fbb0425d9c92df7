/*
 * core/future.h - what the rest of the core needs of pending futures
 * (future.c): settling, dropping, waiting without a continuation, and the
 * futures module that gives each shard its pool of nodes.
 */
#ifndef SEA_CORE_FUTURE_H
#define SEA_CORE_FUTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <sea/future.h>
#include <sea/internal/list.h>

struct sea__shard;
struct sea__module;

/*
 * If f is pending but its result has arrived, turns f into that ready result
 * (its node freed).  Attaching a continuation to such a future would run the
 * continuation at once, inside the attach; code that relies on attached
 * continuations running later settles first.
 */
void sea__future_settle(sea_future *f);
/* Releases what a result owns; reports it if it is an unconsumed failure and report is set. */
void sea__drop_result(sea_future *r, bool report);

/* Called with the result of the future it waited for (sea__future_notify). */
typedef void (*sea__notify_fn)(void *arg, sea_future result);
/*
 * When the pending future f resolves, calls fn(arg, result) from the run
 * queue: a wait with no continuation and no capture (a fiber's sea_await).
 * Returns 0 when attached, 1 when f turned out ready (its result in *ready,
 * fn not called), -ENOMEM (f is then dropped).
 */
int sea__future_notify(sea_future f, sea__notify_fn fn, void *arg, sea_future *ready);

/*
 * Memory sea allocates for an operation in progress (a loop's state, the
 * results a gather collects) that only pending continuations refer to.
 * Registered here while the operation waits, it is released at shard stop
 * if the operation never ended: an application that stops with loops still
 * waiting leaks nothing.  release() may only free memory: by then the
 * shard's futures are gone.
 */
struct sea__owned {
    struct sea__link link;
    void (*release)(struct sea__owned *o);
};
void sea__owned_add(struct sea__owned *o, void (*release)(struct sea__owned *o));
void sea__owned_remove(struct sea__owned *o);

/* Pending futures alive on s (its nodes in use). */
uint64_t sea__futures_pending(const struct sea__shard *s);

/* The module that gives each shard its nodes (SEA__SLOT_FUTURES); first of the core's, last to stop. */
extern const struct sea__module sea__module_futures;

#endif
