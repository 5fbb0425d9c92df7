/*
 * semaphore.c - FIFO semaphores (sea/semaphore.h).
 *
 * The count and a list of waiters; a wait is served at once only when nobody
 * is queued, which is what keeps the order strict.  signal() and every
 * cancelled wait (timeout, abort) serve the head of the line for as long as
 * its request fits.
 */
#include "core/waitlist.h"
#include <sea/fiber.h>
#include <sea/semaphore.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "base/panic.h"
#include "core/future.h"

void sea_semaphore_init(sea_semaphore *s, int64_t count) {
    memset(s, 0, sizeof(*s));
    s->sea__count = count;
    sea__waitlist_init(&s->sea__waiters);
}

void sea_semaphore_init_bounded(sea_semaphore *s, int64_t count) {
    sea_semaphore_init(s, count);
    s->sea__capacity = count > 0 ? count : 0;
    s->sea__bounded = true;
}

void sea_semaphore_destroy(sea_semaphore *s) {
    sea__waitlist_fail_all(&s->sea__waiters, SEA_EBROKEN, "semaphore destroyed");
}

/* Serves the line from its head while the head's request fits. */
static void serve(sea_semaphore *s) {
    struct sea__waiter *w;
    while ((w = sea__waitlist_first(&s->sea__waiters)) && w->n <= s->sea__count) {
        s->sea__count -= w->n;
        sea__waiter_wake(w, (sea_value){.i = w->n});
    }
}
static void on_cancelled(struct sea__waitlist *l, void *owner) {
    (void)l;
    serve(owner);
}

static sea_future wait_common(sea_semaphore *s, int64_t n, sea_time timeout, sea_abort_source *as) {
    if (n < 0)
        return sea_failed(-EINVAL, "semaphore wait for a negative number of units");
    if (s->sea__broken)
        return sea_failed(s->sea__broken, s->sea__broken_msg);
    if (s->sea__bounded && n > s->sea__capacity)
        return sea_failed_fmt(-EINVAL, "semaphore wait for %lld units, more than the %lld it can ever hold",
                              (long long)n, (long long)s->sea__capacity);
    if (!sea__waitlist_first(&s->sea__waiters) && s->sea__count >= n) {
        s->sea__count -= n;
        return sea_ready_int(n);
    }
    if (as && sea_abort_requested(as))
        return sea_failed(sea_abort_error(as), "aborted");
    sea_future f;
    struct sea__waiter *w = sea__waiter_add(&s->sea__waiters, n, &f, on_cancelled, s);
    if (!w)
        return f;
    if (timeout >= 0)
        sea__waiter_set_timeout(w, timeout, "semaphore wait timed out");
    if (as)
        sea__waiter_set_abort(w, as);
    return f;
}
sea_future sea_semaphore_wait(sea_semaphore *s, int64_t n) {
    return wait_common(s, n, -1, NULL);
}
sea_future sea_semaphore_wait_for(sea_semaphore *s, int64_t n, sea_time timeout) {
    return wait_common(s, n, timeout < 0 ? 0 : timeout, NULL);
}
sea_future sea_semaphore_wait_abortable(sea_semaphore *s, int64_t n, sea_abort_source *as) {
    return wait_common(s, n, -1, as);
}
bool sea_semaphore_try_wait(sea_semaphore *s, int64_t n) {
    if (n < 0 || s->sea__broken || sea__waitlist_first(&s->sea__waiters) || s->sea__count < n)
        return false;
    s->sea__count -= n;
    return true;
}

void sea_semaphore_signal(sea_semaphore *s, int64_t n) {
    if (n <= 0)
        return;
    s->sea__count += n;
    if (sea__waitlist_first(&s->sea__waiters))
        serve(s);
}

void sea_semaphore_consume(sea_semaphore *s, int64_t n) {
    if (n > 0)
        s->sea__count -= n;
}
void sea_semaphore_broken(sea_semaphore *s, int err, const char *static_msg) {
    s->sea__broken = err < 0 ? err : SEA_EBROKEN;
    s->sea__broken_msg = static_msg ? static_msg : "semaphore broken";
    sea__waitlist_fail_all(&s->sea__waiters, s->sea__broken, s->sea__broken_msg);
}
int64_t sea_semaphore_available(const sea_semaphore *s) {
    return s->sea__count;
}
size_t sea_semaphore_waiters(const sea_semaphore *s) {
    return s->sea__waiters.sea__count;
}
/* ---- units ---- */
static void units_box_release(sea_box *box) {
    sea_semaphore_units_release((sea_semaphore_units *)box);
}
struct units_req {
    sea_semaphore *s;
    int64_t n;
};

