/*
 * test_future.c - futures and continuations (sea/future.h).
 *
 * Ready values of every kind; sea_then on ready and pending futures; chains
 * that flatten; errors skipping sea_then; sea_then_wrapped, sea_finally and
 * sea_handle_error on every path; owned messages; boxed values; captures
 * (copied when pending, in place when ready, large ones allocated);
 * sea_future_ignore vs sea_future_detach; sea_future_move; availability and
 * inspection of pending futures; the inline depth limit.
 *
 * Note: a compound literal with several initialisers is a macro argument only
 * inside an extra pair of parentheses: sea_then(f, fn, ((struct x){1, 2})).
 */
#include "check.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* ---- helpers ---- */


#define EXPECT_VALUE(f, val) sea_then_wrapped((f), expect_value, ((struct expect){.v = (val)}))
#define EXPECT_ERROR(f, e, m) sea_then_wrapped((f), expect_error, ((struct expect){.err = (e), .msg = (m)}))

static sea_future later_int(int64_t v) {
    return sea_test_later(sea_ready_int(v));
}

/* A continuation adding n to its input; counts its runs. */
struct add {
    int64_t n;
    int *ran;
};
static sea_future add_cont(struct add *c, sea_value v) {
    if (c->ran)
        (*c->ran)++;
    return sea_ready_int(v.i + c->n);
}
/* The same, but the result arrives later (a pending future). */
static sea_future add_later_cont(struct add *c, sea_value v) {
    if (c->ran)
        (*c->ran)++;
    return later_int(v.i + c->n);
}
static sea_future add_sleep_cont(struct add *c, sea_value v) {
    if (c->ran)
        (*c->ran)++;
    return sea_test_sleep_then(SEA_MSEC(1), sea_ready_int(v.i + c->n));
}

/* A continuation that must never run. */
static int never_ran;
static sea_future never_cont(void) {
    never_ran++;
    return sea_ready_int(-1);
}

/* Checks a counter once the future before it is done. */
struct count_check {
    int *counter;
    int expected;
};
static sea_future count_check_cont(struct count_check *c, sea_future *in) {
    (void)sea_future_error(in);
    CHECK_EQ(*c->counter, c->expected);
    return sea_future_move(in);
}
#define CHECK_COUNT_AFTER(f, ctr, exp) \
    sea_then_wrapped((f), count_check_cont, ((struct count_check){.counter = (ctr), .expected = (exp)}))

static uint64_t ignored_now(void) {
    return sea_test_stats().ignored_failures;
}

/* ---- ready values ---- */

static sea_future t_ready_values(void) {
    sea_future f = sea_ready();
    CHECK(sea_future_available(&f));
    CHECK(!sea_future_failed(&f));
    CHECK_EQ(sea_future_error(&f), 0);
    CHECK(sea_future_message(&f) == NULL);
    CHECK_EQ(sea_future_value(&f).i, 0);

    f = sea_ready_int(-42);
    CHECK(sea_future_available(&f));
    CHECK_EQ(sea_future_value(&f).i, -42);
    f = sea_ready_int(INT64_MAX);
    CHECK(sea_future_value(&f).i == INT64_MAX);
    f = sea_ready_int(INT64_MIN);
    CHECK(sea_future_value(&f).i == INT64_MIN);

    f = sea_ready_size(SIZE_MAX);
    CHECK(sea_future_available(&f) && !sea_future_failed(&f));
    CHECK(sea_future_value(&f).size == SIZE_MAX);

    static int x;
    f = sea_ready_ptr(&x);
    CHECK(sea_future_value(&f).ptr == &x);
    f = sea_ready_ptr(NULL);
    CHECK(sea_future_value(&f).ptr == NULL);

    f = sea_ready_double(2.5);
    CHECK(sea_future_value(&f).d == 2.5);
    f = sea_ready_double(-DBL_MAX);
    CHECK(sea_future_value(&f).d == -DBL_MAX);

    f = sea_ready_value((sea_value){.u = UINT64_MAX});
    CHECK(sea_future_value(&f).u == UINT64_MAX);
    CHECK_EQ(sea_future_error(&f), 0);
    CHECK(sea_future_message(&f) == NULL);
    return sea_ready();
}

/* Each kind of value through sea_then, ready and pending. */
enum vkind { VK_VOID, VK_INT, VK_SIZE, VK_PTR, VK_DOUBLE };
struct vcheck {
    enum vkind kind;
    sea_value expect;
};
static int vchecks_ran;
static sea_future vcheck_cont(struct vcheck *c, sea_value v) {
    vchecks_ran++;
    switch (c->kind) {
    case VK_VOID:
        CHECK_EQ(v.i, 0);
        break;
    case VK_INT:
        CHECK_EQ(v.i, c->expect.i);
        break;
    case VK_SIZE:
        CHECK(v.size == c->expect.size);
        break;
    case VK_PTR:
        CHECK(v.ptr == c->expect.ptr);
        break;
    case VK_DOUBLE:
        CHECK(v.d == c->expect.d);
        break;
    }
    return sea_ready();
}

static sea_future t_values_through_then(void) {
    static char obj;
    struct {
        enum vkind kind;
        sea_future f;
        sea_value v;
    } vals[] = {
        {VK_VOID, sea_ready(), {0}},
        {VK_INT, sea_ready_int(-7), {.i = -7}},
        {VK_SIZE, sea_ready_size((size_t)1 << 40), {.size = (size_t)1 << 40}},
        {VK_PTR, sea_ready_ptr(&obj), {.ptr = &obj}},
        {VK_DOUBLE, sea_ready_double(0.125), {.d = 0.125}},
    };
    vchecks_ran = 0;
    sea_future all = sea_ready();
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        /* Ready: runs at once. */
        int before = vchecks_ran;
        sea_future r = sea_then(vals[i].f, vcheck_cont, ((struct vcheck){vals[i].kind, vals[i].v}));
        CHECK_EQ(vchecks_ran, before + 1);
        CHECK(sea_future_available(&r));
        all = sea_test_join(all, r);
        /* Pending: runs later. */
        sea_future p = sea_then(sea_test_later(vals[i].f), vcheck_cont, ((struct vcheck){vals[i].kind, vals[i].v}));
        CHECK_EQ(vchecks_ran, before + 1);
        CHECK(!sea_future_available(&p));
        all = sea_test_join(all, p);
    }
    return CHECK_COUNT_AFTER(all, &vchecks_ran, 10);
}

/* ---- sea_then ---- */

static sea_future t_then_ready_runs_at_once(void) {
    int ran = 0;
    sea_future f = sea_then(sea_ready_int(5), add_cont, ((struct add){.n = 2, .ran = &ran}));
    CHECK_EQ(ran, 1);
    CHECK(sea_future_available(&f));
    CHECK(!sea_future_failed(&f));
    CHECK_EQ(sea_future_value(&f).i, 7);
    return sea_ready();
}

