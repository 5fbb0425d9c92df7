/*
 * lifetime.c - tutorial section 5.3: keeping an object alive for as long as
 * continuations use it.
 *
 * The object has a value and a slow() method: sleep, then return the value.
 * Calling slow() once only needs the value, copied into the capture.  Calling
 * it twice, one call after the other, needs the object itself to live until
 * the second call ends, long after the function that made it returned.  Two
 * idiomatic ways:
 *   - sea_do_with: sea keeps the object until the chain it starts ends;
 *   - a reference-counted object: every continuation holding it keeps a
 *     reference, and the last one frees it.
 */
#include <sea/sea.h>
#include <stdio.h>

struct obj {
    int i;
};

struct obj_ref {
    struct obj *o;
};

static sea_future value_of(struct obj_ref *r) {
    return sea_ready_int(r->o->i);
}

/* obj.slow(): sleep 100 ms, then the object's value (the object must still exist). */
static sea_future obj_slow(struct obj *o) {
    return sea_then(sea_sleep(SEA_MSEC(100)), value_of, (struct obj_ref){o});
}

struct two_calls {
    struct obj *o;
    const char *how;
};

static sea_future second_call_done(struct two_calls *t, sea_value second) {
    printf("%s: %d then %d\n", t->how, t->o->i, (int)second.i);
    return sea_ready();
}

static sea_future first_call_done(struct two_calls *t, sea_value first) {
    t->o->i = (int)first.i; /* unchanged: shows the object is still there */
    return sea_then(obj_slow(t->o), second_call_done, *t);
}

/* 1. sea_do_with: the object lives in sea's memory until use_twice's chain ends. */
static sea_future use_twice(struct obj *o) {
    return sea_then(obj_slow(o), first_call_done, (struct two_calls){o, "do_with"});
}

/* 2. Reference counting: the chain holds a reference and drops it at the end. */
static sea_future drop_ref(struct two_calls *t) {
    sea_shared_unref(t->o);
    return sea_ready();
}

static sea_future with_shared(void) {
    struct obj *o = sea_shared_new(sizeof(*o), NULL);
    if (!o)
        return sea_failed(-12 /* ENOMEM */, "out of memory");
    o->i = 3;
    struct two_calls t = {sea_shared_ref(o), "shared"};
    sea_future chain = sea_then(obj_slow(o), first_call_done, t);
    sea_shared_unref(o); /* this function is done with it; the chain still holds a reference */
    return sea_finally(chain, drop_ref, t);
}

static sea_future f(void) {
    sea_future a = sea_do_with(use_twice, (struct obj){.i = 3});
    return sea_then(a, with_shared);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, f);
}
