/*
 * race.c - races between a future and a deadline or an abort
 * (sea_abortable, sea_await_abortable, sea_with_timeout).
 *
 * A race owns a promise that resolves with whichever comes first: the
 * future's result, a timer's expiry (-ETIMEDOUT) or an abort.  The loser is
 * cancelled (timer, subscription) or, for the future, left to finish: its
 * result is dropped when it arrives (a failure reported as ignored).  The
 * race's memory goes when the future has arrived and the promise is settled.
 */
#include <sea/abort.h>
#include <sea/fiber.h>
#include <sea/promise.h>
#include <sea/when.h>

#include <errno.h>
#include <stdlib.h>

#include "base/compiler.h"
#include "core/future.h"


struct race {
    sea_promise promise;
    sea_timer timer;
    bool timed;
    sea_abort_subscription abort;
    bool settled;      /* the promise has its result */
    bool arrived;      /* the future's result came */
};

static void race_maybe_free(struct race *r) {
    if (r->settled && r->arrived) {
        sea_promise_release(&r->promise);
        free(r);
    }
}

static void race_settle_error(struct race *r, int err, const char *msg) {
    r->settled = true;
    if (r->timed)
        sea_timer_cancel(&r->timer);
    r->timed = false;
    sea_abort_unsubscribe(&r->abort);
    sea_promise_set_error(&r->promise, err, msg);
}

static sea_future race_arrived(struct race **rp, sea_future *in) {
    struct race *r = *rp;
    r->arrived = true;
    if (!r->settled) {
        r->settled = true;
        if (r->timed)
            sea_timer_cancel(&r->timer);
        r->timed = false;
        sea_abort_unsubscribe(&r->abort);
        sea_promise_forward(&r->promise, sea_future_move(in));
    } else {
        /* Too late: nobody waits for it any more. */
        sea_future_ignore(sea_future_move(in));
    }
    race_maybe_free(r);
    return sea_ready();
}

static void race_timeout(sea_timer *t, void *arg) {
    struct race *r = arg;
    r->timed = false;
    race_settle_error(r, -ETIMEDOUT, "timed out");
    race_maybe_free(r);
}

static void race_abort(sea_abort_subscription *sub, int err) {
    struct race *r = sea__container_of(sub, struct race, abort);
    race_settle_error(r, err, "aborted");
    race_maybe_free(r);
}

/* f, or -ETIMEDOUT after timeout (if timeout >= 0), or the abort of as (if not NULL). */
static sea_future race(sea_future f, sea_time timeout, sea_abort_source *as) {
    sea__future_settle(&f);
    if (sea_future_available(&f))
        return f;
    if (as && sea_abort_requested(as)) {
        sea_future_ignore(f);
        return sea_failed(sea_abort_error(as), "aborted");
    }
    struct race *r = calloc(1, sizeof(*r));
    if (!r) {
        sea_future_ignore(f);
        return sea_failed(-ENOMEM, "out of memory racing a future");
    }
    sea_promise_init(&r->promise);
    sea_future out = sea_promise_get_future(&r->promise);
    if (sea_future_failed(&out)) {
        sea_promise_release(&r->promise);
        free(r);
        sea_future_ignore(f);
        return out;
    }
    if (timeout >= 0) {
        sea_timer_init(&r->timer, race_timeout, r);
        r->timed = sea_timer_arm(&r->timer, timeout) == 0;
    }
    if (as)
        sea_abort_subscribe(as, &r->abort, race_abort);
    sea_future c = sea_then_wrapped(f, race_arrived, r);
    if (sea_future_failed(&c))
        race_arrived(&r, &c); /* no memory to wait: that is the result */
    else
        sea_future_detach(c);
    return out;
}

sea_future sea_abortable(sea_future f, sea_abort_source *as) {
    return race(f, -1, as);
}

sea_future sea_with_timeout(sea_future f, sea_time timeout) {
    return race(f, timeout < 0 ? 0 : timeout, NULL);
}

sea_future sea_await_abortable(sea_future f, sea_abort_source *as) {
    return sea_await(race(f, -1, as));
}
