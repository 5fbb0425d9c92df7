/*
 * test_server.c - sea_server (sea/server.h) in process: servers started,
 * used by clients on the same shards, and stopped, with one shard and with
 * two.  The hostile cases that need a separate process (descriptor limits,
 * memory limits, signals during a connection storm, a stdout nobody reads)
 * are in tests/programs/test_servers.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

/* ---- handlers ---- */

static sea_future echo_fiber(sea_socket *s) {
    char buf[4096];
    size_t n;
    while ((n = SEA_AWAIT(sea_socket_read(s, buf, sizeof(buf))).size) > 0)
        SEA_AWAIT(sea_socket_write(s, buf, n));
    return sea_ready();
}

struct greeting {
    char text[16];
};
static sea_future greet(struct greeting *g, sea_socket *s) {
    return sea_socket_write(s, g->text, strlen(g->text));
}

/* Says "served" then waits for the client to close. */
static sea_future hold(sea_socket *s) {
    SEA_AWAIT(sea_socket_write(s, "served\n", 7));
    char c;
    while (SEA_AWAIT(sea_socket_read(s, &c, 1)).size > 0) {
    }
    return sea_ready();
}

static sea_future fail_io(sea_socket *s) {
    (void)s;
    return sea_failed(-EIO, "the handler gives up");
}

/* ---- clients (in fibers, on shard 0) ---- */

static sea_socket *dial(sea_addr a) {
    sea_value v;
    int err = sea_test_await_err(sea_connect(&a, SEA_SEC(10)), &v);
    CHECK_EQ(err, 0);
    return err ? NULL : v.ptr;
}

/* Reads until the end of the stream (or limit bytes); the byte count, or the error. */
static long read_to_end(sea_socket *s, char *buf, size_t limit) {
    size_t got = 0;
    for (;;) {
        sea_value v;
        int err = sea_test_await_err(sea_socket_read(s, buf + got, limit - got), &v);
        if (err)
            return err;
        if (v.size == 0 || (got += v.size) == limit)
            return (long)got;
    }
}

struct echo_job {
    sea_addr addr;
    int seed;
};
/* One echo round trip of 3000 bytes; resolves with 1 if it all came back, then the end of the stream. */
static sea_future echo_client(struct echo_job *j) {
    sea_socket *s = dial(j->addr);
    if (!s)
        return sea_ready_int(0);
    char mine[3000], in[3001]; /* each fiber's own (on its stack) */
    for (size_t i = 0; i < sizeof(mine); i++)
        mine[i] = (char)(i * 13 + (size_t)j->seed);
    int ok = sea_test_await_err(sea_socket_write(s, mine, sizeof(mine)), NULL) == 0;
    ok = ok && sea_socket_shutdown(s, SHUT_WR) == 0;
    long n = ok ? read_to_end(s, in, sizeof(in)) : -1;
    ok = ok && n == (long)sizeof(mine) && memcmp(in, mine, sizeof(mine)) == 0;
    sea_socket_close(s);
    return sea_ready_int(ok);
}

/* ---- reading every shard's counters ---- */

static sea_future stats_here(sea_server **srv) {
    sea_server_stats *st = malloc(sizeof(*st));
    if (!st || sea_server_stats_get(*srv, st) < 0) {
        free(st);
        return sea_failed(-EINVAL, "no statistics on this shard");
    }
    return sea_ready_ptr(st);
}

/* The counters of every shard, added up; per_shard_accepted[i] for the first 8 shards. */
static sea_server_stats all_stats(sea_server *srv, uint64_t per_shard_accepted[8]) {
    sea_server_stats sum = {0};
    for (unsigned i = 0; i < sea_shard_count(); i++) {
        sea_value v;
        int err = sea_test_await_err(sea_submit_to(i, stats_here, srv), &v);
        CHECK_EQ(err, 0);
        if (err)
            continue;
        sea_server_stats *st = v.ptr;
        sum.connections += st->connections;
        sum.accepted += st->accepted;
        sum.refused += st->refused;
        sum.accept_errors += st->accept_errors;
        sum.handler_errors += st->handler_errors;
        if (per_shard_accepted && i < 8)
            per_shard_accepted[i] = st->accepted;
        free(st);
    }
    return sum;
}

/* Waits (bounded) until no connection is open on any shard; the last sum. */
static sea_server_stats settled_stats(sea_server *srv, uint64_t per_shard_accepted[8]) {
    sea_server_stats st = all_stats(srv, per_shard_accepted);
    for (int i = 0; i < 2000 && st.connections; i++) {
        sea_future_detach(sea_await(sea_sleep(SEA_MSEC(5))));
        st = all_stats(srv, per_shard_accepted);
    }
    return st;
}

