/*
 * test_smp.c - many shards (sea/smp.h), run with -c1 and -c2:
 *
 * sea_submit_to: values, errors with their messages, a pending future on the
 * target (a sleep, then a value), captures larger than a message's inline
 * space, the function really running on the target shard (its id, its
 * thread), a local target being a direct call, shard numbers out of range,
 * 10,000 requests in flight at once (more than a ring holds: every one
 * completes, and they run on the target in the order they were sent), floods
 * in both directions at once, a ping-pong where each target submits back,
 * and submitting from a fiber.  sea_invoke_on_all: every shard runs once
 * with its own copy of the capture; the first error in shard order wins
 * whatever the timing, and the other shards' results are released.
 * sea_map_reduce: the provided reducers and a custom one, which runs on the
 * calling shard (also when that is not shard 0), in shard order.  Foreign
 * pointers: an object made on one shard, handed to another and released back
 * on its owner.
 *
 * With one shard every "other shard" is shard 0 itself, so the same cases
 * check the local paths.
 */
#include "check.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SHARDS 64

static long tid(void) {
    return (long)syscall(SYS_gettid);
}

/* ---- sea_submit_to: values, errors, pending results ---- */

struct num {
    int64_t x;
};

/* Runs on the target: 2x + 1 + 1000 * shard. */
static sea_future twice(struct num *n) {
    return sea_ready_int(n->x * 2 + 1 + 1000 * (int64_t)sea_shard_id());
}

static sea_future fail_owned(struct num *n) {
    return sea_failed_fmt(-EIO, "failed on shard %u with %lld", sea_shard_id(), (long long)n->x);
}

static sea_future fail_static(struct num *n) {
    (void)n;
    return sea_failed(-ENOENT, "a static message");
}

FIBER_CASE(t_submit_value) {
    unsigned o = sea_test_next_shard();
    AWAIT_INT(sea_submit_to(o, twice, (struct num){20}), 41 + 1000 * o);
    /* Several at once, to every shard, awaited in reverse. */
    unsigned n = sea_shard_count();
    sea_future fs[MAX_SHARDS];
    for (unsigned i = 0; i < n; i++)
        fs[i] = sea_submit_to(i, twice, (struct num){(int64_t)i});
    for (unsigned i = n; i-- > 0;)
        AWAIT_INT(fs[i], 2 * (int64_t)i + 1 + 1000 * (int64_t)i);
    return sea_ready();
}

FIBER_CASE(t_submit_error) {
    unsigned o = sea_test_next_shard();
    char want[64];
    snprintf(want, sizeof(want), "failed on shard %u with 7", o);
    sea_test_await_error(sea_submit_to(o, fail_owned, (struct num){7}), -EIO, want);
    sea_test_await_error(sea_submit_to(o, fail_static, (struct num){0}), -ENOENT, "a static message");
    /* The error code alone, through sea_await_value (the owned message is freed). */
    CHECK_EQ(sea_await_value(sea_submit_to(o, fail_owned, (struct num){8}), NULL), -EIO);
    return sea_ready();
}

/* On the target: a value after a sleep of x ms. */
static sea_future shard_after_sleep(struct num *n) {
    return sea_ready_int(n->x * 100 + (int64_t)sea_shard_id());
}
static sea_future sleep_then_value(struct num *n) {
    return sea_then(sea_sleep(SEA_MSEC(n->x)), shard_after_sleep, *n);
}
static sea_future fail_after_sleep(struct num *n) {
    return fail_owned(n);
}
static sea_future sleep_then_fail(struct num *n) {
    return sea_then(sea_sleep(SEA_MSEC(n->x)), fail_after_sleep, *n);
}

