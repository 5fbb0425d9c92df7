/*
 * sea/internal/list.h - private: the link and list types that sea's intrusive
 * lists thread through objects an application embeds (timers, abort
 * subscriptions, waiting operations).  They are public only because those
 * objects' structs are; the operations live in src/base/list.h.  Nothing
 * here is for applications.
 */
#ifndef SEA_INTERNAL_LIST_H
#define SEA_INTERNAL_LIST_H

/* One element's place in a list: NULL at either end. */
struct sea__link {
    struct sea__link *sea__next, *sea__prev;
};

/* A doubly linked list; all zeros is an empty list. */
struct sea__list {
    struct sea__link *sea__first, *sea__last;
};

#endif
