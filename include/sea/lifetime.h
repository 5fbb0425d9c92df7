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
 * sea_do_with(fn, object): copies object (any lvalue) into memory sea owns,
 * runs  sea_future fn(OBJECT_TYPE *obj)  and frees the copy once fn's future
 * has resolved.  Resolves with fn's result.
 */
#define sea_do_with(fn, ...) \
    sea__do_with((sea__finally_fn)(fn), NULL, &(__VA_ARGS__), \
                 sizeof(__VA_ARGS__) + SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *)))

/*
 * sea_do_with_cleanup(fn, cleanup, object): the same, and
 *     void cleanup(OBJECT_TYPE *obj)
 * runs before the copy is freed (to release what the object owns).
 */
#define sea_do_with_cleanup(fn, cleanup, ...) \
    sea__do_with((sea__finally_fn)(fn), (void (*)(void *))(cleanup), &(__VA_ARGS__), \
                 sizeof(__VA_ARGS__) + SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *)) + \
                     SEA__CHECK_FN(cleanup, void (*)(__typeof__(__VA_ARGS__) *)))

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

sea_future sea__do_with(sea__finally_fn fn, void (*cleanup)(void *), const void *obj, size_t size) SEA_MUST_USE;

#ifdef __cplusplus
}
#endif
#endif
