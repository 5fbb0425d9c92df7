/*
 * sea/loop.h - asynchronous loops.
 *
 * Each loop copies its capture (optional, as with sea_then) once, into
 * memory it owns for the whole loop, and passes every iteration a pointer to
 * that copy: the capture is the loop's state, and iterations may change it.
 *
 *     static sea_future step(int *i) {
 *         if (++*i == 10) return sea_stop();
 *         return sea_then(sea_sleep(SEA_MSEC(1)), sea_continue);
 *     }
 *     ...
 *     return sea_repeat(step, 0);
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
 * sea_repeat(fn [, capture]): runs  sea_future fn(T *capture)  (or fn(void))
 * until its future holds SEA_STOP (v.i != 0).  Resolves with no value.
 */
#define sea_repeat(...) SEA__CAPTURE_DISPATCH(sea__repeat_m, __VA_ARGS__)(__VA_ARGS__)

/*
 * sea_repeat_until_value(fn [, capture]): runs
 *     sea_future fn(T *capture, sea_value *result)    (or fn(sea_value *result))
 * until its future holds SEA_STOP; the loop then resolves with *result, which
 * the iteration set (a plain value: it is not released if dropped).
 */
#define sea_repeat_until_value(...) SEA__CAPTURE_DISPATCH(sea__until_value_m, __VA_ARGS__)(__VA_ARGS__)

/*
 * sea_do_until(stop, fn [, capture]): while  bool stop(T *capture)  is false,
 * runs  sea_future fn(T *capture)  and waits for it.  (Without a capture:
 * bool stop(void) and sea_future fn(void).)
 */
#define sea_do_until(stop, ...) SEA__CAPTURE_DISPATCH(sea__do_until_m, __VA_ARGS__)(stop, __VA_ARGS__)

/*
 * sea_keep_doing(fn [, capture]): runs  sea_future fn(T *capture)  (or
 * fn(void)) again and again; the loop's future resolves only with the first
 * error.
 */
#define sea_keep_doing(...) SEA__CAPTURE_DISPATCH(sea__keep_doing_m, __VA_ARGS__)(__VA_ARGS__)

/*
 * sea_do_for_each(begin, end, fn [, capture]): for i = begin .. end-1 in
 * order, runs  sea_future fn(T *capture, int64_t i)  (or fn(int64_t i)) and
 * waits for it.  (For an array, put the array in the capture and index it.)
 * A function that does not need i leaves it out: fn(T *capture), fn(void);
 * so do the other loops of this family.
 */
#define sea_do_for_each(begin, end, ...) \
    SEA__CAPTURE_DISPATCH(sea__each_m, __VA_ARGS__)("sea_do_for_each", begin, end, 1, NULL, (sea_value){0}, __VA_ARGS__)

/*
 * sea_parallel_for_each(begin, end, fn [, capture]): starts fn for every i
 * in [begin, end) without waiting in between, then waits for them all.
 * Fails with the first error to arrive (the others are dropped).
 */
#define sea_parallel_for_each(begin, end, ...) \
    SEA__CAPTURE_DISPATCH(sea__each_m, __VA_ARGS__)("sea_parallel_for_each", begin, end, 0, NULL, (sea_value){0}, \
                                                    __VA_ARGS__)

/*
 * sea_max_concurrent_for_each(begin, end, max, fn [, capture]): like
 * sea_parallel_for_each with at most max (>= 1) calls unfinished at a time,
 * started in order.  An error stops further starts.
 */
#define sea_max_concurrent_for_each(begin, end, max, ...) \
    SEA__CAPTURE_DISPATCH(sea__each_m, __VA_ARGS__)("sea_max_concurrent_for_each", begin, end, \
                                                    sea__at_least_one((int64_t)(max)), NULL, (sea_value){0}, \
                                                    __VA_ARGS__)

/*
 * sea_map_reduce_range(begin, end, mapper, reducer, initial [, capture]): runs
 *     sea_future mapper(T *capture, int64_t i)    (or mapper(int64_t i))
 * for every i at once (as sea_parallel_for_each), folding each value into
 * initial with  sea_value reducer(sea_value acc, sea_value v)  as it arrives
 * (so the reducer should not care about order: sum, max, or...).  Resolves
 * with the folded value, or the first error.
 */
#define sea_map_reduce_range(begin, end, mapper, reducer, ...) \
    SEA__CAPTURE_DISPATCH(sea__mrr_m, __VA_ARGS__)(begin, end, mapper, reducer, __VA_ARGS__)

/* ---- private machinery behind the macros ---- */

enum { SEA__LOOP_REPEAT, SEA__LOOP_UNTIL_VALUE, SEA__LOOP_DO_UNTIL, SEA__LOOP_KEEP_DOING };
SEA__INLINE uint64_t sea__at_least_one(int64_t max) { return max > 0 ? (uint64_t)max : 1; }
typedef bool (*sea__pred_fn)(void *cap);
sea_future sea__loop(int kind, sea__fnptr fn, sea__fnptr stop, const void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__for_each(int64_t begin, int64_t end, uint64_t max, sea__fnptr fn, sea_reduce_fn reduce,
                         sea_value initial, const void *cap, size_t capsz, bool noindex) SEA_MUST_USE;

/* A loop body that returns sea_future: fn(T *) with a capture, fn(void) without. */
#define sea__body_m0(what, kind, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(void)), \
                    what ": " #fn " must be  sea_future " #fn "(void)  (no capture was given)", \
                    sea__loop(kind, (sea__fnptr)(fn), NULL, NULL, 0))
