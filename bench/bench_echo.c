/*
 * bench_echo.c - echo servers (RFC 862) under a ping-pong load: sea on its
 * io_uring and epoll backends, against the same server on libuv and on a
 * plain epoll loop, driven by the same client in the same run.
 *
 * Each server runs in a child process pinned to CPU 1 (sea: one shard,
 * --cpuset 1); the load generator runs here, pinned to CPU 0.  The client
 * keeps C connections busy, each sending S bytes and waiting for them to come
 * back, for a fixed time.  Reported per server and load:
 *   round trips per second, and the server's CPU time per round trip: the
 *   busy time of CPU 1 (from /proc/stat), which includes network-stack work
 *   the kernel defers to ksoftirqd there, beside the server process's own
 *   user + system time (/proc/PID/stat), which does not.
 * Also the memory each server holds per idle connection (its resident set
 * growth over 2,000 idle connections, socket buffers excluded since they are
 * kernel memory).
 *
 *     bench_echo [seconds per measurement, default 1] [server name]
 *
 * All servers run at once (idle ones sleep); each round measures every
 * server and load in turn, and the medians of the rounds are reported
 * (SEA_BENCH_RUNS rounds, default 5), because on a shared VM the same server
 * varies by 20% from one second to the next.
 *
 * With a server name (sea_io_uring, sea_io_uring_nopoll, sea_epoll,
 * sea_epoll_nopoll, libuv, epoll_loop) only that
 * server runs: handy under a profiler.
 *
 * On a machine with fewer than 2 CPUs the pinning cannot separate the two
 * sides; the numbers are then only indicative.
 */
#include <sea/sea.h>
#include <uv.h>

#include "bench.h"
#include "bench_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CLIENT_CPU = 0, SERVER_CPU = 1 };
#define SERVER_CPU_TEXT "1"

/* Binds a listening socket on 127.0.0.1:0 and returns it; *port gets the port. */
static int listen_any(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    listen(fd, 4096);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---- the plain epoll server ---- */

static void epoll_server(int lfd) {
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    static char buf[65536];
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    int one = 1;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r <= 0) {
                close(fd);
                continue;
            }
            /* Ping-pong: the reply fits the socket buffer, so a blocking-free write of all of it succeeds. */
            ssize_t off = 0;
            while (off < r) {
                ssize_t w = write(fd, buf + off, (size_t)(r - off));
                if (w < 0 && errno == EAGAIN)
                    continue;
                if (w <= 0)
                    break;
                off += w;
            }
        }
    }
}

/* ---- the libuv server ---- */

struct uv_conn {
    uv_tcp_t tcp;
    char buf[65536];
};

static void on_uv_closed(uv_handle_t *h) {
    free(h);
}

static void on_uv_written(uv_write_t *req, int status) {
    free(req);
}

static void on_uv_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    struct uv_conn *c = (struct uv_conn *)h;
    *b = uv_buf_init(c->buf, sizeof(c->buf));
}

static void on_uv_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_uv_closed);
        return;
    }
    if (n == 0)
        return;
    uv_write_t *req = malloc(sizeof(*req));
    uv_buf_t out = uv_buf_init(b->base, (unsigned)n);
    /* The reply is sent from the connection's buffer; ping-pong never reads again before it is written. */
    uv_write(req, s, &out, 1, on_uv_written);
}

static void on_uv_accept(uv_stream_t *server, int status) {
    struct uv_conn *c = malloc(sizeof(*c));
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) == 0) {
        uv_tcp_nodelay(&c->tcp, 1);
        uv_read_start((uv_stream_t *)&c->tcp, on_uv_alloc, on_uv_read);
    } else {
        uv_close((uv_handle_t *)&c->tcp, on_uv_closed);
    }
}

static void libuv_server(int lfd) {
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    uv_tcp_open(&server, lfd);
    uv_listen((uv_stream_t *)&server, 4096, on_uv_accept);
    uv_run(loop, UV_RUN_DEFAULT);
}

/* ---- the sea server (continuations) ---- */

static int sea_lfd;

