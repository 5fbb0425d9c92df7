/*
 * stop.c - the list of stop callbacks of a run (core/stop.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/shard.h"
#include "core/smp.h"
#include "core/stop.h"

int sea__stop_callback_add(sea__fnptr fn, const void *cap, size_t capsz) {
    struct sea__shard *s = sea__shard_current;
    if (!fn || !s || !s->smp || s->id != 0)
        return -EINVAL;
    struct sea__stop_callback *c = malloc(sizeof(*c) + (cap ? capsz : 0));
    if (!c)
        return -ENOMEM;
    c->fn = fn;
    c->has_cap = cap != NULL;
    if (cap)
        memcpy(c->cap, cap, capsz);
    c->next = s->smp->stop_callbacks;
    s->smp->stop_callbacks = c;
    return 0;
}

struct sea__stop_callback *sea__stop_callback_pop(struct sea__smp *smp) {
    struct sea__stop_callback *c = smp->stop_callbacks;
    if (c)
        smp->stop_callbacks = c->next;
    return c;
}

sea_future sea__stop_callback_run(struct sea__stop_callback *c) {
    return sea__call(c->fn, c->has_cap ? c->cap : NULL);
}
