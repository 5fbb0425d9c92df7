/*
 * timer.c - public timers, sleep() and the clocks, on top of timer_set.c.
 *
 * A timer belongs to the shard it was armed on.  Due timers are fired by the
 * reactor (sea__timers_run) in deadline order; a periodic timer is re-armed
 * before its callback runs, so the callback may cancel or re-arm it.
 */
#include "internal.h"

#include <sea/abort.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>

sea_time sea_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sea_time)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sea_timer_init(sea_timer *t, sea_timer_cb cb, void *arg) {
    t->sea__when = SEA_TIME_MAX;
    t->sea__period = 0;
    t->sea__next = t->sea__prev = NULL;
    t->sea__cb = cb;
    t->sea__arg = arg;
    t->sea__shard = NULL;
    t->sea__flags = 0;
}

bool sea_timer_cancel(sea_timer *t) {
    if (!(t->sea__flags & SEA__TF_ARMED))
        return false;
    struct sea__shard *s = t->sea__shard;
    if (s != sea__shard_current)
        sea__panic("timer cancelled on a shard other than the one that armed it");
    sea__timer_set_remove(&s->timers, t);
    t->sea__flags &= ~SEA__TF_ARMED;
    t->sea__shard = NULL;
    return true;
}

static int arm(sea_timer *t, sea_time deadline, sea_time period) {
    struct sea__shard *s = sea__shard_current;
    if (!s)
        return SEA_ESHUTDOWN;
    if (t->sea__flags & SEA__TF_ARMED)
        sea_timer_cancel(t);
    t->sea__when = deadline;
    t->sea__period = period;
    t->sea__shard = s;
    t->sea__flags |= SEA__TF_ARMED;
    sea__timer_set_insert(&s->timers, t);
    return 0;
}

static sea_time add_sat(sea_time a, sea_time b) {
    sea_time r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? SEA_TIME_MAX : INT64_MIN;
    return r;
}

int sea_timer_arm(sea_timer *t, sea_time delay) {
    return arm(t, add_sat(sea_now(), delay), 0);
}

int sea_timer_arm_at(sea_timer *t, sea_time deadline) {
    return arm(t, deadline, 0);
}

int sea_timer_arm_periodic(sea_timer *t, sea_time period) {
    if (period <= 0)
        return -EINVAL;
    return arm(t, add_sat(sea_now(), period), period);
}

bool sea_timer_armed(const sea_timer *t) {
    return (t->sea__flags & SEA__TF_ARMED) != 0;
}

sea_time sea_timer_expiry(const sea_timer *t) {
    return (t->sea__flags & SEA__TF_ARMED) ? t->sea__when : SEA_TIME_MAX;
}

unsigned sea__timers_run(struct sea__shard *s, sea_time now) {
    struct sea__timer_set *ts = &s->timers;
    if (ts->next > now && !ts->expiring)
        return 0;
    sea__timer_set_expire(ts, now);
    unsigned fired = 0;
    while (ts->expiring) {
        sea_timer *t = ts->expiring;
        sea__timer_set_remove(ts, t);
        t->sea__flags &= ~SEA__TF_ARMED;
        t->sea__shard = NULL;
        if (t->sea__period) {
            sea_time when = add_sat(t->sea__when, t->sea__period);
            if (when <= now)
                when = add_sat(now, t->sea__period);
            arm(t, when, t->sea__period);
        }
        fired++;
        t->sea__cb(t, t->sea__arg);
    }
    s->stats.timers_fired += fired;
    return fired;
}

/* ---- sleep ---- */

struct sleeper {
    sea_timer timer;
    sea_promise promise;
    sea_abort_subscription abort; /* sea_sleep_abortable */
};

static void sleeper_fire(sea_timer *t, void *arg) {
    struct sleeper *sl = arg;
    (void)t;
    sea_abort_unsubscribe(&sl->abort);
    sea_promise_set_void(&sl->promise);
    sea_promise_release(&sl->promise);
    free(sl);
}

static void sleeper_abort(sea_abort_subscription *sub, int err) {
    struct sleeper *sl = sea__container_of(sub, struct sleeper, abort);
    sea_timer_cancel(&sl->timer);
    sea_promise_set_error(&sl->promise, err, "sleep aborted");
    sea_promise_release(&sl->promise);
    free(sl);
}

static sea_future sleep_start(sea_time d, sea_abort_source *as);

sea_future sea_sleep(sea_time d) {
    return sleep_start(d, NULL);
}

sea_future sea_sleep_abortable(sea_time d, sea_abort_source *as) {
    if (!as)
        return sleep_start(d, NULL);
    if (as->sea__requested)
        return sea_failed(as->sea__err, "sleep aborted");
    return sleep_start(d, as);
}

static sea_future sleep_start(sea_time d, sea_abort_source *as) {
    if (!sea__shard_current)
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
    sl->timer.sea__flags |= SEA__TF_SLEEPER;
    sl->abort = (sea_abort_subscription){0};
    if (as)
        sea_abort_subscribe(as, &sl->abort, sleeper_abort);
    arm(&sl->timer, add_sat(sea_now(), d), 0);
    return f;
}

static void shutdown_list(sea_timer *t) {
    while (t) {
        sea_timer *next = t->sea__next;
        t->sea__flags &= ~(SEA__TF_ARMED | SEA__TF_EXPIRING);
        t->sea__shard = NULL;
        if (t->sea__flags & SEA__TF_SLEEPER) {
            struct sleeper *sl = t->sea__arg;
            sea_abort_unsubscribe(&sl->abort);
            sea_promise_release(&sl->promise);
            free(sl);
        }
        t = next;
    }
}

void sea__timers_shutdown(struct sea__shard *s) {
    struct sea__timer_set *ts = &s->timers;
    for (unsigned b = 0; b < SEA__TIMER_BUCKETS; b++) {
        sea_timer *t = ts->buckets[b];
        ts->buckets[b] = NULL;
        shutdown_list(t);
    }
    sea_timer *t = ts->expiring;
    ts->expiring = NULL;
    shutdown_list(t);
    ts->nonempty = 0;
    ts->count = 0;
    ts->next = SEA_TIME_MAX;
}
