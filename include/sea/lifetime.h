/*
 * sea/lifetime.h - keeping objects alive while asynchronous code uses them.
 *
 * A continuation runs after the function that attached it has returned, so
 * it cannot use that function's locals.  Two ways to keep an object alive
 * for as long as a chain of continuations needs it:
 *
 *  - sea_do_with: sea owns a copy of the object until the future that the
 *    given function returns has resolved, then frees it.  Best when one
 *    chain uses the object.
 *
 *        return sea_do_with(use_both, (struct obj){.i = 3});
 *        // use_both(struct obj *o) may start several operations on o;
 *        // o lives until use_both's future resolves.
 *
 *  - reference-counted objects (sea_shared_*): every user holds a reference
 *    and drops it when done; the last one frees the object.  Best when
 *    several independent chains share it.  The count is a plain integer: an
 *    object belongs to one shard (hand it to another with sea_foreign_make).
 */
#ifndef SEA_LIFETIME_H
#define SEA_LIFETIME_H

#include <stddef.h>

#include <sea/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * sea_do_with(fn, object): copies object (any expression, as a capture)
 * into memory sea owns, runs  sea_future fn(T *obj)  and frees the copy once
 * fn's future has resolved.  Resolves with fn's result.  From a fiber, fn
 * runs in that fiber and is waited for there.
 */
#define sea_do_with(fn, ...) sea__do_with_c(SEA__UNIQUE(sea__cap), fn, __VA_ARGS__)
#define sea__do_with_c(c, fn, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *)), \
                  "sea_do_with: " #fn " must be  sea_future " #fn "(T *obj)" SEA__T_IS(__VA_ARGS__), \
                  sea__do_with((sea__fnptr)(fn), NULL, &c, sizeof(c)), __VA_ARGS__)

/*
 * sea_do_with_cleanup(fn, cleanup, object): the same, and
 *     void cleanup(T *obj)
 * runs before the copy is freed (to release what the object owns).
 */
#define sea_do_with_cleanup(fn, cleanup, ...) sea__do_with_cleanup_c(SEA__UNIQUE(sea__cap), fn, cleanup, __VA_ARGS__)
#define sea__do_with_cleanup_c(c, fn, cleanup, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *)) && SEA__FN_IS(cleanup, void (*)(__typeof__(c) *)), \
                  "sea_do_with_cleanup: " #fn " must be  sea_future " #fn "(T *obj)  and " #cleanup \
                  " must be  void " #cleanup "(T *obj)" SEA__T_IS(__VA_ARGS__), \
                  sea__do_with((sea__fnptr)(fn), (void (*)(void *))(sea__fnptr)(cleanup), &c, sizeof(c)), \
                  __VA_ARGS__)

/*
 * A zeroed object of size bytes with one reference; destroy(obj), if not
 * NULL, runs when the last reference goes (before the memory is freed).
 * Returns NULL when out of memory.
 */
void *sea_shared_new(size_t size, void (*destroy)(void *obj));
/* Adds a reference; returns obj. */
void *sea_shared_ref(void *obj);
/* Drops a reference; the last one destroys and frees obj.  NULL is ignored. */
void sea_shared_unref(void *obj);
/* References held now. */
size_t sea_shared_count(const void *obj);

sea_future sea__do_with(sea__fnptr fn, void (*cleanup)(void *), const void *obj, size_t size) SEA_MUST_USE;

#ifdef __cplusplus
}
#endif
#endif
