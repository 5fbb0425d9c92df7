/*
 * test_timer.c - timers and sleep (sea/timer.h).
 *
 * One-shot, arm_at (past and future), periodic (fires repeatedly, falls
 * behind gracefully, cancelled from its own callback), re-arming moves a
 * timer, cancel's return value, sea_timer_expiry and sea_timer_armed, firing
 * in deadline order, 100,000 random timers each firing exactly once in order,
 * timers cancelled or re-armed from another timer's callback in the same
 * expiry pass, a million timers armed and cancelled, sea_sleep with zero,
 * negative and huge durations.  No timer may fire before its deadline.
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A timer that counts its firings and checks it never fires early. */
struct counted {
    sea_timer t;
    int fired;
    sea_time deadline; /* expected earliest firing time */
    sea_time fired_at;
    bool armed_in_cb;
    sea_time expiry_in_cb;
    int cancel_at;      /* periodic: cancel itself on this firing (0: never) */
    bool cancel_result; /* what that cancel returned */
};

static void counted_cb(sea_timer *t, void *arg) {
    struct counted *c = arg;
    CHECK(t == &c->t);
    c->fired++;
    c->fired_at = sea_now();
    CHECK(c->fired_at >= c->deadline);
    c->armed_in_cb = sea_timer_armed(t);
    c->expiry_in_cb = sea_timer_expiry(t);
    if (c->cancel_at && c->fired == c->cancel_at)
        c->cancel_result = sea_timer_cancel(t);
}

static void counted_init(struct counted *c) {
    memset(c, 0, sizeof(*c));
    sea_timer_init(&c->t, counted_cb, c);
}

/* ---- one-shot ---- */

static struct counted one;
static sea_future one_shot_done(void) {
    CHECK_EQ(one.fired, 1);
    CHECK(!one.armed_in_cb);
    CHECK(one.expiry_in_cb == SEA_TIME_MAX);
    CHECK(!sea_timer_armed(&one.t));
    CHECK(sea_timer_expiry(&one.t) == SEA_TIME_MAX);
    CHECK(!sea_timer_cancel(&one.t));
    return sea_ready();
}

static sea_future t_one_shot(void) {
    counted_init(&one);
    CHECK(!sea_timer_armed(&one.t));
    CHECK(sea_timer_expiry(&one.t) == SEA_TIME_MAX);
    CHECK(!sea_timer_cancel(&one.t)); /* never armed */
    sea_time before = sea_now();
    one.deadline = before + SEA_MSEC(2);
    CHECK_EQ(sea_timer_arm(&one.t, SEA_MSEC(2)), 0);
    sea_time after = sea_now();
    CHECK(sea_timer_armed(&one.t));
    CHECK(sea_timer_expiry(&one.t) >= before + SEA_MSEC(2));
    CHECK(sea_timer_expiry(&one.t) <= after + SEA_MSEC(2));
    CHECK_EQ(one.fired, 0);
    /* Wait well past it: it fired once, and only once. */
    return sea_then(sea_sleep(SEA_MSEC(10)), one_shot_done);
}

static struct counted at_future, at_past, at_min;
static sea_future arm_at_done(void) {
    CHECK_EQ(at_future.fired, 1);
    CHECK_EQ(at_past.fired, 1);
    CHECK_EQ(at_min.fired, 1);
    CHECK(at_past.fired_at <= at_future.fired_at);
    return sea_ready();
}

static sea_future t_arm_at(void) {
    counted_init(&at_future);
    counted_init(&at_past);
    counted_init(&at_min);
    sea_time now = sea_now();
    at_future.deadline = now + SEA_MSEC(3);
    CHECK_EQ(sea_timer_arm_at(&at_future.t, at_future.deadline), 0);
    CHECK(sea_timer_expiry(&at_future.t) == at_future.deadline);
    /* A deadline in the past fires at the next timer check, not synchronously. */
    at_past.deadline = now - SEA_SEC(1);
    CHECK_EQ(sea_timer_arm_at(&at_past.t, at_past.deadline), 0);
    CHECK(sea_timer_expiry(&at_past.t) == at_past.deadline);
    at_min.deadline = INT64_MIN;
    CHECK_EQ(sea_timer_arm_at(&at_min.t, INT64_MIN), 0);
    CHECK_EQ(at_past.fired + at_min.fired, 0);
    CHECK(sea_timer_armed(&at_past.t));
    return sea_then(sea_sleep(SEA_MSEC(8)), arm_at_done);
}