FIBER_CASE(t_submit_pending) {
    unsigned o = sea_test_next_shard();
    sea_time t0 = sea_now();
    AWAIT_INT(sea_submit_to(o, sleep_then_value, (struct num){30}), 3000 + o);
    CHECK(sea_now() - t0 >= SEA_MSEC(30));
    /* A pending failure comes back too. */
    char want[64];
    snprintf(want, sizeof(want), "failed on shard %u with 5", o);
    sea_test_await_error(sea_submit_to(o, sleep_then_fail, (struct num){5}), -EIO, want);
    /* Two pending results complete out of order; each comes back to its own future. */
    sea_future slow = sea_submit_to(o, sleep_then_value, (struct num){40});
    sea_future fast = sea_submit_to(o, sleep_then_value, (struct num){1});
    AWAIT_INT(fast, 100 + o);
    AWAIT_INT(slow, 4000 + o);
    return sea_ready();
}

/* ---- captures ---- */

struct big {
    unsigned char bytes[200];
    const struct big *origin; /* the sender's copy */
};
static sea_future big_sum(struct big *b) {
    int64_t sum = 0;
    for (size_t i = 0; i < sizeof(b->bytes); i++)
        sum += b->bytes[i];
    /* The capture is always a copy, on this shard as on another. */
    bool copy = b != b->origin;
    return sea_ready_int(sum * 2 + copy);
}

struct cap64 {
    unsigned char bytes[64];
};
struct cap65 {
    unsigned char bytes[65];
};
static sea_future sum64(struct cap64 *c) {
    int64_t s = 0;
    for (size_t i = 0; i < sizeof(c->bytes); i++)
        s += c->bytes[i];
    return sea_ready_int(s);
}
static sea_future sum65(struct cap65 *c) {
    int64_t s = 0;
    for (size_t i = 0; i < sizeof(c->bytes); i++)
        s += c->bytes[i];
    return sea_ready_int(s);
}

/* A capture that needs 16-byte alignment. */
__extension__ typedef __int128 int128; /* a GNU type: __extension__ keeps -Wpedantic quiet */
struct aligned_cap {
    _Alignas(16) unsigned char pad;
    int128 v;
};
static sea_future aligned_check(struct aligned_cap *c) {
    return sea_ready_int(((uintptr_t)c % 16 == 0 ? 1 : 0) + (c->v == ((int128)1 << 100) ? 2 : 0));
}

FIBER_CASE(t_submit_large_capture) {
    unsigned o = sea_test_next_shard();
    bool remote = o != sea_shard_id();
    struct big b;
    int64_t sum = 0;
    for (size_t i = 0; i < sizeof(b.bytes); i++) {
        b.bytes[i] = (unsigned char)(i * 7 + 3);
        sum += b.bytes[i];
    }
    b.origin = &b;
    sea_future f = sea_submit_to(o, big_sum, b);
    memset(&b, 0, sizeof(b)); /* the message holds its own copy */
    b.origin = &b;
    AWAIT_INT(f, sum * 2 + 1);
    (void)remote;

    struct cap64 c64;
    struct cap65 c65;
    int64_t s64 = 0, s65 = 0;
    for (size_t i = 0; i < 64; i++)
        s64 += c64.bytes[i] = (unsigned char)(255 - i);
    for (size_t i = 0; i < 65; i++)
        s65 += c65.bytes[i] = (unsigned char)(i + 1);
    AWAIT_INT(sea_submit_to(o, sum64, c64), s64);
    AWAIT_INT(sea_submit_to(o, sum65, c65), s65);
    AWAIT_INT(sea_submit_to(o, aligned_check, (struct aligned_cap){.v = (int128)1 << 100}), 3);
    return sea_ready();
}

/* ---- where the function runs ---- */

static long shard_tids[MAX_SHARDS];

static sea_future whoami(struct num *n) {
    (void)n;
    shard_tids[sea_shard_id()] = tid();
    return sea_ready_int(sea_shard_id());
}

FIBER_CASE(t_submit_runs_on_target) {
    unsigned n = sea_shard_count();
    memset(shard_tids, 0, sizeof(shard_tids));
    for (unsigned i = 0; i < n; i++)
        AWAIT_INT(sea_submit_to(i, whoami, (struct num){0}), i);
    CHECK_EQ(shard_tids[0], tid());
    for (unsigned i = 1; i < n; i++) {
        CHECK(shard_tids[i] != 0);
        CHECK(shard_tids[i] != tid());
        for (unsigned j = 0; j < i; j++)
            CHECK(shard_tids[i] != shard_tids[j]);
    }
    CHECK_EQ(sea_shard_id(), 0); /* the result came back here */
    return sea_ready();
}

