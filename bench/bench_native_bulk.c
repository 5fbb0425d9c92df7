/*
 * bench_native_bulk.c - bulk transfer through sea's own TCP/IP stack
 * (--network-stack=native) on a TAP device, with the TAP's offloads and
 * zero copy, against the same echo server on the kernel's stack.
 *
 * What it measures: C connections (1 and 4) each stream bytes to an echo
 * server while reading them back, as fast as both sides go, for a fixed
 * window; every byte that comes back is checked against what was sent.
 * Four modes, each a server started afresh in every round:
 *
 *   native_zc         examples/stream_echo_server on the native stack with
 *                     the TAP's offloads (the default): the kernel hands sea
 *                     segments of up to 64 KiB whole with their checksums
 *                     unfinished, sea hands the kernel segments of up to
 *                     64 KiB to cut; the input stream hands out the received
 *                     segments where the frame was read (no copy) and the
 *                     output stream sends them by reference (writev of a
 *                     header and the pieces): zero copy both ways
 *   native_copy       examples/echo_server, offloads on: reads into a 4 KiB
 *                     buffer and writes from it (a copy each way)
 *   native_nooffload  stream_echo_server with --native-no-offload: plain
 *                     1500-byte frames, every checksum computed by sea
 *   posix             stream_echo_server on the kernel's sockets
 *
 * The interfaces differ, and must: a TAP's other side IS the kernel's
 * stack, so the kernel's TCP cannot be the server behind the same TAP.  The
 * native modes use a TAP device; posix uses a veth pair between two
 * namespaces, the kernel's TCP on both sides (veth does TSO/GRO, so the
 * kernel's segments of up to 64 KiB cross it whole, as they cross the TAP
 * with the offloads).  The load generator is the same, the kernel's TCP
 * with the same settings, in the same namespace, in every mode.
 *
 * The network: namespace sea-bb-PID holds the TAP tbPID (the kernel's end
 * 10.79.0.1/24; sea is 10.79.0.2) and the client's end of the veth pair,
 * bbc-PID (10.79.1.1/24); namespace sea-bb-p-PID holds the server's end,
 * bbs-PID (10.79.1.2/24), where the posix server listens.  The load
 * generator (this process) runs in sea-bb-PID pinned to CPU 0; each server
 * is a child that joins its namespace with setns(2) and is pinned to CPU 1
 * before exec:
 *
 *   SERVER -c1 --cpuset 1 --blocked-reactor-notify-ms=0 --default-log-level warn
 *          [--network-stack=native --tap-device tbPID --host-ipv4-addr 10.79.0.2
 *           --prometheus-port 9180 [--native-no-offload]] 0.0.0.0:7
 *
 * Both namespaces (the TAP and the veth pair with them) are deleted at the
 * end, after an error too, and on SIGINT or SIGTERM.
 *
 *     bench_native_bulk [seconds per measurement, default 2] [mode|all] [connections: 1, 4 or all]
 *
 * The load generator: one epoll loop (level-triggered) over C nonblocking
 * connections, each sending 256 KiB at a time from a pseudo-random pattern
 * (1,000,003 bytes long, each connection starting at its own place in it)
 * and receiving into a 256 KiB buffer, every received byte compared with
 * the pattern.  0.3 s of warm-up, then the window; afterwards each
 * connection shuts its sending side down and reads until the server closes,
 * which must be after exactly the bytes sent.
 *
 * Reported per load C and mode (medians of SEA_BENCH_RUNS rounds, default
 * 5, the modes in alternating order; MB = 10^6 bytes):
 *   native_bulk.cC.MODE.mb_per_s        bytes echoed back per second (the
 *                                       echo's rate: each byte went both ways)
 *   native_bulk.cC.MODE.sent_mb_per_s   bytes the load generator sent per second
 *   native_bulk.cC.MODE.cpu_per_mb_us   the server process's user + system
 *                                       time (/proc/PID/stat) per MB echoed
 *   native_bulk.cC.MODE.cpu1_per_mb_us  CPU 1's busy time (/proc/stat) per MB
 *                                       echoed: also the kernel's work done
 *                                       there outside the process (softirq)
 * the ratios (of the medians)
 *   native_bulk.cC.MODE.{cpu_per_mb,cpu1_per_mb,mb_per_s}.ratio_vs_posix
 *   native_bulk.cC.zc_vs_copy.{...}.ratio            native_zc / native_copy
 *   native_bulk.cC.offload_vs_nooffload.{...}.ratio  native_zc / native_nooffload
 * and per native mode, from the server's metrics (read after each server's
 * last load from its Prometheus endpoint on the namespace's loopback, over
 * its whole life: warm-ups and drains included), per MB the server received
 * or sent:
 *   native_bulk.MODE.in_place_bytes_per_mb     sea_native_tcp_bytes_in_place_total
 *                                              per MB received (1000000: none copied)
 *   native_bulk.MODE.by_reference_bytes_per_mb sea_native_tcp_bytes_sent_by_reference_total
 *                                              per MB sent
 *   native_bulk.MODE.large_frames_in_per_mb    segments over the MTU the TAP delivered
 *   native_bulk.MODE.large_frames_out_per_mb   segments over the MTU handed to the TAP
 * with a note of the retransmissions and dropped frames.  Notes give each
 * round's range of MB/s, each side's CPU use (the server's part in user
 * space) and its CPU's ksoftirqd's, the load generator's TCP
 * retransmissions, and the other load on both CPUs
 * during the windows (busy time beyond the process pinned there and that
 * CPU's ksoftirqd; DISTURBED above 10%, as in bench_native).
 *
 * Environment: SEA_STREAM_ECHO_SERVER, SEA_ECHO_SERVER (default
 * ../examples/stream_echo_server and ../examples/echo_server next to this
 * program), SEA_BENCH_RUNS, SEA_BENCH_NATIVE_ARGS (words added to every
 * server's command line).  The servers' stderr goes to
 * /tmp/bench_native_bulk-PID.log, removed at the end unless there was an
 * error.
 *
 * Without root it says so on one line and exits 0.  An error (a wrong byte,
 * a closed connection, 5 s without progress, a server that does not start
 * or does not exit with status 0 on SIGTERM) is printed and makes it exit
 * with 1.
 */
