/*
 * sea/waitlist.h - private: the queue of waiting operations embedded in
 * semaphores, condition variables, queues and shared promises.  Nothing here
 * is for applications; the fields are sea's.
 */
#ifndef SEA_WAITLIST_H
#define SEA_WAITLIST_H

#include <stddef.h>

struct sea__waiter;

/* Waiters in arrival order. */
struct sea__waitlist {
    struct sea__waiter *sea__head, *sea__tail;
    size_t sea__count;
};

#endif
