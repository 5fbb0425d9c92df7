/*
 * sea/sharded.h - sharded services: one instance of a service per shard.
 *
 * A service keeps per-shard state (a cache, a counter, a connection table)
 * in one instance per shard, so each shard works on its own instance without
 * locks, and reaches other shards' instances by message:
 *
 *     static const sea_service_ops counter_ops = {
 *         .create = counter_create,    // runs on every shard: sea_ready_ptr(new instance)
 *         .stop = NULL,                // optional: wait for the instance's own work
 *         .destroy = free,             // optional: free the instance, on its shard
 *     };
 *     sea_sharded *counters = sea_sharded_new(&counter_ops, NULL);
 *     sea_future ready = sea_sharded_start(counters);
 *     ...
 *     struct add { int64_t n; };
 *     static sea_future add_on(void *instance, struct add *a) {
 *         ((struct counter *)instance)->value += a->n;
 *         return sea_ready();
 *     }
 *     sea_future f = sea_sharded_invoke_on(counters, 1, add_on, (struct add){5});
 *     ...
 *     sea_future done = sea_sharded_stop(counters);   // then sea_sharded_free(counters)
 *
 * Stopping is clean: each shard first refuses new calls (they fail with
 * SEA_ESHUTDOWN), waits for the calls already running on its instance, then
 * runs ops->stop (which should wait for the instance's own background work),
 * then ops->destroy.  Register the stop with sea_app_at_exit so that Ctrl-C
 * stops the service too.
 */
#ifndef SEA_SHARDED_H
#define SEA_SHARDED_H

#include <sea/future.h>
#include <sea/smp.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_sharded sea_sharded;

/* How to build, stop and free one shard's instance.  Every function runs on that shard. */
typedef struct sea_service_ops {
    /* Returns a future of the new instance (v.ptr), or fails.  Required. */
    sea_future (*create)(void *arg);
    /* Waits for the instance's own work to finish.  May be NULL. */
    sea_future (*stop)(void *instance);
    /* Frees the instance.  May be NULL. */
    void (*destroy)(void *instance);
} sea_service_ops;

/*
 * Makes a service object on the current shard (nothing is created on the
 * shards yet).  Returns NULL if out of memory or if ops->create is NULL.
 */
sea_sharded *sea_sharded_new(const sea_service_ops *ops, void *arg);

/*
 * Creates the instance on every shard.  Resolves when all exist.  If any
 * create fails, the instances already made are stopped and destroyed, and the
 * future fails with that error.  Fails with -EALREADY if started before.
 */
sea_future sea_sharded_start(sea_sharded *svc) SEA_MUST_USE;

/* The current shard's instance, or NULL before start or after stop. */
void *sea_sharded_local(sea_sharded *svc);

/*
 * sea_sharded_invoke_on(svc, shard, fn [, capture]): runs
 *     sea_future fn(void *instance, T *capture)    (or fn(void *instance))
 * on `shard` with that shard's instance; the result comes back as a future.
 * Fails with SEA_ESHUTDOWN when the service is not running there.
 */
#define sea_sharded_invoke_on(svc, shard, ...) \
    SEA__CAPTURE_DISPATCH(sea__svc_m, __VA_ARGS__)("sea_sharded_invoke_on", sea__sharded_invoke_on, \
                                                   ((svc), (shard), ), __VA_ARGS__)

/* sea_sharded_invoke_on_all(svc, fn [, capture]): fn on every shard's instance; first error wins. */
#define sea_sharded_invoke_on_all(svc, ...) \
    SEA__CAPTURE_DISPATCH(sea__svc_m, __VA_ARGS__)("sea_sharded_invoke_on_all", sea__sharded_map_reduce, \
                                                   ((svc), NULL, (sea_value){0}, ), __VA_ARGS__)

/* sea_sharded_map_reduce(svc, fn, reducer, initial [, capture]): as sea_map_reduce, over the instances. */
#define sea_sharded_map_reduce(svc, fn, reducer, ...) \
    SEA__CAPTURE_DISPATCH(sea__svc_mr_m, __VA_ARGS__)(svc, fn, reducer, __VA_ARGS__)
#define sea__svc_mr_m0(svc, fn, reducer, initial) \
    sea__svc_m0("sea_sharded_map_reduce", sea__sharded_map_reduce, ((svc), (reducer), (initial), ), fn)
#define sea__svc_mr_m1(svc, fn, reducer, initial, ...) \
    sea__svc_m1("sea_sharded_map_reduce", sea__sharded_map_reduce, ((svc), (reducer), (initial), ), fn, __VA_ARGS__)

/*
 * Stops the service on every shard (see the top of this file) and resolves
 * when every instance is destroyed.  Stopping a service that never started
 * resolves at once; a stop issued while another stop (or the start) is still
 * running on a shard waits for it there and then resolves, never stopping an
 * instance twice.
 */
sea_future sea_sharded_stop(sea_sharded *svc) SEA_MUST_USE;

/* Frees the service object (after it stopped, or if it never started). */
void sea_sharded_free(sea_sharded *svc);

/* ---- private ---- */
sea_future sea__sharded_invoke_on(sea_sharded *svc, unsigned shard, sea__fnptr fn, const void *cap,
                                  size_t capsz) SEA_MUST_USE;
sea_future sea__sharded_map_reduce(sea_sharded *svc, sea_reduce_fn reduce, sea_value initial, sea__fnptr fn,
                                   const void *cap, size_t capsz) SEA_MUST_USE;
#define sea__svc_m0(what, call, pre, fn) \
    SEA__UNCAPTURED(SEA__FN_IS(fn, sea_future (*)(void *)), \
                    what ": " #fn " must be  sea_future " #fn "(void *instance)  (no capture was given)", \
                    call(SEA__UNPAREN pre (sea__fnptr)(fn), NULL, 0))
#define sea__svc_m1(what, call, pre, fn, ...) sea__svc_c(SEA__UNIQUE(sea__cap), what, call, pre, fn, __VA_ARGS__)
#define sea__svc_c(c, what, call, pre, fn, ...) \
    SEA__CAPTURED(c, SEA__FN_IS(fn, sea_future (*)(void *, __typeof__(c) *)), \
                  what ": " #fn " must be  sea_future " #fn "(void *instance, T *capture)" SEA__T_IS(__VA_ARGS__), \
                  call(SEA__UNPAREN pre (sea__fnptr)(fn), &c, sizeof(c)), __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