#include "bench.h"
#include "bench_proc.h"
#include "bench_netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CLIENT_CPU = 0, SERVER_CPU = 1 };
#define STR_(x) #x
#define STR(x) STR_(x)
#define TAP_KERNEL_ADDR "10.79.0.1"
#define TAP_SEA_ADDR "10.79.0.2"
#define VETH_CLIENT_ADDR "10.79.1.1"
#define VETH_SERVER_ADDR "10.79.1.2"
#define ECHO_PORT 7
#define METRICS_PORT 9180
#define MAX_CONNS 16
#define CHUNK (256 * 1024)
#define PATLEN 1000003 /* a prime: a piece out of place does not match by chance */
#define WARMUP_NS 300000000LL
#define STALL_NS 5000000000LL

static const char *prog = "bench_native_bulk";
static char ns_main[64], ns_peer[64], tap_dev[16], veth_client[16], veth_server[16];
static const char *ip_path;
static int home_ns = -1;
static bool made_ns[2];
static volatile sig_atomic_t cleaning;
static char log_path[64];
static long errors;

/* ---- the network: clean-up (also from the signal handler) and setup commands (bench_netns.h) ---- */

/* The servers killed, the namespaces deleted (the TAP and the veth pair go with them). */
static void cleanup(void) {
    if (cleaning)
        return;
    cleaning = 1;
    bench_kill_children();
    bench_netns_delete(ip_path, home_ns, (const char *const[]){ns_main, ns_peer}, made_ns, 2);
}