static int direct_calls;
static sea_future count_direct(struct num *n) {
    direct_calls++;
    return sea_ready_int(n->x);
}
static sea_future count_direct_sleep(struct num *n) {
    direct_calls++;
    return sea_sleep(SEA_MSEC(n->x));
}

static sea_future t_submit_local_is_direct(void) {
    /* Not a fiber: nothing may yield between the call and the checks. */
    direct_calls = 0;
    sea_future f = sea_submit_to(sea_shard_id(), count_direct, (struct num){9});
    CHECK_EQ(direct_calls, 1);
    CHECK(sea_future_available(&f));
    CHECK_EQ(sea_future_value(&f).i, 9);
    /* A pending result from a local call stays pending, but the call already ran. */
    sea_future g = sea_submit_to(sea_shard_id(), count_direct_sleep, (struct num){2});
    CHECK_EQ(direct_calls, 2);
    CHECK(!sea_future_available(&g));
    return g;
}

static sea_future t_submit_bad_shard(void) {
    direct_calls = 0;
    unsigned n = sea_shard_count();
    sea_future a = sea_submit_to(n, count_direct, (struct num){1});
    sea_future b = sea_submit_to(UINT_MAX, count_direct, (struct num){1});
    sea_future c = sea_submit_to(n + 100, count_direct, (struct num){1});
    CHECK_EQ(direct_calls, 0);
    CHECK(sea_future_available(&a));
    char want[96];
    snprintf(want, sizeof(want), "sea_submit_to: shard %u does not exist (%u shards)", n, n);
    sea_future all = sea_then_wrapped(a, expect_error, (struct expect){.err = -EINVAL, .msg = want});
    all = sea_test_join(all, sea_then_wrapped(b, expect_error, (struct expect){.err = -EINVAL}));
    return sea_test_join(all, sea_then_wrapped(c, expect_error, (struct expect){.err = -EINVAL}));
}

/* ---- many messages in flight ---- */

#define FLOOD 10000

/*
 * On the target: returns the request's sequence number if it arrived right
 * after the previous one (per sending shard), else -1 - the number.
 */
static __thread int64_t flood_next[2 * MAX_SHARDS];
struct seq {
    int64_t i;
    unsigned stream; /* 2 * sending shard + which of its floods */
};
static sea_future flood_one(struct seq *s) {
    if (s->i == 0)
        flood_next[s->stream] = 0;
    bool in_order = s->i == flood_next[s->stream];
    flood_next[s->stream] = s->i + 1;
    return sea_ready_int(in_order ? s->i : -1 - s->i);
}

static sea_future flood_futures[FLOOD];

FIBER_CASE(t_many_in_flight) {
    unsigned o = sea_test_next_shard();
    sea_time t0 = sea_now();
    /* All submitted in one go, far more than a ring's 128 slots. */
    for (int64_t i = 0; i < FLOOD; i++)
        flood_futures[i] = sea_submit_to(o, flood_one, (struct seq){i, 2 * sea_shard_id()});
    int bad = 0;
    for (int64_t i = 0; i < FLOOD; i++) {
        sea_value v = {0};
        int err = sea_await_value(flood_futures[i], &v);
        if (err || v.i != i) {
            if (bad++ < 5)
                fprintf(stderr, "  request %lld: error %d, value %lld\n", (long long)i, err, (long long)v.i);
        }
    }
    CHECK_EQ(bad, 0);
    CHECK(sea_now() - t0 < SEA_SEC(10));
    return sea_ready();
}

/* Shard B floods shard A while A floods B. */
struct flood_back {
    unsigned to;
    int n;
};
static sea_future flood_back_fiber(struct flood_back *fb) {
    static sea_future back[FLOOD / 2];
    for (int i = 0; i < fb->n; i++)
        back[i] = sea_submit_to(fb->to, flood_one, (struct seq){i, 2 * sea_shard_id() + 1});
    int64_t bad = 0;
    for (int i = 0; i < fb->n; i++) {
        sea_value v = {0};
        if (sea_await_value(back[i], &v) || v.i != i)
            bad++;
    }
    return sea_ready_int(bad);
}
static sea_future start_flood_back(struct flood_back *fb) {
    return sea_fiber_start(flood_back_fiber, *fb); /* the fiber gets its own copy */
}

