/*
 * test_sharded.c - sharded services (sea/sharded.h), run with -c1 and -c2:
 *
 * start creates one instance per shard (each on its own shard, seen there by
 * sea_sharded_local, and by nobody before start); invoke_on reaches one
 * shard's instance, invoke_on_all every one, map_reduce folds their values;
 * errors from calls come back with their messages.  Stopping: a call still
 * running (a 50 ms sleep on the last shard) when stop is called completes
 * successfully and stop resolves only after it; then ops->stop and
 * ops->destroy run, in that order, on every shard (a pending ops->stop is
 * waited for); calls after the stop fail with SEA_ESHUTDOWN and the local
 * instance is gone; stopping again, or a service never started, resolves at
 * once.  A create that fails on one shard (at once or later) fails start and
 * destroys the instances made on the others.  start twice fails with
 * -EALREADY; sea_sharded_new with no create (or no ops) returns NULL.
 */
#include "check.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHARDS 64

/*
 * Per-shard event logs: shard i appends only to logs[i]; shard 0 reads them
 * once the service's futures have resolved (the replies order the accesses).
 */
static char logs[MAX_SHARDS][256];
static void log_event(const char *what) {
    char *l = logs[sea_shard_id()];
    size_t n = strlen(l);
    snprintf(l + n, sizeof(logs[0]) - n, "%s%s", n ? " " : "", what);
}
static void logs_reset(void) {
    memset(logs, 0, sizeof(logs));
}

/* ---- the service: a counter per shard ---- */

struct counter {
    unsigned shard;
    int64_t value;
    unsigned magic;
};
#define COUNTER_MAGIC 0xc0ffee

/* What the test asks of create and stop. */
struct plan {
    int fail_on;        /* shard whose create fails, or -1 */
    sea_time fail_after; /* ... after this delay */
    sea_time create_delay;
    sea_time stop_delay;
};

static sea_future create_now(struct plan **pp) {
    struct plan *p = *pp;
    if ((int)sea_shard_id() == p->fail_on)
        return sea_failed_fmt(-ENOSPC, "no room on shard %u", sea_shard_id());
    struct counter *c = malloc(sizeof(*c));
    if (!c)
        return sea_failed(-ENOMEM, NULL);
    c->shard = sea_shard_id();
    c->value = 0;
    c->magic = COUNTER_MAGIC;
    log_event("create");
    return sea_ready_ptr(c);
}

static sea_future counter_create(void *arg) {
    struct plan *p = arg;
    sea_time d = (int)sea_shard_id() == p->fail_on ? p->fail_after : p->create_delay;
    return sea_then(sea_sleep(d), create_now, p);
}

static sea_future stop_logged(void) {
    log_event("stopped");
    return sea_ready();
}

static struct plan *current_plan;
static sea_future counter_stop(void *instance) {
    struct counter *c = instance;
    CHECK_EQ(c->shard, sea_shard_id());
    CHECK_EQ(c->magic, COUNTER_MAGIC);
    log_event("stop");
    return sea_then(sea_sleep(current_plan->stop_delay), stop_logged);
}

static void counter_destroy(void *instance) {
    struct counter *c = instance;
    CHECK_EQ(c->shard, sea_shard_id());
    CHECK_EQ(c->magic, COUNTER_MAGIC);
    c->magic = 0;
    log_event("destroy");
    free(c);
}

static const sea_service_ops counter_ops = {
    .create = counter_create,
    .stop = counter_stop,
    .destroy = counter_destroy,
};

/* ---- calls ---- */

struct add {
    int64_t n;
};
static sea_future add_on(void *instance, struct add *a) {
    struct counter *c = instance;
    CHECK_EQ(c->shard, sea_shard_id());
    CHECK(sea_sharded_local(NULL) == NULL);
    c->value += a->n;
    return sea_ready_int(c->value);
}
static sea_future get_on(void *instance, struct add *a) {
    (void)a;
    struct counter *c = instance;
    return sea_ready_int(c->value);
}
static sea_future fail_on(void *instance, struct add *a) {
    struct counter *c = instance;
    return sea_failed_fmt(-EBADMSG, "counter %u refuses %lld", c->shard, (long long)a->n);
}

