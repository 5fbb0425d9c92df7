/*
 * test_sync.c - semaphores, gates, reader-writer locks, condition variables
 * and abort sources (sea/semaphore.h, gate.h, rwlock.h, condvar.h, abort.h).
 *
 * Semaphores: waits served at once and in line, strict FIFO (a big waiter is
 * not overtaken by later small ones), try_wait, timeouts (and the waiter
 * behind a timed-out head is served), aborts, breaking, bounded capacity,
 * units objects (released, returned in part, dropped), with_semaphore giving
 * units back however the work ends, destroy.  Gates: close waits for the last
 * leave, entering a closed gate fails, check, with_gate, closing twice.
 * rwlocks: readers share, writers exclude, a waiting writer holds back later
 * readers.  Condition variables: signal wakes one in order, broadcast all,
 * predicates, timeouts, aborts, breaking.  Abort sources: subscriptions in
 * order, unsubscribe, late subscribers, abortable sleeps and fiber waits.
 */
#include "check.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Records the order in which waits complete. */
struct order {
    int n;
    int seq[32];
};

struct tag {
    struct order *o;
    int id;
};

static sea_future record(struct tag *t) {
    t->o->seq[t->o->n++] = t->id;
    return sea_ready();
}

/* ---- semaphores ---- */

FIBER_CASE(t_semaphore_basics) {
    sea_semaphore s;
    sea_semaphore_init(&s, 3);
    sea_future f = sea_semaphore_wait(&s, 2);
    CHECK(sea_future_available(&f)); /* served at once, no allocation */
    sea_future_detach(f);
    CHECK_EQ(sea_semaphore_available(&s), 1);
    CHECK(!sea_semaphore_try_wait(&s, 2));
    CHECK(sea_semaphore_try_wait(&s, 1));
    CHECK_EQ(sea_semaphore_available(&s), 0);
    /* A waiter, then units: it is served. */
    struct order o = {0};
    sea_future w = sea_then(sea_semaphore_wait(&s, 2), record, (struct tag){&o, 1});
    CHECK_EQ(sea_semaphore_waiters(&s), 1);
    sea_semaphore_signal(&s, 1);
    CHECK_EQ(sea_semaphore_waiters(&s), 1);
    sea_semaphore_signal(&s, 1);
    CHECK_EQ(sea_semaphore_waiters(&s), 0);
    CHECK_EQ(sea_test_await_err(w, NULL), 0);
    CHECK_EQ(o.n, 1);
    CHECK_EQ(sea_test_await_err(sea_semaphore_wait(&s, -1), NULL), -EINVAL);
    CHECK_EQ(sea_test_await_err(sea_semaphore_wait(&s, 0), NULL), 0);
    sea_semaphore_destroy(&s);
    return sea_ready();
}

FIBER_CASE(t_semaphore_fifo) {
    sea_semaphore s;
    sea_semaphore_init(&s, 0);
    struct order o = {0};
    sea_future big = sea_then(sea_semaphore_wait(&s, 5), record, (struct tag){&o, 1});
    sea_future small = sea_then(sea_semaphore_wait(&s, 1), record, (struct tag){&o, 2});
    /* Enough for the small one, not the big one: the small one still waits its turn. */
    sea_semaphore_signal(&s, 3);
    CHECK(!sea_semaphore_try_wait(&s, 1));
    sea_future_detach(sea_await(sea_sleep(SEA_MSEC(1))));
    CHECK_EQ(o.n, 0);
    CHECK_EQ(sea_semaphore_waiters(&s), 2);
    sea_semaphore_signal(&s, 3); /* 6: both */
    CHECK_EQ(sea_test_await_err(big, NULL), 0);
    CHECK_EQ(sea_test_await_err(small, NULL), 0);
    CHECK_EQ(o.n, 2);
    CHECK_EQ(o.seq[0], 1);
    CHECK_EQ(o.seq[1], 2);
    CHECK_EQ(sea_semaphore_available(&s), 0);
    return sea_ready();
}

