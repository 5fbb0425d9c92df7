/*
 * sharded.c - sharded services: one instance per shard, reached by message.
 *
 * The service object holds one slot per shard (each on its own cache line);
 * a slot is read and written only by its own shard, so nothing here is shared
 * between threads except the immutable parts (ops, arg, shard count).  Calls
 * travel with sea__submit_to; each slot counts the calls running on its
 * instance so that stopping can wait for them.
 */
#include <sea/promise.h>
#include <sea/sharded.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/shard.h"

/* A second stop that arrived while the first was still running on a shard. */
struct stop_waiter {
    sea_promise done;
    struct stop_waiter *next;
};

struct svc_slot {
    _Alignas(64) void *instance;
    unsigned inflight;   /* calls running on the instance */
    bool running;        /* accepting calls */
    bool drain_waiting;  /* stop waits for inflight to reach 0 */
    bool stopping;       /* a stop is running on this shard */
    sea_promise drained;
    struct stop_waiter *stop_waiters; /* later stops, resolved when it ends */
};

struct sea_sharded {
    const sea_service_ops *ops;
    void *arg;
    unsigned n;
    bool started;
    bool starting;                     /* start has not resolved yet */
    struct stop_waiter *start_waiters; /* stops called meanwhile: they go on after it */
    struct svc_slot *slots;
};

/* A future that resolves when waiters_resolve(list) runs. */
static sea_future waiter_add(struct stop_waiter **list) {
    struct stop_waiter *w = malloc(sizeof(*w));
    if (!w)
        return sea_failed(-ENOMEM, "out of memory stopping a sharded service");
    sea_promise_init(&w->done);
    sea_future f = sea_promise_get_future(&w->done);
    if (sea_future_failed(&f)) {
        sea_promise_release(&w->done);
        free(w);
        return f;
    }
    w->next = *list;
    *list = w;
    return f;
}

static void waiters_resolve(struct stop_waiter **list) {
    while (*list) {
        struct stop_waiter *w = *list;
        *list = w->next;
        sea_promise_set_void(&w->done);
        sea_promise_release(&w->done);
        free(w);
    }
}

/* The message capture of a call: this header, then the caller's capture bytes. */
struct call_hdr {
    sea_sharded *svc;
    sea__fnptr fn;
    bool has_cap;      /* fn takes the capture after the instance */
    size_t capsz;
    _Alignas(16) unsigned char cap[];
};

sea_sharded *sea_sharded_new(const sea_service_ops *ops, void *arg) {
    struct sea__shard *s = sea__shard_current;
    if (!ops || !ops->create || !s)
        return NULL;
    sea_sharded *svc = calloc(1, sizeof(*svc));
    if (!svc)
        return NULL;
    svc->slots = aligned_alloc(64, sizeof(struct svc_slot) * s->count);
    if (!svc->slots) {
        free(svc);
        return NULL;
    }
    memset(svc->slots, 0, sizeof(struct svc_slot) * s->count);
    svc->ops = ops;
    svc->arg = arg;
    svc->n = s->count;
    return svc;
}

void *sea_sharded_local(sea_sharded *svc) {
    struct sea__shard *s = sea__shard_current;
    if (!svc || !s || s->id >= svc->n)
        return NULL;
    struct svc_slot *slot = &svc->slots[s->id];
    return slot->running ? slot->instance : NULL;
}

static struct svc_slot *my_slot(sea_sharded *svc) {
    return &svc->slots[sea__shard_current->id];
}

/* ---- calls ---- */

static sea_future call_done(sea_sharded **svcp) {
    struct svc_slot *slot = my_slot(*svcp);
    if (--slot->inflight == 0 && slot->drain_waiting) {
        slot->drain_waiting = false;
        sea_promise_set_void(&slot->drained);
        sea_promise_release(&slot->drained);
    }
    return sea_ready();
}

static sea_future call_on_shard(struct call_hdr *h) {
    struct svc_slot *slot = my_slot(h->svc);
    if (!slot->running)
        return sea_failed(SEA_ESHUTDOWN, "the service is not running on this shard");
    slot->inflight++;
    sea_future f = h->has_cap ? ((sea_future(*)(void *, void *))h->fn)(slot->instance, h->cap)
                              : ((sea_future(*)(void *))h->fn)(slot->instance);
    return sea_finally(f, call_done, h->svc);
}

/* Builds the header+capture buffer; returns NULL if out of memory. */
static struct call_hdr *call_make(sea_sharded *svc, sea__fnptr fn, const void *cap, size_t capsz,
                                  size_t *total) {
    *total = sizeof(struct call_hdr) + capsz;
    struct call_hdr *h = malloc(*total);
    if (!h)
        return NULL;
    h->svc = svc;
    h->fn = fn;
    h->has_cap = cap != NULL;
    h->capsz = capsz;
    if (cap)
        memcpy(h->cap, cap, capsz);
    return h;
}

sea_future sea__sharded_invoke_on(sea_sharded *svc, unsigned shard, sea__fnptr fn, const void *cap,
                                  size_t capsz) {
    if (!svc)
        return sea_failed(-EINVAL, "sea_sharded_invoke_on: no service");
    size_t total;
    struct call_hdr *h = call_make(svc, fn, cap, capsz, &total);
    if (!h)
        return sea_failed(-ENOMEM, "out of memory calling a sharded service");
    sea_future f = sea__submit_to(shard, (sea__fnptr)call_on_shard, h, total);
    free(h); /* submit copied it */
    return f;
}

