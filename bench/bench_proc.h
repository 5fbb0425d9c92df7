/*
 * bench_proc.h - what the benchmarks that run servers as processes share:
 * pinning to a CPU, the CPU time of a process, of this process and of a
 * whole CPU (from /proc), for "server CPU per request" figures, and a
 * client connection to a server on loopback.
 */
#ifndef SEA_BENCH_PROC_H
#define SEA_BENCH_PROC_H

#include <arpa/inet.h>
#include <fcntl.h>
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

/* Pins the calling thread (and the children it forks afterwards) to one CPU. */
static inline void bench_pin(int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    sched_setaffinity(0, sizeof(one), &one);
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

#endif
