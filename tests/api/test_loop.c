/*
 * test_loop.c - loops and lifetimes (sea/loop.h, sea/lifetime.h).
 *
 * Every loop: ready iterations by the million (no stack growth, and the
 * reactor gets its turns: a task queued before the loop runs while the loop
 * is still going), pending iterations, an error that stops the loop and fails
 * it, the capture as the loop's state.  do_for_each keeps order;
 * parallel_for_each starts everything before anything finishes and reports
 * the first error after all ended; max_concurrent_for_each never exceeds its
 * limit; map_reduce_range folds values from ready and pending iterations.
 * sea_do_with keeps its object until the chain ends and runs the cleanup
 * once; reference-counted objects die with their last reference.  Loops
 * awaited from fibers behave the same.
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* Set by a task queued before a long loop: proof that the loop yielded to the reactor. */
static bool reactor_ran;
static int64_t seen_at;

static sea_future mark_ran(void) {
    reactor_ran = true;
    return sea_ready();
}

struct counter {
    int64_t i, n;
    int64_t *progress;
};

static sea_future count_up(struct counter *c) {
    c->i++;
    *c->progress = c->i;
    if (reactor_ran && !seen_at)
        seen_at = c->i;
    return c->i == c->n ? sea_stop() : sea_continue();
}

/* ---- repeat ---- */

static int64_t progress;

static sea_future after_million(void) {
    CHECK_EQ(progress, 3000000);
    /* The task queued before the loop ran while the loop was still going. */
    CHECK(reactor_ran);
    CHECK(seen_at > 0 && seen_at < 3000000);
    return sea_ready();
}

static sea_future t_repeat_ready_million(void) {
    reactor_ran = false;
    seen_at = 0;
    progress = 0;
    sea_future_detach(sea_then(sea_yield(), mark_ran));
    sea_future f = sea_repeat(count_up, (struct counter){0, 3000000, &progress});
    return sea_then(f, after_million);
}

struct every {
    int i;
};

static sea_future sometimes_sleep(struct every *c) {
    if (++c->i == 50)
        return sea_stop();
    if (c->i % 10 == 0)
        return sea_then(sea_sleep(SEA_MSEC(1)), sea_continue);
    return sea_continue();
}

static sea_future fail_at_5(struct every *c) {
    if (++c->i == 5)
        return sea_failed(-EIO, "iteration 5");
    return c->i % 2 ? sea_test_later(sea_continue()) : sea_continue();
}

static struct expect want_eio = {.err = -EIO, .msg = "iteration 5"};
static struct expect want_void = {0};

static sea_future t_repeat_pending_and_error(void) {
    sea_future a = sea_then_wrapped(sea_repeat(sometimes_sleep, (struct every){0}), expect_value, want_void);
    sea_future b = sea_then_wrapped(sea_repeat(fail_at_5, (struct every){0}), expect_error, want_eio);
    return sea_test_join(a, b);
}

/* A ready loop is a ready future, and frees its state at once. */
static sea_future t_repeat_ready_is_ready(void) {
    sea_future f = sea_repeat(count_up, (struct counter){0, 10, &progress});
    CHECK(sea_future_available(&f));
    CHECK(!sea_future_failed(&f));
    return f;
}

/* ---- repeat_until_value, do_until, keep_doing ---- */

static sea_future find_seven(struct every *c, sea_value *result) {
    if (++c->i < 7)
        return c->i % 3 ? sea_continue() : sea_test_later(sea_continue());
    result->i = 42 + c->i;
    return sea_stop();
}

static bool reached_100(struct every *c) {
    return c->i >= 100;
}

static sea_future add_one(struct every *c) {
    c->i++;
    return c->i % 25 ? sea_ready() : sea_sleep(SEA_USEC(100));
}

static int kept;

static sea_future keep_until_fail(struct every *c) {
    kept = ++c->i;
    if (c->i == 1000)
        return sea_failed(-ECANCELED, "enough");
    return c->i % 100 ? sea_ready() : sea_test_later(sea_ready());
}

static struct expect want_49 = {.v = 49};
static struct expect want_enough = {.err = -ECANCELED, .msg = "enough"};

static sea_future check_kept(void) {
    CHECK_EQ(kept, 1000);
    return sea_ready();
}

static sea_future t_until_value_do_until_keep_doing(void) {
    sea_future a = sea_then_wrapped(sea_repeat_until_value(find_seven, (struct every){0}), expect_value, want_49);
    sea_future b = sea_then_wrapped(sea_do_until(reached_100, add_one, (struct every){0}), expect_value,
                                    want_void);
    sea_future c = sea_then_wrapped(sea_keep_doing(keep_until_fail, (struct every){0}), expect_error,
                                    want_enough);
    c = sea_then(c, check_kept);
    return sea_test_join(sea_test_join(a, b), c);
}

