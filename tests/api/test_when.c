/*
 * test_when.c - combinators, shared promises, queues and pipes
 * (sea/when.h, sea/shared_future.h, sea/queue.h).
 *
 * when_all hands every result back, values and errors; when_all_succeed
 * reports the first failure in argument order and releases the rest;
 * when_any names the first to finish and loses none of the others;
 * with_timeout in both outcomes.  Shared promises: waiters before and after
 * resolution, copied error messages, forwarding, boxes refused, destroy.
 * Queues: order, back-pressure both ways, try variants, abort, free with
 * items left.  Pipes: end of stream after buffered items, a closed reader
 * failing the writer (-EPIPE) and releasing items, an aborted writer
 * failing the reader, NULL items refused.
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static sea_future later_int(int64_t v, int ms) {
    return sea_test_sleep_then(SEA_MSEC(ms), sea_ready_int(v));
}

static sea_future later_error(int err, int ms) {
    return sea_test_sleep_then(SEA_MSEC(ms), sea_failed(err, "later error"));
}

/* ---- when_all, when_all_succeed, when_any ---- */

FIBER_CASE(t_when_all) {
    sea_future fs[4] = {later_int(1, 2), sea_ready_int(2), later_error(-EIO, 1), sea_failed(-EPERM, "now")};
    CHECK_EQ(sea_test_await_err(sea_when_all(fs, 4), NULL), 0);
    for (int i = 0; i < 4; i++)
        CHECK(sea_future_available(&fs[i]));
    CHECK_EQ(sea_future_value(&fs[0]).i, 1);
    CHECK_EQ(sea_future_value(&fs[1]).i, 2);
    CHECK_EQ(sea_future_error(&fs[2]), -EIO);
    CHECK_EQ(sea_future_error(&fs[3]), -EPERM);
    for (int i = 0; i < 4; i++)
        sea_future_detach(sea_future_move(&fs[i]));
    /* None pending: ready at once. */
    sea_future gs[2] = {sea_ready_int(5), sea_ready()};
    sea_future r = sea_when_all(gs, 2);
    CHECK(sea_future_available(&r));
    sea_future_detach(r);
    sea_future_detach(gs[0]);
    sea_future_detach(gs[1]);
    CHECK_EQ(sea_test_await_err(sea_when_all(NULL, 0), NULL), 0);
    return sea_ready();
}

static int box_releases;

static void release_box(sea_box *b) {
    box_releases++;
    free(b);
}

static sea_future later_box(int ms) {
    sea_box *b = malloc(sizeof(*b));
    b->release = release_box;
    return sea_test_sleep_then(SEA_MSEC(ms), sea_ready_box(b));
}

FIBER_CASE(t_when_all_succeed) {
    sea_value vals[3];
    sea_future ok[3] = {later_int(10, 2), sea_ready_int(20), later_int(30, 1)};
    CHECK_EQ(sea_test_await_err(sea_when_all_succeed(ok, 3, vals), NULL), 0);
    CHECK_EQ(vals[0].i, 10);
    CHECK_EQ(vals[1].i, 20);
    CHECK_EQ(vals[2].i, 30);
    /* The first failure in argument order wins, even though another failed sooner; values are released. */
    box_releases = 0;
    sea_future bad[4] = {later_box(1), later_error(-EIO, 3), later_error(-EPERM, 1), later_box(2)};
    sea_future r = sea_await(sea_when_all_succeed(bad, 4, vals));
    CHECK_EQ(sea_future_error(&r), -EIO);
    sea_future_detach(r);
    CHECK_EQ(box_releases, 2);
    /* All ready at once. */
    sea_future now[2] = {sea_ready_int(1), sea_failed(-EDOM, "now")};
    r = sea_when_all_succeed(now, 2, NULL);
    CHECK(sea_future_available(&r));
    CHECK_EQ(sea_future_error(&r), -EDOM);
    sea_future_detach(r);
    return sea_ready();
}