static void on_signal(int sig) {
    cleanup();
    if (log_path[0])
        unlink(log_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* A setup command, its output shown (bench_setup_vcmd). */
static bool setup_cmd(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    bool ok = bench_setup_vcmd(prog, false, fmt, ap);
    va_end(ap);
    return ok;
}

/* The namespaces, the TAP and the veth pair; false (and said) if they cannot be made. */
static bool make_network(void) {
    int pid = (int)getpid();
    snprintf(ns_main, sizeof(ns_main), "sea-bb-%d", pid);
    snprintf(ns_peer, sizeof(ns_peer), "sea-bb-p-%d", pid);
    snprintf(tap_dev, sizeof(tap_dev), "tb%d", pid);
    snprintf(veth_client, sizeof(veth_client), "bbc-%d", pid);
    snprintf(veth_server, sizeof(veth_server), "bbs-%d", pid);
    const char *ip = ip_path;
    if (!setup_cmd("%s netns add %s", ip, ns_main))
        return false;
    made_ns[0] = true;
    if (!setup_cmd("%s netns add %s", ip, ns_peer))
        return false;
    made_ns[1] = true;
    if (!setup_cmd("%s -n %s tuntap add dev %s mode tap", ip, ns_main, tap_dev))
        return false; /* (the TAP goes with its namespace) */
    return setup_cmd("%s -n %s link set lo up", ip, ns_main) && setup_cmd("%s -n %s link set lo up", ip, ns_peer) &&
           setup_cmd("%s -n %s addr add " TAP_KERNEL_ADDR "/24 dev %s", ip, ns_main, tap_dev) &&
           setup_cmd("%s -n %s link set %s up", ip, ns_main, tap_dev) &&
           setup_cmd("%s link add %s netns %s type veth peer name %s netns %s", ip, veth_client, ns_main, veth_server,
                     ns_peer) &&
           setup_cmd("%s -n %s addr add " VETH_CLIENT_ADDR "/24 dev %s", ip, ns_main, veth_client) &&
           setup_cmd("%s -n %s link set %s up", ip, ns_main, veth_client) &&
           setup_cmd("%s -n %s addr add " VETH_SERVER_ADDR "/24 dev %s", ip, ns_peer, veth_server) &&
           setup_cmd("%s -n %s link set %s up", ip, ns_peer, veth_server);
}

/* ---- the servers ---- */

enum { MODE_ZC, MODE_COPY, MODE_NOOFF, MODE_POSIX, NMODES };
static const char *const mode_names[NMODES] = {"native_zc", "native_copy", "native_nooffload", "posix"};
static char stream_echo_path[PATH_MAX + 64], echo_path[PATH_MAX + 64];

static bool mode_native(int mode) { return mode != MODE_POSIX; }
static const char *mode_addr(int mode) { return mode_native(mode) ? TAP_SEA_ADDR : VETH_SERVER_ADDR; }

/* Starts mode's server in its namespace, pinned to CPU 1; its PID, or -1. */
static pid_t start_server(int mode) {
    char *argv[64];
    int n = 0;
    argv[n++] = mode == MODE_COPY ? echo_path : stream_echo_path;
    argv[n++] = "-c1";
    argv[n++] = "--cpuset";
    argv[n++] = "1";
    argv[n++] = "--blocked-reactor-notify-ms=0";
    argv[n++] = "--default-log-level";
    argv[n++] = "warn";
    if (mode_native(mode)) {
        argv[n++] = "--network-stack=native";
        argv[n++] = "--tap-device";
        argv[n++] = tap_dev;
        argv[n++] = "--host-ipv4-addr";
        argv[n++] = TAP_SEA_ADDR;
        argv[n++] = "--prometheus-port";
        argv[n++] = STR(METRICS_PORT);
        if (mode == MODE_NOOFF)
            argv[n++] = "--native-no-offload";
    }
    char *extra = bench_env_words("SEA_BENCH_NATIVE_ARGS", argv, &n, 60);
    argv[n++] = "0.0.0.0:" STR(ECHO_PORT);
    argv[n] = NULL;
    const char *ns = mode_native(mode) ? ns_main : ns_peer;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (!bench_enter_ns(ns)) {
            fprintf(stderr, "%s: cannot enter namespace %s: %s\n", prog, ns, strerror(errno));
            _exit(127);
        }
        bench_pin(SERVER_CPU);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log >= 0)
            dup2(log, 2);
        execv(argv[0], argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", prog, argv[0], strerror(errno));
        _exit(127);
    }
    free(extra);
    if (pid > 0)
        bench_child_add(pid);
    return pid;
}

/* A blocking connection to addr:port (2 s timeouts), then nonblocking; -1 if it cannot be made. */
static int connect_to(const char *addr, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Waits (at most 10 s) until the server accepts a connection; false if it exited (*exited set) or never did. */
static bool wait_ready(int mode, pid_t pid, bool *exited) {
    *exited = false;
    for (int i = 0; i < 200; i++) {
        int st;
        if (bench_child_exited(pid, &st)) {
            *exited = true;
            BENCH_FAIL(errors, 20, prog, "%s: the server exited at start (status 0x%x)", mode_names[mode], st);
            return false;
        }
        int fd = connect_to(mode_addr(mode), ECHO_PORT);
        if (fd >= 0) {
            close(fd);
            return true;
        }
        usleep(50000);
    }
    BENCH_FAIL(errors, 20, prog, "%s: the server did not accept connections within 10 s", mode_names[mode]);
    return false;
}

/* ---- the server's metrics (Prometheus text on 127.0.0.1:METRICS_PORT of the TAP's namespace) ---- */

enum { MET_IN_PLACE, MET_BY_REF, MET_GSO_IN, MET_GSO_OUT, MET_RETRANS, MET_DROPPED, NMET };
static const char *const met_names[NMET] = {
    "sea_native_tcp_bytes_in_place_total",    "sea_native_tcp_bytes_sent_by_reference_total",
    "sea_native_large_frames_received_total", "sea_native_large_frames_sent_total",
    "sea_native_tcp_retransmits_total",       "sea_native_frames_dropped_total",
};

/* Reads every metric of met_names (summed over shards) into v; false if the endpoint cannot be read or one is missing. */
static bool read_metrics(double v[NMET]) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(METRICS_PORT)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static char buf[1 << 20];
    size_t got = 0;
    const char req[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && bench_send_all(fd, req, sizeof(req) - 1);
    while (ok && got < sizeof(buf) - 1) {
        ssize_t r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        buf[got] = 0;
        /* Done at the end of the body, should the server keep the connection. */
        char *body = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "\r\nContent-Length:");
        if (body && cl && cl < body && got >= (size_t)(body + 4 - buf) + strtoul(cl + 17, NULL, 10))
            break;
    }
    close(fd);
    buf[got] = 0;
    if (!ok || strncmp(buf, "HTTP/1.1 200", 12) != 0)
        return false;
    bool seen[NMET] = {false};
    for (int i = 0; i < NMET; i++)
        v[i] = 0;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        for (int i = 0; i < NMET; i++) {
            size_t len = strlen(met_names[i]);
            if (strncmp(line, met_names[i], len) || (line[len] != '{' && line[len] != ' '))
                continue;
            char *end = strchr(line, '\n'), *sp = line + len;
            for (char *p = sp; p && *p && p != end; p++)
                if (*p == ' ')
                    sp = p;
            v[i] += strtod(sp, NULL);
            seen[i] = true;
        }
    for (int i = 0; i < NMET; i++)
        if (!seen[i])
            return false;
    return true;
}

/* ---- the load generator ---- */

static char *pattern; /* PATLEN + CHUNK bytes: pattern[i] == pattern[i % PATLEN] */
static char *rbuf;

struct conn {
    int fd;
    uint64_t base, sent, rcvd;
    bool eof;
};

struct result {
    double mb_per_s, sent_mb_per_s, cpu_per_mb, cpu1_per_mb, server_share, client_share;
    double ksoftirqd0_share, ksoftirqd1_share; /* of the window: each CPU's ksoftirqd */
    double retrans;                            /* the load generator's TCP retransmissions in the window */
    double user_part;                          /* the part of the server's CPU time spent in user space */
    uint64_t total_sent, total_rcvd; /* over the whole load, warm-up and drain included */
};

static struct bench_other_load other_load;
static pid_t ksoftirqd[2]; /* ksoftirqd/0 and ksoftirqd/1 (0: not found) */

/* The load generator's namespace's TCP segments retransmitted so far (/proc/net/snmp), or 0. */
static double tcp_retrans_segs(void) {
    FILE *f = fopen("/proc/net/snmp", "r");
    if (!f)
        return 0;
    char head[1024], vals[1024];
    double v = 0;
    while (fgets(head, sizeof(head), f))
        if (!strncmp(head, "Tcp:", 4) && fgets(vals, sizeof(vals), f)) {
            int col = -1, i = 0;
            for (char *save, *w = strtok_r(head, " \n", &save); w; w = strtok_r(NULL, " \n", &save), i++)
                if (!strcmp(w, "RetransSegs"))
                    col = i;
            i = 0;
            for (char *save, *w = strtok_r(vals, " \n", &save); w; w = strtok_r(NULL, " \n", &save), i++)
                if (i == col)
                    v = strtod(w, NULL);
            break;
        }
    fclose(f);
    return v;
}

/* Frames the kernel dropped on their way to sea through the TAP (its transmit drops, /proc/net/dev), or 0. */
static double tap_tx_drops(void) {
    FILE *f = fopen("/proc/net/dev", "r");
    if (!f)
        return 0;
    char line[512], want[32];
    snprintf(want, sizeof(want), "%s:", tap_dev);
    double v = 0;
    while (fgets(line, sizeof(line), f)) {
        char *p = line;
        while (*p == ' ')
            p++;
        if (strncmp(p, want, strlen(want)))
            continue;
        unsigned long long x[12];
        if (sscanf(p + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &x[0], &x[1],
                   &x[2], &x[3], &x[4], &x[5], &x[6], &x[7], &x[8], &x[9], &x[10], &x[11]) == 12)
            v = (double)x[11];
        break;
    }
    fclose(f);
    return v;
}

/* A process's user time (all its threads), in seconds (0 if it cannot be read). */
static double proc_user_seconds(pid_t pid) {
    char buf[1024];
    char *p = bench_read_proc(pid, "stat", buf, sizeof(buf)) ? strrchr(buf, ')') : NULL;
    unsigned long utime = 0;
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu", &utime);
    return (double)utime / (double)sysconf(_SC_CLK_TCK);
}

/* The PID of the kernel thread named comm, or 0. */
static pid_t find_kthread(const char *comm) {
    for (pid_t pid = 2; pid < 4096; pid++) {
        char buf[64];
        if (bench_read_proc(pid, "comm", buf, sizeof(buf)) && !strncmp(buf, comm, strlen(comm)) &&
            buf[strlen(comm)] == '\n')
            return pid;
    }
    return 0;
}

static double ksoftirqd_seconds(int cpu) { return ksoftirqd[cpu] ? bench_proc_cpu_seconds(ksoftirqd[cpu]) : 0; }

/* Receives once on c and checks the bytes; 1 if some came, 0 if none (EAGAIN), -1 at the end or an error (errno; 0: EOF). */
static int conn_recv(int mode, struct conn *c, bool *ok) {
    ssize_t r = recv(c->fd, rbuf, CHUNK, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (r <= 0) {
        if (r == 0)
            errno = 0;
        return -1;
    }
    if (c->rcvd + (uint64_t)r > c->sent) {
        BENCH_FAIL(errors, 20, prog, "%s: %llu bytes came back of %llu sent", mode_names[mode],
                   (unsigned long long)(c->rcvd + (uint64_t)r), (unsigned long long)c->sent);
        *ok = false;
        return -1;
    }
    const char *want = pattern + (c->base + c->rcvd) % PATLEN;
    if (memcmp(rbuf, want, (size_t)r) != 0) {
        size_t i = 0;
        while (rbuf[i] == want[i])
            i++;
        BENCH_FAIL(errors, 20, prog, "%s: wrong byte at offset %llu of the stream (0x%02x, expected 0x%02x)",
                   mode_names[mode], (unsigned long long)(c->rcvd + i), (unsigned char)rbuf[i],
                   (unsigned char)want[i]);
        *ok = false;
        return -1;
    }
    c->rcvd += (uint64_t)r;
    return 1;
}

/*
 * Streams through nconn connections to mode's server (pid) for the warm-up,
 * then secs measured, then drains them; ok false (and errors counted) on a
 * wrong byte, a closed connection or 5 s without progress.
 */
static struct result load(int mode, pid_t pid, int nconn, double secs, bool *ok) {
    struct result res = {0};
    static struct conn conns[MAX_CONNS];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    *ok = ep >= 0;
    int opened = 0;
    for (int i = 0; i < nconn && *ok; i++, opened++) {
        struct conn *c = &conns[i];
        memset(c, 0, sizeof(*c));
        c->base = (uint64_t)i * 250007u; /* each connection at its own place in the pattern */
        c->fd = connect_to(mode_addr(mode), ECHO_PORT);
        if (c->fd < 0) {
            BENCH_FAIL(errors, 20, prog, "%s: cannot connect: %s", mode_names[mode], strerror(errno));
            *ok = false;
            break;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
    struct bench_cpu_use u0 = {0}, u = {0};
    double ksi0[2] = {0}, ksi1[2] = {0}, rt0 = 0, rt1 = 0, user0 = 0, user1 = 0;
    uint64_t sent0 = 0, rcvd0 = 0, sent1 = 0, rcvd1 = 0;
    int64_t start = bench_ns(), t0 = 0, t1 = 0, last_progress = start;
    bool measuring = false;
    while (*ok) {
        int64_t now = bench_ns();
        if (!measuring && now - start >= WARMUP_NS) {
            measuring = true;
            for (int i = 0; i < opened; i++) {
                sent0 += conns[i].sent;
                rcvd0 += conns[i].rcvd;
            }
            t0 = bench_ns();
            u0 = bench_cpu_use_now(pid, SERVER_CPU, CLIENT_CPU);
            ksi0[0] = ksoftirqd_seconds(0);
            ksi0[1] = ksoftirqd_seconds(1);
            rt0 = tcp_retrans_segs();
            user0 = proc_user_seconds(pid);
        }
        if (measuring && now - t0 >= (int64_t)(secs * 1e9)) {
            u = bench_cpu_use_since(&u0, pid, SERVER_CPU, CLIENT_CPU);
            ksi1[0] = ksoftirqd_seconds(0) - ksi0[0];
            ksi1[1] = ksoftirqd_seconds(1) - ksi0[1];
            rt1 = tcp_retrans_segs() - rt0;
            user1 = proc_user_seconds(pid) - user0;
            t1 = bench_ns();
            for (int i = 0; i < opened; i++) {
                sent1 += conns[i].sent;
                rcvd1 += conns[i].rcvd;
            }
            break;
        }
        if (now - last_progress > STALL_NS) {
            BENCH_FAIL(errors, 20, prog, "%s: no byte came back for 5 s", mode_names[mode]);
            *ok = false;
            break;
        }
        struct epoll_event evs[MAX_CONNS];
        int n = epoll_wait(ep, evs, MAX_CONNS, 100);
        for (int k = 0; k < n && *ok; k++) {
            struct conn *c = &conns[evs[k].data.u32];
            if (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                int r = conn_recv(mode, c, ok);
                if (r > 0)
                    last_progress = bench_ns();
                if (r < 0) {
                    if (*ok)
                        BENCH_FAIL(errors, 20, prog, "%s: connection %s after %llu bytes", mode_names[mode],
                                   errno ? strerror(errno) : "closed", (unsigned long long)c->rcvd);
                    *ok = false;
                    break;
                }
            }
            if (evs[k].events & EPOLLOUT) {
                ssize_t w = send(c->fd, pattern + (c->base + c->sent) % PATLEN, CHUNK, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0)
                    c->sent += (uint64_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    BENCH_FAIL(errors, 20, prog, "%s: send: %s", mode_names[mode], strerror(errno));
                    *ok = false;
                }
            }
        }
    }
    /* The drain: no more sending; every byte sent must come back before the server closes. */
    for (int i = 0; i < opened && *ok; i++) {
        shutdown(conns[i].fd, SHUT_WR);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev);
    }
    for (int left = opened; *ok && left > 0;) {
        if (bench_ns() - last_progress > STALL_NS) {
            BENCH_FAIL(errors, 20, prog, "%s: the drain made no progress for 5 s", mode_names[mode]);
            *ok = false;
            break;
        }
        struct epoll_event evs[MAX_CONNS];
        int n = epoll_wait(ep, evs, MAX_CONNS, 100);
        for (int k = 0; k < n && *ok; k++) {
            struct conn *c = &conns[evs[k].data.u32];
            if (c->eof)
                continue;
            int r = conn_recv(mode, c, ok);
            if (r > 0)
                last_progress = bench_ns();
            else if (r < 0 && *ok) {
                if (errno || c->rcvd != c->sent) {
                    BENCH_FAIL(errors, 20, prog, "%s: connection %s after %llu of %llu bytes", mode_names[mode],
                               errno ? strerror(errno) : "closed", (unsigned long long)c->rcvd,
                               (unsigned long long)c->sent);
                    *ok = false;
                    break;
                }
                c->eof = true;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                left--;
            }
        }
    }
    if (*ok) {
        double elapsed = (double)(t1 - t0) / 1e9, mb = (double)(rcvd1 - rcvd0) / 1e6;
        /* Other load: each CPU's busy time beyond the process on it and that CPU's ksoftirqd (the network's
         * deferred work, which a bulk transfer makes plenty of): what else ran there. */
        bench_other_load_add(&other_load, (u.busy_cpu - u.proc_cpu - ksi1[1]) / elapsed,
                             (u.client_busy_cpu - u.client_cpu - ksi1[0]) / elapsed);
        res.ksoftirqd1_share = ksi1[1] / elapsed;
        res.ksoftirqd0_share = ksi1[0] / elapsed;
        res.retrans = rt1;
        res.user_part = u.proc_cpu > 0 ? user1 / u.proc_cpu : 0;
        res.mb_per_s = mb / elapsed;
        res.sent_mb_per_s = (double)(sent1 - sent0) / 1e6 / elapsed;
        res.cpu_per_mb = mb > 0 ? u.proc_cpu * 1e6 / mb : 0;
        res.cpu1_per_mb = mb > 0 ? u.busy_cpu * 1e6 / mb : 0;
        res.server_share = u.proc_cpu / elapsed;
        res.client_share = u.client_cpu / elapsed;
        for (int i = 0; i < opened; i++) {
            res.total_sent += conns[i].sent;
            res.total_rcvd += conns[i].rcvd;
        }
    }
    for (int i = 0; i < opened; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    if (ep >= 0)
        close(ep);
    return res;
}

/* ---- the rounds and the report ---- */

static const int loads[] = {1, 4};
#define NLOADS 2

static double seconds;
static int only_mode = -1, only_load = -1;

static void report_ratios(int li, const char *what, const struct bench_series *cpu, const struct bench_series *cpu1,
                          const struct bench_series *mbps, int a, int b, const char *suffix) {
    char name[160];
    snprintf(name, sizeof(name), "native_bulk.c%d.%s.cpu_per_mb.%s", loads[li], what, suffix);
    bench_ratio(name, bench_median(&cpu[a]), bench_median(&cpu[b]));
    snprintf(name, sizeof(name), "native_bulk.c%d.%s.cpu1_per_mb.%s", loads[li], what, suffix);
    bench_ratio(name, bench_median(&cpu1[a]), bench_median(&cpu1[b]));
    snprintf(name, sizeof(name), "native_bulk.c%d.%s.mb_per_s.%s", loads[li], what, suffix);
    bench_ratio(name, bench_median(&mbps[a]), bench_median(&mbps[b]));
}

static void run_all(void) {
    int runs = getenv("SEA_BENCH_RUNS") ? bench_runs() : 5;
    static struct bench_series mbps[NLOADS][NMODES], smbps[NLOADS][NMODES], cpu[NLOADS][NMODES],
        cpu1[NLOADS][NMODES], srv[NLOADS][NMODES], cli[NLOADS][NMODES], ksi0[NLOADS][NMODES], ksi1[NLOADS][NMODES],
        retr[NLOADS][NMODES], upart[NLOADS][NMODES], met[NMODES][NMET], tapdrop[NMODES];
    bool ran[NLOADS][NMODES] = {{false}}, have_met[NMODES] = {false};
    for (int r = 0; r < runs && !errors; r++)
        for (int k = 0; k < NMODES && !errors; k++) {
            int mode = r % 2 ? NMODES - 1 - k : k;
            if (only_mode >= 0 && mode != only_mode)
                continue;
            pid_t pid = start_server(mode);
            if (pid < 0) {
                BENCH_FAIL(errors, 20, prog, "cannot fork");
                return;
            }
            bool exited;
            bool ok = wait_ready(mode, pid, &exited);
            if (exited)
                return;
            uint64_t to_server = 0, from_server = 0;
            double drops0 = tap_tx_drops();
            for (int li = 0; li < NLOADS && ok; li++) {
                if (only_load >= 0 && li != only_load)
                    continue;
                struct result res = load(mode, pid, loads[li], seconds, &ok);
                if (!ok)
                    break;
                bench_add(&mbps[li][mode], res.mb_per_s);
                bench_add(&smbps[li][mode], res.sent_mb_per_s);
                bench_add(&cpu[li][mode], res.cpu_per_mb);
                bench_add(&cpu1[li][mode], res.cpu1_per_mb);
                bench_add(&srv[li][mode], res.server_share);
                bench_add(&cli[li][mode], res.client_share);
                bench_add(&ksi0[li][mode], res.ksoftirqd0_share);
                bench_add(&ksi1[li][mode], res.ksoftirqd1_share);
                bench_add(&retr[li][mode], res.retrans);
                bench_add(&upart[li][mode], res.user_part);
                to_server += res.total_sent;
                from_server += res.total_rcvd;
                ran[li][mode] = true;
            }
            if (ok && mode_native(mode)) {
                double v[NMET];
                if (read_metrics(v) && to_server && from_server) {
                    bench_add(&met[mode][MET_IN_PLACE], v[MET_IN_PLACE] / (double)to_server * 1e6);
                    bench_add(&met[mode][MET_BY_REF], v[MET_BY_REF] / (double)from_server * 1e6);
                    bench_add(&met[mode][MET_GSO_IN], v[MET_GSO_IN] / (double)to_server * 1e6);
                    bench_add(&met[mode][MET_GSO_OUT], v[MET_GSO_OUT] / (double)from_server * 1e6);
                    bench_add(&met[mode][MET_RETRANS], v[MET_RETRANS]);
                    bench_add(&met[mode][MET_DROPPED], v[MET_DROPPED]);
                    bench_add(&tapdrop[mode], tap_tx_drops() - drops0);
                    have_met[mode] = true;
                } else {
                    printf("# native_bulk.%s: the server's metrics could not be read\n", mode_names[mode]);
                }
            }
            char why[128];
            if (!bench_stop_child(pid, NULL, why, sizeof(why)))
                BENCH_FAIL(errors, 20, prog, "%s server %s", mode_names[mode], why);
            usleep(200000);
        }
    for (int li = 0; li < NLOADS; li++) {
        for (int mode = 0; mode < NMODES; mode++) {
            if (!ran[li][mode])
                continue;
            char name[128];
#define LINE(series, what, unit)                                                                   \
    snprintf(name, sizeof(name), "native_bulk.c%d.%s.%s", loads[li], mode_names[mode], what); \
    bench_report(name, &series[li][mode], unit)
            LINE(mbps, "mb_per_s", "MB/s");
            LINE(smbps, "sent_mb_per_s", "MB/s");
            LINE(cpu, "cpu_per_mb_us", "us");
            LINE(cpu1, "cpu1_per_mb_us", "us");
#undef LINE
            double lo = 1e30, hi = 0;
            for (int i = 0; i < mbps[li][mode].n; i++) {
                lo = mbps[li][mode].v[i] < lo ? mbps[li][mode].v[i] : lo;
                hi = mbps[li][mode].v[i] > hi ? mbps[li][mode].v[i] : hi;
            }
            printf("# native_bulk.c%d.%s: rounds from %.0f to %.0f MB/s; the server process used %.0f%% of CPU 1, "
                   "%.0f%% of that in user space (ksoftirqd/1 %.0f%%), the load generator %.0f%% of CPU 0 (ksoftirqd/0 %.0f%%); the load "
                   "generator's TCP retransmitted %.0f segments per window\n",
                   loads[li], mode_names[mode], lo, hi, bench_median(&srv[li][mode]) * 100,
                   bench_median(&upart[li][mode]) * 100,
                   bench_median(&ksi1[li][mode]) * 100, bench_median(&cli[li][mode]) * 100,
                   bench_median(&ksi0[li][mode]) * 100, bench_median(&retr[li][mode]));
        }
        for (int mode = 0; mode < MODE_POSIX; mode++)
            if (ran[li][mode] && ran[li][MODE_POSIX])
                report_ratios(li, mode_names[mode], cpu[li], cpu1[li], mbps[li], mode, MODE_POSIX, "ratio_vs_posix");
        if (ran[li][MODE_ZC] && ran[li][MODE_COPY])
            report_ratios(li, "zc_vs_copy", cpu[li], cpu1[li], mbps[li], MODE_ZC, MODE_COPY, "ratio");
        if (ran[li][MODE_ZC] && ran[li][MODE_NOOFF])
            report_ratios(li, "offload_vs_nooffload", cpu[li], cpu1[li], mbps[li], MODE_ZC, MODE_NOOFF, "ratio");
        fflush(stdout);
    }
    for (int mode = 0; mode < NMODES; mode++) {
        if (!have_met[mode])
            continue;
        char name[128];
#define MLINE(i, what, unit)                                                           \
    snprintf(name, sizeof(name), "native_bulk.%s.%s", mode_names[mode], what); \
    bench_report(name, &met[mode][i], unit)
        MLINE(MET_IN_PLACE, "in_place_bytes_per_mb", "bytes");
        MLINE(MET_BY_REF, "by_reference_bytes_per_mb", "bytes");
        MLINE(MET_GSO_IN, "large_frames_in_per_mb", "frames");
        MLINE(MET_GSO_OUT, "large_frames_out_per_mb", "frames");
#undef MLINE
        printf("# native_bulk.%s: per MB the server received (in place, large frames in) or sent (by reference, "
               "large frames out), over each server's life; per server (median): sea's TCP retransmitted %.0f segments, "
               "the TAP refused %.0f of sea's frames, the kernel dropped %.0f on their way to sea (the TAP's "
               "transmit drops)\n",
               mode_names[mode], bench_median(&met[mode][MET_RETRANS]), bench_median(&met[mode][MET_DROPPED]),
               bench_median(&tapdrop[mode]));
    }
    if (other_load.server_cpu.n) {
        double m1 = bench_median(&other_load.server_cpu), m0 = bench_median(&other_load.client_cpu), x1 = 0, x0 = 0;
        for (int i = 0; i < other_load.server_cpu.n; i++) {
            x1 = other_load.server_cpu.v[i] > x1 ? other_load.server_cpu.v[i] : x1;
            x0 = other_load.client_cpu.v[i] > x0 ? other_load.client_cpu.v[i] : x0;
        }
        printf("# native_bulk: other load, median (worst) of the windows: CPU 1 %.0f%% (%.0f%%) beyond the server "
               "process and ksoftirqd/1, CPU 0 %.0f%% (%.0f%%) beyond the load generator and ksoftirqd/0%s\n",
               m1 * 100, x1 * 100, m0 * 100, x0 * 100, m1 > 0.1 || m0 > 0.1 ? ": DISTURBED, rerun when quiet" : "");
    }
}

int main(int argc, char **argv) {
    if (geteuid() != 0) {
        printf("# bench_native_bulk: needs root (network namespaces, a TAP device, a veth pair): skipped\n");
        return 0;
    }
    static const char *const ips[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip", NULL};
    ip_path = bench_find_tool(ips);
    if (!ip_path) {
        printf("# bench_native_bulk: needs ip (iproute2): skipped\n");
        return 0;
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        printf("# bench_native_bulk: no /dev/net/tun: skipped\n");
        return 0;
    }
    seconds = bench_seconds_arg(argc, argv, 2.0);
    if (argc > 2 && strcmp(argv[2], "all")) {
        for (int m = 0; m < NMODES; m++)
            if (!strcmp(argv[2], mode_names[m]))
                only_mode = m;
        if (only_mode < 0) {
            fprintf(stderr, "%s: unknown mode %s (native_zc, native_copy, native_nooffload, posix, all)\n", prog,
                    argv[2]);
            return 2;
        }
    }
    if (argc > 3 && strcmp(argv[3], "all")) {
        for (int li = 0; li < NLOADS; li++)
            if (atoi(argv[3]) == loads[li])
                only_load = li;
        if (only_load < 0) {
            fprintf(stderr, "%s: unknown number of connections %s (1, 4, all)\n", prog, argv[3]);
            return 2;
        }
    }
    const char *s = getenv("SEA_STREAM_ECHO_SERVER"), *e = getenv("SEA_ECHO_SERVER");
    if (s)
        snprintf(stream_echo_path, sizeof(stream_echo_path), "%s", s);
    else
        bench_next_to_self(stream_echo_path, sizeof(stream_echo_path), "../examples/stream_echo_server");
    if (e)
        snprintf(echo_path, sizeof(echo_path), "%s", e);
    else
        bench_next_to_self(echo_path, sizeof(echo_path), "../examples/echo_server");
    if ((only_mode != MODE_COPY && access(stream_echo_path, X_OK) != 0) ||
        ((only_mode < 0 || only_mode == MODE_COPY) && access(echo_path, X_OK) != 0)) {
        fprintf(stderr, "%s: no %s (build the echo_server and stream_echo_server targets)\n", prog,
                access(stream_echo_path, X_OK) != 0 ? stream_echo_path : echo_path);
        return 1;
    }
    pattern = malloc(PATLEN + CHUNK);
    rbuf = malloc(CHUNK);
    if (!pattern || !rbuf) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    uint64_t rnd = 0x2545F4914F6CDD1DULL;
    for (size_t i = 0; i < PATLEN; i++)
        pattern[i] = (char)(bench_rnd(&rnd) >> 56);
    memcpy(pattern + PATLEN, pattern, CHUNK);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    atexit(cleanup);
    snprintf(log_path, sizeof(log_path), "/tmp/bench_native_bulk-%d.log", (int)getpid());
    home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (!make_network()) {
        fprintf(stderr, "%s: cannot make the namespaces, the TAP and the veth pair\n", prog);
        cleanup();
        return 1;
    }
    if (!bench_enter_ns(ns_main)) {
        fprintf(stderr, "%s: cannot enter namespace %s: %s\n", prog, ns_main, strerror(errno));
        cleanup();
        return 1;
    }
    bench_pin(CLIENT_CPU);
    ksoftirqd[0] = find_kthread("ksoftirqd/0");
    ksoftirqd[1] = find_kthread("ksoftirqd/1");
    printf("# native stack bulk transfer: echo servers (-c1 --cpuset 1) with C connections streaming %d KiB writes "
           "both ways, every byte checked; load generator (the kernel's TCP) on CPU 0 in %s; native modes on TAP %s "
           "(sea " TAP_SEA_ADDR "), posix on veth %s/%s (the kernel's TCP both sides: a TAP's other side is the "
           "kernel's stack, so the interfaces must differ); medians of %d rounds of %.1f s; MB = 10^6 bytes\n",
           CHUNK / 1024, ns_main, tap_dev, veth_client, veth_server, getenv("SEA_BENCH_RUNS") ? bench_runs() : 5,
           seconds);
    fflush(stdout);
    run_all();
    if (errors) {
        printf("native_bulk.errors: %ld\n", errors);
        fprintf(stderr, "%s: the servers' messages are in %s\n", prog, log_path);
    } else {
        unlink(log_path);
    }
    cleanup();
    return errors ? 1 : 0;
}
