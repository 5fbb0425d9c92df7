/*
 * test_fd_poll.c - sea_fd_poll (sea/reactor.h) on both backends, which must
 * behave identically: the same value (ready events) and the same error codes.
 *
 * Pipes (readable after a write, writable at once, hang-up, error), sockets,
 * regular files (always ready), bad descriptors (-EBADF, including huge
 * numbers), no events (-EINVAL), several polls on one descriptor, many polls
 * at once (more than the io_uring submission ring holds), a poll for hang-up
 * only on a readable pipe (must not spin), and polls left pending when the
 * application ends (freed cleanly: the test program's exit under ASan).
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct expect_poll {
    uint64_t events; /* expected value, exactly */
    int err;         /* or expected error */
    int *done;
};

static sea_future check_poll(struct expect_poll *e, sea_future *in) {
    int err = sea_future_error(in);
    if (e->err) {
        CHECK_EQ(err, e->err);
        CHECK(sea_future_message(in) != NULL);
    } else {
        if (err)
            fprintf(stderr, "  poll failed: %s %s\n", sea_errname(err), sea_future_message(in));
        CHECK_EQ(err, 0);
        if (!err)
            CHECK_EQ(sea_future_value(in).u, e->events);
    }
    if (e->done)
        (*e->done)++;
    return sea_ready();
}

#define EXPECT_EVENTS(f, ev, donep) \
    sea_then_wrapped((f), check_poll, (struct expect_poll){.events = (ev), .done = (donep)})
#define EXPECT_POLL_ERROR(f, e) sea_then_wrapped((f), check_poll, (struct expect_poll){.err = (e)})

static void make_pipe(int fds[2]) {
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
        perror("pipe2");
        abort();
    }
}

/* Closes a descriptor once the future before it is done (the fd must outlive the poll). */
static sea_future close_after(int *fd, sea_future *in) {
    close(*fd);
    return sea_future_move(in);
}
#define CLOSE_AFTER(f, fd) sea_then_wrapped((f), close_after, (int){fd})

/* ---- pipes ---- */

static int rw_pipe[2];
static int readable_done;
static sea_future write_now(int *fd) {
    /* The poll was still pending after a loop turn and a sleep: nothing to read yet. */
    CHECK_EQ(readable_done, 0);
    CHECK_EQ(write(*fd, "x", 1), 1);
    return sea_ready();
}

static uint64_t completions_before;
static sea_future completions_counted(sea_future *in) {
    CHECK_EQ(sea_future_error(in), 0);
    CHECK(sea_test_stats().io_completions > completions_before);
    return sea_ready();
}

static sea_future t_pipe_readable_after_write(void) {
    make_pipe(rw_pipe);
    completions_before = sea_test_stats().io_completions;
    readable_done = 0;
    sea_future f = sea_fd_poll(rw_pipe[0], SEA_POLLIN);
    CHECK(!sea_future_available(&f));
    sea_future checked = EXPECT_EVENTS(f, SEA_POLLIN, &readable_done);
    sea_future w = sea_then(sea_sleep(SEA_MSEC(2)), write_now, rw_pipe[1]);
    sea_future all = sea_then_wrapped(sea_test_join(w, checked), completions_counted);
    all = CLOSE_AFTER(all, rw_pipe[0]);
    return CLOSE_AFTER(all, rw_pipe[1]);
}

static sea_future t_pipe_writable_at_once(void) {
    int p[2];
    make_pipe(p);
    sea_future all = EXPECT_EVENTS(sea_fd_poll(p[1], SEA_POLLOUT), SEA_POLLOUT, NULL);
    /* Asking for more than is ready reports only what is ready. */
    all = sea_test_join(all, EXPECT_EVENTS(sea_fd_poll(p[1], SEA_POLLIN | SEA_POLLOUT), SEA_POLLOUT, NULL));
    all = CLOSE_AFTER(all, p[0]);
    return CLOSE_AFTER(all, p[1]);
}

static sea_future t_pipe_data_already_there(void) {
    int p[2];
    make_pipe(p);
    CHECK_EQ(write(p[1], "abc", 3), 3);
    sea_future all = EXPECT_EVENTS(sea_fd_poll(p[0], SEA_POLLIN), SEA_POLLIN, NULL);
    all = CLOSE_AFTER(all, p[0]);
    return CLOSE_AFTER(all, p[1]);
}

static sea_future close_fd_cont(int *fd) {
    close(*fd);
    return sea_ready();
}