/* ---- periodic ---- */

static struct counted per;
static int per_after_cancel;
static sea_future periodic_check(void) {
    /* No firing after the self-cancel. */
    CHECK_EQ(per.fired, per_after_cancel);
    CHECK(!sea_timer_armed(&per.t));
    return sea_ready();
}
static sea_future periodic_done(sea_promise **pp) {
    (void)pp;
    CHECK_EQ(per.fired, 5);
    CHECK(per.cancel_result); /* re-armed before the callback, so the cancel found it armed */
    CHECK(!sea_timer_armed(&per.t));
    per_after_cancel = per.fired;
    return sea_then(sea_sleep(SEA_MSEC(10)), periodic_check);
}

static sea_promise per_promise;
static sea_time per_prev_expiry;
static void periodic_cb(sea_timer *t, void *arg) {
    counted_cb(t, arg);
    struct counted *c = arg;
    /* Inside the callback a periodic timer is already armed for its next period. */
    if (c->fired < 5) {
        CHECK(c->armed_in_cb);
        CHECK(c->expiry_in_cb > per_prev_expiry);
        CHECK(c->expiry_in_cb > c->fired_at - SEA_MSEC(1));
        per_prev_expiry = c->expiry_in_cb;
        c->deadline = c->expiry_in_cb;
    } else {
        sea_promise_set_void(&per_promise);
        sea_promise_release(&per_promise);
    }
}

static sea_future t_periodic(void) {
    counted_init(&per);
    sea_timer_init(&per.t, periodic_cb, &per);
    per.cancel_at = 5;
    sea_time now = sea_now();
    per.deadline = now + SEA_MSEC(1);
    per_prev_expiry = 0;
    CHECK_EQ(sea_timer_arm_periodic(&per.t, SEA_MSEC(1)), 0);
    CHECK(sea_timer_armed(&per.t));
    CHECK(sea_timer_expiry(&per.t) >= now + SEA_MSEC(1));
    per_prev_expiry = sea_timer_expiry(&per.t) - 1;
    sea_promise_init(&per_promise);
    sea_promise *pp = &per_promise;
    return sea_then(sea_promise_get_future(&per_promise), periodic_done, pp);
}

static sea_future t_periodic_invalid(void) {
    struct counted c;
    counted_init(&c);
    CHECK_EQ(sea_timer_arm_periodic(&c.t, 0), -EINVAL);
    CHECK_EQ(sea_timer_arm_periodic(&c.t, -SEA_MSEC(1)), -EINVAL);
    CHECK(!sea_timer_armed(&c.t));
    /* An invalid period leaves an armed timer as it was. */
    CHECK_EQ(sea_timer_arm(&c.t, SEA_SEC(100)), 0);
    sea_time e = sea_timer_expiry(&c.t);
    CHECK_EQ(sea_timer_arm_periodic(&c.t, 0), -EINVAL);
    CHECK(sea_timer_armed(&c.t));
    CHECK(sea_timer_expiry(&c.t) == e);
    CHECK(sea_timer_cancel(&c.t));
    return sea_ready();
}

/* A periodic timer whose callback blocks for several periods fires once per check. */
static struct counted behind;
static int behind_bad_rearm;
static void behind_cb(sea_timer *t, void *arg) {
    counted_cb(t, arg);
    struct counted *c = arg;
    /* Re-armed before the callback, for a deadline after this check's time: missed periods are skipped. */
    if (c->expiry_in_cb <= sea_lowres_now())
        behind_bad_rearm++;
    c->deadline = c->expiry_in_cb;
    if (c->fired == 1) {
        /* Hog the thread for ~10 periods. */
        sea_time until = sea_now() + SEA_MSEC(10);
        while (sea_now() < until) {
        }
    }
    if (c->fired == 3)
        CHECK(sea_timer_cancel(t));
}
static sea_future behind_done(void) {
    CHECK_EQ(behind.fired, 3);
    CHECK_EQ(behind_bad_rearm, 0);
    return sea_ready();
}

