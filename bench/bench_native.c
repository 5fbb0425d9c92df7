/*
 * bench_native.c - sea's own TCP/IP stack (issue 19) against the kernel's,
 * for the same server on the same interface: the echo server
 * (examples/echo_server) and sea-memcached, each run with the POSIX stack
 * (the kernel's sockets) and with --network-stack=native on AF_XDP.
 *
 * The benchmark makes two network namespaces, sea-bn-s-PID (the server's)
 * and sea-bn-c-PID (the load generator's), joined by a veth pair: bns-PID in
 * the server's namespace, bnc-PID (10.75.0.1/24) in the client's, each with
 * two queues each way.  The
 * server's end has the kernel address 10.75.0.2/24 for both runs: in POSIX
 * mode the kernel answers on it; in native mode sea's XDP program takes
 * every frame of queue 0 (and 1, with two shards) of that interface (AF_XDP,
 * copy mode: veth offers no zero-copy) and sea answers as 10.75.0.2 with the
 * interface's MAC.  The
 * kernel's end stops offloading checksums (ethtool -K bnc-PID tx off) for
 * both runs: AF_XDP frames carry no checksum state, so sea would drop
 * frames whose checksum the kernel left for the hardware to fill in.  Both
 * namespaces (and with them the veth pair) are deleted at the end, also
 * after a failure or on SIGINT/SIGTERM.
 *
 * The server is a child process that joins the server's namespace
 * (setns(2) on /run/netns/NAME) and is pinned to CPU 1 before exec, and
 * runs with "-c1 --cpuset 1" (one shard).  The load generator is this
 * process, in the client's namespace, pinned to CPU 0: one epoll loop over C
 * nonblocking TCP_NODELAY connections, each with one request outstanding
 * (ping-pong), every answer checked byte for byte.  The client's end sends
 * on one queue (ethtool -L bnc-PID tx 1), so every frame reaches queue 0.
 *
 * Two shards ("s2" in the names): the machine this was written on has two
 * CPUs, so the server runs "-c2 --cpuset 0-1", pinned to both, and the load
 * generator is unpinned, sharing them with the server and with the kernel's
 * work for both sides: these figures show what the second shard, the
 * steering and the cross-shard paths cost or give on the same two CPUs, not
 * how the stack scales (that needs CPUs the load generator does not use).
 * The client's end sends on two queues; in native mode veth_steer (built
 * with the tests, tests/unit/native/veth_steer.c) holds a tc program on it
 * that puts each connection on the queue of the shard that owns it, what a
 * NIC's RSS would do, and the frames one shard forwarded to the other are
 * read from the server's metrics (sea_native_frames_forwarded_total, via
 * --prometheus-port and curl) and printed: 0 when the steering works.
 *
 *     bench_native [seconds per measurement, default 2] [figure] [mode] [shards]
 *
 * Figures (both by default): echo (64-byte messages echoed back) and
 * memcached (sea-memcached's text protocol: 1 set in 10, gets otherwise,
 * 32-byte values, 1,000 keys stored beforehand so that every get hits).
 * Modes: posix, native (both by default).  Shards: 1, 2 (both by default;
 * a figure may be "all").  Loads: C = 8 connections (the
 * default load, the one the ratios use) and C = 1.  Each measurement has
 * 0.3 s of warm-up, then the window.
 *
 * Reported per figure, mode and load (medians of SEA_BENCH_RUNS rounds,
 * default 5; each round starts each mode's server afresh, in alternating
 * order, and stops it with SIGTERM, which must end it with status 0):
 *   native.FIG.cC.MODE.rt_per_s        round trips (requests) per second
 *   native.FIG.cC.MODE.p99_us          99th percentile round-trip time
 *   native.FIG.cC.MODE.cpu_per_rt_us   the server process's user + system
 *                                      time (/proc/PID/stat) per round trip
 *   native.FIG.cC.MODE.cpu1_per_rt_us  CPU 1's busy time (/proc/stat) per
 *                                      round trip: also the kernel's softirq
 *                                      work done there
 * and at the default load
 *   native.FIG.cpu_per_rt.ratio_vs_posix   native / posix, server CPU per
 *                                          round trip (issue 19's target:
 *                                          <= 0.5)
 *   native.FIG.cpu1_per_rt.ratio_vs_posix  the same with CPU 1's busy time
 *   native.FIG.rt_per_s.ratio_vs_posix     native / posix, round trips/s
 * and with two shards the same as native.FIG.s2.cC.MODE.* (no cpu1_per_rt:
 * both CPUs are shared), native.FIG.s2.{cpu_per_rt,rt_per_s}.ratio_vs_posix,
 * native.FIG.s2.MODE.rt_per_s.ratio_vs_s1, and a note of the frames
 * forwarded between the shards.
 *
 * With SEA_BENCH_NATIVE_SYSCALLS=1, `perf stat` counts the server's system
 * calls (the raw_syscalls:sys_enter tracepoint and one per call of
 * interest) over each measured window, and per mode and load
 *   native.FIG.cC.MODE.syscalls_per_rt  all of them, per round trip
 * is printed with a note of the main ones (sendto, io_uring_enter, ...).
 * Counting at a tracepoint costs the server a little, so these runs are
 * apart from the figures above.
 *
 * Environment: SEA_ECHO_SERVER (default ../examples/echo_server next to
 * this program), SEA_MEMCACHED (default ../apps/sea-memcached),
 * SEA_VETH_STEER (default ../tests/veth_steer; without it no native
 * two-shard figure),
 * SEA_BENCH_RUNS, SEA_BENCH_NATIVE_ARGS (words added to every server's
 * command line, e.g. --idle-poll-us=0), SEA_BENCH_NATIVE_PREFIX (words put
 * before it, e.g. "strace -c -f -o /tmp/x"), SEA_BENCH_NATIVE_RPS=1 (RPS on both
 * veth ends: rps_cpus 1 on the client's, 2 on the server's, so that each
 * side's kernel receives on its own CPU as with a NIC, instead of on the
 * sending CPU as veth does; the native server's XDP receive still runs on
 * the client's CPU, RPS acting after XDP).
 *
 * The servers' stderr goes to /tmp/bench_native-PID.log, removed at the end
 * unless there was an error.
 *
 * Without root it says so on one line and exits 0.  An error (a wrong
 * answer, a closed connection, 5 s without an answer, a server that does
 * not start or does not exit cleanly) is printed and makes it exit with 1.
 */
