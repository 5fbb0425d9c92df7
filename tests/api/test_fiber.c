/*
 * test_fiber.c - fibers (sea/fiber.h):
 *
 *     test_fiber FIBER_HELPER_PATH [harness options...]
 *
 * A fiber's result (value, error with its message, a pending future it
 * returns); sea_await and sea_await_value on ready and pending futures, inside
 * and outside fibers (values, boxes, errors and messages crossing a wait, the
 * FP rounding mode staying with its context); fibers outliving the chain that
 * started them; fibers and continuations interleaving; yields; names, handles
 * and stop requests; fiber-local storage and its destructors; stack sizes,
 * deep recursion, and the guard region catching an overflow (in forked
 * children); 100,000 fibers alive at once within a memory budget; stack
 * recycling (no new mappings, no page faults on hot stacks); fibers left
 * pending at shutdown and the API outside a reactor (fiber_helper).  Many
 * cases are fibers themselves (FIBER_CASE): the case's future is the fiber's.
 */
#include "check.h"

#include <errno.h>
#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

static const char *helper_path;

static sea_fiber_stats fstats(void) {
    sea_fiber_stats st;
    memset(&st, 0, sizeof(st));
    if (sea_fiber_stats_get(&st) != 0)
        memset(&st, 0, sizeof(st));
    return st;
}

/* An order log: words separated by spaces. */
static char order_log[1024];
static void log_reset(void) {
    order_log[0] = '\0';
}
static void log_add(const char *word) {
    size_t n = strlen(order_log);
    snprintf(order_log + n, sizeof(order_log) - n, "%s%s", n ? " " : "", word);
}

/* Awaits f in a fiber and CHECKs that it holds the integer v. */
static void await_expect_int(sea_future f, int64_t v) {
    sea_value got = {0};
    int err = sea_await_value(f, &got);
    CHECK_EQ(err, 0);
    if (!err)
        CHECK_EQ(got.i, v);
}

/* ---- a fiber's result ---- */

static sea_future ret_int_fn(intptr_t *v) {
    return sea_ready_int((int64_t)*v);
}
static sea_future ret_error_fn(void) {
    return sea_failed_fmt(-ENOENT, "no %s here", "fiber");
}
static sea_future ret_pending_fn(void) {
    return sea_test_sleep_then(SEA_MSEC(1), sea_ready_int(7));
}
static sea_future ret_pending_error_fn(void) {
    return sea_test_later(sea_failed_fmt(-EPIPE, "later %s", "pipe"));
}
static int started_flag;
static sea_future set_flag_fn(void) {
    started_flag = 1;
    return sea_ready_int(5);
}

static sea_future t_result(void) {
    sea_fiber_stats st0 = fstats();
    /* The fiber starts on a later turn, never inside sea_fiber_start. */
    started_flag = 0;
    sea_future s = sea_fiber_start(set_flag_fn);
    CHECK_EQ(started_flag, 0);
    CHECK(!sea_future_available(&s));
    CHECK_EQ(fstats().alive, st0.alive + 1);
    CHECK_EQ(fstats().started, st0.started + 1);

    sea_future a = sea_then_wrapped(sea_fiber_start(ret_int_fn, (intptr_t)(42)), expect_value,
                                    (struct expect){.v = 42});
    sea_future b = sea_then_wrapped(sea_fiber_start(ret_error_fn), expect_error,
                                    (struct expect){.err = -ENOENT, .msg = "no fiber here"});
    sea_future c = sea_then_wrapped(sea_fiber_start(ret_pending_fn), expect_value,
                                    (struct expect){.v = 7});
    sea_future d = sea_then_wrapped(sea_fiber_start(ret_pending_error_fn), expect_error,
                                    (struct expect){.err = -EPIPE, .msg = "later pipe"});
    s = sea_then_wrapped(s, expect_value, (struct expect){.v = 5});
    return sea_test_join(s, sea_test_join(a, sea_test_join(b, sea_test_join(c, d))));
}

/* A fiber awaiting other fibers' results, each kind. */
FIBER_CASE(t_result_awaited_in_fiber) {
    await_expect_int(sea_fiber_start(ret_int_fn, (intptr_t)(-3)), -3);
    await_expect_int(sea_fiber_start(ret_pending_fn), 7);
    sea_future r = sea_await(sea_fiber_start(ret_error_fn));
    CHECK_EQ(sea_future_error(&r), -ENOENT);
    CHECK_STREQ(sea_future_message(&r), "no fiber here");
    sea_future_detach(r);
    r = sea_await(sea_fiber_start(ret_pending_error_fn));
    CHECK_EQ(sea_future_error(&r), -EPIPE);
    CHECK_STREQ(sea_future_message(&r), "later pipe");
    /* Returning the awaited failure passes it on (the message travels along). */
    return sea_then_wrapped(sea_future_move(&r), expect_error,
                            (struct expect){.err = -EPIPE, .msg = "later pipe"});
}

static sea_future t_start_bad_arguments(void) {
    sea_fiber_stats st0 = fstats();
    sea_future f = sea__fiber_start(NULL, NULL, NULL, 0); /* what a NULL function does */
    CHECK_EQ(sea_future_error(&f), -EINVAL);
    CHECK(sea_future_message(&f) != NULL);
    sea_future_detach(f);
    CHECK_EQ(fstats().started, st0.started);
    CHECK_EQ(fstats().alive, st0.alive);
    return sea_ready();
}

/* ---- sea_await ---- */

FIBER_CASE(t_await_ready) {
    /* A ready future comes back at once, without a switch. */
    uint64_t sw = fstats().switches;
    sea_future r = sea_await(sea_ready_int(5));
    CHECK(!sea_future_failed(&r));
    CHECK_EQ(sea_future_value(&r).i, 5);
    r = sea_await(sea_failed(-EIO, "ready io"));
    CHECK_EQ(sea_future_error(&r), -EIO);
    CHECK_STREQ(sea_future_message(&r), "ready io");
    sea_future_detach(r);
    r = sea_await(sea_failed_fmt(-EIO, "owned %d", 1));
    CHECK_EQ(sea_future_error(&r), -EIO);
    CHECK_STREQ(sea_future_message(&r), "owned 1");
    sea_future_detach(r);
    sea_value v = {0};
    CHECK_EQ(sea_await_value(sea_ready_int(9), &v), 0);
    CHECK_EQ(v.i, 9);
    CHECK_EQ(sea_await_value(sea_ready(), NULL), 0);
    CHECK_EQ(sea_await_value(sea_failed(-EAGAIN, NULL), &v), -EAGAIN);
    CHECK_EQ(sea_await_value(sea_failed_fmt(-EAGAIN, "owned %d", 2), NULL), -EAGAIN);
    CHECK_EQ(fstats().switches, sw);
    /* A consumed (zero) future is refused. */
    r = sea_await((sea_future){0});
    CHECK_EQ(sea_future_error(&r), SEA_EFUTURE_USED);
    sea_future_detach(r);
    return sea_ready();
}

