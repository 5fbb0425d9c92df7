/*
 * app_helper.c - a small sea application whose behaviour test_app chooses
 * with its first positional argument:
 *
 *   exit N          main returns sea_ready_int(N)
 *   exit-later N    ... after a 1 ms sleep
 *   void            main returns sea_ready()
 *   fail            main returns a failed future (static message)
 *   fail-later      main fails after a sleep, with an owned message
 *   fail-promise    main's promise is failed from a timer
 *   args ...        prints the arguments sea left for the application
 *   backend         prints the reactor backend in use
 *   shutdown        ends with work still pending (timers, sleeps, polls,
 *                   queued tasks, an unconsumed boxed value); after
 *                   sea_app_run returns, checks what was released
 *   stale-box       a queued sea_yield at shutdown reuses a node whose last
 *                   result was a boxed value that was already taken
 *   stale-msg       the same with an owned error message
 *   nullmain        sea_app_run with no main function
 *   sleeps          sleeps 20 ms, then prints how often the reactor slept in
 *                   the kernel (sea_reactor_stats.sleeps)
 *   quota           spins in a task until sea_need_preempt(), prints the
 *                   milliseconds that took
 *
 * Exit code 3 with a line on stderr means a check in the helper failed.
 */
#include <sea/sea.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int helper_failures;
#define HCHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "app_helper: check failed: %s\n", #cond); \
            helper_failures++; \
        } \
    } while (0)

static sea_future ret_int(int64_t *v, sea_value in) {
    (void)in;
    return sea_ready_int(*v);
}
static sea_future ret_fmt_error(sea_value in) {
    (void)in;
    return sea_failed_fmt(-ENOENT, "no such thing: %s", "gizmo");
}

static sea_promise main_promise;
static sea_timer fail_timer;
static void fail_timer_cb(sea_timer *t, void *arg) {
    (void)t, (void)arg;
    sea_promise_set_error(&main_promise, -ETIMEDOUT, "gave up waiting");
    sea_promise_release(&main_promise);
}

/* ---- shutdown with pending work ---- */

static int box_released;
static void count_release(sea_box *b) {
    (void)b;
    box_released++;
}
static sea_box unconsumed_box = {count_release};
static sea_box sleeping_box = {count_release};
static sea_future kept_future; /* ready but never consumed */
static int pipe_fds[2];

struct big {
    char bytes[500];
};
static sea_future never(struct big *b, sea_value v) {
    (void)b, (void)v;
    fprintf(stderr, "app_helper: a continuation ran that should not have\n");
    helper_failures++;
    return sea_ready();
}
static sea_future return_box(sea_box **b, sea_value v) {
    (void)v;
    return sea_ready_box(*b);
}
static sea_future spin_yield(int *n, sea_value v) {
    (void)v;
    (*n)++;
    return sea_then(sea_yield(), spin_yield, *n);
}
static void noop_timer(sea_timer *t, void *arg) {
    (void)t, (void)arg;
}
static sea_timer periodic, oneshot;

static sea_future start_shutdown(void) {
    /* Sleeps with continuations (one with a capture too big to be inline). */
    sea_future_detach(sea_then(sea_sleep(SEA_SEC(100)), never, (struct big){{0}}));
    sea_future_detach(sea_sleep(SEA_SEC(200)));
    /* A boxed value that would be produced after a sleep: never produced, never released. */
    sea_box *sb = &sleeping_box;
    sea_future_detach(sea_then(sea_sleep(SEA_SEC(100)), return_box, sb));
    /* Polls that never complete. */
    if (pipe(pipe_fds) == 0) {
        sea_future_detach(sea_fd_poll(pipe_fds[0], SEA_POLLIN));
        sea_future_detach(sea_then(sea_fd_poll(pipe_fds[0], SEA_POLLIN | SEA_POLLPRI), never, (struct big){{1}}));
    }
    /* A chain of tasks still queued. */
    sea_future_detach(sea_then(sea_yield(), spin_yield, (int){0}));
    /* A ready result nobody consumed: released at shutdown. */
    sea_promise p;
    sea_promise_init(&p);
    kept_future = sea_promise_get_future(&p);
    sea_promise_set_box(&p, &unconsumed_box);
    sea_promise_release(&p);
    /* Timers left armed. */
    sea_timer_init(&periodic, noop_timer, NULL);
    sea_timer_arm_periodic(&periodic, SEA_MSEC(1));
    sea_timer_init(&oneshot, noop_timer, NULL);
    sea_timer_arm(&oneshot, SEA_SEC(100));
    /* Let the loop turn a few times, then end. */
    return sea_sleep(SEA_MSEC(5));
}

/* ---- stale results in reused nodes ---- */