FIBER_CASE(t_semaphore_timeout_and_abort) {
    sea_semaphore s;
    sea_semaphore_init(&s, 1);
    struct order o = {0};
    /* The head (wants 5) times out; the one behind it (wants 1) is then served from what is there. */
    sea_future head = sea_semaphore_wait_for(&s, 5, SEA_MSEC(2));
    sea_future next = sea_then(sea_semaphore_wait(&s, 1), record, (struct tag){&o, 2});
    sea_future r = sea_await(head);
    CHECK_EQ(sea_future_error(&r), -ETIMEDOUT);
    CHECK_STREQ(sea_future_message(&r), "semaphore wait timed out");
    sea_future_detach(r);
    CHECK_EQ(sea_test_await_err(next, NULL), 0);
    CHECK_EQ(o.n, 1);
    /* Served in time: no timeout. */
    sea_future in_time = sea_semaphore_wait_for(&s, 1, SEA_SEC(5));
    sea_semaphore_signal(&s, 1);
    CHECK_EQ(sea_test_await_err(in_time, NULL), 0);
    /* Aborts: a waiting one, and one after the abort. */
    sea_abort_source as;
    sea_abort_source_init(&as);
    sea_future ab = sea_semaphore_wait_abortable(&s, 1, &as);
    CHECK_EQ(sea_semaphore_waiters(&s), 1);
    sea_abort_source_request(&as, 0);
    CHECK_EQ(sea_semaphore_waiters(&s), 0);
    CHECK_EQ(sea_test_await_err(ab, NULL), SEA_EABORTED);
    CHECK_EQ(sea_test_await_err(sea_semaphore_wait_abortable(&s, 1, &as), NULL), SEA_EABORTED);
    return sea_ready();
}

FIBER_CASE(t_semaphore_broken_and_bounded) {
    sea_semaphore s;
    sea_semaphore_init(&s, 0);
    sea_future a = sea_semaphore_wait(&s, 1);
    sea_future b = sea_semaphore_wait(&s, 2);
    sea_semaphore_broken(&s, -ESHUTDOWN, "service stopping");
    sea_future r = sea_await(a);
    CHECK_EQ(sea_future_error(&r), -ESHUTDOWN);
    CHECK_STREQ(sea_future_message(&r), "service stopping");
    sea_future_detach(r);
    CHECK_EQ(sea_test_await_err(b, NULL), -ESHUTDOWN);
    CHECK_EQ(sea_test_await_err(sea_semaphore_wait(&s, 1), NULL), -ESHUTDOWN);
    sea_semaphore_signal(&s, 1); /* still allowed */
    /* The tutorial's 1 MB limit: a wait for 2,000,000 units fails at once instead of never resolving. */
    sea_semaphore limit;
    sea_semaphore_init_bounded(&limit, 1000000);
    r = sea_semaphore_wait(&limit, 2000000);
    CHECK(sea_future_available(&r));
    CHECK_EQ(sea_future_error(&r), -EINVAL);
    CHECK_STREQ(sea_future_message(&r), "semaphore wait for 2000000 units, more than the 1000000 it can ever hold");
    sea_future_detach(r);
    CHECK_EQ(sea_test_await_err(sea_semaphore_wait(&limit, 1000000), NULL), 0);
    sea_semaphore zero;
    sea_semaphore_init_bounded(&zero, 0); /* holds nothing, ever: any wait for units fails at once */
    r = sea_semaphore_wait(&zero, 1);
    CHECK(sea_future_available(&r));
    CHECK_EQ(sea_future_error(&r), -EINVAL);
    sea_future_detach(r);
    /* destroy fails the waiters. */
    sea_future d = sea_semaphore_wait(&limit, 1);
    sea_semaphore_destroy(&limit);
    CHECK_EQ(sea_test_await_err(d, NULL), SEA_EBROKEN);
    return sea_ready();
}

