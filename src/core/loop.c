/*
 * loop.c - asynchronous loops (sea/loop.h).
 *
 * Two engines.  The sequential one (repeat, repeat_until_value, do_until,
 * keep_doing) calls the iteration in a plain C loop for as long as its
 * futures come back ready; the first pending one gets a continuation that
 * re-enters the same loop when it resolves.  The for-each one (do_for_each,
 * parallel_for_each, max_concurrent_for_each, map_reduce_range) starts
 * iterations while fewer than max are unfinished, and every completion starts
 * more.  Both look at the task quota every 16 iterations and, when it is
 * spent, queue themselves as a task and return to the reactor; so neither
 * grows the stack nor starves the loop, however many iterations are ready.
 *
 * The capture is copied once into the loop's state, and a loop that finishes
 * without waiting returns a ready future (the state is freed at once).
 */
#include <sea/loop.h>
#include <sea/promise.h>
#include <sea/reactor.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/compiler.h"
#include "core/future.h"
#define PREEMPT_CHECK_EVERY 16
/* A ready result that owns nothing (no box, no owned message) and is not an error. */
static inline bool plain_value(const sea_future *f) {
    return (f->sea__state & (SEA__S_KIND | SEA__F_BOX)) == SEA__S_VALUE;
}

static inline bool is_ready(const sea_future *f) {
    uint32_t k = f->sea__state & SEA__S_KIND;
    return k == SEA__S_VALUE || k == SEA__S_ERROR;
}
/* ---- sequential loops ---- */
struct loop {
    sea_task task;
    struct sea__owned owned; /* while it waits: released at shard stop if it never ends */
    sea_promise done;
    int kind;
    bool has_cap;      /* fn and stop take the capture */
    sea__fnptr fn;
    sea__fnptr stop;
    sea_value result;  /* repeat_until_value */
    _Alignas(max_align_t) unsigned char cap[];
};
/* Handles one iteration's ready result r; true when the loop is over (*final set). */
static bool loop_step(struct loop *l, sea_future *r, sea_future *final) {
    if (sea_future_failed(r)) {
        *final = sea_future_move(r);
        return true;
    }
    int64_t verdict = plain_value(r) ? r->sea__v.i : SEA_CONTINUE;
    if (!plain_value(r))
        sea_future_detach(sea_future_move(r)); /* a box: release it */
    switch (l->kind) {
    case SEA__LOOP_REPEAT:
        if (verdict != SEA_CONTINUE) {
            *final = sea_ready();
            return true;
        }
        return false;
    case SEA__LOOP_UNTIL_VALUE:
        if (verdict != SEA_CONTINUE) {
            *final = sea_ready_value(l->result);
            return true;
        }
        return false;
    default:
        return false;
    }
}

static sea_future loop_resume(struct loop **lp, sea_future *in);

/*
 * Runs iterations until the loop ends (true, *final set), one is pending (a
 * continuation carries on), or the quota is spent (the task carries on).
 */
static bool loop_run(struct loop *l, sea_future *final) {
    for (unsigned n = 1;; n++) {
        if (l->kind == SEA__LOOP_DO_UNTIL &&
            (l->has_cap ? ((bool (*)(void *))l->stop)(l->cap) : ((bool (*)(void))l->stop)())) {
            *final = sea_ready();
            return true;
        }
        sea_future r;
        if (l->kind == SEA__LOOP_UNTIL_VALUE)
            r = l->has_cap ? ((sea_future(*)(void *, sea_value *))l->fn)(l->cap, &l->result)
                           : ((sea_future(*)(sea_value *))l->fn)(&l->result);
        else
            r = sea__call(l->fn, l->has_cap ? l->cap : NULL);
        sea__future_settle(&r); /* arrived already: handled here, not by a nested continuation */
        if (!is_ready(&r)) {
            sea_future c = sea_then_wrapped(r, loop_resume, l);
            if (sea_future_failed(&c)) { /* no memory for the continuation */
                *final = c;
                return true;
            }
            sea_future_detach(c);
            return false;
        }
        if (loop_step(l, &r, final))
            return true;
        if (n % PREEMPT_CHECK_EVERY == 0 && sea_need_preempt()) {
            sea_task_schedule(&l->task);
            return false;
        }
    }
}

static void loop_finish(struct loop *l, sea_future final) {
    sea__owned_remove(&l->owned);
    sea_promise_forward(&l->done, final);
    sea_promise_release(&l->done);
    free(l);
}

static sea_future loop_resume(struct loop **lp, sea_future *in) {
    struct loop *l = *lp;
    sea_future final;
    if (loop_step(l, in, &final) || loop_run(l, &final))
        loop_finish(l, final);
    return sea_ready();
}

static void loop_task(sea_task *t) {
    struct loop *l = sea__container_of(t, struct loop, task);
    sea_future final;
    if (loop_run(l, &final))
        loop_finish(l, final);
}

static void loop_release(struct sea__owned *o) {
    free(sea__container_of(o, struct loop, owned));
}