static void resolve_from_timer(sea_timer *t, void *arg) {
    (void)t;
    sea_promise_set_int(arg, 30);
}
FIBER_CASE(t_await_pending) {
    volatile int local = 123; /* locals survive waits */
    uint64_t sw = fstats().switches;
    sea_future r = sea_await(sea_test_later(sea_ready_int(6)));
    CHECK_EQ(sea_future_value(&r).i, 6);
    CHECK(fstats().switches > sw);
    CHECK_EQ(local, 123);
    /* An error crossing a wait keeps its code and message. */
    r = sea_await(sea_test_sleep_then(SEA_MSEC(2), sea_failed_fmt(-ETIMEDOUT, "waited %d ms", 2)));
    CHECK(sea_future_failed(&r));
    CHECK_EQ(sea_future_error(&r), -ETIMEDOUT);
    CHECK_STREQ(sea_future_message(&r), "waited 2 ms");
    sea_future_detach(r);
    r = sea_await(sea_test_later(sea_failed(-ECONNRESET, "static reset")));
    CHECK_EQ(sea_future_error(&r), -ECONNRESET);
    CHECK_STREQ(sea_future_message(&r), "static reset");
    sea_future_detach(r);
    /* sea_await_value: the code only; the owned message is released (ASan: no leak). */
    sea_value v = {.i = -1};
    CHECK_EQ(sea_await_value(sea_test_later(sea_failed_fmt(-EIO, "owned %d", 3)), &v), -EIO);
    CHECK_EQ(sea_await_value(sea_test_later(sea_ready_int(11)), &v), 0);
    CHECK_EQ(v.i, 11);
    CHECK_EQ(sea_await_value(sea_sleep(SEA_MSEC(1)), NULL), 0);
    /* Boxes: taken through sea_await, released by sea_await_value(..., NULL). */
    int released = 0;
    r = sea_await(sea_test_later(sea_ready_box(&sea_test_box_new(&released, 77)->box)));
    struct sea_test_box *tb = sea_future_value(&r).ptr;
    CHECK(tb != NULL);
    if (tb) {
        CHECK_EQ(tb->payload, 77);
        sea_test_box_free(tb);
    }
    CHECK_EQ(released, 0);
    CHECK_EQ(sea_await_value(sea_test_later(sea_ready_box(&sea_test_box_new(&released, 78)->box)), NULL), 0);
    CHECK_EQ(released, 1);
    /* A promise resolved from a timer callback. */
    sea_promise p;
    sea_promise_init(&p);
    sea_timer t;
    sea_timer_init(&t, resolve_from_timer, &p);
    CHECK_EQ(sea_timer_arm(&t, SEA_MSEC(1)), 0);
    await_expect_int(sea_promise_get_future(&p), 30);
    sea_promise_release(&p);
    /* A promise resolved after its future was taken but before the wait: no suspension needed. */
    sea_promise_init(&p);
    sea_future pf = sea_promise_get_future(&p);
    sea_promise_set_int(&p, 31);
    sea_promise_release(&p);
    await_expect_int(pf, 31);
    CHECK_EQ(local, 123);
    return sea_ready();
}

/* FP control words are per context: the fiber's rounding mode survives a wait and does not leak out. */
static int round_seen_outside;
static sea_future check_round(sea_promise **pp) {
    round_seen_outside = fegetround();
    sea_promise_set_void(*pp);
    return sea_ready();
}
FIBER_CASE(t_await_keeps_fp_control) {
    sea_promise p;
    sea_promise_init(&p);
    sea_future pf = sea_promise_get_future(&p);
    sea_promise *pp = &p;
    sea_future side = sea_then(sea_test_later(sea_ready()), check_round, pp);
    CHECK_EQ(fesetround(FE_UPWARD), 0);
    CHECK_EQ(sea_await_value(pf, NULL), 0);
    CHECK_EQ(fegetround(), FE_UPWARD);
    CHECK_EQ(fesetround(FE_TONEAREST), 0);
    CHECK_EQ(round_seen_outside, FE_TONEAREST);
    sea_promise_release(&p);
    return side;
}

/*
 * Outside a fiber: ready futures pass, a pending one fails with SEA_ENOTFIBER
 * and is dropped silently: its own later failure (here "dropped pipe"; at
 * exit, a broken promise) is not reported as if it were the problem.
 */
static uint64_t outside_ignored_before;
static sea_future outside_done(void) {
    const char *err = sea_test_stderr_end();
    CHECK_STREQ(err, "");
    CHECK_EQ(sea_test_stats().ignored_failures, outside_ignored_before);
    return sea_ready();
}
static sea_future t_await_outside_fiber(void) {
    CHECK(sea_fiber_self() == NULL);
    sea_future r = sea_await(sea_ready_int(3));
    CHECK_EQ(sea_future_value(&r).i, 3);
    r = sea_await(sea_failed(-EIO, "x"));
    CHECK_EQ(sea_future_error(&r), -EIO);
    CHECK_STREQ(sea_future_message(&r), "x");
    sea_value v = {0};
    CHECK_EQ(sea_await_value(sea_ready_int(4), &v), 0);
    CHECK_EQ(v.i, 4);

    outside_ignored_before = sea_test_stats().ignored_failures;
    sea_test_stderr_begin();
    r = sea_await(sea_test_later(sea_failed(-EPIPE, "dropped pipe")));
    CHECK_EQ(sea_future_error(&r), SEA_ENOTFIBER);
    CHECK(sea_future_message(&r) != NULL);
    sea_future_detach(r);
    /* A pending value is dropped silently. */
    CHECK_EQ(sea_await_value(sea_test_later(sea_ready_int(1)), NULL), SEA_ENOTFIBER);
    return sea_then(sea_test_later(sea_test_later(sea_ready())), outside_done);
}