#include "bench.h"
#include "bench_proc.h"
#include "bench_netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#define SERVER_ADDR "10.75.0.2"
#define CLIENT_ADDR "10.75.0.1"
#define ECHO_PORT 1234
#define MC_PORT 11211
#define MAX_CONNS 64
#define MSG 64
#define MC_KEYS 1000
#define MC_VALUE 32
#define MAX_SAMPLES (8u << 20)
#define METRICS_PORT 9180 /* the two-shard native server's Prometheus endpoint, on its namespace's loopback */

static const char *prog = "bench_native";
static char ns_server[64], ns_client[64], veth_server[16], veth_client[16];
static const char *ip_path, *ethtool_path, *curl_path;
static char steer_path[PATH_MAX + 64]; /* veth_steer, or "" */
static int home_ns = -1;       /* this process's network namespace at the start */
static bool made_ns[2];        /* which namespaces exist (to delete) */
static volatile sig_atomic_t cleaning;
static char log_path[64]; /* the servers' stderr (start-up stall warnings...): kept and named after an error */
static long errors;

/* ---- the network: clean-up (also from the signal handler) and setup commands (bench_netns.h) ---- */

/* The namespaces deleted (the veth pair goes with them), this process back home first. */
static void cleanup(void) {
    if (cleaning)
        return;
    cleaning = 1;
    bench_kill_children();
    bench_netns_delete(ip_path, home_ns, (const char *const[]){ns_server, ns_client}, made_ns, 2);
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

/* The same, its output (ethtool's list of what changed) not shown. */
static bool setup_cmd_quiet(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    bool ok = bench_setup_vcmd(prog, true, fmt, ap);
    va_end(ap);
    return ok;
}

/*
 * SEA_BENCH_NATIVE_RPS=1: the receive processing of frames arriving on ifname
 * steered to the CPUs of mask (RPS), so that each side's kernel receives on
 * its own CPU, as with a NIC, rather than on the sender's, as a veth does.
 */
static bool set_rps(const char *ns, const char *ifname, const char *mask) {
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "echo %s > /sys/class/net/%s/queues/rx-0/rps_cpus", mask, ifname);
    char *argv[] = {(char *)ip_path, "netns", "exec", (char *)ns, "sh", "-c", cmd, NULL};
    if (bench_run(argv, true) == 0)
        return true;
    fprintf(stderr, "%s: error: cannot set RPS on %s\n", prog, ifname);
    return false;
}

/* The two namespaces and the veth pair between them; false (and said) if they cannot be made. */
static bool make_network(const char *ethtool, bool rps) {
    int pid = (int)getpid();
    snprintf(ns_server, sizeof(ns_server), "sea-bn-s-%d", pid);
    snprintf(ns_client, sizeof(ns_client), "sea-bn-c-%d", pid);
    snprintf(veth_server, sizeof(veth_server), "bns-%d", pid);
    snprintf(veth_client, sizeof(veth_client), "bnc-%d", pid);
    const char *ip = ip_path;
    if (!setup_cmd("%s netns add %s", ip, ns_server))
        return false;
    made_ns[0] = true;
    if (!setup_cmd("%s netns add %s", ip, ns_client))
        return false;
    made_ns[1] = true;
    return setup_cmd("%s -n %s link set lo up", ip, ns_server) && setup_cmd("%s -n %s link set lo up", ip, ns_client) &&
           setup_cmd("%s link add %s netns %s numrxqueues 2 numtxqueues 2 type veth peer name %s netns %s "
                     "numrxqueues 2 numtxqueues 2",
                     ip, veth_server, ns_server, veth_client, ns_client) &&
           setup_cmd("%s -n %s addr add " SERVER_ADDR "/24 dev %s", ip, ns_server, veth_server) &&
           setup_cmd("%s -n %s link set %s up", ip, ns_server, veth_server) &&
           setup_cmd("%s -n %s addr add " CLIENT_ADDR "/24 dev %s", ip, ns_client, veth_client) &&
           setup_cmd("%s -n %s link set %s up", ip, ns_client, veth_client) &&
           setup_cmd_quiet("%s netns exec %s %s -K %s tx off", ip, ns_client, ethtool, veth_client) &&
           (!rps || (set_rps(ns_client, veth_client, "1") && set_rps(ns_server, veth_server, "2")));
}

/* ---- the servers ---- */

enum { FIG_ECHO, FIG_MC, NFIGS };
static const char *const fig_names[NFIGS] = {"echo", "memcached"};
enum { MODE_POSIX, MODE_NATIVE, NMODES };
static const char *const mode_names[NMODES] = {"posix", "native"};