FIBER_CASE(t_floods_both_ways) {
    unsigned o = sea_test_next_shard();
    sea_future back = sea_submit_to(o, start_flood_back, (struct flood_back){sea_shard_id(), FLOOD / 2});
    for (int64_t i = 0; i < FLOOD / 2; i++)
        flood_futures[i] = sea_submit_to(o, flood_one, (struct seq){i, 2 * sea_shard_id()});
    int bad = 0;
    for (int64_t i = 0; i < FLOOD / 2; i++) {
        sea_value v = {0};
        if (sea_await_value(flood_futures[i], &v) || v.i != i)
            bad++;
    }
    CHECK_EQ(bad, 0);
    AWAIT_INT(back, 0);
    return sea_ready();
}

/* ---- ping-pong: every hop submits to the next shard ---- */

struct hop {
    int left;
};
struct hop_done {
    unsigned shard;
};
static sea_future hop_back(struct hop_done *h, sea_value v) {
    CHECK_EQ(sea_shard_id(), h->shard); /* the reply came back to the hop that asked */
    return sea_ready_int(v.i << 1 | h->shard);
}
static sea_future ping(struct hop *h) {
    if (h->left == 0)
        return sea_ready_int(0);
    sea_future f = sea_submit_to(sea_test_next_shard(), ping, (struct hop){h->left - 1});
    return sea_then(f, hop_back, (struct hop_done){sea_shard_id()});
}

FIBER_CASE(t_ping_pong) {
    unsigned n = sea_shard_count();
    const int hops = 40;
    /*
     * The hop with `left` = L runs on shard (hops - L + 1) % n (the first one
     * on the shard after this one) and answers (its inner hop's value << 1) |
     * its shard.
     */
    int64_t fold = 0;
    for (int left = 1; left <= hops; left++)
        fold = fold << 1 | (int64_t)((unsigned)(hops - left + 1) % n);
    AWAIT_INT(sea_submit_to(sea_test_next_shard(), ping, (struct hop){hops}), fold);
    /* Many ping-pongs at once. */
    sea_future fs[32];
    for (int i = 0; i < 32; i++)
        fs[i] = sea_submit_to(sea_test_next_shard(), ping, (struct hop){hops});
    for (int i = 0; i < 32; i++)
        AWAIT_INT(fs[i], fold);
    return sea_ready();
}

/* ---- from a fiber, and from continuations ---- */

FIBER_CASE(t_submit_from_fiber) {
    unsigned o = sea_test_next_shard();
    for (int64_t i = 0; i < 200; i++) {
        sea_value v = {0};
        int err = sea_await_value(sea_submit_to(o, twice, (struct num){i}), &v);
        CHECK_EQ(err, 0);
        CHECK_EQ(v.i, 2 * i + 1 + 1000 * (int64_t)o);
        CHECK_EQ(sea_shard_id(), 0);
    }
    CHECK_EQ(sea_await_value(sea_submit_to(o, fail_static, (struct num){0}), NULL), -ENOENT);
    return sea_ready();
}

static sea_future submit_again(struct num *n, sea_value v) {
    return sea_submit_to(sea_test_next_shard(), twice, (struct num){v.i + n->x});
}

static sea_future t_submit_from_continuation(void) {
    unsigned o = sea_test_next_shard();
    /* A chain: each step's continuation submits the next request. */
    sea_future f = sea_submit_to(o, twice, (struct num){1}); /* 3 + 1000o */
    f = sea_then(f, submit_again, (struct num){-1000 * (int64_t)o});
    /* sea_test_next_shard() on shard 0 is o again: 2 * 3 + 1 + 1000o */
    return sea_then_wrapped(f, expect_value, (struct expect){.v = 7 + 1000 * (int64_t)o});
}

