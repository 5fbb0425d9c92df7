/*
 * sleep.c - sea_sleep and sea_sleep_abortable: a promise resolved by a
 * timer, and the module that keeps each shard's sleeps in progress
 * (SEA__SLOT_SLEEP) so that a shard that stops can break them.
 */
#include <sea/abort.h>
#include <sea/error.h>
#include <sea/promise.h>
#include <sea/timer.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/list.h"
#include "core/module.h"
#include "core/shard.h"

struct sleeper {
    sea_timer timer;
    sea_promise promise;
    sea_abort_subscription abort; /* sea_sleep_abortable */
    struct sea__link link;        /* the shard's sleeps in progress */
};

static inline struct sea__list *sleepers_of(const struct sea__shard *s) {
    return s->slot[SEA__SLOT_SLEEP];
}

static void sleeper_end(struct sleeper *sl) {
    sea__list_remove(sleepers_of(sea__shard_current), &sl->link);
    sea_abort_unsubscribe(&sl->abort);
    sea_promise_release(&sl->promise);
    free(sl);
}

static void sleeper_fire(sea_timer *t, void *arg) {
    struct sleeper *sl = arg;
    (void)t;
    sea_promise_set_void(&sl->promise);
    sleeper_end(sl);
}

static void sleeper_abort(sea_abort_subscription *sub, int err) {
    struct sleeper *sl = sea__container_of(sub, struct sleeper, abort);
    sea_timer_cancel(&sl->timer);
    sea_promise_set_error(&sl->promise, err, "sleep aborted");
    sleeper_end(sl);
}

static sea_future sleep_start(sea_time d, sea_abort_source *as) {
    struct sea__shard *s = sea__shard_current;
    if (!s || !sleepers_of(s))
        return sea_failed(SEA_ESHUTDOWN, "sea_sleep called with no running reactor");
    struct sleeper *sl = malloc(sizeof(*sl));
    if (!sl)
        return sea_failed(-ENOMEM, "out of memory arming a sleep timer");
    sea_promise_init(&sl->promise);
    sea_future f = sea_promise_get_future(&sl->promise);
    if (sea_future_failed(&f)) {
        sea_promise_release(&sl->promise);
        free(sl);
        return f;
    }
    sea_timer_init(&sl->timer, sleeper_fire, sl);
    sl->abort = (sea_abort_subscription){0};
    sea__list_push_back(sleepers_of(s), &sl->link);
    if (as)
        sea_abort_subscribe(as, &sl->abort, sleeper_abort);
    sea_timer_arm(&sl->timer, d);
    return f;
}

sea_future sea_sleep(sea_time d) {
    return sleep_start(d, NULL);
}

sea_future sea_sleep_abortable(sea_time d, sea_abort_source *as) {
    if (as && sea_abort_requested(as))
        return sea_failed(sea_abort_error(as), "sleep aborted");
    return sleep_start(d, as);
}

/* ---- the module ---- */

static int sleep_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct sea__list *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->slot[SEA__SLOT_SLEEP] = l;
    return 0;
}

/* Sleeps still in progress break (their futures fail with SEA_EBROKEN_PROMISE). */
static void sleep_shard_stop(struct sea__shard *s) {
    struct sea__list *l = sleepers_of(s);
    if (!l)
        return;
    struct sea__link *x;
    while ((x = sea__list_first(l))) {
        struct sleeper *sl = sea__list_entry(x, struct sleeper, link);
        sea_timer_cancel(&sl->timer);
        sleeper_end(sl);
    }
    free(l);
    s->slot[SEA__SLOT_SLEEP] = NULL;
}

const struct sea__module sea__module_sleep = {
    .name = "sleep",
    .shard_start = sleep_shard_start,
    .shard_stop = sleep_shard_stop,
};