static sea_box stale_box = {count_release};
static bool stale_msg_mode;

static sea_future produce(sea_value v) {
    (void)v;
    if (stale_msg_mode)
        return sea_failed_fmt(-EIO, "owned message %d", 42);
    return sea_ready_box(&stale_box);
}

static sea_future consume_then_end(sea_future *in) {
    if (stale_msg_mode) {
        HCHECK(sea_future_error(in) == -EIO); /* observed; freed after this returns */
    } else {
        sea_box *b = sea_future_value(in).ptr; /* taken: ours now */
        HCHECK(b == &stale_box);
        if (b)
            b->release(b); /* the one legitimate release */
    }
    /* End the application, and queue one more task that is still queued when the loop stops. */
    sea_promise_set_int(&main_promise, 0);
    sea_promise_release(&main_promise);
    sea_future_detach(sea_yield());
    return sea_ready();
}

static sea_future start_stale(void) {
    sea_promise_init(&main_promise);
    sea_future f = sea_then(sea_yield(), produce);
    sea_future_detach(sea_then_wrapped(f, consume_then_end));
    return sea_promise_get_future(&main_promise);
}

/* ---- options that change the loop ---- */

static sea_future print_sleeps(sea_value v) {
    (void)v;
    sea_reactor_stats st;
    HCHECK(sea_reactor_stats_get(&st) == 0);
    printf("%llu\n", (unsigned long long)st.sleeps);
    return sea_ready();
}

static sea_future spin_quota(sea_value v) {
    (void)v;
    sea_time start = sea_now();
    while (!sea_need_preempt() && sea_now() - start < SEA_SEC(5)) {
    }
    printf("%lld\n", (long long)((sea_now() - start) / SEA_MSEC(1)));
    return sea_ready();
}

/* ---- main ---- */

static sea_future app_main(void) {
    int n;
    char **args = sea_app_args(&n);
    if (n < 1) {
        fprintf(stderr, "app_helper: no mode given\n");
        return sea_ready_int(3);
    }
    const char *mode = args[0];
    if (strcmp(mode, "exit") == 0 && n == 2)
        return sea_ready_int(atoi(args[1]));
    if (strcmp(mode, "exit-later") == 0 && n == 2)
        return sea_then(sea_sleep(SEA_MSEC(1)), ret_int, (int64_t){atoi(args[1])});
    if (strcmp(mode, "void") == 0)
        return sea_ready();
    if (strcmp(mode, "fail") == 0)
        return sea_failed(-EIO, "disk on fire");
    if (strcmp(mode, "fail-later") == 0)
        return sea_then(sea_sleep(SEA_MSEC(1)), ret_fmt_error);
    if (strcmp(mode, "fail-promise") == 0) {
        sea_promise_init(&main_promise);
        sea_timer_init(&fail_timer, fail_timer_cb, NULL);
        sea_timer_arm(&fail_timer, SEA_MSEC(2));
        return sea_promise_get_future(&main_promise);
    }
    if (strcmp(mode, "args") == 0) {
        for (int i = 1; i < n; i++)
            printf("%s%s", args[i], i + 1 < n ? "|" : "\n");
        HCHECK(args[n] == NULL);
        return sea_ready();
    }
    if (strcmp(mode, "backend") == 0) {
        printf("%s\n", sea_reactor_backend());
        return sea_ready();
    }
    if (strcmp(mode, "shutdown") == 0)
        return start_shutdown();
    if (strcmp(mode, "stale-box") == 0)
        return start_stale();
    if (strcmp(mode, "stale-msg") == 0) {
        stale_msg_mode = true;
        return start_stale();
    }
    if (strcmp(mode, "sleeps") == 0)
        return sea_then(sea_sleep(SEA_MSEC(20)), print_sleeps);
    if (strcmp(mode, "quota") == 0)
        return sea_then(sea_yield(), spin_quota);
    fprintf(stderr, "app_helper: unknown mode %s\n", mode);
    return sea_ready_int(3);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "nullmain") == 0)
            return sea__app_run(argc, argv, false, NULL, NULL, 0); /* what a NULL main does */
    int code = sea_app_run(argc, argv, app_main);
    const char *mode = NULL;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-') {
            mode = argv[i];
            break;
        }
    if (mode && strcmp(mode, "shutdown") == 0) {
        /* Only the unconsumed ready box was released; the one never produced was not. */
        HCHECK(box_released == 1);
        if (pipe_fds[0] > 0) {
            close(pipe_fds[0]);
            close(pipe_fds[1]);
        }
    }
    if (mode && strcmp(mode, "stale-box") == 0) {
        /* Released once, by the application; shutdown must not release it again. */
        HCHECK(box_released == 1);
    }
    if (helper_failures)
        return 3;
    return code;
}
