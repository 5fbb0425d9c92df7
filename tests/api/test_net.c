/*
 * test_net.c - sockets (sea/net.h), over loopback, against real client
 * processes.
 *
 * Addresses: every accepted form, bad ones refused, formatting round trips,
 * a fuzz.  An echo server in a fiber serves a forked client that writes 8 MiB
 * in random-sized pieces, half-closes, and checks what comes back
 * (partial reads and writes on both sides); the same over IPv6, a Unix path
 * and an abstract Unix socket.  Connecting to a closed port fails with
 * -ECONNREFUSED; a connect that cannot complete times out; a peer that resets
 * the connection gives a clean error to the reader and the writer, no
 * SIGPIPE; closing a socket or a listener fails what is pending on it with
 * SEA_ECANCELED; two reads at once are refused; a dropped accepted socket is
 * closed (the client sees end of stream).
 */
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ---- */

/* In a fiber: waits (without blocking the reactor) for child pid to exit; returns its wait status. */
static int await_child(pid_t pid) {
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
        sea_future_detach(sea_await(sea_fd_poll(pfd, POLLIN)));
        close(pfd);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    return status;
}

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* The client process: connect (blocking), write total bytes in random pieces while reading the echo. */
static int echo_client(const sea_addr *a, size_t total) {
    int fd = socket(a->u.sa.sa_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, &a->u.sa, a->len) < 0)
        return 2;
    static unsigned char out[65536], in[65536];
    uint64_t rng = 12345;
    uint32_t sent_h = 2166136261u, recv_h = 2166136261u;
    size_t sent = 0, got = 0;
    while (got < total) {
        struct pollfd p = {fd, (short)(POLLIN | (sent < total ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 10000) <= 0)
            return 3;
        if ((p.revents & POLLOUT) && sent < total) {
            size_t n = 1 + sea_test_rand(&rng) % sizeof(out);
            if (n > total - sent)
                n = total - sent;
            for (size_t i = 0; i < n; i++)
                out[i] = (unsigned char)(sent + i);
            ssize_t w = send(fd, out, n, MSG_DONTWAIT);
            if (w > 0) {
                sent_h = fnv(sent_h, out, (size_t)w);
                sent += (size_t)w;
                if (sent == total)
                    shutdown(fd, SHUT_WR);
            }
        }
        if (p.revents & (POLLIN | POLLHUP)) {
            ssize_t r = recv(fd, in, 1 + sea_test_rand(&rng) % sizeof(in), MSG_DONTWAIT);
            if (r == 0)
                break;
            if (r > 0) {
                recv_h = fnv(recv_h, in, (size_t)r);
                got += (size_t)r;
            }
        }
    }
    /* After the echo, the server closes: end of stream. */
    char c;
    ssize_t end = recv(fd, &c, 1, 0);
    close(fd);
    return got == total && sent_h == recv_h && end == 0 ? 0 : 4;
}

/* The server side of one connection: echo until end of stream, then close. */
static sea_future echo_fiber(sea_socket **sp) {
    sea_socket *s = *sp;
    static char buf[16384];
    size_t total = 0;
    for (;;) {
        sea_value v;
        int err = sea_test_await_err(sea_socket_read(s, buf, 1 + total % sizeof(buf)), &v);
        if (err || v.size == 0) {
            sea_socket_close(s);
            return err ? sea_failed(err, "echo read") : sea_ready_size(total);
        }
        err = sea_test_await_err(sea_socket_write(s, buf, v.size), NULL);
        if (err) {
            sea_socket_close(s);
            return sea_failed(err, "echo write");
        }
        total += v.size;
    }
}

