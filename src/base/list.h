/*
 * base/list.h - the one intrusive doubly linked list sea uses everywhere.
 *
 * An element embeds a struct sea__link; a list is a struct sea__list (first
 * and last element, NULL when empty, so a zeroed list is a valid empty one).
 * Both types are in <sea/internal/list.h> because public structs embed them.
 * Every operation is O(1) and allocates nothing; removing needs the list
 * (to fix first and last) but not a search.  sea__list_entry() turns a link
 * back into its element.
 *
 *     struct conn { ...; struct sea__link link; };
 *     sea__list_push_back(&conns, &c->link);
 *     sea__list_for_each(it, &conns) {
 *         struct conn *c = sea__list_entry(it, struct conn, link);
 *         ...
 *     }
 */
#ifndef SEA_BASE_LIST_H
#define SEA_BASE_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include <sea/internal/list.h>

#include "base/compiler.h"

#define sea__list_entry(link, type, member) sea__container_of(link, type, member)

static inline void sea__list_init(struct sea__list *l) {
    l->sea__first = l->sea__last = NULL;
}

static inline bool sea__list_empty(const struct sea__list *l) {
    return l->sea__first == NULL;
}

static inline struct sea__link *sea__list_first(const struct sea__list *l) {
    return l->sea__first;
}

static inline struct sea__link *sea__list_last(const struct sea__list *l) {
    return l->sea__last;
}

static inline struct sea__link *sea__link_next(const struct sea__link *n) {
    return n->sea__next;
}

static inline void sea__list_push_front(struct sea__list *l, struct sea__link *n) {
    n->sea__prev = NULL;
    n->sea__next = l->sea__first;
    if (l->sea__first)
        l->sea__first->sea__prev = n;
    else
        l->sea__last = n;
    l->sea__first = n;
}

static inline void sea__list_push_back(struct sea__list *l, struct sea__link *n) {
    n->sea__next = NULL;
    n->sea__prev = l->sea__last;
    if (l->sea__last)
        l->sea__last->sea__next = n;
    else
        l->sea__first = n;
    l->sea__last = n;
}

/* Takes n, which must be on l, off l. */
static inline void sea__list_remove(struct sea__list *l, struct sea__link *n) {
    if (n->sea__prev)
        n->sea__prev->sea__next = n->sea__next;
    else
        l->sea__first = n->sea__next;
    if (n->sea__next)
        n->sea__next->sea__prev = n->sea__prev;
    else
        l->sea__last = n->sea__prev;
    n->sea__next = n->sea__prev = NULL;
}

/* The first element, taken off l; NULL if l is empty. */
static inline struct sea__link *sea__list_pop_front(struct sea__list *l) {
    struct sea__link *n = l->sea__first;
    if (n)
        sea__list_remove(l, n);
    return n;
}

/* The last element, taken off l; NULL if l is empty. */
static inline struct sea__link *sea__list_pop_back(struct sea__list *l) {
    struct sea__link *n = l->sea__last;
    if (n)
        sea__list_remove(l, n);
    return n;
}

/* Visits every link of l, first to last; the body must not remove `it`. */
#define sea__list_for_each(it, l) for (struct sea__link *it = (l)->sea__first; it; it = it->sea__next)

/* Visits every link of l; the body may remove (and free) `it`. */
#define sea__list_for_each_safe(it, l)                                                                \
    for (struct sea__link *it = (l)->sea__first, *it##_next = it ? it->sea__next : NULL; it;          \
         it = it##_next, it##_next = it ? it->sea__next : NULL)

#endif