struct work {
    sea_semaphore *s;
    int *running, *peak;
    bool fail;
};

static sea_future work_done(struct work *w) {
    --*w->running;
    return w->fail ? sea_failed(-EIO, "work failed") : sea_ready_int(7);
}

static sea_future do_work(struct work *w) {
    if (++*w->running > *w->peak)
        *w->peak = *w->running;
    return sea_then(sea_sleep(SEA_USEC(200)), work_done, *w);
}

/* Twenty calls from a continuation (not a fiber): each runs fn as a continuation, at most three at a time. */
struct twenty {
    sea_semaphore *s;
    int *running, *peak;
    sea_future *fs;
};
static sea_future start_twenty(struct twenty *t) {
    CHECK(sea_fiber_self() == NULL);
    for (int i = 0; i < 20; i++)
        t->fs[i] = sea_with_semaphore(t->s, 1, do_work, (struct work){t->s, t->running, t->peak, i % 5 == 0});
    return sea_ready();
}

/* The same work in fiber style: it waits with sea_await, so it must run in the calling fiber. */
static sea_future fiber_work(struct work *w) {
    CHECK(sea_fiber_self() != NULL);
    if (++*w->running > *w->peak)
        *w->peak = *w->running;
    int err = sea_await_value(sea_sleep(SEA_USEC(200)), NULL);
    --*w->running;
    if (err)
        return sea_failed(err, "sleep failed");
    return w->fail ? sea_failed(-EIO, "work failed") : sea_ready_int(7);
}
static sea_future worker_fiber(struct work *w) {
    sea_future r = sea_with_semaphore(w->s, 1, fiber_work, *w);
    CHECK(sea_future_available(&r)); /* waited for here, in this fiber */
    return r;
}

static int count_results(sea_future *fs, int n) {
    sea_future_detach(sea_await(sea_when_all(fs, (size_t)n)));
    int failed = 0;
    for (int i = 0; i < n; i++) {
        if (sea_future_failed(&fs[i]))
            failed += sea_future_error(&fs[i]) == -EIO;
        else
            CHECK_EQ(sea_future_value(&fs[i]).i, 7);
        sea_future_detach(sea_future_move(&fs[i]));
    }
    return failed;
}

FIBER_CASE(t_with_semaphore_and_units) {
    sea_semaphore s;
    sea_semaphore_init(&s, 3);
    int running = 0, peak = 0;
    sea_future fs[20];
    sea_future_detach(
        sea_await(sea_then(sea_test_later(sea_ready()), start_twenty, (struct twenty){&s, &running, &peak, fs})));
    CHECK_EQ(count_results(fs, 20), 4);
    CHECK_EQ(peak, 3);
    CHECK_EQ(sea_semaphore_available(&s), 3); /* every unit back, failures included */
    /* Fiber style: twenty fibers, each waiting in sea_with_semaphore and in its function. */
    peak = 0;
    for (int i = 0; i < 20; i++)
        fs[i] = sea_fiber_start(worker_fiber, (struct work){&s, &running, &peak, i % 5 == 0});
    CHECK_EQ(count_results(fs, 20), 4);
    CHECK_EQ(peak, 3);
    CHECK_EQ(sea_semaphore_available(&s), 3);
    /* From a fiber, a wait that fails never runs the function. */
    sea_semaphore_broken(&s, -ECANCELED, "closed for the test");
    sea_future r = sea_with_semaphore(&s, 1, fiber_work, (struct work){&s, &running, &peak, false});
    CHECK(sea_future_available(&r));
    CHECK_EQ(sea_future_error(&r), -ECANCELED);
    sea_future_detach(r);
    CHECK_EQ(running, 0);
    sea_semaphore_init(&s, 3);
    /* Units objects. */
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_semaphore_get_units(&s, 2), &v), 0);
    sea_semaphore_units *u = v.ptr;
    CHECK_EQ(sea_semaphore_units_count(u), 2);
    CHECK_EQ(sea_semaphore_available(&s), 1);
    sea_semaphore_units_return(u, 1);
    CHECK_EQ(sea_semaphore_available(&s), 2);
    sea_semaphore_units_release(u);
    CHECK_EQ(sea_semaphore_available(&s), 3);
    /* Dropped without being taken: the units come back. */
    sea_future_detach(sea_await(sea_semaphore_get_units(&s, 3)));
    CHECK_EQ(sea_semaphore_available(&s), 3);
    /* A pending get_units, then dropped after it resolves. */
    sea_semaphore_consume(&s, 3);
    sea_future pend = sea_semaphore_get_units(&s, 2);
    sea_semaphore_signal(&s, 3);
    sea_future_detach(sea_await(pend));
    CHECK_EQ(sea_semaphore_available(&s), 3);
    return sea_ready();
}