/* Checks, on each shard, that the instance it is called with is the local one. */
static sea_sharded *the_svc;
static sea_future check_local(void *instance, struct add *a) {
    (void)a;
    struct counter *c = instance;
    CHECK(sea_sharded_local(the_svc) == instance);
    CHECK_EQ(c->shard, sea_shard_id());
    return sea_ready_int(1);
}

/* A call that sleeps, then adds. */
static sea_future slow_add_done(struct counter **cp) {
    log_event("call-end");
    (*cp)->value += 1;
    return sea_ready_int(42);
}
static sea_future slow_add(void *instance, struct add *a) {
    struct counter *c = instance;
    log_event("call-start");
    return sea_then(sea_sleep(SEA_MSEC(a->n)), slow_add_done, c);
}

static struct plan default_plan = {.fail_on = -1};

static sea_sharded *start_counters(struct plan *p) {
    current_plan = p;
    sea_sharded *svc = sea_sharded_new(&counter_ops, p);
    CHECK(svc != NULL);
    the_svc = svc;
    return svc;
}

/* ---- cases ---- */

FIBER_CASE(t_start_creates_everywhere) {
    unsigned n = sea_shard_count();
    logs_reset();
    struct plan plan = default_plan;
    plan.create_delay = SEA_MSEC(5);
    sea_sharded *svc = start_counters(&plan);
    CHECK(sea_sharded_local(svc) == NULL); /* not started yet */
    CHECK_EQ(sea_await_value(sea_sharded_start(svc), NULL), 0);
    struct counter *mine = sea_sharded_local(svc);
    CHECK(mine != NULL);
    if (mine)
        CHECK_EQ(mine->shard, 0);
    for (unsigned i = 0; i < n; i++)
        CHECK_STREQ(logs[i], "create");
    /* Each shard's local instance is the one its calls get. */
    AWAIT_INT(sea_sharded_map_reduce(svc, check_local, sea_reduce_sum_int, (sea_value){0}, (struct add){0}), n);
    CHECK_EQ(sea_await_value(sea_sharded_stop(svc), NULL), 0);
    CHECK(sea_sharded_local(svc) == NULL);
    sea_sharded_free(svc);
    return sea_ready();
}

FIBER_CASE(t_invoke_on) {
    unsigned n = sea_shard_count(), last = n - 1;
    sea_sharded *svc = start_counters(&default_plan);
    CHECK_EQ(sea_await_value(sea_sharded_start(svc), NULL), 0);
    AWAIT_INT(sea_sharded_invoke_on(svc, last, add_on, (struct add){5}), 5);
    AWAIT_INT(sea_sharded_invoke_on(svc, last, add_on, (struct add){6}), 11);
    AWAIT_INT(sea_sharded_invoke_on(svc, 0, get_on, (struct add){0}), n > 1 ? 0 : 11);
    AWAIT_INT(sea_sharded_invoke_on(svc, last, get_on, (struct add){0}), 11);
    /* Errors come back with their messages. */
    char want[64];
    snprintf(want, sizeof(want), "counter %u refuses 3", last);
    sea_test_await_error(sea_sharded_invoke_on(svc, last, fail_on, (struct add){3}), -EBADMSG, want);
    /* A shard that does not exist. */
    sea_test_await_error(sea_sharded_invoke_on(svc, n, get_on, (struct add){0}), -EINVAL, NULL);
    /* No service. */
    sea_test_await_error(sea_sharded_invoke_on(NULL, 0, get_on, (struct add){0}), -EINVAL, NULL);
    CHECK_EQ(sea_await_value(sea_sharded_stop(svc), NULL), 0);
    sea_sharded_free(svc);
    return sea_ready();
}

/* A capture larger than a message's inline space, through the service's call header. */
struct wide {
    int64_t parts[24];
};
static sea_future add_wide(void *instance, struct wide *w) {
    struct counter *c = instance;
    for (int i = 0; i < 24; i++)
        c->value += w->parts[i];
    return sea_ready_int(c->value);
}

