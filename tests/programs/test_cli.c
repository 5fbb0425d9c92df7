/*
 * test_cli.c - the standard command line as a user meets it: a sea program
 * (the tutorial's hello) run with bad options (exit 2, exactly one line on
 * stderr, nothing on stdout), with --help (exit 0, usage on stdout), with
 * valid values in every spelling (exit 0), and with memory it cannot have
 * (exit 1, the tutorial's message).
 *
 *     test_cli HELLO_PATH [harness options...]
 */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *hello_path;

/* ---- the hello example, as a user runs it ---- */

static struct sea_test_child child;

static int run_hello(const char *const *args, int nargs) {
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)hello_path;
    for (int i = 0; i < nargs && n < 31; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return sea_test_exec(argv, &child);
}

static char long_option[8192];

static sea_future t_bad_options_exit_2(void) {
    memset(long_option, 'z', sizeof(long_option) - 1);
    memcpy(long_option, "--", 2);
    long_option[sizeof(long_option) - 1] = '\0';
    static const char *const bad[][3] = {
        {"--bogus"},
        {"-x"},
        {"--poll-mode=2"},
        {"--help=please"},
        {"--reactor-backend=kqueue"},
        {"--reactor-backend="},
        {"--reactor-backend"},
        {"--reactor-backend", "IO_URING"},
        {"--idle-poll-us=-1"},
        {"--idle-poll-us=abc"},
        {"--idle-poll-us=10000001"},
        {"--idle-poll-us=99999999999999999999999"},
        {"--idle-poll-us=1.5"},
        {"--idle-poll-us= 5"},
        {"--idle-poll-us"},
        {"--task-quota-ms=0"},
        {"--task-quota-ms=0.0009"},
        {"--task-quota-ms=1000.5"},
        {"--task-quota-ms=nan"},
        {"--task-quota-ms=inf"},
        {"--task-quota-ms=0x10"},
        {"--task-quota-ms=1e9"},
        {"--task-quota-ms=1,5"},
        {"--task-quota-ms="},
        {"--task-quota-ms"},
        {"--task-quota-ms", "-1"},
        {"--Poll-Mode"},
        {"--poll-mode", "--bogus"},
        {"--=x"},
        {"---"},
        {"--reactor-backend=epoll", "--idle-poll-us=x"},
        {"--bad\nline"},
        {"--idle-poll-us=1\n2"},
        {"--reactor-backend=\r\nepoll"},
        {"-m"},
        {"-m0"},
        {"-m", "0"},
        {"-m=1.5G"},
        {"-m", "10X"},
        {"-m", "-1"},
        {"-m", "1GB"},
        {"-m", "G"},
        {"-m", "99999999999999999999"},
        {"-m", "20000000T"},
        {"--memory"},
        {"--memory="},
        {"--memory=1q"},
        {"--memory=1 G"},
        {"--reserve-memory"},
        {"--reserve-memory=x"},
        {"--reserve-memory=-5M"},
        {"--transparent-huge-pages=on"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int nargs = 0;
        while (nargs < 3 && bad[i][nargs])
            nargs++;
        run_hello(bad[i], nargs);
        bool ok = sea_test_exited_with(&child, 2) && sea_test_count_lines(child.err) == 1 &&
                  strlen(child.err) > 1 && child.err[strlen(child.err) - 1] == '\n' && child.out[0] == '\0';
        if (!ok) {
            fprintf(stderr, "  hello %s %s: status 0x%x, stdout \"%s\", stderr \"%s\"\n", bad[i][0],
                    bad[i][1] ? bad[i][1] : "", child.status, child.out, child.err);
            failures++;
        }
    }
    CHECK_EQ(failures, 0);
    /* The message names the program and the culprit. */
    run_hello((const char *[]){"--bogus"}, 1);
    CHECK_CONTAINS(child.err, hello_path);
    CHECK_CONTAINS(child.err, "--bogus");
    run_hello((const char *[]){"--idle-poll-us=abc"}, 1);
    CHECK_CONTAINS(child.err, "idle-poll-us");
    CHECK_CONTAINS(child.err, "abc");
    /* A very long unknown option: still exit 2 and one (truncated) line. */
    run_hello((const char *[]){long_option}, 1);
    CHECK(sea_test_exited_with(&child, 2));
    CHECK_EQ(sea_test_count_lines(child.err), 1);
    CHECK(strlen(child.err) < 1024);
    return sea_ready();
}

static sea_future t_help_exits_0(void) {
    run_hello((const char *[]){"--help"}, 1);
    CHECK(sea_test_exited_with(&child, 0));
    CHECK_CONTAINS(child.out, "Usage:");
    CHECK_CONTAINS(child.out, "--reactor-backend");
    CHECK_CONTAINS(child.out, "--poll-mode");
    CHECK_CONTAINS(child.out, "--idle-poll-us");
    CHECK_CONTAINS(child.out, "--task-quota-ms");
    CHECK_CONTAINS(child.out, "--help");
    CHECK(strstr(child.out, "Hello world") == NULL); /* the application did not run */
    CHECK_STREQ(child.err, "");
    /* With other valid options around it. */
    run_hello((const char *[]){"--poll-mode", "--help", "--idle-poll-us=5"}, 3);
    CHECK(sea_test_exited_with(&child, 0));
    CHECK_CONTAINS(child.out, "Usage:");
    return sea_ready();
}

static sea_future t_valid_options_accepted(void) {
    static const char *const good[][4] = {
        {NULL},
        {"--reactor-backend=epoll"},
        {"--reactor-backend=io_uring"},
        {"--reactor-backend", "epoll"},
        {"--poll-mode"},
        {"--idle-poll-us=0"},
        {"--idle-poll-us=10000000"},
        {"--idle-poll-us", "250"},
        {"--task-quota-ms=0.001"},
        {"--task-quota-ms=1000"},
        {"--task-quota-ms", "2"},
        {"--task-quota-ms=1e-1"},
        {"--task-quota-ms=.5"},
        {"--task-quota-ms=+3"},
        {"--poll-mode", "--idle-poll-us=1", "--task-quota-ms=0.25"},
        {"positional", "-", "--", "--bogus"},
        {"--reactor-backend=epoll", "--reactor-backend=io_uring"},
        {"-m64M"},
        {"-m", "64M"},
        {"-m=65536k"},
        {"--memory=67108864"},
        {"--memory", "1G"},
        {"--reserve-memory=1G"},
        {"--reserve-memory", "0"},
        {"-m", "256M", "--reserve-memory", "1G"},
        {"--transparent-huge-pages"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int nargs = 0;
        while (nargs < 4 && good[i][nargs])
            nargs++;
        run_hello(good[i], nargs);
        bool ok = sea_test_exited_with(&child, 0) && strcmp(child.out, "Hello world\n") == 0 && child.err[0] == '\0';
        if (!ok) {
            fprintf(stderr, "  hello %s ...: status 0x%x, stdout \"%s\", stderr \"%s\"\n",
                    good[i][0] ? good[i][0] : "", child.status, child.out, child.err);
            failures++;
        }
    }
    CHECK_EQ(failures, 0);
    return sea_ready();
}

static sea_future t_memory_startup_errors(void) {
    /* The tutorial's example: more than the machine has. */
    run_hello((const char *[]){"-m10T"}, 1);
    CHECK(sea_test_exited_with(&child, 1));
    static const char tutorial[] = "Couldn't start application: insufficient physical memory";
    CHECK(strncmp(child.err, tutorial, sizeof(tutorial) - 1) == 0);
    CHECK_EQ(sea_test_count_lines(child.err), 1);
    CHECK_STREQ(child.out, "");
    run_hello((const char *[]){"--reserve-memory", "16000T"}, 2);
    CHECK(sea_test_exited_with(&child, 1));
    CHECK_CONTAINS(child.err, "Couldn't start application: insufficient physical memory: --reserve-memory");
    run_hello((const char *[]){"-m", "1G", "--reserve-memory", "16000T"}, 4);
    CHECK(sea_test_exited_with(&child, 1));
    CHECK_CONTAINS(child.err, "insufficient physical memory: -m 1 GiB plus --reserve-memory");
    /* Too little for each shard to run. */
    run_hello((const char *[]){"-m", "1M", "-c1"}, 3);
    CHECK(sea_test_exited_with(&child, 1));
    CHECK_CONTAINS(child.err, "Couldn't start application: not enough memory for 1 shard: each gets 1 MiB");
    /* Small but enough. */
    run_hello((const char *[]){"-m", "8M", "-c1"}, 3);
    CHECK(sea_test_exited_with(&child, 0));
    CHECK_STREQ(child.out, "Hello world\n");
    return sea_ready();
}

/* Writes text to root/rel, making the directories on the way. */
static const struct sea_test_case cases[] = {
    SEA_TEST(t_bad_options_exit_2),
    SEA_TEST(t_help_exits_0),
    SEA_TEST(t_valid_options_accepted),
    SEA_TEST(t_memory_startup_errors),
};

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s HELLO_PATH [harness options]\n", argv[0]);
        return 2;
    }
    hello_path = argv[1];
    argv[1] = argv[0];
    return sea_test_main(argc - 1, argv + 1, cases, SEA_TEST_COUNT(cases));
}
