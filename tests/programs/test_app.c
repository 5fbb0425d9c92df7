/*
 * test_app.c - the application template (sea/app.h), by running app_helper:
 *
 *     test_app APP_HELPER_PATH NO_IO_URING_PATH [harness options...]
 *
 * main's integer value is the exit code; a failing main prints one error line
 * and exits 1; no main function: "Couldn't start application", exit 1;
 * positional arguments reach the application; work left pending at the end
 * is released cleanly (under ASan: no leak, no double free); the reactor
 * falls back to epoll when io_uring is blocked, unless io_uring was asked for.
 * Each helper runs with the backend this test program was given.
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *helper_path, *no_uring_path;
static struct sea_test_child child;

/* Runs the helper with the harness's backend option, then args. */
static int run(const char *const *args, int nargs) {
    char backend_opt[64];
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)helper_path;
    if (sea_test_backend_arg) {
        snprintf(backend_opt, sizeof(backend_opt), "--reactor-backend=%s", sea_test_backend_arg);
        argv[n++] = backend_opt;
    }
    for (int i = 0; i < nargs && n < 31; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return sea_test_exec(argv, &child);
}
#define RUN(...) run((const char *[]){__VA_ARGS__}, (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)))

static void report_child(const char *what) {
    fprintf(stderr, "  %s: status 0x%x\n  stdout: %s\n  stderr: %s\n", what, child.status, child.out, child.err);
}
#define EXPECT_EXIT(code, what) \
    do { \
        if (!sea_test_exited_with(&child, (code))) { \
            CHECK(sea_test_exited_with(&child, (code))); \
            report_child(what); \
        } \
    } while (0)

static sea_future t_exit_code_is_main_value(void) {
    RUN("exit", "3");
    EXPECT_EXIT(3, "exit 3");
    CHECK_STREQ(child.err, "");
    RUN("exit", "0");
    EXPECT_EXIT(0, "exit 0");
    RUN("exit", "42");
    EXPECT_EXIT(42, "exit 42");
    RUN("exit-later", "7");
    EXPECT_EXIT(7, "exit-later 7");
    RUN("void");
    EXPECT_EXIT(0, "void");
    CHECK_STREQ(child.err, "");
    return sea_ready();
}

static sea_future t_failing_main_exits_1(void) {
    RUN("fail");
    EXPECT_EXIT(1, "fail");
    CHECK_EQ(sea_test_count_lines(child.err), 1);
    CHECK_CONTAINS(child.err, "disk on fire");
    CHECK_CONTAINS(child.err, "EIO");
    RUN("fail-later");
    EXPECT_EXIT(1, "fail-later");
    CHECK_EQ(sea_test_count_lines(child.err), 1);
    CHECK_CONTAINS(child.err, "no such thing: gizmo");
    CHECK_CONTAINS(child.err, "ENOENT");
    RUN("fail-promise");
    EXPECT_EXIT(1, "fail-promise");
    CHECK_EQ(sea_test_count_lines(child.err), 1);
    CHECK_CONTAINS(child.err, "gave up waiting");
    CHECK_CONTAINS(child.err, "ETIMEDOUT");
    return sea_ready();
}

static sea_future t_no_main(void) {
    RUN("nullmain");
    EXPECT_EXIT(1, "nullmain");
    CHECK_CONTAINS(child.err, "Couldn't start application");
    CHECK_EQ(sea_test_count_lines(child.err), 1);
    return sea_ready();
}

static sea_future t_app_args(void) {
    RUN("args", "a", "--poll-mode", "b c", "-", "--", "--help", "-x");
    EXPECT_EXIT(0, "args");
    CHECK_STREQ(child.out, "a|b c|-|--help|-x\n");
    RUN("--idle-poll-us", "0", "args", "only");
    EXPECT_EXIT(0, "args only");
    CHECK_STREQ(child.out, "only\n");
    /* Standard options are still checked. */
    RUN("args", "--bogus");
    EXPECT_EXIT(2, "args --bogus");
    CHECK_EQ(sea_test_count_lines(child.err), 1);
    RUN("--help");
    EXPECT_EXIT(0, "--help");
    CHECK_CONTAINS(child.out, "--task-quota-ms");
    return sea_ready();
}

