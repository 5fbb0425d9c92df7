/*
 * test_promise.c - promises (sea/promise.h).
 *
 * Resolving before and after the future is taken, with every kind of value
 * and error; forwarding ready and pending futures; release without resolving
 * (SEA_EBROKEN_PROMISE reaches the waiter); a second get_future
 * (SEA_EFUTURE_USED); resolution never runs continuations synchronously and
 * queues them in order; sea_promise_resolved; reuse after init.
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* ---- helpers ---- */


#define EXPECT_VALUE(f, val) sea_then_wrapped((f), expect_value, (struct expect){.v = (val)})
#define EXPECT_ERROR(f, e, m) sea_then_wrapped((f), expect_error, (struct expect){.err = (e), .msg = (m)})

/* Appends its id to a log when it runs. */
static int order_log[64];
static int order_n;
struct mark {
    int id;
};
static sea_future mark_wrapped(struct mark *m, sea_future *in) {
    if (order_n < 64)
        order_log[order_n++] = m->id;
    return sea_future_move(in);
}

/* ---- resolving ---- */

static sea_future t_set_before_get_future(void) {
    sea_promise p;
    sea_promise_init(&p);
    CHECK(!sea_promise_resolved(&p));
    sea_promise_set_int(&p, 42);
    CHECK(sea_promise_resolved(&p));
    sea_future f = sea_promise_get_future(&p);
    CHECK(sea_future_available(&f));
    CHECK(!sea_future_failed(&f));
    CHECK_EQ(sea_future_value(&f).i, 42);
    sea_promise_release(&p);

    /* An error set early. */
    sea_promise_init(&p);
    sea_promise_set_error(&p, -EIO, "early");
    sea_future g = sea_promise_get_future(&p);
    sea_promise_release(&p);
    CHECK(sea_future_available(&g));
    CHECK_EQ(sea_future_error(&g), -EIO);
    CHECK_STREQ(sea_future_message(&g), "early");
    return sea_ready();
}

static sea_future t_set_after_get_future(void) {
    sea_promise p;
    sea_promise_init(&p);
    sea_future f = sea_promise_get_future(&p);
    CHECK(!sea_future_available(&f));
    CHECK(!sea_promise_resolved(&p));
    sea_promise_set_int(&p, -9);
    CHECK(sea_promise_resolved(&p));
    sea_promise_release(&p);
    return EXPECT_VALUE(f, -9);
}

static sea_future t_set_kinds(void) {
    sea_promise ps[7];
    sea_future fs[7];
    for (int i = 0; i < 7; i++) {
        sea_promise_init(&ps[i]);
        fs[i] = sea_promise_get_future(&ps[i]);
    }
    static int obj;
    sea_promise_set_void(&ps[0]);
    sea_promise_set_int(&ps[1], 1234567890123ll);
    sea_promise_set_ptr(&ps[2], &obj);
    sea_promise_set_value(&ps[3], (sea_value){.d = 1.5});
    sea_promise_set_error(&ps[4], -ENOSPC, "static");
    sea_promise_set_error_fmt(&ps[5], -ENOSPC, "fmt %s %d", "owned", 5);
    sea_promise_set_error(&ps[6], 5, NULL); /* a positive code becomes -EINVAL */
    /* A message that cannot be formatted: the code alone (see test_future's t_failed_fmt). */
    static const wchar_t unencodable[] = {0xe9, 0};
    sea_promise q;
    sea_promise_init(&q);
    sea_future fq = sea_promise_get_future(&q);
    sea_promise_set_error_fmt(&q, -ENOTSUP, "%ls", unencodable);
    sea_promise_release(&q);
    CHECK_EQ(sea_future_error(&fq), -ENOTSUP);
    CHECK(sea_future_message(&fq) == NULL);
    sea_future_detach(fq);
    for (int i = 0; i < 7; i++) {
        CHECK(sea_promise_resolved(&ps[i]));
        sea_promise_release(&ps[i]);
        CHECK(sea_future_available(&fs[i]));
    }
    CHECK_EQ(sea_future_value(&fs[0]).i, 0);
    CHECK_EQ(sea_future_value(&fs[1]).i, 1234567890123ll);
    CHECK(sea_future_value(&fs[2]).ptr == &obj);
    CHECK(sea_future_value(&fs[3]).d == 1.5);
    sea_future all = EXPECT_VALUE(fs[0], 0);
    all = sea_test_join(all, EXPECT_VALUE(fs[1], 1234567890123ll));
    all = sea_test_join(all, EXPECT_VALUE(fs[2], (int64_t)(intptr_t)&obj));
    sea_future_detach(fs[3]);
    all = sea_test_join(all, EXPECT_ERROR(fs[4], -ENOSPC, "static"));
    all = sea_test_join(all, EXPECT_ERROR(fs[5], -ENOSPC, "fmt owned 5"));
    all = sea_test_join(all, EXPECT_ERROR(fs[6], -EINVAL, NULL));
    return all;
}