/* ---- for each ---- */

#define LOG_MAX 128

struct log {
    int n;
    int64_t order[LOG_MAX];
    int inflight, peak, started, finished;
    int fail; /* 1: elements 3 and 7 fail; 2: element 20 fails */
};

struct item {
    struct log *log;
    int64_t i;
};

static sea_future item_done(struct item *it) {
    struct log *l = it->log;
    if (l->n < LOG_MAX)
        l->order[l->n++] = it->i;
    l->inflight--;
    l->finished++;
    if (it->i == 7 && l->fail == 1)
        return sea_failed(-EIO, "element 7");
    if (it->i == 3 && l->fail == 1)
        return sea_failed(-EPERM, "element 3");
    return sea_ready_int(it->i);
}

struct log_ref {
    struct log *log;
};

/* Element i takes (10 - i % 10) ms: in parallel, later ones finish first. */
static sea_future timed_element(struct log_ref *r, int64_t i) {
    struct log *l = r->log;
    l->started++;
    if (++l->inflight > l->peak)
        l->peak = l->inflight;
    return sea_then(sea_sleep(SEA_MSEC(10 - i % 10)), item_done, (struct item){l, i});
}

FIBER_CASE(t_do_for_each_in_order) {
    struct log l = {0};
    sea_future r = sea_await(sea_do_for_each(0, 10, timed_element, (struct log_ref){&l}));
    CHECK(!sea_future_failed(&r));
    sea_future_detach(r);
    CHECK_EQ(l.n, 10);
    for (int i = 0; i < l.n; i++)
        CHECK_EQ(l.order[i], i);
    CHECK_EQ(l.peak, 1);
    /* An error stops it: element 3 fails, 4.. never start. */
    struct log m = {.fail = 1};
    r = sea_await(sea_do_for_each(0, 10, timed_element, (struct log_ref){&m}));
    CHECK_EQ(sea_future_error(&r), -EPERM);
    sea_future_detach(r);
    CHECK_EQ(m.started, 4);
    /* An empty range is done at once. */
    r = sea_do_for_each(5, 5, timed_element, (struct log_ref){&m});
    CHECK(sea_future_available(&r) && !sea_future_failed(&r));
    sea_future_detach(r);
    return sea_ready();
}

FIBER_CASE(t_parallel_for_each) {
    struct log l = {0};
    sea_future r = sea_await(sea_parallel_for_each(0, 10, timed_element, (struct log_ref){&l}));
    CHECK(!sea_future_failed(&r));
    sea_future_detach(r);
    CHECK_EQ(l.peak, 10); /* all started before any finished */
    CHECK_EQ(l.n, 10);
    for (int i = 0; i < l.n; i++)
        CHECK_EQ(l.order[i], 9 - i);
    /* Errors: element 7 fails first (3 ms), element 3 later (7 ms); the loop waits for all, reports 7's. */
    struct log m = {.fail = 1};
    r = sea_await(sea_parallel_for_each(0, 10, timed_element, (struct log_ref){&m}));
    CHECK_EQ(sea_future_error(&r), -EIO);
    CHECK_STREQ(sea_future_message(&r), "element 7");
    sea_future_detach(r);
    CHECK_EQ(m.started, 10);
    CHECK_EQ(m.finished, 10);
    return sea_ready();
}

struct sum_ref {
    int64_t *sum;
};

static sea_future add_index(struct sum_ref *r, int64_t i) {
    *r->sum += i;
    if (reactor_ran && !seen_at)
        seen_at = i + 1;
    return sea_ready();
}

FIBER_CASE(t_parallel_for_each_million_ready) {
    int64_t sum = 0;
    reactor_ran = false;
    seen_at = 0;
    sea_future_detach(sea_then(sea_yield(), mark_ran));
    sea_future r = sea_await(sea_parallel_for_each(0, 2000000, add_index, (struct sum_ref){&sum}));
    CHECK(!sea_future_failed(&r));
    sea_future_detach(r);
    CHECK_EQ(sum, (int64_t)2000000 * 1999999 / 2);
    CHECK(seen_at > 0 && seen_at < 2000000); /* the reactor had turns in between */
    return sea_ready();
}

static sea_future short_element(struct log_ref *r, int64_t i) {
    struct log *l = r->log;
    l->started++;
    if (++l->inflight > l->peak)
        l->peak = l->inflight;
    if (l->fail == 2 && i == 20) {
        l->inflight--;
        return sea_failed(-EIO, "element 20");
    }
    return sea_then(sea_sleep(SEA_USEC(300)), item_done, (struct item){l, i});
}