/* ---- gates ---- */

struct gate_op {
    sea_gate *g;
    int *done;
};

static sea_future op_done(struct gate_op *o) {
    ++*o->done;
    return sea_ready();
}

static sea_future gate_op(struct gate_op *o) {
    return sea_then(sea_sleep(SEA_MSEC(2)), op_done, *o);
}

struct three_ops {
    sea_gate *g;
    int *done;
    sea_future *ops;
};
static sea_future start_three(struct three_ops *t) {
    CHECK(sea_fiber_self() == NULL);
    for (int i = 0; i < 3; i++)
        t->ops[i] = sea_with_gate(t->g, gate_op, (struct gate_op){t->g, t->done});
    return sea_ready();
}

/* In fiber style: waits inside the gate. */
static sea_future fiber_gate_op(struct gate_op *o) {
    CHECK(sea_gate_count(o->g) >= 1); /* inside the gate while it runs */
    int err = sea_await_value(sea_sleep(SEA_MSEC(2)), NULL);
    ++*o->done;
    return err ? sea_failed(err, "sleep failed") : sea_ready_int(5);
}

FIBER_CASE(t_gate) {
    sea_gate g = SEA_GATE_INIT;
    int done = 0;
    /* From a fiber: the function runs in it, and sea_with_gate returns when it is done. */
    sea_future in_fiber = sea_with_gate(&g, fiber_gate_op, (struct gate_op){&g, &done});
    CHECK(sea_future_available(&in_fiber));
    CHECK_EQ(sea_future_value(&in_fiber).i, 5);
    CHECK_EQ(done, 1);
    CHECK_EQ(sea_gate_count(&g), 0);
    done = 0;
    /* In the background, from a fiber: fibers started in the gate. */
    sea_future bg[2];
    for (int i = 0; i < 2; i++)
        bg[i] = sea_fiber_start_in(&g, fiber_gate_op, (struct gate_op){&g, &done});
    CHECK_EQ(sea_gate_count(&g), 2);
    sea_future_detach(sea_await(sea_when_all(bg, 2)));
    for (int i = 0; i < 2; i++)
        sea_future_detach(sea_future_move(&bg[i]));
    CHECK_EQ(done, 2);
    CHECK_EQ(sea_gate_count(&g), 0);
    done = 0;
    /* From continuations: the functions run at once and the gate is left when their futures resolve. */
    sea_future ops[3];
    sea_future_detach(sea_await(sea_then(sea_test_later(sea_ready()), start_three, (struct three_ops){&g, &done, ops})));
    CHECK_EQ(sea_gate_count(&g), 3);
    CHECK_EQ(sea_gate_enter(&g), 0); /* a manual one too */
    CHECK_EQ(sea_gate_check(&g), 0);
    sea_future closing = sea_gate_close(&g);
    CHECK(!sea_future_available(&closing));
    CHECK(sea_gate_is_closed(&g));
    CHECK_EQ(sea_gate_enter(&g), SEA_EGATE_CLOSED);
    CHECK_EQ(sea_gate_check(&g), SEA_EGATE_CLOSED);
    sea_future refused = sea_with_gate(&g, gate_op, (struct gate_op){&g, &done});
    CHECK(sea_future_available(&refused));
    CHECK_EQ(sea_future_error(&refused), SEA_EGATE_CLOSED);
    CHECK_STREQ(sea_strerror(SEA_EGATE_CLOSED), "gate closed");
    sea_future_detach(refused);
    refused = sea_fiber_start_in(&g, fiber_gate_op, (struct gate_op){&g, &done});
    CHECK_EQ(sea_future_error(&refused), SEA_EGATE_CLOSED);
    sea_future_detach(refused);
    CHECK_EQ(sea_test_await_err(sea_gate_close(&g), NULL), -EALREADY);
    sea_future_detach(sea_await(sea_when_all(ops, 3)));
    for (int i = 0; i < 3; i++)
        sea_future_detach(sea_future_move(&ops[i]));
    CHECK_EQ(done, 3);
    CHECK(!sea_future_available(&closing)); /* the manual enter is still inside */
    sea_gate_leave(&g);
    CHECK_EQ(sea_test_await_err(closing, NULL), 0);
    /* A gate with nobody inside closes at once. */
    sea_gate h;
    sea_gate_init(&h);
    sea_future c = sea_gate_close(&h);
    CHECK(sea_future_available(&c) && !sea_future_failed(&c));
    sea_future_detach(c);
    return sea_ready();
}