static sea_future make_units(struct units_req *r, sea_future *in) {
    if (sea_future_failed(in))
        return sea_future_move(in);
    sea_semaphore_units *u = malloc(sizeof(*u));
    if (!u) {
        sea_semaphore_signal(r->s, r->n);
        return sea_failed(-ENOMEM, "out of memory making semaphore units");
    }
    u->sea__box.release = units_box_release;
    u->sea__sem = r->s;
    u->sea__n = r->n;
    return sea_ready_box(&u->sea__box);
}

sea_future sea_semaphore_get_units(sea_semaphore *s, int64_t n) {
    return sea_then_wrapped(sea_semaphore_wait(s, n), make_units, (struct units_req){s, n});
}

int64_t sea_semaphore_units_count(const sea_semaphore_units *u) {
    return u->sea__n;
}

void sea_semaphore_units_return(sea_semaphore_units *u, int64_t n) {
    if (n < 0 || n > u->sea__n)
        sea__panic("returning %lld semaphore units from an object holding %lld", (long long)n,
                   (long long)u->sea__n);
    u->sea__n -= n;
    sea_semaphore_signal(u->sea__sem, n);
}

void sea_semaphore_units_release(sea_semaphore_units *u) {
    if (!u)
        return;
    sea_semaphore_signal(u->sea__sem, u->sea__n);
    free(u);
}
/* ---- with_semaphore ---- */
struct give_back {
    sea_semaphore *s;
    int64_t n;
};

static sea_future give_back(struct give_back *g) {
    sea_semaphore_signal(g->s, g->n);
    return sea_ready();
}
static sea_future run_holding(sea_semaphore *s, int64_t n, sea__fnptr fn, void *cap) {
    sea_future r = sea__call(fn, cap);
    sea__future_settle(&r);
    bool waiting = !sea_future_available(&r);
    sea_future out = sea_finally(r, give_back, (struct give_back){s, n});
    if (waiting && sea_future_failed(&out) && sea_future_error(&out) == -ENOMEM)
        sea_semaphore_signal(s, n); /* no memory to wait for the work: the units cannot stay out forever */
    return out;
}
/* A wait that could not be served at once: the capture waits with it. */
struct held_call {
    struct sea__owned owned; /* freed at shard stop if the wait never ends */
    sea_semaphore *s;
    int64_t n;
    sea__fnptr fn;
    bool has_cap;
    _Alignas(max_align_t) unsigned char cap[];
};
static sea_future held_go(struct held_call **cp, sea_future *in) {
    struct held_call *c = *cp;
    sea_future r;
    if (sea_future_failed(in))
        r = sea_future_move(in);
    else
        r = run_holding(c->s, c->n, c->fn, c->has_cap ? c->cap : NULL);
    sea__owned_remove(&c->owned);
    free(c);
    return r;
}

static void held_release(struct sea__owned *o) {
    free(sea__container_of(o, struct held_call, owned));
}

sea_future sea__with_semaphore(sea_semaphore *s, int64_t n, sea__fnptr fn, void *cap, size_t capsz) {
    if (sea_fiber_self()) {
        /* From a fiber: wait, run fn and wait for it, all in this fiber (the capture stays where it is). */
        sea_future w = sea_await(sea_semaphore_wait(s, n));
        if (sea_future_failed(&w))
            return w;
        sea_future r = sea_await(sea__call(fn, cap));
        sea_semaphore_signal(s, n);
        return r;
    }
    if (sea_semaphore_try_wait(s, n))
        return run_holding(s, n, fn, cap);
    struct held_call *c = malloc(sizeof(*c) + capsz);
    if (!c)
        return sea_failed(-ENOMEM, "out of memory waiting on a semaphore");
    c->s = s;
    c->n = n;
    c->fn = fn;
    c->has_cap = cap != NULL;
    if (cap)
        memcpy(c->cap, cap, capsz);
    sea__owned_add(&c->owned, held_release);
    return sea_then_wrapped(sea_semaphore_wait(s, n), held_go, c);
}