FIBER_CASE(t_max_concurrent_for_each) {
    struct log l = {0};
    sea_future r = sea_await(sea_max_concurrent_for_each(0, 100, 7, short_element, (struct log_ref){&l}));
    CHECK(!sea_future_failed(&r));
    sea_future_detach(r);
    CHECK_EQ(l.peak, 7);
    CHECK_EQ(l.started, 100);
    CHECK_EQ(l.finished, 100);
    /* An error at element 20 stops new starts; the ones running finish first. */
    struct log m = {.fail = 2};
    r = sea_await(sea_max_concurrent_for_each(0, 100, 7, short_element, (struct log_ref){&m}));
    CHECK_EQ(sea_future_error(&r), -EIO);
    sea_future_detach(r);
    CHECK_EQ(m.started, 21);
    CHECK_EQ(m.inflight, 0);
    CHECK(m.peak <= 7);
    return sea_ready();
}

static sea_future map_index(int64_t i) {
    return i % 2 ? sea_test_later(sea_ready_int(i)) : sea_ready_int(i);
}

static sea_future map_fail_at_500(int64_t i) {
    return i == 500 ? sea_test_later(sea_failed(-EDOM, "500")) : sea_ready_int(i);
}

static struct expect want_sum = {.v = 499500};
static struct expect want_edom = {.err = -EDOM, .msg = "500"};
static struct expect want_initial = {.v = 77};

static sea_future t_map_reduce_range(void) {
    sea_future a = sea_then_wrapped(sea_map_reduce_range(0, 1000, map_index, sea_reduce_sum_int, (sea_value){.i = 0}),
                                    expect_value, want_sum);
    sea_future b = sea_then_wrapped(sea_map_reduce_range(0, 1000, map_fail_at_500, sea_reduce_sum_int,
                                                         (sea_value){.i = 0}),
                                    expect_error, want_edom);
    sea_future c = sea_then_wrapped(sea_map_reduce_range(3, 3, map_index, sea_reduce_sum_int, (sea_value){.i = 77}),
                                    expect_value, want_initial);
    return sea_test_join(sea_test_join(a, b), c);
}

/* ---- lifetimes ---- */

struct obj {
    int i;
    int *cleanups;
    int *alive;
};

static int cleanups, alive, cleanups2, alive2;

static sea_future read_later(struct obj **o) {
    CHECK_EQ((*o)->i, 3);
    CHECK_EQ(*(*o)->alive, 1);
    return sea_ready_int((*o)->i * 2);
}

static sea_future second_read(struct obj **o, sea_value v) {
    CHECK_EQ(v.i, 6);
    return sea_then(sea_sleep(SEA_MSEC(1)), read_later, *o);
}

/* Two operations on the object, a while apart (tutorial 5.3's TODO example). */
static sea_future use_twice(struct obj *o) {
    *o->alive = 1;
    return sea_then(sea_then(sea_sleep(SEA_MSEC(1)), read_later, o), second_read, o);
}

static sea_future use_and_fail(struct obj *o) {
    *o->alive = 1;
    return sea_test_later(sea_failed(-EIO, "used and failed"));
}

static void obj_cleanup(struct obj *o) {
    (*o->cleanups)++;
    *o->alive = 0;
}

static sea_future after_do_with(sea_future *in) {
    CHECK(!sea_future_failed(in));
    CHECK_EQ(sea_future_value(in).i, 6);
    CHECK_EQ(cleanups, 1);
    CHECK_EQ(alive, 0);
    return sea_ready();
}

static sea_future after_failed_do_with(sea_future *in) {
    CHECK_EQ(sea_future_error(in), -EIO);
    CHECK_EQ(cleanups2, 1);
    CHECK_EQ(alive2, 0);
    return sea_ready();
}

static sea_future t_do_with(void) {
    cleanups = alive = cleanups2 = alive2 = 0;
    sea_future f = sea_do_with_cleanup(use_twice, obj_cleanup, (struct obj){3, &cleanups, &alive});
    CHECK_EQ(cleanups, 0); /* alive while the chain runs */
    sea_future a = sea_then_wrapped(f, after_do_with);
    sea_future g = sea_do_with_cleanup(use_and_fail, obj_cleanup, (struct obj){3, &cleanups2, &alive2});
    sea_future b = sea_then_wrapped(g, after_failed_do_with);
    return sea_test_join(a, b);
}

/* From a fiber, sea_do_with runs its function in that fiber: the function may wait with SEA_AWAIT. */
static sea_future fiber_use(struct obj *o) {
    *o->alive = 1;
    SEA_AWAIT(sea_sleep(SEA_MSEC(1)));
    CHECK(sea_fiber_self() != NULL);
    CHECK_EQ(*o->alive, 1);
    return sea_ready_int(o->i * 2);
}