/* ---- a fiber outliving the chain that started it ---- */

static int detached_done;
static sea_future detached_fn(void) {
    int err = sea_await_value(sea_sleep(SEA_MSEC(5)), NULL);
    CHECK_EQ(err, 0);
    err = sea_await_value(sea_test_later(sea_ready()), NULL);
    CHECK_EQ(err, 0);
    detached_done = 1;
    return sea_ready();
}
static sea_future starter(void) {
    sea_future_detach(sea_fiber_start_attr(&(sea_fiber_attr){.name = "detached"}, detached_fn));
    return sea_ready_int(1);
}
struct outlive {
    uint64_t alive0;
    int polls;
};
static sea_future outlive_poll(struct outlive *o) {
    if (!detached_done && o->polls++ < 5000)
        return sea_then(sea_sleep(SEA_MSEC(1)), outlive_poll, *o);
    CHECK_EQ(detached_done, 1);
    CHECK_EQ(fstats().alive, o->alive0);
    return sea_ready();
}
static sea_future starter_ended(struct outlive *o, sea_value v) {
    /* The chain that started the fiber is over; the fiber is not. */
    CHECK_EQ(v.i, 1);
    CHECK_EQ(detached_done, 0);
    CHECK_EQ(fstats().alive, o->alive0 + 1);
    return sea_then(sea_sleep(SEA_MSEC(1)), outlive_poll, *o);
}
static sea_future t_fiber_outlives_starter(void) {
    detached_done = 0;
    struct outlive o = {.alive0 = fstats().alive};
    sea_future chain = sea_then(sea_test_later(sea_ready()), starter);
    return sea_then(chain, starter_ended, o);
}

/* ---- fibers and continuations interleaving ---- */

struct pingpong {
    sea_promise to_chain[2], to_fiber[2];
    sea_future chain_wait[2], fiber_wait[2];
};
static struct pingpong pp;

static sea_future ping_fiber(void) {
    log_add("f1");
    sea_promise_set_int(&pp.to_chain[0], 1);
    await_expect_int(sea_future_move(&pp.fiber_wait[0]), 10);
    log_add("f2");
    sea_promise_set_int(&pp.to_chain[1], 2);
    await_expect_int(sea_future_move(&pp.fiber_wait[1]), 20);
    log_add("f3");
    return sea_ready_int(3);
}
static sea_future pong2(sea_value v) {
    CHECK_EQ(v.i, 2);
    log_add("c2");
    sea_promise_set_int(&pp.to_fiber[1], 20);
    return sea_ready();
}
static sea_future pong1(sea_value v) {
    CHECK_EQ(v.i, 1);
    log_add("c1");
    sea_promise_set_int(&pp.to_fiber[0], 10);
    return sea_then(sea_future_move(&pp.chain_wait[1]), pong2);
}
static sea_future pingpong_done(void) {
    log_add("end");
    CHECK_STREQ(order_log, "m f1 c1 f2 c2 f3 end");
    for (int i = 0; i < 2; i++) {
        sea_promise_release(&pp.to_chain[i]);
        sea_promise_release(&pp.to_fiber[i]);
    }
    return sea_ready();
}
static sea_future t_interleave_with_continuations(void) {
    log_reset();
    for (int i = 0; i < 2; i++) {
        sea_promise_init(&pp.to_chain[i]);
        sea_promise_init(&pp.to_fiber[i]);
        pp.chain_wait[i] = sea_promise_get_future(&pp.to_chain[i]);
        pp.fiber_wait[i] = sea_promise_get_future(&pp.to_fiber[i]);
    }
    sea_future fib = sea_fiber_start(ping_fiber);
    sea_future chain = sea_then(sea_future_move(&pp.chain_wait[0]), pong1);
    log_add("m");
    fib = sea_then_wrapped(fib, expect_value, (struct expect){.v = 3});
    return sea_then(sea_test_join(chain, fib), pingpong_done);
}

/* A fiber and a sea_yield() chain sharing the shard: both make progress. */
static int chain_ticks;
static bool chain_stop;
static sea_future tick_chain(void) {
    if (chain_stop)
        return sea_ready_int(chain_ticks);
    chain_ticks++;
    return sea_then(sea_yield(), tick_chain);
}

/* ---- yields ---- */

static sea_future yielder(char **namep) {
    const char *name = *namep;
    for (int i = 0; i < 3; i++) {
        char w[16];
        snprintf(w, sizeof(w), "%s%d", name, i);
        log_add(w);
        CHECK_EQ(sea_fiber_yield(), 0);
    }
    return sea_ready();
}
static sea_future yield_done(uint64_t *sw0) {
    CHECK_STREQ(order_log, "A0 B0 A1 B1 A2 B2");
    CHECK(fstats().switches >= *sw0 + 8);
    return sea_ready();
}
static sea_future t_yield_alternates(void) {
    log_reset();
    uint64_t sw0 = fstats().switches;
    sea_future a = sea_fiber_start(yielder, "A");
    sea_future b = sea_fiber_start(yielder, "B");
    return sea_then(sea_test_join(a, b), yield_done, sw0);
}

/* A fiber that only yields still lets timers fire (at least once per task quota). */
static int timer_flag;
static sea_future set_timer_flag(void) {
    timer_flag = 1;
    return sea_ready();
}
FIBER_CASE(t_yield_services_timers) {
    timer_flag = 0;
    sea_future side = sea_then(sea_sleep(SEA_MSEC(2)), set_timer_flag);
    sea_time start = sea_now();
    long yields = 0;
    while (!timer_flag && sea_now() - start < SEA_SEC(10)) {
        CHECK_EQ(sea_fiber_yield(), 0);
        yields++;
    }
    CHECK_EQ(timer_flag, 1);
    CHECK(yields > 0);
    return side;
}

