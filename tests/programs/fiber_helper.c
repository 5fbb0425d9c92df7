/*
 * fiber_helper.c - sea applications with fibers, for test_fiber.  The first
 * positional argument picks what it does:
 *
 *   pending    main ends while fibers are still waiting (on a promise nobody
 *              resolves, on long sleeps, on another fiber, yielding in a loop,
 *              on a stack of its own mapping, with fiber-local values) or not
 *              yet started; prints "main done".  After sea_app_run returns it
 *              prints "first run: CODE", checks no fiber-local destructor ran,
 *              and runs a second application whose fiber returns 5: prints
 *              "second run: 5".  Under ASan the run must show no leak.
 *   detached   main starts a fiber, detaches its future and ends its own
 *              chain later: prints "fiber done" (from the fiber), then
 *              "main done"
 *   outside    the fiber API with no reactor, before and after an
 *              application that used fibers: prints "outside ok"
 *
 * Exit code 3 with a line on stderr means a check in the helper failed.
 */
#include <sea/sea.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int helper_failures;
#define HCHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "fiber_helper: check failed: %s (line %d)\n", #cond, __LINE__); \
            helper_failures++; \
        } \
    } while (0)

/* ---- pending ---- */

static sea_promise never_resolved;
static int destructor_runs;
static void count_destructor(void *v) {
    (void)v;
    destructor_runs++;
}
static sea_fiber_key key_counted = {count_destructor};
static int static_value;

static sea_future wait_promise_fn(void) {
    sea_future f = sea_promise_get_future(&never_resolved);
    HCHECK(sea_fiber_local_set(&key_counted, &static_value) == 0);
    int err = sea_await_value(f, NULL);
    fprintf(stderr, "fiber_helper: a dropped fiber resumed (%d)\n", err);
    helper_failures++;
    return sea_ready();
}

static sea_future sleep_long_fn(void) {
    static sea_fiber_key keys[6];
    for (int i = 0; i < 6; i++)
        HCHECK(sea_fiber_local_set(&keys[i], &static_value) == 0);
    HCHECK(sea_fiber_local_set(&key_counted, &static_value) == 0);
    int err = sea_await_value(sea_sleep(SEA_SEC(100)), NULL);
    fprintf(stderr, "fiber_helper: a dropped fiber resumed (%d)\n", err);
    helper_failures++;
    return sea_ready_int(1);
}

static sea_future await_fiber_fn(sea_future **otherp) {
    sea_future *other = *otherp;
    sea_value v;
    int err = sea_await_value(sea_future_move(other), &v);
    fprintf(stderr, "fiber_helper: a dropped fiber resumed (%d)\n", err);
    helper_failures++;
    return sea_ready();
}

static sea_future yield_forever_fn(void) {
    for (;;)
        HCHECK(sea_fiber_yield() == 0);
    return sea_ready();
}

/* Ends at once, but its result is a sleep that outlives the application. */
static sea_future return_pending_fn(void) {
    return sea_sleep(SEA_SEC(100));
}

static sea_future unreached(sea_value v) {
    (void)v;
    fprintf(stderr, "fiber_helper: a continuation ran after shutdown\n");
    helper_failures++;
    return sea_ready();
}

static sea_future never_started_fn(void) {
    return sea_ready();
}

static sea_future end_main(sea_value v) {
    (void)v;
    /* A fiber that may never get to run. */
    sea_future_detach(sea_fiber_start(never_started_fn));
    sea_fiber_stats st;
    HCHECK(sea_fiber_stats_get(&st) == 0);
    HCHECK(st.alive >= 6);
    printf("main done\n");
    return sea_ready_int(0);
}

static sea_future other_fiber; /* awaited by another fiber */

static sea_future pending_main(void) {
    sea_promise_init(&never_resolved);
    sea_future_detach(sea_fiber_start_attr(&(sea_fiber_attr){.name = "on-promise"}, wait_promise_fn));
    other_fiber = sea_fiber_start_attr(&(sea_fiber_attr){.name = "sleeper"}, sleep_long_fn);
    sea_future_detach(
        sea_then(sea_fiber_start(await_fiber_fn, &other_fiber), unreached));
    sea_future_detach(sea_fiber_start(yield_forever_fn));
    sea_future_detach(sea_fiber_start_attr(&(sea_fiber_attr){.stack_size = 1 << 20}, sleep_long_fn));
    sea_future_detach(
        sea_fiber_start_attr(&(sea_fiber_attr){.stack_size = SEA_FIBER_STACK_MIN}, sleep_long_fn));
    sea_future_detach(sea_then(sea_fiber_start(return_pending_fn), unreached));
    return sea_then(sea_sleep(SEA_MSEC(5)), end_main);
}

