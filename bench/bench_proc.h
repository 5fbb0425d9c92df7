/*
 * bench_proc.h - what the benchmarks that run servers as processes share:
 * starting them (pinning to CPUs, a program next to this one, extra words
 * from the environment for a command line), the CPU time of a process, of
 * this process and of a whole CPU (from /proc), for "server CPU per
 * request" figures, how much other load those CPUs carried meanwhile, and
 * talking to a server on loopback (a free port for it, a connection, a
 * blocking send of a whole message); the child processes a benchmark
 * starts (servers, tools) and stops, and its temporary directory.
 */
#ifndef SEA_BENCH_PROC_H
#define SEA_BENCH_PROC_H

#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
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

/* The user + system time a struct rusage holds, in seconds. */
static inline double bench_rusage_seconds(const struct rusage *r) {
    return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) + (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1e6;
}

/* This process's user + system time, in seconds. */
static inline double bench_self_cpu_seconds(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return bench_rusage_seconds(&r);
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

/*
 * What a window of load cost in CPU time (s): the server process's (all its
 * threads) and its CPU's busy time, the load generator's (this process's)
 * and its CPU's busy time.  bench_cpu_use_now at the window's start,
 * bench_cpu_use_since at its end: the difference.
 */
struct bench_cpu_use {
    double proc_cpu, busy_cpu, client_cpu, client_busy_cpu;
};

static inline struct bench_cpu_use bench_cpu_use_now(pid_t server, int server_cpu, int client_cpu) {
    struct bench_cpu_use u;
    u.proc_cpu = bench_proc_cpu_seconds(server);
    u.busy_cpu = bench_cpu_busy_seconds(server_cpu);
    u.client_cpu = bench_self_cpu_seconds();
    u.client_busy_cpu = bench_cpu_busy_seconds(client_cpu);
    return u;
}

static inline struct bench_cpu_use bench_cpu_use_since(const struct bench_cpu_use *start, pid_t server, int server_cpu,
                                                       int client_cpu) {
    struct bench_cpu_use u = bench_cpu_use_now(server, server_cpu, client_cpu);
    u.proc_cpu -= start->proc_cpu;
    u.busy_cpu -= start->busy_cpu;
    u.client_cpu -= start->client_cpu;
    u.client_busy_cpu -= start->client_busy_cpu;
    return u;
}

/* Adds a window of secs, which cost u, to the other load: each CPU's busy time beyond the process on it. */
static inline void bench_other_load_window(struct bench_other_load *o, const struct bench_cpu_use *u, double secs) {
    bench_other_load_add(o, (u->busy_cpu - u->proc_cpu) / secs, (u->client_busy_cpu - u->client_cpu) / secs);
}

/* ---- child processes ---- */

/*
 * The children a benchmark started and has not yet waited for, so that it
 * kills them when it dies: bench_kill_children, or in a signal handler
 * bench_kill_children_now (which does not wait).
 */
#define BENCH_MAX_CHILDREN 16

static inline pid_t *bench_children(void) {
    static pid_t pids[BENCH_MAX_CHILDREN];
    return pids;
}

static inline void bench_child_add(pid_t pid) {
    pid_t *c = bench_children();
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (c[i] == 0) {
            c[i] = pid;
            return;
        }
}

static inline void bench_child_forget(pid_t pid) {
    pid_t *c = bench_children();
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (c[i] == pid)
            c[i] = 0;
}

/* SIGKILL to every child, and waits for each. */
static inline void bench_kill_children(void) {
    pid_t *c = bench_children();
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (c[i] > 0) {
            kill(c[i], SIGKILL);
            waitpid(c[i], NULL, 0);
            c[i] = 0;
        }
}

/* A handler of SIGINT and SIGTERM: SIGKILL to every child, then the signal's default action. */
static inline void bench_kill_children_now(int sig) {
    pid_t *c = bench_children();
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (c[i] > 0)
            kill(c[i], SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* How bench_spawn starts a child: what it gets before exec.  Zeroed: as this process, stdout to /dev/null. */
struct bench_spawn {
    const char *who;      /* its words if exec fails: "WHO: cannot run ..." (NULL: "cannot run ...") */
    bool pin;             /* pinned to CPUs cpu_first..cpu_last (before exec: every thread it starts too) */
    int cpu_first, cpu_last;
    bool deathsig;        /* killed when this process dies (PR_SET_PDEATHSIG) */
    bool default_signals; /* SIGINT and SIGTERM back to their default actions */
    bool default_sigpipe; /* SIGPIPE too (ignored here, it would stay ignored through exec) */
    const char *log;      /* its stdout and stderr appended to this file; else: */
    const int *pipe;      /* its stdout and stderr into pipe[1] (pipe[0] closed in the child, pipe[1] here); else stdout to /dev/null */
    bool search_path;     /* argv[0] looked for in PATH (execvp) */
};

/* Starts argv (output flushed first) as o says; its PID, or -1 if it cannot fork. */
static inline pid_t bench_spawn(char *const argv[], const struct bench_spawn *o) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0 && o->pipe)
            close(o->pipe[1]);
        return pid;
    }
    if (o->pin)
        bench_pin_cpus(o->cpu_first, o->cpu_last);
    if (o->deathsig)
        prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (o->default_signals) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
    }
    if (o->default_sigpipe)
        signal(SIGPIPE, SIG_DFL);
    if (o->log) {
        int fd = open(o->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
    } else if (o->pipe) {
        dup2(o->pipe[1], 1);
        dup2(o->pipe[1], 2);
        close(o->pipe[0]);
        close(o->pipe[1]);
    } else {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
    }
    if (o->search_path)
        execvp(argv[0], argv);
    else
        execv(argv[0], argv);
    fprintf(stderr, "%s%scannot run %s: %s\n", o->who ? o->who : "", o->who ? ": " : "", argv[0], strerror(errno));
    _exit(127);
}

/* Whether child pid has exited (then forgotten, *status its wait status); does not wait. */
static inline bool bench_child_exited(pid_t pid, int *status) {
    if (waitpid(pid, status, WNOHANG) != pid)
        return false;
    bench_child_forget(pid);
    return true;
}

/*
 * Stops child pid: SIGTERM, then SIGKILL if it has not exited within 3 s
 * (checked every 10 ms: pause_10ms, NULL for usleep), and waits for it; it
 * is forgotten.  true if it exited with status 0 within the 3 s; else why
 * says what it did instead, after the child's name: "did not stop within
 * 3 s of SIGTERM (killed)" or "did not exit cleanly on SIGTERM (status
 * 0x...)".
 */
static inline bool bench_stop_child(pid_t pid, void (*pause_10ms)(void), char *why, size_t len) {
    kill(pid, SIGTERM);
    int st = 0;
    bool exited = false;
    for (int i = 0; i < 300 && !exited; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            exited = true;
        else if (pause_10ms)
            pause_10ms();
        else
            usleep(10000);
    }
    bool clean = exited && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        snprintf(why, len, "did not stop within 3 s of SIGTERM (killed)");
    } else if (!clean) {
        snprintf(why, len, "did not exit cleanly on SIGTERM (status 0x%x)", st);
    }
    bench_child_forget(pid);
    return clean;
}

/* ---- a temporary directory ---- */

static inline int bench_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes dir and everything in it (symbolic links not followed); dir[0] = '\0' afterwards.  Nothing if dir is "". */
static inline void bench_remove_tree(char *dir) {
    if (dir[0]) {
        nftw(dir, bench_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        dir[0] = '\0';
    }
}

#endif
