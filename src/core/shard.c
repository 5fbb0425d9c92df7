/*
 * shard.c - the thread-local roots every shard's code starts from, and the
 * small services the shard offers its subsystems (see shard.h): the run
 * queue's public entry, pollers, slots, waking.
 */
#include "core/shard.h"

#include <stdatomic.h>
#include <unistd.h>

#include "base/panic.h"

/* The three words the inline fast paths of the public headers read (sea/future.h). */
__thread struct sea__hot sea__hot __attribute__((tls_model("initial-exec")));
/* The running shard, NULL on threads that are not shards. */
__thread struct sea__shard *sea__shard_current __attribute__((tls_model("initial-exec")));

void sea_task_schedule(sea_task *t) {
    struct sea__shard *s = sea__shard_current;
    if (SEA__UNLIKELY(!s))
        sea__panic("sea_task_schedule called with no running reactor");
    sea__rq_push(s, t);
}

void sea__poller_add(struct sea__shard *s, struct sea__poller *p) {
    struct sea__poller **pp = &s->pollers;
    while (*pp)
        pp = &(*pp)->next;
    p->next = NULL;
    *pp = p;
    p->next_flush = NULL;
    if (p->flush) {
        /* Their own list: the loop calls them right after the tasks, every turn. */
        for (pp = &s->flushers; *pp; pp = &(*pp)->next_flush)
            ;
        *pp = p;
    }
}

unsigned sea__slot_reserve(void) {
    static _Atomic unsigned next = SEA__SLOT_CORE_END;
    unsigned slot = atomic_fetch_add(&next, 1);
    if (slot >= SEA__SLOTS)
        sea__panic("no shard slot left for another subsystem (%u slots)", (unsigned)SEA__SLOTS);
    return slot;
}

void sea__shard_wake(struct sea__shard *s) {
    uint64_t one = 1;
    ssize_t w = write(s->wake_fd, &one, sizeof(one));
    (void)w; /* EAGAIN: the counter is already non-zero, the shard will wake */
}

unsigned sea_shard_id(void) {
    struct sea__shard *s = sea__shard_current;
    return s ? s->id : 0;
}

unsigned sea_shard_count(void) {
    struct sea__shard *s = sea__shard_current;
    return s ? s->count : 0;
}