/* Listens on text's address, serves one echo client process, checks both ends. */
static void echo_round(const char *text, size_t total) {
    sea_addr a;
    CHECK_EQ(sea_addr_parse(text, &a), 0);
    if (a.u.sa.sa_family == AF_UNIX && a.u.un.sun_path[0])
        unlink(a.u.un.sun_path);
    sea_listener *l;
    int rc = sea_listen(&a, NULL, &l);
    CHECK_EQ(rc, 0);
    if (rc)
        return;
    sea_addr bound = sea_listener_addr(l);
    pid_t pid = fork();
    if (pid == 0)
        _exit(echo_client(&bound, total));
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_accept(l), &v), 0);
    sea_socket *s = v.ptr;
    char peer[128];
    sea_addr pa = sea_socket_peer(s);
    sea_addr_format(&pa, peer, sizeof(peer));
    CHECK(a.u.sa.sa_family == AF_UNIX || strncmp(peer, text[0] == '[' ? "[::1]:" : "127.0.0.1:", 6) == 0);
    sea_value served;
    CHECK_EQ(sea_test_await_err(sea_fiber_start(echo_fiber, s), &served), 0);
    CHECK_EQ(served.size, total);
    int status = await_child(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        fprintf(stderr, "  %s: client status 0x%x\n", text, status);
    sea_listener_close(l);
    if (a.u.sa.sa_family == AF_UNIX && a.u.un.sun_path[0])
        unlink(a.u.un.sun_path);
}

/* ---- cases ---- */

static sea_future t_addresses(void) {
    static const char *const good[] = {"127.0.0.1:1234", "0.0.0.0:0", "[::1]:80", "[::]:65535",
                                       "unix:/tmp/x.sock", "unix:@abstract", "10.1.2.3:1"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        sea_addr a;
        CHECK_EQ(sea_addr_parse(good[i], &a), 0);
        char back[128];
        sea_addr_format(&a, back, sizeof(back));
        CHECK_STREQ(back, good[i]);
    }
    sea_addr a;
    sea_addr_parse("[::1]:8080", &a);
    CHECK_EQ(sea_addr_port(&a), 8080);
    static const char *const bad[] = {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                                      "127.0.0.1:1x", "localhost:80", "::1:80", "[::1]80", "[::1]:", "[zz]:1",
                                      "unix:", "unix:@", "1.2.3.4.5:6", ":80", "[::1:80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sea_addr_parse(bad[i], &a) != -EINVAL) {
            fprintf(stderr, "  \"%s\" accepted\n", bad[i]);
            sea_test_failures++;
        }
    char longpath[200];
    memset(longpath, 'a', sizeof(longpath));
    memcpy(longpath, "unix:/", 6);
    longpath[sizeof(longpath) - 1] = '\0';
    CHECK_EQ(sea_addr_parse(longpath, &a), -EINVAL);
    CHECK_EQ(sea_addr_parse(NULL, &a), -EINVAL);
    /* Fuzz: whatever parses formats back to something that parses to the same address. */
    static const char *const frag[] = {"1", "0", "255", "256", ".", ":", "[", "]", "::", "unix:", "@", "/", "a", "9"};
    uint64_t rng = 7;
    int parsed = 0;
    for (int iter = 0; iter < 100000; iter++) {
        char buf[64];
        size_t len = 0;
        int n = 1 + (int)(sea_test_rand(&rng) % 12);
        for (int k = 0; k < n; k++) {
            const char *f = frag[sea_test_rand(&rng) % (sizeof(frag) / sizeof(frag[0]))];
            size_t fl = strlen(f);
            if (len + fl >= sizeof(buf))
                break;
            memcpy(buf + len, f, fl);
            len += fl;
        }
        buf[len] = '\0';
        if (sea_addr_parse(buf, &a) == 0) {
            parsed++;
            char out[128];
            sea_addr b;
            sea_addr_format(&a, out, sizeof(out));
            CHECK_EQ(sea_addr_parse(out, &b), 0);
            CHECK(a.len == b.len && memcmp(&a.u, &b.u, a.len) == 0);
        }
    }
    CHECK(parsed > 100);
    return sea_ready();
}

/* 1 GiB through the echo server, checksummed (64 MiB under the sanitizers, which are ~10x slower). */
FIBER_CASE(t_echo_tcp) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    echo_round("127.0.0.1:0", 64u << 20);
#else
    echo_round("127.0.0.1:0", 1u << 30);
#endif
    return sea_ready();
}

FIBER_CASE(t_echo_ipv6_and_unix) {
    echo_round("[::1]:0", 1u << 20);
    char path[64];
    snprintf(path, sizeof(path), "unix:/tmp/sea-test-%d.sock", (int)getpid());
    echo_round(path, 1u << 20);
    snprintf(path, sizeof(path), "unix:@sea-test-%d", (int)getpid());
    echo_round(path, 1u << 20);
    return sea_ready();
}