FIBER_CASE(t_when_any) {
    sea_future fs[3] = {later_int(1, 30), later_int(2, 1), later_error(-EIO, 20)};
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_when_any(fs, 3), &v), 0);
    CHECK_EQ(v.i, 1);
    /* Nothing lost: the others still arrive through fs. */
    CHECK_EQ(sea_test_await_err(fs[1], &v), 0);
    CHECK_EQ(v.i, 2);
    CHECK_EQ(sea_test_await_err(fs[0], &v), 0);
    CHECK_EQ(v.i, 1);
    CHECK_EQ(sea_test_await_err(fs[2], NULL), -EIO);
    /* A ready one: the lowest index, at once. */
    sea_future gs[3] = {later_int(1, 1), sea_ready_int(7), sea_ready_int(8)};
    sea_future r = sea_when_any(gs, 3);
    CHECK(sea_future_available(&r));
    CHECK_EQ(sea_future_value(&r).i, 1);
    sea_future_detach(r);
    for (int i = 0; i < 3; i++)
        sea_future_detach(gs[i]);
    CHECK_EQ(sea_test_await_err(sea_when_any(NULL, 0), NULL), -EINVAL);
    return sea_ready();
}

FIBER_CASE(t_with_timeout) {
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_with_timeout(later_int(4, 1), SEA_SEC(5)), &v), 0);
    CHECK_EQ(v.i, 4);
    sea_future r = sea_await(sea_with_timeout(later_int(4, 6), SEA_MSEC(2)));
    CHECK_EQ(sea_future_error(&r), -ETIMEDOUT);
    CHECK_STREQ(sea_future_message(&r), "timed out");
    sea_future_detach(r);
    /* Ready: passes through without a timer. */
    r = sea_with_timeout(sea_ready_int(3), 0);
    CHECK(sea_future_available(&r));
    sea_future_detach(r);
    /* The late value is dropped (a box is released). */
    box_releases = 0;
    r = sea_await(sea_with_timeout(later_box(5), SEA_MSEC(1)));
    CHECK_EQ(sea_future_error(&r), -ETIMEDOUT);
    sea_future_detach(r);
    sea_future_detach(sea_await(sea_sleep(SEA_MSEC(10))));
    CHECK_EQ(box_releases, 1);
    return sea_ready();
}

/* ---- shared promises ---- */

FIBER_CASE(t_shared_promise) {
    sea_shared_promise sp;
    sea_shared_promise_init(&sp);
    sea_future early[3];
    for (int i = 0; i < 3; i++)
        early[i] = sea_shared_promise_get_future(&sp);
    CHECK_EQ(sea_shared_promise_waiters(&sp), 3);
    sea_shared_promise_forward(&sp, later_int(42, 1));
    sea_value v;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(sea_test_await_err(early[i], &v), 0);
        CHECK_EQ(v.i, 42);
    }
    CHECK(sea_shared_promise_resolved(&sp));
    sea_future late = sea_shared_promise_get_future(&sp);
    CHECK(sea_future_available(&late));
    CHECK_EQ(sea_future_value(&late).i, 42);
    sea_future_detach(late);
    sea_shared_promise_destroy(&sp);
    /* An error with an owned message: every waiter gets its own copy. */
    sea_shared_promise_init(&sp);
    sea_future a = sea_shared_promise_get_future(&sp);
    sea_shared_promise_forward(&sp, sea_test_later(sea_failed_fmt(-EIO, "disk %d failed", 3)));
    sea_future ra = sea_await(a);
    sea_future rb = sea_shared_promise_get_future(&sp);
    CHECK_EQ(sea_future_error(&ra), -EIO);
    CHECK_STREQ(sea_future_message(&ra), "disk 3 failed");
    CHECK_EQ(sea_future_error(&rb), -EIO);
    CHECK_STREQ(sea_future_message(&rb), "disk 3 failed");
    CHECK(sea_future_message(&ra) != sea_future_message(&rb));
    sea_future_detach(ra);
    sea_future_detach(rb);
    sea_shared_promise_destroy(&sp);
    /* A box cannot be shared; destroy fails pending waiters. */
    sea_shared_promise_init(&sp);
    sea_future c = sea_shared_promise_get_future(&sp);
    box_releases = 0;
    sea_shared_promise_forward(&sp, later_box(1));
    CHECK_EQ(sea_test_await_err(c, NULL), -EINVAL);
    CHECK_EQ(box_releases, 1);
    sea_shared_promise_destroy(&sp);
    sea_shared_promise_init(&sp);
    sea_future d = sea_shared_promise_get_future(&sp);
    sea_shared_promise_destroy(&sp);
    CHECK_EQ(sea_test_await_err(d, NULL), SEA_EBROKEN_PROMISE);
    sea_shared_promise_set_void(&sp);
    sea_shared_promise_destroy(&sp);
    return sea_ready();
}