/* ---- sea_invoke_on_all ---- */

static int ran[MAX_SHARDS];
static int64_t seen[MAX_SHARDS];

static sea_future mark_ran(struct num *n) {
    ran[sea_shard_id()]++;
    seen[sea_shard_id()] = n->x;
    n->x += 1000; /* a shard's own copy: the others must not see this */
    return sea_ready();
}
static sea_future mark_ran_slowly(struct num *n) {
    ran[sea_shard_id()]++;
    seen[sea_shard_id()] = n->x;
    return sea_sleep(SEA_MSEC(sea_shard_id() == sea_shard_count() - 1 ? 20 : 0));
}

FIBER_CASE(t_invoke_on_all) {
    unsigned n = sea_shard_count();
    memset(ran, 0, sizeof(ran));
    memset(seen, 0, sizeof(seen));
    struct num cap = {5};
    sea_future f = sea_invoke_on_all(mark_ran, cap);
    sea_future r = sea_await(f);
    CHECK(!sea_future_failed(&r));
    CHECK_EQ(sea_future_value(&r).i, 0);
    for (unsigned i = 0; i < n; i++) {
        CHECK_EQ(ran[i], 1);
        CHECK_EQ(seen[i], 5);
    }
    CHECK_EQ(ran[n], 0);
    /* Resolves only once the slowest shard finished. */
    memset(ran, 0, sizeof(ran));
    sea_time t0 = sea_now();
    CHECK_EQ(sea_await_value(sea_invoke_on_all(mark_ran_slowly, (struct num){6}), NULL), 0);
    CHECK(sea_now() - t0 >= SEA_MSEC(20));
    for (unsigned i = 0; i < n; i++) {
        CHECK_EQ(ran[i], 1);
        CHECK_EQ(seen[i], 6);
    }
    return sea_ready();
}

/* Shard i fails with -(EIO + i) after (mode & 1 ? shard-0-is-slow : last-is-slow) delays, or returns a box. */
struct fail_plan {
    int mode;         /* 0: every shard fails; 1: only the last fails, the others return boxes; 2: same as 0, shard 0 slowest */
    int *released;    /* on the calling shard */
};
static sea_future fail_now(struct fail_plan *p) {
    (void)p;
    return sea_failed_fmt(-(EIO + (int)sea_shard_id()), "shard %u failed", sea_shard_id());
}
static sea_future planned(struct fail_plan *p) {
    unsigned id = sea_shard_id(), last = sea_shard_count() - 1;
    if (p->mode == 1 && id != last)
        return sea_ready_box(&sea_test_box_new(p->released, id)->box);
    sea_time delay = 0;
    if (p->mode == 0 && id == last)
        delay = SEA_MSEC(15);
    if (p->mode == 2 && id == 0)
        delay = SEA_MSEC(15);
    if (p->mode == 1)
        delay = SEA_MSEC(10);
    return sea_then(sea_sleep(delay), fail_now, *p);
}

FIBER_CASE(t_invoke_on_all_errors) {
    unsigned n = sea_shard_count();
    int released = 0;
    /* Every shard fails: shard 0's error wins, the others' messages are freed. */
    sea_test_await_error(sea_invoke_on_all(planned, (struct fail_plan){0, &released}), -EIO, "shard 0 failed");
    /* Shard 0 fails last in time but still wins. */
    sea_test_await_error(sea_invoke_on_all(planned, (struct fail_plan){2, &released}), -EIO, "shard 0 failed");
    /* Only the last shard fails: its error; the boxes the others returned are released. */
    char want[32];
    snprintf(want, sizeof(want), "shard %u failed", n - 1);
    sea_test_await_error(sea_invoke_on_all(planned, (struct fail_plan){1, &released}), -(EIO + (int)n - 1), want);
    CHECK_EQ(released, (int)n - 1);
    return sea_ready();
}

/* ---- sea_map_reduce ---- */