static int box_released;
static sea_future take_box(struct expect *e, sea_value v) {
    struct sea_test_box *b = v.ptr;
    CHECK(b && b->payload == e->v);
    sea_test_box_free(b);
    return sea_ready();
}
static sea_future check_released(int *expected, sea_future *in) {
    CHECK_EQ(sea_future_error(in), 0);
    CHECK_EQ(box_released, *expected);
    return sea_ready();
}

static sea_future t_set_box(void) {
    box_released = 0;
    /* Taken by the waiter: not released. */
    sea_promise p;
    sea_promise_init(&p);
    sea_future f = sea_then(sea_promise_get_future(&p), take_box, (struct expect){.v = 1});
    sea_promise_set_box(&p, &sea_test_box_new(&box_released, 1)->box);
    sea_promise_release(&p);
    /* Set before the future was taken and never collected: released on release. */
    sea_promise q;
    sea_promise_init(&q);
    sea_promise_set_box(&q, &sea_test_box_new(&box_released, 2)->box);
    CHECK_EQ(box_released, 0);
    sea_promise_release(&q);
    CHECK_EQ(box_released, 1);
    /* The future was detached: released when it arrives. */
    sea_promise r;
    sea_promise_init(&r);
    sea_future_detach(sea_promise_get_future(&r));
    sea_promise_set_box(&r, &sea_test_box_new(&box_released, 3)->box);
    sea_promise_release(&r);
    return sea_then_wrapped(sea_test_join(f, sea_yield()), check_released, (int){2});
}

/* ---- forwarding ---- */

static sea_future t_forward_ready(void) {
    sea_promise p, q, r, s;
    sea_promise_init(&p);
    sea_promise_init(&q);
    sea_promise_init(&r);
    sea_promise_init(&s);
    /* Future taken first. */
    sea_future fp = sea_promise_get_future(&p);
    sea_promise_forward(&p, sea_ready_int(5));
    CHECK(sea_promise_resolved(&p));
    sea_future fq = sea_promise_get_future(&q);
    sea_promise_forward(&q, sea_failed_fmt(-EIO, "fwd %d", 1));
    /* Future taken after. */
    sea_promise_forward(&r, sea_ready_int(6));
    sea_future fr = sea_promise_get_future(&r);
    CHECK(sea_future_available(&fr));
    sea_promise_forward(&s, sea_failed(-EPERM, "fwd"));
    sea_future fs = sea_promise_get_future(&s);
    sea_promise_release(&p);
    sea_promise_release(&q);
    sea_promise_release(&r);
    sea_promise_release(&s);
    sea_future all = EXPECT_VALUE(fp, 5);
    all = sea_test_join(all, EXPECT_ERROR(fq, -EIO, "fwd 1"));
    all = sea_test_join(all, EXPECT_VALUE(fr, 6));
    return sea_test_join(all, EXPECT_ERROR(fs, -EPERM, "fwd"));
}