static sea_future t_pipe_hangup(void) {
    int p[2];
    make_pipe(p);
    /* Reader waiting; the writer goes away: POLLHUP (reported though not asked for). */
    sea_future r = EXPECT_EVENTS(sea_fd_poll(p[0], SEA_POLLIN), SEA_POLLHUP, NULL);
    sea_future all = sea_test_join(sea_then(sea_sleep(SEA_MSEC(1)), close_fd_cont, p[1]), r);
    all = CLOSE_AFTER(all, p[0]);
    /* Writer polling a pipe whose reader is gone: POLLOUT | POLLERR. */
    int q[2];
    make_pipe(q);
    close(q[0]);
    all = sea_test_join(all, CLOSE_AFTER(EXPECT_EVENTS(sea_fd_poll(q[1], SEA_POLLOUT), SEA_POLLOUT | SEA_POLLERR, NULL),
                                         q[1]));
    return all;
}

/* Poll for hang-up only on a pipe full of data: pending, without spinning, until the hang-up. */
static int hup_pipe[2];
static sea_reactor_stats hup_before;
static int hup_done;
static sea_future hup_close_writer(void) {
    sea_reactor_stats now = sea_test_stats();
    CHECK_EQ(hup_done, 0);
    /* Nothing completed during the 20 ms: the readable data must not wake the loop. */
    CHECK(now.io_completions - hup_before.io_completions <= 2);
    close(hup_pipe[1]);
    return sea_ready();
}

static sea_future t_poll_hangup_only_does_not_spin(void) {
    make_pipe(hup_pipe);
    CHECK_EQ(write(hup_pipe[1], "data", 4), 4);
    hup_done = 0;
    sea_future f = sea_fd_poll(hup_pipe[0], SEA_POLLHUP);
    hup_before = sea_test_stats();
    sea_future all = sea_then(sea_sleep(SEA_MSEC(20)), hup_close_writer);
    /* POLLIN was not asked for, so only POLLHUP is reported. */
    all = sea_test_join(all, EXPECT_EVENTS(f, SEA_POLLHUP, &hup_done));
    return CLOSE_AFTER(all, hup_pipe[0]);
}

static sea_future t_poll_pri_only(void) {
    /* POLLPRI never happens on a pipe: pending until the hang-up. */
    make_pipe(hup_pipe);
    CHECK_EQ(write(hup_pipe[1], "data", 4), 4);
    hup_done = 0;
    sea_future f = sea_fd_poll(hup_pipe[0], SEA_POLLPRI);
    sea_future g = sea_fd_poll(hup_pipe[0], SEA_POLLERR);
    hup_before = sea_test_stats();
    sea_future all = sea_then(sea_sleep(SEA_MSEC(20)), hup_close_writer);
    all = sea_test_join(all, EXPECT_EVENTS(f, SEA_POLLHUP, &hup_done));
    all = sea_test_join(all, EXPECT_EVENTS(g, SEA_POLLHUP, &hup_done));
    return CLOSE_AFTER(all, hup_pipe[0]);
}

/* ---- sockets: two polls on one descriptor ---- */

static int sp[2];
static int two_read_done;
static sea_future two_write(sea_future *in) {
    /* The POLLOUT poll completed; the POLLIN one is still waiting. */
    CHECK_EQ(sea_future_error(in), 0);
    CHECK_EQ(two_read_done, 0);
    CHECK_EQ(write(sp[1], "ping", 4), 4);
    return sea_ready();
}

static sea_future t_two_polls_same_fd(void) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0) {
        perror("socketpair");
        return sea_failed(-errno, "socketpair");
    }
    two_read_done = 0;
    sea_future rd = sea_fd_poll(sp[0], SEA_POLLIN);
    sea_future rd2 = sea_fd_poll(sp[0], SEA_POLLIN);
    sea_future wr = sea_fd_poll(sp[0], SEA_POLLOUT);
    sea_future rdc = EXPECT_EVENTS(rd, SEA_POLLIN, &two_read_done);
    sea_future rdc2 = EXPECT_EVENTS(rd2, SEA_POLLIN, &two_read_done);
    /* The POLLOUT poll completes first (a fresh socket is writable); then data arrives. */
    sea_future all = sea_then_wrapped(EXPECT_EVENTS(wr, SEA_POLLOUT, NULL), two_write);
    all = sea_test_join(all, rdc);
    all = sea_test_join(all, rdc2);
    /* The descriptor is still usable for new polls afterwards (registration updated). */
    all = sea_test_join(all, EXPECT_EVENTS(sea_fd_poll(sp[1], SEA_POLLOUT), SEA_POLLOUT, NULL));
    all = CLOSE_AFTER(all, sp[0]);
    return CLOSE_AFTER(all, sp[1]);
}

