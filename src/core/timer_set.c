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
#include "internal.h"

static unsigned bucket_of(const struct sea__timer_set *ts, sea_time when) {
    if (when <= ts->last)
        return 0;
    return 63u - (unsigned)__builtin_clzll((uint64_t)when ^ (uint64_t)ts->last);
}

void sea__timer_set_init(struct sea__timer_set *ts, sea_time now) {
    for (unsigned i = 0; i < SEA__TIMER_BUCKETS; i++)
        ts->buckets[i] = NULL;
    ts->nonempty = 0;
    ts->last = now;
    ts->next = SEA_TIME_MAX;
    ts->count = 0;
    ts->expiring = NULL;
}

static void list_push(sea_timer **head, sea_timer *t) {
    t->sea__prev = NULL;
    t->sea__next = *head;
    if (*head)
        (*head)->sea__prev = t;
    *head = t;
}

static void list_unlink(sea_timer **head, sea_timer *t) {
    if (t->sea__prev)
        t->sea__prev->sea__next = t->sea__next;
    else
        *head = t->sea__next;
    if (t->sea__next)
        t->sea__next->sea__prev = t->sea__prev;
    t->sea__next = t->sea__prev = NULL;
}

void sea__timer_set_insert(struct sea__timer_set *ts, sea_timer *t) {
    unsigned b = bucket_of(ts, t->sea__when);
    list_push(&ts->buckets[b], t);
    ts->nonempty |= 1ull << b;
    ts->count++;
    if (t->sea__when < ts->next)
        ts->next = t->sea__when;
}

void sea__timer_set_remove(struct sea__timer_set *ts, sea_timer *t) {
    if (t->sea__flags & SEA__TF_EXPIRING) {
        list_unlink(&ts->expiring, t);
        t->sea__flags &= ~SEA__TF_EXPIRING;
        return;
    }
    unsigned b = bucket_of(ts, t->sea__when);
    list_unlink(&ts->buckets[b], t);
    if (!ts->buckets[b])
        ts->nonempty &= ~(1ull << b);
    ts->count--;
}

/* Merge sort of a singly linked list (sea__next) by deadline; stable. */
static sea_timer *sort_by_deadline(sea_timer *head, size_t n) {
    if (n <= 1) {
        if (head)
            head->sea__next = NULL;
        return head;
    }
    size_t half = n / 2;
    sea_timer *mid = head;
    for (size_t i = 1; i < half; i++)
        mid = mid->sea__next;
    sea_timer *right = mid->sea__next;
    mid->sea__next = NULL;
    sea_timer *a = sort_by_deadline(head, half);
    sea_timer *b = sort_by_deadline(right, n - half);
    sea_timer *out = NULL, **tail = &out;
    while (a && b) {
        sea_timer **pick = b->sea__when < a->sea__when ? &b : &a;
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
    sea_timer *due = NULL, *keep = NULL;
    size_t ndue = 0;

    /* Buckets below idx are entirely due. */
    uint64_t below = idx ? ts->nonempty & ((1ull << idx) - 1) : 0;
    if (idx == 0)
        below = 0;
    while (below) {
        unsigned b = (unsigned)__builtin_ctzll(below);
        below &= below - 1;
        sea_timer *t = ts->buckets[b];
        while (t) {
            sea_timer *next = t->sea__next;
            t->sea__next = due;
            due = t;
            ndue++;
            t = next;
        }
        ts->buckets[b] = NULL;
        ts->nonempty &= ~(1ull << b);
    }
    /* Now's own bucket: split into due and not yet. */
    sea_timer *t = ts->buckets[idx];
    ts->buckets[idx] = NULL;
    ts->nonempty &= ~(1ull << idx);
    while (t) {
        sea_timer *next = t->sea__next;
        if (t->sea__when <= now) {
            t->sea__next = due;
            due = t;
            ndue++;
        } else {
            t->sea__next = keep;
            keep = t;
        }
        t = next;
    }
    ts->count -= ndue;
    ts->last = now;
    /* Not-yet timers of idx go to lower buckets relative to the new `last`. */
    while (keep) {
        sea_timer *next = keep->sea__next;
        unsigned b = bucket_of(ts, keep->sea__when);
        list_push(&ts->buckets[b], keep);
        ts->nonempty |= 1ull << b;
        keep = next;
    }
    /* The earliest deadline lives in the lowest non-empty bucket. */
    ts->next = SEA_TIME_MAX;
    if (ts->nonempty) {
        unsigned b = (unsigned)__builtin_ctzll(ts->nonempty);
        for (sea_timer *x = ts->buckets[b]; x; x = x->sea__next)
            if (x->sea__when < ts->next)
                ts->next = x->sea__when;
    }
    /* Append the due timers, in deadline order, to the expiring list. */
    due = sort_by_deadline(due, ndue);
    sea_timer **tail = &ts->expiring, *prev = NULL;
    while (*tail) {
        prev = *tail;
        tail = &(*tail)->sea__next;
    }
    for (sea_timer *d = due; d; d = d->sea__next) {
        d->sea__prev = prev;
        d->sea__flags |= SEA__TF_EXPIRING;
        prev = d;
    }
    *tail = due;
}
