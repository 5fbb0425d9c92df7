/*
 * timer.c - public timers and the clocks, on top of timer_set.c, and the
 * timers module: each shard's timer set, fired by a poller of the loop.
 *
 * A timer belongs to the shard it was armed on.  Due timers are fired by
 * the poller in deadline order; a periodic timer is re-armed before its
 * callback runs, so the callback may cancel or re-arm it.  Before the loop
 * sleeps, the poller lowers its deadline to the earliest timer's.
 */
#include "core/timers.h"

#include <sea/error.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/list.h"
#include "base/panic.h"
#include "base/symbolize.h"
#include "core/module.h"
#include "core/shard.h"

/* A shard's timers (its SEA__SLOT_TIMERS). */
struct timers {
    struct sea__timer_set set;
    struct sea__poller poller;
};

static inline struct timers *timers_of(const struct sea__shard *s) {
    return s->slot[SEA__SLOT_TIMERS];
}

sea_time sea_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sea_time)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sea_timer_init(sea_timer *t, sea_timer_cb cb, void *arg) {
    t->sea__when = SEA_TIME_MAX;
    t->sea__period = 0;
    t->sea__link.sea__next = t->sea__link.sea__prev = NULL;
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
    sea__timer_set_remove(&timers_of(s)->set, t);
    t->sea__flags &= ~SEA__TF_ARMED;
    t->sea__shard = NULL;
    return true;
}

static int arm(sea_timer *t, sea_time deadline, sea_time period) {
    struct sea__shard *s = sea__shard_current;
    if (!s || !timers_of(s))
        return SEA_ESHUTDOWN;
    if (t->sea__flags & SEA__TF_ARMED)
        sea_timer_cancel(t);
    t->sea__when = deadline;
    t->sea__period = period;
    t->sea__shard = s;
    t->sea__flags |= SEA__TF_ARMED;
    sea__timer_set_insert(&timers_of(s)->set, t);
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

/* ---- the module ---- */

/* The poller: fires due timers at the time the loop read this turn; returns how many ran. */
static unsigned timers_poll(void *state) {
    struct timers *tm = state;
    struct sea__timer_set *ts = &tm->set;
    sea_time now = sea__hot.lowres_now;
    if (ts->next > now && sea__list_empty(&ts->expiring))
        return 0;
    sea__timer_set_expire(ts, now);
    unsigned fired = 0;
    struct sea__link *l;
    while ((l = sea__list_first(&ts->expiring))) {
        sea_timer *t = sea__list_entry(l, sea_timer, sea__link);
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
    sea__shard_current->stats.timers_fired += fired;
    return fired;
}

/* The loop may sleep until the earliest deadline; due timers not fired yet keep it awake. */
static bool timers_try_sleep(void *state, sea_time *deadline) {
    struct timers *tm = state;
    if (!sea__list_empty(&tm->set.expiring))
        *deadline = sea__hot.lowres_now;
    else if (tm->set.next < *deadline)
        *deadline = tm->set.next;
    return true;
}

static int timers_shard_start(struct sea__shard *s, char *err, size_t errlen) {
    struct timers *tm = calloc(1, sizeof(*tm));
    if (!tm) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    sea__timer_set_init(&tm->set, sea_now());
    tm->poller = (struct sea__poller){.poll = timers_poll, .try_sleep = timers_try_sleep, .state = tm};
    sea__poller_add(s, &tm->poller);
    s->slot[SEA__SLOT_TIMERS] = tm;
    return 0;
}

/* Timers still armed are left disarmed: they belong to their owners, who are stopping too. */
static void disarm_all(struct sea__list *l) {
    struct sea__link *x;
    while ((x = sea__list_pop_front(l))) {
        sea_timer *t = sea__list_entry(x, sea_timer, sea__link);
        t->sea__flags &= ~(SEA__TF_ARMED | SEA__TF_EXPIRING);
        t->sea__shard = NULL;
    }
}

static void timers_shard_stop(struct sea__shard *s) {
    struct timers *tm = timers_of(s);
    if (!tm)
        return;
    for (unsigned b = 0; b < SEA__TIMER_BUCKETS; b++)
        disarm_all(&tm->set.buckets[b]);
    disarm_all(&tm->set.expiring);
    free(tm);
    s->slot[SEA__SLOT_TIMERS] = NULL;
}

/* At most this many timers are listed in the state dump (the count is always given). */
#define DUMP_LIMIT 32

static void timers_dump(struct sea__shard *s, FILE *out, int part) {
    struct timers *tm = timers_of(s);
    if (part == SEA__DUMP_SUMMARY) {
        fprintf(out, "%llu timers", (unsigned long long)tm->set.count);
        return;
    }
    sea_time now = sea_now();
    unsigned listed = 0;
    for (int b = 0; b < SEA__TIMER_BUCKETS; b++) {
        sea__list_for_each(l, &tm->set.buckets[b]) {
            if (listed++ >= DUMP_LIMIT)
                break;
            sea_timer *t = sea__list_entry(l, sea_timer, sea__link);
            char what[256];
            sea__describe_addr((const void *)t->sea__cb, what, sizeof(what));
            fprintf(out, "  timer: due in %lld ms%s, calls %s\n", (long long)((t->sea__when - now) / 1000000),
                    t->sea__period ? " (periodic)" : "", what);
        }
    }
    sea__list_for_each(l, &tm->set.expiring) {
        if (listed++ >= DUMP_LIMIT)
            break;
        sea_timer *t = sea__list_entry(l, sea_timer, sea__link);
        char what[256];
        sea__describe_addr((const void *)t->sea__cb, what, sizeof(what));
        fprintf(out, "  timer: due now, calls %s\n", what);
    }
}

const struct sea__module sea__module_timers = {
    .name = "timers",
    .shard_start = timers_shard_start,
    .shard_stop = timers_shard_stop,
    .dump = timers_dump,
};
