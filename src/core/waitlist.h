/*
 * core/waitlist.h - the waiting operations behind semaphores, condition
 * variables, queues and shared promises (waitlist.c).
 *
 * A waiter is a promise in a FIFO list, plus what it waits for (units, an
 * item) and, optionally, a timeout and an abort subscription.  Whoever wakes
 * it takes it off the list; a timeout or an abort takes it off too, fails its
 * promise, and tells the list's owner through cancelled() (a semaphore whose
 * first waiter gave up may now serve the next one).
 */
#ifndef SEA_CORE_WAITLIST_H
#define SEA_CORE_WAITLIST_H

#include <sea/abort.h>
#include <sea/promise.h>
#include <sea/timer.h>
#include <sea/internal/waitlist.h>

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"

struct sea__waiter {
    struct sea__link link;       /* its list's waiters */
    struct sea__waitlist *list;
    sea_promise promise;
    int64_t n;                   /* semaphore units */
    void *item;                  /* a queue push's item */
    sea_timer timer;
    bool timed;
    const char *timeout_msg;
    sea_abort_subscription abort;
    void (*cancelled)(struct sea__waitlist *list, void *owner);
    void *owner;
};

static inline void sea__waitlist_init(struct sea__waitlist *l) {
    sea__list_init(&l->sea__waiters);
    l->sea__count = 0;
}

/* The first waiter of l (the one that waited longest), or NULL. */
static inline struct sea__waiter *sea__waitlist_first(const struct sea__waitlist *l) {
    struct sea__link *first = sea__list_first(&l->sea__waiters);
    return first ? sea__list_entry(first, struct sea__waiter, link) : NULL;
}

/*
 * Appends a waiter for n and returns it with its future in *f; on failure
 * returns NULL with *f failed (-ENOMEM).  cancelled(list, owner), if not
 * NULL, runs after a timeout or an abort removed a waiter.
 */
struct sea__waiter *sea__waiter_add(struct sea__waitlist *l, int64_t n, sea_future *f,
                                    void (*cancelled)(struct sea__waitlist *, void *), void *owner);
/* Fails w with -ETIMEDOUT (message msg) if still waiting after timeout ns. */
void sea__waiter_set_timeout(struct sea__waiter *w, sea_time timeout, const char *msg);
/* Fails w with the abort's error when as aborts; returns that error at once (w failed) if it has. */
int sea__waiter_set_abort(struct sea__waiter *w, sea_abort_source *as);
/* Takes w off its list and resolves it with v / fails it with err. */
void sea__waiter_wake(struct sea__waiter *w, sea_value v);
void sea__waiter_fail(struct sea__waiter *w, int err, const char *static_msg);
/* Takes w off its list and resolves it with the ready future r (consumed). */
void sea__waiter_settle(struct sea__waiter *w, sea_future r);
/* Fails every waiter of l. */
void sea__waitlist_fail_all(struct sea__waitlist *l, int err, const char *static_msg);

#endif