static int pending_ran;
static sea_future t_then_pending(void) {
    pending_ran = 0;
    sea_future f = sea_then(later_int(5), add_cont, ((struct add){.n = 2, .ran = &pending_ran}));
    CHECK_EQ(pending_ran, 0);
    CHECK(!sea_future_available(&f));
    f = sea_then(f, add_cont, ((struct add){.n = 10, .ran = &pending_ran}));
    CHECK_EQ(pending_ran, 0);
    return CHECK_COUNT_AFTER(EXPECT_VALUE(f, 17), &pending_ran, 2);
}

/* A capture is a copy: of the value it had when sea_then was called. */
struct where {
    int value;
    struct where **seen;
};
static sea_future where_cont(struct where *c) {
    *c->seen = c;
    return sea_ready_int(c->value);
}

static sea_future t_capture_in_place_or_copied(void) {
    static struct where *seen;
    struct where w = {.value = 1, .seen = &seen};
    sea_future f = sea_then(sea_ready(), where_cont, w);
    CHECK(seen != NULL && seen != &w);
    CHECK_EQ(sea_future_value(&f).i, 1);

    seen = NULL;
    sea_future p = sea_then(sea_test_later(sea_ready()), where_cont, w);
    w.value = 2; /* too late: the bytes were copied */
    CHECK(seen == NULL);
    return EXPECT_VALUE(p, 1);
}

static sea_future t_chain_flattens(void) {
    sea_future all = sea_ready();
    /* Ready input, continuation returns a pending future. */
    sea_future f = sea_then(sea_ready_int(1), add_later_cont, ((struct add){.n = 10}));
    CHECK(!sea_future_available(&f));
    all = sea_test_join(all, EXPECT_VALUE(f, 11));
    /* Pending input, continuation returns a pending future. */
    all = sea_test_join(all, EXPECT_VALUE(sea_then(later_int(1), add_later_cont, ((struct add){.n = 20})), 21));
    /* Pending input, continuation returns a ready future. */
    all = sea_test_join(all, EXPECT_VALUE(sea_then(later_int(1), add_cont, ((struct add){.n = 30})), 31));
    /* Pending input, continuation returns a future waiting on a timer. */
    all = sea_test_join(all, EXPECT_VALUE(sea_then(later_int(1), add_sleep_cont, ((struct add){.n = 40})), 41));
    /* Ready input, continuation returns a future waiting on a timer. */
    all = sea_test_join(all, EXPECT_VALUE(sea_then(sea_ready_int(2), add_sleep_cont, ((struct add){.n = 40})), 42));
    /* A long chain of pending steps, half of them flattening. */
    sea_future g = later_int(0);
    for (int i = 0; i < 1000; i++)
        g = i % 2 ? sea_then(g, add_later_cont, ((struct add){.n = 1})) : sea_then(g, add_cont, ((struct add){.n = 1}));
    all = sea_test_join(all, EXPECT_VALUE(g, 1000));
    return all;
}

/* A chain flattened through several levels of pending futures. */
static sea_future nest_cont(struct add *c, sea_value v) {
    if (c->n == 0)
        return later_int(v.i);
    return sea_then(later_int(v.i + 1), nest_cont, ((struct add){.n = c->n - 1}));
}

static sea_future t_chain_flattens_nested(void) {
    sea_reactor_stats before = sea_test_stats();
    sea_future f = sea_then(later_int(0), nest_cont, ((struct add){.n = 50}));
    sea_reactor_stats during = sea_test_stats();
    CHECK(during.nodes_in_use > before.nodes_in_use);
    return EXPECT_VALUE(f, 50);
}

static sea_future fail_cont(struct expect *c) {
    return sea_failed(c->err, c->msg);
}

static sea_future t_errors_skip_then(void) {
    never_ran = 0;
    /* Ready error: every sea_then is skipped at once. */
    sea_future f = sea_failed(-EIO, "disk");
    for (int i = 0; i < 3; i++)
        f = sea_then(f, never_cont);
    CHECK_EQ(never_ran, 0);
    CHECK(sea_future_available(&f) && sea_future_failed(&f));
    sea_future all = EXPECT_ERROR(f, -EIO, "disk");

    /* An error raised by a pending step skips the rest of the chain. */
    sea_future g = sea_then(later_int(1), fail_cont, ((struct expect){.err = -ENOENT, .msg = "gone"}));
    for (int i = 0; i < 5; i++)
        g = sea_then(g, never_cont);
    all = sea_test_join(all, EXPECT_ERROR(g, -ENOENT, "gone"));

    /* An error from a pending source. */
    sea_future h = sea_test_later(sea_failed(SEA_ECANCELED, NULL));
    h = sea_then(h, never_cont);
    h = sea_then(h, add_cont, ((struct add){.n = 1}));
    all = sea_test_join(all, EXPECT_ERROR(h, SEA_ECANCELED, NULL));
    return CHECK_COUNT_AFTER(all, &never_ran, 0);
}

static sea_future t_failed_codes(void) {
    sea_future f = sea_failed(0, NULL);
    CHECK(sea_future_failed(&f));
    CHECK_EQ(sea_future_error(&f), -EINVAL);
    f = sea_failed(7, "positive");
    CHECK_EQ(sea_future_error(&f), -EINVAL);
    CHECK_STREQ(sea_future_message(&f), "positive");
    f = sea_failed(INT_MAX, NULL);
    CHECK_EQ(sea_future_error(&f), -EINVAL);
    f = sea_failed(-EAGAIN, NULL);
    CHECK(sea_future_available(&f));
    CHECK_EQ(sea_future_error(&f), -EAGAIN);
    CHECK(sea_future_message(&f) == NULL);
    CHECK_EQ(sea_future_value(&f).i, 0);
    f = sea_failed(SEA_EBROKEN_PROMISE, "b");
    CHECK_EQ(sea_future_error(&f), SEA_EBROKEN_PROMISE);
    /* A failed future never looks like success. */
    f = sea_failed(INT_MIN, NULL);
    CHECK(sea_future_error(&f) < 0);
    sea_future_detach(f);
    return sea_ready();
}

/* ---- sea_then_wrapped ---- */

struct wrapped_cap {
    int mode; /* 0: observe, 1: only sea_future_failed, 2: move, 3: observe + recover */
    int *ran;
};
static sea_future wrapped_cont(struct wrapped_cap *c, sea_future *in) {
    (*c->ran)++;
    CHECK(sea_future_available(in));
    switch (c->mode) {
    case 0: {
        int err = sea_future_error(in);
        if (err)
            return sea_ready_int(err);
        return sea_ready_int(sea_future_value(in).i * 2);
    }
    case 1:
        return sea_ready_int(sea_future_failed(in) ? -1 : 1);
    case 2:
        return sea_future_move(in);
    default:
        (void)sea_future_error(in);
        return sea_ready_int(77);
    }
}

static sea_future t_wrapped_value(void) {
    int ran = 0;
    sea_future f = sea_then_wrapped(sea_ready_int(21), wrapped_cont, ((struct wrapped_cap){0, &ran}));
    CHECK_EQ(ran, 1);
    CHECK(sea_future_available(&f));
    CHECK_EQ(sea_future_value(&f).i, 42);
    static int pran;
    pran = 0;
    sea_future p = sea_then_wrapped(later_int(4), wrapped_cont, ((struct wrapped_cap){0, &pran}));
    CHECK_EQ(pran, 0);
    return CHECK_COUNT_AFTER(EXPECT_VALUE(p, 8), &pran, 1);
}

