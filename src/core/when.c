/*
 * when.c - when_all, when_all_succeed and when_any (sea/when.h).
 * (sea_with_timeout lives with the other races in race.c.)
 *
 * Each keeps one heap state for the whole group: a counter of results still
 * to come, the results themselves, and the promise of the group's future.
 * Ready inputs are handled at once and cost nothing.
 */
#include <sea/promise.h>
#include <sea/when.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/future.h"

struct group {
    sea_promise promise;
    size_t n, remaining;
    sea_future *out;      /* when_all: the caller's array */
    sea_value *values;    /* when_all_succeed: where values go (or NULL) */
    bool succeed;
    sea_future res[];     /* when_all_succeed: the results */
};
struct slot {
    struct group *g;
    size_t i;
};

/* when_all_succeed: the verdict over n ready results (consumes them). */
static sea_future verdict(sea_future *res, size_t n, sea_value *values) {
    size_t first = n;
    for (size_t i = 0; i < n; i++)
        if (sea_future_failed(&res[i]) && first == n)
            first = i;
    for (size_t i = 0; i < n; i++) {
        if (i == first)
            continue;
        if (sea_future_failed(&res[i])) {
            (void)sea_future_error(&res[i]); /* seen: the group reports the first one */
            sea_future_detach(sea_future_move(&res[i]));
        } else if (first == n && values) {
            values[i] = sea_future_value(&res[i]);
            sea_future_detach(sea_future_move(&res[i])); /* frees a node, releases nothing more */
        } else {
            sea_future_detach(sea_future_move(&res[i]));
        }
    }
    return first == n ? sea_ready() : sea_future_move(&res[first]);
}

static sea_future group_one(struct slot *s, sea_future *in) {
    struct group *g = s->g;
    if (g->succeed)
        g->res[s->i] = sea_future_move(in);
    else
        g->out[s->i] = sea_future_move(in);
    if (--g->remaining == 0) {
        if (g->succeed)
            sea_promise_forward(&g->promise, verdict(g->res, g->n, g->values));
        else
            sea_promise_set_void(&g->promise);
        sea_promise_release(&g->promise);
        free(g);
    }
    return sea_ready();
}
static sea_future group_start(sea_future *fs, size_t n, sea_value *values, bool succeed) {
    size_t pending = 0;
    for (size_t i = 0; i < n; i++) {
        sea__future_settle(&fs[i]);
        pending += !sea_future_available(&fs[i]);
    }
    if (!pending)
        return succeed ? verdict(fs, n, values) : sea_ready();
    struct group *g = calloc(1, sizeof(*g) + (succeed ? n * sizeof(sea_future) : 0));
    if (!g)
        return sea_failed(-ENOMEM, "out of memory waiting for several futures");
    sea_promise_init(&g->promise);
    sea_future out = sea_promise_get_future(&g->promise);
    if (sea_future_failed(&out)) {
        sea_promise_release(&g->promise);
        free(g);
        return out;
    }
    g->n = n;
    g->remaining = pending;
    g->out = fs;
    g->values = values;
    g->succeed = succeed;
    /* Ready ones first: once the pending ones are attached, the group may end (and go) at any time. */
    if (succeed)
        for (size_t i = 0; i < n; i++)
            if (sea_future_available(&fs[i]))
                g->res[i] = sea_future_move(&fs[i]);
    for (size_t i = 0; i < n; i++) {
        if ((fs[i].sea__state & SEA__S_KIND) != SEA__S_PENDING)
            continue;
        sea_future f = sea_future_move(&fs[i]);
        sea_future c = sea_then_wrapped(f, group_one, (struct slot){g, i});
        if (sea_future_failed(&c))
            group_one(&(struct slot){g, i}, &c); /* no memory to wait for this one: that is its result */
        else
            sea_future_detach(c);
    }
    return out;
}

sea_future sea_when_all(sea_future *fs, size_t n) {
    return group_start(fs, n, NULL, false);
}

sea_future sea_when_all_succeed(sea_future *fs, size_t n, sea_value *values) {
    return group_start(fs, n, values, true);
}

/* ---- when_any ---- */

struct any {
    sea_promise winner;
    bool decided;
    size_t remaining;
    sea_promise relay[]; /* one per input: the caller's replacement futures */
};
struct any_slot {
    struct any *a;
    size_t i;
};

static sea_future any_one(struct any_slot *s, sea_future *in) {
    struct any *a = s->a;
    sea_promise_forward(&a->relay[s->i], sea_future_move(in));
    sea_promise_release(&a->relay[s->i]);
    if (!a->decided) {
        a->decided = true;
        sea_promise_set_int(&a->winner, (int64_t)s->i);
        sea_promise_release(&a->winner);
    }
    if (--a->remaining == 0)
        free(a);
    return sea_ready();
}

sea_future sea_when_any(sea_future *fs, size_t n) {
    if (n == 0)
        return sea_failed(-EINVAL, "sea_when_any of no futures");
    for (size_t i = 0; i < n; i++) {
        sea__future_settle(&fs[i]);
        if (sea_future_available(&fs[i]))
            return sea_ready_int((int64_t)i);
    }
    struct any *a = calloc(1, sizeof(*a) + n * sizeof(sea_promise));
    if (!a)
        return sea_failed(-ENOMEM, "out of memory waiting for any of several futures");
    sea_promise_init(&a->winner);
    sea_future out = sea_promise_get_future(&a->winner);
    sea_future *relayed = malloc(n * sizeof(*relayed));
    bool ok = !sea_future_failed(&out) && relayed;
    for (size_t i = 0; ok && i < n; i++) {
        sea_promise_init(&a->relay[i]);
        relayed[i] = sea_promise_get_future(&a->relay[i]);
        if (sea_future_failed(&relayed[i])) {
            for (size_t k = 0; k <= i; k++) {
                sea_future_detach(sea_future_move(&relayed[k]));
                sea_promise_release(&a->relay[k]);
            }
            ok = false;
        }
    }
    if (!ok) {
        sea_future_detach(sea_future_move(&out));
        sea_promise_release(&a->winner);
        free(relayed);
        free(a);
        return sea_failed(-ENOMEM, "out of memory waiting for any of several futures");
    }
    a->remaining = n;
    for (size_t i = 0; i < n; i++) {
        sea_future f = sea_future_move(&fs[i]);
        fs[i] = relayed[i];
        sea_future c = sea_then_wrapped(f, any_one, (struct any_slot){a, i});
        if (sea_future_failed(&c))
            any_one(&(struct any_slot){a, i}, &c); /* no memory to wait: relay that failure */
        else
            sea_future_detach(c);
    }
    free(relayed);
    return out;
}
