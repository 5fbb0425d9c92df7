/*
 * test_reactor.c - the event loop as application code sees it (sea/reactor.h,
 * the clocks of sea/timer.h).
 *
 * Raw tasks run in FIFO order and never synchronously; sea_yield; the task
 * quota (a long run of queued tasks lets timers fire, sea_need_preempt turns
 * true in a task that spins past the quota, sea_maybe_yield); statistics; the
 * backend, shard id and count; the low-resolution clock; and every API that
 * needs a reactor, called from a thread that has none.
 */
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

/* ---- raw tasks ---- */

struct logged_task {
    sea_task task;
    int id;
};
static int task_log[16], task_n;
static void logged_run(sea_task *t) {
    struct logged_task *lt = container_of(t, struct logged_task, task);
    task_log[task_n++] = lt->id;
}
static struct logged_task tasks[4];

static sea_future tasks_done(void) {
    CHECK_EQ(task_n, 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(task_log[i], i);
    return sea_ready();
}

static sea_future t_tasks_fifo_not_synchronous(void) {
    task_n = 0;
    for (int i = 0; i < 4; i++) {
        tasks[i].id = i;
        sea_task_init(&tasks[i].task, logged_run);
    }
    sea_task_schedule(&tasks[0].task);
    sea_task_schedule(&tasks[1].task);
    CHECK_EQ(task_n, 0);
    /* A yield queued now runs after the two tasks queued before it. */
    sea_future y = sea_yield();
    sea_task_schedule(&tasks[2].task);
    sea_task_schedule(&tasks[3].task);
    CHECK_EQ(task_n, 0);
    CHECK(!sea_future_available(&y));
    /* One more yield: queued after all four. */
    return sea_then(sea_test_join(y, sea_yield()), tasks_done);
}

/* A task that schedules itself again a number of times. */
struct repeat_task {
    sea_task task;
    int left;
    sea_promise done;
};
static void repeat_run(sea_task *t) {
    struct repeat_task *rt = container_of(t, struct repeat_task, task);
    if (--rt->left > 0) {
        sea_task_schedule(&rt->task);
    } else {
        sea_promise_set_void(&rt->done);
        sea_promise_release(&rt->done);
    }
}
static struct repeat_task repeater;

static sea_future t_task_reschedules_itself(void) {
    repeater.left = 10000;
    sea_promise_init(&repeater.done);
    sea_task_init(&repeater.task, repeat_run);
    sea_task_schedule(&repeater.task);
    return sea_promise_get_future(&repeater.done);
}

/* ---- yield ---- */

static int yields_seen;
static sea_future yield_step(int *n, sea_value v) {
    CHECK_EQ(v.i, 0);
    yields_seen++;
    if (--*n == 0)
        return sea_ready_int(yields_seen);
    return sea_then(sea_yield(), yield_step, *n);
}

static sea_future t_yield(void) {
    yields_seen = 0;
    sea_future f = sea_yield();
    CHECK(!sea_future_available(&f));
    CHECK(!sea_future_failed(&f));
    sea_future g = sea_then(f, yield_step, (int){1000});
    CHECK_EQ(yields_seen, 0);
    return g;
}

/* sea_yield resolves after the reactor polled I/O and fired due timers. */
static sea_timer due_timer;
static int due_fired;
static int yield_pipe[2];
static void due_cb(sea_timer *t, void *arg) {
    (void)t, (void)arg;
    due_fired++;
}
static sea_future after_yield(sea_future *poll_f) {
    CHECK_EQ(due_fired, 1);
    CHECK(sea_future_available(poll_f));
    CHECK(!sea_future_failed(poll_f));
    sea_future_detach(sea_future_move(poll_f));
    close(yield_pipe[0]);
    close(yield_pipe[1]);
    return sea_ready();
}

static sea_future t_yield_lets_io_and_timers_run(void) {
    due_fired = 0;
    sea_timer_init(&due_timer, due_cb, NULL);
    CHECK_EQ(sea_timer_arm_at(&due_timer, sea_now() - SEA_MSEC(1)), 0);
    CHECK_EQ(pipe(yield_pipe), 0);
    CHECK_EQ(write(yield_pipe[1], "r", 1), 1);
    sea_future p = sea_fd_poll(yield_pipe[0], SEA_POLLIN);
    return sea_then(sea_yield(), after_yield, p);
}

/* ---- task quota ---- */

struct spin {
    int64_t iterations;
    sea_timer *timer;
};
static volatile int quota_timer_fired;
static void quota_timer_cb(sea_timer *t, void *arg) {
    (void)t, (void)arg;
    quota_timer_fired = 1;
}
static uint64_t preemptions_before;
static sea_future yield_loop(struct spin *s) {
    s->iterations++;
    if (quota_timer_fired) {
        CHECK(s->iterations > 1);
        return sea_ready();
    }
    return sea_then(sea_yield(), yield_loop, *s);
}

static sea_timer quota_timer;
static sea_future t_timer_fires_during_yield_loop(void) {
    /* There is always a yield pending, yet the timer fires. */
    quota_timer_fired = 0;
    sea_timer_init(&quota_timer, quota_timer_cb, NULL);
    CHECK_EQ(sea_timer_arm(&quota_timer, SEA_MSEC(5)), 0);
    return sea_then(sea_yield(), yield_loop, (struct spin){0, &quota_timer});
}

/* Raw tasks that keep the run queue full: only the task quota lets the timer fire. */
#define NBUSY 8
static struct busy_task {
    sea_task task;
    int64_t runs;
} busy[NBUSY];
static sea_promise busy_done;
static int busy_left;
static void busy_run(sea_task *t) {
    struct busy_task *b = container_of(t, struct busy_task, task);
    b->runs++;
    if (!quota_timer_fired) {
        sea_task_schedule(t);
    } else if (--busy_left == 0) {
        sea_promise_set_void(&busy_done);
        sea_promise_release(&busy_done);
    }
}
static sea_future busy_check(void) {
    CHECK(quota_timer_fired);
    CHECK(sea_test_stats().quota_preemptions > preemptions_before);
    for (int i = 0; i < NBUSY; i++)
        CHECK(busy[i].runs > 1);
    return sea_ready();
}

static sea_future t_timer_fires_during_task_loop(void) {
    quota_timer_fired = 0;
    preemptions_before = sea_test_stats().quota_preemptions;
    sea_timer_init(&quota_timer, quota_timer_cb, NULL);
    CHECK_EQ(sea_timer_arm(&quota_timer, SEA_MSEC(5)), 0);
    sea_promise_init(&busy_done);
    busy_left = NBUSY;
    for (int i = 0; i < NBUSY; i++) {
        busy[i].runs = 0;
        sea_task_init(&busy[i].task, busy_run);
        sea_task_schedule(&busy[i].task);
    }
    return sea_then(sea_promise_get_future(&busy_done), busy_check);
}

/* Many independent task chains at once, plus a timer. */
static int chains_left;
static sea_future chain_step(int *n) {
    if (quota_timer_fired) {
        chains_left--;
        return sea_ready();
    }
    (*n)++;
    return sea_then(sea_yield(), chain_step, *n);
}

static sea_future t_many_chains_and_a_timer(void) {
    quota_timer_fired = 0;
    sea_timer_init(&quota_timer, quota_timer_cb, NULL);
    CHECK_EQ(sea_timer_arm(&quota_timer, SEA_MSEC(3)), 0);
    chains_left = 100;
    sea_future all = sea_ready();
    for (int i = 0; i < 100; i++)
        all = sea_test_join(all, sea_then(sea_yield(), chain_step, (int){0}));
    return all;
}

static sea_future spin_until_preempt(void) {
    /* Inside a task: spin (up to 2 s, far beyond the 0.5 ms quota). */
    sea_time start = sea_now();
    bool preempt = false;
    while (sea_now() - start < SEA_SEC(2)) {
        if (sea_need_preempt()) {
            preempt = true;
            break;
        }
    }
    CHECK(preempt);
    CHECK(sea_need_preempt()); /* stays true for the rest of the task */
    /* Quota spent: sea_maybe_yield yields. */
    sea_future y = sea_maybe_yield();
    CHECK(!sea_future_available(&y));
    return y;
}

static sea_future check_fresh_quota(void) {
    /* After the yield a fresh task ran: sea_maybe_yield is pending or ready, both valid. */
    sea_future y = sea_maybe_yield();
    CHECK(!sea_future_failed(&y));
    return y;
}

static sea_future t_need_preempt_and_maybe_yield(void) {
    sea_future f = sea_then(sea_yield(), spin_until_preempt);
    return sea_then(f, check_fresh_quota);
}

/* A long computation split with sea_maybe_yield lets a timer fire in between. */
struct work {
    int64_t done;
    int slices;
};
static sea_future work_slice(struct work *w) {
    w->slices++;
    while (!quota_timer_fired) {
        for (int i = 0; i < 1000; i++)
            w->done++;
        if (sea_need_preempt())
            return sea_then(sea_maybe_yield(), work_slice, *w);
    }
    CHECK(w->slices > 1);
    return sea_ready_int(w->done);
}

static sea_future t_maybe_yield_loop_lets_timer_fire(void) {
    quota_timer_fired = 0;
    sea_timer_init(&quota_timer, quota_timer_cb, NULL);
    CHECK_EQ(sea_timer_arm(&quota_timer, SEA_MSEC(5)), 0);
    return sea_then(sea_yield(), work_slice, (struct work){0, 0});
}

/* ---- statistics and identity ---- */

static sea_reactor_stats stats_before;
static sea_future stats_done(void) {
    sea_reactor_stats s = sea_test_stats();
    CHECK(s.tasks_run > stats_before.tasks_run);
    CHECK(s.loop_iterations > stats_before.loop_iterations);
    CHECK(s.timers_fired > stats_before.timers_fired);
    /* 20 ms with nothing to do: the reactor went to sleep in the kernel. */
    CHECK(s.sleeps > stats_before.sleeps);
    CHECK(s.nodes_in_use > 0);
    return sea_ready();
}

static sea_future t_stats(void) {
    sea_reactor_stats s;
    CHECK_EQ(sea_reactor_stats_get(&s), 0);
    stats_before = s;
    return sea_then(sea_sleep(SEA_MSEC(20)), stats_done);
}

static sea_future t_backend_and_shard(void) {
    const char *b = sea_reactor_backend();
    CHECK(b != NULL);
    if (sea_test_backend_arg)
        CHECK_STREQ(b, sea_test_backend_arg);
    else
        CHECK(b && (strcmp(b, "io_uring") == 0 || strcmp(b, "epoll") == 0));
    CHECK_EQ(sea_shard_id(), 0);
    CHECK_EQ(sea_shard_count(), 1);
    int n = -1;
    char **args = sea_app_args(&n);
    CHECK(args != NULL);
    CHECK(n >= 0);
    if (args)
        CHECK(args[n] == NULL);
    return sea_ready();
}

static sea_time lowres_start;
static sea_future lowres_after_sleep(void) {
    sea_time lr = sea_lowres_now();
    /* The sleep ended no earlier than its deadline, as read by the loop. */
    CHECK(lr - lowres_start >= SEA_MSEC(3));
    CHECK(lr <= sea_now());
    return sea_ready();
}

static sea_future t_lowres_clock(void) {
    sea_time a = sea_lowres_now();
    sea_time n = sea_now();
    CHECK(a <= n);
    CHECK(a > 0);
    /* Free to read: the same value until the loop turns. */
    CHECK_EQ(sea_lowres_now(), a);
    lowres_start = sea_now();
    return sea_then(sea_sleep(SEA_MSEC(3)), lowres_after_sleep);
}

static sea_future t_now_monotonic(void) {
    sea_time prev = sea_now();
    for (int i = 0; i < 100000; i++) {
        sea_time t = sea_now();
        if (t < prev) {
            CHECK(t >= prev);
            break;
        }
        prev = t;
    }
    CHECK_EQ(SEA_USEC(1), 1000);
    CHECK_EQ(SEA_MSEC(1), 1000000);
    CHECK_EQ(SEA_SEC(1), 1000000000);
    CHECK_EQ(SEA_NSEC(5), 5);
    return sea_ready();
}

/* ---- no reactor on this thread ---- */

static void noop_timer(sea_timer *t, void *arg) {
    (void)t, (void)arg;
}

static void *no_reactor_thread(void *arg) {
    int *failures = arg;
    int before = sea_test_failures;
    CHECK(sea_reactor_backend() == NULL);
    CHECK_EQ(sea_shard_count(), 0);
    sea_reactor_stats st;
    CHECK_EQ(sea_reactor_stats_get(&st), SEA_ESHUTDOWN);
    sea_future f = sea_sleep(SEA_MSEC(1));
    CHECK(sea_future_failed(&f));
    CHECK_EQ(sea_future_error(&f), SEA_ESHUTDOWN);
    f = sea_sleep(0);
    CHECK_EQ(sea_future_error(&f), SEA_ESHUTDOWN);
    f = sea_yield();
    CHECK_EQ(sea_future_error(&f), SEA_ESHUTDOWN);
    f = sea_maybe_yield();
    CHECK(!sea_future_failed(&f) || sea_future_error(&f) == SEA_ESHUTDOWN);
    f = sea_fd_poll(0, SEA_POLLIN);
    CHECK_EQ(sea_future_error(&f), SEA_ESHUTDOWN);
    sea_timer t;
    sea_timer_init(&t, noop_timer, NULL);
    CHECK_EQ(sea_timer_arm(&t, SEA_MSEC(1)), SEA_ESHUTDOWN);
    CHECK_EQ(sea_timer_arm_at(&t, sea_now()), SEA_ESHUTDOWN);
    CHECK_EQ(sea_timer_arm_periodic(&t, SEA_MSEC(1)), SEA_ESHUTDOWN);
    CHECK(!sea_timer_armed(&t));
    CHECK(!sea_timer_cancel(&t));
    CHECK(sea_timer_expiry(&t) == SEA_TIME_MAX);
    /* The low-resolution clock reads the real one outside a reactor. */
    sea_time a = sea_now();
    sea_time l = sea_lowres_now();
    sea_time b = sea_now();
    CHECK(a <= l && l <= b);
    int n = 7;
    CHECK(sea_app_args(&n) == NULL);
    CHECK_EQ(n, 0);
    /* Ready futures and their inline continuations need no reactor. */
    f = sea_failed_fmt(-EIO, "%s", "no reactor");
    CHECK_STREQ(sea_future_message(&f), "no reactor");
    sea_future_detach(f);
    *failures = sea_test_failures - before;
    return NULL;
}

static sea_future t_no_reactor_thread(void) {
    pthread_t th;
    int failures = -1;
    CHECK_EQ(pthread_create(&th, NULL, no_reactor_thread, &failures), 0);
    pthread_join(th, NULL);
    CHECK_EQ(failures, 0);
    /* This thread's reactor is unaffected. */
    return sea_sleep(SEA_MSEC(1));
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_tasks_fifo_not_synchronous),
    SEA_TEST(t_task_reschedules_itself),
    SEA_TEST(t_yield),
    SEA_TEST(t_yield_lets_io_and_timers_run),
    SEA_TEST(t_timer_fires_during_yield_loop),
    SEA_TEST(t_timer_fires_during_task_loop),
    SEA_TEST(t_many_chains_and_a_timer),
    SEA_TEST(t_need_preempt_and_maybe_yield),
    SEA_TEST(t_maybe_yield_loop_lets_timer_fire),
    SEA_TEST(t_stats),
    SEA_TEST(t_backend_and_shard),
    SEA_TEST(t_lowres_clock),
    SEA_TEST(t_now_monotonic),
    SEA_TEST(t_no_reactor_thread),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
