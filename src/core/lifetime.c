/*
 * lifetime.c - sea_do_with and reference-counted objects (sea/lifetime.h).
 */
#include <sea/fiber.h>
#include <sea/lifetime.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/compiler.h"
#include "base/panic.h"
#include "core/future.h"

struct kept {
    struct sea__owned owned; /* freed at shard stop if the operation never ends (without its cleanup) */
    void (*cleanup)(void *);
    _Alignas(max_align_t) unsigned char obj[];
};

static sea_future drop_kept(struct kept **kp) {
    struct kept *k = *kp;
    sea__owned_remove(&k->owned);
    if (k->cleanup)
        k->cleanup(k->obj);
    free(k);
    return sea_ready();
}

static void kept_release(struct sea__owned *o) {
    free(sea__container_of(o, struct kept, owned));
}

sea_future sea__do_with(sea__fnptr fn, void (*cleanup)(void *), const void *obj, size_t size) {
    if (sea_fiber_self()) {
        /*
         * From a fiber: the object stays where the macro put it, on this
         * fiber's stack, which outlives the wait.
         */
        sea_future r = sea_await(sea__call(fn, (void *)obj));
        if (cleanup)
            cleanup((void *)obj);
        return r;
    }
    struct kept *k = malloc(sizeof(*k) + size);
    if (!k)
        return sea_failed(-ENOMEM, "out of memory in sea_do_with");
    k->cleanup = cleanup;
    memcpy(k->obj, obj, size);
    sea__owned_add(&k->owned, kept_release);
    /*
     * If the finally step cannot be attached (no memory), the object leaks:
     * the operation may still be using it, so freeing it would be worse.
     */
    return sea_finally(sea__call(fn, k->obj), drop_kept, k);
}

/* ---- reference-counted objects ---- */

struct shared_hdr {
    size_t refs;
    void (*destroy)(void *obj);
    _Alignas(max_align_t) unsigned char obj[];
};

static struct shared_hdr *hdr_of(const void *obj) {
    return (struct shared_hdr *)((char *)obj - offsetof(struct shared_hdr, obj));
}

void *sea_shared_new(size_t size, void (*destroy)(void *obj)) {
    struct shared_hdr *h = calloc(1, sizeof(*h) + size);
    if (!h)
        return NULL;
    h->refs = 1;
    h->destroy = destroy;
    return h->obj;
}

void *sea_shared_ref(void *obj) {
    hdr_of(obj)->refs++;
    return obj;
}

void sea_shared_unref(void *obj) {
    if (!obj)
        return;
    struct shared_hdr *h = hdr_of(obj);
    if (h->refs == 0)
        sea__panic("sea_shared_unref of an object with no references left");
    if (--h->refs == 0) {
        if (h->destroy)
            h->destroy(h->obj);
        free(h);
    }
}

size_t sea_shared_count(const void *obj) {
    return hdr_of(obj)->refs;
}