/* sea_fiber_maybe_yield in a busy loop lets a sea_yield() chain run. */
FIBER_CASE(t_maybe_yield) {
    chain_ticks = 0;
    chain_stop = false;
    sea_future ticker = sea_then(sea_yield(), tick_chain);
    sea_time start = sea_now();
    volatile uint64_t spin = 0;
    while (chain_ticks < 3 && sea_now() - start < SEA_SEC(10)) {
        for (int i = 0; i < 1000; i++)
            spin++;
        CHECK_EQ(sea_fiber_maybe_yield(), 0);
    }
    CHECK(chain_ticks >= 3);
    chain_stop = true;
    sea_value v;
    CHECK_EQ(sea_await_value(ticker, &v), 0);
    CHECK(v.i >= 3);
    return sea_ready();
}

static sea_future t_yield_outside_fiber(void) {
    CHECK_EQ(sea_fiber_yield(), SEA_ENOTFIBER);
    int r = sea_fiber_maybe_yield();
    CHECK(r == 0 || r == SEA_ENOTFIBER);
    return sea_ready();
}

/* ---- self, names, handles, stop requests ---- */

static sea_fiber *name_handle;
static sea_future name_fn(char **argp) {
    const char *arg = *argp;
    sea_fiber *self = sea_fiber_self();
    CHECK(self != NULL);
    CHECK(self == name_handle);
    CHECK_STREQ(sea_fiber_name(self), (const char *)arg);
    /* Still itself after a wait. */
    CHECK_EQ(sea_await_value(sea_test_later(sea_ready()), NULL), 0);
    CHECK(sea_fiber_self() == self);
    CHECK_STREQ(sea_fiber_name(sea_fiber_self()), (const char *)arg);
    return sea_ready();
}
static sea_future inner_self_fn(void) {
    return sea_ready_ptr(sea_fiber_self());
}
FIBER_CASE(t_self_name_handle) {
    sea_fiber *me = sea_fiber_self();
    CHECK(me != NULL);
    CHECK_STREQ(sea_fiber_name(me), "t_self_name_handle");

    name_handle = NULL;
    sea_future f =
        sea_fiber_start_attr((&(sea_fiber_attr){.name = "worker-7", .handle = &name_handle}), name_fn, "worker-7");
    CHECK(name_handle != NULL); /* set before the fiber runs */
    CHECK(name_handle != me);
    CHECK_STREQ(sea_fiber_name(name_handle), "worker-7");
    CHECK_EQ(sea_await_value(f, NULL), 0);

    name_handle = NULL;
    f = sea_fiber_start_attr(&(sea_fiber_attr){.handle = &name_handle}, name_fn, "fiber");
    CHECK_EQ(sea_await_value(f, NULL), 0);

    /* Long names are cut to SEA_FIBER_NAME_MAX characters. */
    const char *longname = "a-fiber-name-that-is-much-longer-than-thirty-one-characters";
    char cut[SEA_FIBER_NAME_MAX + 1];
    memcpy(cut, longname, SEA_FIBER_NAME_MAX);
    cut[SEA_FIBER_NAME_MAX] = '\0';
    CHECK_EQ(strlen(cut), SEA_FIBER_NAME_MAX);
    name_handle = NULL;
    f = sea_fiber_start_attr((&(sea_fiber_attr){.name = longname, .handle = &name_handle}), name_fn, cut);
    CHECK_EQ(sea_await_value(f, NULL), 0);

    /* A nested fiber is itself, and we are ourselves again afterwards. */
    sea_value v = {0};
    CHECK_EQ(sea_await_value(sea_fiber_start(inner_self_fn), &v), 0);
    CHECK(v.ptr != NULL);
    CHECK(v.ptr != me);
    CHECK(sea_fiber_self() == me);
    return sea_ready();
}

static sea_future t_self_outside_fiber(void) {
    CHECK(sea_fiber_self() == NULL);
    CHECK(!sea_fiber_stop_requested());
    return sea_ready();
}

static int stop_iterations;
static sea_future stoppable(void) {
    int n = 0;
    while (!sea_fiber_stop_requested()) {
        int err = sea_await_value(sea_sleep(SEA_MSEC(1)), NULL);
        if (err)
            return sea_failed(err, "sleep failed");
        if (++n > 20000)
            return sea_failed(-ETIMEDOUT, "never asked to stop");
    }
    stop_iterations = n;
    return sea_failed(SEA_ECANCELED, "stopped on request");
}
static sea_future stopper_fn(sea_fiber **targetp) {
    sea_fiber *target = *targetp;
    CHECK(!sea_fiber_stop_requested());
    CHECK_EQ(sea_await_value(sea_sleep(SEA_MSEC(3)), NULL), 0);
    sea_fiber_request_stop(target);
    CHECK(!sea_fiber_stop_requested()); /* the flag is the target's, not ours */
    return sea_ready();
}
struct stop_cap {
    sea_fiber *target;
};
static sea_future stop_from_continuation(struct stop_cap *c) {
    sea_fiber_request_stop(c->target);
    return sea_ready();
}
FIBER_CASE(t_stop_requests) {
    /* From another fiber. */
    sea_fiber *h = NULL;
    stop_iterations = -1;
    sea_future w = sea_fiber_start_attr(&(sea_fiber_attr){.handle = &h}, stoppable);
    sea_future s = sea_fiber_start(stopper_fn, h);
    sea_future r = sea_await(w);
    CHECK_EQ(sea_future_error(&r), SEA_ECANCELED);
    CHECK_STREQ(sea_future_message(&r), "stopped on request");
    sea_future_detach(r);
    CHECK(stop_iterations >= 1);
    CHECK_EQ(sea_await_value(s, NULL), 0);

    /* From a continuation. */
    h = NULL;
    stop_iterations = -1;
    w = sea_fiber_start_attr(&(sea_fiber_attr){.handle = &h}, stoppable);
    sea_future c = sea_then(sea_sleep(SEA_MSEC(3)), stop_from_continuation, (struct stop_cap){h});
    CHECK_EQ(sea_await_value(w, NULL), SEA_ECANCELED);
    CHECK(stop_iterations >= 1);
    CHECK_EQ(sea_await_value(c, NULL), 0);

    /* Before the fiber even ran: it sees the request at its first check. */
    h = NULL;
    w = sea_fiber_start_attr(&(sea_fiber_attr){.handle = &h}, stoppable);
    sea_fiber_request_stop(h);
    CHECK_EQ(sea_await_value(w, NULL), SEA_ECANCELED);
    CHECK_EQ(stop_iterations, 0);

    /* Our own flag was never set. */
    CHECK(!sea_fiber_stop_requested());
    sea_fiber_request_stop(NULL); /* harmless */
    return sea_ready();
}