static char echo_path[PATH_MAX + 64], mc_path[PATH_MAX + 64];

static int fig_port(int fig) { return fig == FIG_ECHO ? ECHO_PORT : MC_PORT; }

/*
 * Starts fig's server in mode with shards (1 or 2), in the server's
 * namespace, pinned to CPU 1 (two shards: CPUs 0 and 1); its PID, or -1.
 */
static pid_t start_server(int fig, int mode, int shards) {
    char *argv[64];
    int n = 0;
    char *prefix = bench_env_words("SEA_BENCH_NATIVE_PREFIX", argv, &n, 16);
    argv[n++] = fig == FIG_ECHO ? echo_path : mc_path;
    argv[n++] = shards == 2 ? "-c2" : "-c1";
    argv[n++] = "--cpuset";
    argv[n++] = shards == 2 ? "0-1" : "1";
    argv[n++] = "--default-log-level";
    argv[n++] = "warn";
    if (mode == MODE_NATIVE) {
        argv[n++] = "--network-stack=native";
        argv[n++] = "--xdp-device";
        argv[n++] = veth_server;
        argv[n++] = "--host-ipv4-addr";
        argv[n++] = SERVER_ADDR;
        argv[n++] = "--netmask-ipv4-addr";
        argv[n++] = "255.255.255.0";
        if (shards == 2) {
            argv[n++] = "--prometheus-port";
            argv[n++] = STR(METRICS_PORT);
        }
    }
    char *extra = bench_env_words("SEA_BENCH_NATIVE_ARGS", argv, &n, 48);
    if (fig == FIG_ECHO) {
        argv[n++] = "0.0.0.0:1234";
    } else {
        argv[n++] = "-m";
        argv[n++] = "268435456";
        argv[n++] = "-l";
        argv[n++] = "0.0.0.0";
        argv[n++] = "-p";
        argv[n++] = "11211";
    }
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (!bench_enter_ns(ns_server)) {
            fprintf(stderr, "%s: cannot enter namespace %s: %s\n", prog, ns_server, strerror(errno));
            _exit(127);
        }
        if (shards == 2)
            bench_pin_cpus(0, 1);
        else
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
        execvp(argv[0], argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", prog, argv[0], strerror(errno));
        _exit(127);
    }
    free(prefix);
    free(extra);
    if (pid > 0)
        bench_child_add(pid);
    return pid;
}

/* ---- two shards: the client's queues, the steering, the forwarded frames ---- */

static pid_t steer_pid = -1;

/* Stops veth_steer (SIGTERM: it detaches its program and exits 0); false if it did not end cleanly. */
static bool steer_stop(void) {
    if (steer_pid <= 0)
        return true;
    char why[128];
    bool ok = bench_stop_child(steer_pid, NULL, why, sizeof(why));
    if (!ok)
        BENCH_FAIL(errors, 20, prog, "veth_steer %s", why);
    steer_pid = -1;
    return ok;
}

/*
 * Readies the client's side for a round with shards: its end of the veth
 * sends on as many queues (one: every frame to queue 0, which the one shard
 * serves), the steering program on it for a native server with two, and the
 * load generator pinned to CPU 0 (one shard) or on both CPUs (two).
 */
static bool shards_setup(int shards, int mode) {
    steer_stop();
    if (!setup_cmd_quiet("%s -L %s tx %d", ethtool_path, veth_client, shards))
        return false;
    if (shards == 2)
        bench_pin_cpus(0, 1);
    else
        bench_pin(CLIENT_CPU);
    if (shards == 1 || mode != MODE_NATIVE)
        return true;
    int p[2];
    if (pipe(p) < 0)
        return false;
    char *argv[] = {steer_path, veth_client, "2", NULL};
    struct bench_spawn o = {.who = prog, .deathsig = true, .default_signals = true, .pipe = p};
    steer_pid = bench_spawn(argv, &o);
    if (steer_pid > 0)
        bench_child_add(steer_pid);
    char line[256] = "";
    size_t got = 0;
    for (int i = 0; steer_pid > 0 && i < 500 && !memchr(line, '\n', got) && got < sizeof(line) - 1; i++) {
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        if (poll(&pf, 1, 10) <= 0)
            continue;
        ssize_t r = read(p[0], line + got, sizeof(line) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        line[got] = 0;
    }
    close(p[0]);
    if (!strstr(line, "steering ")) {
        BENCH_FAIL(errors, 20, prog, "veth_steer did not start: %s", line);
        steer_stop();
        return false;
    }
    return true;
}

/* The sum over shards of a counter from the two-shard native server's metrics; -1 if it cannot be read. */
static double server_metric(const char *name) {
    if (!curl_path)
        return -1;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s netns exec %s %s -s -m 5 http://127.0.0.1:%d/metrics", ip_path, ns_server,
             curl_path, METRICS_PORT);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char line[512];
    double sum = -1;
    size_t len = strlen(name);
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, name, len) && line[len] == '{') {
            char *sp = strrchr(line, ' ');
            sum = (sum < 0 ? 0 : sum) + (sp ? strtod(sp + 1, NULL) : 0);
        }
    pclose(f);
    return sum;
}

/* ---- the load generator ---- */