/* Awaits a server's start.  The server's log lines (starts, stops, the refusals and failures the cases provoke) stay out of the output. */
static sea_server *start(sea_future f) {
    sea_logger_set_level("server", SEA_LOG_ERROR);
    sea_value v = {0};
    int err = sea_test_await_err(f, &v);
    CHECK_EQ(err, 0);
    return err ? NULL : v.ptr;
}

static void stop(sea_server *srv) {
    CHECK_EQ(sea_test_await_err(sea_server_stop(srv), NULL), 0);
}

/* ---- cases ---- */

#define CLIENTS 64

FIBER_CASE(t_fibers_echo_on_every_shard) {
    sea_server *srv = start(sea_server_start("127.0.0.1:0", &(sea_server_options){.fibers = true}, echo_fiber));
    if (!srv)
        return sea_ready();
    sea_addr a = sea_server_addr(srv);
    CHECK(sea_addr_port(&a) != 0); /* port 0 became a port, the same on every shard */
    sea_future jobs[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        jobs[i] = sea_fiber_start(echo_client, (struct echo_job){a, i});
    int ok = 0;
    for (int i = 0; i < CLIENTS; i++) {
        sea_value v = {0};
        if (sea_test_await_err(jobs[i], &v) == 0)
            ok += (int)v.i;
    }
    CHECK_EQ(ok, CLIENTS);
    uint64_t per_shard[8] = {0};
    sea_server_stats st = settled_stats(srv, per_shard);
    CHECK_EQ(st.accepted, CLIENTS);
    CHECK_EQ(st.connections, 0);
    CHECK_EQ(st.refused, 0);
    CHECK_EQ(st.handler_errors, 0);
    /*
     * Every shard took some: SO_REUSEPORT spreads connections by a hash of
     * their addresses, and 64 connections from 64 ports all hashing to one
     * shard of two has a chance of 2^-63.
     */
    for (unsigned i = 0; i < sea_shard_count() && i < 8; i++)
        CHECK(per_shard[i] > 0);
    stop(srv);
    /* A stopped server still answers for its counters, and stopping again is harmless. */
    st = all_stats(srv, NULL);
    CHECK_EQ(st.accepted, CLIENTS);
    stop(srv);
    CHECK_EQ(sea_test_await_err(sea_server_stopped(srv), NULL), 0);
    /* Nobody listens any more. */
    sea_test_await_error(sea_connect(&a, SEA_SEC(10)), -ECONNREFUSED, NULL);
    return sea_ready();
}

FIBER_CASE(t_continuation_handler_with_capture) {
    sea_server *srv = start(sea_server_start("127.0.0.1:0", NULL, greet, (struct greeting){"howdy\n"}));
    if (!srv)
        return sea_ready();
    for (int i = 0; i < 20; i++) {
        sea_socket *s = dial(sea_server_addr(srv));
        if (!s)
            break;
        char buf[32];
        long n = read_to_end(s, buf, sizeof(buf));
        CHECK_EQ(n, 6);
        CHECK(n == 6 && memcmp(buf, "howdy\n", 6) == 0);
        sea_socket_close(s);
    }
    stop(srv);
    return sea_ready();
}

FIBER_CASE(t_max_connections) {
    sea_server *srv =
        start(sea_server_start("127.0.0.1:0", (&(sea_server_options){.fibers = true, .max_connections = 1}), hold));
    if (!srv)
        return sea_ready();
    enum { N = 6 };
    sea_socket *held[N] = {0};
    int served = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        held[i] = dial(sea_server_addr(srv));
        if (!held[i])
            break;
        char buf[16];
        sea_value v;
        int err = sea_test_await_err(sea_socket_read(held[i], buf, sizeof(buf)), &v);
        if (!err && v.size > 0) {
            CHECK(v.size == 7 && memcmp(buf, "served\n", 7) == 0);
            served++;
        } else {
            refused++; /* closed at once: the end of the stream (or a reset) */
        }
    }
    /* One connection per shard at most; the rest were closed at once. */
    CHECK(served >= 1 && served <= (int)sea_shard_count());
    CHECK_EQ(served + refused, N);
    sea_server_stats st = all_stats(srv, NULL);
    CHECK_EQ(st.accepted, N);
    CHECK_EQ(st.refused, refused);
    for (int i = 0; i < N; i++)
        if (held[i])
            sea_socket_close(held[i]);
    st = settled_stats(srv, NULL);
    CHECK_EQ(st.connections, 0);
    /* Room again. */
    sea_socket *s = dial(sea_server_addr(srv));
    if (s) {
        char buf[16];
        sea_value v;
        CHECK_EQ(sea_test_await_err(sea_socket_read(s, buf, sizeof(buf)), &v), 0);
        CHECK_EQ(v.size, 7);
        sea_socket_close(s);
    }
    stop(srv);
    return sea_ready();
}