FIBER_CASE(t_connect_refused_and_timeout) {
    /* A port nobody listens on: bind one, note it, close it. */
    sea_addr a;
    sea_addr_parse("127.0.0.1:0", &a);
    sea_listener *l;
    CHECK_EQ(sea_listen(&a, NULL, &l), 0);
    sea_addr closed = sea_listener_addr(l);
    sea_listener_close(l);
    sea_future r = sea_await(sea_connect(&closed, SEA_SEC(5)));
    CHECK_EQ(sea_future_error(&r), -ECONNREFUSED);
    sea_future_detach(r);
    /* A listener that never accepts, with a full queue: the next connect cannot complete. */
    sea_listen_options small = {.backlog = 1};
    CHECK_EQ(sea_listen(&a, &small, &l), 0);
    sea_addr full = sea_listener_addr(l);
    sea_future fill[4];
    for (int i = 0; i < 4; i++)
        fill[i] = sea_connect(&full, SEA_MSEC(200));
    sea_future_detach(sea_await(sea_when_all(fill, 4)));
    int timeouts = 0;
    for (int i = 0; i < 4; i++) {
        if (sea_future_failed(&fill[i]))
            timeouts += sea_future_error(&fill[i]) == -ETIMEDOUT;
        sea_future_detach(sea_future_move(&fill[i])); /* drops (closes) the connected ones */
    }
    CHECK(timeouts >= 1);
    sea_listener_close(l);
    return sea_ready();
}

/* In a client process: a TCP socket connected to a (rcvbuf > 0: with that receive buffer), or exit 2. */
static int client_connect(const sea_addr *a, int rcvbuf) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (connect(fd, &a->u.sa, a->len) < 0)
        _exit(2);
    return fd;
}

static void reset_client(const sea_addr *a) {
    int fd = client_connect(a, 0);
    send(fd, "hello", 5, 0);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    usleep(20000);
    close(fd); /* RST */
    _exit(0);
}

FIBER_CASE(t_peer_reset) {
    sea_addr a;
    sea_addr_parse("127.0.0.1:0", &a);
    sea_listener *l;
    CHECK_EQ(sea_listen(&a, NULL, &l), 0);
    sea_addr bound = sea_listener_addr(l);
    pid_t pid = fork();
    if (pid == 0)
        reset_client(&bound);
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_accept(l), &v), 0);
    sea_socket *s = v.ptr;
    char buf[64];
    CHECK_EQ(sea_test_await_err(sea_socket_read(s, buf, sizeof(buf)), &v), 0);
    CHECK_EQ(v.size, 5);
    int status = await_child(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The peer reset: reading fails (or ends); writing fails cleanly, without SIGPIPE. */
    int rerr = sea_test_await_err(sea_socket_read(s, buf, sizeof(buf)), &v);
    CHECK(rerr == -ECONNRESET || (rerr == 0 && v.size == 0));
    static char big[1 << 20];
    int werr = 0;
    for (int i = 0; i < 5 && !werr; i++)
        werr = sea_test_await_err(sea_socket_write(s, big, sizeof(big)), NULL);
    CHECK(werr == -EPIPE || werr == -ECONNRESET);
    sea_socket_close(s);
    sea_listener_close(l);
    return sea_ready();
}

/* Reads n bytes from s into buf (in a fiber of its own, beside the sender). */
struct reader {
    sea_socket *s;
    unsigned char *buf;
    size_t n;
};

static sea_future read_n(struct reader *r) {
    size_t got = 0;
    while (got < r->n) {
        size_t k = SEA_AWAIT(sea_socket_read(r->s, r->buf + got, r->n - got)).size;
        if (k == 0)
            break;
        got += k;
    }
    return sea_ready_size(got);
}

