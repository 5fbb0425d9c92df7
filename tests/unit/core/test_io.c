/*
 * test_io.c - I/O requests (core/io.h) on the backend the harness was
 * started with (--reactor-backend=io_uring|epoll): both must give the same
 * results, the kernel's.
 *
 * Files: write at an offset and read it back (also with O_DIRECT where the
 * filesystem takes it), readv/writev, fsync/fdatasync, reads past the end,
 * the file position (offset -1), bad descriptors, 1,000 reads at once (more
 * than the io_uring submission ring holds).  Sockets: accept (connection
 * there already, or coming later), connect (done; refused, after which the
 * socket may try again), recv/send on a socketpair (MSG_PEEK, MSG_WAITALL, a
 * send to a closed peer), receives on a descriptor polled "sticky".
 * Cancelling through an abort source: a pending receive, poll and accept
 * fail with SEA_ECANCELED and the descriptor still works afterwards; so do
 * requests aborted in the turn they were submitted, and hundreds at once
 * (more cancels than the ring holds); a cancel racing a completion ends the
 * request exactly once; an abort before submission fails at once; requests
 * pending at the end of the program are freed (ASan).
 *
 * Every case is a fiber.  Every wait is bounded: requests are submitted with
 * an abort source that a 10 s timer fires (the request is then cancelled and
 * the case fails), and other waits go through sea_with_timeout.  Nothing
 * depends on timing.
 */
#include "check.h"
#include "core/io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/* Longer than any wait here takes on a loaded machine; a request still pending then is a hang. */
#define LIMIT SEA_SEC(10)

static void deadline_fired(sea_timer *t, void *as) {
    (void)t;
    fprintf(stderr, "  a wait took over 10 s: cancelling it\n");
    sea_abort_source_request(as, 0);
}

/* Runs q (in a fiber) and returns its future, ready; q is cancelled after LIMIT. */
static sea_future run(struct sea__io q) {
    sea_abort_source as;
    sea_timer t;
    sea_abort_source_init(&as);
    sea_timer_init(&t, deadline_fired, &as);
    sea_timer_arm(&t, LIMIT);
    sea_future f = sea_await(sea__io_submit(&q, &as));
    sea_timer_cancel(&t);
    return f;
}

/* Runs q: its value (>= 0) or its error (< 0). */
static int64_t io(struct sea__io q) {
    sea_future f = run(q);
    int64_t r = sea_future_failed(&f) ? sea_future_error(&f) : (int64_t)sea_future_value(&f).u;
    sea_future_detach(f);
    return r;
}
#define IO(...) io((struct sea__io){__VA_ARGS__})

/* Runs q and CHECKs that it fails with err and a message containing msg. */
#define IO_FAILS(err, msg, ...) \
    do { \
        sea_future f_ = run((struct sea__io){__VA_ARGS__}); \
        CHECK_EQ(sea_future_error(&f_), (err)); \
        CHECK_CONTAINS(sea_future_message(&f_), (msg)); \
        sea_future_detach(f_); \
    } while (0)

/* Waits (bounded) for a future submitted elsewhere: its value or error. */
static int64_t wait_for(sea_future f, const char **msg_out, char *msg, size_t msglen) {
    sea_future r = sea_await(sea_with_timeout(f, LIMIT));
    int64_t v = sea_future_failed(&r) ? sea_future_error(&r) : (int64_t)sea_future_value(&r).u;
    if (msg_out) {
        const char *m = sea_future_message(&r);
        snprintf(msg, msglen, "%s", m ? m : "");
        *msg_out = msg;
    }
    sea_future_detach(r);
    return v;
}

/* One trip around the loop: what was submitted has reached the kernel, what was ready is reaped. */
static void turn(void) {
    sea_future_detach(sea_await(sea_yield()));
}

/* A temporary file, already unlinked. */
static int temp_file(int extra_flags) {
    char path[] = "/tmp/sea_test_io_XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC | extra_flags);
    if (fd >= 0)
        unlink(path);
    return fd;
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

static void make_socketpair(int sv[2]) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("socketpair");
        abort();
    }
}

/* A listening loopback socket on an ephemeral port; its address in *a. */
static int listen_loopback(struct sockaddr_in *a, int type_flags) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | type_flags, 0);
    CHECK(l >= 0);
    *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_EQ(bind(l, (struct sockaddr *)a, sizeof(*a)), 0);
    CHECK_EQ(listen(l, 16), 0);
    socklen_t len = sizeof(*a);
    CHECK_EQ(getsockname(l, (struct sockaddr *)a, &len), 0);
    return l;
}

/* ---- files ---- */