FIBER_CASE(t_start_failures) {
    /* Not an address. */
    sea_value v;
    sea_future f = sea_server_start("localhost:80", NULL, echo_fiber);
    CHECK_EQ(sea_test_await_err(sea_future_move(&f), &v), -EINVAL);
    sea_future g = sea_server_start("localhost:80", NULL, echo_fiber);
    g = sea_await(g);
    CHECK_CONTAINS(sea_future_message(&g), "not an address");
    sea_future_detach(g);
    /* The port is taken by a listener without SO_REUSEPORT: shard 0 cannot listen, and says so. */
    sea_addr any;
    CHECK_EQ(sea_addr_parse("127.0.0.1:0", &any), 0);
    sea_listener *taken;
    CHECK_EQ(sea_listen(&any, NULL, &taken), 0);
    sea_addr busy = sea_listener_addr(taken);
    char text[64], want[96];
    sea_addr_format(&busy, text, sizeof(text));
    snprintf(want, sizeof(want), "shard 0 cannot listen on %s", text);
    sea_future r = sea_await(sea_server_start(text, NULL, echo_fiber));
    CHECK_EQ(sea_future_error(&r), -EADDRINUSE);
    CHECK_CONTAINS(sea_future_message(&r), want);
    sea_future_detach(r);
    /* The listener that was there first still works. */
    sea_future accepted = sea_accept(taken);
    sea_socket *c = dial(busy);
    sea_value got;
    CHECK_EQ(sea_test_await_err(accepted, &got), 0);
    sea_socket_close(got.ptr);
    if (c)
        sea_socket_close(c);
    sea_listener_close(taken);
    return sea_ready();
}

static sea_future start_elsewhere(void) {
    return sea_server_start("127.0.0.1:0", NULL, echo_fiber);
}

FIBER_CASE(t_start_off_shard_zero) {
    if (sea_shard_count() < 2)
        return sea_ready();
    sea_future r = sea_await(sea_submit_to(1, start_elsewhere));
    CHECK_EQ(sea_future_error(&r), -EINVAL);
    CHECK_CONTAINS(sea_future_message(&r), "shard 0");
    sea_future_detach(r);
    return sea_ready();
}

static int echo_rounds(sea_addr a, int n) {
    sea_future jobs[32];
    if (n > 32)
        n = 32;
    for (int i = 0; i < n; i++)
        jobs[i] = sea_fiber_start(echo_client, (struct echo_job){a, i});
    int ok = 0;
    for (int i = 0; i < n; i++) {
        sea_value v = {0};
        if (sea_test_await_err(jobs[i], &v) == 0)
            ok += (int)v.i;
    }
    return ok;
}

FIBER_CASE(t_unix_socket) {
    char dir[] = "/tmp/sea-test-server-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128], addr[160];
    snprintf(path, sizeof(path), "%s/sock", dir);
    snprintf(addr, sizeof(addr), "unix:%s", path);
    sea_server *srv = start(sea_server_start(addr, &(sea_server_options){.fibers = true}, echo_fiber));
    if (srv) {
        CHECK_EQ(echo_rounds(sea_server_addr(srv), 32), 32);
        uint64_t per_shard[8] = {0};
        sea_server_stats st = settled_stats(srv, per_shard);
        CHECK_EQ(st.accepted, 32);
        stop(srv);
        CHECK(access(path, F_OK) < 0); /* the file is gone */
    }
    /* The same path again, then a stale file: a socket nobody listens on. */
    srv = start(sea_server_start(addr, NULL, greet, (struct greeting){"again\n"}));
    if (srv)
        stop(srv);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    memcpy(un.sun_path, path, strlen(path) + 1); /* the path is short: mkdtemp in /tmp */
    CHECK_EQ(bind(fd, (struct sockaddr *)&un, sizeof(un)), 0);
    close(fd);
    CHECK_EQ(access(path, F_OK), 0);
    srv = start(sea_server_start(addr, NULL, greet, (struct greeting){"stale\n"}));
    if (srv) {
        sea_socket *s = dial(sea_server_addr(srv));
        char buf[16];
        if (s) {
            CHECK_EQ(read_to_end(s, buf, sizeof(buf)), 6);
            sea_socket_close(s);
        }
        stop(srv);
    }
    /* Not a socket: left alone, and the start fails saying why. */
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    sea_future r = sea_await(sea_server_start(addr, NULL, echo_fiber));
    CHECK_EQ(sea_future_error(&r), -EADDRINUSE);
    CHECK_CONTAINS(sea_future_message(&r), "not a socket");
    sea_future_detach(r);
    CHECK_EQ(access(path, F_OK), 0);
    unlink(path);
    rmdir(dir);
    return sea_ready();
}