static sea_future t_backend_option(void) {
    RUN("backend");
    EXPECT_EXIT(0, "backend");
    if (sea_test_backend_arg) {
        char want[32];
        snprintf(want, sizeof(want), "%s\n", sea_test_backend_arg);
        CHECK_STREQ(child.out, want);
    }
    return sea_ready();
}

static sea_future t_loop_options(void) {
    /* By default an idle reactor sleeps in the kernel... */
    RUN("sleeps");
    EXPECT_EXIT(0, "sleeps");
    CHECK(atoi(child.out) > 0);
    RUN("--idle-poll-us=0", "sleeps");
    EXPECT_EXIT(0, "--idle-poll-us=0 sleeps");
    CHECK(atoi(child.out) > 0);
    /* ...never with --poll-mode... */
    RUN("--poll-mode", "sleeps");
    EXPECT_EXIT(0, "--poll-mode sleeps");
    CHECK_STREQ(child.out, "0\n");
    /* ...nor while it polls for longer than it is idle. */
    RUN("--idle-poll-us", "10000000", "sleeps");
    EXPECT_EXIT(0, "--idle-poll-us 10000000 sleeps");
    CHECK_STREQ(child.out, "0\n");
    /* A task is not preempted long before its quota (50 ms here; slack for the cycle-counter calibration). */
    RUN("--task-quota-ms=50", "quota");
    EXPECT_EXIT(0, "--task-quota-ms=50 quota");
    CHECK(atoi(child.out) >= 10);
    CHECK(atoi(child.out) < 5000);
    return sea_ready();
}

static sea_future t_shutdown_with_pending_work(void) {
    RUN("shutdown");
    EXPECT_EXIT(0, "shutdown");
    CHECK_STREQ(child.err, "");
    return sea_ready();
}

static sea_future t_shutdown_stale_results(void) {
    /* A task still queued at shutdown must not drop a result that was already consumed. */
    RUN("stale-box");
    EXPECT_EXIT(0, "stale-box");
    CHECK_STREQ(child.err, "");
    RUN("stale-msg");
    EXPECT_EXIT(0, "stale-msg");
    CHECK_STREQ(child.err, "");
    return sea_ready();
}

static sea_future t_fallback_without_io_uring(void) {
    /* io_uring blocked by seccomp: the default falls back to epoll... */
    char *argv1[] = {(char *)no_uring_path, (char *)helper_path, "backend", NULL};
    sea_test_exec(argv1, &child);
    EXPECT_EXIT(0, "no_io_uring backend");
    CHECK_STREQ(child.out, "epoll\n");
    CHECK_STREQ(child.err, "");
    /* ...an explicit io_uring fails to start... */
    char *argv2[] = {(char *)no_uring_path, (char *)helper_path, "--reactor-backend=io_uring", "backend", NULL};
    sea_test_exec(argv2, &child);
    EXPECT_EXIT(1, "no_io_uring --reactor-backend=io_uring");
    CHECK_CONTAINS(child.err, "Couldn't start application");
    CHECK_CONTAINS(child.err, "io_uring");
    CHECK_EQ(sea_test_count_lines(child.err), 1);
    CHECK_STREQ(child.out, "");
    /* ...and an explicit epoll just works. */
    char *argv3[] = {(char *)no_uring_path, (char *)helper_path, "--reactor-backend=epoll", "exit-later", "5", NULL};
    sea_test_exec(argv3, &child);
    EXPECT_EXIT(5, "no_io_uring --reactor-backend=epoll");
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_exit_code_is_main_value),
    SEA_TEST(t_failing_main_exits_1),
    SEA_TEST(t_no_main),
    SEA_TEST(t_app_args),
    SEA_TEST(t_backend_option),
    SEA_TEST(t_loop_options),
    SEA_TEST(t_shutdown_with_pending_work),
    SEA_TEST(t_shutdown_stale_results),
    SEA_TEST(t_fallback_without_io_uring),
};

int main(int argc, char **argv) {
    if (argc < 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        fprintf(stderr, "usage: %s APP_HELPER_PATH NO_IO_URING_PATH [harness options]\n", argv[0]);
        return 2;
    }
    helper_path = argv[1];
    no_uring_path = argv[2];
    argv[2] = argv[0];
    return sea_test_main(argc - 2, argv + 2, cases, SEA_TEST_COUNT(cases));
}