FIBER_CASE(t_write_read_at_offset) {
    int fd = temp_file(0);
    CHECK(fd >= 0);
    static const char text[] = "hello, offset";
    CHECK_EQ(IO(.op = SEA__IO_WRITE, .fd = fd, .buf = (void *)text, .len = sizeof(text), .offset = 1000),
             (int64_t)sizeof(text));
    struct stat st;
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 1000 + (int64_t)sizeof(text));
    char back[64] = {0};
    CHECK_EQ(IO(.op = SEA__IO_READ, .fd = fd, .buf = back, .len = sizeof(back), .offset = 1000),
             (int64_t)sizeof(text));
    CHECK_STREQ(back, text);
    /* The hole before it reads as zeros. */
    char hole[16];
    memset(hole, 'x', sizeof(hole));
    CHECK_EQ(IO(.op = SEA__IO_READ, .fd = fd, .buf = hole, .len = sizeof(hole), .offset = 10), (int64_t)sizeof(hole));
    for (size_t i = 0; i < sizeof(hole); i++)
        CHECK_EQ(hole[i], 0);
    /* Offsets never moved the file position. */
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);
    close(fd);
    return sea_ready();
}

FIBER_CASE(t_file_position) {
    /* Offset -1 (UINT64_MAX) reads and writes at the file position, which advances, as read(2)/write(2). */
    int fd = temp_file(0);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "0123456789", 10), 10);
    CHECK_EQ(lseek(fd, 3, SEEK_SET), 3);
    char b[4] = {0};
    CHECK_EQ(IO(.op = SEA__IO_READ, .fd = fd, .buf = b, .len = 3, .offset = UINT64_MAX), 3);
    CHECK_STREQ(b, "345");
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 6);
    CHECK_EQ(IO(.op = SEA__IO_WRITE, .fd = fd, .buf = "ab", .len = 2, .offset = UINT64_MAX), 2);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 8);
    char all[11] = {0};
    CHECK_EQ(pread(fd, all, 10, 0), 10);
    CHECK_STREQ(all, "012345ab89");
    close(fd);
    return sea_ready();
}

FIBER_CASE(t_o_direct) {
    int fd = temp_file(O_DIRECT);
    if (fd < 0) {
        printf("  O_DIRECT: not taken by /tmp's filesystem (%s), part skipped\n", strerror(errno));
        return sea_ready();
    }
    unsigned char *w = aligned_alloc(4096, 8192), *r = aligned_alloc(4096, 8192);
    CHECK(w && r);
    fill(w, 8192, 3);
    memset(r, 0, 8192);
    int64_t n = IO(.op = SEA__IO_WRITE, .fd = fd, .buf = w, .len = 8192, .offset = 4096);
    if (n == -EINVAL) {
        printf("  O_DIRECT: open worked but writes are refused (EINVAL), part skipped\n");
    } else {
        CHECK_EQ(n, 8192);
        CHECK_EQ(IO(.op = SEA__IO_READ, .fd = fd, .buf = r, .len = 8192, .offset = 4096), 8192);
        CHECK(memcmp(w, r, 8192) == 0);
        /* A short read at the end of the file, still whole blocks. */
        CHECK_EQ(IO(.op = SEA__IO_READ, .fd = fd, .buf = r, .len = 8192, .offset = 8192), 4096);
        CHECK(memcmp(w + 4096, r, 4096) == 0);
    }
    free(w);
    free(r);
    close(fd);
    return sea_ready();
}

FIBER_CASE(t_readv_writev) {
    int fd = temp_file(0);
    CHECK(fd >= 0);
    char a[] = "first-", b[] = "second-", c[] = "third";
    struct iovec out[3] = {{a, 6}, {b, 7}, {c, 5}};
    CHECK_EQ(IO(.op = SEA__IO_WRITEV, .fd = fd, .buf = out, .len = 3, .offset = 100), 18);
    char all[19] = {0};
    CHECK_EQ(pread(fd, all, 18, 100), 18);
    CHECK_STREQ(all, "first-second-third");
    /* Read back into differently cut pieces. */
    char x[5] = {0}, y[9] = {0}, z[8] = {0};
    struct iovec in[3] = {{x, 4}, {y, 8}, {z, 7}};
    CHECK_EQ(IO(.op = SEA__IO_READV, .fd = fd, .buf = in, .len = 3, .offset = 100), 18);
    CHECK_STREQ(x, "firs");
    CHECK_STREQ(y, "t-second");
    CHECK_STREQ(z, "-third");
    /* Past the end: 0, nothing touched. */
    CHECK_EQ(IO(.op = SEA__IO_READV, .fd = fd, .buf = in, .len = 3, .offset = 1000), 0);
    CHECK_STREQ(x, "firs");
    /* Too many vectors: the kernel's -EINVAL on both backends. */
    IO_FAILS(-EINVAL, "readv on fd", .op = SEA__IO_READV, .fd = fd, .buf = in, .len = 100000, .offset = 0);
    close(fd);
    return sea_ready();
}