static sea_future t_periodic_falls_behind(void) {
    counted_init(&behind);
    behind_bad_rearm = 0;
    sea_timer_init(&behind.t, behind_cb, &behind);
    CHECK_EQ(sea_timer_arm_periodic(&behind.t, SEA_MSEC(1)), 0);
    return sea_then(sea_sleep(SEA_MSEC(30)), behind_done);
}

/* A periodic timer with a 1 ns period fires once per check and does not stall the loop. */
static struct counted tiny;
static void tiny_cb(sea_timer *t, void *arg) {
    struct counted *c = arg;
    c->fired++;
    /* Always re-armed for after this check. */
    if (sea_timer_expiry(t) <= sea_lowres_now())
        c->cancel_result = true; /* misuse of the field: "bad re-arm seen" */
}
static sea_future tiny_done(void) {
    CHECK(tiny.fired > 1);
    CHECK(!tiny.cancel_result);
    CHECK(sea_timer_cancel(&tiny.t));
    return sea_ready();
}

static sea_future t_periodic_tiny_period(void) {
    counted_init(&tiny);
    sea_timer_init(&tiny.t, tiny_cb, &tiny);
    CHECK_EQ(sea_timer_arm_periodic(&tiny.t, 1), 0);
    /* Other timers, tasks and this sleep still make progress. */
    return sea_then(sea_test_join(sea_sleep(SEA_MSEC(3)), sea_yield()), tiny_done);
}

/* ---- re-arming, cancelling ---- */

static struct counted moved_earlier, moved_later, cancelled, periodic_to_one;
static sea_future rearm_done(void) {
    CHECK_EQ(moved_earlier.fired, 1);
    CHECK_EQ(moved_later.fired, 0); /* deadline 10 s away */
    CHECK(sea_timer_armed(&moved_later.t));
    CHECK(sea_timer_cancel(&moved_later.t));
    CHECK(!sea_timer_cancel(&moved_later.t));
    CHECK_EQ(cancelled.fired, 0);
    CHECK_EQ(periodic_to_one.fired, 1);
    CHECK(!sea_timer_armed(&periodic_to_one.t));
    return sea_ready();
}

static sea_future t_rearm_and_cancel(void) {
    counted_init(&moved_earlier);
    counted_init(&moved_later);
    counted_init(&cancelled);
    counted_init(&periodic_to_one);
    /* Re-arming moves the timer: 100 s -> 1 ms. */
    CHECK_EQ(sea_timer_arm(&moved_earlier.t, SEA_SEC(100)), 0);
    sea_time e1 = sea_timer_expiry(&moved_earlier.t);
    moved_earlier.deadline = sea_now() + SEA_MSEC(1);
    CHECK_EQ(sea_timer_arm(&moved_earlier.t, SEA_MSEC(1)), 0);
    CHECK(sea_timer_expiry(&moved_earlier.t) < e1);
    /* 1 ms -> 10 s. */
    CHECK_EQ(sea_timer_arm(&moved_later.t, SEA_MSEC(1)), 0);
    CHECK_EQ(sea_timer_arm_at(&moved_later.t, sea_now() + SEA_SEC(10)), 0);
    /* Cancelled: true once, then false; never fires. */
    CHECK_EQ(sea_timer_arm(&cancelled.t, SEA_MSEC(1)), 0);
    CHECK(sea_timer_cancel(&cancelled.t));
    CHECK(!sea_timer_armed(&cancelled.t));
    CHECK(sea_timer_expiry(&cancelled.t) == SEA_TIME_MAX);
    CHECK(!sea_timer_cancel(&cancelled.t));
    /* Periodic re-armed as one-shot fires once. */
    CHECK_EQ(sea_timer_arm_periodic(&periodic_to_one.t, SEA_USEC(500)), 0);
    CHECK_EQ(sea_timer_arm(&periodic_to_one.t, SEA_MSEC(1)), 0);
    return sea_then(sea_sleep(SEA_MSEC(10)), rearm_done);
}

/* ---- order ---- */

#define NORDER 64
static struct ordered {
    sea_timer t;
    int id;
} ordered[NORDER];
static int order_log[NORDER], order_n;
static void ordered_cb(sea_timer *t, void *arg) {
    (void)t;
    struct ordered *o = arg;
    order_log[order_n++] = o->id;
}
static sea_future order_done(void) {
    CHECK_EQ(order_n, NORDER);
    for (int i = 0; i < order_n; i++)
        CHECK_EQ(order_log[i], i);
    return sea_ready();
}