static uint64_t wrap_ignored_before;
static int wrap_ran;
static sea_future wrapped_error_observed_done(sea_future *in) {
    const char *err = sea_test_stderr_end();
    CHECK_EQ(sea_future_error(in), 0);
    CHECK_EQ(sea_future_value(in).i, -EIO);
    CHECK_EQ(ignored_now(), wrap_ignored_before);
    CHECK(strstr(err, "exceptional future ignored") == NULL);
    CHECK_EQ(wrap_ran, 2);
    return sea_ready();
}

static sea_future t_wrapped_error_observed(void) {
    wrap_ignored_before = ignored_now();
    wrap_ran = 0;
    sea_test_stderr_begin();
    /* Ready: the continuation reads the code, so nothing is reported. */
    sea_future f = sea_then_wrapped(sea_failed(-EIO, "x"), wrapped_cont, ((struct wrapped_cap){0, &wrap_ran}));
    CHECK_EQ(sea_future_value(&f).i, -EIO);
    /* Pending, with an owned message. */
    sea_future p = sea_then_wrapped(sea_test_later(sea_failed_fmt(-EIO, "pending %d", 1)), wrapped_cont,
                                    ((struct wrapped_cap){0, &wrap_ran}));
    return sea_then_wrapped(p, wrapped_error_observed_done);
}

static sea_future wrapped_error_unobserved_done(sea_future *in) {
    const char *err = sea_test_stderr_end();
    CHECK_EQ(sea_future_error(in), 0);
    CHECK_EQ(sea_future_value(in).i, -1);
    CHECK_EQ(ignored_now(), wrap_ignored_before + 3);
    CHECK_EQ(sea_test_count_lines(err), 3);
    CHECK_CONTAINS(err, "exceptional future ignored: ");
    CHECK_CONTAINS(err, "EPIPE");
    CHECK_CONTAINS(err, "ready pipe");
    CHECK_CONTAINS(err, "ENOTCONN");
    CHECK_CONTAINS(err, "pending owned 3");
    CHECK_CONTAINS(err, "ECONNRESET");
    CHECK_EQ(wrap_ran, 3);
    return sea_ready();
}

static sea_future t_wrapped_error_unobserved(void) {
    wrap_ignored_before = ignored_now();
    wrap_ran = 0;
    sea_test_stderr_begin();
    /* Ready: the continuation looks (sea_future_failed) but never reads the code. */
    sea_future f = sea_then_wrapped(sea_failed(-EPIPE, "ready pipe"), wrapped_cont, ((struct wrapped_cap){1, &wrap_ran}));
    CHECK_EQ(sea_future_value(&f).i, -1);
    CHECK_EQ(ignored_now(), wrap_ignored_before + 1);
    /* Pending (past the inline depth: see t_inline_deferred_kinds). */
    sea_future p = sea_then_wrapped(sea_test_later(sea_failed_fmt(-ENOTCONN, "pending owned %d", 3)), wrapped_cont,
                                    ((struct wrapped_cap){1, &wrap_ran}));
    sea_future q = sea_then_wrapped(sea_test_later(sea_failed(-ECONNRESET, NULL)), wrapped_cont,
                                    ((struct wrapped_cap){1, &wrap_ran}));
    return sea_then_wrapped(sea_test_join(q, p), wrapped_error_unobserved_done);
}

static sea_future wrapped_move_done(sea_future *in) {
    const char *err = sea_test_stderr_end();
    CHECK_EQ(sea_future_error(in), -EBADMSG);
    CHECK_STREQ(sea_future_message(in), "moved 9");
    CHECK_EQ(ignored_now(), wrap_ignored_before);
    CHECK(strstr(err, "exceptional future ignored") == NULL);
    return sea_ready();
}

static sea_future t_wrapped_move_and_recover(void) {
    wrap_ignored_before = ignored_now();
    wrap_ran = 0;
    sea_test_stderr_begin();
    /* Recovering from an error. */
    sea_future f = sea_then_wrapped(sea_failed(-EIO, NULL), wrapped_cont, ((struct wrapped_cap){3, &wrap_ran}));
    CHECK_EQ(sea_future_value(&f).i, 77);
    /* Moving the input out passes it on unchanged and unreported: ready... */
    sea_future g = sea_then_wrapped(sea_failed_fmt(-EBADMSG, "moved %d", 9), wrapped_cont,
                                    ((struct wrapped_cap){2, &wrap_ran}));
    CHECK(sea_future_failed(&g));
    CHECK_STREQ(sea_future_message(&g), "moved 9");
    /* ...and pending. */
    g = sea_then_wrapped(sea_test_later(g), wrapped_cont, ((struct wrapped_cap){2, &wrap_ran}));
    g = sea_then_wrapped(g, wrapped_cont, ((struct wrapped_cap){2, &wrap_ran}));
    return sea_then_wrapped(g, wrapped_move_done);
}

/* ---- sea_finally ---- */

struct fin {
    int *ran;
    int fail;      /* the finally step's own error, 0 for none */
    int pending;   /* the finally step returns a pending future */
    int *released; /* non-NULL: the finally step returns a boxed value */
};
static sea_future fin_cont(struct fin *c) {
    (*c->ran)++;
    sea_future r;
    if (c->fail)
        r = sea_failed_fmt(c->fail, "finally failed %d", c->fail);
    else if (c->released)
        r = sea_ready_box(&sea_test_box_new(c->released, 5)->box);
    else
        r = sea_ready();
    return c->pending ? sea_test_sleep_then(SEA_MSEC(1), r) : r;
}

static int fin_ran;
static sea_future t_finally_runs_either_way(void) {
    fin_ran = 0;
    /* Ready value / ready error: fn runs at once, the result passes through. */
    sea_future f = sea_finally(sea_ready_int(3), fin_cont, ((struct fin){.ran = &fin_ran}));
    CHECK_EQ(fin_ran, 1);
    CHECK_EQ(sea_future_value(&f).i, 3);
    f = sea_finally(sea_failed(-EIO, "io"), fin_cont, ((struct fin){.ran = &fin_ran}));
    CHECK_EQ(fin_ran, 2);
    CHECK_EQ(sea_future_error(&f), -EIO);
    CHECK_STREQ(sea_future_message(&f), "io");
    /* Pending value / pending error with an owned message. */
    sea_future all = EXPECT_VALUE(sea_finally(later_int(4), fin_cont, ((struct fin){.ran = &fin_ran})), 4);
    all = sea_test_join(all, EXPECT_ERROR(sea_finally(sea_test_later(sea_failed_fmt(-ENOSPC, "full %s", "disk")),
                                                      fin_cont, ((struct fin){.ran = &fin_ran})),
                                          -ENOSPC, "full disk"));
    /* A finally step returning a pending future: the result waits for it. */
    all = sea_test_join(all, EXPECT_VALUE(sea_finally(sea_ready_int(5), fin_cont,
                                                      ((struct fin){.ran = &fin_ran, .pending = 1})),
                                          5));
    all = sea_test_join(all, EXPECT_ERROR(sea_finally(sea_test_later(sea_failed(-EROFS, "ro")), fin_cont,
                                                      ((struct fin){.ran = &fin_ran, .pending = 1})),
                                          -EROFS, "ro"));
    return CHECK_COUNT_AFTER(all, &fin_ran, 6);
}