FIBER_CASE(t_invoke_on_all_and_map_reduce) {
    unsigned n = sea_shard_count();
    sea_sharded *svc = start_counters(&default_plan);
    CHECK_EQ(sea_await_value(sea_sharded_start(svc), NULL), 0);
    CHECK_EQ(sea_await_value(sea_sharded_invoke_on_all(svc, add_on, (struct add){3}), NULL), 0);
    for (unsigned i = 0; i < n; i++)
        AWAIT_INT(sea_sharded_invoke_on(svc, i, add_on, (struct add){(int64_t)i}), 3 + (int64_t)i);
    AWAIT_INT(sea_sharded_map_reduce(svc, get_on, sea_reduce_sum_int, (sea_value){.i = 1000}, (struct add){0}),
              1000 + 3 * (int64_t)n + (int64_t)n * (n - 1) / 2);
    AWAIT_INT(sea_sharded_map_reduce(svc, get_on, sea_reduce_max_int, (sea_value){.i = 0}, (struct add){0}),
              3 + (int64_t)n - 1);
    struct wide w;
    for (int i = 0; i < 24; i++)
        w.parts[i] = 1;
    AWAIT_INT(sea_sharded_map_reduce(svc, add_wide, sea_reduce_max_int, (sea_value){.i = 0}, w),
              3 + 24 + (int64_t)n - 1);
    /* invoke_on_all: the first error in shard order. */
    sea_test_await_error(sea_sharded_invoke_on_all(svc, fail_on, (struct add){9}), -EBADMSG, "counter 0 refuses 9");
    sea_test_await_error(sea_sharded_map_reduce(svc, fail_on, sea_reduce_sum_int, (sea_value){0}, (struct add){8}),
                -EBADMSG, "counter 0 refuses 8");
    sea_test_await_error(sea_sharded_invoke_on_all(NULL, get_on, (struct add){0}), -EINVAL, NULL);
    CHECK_EQ(sea_await_value(sea_sharded_stop(svc), NULL), 0);
    sea_sharded_free(svc);
    return sea_ready();
}

FIBER_CASE(t_stop_waits_for_calls) {
    unsigned n = sea_shard_count(), last = n - 1;
    logs_reset();
    struct plan plan = default_plan;
    sea_sharded *svc = start_counters(&plan);
    CHECK_EQ(sea_await_value(sea_sharded_start(svc), NULL), 0);
    sea_time t0 = sea_now();
    sea_future call = sea_sharded_invoke_on(svc, last, slow_add, (struct add){50});
    sea_future stop = sea_sharded_stop(svc);
    sea_future r = sea_await(stop);
    CHECK(!sea_future_failed(&r));
    sea_future_detach(r);
    CHECK(sea_now() - t0 >= SEA_MSEC(50));
    /* The call finished before the stop did, successfully. */
    CHECK(sea_future_available(&call));
    AWAIT_INT(call, 42);
    CHECK_STREQ(logs[last], "create call-start call-end stop stopped destroy");
    for (unsigned i = 0; i + 1 < n; i++)
        CHECK_STREQ(logs[i], "create stop stopped destroy");
    sea_sharded_free(svc);
    return sea_ready();
}

FIBER_CASE(t_calls_after_stop_fail) {
    unsigned n = sea_shard_count(), last = n - 1;
    sea_sharded *svc = start_counters(&default_plan);
    CHECK_EQ(sea_await_value(sea_sharded_start(svc), NULL), 0);
    CHECK_EQ(sea_await_value(sea_sharded_stop(svc), NULL), 0);
    CHECK(sea_sharded_local(svc) == NULL);
    for (unsigned i = 0; i < n; i++)
        sea_test_await_error(sea_sharded_invoke_on(svc, i, add_on, (struct add){1}), SEA_ESHUTDOWN, NULL);
    sea_test_await_error(sea_sharded_invoke_on_all(svc, add_on, (struct add){1}), SEA_ESHUTDOWN, NULL);
    sea_test_await_error(sea_sharded_map_reduce(svc, get_on, sea_reduce_sum_int, (sea_value){0}, (struct add){1}),
                SEA_ESHUTDOWN, NULL);
    /* Stopping again, and starting again, change nothing. */
    logs_reset();
    CHECK_EQ(sea_await_value(sea_sharded_stop(svc), NULL), 0);
    sea_test_await_error(sea_sharded_start(svc), -EALREADY, NULL);
    sea_test_await_error(sea_sharded_invoke_on(svc, last, add_on, (struct add){1}), SEA_ESHUTDOWN, NULL);
    for (unsigned i = 0; i < n; i++)
        CHECK_STREQ(logs[i], "");
    sea_sharded_free(svc);
    return sea_ready();
}