static void leave_unbalanced(void *arg) {
    (void)arg;
    sea_gate g;
    sea_gate_init(&g);
    sea_gate_leave(&g);
}

static sea_future t_gate_leave_without_enter(void) {
    static struct sea_test_child child;
    sea_test_fork(leave_unbalanced, NULL, &child);
    CHECK(sea_test_killed_by(&child, SIGABRT));
    CHECK_CONTAINS(child.err, "sea_gate_leave without a matching sea_gate_enter");
    return sea_ready();
}

/* ---- rwlocks ---- */

struct lock_log {
    sea_rwlock *l;
    struct order *o;
    int id;
};

static sea_future read_done(struct lock_log *x) {
    x->o->seq[x->o->n++] = x->id;
    sea_rwlock_read_unlock(x->l);
    return sea_ready();
}

static sea_future write_done(struct lock_log *x) {
    x->o->seq[x->o->n++] = x->id;
    sea_rwlock_write_unlock(x->l);
    return sea_ready();
}

static sea_future reader(struct lock_log *x) {
    return sea_then(sea_sleep(SEA_MSEC(2)), read_done, *x);
}

static sea_future writer(struct lock_log *x) {
    CHECK(!sea_rwlock_try_read_lock(x->l)); /* exclusive */
    return sea_then(sea_sleep(SEA_MSEC(1)), write_done, *x);
}

FIBER_CASE(t_rwlock) {
    sea_rwlock l;
    sea_rwlock_init(&l);
    struct order o = {0};
    /* Two readers share; a writer waits for them; a reader after the writer waits for the writer. */
    sea_future fs[4];
    fs[0] = sea_then(sea_rwlock_read_lock(&l), reader, (struct lock_log){&l, &o, 1});
    fs[1] = sea_then(sea_rwlock_read_lock(&l), reader, (struct lock_log){&l, &o, 2});
    fs[2] = sea_then(sea_rwlock_write_lock(&l), writer, (struct lock_log){&l, &o, 3});
    fs[3] = sea_then(sea_rwlock_read_lock(&l), reader, (struct lock_log){&l, &o, 4});
    CHECK(sea_rwlock_locked(&l));
    CHECK(!sea_rwlock_try_write_lock(&l));
    sea_future_detach(sea_await(sea_when_all(fs, 4)));
    for (int i = 0; i < 4; i++) {
        CHECK(!sea_future_failed(&fs[i]));
        sea_future_detach(sea_future_move(&fs[i]));
    }
    CHECK_EQ(o.n, 4);
    CHECK_EQ(o.seq[2], 3); /* the writer came after both first readers */
    CHECK_EQ(o.seq[3], 4); /* and the late reader after the writer */
    CHECK(!sea_rwlock_locked(&l));
    CHECK(sea_rwlock_try_write_lock(&l));
    sea_rwlock_write_unlock(&l);
    sea_rwlock_destroy(&l);
    return sea_ready();
}

