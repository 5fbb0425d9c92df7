/*
 * sea/internal/waitlist.h - private: the queue of waiting operations
 * embedded in semaphores, condition variables, queues and shared promises.
 * Nothing here is for applications; the fields are sea's.
 */
#ifndef SEA_INTERNAL_WAITLIST_H
#define SEA_INTERNAL_WAITLIST_H

#include <stddef.h>

#include <sea/internal/list.h>

/* Waiters (struct sea__waiter, src/core/waitlist.h) in arrival order. */
struct sea__waitlist {
    struct sea__list sea__waiters;
    size_t sea__count;
};

#endif