/* ---- queues ---- */

static int released_items;

static void release_item(void *item) {
    released_items++;
    free(item);
}

static int *item(int v) {
    int *p = malloc(sizeof(*p));
    *p = v;
    return p;
}

FIBER_CASE(t_queue) {
    sea_queue *q = sea_queue_new(2, release_item);
    CHECK(q != NULL);
    CHECK_EQ(sea_queue_capacity(q), 2);
    /* Pops wait for items, in order. */
    sea_future p1 = sea_queue_pop(q), p2 = sea_queue_pop(q);
    CHECK(sea_queue_try_push(q, item(1)));
    CHECK_EQ(sea_test_await_err(sea_queue_push(q, item(2)), NULL), 0);
    sea_value v;
    CHECK_EQ(sea_test_await_err(p1, &v), 0);
    CHECK_EQ(*(int *)v.ptr, 1);
    free(v.ptr);
    CHECK_EQ(sea_test_await_err(p2, &v), 0);
    CHECK_EQ(*(int *)v.ptr, 2);
    free(v.ptr);
    /* Pushes wait for room (back-pressure), in order. */
    CHECK_EQ(sea_test_await_err(sea_queue_push(q, item(3)), NULL), 0);
    CHECK_EQ(sea_test_await_err(sea_queue_push(q, item(4)), NULL), 0);
    CHECK(!sea_queue_try_push(q, NULL));
    sea_future w5 = sea_queue_push(q, item(5));
    sea_future w6 = sea_queue_push(q, item(6));
    CHECK(!sea_future_available(&w5));
    CHECK_EQ(sea_queue_size(q), 2);
    for (int want = 3; want <= 6; want++) {
        void *it;
        if (want <= 4) {
            CHECK(sea_queue_try_pop(q, &it));
        } else {
            CHECK_EQ(sea_test_await_err(sea_queue_pop(q), &v), 0);
            it = v.ptr;
        }
        CHECK_EQ(*(int *)it, want);
        free(it);
    }
    CHECK_EQ(sea_test_await_err(w5, NULL), 0);
    CHECK_EQ(sea_test_await_err(w6, NULL), 0);
    void *none;
    CHECK(!sea_queue_try_pop(q, &none));
    /* Abort: waiting pushes fail and their items are released; queued items can still be popped. */
    released_items = 0;
    CHECK(sea_queue_try_push(q, item(7)));
    CHECK(sea_queue_try_push(q, item(8)));
    sea_future w9 = sea_queue_push(q, item(9));
    sea_queue_abort(q, -ESHUTDOWN, "stopping");
    CHECK_EQ(sea_test_await_err(w9, NULL), -ESHUTDOWN);
    CHECK_EQ(released_items, 1);
    CHECK_EQ(sea_test_await_err(sea_queue_pop(q), &v), 0);
    CHECK_EQ(*(int *)v.ptr, 7);
    free(v.ptr);
    CHECK_EQ(sea_test_await_err(sea_queue_push(q, item(10)), NULL), -ESHUTDOWN);
    CHECK_EQ(released_items, 2);
    /* Free with an item left, and a pop waiting on another queue. */
    sea_queue_free(q);
    CHECK_EQ(released_items, 3);
    sea_queue *r = sea_queue_new(1, NULL);
    sea_future waiting = sea_queue_pop(r);
    sea_queue_free(r);
    CHECK_EQ(sea_test_await_err(waiting, NULL), SEA_EBROKEN);
    return sea_ready();
}

/* ---- pipes ---- */

struct writer {
    sea_pipe *p;
    int n;
};