static sea_future poll_again(int *fd) {
    /* Data is still unread: ready again. */
    return EXPECT_EVENTS(sea_fd_poll(*fd, SEA_POLLIN | SEA_POLLOUT), SEA_POLLIN | SEA_POLLOUT, NULL);
}

static sea_future t_poll_again_after_completion(void) {
    int s[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s) < 0)
        return sea_failed(-errno, "socketpair");
    CHECK_EQ(write(s[1], "x", 1), 1);
    sea_future f = sea_fd_poll(s[0], SEA_POLLIN);
    f = sea_then(f, poll_again, (int){s[0]});
    f = sea_then(f, poll_again, (int){s[0]});
    f = CLOSE_AFTER(f, s[0]);
    return CLOSE_AFTER(f, s[1]);
}

/* ---- regular files ---- */

static sea_future t_regular_file_always_ready(void) {
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL);
    if (!tmp)
        return sea_ready();
    int fd = dup(fileno(tmp));
    fclose(tmp);
    sea_future all = EXPECT_EVENTS(sea_fd_poll(fd, SEA_POLLIN), SEA_POLLIN, NULL);
    all = sea_test_join(all, EXPECT_EVENTS(sea_fd_poll(fd, SEA_POLLOUT), SEA_POLLOUT, NULL));
    all = sea_test_join(all, EXPECT_EVENTS(sea_fd_poll(fd, SEA_POLLIN | SEA_POLLOUT), SEA_POLLIN | SEA_POLLOUT, NULL));
    /* POLLPRI is never ready on a file; only what is ready is reported. */
    all = sea_test_join(all, EXPECT_EVENTS(sea_fd_poll(fd, SEA_POLLIN | SEA_POLLPRI), SEA_POLLIN, NULL));
    /* Several polls on the same file, pending at once. */
    for (int i = 0; i < 3; i++)
        all = sea_test_join(all, EXPECT_EVENTS(sea_fd_poll(fd, SEA_POLLIN), SEA_POLLIN, NULL));
    return CLOSE_AFTER(all, fd);
}

static sea_future t_regular_file_never_pri(void) {
    /* Asking a file only for what it never reports fails with -EINVAL (io_uring's answer). */
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL);
    if (!tmp)
        return sea_ready();
    int fd = dup(fileno(tmp));
    fclose(tmp);
    sea_future all = EXPECT_POLL_ERROR(sea_fd_poll(fd, SEA_POLLPRI), -EINVAL);
    all = sea_test_join(all, EXPECT_POLL_ERROR(sea_fd_poll(fd, SEA_POLLERR | SEA_POLLHUP), -EINVAL));
    return CLOSE_AFTER(all, fd);
}

/* ---- errors ---- */

static sea_future t_bad_fd(void) {
    /* Negative: refused at once. */
    sea_future f = sea_fd_poll(-1, SEA_POLLIN);
    CHECK(sea_future_failed(&f));
    CHECK_EQ(sea_future_error(&f), -EBADF);
    sea_future_detach(f);
    f = sea_fd_poll(INT_MIN, SEA_POLLOUT);
    CHECK_EQ(sea_future_error(&f), -EBADF);
    sea_future_detach(f);
    /* Not open (a number just closed, one past the limit, huge ones): -EBADF on both backends. */
    int p[2];
    make_pipe(p);
    close(p[0]);
    close(p[1]);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int past_limit = rl.rlim_cur < (rlim_t)INT_MAX ? (int)rl.rlim_cur : 1 << 20;
    sea_future all = EXPECT_POLL_ERROR(sea_fd_poll(p[0], SEA_POLLIN), -EBADF);
    all = sea_test_join(all, EXPECT_POLL_ERROR(sea_fd_poll(p[1], SEA_POLLOUT), -EBADF));
    all = sea_test_join(all, EXPECT_POLL_ERROR(sea_fd_poll(past_limit, SEA_POLLIN), -EBADF));
    all = sea_test_join(all, EXPECT_POLL_ERROR(sea_fd_poll(1 << 30, SEA_POLLIN), -EBADF));
    all = sea_test_join(all, EXPECT_POLL_ERROR(sea_fd_poll(INT_MAX, SEA_POLLIN | SEA_POLLOUT), -EBADF));
    return all;
}