struct sconn {
    sea_socket *s;
    char buf[65536];
};

struct sref {
    struct sconn *c;
};

static long sea_conns;        /* connections open */
static size_t sea_conn_bytes; /* what the heap holds for each one's struct sconn */

static sea_future s_written(struct sref *r, sea_value v) {
    return sea_continue();
}

static sea_future s_read(struct sref *r, sea_value v) {
    if (v.size == 0)
        return sea_stop();
    return sea_then(sea_socket_write(r->c->s, r->c->buf, v.size), s_written, *r);
}

static sea_future s_step(struct sref *r) {
    return sea_then(sea_socket_read(r->c->s, r->c->buf, sizeof(r->c->buf)), s_read, *r);
}

static sea_future s_done(struct sref *r) {
    sea_socket_close(r->c->s);
    free(r->c);
    sea_conns--;
    return sea_ready();
}

static sea_listener *sea_l;

/*
 * What the sea server reports to the benchmark through a page shared across
 * the fork: the bytes its shard heap holds beyond the application's own
 * connection objects, i.e. sea's memory (sockets, pending requests,
 * continuations).  Updated every 20 ms.
 */
struct sea_report {
    volatile long framework_bytes;
};
static struct sea_report *sea_report_page;

static sea_future s_report(void) {
    sea_memory_stats st;
    if (sea_memory_stats_get(&st) == 0)
        sea_report_page->framework_bytes = (long)st.used - sea_conns * (long)sea_conn_bytes;
    return sea_sleep(SEA_MSEC(20));
}

static sea_future s_accepted(sea_value v) {
    struct sconn *c = malloc(sizeof(*c));
    c->s = v.ptr;
    sea_conns++;
    sea_conn_bytes = sea_malloc_usable_size(c);
    sea_future_detach(sea_finally(sea_repeat(s_step, (struct sref){c}), s_done, (struct sref){c}));
    return sea_ready();
}

static sea_future s_accept(void) {
    return sea_then(sea_accept(sea_l), s_accepted);
}

static sea_future sea_server_main(void) {
    /* The listening socket was made before the fork; sea adopts its address by listening anew on it. */
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    getsockname(sea_lfd, (struct sockaddr *)&a, &len);
    sea_addr addr = {.len = len};
    memcpy(&addr.u.in4, &a, len);
    close(sea_lfd);
    int rc = sea_listen(&addr, NULL, &sea_l);
    if (rc)
        return sea_failed(rc, "listen");
    sea_future_detach(sea_keep_doing(s_report));
    return sea_keep_doing(s_accept);
}

/* poll_us: how long an idle shard polls before sleeping (sea's default is 200). */
static void run_sea_server(int lfd, const char *backend, int poll_us) {
    sea_lfd = lfd;
    char be[64], poll[64];
    snprintf(be, sizeof(be), "--reactor-backend=%s", backend);
    snprintf(poll, sizeof(poll), "--idle-poll-us=%d", poll_us);
    char *argv[] = {"bench_echo_server", "-c1", "--cpuset", SERVER_CPU_TEXT, be, poll, NULL};
    exit(bench_app_run(6, argv, sea_server_main));
}

/* ---- running a server ---- */

/*
 * sea appears twice per backend: as configured by default (an idle shard
 * polls for 200 us before sleeping, which a half-loaded server spends as CPU
 * time), and with --idle-poll-us=0 (sleeps as soon as it has nothing to do,
 * like the other servers), which shows the work per round trip itself.
 */
enum { S_SEA_URING, S_SEA_URING_NOPOLL, S_SEA_EPOLL, S_SEA_EPOLL_NOPOLL, S_LIBUV, S_EPOLL, NSERVERS };
static const char *const server_names[NSERVERS] = {"sea_io_uring",       "sea_io_uring_nopoll", "sea_epoll",
                                                   "sea_epoll_nopoll",   "libuv",               "epoll_loop"};

static struct sea_report *reports; /* one per server, shared with the children */

