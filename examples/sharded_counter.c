/*
 * sharded_counter.c - tutorial section 11: a sharded service.
 *
 * A counter service keeps one counter per shard, each touched only by its
 * own shard.  Shard 0 sends events to every shard (event k, worth k, goes to
 * shard k % N), waits for them to be counted, then asks each shard for its
 * count and adds them up with a map-reduce.  The service is stopped by a
 * sea_app_at_exit callback, so Ctrl-C would stop it just as cleanly: calls
 * still running finish first, then each shard's instance is destroyed on
 * that shard.  The main function runs in a fiber, so it reads top to bottom.
 * `sharded_counter -c2` prints:
 *
 *     shard 0 counted 30
 *     shard 1 counted 25
 *     total 55
 *     counters stopped
 */
#include <sea/sea.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* One shard's instance. */
struct counter {
    int64_t total;
};

static sea_future counter_create(void *arg) {
    (void)arg;
    struct counter *c = calloc(1, sizeof(*c));
    if (!c)
        return sea_failed(-ENOMEM, "no memory for a counter");
    return sea_ready_ptr(c);
}

static void counter_destroy(void *instance) {
    free(instance);
}

static const sea_service_ops counter_ops = {
    .create = counter_create, /* on every shard */
    .destroy = counter_destroy,
};

/* Calls, each run on the shard that owns the instance. */
struct event {
    int64_t amount;
};

static sea_future count_event(void *instance, struct event *e) {
    struct counter *c = instance;
    c->total += e->amount;
    return sea_ready();
}

static sea_future read_count(void *instance) {
    struct counter *c = instance;
    return sea_ready_int(c->total);
}

/* Registered with sea_app_at_exit: runs once main is done (or on Ctrl-C). */
static sea_future stop_counters(sea_sharded **cp) {
    sea_sharded *counters = *cp;
    int err = sea_await_value(sea_sharded_stop(counters), NULL);
    sea_sharded_free(counters);
    if (err)
        return sea_failed(err, "stopping the counters failed");
    printf("counters stopped\n");
    return sea_ready();
}

static sea_future stop_in_fiber(sea_sharded **cp) {
    return sea_fiber_start(stop_counters, *cp); /* a fiber, to await inside */
}

#define EVENTS 10

static sea_future app_main(void) {
    unsigned n = sea_shard_count();
    sea_sharded *counters = sea_sharded_new(&counter_ops, NULL);
    if (!counters)
        return sea_failed(-ENOMEM, "no memory for the service");
    int err = sea_await_value(sea_sharded_start(counters), NULL);
    if (err) {
        sea_sharded_free(counters);
        return sea_failed(err, "the counters did not start");
    }
    if ((err = sea_app_at_exit(stop_in_fiber, counters)) != 0) {
        sea_future_detach(stop_counters(&counters)); /* stop it here, then (we are in a fiber) */
        return sea_failed(err, "cannot register the stop");
    }

    /* Send every event at once, then wait for all of them. */
    sea_future sent[EVENTS];
    for (int k = 1; k <= EVENTS; k++)
        sent[k - 1] = sea_sharded_invoke_on(counters, (unsigned)k % n, count_event, (struct event){k});
    for (int k = 1; k <= EVENTS; k++)
        if ((err = sea_await_value(sent[k - 1], NULL)) != 0)
            return sea_failed(err, "an event was lost");

    /* Each shard's own count, asked for in shard order. */
    for (unsigned i = 0; i < n; i++) {
        sea_value v;
        if ((err = sea_await_value(sea_sharded_invoke_on(counters, i, read_count), &v)) != 0)
            return sea_failed(err, "a shard did not answer");
        printf("shard %u counted %lld\n", i, (long long)v.i);
    }

    /* The total: every shard's count, added up on this shard. */
    sea_value total;
    err = sea_await_value(
        sea_sharded_map_reduce(counters, read_count, sea_reduce_sum_int, (sea_value){.i = 0}),
        &total);
    if (err)
        return sea_failed(err, "the map-reduce failed");
    printf("total %lld\n", (long long)total.i);
    return sea_ready(); /* the at-exit callback stops the service */
}

int main(int argc, char **argv) {
    return sea_app_run_fiber(argc, argv, app_main);
}