static sea_future t_forward_pending(void) {
    sea_promise p, q, r, s, t;
    sea_promise_init(&p);
    sea_promise_init(&q);
    sea_promise_init(&r);
    sea_promise_init(&s);
    sea_promise_init(&t);
    /* Future taken first, then a pending future forwarded. */
    sea_future fp = sea_promise_get_future(&p);
    sea_promise_forward(&p, sea_test_sleep_then(SEA_MSEC(1), sea_ready_int(7)));
    CHECK(sea_promise_resolved(&p));
    CHECK(!sea_future_available(&fp));
    /* Pending future forwarded before the future was taken. */
    sea_promise_forward(&q, sea_test_later(sea_ready_int(8)));
    sea_future fq = sea_promise_get_future(&q);
    CHECK(!sea_future_available(&fq));
    /* A pending failure. */
    sea_future fr = sea_promise_get_future(&r);
    sea_promise_forward(&r, sea_test_later(sea_failed_fmt(-ETIMEDOUT, "late %d", 9)));
    /* A chain of promises: t forwards s's future. */
    sea_future ft = sea_promise_get_future(&t);
    sea_promise_forward(&t, sea_promise_get_future(&s));
    sea_promise_set_int(&s, 10);
    /* A pending future that is already available when forwarded. */
    sea_promise u, v;
    sea_promise_init(&u);
    sea_promise_init(&v);
    sea_future fu = sea_promise_get_future(&u);
    sea_promise_set_int(&u, 11);
    sea_future fv = sea_promise_get_future(&v);
    sea_promise_forward(&v, fu);
    sea_promise_release(&p);
    sea_promise_release(&q);
    sea_promise_release(&r);
    sea_promise_release(&s);
    sea_promise_release(&t);
    sea_promise_release(&u);
    sea_promise_release(&v);
    sea_future all = EXPECT_VALUE(fp, 7);
    all = sea_test_join(all, EXPECT_VALUE(fq, 8));
    all = sea_test_join(all, EXPECT_ERROR(fr, -ETIMEDOUT, "late 9"));
    all = sea_test_join(all, EXPECT_VALUE(ft, 10));
    return sea_test_join(all, EXPECT_VALUE(fv, 11));
}

static sea_future t_forward_pending_never_taken(void) {
    /* Released without taking the future: the forwarded result is dropped (ASan: no leak). */
    box_released = 0;
    sea_promise p;
    sea_promise_init(&p);
    sea_promise_forward(&p, sea_test_later(sea_ready_box(&sea_test_box_new(&box_released, 1)->box)));
    sea_promise_release(&p);
    sea_promise q;
    sea_promise_init(&q);
    sea_future_detach(sea_promise_get_future(&q));
    sea_promise_forward(&q, sea_test_later(sea_failed_fmt(-EIO, "dropped %d", 1)));
    sea_promise_release(&q);
    return sea_then_wrapped(sea_sleep(SEA_MSEC(1)), check_released, (int){1});
}

/* ---- release ---- */

static sea_future t_release_unresolved_breaks_promise(void) {
    sea_promise p;
    sea_promise_init(&p);
    /* A waiter attached before the release. */
    sea_future f = sea_then_wrapped(sea_promise_get_future(&p), mark_wrapped, (struct mark){1});
    sea_promise_release(&p);
    CHECK(sea_promise_resolved(&p));
    sea_future all = EXPECT_ERROR(f, SEA_EBROKEN_PROMISE, NULL);
    /* The bare future, inspected after the release. */
    sea_promise q;
    sea_promise_init(&q);
    sea_future g = sea_promise_get_future(&q);
    sea_promise_release(&q);
    CHECK(sea_future_available(&g));
    CHECK(sea_future_failed(&g));
    all = sea_test_join(all, EXPECT_ERROR(g, SEA_EBROKEN_PROMISE, NULL));
    /* Released without ever handing out the future: nothing to break. */
    sea_promise r;
    sea_promise_init(&r);
    sea_promise_release(&r);
    return all;
}

static sea_future t_get_future_twice(void) {
    sea_promise p;
    sea_promise_init(&p);
    sea_future f = sea_promise_get_future(&p);
    sea_future g = sea_promise_get_future(&p);
    CHECK(sea_future_available(&g));
    CHECK(sea_future_failed(&g));
    CHECK_EQ(sea_future_error(&g), SEA_EFUTURE_USED);
    sea_promise_set_int(&p, 1);
    sea_promise_release(&p);
    /* Twice after an early resolution, too. */
    sea_promise q;
    sea_promise_init(&q);
    sea_promise_set_int(&q, 2);
    sea_future h = sea_promise_get_future(&q);
    sea_future i = sea_promise_get_future(&q);
    CHECK_EQ(sea_future_error(&i), SEA_EFUTURE_USED);
    sea_promise_release(&q);
    /* After a release. */
    sea_future j = sea_promise_get_future(&q);
    CHECK(sea_future_failed(&j));
    sea_future_detach(j);
    return sea_test_join(EXPECT_VALUE(f, 1), EXPECT_VALUE(h, 2));
}

