/*
 * queue.c - bounded queues and pipes (sea/queue.h).
 *
 * A ring of item pointers and two FIFO lists of waiters: pushes waiting for
 * room (each holding its item) and pops waiting for an item.  Only one list
 * is ever non-empty: a push with a pop waiting hands its item straight over,
 * and a pop that frees room takes the first waiting push's item in.  An
 * "ended" queue (aborted, or a pipe whose writer closed) answers pops on an
 * empty ring with its end: NULL, or the error.  A pipe is a queue plus the
 * state of its two ends; it is freed when both have closed.
 */
#include "core/waitlist.h"

#include <sea/queue.h>

#include <errno.h>
#include <stdlib.h>

struct sea_queue {
    void **ring;
    size_t cap, head, count;
    void (*release)(void *item);
    struct sea__waitlist pushers, poppers;
    bool ended;          /* pops on an empty queue get end_err (0: a NULL item) */
    int end_err;
    const char *end_msg;
    bool push_closed;    /* pushes fail with push_err (pipe: the reader is gone) */
    int push_err;
    const char *push_msg;
};

sea_queue *sea_queue_new(size_t capacity, void (*release)(void *item)) {
    if (capacity == 0)
        capacity = 1;
    sea_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->ring = calloc(capacity, sizeof(void *));
    if (!q->ring) {
        free(q);
        return NULL;
    }
    q->cap = capacity;
    q->release = release;
    sea__waitlist_init(&q->pushers);
    sea__waitlist_init(&q->poppers);
    return q;
}

static void release_item(sea_queue *q, void *item) {
    if (q->release && item)
        q->release(item);
}

static void fail_pushers(sea_queue *q, int err, const char *msg) {
    struct sea__waiter *w;
    while ((w = sea__waitlist_first(&q->pushers))) {
        release_item(q, w->item);
        sea__waiter_fail(w, err, msg);
    }
}

static void release_ring(sea_queue *q) {
    while (q->count) {
        release_item(q, q->ring[q->head]);
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
}

void sea_queue_free(sea_queue *q) {
    if (!q)
        return;
    fail_pushers(q, SEA_EBROKEN, "queue destroyed");
    sea__waitlist_fail_all(&q->poppers, SEA_EBROKEN, "queue destroyed");
    release_ring(q);
    free(q->ring);
    free(q);
}

static void ring_put(sea_queue *q, void *item) {
    q->ring[(q->head + q->count) % q->cap] = item;
    q->count++;
}

static void *ring_take(sea_queue *q) {
    void *item = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    /* Room now: the first waiting push gets in. */
    struct sea__waiter *w = sea__waitlist_first(&q->pushers);
    if (w) {
        ring_put(q, w->item);
        sea__waiter_wake(w, (sea_value){0});
    }
    return item;
}

bool sea_queue_try_push(sea_queue *q, void *item) {
    if (q->push_closed || q->ended || sea__waitlist_first(&q->pushers))
        return false;
    struct sea__waiter *w = sea__waitlist_first(&q->poppers);
    if (w) {
        sea__waiter_wake(w, (sea_value){.ptr = item});
        return true;
    }
    if (q->count == q->cap)
        return false;
    ring_put(q, item);
    return true;
}

bool sea_queue_try_pop(sea_queue *q, void **item) {
    if (!q->count)
        return false;
    *item = ring_take(q);
    return true;
}

sea_future sea_queue_push(sea_queue *q, void *item) {
    if (q->push_closed || q->ended) {
        release_item(q, item);
        return q->push_closed ? sea_failed(q->push_err, q->push_msg)
                              : sea_failed(q->end_err ? q->end_err : SEA_EBROKEN, q->end_msg);
    }
    if (sea_queue_try_push(q, item))
        return sea_ready();
    sea_future f;
    struct sea__waiter *w = sea__waiter_add(&q->pushers, 0, &f, NULL, NULL);
    if (!w) {
        release_item(q, item);
        return f;
    }
    w->item = item;
    return f;
}

sea_future sea_queue_pop(sea_queue *q) {
    void *item;
    if (sea_queue_try_pop(q, &item))
        return sea_ready_ptr(item);
    if (q->ended)
        return q->end_err ? sea_failed(q->end_err, q->end_msg) : sea_ready_ptr(NULL);
    sea_future f;
    sea__waiter_add(&q->poppers, 0, &f, NULL, NULL);
    return f;
}

/* Pops on an empty queue get err (0: NULL) from now on, the waiting ones at once. */
static void queue_end(sea_queue *q, int err, const char *msg) {
    q->ended = true;
    q->end_err = err;
    q->end_msg = msg;
    struct sea__waiter *w;
    while ((w = sea__waitlist_first(&q->poppers))) {
        if (err)
            sea__waiter_fail(w, err, msg);
        else
            sea__waiter_wake(w, (sea_value){.ptr = NULL});
    }
}

void sea_queue_abort(sea_queue *q, int err, const char *static_msg) {
    err = err < 0 ? err : SEA_EBROKEN;
    static_msg = static_msg ? static_msg : "queue aborted";
    fail_pushers(q, err, static_msg);
    queue_end(q, err, static_msg);
}

size_t sea_queue_size(const sea_queue *q) {
    return q->count;
}

size_t sea_queue_capacity(const sea_queue *q) {
    return q->cap;
}

/* ---- pipes ---- */

struct sea_pipe {
    sea_queue *q;
    bool writer_closed, reader_closed;
};

sea_pipe *sea_pipe_new(size_t capacity, void (*release)(void *item)) {
    sea_pipe *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->q = sea_queue_new(capacity, release);
    if (!p->q) {
        free(p);
        return NULL;
    }
    return p;
}

static void pipe_maybe_free(sea_pipe *p) {
    if (p->writer_closed && p->reader_closed) {
        sea_queue_free(p->q);
        free(p);
    }
}

sea_future sea_pipe_write(sea_pipe *p, void *item) {
    if (!item)
        return sea_failed(-EINVAL, "sea_pipe_write of NULL (NULL means end of stream)");
    if (p->writer_closed) {
        release_item(p->q, item);
        return sea_failed(-EINVAL, "sea_pipe_write after sea_pipe_close_writer");
    }
    return sea_queue_push(p->q, item);
}

sea_future sea_pipe_read(sea_pipe *p) {
    if (p->reader_closed)
        return sea_failed(-EINVAL, "sea_pipe_read after sea_pipe_close_reader");
    return sea_queue_pop(p->q);
}

void sea_pipe_close_writer(sea_pipe *p) {
    if (p->writer_closed)
        return;
    p->writer_closed = true;
    if (!p->reader_closed)
        queue_end(p->q, 0, NULL);
    pipe_maybe_free(p);
}

void sea_pipe_abort_writer(sea_pipe *p, int err, const char *static_msg) {
    if (p->writer_closed)
        return;
    p->writer_closed = true;
    if (!p->reader_closed)
        queue_end(p->q, err < 0 ? err : -EPIPE, static_msg ? static_msg : "the pipe's writer aborted");
    pipe_maybe_free(p);
}

void sea_pipe_close_reader(sea_pipe *p) {
    if (p->reader_closed)
        return;
    p->reader_closed = true;
    sea_queue *q = p->q;
    q->push_closed = true;
    q->push_err = -EPIPE;
    q->push_msg = "the pipe's reader is closed";
    fail_pushers(q, q->push_err, q->push_msg);
    sea__waitlist_fail_all(&q->poppers, -EINVAL, "the pipe's reader closed while reading");
    release_ring(q);
    pipe_maybe_free(p);
}