static pid_t start_server(int kind, int *port) {
    int lfd = listen_any(port);
    sea_report_page = &reports[kind];
    pid_t pid = fork();
    if (pid == 0) {
        bench_pin(SERVER_CPU);
        switch (kind) {
        case S_SEA_URING: run_sea_server(lfd, "io_uring", 200); break;
        case S_SEA_URING_NOPOLL: run_sea_server(lfd, "io_uring", 0); break;
        case S_SEA_EPOLL: run_sea_server(lfd, "epoll", 200); break;
        case S_SEA_EPOLL_NOPOLL: run_sea_server(lfd, "epoll", 0); break;
        case S_LIBUV: libuv_server(lfd); break;
        default: epoll_server(lfd); break;
        }
        _exit(0);
    }
    /* sea listens anew on the port: give it a moment before the first connect. */
    close(lfd);
    usleep(100000);
    return pid;
}

static long rss_kib(pid_t pid) {
    char buf[256];
    if (!bench_read_proc(pid, "statm", buf, sizeof(buf)))
        return 0;
    long size = 0, resident = 0;
    sscanf(buf, "%ld %ld", &size, &resident);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int connect_port(int port) {
    int fd = bench_connect_loopback(port);
    if (fd >= 0)
        fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

struct result {
    double rt_per_s, cpu_us_per_rt, proc_us_per_rt; /* CPU 1's busy time, and the server process's */
};

/* Ping-pong on nconn connections with size-byte messages for secs seconds. */
static struct result load(pid_t pid, int port, int nconn, size_t size, double secs) {
    struct result res = {0, 0, 0};
    int fds[128];
    size_t got[128];
    static char msg[65536], in[65536];
    memset(msg, 'e', sizeof(msg));
    int ep = epoll_create1(0);
    for (int i = 0; i < nconn; i++) {
        fds[i] = connect_port(port);
        if (fds[i] < 0)
            return res;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
        got[i] = 0;
        if (write(fds[i], msg, size) != (ssize_t)size)
            return res;
    }
    long trips = 0;
    double cpu0 = 0, busy0 = 0;
    int64_t t0 = 0, warm = bench_ns() + 200000000; /* 0.2 s warm-up */
    bool measuring = false;
    for (;;) {
        int64_t now = bench_ns();
        if (!measuring && now >= warm) {
            measuring = true;
            trips = 0;
            t0 = now;
            cpu0 = bench_proc_cpu_seconds(pid);
            busy0 = bench_cpu_busy_seconds(SERVER_CPU);
        }
        if (measuring && now - t0 >= (int64_t)(secs * 1e9))
            break;
        struct epoll_event evs[128];
        int n = epoll_wait(ep, evs, 128, 1000);
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            ssize_t r = read(fds[i], in, sizeof(in));
            if (r <= 0)
                continue;
            got[i] += (size_t)r;
            if (got[i] >= size) {
                got[i] = 0;
                trips++;
                ssize_t w = 0;
                while (w < (ssize_t)size) {
                    ssize_t x = write(fds[i], msg + w, size - (size_t)w);
                    if (x > 0)
                        w += x;
                }
            }
        }
    }
    double elapsed = (double)(bench_ns() - t0) / 1e9;
    double cpu = bench_proc_cpu_seconds(pid) - cpu0;
    double busy = bench_cpu_busy_seconds(SERVER_CPU) - busy0;
    for (int i = 0; i < nconn; i++)
        close(fds[i]);
    close(ep);
    res.rt_per_s = (double)trips / elapsed;
    res.cpu_us_per_rt = trips ? busy / (double)trips * 1e6 : 0;
    res.proc_us_per_rt = trips ? cpu / (double)trips * 1e6 : 0;
    return res;
}

/*
 * Resident memory the server grows by per idle connection, over 2,000 of
 * them; for sea also *framework, the heap bytes sea itself holds per idle
 * connection (from the shared report page).
 */
static double idle_bytes(pid_t pid, int port, struct sea_report *report, double *framework) {
    enum { IDLE = 2000 };
    static int fds[IDLE];
    /* One round trip first, so that per-process start-up costs are paid. */
    int warm = connect_port(port);
    close(warm);
    usleep(100000);
    long before = rss_kib(pid);
    long fw_before = report ? report->framework_bytes : 0;
    for (int i = 0; i < IDLE; i++)
        fds[i] = connect_port(port);
    usleep(300000);
    long after = rss_kib(pid);
    if (report)
        *framework = (double)(report->framework_bytes - fw_before) / IDLE;
    for (int i = 0; i < IDLE; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return (double)(after - before) * 1024.0 / IDLE;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(secs > 0))
        secs = 1.0;
    const char *only = argc > 2 ? argv[2] : NULL;
    int runs = getenv("SEA_BENCH_RUNS") ? bench_runs() : 5;
    signal(SIGPIPE, SIG_IGN);
    bench_pin(CLIENT_CPU);
    static const size_t sizes[] = {64, 16384};
    static const int conns[] = {1, 100};
    printf("# echo ping-pong: server pinned to CPU 1, client to CPU 0; medians of %d interleaved rounds of %.1f s\n",
           runs, secs);
    /* Every server runs for the whole benchmark; the rounds take turns, so drift hits all alike. */
    reports = mmap(NULL, sizeof(*reports) * NSERVERS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (reports == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    pid_t pids[NSERVERS] = {0};
    int ports[NSERVERS] = {0};
    for (int kind = 0; kind < NSERVERS; kind++)
        if (!only || strcmp(only, server_names[kind]) == 0)
            pids[kind] = start_server(kind, &ports[kind]);
    static struct bench_series rt[NSERVERS][2][2], cpu[NSERVERS][2][2], proc[NSERVERS][2][2];
    for (int r = 0; r < runs; r++)
        for (int si = 0; si < 2; si++)
            for (int ci = 0; ci < 2; ci++)
                for (int kind = NSERVERS - 1; kind >= 0; kind--) {
                    if (!pids[kind])
                        continue;
                    struct result res = load(pids[kind], ports[kind], conns[ci], sizes[si], secs);
                    bench_add(&rt[kind][si][ci], res.rt_per_s);
                    bench_add(&cpu[kind][si][ci], res.cpu_us_per_rt);
                    bench_add(&proc[kind][si][ci], res.proc_us_per_rt);
                }
    double idle[NSERVERS] = {0}, framework[NSERVERS] = {0};
    for (int kind = 0; kind < NSERVERS; kind++) {
        if (!pids[kind])
            continue;
        bool is_sea = kind <= S_SEA_EPOLL_NOPOLL;
        idle[kind] = idle_bytes(pids[kind], ports[kind], is_sea ? &reports[kind] : NULL, &framework[kind]);
        kill(pids[kind], SIGKILL);
        waitpid(pids[kind], NULL, 0);
    }
    for (int si = 0; si < 2; si++) {
        for (int ci = 0; ci < 2; ci++) {
            double base = pids[S_EPOLL] ? bench_median(&cpu[S_EPOLL][si][ci]) : 0;
            for (int kind = 0; kind < NSERVERS; kind++) {
                if (!pids[kind])
                    continue;
                double c = bench_median(&cpu[kind][si][ci]);
                printf("echo.%s.%zuB.%dconn: %.0f rt/s, %.2f us server CPU/rt (process alone %.2f)",
                       server_names[kind], sizes[si], conns[ci], bench_median(&rt[kind][si][ci]), c,
                       bench_median(&proc[kind][si][ci]));
                if (kind != S_EPOLL && base > 0)
                    printf(", %.2fx the epoll loop's CPU", c / base);
                printf("\n");
            }
        }
    }
    for (int kind = 0; kind < NSERVERS; kind++)
        if (pids[kind])
        {
            printf("idle_memory.%s: %.0f bytes per connection", server_names[kind], idle[kind]);
            if (kind <= S_SEA_EPOLL_NOPOLL)
                printf(" (sea's own heap: %.0f bytes)", framework[kind]);
            printf("\n");
        }
    printf("# targets: sea on io_uring <= 4 us server CPU per 64 B round trip with 100 connections; "
           "sea on epoll no worse than the epoll loop; <= 2 KiB per idle connection\n");
    return 0;
}
