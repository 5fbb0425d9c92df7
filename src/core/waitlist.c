/*
 * waitlist.c - waiting operations: promises in FIFO lists, with timeouts and
 * abort subscriptions (see waitlist.h).
 */
#include "core/waitlist.h"

#include <errno.h>
#include <stdlib.h>

static void unlink_waiter(struct sea__waiter *w) {
    struct sea__waitlist *l = w->list;
    sea__list_remove(&l->sea__waiters, &w->link);
    l->sea__count--;
    if (w->timed)
        sea_timer_cancel(&w->timer);
    sea_abort_unsubscribe(&w->abort);
}

struct sea__waiter *sea__waiter_add(struct sea__waitlist *l, int64_t n, sea_future *f,
                                    void (*cancelled)(struct sea__waitlist *, void *), void *owner) {
    struct sea__waiter *w = calloc(1, sizeof(*w));
    if (!w) {
        *f = sea_failed(-ENOMEM, "out of memory adding a waiter");
        return NULL;
    }
    sea_promise_init(&w->promise);
    *f = sea_promise_get_future(&w->promise);
    if (sea_future_failed(f)) {
        sea_promise_release(&w->promise);
        free(w);
        return NULL;
    }
    w->n = n;
    w->list = l;
    w->cancelled = cancelled;
    w->owner = owner;
    sea__list_push_back(&l->sea__waiters, &w->link);
    l->sea__count++;
    return w;
}

static void finish(struct sea__waiter *w) {
    sea_promise_release(&w->promise);
    free(w);
}

void sea__waiter_wake(struct sea__waiter *w, sea_value v) {
    unlink_waiter(w);
    sea_promise_set_value(&w->promise, v);
    finish(w);
}

void sea__waiter_fail(struct sea__waiter *w, int err, const char *static_msg) {
    unlink_waiter(w);
    sea_promise_set_error(&w->promise, err, static_msg);
    finish(w);
}

void sea__waiter_settle(struct sea__waiter *w, sea_future r) {
    unlink_waiter(w);
    sea_promise_forward(&w->promise, r);
    finish(w);
}

void sea__waitlist_fail_all(struct sea__waitlist *l, int err, const char *static_msg) {
    struct sea__waiter *w;
    while ((w = sea__waitlist_first(l)))
        sea__waiter_fail(w, err, static_msg);
}

/* A timeout or an abort gave up on w: fail it, then let the owner look at its list again. */
static void give_up(struct sea__waiter *w, int err, const char *msg) {
    struct sea__waitlist *l = w->list;
    void (*cancelled)(struct sea__waitlist *, void *) = w->cancelled;
    void *owner = w->owner;
    sea__waiter_fail(w, err, msg);
    if (cancelled)
        cancelled(l, owner);
}

static void on_timeout(sea_timer *t, void *arg) {
    struct sea__waiter *w = arg;
    w->timed = false; /* fired: nothing to cancel */
    give_up(w, -ETIMEDOUT, w->timeout_msg);
}

void sea__waiter_set_timeout(struct sea__waiter *w, sea_time timeout, const char *msg) {
    sea_timer_init(&w->timer, on_timeout, w);
    w->timeout_msg = msg;
    w->timed = sea_timer_arm(&w->timer, timeout > 0 ? timeout : 0) == 0;
}

static void on_abort(sea_abort_subscription *sub, int err) {
    struct sea__waiter *w = sea__container_of(sub, struct sea__waiter, abort);
    give_up(w, err, "aborted");
}

int sea__waiter_set_abort(struct sea__waiter *w, sea_abort_source *as) {
    int err = sea_abort_subscribe(as, &w->abort, on_abort);
    if (err)
        sea__waiter_fail(w, err, "aborted");
    return err;
}
