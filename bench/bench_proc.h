/*
 * bench_proc.h - what the benchmarks that run servers as processes share:
 * starting them (pinning to CPUs, a program next to this one, extra words
 * from the environment for a command line), the CPU time of a process, of
 * this process and of a whole CPU (from /proc), for "server CPU per
 * request" figures, how much other load those CPUs carried meanwhile, and
 * talking to a server on loopback (a free port for it, a connection, a
 * blocking send of a whole message).
 */
#ifndef SEA_BENCH_PROC_H
#define SEA_BENCH_PROC_H

#include "bench.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* Pins the calling thread (and the children it forks afterwards) to CPUs first..last. */
static inline void bench_pin_cpus(int first, int last) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu = first; cpu <= last; cpu++)
        CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

/* Pins the calling thread (and the children it forks afterwards) to one CPU. */
static inline void bench_pin(int cpu) {
    bench_pin_cpus(cpu, cpu);
}

/*
 * The path rel (e.g. "../apps/sea-httpd") from the directory this program
 * is in, so that a build tree's benchmarks find its servers wherever it is;
 * false if /proc/self/exe cannot be read (out is then rel from "/").
 */
static inline bool bench_next_to_self(char *out, size_t len, const char *rel) {
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
    dir[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, len, "%s/%s", dir, rel);
    return n > 0;
}

/*
 * Appends the words of environment variable `name` (separated by spaces:
 * more options, or a wrapper such as valgrind) to argv[*n..max); returns the
 * copy they point into, to free once argv has served (NULL: no words).
 */
static inline char *bench_env_words(const char *name, char **argv, int *n, int max) {
    const char *value = getenv(name);
    if (!value || !*value)
        return NULL;
    char *words = strdup(value);
    for (char *w = words ? strtok(words, " ") : NULL; w && *n < max; w = strtok(NULL, " "))
        argv[(*n)++] = w;
    return words;
}

/* A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick), or -1. */
static inline int bench_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &len) == 0;
    if (fd >= 0)
        close(fd);
    return ok ? ntohs(a.sin_port) : -1;
}

/* Sends all of p[0..n) on a blocking socket; false if a send fails (SIGPIPE suppressed). */
static inline bool bench_send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* A blocking TCP connection to 127.0.0.1:port with TCP_NODELAY; -1 if it cannot be made. */
static inline int bench_connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Reads /proc/PID/name into buf (NUL-terminated); false if it cannot. */
static inline bool bench_read_proc(pid_t pid, const char *name, char *buf, size_t len) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0;
}

/* A process's user + system time, all its threads, in seconds (0 if it cannot be read). */
static inline double bench_proc_cpu_seconds(pid_t pid) {
    char buf[1024];
    char *p = bench_read_proc(pid, "stat", buf, sizeof(buf)) ? strrchr(buf, ')') : NULL;
    if (!p)
        return 0;
    unsigned long utime = 0, stime = 0;
    /* Fields after the command: state(3) ... utime(14) stime(15). */
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* This process's user + system time, in seconds. */
static inline double bench_self_cpu_seconds(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

/*
 * Busy time of a CPU (user, nice, system, irq, softirq; not idle, iowait or
 * steal), from /proc/stat.  A server's own process time misses the network
 * stack's work when the kernel defers it to ksoftirqd on that CPU, which
 * happens more under some servers' batching than others: counting the whole
 * CPU charges every server for all the work it causes there.
 */
static inline double bench_cpu_busy_seconds(int cpu) {
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    char line[512], want[16];
    snprintf(want, sizeof(want), "cpu%d ", cpu);
    double busy = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, want, strlen(want)) != 0)
            continue;
        unsigned long long user, nice, sys, idle, iowait, irq, softirq;
        if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait,
                   &irq, &softirq) == 7)
            busy = (double)(user + nice + sys + irq + softirq) / (double)sysconf(_SC_CLK_TCK);
        break;
    }
    fclose(f);
    return busy;
}

/*
 * Other load on the server's CPU and the load generator's during a figure's
 * windows: the server CPU's busy time beyond the server (the kernel's
 * network work for it there, a few per cent, and anything else that ran on
 * it), and the client CPU's beyond the load generator.  The machine may be
 * shared: this says how much, as shares of each window.
 */
struct bench_other_load {
    struct bench_series server_cpu, client_cpu;
};

static inline void bench_other_load_add(struct bench_other_load *o, double server_cpu_share, double client_cpu_share) {
    bench_add(&o->server_cpu, server_cpu_share);
    bench_add(&o->client_cpu, client_cpu_share);
}

/*
 * Prints the figure's note, the server's CPU being CPU 1 and the load
 * generator's CPU 0 (`server`: the words for what CPU 1's share is beyond,
 * e.g. "the server process"), and starts the next figure's windows afresh.
 */
static inline void bench_other_load_note(struct bench_other_load *o, const char *fig, const char *server) {
    if (!o->server_cpu.n)
        return;
    double m1 = bench_median(&o->server_cpu), m0 = bench_median(&o->client_cpu), x1 = 0, x0 = 0;
    for (int i = 0; i < o->server_cpu.n; i++) {
        x1 = o->server_cpu.v[i] > x1 ? o->server_cpu.v[i] : x1;
        x0 = o->client_cpu.v[i] > x0 ? o->client_cpu.v[i] : x0;
    }
    printf("# %s: other load, median (worst) of its windows: CPU 1 %.0f%% (%.0f%%) beyond %s, CPU 0 %.0f%% "
           "(%.0f%%) beyond the load generator%s\n",
           fig, m1 * 100, x1 * 100, server, m0 * 100, x0 * 100,
           m1 > 0.1 || m0 > 0.1 ? ": DISTURBED, rerun when quiet" : "");
    o->server_cpu.n = o->client_cpu.n = 0;
}

#endif
