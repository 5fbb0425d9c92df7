/*
 * condvar.c - condition variables (sea/condvar.h): a FIFO of waiters.
 */
#include "core/future.h"
#include "core/waitlist.h"

#include <sea/condvar.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sea_condvar_init(sea_condvar *cv) {
    memset(cv, 0, sizeof(*cv));
    sea__waitlist_init(&cv->sea__waiters);
}

void sea_condvar_destroy(sea_condvar *cv) {
    sea__waitlist_fail_all(&cv->sea__waiters, SEA_EBROKEN, "condition variable destroyed");
}

static sea_future wait_common(sea_condvar *cv, sea_time timeout, sea_abort_source *as) {
    if (cv->sea__broken)
        return sea_failed(cv->sea__broken, cv->sea__broken_msg);
    if (as && sea_abort_requested(as))
        return sea_failed(sea_abort_error(as), "aborted");
    sea_future f;
    struct sea__waiter *w = sea__waiter_add(&cv->sea__waiters, 0, &f, NULL, NULL);
    if (!w)
        return f;
    if (timeout >= 0)
        sea__waiter_set_timeout(w, timeout, "condition variable wait timed out");
    if (as)
        sea__waiter_set_abort(w, as);
    return f;
}

sea_future sea_condvar_wait(sea_condvar *cv) {
    return wait_common(cv, -1, NULL);
}

sea_future sea_condvar_wait_for(sea_condvar *cv, sea_time timeout) {
    return wait_common(cv, timeout < 0 ? 0 : timeout, NULL);
}

sea_future sea_condvar_wait_abortable(sea_condvar *cv, sea_abort_source *as) {
    return wait_common(cv, -1, as);
}

void sea_condvar_signal(sea_condvar *cv) {
    struct sea__waiter *w = sea__waitlist_first(&cv->sea__waiters);
    if (w)
        sea__waiter_wake(w, (sea_value){0});
}

void sea_condvar_broadcast(sea_condvar *cv) {
    /* Only those waiting now: a woken continuation that waits again is not woken twice. */
    size_t n = cv->sea__waiters.sea__count;
    struct sea__waiter *w;
    while (n-- && (w = sea__waitlist_first(&cv->sea__waiters)))
        sea__waiter_wake(w, (sea_value){0});
}

void sea_condvar_broken(sea_condvar *cv, int err, const char *static_msg) {
    cv->sea__broken = err < 0 ? err : SEA_EBROKEN;
    cv->sea__broken_msg = static_msg ? static_msg : "condition variable broken";
    sea__waitlist_fail_all(&cv->sea__waiters, cv->sea__broken, cv->sea__broken_msg);
}

size_t sea_condvar_waiters(const sea_condvar *cv) {
    return cv->sea__waiters.sea__count;
}

/* ---- waiting for a predicate ---- */

struct pred_wait {
    struct sea__owned owned; /* freed at shard stop if the wait never ends */
    sea_condvar *cv;
    sea__fnptr pred;
    bool has_cap;      /* pred takes the capture */
    _Alignas(max_align_t) unsigned char cap[];
};

static bool pred_true(sea__fnptr pred, void *cap) {
    return cap ? ((bool (*)(void *))pred)(cap) : ((bool (*)(void))pred)();
}

static void pred_wait_free(struct pred_wait *w) {
    sea__owned_remove(&w->owned);
    free(w);
}

static void pred_wait_release(struct sea__owned *o) {
    free(sea__container_of(o, struct pred_wait, owned));
}

static sea_future pred_check(struct pred_wait **wp, sea_future *in) {
    struct pred_wait *w = *wp;
    if (sea_future_failed(in)) {
        pred_wait_free(w);
        return sea_future_move(in);
    }
    if (pred_true(w->pred, w->has_cap ? w->cap : NULL)) {
        pred_wait_free(w);
        return sea_ready();
    }
    return sea_then_wrapped(sea_condvar_wait(w->cv), pred_check, w);
}

sea_future sea__condvar_wait_until(sea_condvar *cv, sea__fnptr pred, const void *cap, size_t capsz) {
    if (pred_true(pred, (void *)cap))
        return sea_ready();
    struct pred_wait *w = malloc(sizeof(*w) + capsz);
    if (!w)
        return sea_failed(-ENOMEM, "out of memory waiting on a condition variable");
    w->cv = cv;
    w->pred = pred;
    w->has_cap = cap != NULL;
    if (cap)
        memcpy(w->cap, cap, capsz);
    sea__owned_add(&w->owned, pred_wait_release);
    return sea_then_wrapped(sea_condvar_wait(cv), pred_check, w);
}