/* Shard i's value is i + 1; shard 0 answers last. */
static sea_future map_id(struct num *n) {
    (void)n;
    unsigned id = sea_shard_id();
    sea_time delay = id == 0 && sea_shard_count() > 1 ? SEA_MSEC(20) : 0;
    return sea_then(sea_sleep(delay), shard_after_sleep, (struct num){0});
}
static sea_future plus_one(struct num *n, sea_value v) {
    (void)n;
    return sea_ready_int(v.i + 1);
}
static sea_future map_id1(struct num *n) {
    return sea_then(map_id(n), plus_one, *n);
}
static sea_future map_size(struct num *n) {
    (void)n;
    return sea_ready_size(sea_shard_id() + 1);
}
static sea_future map_fail_on_last(struct num *n) {
    (void)n;
    if (sea_shard_id() == sea_shard_count() - 1)
        return sea_failed(-EPERM, "the last shard refuses");
    return sea_ready_int(1);
}

static char reduce_log[512];
static unsigned reducer_shard;
static sea_value digits(sea_value acc, sea_value v) {
    size_t len = strlen(reduce_log);
    snprintf(reduce_log + len, sizeof(reduce_log) - len, "%lld,", (long long)v.i);
    reducer_shard = sea_shard_id();
    acc.i = acc.i * 10 + v.i;
    return acc;
}

static int64_t digits_of(unsigned n, int64_t initial) {
    int64_t want = initial;
    for (unsigned i = 0; i < n; i++)
        want = want * 10 + (int64_t)(i + 1);
    return want;
}

FIBER_CASE(t_map_reduce) {
    unsigned n = sea_shard_count();
    int64_t tri = (int64_t)n * (n + 1) / 2;
    AWAIT_INT(sea_map_reduce(map_id1, sea_reduce_sum_int, (sea_value){.i = 100}, (struct num){0}), 100 + tri);
    AWAIT_INT(sea_map_reduce(map_id1, sea_reduce_max_int, (sea_value){.i = -5}, (struct num){0}), n);
    AWAIT_INT(sea_map_reduce(map_id1, sea_reduce_max_int, (sea_value){.i = 99}, (struct num){0}), 99);
    sea_value v = {0};
    CHECK_EQ(sea_await_value(sea_map_reduce(map_size, sea_reduce_sum_size, (sea_value){.size = 1}, (struct num){0}),
                             &v),
             0);
    CHECK_EQ(v.size, 1 + (size_t)tri);
    /* A custom, order-sensitive reducer: runs here, once per shard, in shard order (shard 0 answered last). */
    reduce_log[0] = '\0';
    reducer_shard = 999;
    AWAIT_INT(sea_map_reduce(map_id1, digits, (sea_value){.i = 7}, (struct num){0}), digits_of(n, 7));
    char want[512] = "";
    for (unsigned i = 0; i < n; i++)
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "%u,", i + 1);
    CHECK_STREQ(reduce_log, want);
    CHECK_EQ(reducer_shard, 0);
    /* A failing mapper fails the whole; the reducer never runs. */
    reduce_log[0] = '\0';
    sea_test_await_error(sea_map_reduce(map_fail_on_last, digits, (sea_value){.i = 0}, (struct num){0}), -EPERM,
                "the last shard refuses");
    CHECK_STREQ(reduce_log, "");
    /* No reducer. */
    sea_test_await_error(sea__map_reduce((sea__fnptr)map_id1, NULL, (sea_value){0}, &(struct num){0}, sizeof(struct num)),
                -EINVAL, NULL);
    return sea_ready();
}

/* map_reduce started on another shard: the reducer runs there. */
static sea_future map_reduce_there(struct num *n) {
    (void)n;
    reduce_log[0] = '\0';
    return sea_map_reduce(map_id1, digits, (sea_value){.i = 3}, (struct num){0});
}

FIBER_CASE(t_map_reduce_from_other_shard) {
    unsigned n = sea_shard_count();
    unsigned o = n - 1;
    reducer_shard = 999;
    AWAIT_INT(sea_submit_to(o, map_reduce_there, (struct num){0}), digits_of(n, 3));
    CHECK_EQ(reducer_shard, o);
    return sea_ready();
}

/* ---- foreign pointers ---- */