FIBER_CASE(t_fsync) {
    int fd = temp_file(0);
    CHECK(fd >= 0);
    CHECK_EQ(IO(.op = SEA__IO_WRITE, .fd = fd, .buf = "data", .len = 4, .offset = 0), 4);
    CHECK_EQ(IO(.op = SEA__IO_FSYNC, .fd = fd), 0);
    CHECK_EQ(IO(.op = SEA__IO_FDATASYNC, .fd = fd), 0);
    close(fd);
    return sea_ready();
}

FIBER_CASE(t_read_past_end) {
    int fd = temp_file(0);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "abc", 3), 3);
    char b[8];
    CHECK_EQ(IO(.op = SEA__IO_READ, .fd = fd, .buf = b, .len = sizeof(b), .offset = 3), 0);
    CHECK_EQ(IO(.op = SEA__IO_READ, .fd = fd, .buf = b, .len = sizeof(b), .offset = 1 << 20), 0);
    /* Across the end: what there is. */
    CHECK_EQ(IO(.op = SEA__IO_READ, .fd = fd, .buf = b, .len = sizeof(b), .offset = 1), 2);
    CHECK_EQ(memcmp(b, "bc", 2), 0);
    close(fd);
    return sea_ready();
}

FIBER_CASE(t_bad_fd) {
    /* A closed descriptor and -1: every operation fails with -EBADF, its message naming it. */
    int closed = temp_file(0);
    CHECK(closed >= 0);
    close(closed);
    char b[8];
    struct iovec v = {b, sizeof(b)};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fds[] = {closed, -1};
    for (size_t i = 0; i < 2; i++) {
        int fd = fds[i];
        char msg[64];
        snprintf(msg, sizeof(msg), "read on fd %d failed", fd);
        IO_FAILS(-EBADF, msg, .op = SEA__IO_READ, .fd = fd, .buf = b, .len = sizeof(b));
        snprintf(msg, sizeof(msg), "write on fd %d failed", fd);
        IO_FAILS(-EBADF, msg, .op = SEA__IO_WRITE, .fd = fd, .buf = b, .len = sizeof(b));
        IO_FAILS(-EBADF, "readv on fd", .op = SEA__IO_READV, .fd = fd, .buf = &v, .len = 1);
        IO_FAILS(-EBADF, "writev on fd", .op = SEA__IO_WRITEV, .fd = fd, .buf = &v, .len = 1);
        IO_FAILS(-EBADF, "fsync on fd", .op = SEA__IO_FSYNC, .fd = fd);
        IO_FAILS(-EBADF, "fdatasync on fd", .op = SEA__IO_FDATASYNC, .fd = fd);
        snprintf(msg, sizeof(msg), "receive on fd %d failed", fd);
        IO_FAILS(-EBADF, msg, .op = SEA__IO_RECV, .fd = fd, .buf = b, .len = sizeof(b));
        IO_FAILS(-EBADF, "send on fd", .op = SEA__IO_SEND, .fd = fd, .buf = b, .len = sizeof(b));
        IO_FAILS(-EBADF, "accept on fd", .op = SEA__IO_ACCEPT, .fd = fd);
        IO_FAILS(-EBADF, "connect on fd", .op = SEA__IO_CONNECT, .fd = fd, .buf = &a, .len = sizeof(a));
        IO_FAILS(-EBADF, "poll on fd", .op = SEA__IO_POLL, .fd = fd, .events = POLLIN);
    }
    /* Not a socket: the kernel says so, on both backends. */
    int f = temp_file(0);
    IO_FAILS(-ENOTSOCK, "receive on fd", .op = SEA__IO_RECV, .fd = f, .buf = b, .len = sizeof(b));
    IO_FAILS(-ENOTSOCK, "accept on fd", .op = SEA__IO_ACCEPT, .fd = f);
    close(f);
    return sea_ready();
}