sea_future sea__sharded_map_reduce(sea_sharded *svc, sea_reduce_fn reduce, sea_value initial, sea__fnptr fn,
                                   const void *cap, size_t capsz) {
    if (!svc)
        return sea_failed(-EINVAL, "sea_sharded_map_reduce: no service");
    size_t total;
    struct call_hdr *h = call_make(svc, fn, cap, capsz, &total);
    if (!h)
        return sea_failed(-ENOMEM, "out of memory calling a sharded service");
    sea_future f = reduce ? sea__map_reduce((sea__fnptr)call_on_shard, reduce, initial, h, total)
                          : sea__invoke_on_all((sea__fnptr)call_on_shard, h, total);
    free(h);
    return f;
}

/* ---- start ---- */

static sea_future created(sea_sharded **svcp, sea_value v) {
    struct svc_slot *slot = my_slot(*svcp);
    slot->instance = v.ptr;
    slot->running = true;
    return sea_ready();
}

static sea_future create_on_shard(sea_sharded **svcp) {
    sea_sharded *svc = *svcp;
    return sea_then(svc->ops->create(svc->arg), created, svc);
}

static sea_future undo_on_shard(sea_sharded **svcp) {
    sea_sharded *svc = *svcp;
    struct svc_slot *slot = my_slot(svc);
    if (slot->running) {
        slot->running = false;
        if (svc->ops->destroy)
            svc->ops->destroy(slot->instance);
        slot->instance = NULL;
    }
    return sea_ready();
}

struct start_failure {
    sea_future error;
};

static sea_future start_undone(struct start_failure *sf, sea_future *in) {
    (void)sea_future_error(in);
    return sea_future_move(&sf->error);
}

static sea_future start_checked(sea_sharded **svcp, sea_future *in) {
    if (!sea_future_failed(in))
        return sea_future_move(in);
    (void)sea_future_error(in);
    /* Some shard could not create its instance: take the others down again. */
    struct start_failure sf = {sea_future_move(in)};
    return sea_then_wrapped(sea_invoke_on_all(undo_on_shard, *svcp), start_undone, sf);
}

static sea_future start_finished(sea_sharded **svcp) {
    sea_sharded *svc = *svcp;
    svc->starting = false;
    waiters_resolve(&svc->start_waiters); /* stops called during the start go on now */
    return sea_ready();
}

sea_future sea_sharded_start(sea_sharded *svc) {
    if (!svc)
        return sea_failed(-EINVAL, "sea_sharded_start: no service");
    if (svc->started)
        return sea_failed(-EALREADY, "sea_sharded_start: the service was started before");
    svc->started = true;
    svc->starting = true;
    sea_future f = sea_then_wrapped(sea_invoke_on_all(create_on_shard, svc), start_checked, svc);
    return sea_finally(f, start_finished, svc);
}

/* ---- stop ---- */

static sea_future destroy_here(sea_sharded **svcp) {
    sea_sharded *svc = *svcp;
    struct svc_slot *slot = my_slot(svc);
    if (svc->ops->destroy && slot->instance)
        svc->ops->destroy(slot->instance);
    slot->instance = NULL;
    slot->stopping = false;
    waiters_resolve(&slot->stop_waiters);
    return sea_ready();
}

static sea_future stop_instance(sea_sharded **svcp, sea_value v) {
    sea_sharded *svc = *svcp;
    (void)v;
    struct svc_slot *slot = my_slot(svc);
    sea_future f = svc->ops->stop && slot->instance ? svc->ops->stop(slot->instance) : sea_ready();
    return sea_finally(f, destroy_here, svc);
}

static sea_future stop_on_shard(sea_sharded **svcp) {
    sea_sharded *svc = *svcp;
    struct svc_slot *slot = my_slot(svc);
    if (slot->stopping) /* stopped already, not finished yet: resolve when that stop does */
        return waiter_add(&slot->stop_waiters);
    if (!slot->running && !slot->instance)
        return sea_ready();
    slot->stopping = true;
    slot->running = false; /* new calls fail from now on */
    sea_future drained = sea_ready();
    if (slot->inflight) {
        sea_promise_init(&slot->drained);
        slot->drain_waiting = true;
        drained = sea_promise_get_future(&slot->drained);
    }
    return sea_then(drained, stop_instance, svc);
}

static sea_future stop_after_start(sea_sharded **svcp, sea_value v) {
    (void)v;
    return sea_invoke_on_all(stop_on_shard, *svcp);
}

sea_future sea_sharded_stop(sea_sharded *svc) {
    if (!svc)
        return sea_failed(-EINVAL, "sea_sharded_stop: no service");
    if (!svc->started)
        return sea_ready();
    if (svc->starting) /* stop what the start makes, once it made it */
        return sea_then(waiter_add(&svc->start_waiters), stop_after_start, svc);
    return sea_invoke_on_all(stop_on_shard, svc);
}

void sea_sharded_free(sea_sharded *svc) {
    if (!svc)
        return;
    free(svc->slots);
    free(svc);
}
