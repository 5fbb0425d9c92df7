/*
 * timer_set.c - the set of armed timers: O(1) arm and cancel, lazy sorting.
 *
 * Timers sit in 64 buckets.  A timer's bucket is the index of the highest bit
 * in which its deadline differs from `last`, the time of the previous expiry
 * pass (bucket 0 also takes deadlines at or before `last`).  Every timer in a
 * lower bucket is due before every timer in a higher one, so an expiry pass at
 * time `now` takes the buckets below now's own index whole, sorts through just
 * now's bucket, and leaves the higher buckets untouched.  A bitmap of
 * non-empty buckets makes finding work a count-leading-zeros away.  This is
 * the structure Seastar uses; it stays fast with millions of timers because
 * arming and cancelling never search, and each timer is re-bucketed at most
 * 64 times over its life.
 */
#include "core/timers.h"

#include "base/list.h"

static unsigned bucket_of(const struct sea__timer_set *ts, sea_time when) {
    if (when <= ts->last)
        return 0;
    return 63u - (unsigned)__builtin_clzll((uint64_t)when ^ (uint64_t)ts->last);
}

static sea_timer *timer_of(struct sea__link *l) {
    return sea__list_entry(l, sea_timer, sea__link);
}

void sea__timer_set_init(struct sea__timer_set *ts, sea_time now) {
    for (unsigned i = 0; i < SEA__TIMER_BUCKETS; i++)
        sea__list_init(&ts->buckets[i]);
    ts->nonempty = 0;
    ts->last = now;
    ts->next = SEA_TIME_MAX;
    ts->count = 0;
    sea__list_init(&ts->expiring);
}

void sea__timer_set_insert(struct sea__timer_set *ts, sea_timer *t) {
    unsigned b = bucket_of(ts, t->sea__when);
    sea__list_push_front(&ts->buckets[b], &t->sea__link);
    ts->nonempty |= 1ull << b;
    ts->count++;
    if (t->sea__when < ts->next)
        ts->next = t->sea__when;
}

void sea__timer_set_remove(struct sea__timer_set *ts, sea_timer *t) {
    if (t->sea__flags & SEA__TF_EXPIRING) {
        sea__list_remove(&ts->expiring, &t->sea__link);
        t->sea__flags &= ~SEA__TF_EXPIRING;
        return;
    }
    unsigned b = bucket_of(ts, t->sea__when);
    sea__list_remove(&ts->buckets[b], &t->sea__link);
    if (sea__list_empty(&ts->buckets[b]))
        ts->nonempty &= ~(1ull << b);
    ts->count--;
}

/* Merge sort by deadline of a chain linked through sea__next only; stable. */
static struct sea__link *sort_by_deadline(struct sea__link *head, size_t n) {
    if (n <= 1) {
        if (head)
            head->sea__next = NULL;
        return head;
    }
    size_t half = n / 2;
    struct sea__link *mid = head;
    for (size_t i = 1; i < half; i++)
        mid = mid->sea__next;
    struct sea__link *right = mid->sea__next;
    mid->sea__next = NULL;
    struct sea__link *a = sort_by_deadline(head, half);
    struct sea__link *b = sort_by_deadline(right, n - half);
    struct sea__link *out = NULL, **tail = &out;
    while (a && b) {
        struct sea__link **pick = timer_of(b)->sea__when < timer_of(a)->sea__when ? &b : &a;
        *tail = *pick;
        tail = &(*pick)->sea__next;
        *pick = (*pick)->sea__next;
    }
    *tail = a ? a : b;
    return out;
}

void sea__timer_set_expire(struct sea__timer_set *ts, sea_time now) {
    if (now < ts->last)
        now = ts->last;
    unsigned idx = bucket_of(ts, now);
    struct sea__link *due = NULL, *keep = NULL; /* chains through sea__next */
    size_t ndue = 0;

    /* Buckets below idx are entirely due. */
    uint64_t below = idx ? ts->nonempty & ((1ull << idx) - 1) : 0;
    while (below) {
        unsigned b = (unsigned)__builtin_ctzll(below);
        below &= below - 1;
        for (struct sea__link *l = ts->buckets[b].sea__first, *next; l; l = next) {
            next = l->sea__next;
            l->sea__next = due;
            due = l;
            ndue++;
        }
        sea__list_init(&ts->buckets[b]);
        ts->nonempty &= ~(1ull << b);
    }
    /* Now's own bucket: split into due and not yet. */
    struct sea__link *l = ts->buckets[idx].sea__first;
    sea__list_init(&ts->buckets[idx]);
    ts->nonempty &= ~(1ull << idx);
    for (struct sea__link *next; l; l = next) {
        next = l->sea__next;
        if (timer_of(l)->sea__when <= now) {
            l->sea__next = due;
            due = l;
            ndue++;
        } else {
            l->sea__next = keep;
            keep = l;
        }
    }
    ts->count -= ndue;
    ts->last = now;
    /* Not-yet timers of idx go to lower buckets relative to the new `last`. */
    for (struct sea__link *next; keep; keep = next) {
        next = keep->sea__next;
        unsigned b = bucket_of(ts, timer_of(keep)->sea__when);
        sea__list_push_front(&ts->buckets[b], keep);
        ts->nonempty |= 1ull << b;
    }
    /* The earliest deadline lives in the lowest non-empty bucket. */
    ts->next = SEA_TIME_MAX;
    if (ts->nonempty) {
        unsigned b = (unsigned)__builtin_ctzll(ts->nonempty);
        sea__list_for_each(x, &ts->buckets[b])
            if (timer_of(x)->sea__when < ts->next)
                ts->next = timer_of(x)->sea__when;
    }
    /* Append the due timers, in deadline order, to the expiring list. */
    for (struct sea__link *d = sort_by_deadline(due, ndue), *next; d; d = next) {
        next = d->sea__next;
        timer_of(d)->sea__flags |= SEA__TF_EXPIRING;
        sea__list_push_back(&ts->expiring, d);
    }
}