/* 1,000 reads at once: four times what the io_uring submission ring holds. */
#define MANY 1000
#define MANY_LEN 16
FIBER_CASE(t_thousand_reads) {
    int fd = temp_file(0);
    CHECK(fd >= 0);
    static unsigned char content[4096];
    fill(content, sizeof(content), 11);
    CHECK_EQ(pwrite(fd, content, sizeof(content), 0), (ssize_t)sizeof(content));
    static unsigned char bufs[MANY][MANY_LEN];
    static sea_future fs[MANY];
    memset(bufs, 0, sizeof(bufs));
    sea_abort_source as;
    sea_timer t;
    sea_abort_source_init(&as);
    sea_timer_init(&t, deadline_fired, &as);
    sea_timer_arm(&t, LIMIT);
    for (int i = 0; i < MANY; i++) {
        /* Offsets all over the file; the last ones cross its end. */
        uint64_t off = (uint64_t)(i * 37) % 4096;
        fs[i] = sea__io_submit(&(struct sea__io){.op = SEA__IO_READ, .fd = fd, .buf = bufs[i], .len = MANY_LEN,
                                                 .offset = off},
                               &as);
    }
    int bad = 0;
    for (int i = 0; i < MANY; i++) {
        uint64_t off = (uint64_t)(i * 37) % 4096;
        int64_t want = off + MANY_LEN <= 4096 ? MANY_LEN : (int64_t)(4096 - off);
        sea_value v = {0};
        int err = sea_test_await_err(fs[i], &v);
        if (err || (int64_t)v.u != want || memcmp(bufs[i], content + off, (size_t)want) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "  read %d at %llu: err %s, %llu bytes (want %lld)\n", i, (unsigned long long)off,
                        sea_errname(err), (unsigned long long)v.u, (long long)want);
        }
    }
    sea_timer_cancel(&t);
    CHECK_EQ(bad, 0);
    close(fd);
    return sea_ready();
}

/* ---- sockets ---- */

FIBER_CASE(t_accept) {
    struct sockaddr_in a;
    int l = listen_loopback(&a, SOCK_NONBLOCK);
    /* A blocking connect to a loopback listener completes in the kernel, without our accept. */
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_EQ(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    int64_t s = IO(.op = SEA__IO_ACCEPT, .fd = l, .flags = SOCK_NONBLOCK | SOCK_CLOEXEC);
    CHECK(s >= 0);
    if (s >= 0) {
        CHECK(fcntl((int)s, F_GETFL) & O_NONBLOCK);
        CHECK(fcntl((int)s, F_GETFD) & FD_CLOEXEC);
        /* It is the client's connection. */
        struct sockaddr_in mine, peer;
        socklen_t ml = sizeof(mine), pl = sizeof(peer);
        CHECK_EQ(getsockname(c, (struct sockaddr *)&mine, &ml), 0);
        CHECK_EQ(getpeername((int)s, (struct sockaddr *)&peer, &pl), 0);
        CHECK_EQ(peer.sin_port, mine.sin_port);
        CHECK_EQ(write(c, "hi", 2), 2);
        char b[4] = {0};
        CHECK_EQ(IO(.op = SEA__IO_RECV, .fd = (int)s, .buf = b, .len = sizeof(b)), 2);
        CHECK_STREQ(b, "hi");
        close((int)s);
    }
    /* Flags 0: a blocking, inheritable descriptor. */
    int c2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_EQ(connect(c2, (struct sockaddr *)&a, sizeof(a)), 0);
    int64_t s2 = IO(.op = SEA__IO_ACCEPT, .fd = l);
    CHECK(s2 >= 0);
    if (s2 >= 0) {
        CHECK(!(fcntl((int)s2, F_GETFL) & O_NONBLOCK));
        CHECK(!(fcntl((int)s2, F_GETFD) & FD_CLOEXEC));
        close((int)s2);
    }
    close(c);
    close(c2);
    close(l);
    return sea_ready();
}

FIBER_CASE(t_accept_waits) {
    /* The accept is pending first; the connection comes after (also on a blocking listener). */
    for (int blocking = 0; blocking < 2; blocking++) {
        struct sockaddr_in a;
        int l = listen_loopback(&a, blocking ? 0 : SOCK_NONBLOCK);
        sea_future acc =
            sea__io_submit(&(struct sea__io){.op = SEA__IO_ACCEPT, .fd = l, .flags = SOCK_CLOEXEC}, NULL);
        turn();
        CHECK(!sea_future_available(&acc));
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK_EQ(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
        int64_t s = wait_for(acc, NULL, NULL, 0);
        CHECK(s >= 0);
        if (s >= 0)
            close((int)s);
        close(c);
        close(l);
    }
    return sea_ready();
}

FIBER_CASE(t_connect) {
    struct sockaddr_in a;
    int l = listen_loopback(&a, SOCK_NONBLOCK);
    /* Non-blocking (the usual case: in progress, then done) and blocking clients. */
    for (int blocking = 0; blocking < 2; blocking++) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
        CHECK_EQ(IO(.op = SEA__IO_CONNECT, .fd = c, .buf = &a, .len = sizeof(a)), 0);
        /* The peer sees it: the listener has the connection, from the client's address. */
        int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        CHECK(s >= 0);
        struct sockaddr_in mine, peer;
        socklen_t ml = sizeof(mine), pl = sizeof(peer);
        CHECK_EQ(getsockname(c, (struct sockaddr *)&mine, &ml), 0);
        CHECK_EQ(getpeername(s, (struct sockaddr *)&peer, &pl), 0);
        CHECK_EQ(peer.sin_port, mine.sin_port);
        CHECK_EQ(IO(.op = SEA__IO_SEND, .fd = c, .buf = "yo", .len = 2), 2);
        char b[4] = {0};
        CHECK_EQ(read(s, b, sizeof(b)), 2);
        CHECK_STREQ(b, "yo");
        /* Connecting again: the kernel's -EISCONN. */
        IO_FAILS(-EISCONN, "connect on fd", .op = SEA__IO_CONNECT, .fd = c, .buf = &a, .len = sizeof(a));
        close(s);
        close(c);
    }
    /* A Unix socket connects at once. */
    int ul = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un ua = {.sun_family = AF_UNIX};
    snprintf(ua.sun_path + 1, sizeof(ua.sun_path) - 1, "sea_test_io_%d", (int)getpid()); /* abstract */
    socklen_t ualen = (socklen_t)(sizeof(sa_family_t) + 1 + strlen(ua.sun_path + 1));
    CHECK_EQ(bind(ul, (struct sockaddr *)&ua, ualen), 0);
    CHECK_EQ(listen(ul, 4), 0);
    int uc = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    CHECK_EQ(IO(.op = SEA__IO_CONNECT, .fd = uc, .buf = &ua, .len = ualen), 0);
    close(uc);
    close(ul);
    close(l);
    return sea_ready();
}

FIBER_CASE(t_connect_refused) {
    /* A port bound but not listening (and kept bound, so nobody else takes it): refused. */
    for (int blocking = 0; blocking < 2; blocking++) {
        int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        CHECK_EQ(bind(b, (struct sockaddr *)&a, sizeof(a)), 0);
        socklen_t len = sizeof(a);
        CHECK_EQ(getsockname(b, (struct sockaddr *)&a, &len), 0);
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
        char msg[64];
        snprintf(msg, sizeof(msg), "connect on fd %d failed", c);
        IO_FAILS(-ECONNREFUSED, msg, .op = SEA__IO_CONNECT, .fd = c, .buf = &a, .len = sizeof(a));
        /* The socket is left unconnected, free to try again (as a failed connect(2) leaves it). */
        CHECK_EQ(listen(b, 4), 0);
        CHECK_EQ(IO(.op = SEA__IO_CONNECT, .fd = c, .buf = &a, .len = sizeof(a)), 0);
        close(c);
        close(b);
    }
    return sea_ready();
}

FIBER_CASE(t_recv_send) {
    int sv[2];
    make_socketpair(sv);
    CHECK_EQ(IO(.op = SEA__IO_SEND, .fd = sv[0], .buf = "ping", .len = 4), 4);
    char b[16] = {0};
    CHECK_EQ(IO(.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)), 4);
    CHECK_STREQ(b, "ping");
    /* A receive waiting before the data comes. */
    memset(b, 0, sizeof(b));
    sea_future r = sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)}, NULL);
    turn();
    CHECK(!sea_future_available(&r));
    CHECK_EQ(IO(.op = SEA__IO_SEND, .fd = sv[0], .buf = "pong", .len = 4), 4);
    CHECK_EQ(wait_for(r, NULL, NULL, 0), 4);
    CHECK_STREQ(b, "pong");
    /* MSG_PEEK leaves the data where it is. */
    CHECK_EQ(write(sv[0], "xyz", 3), 3);
    memset(b, 0, sizeof(b));
    CHECK_EQ(IO(.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b), .flags = MSG_PEEK), 3);
    CHECK_EQ(IO(.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)), 3);
    CHECK_STREQ(b, "xyz");
    /* End of stream: 0. */
    shutdown(sv[0], SHUT_WR);
    CHECK_EQ(IO(.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)), 0);
    close(sv[0]);
    close(sv[1]);
    return sea_ready();
}