/* ---- fiber-local storage ---- */

static sea_fiber_key key_a, key_b;
static sea_fiber_key key_many[12];

FIBER_CASE(t_fls_get_set) {
    CHECK(sea_fiber_local_get(&key_a) == NULL);
    static int x, y;
    CHECK_EQ(sea_fiber_local_set(&key_a, &x), 0);
    CHECK(sea_fiber_local_get(&key_a) == &x);
    CHECK(sea_fiber_local_get(&key_b) == NULL);
    CHECK_EQ(sea_fiber_local_set(&key_a, &y), 0);
    CHECK(sea_fiber_local_get(&key_a) == &y);
    /* Values survive waits. */
    CHECK_EQ(sea_await_value(sea_test_later(sea_ready()), NULL), 0);
    CHECK(sea_fiber_local_get(&key_a) == &y);
    CHECK_EQ(sea_fiber_local_set(&key_a, NULL), 0);
    CHECK(sea_fiber_local_get(&key_a) == NULL);
    /* Many keys (the table grows). */
    static int vals[12];
    for (int i = 0; i < 12; i++)
        CHECK_EQ(sea_fiber_local_set(&key_many[i], &vals[i]), 0);
    for (int i = 0; i < 12; i++)
        CHECK(sea_fiber_local_get(&key_many[i]) == &vals[i]);
    return sea_ready();
}

static sea_future fls_isolated_fn(char **argp) {
    char *arg = *argp;
    CHECK(sea_fiber_local_get(&key_a) == NULL);
    CHECK_EQ(sea_fiber_local_set(&key_a, arg), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(sea_fiber_yield(), 0);
        CHECK(sea_fiber_local_get(&key_a) == arg);
        CHECK_EQ(sea_await_value(sea_test_later(sea_ready()), NULL), 0);
        CHECK(sea_fiber_local_get(&key_a) == arg);
    }
    return sea_ready_ptr(sea_fiber_local_get(&key_a));
}
FIBER_CASE(t_fls_per_fiber) {
    static char mine[] = "mine", va[] = "a", vb[] = "b";
    CHECK_EQ(sea_fiber_local_set(&key_a, mine), 0);
    sea_future a = sea_fiber_start(fls_isolated_fn, va);
    sea_future b = sea_fiber_start(fls_isolated_fn, vb);
    sea_value v = {0};
    CHECK_EQ(sea_await_value(a, &v), 0);
    CHECK(v.ptr == va);
    CHECK_EQ(sea_await_value(b, &v), 0);
    CHECK(v.ptr == vb);
    CHECK(sea_fiber_local_get(&key_a) == mine);
    return sea_ready();
}

static sea_fiber *dtor_fiber;
static int dtor_outside_calls, reset_forever_calls;
static void log_dtor(void *v) {
    if (sea_fiber_self() != dtor_fiber)
        dtor_outside_calls++;
    log_add(v);
}
static sea_fiber_key key_d1 = {log_dtor}, key_d2 = {log_dtor}, key_nodtor = {NULL}, key_unset = {log_dtor};
static void reset_once_dtor(void *v);
static sea_fiber_key key_reset = {reset_once_dtor};
static void reset_once_dtor(void *v) {
    log_dtor(v);
    if (strcmp(v, "first") == 0)
        CHECK_EQ(sea_fiber_local_set(&key_reset, "second"), 0);
}
static void reset_forever_dtor(void *v);
static sea_fiber_key key_forever = {reset_forever_dtor};
static void reset_forever_dtor(void *v) {
    reset_forever_calls++;
    sea_fiber_local_set(&key_forever, v);
}

static sea_future fls_dtor_fn(void) {
    static int plain;
    CHECK_EQ(sea_fiber_local_set(&key_d1, "x"), 0);
    CHECK_EQ(sea_fiber_local_set(&key_reset, "first"), 0);
    CHECK_EQ(sea_fiber_local_set(&key_nodtor, &plain), 0);
    CHECK_EQ(sea_fiber_local_set(&key_unset, "never"), 0);
    CHECK_EQ(sea_fiber_local_set(&key_unset, NULL), 0); /* NULL values: no destructor call */
    CHECK_EQ(sea_await_value(sea_test_later(sea_ready()), NULL), 0);
    CHECK_EQ(sea_fiber_local_set(&key_d2, "two"), 0);
    CHECK_EQ(sea_fiber_local_set(&key_d1, "one"), 0); /* order: by first set, so d1 stays first */
    log_add("return");
    return sea_ready();
}
static sea_future fls_forever_fn(void) {
    CHECK_EQ(sea_fiber_local_set(&key_forever, "again"), 0);
    return sea_ready();
}
FIBER_CASE(t_fls_destructors) {
    log_reset();
    dtor_outside_calls = 0;
    dtor_fiber = NULL;
    sea_future f = sea_fiber_start_attr(&(sea_fiber_attr){.handle = &dtor_fiber}, fls_dtor_fn);
    CHECK_EQ(sea_await_value(f, NULL), 0);
    CHECK_STREQ(order_log, "return one first two second");
    CHECK_EQ(dtor_outside_calls, 0);
    /* A destructor that always sets its value again: a bounded number of rounds. */
    reset_forever_calls = 0;
    CHECK_EQ(sea_await_value(sea_fiber_start(fls_forever_fn), NULL), 0);
    CHECK(reset_forever_calls >= 2);
    CHECK(reset_forever_calls <= 8);
    return sea_ready();
}

static sea_future t_fls_outside_fiber(void) {
    static int z;
    CHECK_EQ(sea_fiber_local_set(&key_a, &z), SEA_ENOTFIBER);
    CHECK(sea_fiber_local_get(&key_a) == NULL);
    return sea_ready();
}

/* ---- stacks ---- */

/* Set to the lowest buffer address the recursion reached, and counts corrupted frames. */
static uintptr_t deepest;
static int frames_corrupt;

/*
 * Recurses, with a 512-byte volatile buffer per frame, until the buffer lies
 * `target` bytes below `base`.  The buffer is read after the recursive call,
 * so the frames cannot be merged or turned into a loop.
 */
