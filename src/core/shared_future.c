/*
 * shared_future.c - shared promises (sea/shared_future.h): the result kept
 * once, and a copy for every waiter, now or later.
 */
#include "core/waitlist.h"
#include <sea/shared_future.h>
#include <errno.h>
#include <string.h>

#include "base/panic.h"

void sea_shared_promise_init(sea_shared_promise *sp) {
    memset(sp, 0, sizeof(*sp));
    sea__waitlist_init(&sp->sea__waiters);
}
/* A ready copy of the stored result; an owned message is copied too. */
static sea_future copy_result(const sea_shared_promise *sp) {
    const sea_future *r = &sp->sea__result;
    if ((r->sea__state & SEA__S_KIND) == SEA__S_VALUE)
        return sea_ready_value(r->sea__v);
    const char *msg = r->sea__v.ptr;
    if (r->sea__state & SEA__F_OWNED_MSG)
        return sea_failed_fmt(r->sea__err, "%s", msg);
    return sea_failed(r->sea__err, msg);
}

sea_future sea_shared_promise_get_future(sea_shared_promise *sp) {
    if (sp->sea__resolved)
        return copy_result(sp);
    sea_future f;
    sea__waiter_add(&sp->sea__waiters, 0, &f, NULL, NULL);
    return f;
}

/* Stores r (ready, not boxed) and gives every waiter a copy. */
static void resolve(sea_shared_promise *sp, sea_future r) {
    if (sp->sea__resolved)
        sea__panic("shared promise resolved twice");
    sp->sea__resolved = true;
    sp->sea__result = r;
    if ((r.sea__state & SEA__S_KIND) == SEA__S_ERROR)
        (void)sea_future_error(&sp->sea__result); /* handed to the waiters: not "ignored" */
    struct sea__waiter *w;
    while ((w = sea__waitlist_first(&sp->sea__waiters)))
        sea__waiter_settle(w, copy_result(sp));
}

void sea_shared_promise_set_value(sea_shared_promise *sp, sea_value v) {
    resolve(sp, sea_ready_value(v));
}

void sea_shared_promise_set_void(sea_shared_promise *sp) {
    resolve(sp, sea_ready());
}

void sea_shared_promise_set_error(sea_shared_promise *sp, int err, const char *static_msg) {
    resolve(sp, sea_failed(err, static_msg));
}

static sea_future forwarded(sea_shared_promise **spp, sea_future *in) {
    sea_shared_promise *sp = *spp;
    sp->sea__forwarding = false;
    if (in->sea__state & SEA__F_BOX) {
        sea_future_detach(sea_future_move(in));
        resolve(sp, sea_failed(-EINVAL, "a boxed value cannot be shared"));
    } else {
        resolve(sp, sea_future_move(in));
    }
    return sea_ready();
}

void sea_shared_promise_forward(sea_shared_promise *sp, sea_future f) {
    sp->sea__forwarding = true;
    sea_future c = sea_then_wrapped(f, forwarded, sp);
    if (sea_future_failed(&c)) { /* no memory to wait: that is the result */
        sp->sea__forwarding = false;
        resolve(sp, c);
        return;
    }
    sea_future_detach(c);
}
bool sea_shared_promise_resolved(const sea_shared_promise *sp) {
    return sp->sea__resolved;
}
size_t sea_shared_promise_waiters(const sea_shared_promise *sp) {
    return sp->sea__waiters.sea__count;
}
void sea_shared_promise_destroy(sea_shared_promise *sp) {
    if (sp->sea__forwarding)
        sea__panic("sea_shared_promise_destroy while a forwarded future is pending");
    sea__waitlist_fail_all(&sp->sea__waiters, SEA_EBROKEN_PROMISE, "shared promise destroyed");
    if (sp->sea__resolved)
        sea_future_detach(sea_future_move(&sp->sea__result));
    sp->sea__resolved = false;
}
