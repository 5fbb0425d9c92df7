/*
 * ops_helper.c - a small sea application that test_ops drives as a process,
 * one mode per operability feature: application options, logging (levels,
 * a flood into an output nobody reads), a deliberate stall, signal
 * handlers, a slow stop callback, and the state dump.
 *
 *     ops_helper MODE [sea options and the application's options]
 */
#include <sea/sea.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

SEA_LOGGER(ops_log, "ops");
static const sea_option app_options[] = {
    {.name = "port", .type = SEA_OPTION_INT, .default_value = "11211", .help = "TCP port", .min = 1, .max = 65535},
    {.name = "name", .type = SEA_OPTION_STRING, .default_value = "demo", .help = "the server's name"},
    {.name = "ratio", .type = SEA_OPTION_DOUBLE, .default_value = "0.5", .help = "a fraction", .min = 0, .max = 1},
    {.name = "cache", .type = SEA_OPTION_SIZE, .default_value = "1M", .help = "cache size"},
    {.name = "verbose", .type = SEA_OPTION_FLAG, .help = "say more"},
    {.name = "count", .type = SEA_OPTION_INT, .help = "no default"},
};

static const char *mode;

/* ---- options ---- */

struct none {
    int unused;
};

static sea_future print_options_here(struct none *n) {
    (void)n;
    int64_t count = 0;
    int crc = sea_option_get_int("count", &count);
    printf("shard %u: port=%lld name=%s ratio=%g cache=%llu verbose=%d count=%s given=%s%s\n", sea_shard_id(),
           (long long)sea_option_int("port"), sea_option_string("name"), sea_option_double("ratio"),
           (unsigned long long)sea_option_size("cache"), sea_option_flag("verbose"),
           crc == -ENODATA ? "unset" : "set", sea_option_given("port") ? "port" : "",
           sea_option_given("verbose") ? ",verbose" : "");
    fflush(stdout);
    return sea_ready();
}

static sea_future options_main(void) {
    const char *s;
    /* Wrong type and unknown names come back as errors from the checked getters. */
    if (sea_option_get_string("port", &s) != -EINVAL || sea_option_get_string("nosuch", &s) != -ENOENT)
        return sea_failed(-EPROTO, "checked getters gave the wrong errors");
    return sea_invoke_on_all(print_options_here, (struct none){0});
}

/* ---- logging ---- */

static int evaluated;

static int count_evaluation(void) {
    return ++evaluated;
}

static sea_future log_here(struct none *n) {
    (void)n;
    sea_log_error(&ops_log, "an error %d", 1);
    sea_log_warn(&ops_log, "a warning %d", 2);
    sea_log_info(&ops_log, "some info %d", 3);
    sea_log_debug(&ops_log, "debugging %d", count_evaluation());
    sea_log_trace(&ops_log, "tracing %d", 5);
    return sea_ready();
}

static sea_future log_done(struct none *n, sea_value v) {
    (void)n;
    (void)v;
    /* A disabled level must not even evaluate its arguments. */
    printf("debug arguments evaluated %d times\n", evaluated);
    return sea_ready();
}

static sea_future flood_main(void) {
    int n = 200000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++)
        sea_log_info(&ops_log, "flood line %d: the quick brown fox jumps over the lazy dog", i);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("flood done: %d lines in %ld ms\n", n,
           (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000));
    fflush(stdout);
    return sea_sleep(SEA_MSEC(500)); /* time for a reader to drain, and for the dropped-lines report */
}

/* ---- a stall ---- */

void ops_block_reactor_on_purpose(int ms);
__attribute__((noinline)) void ops_block_reactor_on_purpose(int ms) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

static sea_future stall_counted(struct none *n, sea_value v) {
    (void)n;
    (void)v;
    sea_reactor_stats st;
    sea_reactor_stats_get(&st);
    printf("quota violations: %llu\n", (unsigned long long)st.quota_violations);
    return sea_ready();
}

static sea_future stall_now(struct none *n, sea_value v) {
    (void)v;
    ops_block_reactor_on_purpose(300);
    return sea_then(sea_sleep(SEA_MSEC(50)), stall_counted, *n);
}

static sea_future stall_main(void) {
    /* From a continuation inside the loop (main itself runs before the loop's first turn). */
    return sea_then(sea_sleep(SEA_MSEC(10)), stall_now, (struct none){0});
}

/* ---- signals ---- */

static sea_promise quit;

static void on_signal(int signo, void *arg) {
    (void)arg;
    /* Ordinary code on the reactor: allocating and printing are fine here. */
    char *msg = malloc(64);
    snprintf(msg, 64, "handled %s on shard %u", signo == SIGHUP ? "SIGHUP" : signo == SIGTERM ? "SIGTERM" : "SIGUSR1",
             sea_shard_id());
    printf("%s\n", msg);
    fflush(stdout);
    free(msg);
    if (signo == SIGUSR1)
        sea_promise_set_value(&quit, (sea_value){.i = 0});
}