static sea_future do_with_in_fiber(void) {
    cleanups = alive = 0;
    sea_value v = SEA_AWAIT(sea_do_with_cleanup(fiber_use, obj_cleanup, (struct obj){4, &cleanups, &alive}));
    CHECK_EQ(v.i, 8);
    CHECK_EQ(cleanups, 1);
    CHECK_EQ(alive, 0);
    return sea_ready();
}

static sea_future t_do_with_in_fiber(void) {
    return sea_fiber_start(do_with_in_fiber);
}

struct thing {
    int value;
};

static int destroyed;

static void destroy_thing(void *p) {
    CHECK_EQ(((struct thing *)p)->value, 5);
    destroyed++;
}

struct thing_ref {
    struct thing *t;
};

static sea_future use_shared(struct thing_ref *r) {
    CHECK_EQ(r->t->value, 5);
    CHECK_EQ(destroyed, 0);
    sea_shared_unref(r->t);
    return sea_ready();
}

static sea_future after_shared(void) {
    CHECK_EQ(destroyed, 1);
    return sea_ready();
}

static sea_future t_shared_objects(void) {
    destroyed = 0;
    struct thing *t = sea_shared_new(sizeof(*t), destroy_thing);
    CHECK(t != NULL);
    t->value = 5;
    CHECK_EQ(sea_shared_count(t), 1);
    /* Two independent chains, each holding a reference. */
    sea_future a = sea_then(sea_sleep(SEA_MSEC(1)), use_shared, (struct thing_ref){sea_shared_ref(t)});
    sea_future b = sea_then(sea_sleep(SEA_MSEC(2)), use_shared, (struct thing_ref){sea_shared_ref(t)});
    CHECK_EQ(sea_shared_count(t), 3);
    sea_shared_unref(t); /* the creator is done with it */
    CHECK_EQ(destroyed, 0);
    sea_shared_unref(NULL);
    return sea_then(sea_test_join(a, b), after_shared);
}

/* ---- futures that arrived before anyone looked (pending, but already resolved) ---- */

static sea_future arrived_stop_at_3(struct every *c) {
    return sea_test_arrived_int(++c->i == 3 ? SEA_STOP : SEA_CONTINUE);
}

static sea_future arrived_or_yield(int64_t i) {
    return i == 0 ? sea_yield() : sea_test_arrived_int(i);
}

static sea_future arrived_element(int64_t i) {
    return sea_test_arrived_int(i);
}

static struct expect want_3 = {.v = 3};

/* Iterations returning such futures: handled in the loop, never as a nested continuation (was a use after free). */
FIBER_CASE(t_loops_with_arrived_futures) {
    struct every e = {0};
    sea_future r = sea_await(sea_repeat(arrived_stop_at_3, e));
    CHECK(!sea_future_failed(&r));
    sea_future_detach(r);
    CHECK_EQ(sea_test_await_err(sea_parallel_for_each(0, 2, arrived_or_yield), NULL), 0);
    CHECK_EQ(sea_test_await_err(sea_parallel_for_each(0, 1000, arrived_element), NULL), 0);
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_map_reduce_range(0, 3, arrived_element, sea_reduce_sum_int, (sea_value){.i = 0}),
                                &v),
             0);
    CHECK_EQ(v.i, want_3.v);
    return sea_ready();
}

/* ---- from a fiber ---- */

FIBER_CASE(t_loops_in_fibers) {
    int64_t p = 0;
    sea_future r = sea_await(sea_repeat(count_up, (struct counter){0, 100000, &p}));
    CHECK(!sea_future_failed(&r));
    sea_future_detach(r);
    CHECK_EQ(p, 100000);
    sea_value v;
    CHECK_EQ(sea_await_value(sea_repeat_until_value(find_seven, (struct every){0}), &v), 0);
    CHECK_EQ(v.i, 49);
    CHECK_EQ(sea_await_value(sea_map_reduce_range(0, 1000, map_index, sea_reduce_sum_int, (sea_value){.i = 0}),
                             &v),
             0);
    CHECK_EQ(v.i, 499500);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_repeat_ready_million),
    SEA_TEST(t_repeat_pending_and_error),
    SEA_TEST(t_repeat_ready_is_ready),
    SEA_TEST(t_until_value_do_until_keep_doing),
    SEA_TEST(t_do_for_each_in_order),
    SEA_TEST(t_parallel_for_each),
    SEA_TEST(t_parallel_for_each_million_ready),
    SEA_TEST(t_max_concurrent_for_each),
    SEA_TEST(t_map_reduce_range),
    SEA_TEST(t_do_with),
    SEA_TEST(t_do_with_in_fiber),
    SEA_TEST(t_shared_objects),
    SEA_TEST(t_loops_in_fibers),
    SEA_TEST(t_loops_with_arrived_futures),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