/* Calls queued behind the stop on the target shard fail; those ahead of it complete. */
FIBER_CASE(t_calls_racing_stop) {
    unsigned n = sea_shard_count(), last = n - 1;
    sea_sharded *svc = start_counters(&default_plan);
    CHECK_EQ(sea_await_value(sea_sharded_start(svc), NULL), 0);
    sea_future before = sea_sharded_invoke_on(svc, last, add_on, (struct add){1});
    sea_future stop = sea_sharded_stop(svc);
    sea_future after = sea_sharded_invoke_on(svc, last, add_on, (struct add){1});
    AWAIT_INT(before, 1);
    sea_test_await_error(after, SEA_ESHUTDOWN, NULL);
    CHECK_EQ(sea_await_value(stop, NULL), 0);
    sea_sharded_free(svc);
    return sea_ready();
}

static sea_future local_ptr(void *instance, struct add *a) {
    (void)a;
    return sea_ready_ptr(instance);
}
static sea_future free_on_shard(void **p) {
    struct counter *c = *p;
    CHECK_EQ(c->shard, sea_shard_id());
    free(c);
    return sea_ready();
}

FIBER_CASE(t_stop_before_destroy) {
    unsigned n = sea_shard_count();
    logs_reset();
    struct plan plan = default_plan;
    plan.stop_delay = SEA_MSEC(20); /* a pending ops->stop: destroy waits for it */
    sea_sharded *svc = start_counters(&plan);
    CHECK_EQ(sea_await_value(sea_sharded_start(svc), NULL), 0);
    sea_time t0 = sea_now();
    CHECK_EQ(sea_await_value(sea_sharded_stop(svc), NULL), 0);
    CHECK(sea_now() - t0 >= SEA_MSEC(20));
    for (unsigned i = 0; i < n; i++)
        CHECK_STREQ(logs[i], "create stop stopped destroy");
    sea_sharded_free(svc);
    /* Without stop and destroy functions: stopping just forgets the instances. */
    static const sea_service_ops bare_ops = {.create = counter_create};
    svc = sea_sharded_new(&bare_ops, &default_plan);
    CHECK_EQ(sea_await_value(sea_sharded_start(svc), NULL), 0);
    void *inst[MAX_SHARDS];
    for (unsigned i = 0; i < n; i++) {
        sea_value v = {0};
        CHECK_EQ(sea_await_value(sea_sharded_invoke_on(svc, i, local_ptr, (struct add){0}), &v), 0);
        inst[i] = v.ptr;
    }
    CHECK(inst[0] == sea_sharded_local(svc));
    CHECK_EQ(sea_await_value(sea_sharded_stop(svc), NULL), 0);
    CHECK(sea_sharded_local(svc) == NULL);
    sea_sharded_free(svc);
    /* The instances are the application's to free, each on its own shard. */
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(sea_await_value(sea_submit_to(i, free_on_shard, inst[i]), NULL), 0);
    return sea_ready();
}