static sea_future t_no_events(void) {
    int p[2];
    make_pipe(p);
    sea_future f = sea_fd_poll(p[0], 0);
    CHECK(sea_future_available(&f));
    CHECK_EQ(sea_future_error(&f), -EINVAL);
    sea_future_detach(f);
    /* Bits that are not poll events count as none. */
    f = sea_fd_poll(p[0], 0x8000);
    CHECK_EQ(sea_future_error(&f), -EINVAL);
    sea_future_detach(f);
    /* A bad fd with no events: either error is acceptable, but it fails at once. */
    f = sea_fd_poll(-1, 0);
    CHECK(sea_future_failed(&f));
    sea_future_detach(f);
    close(p[0]);
    close(p[1]);
    return sea_ready();
}

/* ---- many polls ---- */

#define NPIPES 300
static int many_pipes[NPIPES][2];
static int many_done;
static sea_future many_write(void) {
    CHECK_EQ(many_done, 0);
    for (int i = 0; i < NPIPES; i++)
        CHECK_EQ(write(many_pipes[i][1], "y", 1), 1);
    return sea_ready();
}
static sea_future many_close(sea_future *in) {
    CHECK_EQ(sea_future_error(in), 0);
    CHECK_EQ(many_done, NPIPES);
    for (int i = 0; i < NPIPES; i++) {
        close(many_pipes[i][0]);
        close(many_pipes[i][1]);
    }
    return sea_ready();
}

static sea_future t_many_polls(void) {
    many_done = 0;
    sea_future all = sea_ready();
    for (int i = 0; i < NPIPES; i++) {
        make_pipe(many_pipes[i]);
        all = sea_test_join(all, EXPECT_EVENTS(sea_fd_poll(many_pipes[i][0], SEA_POLLIN), SEA_POLLIN, &many_done));
    }
    all = sea_test_join(sea_then(sea_sleep(SEA_MSEC(1)), many_write), all);
    return sea_then_wrapped(all, many_close);
}

/* More polls completing at once than the io_uring completion ring holds. */
#define NSAME 1500
static int same_pipe[2];
static int same_done;
static sea_future same_write(void) {
    CHECK_EQ(same_done, 0);
    CHECK_EQ(write(same_pipe[1], "w", 1), 1);
    return sea_ready();
}
static sea_future same_close(sea_future *in) {
    CHECK_EQ(sea_future_error(in), 0);
    CHECK_EQ(same_done, NSAME);
    close(same_pipe[0]);
    close(same_pipe[1]);
    return sea_ready();
}

static sea_future t_many_polls_one_fd(void) {
    make_pipe(same_pipe);
    same_done = 0;
    sea_future all = sea_ready();
    for (int i = 0; i < NSAME; i++)
        all = sea_test_join(all, EXPECT_EVENTS(sea_fd_poll(same_pipe[0], SEA_POLLIN), SEA_POLLIN, &same_done));
    all = sea_test_join(sea_then(sea_sleep(SEA_MSEC(1)), same_write), all);
    return sea_then_wrapped(all, same_close);
}

/* ---- pending at shutdown ---- */

static int left_pipe[2];
struct big_capture {
    char bytes[300];
};
static sea_future never_runs(struct big_capture *c) {
    (void)c;
    CHECK(!"a poll pending at shutdown resolved");
    return sea_ready();
}

static sea_future t_polls_left_pending_at_exit(void) {
    /* Never resolved: the reactor releases them when the program ends (ASan: no leak). */
    make_pipe(left_pipe);
    sea_future_detach(sea_fd_poll(left_pipe[0], SEA_POLLIN));
    sea_future_detach(sea_then(sea_fd_poll(left_pipe[0], SEA_POLLIN), never_runs, (struct big_capture){{0}}));
    sea_future_detach(sea_fd_poll(left_pipe[0], SEA_POLLPRI));
    /* The descriptors stay open until exit, as sea_fd_poll requires. */
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_pipe_readable_after_write),
    SEA_TEST(t_pipe_writable_at_once),
    SEA_TEST(t_pipe_data_already_there),
    SEA_TEST(t_pipe_hangup),
    SEA_TEST(t_poll_hangup_only_does_not_spin),
    SEA_TEST(t_poll_pri_only),
    SEA_TEST(t_two_polls_same_fd),
    SEA_TEST(t_poll_again_after_completion),
    SEA_TEST(t_regular_file_always_ready),
    SEA_TEST(t_regular_file_never_pri),
    SEA_TEST(t_bad_fd),
    SEA_TEST(t_no_events),
    SEA_TEST(t_many_polls),
    SEA_TEST(t_many_polls_one_fd),
    SEA_TEST(t_polls_left_pending_at_exit),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