__attribute__((noinline, noclone)) static int recurse_to(uintptr_t base, size_t target, int depth) {
    volatile char buf[512];
    buf[0] = (char)depth;
    buf[sizeof(buf) - 1] = (char)~depth;
    uintptr_t here = (uintptr_t)buf;
    if (here < deepest)
        deepest = here;
    int r = depth;
    if (base - here < target)
        r = recurse_to(base, target, depth + 1);
    if (buf[0] != (char)depth || buf[sizeof(buf) - 1] != (char)~depth)
        frames_corrupt++;
    return r;
}

/* Uses `target` bytes of the running fiber's stack; returns the depth reached. */
static int use_stack(size_t target) {
    uintptr_t base = (uintptr_t)__builtin_frame_address(0);
    deepest = base;
    frames_corrupt = 0;
    int depth = recurse_to(base, target, 1);
    CHECK(base - deepest >= target);
    CHECK_EQ(frames_corrupt, 0);
    return depth;
}

/* arg: bytes of stack to use (75% of the stack size); then a wait on that stack too. */
static sea_future deep_fn(size_t *targetp) {
    size_t target = *targetp;
    int depth = use_stack(target);
    CHECK(depth > 1);
    int err = sea_await_value(sea_test_later(sea_ready()), NULL);
    if (err)
        return sea_failed(err, "wait failed");
    return sea_ready_int(depth);
}

static void start_and_expect_depth(size_t stack_size, size_t target) {
    sea_fiber_attr attr = {.stack_size = stack_size};
    sea_value v = {0};
    sea_future f = sea_fiber_start_attr(&attr, deep_fn, target);
    int err = sea_await_value(f, &v);
    if (err)
        fprintf(stderr, "  stack size %zu: %s\n", stack_size, sea_errname(err));
    CHECK_EQ(err, 0);
    CHECK(v.i > 1);
}

FIBER_CASE(t_stack_sizes) {
    /* Default (NULL attributes and a zero size), minimum, odd, large and maximal stacks. */
    start_and_expect_depth(0, SEA_FIBER_STACK_DEFAULT * 3 / 4);
    CHECK_EQ(sea_await_value(sea_fiber_start(deep_fn, (size_t)4096), NULL), 0);
    start_and_expect_depth(SEA_FIBER_STACK_DEFAULT, SEA_FIBER_STACK_DEFAULT * 3 / 4);
    start_and_expect_depth(SEA_FIBER_STACK_MIN, SEA_FIBER_STACK_MIN * 3 / 4);
    start_and_expect_depth(100000, 75000); /* not a page multiple: rounded up */
    start_and_expect_depth(8u << 20, 6u << 20);
    start_and_expect_depth(SEA_FIBER_STACK_MAX, 64 * 1024);

    /* Bad sizes. */
    sea_fiber_stats st0 = fstats();
    size_t bad[] = {1, SEA_FIBER_STACK_MIN - 1, (size_t)SEA_FIBER_STACK_MAX + 1, SIZE_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sea_future f = sea_fiber_start_attr(&(sea_fiber_attr){.stack_size = bad[i]}, ret_int_fn, (intptr_t)0);
        CHECK(sea_future_available(&f));
        CHECK_EQ(sea_future_error(&f), -EINVAL);
        CHECK_CONTAINS(sea_future_message(&f), "stack size");
        sea_future_detach(f);
    }
    CHECK_EQ(fstats().started, st0.started);
    CHECK_EQ(fstats().alive, st0.alive);
    return sea_ready();
}

/* The guard region: an overflow in a forked child is reported and aborts. */
static volatile int forever_limit = 1 << 30;
__attribute__((noinline, noclone)) static int recurse_forever(int depth) {
    volatile char buf[1024];
    buf[0] = (char)depth;
    int r = depth;
    if (depth < forever_limit)
        r = recurse_forever(depth + 1);
    return r + buf[0];
}
static void overflow_child(void *arg) {
    (void)arg;
    printf("depth %d\n", recurse_forever(0));
}

static int *volatile null_ptr;
static void null_write_child(void *arg) {
    (void)arg;
    *null_ptr = 1;
    printf("survived\n");
}
static void wild_write_child(void *arg) {
    (void)arg;
    *(volatile int *)(uintptr_t)4096 = 1; /* below mmap_min_addr: never mapped */
    printf("survived\n");
}

static void report_child(const char *what, const struct sea_test_child *c) {
    fprintf(stderr, "  %s: status 0x%x\n  stdout: %s\n  stderr: %s\n", what, c->status, c->out, c->err);
}

/* In a fiber named arg: a forked child recurses without bound on this fiber's stack. */
static sea_future overflow_in_fiber(const char **namep) {
    const char *name = *namep;
    CHECK_STREQ(sea_fiber_name(sea_fiber_self()), name);
    static struct sea_test_child child;
    sea_test_fork(overflow_child, NULL, &child);
    bool ok = sea_test_killed_by(&child, SIGABRT);
    CHECK(ok);
    char want[128];
    snprintf(want, sizeof(want), "sea: fiber stack overflow in fiber '%s'\n", name);
    CHECK_CONTAINS(child.err, want);
    CHECK_STREQ(child.out, "");
    if (!ok || !strstr(child.err, want))
        report_child(name, &child);
    return sea_ready();
}

static void expect_overflow_report(const char *name, size_t stack_size) {
    sea_fiber_attr attr = {.name = name, .stack_size = stack_size};
    CHECK_EQ(sea_await_value(sea_fiber_start_attr(&attr, overflow_in_fiber, name), NULL), 0);
}

FIBER_CASE(t_stack_overflow_reported) {
    /* An arena stack, the smallest stack, a stack of its own mapping. */
    expect_overflow_report("deep-recursion", 0);
    expect_overflow_report("deep-small", SEA_FIBER_STACK_MIN);
    expect_overflow_report("deep-big", 1u << 20);
    return sea_ready();
}