FIBER_CASE(t_create_fails) {
    unsigned n = sea_shard_count(), last = n - 1;
    /* The last shard fails at once; the others' instances are destroyed again. */
    logs_reset();
    struct plan plan = {.fail_on = (int)last};
    sea_sharded *svc = start_counters(&plan);
    char want[64];
    snprintf(want, sizeof(want), "no room on shard %u", last);
    sea_test_await_error(sea_sharded_start(svc), -ENOSPC, want);
    for (unsigned i = 0; i < last; i++)
        CHECK_STREQ(logs[i], "create destroy");
    CHECK_STREQ(logs[last], "");
    CHECK(sea_sharded_local(svc) == NULL);
    sea_test_await_error(sea_sharded_invoke_on(svc, 0, get_on, (struct add){0}), SEA_ESHUTDOWN, NULL);
    CHECK_EQ(sea_await_value(sea_sharded_stop(svc), NULL), 0);
    sea_sharded_free(svc);

    /* Shard 0 fails late, after the others were made. */
    logs_reset();
    plan = (struct plan){.fail_on = 0, .fail_after = SEA_MSEC(20)};
    svc = start_counters(&plan);
    sea_test_await_error(sea_sharded_start(svc), -ENOSPC, "no room on shard 0");
    CHECK_STREQ(logs[0], "");
    for (unsigned i = 1; i < n; i++)
        CHECK_STREQ(logs[i], "create destroy");
    CHECK_EQ(sea_await_value(sea_sharded_stop(svc), NULL), 0);
    sea_sharded_free(svc);

    return sea_ready();
}

FIBER_CASE(t_start_twice) {
    sea_sharded *svc = start_counters(&default_plan);
    sea_future first = sea_sharded_start(svc);
    sea_test_await_error(sea_sharded_start(svc), -EALREADY, NULL); /* while the first is running */
    CHECK_EQ(sea_await_value(first, NULL), 0);
    sea_test_await_error(sea_sharded_start(svc), -EALREADY, NULL); /* after it */
    CHECK_EQ(sea_await_value(sea_sharded_stop(svc), NULL), 0);
    sea_sharded_free(svc);
    return sea_ready();
}

static sea_future t_new_and_misuse(void) {
    static const sea_service_ops no_create = {.stop = counter_stop, .destroy = counter_destroy};
    CHECK(sea_sharded_new(&no_create, NULL) == NULL);
    CHECK(sea_sharded_new(NULL, NULL) == NULL);
    CHECK(sea_sharded_local(NULL) == NULL);
    /* A service never started: stop resolves at once, free is fine. */
    sea_sharded *svc = sea_sharded_new(&counter_ops, &default_plan);
    CHECK(svc != NULL);
    sea_future s = sea_sharded_stop(svc);
    CHECK(sea_future_available(&s));
    CHECK(!sea_future_failed(&s));
    sea_future_detach(s);
    CHECK(sea_sharded_local(svc) == NULL);
    sea_sharded_free(svc);
    sea_sharded_free(NULL);
    sea_future a = sea_sharded_start(NULL);
    sea_future b = sea_sharded_stop(NULL);
    sea_future all = sea_then_wrapped(a, expect_error, (struct expect){.err = -EINVAL});
    return sea_test_join(all, sea_then_wrapped(b, expect_error, (struct expect){.err = -EINVAL}));
}

/* Two stops at once (say main's and a Ctrl-C's): each instance is stopped and destroyed once. */
FIBER_CASE(t_concurrent_stops) {
    unsigned n = sea_shard_count();
    logs_reset();
    struct plan plan = default_plan;
    plan.stop_delay = SEA_MSEC(10);
    sea_sharded *svc = start_counters(&plan);
    CHECK_EQ(sea_await_value(sea_sharded_start(svc), NULL), 0);
    sea_future s1 = sea_sharded_stop(svc);
    sea_future s2 = sea_sharded_stop(svc);
    CHECK_EQ(sea_await_value(s1, NULL), 0);
    CHECK_EQ(sea_await_value(s2, NULL), 0);
    for (unsigned i = 0; i < n; i++)
        CHECK_STREQ(logs[i], "create stop stopped destroy");
    sea_sharded_free(svc);
    /* The same while a call is still running: both stops wait for it, then resolve. */
    logs_reset();
    svc = start_counters(&plan);
    CHECK_EQ(sea_await_value(sea_sharded_start(svc), NULL), 0);
    sea_time t0 = sea_now();
    sea_future call = sea_sharded_invoke_on(svc, n - 1, slow_add, (struct add){30});
    s1 = sea_sharded_stop(svc);
    s2 = sea_sharded_stop(svc);
    CHECK_EQ(sea_await_value(s2, NULL), 0);
    CHECK_EQ(sea_await_value(s1, NULL), 0);
    CHECK(sea_now() - t0 >= SEA_MSEC(30));
    AWAIT_INT(call, 42);
    CHECK_STREQ(logs[n - 1], "create call-start call-end stop stopped destroy");
    sea_sharded_free(svc);
    return sea_ready();
}