static sea_future t_fire_in_deadline_order(void) {
    order_n = 0;
    sea_time base = sea_now() + SEA_MSEC(1);
    /* Armed in reverse order of their deadlines (100 us apart). */
    for (int i = NORDER - 1; i >= 0; i--) {
        ordered[i].id = i;
        sea_timer_init(&ordered[i].t, ordered_cb, &ordered[i]);
        CHECK_EQ(sea_timer_arm_at(&ordered[i].t, base + i * SEA_USEC(100)), 0);
    }
    return sea_then(sea_sleep(SEA_MSEC(15)), order_done);
}

static sea_future t_fire_in_deadline_order_same_pass(void) {
    /* All due at the same check (deadlines in the past, 1 ns apart). */
    order_n = 0;
    sea_time base = sea_now() - SEA_MSEC(1);
    for (int i = NORDER - 1; i >= 0; i--) {
        ordered[i].id = i;
        sea_timer_init(&ordered[i].t, ordered_cb, &ordered[i]);
        CHECK_EQ(sea_timer_arm_at(&ordered[i].t, base + i), 0);
    }
    return sea_then(sea_sleep(0), order_done);
}

/* ---- many random timers ---- */

#define NMANY 100000
struct many {
    sea_timer t;
    sea_time deadline;
    int fired;
};
static struct many *many;
static int many_fired;
static sea_time many_last_deadline;
static int many_out_of_order, many_early;
static void many_cb(sea_timer *t, void *arg) {
    (void)t;
    struct many *m = arg;
    m->fired++;
    many_fired++;
    if (m->deadline < many_last_deadline)
        many_out_of_order++;
    many_last_deadline = m->deadline;
    if (sea_now() < m->deadline)
        many_early++;
}
static sea_future many_done(void) {
    CHECK_EQ(many_fired, NMANY);
    int wrong = 0;
    for (int i = 0; i < NMANY; i++)
        wrong += many[i].fired != 1 || sea_timer_armed(&many[i].t);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(many_out_of_order, 0);
    CHECK_EQ(many_early, 0);
    free(many);
    many = NULL;
    return sea_ready();
}

static sea_future t_many_random_timers(void) {
    many = calloc(NMANY, sizeof(*many));
    CHECK(many != NULL);
    if (!many)
        return sea_ready();
    many_fired = many_out_of_order = many_early = 0;
    many_last_deadline = INT64_MIN;
    uint64_t rng = 12345;
    sea_time now = sea_now();
    for (int i = 0; i < NMANY; i++) {
        many[i].deadline = now + (sea_time)(sea_test_rand(&rng) % (uint64_t)SEA_MSEC(50));
        sea_timer_init(&many[i].t, many_cb, &many[i]);
        if (sea_timer_arm_at(&many[i].t, many[i].deadline) != 0) {
            CHECK(!"arm failed");
            break;
        }
    }
    return sea_then(sea_sleep(SEA_MSEC(70)), many_done);
}

/* ---- cancelling and re-arming from a callback in the same pass ---- */

static struct counted pass_a, pass_b, pass_c, pass_d, pass_e;
static void pass_a_cb(sea_timer *t, void *arg) {
    counted_cb(t, arg);
    if (pass_a.fired > 1)
        return;
    /* B and C are due in this very pass. */
    CHECK(sea_timer_cancel(&pass_b.t));
    CHECK(!sea_timer_cancel(&pass_b.t));
    CHECK(!sea_timer_armed(&pass_b.t));
    /* C is moved to later: it must fire once, then. */
    pass_c.deadline = sea_now() + SEA_MSEC(2);
    CHECK_EQ(sea_timer_arm(&pass_c.t, SEA_MSEC(2)), 0);
    /* A cancels itself: a one-shot is disarmed before its callback runs. */
    CHECK(!sea_timer_cancel(t));
    /* D (due) is re-armed to another past deadline: it fires once, in a later pass. */
    CHECK_EQ(sea_timer_arm_at(&pass_d.t, sea_now() - SEA_MSEC(5)), 0);
    /* A re-arms itself for later: fires a second time. */
    pass_a.deadline = sea_now() + SEA_MSEC(1);
    CHECK_EQ(sea_timer_arm(t, SEA_MSEC(1)), 0);
    /* E (due later in the pass) re-armed with the same deadline still fires once. */
    CHECK_EQ(sea_timer_arm_at(&pass_e.t, sea_timer_expiry(&pass_e.t)), 0);
}
static sea_future same_pass_done(void) {
    CHECK_EQ(pass_a.fired, 2);
    CHECK_EQ(pass_b.fired, 0);
    CHECK_EQ(pass_c.fired, 1);
    CHECK_EQ(pass_d.fired, 1);
    CHECK_EQ(pass_e.fired, 1);
    return sea_ready();
}