static sea_future write_all(struct writer **wp) {
    struct writer *w = *wp;
    for (int i = 1; i <= w->n; i++) {
        int err = sea_test_await_err(sea_pipe_write(w->p, item(i)), NULL);
        if (err)
            return sea_failed(err, "write");
    }
    sea_pipe_close_writer(w->p);
    return sea_ready();
}

FIBER_CASE(t_pipe) {
    sea_pipe *p = sea_pipe_new(4, release_item);
    struct writer w = {p, 100};
    sea_future writer = sea_fiber_start(write_all, &w);
    int expect = 1;
    for (;;) {
        sea_value v;
        CHECK_EQ(sea_test_await_err(sea_pipe_read(p), &v), 0);
        if (!v.ptr)
            break; /* end of stream */
        CHECK_EQ(*(int *)v.ptr, expect);
        expect++;
        free(v.ptr);
    }
    CHECK_EQ(expect, 101);
    CHECK_EQ(sea_test_await_err(writer, NULL), 0);
    /* End of stream again, then the reader closes: the pipe is freed. */
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_pipe_read(p), &v), 0);
    CHECK(v.ptr == NULL);
    sea_pipe_close_reader(p);

    /* The reader goes away: the writer gets -EPIPE, buffered and refused items are released. */
    released_items = 0;
    p = sea_pipe_new(2, release_item);
    CHECK_EQ(sea_test_await_err(sea_pipe_write(p, item(1)), NULL), 0);
    CHECK_EQ(sea_test_await_err(sea_pipe_write(p, item(2)), NULL), 0);
    sea_future blocked = sea_pipe_write(p, item(3));
    sea_pipe_close_reader(p);
    sea_future r = sea_await(blocked);
    CHECK_EQ(sea_future_error(&r), -EPIPE);
    CHECK_STREQ(sea_future_message(&r), "the pipe's reader is closed");
    sea_future_detach(r);
    CHECK_EQ(sea_test_await_err(sea_pipe_write(p, item(4)), NULL), -EPIPE);
    CHECK_EQ(released_items, 4);
    CHECK_EQ(sea_test_await_err(sea_pipe_write(p, NULL), NULL), -EINVAL);
    sea_pipe_close_writer(p);

    /* The writer aborts: buffered items first, then its error. */
    p = sea_pipe_new(2, release_item);
    CHECK_EQ(sea_test_await_err(sea_pipe_write(p, item(1)), NULL), 0);
    sea_pipe_abort_writer(p, -ECONNRESET, "producer crashed");
    CHECK_EQ(sea_test_await_err(sea_pipe_read(p), &v), 0);
    free(v.ptr);
    r = sea_await(sea_pipe_read(p));
    CHECK_EQ(sea_future_error(&r), -ECONNRESET);
    CHECK_STREQ(sea_future_message(&r), "producer crashed");
    sea_future_detach(r);
    sea_pipe_close_reader(p);
    return sea_ready();
}

/* Inputs that arrived before the call: their nodes are freed (they leaked), values delivered. */
FIBER_CASE(t_when_with_arrived_inputs) {
    sea_reactor_stats s0 = sea_test_stats();
    sea_value vals[2];
    sea_future fs[2] = {sea_test_arrived_int(5), sea_test_arrived_int(6)};
    CHECK_EQ(sea_test_await_err(sea_when_all_succeed(fs, 2, vals), NULL), 0);
    CHECK_EQ(vals[0].i, 5);
    CHECK_EQ(vals[1].i, 6);
    sea_future gs[2] = {later_int(1, 1), sea_test_arrived_int(2)};
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_when_any(gs, 2), &v), 0);
    CHECK_EQ(v.i, 1);
    CHECK_EQ(sea_test_await_err(gs[0], NULL), 0);
    CHECK_EQ(sea_test_await_err(gs[1], NULL), 0);
    sea_reactor_stats s1 = sea_test_stats();
    CHECK_EQ(s1.nodes_in_use, s0.nodes_in_use);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_when_all),
    SEA_TEST(t_when_all_succeed),
    SEA_TEST(t_when_any),
    SEA_TEST(t_with_timeout),
    SEA_TEST(t_shared_promise),
    SEA_TEST(t_queue),
    SEA_TEST(t_pipe),
    SEA_TEST(t_when_with_arrived_inputs),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
