/*
 * sea/smp.h - many shards: running work on another shard, or on all of them.
 *
 * An application runs one shard per CPU (-c/--smp, --cpuset).  Shards share
 * nothing; they talk only through these calls, which travel over lock-free
 * single-producer single-consumer queues, one request queue and one response
 * queue per ordered pair of shards.  The result always comes back to the
 * shard that asked, as a future:
 *
 *     static sea_future do_lookup(int *id) {         // runs on the target shard
 *         return sea_ready_ptr(local_table_find(*id));
 *     }
 *     ...
 *     sea_future f = sea_submit_to(other_shard, do_lookup, 7);
 *
 * The capture (optional, as with sea_then) is copied into the message, so
 * the target gets its own copy; pointers inside it point to the sender's
 * memory, which the target may read only if the sender keeps it alive and
 * unchanged until the future resolves.  Values and errors come back the same
 * way.  Submitting to the current shard calls fn directly.
 *
 * Messages are batched: they are handed to the target at least once per turn
 * of the sender's loop (or every 16 messages).  A target that is polling sees
 * them without a system call; a sleeping one is woken through an eventfd.
 * Each queue holds 128 messages; more wait in order on the sender's side.
 */
#ifndef SEA_SMP_H
#define SEA_SMP_H

#include <sea/future.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * sea_submit_to(shard, fn [, capture]): runs
 *     sea_future fn(T *capture)    (or fn(void))
 * on shard `shard`, as a continuation there, and returns, on the calling
 * shard, a future of fn's result (fn may return a pending future; its
 * eventual result comes back).  Fails with -EINVAL for a shard number out of
 * range, -ENOMEM, or SEA_ESHUTDOWN once the application is stopping.  To
 * wait with sea_await on the target, start a fiber there from fn.
 */
#define sea_submit_to(shard, ...) SEA__CAPTURE_DISPATCH(sea__submit_m, __VA_ARGS__)(shard, __VA_ARGS__)

/*
 * sea_invoke_on_all(fn [, capture]): runs fn on every shard (each gets its
 * own copy of the capture) and resolves, on the calling shard, once all have
 * finished: with no value if all succeeded, else with the first error (in
 * shard order).
 */
#define sea_invoke_on_all(...) SEA__CAPTURE_DISPATCH(sea__on_all_m, __VA_ARGS__)(__VA_ARGS__)

/*
 * A reducer for sea_map_reduce: combines the accumulated value with one
 * shard's value; runs on the calling shard, once per shard, in shard order.
 */
typedef sea_value (*sea_reduce_fn)(sea_value acc, sea_value v);

/*
 * sea_map_reduce(mapper, reducer, initial [, capture]): runs mapper on every
 * shard, then folds the values into initial with reducer on the calling
 * shard.  Fails with the first error (in shard order) if any mapper fails.
 */
#define sea_map_reduce(mapper, reducer, ...) \
    SEA__CAPTURE_DISPATCH(sea__map_reduce_m, __VA_ARGS__)(mapper, reducer, __VA_ARGS__)

/* Common reducers: sum of v.i, sum of v.size, maximum of v.i. */
sea_value sea_reduce_sum_int(sea_value acc, sea_value v);
sea_value sea_reduce_sum_size(sea_value acc, sea_value v);
sea_value sea_reduce_max_int(sea_value acc, sea_value v);

/* ---- foreign pointers: objects released on the shard that owns them ---- */

/*
 * A pointer owned by the shard that made it.  Hand it to other shards
 * freely (inside captures and values); sea_foreign_release, called anywhere,
 * runs release(ptr) back on the owner shard.
 */
typedef struct sea_foreign {
    void *ptr;
    unsigned owner;
    void (*release)(void *ptr);
} sea_foreign;

/* Wraps ptr, owned by the current shard, with its release function. */
sea_foreign sea_foreign_make(void *ptr, void (*release)(void *ptr));
/*
 * Releases f's object on its owner shard: at once when called there,
 * otherwise by a message to the owner (returns before it has run).
 * Returns 0, or a negative error if the message could not be sent.
 */
int sea_foreign_release(sea_foreign f);

/* ---- private ---- */
sea_future sea__submit_to(unsigned shard, sea__fnptr fn, const void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__invoke_on_all(sea__fnptr fn, const void *cap, size_t capsz) SEA_MUST_USE;
sea_future sea__map_reduce(sea__fnptr fn, sea_reduce_fn reduce, sea_value initial, const void *cap,
                           size_t capsz) SEA_MUST_USE;

#define sea__submit_m0(shard, fn) sea__fn_m0("sea_submit_to", sea__submit_to, ((shard), ), fn)
#define sea__submit_m1(shard, fn, ...) \
    sea__fn_m1("sea_submit_to", sea__submit_to, ((shard), ), fn, __VA_ARGS__)
#define sea__on_all_m0(fn) sea__fn_m0("sea_invoke_on_all", sea__invoke_on_all, (), fn)
#define sea__on_all_m1(fn, ...) sea__fn_m1("sea_invoke_on_all", sea__invoke_on_all, (), fn, __VA_ARGS__)
#define sea__map_reduce_m0(mapper, reducer, initial) \
    sea__fn_m0("sea_map_reduce", sea__map_reduce_flip, ((reducer), (initial), ), mapper)
#define sea__map_reduce_m1(mapper, reducer, initial, ...) \
    sea__fn_m1("sea_map_reduce", sea__map_reduce_flip, ((reducer), (initial), ), mapper, __VA_ARGS__)
SEA_MUST_USE SEA__INLINE sea_future sea__map_reduce_flip(sea_reduce_fn reduce, sea_value initial, sea__fnptr fn,
                                                         const void *cap, size_t capsz) {
    return sea__map_reduce(fn, reduce, initial, cap, capsz);
}

#ifdef __cplusplus
}
#endif
#endif