static sea_future handle_on_last_shard(struct none *n) {
    (void)n;
    return sea_signal_handle(SIGHUP, on_signal, NULL) == 0 ? sea_ready() : sea_failed(-EIO, "handle SIGHUP");
}

static sea_future signals_ready(struct none *n, sea_value v) {
    (void)n;
    (void)v;
    printf("ready\n");
    fflush(stdout);
    return sea_promise_get_future(&quit);
}

static sea_future signal_main(void) {
    sea_promise_init(&quit);
    if (sea_signal_handle(SIGUSR1, on_signal, NULL) != 0 || sea_signal_handle(SIGTERM, on_signal, NULL) != 0 ||
        sea_signal_handle(SIGKILL, on_signal, NULL) != -EINVAL || sea_signal_handle(SIGRTMIN, on_signal, NULL) != -EBUSY)
        return sea_failed(-EIO, "sea_signal_handle gave unexpected results");
    return sea_then(sea_submit_to(sea_shard_count() - 1, handle_on_last_shard, (struct none){0}), signals_ready,
                    (struct none){0});
}

/* A handler removed: the signal does what it did before (SIGHUP: terminate). */
static sea_future unhandle_main(void) {
    if (sea_signal_handle(SIGHUP, on_signal, NULL) != 0 || sea_signal_unhandle(SIGHUP) != 0 ||
        sea_signal_unhandle(SIGHUP) != -ENOENT)
        return sea_failed(-EIO, "sea_signal_unhandle gave unexpected results");
    printf("ready\n");
    fflush(stdout);
    return sea_sleep(SEA_SEC(30));
}

/* A second application in the same process while this one runs: refused, and this one goes on. */
static void *second_app(void *arg) {
    char *argv[] = {"second", NULL};
    *(int *)arg = sea__app_run(1, argv, false, NULL, NULL, 0);
    return NULL;
}

static sea_future twice_main(void) {
    pthread_t t;
    static int rc = -1;
    pthread_create(&t, NULL, second_app, &rc);
    pthread_join(t, NULL);
    sea_log_info(&ops_log, "still logging after the second application was refused");
    printf("second sea_app_run returned %d; port still %lld\n", rc, (long long)sea_option_int("port"));
    return sea_ready();
}

/* ---- a slow stop, and the dump ---- */

static sea_future slow_stop(void) {
    return sea_sleep(SEA_MSEC(400));
}

sea_future ops_waiter(void);
sea_future ops_waiter(void) {
    /* Not "return sea_await(...)": a tail call would make the dump name ops_waiter's caller. */
    int err = sea_await_value(sea_sleep(SEA_SEC(30)), NULL);
    return err ? sea_failed(err, "waiter") : sea_ready();
}

void ops_tick(sea_timer *t, void *arg);
void ops_tick(sea_timer *t, void *arg) {
    (void)t;
    (void)arg;
}

static sea_timer dump_timer;

static sea_future dump_now(struct none *n, sea_value v) {
    (void)n;
    (void)v;
    /* A dump from code, to stdout; SIGUSR2's goes to the log. */
    sea_debug_dump_shard(stdout);
    printf("ready\n");
    fflush(stdout);
    return sea_sleep(SEA_SEC(30)); /* until SIGTERM */
}

static sea_future dump_main(void) {
    sea_fiber_attr a = {.name = "waiter-a"}, b = {.name = "waiter-b"};
    sea_future_detach(sea_fiber_start_attr(&a, ops_waiter));
    sea_future_detach(sea_fiber_start_attr(&b, ops_waiter));
    sea_timer_init(&dump_timer, ops_tick, NULL);
    sea_timer_arm(&dump_timer, SEA_SEC(20));
    return sea_then(sea_sleep(SEA_MSEC(20)), dump_now, (struct none){0}); /* the fibers start, and wait */
}

static sea_future app_main(void) {
    if (strcmp(mode, "options") == 0)
        return options_main();
    if (strcmp(mode, "log") == 0)
        return sea_then(sea_invoke_on_all(log_here, (struct none){0}), log_done, (struct none){0});
    if (strcmp(mode, "flood") == 0)
        return flood_main();
    if (strcmp(mode, "stall") == 0)
        return stall_main();
    if (strcmp(mode, "signal") == 0)
        return signal_main();
    if (strcmp(mode, "unhandle") == 0)
        return unhandle_main();
    if (strcmp(mode, "twice") == 0)
        return twice_main();
    if (strcmp(mode, "slow-stop") == 0) {
        sea_app_at_exit(slow_stop);
        return sea_ready();
    }
    if (strcmp(mode, "dump") == 0)
        return dump_main();
    return sea_failed(-EINVAL, "unknown mode");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ops_helper MODE [options]\n");
        return 2;
    }
    mode = argv[1];
    if (sea_app_add_options(app_options, SEA_OPTION_COUNT(app_options)) != 0)
        return 3;
    argv[1] = argv[0];
    return sea_app_run(argc - 1, argv + 1, app_main);
}