#define sea__body_m1(what, kind, fn, ...) sea__body_c(SEA__UNIQUE(sea__cap), what, kind, fn, __VA_ARGS__)
#define sea__body_c(c, what, kind, fn, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *)), \
                  what ": " #fn " must be  sea_future " #fn "(T *capture)" SEA__T_IS(__VA_ARGS__), \
                  sea__loop(kind, (sea__fnptr)(fn), NULL, &c, sizeof(c)), __VA_ARGS__)
#define sea__repeat_m0(fn) sea__body_m0("sea_repeat", SEA__LOOP_REPEAT, fn)
#define sea__repeat_m1(fn, ...) sea__body_m1("sea_repeat", SEA__LOOP_REPEAT, fn, __VA_ARGS__)
#define sea__keep_doing_m0(fn) sea__body_m0("sea_keep_doing", SEA__LOOP_KEEP_DOING, fn)
#define sea__keep_doing_m1(fn, ...) sea__body_m1("sea_keep_doing", SEA__LOOP_KEEP_DOING, fn, __VA_ARGS__)

#define sea__until_value_m0(fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(sea_value *)), \
                    "sea_repeat_until_value: " #fn " must be  sea_future " #fn \
                    "(sea_value *result)  (no capture was given)", \
                    sea__loop(SEA__LOOP_UNTIL_VALUE, (sea__fnptr)(fn), NULL, NULL, 0))
#define sea__until_value_m1(fn, ...) sea__until_value_c(SEA__UNIQUE(sea__cap), fn, __VA_ARGS__)
#define sea__until_value_c(c, fn, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *, sea_value *)), \
                  "sea_repeat_until_value: " #fn " must be  sea_future " #fn "(T *capture, sea_value *result)" \
                      SEA__T_IS(__VA_ARGS__), \
                  sea__loop(SEA__LOOP_UNTIL_VALUE, (sea__fnptr)(fn), NULL, &c, sizeof(c)), __VA_ARGS__)

#define sea__do_until_m0(stop, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(void)) && SEA__FN_IS(stop, bool (*)(void)), \
                    "sea_do_until: " #stop " must be  bool " #stop "(void)  and " #fn " must be  sea_future " #fn \
                    "(void)  (no capture was given)", \
                    sea__loop(SEA__LOOP_DO_UNTIL, (sea__fnptr)(fn), (sea__fnptr)(stop), NULL, 0))
#define sea__do_until_m1(stop, fn, ...) sea__do_until_c(SEA__UNIQUE(sea__cap), stop, fn, __VA_ARGS__)
#define sea__do_until_c(c, stop, fn, ...) \
    SEA__CAPTURED(c, \
                  SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *)) && SEA__FN_IS(stop, bool (*)(__typeof__(c) *)), \
                  "sea_do_until: " #stop " must be  bool " #stop "(T *capture)  and " #fn " must be  sea_future " #fn \
                  "(T *capture)" SEA__T_IS(__VA_ARGS__), \
                  sea__loop(SEA__LOOP_DO_UNTIL, (sea__fnptr)(fn), (sea__fnptr)(stop), &c, sizeof(c)), __VA_ARGS__)

/* The for-each family: fn(T *, int64_t) or fn(T *) with a capture, fn(int64_t) or fn(void) without. */
#define sea__each_m0(what, begin, end, max, reduce, initial, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(int64_t)) || SEA__FN_IS(fn, sea_future (*)(void)), \
                    what ": " #fn " must be  sea_future " #fn "(int64_t i)  or  sea_future " #fn \
                    "(void)  (no capture was given)", \
                    sea__for_each((begin), (end), (max), (sea__fnptr)(fn), (reduce), (initial), NULL, 0, \
                                  SEA__FN_IS(fn, sea_future (*)(void))))
#define sea__each_m1(what, begin, end, max, reduce, initial, fn, ...) \
    sea__each_c(SEA__UNIQUE(sea__cap), what, begin, end, max, reduce, initial, fn, __VA_ARGS__)
#define sea__each_c(c, what, begin, end, max, reduce, initial, fn, ...) \
    SEA__CAPTURED(c, \
                  SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *, int64_t)) || \
                      SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *)), \
                  what ": " #fn " must be  sea_future " #fn "(T *capture, int64_t i)  or  sea_future " #fn \
                  "(T *capture)" SEA__T_IS(__VA_ARGS__), \
                  sea__for_each((begin), (end), (max), (sea__fnptr)(fn), (reduce), (initial), &c, sizeof(c), \
                                SEA__FN_IS(fn, sea_future (*)(__typeof__(c) *))), \
                  __VA_ARGS__)
#define sea__mrr_m0(begin, end, mapper, reducer, initial) \
    sea__each_m0("sea_map_reduce_range", begin, end, 0, reducer, initial, mapper)
#define sea__mrr_m1(begin, end, mapper, reducer, initial, ...) \
    sea__each_m1("sea_map_reduce_range", begin, end, 0, reducer, initial, mapper, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