FIBER_CASE(t_waitall) {
    /* MSG_WAITALL on a stream: the whole length, across several arrivals (the kernel's io_uring behaviour). */
    int sv[2];
    make_socketpair(sv);
    char b[9] = {0};
    sea_future r = sea__io_submit(
        &(struct sea__io){.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = 8, .flags = MSG_WAITALL}, NULL);
    CHECK_EQ(write(sv[0], "abc", 3), 3);
    turn();
    turn();
    CHECK(!sea_future_available(&r));
    CHECK_EQ(write(sv[0], "defgh", 5), 5);
    CHECK_EQ(wait_for(r, NULL, NULL, 0), 8);
    CHECK_STREQ(b, "abcdefgh");
    /* The stream ends after part of it: that part. */
    memset(b, 0, sizeof(b));
    r = sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = 8, .flags = MSG_WAITALL},
                       NULL);
    CHECK_EQ(write(sv[0], "xy", 2), 2);
    turn();
    shutdown(sv[0], SHUT_WR);
    CHECK_EQ(wait_for(r, NULL, NULL, 0), 2);
    CHECK_STREQ(b, "xy");
    close(sv[0]);
    close(sv[1]);
    return sea_ready();
}

FIBER_CASE(t_recv_huge_length) {
    /*
     * A length past 32 bits is a legal request (the kernel caps a transfer at
     * about 2 GiB): it must receive what is there, not have its length
     * wrapped (exactly 4 GiB would wrap to 0 and read as the end of stream).
     */
    int sv[2];
    make_socketpair(sv);
    static char b[16];
    const size_t huge[] = {(size_t)1 << 32, ((size_t)1 << 32) + 2, SIZE_MAX / 2};
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        memset(b, 0, sizeof(b));
        CHECK_EQ(write(sv[0], "abc", 3), 3);
        CHECK_EQ(IO(.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = huge[i]), 3);
        CHECK_STREQ(b, "abc");
    }
    close(sv[0]);
    close(sv[1]);
    return sea_ready();
}

