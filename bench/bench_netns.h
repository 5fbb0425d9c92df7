/*
 * bench_netns.h - what the native-stack benchmarks (bench_native,
 * bench_native_bulk) share to build their networks: running `ip` and
 * `ethtool` by fork and exec (also from a signal handler, at clean-up),
 * setup commands given as one line of words, finding a tool, and moving
 * into a namespace.  Static inline functions, for those two programs.
 */
#ifndef SEA_BENCH_NETNS_H
#define SEA_BENCH_NETNS_H

#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv (NULL-terminated), its output to /dev/null unless show; its exit status, or -1. */
static inline int bench_run(char *const argv[], bool show) {
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!show) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) {
                dup2(null, 1);
                dup2(null, 2);
            }
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Runs a setup command (words separated by spaces, at most 23), its output
 * shown unless quiet; false, with its words on stderr after prog's name, if
 * it fails.
 */
static inline bool bench_setup_vcmd(const char *prog, bool quiet, const char *fmt, va_list ap) {
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    char copy[512], *argv[24];
    snprintf(copy, sizeof(copy), "%s", line);
    int n = 0;
    for (char *w = strtok(copy, " "); w && n < 23; w = strtok(NULL, " "))
        argv[n++] = w;
    argv[n] = NULL;
    int rc = bench_run(argv, !quiet);
    if (rc != 0) {
        fprintf(stderr, "%s: error: `%s` failed (status %d)\n", prog, line, rc);
        return false;
    }
    return true;
}

/* The first of paths (NULL-terminated) that can be run, or NULL. */
static inline const char *bench_find_tool(const char *const *paths) {
    for (int i = 0; paths[i]; i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

/*
 * Deletes each of the n namespaces names[i] that made[i] says exist (their
 * devices, veth pairs and TAPs, go with them), this process first moved
 * back to home_ns (>= 0).  Safe from a signal handler: fork, exec, setns.
 */
static inline void bench_netns_delete(const char *ip, int home_ns, const char *const names[], bool made[], int n) {
    if (home_ns >= 0)
        setns(home_ns, CLONE_NEWNET);
    for (int i = 0; i < n; i++)
        if (made[i]) {
            char *a[] = {(char *)ip, "netns", "del", (char *)names[i], NULL};
            bench_run(a, false);
            made[i] = false;
        }
}

/* Moves the calling thread into network namespace name (/run/netns/NAME); false if it cannot. */
static inline bool bench_enter_ns(const char *name) {
    char path[128];
    snprintf(path, sizeof(path), "/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = setns(fd, CLONE_NEWNET) == 0;
    close(fd);
    return ok;
}

#endif
