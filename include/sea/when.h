/*
 * sea/when.h - waiting for several futures at once, and for a deadline.
 *
 *     sea_future fs[3] = {fetch(a), fetch(b), fetch(c)};
 *     sea_await(sea_when_all(fs, 3));       // in a fiber: fs[0..2] are now ready
 *
 * The arrays passed in must stay where they are until the returned future
 * resolves (a fiber's local array, or memory the continuation owns).
 */
#ifndef SEA_WHEN_H
#define SEA_WHEN_H

#include <stddef.h>

#include <sea/future.h>
#include <sea/timer.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Waits until every fs[i] is ready, values and errors alike, and puts each
 * ready future back in fs[i] for the caller to consume (each must be used
 * once, as any future).  The returned future has no value.  If memory runs
 * out, it fails with -ENOMEM and fs is untouched; a single input that could
 * not be waited for holds -ENOMEM as its result.
 */
sea_future sea_when_all(sea_future *fs, size_t n) SEA_MUST_USE;

/*
 * Waits until every fs[i] is ready (consuming them all).  If all succeeded,
 * resolves with no value and, if values is not NULL, stores fs[i]'s value in
 * values[i].  Otherwise fails with the error of the first failed future in
 * argument order; the others' values are released and their errors dropped.
 */
sea_future sea_when_all_succeed(sea_future *fs, size_t n, sea_value *values) SEA_MUST_USE;

/*
 * Resolves with the index (v.i) of the first fs[i] to become ready; of
 * several ready at once, the lowest index.  fs[i] are replaced by futures of
 * the same results, so none is lost: the caller consumes all n.  Fails with
 * -EINVAL for n == 0, -ENOMEM (fs untouched).  (An input that could not be
 * waited for for lack of memory finishes at once with -ENOMEM.)
 */
sea_future sea_when_any(sea_future *fs, size_t n) SEA_MUST_USE;

/*
 * f's result if it comes within timeout ns, else a failure with -ETIMEDOUT
 * ("timed out").  f keeps running; a result that comes too late is dropped
 * (a failure is reported as ignored).  Consumes f.
 */
sea_future sea_with_timeout(sea_future f, sea_time timeout) SEA_MUST_USE;

#ifdef __cplusplus
}
#endif
#endif