FIBER_CASE(t_send_to_closed_peer) {
    /* -EPIPE, and no SIGPIPE (io_uring adds MSG_NOSIGNAL; so does epoll). */
    int sv[2];
    make_socketpair(sv);
    close(sv[1]);
    IO_FAILS(-EPIPE, "send on fd", .op = SEA__IO_SEND, .fd = sv[0], .buf = "x", .len = 1);
    close(sv[0]);
    return sea_ready();
}

FIBER_CASE(t_recv_on_sticky_descriptor) {
    /*
     * A descriptor sea owns and polls "sticky" (on epoll: registered once,
     * edge-triggered, as sea's sockets are): receives on it see data whose
     * edge a poll has taken already, and still wait for new data.
     */
    int sv[2];
    make_socketpair(sv);
    CHECK_EQ(write(sv[0], "one", 3), 3);
    CHECK_EQ(wait_for(sea__io_poll_sticky(sv[1], POLLIN), NULL, NULL, 0), POLLIN);
    char b[8] = {0};
    CHECK_EQ(IO(.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)), 3);
    CHECK_STREQ(b, "one");
    memset(b, 0, sizeof(b));
    sea_future r = sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)}, NULL);
    turn();
    CHECK(!sea_future_available(&r));
    CHECK_EQ(write(sv[0], "two", 3), 3);
    CHECK_EQ(wait_for(r, NULL, NULL, 0), 3);
    CHECK_STREQ(b, "two");
    /* Cancelling one there works as anywhere else. */
    sea_abort_source as;
    sea_abort_source_init(&as);
    r = sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)}, &as);
    turn();
    sea_abort_source_request(&as, 0);
    CHECK_EQ(wait_for(r, NULL, NULL, 0), SEA_ECANCELED);
    sea__io_forget(sv[1]);
    close(sv[0]);
    close(sv[1]);
    return sea_ready();
}

/* ---- cancelling ---- */

FIBER_CASE(t_cancel_recv) {
    int sv[2];
    make_socketpair(sv);
    static char b[16];
    sea_abort_source as;
    sea_abort_source_init(&as);
    sea_future r = sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)}, &as);
    turn(); /* in the kernel now */
    CHECK(!sea_future_available(&r));
    sea_abort_source_request(&as, 0);
    char msg[128], want[64];
    const char *m;
    CHECK_EQ(wait_for(r, &m, msg, sizeof(msg)), SEA_ECANCELED);
    snprintf(want, sizeof(want), "receive on fd %d cancelled", sv[1]);
    CHECK_STREQ(m, want);
    /* The socket still works: a new receive gets what comes next (and the old one took nothing). */
    memset(b, 0, sizeof(b));
    sea_future r2 =
        sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)}, NULL);
    CHECK_EQ(write(sv[0], "after", 5), 5);
    CHECK_EQ(wait_for(r2, NULL, NULL, 0), 5);
    CHECK_STREQ(b, "after");
    close(sv[0]);
    close(sv[1]);
    return sea_ready();
}

FIBER_CASE(t_cancel_at_once) {
    /* Aborted in the same loop turn as submitted: on io_uring the cancel follows the request in one batch. */
    int sv[2];
    make_socketpair(sv);
    static char b[16];
    for (int i = 0; i < 50; i++) {
        sea_abort_source as;
        sea_abort_source_init(&as);
        sea_future r =
            sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)}, &as);
        sea_abort_source_request(&as, 0);
        CHECK_EQ(wait_for(r, NULL, NULL, 0), SEA_ECANCELED);
    }
    CHECK_EQ(write(sv[0], "ok", 2), 2);
    CHECK_EQ(IO(.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)), 2);
    close(sv[0]);
    close(sv[1]);
    return sea_ready();
}

