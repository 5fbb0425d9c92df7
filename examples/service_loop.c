/*
 * service_loop.c - the same service loop on every shard.
 *
 * sea_invoke_on_all starts service_loop() on every shard.  Each shard's loop
 * does its own periodic local work: a timer ticks every 10 ms, and each tick
 * adds (shard + 1) * tick to the shard's work counter; shard i stops after
 * 3 + i ticks and resolves its future.  Shards share nothing, so each loop
 * keeps its state in a variable of its own shard (thread-local: one thread
 * per shard).  Once every loop has finished, main collects the reports with
 * sea_map_reduce, whose reducer runs on shard 0 once per shard, in shard
 * order, so the output does not depend on which shard finished first.
 * `service_loop -c2` prints:
 *
 *     shard 0: 3 ticks, work 6
 *     shard 1: 4 ticks, work 20
 *     2 loops finished
 */
#include <sea/sea.h>
#include <stdio.h>

/* One shard's loop: its timer, its progress, and the promise main waits on. */
struct service {
    sea_timer timer;
    sea_promise done;
    int ticks, rounds;
    int64_t work;
};

/* Each shard's own instance (each shard is a thread of its own). */
static __thread struct service local_service;

static void tick(sea_timer *t, void *arg) {
    struct service *s = arg;
    (void)t;
    s->ticks++;
    s->work += (int64_t)(sea_shard_id() + 1) * s->ticks; /* the periodic local work */
    if (s->ticks == s->rounds) {
        sea_timer_cancel(&s->timer);
        sea_promise_set_void(&s->done);
        sea_promise_release(&s->done);
    }
}

struct loop_config {
    sea_time period;
    int base_rounds;
};

/* Runs on every shard: starts the loop, returns a future of its end. */
static sea_future service_loop(struct loop_config *cfg) {
    struct service *s = &local_service;
    s->ticks = 0;
    s->work = 0;
    s->rounds = cfg->base_rounds + (int)sea_shard_id();
    sea_promise_init(&s->done);
    sea_future f = sea_promise_get_future(&s->done);
    sea_timer_init(&s->timer, tick, s);
    int rc = sea_timer_arm_periodic(&s->timer, cfg->period);
    if (rc < 0) {
        sea_promise_set_error(&s->done, rc, "cannot arm the loop's timer");
        sea_promise_release(&s->done);
    }
    return f;
}

/* Runs on every shard once the loops ended: the shard's report. */
static sea_future report(void) {
    /* The pointer is read on shard 0 while this shard leaves the report alone. */
    return sea_ready_ptr(&local_service);
}

/* Runs on shard 0, once per shard, in shard order: acc.i counts the shards. */
static sea_value print_report(sea_value acc, sea_value v) {
    const struct service *s = v.ptr;
    printf("shard %lld: %d ticks, work %lld\n", (long long)acc.i, s->ticks, (long long)s->work);
    acc.i++;
    return acc;
}

static sea_future print_summary(sea_value v) {
    printf("%lld loops finished\n", (long long)v.i);
    return sea_ready();
}

static sea_future collect(void) {
    sea_future all = sea_map_reduce(report, print_report, (sea_value){.i = 0});
    return sea_then(all, print_summary);
}

static sea_future app_main(void) {
    sea_future loops = sea_invoke_on_all(service_loop, (struct loop_config){SEA_MSEC(10), 3});
    return sea_then(loops, collect);
}

int main(int argc, char **argv) {
    return sea_app_run(argc, argv, app_main);
}