static sea_future t_cancel_in_same_pass(void) {
    counted_init(&pass_a);
    counted_init(&pass_b);
    counted_init(&pass_c);
    counted_init(&pass_d);
    counted_init(&pass_e);
    sea_timer_init(&pass_a.t, pass_a_cb, &pass_a);
    sea_time base = sea_now() - SEA_MSEC(1);
    pass_a.deadline = base;
    CHECK_EQ(sea_timer_arm_at(&pass_a.t, base), 0);
    CHECK_EQ(sea_timer_arm_at(&pass_b.t, base + 1), 0);
    CHECK_EQ(sea_timer_arm_at(&pass_c.t, base + 2), 0);
    CHECK_EQ(sea_timer_arm_at(&pass_d.t, base + 3), 0);
    CHECK_EQ(sea_timer_arm_at(&pass_e.t, base + 4), 0);
    return sea_then(sea_sleep(SEA_MSEC(10)), same_pass_done);
}

/* Every due timer cancels the next one: half of them fire. */
#define NCHAIN 1000
static struct counted chain_timers[NCHAIN];
static void chain_cb(sea_timer *t, void *arg) {
    counted_cb(t, arg);
    struct counted *c = arg;
    size_t i = (size_t)(c - chain_timers);
    if (i + 1 < NCHAIN)
        CHECK(sea_timer_cancel(&chain_timers[i + 1].t));
}
static sea_future chain_done(void) {
    for (int i = 0; i < NCHAIN; i++)
        CHECK_EQ(chain_timers[i].fired, i % 2 == 0);
    return sea_ready();
}

static sea_future t_cancel_chain_same_pass(void) {
    sea_time base = sea_now() - SEA_MSEC(1);
    for (int i = 0; i < NCHAIN; i++) {
        counted_init(&chain_timers[i]);
        sea_timer_init(&chain_timers[i].t, chain_cb, &chain_timers[i]);
        chain_timers[i].deadline = base + i;
        CHECK_EQ(sea_timer_arm_at(&chain_timers[i].t, base + i), 0);
    }
    return sea_then(sea_sleep(SEA_MSEC(2)), chain_done);
}

/* ---- a million timers ---- */

#define NMILLION 1000000
static void must_not_fire(sea_timer *t, void *arg) {
    (void)t;
    (*(int *)arg)++;
}
static sea_timer *million;
static int million_fired;
static sea_future million_done(void) {
    CHECK_EQ(million_fired, 0);
    free(million);
    million = NULL;
    return sea_ready();
}

static sea_future t_million_armed_then_cancelled(void) {
    million = malloc(sizeof(sea_timer) * NMILLION);
    CHECK(million != NULL);
    if (!million)
        return sea_ready();
    million_fired = 0;
    uint64_t rng = 99;
    sea_time now = sea_now();
    int bad = 0;
    for (int i = 0; i < NMILLION; i++) {
        sea_timer_init(&million[i], must_not_fire, &million_fired);
        /* Deadlines from 1 ms to ~100 s: spread over many buckets. */
        sea_time d = SEA_MSEC(1) + (sea_time)(sea_test_rand(&rng) % (uint64_t)SEA_SEC(100));
        bad += sea_timer_arm_at(&million[i], now + d) != 0;
    }
    CHECK_EQ(bad, 0);
    /* Cancel in a scrambled order. */
    int not_armed = 0;
    for (int i = 0; i < NMILLION; i++) {
        size_t j = ((size_t)i * 7919) % NMILLION;
        not_armed += !sea_timer_cancel(&million[j]);
    }
    CHECK_EQ(not_armed, 0);
    for (int i = 0; i < NMILLION; i += 1000)
        bad += sea_timer_armed(&million[i]);
    CHECK_EQ(bad, 0);
    return sea_then(sea_sleep(SEA_MSEC(3)), million_done);
}