FIBER_CASE(t_cancel_races_completion) {
    /*
     * Data already there, and the abort right after the submission: the
     * request ends exactly once, either with the data (it finished first:
     * io_uring receives inline) or cancelled (epoll was still waiting), and
     * in that case the data is still there for the next receive.
     */
    int sv[2];
    make_socketpair(sv);
    static char b[16];
    int got = 0, cancelled = 0;
    for (int i = 0; i < 50; i++) {
        CHECK_EQ(write(sv[0], "d", 1), 1);
        sea_abort_source as;
        sea_abort_source_init(&as);
        memset(b, 0, sizeof(b));
        sea_future r =
            sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)}, &as);
        sea_abort_source_request(&as, 0);
        int64_t v = wait_for(r, NULL, NULL, 0);
        if (v == 1) {
            CHECK_EQ(b[0], 'd');
            got++;
        } else {
            CHECK_EQ(v, SEA_ECANCELED);
            cancelled++;
            CHECK_EQ(IO(.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)), 1);
        }
        turn(); /* a late second completion would show up here (and crash or leak under ASan) */
    }
    printf("  %d received first, %d cancelled first\n", got, cancelled);
    CHECK_EQ(got + cancelled, 50);
    /* Nothing is left over: every byte was received exactly once. */
    CHECK_EQ(recv(sv[1], b, sizeof(b), MSG_DONTWAIT), -1);
    close(sv[0]);
    close(sv[1]);
    return sea_ready();
}

/* More requests, and then their cancels, than the io_uring submission ring holds. */
#define CROWD 300
FIBER_CASE(t_cancel_crowd) {
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    static sea_future fs[CROWD];
    for (int round = 0; round < 3; round++) {
        sea_abort_source as;
        sea_abort_source_init(&as);
        for (int i = 0; i < CROWD; i++)
            fs[i] = sea__io_submit(&(struct sea__io){.op = SEA__IO_POLL, .fd = p[0], .events = POLLIN}, &as);
        /* Round 0: aborted in the same turn; 1: once in the kernel; 2: and the pipe becomes readable meanwhile. */
        if (round > 0)
            turn();
        sea_abort_source_request(&as, 0);
        if (round == 2)
            CHECK_EQ(write(p[1], "x", 1), 1);
        int cancelled = 0, ready = 0;
        for (int i = 0; i < CROWD; i++) {
            int64_t v = wait_for(fs[i], NULL, NULL, 0);
            if (v == SEA_ECANCELED)
                cancelled++;
            else if (v == POLLIN)
                ready++;
            else
                CHECK_EQ(v, SEA_ECANCELED);
        }
        CHECK_EQ(cancelled + ready, CROWD);
        if (round < 2)
            CHECK_EQ(ready, 0);
        turn();
    }
    close(p[0]);
    close(p[1]);
    return sea_ready();
}

FIBER_CASE(t_cancel_after_completion) {
    /* An abort after the request ended does nothing (the subscription went with it). */
    int sv[2];
    make_socketpair(sv);
    char b[4];
    sea_abort_source as;
    sea_abort_source_init(&as);
    CHECK_EQ(write(sv[0], "z", 1), 1);
    sea_future r = sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = sv[1], .buf = b, .len = sizeof(b)}, &as);
    CHECK_EQ(wait_for(r, NULL, NULL, 0), 1);
    sea_abort_source_request(&as, 0);
    turn();
    close(sv[0]);
    close(sv[1]);
    return sea_ready();
}

FIBER_CASE(t_cancel_poll) {
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    sea_abort_source as;
    sea_abort_source_init(&as);
    sea_future f = sea__io_submit(&(struct sea__io){.op = SEA__IO_POLL, .fd = p[0], .events = POLLIN}, &as);
    turn();
    CHECK(!sea_future_available(&f));
    sea_abort_source_request(&as, 0);
    char msg[128], want[64];
    const char *m;
    CHECK_EQ(wait_for(f, &m, msg, sizeof(msg)), SEA_ECANCELED);
    snprintf(want, sizeof(want), "poll on fd %d cancelled", p[0]);
    CHECK_STREQ(m, want);
    /* Polling again works. */
    sea_future f2 = sea__io_submit(&(struct sea__io){.op = SEA__IO_POLL, .fd = p[0], .events = POLLIN}, NULL);
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(wait_for(f2, NULL, NULL, 0), POLLIN);
    close(p[0]);
    close(p[1]);
    return sea_ready();
}

