/*
 * sea/loop.h - asynchronous loops.
 *
 * Each loop copies its capture once, into memory it owns for the whole loop,
 * and passes every iteration a pointer to that copy: the capture is the
 * loop's state, and iterations may change it.
 *
 *     struct count { int i; };
 *     static sea_future step(struct count *c) {
 *         if (++c->i == 10) return sea_stop();
 *         return sea_then(sea_sleep(SEA_MSEC(1)), keep_going, SEA_NOCAPTURE);
 *     }
 *     ...
 *     return sea_repeat(step, (struct count){0});
 *
 * Guarantees, for every loop here:
 *  - Iterations whose futures are already ready run one after another in a
 *    plain C loop: however many there are, the stack does not grow.
 *  - The loop respects the task quota: after the quota it yields to the
 *    reactor (I/O, timers, other tasks) and carries on later.
 *  - An iteration that fails stops the loop (parallel_for_each: after every
 *    element started), and the loop's future fails with that error.
 *  - When the loop can finish at once its future is ready.
 */
#ifndef SEA_LOOP_H
#define SEA_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <sea/future.h>
#include <sea/smp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a sea_repeat iteration's future holds: go on, or stop. */
#define SEA_CONTINUE 0
#define SEA_STOP 1
SEA_MUST_USE SEA__INLINE sea_future sea_continue(void) { return sea_ready_int(SEA_CONTINUE); }
SEA_MUST_USE SEA__INLINE sea_future sea_stop(void) { return sea_ready_int(SEA_STOP); }

/*
 * sea_repeat(fn, capture): runs  sea_future fn(CAPTURE_TYPE *c)  until its
 * future holds SEA_STOP (v.i != 0).  Resolves with no value.
 */
#define sea_repeat(fn, ...) \
    sea__loop(SEA__LOOP_REPEAT, (void *)(fn), NULL, &(__VA_ARGS__), \
              sizeof(__VA_ARGS__) + SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *)))

/*
 * sea_repeat_until_value(fn, capture): runs
 *     sea_future fn(CAPTURE_TYPE *c, sea_value *result)
 * until its future holds SEA_STOP; the loop then resolves with *result, which
 * the iteration set (a plain value: it is not released if dropped).
 */
#define sea_repeat_until_value(fn, ...) \
    sea__loop(SEA__LOOP_UNTIL_VALUE, (void *)(fn), NULL, &(__VA_ARGS__), \
              sizeof(__VA_ARGS__) + \
                  SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *, sea_value *)))

/*
 * sea_do_until(stop, fn, capture): while  bool stop(CAPTURE_TYPE *c)  is
 * false, runs  sea_future fn(CAPTURE_TYPE *c)  and waits for it.
 */
#define sea_do_until(stop, fn, ...) \
    sea__loop(SEA__LOOP_DO_UNTIL, (void *)(fn), (void *)(stop), &(__VA_ARGS__), \
              sizeof(__VA_ARGS__) + SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *)) + \
                  SEA__CHECK_FN(stop, bool (*)(__typeof__(__VA_ARGS__) *)))

/*
 * sea_keep_doing(fn, capture): runs  sea_future fn(CAPTURE_TYPE *c)  again
 * and again; the loop's future resolves only with the first error.
 */
#define sea_keep_doing(fn, ...) \
    sea__loop(SEA__LOOP_KEEP_DOING, (void *)(fn), NULL, &(__VA_ARGS__), \
              sizeof(__VA_ARGS__) + SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *)))

/*
 * sea_do_for_each(begin, end, fn, capture): for i = begin .. end-1 in order,
 * runs  sea_future fn(CAPTURE_TYPE *c, int64_t i)  and waits for it.  (For an
 * array, put the array in the capture and index it.)
 */
#define sea_do_for_each(begin, end, fn, ...) \
    sea__for_each((begin), (end), 1, (sea__each_fn)(fn), NULL, (sea_value){0}, &(__VA_ARGS__), \
                  sizeof(__VA_ARGS__) + \
                      SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *, int64_t)))

/*
 * sea_parallel_for_each(begin, end, fn, capture): starts fn(c, i) for every
 * i in [begin, end) without waiting in between, then waits for them all.
 * Fails with the first error to arrive (the others are dropped).
 */
#define sea_parallel_for_each(begin, end, fn, ...) \
    sea__for_each((begin), (end), 0, (sea__each_fn)(fn), NULL, (sea_value){0}, &(__VA_ARGS__), \
                  sizeof(__VA_ARGS__) + \
                      SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *, int64_t)))

/*
 * sea_max_concurrent_for_each(begin, end, max, fn, capture): like
 * sea_parallel_for_each with at most max (>= 1) calls unfinished at a time,
 * started in order.  An error stops further starts.
 */
#define sea_max_concurrent_for_each(begin, end, max, fn, ...) \
    sea__for_each((begin), (end), sea__at_least_one((int64_t)(max)), (sea__each_fn)(fn), NULL, \
                  (sea_value){0}, &(__VA_ARGS__), \
                  sizeof(__VA_ARGS__) + \
                      SEA__CHECK_FN(fn, sea_future (*)(__typeof__(__VA_ARGS__) *, int64_t)))

/*
 * sea_map_reduce_range(begin, end, mapper, reducer, initial, capture): runs
 *     sea_future mapper(CAPTURE_TYPE *c, int64_t i)
 * for every i at once (as sea_parallel_for_each), folding each value into
 * initial with  sea_value reducer(sea_value acc, sea_value v)  as it arrives
 * (so the reducer should not care about order: sum, max, or...).  Resolves
 * with the folded value, or the first error.
 */
#define sea_map_reduce_range(begin, end, mapper, reducer, initial, ...) \
    sea__for_each((begin), (end), 0, (sea__each_fn)(mapper), (reducer), (initial), &(__VA_ARGS__), \
                  sizeof(__VA_ARGS__) + \
                      SEA__CHECK_FN(mapper, sea_future (*)(__typeof__(__VA_ARGS__) *, int64_t)))

/* ---- private machinery behind the macros ---- */

enum { SEA__LOOP_REPEAT, SEA__LOOP_UNTIL_VALUE, SEA__LOOP_DO_UNTIL, SEA__LOOP_KEEP_DOING };
SEA__INLINE uint64_t sea__at_least_one(int64_t max) { return max > 0 ? (uint64_t)max : 1; }
typedef sea_future (*sea__each_fn)(void *cap, int64_t i);
sea_future sea__loop(int kind, void *fn, void *stop, const void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__for_each(int64_t begin, int64_t end, uint64_t max, sea__each_fn fn, sea_reduce_fn reduce,
                         sea_value initial, const void *cap, size_t capsz) SEA_MUST_USE;

#ifdef __cplusplus
}
#endif
#endif