/* ---- condition variables ---- */

struct box_count {
    int *n;
};

static bool positive(struct box_count *b) {
    return *b->n > 0;
}

FIBER_CASE(t_condvar) {
    sea_condvar cv;
    sea_condvar_init(&cv);
    struct order o = {0};
    sea_future a = sea_then(sea_condvar_wait(&cv), record, (struct tag){&o, 1});
    sea_future b = sea_then(sea_condvar_wait(&cv), record, (struct tag){&o, 2});
    sea_future c = sea_then(sea_condvar_wait(&cv), record, (struct tag){&o, 3});
    CHECK_EQ(sea_condvar_waiters(&cv), 3);
    sea_condvar_signal(&cv); /* the first in line */
    CHECK_EQ(sea_test_await_err(a, NULL), 0);
    CHECK_EQ(o.n, 1);
    CHECK_EQ(o.seq[0], 1);
    sea_condvar_broadcast(&cv);
    CHECK_EQ(sea_test_await_err(b, NULL), 0);
    CHECK_EQ(sea_test_await_err(c, NULL), 0);
    CHECK_EQ(o.n, 3);
    sea_condvar_signal(&cv); /* nobody waits: lost */
    /* A predicate: checked at once, then after every wake-up. */
    int n = 0;
    sea_future p = sea_condvar_wait_until(&cv, positive, (struct box_count){&n});
    sea_condvar_broadcast(&cv); /* wakes, predicate false: waits again */
    sea_future_detach(sea_await(sea_sleep(SEA_MSEC(1))));
    CHECK(!sea_future_available(&p));
    n = 1;
    sea_condvar_signal(&cv);
    CHECK_EQ(sea_test_await_err(p, NULL), 0);
    sea_future q = sea_condvar_wait_until(&cv, positive, (struct box_count){&n});
    CHECK(sea_future_available(&q));
    sea_future_detach(q);
    /* Timeout, abort, broken. */
    sea_future r = sea_await(sea_condvar_wait_for(&cv, SEA_MSEC(1)));
    CHECK_EQ(sea_future_error(&r), -ETIMEDOUT);
    CHECK_STREQ(sea_future_message(&r), "condition variable wait timed out");
    sea_future_detach(r);
    sea_abort_source as;
    sea_abort_source_init(&as);
    sea_future ab = sea_condvar_wait_abortable(&cv, &as);
    sea_abort_source_request(&as, -ECANCELED);
    CHECK_EQ(sea_test_await_err(ab, NULL), -ECANCELED);
    sea_future w = sea_condvar_wait(&cv);
    sea_condvar_broken(&cv, 0, NULL);
    CHECK_EQ(sea_test_await_err(w, NULL), SEA_EBROKEN);
    CHECK_EQ(sea_test_await_err(sea_condvar_wait(&cv), NULL), SEA_EBROKEN);
    sea_condvar_destroy(&cv);
    return sea_ready();
}

/* ---- abort sources ---- */

struct sub_rec {
    sea_abort_subscription sub;
    struct order *o;
    int id;
    int err;
};

static void on_abort(sea_abort_subscription *sub, int err) {
    struct sub_rec *r = (struct sub_rec *)sub;
    r->o->seq[r->o->n++] = r->id;
    r->err = err;
}