static sea_future t_finally_own_failure_replaces(void) {
    fin_ran = 0;
    sea_future f = sea_finally(sea_ready_int(3), fin_cont, ((struct fin){.ran = &fin_ran, .fail = -EPIPE}));
    CHECK_EQ(fin_ran, 1);
    CHECK_EQ(sea_future_error(&f), -EPIPE);
    CHECK_STREQ(sea_future_message(&f), "finally failed -32");
    sea_future_detach(f);
    /* Both fail: the finally step's error wins (the input's owned message is freed). */
    sea_future all = EXPECT_ERROR(sea_finally(sea_failed_fmt(-EIO, "input %d", 1), fin_cont,
                                              ((struct fin){.ran = &fin_ran, .fail = -EPIPE})),
                                  -EPIPE, "finally failed -32");
    all = sea_test_join(all, EXPECT_ERROR(sea_finally(later_int(1), fin_cont,
                                                      ((struct fin){.ran = &fin_ran, .fail = -ENOMSG})),
                                          -ENOMSG, "finally failed -42"));
    all = sea_test_join(all, EXPECT_ERROR(sea_finally(sea_test_later(sea_failed_fmt(-EIO, "in %d", 2)), fin_cont,
                                                      ((struct fin){.ran = &fin_ran, .fail = -ENOMSG})),
                                          -ENOMSG, "finally failed -42"));
    /* A pending finally step that fails replaces the result too. */
    all = sea_test_join(all, EXPECT_ERROR(sea_finally(sea_ready_int(1), fin_cont,
                                                      ((struct fin){.ran = &fin_ran, .fail = -ETIME, .pending = 1})),
                                          -ETIME, "finally failed -62"));
    all = sea_test_join(all, EXPECT_ERROR(sea_finally(sea_test_later(sea_failed(-EIO, NULL)), fin_cont,
                                                      ((struct fin){.ran = &fin_ran, .fail = -ETIME, .pending = 1})),
                                          -ETIME, "finally failed -62"));
    return CHECK_COUNT_AFTER(all, &fin_ran, 6);
}

static int fin_released;
static sea_future t_finally_boxed_results(void) {
    fin_ran = 0;
    fin_released = 0;
    /* The finally step's own boxed value is dropped (released); the input passes. */
    sea_future f = sea_finally(sea_ready_int(8), fin_cont, ((struct fin){.ran = &fin_ran, .released = &fin_released}));
    CHECK_EQ(fin_released, 1);
    CHECK_EQ(sea_future_value(&f).i, 8);
    sea_future all = EXPECT_VALUE(sea_finally(later_int(9), fin_cont,
                                              ((struct fin){.ran = &fin_ran, .released = &fin_released, .pending = 1})),
                                  9);
    return CHECK_COUNT_AFTER(all, &fin_released, 2);
}

/* ---- sea_handle_error ---- */

struct handler {
    int *ran;
    int expect_err;
    const char *expect_msg;
    int mode; /* 0: recover with 99, 1: rethrow -EPERM "nope", 2: recover later with 5 */
};
static sea_future handler_cont(struct handler *c, int err, const char *msg) {
    (*c->ran)++;
    CHECK_EQ(err, c->expect_err);
    if (c->expect_msg)
        CHECK_STREQ(msg, c->expect_msg);
    else
        CHECK(msg == NULL);
    switch (c->mode) {
    case 0:
        return sea_ready_int(99);
    case 1:
        return sea_failed(-EPERM, "nope");
    default:
        return later_int(5);
    }
}

static int handle_ran;
static sea_future t_handle_error(void) {
    handle_ran = 0;
    /* Recover, ready. */
    sea_future f = sea_handle_error(sea_failed(-EIO, "m"), handler_cont,
                                    ((struct handler){&handle_ran, -EIO, "m", 0}));
    CHECK_EQ(handle_ran, 1);
    CHECK(!sea_future_failed(&f));
    CHECK_EQ(sea_future_value(&f).i, 99);
    /* Rethrow, ready, owned message (valid during the call, freed afterwards). */
    f = sea_handle_error(sea_failed_fmt(-EIO, "owned %d", 17), handler_cont,
                         ((struct handler){&handle_ran, -EIO, "owned 17", 1}));
    CHECK_EQ(handle_ran, 2);
    CHECK_EQ(sea_future_error(&f), -EPERM);
    CHECK_STREQ(sea_future_message(&f), "nope");
    /* Success passes through untouched, ready: the handler never runs. */
    f = sea_handle_error(sea_ready_int(12), handler_cont, ((struct handler){&handle_ran, 0, NULL, 0}));
    CHECK_EQ(handle_ran, 2);
    CHECK_EQ(sea_future_value(&f).i, 12);

    /* Pending: recover, rethrow, recover with a pending future, pass through. */
    sea_future all = EXPECT_VALUE(sea_handle_error(sea_test_later(sea_failed(-ENOENT, NULL)), handler_cont,
                                                   ((struct handler){&handle_ran, -ENOENT, NULL, 0})),
                                  99);
    all = sea_test_join(all, EXPECT_ERROR(sea_handle_error(sea_test_later(sea_failed_fmt(-EIO, "p%d", 1)),
                                                           handler_cont,
                                                           ((struct handler){&handle_ran, -EIO, "p1", 1})),
                                          -EPERM, "nope"));
    all = sea_test_join(all, EXPECT_VALUE(sea_handle_error(sea_failed(-EIO, NULL), handler_cont,
                                                           ((struct handler){&handle_ran, -EIO, NULL, 2})),
                                          5));
    all = sea_test_join(all, EXPECT_VALUE(sea_handle_error(later_int(13), handler_cont,
                                                           ((struct handler){&handle_ran, 0, NULL, 0})),
                                          13));
    /* An error produced further up the chain reaches the handler past skipped steps. */
    sea_future g = sea_then(later_int(1), fail_cont, ((struct expect){.err = -EXDEV, .msg = "xdev"}));
    g = sea_then(g, never_cont);
    g = sea_handle_error(g, handler_cont, ((struct handler){&handle_ran, -EXDEV, "xdev", 0}));
    all = sea_test_join(all, EXPECT_VALUE(g, 99));
    return CHECK_COUNT_AFTER(all, &handle_ran, 6);
}

/* ---- owned messages ---- */