static sea_future five_fn(void) {
    int err = sea_await_value(sea_sleep(SEA_MSEC(1)), NULL);
    return err ? sea_failed(err, "sleep failed") : sea_ready_int(5);
}

static sea_future second_main(void) {
    sea_fiber_stats st;
    HCHECK(sea_fiber_stats_get(&st) == 0);
    HCHECK(st.alive == 0);
    return sea_fiber_start(five_fn);
}

/* ---- detached ---- */

static sea_future detached_fn(void) {
    int err = sea_await_value(sea_sleep(SEA_MSEC(1)), NULL);
    if (err)
        return sea_failed(err, "sleep failed");
    printf("fiber done\n");
    return sea_ready();
}

static sea_future print_main_done(sea_value v) {
    (void)v;
    printf("main done\n");
    return sea_ready();
}

static sea_future detached_main(void) {
    sea_future_detach(sea_fiber_start(detached_fn));
    return sea_then(sea_sleep(SEA_MSEC(100)), print_main_done);
}

/* ---- outside ---- */

static sea_future outside_fn(void) {
    return sea_ready();
}

static void check_outside(void) {
    sea_future f = sea_fiber_start(outside_fn);
    HCHECK(sea_future_error(&f) == SEA_ESHUTDOWN);
    sea_future_detach(f);
    sea_future r = sea_await(sea_ready_int(3));
    HCHECK(sea_future_value(&r).i == 3);
    HCHECK(sea_await_value(sea_failed(-EIO, NULL), NULL) == -EIO);
    HCHECK(sea_fiber_yield() == SEA_ENOTFIBER);
    HCHECK(sea_fiber_maybe_yield() == 0 || sea_fiber_maybe_yield() == SEA_ENOTFIBER);
    HCHECK(sea_fiber_self() == NULL);
    HCHECK(!sea_fiber_stop_requested());
    sea_fiber_stats st;
    HCHECK(sea_fiber_stats_get(&st) == SEA_ESHUTDOWN);
    static sea_fiber_key k;
    HCHECK(sea_fiber_local_set(&k, &static_value) == SEA_ENOTFIBER);
    HCHECK(sea_fiber_local_get(&k) == NULL);
}

static sea_future outside_main(void) {
    return sea_fiber_start(five_fn);
}

/* ---- fiber-main: sea_app_run_fiber runs main in a fiber named "main" ---- */

static sea_future fiber_main(int **failures) {
    HCHECK(*failures == &helper_failures); /* the capture arrived */
    HCHECK(sea_fiber_self() != NULL);
    HCHECK(strcmp(sea_fiber_name(sea_fiber_self()), "main") == 0);
    int err = sea_await_value(sea_sleep(SEA_MSEC(1)), NULL); /* waits from the first line */
    HCHECK(err == 0);
    printf("fiber main done\n");
    return sea_ready_int(7); /* the exit code */
}

/* ---- main ---- */

static const char *mode;

static sea_future app_main(void) {
    if (strcmp(mode, "pending") == 0)
        return pending_main();
    if (strcmp(mode, "detached") == 0)
        return detached_main();
    if (strcmp(mode, "outside") == 0)
        return outside_main();
    fprintf(stderr, "fiber_helper: unknown mode %s\n", mode);
    return sea_ready_int(3);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc && !mode; i++)
        if (argv[i][0] != '-')
            mode = argv[i];
    if (!mode) {
        fprintf(stderr, "fiber_helper: no mode given\n");
        return 3;
    }
    if (strcmp(mode, "outside") == 0)
        check_outside();
    if (strcmp(mode, "fiber-main") == 0) {
        int rc = sea_app_run_fiber(argc, argv, fiber_main, &helper_failures);
        printf("exit %d\n", rc);
        fflush(stdout);
        return helper_failures ? 3 : rc == 7 ? 0 : 3;
    }
    int code = sea_app_run(argc, argv, app_main);
    if (strcmp(mode, "pending") == 0) {
        printf("first run: %d\n", code);
        HCHECK(destructor_runs == 0); /* dropped without unwinding */
        code = sea_app_run(argc, argv, second_main);
        printf("second run: %d\n", code);
        code = code == 5 ? 0 : 3;
    } else if (strcmp(mode, "outside") == 0) {
        HCHECK(code == 5);
        check_outside();
        printf("outside ok\n");
        code = 0;
    }
    fflush(stdout);
    return helper_failures ? 3 : code;
}