/* Other faults are not overflows: they die as they would without sea (or as the sanitizer makes them). */
static void expect_plain_fault(void (*fn)(void *), const char *what) {
    static struct sea_test_child child;
    sea_test_fork(fn, NULL, &child);
    CHECK(strstr(child.err, "stack overflow in fiber") == NULL);
    CHECK(strstr(child.out, "survived") == NULL);
    CHECK(!sea_test_exited_with(&child, 0));
#if !UNDER_ASAN
    bool ok = sea_test_killed_by(&child, SIGSEGV);
    CHECK(ok);
    if (!ok)
        report_child(what, &child);
#else
    (void)what;
#endif
}
static sea_future faults_in_fiber(void) {
    expect_plain_fault(null_write_child, "null write in a fiber");
    expect_plain_fault(wild_write_child, "wild write in a fiber");
    return sea_ready();
}
static sea_future faults_outside_done(void) {
    /* On the reactor's own stack, with the handler installed by earlier fibers. */
    expect_plain_fault(null_write_child, "null write outside fibers");
    expect_plain_fault(wild_write_child, "wild write outside fibers");
    return sea_ready();
}
static sea_future t_other_faults_not_overflow(void) {
    sea_future f = sea_fiber_start_attr(&(sea_fiber_attr){.name = "faulty"}, faults_in_fiber);
    return sea_then(f, faults_outside_done);
}

/* ---- 100,000 fibers at once ---- */

#define MANY_FIBERS 100000
/* Resident memory an idle fiber may cost (its stack's touched pages, control block, waiting nodes). */
#define MANY_BUDGET_PER_FIBER (16 * 1024)

static long resident_pages(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = -1;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = -1;
        fclose(f);
    }
    return resident;
}

