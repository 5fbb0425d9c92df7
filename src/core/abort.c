/*
 * abort.c - abort sources: one-shot signals that operations subscribe to
 * (sea/abort.h).  What waits on them is elsewhere: sleeps (sleep.c), races
 * (race.c), waiting operations (waitlist.c), I/O requests (io.c).
 */
#include <sea/abort.h>

#include "base/list.h"

void sea_abort_source_init(sea_abort_source *as) {
    sea__list_init(&as->sea__subs);
    as->sea__err = 0;
    as->sea__requested = false;
}

bool sea_abort_requested(const sea_abort_source *as) {
    return as->sea__requested;
}

int sea_abort_error(const sea_abort_source *as) {
    return as->sea__requested ? as->sea__err : 0;
}

int sea_abort_subscribe(sea_abort_source *as, sea_abort_subscription *sub, sea_abort_fn fn) {
    if (as->sea__requested)
        return as->sea__err;
    sub->sea__fn = fn;
    sub->sea__source = as;
    sea__list_push_back(&as->sea__subs, &sub->sea__link);
    return 0;
}

void sea_abort_unsubscribe(sea_abort_subscription *sub) {
    sea_abort_source *as = sub->sea__source;
    if (!as)
        return;
    sea__list_remove(&as->sea__subs, &sub->sea__link);
    sub->sea__source = NULL;
}

void sea_abort_source_request(sea_abort_source *as, int err) {
    if (as->sea__requested)
        return;
    as->sea__requested = true;
    as->sea__err = err < 0 ? err : SEA_EABORTED;
    /* Each callback may unsubscribe others (or free them): always take the current head. */
    struct sea__link *l;
    while ((l = sea__list_first(&as->sea__subs))) {
        sea_abort_subscription *sub = sea__list_entry(l, sea_abort_subscription, sea__link);
        sea_abort_unsubscribe(sub);
        sub->sea__fn(sub, as->sea__err);
    }
}