sea_future sea__loop(int kind, sea__fnptr fn, sea__fnptr stop, const void *cap, size_t capsz) {
    struct loop *l = malloc(sizeof(*l) + capsz);
    if (!l)
        return sea_failed(-ENOMEM, "out of memory starting a loop");
    sea_task_init(&l->task, loop_task);
    l->kind = kind;
    l->has_cap = cap != NULL;
    l->fn = fn;
    l->stop = stop;
    l->result = (sea_value){0};
    if (cap)
        memcpy(l->cap, cap, capsz);
    sea_future final;
    if (loop_run(l, &final)) {
        free(l);
        return final;
    }
    /* Still going: whatever carries it on runs from the reactor, after this returns. */
    sea_promise_init(&l->done);
    sea__owned_add(&l->owned, loop_release);
    return sea_promise_get_future(&l->done);
}

/* ---- for-each loops ---- */

struct each {
    sea_task task;
    struct sea__owned owned; /* while it waits */
    sea_promise done;
    int64_t next, end;
    uint64_t max;          /* 0: no limit */
    uint64_t inflight;
    bool scheduled;        /* the task will start the next ones */
    bool failed;
    sea_future error;      /* the first error */
    sea_reduce_fn reduce;
    sea_value acc;
    bool has_cap;          /* fn takes the capture */
    bool noindex;          /* fn takes no index */
    sea__fnptr fn;
    _Alignas(max_align_t) unsigned char cap[];
};

static void each_result(struct each *e, sea_future *r) {
    if (sea_future_failed(r)) {
        if (!e->failed) {
            e->failed = true;
            e->error = sea_future_move(r);
        } else {
            (void)sea_future_error(r); /* the loop reports the first one */
            sea_future_detach(sea_future_move(r));
        }
        return;
    }
    if (e->reduce)
        e->acc = e->reduce(e->acc, sea_future_value(r));
    else if (!plain_value(r))
        sea_future_detach(sea_future_move(r));
}

static bool each_over(const struct each *e) {
    bool no_more = e->next >= e->end || (e->failed && e->max);
    return no_more && e->inflight == 0 && !e->scheduled;
}

static sea_future each_done(struct each **ep, sea_future *in);

/* Starts iterations while allowed; true once the whole loop is over. */
static bool each_launch(struct each *e) {
    unsigned n = 0;
    while (e->next < e->end && !(e->failed && e->max) && (!e->max || e->inflight < e->max)) {
        int64_t i = e->next++;
        sea_future r;
        if (e->noindex)
            r = sea__call(e->fn, e->has_cap ? e->cap : NULL);
        else
            r = e->has_cap ? ((sea_future(*)(void *, int64_t))e->fn)(e->cap, i) : ((sea_future(*)(int64_t))e->fn)(i);
        sea__future_settle(&r);
        if (is_ready(&r)) {
            if (!plain_value(&r) || e->reduce)
                each_result(e, &r);
        } else {
            sea_future c = sea_then_wrapped(r, each_done, e);
            if (sea_future_failed(&c)) {
                each_result(e, &c);
            } else {
                e->inflight++;
                sea_future_detach(c);
            }
        }
        if (++n % PREEMPT_CHECK_EVERY == 0 && sea_need_preempt() && e->next < e->end) {
            e->scheduled = true;
            sea_task_schedule(&e->task);
            return false;
        }
    }
    return each_over(e);
}

static sea_future each_final(struct each *e) {
    if (e->failed)
        return sea_future_move(&e->error);
    return e->reduce ? sea_ready_value(e->acc) : sea_ready();
}

static void each_finish(struct each *e) {
    sea__owned_remove(&e->owned);
    sea_promise_forward(&e->done, each_final(e));
    sea_promise_release(&e->done);
    free(e);
}

static sea_future each_done(struct each **ep, sea_future *in) {
    struct each *e = *ep;
    e->inflight--;
    each_result(e, in);
    if (!e->scheduled && each_launch(e))
        each_finish(e);
    return sea_ready();
}

static void each_task(sea_task *t) {
    struct each *e = sea__container_of(t, struct each, task);
    e->scheduled = false;
    if (each_launch(e))
        each_finish(e);
}

static void each_release(struct sea__owned *o) {
    struct each *e = sea__container_of(o, struct each, owned);
    if (e->failed)
        sea__release(&e->error);
    free(e);
}

sea_future sea__for_each(int64_t begin, int64_t end, uint64_t max, sea__fnptr fn, sea_reduce_fn reduce,
                         sea_value initial, const void *cap, size_t capsz, bool noindex) {
    if (begin >= end)
        return reduce ? sea_ready_value(initial) : sea_ready();
    struct each *e = malloc(sizeof(*e) + capsz);
    if (!e)
        return sea_failed(-ENOMEM, "out of memory starting a loop");
    sea_task_init(&e->task, each_task);
    e->next = begin;
    e->end = end;
    e->max = max;
    e->inflight = 0;
    e->scheduled = false;
    e->failed = false;
    e->reduce = reduce;
    e->acc = initial;
    e->has_cap = cap != NULL;
    e->noindex = noindex;
    e->fn = fn;
    if (cap)
        memcpy(e->cap, cap, capsz);
    if (each_launch(e)) {
        sea_future final = each_final(e);
        free(e);
        return final;
    }
    sea_promise_init(&e->done);
    sea__owned_add(&e->owned, each_release);
    return sea_promise_get_future(&e->done);
}