/* ---- sleep ---- */

static sea_time sleep_start;
static sea_future sleep_checked(sea_time *min, sea_future *in) {
    CHECK_EQ(sea_future_error(in), 0);
    CHECK_EQ(sea_future_value(in).i, 0);
    CHECK(sea_now() - sleep_start >= *min);
    return sea_ready();
}

static sea_future t_sleep(void) {
    sleep_start = sea_now();
    sea_future z = sea_sleep(0);
    sea_future n = sea_sleep(-SEA_MSEC(5));
    sea_future m = sea_sleep(INT64_MIN);
    sea_future s = sea_sleep(SEA_MSEC(3));
    /* Never synchronous, whatever the duration. */
    CHECK(!sea_future_available(&z));
    CHECK(!sea_future_available(&n));
    CHECK(!sea_future_available(&m));
    CHECK(!sea_future_available(&s));
    CHECK(!sea_future_failed(&z));
    sea_future all = sea_then_wrapped(z, sleep_checked, (sea_time){0});
    all = sea_test_join(all, sea_then_wrapped(n, sleep_checked, (sea_time){0}));
    all = sea_test_join(all, sea_then_wrapped(m, sleep_checked, (sea_time){0}));
    return sea_test_join(all, sea_then_wrapped(s, sleep_checked, (sea_time){SEA_MSEC(3)}));
}

static int sleeps_done;
static sea_future sleep_counted(void) {
    sleeps_done++;
    return sea_ready();
}
static sea_future many_sleeps_done(void) {
    CHECK_EQ(sleeps_done, 10000);
    return sea_ready();
}

static sea_future t_many_sleeps(void) {
    sleeps_done = 0;
    uint64_t rng = 7;
    sea_future all = sea_ready();
    for (int i = 0; i < 10000; i++)
        all = sea_test_join(all, sea_then(sea_sleep((sea_time)(sea_test_rand(&rng) % (uint64_t)SEA_MSEC(5))),
                                          sleep_counted));
    return sea_then(all, many_sleeps_done);
}

static sea_future t_huge_sleep_detached(void) {
    /* Saturates instead of overflowing; freed at shutdown (ASan checks). */
    sea_future_detach(sea_sleep(INT64_MAX));
    sea_future_detach(sea_sleep(SEA_SEC(1000)));
    struct counted *c = &one;
    counted_init(c);
    CHECK_EQ(sea_timer_arm(&c->t, INT64_MAX), 0);
    CHECK(sea_timer_armed(&c->t));
    CHECK(sea_timer_expiry(&c->t) == SEA_TIME_MAX);
    CHECK(sea_timer_cancel(&c->t));
    return sea_sleep(SEA_MSEC(1));
}

static sea_future t_timer_left_armed_at_exit(void) {
    /* A user timer still armed when the application ends: disarmed, never fired. */
    static struct counted left;
    counted_init(&left);
    CHECK_EQ(sea_timer_arm(&left.t, SEA_SEC(100)), 0);
    static struct counted left_periodic;
    counted_init(&left_periodic);
    CHECK_EQ(sea_timer_arm_periodic(&left_periodic.t, SEA_SEC(50)), 0);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_one_shot),
    SEA_TEST(t_arm_at),
    SEA_TEST(t_periodic),
    SEA_TEST(t_periodic_invalid),
    SEA_TEST(t_periodic_falls_behind),
    SEA_TEST(t_periodic_tiny_period),
    SEA_TEST(t_rearm_and_cancel),
    SEA_TEST(t_fire_in_deadline_order),
    SEA_TEST(t_fire_in_deadline_order_same_pass),
    SEA_TEST(t_many_random_timers),
    SEA_TEST(t_cancel_in_same_pass),
    SEA_TEST(t_cancel_chain_same_pass),
    SEA_TEST(t_million_armed_then_cancelled),
    SEA_TEST(t_sleep),
    SEA_TEST(t_many_sleeps),
    SEA_TEST(t_huge_sleep_detached),
    SEA_TEST(t_timer_left_armed_at_exit),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