FIBER_CASE(t_abort_source) {
    sea_abort_source as;
    sea_abort_source_init(&as);
    struct order o = {0};
    struct sub_rec s1 = {.o = &o, .id = 1}, s2 = {.o = &o, .id = 2}, s3 = {.o = &o, .id = 3};
    CHECK_EQ(sea_abort_subscribe(&as, &s1.sub, on_abort), 0);
    CHECK_EQ(sea_abort_subscribe(&as, &s2.sub, on_abort), 0);
    CHECK_EQ(sea_abort_subscribe(&as, &s3.sub, on_abort), 0);
    sea_abort_unsubscribe(&s2.sub);
    sea_abort_unsubscribe(&s2.sub); /* twice: harmless */
    CHECK(!sea_abort_requested(&as));
    CHECK_EQ(sea_abort_error(&as), 0);
    /* Sleeps and fiber waits. */
    sea_future sl = sea_sleep_abortable(SEA_SEC(60), &as);
    sea_promise never;
    sea_promise_init(&never);
    sea_future pending = sea_promise_get_future(&never);
    sea_future_detach(sea_sleep(0)); /* let the fiber run on after the request below */
    sea_abort_source_request(&as, 0);
    CHECK_EQ(o.n, 2);
    CHECK_EQ(o.seq[0], 1);
    CHECK_EQ(o.seq[1], 3);
    CHECK_EQ(s1.err, SEA_EABORTED);
    CHECK_EQ(sea_test_await_err(sl, NULL), SEA_EABORTED);
    sea_future aw = sea_await_abortable(pending, &as); /* already aborted: returns at once */
    CHECK_EQ(sea_future_error(&aw), SEA_EABORTED);
    sea_future_detach(aw);
    sea_promise_set_void(&never); /* resolve it: a broken promise would be reported as an ignored failure */
    sea_promise_release(&never);
    /* Late: subscribing reports the error; a second request changes nothing. */
    struct sub_rec s4 = {.o = &o, .id = 4};
    CHECK_EQ(sea_abort_subscribe(&as, &s4.sub, on_abort), SEA_EABORTED);
    sea_abort_source_request(&as, -EIO);
    CHECK_EQ(sea_abort_error(&as), SEA_EABORTED);
    CHECK_EQ(o.n, 2);
    CHECK_EQ(sea_test_await_err(sea_sleep_abortable(SEA_SEC(1), &as), NULL), SEA_EABORTED);
    return sea_ready();
}

struct stopper {
    sea_abort_source *as;
};

static sea_future stop_it(struct stopper *s) {
    sea_abort_source_request(s->as, -ECANCELED);
    return sea_ready();
}

FIBER_CASE(t_abort_fiber_wait) {
    sea_abort_source as;
    sea_abort_source_init(&as);
    /* Waiting in a fiber for something that never comes, until another task aborts. */
    sea_promise never;
    sea_promise_init(&never);
    sea_future_detach(sea_then(sea_sleep(SEA_MSEC(2)), stop_it, (struct stopper){&as}));
    sea_time t0 = sea_now();
    sea_future r = sea_await_abortable(sea_promise_get_future(&never), &as);
    CHECK_EQ(sea_future_error(&r), -ECANCELED);
    sea_future_detach(r);
    CHECK(sea_now() - t0 < SEA_SEC(1));
    sea_promise_set_int(&never, 5); /* the late result is dropped quietly */
    sea_promise_release(&never);
    /* Not aborted: the result comes through. */
    sea_abort_source other;
    sea_abort_source_init(&other);
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_abortable(sea_test_later(sea_ready_int(9)), &other), &v), 0);
    CHECK_EQ(v.i, 9);
    sea_future_detach(sea_await(sea_sleep(SEA_MSEC(1))));
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_semaphore_basics),
    SEA_TEST(t_semaphore_fifo),
    SEA_TEST(t_semaphore_timeout_and_abort),
    SEA_TEST(t_semaphore_broken_and_bounded),
    SEA_TEST(t_with_semaphore_and_units),
    SEA_TEST(t_gate),
    SEA_TEST(t_gate_leave_without_enter),
    SEA_TEST(t_rwlock),
    SEA_TEST(t_condvar),
    SEA_TEST(t_abort_source),
    SEA_TEST(t_abort_fiber_wait),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