struct thing {
    int64_t payload;
    unsigned made_on;
};
static unsigned released_on[4];
static int releases;
static void release_thing(void *p) {
    struct thing *t = p;
    released_on[releases++ % 4] = sea_shard_id() * 100 + t->made_on;
    free(t);
}

struct foreign_out {
    sea_foreign *out; /* the sender's slot, alive until the reply */
};
static sea_future make_thing(struct foreign_out *o) {
    struct thing *t = malloc(sizeof(*t));
    if (!t)
        return sea_failed(-ENOMEM, NULL);
    t->payload = 77;
    t->made_on = sea_shard_id();
    *o->out = sea_foreign_make(t, release_thing);
    return sea_ready();
}
/* Requests are delivered in order: this one runs after any release sent before it. */
static sea_future releases_so_far(struct num *n) {
    (void)n;
    return sea_ready_int(releases);
}
static sea_future release_here(sea_foreign *f) {
    return sea_ready_int(sea_foreign_release(*f));
}

FIBER_CASE(t_foreign_pointers) {
    unsigned o = sea_shard_count() - 1;
    releases = 0;
    memset(released_on, 0, sizeof(released_on));
    /* Made on shard o, handed to shard 0, released back on o. */
    sea_foreign f;
    memset(&f, 0, sizeof(f));
    CHECK_EQ(sea_await_value(sea_submit_to(o, make_thing, (struct foreign_out){&f}), NULL), 0);
    CHECK_EQ(f.owner, o);
    CHECK(f.ptr != NULL);
    CHECK_EQ(((struct thing *)f.ptr)->payload, 77);
    CHECK_EQ(sea_foreign_release(f), 0);
    AWAIT_INT(sea_submit_to(o, releases_so_far, (struct num){0}), 1);
    CHECK_EQ(released_on[0], o * 100 + o);
    /* Made here, released from shard o: runs back here. */
    sea_foreign g;
    CHECK_EQ(sea_await_value(sea_submit_to(0, make_thing, (struct foreign_out){&g}), NULL), 0);
    CHECK_EQ(g.owner, 0);
    AWAIT_INT(sea_submit_to(o, release_here, g), 0);
    /* The release message to shard 0 was sent before the reply: one loop turn and it ran. */
    for (int i = 0; i < 100 && releases < 2; i++)
        CHECK_EQ(sea_fiber_yield(), 0);
    CHECK_EQ(releases, 2);
    CHECK_EQ(released_on[1], 0);
    /* Released on the owner: at once. */
    sea_foreign h;
    CHECK_EQ(sea_await_value(sea_submit_to(0, make_thing, (struct foreign_out){&h}), NULL), 0);
    CHECK_EQ(sea_foreign_release(h), 0);
    CHECK_EQ(releases, 3);
    /* Nothing to release. */
    CHECK_EQ(sea_foreign_release(sea_foreign_make(NULL, release_thing)), 0);
    CHECK_EQ(sea_foreign_release(sea_foreign_make(&h, NULL)), 0);
    CHECK_EQ(releases, 3);
    /* An owner that does not exist. */
    struct thing stray = {1, 0};
    sea_foreign bad = {&stray, sea_shard_count() + 3, release_thing};
    CHECK_EQ(sea_foreign_release(bad), -EINVAL);
    CHECK_EQ(releases, 3);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_submit_value),
    SEA_TEST(t_submit_error),
    SEA_TEST(t_submit_pending),
    SEA_TEST(t_submit_large_capture),
    SEA_TEST(t_submit_runs_on_target),
    SEA_TEST(t_submit_local_is_direct),
    SEA_TEST(t_submit_bad_shard),
    SEA_TEST(t_many_in_flight),
    SEA_TEST(t_floods_both_ways),
    SEA_TEST(t_ping_pong),
    SEA_TEST(t_submit_from_fiber),
    SEA_TEST(t_submit_from_continuation),
    SEA_TEST(t_invoke_on_all),
    SEA_TEST(t_invoke_on_all_errors),
    SEA_TEST(t_map_reduce),
    SEA_TEST(t_map_reduce_from_other_shard),
    SEA_TEST(t_foreign_pointers),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