/* A stop called while start is still creating the instances (say, Ctrl-C during start-up). */
FIBER_CASE(t_stop_during_start) {
    unsigned n = sea_shard_count();
    logs_reset();
    struct plan plan = default_plan;
    plan.create_delay = SEA_MSEC(20);
    sea_sharded *svc = start_counters(&plan);
    sea_future start = sea_sharded_start(svc);
    sea_future stop = sea_sharded_stop(svc);
    CHECK_EQ(sea_await_value(stop, NULL), 0);
    /* The stop waited for the start, then stopped what it made. */
    CHECK(sea_future_available(&start));
    CHECK_EQ(sea_await_value(start, NULL), 0);
    for (unsigned i = 0; i < n; i++)
        CHECK_STREQ(logs[i], "create stop stopped destroy");
    CHECK(sea_sharded_local(svc) == NULL);
    sea_test_await_error(sea_sharded_invoke_on(svc, n - 1, get_on, (struct add){0}), SEA_ESHUTDOWN, NULL);
    sea_sharded_free(svc);
    /* The same with a start that fails: the stop has nothing left to do. */
    logs_reset();
    plan = (struct plan){.fail_on = (int)n - 1, .fail_after = SEA_MSEC(20)};
    svc = start_counters(&plan);
    start = sea_sharded_start(svc);
    stop = sea_sharded_stop(svc);
    CHECK_EQ(sea_await_value(stop, NULL), 0);
    CHECK(sea_future_available(&start));
    CHECK_EQ(sea_await_value(start, NULL), -ENOSPC);
    for (unsigned i = 0; i + 1 < n; i++)
        CHECK_STREQ(logs[i], "create destroy");
    sea_sharded_free(svc);
    return sea_ready();
}

/* Several services at once, many calls in flight to each. */
static sea_sharded *svcs[4];
static sea_future ok_value(struct expect *e, sea_future *in) {
    (void)e;
    CHECK_EQ(sea_future_error(in), 0);
    return sea_ready();
}

FIBER_CASE(t_many_services) {
    unsigned n = sea_shard_count();
    for (int k = 0; k < 4; k++) {
        svcs[k] = sea_sharded_new(&counter_ops, &default_plan);
        CHECK_EQ(sea_await_value(sea_sharded_start(svcs[k]), NULL), 0);
    }
    current_plan = &default_plan;
    sea_future all = sea_ready();
    for (int round = 0; round < 50; round++)
        for (unsigned i = 0; i < n; i++)
            for (int k = 0; k < 4; k++)
                all = sea_test_join(all, sea_then_wrapped(sea_sharded_invoke_on(svcs[k], i, add_on, (struct add){1}),
                                                           ok_value, (struct expect){0}));
    CHECK_EQ(sea_await_value(all, NULL), 0);
    for (int k = 0; k < 4; k++)
        AWAIT_INT(sea_sharded_map_reduce(svcs[k], get_on, sea_reduce_sum_int, (sea_value){0}, (struct add){0}),
                  50 * (int64_t)n);
    for (int k = 0; k < 4; k++) {
        CHECK_EQ(sea_await_value(sea_sharded_stop(svcs[k]), NULL), 0);
        sea_sharded_free(svcs[k]);
    }
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_start_creates_everywhere),
    SEA_TEST(t_invoke_on),
    SEA_TEST(t_invoke_on_all_and_map_reduce),
    SEA_TEST(t_stop_waits_for_calls),
    SEA_TEST(t_calls_after_stop_fail),
    SEA_TEST(t_calls_racing_stop),
    SEA_TEST(t_stop_before_destroy),
    SEA_TEST(t_create_fails),
    SEA_TEST(t_start_twice),
    SEA_TEST(t_new_and_misuse),
    SEA_TEST(t_concurrent_stops),
    SEA_TEST(t_stop_during_start),
    SEA_TEST(t_many_services),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
