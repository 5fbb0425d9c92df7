/*
 * core/timers.h - the set of armed timers (timer_set.c) and the timers
 * module (timer.c), which gives each shard its set (SEA__SLOT_TIMERS) and
 * fires due timers from a poller.
 */
#ifndef SEA_CORE_TIMERS_H
#define SEA_CORE_TIMERS_H

#include <stdint.h>

#include <sea/internal/list.h>
#include <sea/timer.h>

struct sea__module;

#define SEA__TIMER_BUCKETS 64

/*
 * Armed timers in 64 buckets: O(1) arm and cancel, sorted lazily (see
 * timer_set.c).  Timers are linked through their sea__link.
 */
struct sea__timer_set {
    struct sea__list buckets[SEA__TIMER_BUCKETS];
    uint64_t nonempty;          /* bit i set when buckets[i] is non-empty */
    sea_time last;              /* time of the last expiry pass */
    sea_time next;              /* earliest deadline (may be early after a cancel), or SEA_TIME_MAX */
    uint64_t count;             /* timers in the buckets */
    struct sea__list expiring;  /* due timers not fired yet in the current pass, in deadline order */
};

void sea__timer_set_init(struct sea__timer_set *ts, sea_time now);
void sea__timer_set_insert(struct sea__timer_set *ts, sea_timer *t);
void sea__timer_set_remove(struct sea__timer_set *ts, sea_timer *t);
/* Moves every timer due at now onto ts->expiring, in deadline order. */
void sea__timer_set_expire(struct sea__timer_set *ts, sea_time now);

/* Timer flags (sea_timer.sea__flags). */
#define SEA__TF_ARMED 1u
#define SEA__TF_EXPIRING 4u /* on the expiring list rather than in a bucket */

/* The module: each shard's timer set, fired by a poller, and the timers part of the state dump. */
extern const struct sea__module sea__module_timers;

#endif