static sea_future t_static_init_and_reuse(void) {
    static sea_promise sp = SEA_PROMISE_INIT;
    CHECK(!sea_promise_resolved(&sp));
    sea_future f = sea_promise_get_future(&sp);
    sea_promise_set_int(&sp, 1);
    sea_promise_release(&sp);
    /* Initialised again, the promise is as new. */
    sea_promise_init(&sp);
    CHECK(!sea_promise_resolved(&sp));
    sea_future g = sea_promise_get_future(&sp);
    CHECK(!sea_future_available(&g));
    sea_promise_set_int(&sp, 2);
    sea_promise_release(&sp);
    return sea_test_join(EXPECT_VALUE(f, 1), EXPECT_VALUE(g, 2));
}

/* ---- never synchronous, in order ---- */

static sea_future check_order(int *expected_n, sea_future *in) {
    CHECK_EQ(sea_future_error(in), 0);
    CHECK_EQ(order_n, *expected_n);
    /* Resolution order: p3 (set), p1 (forward), p2 (error), p4 (release), p0 (set). */
    static const int want[] = {3, 1, 2, 4, 0};
    for (int i = 0; i < 5 && i < order_n; i++)
        CHECK_EQ(order_log[i], want[i]);
    return sea_ready();
}

static sea_future t_resolution_never_synchronous(void) {
    order_n = 0;
    sea_promise p[5];
    sea_future f[5];
    for (int i = 0; i < 5; i++) {
        sea_promise_init(&p[i]);
        f[i] = sea_then_wrapped(sea_promise_get_future(&p[i]), mark_wrapped, (struct mark){i});
    }
    sea_promise_set_int(&p[3], 3);
    CHECK_EQ(order_n, 0);
    sea_promise_forward(&p[1], sea_ready_int(1));
    CHECK_EQ(order_n, 0);
    sea_promise_set_error(&p[2], -EIO, NULL);
    CHECK_EQ(order_n, 0);
    sea_promise_release(&p[4]); /* broken */
    CHECK_EQ(order_n, 0);
    sea_promise_set_int(&p[0], 0);
    for (int i = 0; i < 5; i++) {
        if (i != 4)
            sea_promise_release(&p[i]);
        CHECK(!sea_future_available(&f[i]));
    }
    CHECK_EQ(order_n, 0);
    sea_future all = sea_ready();
    all = sea_test_join(all, EXPECT_VALUE(f[0], 0));
    all = sea_test_join(all, EXPECT_VALUE(f[1], 1));
    all = sea_test_join(all, EXPECT_ERROR(f[2], -EIO, NULL));
    all = sea_test_join(all, EXPECT_VALUE(f[3], 3));
    all = sea_test_join(all, EXPECT_ERROR(f[4], SEA_EBROKEN_PROMISE, NULL));
    return sea_then_wrapped(all, check_order, (int){5});
}

/* A promise resolved from inside a continuation, with more continuations queued. */
struct chain_state {
    sea_promise p;
    int step;
};
static sea_future resolver(struct chain_state **cs) {
    struct chain_state *s = *cs;
    sea_promise_set_int(&s->p, 5);
    /* Still inside this continuation: the waiter must not have run. */
    CHECK_EQ(s->step, 0);
    sea_promise_release(&s->p);
    return sea_ready();
}
static sea_future waiter(struct chain_state **cs, sea_value v) {
    CHECK_EQ(v.i, 5);
    (*cs)->step++;
    return sea_ready();
}

static sea_future t_resolve_from_continuation(void) {
    static struct chain_state cs;
    struct chain_state *csp = &cs;
    cs.step = 0;
    sea_promise_init(&cs.p);
    sea_future w = sea_then(sea_promise_get_future(&cs.p), waiter, csp);
    sea_future r = sea_then(sea_yield(), resolver, csp);
    return sea_test_join(r, w);
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_set_before_get_future),
    SEA_TEST(t_set_after_get_future),
    SEA_TEST(t_set_kinds),
    SEA_TEST(t_set_box),
    SEA_TEST(t_forward_ready),
    SEA_TEST(t_forward_pending),
    SEA_TEST(t_forward_pending_never_taken),
    SEA_TEST(t_release_unresolved_breaks_promise),
    SEA_TEST(t_get_future_twice),
    SEA_TEST(t_static_init_and_reuse),
    SEA_TEST(t_resolution_never_synchronous),
    SEA_TEST(t_resolve_from_continuation),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