/* A blocking connection to the server with TCP_NODELAY, then nonblocking; -1 if it cannot be made. */
static int connect_server(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, SERVER_ADDR, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

struct conn {
    int fd;
    char req[128];
    size_t reqlen;
    char want[128]; /* the answer expected, byte for byte */
    size_t wantlen;
    char in[256];
    size_t got;
    int64_t sent_ns;
    uint64_t seq, rnd;
};

static void mc_value(int key, char *out) {
    for (int i = 0; i < MC_VALUE; i++)
        out[i] = (char)('a' + (key * 7 + i) % 26);
}

/* The next request of c and the answer it must get. */
static void next_request(int fig, struct conn *c) {
    c->seq++;
    if (fig == FIG_ECHO) {
        for (int i = 0; i < MSG; i++)
            c->req[i] = (char)('A' + (c->seq + (uint64_t)i) % 58);
        c->reqlen = MSG;
        memcpy(c->want, c->req, MSG);
        c->wantlen = MSG;
        return;
    }
    uint64_t r = bench_rnd(&c->rnd);
    int key = (int)((r >> 8) % MC_KEYS);
    char value[MC_VALUE];
    mc_value(key, value);
    if (r % 10 == 0) {
        int h = snprintf(c->req, sizeof(c->req), "set key:%04d 0 0 %d\r\n", key, MC_VALUE);
        memcpy(c->req + h, value, MC_VALUE);
        memcpy(c->req + h + MC_VALUE, "\r\n", 2);
        c->reqlen = (size_t)h + MC_VALUE + 2;
        memcpy(c->want, "STORED\r\n", 8);
        c->wantlen = 8;
    } else {
        c->reqlen = (size_t)snprintf(c->req, sizeof(c->req), "get key:%04d\r\n", key);
        int h = snprintf(c->want, sizeof(c->want), "VALUE key:%04d 0 %d\r\n", key, MC_VALUE);
        memcpy(c->want + h, value, MC_VALUE);
        memcpy(c->want + h + MC_VALUE, "\r\nEND\r\n", 7);
        c->wantlen = (size_t)h + MC_VALUE + 7;
    }
}

/* Sends c's request whole (a short one: the socket has room unless something is wrong, then bounded retries). */
static bool send_request(struct conn *c) {
    size_t off = 0;
    for (int tries = 0; off < c->reqlen && tries < 100000; tries++) {
        ssize_t w = send(c->fd, c->req + off, c->reqlen - off, MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EINTR)
            return false;
    }
    c->sent_ns = bench_ns();
    c->got = 0;
    return off == c->reqlen;
}

/* ---- counting the server's system calls (SEA_BENCH_NATIVE_SYSCALLS=1) ---- */

static const char *perf_path;
static const char *const sc_names[] = {"sendto", "recvfrom", "io_uring_enter", "epoll_wait", "epoll_pwait", "read",
                                       "write", "writev", "readv", "sendmsg", "recvmsg", "poll", "ppoll"};
#define NSC (int)(sizeof(sc_names) / sizeof(sc_names[0]))

struct sc_counts {
    double all, each[NSC];
};

/* Starts perf stat on pid, its counts to file; its PID, or -1. */
static pid_t sc_start(pid_t pid, const char *file) {
    static char events[1024], pidtext[16];
    int n = snprintf(events, sizeof(events), "raw_syscalls:sys_enter");
    for (int i = 0; i < NSC; i++)
        n += snprintf(events + n, sizeof(events) - (size_t)n, ",syscalls:sys_enter_%s", sc_names[i]);
    snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
    char *argv[] = {(char *)perf_path, "stat", "-x", ",", "-e", events, "-p", pidtext, "-o", (char *)file, NULL};
    struct bench_spawn o = {.who = prog, .pin = true, .cpu_first = CLIENT_CPU, .cpu_last = CLIENT_CPU,
                            .deathsig = true, .default_signals = true};
    pid_t p = bench_spawn(argv, &o);
    if (p > 0) {
        bench_child_add(p);
        usleep(100000); /* perf attaches */
    }
    return p;
}

/* Stops perf (SIGINT: it writes its counts) and reads them; false if it cannot. */
static bool sc_stop(pid_t p, const char *file, struct sc_counts *out) {
    memset(out, 0, sizeof(*out));
    kill(p, SIGINT);
    int st;
    for (int i = 0; i < 300 && waitpid(p, &st, WNOHANG) != p; i++)
        usleep(10000);
    kill(p, SIGKILL);
    waitpid(p, &st, WNOHANG);
    bench_child_forget(p);
    FILE *f = fopen(file, "r");
    if (!f)
        return false;
    char line[512];
    bool any = false;
    while (fgets(line, sizeof(line), f)) {
        char *comma = strchr(line, ',');
        if (!comma || line[0] == '#')
            continue;
        double v = strtod(line, NULL);
        char *ev = strchr(comma + 1, ',');
        if (!ev)
            continue;
        ev++;
        if (!strncmp(ev, "raw_syscalls:sys_enter,", 23)) {
            out->all = v;
            any = true;
        }
        for (int i = 0; i < NSC; i++) {
            char want[64];
            int len = snprintf(want, sizeof(want), "syscalls:sys_enter_%s,", sc_names[i]);
            if (!strncmp(ev, want, (size_t)len))
                out->each[i] = v;
        }
    }
    fclose(f);
    unlink(file);
    return any;
}

struct result {
    double rt_per_s, p99_us, cpu_us, cpu1_us, client_share, server_share;
    double trips;
    struct sc_counts sc;
    bool have_sc;
};

static uint32_t *samples;
static struct bench_other_load other_load;

/*
 * Ping-pong on nconn connections to the server (pid, port) for 0.3 s of
 * warm-up, then secs measured; ok false (and errors counted) on a wrong
 * answer, a closed connection or 5 s without any answer.
 */
static struct result load(int fig, pid_t pid, int nconn, double secs, int shards, bool *ok) {
    struct result res = {0};
    static struct conn conns[MAX_CONNS];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    *ok = ep >= 0;
    int opened = 0;
    for (int i = 0; i < nconn && *ok; i++, opened++) {
        struct conn *c = &conns[i];
        memset(c, 0, sizeof(*c));
        c->rnd = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
        c->fd = connect_server(fig_port(fig));
        if (c->fd < 0) {
            BENCH_FAIL(errors, 20, prog, "%s: cannot connect: %s", fig_names[fig], strerror(errno));
            *ok = false;
            break;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
    for (int i = 0; i < opened && *ok; i++) {
        next_request(fig, &conns[i]);
        if (!send_request(&conns[i])) {
            BENCH_FAIL(errors, 20, prog, "%s: send failed: %s", fig_names[fig], strerror(errno));
            *ok = false;
        }
    }
    long trips = 0;
    size_t ns = 0;
    struct bench_cpu_use u0 = {0};
    int64_t start = bench_ns(), t0 = 0, warm = start + 300000000, last_answer = start;
    bool measuring = false;
    pid_t perf = -1;
    char perf_file[64];
    snprintf(perf_file, sizeof(perf_file), "/tmp/bench_native-%d.perf", (int)getpid());
    while (*ok) {
        int64_t now = bench_ns();
        if (!measuring && now >= warm) {
            measuring = true;
            if (perf_path) {
                perf = sc_start(pid, perf_file);
                now = bench_ns();
            }
            trips = 0;
            ns = 0;
            t0 = now;
            u0 = bench_cpu_use_now(pid, SERVER_CPU, CLIENT_CPU);
        }
        if (measuring && now - t0 >= (int64_t)(secs * 1e9))
            break;
        if (now - last_answer > 5000000000LL) {
            BENCH_FAIL(errors, 20, prog, "%s: no answer for 5 s", fig_names[fig]);
            *ok = false;
            break;
        }
        struct epoll_event evs[MAX_CONNS];
        int n = epoll_wait(ep, evs, MAX_CONNS, 100);
        for (int k = 0; k < n && *ok; k++) {
            struct conn *c = &conns[evs[k].data.u32];
            ssize_t r = recv(c->fd, c->in + c->got, sizeof(c->in) - c->got, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0) {
                BENCH_FAIL(errors, 20, prog, "%s: connection %s", fig_names[fig], r ? strerror(errno) : "closed");
                *ok = false;
                break;
            }
            c->got += (size_t)r;
            if (c->got < c->wantlen)
                continue;
            if (c->got > c->wantlen || memcmp(c->in, c->want, c->wantlen) != 0) {
                BENCH_FAIL(errors, 20, prog, "%s: wrong answer (%zu bytes, expected %zu: %.*s)", fig_names[fig],
                           c->got, c->wantlen, (int)c->wantlen, c->want);
                *ok = false;
                break;
            }
            int64_t t = bench_ns();
            last_answer = t;
            trips++;
            if (measuring && ns < MAX_SAMPLES) {
                int64_t d = t - c->sent_ns;
                samples[ns++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
            }
            next_request(fig, c);
            if (!send_request(c)) {
                BENCH_FAIL(errors, 20, prog, "%s: send failed: %s", fig_names[fig], strerror(errno));
                *ok = false;
            }
        }
    }
    if (*ok) {
        double elapsed = (double)(bench_ns() - t0) / 1e9;
        struct bench_cpu_use u = bench_cpu_use_since(&u0, pid, SERVER_CPU, CLIENT_CPU);
        res.trips = (double)trips;
        if (perf > 0)
            res.have_sc = sc_stop(perf, perf_file, &res.sc);
        /* The answers outstanding are drained before the connections close, so the server sees clean ends. */
        for (int i = 0; i < opened; i++) {
            struct conn *c = &conns[i];
            for (int64_t end = bench_ns() + 2000000000LL; c->got < c->wantlen && bench_ns() < end;) {
                ssize_t r = recv(c->fd, c->in + c->got, sizeof(c->in) - c->got, 0);
                if (r > 0)
                    c->got += (size_t)r;
                else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                    break;
                else
                    usleep(100);
            }
        }
        if (shards == 1) /* (with two, both CPUs are the server's and the load generator's alike) */
            bench_other_load_window(&other_load, &u, elapsed);
        res.rt_per_s = (double)trips / elapsed;
        res.cpu_us = trips ? u.proc_cpu / (double)trips * 1e6 : 0;
        res.cpu1_us = trips ? u.busy_cpu / (double)trips * 1e6 : 0;
        res.server_share = u.proc_cpu / elapsed;
        res.client_share = u.client_cpu / elapsed;
        bench_sort_u32(samples, ns);
        res.p99_us = bench_percentile_us(samples, ns, 0.99);
    }
    for (int i = 0; i < opened; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    if (ep >= 0)
        close(ep);
    if (perf > 0 && !res.have_sc)
        sc_stop(perf, perf_file, &res.sc);
    return res;
}

/* Waits (at most 10 s) until the server accepts a connection; false if it exited (*exited set) or never did. */
static bool wait_ready(int fig, pid_t pid, bool *exited) {
    *exited = false;
    for (int i = 0; i < 200; i++) {
        int st;
        if (bench_child_exited(pid, &st)) {
            *exited = true;
            BENCH_FAIL(errors, 20, prog, "%s: the server exited at start (status 0x%x)", fig_names[fig], st);
            return false;
        }
        int fd = connect_server(fig_port(fig));
        if (fd >= 0) {
            close(fd);
            return true;
        }
        usleep(50000);
    }
    BENCH_FAIL(errors, 20, prog, "%s: the server did not accept connections within 10 s", fig_names[fig]);
    return false;
}

/* Stores every key once (sea-memcached starts empty); false on a wrong answer. */
static bool mc_preload(void) {
    int fd = connect_server(MC_PORT);
    if (fd < 0)
        return false;
    fcntl(fd, F_SETFL, 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    bool ok = true;
    for (int k = 0; k < MC_KEYS && ok; k++) {
        char req[128], value[MC_VALUE], in[16];
        mc_value(k, value);
        int h = snprintf(req, sizeof(req), "set key:%04d 0 0 %d\r\n", k, MC_VALUE);
        memcpy(req + h, value, MC_VALUE);
        memcpy(req + h + MC_VALUE, "\r\n", 2);
        ok = bench_send_all(fd, req, (size_t)h + MC_VALUE + 2);
        size_t got = 0;
        while (ok && got < 8) {
            ssize_t r = recv(fd, in + got, 8 - got, 0);
            ok = r > 0;
            got += r > 0 ? (size_t)r : 0;
        }
        ok = ok && memcmp(in, "STORED\r\n", 8) == 0;
    }
    close(fd);
    if (!ok)
        BENCH_FAIL(errors, 20, prog, "memcached: storing the keys failed");
    return ok;
}

/* ---- the figures ---- */

static const int loads[] = {8, 1};
#define NLOADS 2

static double seconds;
static const char *only_mode;
static int only_shards; /* 1 or 2; 0: both */

#define NSHARDS 2 /* [0]: one shard, [1]: two */

static void fig_run(int fig) {
    int runs = getenv("SEA_BENCH_RUNS") ? bench_runs() : 5;
    static struct bench_series rt[NSHARDS][NMODES][NLOADS], p99[NSHARDS][NMODES][NLOADS],
        cpu[NSHARDS][NMODES][NLOADS], cpu1[NSHARDS][NMODES][NLOADS], srv[NSHARDS][NMODES][NLOADS],
        cli[NSHARDS][NMODES][NLOADS], sc_all[NSHARDS][NMODES][NLOADS], sc_each[NSHARDS][NMODES][NLOADS][NSC],
        fwd[NSHARDS], rx[NSHARDS];
    memset(rt, 0, sizeof(rt));
    memset(p99, 0, sizeof(p99));
    memset(cpu, 0, sizeof(cpu));
    memset(cpu1, 0, sizeof(cpu1));
    memset(srv, 0, sizeof(srv));
    memset(cli, 0, sizeof(cli));
    memset(sc_all, 0, sizeof(sc_all));
    memset(sc_each, 0, sizeof(sc_each));
    memset(fwd, 0, sizeof(fwd));
    memset(rx, 0, sizeof(rx));
    bool ran[NSHARDS][NMODES] = {{false}};
    for (int si = 0; si < NSHARDS; si++) {
        int shards = si + 1;
        if (only_shards && only_shards != shards)
            continue;
        for (int r = 0; r < runs; r++)
            for (int k = 0; k < NMODES; k++) {
                int mode = r % 2 ? NMODES - 1 - k : k;
                if (only_mode && strcmp(only_mode, mode_names[mode]) != 0)
                    continue;
                if (shards == 2 && mode == MODE_NATIVE && !steer_path[0])
                    continue; /* (said once, at the start) */
                if (!shards_setup(shards, mode))
                    return;
                pid_t pid = start_server(fig, mode, shards);
                if (pid < 0) {
                    BENCH_FAIL(errors, 20, prog, "cannot fork");
                    return;
                }
                bool exited;
                bool ok = wait_ready(fig, pid, &exited);
                if (exited)
                    return; /* already waited for: nothing to stop */
                if (ok && fig == FIG_MC)
                    ok = mc_preload();
                for (int li = 0; li < NLOADS && ok; li++) {
                    struct result res = load(fig, pid, loads[li], seconds, shards, &ok);
                    if (!ok)
                        break;
                    bench_add(&rt[si][mode][li], res.rt_per_s);
                    bench_add(&p99[si][mode][li], res.p99_us);
                    bench_add(&cpu[si][mode][li], res.cpu_us);
                    bench_add(&cpu1[si][mode][li], res.cpu1_us);
                    bench_add(&srv[si][mode][li], res.server_share);
                    bench_add(&cli[si][mode][li], res.client_share);
                    if (res.have_sc && res.trips > 0) {
                        bench_add(&sc_all[si][mode][li], res.sc.all / res.trips);
                        for (int i = 0; i < NSC; i++)
                            bench_add(&sc_each[si][mode][li][i], res.sc.each[i] / res.trips);
                    }
                    ran[si][mode] = true;
                }
                if (ok && shards == 2 && mode == MODE_NATIVE) { /* over the server's whole run, warm-ups included */
                    double f = server_metric("sea_native_frames_forwarded_total"),
                           n = server_metric("sea_native_frames_received_total");
                    if (f >= 0 && n >= 0) {
                        bench_add(&fwd[si], f);
                        bench_add(&rx[si], n);
                    }
                }
                char why[128];
                if (!bench_stop_child(pid, NULL, why, sizeof(why)))
                    BENCH_FAIL(errors, 20, prog, "%s %s server %s", fig_names[fig], mode_names[mode], why);
                if (!steer_stop() || !ok)
                    return;
                usleep(200000);
            }
    }
    for (int si = 0; si < NSHARDS; si++)
        for (int li = 0; li < NLOADS; li++)
            for (int mode = 0; mode < NMODES; mode++) {
                if (!ran[si][mode])
                    continue;
                char name[128];
                const char *sh = si ? ".s2" : "";
#define LINE(series, what, unit)                                                                                  \
    snprintf(name, sizeof(name), "native.%s%s.c%d.%s.%s", fig_names[fig], sh, loads[li], mode_names[mode], what); \
    bench_report(name, &series[si][mode][li], unit)
                LINE(rt, "rt_per_s", "rt/s");
                LINE(p99, "p99_us", "us");
                LINE(cpu, "cpu_per_rt_us", "us");
                if (si == 0) {
                    LINE(cpu1, "cpu1_per_rt_us", "us");
                    printf("# native.%s.c%d.%s: the server process used %.0f%% of CPU 1, the load generator %.0f%% "
                           "of CPU 0\n",
                           fig_names[fig], loads[li], mode_names[mode], bench_median(&srv[si][mode][li]) * 100,
                           bench_median(&cli[si][mode][li]) * 100);
                } else {
                    printf("# native.%s.s2.c%d.%s: the server process (2 shards) used %.0f%% of a CPU, the load "
                           "generator %.0f%%, all on CPUs 0 and 1\n",
                           fig_names[fig], loads[li], mode_names[mode], bench_median(&srv[si][mode][li]) * 100,
                           bench_median(&cli[si][mode][li]) * 100);
                }
                if (sc_all[si][mode][li].n) {
                    LINE(sc_all, "syscalls_per_rt", "calls");
                    printf("# native.%s%s.c%d.%s: system calls per round trip:", fig_names[fig], sh, loads[li],
                           mode_names[mode]);
                    for (int i = 0; i < NSC; i++) {
                        double v = bench_median(&sc_each[si][mode][li][i]);
                        if (v >= 0.005)
                            printf(" %s %.2f", sc_names[i], v);
                    }
                    printf("\n");
                }
#undef LINE
            }
    for (int si = 0; si < NSHARDS; si++) {
        const char *sh = si ? ".s2" : "";
        if (ran[si][MODE_POSIX] && ran[si][MODE_NATIVE]) {
            char name[128];
            snprintf(name, sizeof(name), "native.%s%s.cpu_per_rt.ratio_vs_posix", fig_names[fig], sh);
            double c = bench_median(&cpu[si][MODE_NATIVE][0]) / bench_median(&cpu[si][MODE_POSIX][0]);
            printf("%s: %.2fx\n", name, c);
            if (si == 0) {
                snprintf(name, sizeof(name), "native.%s.cpu1_per_rt.ratio_vs_posix", fig_names[fig]);
                bench_ratio(name, bench_median(&cpu1[si][MODE_NATIVE][0]), bench_median(&cpu1[si][MODE_POSIX][0]));
            }
            snprintf(name, sizeof(name), "native.%s%s.rt_per_s.ratio_vs_posix", fig_names[fig], sh);
            bench_ratio(name, bench_median(&rt[si][MODE_NATIVE][0]), bench_median(&rt[si][MODE_POSIX][0]));
            if (si == 0)
                printf("# native.%s target (issue 19): native server CPU per round trip <= 0.5x posix's at c%d: %s\n",
                       fig_names[fig], loads[0], c <= 0.5 ? "met" : "MISSED");
        }
    }
    for (int mode = 0; mode < NMODES; mode++)
        if (ran[0][mode] && ran[1][mode]) {
            char name[128];
            snprintf(name, sizeof(name), "native.%s.s2.%s.rt_per_s.ratio_vs_s1", fig_names[fig], mode_names[mode]);
            bench_ratio(name, bench_median(&rt[1][mode][0]), bench_median(&rt[0][mode][0]));
        }
    if (ran[1][MODE_NATIVE])
        printf("# native.%s.s2.native: frames forwarded between the shards (veth_steer on): %s; median per run %.0f "
               "of %.0f frames received\n",
               fig_names[fig], fwd[1].n ? "counted" : "not read (no curl?)", fwd[1].n ? bench_median(&fwd[1]) : 0,
               rx[1].n ? bench_median(&rx[1]) : 0);
    bench_other_load_note(&other_load, fig_names[fig], "the server process");
}

int main(int argc, char **argv) {
    if (geteuid() != 0) {
        printf("# bench_native: needs root (network namespaces, a veth pair, AF_XDP): skipped\n");
        return 0;
    }
    static const char *const ips[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip", NULL};
    static const char *const ethtools[] = {"/usr/sbin/ethtool", "/sbin/ethtool", "/usr/bin/ethtool", NULL};
    static const char *const curls[] = {"/usr/bin/curl", "/usr/local/bin/curl", "/bin/curl", NULL};
    ip_path = bench_find_tool(ips);
    const char *ethtool = ethtool_path = bench_find_tool(ethtools);
    curl_path = bench_find_tool(curls);
    if (!ip_path || !ethtool) {
        printf("# bench_native: needs %s (scripts/setup.sh installs it): skipped\n",
               !ip_path ? "ip (iproute2)" : "ethtool");
        return 0;
    }
    seconds = bench_seconds_arg(argc, argv, 2.0);
    const char *only_fig = argc > 2 ? argv[2] : NULL;
    only_mode = argc > 3 ? argv[3] : NULL;
    if (only_fig && !strcmp(only_fig, "all"))
        only_fig = NULL;
    if (only_mode && !strcmp(only_mode, "all"))
        only_mode = NULL;
    if (argc > 4 && strcmp(argv[4], "1") && strcmp(argv[4], "2") && strcmp(argv[4], "all")) {
        fprintf(stderr, "%s: unknown shards %s (1, 2, all)\n", prog, argv[4]);
        return 2;
    }
    only_shards = argc > 4 && strcmp(argv[4], "all") ? atoi(argv[4]) : 0;
    if (only_fig && strcmp(only_fig, "echo") && strcmp(only_fig, "memcached")) {
        fprintf(stderr, "%s: unknown figure %s (echo, memcached)\n", prog, only_fig);
        return 2;
    }
    if (only_mode && strcmp(only_mode, "posix") && strcmp(only_mode, "native")) {
        fprintf(stderr, "%s: unknown mode %s (posix, native)\n", prog, only_mode);
        return 2;
    }
    const char *e = getenv("SEA_ECHO_SERVER"), *m = getenv("SEA_MEMCACHED");
    if (e)
        snprintf(echo_path, sizeof(echo_path), "%s", e);
    else
        bench_next_to_self(echo_path, sizeof(echo_path), "../examples/echo_server");
    if (m)
        snprintf(mc_path, sizeof(mc_path), "%s", m);
    else
        bench_next_to_self(mc_path, sizeof(mc_path), "../apps/sea-memcached");
    const char *st = getenv("SEA_VETH_STEER");
    if (st)
        snprintf(steer_path, sizeof(steer_path), "%s", st);
    else
        bench_next_to_self(steer_path, sizeof(steer_path), "../tests/veth_steer");
    if (only_shards != 1 && (!only_mode || !strcmp(only_mode, "native")) && access(steer_path, X_OK) != 0) {
        printf("# bench_native: no veth_steer at %s (build the veth_steer target): no native two-shard figure\n",
               steer_path);
        steer_path[0] = 0;
    }
    bool want[NFIGS] = {!only_fig || !strcmp(only_fig, "echo"), !only_fig || !strcmp(only_fig, "memcached")};
    if (want[FIG_ECHO] && access(echo_path, X_OK) != 0) {
        fprintf(stderr, "%s: no echo server at %s (build the echo_server target)\n", prog, echo_path);
        return 1;
    }
    if (want[FIG_MC] && access(mc_path, X_OK) != 0) {
        if (only_fig) {
            fprintf(stderr, "%s: no sea-memcached at %s\n", prog, mc_path);
            return 1;
        }
        printf("# bench_native: no sea-memcached at %s: the memcached figure is skipped\n", mc_path);
        want[FIG_MC] = false;
    }
    const char *sc = getenv("SEA_BENCH_NATIVE_SYSCALLS");
    if (sc && atoi(sc) > 0) {
        static const char *const perfs[] = {"/usr/bin/perf", "/usr/sbin/perf", "/usr/local/bin/perf", NULL};
        perf_path = bench_find_tool(perfs);
        if (!perf_path)
            printf("# bench_native: SEA_BENCH_NATIVE_SYSCALLS needs perf: not counted\n");
    }
    samples = malloc(sizeof(*samples) * MAX_SAMPLES);
    if (!samples) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    atexit(cleanup);
    snprintf(log_path, sizeof(log_path), "/tmp/bench_native-%d.log", (int)getpid());
    home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    const char *rps = getenv("SEA_BENCH_NATIVE_RPS");
    if (!make_network(ethtool, rps && atoi(rps) > 0)) {
        fprintf(stderr, "%s: cannot make the namespaces and the veth pair\n", prog);
        return 1;
    }
    if (!bench_enter_ns(ns_client)) {
        fprintf(stderr, "%s: cannot enter namespace %s: %s\n", prog, ns_client, strerror(errno));
        return 1;
    }
    bench_pin(CLIENT_CPU);
    printf("# native stack vs the kernel's: server (-c1 --cpuset 1) in namespace %s on veth %s (" SERVER_ADDR
           "), load generator on CPU 0 in %s; posix: the kernel's TCP; native: sea's TCP on AF_XDP (queue 0 of %s, "
           "copy mode); medians of %d rounds of %.1f s\n",
           ns_server, veth_server, ns_client, veth_server, getenv("SEA_BENCH_RUNS") ? bench_runs() : 5, seconds);
    if (only_shards != 1)
        printf("# two shards (s2): server -c2 --cpuset 0-1 pinned to both CPUs, load generator unpinned on the same "
               "two CPUs (this machine has %ld); native: AF_XDP on queues 0 and 1, veth_steer on %s putting each "
               "connection on its shard's queue (what RSS would do)\n",
               sysconf(_SC_NPROCESSORS_ONLN), veth_client);
    for (int f = 0; f < NFIGS && !errors; f++)
        if (want[f]) {
            fig_run(f);
            fflush(stdout);
        }
    if (errors) {
        printf("native.errors: %ld\n", errors);
        fprintf(stderr, "%s: the servers' messages are in %s\n", prog, log_path);
    } else {
        unlink(log_path);
    }
    cleanup();
    return errors ? 1 : 0;
}