/* sea_socket_sendfile: a file's bytes from an offset, and a peer gone without killing the process (SIGPIPE). */
FIBER_CASE(t_sendfile) {
    char path[] = "/tmp/sea-test-sendfile-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return sea_ready();
    unlink(path);
    static unsigned char data[3 << 20], got[3 << 20];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 7 + i / 4096);
    CHECK_EQ(pwrite(fd, data, sizeof(data), 0), (long long)sizeof(data));
    sea_addr a;
    sea_addr_parse("127.0.0.1:0", &a);
    sea_listener *l;
    CHECK_EQ(sea_listen(&a, NULL, &l), 0);
    sea_addr bound = sea_listener_addr(l);
    sea_value v;
    sea_future cf = sea_connect(&bound, SEA_SEC(5));
    CHECK_EQ(sea_test_await_err(sea_accept(l), &v), 0);
    sea_socket *srv = v.ptr;
    CHECK_EQ(sea_test_await_err(cf, &v), 0);
    sea_socket *cli = v.ptr;
    /* 3 MiB less 1000 bytes, more than the socket buffers hold: the sender waits for the reader. */
    size_t n = sizeof(data) - 1000;
    sea_future rf = sea_fiber_start(read_n, ((struct reader){cli, got, n}));
    CHECK_EQ(sea_test_await_err(sea_socket_sendfile(srv, fd, 1000, n), &v), 0);
    CHECK_EQ(v.size, n);
    CHECK_EQ(sea_test_await_err(rf, &v), 0);
    CHECK_EQ(v.size, n);
    CHECK(memcmp(got, data + 1000, n) == 0);
    /* Past the end of the file: -EIO. */
    CHECK_EQ(sea_test_await_err(sea_socket_sendfile(srv, fd, sizeof(data) - 10, 20), NULL), -EIO);
    /* The peer resets: sending fails with -EPIPE or -ECONNRESET, and this process lives. */
    struct linger lg = {1, 0};
    setsockopt(sea_socket_fd(cli), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    sea_socket_close(cli);
    int err = 0;
    for (int i = 0; i < 5 && !err; i++)
        err = sea_test_await_err(sea_socket_sendfile(srv, fd, 0, sizeof(data)), NULL);
    CHECK(err == -EPIPE || err == -ECONNRESET);
    sea_socket_close(srv);
    sea_listener_close(l);
    close(fd);
    return sea_ready();
}

static void silent_client(const sea_addr *a) {
    int fd = client_connect(a, 0);
    /* Expect end of stream: the server dropped the socket without reading. */
    char c;
    ssize_t r = recv(fd, &c, 1, 0);
    _exit(r == 0 ? 0 : 3);
}