static long mapping_count(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    long n = 0;
    int ch;
    while ((ch = getc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* madvise(MADV_GUARD_INSTALL) (Linux 6.13+): without it guards split the arenas, and fewer fibers fit. */
static bool guard_madvise_works(void) {
    long page = sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    bool ok = madvise(p, (size_t)page, 102 /* MADV_GUARD_INSTALL */) == 0;
    munmap(p, (size_t)page * 2);
    return ok;
}

static struct {
    sea_promise *promises;
    int reached;
} many;

static sea_future many_fn(intptr_t *ip) {
    intptr_t i = *ip;
    many.reached++;
    sea_value v = {0};
    int err = sea_await_value(sea_promise_get_future(&many.promises[i]), &v);
    if (err)
        return sea_failed(err, "many: wait failed");
    return sea_ready_int(v.i * 2 + 1);
}

FIBER_CASE(t_many_fibers) {
    int n = MANY_FIBERS;
    bool guards = guard_madvise_works();
    if (!guards) {
        n = 20000;
        printf("note: no MADV_GUARD_INSTALL on this kernel: %d fibers instead of %d\n", n, MANY_FIBERS);
    }
    long page = sysconf(_SC_PAGESIZE);
    many.promises = malloc((size_t)n * sizeof(*many.promises));
    sea_future *futures = malloc((size_t)n * sizeof(*futures));
    CHECK(many.promises && futures);
    if (!many.promises || !futures) {
        free(many.promises);
        free(futures);
        return sea_failed(-ENOMEM, "arrays");
    }
    memset(futures, 0, (size_t)n * sizeof(*futures));
    for (int i = 0; i < n; i++)
        sea_promise_init(&many.promises[i]);
    many.reached = 0;

    sea_fiber_stats st0 = fstats();
    long rss0 = resident_pages(), maps0 = mapping_count();
    sea_time t0 = sea_now();
    int start_failures = 0;
    for (int i = 0; i < n; i++) {
        futures[i] = sea_fiber_start(many_fn, (intptr_t)(i));
        if (sea_future_failed(&futures[i]) && start_failures++ == 0)
            fprintf(stderr, "  fiber %d failed to start: %s\n", i,
                    sea_errname(sea_future_error(&futures[i])));
    }
    CHECK_EQ(start_failures, 0);
    /* Let them all run to their wait. */
    for (int tries = 0; many.reached < n - start_failures && tries < 1000; tries++)
        CHECK_EQ(sea_fiber_yield(), 0);
    CHECK_EQ(many.reached, n - start_failures);

    sea_fiber_stats peak = fstats();
    long rss1 = resident_pages(), maps1 = mapping_count();
    CHECK_EQ(peak.alive, st0.alive + (uint64_t)n);
    CHECK_EQ(peak.started, st0.started + (uint64_t)n);
    long per_fiber = (rss1 - rss0) * page / n;
    printf("%d fibers alive: %ld bytes resident each, %llu MiB of stack reserved, %ld new mappings, "
           "started in %lld ms\n",
           n, per_fiber, (unsigned long long)(peak.stacks_mapped >> 20), maps1 - maps0,
           (long long)((sea_now() - t0) / SEA_MSEC(1)));
    CHECK(rss0 > 0 && rss1 > 0);
#if !UNDER_ASAN
    CHECK(per_fiber <= MANY_BUDGET_PER_FIBER);
#else
    /* ASan: shadow memory and redzones cost more; only a gross blow-up fails. */
    CHECK(per_fiber <= 4 * MANY_BUDGET_PER_FIBER);
#endif
    /* Stacks come from arenas: far fewer mappings than fibers. */
    if (guards)
        CHECK(maps1 - maps0 < n / 20);

    for (int i = 0; i < n; i++) {
        sea_promise_set_int(&many.promises[i], i);
        sea_promise_release(&many.promises[i]);
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        sea_value v = {0};
        int err = sea_await_value(futures[i], &v);
        if (err || v.i != 2 * (int64_t)i + 1) {
            if (bad++ == 0)
                fprintf(stderr, "  fiber %d: %s, %lld\n", i, sea_errname(err), (long long)v.i);
        }
    }
    CHECK_EQ(bad, 0);
    sea_fiber_stats end = fstats();
    CHECK_EQ(end.alive, st0.alive);
    CHECK(end.stacks_cached >= (uint64_t)n);
    long rss2 = resident_pages();
    printf("after they ended: %ld KiB resident above the start (%ld KiB at the peak)\n",
           (rss2 - rss0) * page / 1024, (rss1 - rss0) * page / 1024);
    free(many.promises);
    free(futures);
    many.promises = NULL;
    return sea_ready();
}

/* ---- stack recycling ---- */

static sea_future short_fn(intptr_t *argp) {
    int err = sea_await_value(sea_test_later(sea_ready()), NULL);
    if (err)
        return sea_failed(err, "wait failed");
    return sea_ready_int((int64_t)*argp);
}

static long minor_faults(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : 0;
}

FIBER_CASE(t_stacks_recycled) {
    /* One after another: the first may need a stack, the rest reuse it. */
    for (size_t size = SEA_FIBER_STACK_DEFAULT, round = 0; round < 2; round++, size = 64 * 1024) {
        sea_fiber_attr attr = {.stack_size = size};
        await_expect_int(sea_fiber_start_attr(&attr, short_fn, (intptr_t)(0)), 0);
        sea_fiber_stats first = fstats();
        CHECK(first.stacks_cached >= 1);
        for (int i = 1; i < 2000; i++)
            await_expect_int(sea_fiber_start_attr(&attr, short_fn, (intptr_t)(i)), i);
        sea_fiber_stats last = fstats();
        CHECK_EQ(last.stacks_mapped, first.stacks_mapped);
        CHECK_EQ(last.started, first.started + 1999);
        CHECK_EQ(last.alive, first.alive);
    }

    /* Batches of 300 at once: after the first batch, nothing more is mapped. */
    enum { BATCH = 300 };
    static sea_future fs[BATCH];
    uint64_t mapped_after_first = 0;
    for (int b = 0; b < 5; b++) {
        for (int i = 0; i < BATCH; i++)
            fs[i] = sea_fiber_start(short_fn, (intptr_t)(i));
        for (int i = 0; i < BATCH; i++)
            await_expect_int(fs[i], i);
        if (b == 0)
            mapped_after_first = fstats().stacks_mapped;
    }
    CHECK_EQ(fstats().stacks_mapped, mapped_after_first);

    /*
     * After that burst more than CACHE_RESIDENT stacks are cached; the most
     * recently used keep their pages, so fibers started one at a time now reuse
     * a resident stack: (almost) no page faults.
     */
    long faults0 = minor_faults();
    for (int i = 0; i < 1000; i++)
        await_expect_int(sea_fiber_start(short_fn, (intptr_t)(i)), i);
    long faults = minor_faults() - faults0;
    if (faults >= 100)
        fprintf(stderr, "  %ld page faults for 1000 fibers on recycled stacks\n", faults);
    CHECK(faults < 100);

    /* Odd sizes: a bounded number of stacks is kept, the rest are unmapped. */
    sea_fiber_stats before = fstats();
    sea_fiber_attr odd = {.stack_size = 48 * 1024};
    for (int b = 0; b < 3; b++) {
        for (int i = 0; i < 40; i++)
            fs[i] = sea_fiber_start_attr(&odd, short_fn, (intptr_t)(i));
        for (int i = 0; i < 40; i++)
            await_expect_int(fs[i], i);
    }
    sea_fiber_stats after = fstats();
    /* At most 40 new stacks were ever mapped, and not all of them are kept. */
    CHECK(after.stacks_mapped <= before.stacks_mapped + 40 * (48 + 16) * 1024);
    CHECK(after.stacks_mapped < before.stacks_mapped + 40 * (48 + 16) * 1024);
    return sea_ready();
}

/* ---- fibers at shutdown, and fibers outside a reactor (fiber_helper) ---- */

static struct sea_test_child hchild;
static int run_helper(const char *mode) {
    char backend_opt[64];
    char *argv[4];
    int n = 0;
    argv[n++] = (char *)helper_path;
    if (sea_test_backend_arg) {
        snprintf(backend_opt, sizeof(backend_opt), "--reactor-backend=%s", sea_test_backend_arg);
        argv[n++] = backend_opt;
    }
    argv[n++] = (char *)mode;
    argv[n] = NULL;
    return sea_test_exec(argv, &hchild);
}
static void expect_helper(const char *mode, const char *out) {
    run_helper(mode);
    bool ok = sea_test_exited_with(&hchild, 0);
    CHECK(ok);
    CHECK_STREQ(hchild.out, out);
    CHECK_STREQ(hchild.err, "");
    if (!ok || strcmp(hchild.out, out) != 0 || hchild.err[0])
        report_child(mode, &hchild);
}

static sea_future t_pending_at_shutdown(void) {
    expect_helper("pending", "main done\nfirst run: 0\nsecond run: 5\n");
    return sea_ready();
}

static sea_future t_detached_fiber_app(void) {
    expect_helper("detached", "fiber done\nmain done\n");
    return sea_ready();
}

static sea_future t_outside_reactor(void) {
    expect_helper("outside", "outside ok\n");
    return sea_ready();
}

static sea_future t_app_run_fiber(void) {
    expect_helper("fiber-main", "fiber main done\nexit 7\n");
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_result),
    SEA_TEST(t_result_awaited_in_fiber),
    SEA_TEST(t_start_bad_arguments),
    SEA_TEST(t_await_ready),
    SEA_TEST(t_await_pending),
    SEA_TEST(t_await_keeps_fp_control),
    SEA_TEST(t_await_outside_fiber),
    SEA_TEST(t_fiber_outlives_starter),
    SEA_TEST(t_interleave_with_continuations),
    SEA_TEST(t_yield_alternates),
    SEA_TEST(t_yield_services_timers),
    SEA_TEST(t_maybe_yield),
    SEA_TEST(t_yield_outside_fiber),
    SEA_TEST(t_self_name_handle),
    SEA_TEST(t_self_outside_fiber),
    SEA_TEST(t_stop_requests),
    SEA_TEST(t_fls_get_set),
    SEA_TEST(t_fls_per_fiber),
    SEA_TEST(t_fls_destructors),
    SEA_TEST(t_fls_outside_fiber),
    SEA_TEST(t_stack_sizes),
    SEA_TEST(t_stack_overflow_reported),
    SEA_TEST(t_other_faults_not_overflow),
    SEA_TEST(t_many_fibers),
    SEA_TEST(t_stacks_recycled),
    SEA_TEST(t_pending_at_shutdown),
    SEA_TEST(t_detached_fiber_app),
    SEA_TEST(t_outside_reactor),
    SEA_TEST(t_app_run_fiber),
};

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s FIBER_HELPER_PATH [harness options]\n", argv[0]);
        return 2;
    }
    helper_path = argv[1];
    argv[1] = argv[0];
    return sea_test_main(argc - 1, argv + 1, cases, SEA_TEST_COUNT(cases));
}