FIBER_CASE(t_cancel_accept) {
    struct sockaddr_in a;
    int l = listen_loopback(&a, SOCK_NONBLOCK);
    sea_abort_source as;
    sea_abort_source_init(&as);
    sea_future f = sea__io_submit(&(struct sea__io){.op = SEA__IO_ACCEPT, .fd = l, .flags = SOCK_CLOEXEC}, &as);
    turn();
    CHECK(!sea_future_available(&f));
    sea_abort_source_request(&as, 0);
    CHECK_EQ(wait_for(f, NULL, NULL, 0), SEA_ECANCELED);
    /* The listener still accepts. */
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_EQ(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    int64_t s = IO(.op = SEA__IO_ACCEPT, .fd = l, .flags = SOCK_CLOEXEC);
    CHECK(s >= 0);
    if (s >= 0)
        close((int)s);
    close(c);
    close(l);
    return sea_ready();
}

FIBER_CASE(t_abort_before_submit) {
    sea_abort_source as;
    sea_abort_source_init(&as);
    sea_abort_source_request(&as, 0);
    char b[4];
    sea_future f = sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = 0, .buf = b, .len = sizeof(b)}, &as);
    CHECK(sea_future_available(&f));
    CHECK_EQ(sea_future_error(&f), SEA_ECANCELED);
    CHECK_CONTAINS(sea_future_message(&f), "receive on fd 0 cancelled");
    sea_future_detach(f);
    /* A file operation too: it is not made at all. */
    int fd = temp_file(0);
    f = sea__io_submit(&(struct sea__io){.op = SEA__IO_WRITE, .fd = fd, .buf = "x", .len = 1}, &as);
    CHECK(sea_future_available(&f));
    CHECK_EQ(sea_future_error(&f), SEA_ECANCELED);
    sea_future_detach(f);
    struct stat st;
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 0);
    close(fd);
    return sea_ready();
}

FIBER_CASE(t_pending_then_cancelled_and_closed) {
    /* Several kinds of request pending on one socket, cancelled together, then the descriptors closed. */
    int sv[2];
    make_socketpair(sv);
    /* Fill sv[0]'s send buffer so that a send waits too. */
    static char chunk[65536];
    while (send(sv[0], chunk, sizeof(chunk), MSG_DONTWAIT) > 0)
        ;
    static char b[16];
    sea_abort_source as;
    sea_abort_source_init(&as);
    sea_future f[3];
    f[0] = sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = sv[0], .buf = b, .len = sizeof(b)}, &as);
    f[1] = sea__io_submit(&(struct sea__io){.op = SEA__IO_SEND, .fd = sv[0], .buf = chunk, .len = sizeof(chunk)}, &as);
    f[2] = sea__io_submit(&(struct sea__io){.op = SEA__IO_POLL, .fd = sv[0], .events = POLLIN}, &as);
    turn();
    for (int i = 0; i < 3; i++)
        CHECK(!sea_future_available(&f[i]));
    sea_abort_source_request(&as, 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(wait_for(f[i], NULL, NULL, 0), SEA_ECANCELED);
    close(sv[0]);
    close(sv[1]);
    return sea_ready();
}

static int left_sv[2], left_listener;
FIBER_CASE(t_left_pending_at_exit) {
    /* Never resolved: the reactor frees them when the program ends (ASan: no leak, no use after free). */
    make_socketpair(left_sv);
    struct sockaddr_in a;
    left_listener = listen_loopback(&a, SOCK_NONBLOCK);
    static char b[16];
    sea_future_detach(
        sea__io_submit(&(struct sea__io){.op = SEA__IO_RECV, .fd = left_sv[0], .buf = b, .len = sizeof(b)}, NULL));
    sea_future_detach(
        sea__io_submit(&(struct sea__io){.op = SEA__IO_ACCEPT, .fd = left_listener, .flags = SOCK_CLOEXEC}, NULL));
    sea_future_detach(sea__io_submit(&(struct sea__io){.op = SEA__IO_POLL, .fd = left_sv[1], .events = POLLIN}, NULL));
    /* The descriptors stay open until exit. */
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_write_read_at_offset),
    SEA_TEST(t_file_position),
    SEA_TEST(t_o_direct),
    SEA_TEST(t_readv_writev),
    SEA_TEST(t_fsync),
    SEA_TEST(t_read_past_end),
    SEA_TEST(t_bad_fd),
    SEA_TEST(t_thousand_reads),
    SEA_TEST(t_accept),
    SEA_TEST(t_accept_waits),
    SEA_TEST(t_connect),
    SEA_TEST(t_connect_refused),
    SEA_TEST(t_recv_send),
    SEA_TEST(t_waitall),
    SEA_TEST(t_recv_huge_length),
    SEA_TEST(t_send_to_closed_peer),
    SEA_TEST(t_recv_on_sticky_descriptor),
    SEA_TEST(t_cancel_recv),
    SEA_TEST(t_cancel_at_once),
    SEA_TEST(t_cancel_races_completion),
    SEA_TEST(t_cancel_crowd),
    SEA_TEST(t_cancel_after_completion),
    SEA_TEST(t_cancel_poll),
    SEA_TEST(t_cancel_accept),
    SEA_TEST(t_abort_before_submit),
    SEA_TEST(t_pending_then_cancelled_and_closed),
    SEA_TEST(t_left_pending_at_exit),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