static sea_future t_failed_fmt(void) {
    sea_future f = sea_failed_fmt(-ENOENT, "no %s #%d", "file", 3);
    CHECK(sea_future_available(&f));
    CHECK(sea_future_failed(&f));
    CHECK_EQ(sea_future_error(&f), -ENOENT);
    CHECK_STREQ(sea_future_message(&f), "no file #3");
    /* Consumed by every route; each frees the message exactly once (ASan). */
    sea_future_detach(f);
    sea_future_detach(sea_failed_fmt(-EIO, "detached %d", 1));
    sea_future_detach(sea_then(sea_failed_fmt(-EIO, "skipped %d", 2), never_cont));
    /* A positive code becomes -EINVAL. */
    f = sea_failed_fmt(3, "%s", "pos");
    CHECK_EQ(sea_future_error(&f), -EINVAL);
    sea_future_detach(f);
    /* A long message. */
    static char big[5000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    f = sea_failed_fmt(-E2BIG, "<%s>", big);
    CHECK_EQ(strlen(sea_future_message(&f)), sizeof(big) + 1);
    sea_future_detach(sea_test_later(f));
    /*
     * A message that cannot be formatted (a wide character the "C" locale cannot
     * encode makes vasprintf fail, as running out of memory would): the error
     * keeps its code and carries no message.
     */
    static const wchar_t unencodable[] = {0xe9, 0};
    f = sea_failed_fmt(-ENOTSUP, "%ls", unencodable);
    CHECK(sea_future_failed(&f));
    CHECK_EQ(sea_future_error(&f), -ENOTSUP);
    CHECK(sea_future_message(&f) == NULL);
    sea_future_detach(f);
    /* Through pending chains. */
    sea_future all = EXPECT_ERROR(sea_then(sea_test_later(sea_failed_fmt(-EIO, "late %d", 4)), never_cont),
                                  -EIO, "late 4");
    sea_future_detach(sea_then(sea_test_later(sea_failed_fmt(-EIO, "late detached %d", 5)), never_cont));
    return all;
}

/* ---- boxed values ---- */

struct take {
    int64_t payload;
};
static sea_future take_then_cont(struct take *c, sea_value v) {
    struct sea_test_box *b = v.ptr;
    CHECK(b != NULL);
    if (b) {
        CHECK_EQ(b->payload, c->payload);
        sea_test_box_free(b);
    }
    return sea_ready();
}
static sea_future take_wrapped_cont(struct take *c, sea_future *in) {
    CHECK(!sea_future_failed(in));
    struct sea_test_box *b = sea_future_value(in).ptr;
    CHECK(b != NULL);
    if (b) {
        CHECK_EQ(b->payload, c->payload);
        sea_test_box_free(b);
    }
    return sea_ready();
}
static sea_future peek_wrapped_cont(struct take *c, sea_future *in) {
    (void)c;
    CHECK(sea_future_available(in));
    CHECK(!sea_future_failed(in));
    return sea_ready();
}
static sea_future move_wrapped_cont(struct take *c, sea_future *in) {
    (void)c;
    return sea_future_move(in);
}

static sea_future box_future(int *released, int64_t payload) {
    return sea_ready_box(&sea_test_box_new(released, payload)->box);
}

static int box_released;
static sea_future t_box_dropped_is_released(void) {
    box_released = 0;
    sea_future_detach(box_future(&box_released, 1));
    CHECK_EQ(box_released, 1);
    uint64_t ign = ignored_now();
    sea_future_ignore(box_future(&box_released, 2));
    CHECK_EQ(box_released, 2);
    CHECK_EQ(ignored_now(), ign); /* a value is not a failure */
    /* A then_wrapped continuation that does not take it. */
    sea_future f = sea_then_wrapped(box_future(&box_released, 3), peek_wrapped_cont, ((struct take){3}));
    CHECK_EQ(box_released, 3);
    sea_future_detach(f);
    /* Pending: released when the value arrives. */
    sea_future_detach(sea_test_later(box_future(&box_released, 4)));
    sea_future_ignore(sea_test_later(box_future(&box_released, 5)));
    sea_future all = sea_then_wrapped(sea_test_later(box_future(&box_released, 6)), peek_wrapped_cont, ((struct take){6}));
    CHECK_EQ(box_released, 3);
    /* Dropping a chain that carries a box through sea_finally / sea_handle_error. */
    sea_future_detach(sea_handle_error(sea_finally(sea_test_later(box_future(&box_released, 7)), fin_cont,
                                                   ((struct fin){.ran = &fin_ran})),
                                       handler_cont, ((struct handler){&handle_ran, 0, NULL, 0})));
    /* A finally step that fails drops the boxed input. */
    sea_future_detach(sea_finally(box_future(&box_released, 8), fin_cont, ((struct fin){.ran = &fin_ran, .fail = -EIO})));
    CHECK_EQ(box_released, 4);
    /* Wait for the pending ones (a sleep: at least one loop turn beyond the yields). */
    all = sea_test_join(all, sea_sleep(SEA_MSEC(2)));
    return CHECK_COUNT_AFTER(all, &box_released, 8);
}

static sea_future t_box_taken_is_not_released(void) {
    box_released = 0;
    sea_future f = sea_then(box_future(&box_released, 1), take_then_cont, ((struct take){1}));
    CHECK(sea_future_available(&f));
    f = sea_then_wrapped(box_future(&box_released, 2), take_wrapped_cont, ((struct take){2}));
    CHECK(sea_future_available(&f));
    /* sea_future_value on a plain ready box future takes it. */
    sea_future g = box_future(&box_released, 3);
    struct sea_test_box *b = sea_future_value(&g).ptr;
    CHECK(b && b->payload == 3);
    sea_future_detach(g); /* no longer owns the box */
    sea_test_box_free(b);
    CHECK_EQ(box_released, 0);
    /* Pending, through pass-through steps. */
    sea_future all = sea_then(sea_test_later(box_future(&box_released, 4)), take_then_cont, ((struct take){4}));
    sea_future h = sea_handle_error(sea_test_later(box_future(&box_released, 5)), handler_cont,
                                    ((struct handler){&handle_ran, 0, NULL, 0}));
    h = sea_finally(h, fin_cont, ((struct fin){.ran = &fin_ran}));
    h = sea_then_wrapped(h, move_wrapped_cont, ((struct take){5}));
    h = sea_then_wrapped(h, take_wrapped_cont, ((struct take){5}));
    all = sea_test_join(all, h);
    /* Ready, through pass-through steps. */
    sea_future r = sea_handle_error(box_future(&box_released, 6), handler_cont, ((struct handler){&handle_ran, 0, NULL, 0}));
    r = sea_finally(r, fin_cont, ((struct fin){.ran = &fin_ran}));
    r = sea_then(r, take_then_cont, ((struct take){6}));
    all = sea_test_join(all, r);
    return CHECK_COUNT_AFTER(all, &box_released, 0);
}

/* ---- captures ---- */

struct big {
    unsigned char bytes[200];
    int id;
    int *ran;
};
static struct big make_big(int id, int *ran) {
    struct big b;
    for (size_t i = 0; i < sizeof(b.bytes); i++)
        b.bytes[i] = (unsigned char)(i * 7 + (size_t)id);
    b.id = id;
    b.ran = ran;
    return b;
}
static void check_big(const struct big *b) {
    int bad = 0;
    for (size_t i = 0; i < sizeof(b->bytes); i++)
        bad += b->bytes[i] != (unsigned char)(i * 7 + (size_t)b->id);
    CHECK_EQ(bad, 0);
}
static sea_future big_then(struct big *b, sea_value v) {
    check_big(b);
    (*b->ran)++;
    return sea_ready_int(v.i + b->id);
}
static sea_future big_wrapped(struct big *b, sea_future *in) {
    check_big(b);
    (*b->ran)++;
    return sea_future_move(in);
}
static sea_future big_finally(struct big *b) {
    check_big(b);
    (*b->ran)++;
    return sea_ready();
}
static sea_future big_handle(struct big *b, int err, const char *msg) {
    (void)msg;
    check_big(b);
    (*b->ran)++;
    return sea_ready_int(-err);
}

/* A capture must be an lvalue: an array compound literal's element is one. */
#define BIG(id, ran) ((struct big[1]){make_big((id), (ran))})[0]

_Static_assert(sizeof(struct big) > SEA_CAPTURE_INLINE, "the big capture must not fit inline");

static int big_ran;
static sea_future t_capture_large(void) {
    big_ran = 0;
    /* Ready: in place. */
    sea_future f = sea_then(sea_ready_int(1), big_then, BIG(1, &big_ran));
    CHECK_EQ(sea_future_value(&f).i, 2);
    /* Pending: allocated, run, freed. */
    sea_future all = EXPECT_VALUE(sea_then(later_int(1), big_then, BIG(2, &big_ran)), 3);
    all = sea_test_join(all, EXPECT_VALUE(sea_then_wrapped(later_int(4), big_wrapped, BIG(3, &big_ran)), 4));
    all = sea_test_join(all, EXPECT_VALUE(sea_finally(later_int(5), big_finally, BIG(4, &big_ran)), 5));
    all = sea_test_join(all, EXPECT_VALUE(sea_handle_error(sea_test_later(sea_failed(-EIO, NULL)), big_handle,
                                                           BIG(5, &big_ran)),
                                          EIO));
    /* Pending and skipped: freed without running (ASan checks for leaks). */
    all = sea_test_join(all, EXPECT_ERROR(sea_then(sea_test_later(sea_failed(-EIO, NULL)), big_then,
                                                   BIG(6, &big_ran)),
                                          -EIO, NULL));
    all = sea_test_join(all, EXPECT_VALUE(sea_handle_error(later_int(6), big_handle, BIG(7, &big_ran)), 6));
    /* Pending and dropped. */
    sea_future_detach(sea_then(later_int(1), big_then, BIG(8, &big_ran)));
    sea_future_detach(sea_then(sea_test_later(sea_failed(-EIO, NULL)), big_then, BIG(9, &big_ran)));
    /* Runs: 1 (ready), 2, 3, 4, 5 and 8; skipped: 6, 7 and 9. */
    return CHECK_COUNT_AFTER(sea_test_join(all, sea_sleep(SEA_MSEC(1))), &big_ran, 6);
}

struct cap56 {
    unsigned char b[SEA_CAPTURE_INLINE - 8];
    int64_t id;
};
struct cap57 {
    unsigned char b[SEA_CAPTURE_INLINE - 7];
    int64_t id;
} __attribute__((packed));
static sea_future cap56_cont(struct cap56 *c, sea_value v) {
    int bad = 0;
    for (size_t i = 0; i < sizeof(c->b); i++)
        bad += c->b[i] != (unsigned char)i;
    CHECK_EQ(bad, 0);
    return sea_ready_int(v.i + c->id);
}
static sea_future cap57_cont(struct cap57 *c, sea_value v) {
    int bad = 0;
    for (size_t i = 0; i < sizeof(c->b); i++)
        bad += c->b[i] != (unsigned char)i;
    CHECK_EQ(bad, 0);
    int64_t id;
    memcpy(&id, (const char *)c + offsetof(struct cap57, id), sizeof(id));
    return sea_ready_int(v.i + id);
}

static sea_future t_capture_inline_boundary(void) {
    struct cap56 a;
    struct cap57 b;
    _Static_assert(sizeof(struct cap56) == SEA_CAPTURE_INLINE, "exactly inline");
    _Static_assert(sizeof(struct cap57) == SEA_CAPTURE_INLINE + 1, "one past inline");
    for (size_t i = 0; i < sizeof(a.b); i++)
        a.b[i] = (unsigned char)i;
    for (size_t i = 0; i < sizeof(b.b); i++)
        b.b[i] = (unsigned char)i;
    a.id = 100;
    int64_t id = 200;
    memcpy((char *)&b + offsetof(struct cap57, id), &id, sizeof(id));
    sea_future all = EXPECT_VALUE(sea_then(later_int(1), cap56_cont, a), 101);
    all = sea_test_join(all, EXPECT_VALUE(sea_then(later_int(2), cap57_cont, b), 202));
    memset(&a, 0xee, sizeof(a)); /* the pending nodes own copies */
    memset(&b, 0xee, sizeof(b));
    return all;
}

/* ---- ignore / detach ---- */

static uint64_t drop_ignored_before;
static sea_future drop_done(sea_future *in) {
    const char *err = sea_test_stderr_end();
    CHECK_EQ(sea_future_error(in), 0);
    /* Exactly the three ignored failures are reported, once each. */
    CHECK_EQ(ignored_now(), drop_ignored_before + 3);
    CHECK_EQ(sea_test_count_lines(err), 3);
    CHECK_CONTAINS(err, "exceptional future ignored: ");
    CHECK_CONTAINS(err, "(EIO): lost ready");
    CHECK_CONTAINS(err, "(ETIMEDOUT): lost pending 2");
    CHECK_CONTAINS(err, "(SEA_ECANCELED)");
    CHECK(strstr(err, "silent") == NULL);
    return sea_ready();
}

static sea_future t_ignore_vs_detach(void) {
    drop_ignored_before = ignored_now();
    sea_test_stderr_begin();
    sea_future_ignore(sea_failed(-EIO, "lost ready"));
    CHECK_EQ(ignored_now(), drop_ignored_before + 1);
    sea_future_detach(sea_failed(-EIO, "silent ready"));
    sea_future_detach(sea_failed_fmt(-EIO, "silent ready %d", 2));
    CHECK_EQ(ignored_now(), drop_ignored_before + 1);
    /* Pending: reported (or not) when the failure arrives. */
    sea_future_ignore(sea_test_later(sea_failed_fmt(-ETIMEDOUT, "lost pending %d", 2)));
    sea_future_ignore(sea_test_later(sea_failed(SEA_ECANCELED, NULL)));
    CHECK_EQ(ignored_now(), drop_ignored_before + 1);
    sea_future_detach(sea_test_later(sea_failed(-EIO, "silent pending")));
    sea_future_detach(sea_test_later(sea_failed_fmt(-EIO, "silent pending %d", 3)));
    /* Values are never reported. */
    sea_future_ignore(later_int(1));
    sea_future_ignore(sea_ready_int(1));
    sea_future_detach(later_int(1));
    return sea_then_wrapped(sea_sleep(SEA_MSEC(2)), drop_done);
}

/* An error passed on after being looked at is a new, unobserved failure for the next owner. */
static sea_future observe_and_pass(sea_future *in) {
    CHECK(sea_future_error(in) != 0);
    return sea_future_move(in);
}
static uint64_t passed_before;
static sea_future passed_done(sea_future *in) {
    const char *err = sea_test_stderr_end();
    CHECK_EQ(sea_future_error(in), 0);
    CHECK_EQ(ignored_now(), passed_before + 2);
    CHECK_CONTAINS(err, "passed on ready");
    CHECK_CONTAINS(err, "passed on pending");
    return sea_ready();
}

static sea_future t_passed_on_error_still_reported(void) {
    passed_before = ignored_now();
    sea_test_stderr_begin();
    sea_future_ignore(sea_then_wrapped(sea_failed(-EIO, "passed on ready"), observe_and_pass));
    sea_future_ignore(sea_then_wrapped(sea_test_later(sea_failed(-EIO, "passed on pending")), observe_and_pass));
    return sea_then_wrapped(sea_sleep(SEA_MSEC(1)), passed_done);
}

/* ---- move, consumed futures ---- */

static sea_future zero_cont(void) {
    sea_future z;
    memset(&z, 0, sizeof(z));
    return z;
}
static sea_future zero_finally(void) {
    sea_future z;
    memset(&z, 0, sizeof(z));
    return z;
}

static sea_future t_move(void) {
    sea_future f = sea_ready_int(11);
    sea_future g = sea_future_move(&f);
    CHECK(!sea_future_available(&f));
    CHECK(!sea_future_failed(&f));
    CHECK(sea_future_available(&g));
    CHECK_EQ(sea_future_value(&g).i, 11);
    /* A moved-out future is consumed: attaching to it yields SEA_EFUTURE_USED. */
    sea_future h = sea_then(f, never_cont);
    CHECK_EQ(sea_future_error(&h), SEA_EFUTURE_USED);
    sea_future_detach(h);
    /* Moving a pending future. */
    sea_future p = later_int(12);
    sea_future q = sea_future_move(&p);
    CHECK(!sea_future_available(&p));
    sea_future all = EXPECT_VALUE(q, 12);
    /* A continuation returning a consumed future fails with SEA_EFUTURE_USED. */
    all = sea_test_join(all, EXPECT_ERROR(sea_then(later_int(1), zero_cont), SEA_EFUTURE_USED, NULL));
    all = sea_test_join(all, EXPECT_ERROR(sea_finally(later_int(1), zero_finally), SEA_EFUTURE_USED, NULL));
    sea_future r = sea_finally(sea_ready_int(1), zero_finally);
    CHECK_EQ(sea_future_error(&r), SEA_EFUTURE_USED);
    sea_future_detach(r);
    return all;
}

/* ---- availability and inspection ---- */

static sea_future t_available(void) {
    sea_future z;
    memset(&z, 0, sizeof(z));
    CHECK(!sea_future_available(&z));
    CHECK(!sea_future_failed(&z));
    CHECK_EQ(sea_future_error(&z), 0);
    CHECK(sea_future_message(&z) == NULL);
    CHECK_EQ(sea_future_value(&z).i, 0);

    sea_future y = sea_yield();
    CHECK(!sea_future_available(&y));
    CHECK(!sea_future_failed(&y));

    /* A pending future becomes available when its promise is resolved... */
    sea_promise p;
    sea_promise_init(&p);
    sea_future f = sea_promise_get_future(&p);
    CHECK(!sea_future_available(&f));
    sea_promise_set_int(&p, 3);
    sea_promise_release(&p);
    CHECK(sea_future_available(&f));
    /* ...and can then be inspected like a ready one. */
    CHECK(!sea_future_failed(&f));
    CHECK_EQ(sea_future_error(&f), 0);
    CHECK(sea_future_message(&f) == NULL);
    CHECK_EQ(sea_future_value(&f).i, 3);

    sea_promise e;
    sea_promise_init(&e);
    sea_future g = sea_promise_get_future(&e);
    sea_promise_set_error(&e, -EPROTO, "proto");
    sea_promise_release(&e);
    CHECK(sea_future_available(&g));
    CHECK(sea_future_failed(&g));
    CHECK_STREQ(sea_future_message(&g), "proto");
    CHECK_EQ(sea_future_error(&g), -EPROTO);
    CHECK_EQ(sea_future_value(&g).i, 0);

    sea_future all = sea_test_join(y, EXPECT_VALUE(f, 3));
    return sea_test_join(all, EXPECT_ERROR(g, -EPROTO, "proto"));
}

static sea_future t_available_box_inspected(void) {
    /* Taking the boxed value of a pending-but-available future transfers ownership. */
    box_released = 0;
    sea_promise p;
    sea_promise_init(&p);
    sea_future f = sea_promise_get_future(&p);
    sea_promise_set_box(&p, &sea_test_box_new(&box_released, 44)->box);
    sea_promise_release(&p);
    CHECK(sea_future_available(&f));
    struct sea_test_box *b = sea_future_value(&f).ptr;
    CHECK(b != NULL && b->payload == 44);
    sea_future_detach(f);
    CHECK_EQ(box_released, 0);
    if (b)
        sea_test_box_free(b);
    return sea_ready();
}

/* ---- the inline depth limit ---- */

struct count_to {
    int64_t limit;
};
static int nest, max_nest;
static sea_future count_cont(struct count_to *c, sea_value v) {
    nest++;
    if (nest > max_nest)
        max_nest = nest;
    sea_future r = v.i >= c->limit ? sea_ready_int(v.i) : sea_then(sea_ready_int(v.i + 1), count_cont, *c);
    nest--;
    return r;
}

static uint64_t deferred_before;
static sea_future deep_done(sea_value v) {
    CHECK_EQ(v.i, 100000);
    CHECK(max_nest <= SEA_INLINE_DEPTH_MAX);
    CHECK(max_nest >= SEA_INLINE_DEPTH_MAX / 2);
    CHECK(sea_test_stats().inline_deferred > deferred_before);
    return sea_ready();
}

static sea_future t_inline_deep_finite(void) {
    nest = max_nest = 0;
    deferred_before = sea_test_stats().inline_deferred;
    /* 100000 ready continuations: far deeper than any stack would allow inline. */
    sea_future f = sea_then(sea_ready_int(0), count_cont, ((struct count_to){100000}));
    return sea_then(f, deep_done);
}

/* Every continuation kind past the depth limit is queued, with its capture. */
static int deep_kinds_ran;
static sea_future deep_then(struct big *b, sea_value v) {
    check_big(b);
    deep_kinds_ran++;
    return sea_ready_int(v.i + 1);
}
static sea_future deep_observe(struct big *b, sea_future *in) {
    check_big(b);
    deep_kinds_ran++;
    int err = sea_future_error(in);
    return err ? sea_ready_int(err) : sea_future_move(in);
}
static sea_future deep_unobserved(struct big *b, sea_future *in) {
    (void)in;
    check_big(b);
    deep_kinds_ran++;
    return sea_ready();
}
static sea_future deep_fin(struct big *b) {
    check_big(b);
    deep_kinds_ran++;
    return sea_ready();
}
static sea_future deep_handle(struct big *b, int err, const char *msg) {
    check_big(b);
    deep_kinds_ran++;
    CHECK_STREQ(msg, "deep");
    return sea_ready_int(err);
}

struct dive {
    int kind;
};
static sea_future dive_cont(struct dive *d) {
    /* White box: dive through ready continuations until the inline depth is spent. */
    if (sea__hot.inline_depth < SEA_INLINE_DEPTH_MAX)
        return sea_then(sea_ready(), dive_cont, *d);
    /* Now too deep: each of these is queued. */
    int dummy;
    switch (d->kind) {
    case 0:
        return sea_then(sea_ready_int(1), deep_then, BIG(1, &dummy));
    case 1:
        return sea_then_wrapped(sea_failed_fmt(-EIO, "deep %d", 1), deep_observe, BIG(2, &dummy));
    case 2:
        return sea_finally(sea_ready_int(3), deep_fin, BIG(3, &dummy));
    case 3:
        return sea_handle_error(sea_failed(-ENOENT, "deep"), deep_handle, BIG(4, &dummy));
    case 4:
        /* Not observed: reported once it runs. */
        return sea_then_wrapped(sea_failed(-EFAULT, "deep unobserved"), deep_unobserved, BIG(5, &dummy));
    default:
        /* Dropped before running: the queued node still runs and frees it. */
        sea_future_detach(sea_then(sea_ready_int(1), deep_then, BIG(6, &dummy)));
        return sea_ready_int(6);
    }
}

static uint64_t deep_ignored_before;
static sea_future deep_kinds_done(sea_future *in) {
    const char *err = sea_test_stderr_end();
    CHECK_EQ(sea_future_error(in), 0);
    CHECK(sea_test_stats().inline_deferred >= deferred_before + 6);
    CHECK_EQ(deep_kinds_ran, 6);
    CHECK_EQ(ignored_now(), deep_ignored_before + 1);
    CHECK_CONTAINS(err, "deep unobserved");
    CHECK_EQ(sea_test_count_lines(err), 1);
    return sea_ready();
}

static sea_future t_inline_deferred_kinds(void) {
    deferred_before = sea_test_stats().inline_deferred;
    deep_ignored_before = ignored_now();
    deep_kinds_ran = 0;
    sea_test_stderr_begin();
    sea_future all = EXPECT_VALUE(sea_then(sea_ready(), dive_cont, ((struct dive){0})), 2);
    all = sea_test_join(all, EXPECT_VALUE(sea_then(sea_ready(), dive_cont, ((struct dive){1})), -EIO));
    all = sea_test_join(all, EXPECT_VALUE(sea_then(sea_ready(), dive_cont, ((struct dive){2})), 3));
    all = sea_test_join(all, EXPECT_VALUE(sea_then(sea_ready(), dive_cont, ((struct dive){3})), -ENOENT));
    all = sea_test_join(all, EXPECT_VALUE(sea_then(sea_ready(), dive_cont, ((struct dive){4})), 0));
    all = sea_test_join(all, EXPECT_VALUE(sea_then(sea_ready(), dive_cont, ((struct dive){5})), 6));
    all = sea_test_join(all, sea_yield());
    return sea_then_wrapped(all, deep_kinds_done);
}

/* An endless chain of ready continuations neither overflows nor starves the loop. */
struct endless {
    int64_t n;
};
static volatile int endless_stop;
static int64_t endless_steps;
static sea_future endless_cont(struct endless *c) {
    endless_steps++;
    if (endless_stop)
        return sea_ready_int(c->n);
    return sea_then(sea_ready(), endless_cont, ((struct endless){c->n + 1}));
}
static void endless_timer_cb(sea_timer *t, void *arg) {
    (void)t, (void)arg;
    endless_stop = 1;
}
static sea_timer endless_timer;
static sea_future endless_done(sea_value v) {
    CHECK(endless_stop);
    CHECK(!sea_timer_armed(&endless_timer));
    CHECK(v.i > SEA_INLINE_DEPTH_MAX); /* it ran past the limit many times */
    CHECK_EQ(v.i + 1, endless_steps);
    CHECK(sea_test_stats().inline_deferred > deferred_before);
    return sea_ready();
}

static sea_future t_inline_endless_chain_lets_timer_fire(void) {
    endless_stop = 0;
    endless_steps = 0;
    deferred_before = sea_test_stats().inline_deferred;
    sea_timer_init(&endless_timer, endless_timer_cb, NULL);
    CHECK_EQ(sea_timer_arm(&endless_timer, SEA_MSEC(10)), 0);
    sea_future f = sea_then(sea_ready(), endless_cont, ((struct endless){0}));
    return sea_then(f, endless_done);
}

/* ---- no node leaks ---- */

static uint64_t baseline_nodes;
static sea_future t_nodes_baseline(void) {
    baseline_nodes = sea_test_stats().nodes_in_use;
    CHECK(baseline_nodes > 0);
    return sea_ready();
}

static sea_future t_settle(void) {
    return sea_sleep(SEA_MSEC(5));
}

static sea_future t_nodes_final(void) {
    /* Everything the cases left running has finished by now: no node leaked. */
    CHECK_EQ(sea_test_stats().nodes_in_use, baseline_nodes);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_nodes_baseline),
    SEA_TEST(t_ready_values),
    SEA_TEST(t_values_through_then),
    SEA_TEST(t_then_ready_runs_at_once),
    SEA_TEST(t_then_pending),
    SEA_TEST(t_capture_in_place_or_copied),
    SEA_TEST(t_chain_flattens),
    SEA_TEST(t_chain_flattens_nested),
    SEA_TEST(t_errors_skip_then),
    SEA_TEST(t_failed_codes),
    SEA_TEST(t_wrapped_value),
    SEA_TEST(t_wrapped_error_observed),
    SEA_TEST(t_wrapped_error_unobserved),
    SEA_TEST(t_wrapped_move_and_recover),
    SEA_TEST(t_finally_runs_either_way),
    SEA_TEST(t_finally_own_failure_replaces),
    SEA_TEST(t_finally_boxed_results),
    SEA_TEST(t_handle_error),
    SEA_TEST(t_failed_fmt),
    SEA_TEST(t_box_dropped_is_released),
    SEA_TEST(t_box_taken_is_not_released),
    SEA_TEST(t_capture_large),
    SEA_TEST(t_capture_inline_boundary),
    SEA_TEST(t_ignore_vs_detach),
    SEA_TEST(t_passed_on_error_still_reported),
    SEA_TEST(t_move),
    SEA_TEST(t_available),
    SEA_TEST(t_available_box_inspected),
    SEA_TEST(t_inline_deep_finite),
    SEA_TEST(t_inline_deferred_kinds),
    SEA_TEST(t_inline_endless_chain_lets_timer_fire),
    SEA_TEST(t_settle),
    SEA_TEST(t_nodes_final),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