FIBER_CASE(t_stop_with_open_connections) {
    sea_server *srv = start(sea_server_start("127.0.0.1:0", &(sea_server_options){.fibers = true}, hold));
    if (!srv)
        return sea_ready();
    enum { N = 10 };
    sea_socket *cs[N] = {0};
    for (int i = 0; i < N; i++) {
        cs[i] = dial(sea_server_addr(srv));
        char buf[8];
        if (cs[i])
            CHECK_EQ(sea_test_await_err(sea_socket_read(cs[i], buf, sizeof(buf)), NULL), 0);
    }
    CHECK_EQ(all_stats(srv, NULL).connections, N);
    stop(srv); /* the handlers' reads end: they finish, and the stop resolves */
    CHECK_EQ(all_stats(srv, NULL).connections, 0);
    for (int i = 0; i < N; i++) {
        if (!cs[i])
            continue;
        char buf[8];
        long n = read_to_end(cs[i], buf, sizeof(buf));
        CHECK(n == 0 || n == -ECONNRESET); /* the end of the stream */
        sea_socket_close(cs[i]);
    }
    return sea_ready();
}

/* A client that writes a request nobody reads, then reads the answer: it must not be reset away. */
static sea_future asking_client(sea_addr *a) {
    sea_socket *s = dial(*a);
    if (!s)
        return sea_ready_int(0);
    char request[4096];
    memset(request, 'q', sizeof(request));
    int ok = sea_test_await_err(sea_socket_write(s, request, sizeof(request)), NULL) == 0;
    char buf[32];
    long n = read_to_end(s, buf, sizeof(buf));
    ok = ok && n == 6 && memcmp(buf, "howdy\n", 6) == 0;
    sea_socket_close(s);
    return sea_ready_int(ok);
}

FIBER_CASE(t_close_drains_so_no_reset) {
    sea_server *srv = start(sea_server_start("127.0.0.1:0", NULL, greet, (struct greeting){"howdy\n"}));
    if (!srv)
        return sea_ready();
    sea_addr a = sea_server_addr(srv);
    enum { N = 100 };
    sea_future jobs[N];
    for (int i = 0; i < N; i++)
        jobs[i] = sea_fiber_start(asking_client, a);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        sea_value v = {0};
        if (sea_test_await_err(jobs[i], &v) == 0)
            ok += (int)v.i;
    }
    CHECK_EQ(ok, N);
    stop(srv);
    return sea_ready();
}

FIBER_CASE(t_handler_failure_counted) {
    sea_server *srv = start(sea_server_start("127.0.0.1:0", NULL, fail_io));
    if (!srv)
        return sea_ready();
    for (int i = 0; i < 3; i++) {
        sea_socket *s = dial(sea_server_addr(srv));
        char buf[8];
        if (s) {
            CHECK_EQ(read_to_end(s, buf, sizeof(buf)), 0); /* closed, nothing sent */
            sea_socket_close(s);
        }
    }
    sea_server_stats st = settled_stats(srv, NULL);
    CHECK_EQ(st.handler_errors, 3);
    stop(srv);
    return sea_ready();
}

static const struct sea_test_case cases[] = {
    SEA_TEST(t_fibers_echo_on_every_shard),
    SEA_TEST(t_continuation_handler_with_capture),
    SEA_TEST(t_max_connections),
    SEA_TEST(t_start_failures),
    SEA_TEST(t_start_off_shard_zero),
    SEA_TEST(t_unix_socket),
    SEA_TEST(t_stop_with_open_connections),
    SEA_TEST(t_close_drains_so_no_reset),
    SEA_TEST(t_handler_failure_counted),
};

int main(int argc, char **argv) {
    return sea_test_main(argc, argv, cases, SEA_TEST_COUNT(cases));
}