FIBER_CASE(t_close_cancels_pending) {
    sea_addr a;
    sea_addr_parse("127.0.0.1:0", &a);
    sea_listener *l;
    CHECK_EQ(sea_listen(&a, NULL, &l), 0);
    sea_addr bound = sea_listener_addr(l);
    /* A pending accept, then the listener closes. */
    sea_future acc = sea_accept(l);
    CHECK(!sea_future_available(&acc));
    sea_future twice = sea_accept(l);
    CHECK_EQ(sea_future_error(&twice), -EBUSY);
    sea_future_detach(twice);
    sea_listener_close(l);
    sea_future r = sea_await(acc);
    CHECK_EQ(sea_future_error(&r), SEA_ECANCELED);
    CHECK_STREQ(sea_future_message(&r), "listener closed");
    sea_future_detach(r);
    /* A pending read, then the socket closes. */
    CHECK_EQ(sea_listen(&a, NULL, &l), 0);
    bound = sea_listener_addr(l);
    pid_t pid = fork();
    if (pid == 0)
        silent_client(&bound);
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_accept(l), &v), 0);
    sea_socket *s = v.ptr;
    char buf[16];
    sea_future rd = sea_socket_read(s, buf, sizeof(buf));
    CHECK(!sea_future_available(&rd));
    sea_future rd2 = sea_socket_read(s, buf, sizeof(buf));
    CHECK_EQ(sea_future_error(&rd2), -EBUSY);
    sea_future_detach(rd2);
    sea_socket_close(s);
    r = sea_await(rd);
    CHECK_EQ(sea_future_error(&r), SEA_ECANCELED);
    sea_future_detach(r);
    int status = await_child(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* An accepted socket whose value is dropped is closed: the client sees end of stream. */
    pid = fork();
    if (pid == 0)
        silent_client(&bound);
    sea_future_detach(sea_await(sea_accept(l)));
    status = await_child(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    sea_listener_close(l);
    /* Listening twice on one port fails clearly. */
    sea_listener *l1, *l2;
    sea_listen_options excl = {.no_reuse_address = true};
    CHECK_EQ(sea_listen(&a, &excl, &l1), 0);
    sea_addr taken = sea_listener_addr(l1);
    CHECK_EQ(sea_listen(&taken, &excl, &l2), -EADDRINUSE);
    sea_listener_close(l1);
    return sea_ready();
}

/*
 * A loopback listener and one client process: client(bound address, fd)
 * runs in the child with the read end of a pipe whose write end goes to
 * *cue (a byte there is the client's cue).  Returns the accepted socket.
 */
struct child_conn {
    sea_listener *l;
    pid_t pid;
    int cue;
};

static sea_socket *accept_child(void (*client)(const sea_addr *, int), struct child_conn *cc) {
    sea_addr a;
    sea_addr_parse("127.0.0.1:0", &a);
    CHECK_EQ(sea_listen(&a, NULL, &cc->l), 0);
    sea_addr bound = sea_listener_addr(cc->l);
    int cue[2];
    CHECK_EQ(pipe(cue), 0);
    cc->pid = fork();
    if (cc->pid == 0) {
        close(cue[1]);
        client(&bound, cue[0]);
    }
    close(cue[0]);
    cc->cue = cue[1];
    sea_value v;
    CHECK_EQ(sea_test_await_err(sea_accept(cc->l), &v), 0);
    return v.ptr;
}

/* Cues the client if it still waits for that, and checks it exits 0. */
static void child_done(struct child_conn *cc, bool cue) {
    if (cue)
        CHECK_EQ(write(cc->cue, "x", 1), 1);
    close(cc->cue);
    int status = await_child(cc->pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    sea_listener_close(cc->l);
}

/* Connects, and waits for its cue without ever reading. */
static void stalled_client(const sea_addr *a, int done_fd) {
    int fd = client_connect(a, 4096);
    (void)fd; /* held open, never read */
    char c;
    if (read(done_fd, &c, 1) != 1)
        _exit(3);
    _exit(0);
}

FIBER_CASE(t_close_cancels_pending_write) {
    struct child_conn cc;
    sea_socket *s = accept_child(stalled_client, &cc);
    /* This end's address comes from the kernel: the listener's. */
    sea_addr local = sea_socket_local(s), bound = sea_listener_addr(cc.l);
    CHECK_EQ(sea_addr_port(&local), sea_addr_port(&bound));
    /* The client never reads: a write far bigger than the socket buffers stays pending... */
    static char big[32 << 20];
    sea_future w = sea_socket_write(s, big, sizeof(big));
    for (int i = 0; i < 10 && !sea_future_available(&w); i++)
        sea_future_detach(sea_await(sea_sleep(SEA_MSEC(5))));
    CHECK(!sea_future_available(&w));
    sea_future w2 = sea_socket_write(s, "x", 1);
    CHECK_EQ(sea_future_error(&w2), -EBUSY);
    sea_future_detach(w2);
    /* A buffer's write refused the same way gives its reference back. */
    sea_buf b;
    CHECK_EQ(sea_buf_copy(&b, "y", 1), 0);
    sea_buf mine = sea_buf_share(&b);
    sea_future w3 = sea_socket_write_buf(s, b);
    CHECK_EQ(sea_future_error(&w3), -EBUSY);
    sea_future_detach(w3);
    CHECK_EQ(sea_buf_refs(&mine), 1);
    sea_buf none;
    CHECK_EQ(sea_socket_try_read_buf(s, 0, &none), -EINVAL); /* no room asked for */
    CHECK(!none.owner);
    /* ...until the socket closes, which cancels it. */
    sea_socket_close(s);
    sea_future w4 = sea_socket_write_buf(s, sea_buf_share(&mine)); /* (closing, not yet freed: refused) */
    CHECK_EQ(sea_future_error(&w4), SEA_ECANCELED);
    sea_future_detach(w4);
    CHECK_EQ(sea_buf_refs(&mine), 1);
    sea_buf_release(&mine);
    sea_future r = sea_await(w);
    CHECK_EQ(sea_future_error(&r), SEA_ECANCELED);
    sea_future_detach(r);
    child_done(&cc, true);
    return sea_ready();
}

/* Connects, waits for the go on a pipe, then sends "hello" and its FIN back to back. */
static void hello_fin_client(const sea_addr *a, int go_fd) {
    int fd = client_connect(a, 0);
    char c;
    if (read(go_fd, &c, 1) != 1)
        _exit(3);
    if (send(fd, "hello", 5, 0) != 5)
        _exit(4);
    shutdown(fd, SHUT_WR);
    char end;
    _exit(recv(fd, &end, 1, 0) == 0 ? 0 : 5);
}

/*
 * Data and the end of stream arrive together while a read waits; the read
 * gets the data (fewer bytes than asked for), and the next read must still
 * see the end although no new readiness event will come for it.
 */
FIBER_CASE(t_end_after_short_read) {
    struct child_conn cc;
    sea_socket *s = accept_child(hello_fin_client, &cc);
    sea_value v;
    char buf[64];
    sea_future rd = sea_socket_read(s, buf, sizeof(buf));
    CHECK(!sea_future_available(&rd));
    /* Let the wait begin, then hold the reactor while both the data and the FIN come in. */
    sea_future_detach(sea_await(sea_yield()));
    CHECK_EQ(write(cc.cue, "x", 1), 1);
    usleep(50000);
    CHECK_EQ(sea_test_await_err(rd, &v), 0);
    CHECK_EQ(v.size, 5);
    CHECK_EQ(sea_test_await_err(sea_with_timeout(sea_socket_read(s, buf, sizeof(buf)), SEA_SEC(5)), &v), 0);
    CHECK_EQ(v.size, 0);
    sea_socket_close(s);
    child_done(&cc, false);
    return sea_ready();
}

FIBER_CASE(t_udp) {
    const char *where[] = {"127.0.0.1:0", "[::1]:0"};
    for (int k = 0; k < 2; k++) {
        sea_addr a;
        sea_addr_parse(where[k], &a);
        sea_socket *x, *y;
        CHECK_EQ(sea_udp_bind(&a, &x), 0);
        CHECK_EQ(sea_udp_bind(&a, &y), 0);
        sea_addr xa = sea_socket_local(x), ya = sea_socket_local(y);
        /* A receive that waits, then the datagram. */
        char buf[64];
        sea_addr from;
        sea_future r = sea_udp_recv(y, buf, sizeof(buf), &from);
        CHECK(!sea_future_available(&r));
        sea_future busy = sea_udp_recv(y, buf, sizeof(buf), NULL);
        CHECK_EQ(sea_future_error(&busy), -EBUSY);
        sea_future_detach(busy);
        sea_value v;
        CHECK_EQ(sea_test_await_err(sea_udp_send(x, &ya, "ping", 4), &v), 0);
        CHECK_EQ(v.size, 4);
        CHECK_EQ(sea_test_await_err(r, &v), 0);
        CHECK(v.size == 4 && memcmp(buf, "ping", 4) == 0);
        char fa[128], xs[128];
        sea_addr_format(&from, fa, sizeof(fa));
        sea_addr_format(&xa, xs, sizeof(xs));
        CHECK_STREQ(fa, xs);
        /* And back; a longer datagram is cut to the buffer. */
        CHECK_EQ(sea_test_await_err(sea_udp_send(y, &from, "a longer reply", 14), NULL), 0);
        CHECK_EQ(sea_test_await_err(sea_udp_recv(x, buf, 8, NULL), &v), 0);
        CHECK(v.size == 8 && memcmp(buf, "a longer", 8) == 0);
        /* Too large for a datagram. */
        static char huge[70000];
        CHECK_EQ(sea_test_await_err(sea_udp_send(x, &ya, huge, sizeof(huge)), NULL), -EMSGSIZE);
        /* Closing cancels a pending receive. */
        r = sea_udp_recv(x, buf, sizeof(buf), NULL);
        sea_socket_close(x);
        CHECK_EQ(sea_test_await_err(r, NULL), SEA_ECANCELED);
        sea_socket_close(y);
    }
    return sea_ready();
}

/* ---- 10,000 connections at once ---- */

#define MANY 10000

/* The client process: opens MANY connections, sends on each, reads each echo, then closes them all. */
static int many_client(const sea_addr *a) {
    static int fds[MANY];
    for (int i = 0; i < MANY; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || connect(fds[i], &a->u.sa, a->len) < 0)
            return 2;
        char msg[16];
        int n = snprintf(msg, sizeof(msg), "%d\n", i);
        if (send(fds[i], msg, (size_t)n, 0) != n)
            return 3;
    }
    /* All open at once now; every one answers. */
    for (int i = 0; i < MANY; i++) {
        char want[16], got[16];
        int n = snprintf(want, sizeof(want), "%d\n", i);
        struct timeval tv = {10, 0};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        ssize_t r = recv(fds[i], got, (size_t)n, MSG_WAITALL);
        if (r != n || memcmp(got, want, (size_t)n) != 0)
            return 4;
    }
    for (int i = 0; i < MANY; i++)
        close(fds[i]);
    return 0;
}

static int open_conns, peak_conns;

struct small_echo {
    sea_socket *s;
    char buf[32];
};

struct echo_ref {
    struct small_echo *e;
};

static sea_future small_echo_step(struct echo_ref *r);

static sea_future small_echo_read(struct echo_ref *r, sea_value v) {
    if (v.size == 0)
        return sea_stop();
    return sea_then(sea_socket_write(r->e->s, r->e->buf, v.size), sea_continue);
}

static sea_future small_echo_step(struct echo_ref *r) {
    return sea_then(sea_socket_read(r->e->s, r->e->buf, sizeof(r->e->buf)), small_echo_read, *r);
}

static sea_future small_echo_done(struct echo_ref *r) {
    sea_socket_close(r->e->s);
    free(r->e);
    open_conns--;
    return sea_ready();
}

FIBER_CASE(t_ten_thousand_connections) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_max < MANY + 200) {
        printf("  skipped: the descriptor limit (%llu) is below %d\n", (unsigned long long)rl.rlim_max, MANY + 200);
        return sea_ready();
    }
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    sea_addr a;
    sea_addr_parse("127.0.0.1:0", &a);
    sea_listener *l;
    sea_listen_options o = {.backlog = 4096};
    CHECK_EQ(sea_listen(&a, &o, &l), 0);
    sea_addr bound = sea_listener_addr(l);
    pid_t pid = fork();
    if (pid == 0)
        _exit(many_client(&bound));
    open_conns = peak_conns = 0;
    int accepted = 0;
    while (accepted < MANY) {
        sea_value v;
        if (sea_test_await_err(sea_accept(l), &v) != 0)
            break;
        accepted++;
        struct small_echo *e = malloc(sizeof(*e));
        e->s = v.ptr;
        if (++open_conns > peak_conns)
            peak_conns = open_conns;
        sea_future f = sea_repeat(small_echo_step, (struct echo_ref){e});
        sea_future_detach(sea_finally(f, small_echo_done, (struct echo_ref){e}));
    }
    int status = await_child(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(accepted, MANY);
    CHECK_EQ(peak_conns, MANY); /* all open at once */
    for (int i = 0; i < 1000 && open_conns; i++)
        sea_future_detach(sea_await(sea_sleep(SEA_MSEC(2))));
    CHECK_EQ(open_conns, 0); /* every connection ended and was released */
    sea_listener_close(l);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_addresses),
    SEA_TEST(t_echo_tcp),
    SEA_TEST(t_echo_ipv6_and_unix),
    SEA_TEST(t_connect_refused_and_timeout),
    SEA_TEST(t_peer_reset),
    SEA_TEST(t_close_cancels_pending),
    SEA_TEST(t_close_cancels_pending_write),
    SEA_TEST(t_end_after_short_read),
    SEA_TEST(t_udp),
    SEA_TEST(t_sendfile),
    SEA_TEST(t_ten_thousand_connections),
};

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test: sea must never raise one */
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
